"""Tests of homtrap's concentration bounds (Part IV): Theorem 1's bound and probability against
Monte Carlo, the chi^2 tail bounds and spherical caps against scipy's exact laws, and the law of
<u, v> for independent uniform directions."""

import numpy as np
import pytest
from scipy import stats

import homtrap as ht
import homtrap
from homtrap import cosine_concentration_radius

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


# ----------------------------------------------------------------------
# Tests of homtrap._concentration's cosine_concentration_radius (moved from book/11_theorem1.ipynb).

def sharper_radius(k, x, g1, g2, c0):
    # the chapter's function, verbatim (book/11_theorem1.ipynb, the check of prop-sharper)
    t = np.sqrt(x / k)
    delta = max((2 * (1 + np.sqrt(2) * g) * t + 2 * t**2) / (1 + g**2) for g in (g1, g2))
    if delta >= 1:
        return np.inf
    main = np.sqrt(2) * t * (g1 + g2 + np.sqrt(1 + 2 * t + 2 * t**2)) / np.sqrt((1 + g1**2) * (1 + g2**2))
    return (main + abs(c0) * delta) / (1 - delta)


def test_bit_identical_to_the_chapter():
    gammas = np.geomspace(0.01, 0.5, 13)
    for n in (64, 256, 1024):
        for gamma in gammas:
            for c0 in (gamma**2 / (1 + gamma**2), 0.0):
                assert cosine_concentration_radius(n - 1, np.log(900), gamma, gamma, c0) == sharper_radius(
                    n - 1, np.log(900), gamma, gamma, c0)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        k, x = int(rng.integers(1, 5000)), rng.uniform(0.1, 10)
        g1, g2, c0 = float(rng.uniform(0, 3)), float(rng.uniform(0, 3)), float(rng.uniform(-1, 1))
        assert cosine_concentration_radius(k, x, g1, g2, c0) == sharper_radius(k, x, g1, g2, c0)


def test_broadcasting_agrees_elementwise():
    k = np.array([63, 255, 1023])
    g = np.geomspace(0.01, 0.5, 5)[:, None]
    R = cosine_concentration_radius(k, np.log(900), g, g, g**2 / (1 + g**2))
    assert R.shape == (5, 3)
    for i in range(5):
        for j in range(3):
            gi = float(g[i, 0])
            assert R[i, j] == sharper_radius(int(k[j]), np.log(900), gi, gi, float(g[i, 0] ** 2 / (1 + g[i, 0] ** 2)))
    c0 = (g**2 / (1 + g**2))[:, 0]
    assert np.all(np.isinf(R[:, 0]) | (c0 + R[:, 0] > 1))  # k = 63: the proposition says nothing at x = log 900
    assert np.all(np.isfinite(R[:, 2]) & (c0 + R[:, 2] < 1))  # k = 1023: it does


def independent_radius(k, x, g1, g2, c0):
    # independent transcription from the proposition's proof: deviation of N and of D / D0
    a1, a2 = g1 * np.sqrt(k), g2 * np.sqrt(k)  # ||a||, ||a'|| in units of nu
    dev = lambda a: (2 * a * np.sqrt(2 * x) + 2 * np.sqrt(k * x) + 2 * x) / (a * a + k)  # delta_i
    d = max(dev(a1), dev(a2))
    if d >= 1:
        return np.inf
    D0 = np.sqrt((a1 * a1 + k) * (a2 * a2 + k))
    g_max = np.sqrt(k + 2 * np.sqrt(k * x) + 2 * x)  # ||g|| on the Laurent-Massart event
    num = np.sqrt(2 * x) * (a1 + a2 + g_max) / D0
    return (num + abs(c0) * d) / (1 - d)


def test_against_an_independent_transcription():
    rng = np.random.default_rng(1)
    for _ in range(500):
        k, x = int(rng.integers(2, 20_000)), rng.uniform(0.1, 10)
        g1, g2, c0 = rng.uniform(0, 3), rng.uniform(0, 3), rng.uniform(-1, 1)
        a, b = cosine_concentration_radius(k, x, g1, g2, c0), independent_radius(k, x, g1, g2, c0)
        assert (np.isinf(a) and np.isinf(b)) or abs(a - b) <= 1e-12 * b


@pytest.mark.parametrize("n, gamma, orthogonal", [(1024, 0.1, False), (1024, 0.5, False), (4096, 0.3, True)])
def test_the_bound_holds_on_samples_and_a_wrong_radius_fails(n, gamma, orthogonal):
    k, x = n - 1, np.log(900)  # failure probability at most 9 / 900 = 0.01
    a = np.array([gamma * np.sqrt(k), 0.0])
    a2 = a[::-1] if orthogonal else a
    c0 = 0.0 if orthogonal else gamma**2 / (1 + gamma**2)
    R = cosine_concentration_radius(k, x, gamma, gamma, c0)
    assert np.isfinite(R) and R < 1
    c = homtrap.reduced_ln_cosines(a, a2, k, 100_000, rng=2)
    assert np.mean(np.abs(c - c0) > R) <= 0.01
    # must-fail control: a radius of the size of the noise floor alone (1/sqrt(k)) is exceeded far more often
    assert np.mean(np.abs(c - c0) > 1 / np.sqrt(k)) > 0.01


def test_infinite_when_delta_at_least_one_and_order_sqrt_x_over_k():
    assert np.isinf(cosine_concentration_radius(10, 5.0, 0.1, 0.1, 0.0))
    R1 = cosine_concentration_radius(10_000, 1.0, 0.2, 0.2, 0.0)
    R4 = cosine_concentration_radius(40_000, 1.0, 0.2, 0.2, 0.0)
    assert 1.9 < R1 / R4 < 2.1  # R = O(sqrt(x / k))


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((0, 1.0, 0.1, 0.1, 0.0), ValueError, "k must be >= 1"),
        ((10.5, 1.0, 0.1, 0.1, 0.0), TypeError, "k must be an integer"),
        ((10, 0.0, 0.1, 0.1, 0.0), ValueError, "x must be > 0"),
        ((10, 1.0, -0.1, 0.1, 0.0), ValueError, "gamma must be >= 0"),
        ((10, 1.0, 0.1, -0.1, 0.0), ValueError, "gamma_prime must be >= 0"),
        ((10, 1.0, 0.1, 0.1, 1.5), ValueError, "c0 must lie in"),
        ((10, np.nan, 0.1, 0.1, 0.0), ValueError, "x"),
        ((10, "a", 0.1, 0.1, 0.0), TypeError, "x"),
        (([10, 20], 1.0, [0.1, 0.2, 0.3], 0.1, 0.0), ValueError, "broadcast"),
    ],
)
def test_validation(args, exc, match):
    with pytest.raises(exc, match=match):
        cosine_concentration_radius(*args)


# ---------------------------------------------------------------------- theorem1_min_dimension
def naive_certified(n, gamma, tau, delta):
    """Theorem 1's bound at n, written out from the statement (x at its largest admissible value)."""
    x = 9 * (n - 1) / 64 * (1 - 1e-12)
    return 1 - 2 * np.exp(-x) - 2 * np.exp(-(n - 1) * (tau - 8 * gamma) ** 2 / 2) >= 1 - delta


@pytest.mark.parametrize("gamma, tau, delta", [(0.0, 0.1, 0.05), (0.0, 0.3, 0.05), (0.01, 0.5, 0.01), (0.03, 0.3, 0.2), (0.0, 0.9, 0.5)])
def test_theorem1_min_dimension_is_the_smallest_certified_n(gamma, tau, delta):
    n = ht.theorem1_min_dimension(gamma, tau, delta)
    assert n == int(n) and n >= 6  # 1 - 2 e^{-x} >= 1 - delta needs x >= log 2 at least
    assert naive_certified(int(n), gamma, tau, delta) and not naive_certified(int(n) - 1, gamma, tau, delta)
    # monotone in n beyond it (so "smallest" is well defined), checked on a stretch
    assert all(naive_certified(m, gamma, tau, delta) for m in range(int(n), int(n) + 200))
    # control: a smaller level or failure probability needs a larger n
    assert ht.theorem1_min_dimension(gamma, tau / 2, delta) > n
    assert ht.theorem1_min_dimension(gamma, tau, delta / 2) >= n


def test_theorem1_min_dimension_infinite_without_room_and_bad_input():
    assert ht.theorem1_min_dimension(0.05, 0.4) == np.inf  # 8 gamma = level
    assert ht.theorem1_min_dimension(0.1, 0.3) == np.inf
    for args, match in [((-0.1, 0.3), r"gamma must be finite and >= 0"), ((0.0, 1.0), r"level must lie in \(0, 1\)"),
                        ((0.0, 0.3, 0.0), r"failure must lie in \(0, 1\)"), ((np.nan, 0.3), r"gamma must be finite")]:
        with pytest.raises(ValueError, match=match):
            ht.theorem1_min_dimension(*args)
    with pytest.raises(TypeError, match=r"level must be a real number"):
        ht.theorem1_min_dimension(0.0, "0.3")
