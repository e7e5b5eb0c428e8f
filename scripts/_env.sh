# Sourced by build_book.sh and test.sh: make sure .venv exists and holds requirements.txt.
# Needs only Python 3.11 and pip. Reinstalls when requirements.txt or pyproject.toml change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV="$ROOT/.venv"
STAMP="$VENV/.homtrap-requirements.sha256"
WANT="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[homtrap] creating $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  echo "[homtrap] installing requirements.txt into .venv"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  "$VENV/bin/python" -m pip check
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# deterministic outputs: no user matplotlib config (the kernel picks its inline backend), fixed
# hash seed, one BLAS thread per test worker
export PYTHONHASHSEED=0 MPLCONFIGDIR="$ROOT/.venv/mplconfig"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
