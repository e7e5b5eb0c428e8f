"""Smoke test of benchmarks/bench.py: the quick tables run and the implementations agree.

Times are printed, never asserted (speed is measured by the benchmark itself, side by side).
"""

import importlib.util
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
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
