#!/usr/bin/env bash
# Strict nbval on the given notebooks (default: all) in the perturbed floating-point environment
# of scripts/perturbed_env.py (numpy SIMD one level lower, one BLAS thread instead of the two outputs are stored with), with the .venv
# kernel. For a chapter author: run it after scripts/execute_notebooks.py on the same files.
# Usage: bash scripts/check_notebooks.sh [book/05_figure1.ipynb ...] [-- extra pytest args]
source "$(dirname "$0")/_env.sh"
eval "$(python scripts/perturbed_env.py)"
files=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do files+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#files[@]} -eq 0 ] && files=(book)
exec python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg "${files[@]}" "$@"
