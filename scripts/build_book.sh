#!/usr/bin/env bash
# Build the HTML book into _build/html from a clean _build, failing on any warning.
# Usage: bash scripts/build_book.sh
source "$(dirname "$0")/_env.sh"
rm -rf _build
exec jupyter-book build . -W -n --keep-going
