"""Tests of homtrap.book beyond the glue helpers (those, and the book-wide rules they serve, are
tested in tests/test_book.py): the stored benchmark tables the appendix reads."""

import json
from pathlib import Path

from homtrap.book import stored_benchmarks

DATA = Path(__file__).resolve().parent.parent / "homtrap" / "data" / "benchmarks.json"


def test_stored_benchmarks_are_the_shipped_file():
    bench = stored_benchmarks()
    assert bench == json.loads(DATA.read_text(encoding="utf-8"))
    assert {"meta", "sweep", "e2e", "sigma2", "scaling", "fig1"} <= set(bench)
    assert all(isinstance(rows, list) and rows for rows in bench.values())
    assert stored_benchmarks() is not bench  # a fresh copy: a notebook cannot alter another's tables
