"""Tests of homtrap.diagnose: values against independent computations, verdicts, bad input."""

import numpy as np
import pytest

import homtrap as ht


def test_single_matrix_report_matches_direct_computation():
    M = ht.random_dsm(8, 0.7, rng=0)
    d = ht.diagnose(M, eps=0.05)
    s = np.linalg.svd(M, compute_uv=False)
    assert d.n == 8 and d.layers == 1
    assert d.sigma2[0] == pytest.approx(s[1], abs=1e-10)
    assert d.distance_to_uniform[0] == pytest.approx(s[1], abs=1e-10)
    assert d.lambda2[0] == pytest.approx(np.sort(np.abs(np.linalg.eigvals(M)))[-2], abs=1e-8)
    L = next(k for k in range(1, 1000) if s[1] ** k <= 0.05)
    assert d.effective_depth == L
    assert d.max_product_norm == pytest.approx(1.0, abs=1e-9)
    assert d.residual_change_bound == pytest.approx(s[1], abs=1e-10)
    assert "Diagnosis" in repr(d) and "<table>" in d._repr_html_()


def test_stack_values_and_verdicts():
    A = ht.random_dsm(64, 5.0, size=6, rng=1)
    d = ht.diagnose(A, noise_std=0.01)
    prod = np.eye(64)
    for M in A:
        prod = M @ prod
    assert d.detail_left == pytest.approx(np.linalg.norm(prod - 1 / 64, 2), rel=1e-6, abs=1e-14)
    assert d.snr == pytest.approx(np.prod(d.sigma2) * np.sqrt(64) / (0.01 * np.sqrt(63)))
    assert any("homogeneity trap" in v for v in d.verdicts)
    assert any("stagnate" in v for v in d.verdicts)
    assert any("orthogonal collapse" in v for v in d.verdicts)


def test_permutation_like_and_truncated_layers():
    # logits with a clear best assignment (the identity) at low temperature
    G = 2.0 * np.eye(4) + 0.1 * ht.random_logits(4, size=3, rng=2)
    frozen = ht.diagnose(ht.sinkhorn(G, 0.05))
    assert any("near-permutation" in v for v in frozen.verdicts)
    assert frozen.distance_to_permutation.max() < 0.01 and frozen.entropy_ratio.max() < 0.01
    G = ht.random_logits(16, size=(10,), rng=3)
    trunc = ht.diagnose(ht.truncated_sinkhorn(G, 0.2, sweeps=1))
    assert any("not exactly doubly stochastic" in v for v in trunc.verdicts)
    assert trunc.max_product_norm > 1


def test_permutation_has_infinite_effective_depth():
    d = ht.diagnose(ht.permutation_matrix([1, 0, 2]))
    assert d.effective_depth == np.inf and d.distance_to_permutation[0] == 0


def test_plot_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    ax = ht.diagnose(ht.random_dsm(8, 1.0, size=4, rng=4)).plot()
    assert len(ax.lines) >= 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(M=np.ones((2, 3))), "M"),
        (dict(M=np.full((3, 3), np.nan)), "M"),
        (dict(M=-np.eye(3)), "non-negative"),
        (dict(M=np.ones((2, 2, 3, 3)) / 3), "M"),
        (dict(M=np.eye(3), eps=1.0), "eps"),
        (dict(M=np.eye(3), noise_std=-1.0), "noise_std"),
        (dict(M=np.eye(3), detail_norm=1.0), "detail_norm"),
        (dict(M=np.eye(1)), "M"),
    ],
)
def test_bad_input(kwargs, match):
    M = kwargs.pop("M")
    with pytest.raises((ValueError, TypeError), match=match):
        ht.diagnose(M, **kwargs)


def test_collapse_depth_counts_cyclically_and_plot_draws_detail():
    A = np.stack([0.9 * np.eye(4) + 0.1 / 4, 0.01 * np.eye(4) + 0.99 / 4])
    nu = 8 / (5 * np.sqrt(3))
    d = ht.diagnose(A, noise_std=nu, detail_norm=1.0)
    gamma0 = 1.0 / (nu * np.sqrt(3))
    s = d.sigma2
    brute = next(k for k in range(0, 100) if 8 * gamma0 * np.prod(np.resize(s, k)) <= 1)
    assert d.collapse_depth == brute == 2
    import matplotlib

    matplotlib.use("Agg")
    ax = d.plot()
    ax.figure.savefig(__import__("io").BytesIO(), format="png")  # mathtext must render
    assert len(ax.lines) == 5  # sigma2, lambda2, bound, detail left, the line at 1


def test_sigma2_never_exceeds_one_for_doubly_stochastic_input():
    G = ht.random_logits(4, size=256, rng=np.random.default_rng(20260122))[26]
    M = ht.sinkhorn(G, 0.05)
    assert ht.sigma2(M) <= 1.0
    assert np.isfinite(ht.effective_depth(ht.sigma2(M), 0.01)) or ht.sigma2(M) == 1.0
