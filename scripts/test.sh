#!/usr/bin/env bash
# The whole test suite on a fresh machine: unit, property and doctests of homtrap, every
# notebook of the book re-executed and compared with its stored outputs (strict nbval), and
# the built book opened page by page in headless Chromium (tests/test_browser.py).
# Usage: bash scripts/test.sh [extra pytest args]
source "$(dirname "$0")/_env.sh"
# The browser tests need Debian's chromium; install it when we can (root + apt), otherwise
# those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[homtrap] installing chromium for the browser tests (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "[homtrap] could not install chromium: the browser tests will skip"
fi
exec python -m pytest -n 2 --dist loadfile --doctest-modules \
  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
  homtrap tests book "$@"
