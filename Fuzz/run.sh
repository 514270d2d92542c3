#!/bin/sh
# Runs libFuzzer targets built by `make fuzz-build` and prints one line of
# figures per target; exits 1 when any target found a crash, a timeout, a
# leak or ran out of memory (libFuzzer's exit status is not 0).
#
#   sh Fuzz/run.sh BUDGET TARGET...      e.g. sh Fuzz/run.sh -runs=1000000 FuzzFormula
#
# BUDGET is libFuzzer's -runs=N or -max_total_time=SECONDS. Each target
# starts from its seed corpus (Fuzz/Corpus/TARGET, never written to) and a
# fresh working corpus, with a fixed seed, its dictionary when
# Fuzz/Dictionaries/TARGET.dict exists, and a 10 s limit per input. Its log
# and any crashing input go to $FUZZ_SCRATCH/fuzz/TARGET/ (git-ignored).
set -u
budget=$1
shift
scratch=${FUZZ_SCRATCH:-.build-fuzz}
bin=$scratch/release
failed=""
printf '%-16s %9s %7s %8s %6s %6s %14s  %s\n' target execs seconds exec/s cov ft corpus result
for target in "$@"; do
    work=$scratch/fuzz/$target
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    dictionary=""
    [ -f "Fuzz/Dictionaries/$target.dict" ] && dictionary="-dict=Fuzz/Dictionaries/$target.dict"
    start=$(date +%s)
    # Swift's backtracer would hold every crash for seconds; libFuzzer
    # prints the stack itself.
    SWIFT_BACKTRACE=enable=no "$bin/$target" "$budget" -seed=1 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" $dictionary \
        "$work/corpus" "Fuzz/Corpus/$target" >"$work/log" 2>&1
    status=$?
    seconds=$(( $(date +%s) - start ))
    # The last status line: "#1000000 DONE cov: 1234 ft: 5678 corp: 345/12Kb lim: 4096 exec/s: 5000 rss: 90Mb"
    last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
    field() { echo "$last" | sed -n "s/.* $1: \([^ ]*\).*/\1/p"; }
    execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$work/log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: //p' "$work/log")
    result=ok
    if [ "$status" -ne 0 ]; then
        result="FAILED (exit $status): $(ls "$work/artifacts" | tr '\n' ' ')"
        failed="$failed $target"
    fi
    printf '%-16s %9s %7s %8s %6s %6s %14s  %s\n' "$target" "${execs:-?}" "$seconds" "${speed:-?}" \
        "$(field cov)" "$(field ft)" "$(field corp)" "$result"
done
if [ -n "$failed" ]; then
    for target in $failed; do
        echo
        log=$scratch/fuzz/$target/log
        echo "== $target: $log, from libFuzzer's or the sanitizer's report"
        # The report starts "==PID==ERROR: ..." (crash, timeout, leak, OOM);
        # without one (the program did not start), the end of the log.
        if grep -q 'ERROR: ' "$log"; then
            sed -n '/ERROR: /,$p' "$log" | grep -v -E '^  0x|^Shadow|^  [A-Z][a-z].*: +[0-9a-f]' | head -n 80
        else
            tail -n 20 "$log"
        fi
    done
    exit 1
fi
