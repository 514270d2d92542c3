# JSON with full precision, shared by fit_glmer.R, time_glmer.R, formula_table.R,
# Validation/design/make_fixtures.R and Validation/loo/make_fixtures.R.
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

# The shortest decimal (15 to 17 significant digits) that reads back as the
# same double: jsonlite's digits = NA stops at 15, which does not round-trip
# products such as x:z. NA and NaN become null, infinities +-1e999.
shortest <- function(x) {
  vapply(as.numeric(x), function(v) {
    if (is.na(v)) return("null")
    if (!is.finite(v)) return(if (v > 0) "1e999" else "-1e999")
    for (p in 15:17) {
      s <- sprintf("%.*g", p, v)
      if (as.numeric(s) == v) return(s)
    }
    s
  }, "")
}

# Verbatim JSON (for toJSON(json_verbatim = TRUE)): a number, an array of
# numbers (a matrix column-major), and a matrix row by row.
json_scalar <- function(v) structure(shortest(v), class = "json")
json_numbers <- function(x) structure(paste0("[", paste(shortest(x), collapse = ","), "]"), class = "json")
json_matrix <- function(X) {
  rows <- vapply(seq_len(nrow(X)), function(i) paste0("[", paste(shortest(X[i, ]), collapse = ","), "]"), "")
  structure(paste0("[", paste(rows, collapse = ","), "]"), class = "json")
}
