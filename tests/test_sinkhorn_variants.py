"""Tests of the Sinkhorn variants: the textbook loop (plain_sinkhorn, plain_sweeps_predicted) and
truncated (fixed-sweep) Sinkhorn (truncated_sinkhorn, truncated_sinkhorn_path), against the
production solver homtrap.sinkhorn and against separate runs."""

import numpy as np
import pytest

import homtrap as ht
from _helpers import match_id


# ---------------------------------------------------------------------------- truncated Sinkhorn
def test_truncated_sinkhorn_converges_to_sinkhorn_as_sweeps_grow():
    G = ht.random_logits(8, size=5, rng=5)
    errs = [ht.marginal_error(ht.truncated_sinkhorn(G, 1.0, sweeps=s)).max() for s in (1, 5, 50)]
    assert errs[0] > errs[1] > errs[2]
    np.testing.assert_allclose(ht.truncated_sinkhorn(G, 1.0, sweeps=200), ht.sinkhorn(G, 1.0), atol=1e-9)


def test_truncated_sinkhorn_path_equals_separate_runs():
    G = ht.random_logits(6, size=3, rng=9)
    path = ht.truncated_sinkhorn_path(G, 0.3, sweeps=(5, 1, 2))
    assert sorted(path) == [1, 2, 5]
    for s, M in path.items():
        np.testing.assert_array_equal(M, ht.truncated_sinkhorn(G, 0.3, sweeps=s))
    with pytest.raises(ValueError, match=r"\bsweeps must be >= 1, got 0"):
        ht.truncated_sinkhorn_path(G, 0.3, sweeps=(0,))


# ----------------------------------------------------------------------------- the textbook loop
def test_plain_sinkhorn_agrees_and_reports_slow_convergence():
    G = ht.random_logits(8, size=4, rng=6)
    ref = ht.plain_sinkhorn(G, 1.0)
    assert ref.converged.all()
    np.testing.assert_allclose(ref.matrix, ht.sinkhorn(G, 1.0), atol=1e-9)
    slow = ht.plain_sinkhorn(G, 0.05, max_iter=50)
    assert not slow.converged.all()
    assert (slow.iterations <= 50).all() and (slow.marginal_error[~slow.converged] > 1e-10).all()


def test_plain_sweeps_predicted_matches_the_textbook_loop():
    """log(1/tau) / (-2 log sigma_2) against the sweeps plain Sinkhorn actually needs."""
    assert ht.plain_sweeps_predicted(0.1, 1e-10) == pytest.approx(5.0)
    assert ht.plain_sweeps_predicted(1.0) == np.inf and ht.plain_sweeps_predicted(0.0) == 0.0
    G = ht.random_logits(16, size=20, rng=11)
    for T in (0.3, 0.6):
        s2 = ht.sigma2(ht.sinkhorn(G, T))
        plain = ht.plain_sinkhorn(G, T, tol=1e-10)
        ratio = plain.iterations / ht.plain_sweeps_predicted(s2, 1e-10)
        assert np.all((ratio > 0.5) & (ratio < 1.5)), ratio
    with pytest.raises(ValueError, match=r"\bsigma2 must lie in \[0, 1\]"):
        ht.plain_sweeps_predicted(1.5)
    with pytest.raises(ValueError, match=r"\btol must be > 0, got 0\.0"):
        ht.plain_sweeps_predicted(0.5, tol=0.0)


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ht.truncated_sinkhorn(np.zeros((3, 3)), 1.0, sweeps=0), r"sweeps must be >= 1, got 0"),
        (lambda: ht.truncated_sinkhorn(np.zeros((3, 3)), -1.0), r"temperature must be > 0, got -1\.0"),
    ],
    ids=match_id,
)
def test_truncated_sinkhorn_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
