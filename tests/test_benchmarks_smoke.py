"""Smoke test of benchmarks/bench.py and benchmarks/peers.py: the quick tables run and the implementations agree.

Times are printed, never asserted (speed is measured by the benchmark itself, side by side).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import homtrap as ht

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name="bench"):
    """benchmarks/<name>.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_benchmark_runs(capsys):
    assert _load().main(["--quick"]) == 0
    out = capsys.readouterr().out
    for heading in ("Time per iteration", "End to end", "sigma2", "Scaling"):
        assert heading in out


def test_peers_agree_with_homtrap_at_moderate_temperature():
    bench = _load()
    rows = bench.case_e2e(16, 5, (0.5, 2.0), repeat=1)
    for r in rows:
        assert r["homtrap_err"] <= bench.TOL and r["naive_err"] <= bench.TOL and r["pot_err"] <= 10 * bench.TOL
        assert r["agree_pot"] < 1e-7
    s = bench.case_sigma2(16, 20, repeat=1)
    assert s["max_abs_diff"] < 1e-10
    assert np.isfinite([s["speedup"]]).all()


# --------------------------------------------------------------------------- benchmarks/peers.py
def test_peers_agree_and_report_sweeps():
    peers = _load("peers")
    best_time, each, naive_sinkhorn, pot_sinkhorn = peers.best_time, peers.each, peers.naive_sinkhorn, peers.pot_sinkhorn

    G = np.random.default_rng(7).standard_normal((3, 8, 8))
    ref = ht.sinkhorn(G, 1.0)
    for fn in (naive_sinkhorn, pot_sinkhorn):
        M, its = each(fn, G, 1.0, tol=1e-11)
        assert np.all(its >= 1)
        np.testing.assert_allclose(M, ref, atol=1e-9)
    M, its = each(naive_sinkhorn, G, 1.0, tol=0.0, max_iter=7)
    assert np.all(its == 7)
    t, out = best_time(lambda: 42, 2)
    assert out == 42 and t >= 0
    with pytest.raises(ValueError, match=r"repeat must be >= 1, got 0"):
        best_time(lambda: 0, 0)


def test_compare_solvers_and_markdown_table():
    """The benchmark's and the appendix's shared pieces: one comparison row, one table format."""
    peers = _load("peers")
    compare_solvers, markdown_table = peers.compare_solvers, peers.markdown_table

    G = np.random.default_rng(12).standard_normal((3, 8, 8))
    row = compare_solvers(G, 1.0, 1e-9, repeat=1)
    assert row["n"] == 8 and row["B"] == 3 and row["homtrap_err"] <= 1e-9
    assert row["naive_err"] <= 1e-9 and row["agree_pot"] < 1e-7
    assert row["speedup_pot"] == pytest.approx(row["pot_s"] / row["homtrap_s"])
    text = markdown_table([dict(a=1, b=0.123456, c="x")], ["a", "b", "c"], ["A", "B", "C"], {"b": "{:.2f}"})
    assert text == "| A | B | C |\n|---|---|---|\n| 1 | 0.12 | x |\n"
    assert markdown_table([dict(a=2.0 / 3)], ["a"]).splitlines()[-1] == "| 0.667 |"
    with pytest.raises(ValueError, match=r"heads must have one title per column: 1 titles for 2 columns"):
        markdown_table([], ["a", "b"], ["A"])
