#!/bin/sh
# Creates .venv-shapes at the repository root (git-ignored) with NumPyro, nutpie,
# PyMC and ArviZ from PyPI (requirements.txt beside this file). Idempotent: an
# existing environment is only brought up to the pinned versions.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv-shapes"
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$root/Validation/shapes/requirements.txt"
"$venv/bin/python" -c 'import numpyro, jax, nutpie, pymc, arviz; print("numpyro", numpyro.__version__, "jax", jax.__version__, "nutpie", nutpie.__version__, "pymc", pymc.__version__, "arviz", arviz.__version__)'
