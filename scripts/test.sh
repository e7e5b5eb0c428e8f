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
# With no layer (or "all") every layer runs; the run fails if any layer fails.
# Reports (JUnit XML) go to artifacts/test-reports/, built books to artifacts/test-book/.
#
# Scheduling (the machine has 2 cores; every layer but the PDF keeps both busy):
#   - when both browser and pdf run, the HTML and single-page books are built side by side;
#   - printing the PDF keeps about one core busy for ~2 minutes, so the pdf layer runs in the
#     background beside the unit and env layers that follow it (its output is shown when it
#     ends); it never runs beside the notebooks or browser layers, whose page and kernel
#     timeouts must not depend on a print job.
# "all" runs: notebooks, browser, pdf (+ unit, env beside it).
source "$(dirname "$0")/_env.sh"

layers=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do layers+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
if [ ${#layers[@]} -eq 0 ] || [ "${layers[0]}" = "all" ]; then layers=(notebooks browser pdf unit env); fi
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

build_book() {  # build_book html|singlehtml: a clean, warning-free build into $BOOKS/<builder>
  rm -rf "$BOOKS/$1"
  jupyter-book build . --builder "$1" --path-output "$BOOKS/$1" -W -n --keep-going -q \
    >"$REPORTS/build-$1.log" 2>&1
}

wait_pdf() {  # the background pdf layer ends before a layer that must not share the machine with it
  [ -n "$pdf_pid" ] || return 0
  echo
  echo "=================== layer: pdf (ran in the background) ==================="
  wait "$pdf_pid" || failed+=(pdf)
  pdf_pid=""
  cat "$REPORTS/pdf.log"
}

single_pid=""
pdf_pid=""
pdf_ran=""
for layer in "${layers[@]}"; do
  case "$layer" in notebooks|browser) wait_pdf;; esac
  case "$layer" in
  unit)
    run_layer unit -n 2 --dist load --doctest-modules -m unit homtrap tests "$@"
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
    echo "[homtrap] building the HTML book for the browser tests"
    if [[ " ${layers[*]} " == *" pdf "* ]] && [ -z "$pdf_ran" ]; then
      echo "[homtrap] (and, beside it, the single-page book for the PDF test)"
      build_book singlehtml & single_pid=$!
    fi
    if build_book html; then
      HOMTRAP_HTML_DIR="$BOOKS/html/_build/html" run_layer browser -n 2 --dist load -m browser tests/test_browser.py "$@"
    else
      tail -40 "$REPORTS/build-html.log"; echo "[homtrap] book build failed: browser layer FAILED"; failed+=(browser)
    fi
    ;;
  pdf)
    pdf_ran=1
    ensure_chromium
    if [ -n "$single_pid" ]; then
      wait "$single_pid"; single_rc=$?; single_pid=""
    else
      echo "[homtrap] building the single-page book for the PDF test"
      build_book singlehtml; single_rc=$?
    fi
    if [ "$single_rc" -ne 0 ]; then
      tail -40 "$REPORTS/build-singlehtml.log"; echo "[homtrap] book build failed: pdf layer FAILED"; failed+=(pdf)
    else
      echo "[homtrap] layer pdf runs in the background (log: $REPORTS/pdf.log)"
      (
        start=$SECONDS
        if HOMTRAP_SINGLEHTML_DIR="$BOOKS/singlehtml/_build/singlehtml" HOMTRAP_PDF_OUT="$BOOKS/homogeneity-trap.pdf" \
            "${PYTEST[@]}" \
            --junitxml="$REPORTS/pdf.xml" -m pdf tests/test_browser.py "$@"; then
          echo "[homtrap] layer pdf passed in $((SECONDS - start)) s"
        else
          echo "[homtrap] layer pdf FAILED (after $((SECONDS - start)) s)"; exit 1
        fi
      ) >"$REPORTS/pdf.log" 2>&1 &
      pdf_pid=$!
    fi
    ;;
  env)
    run_layer env -m env tests "$@"
    ;;
  esac
done

[ -z "$single_pid" ] || wait "$single_pid"
wait_pdf
echo
python scripts/test_summary.py "$REPORTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "[homtrap] failed layers: ${failed[*]}"
  exit 1
fi
