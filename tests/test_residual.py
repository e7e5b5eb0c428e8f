"""Tests of the LayerNorm-collapse helpers (Part IV) and residual stacks (Part V)."""

import numpy as np
import pytest
from scipy import stats

import homtrap as ht


def test_amplitude_snr_definition():
    s = np.array([1.0, 2.0, 3.0, 6.0])
    sp = np.array([0.0, 0.0, 1.0, 1.0])
    want = max(np.linalg.norm(s - s.mean()), np.linalg.norm(sp - sp.mean())) / (2.0 * np.sqrt(3))
    assert ht.amplitude_snr(s, sp, 2.0) == pytest.approx(want)


def test_noisy_ln_cosines_pure_noise_matches_sphere_law():
    # with s = s' = 0 the directions are independent uniform on the sphere of V_perp (dim k):
    # <u, v>^2 ~ Beta(1/2, (k-1)/2); compare with a KS test on many draws
    n = 32
    c = ht.noisy_ln_cosines(np.zeros(n), np.zeros(n), 1.0, 20_000, rng=0)
    assert stats.kstest(c**2, stats.beta(0.5, (n - 2) / 2).cdf).pvalue > 1e-3
    same = ht.noisy_ln_cosines(np.zeros(n), np.zeros(n), 1.0, 10, rng=5)
    np.testing.assert_array_equal(same, ht.noisy_ln_cosines(np.zeros(n), np.zeros(n), 1.0, 10, rng=5))


def test_noisy_ln_cosines_high_snr_recovers_clean_cosine():
    rng = np.random.default_rng(1)
    a, b = ht.detail(rng.standard_normal(64)), ht.detail(rng.standard_normal(64))
    clean = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    c = ht.noisy_ln_cosines(1e4 * a, 1e4 * b, 1.0, 50, rng=2)
    np.testing.assert_allclose(c, clean, atol=1e-3)


def test_theorem1_bound_holds_in_monte_carlo():
    rng = np.random.default_rng(3)
    n, x, eps = 256, 3.0, 0.25
    s = ht.detail(rng.standard_normal(n))
    for gamma in (0.01, 0.1, 0.3):
        sig = s * gamma * np.sqrt(n - 1) / np.linalg.norm(s)
        c = ht.noisy_ln_cosines(sig, sig, 1.0, 5000, rng=rng)
        viol = np.mean(np.abs(c) > ht.theorem1_bound(gamma, eps))
        assert viol <= 1 - ht.theorem1_probability(n, x, eps)


def test_theorem1_probability_hypothesis_enforced():
    with pytest.raises(ValueError, match="64 x / 9"):
        ht.theorem1_probability(8, 3.0, 0.5)


def test_chi2_and_sphere_bounds_dominate_exact_laws():
    k = 63
    for x in (0.5, 1.0, 3.0, 6.0):
        up, lo = ht.chi2_tail_bounds(k, x)
        assert stats.chi2(k).sf(up) <= np.exp(-x)
        assert stats.chi2(k).cdf(lo) <= np.exp(-x)
    t = np.linspace(0, 1, 41)
    assert np.all(ht.sphere_cap_probability(k, t) <= ht.sphere_cap_bound(k, t))
    # exact law against Monte Carlo
    U = np.random.default_rng(4).standard_normal((40_000, k))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    assert abs(np.mean(U[:, 0] >= 0.2) - ht.sphere_cap_probability(k, 0.2)) < 5 * np.sqrt(0.06 / 40_000)


def test_collapse_depth_is_minimal():
    for s2 in (0.1, 0.3, 0.8):
        L = int(ht.collapse_depth(s2, 30.0, 1.0, 64, 0.5))
        g = lambda k: 8 * s2**k * 30.0 / np.sqrt(63)
        assert g(L) <= 0.5 and (L == 0 or g(L - 1) > 0.5)
    assert ht.collapse_depth(1.0, 30.0, 1.0, 64, 0.5) == np.inf
    assert ht.collapse_depth(0.5, 0.0, 1.0, 64, 0.5) == 0


def test_quantize_formats():
    x = np.array([1.0, 1 + 2**-9, 1 + 3 * 2**-9, -2.5, 1e-3])
    q = ht.quantise(x, "bfloat16")
    assert q[0] == 1.0 and q[1] == 1.0 and q[2] == 1 + 2**-7 and q[3] == -2.5
    assert np.all(np.abs(q - x) <= 2**-8 * np.abs(x))
    h = ht.quantise(x, "float16")
    np.testing.assert_array_equal(h, x.astype(np.float16).astype(np.float64))
    with pytest.raises(ValueError, match="fmt"):
        ht.quantise(x, "fp8")
    with pytest.raises(ValueError, match="float16"):
        ht.quantise([1e6], "float16")


def test_residual_stack_matches_loop_and_corrected_proposition():
    rng = np.random.default_rng(5)
    Ms = ht.random_dsm(16, 0.7, size=6, rng=rng)
    x0 = rng.standard_normal((4, 16)) + 5.0
    tr = ht.residual_stack(x0, Ms, "relu")
    x = x0.copy()
    for ell, M in enumerate(Ms):
        upd = np.maximum(x @ M.T, 0)
        np.testing.assert_allclose(tr.update_norms[:, ell], np.linalg.norm(upd, axis=1))
        # corrected Proposition 1: ||P phi(Mx)|| <= sigma2 ||Px||
        assert np.all(tr.detail_update_norms[:, ell] <= ht.sigma2(M) * np.linalg.norm(ht.detail(x), axis=1) + 1e-12)
        x = x + upd
    np.testing.assert_allclose(tr.states[:, -1], x)
    change = tr.relative_detail_change()
    assert np.all(change <= np.prod(1 + ht.sigma2(Ms)) - 1)


def test_gelu_and_activation_errors():
    z = np.linspace(-5, 5, 100_001)
    slope = np.diff(ht.gelu(z)) / np.diff(z)
    assert 1.1 < slope.max() < 1.2  # not 1-Lipschitz
    with pytest.raises(ValueError, match="activation"):
        ht.residual_stack(np.ones((1, 3)) + np.arange(3), ht.random_dsm(3, 1.0, size=2, rng=0), "swish")
    with pytest.raises(ValueError, match="layers"):
        ht.residual_stack(np.arange(4.0), ht.random_dsm(3, 1.0, size=2, rng=0))


def test_ln_direction_mean_against_monte_carlo_and_limits():
    rng = np.random.default_rng(21)
    k = 31
    e = np.zeros(k)
    e[0] = 1.0
    for r in (0.5, 3.0, 10.0):
        g = rng.standard_normal((40_000, k))
        u = (r * e + g) / np.linalg.norm(r * e + g, axis=1, keepdims=True)
        mc = u[:, 0]
        assert abs(mc.mean() - ht.ln_direction_mean(r, k)) < 5 * mc.std() / np.sqrt(mc.size)
    assert ht.ln_direction_mean(0.0, k) == 0.0
    assert ht.ln_direction_mean(1e4, k) == pytest.approx(1.0, abs=1e-4)


def test_sphere_inner_product_law_moments_and_samples():
    k = 20
    law = ht.sphere_inner_product_law(k)
    assert law.mean() == pytest.approx(0.0, abs=1e-12) and law.var() == pytest.approx(1 / k)
    c = ht.noisy_ln_cosines(np.zeros(k + 1), np.zeros(k + 1), 1.0, 20_000, rng=22)
    assert stats.kstest(c, law.cdf).pvalue > 1e-3


def test_reduced_ln_cosines_matches_full_simulation():
    n = 40
    k = n - 1
    rng = np.random.default_rng(23)
    Q, _ = np.linalg.qr(ht.centring_projector(n)[:, : n - 1])  # basis of V_perp
    a, ap = np.array([2.0, 0.0]), np.array([1.0, 1.5])
    s, sp = Q[:, 0] * a[0] + Q[:, 1] * a[1], Q[:, 0] * ap[0] + Q[:, 1] * ap[1]
    full = ht.noisy_ln_cosines(s, sp, 1.0, 20_000, rng=rng)
    red = ht.reduced_ln_cosines(a, ap, k, 20_000, rng=rng)
    assert stats.ks_2samp(full, red).pvalue > 1e-3
    with pytest.raises(ValueError, match="k"):
        ht.reduced_ln_cosines(a, ap, 3, 10)


def test_lipschitz_constants():
    z = np.linspace(-8, 8, 400_001)
    fd = np.abs(np.diff(ht.gelu(z)) / np.diff(z)).max()
    assert ht.lipschitz_constant("gelu") == pytest.approx(fd, abs=1e-6)
    assert ht.lipschitz_constant("gelu") == pytest.approx(1.128993, abs=2e-6)
    assert ht.lipschitz_constant("relu") == ht.lipschitz_constant("tanh") == 1.0
    with pytest.raises(ValueError, match="activation"):
        ht.lipschitz_constant("swish")
