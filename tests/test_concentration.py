"""Tests of homtrap's concentration bounds (Part IV): Theorem 1's bound and probability against
Monte Carlo, the chi^2 tail bounds and spherical caps against scipy's exact laws, and the law of
<u, v> for independent uniform directions."""

import numpy as np
import pytest
from scipy import stats

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


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
    with pytest.raises(ValueError, match=r"Theorem 1 needs n - 1 >= 64 x / 9; with n = 8 that is x <= 0\.98"):
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


def test_sphere_inner_product_law_moments_and_samples():
    k = 20
    law = ht.sphere_inner_product_law(k)
    assert law.mean() == pytest.approx(0.0, abs=1e-12) and law.var() == pytest.approx(1 / k)
    c = ht.noisy_ln_cosines(np.zeros(k + 1), np.zeros(k + 1), 1.0, 20_000, rng=22)
    assert stats.kstest(c, law.cdf).pvalue > 1e-3


def test_chi2_tail_bounds_is_a_named_tuple_of_the_laurent_massart_bounds():
    k, x = 63, 3.0
    b = ht.chi2_tail_bounds(k, x)
    assert isinstance(b, ht.Chi2TailBounds) and b._fields == ("upper", "lower")
    assert b.upper == pytest.approx(k + 2 * np.sqrt(k * x) + 2 * x) and b.lower == pytest.approx(k - 2 * np.sqrt(k * x))
    assert tuple(b) == (b.upper, b.lower)
