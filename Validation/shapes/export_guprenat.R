# Writes mlmRev's guPrenat (prenatal care in Guatemala: 2,449 births to 1,558
# mothers in 161 communities; Rodríguez & Goldman 2001) as
# Validation/shapes/data/guprenat.csv, with a 0/1 response column `prenat01`
# (1 = "Modern" prenatal care, 0 = "Traditional"), and the level order of each
# covariate factor as R has it in Validation/shapes/data/guprenat-levels.json
# (the first level is the baseline of R's treatment contrasts; bench.py passes
# these orders to `bayesglmm fit --levels` and uses them for NumPyro and
# nutpie). The id columns (kid, mom, cluster) are written as they are.
#
#     apt-get install -y r-cran-mlmrev        # Debian's package of mlmRev
#     Rscript Validation/shapes/export_guprenat.R
suppressPackageStartupMessages(library(mlmRev))
data(guPrenat, package = "mlmRev")
d <- guPrenat
stopifnot(is.factor(d$prenat), identical(levels(d$prenat), c("Traditional", "Modern")))
d$prenat01 <- as.integer(d$prenat == "Modern")
out_dir <- file.path("Validation", "shapes", "data")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
write.csv(d, file.path(out_dir, "guprenat.csv"), row.names = FALSE, quote = FALSE)
factors <- setdiff(names(d)[vapply(d, is.factor, logical(1))], c("kid", "mom", "cluster", "prenat"))
levels_json <- paste0(
  "{\n",
  paste0(sprintf('  "%s": [%s]', factors,
                 vapply(factors, function(f) paste0('"', levels(d[[f]]), '"', collapse = ", "), character(1))),
         collapse = ",\n"),
  "\n}\n")
writeLines(levels_json, file.path(out_dir, "guprenat-levels.json"), sep = "")
cat(sprintf("guPrenat: %d rows, %d mothers, %d clusters, mean(prenat01) = %.4f; mlmRev %s, R %s\n",
            nrow(d), nlevels(d$mom), nlevels(d$cluster), mean(d$prenat01),
            as.character(packageVersion("mlmRev")), getRversion()))
