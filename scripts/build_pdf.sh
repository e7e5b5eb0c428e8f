#!/usr/bin/env bash
# The whole book as one PDF: single-page HTML build, printed by headless Chromium.
# Output: _build/pdf/homogeneity-trap.pdf. Needs Debian's chromium (apt-get install chromium).
# Usage: bash scripts/build_pdf.sh
source "$(dirname "$0")/_env.sh"
rm -rf _build/singlehtml _build/pdf
jupyter-book build . --builder singlehtml -W -n --keep-going
python scripts/print_pdf.py _build/singlehtml _build/pdf/homogeneity-trap.pdf
