#!/usr/bin/env bash
# The whole test suite on a fresh machine: unit, property and doctests of homtrap, and every
# notebook of the book re-executed and compared with its stored outputs (strict nbval).
# Usage: bash scripts/test.sh [extra pytest args]
source "$(dirname "$0")/_env.sh"
exec python -m pytest -n 2 --dist loadfile --doctest-modules \
  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
  homtrap tests book "$@"
