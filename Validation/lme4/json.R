# JSON with full precision, shared by fit_glmer.R and time_glmer.R.
# Numbers are formatted with sprintf("%.17g") (17 significant digits always
# round-trip an IEEE double) and spliced in verbatim, so nothing depends on
# jsonlite's digits handling. Non-finite numbers become null.
num <- function(x) {
  x <- as.numeric(x)
  if (length(x) != 1L) stop("num(): expected a scalar")
  structure(if (is.finite(x)) sprintf("%.17g", x) else "null", class = "json")
}

to_json <- function(x) {
  # Recursively replace numeric scalars by verbatim JSON text.
  conv <- function(v) {
    if (inherits(v, "json")) return(v)
    if (is.list(v)) return(lapply(v, conv))
    if (is.numeric(v) && length(v) == 1L && !is.integer(v)) return(num(v))
    v
  }
  jsonlite::toJSON(conv(x), auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE,
                   null = "null", na = "null")
}
