#!/usr/bin/env bash
# The whole test suite on a fresh machine, layer by layer (each layer is one pytest run):
#
#   unit       homtrap's unit, property and doctests                          (~30 s)
#   notebooks  every chapter re-executed under strict nbval, in the Colab-like  (~4 min)
#              reader environment (Python 3.13, numpy/scipy/matplotlib/seaborn,
#              homtrap installed non-editable, no myst-nb) AND a perturbed
#              floating-point environment (numpy SIMD one level lower, one BLAS
#              thread where outputs are stored with two), so an output that
#              depends on the machine cannot land
#   browser    every page of the built book in headless Chromium               (~1.5 min)
#   pdf        the book printed to PDF holds every chapter                     (~2 min)
#   env        the Binder environment rebuilt from binder/ runs chapters;      (~1 min warm)
#              the Colab-like environment is what it claims to be
#
# Usage: bash scripts/test.sh [all|unit|notebooks|browser|pdf|env ...] [-- extra pytest args]
# With no layer (or "all") every layer runs, in that order; the run fails if any layer fails.
# Reports (JUnit XML) go to artifacts/test-reports/, built books to artifacts/test-book/.
source "$(dirname "$0")/_env.sh"

layers=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do layers+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
if [ ${#layers[@]} -eq 0 ] || [ "${layers[0]}" = "all" ]; then layers=(unit notebooks browser pdf env); fi
for l in "${layers[@]}"; do
  case "$l" in unit|notebooks|browser|pdf|env) ;; *) echo "unknown layer '$l' (unit, notebooks, browser, pdf, env, all)" >&2; exit 2;; esac
done

REPORTS="$ROOT/artifacts/test-reports"
BOOKS="$ROOT/artifacts/test-book"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*.xml
PYTEST=(python -m pytest -p no:cacheprovider -ra)
failed=()

ensure_chromium() {
  # The browser and PDF tests need Debian's chromium; install it when we can (root + apt),
  # otherwise those tests skip and say why.
  if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[homtrap] installing chromium for the browser tests (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "[homtrap] could not install chromium: the browser tests will skip"
  fi
}

run_layer() {  # run_layer NAME pytest-args...
  local name="$1"; shift
  echo
  echo "=================== layer: $name ==================="
  local start=$SECONDS
  if "${PYTEST[@]}" --junitxml="$REPORTS/$name.xml" "$@"; then
    echo "[homtrap] layer $name passed in $((SECONDS - start)) s"
  else
    echo "[homtrap] layer $name FAILED (after $((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

for layer in "${layers[@]}"; do
  case "$layer" in
  unit)
    run_layer unit -n 2 --dist loadfile --doctest-modules -m unit homtrap tests "$@"
    ;;
  notebooks)
    echo "[homtrap] preparing the Colab-like reader environment (scripts/reader_env.py colab)"
    if ! ENV_DIR="$(python scripts/reader_env.py colab)"; then
      echo "[homtrap] the Colab-like environment could not be built (see above): notebooks layer FAILED"
      failed+=(notebooks); continue
    fi
    (
      eval "$(python scripts/perturbed_env.py)"
      echo "[homtrap] perturbed environment: NPY_DISABLE_CPU_FEATURES='${NPY_DISABLE_CPU_FEATURES:-}'" \
        "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS, kernel: Python 3.13 in $ENV_DIR"
      export JUPYTER_PATH="$ENV_DIR/share/jupyter"
      "${PYTEST[@]}" --junitxml="$REPORTS/notebooks.xml" -n 2 --dist loadfile \
        --nbval --nbval-kernel-name homtrap-colab --nbval-sanitize-with tests/nbval_sanitize.cfg \
        -m notebooks book "$@"
    ) && echo "[homtrap] layer notebooks passed" || { echo "[homtrap] layer notebooks FAILED"; failed+=(notebooks); }
    ;;
  browser)
    ensure_chromium
    rm -rf "$BOOKS/html"
    echo "[homtrap] building the HTML book for the browser tests"
    if jupyter-book build . --path-output "$BOOKS/html" -W -n --keep-going -q >"$REPORTS/build-html.log" 2>&1; then
      HOMTRAP_HTML_DIR="$BOOKS/html/_build/html" run_layer browser -n 2 --dist load -m browser tests/test_browser.py "$@"
    else
      tail -40 "$REPORTS/build-html.log"; echo "[homtrap] book build failed: browser layer FAILED"; failed+=(browser)
    fi
    ;;
  pdf)
    ensure_chromium
    rm -rf "$BOOKS/singlehtml"
    echo "[homtrap] building the single-page book for the PDF test"
    if jupyter-book build . --builder singlehtml --path-output "$BOOKS/singlehtml" -W -n --keep-going -q \
        >"$REPORTS/build-singlehtml.log" 2>&1; then
      HOMTRAP_SINGLEHTML_DIR="$BOOKS/singlehtml/_build/singlehtml" run_layer pdf -m pdf tests/test_browser.py "$@"
    else
      tail -40 "$REPORTS/build-singlehtml.log"; echo "[homtrap] book build failed: pdf layer FAILED"; failed+=(pdf)
    fi
    ;;
  env)
    run_layer env -m env tests "$@"
    ;;
  esac
done

echo
python scripts/test_summary.py "$REPORTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "[homtrap] failed layers: ${failed[*]}"
  exit 1
fi
