#!/bin/sh
# Runs the teaching notebooks and rewrites their outputs and figures.
#
#   notebooks-md/run.sh [NOTEBOOK.md ...]     # default: every notebooks-md/NN-*.md
#   notebooks-md/run.sh --check               # run a copy; show a diff, exit 1 if stale
#
# `bayesglmm` must be on PATH (`make notebooks` builds it in release mode and
# puts it there). The rules:
#
# - Every block fenced as ```sh is run, in order, by one `sh -e` per notebook
#   (bash -e -o pipefail where bash is installed, so that a command failing
#   inside a pipeline, such as `bayesglmm score … | pretty`, stops the run too),
#   so files and shell variables carry from one block to the next. The working
#   directory is a fresh scratch directory with an empty figures/ folder.
#   Blocks fenced any other way (```text, ```console) are left alone.
# - The ```output block right after a ```sh block (blank lines between are
#   allowed) is replaced by what that block printed on standard output, with
#   trailing blank lines removed; it is created if missing and removed if the
#   block printed nothing. Standard error (progress bars, timings, "wrote …"
#   notes) is not shown, so that outputs depend only on the seeds; if a command
#   fails, the runner prints its standard error and stops with status 1.
# - The figures (.svg, .png) the blocks leave in figures/ are copied to
#   notebooks-md/figures/ (other files there, such as the CSV that `plot`
#   writes beside each figure, are not kept); their names must start with the
#   notebook's number (01-…), and the old figures of that number are removed
#   first.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--check" ]; then
    shift
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT
    cp -R "$here" "$copy/notebooks-md"
    if [ $# -eq 0 ]; then
        sh "$copy/notebooks-md/run.sh"
    else
        for nb in "$@"; do sh "$copy/notebooks-md/run.sh" "$copy/notebooks-md/$(basename "$nb")"; done
    fi
    if diff -ru "$here" "$copy/notebooks-md" >"$copy/diff" 2>&1; then
        echo "notebooks: outputs and figures are up to date"
        exit 0
    fi
    echo "notebooks: committed outputs (-) differ from what the runner produces (+); run 'make notebooks':" >&2
    head -n 200 "$copy/diff" >&2
    lines=$(wc -l <"$copy/diff")
    [ "$lines" -le 200 ] || echo "… $((lines - 200)) more lines of diff" >&2
    exit 1
fi

command -v bayesglmm >/dev/null || { echo "run.sh: bayesglmm is not on PATH" >&2; exit 1; }

run_notebook() {
    nb=$1
    name=$(basename "$nb" .md)
    number=${name%%-*}
    scratch=$(mktemp -d)
    mkdir "$scratch/figures"

    # One script: each ```sh block, preceded by a marker line on standard output.
    awk '
        /^```sh[ \t]*$/ { inside = 1; block++; printf "printf \"\\n<<<notebook block %d, line %d>>>\\n\"\n", block, NR; next }
        inside && /^```[ \t]*$/ { inside = 0; next }
        inside { print }
    ' "$nb" >"$scratch/.notebook.sh"

    echo "notebooks: running $nb" >&2
    if command -v bash >/dev/null; then shell="bash -e -o pipefail"; else shell="sh -e"; fi
    if ! (cd "$scratch" && $shell .notebook.sh >.stdout 2>.stderr); then
        where=$(grep '^<<<notebook block' "$scratch/.stdout" | tail -n 1)
        echo "notebooks: $nb failed in ${where:-its first block}; standard error:" >&2
        tail -n 40 "$scratch/.stderr" >&2
        rm -rf "$scratch"
        return 1
    fi

    # Splice each block's standard output into the notebook.
    awk -v outputs="$scratch/.stdout" '
        BEGIN {
            k = 0
            while ((getline line < outputs) > 0) {
                if (line ~ /^<<<notebook block [0-9]+, line [0-9]+>>>$/) { k++; n[k] = 0; continue }
                if (k > 0) seg[k, ++n[k]] = line
            }
            for (b = 1; b <= k; b++) while (n[b] > 0 && seg[b, n[b]] ~ /^[ \t]*$/) n[b]--
        }
        function emit_output(b,   i) {
            if (n[b] == 0) return
            print "```output"
            for (i = 1; i <= n[b]; i++) print seg[b, i]
            print "```"
        }
        function flush_blanks() { while (blanks > 0) { print ""; blanks-- } }
        state == "old" { if ($0 ~ /^```[ \t]*$/) state = ""; next }
        state == "sh" { print; if ($0 ~ /^```[ \t]*$/) state = "after"; next }
        state == "after" {
            if ($0 ~ /^[ \t]*$/) { blanks++; next }
            state = ""
            if ($0 ~ /^```output[ \t]*$/) { emit_output(block); blanks = 0; state = "old"; next }
            emit_output(block); flush_blanks()
        }
        /^```sh[ \t]*$/ { block++; state = "sh"; print; next }
        { print }
        END { if (state == "after") { emit_output(block); flush_blanks() } }
    ' "$nb" >"$scratch/.notebook.md"
    mv "$scratch/.notebook.md" "$nb"

    for f in "$scratch"/figures/*.svg "$scratch"/figures/*.png; do
        [ -e "$f" ] || continue
        case $(basename "$f") in
            "$number"-*) ;;
            *) echo "notebooks: $nb wrote figures/$(basename "$f"); names must start with $number-" >&2
               rm -rf "$scratch"; return 1 ;;
        esac
    done
    rm -f "$(dirname "$nb")/figures/$number"-*
    for f in "$scratch"/figures/*.svg "$scratch"/figures/*.png; do
        [ -e "$f" ] || continue
        mkdir -p "$(dirname "$nb")/figures"
        cp "$f" "$(dirname "$nb")/figures/"
    done
    rm -rf "$scratch"
}

if [ $# -eq 0 ]; then set -- "$here"/[0-9]*.md; fi
for nb in "$@"; do run_notebook "$nb"; done
