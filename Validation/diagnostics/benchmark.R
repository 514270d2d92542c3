# Called by benchmark.sh: times posterior::summarise_draws on the draws the
# Swift benchmark wrote, checks that both summaries agree, prints the speed-up.
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
V <- as.integer(args[2]); C <- as.integer(args[3]); I <- as.integer(args[4])
swift_seconds <- as.numeric(args[5]); swift_serial <- as.numeric(args[6])
suppressPackageStartupMessages(library(posterior))

x <- readBin(file.path(out, "draws.bin"), "double", n = V * C * I, size = 8, endian = "little")
stopifnot(length(x) == V * C * I)
draws <- as_draws_array(array(x, dim = c(I, C, V),
                              dimnames = list(NULL, NULL, paste0("theta[", seq_len(V), "]"))))

timing <- system.time(r <- summarise_draws(draws))
r_seconds <- timing[["elapsed"]]
cat(sprintf("posterior %s, %s\n", packageVersion("posterior"), R.version.string))
cat(sprintf("summarise_draws, default columns, 1 R process: %.3f s (one run)\n", r_seconds))

# The two summaries must agree (default columns on all variables, MCSE
# columns on the first 200).
s <- read.csv(file.path(out, "summary-swift.csv"), check.names = FALSE, na.strings = "NA")
stopifnot(identical(s$variable, r$variable))
reldiff <- function(a, b) ifelse(is.na(a) & is.na(b), 0, abs(a - b) / pmax(abs(a), abs(b)))
cols <- c("mean", "median", "sd", "mad", "q5", "q95", "rhat", "ess_bulk", "ess_tail")
worst <- max(sapply(cols, function(k) max(reldiff(s[[k]], r[[k]]))))
m <- summarise_draws(subset_draws(draws, variable = variables(draws)[1:min(200, V)]),
                     default_mcse_measures())
mcols <- c("mcse_mean", "mcse_median", "mcse_sd", "mcse_q5", "mcse_q95")
worst_mcse <- max(sapply(mcols, function(k) max(reldiff(s[[k]][seq_len(nrow(m))], m[[k]]))))
cat(sprintf("largest relative difference, Swift vs posterior: %.2e (default columns, %d variables), %.2e (MCSE columns, %d variables)\n",
            worst, V, worst_mcse, nrow(m)))

cat(sprintf("speed-up: %.1fx (Swift, all cores: %.3f s); %.1fx (Swift, 1 thread: %.3f s)\n",
            r_seconds / swift_seconds, swift_seconds, r_seconds / swift_serial, swift_serial))
