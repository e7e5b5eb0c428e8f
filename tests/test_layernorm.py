"""Tests of homtrap._layernorm: layer_norm and normalise_detail.

Oracle: the exact identities LN(y) = sqrt(n) P y / ||P y|| (no affine parameters, eps = 0),
normalise_detail(y) = P y / ||P y||, and the textbook formula
(y - mean) / sqrt(var + eps) * weight + bias with the population variance.
Also the SNR of the detail (amplitude_snr) and the noisy LayerNorm directions (noisy_ln_cosines,
reduced_ln_cosines, ln_direction_mean) against Monte Carlo and the sphere law.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

import homtrap as ht
from _helpers import naive_centring_projector
from scipy import integrate, stats
import homtrap
from homtrap import mean_ln_cosine, mean_ln_cosine_expansion

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def projector_form(y):
    """sqrt(n) P y / ||P y|| along the last axis, with P = I - J/n built explicitly."""
    P = naive_centring_projector(y.shape[-1])
    Py = y @ P.T
    return Py / np.linalg.norm(Py, axis=-1, keepdims=True)


def textbook_layer_norm(y, weight=None, bias=None, eps=0.0):
    mu = y.mean(axis=-1, keepdims=True)
    var = ((y - mu) ** 2).mean(axis=-1, keepdims=True)
    out = (y - mu) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@st.composite
def well_spread_vectors(draw, max_dims=2):
    """Vectors (or stacks) whose detail is not tiny relative to their size."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=2, max_side=8))
    y = draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100)))
    spread = np.linalg.norm(y - y.mean(axis=-1, keepdims=True), axis=-1)
    assume(np.all(spread > 1e-3 * (1 + np.abs(y).max())))
    return y


# ------------------------------------------------------------------- identities
@given(well_spread_vectors())
def test_layer_norm_equals_sqrt_n_times_unit_detail(y):
    n = y.shape[-1]
    np.testing.assert_allclose(ht.layer_norm(y), np.sqrt(n) * projector_form(y), atol=1e-9)


@given(well_spread_vectors())
def test_normalise_detail_is_unit_vector_in_vperp(y):
    u = ht.normalise_detail(y)
    assert u.shape == y.shape
    np.testing.assert_allclose(u, projector_form(y), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(u, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(u.sum(axis=-1), 0.0, atol=1e-9)


@given(well_spread_vectors(max_dims=1), st.data())
def test_layer_norm_with_weight_and_bias(y, data):
    n = y.shape[-1]
    weight = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-5, 5)))
    bias = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-5, 5)))
    expected = np.sqrt(n) * projector_form(y) * weight + bias
    np.testing.assert_allclose(ht.layer_norm(y, weight, bias), expected, atol=1e-8)
    np.testing.assert_allclose(ht.layer_norm(y, weight=weight), np.sqrt(n) * projector_form(y) * weight, atol=1e-8)
    np.testing.assert_allclose(ht.layer_norm(y, bias=bias), np.sqrt(n) * projector_form(y) + bias, atol=1e-8)


@given(well_spread_vectors(), st.floats(1e-6, 10.0))
def test_layer_norm_eps_matches_textbook_formula(y, eps):
    np.testing.assert_allclose(ht.layer_norm(y, eps=eps), textbook_layer_norm(y, eps=eps), atol=1e-9)


@given(well_spread_vectors(), st.floats(0.01, 100), st.floats(-100, 100))
def test_layer_norm_affine_invariance(y, a, c):
    np.testing.assert_allclose(ht.layer_norm(a * y + c), ht.layer_norm(y), atol=1e-7)
    np.testing.assert_allclose(ht.layer_norm(-a * y + c), -ht.layer_norm(y), atol=1e-7)
    np.testing.assert_allclose(ht.normalise_detail(a * y + c), ht.normalise_detail(y), atol=1e-7)


@given(well_spread_vectors())
def test_layer_norm_output_has_zero_mean_unit_variance(y):
    z = ht.layer_norm(y)
    np.testing.assert_allclose(z.mean(axis=-1), 0.0, atol=1e-9)
    np.testing.assert_allclose(z.var(axis=-1), 1.0, atol=1e-9)


def test_layer_norm_small_example_by_hand():
    y = np.array([1.0, 2.0, 3.0])  # mean 2, population variance 2/3
    np.testing.assert_allclose(ht.layer_norm(y), np.array([-1.0, 0.0, 1.0]) / np.sqrt(2 / 3), atol=1e-14)
    np.testing.assert_allclose(ht.normalise_detail(y), np.array([-1.0, 0.0, 1.0]) / np.sqrt(2), atol=1e-14)
    weight, bias = np.array([2.0, 3.0, 4.0]), np.array([0.5, 0.5, -1.0])
    np.testing.assert_allclose(
        ht.layer_norm(y, weight, bias), np.array([-2.0, 0.0, 4.0]) / np.sqrt(2 / 3) + bias, atol=1e-14
    )
    np.testing.assert_allclose(ht.layer_norm(y, eps=1 / 3), np.array([-1.0, 0.0, 1.0]), atol=1e-14)


def test_layer_norm_scalar_weight_and_bias_broadcast():
    y = np.random.default_rng(1).standard_normal((3, 5))
    np.testing.assert_allclose(ht.layer_norm(y, 2.0, 1.0), 2 * textbook_layer_norm(y) + 1, atol=1e-12)


@given(st.integers(1, 12), st.floats(-1e6, 1e6, allow_subnormal=False))
def test_constant_vectors_are_rejected(n, c):
    """Zero variance (a constant vector) -> ValueError, whatever rounding does to the mean."""
    y = np.full(n, c)
    # n = 1 is refused for its size, before its (zero) variance is looked at
    with pytest.raises(ValueError, match=r"\by (has a vector with zero variance|must have at least 2 entries)"):
        ht.layer_norm(y)
    with pytest.raises(ValueError, match=r"\by (has a vector with zero detail part|must have at least 2 entries)"):
        ht.normalise_detail(y)


def test_constant_vector_with_positive_eps_is_fine():
    y = np.full(4, 7.0)
    with np.errstate(all="raise"):
        np.testing.assert_allclose(ht.layer_norm(y, eps=1e-5), np.zeros(4), atol=0)
        np.testing.assert_allclose(ht.layer_norm(y, bias=np.arange(4.0), eps=1e-5), np.arange(4.0), atol=0)


def test_layer_norm_cosine_of_unit_detail():
    """LN outputs / sqrt(n) are unit vectors whose inner product is the centred cosine."""
    rng = np.random.default_rng(2)
    y1, y2 = rng.standard_normal(10), rng.standard_normal(10)
    c1, c2 = y1 - y1.mean(), y2 - y2.mean()
    cos = c1 @ c2 / (np.linalg.norm(c1) * np.linalg.norm(c2))
    assert ht.layer_norm(y1) @ ht.layer_norm(y2) / 10 == pytest.approx(cos, abs=1e-12)
    assert ht.normalise_detail(y1) @ ht.normalise_detail(y2) == pytest.approx(cos, abs=1e-12)


# -------------------------------------------------------------------- batching
def test_batching_equals_looping():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, 3, 6))
    weight, bias = rng.standard_normal(6), rng.standard_normal(6)
    ln, nd = ht.layer_norm(y, weight, bias, eps=1e-3), ht.normalise_detail(y)
    assert ln.shape == y.shape and nd.shape == y.shape
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(ln[i, j], ht.layer_norm(y[i, j], weight, bias, eps=1e-3), atol=1e-14)
            np.testing.assert_allclose(nd[i, j], ht.normalise_detail(y[i, j]), atol=1e-14)


def test_does_not_mutate_input():
    y = np.random.default_rng(4).standard_normal((3, 4))
    copy = y.copy()
    ht.layer_norm(y)
    ht.normalise_detail(y)
    np.testing.assert_array_equal(y, copy)


def test_lists_and_ints_accepted():
    np.testing.assert_allclose(ht.layer_norm([1, 2, 3]), ht.layer_norm(np.array([1.0, 2.0, 3.0])), atol=0)
    assert ht.layer_norm(np.arange(4)).dtype == np.float64


# ------------------------------------------ the SNR of the detail and noisy LayerNorm directions
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
    with pytest.raises(ValueError, match=r"\bk must be >= 4, got 3"):
        ht.reduced_ln_cosines(a, ap, 3, 10)


# ----------------------------------------------------------------------
# Tests of homtrap._layernorm's mean_ln_cosine and mean_ln_cosine_expansion (moved from book/11_theorem1.ipynb).

# the chapter's functions, verbatim (book/11_theorem1.ipynb, the check of prop-mean-cosine)
def mean_cosine_exact(gamma, k):
    return homtrap.ln_direction_mean(gamma * np.sqrt(k), k) ** 2


heuristic = lambda g: g**2 / (1 + g**2)
second_order = lambda g, k: heuristic(g) * (1 + (g**2 - 0.5) / (k * (1 + g**2) ** 2))

GAMMAS = np.geomspace(0.01, 0.5, 13)


def test_bit_identical_to_the_chapter():
    for n in (64, 256, 1024):
        k = n - 1
        for gamma in GAMMAS:  # numpy scalars, as in the chapter's loop
            assert mean_ln_cosine(gamma, k) == mean_cosine_exact(gamma, k)
            assert mean_ln_cosine_expansion(gamma) == heuristic(gamma)
            assert mean_ln_cosine_expansion(gamma, k) == second_order(gamma, k)
            g = float(gamma)  # and Python floats
            assert mean_ln_cosine_expansion(g, k) == second_order(g, k)


def test_arrays_agree_with_scalars():
    exact = mean_ln_cosine(GAMMAS, 63)
    assert exact.shape == GAMMAS.shape
    assert np.allclose(exact, [mean_cosine_exact(g, 63) for g in GAMMAS], rtol=1e-15, atol=0)
    assert np.allclose(mean_ln_cosine_expansion(GAMMAS, 63), [second_order(g, 63) for g in GAMMAS], rtol=1e-15, atol=0)


def independent_mean(gamma, k):
    # E[(alpha + Z) / sqrt((alpha + Z)^2 + A)]^2, Z ~ N(0, 1), A ~ chi^2_{k-1} (prop-mean-cosine, part 1),
    # by quadrature: E over A of the conditional mean over Z
    alpha = gamma * np.sqrt(k)
    z, w = np.polynomial.hermite_e.hermegauss(160)  # E over Z ~ N(0, 1) by Gauss-Hermite
    w = w / w.sum()

    def inner(a):
        return float(np.sum(w * (alpha + z) / np.sqrt((alpha + z) ** 2 + a)))

    lo, hi = stats.chi2.ppf([1e-14, 1 - 1e-14], k - 1)
    m = integrate.quad(lambda a: inner(a) * stats.chi2.pdf(a, k - 1), lo, hi, epsabs=1e-12, epsrel=1e-10, limit=200)[0]
    return m * m


@pytest.mark.parametrize("gamma, k", [(0.1, 7), (0.5, 7), (0.3, 63), (1.0, 20)])
def test_against_quadrature(gamma, k):
    assert abs(mean_ln_cosine(gamma, k) - independent_mean(gamma, k)) <= 1e-7


def test_against_samples_and_a_wrong_law_fails():
    k, gamma = 63, 0.4
    a = np.array([gamma * np.sqrt(k), 0.0])
    c = homtrap.reduced_ln_cosines(a, a, k, 200_000, rng=0)
    se = c.std() / np.sqrt(c.size)
    assert abs(c.mean() - mean_ln_cosine(gamma, k)) <= 4 * se
    # must-fail control: the theorem's order gamma (instead of gamma^2) is far outside the error bars
    assert abs(c.mean() - gamma) > 100 * se


def test_expansion_errors_are_order_1_over_k_and_1_over_k2():
    for k in (63, 255, 1023):
        exact = mean_ln_cosine(GAMMAS, k)
        e1 = np.abs(mean_ln_cosine_expansion(GAMMAS) / exact - 1)
        e2 = np.abs(mean_ln_cosine_expansion(GAMMAS, k) / exact - 1)
        assert e1.max() <= 1 / k and e2.max() <= 1 / k**2
        assert e1.max() > 0.1 / k  # not better than O(1/k): the correction is needed
    assert mean_ln_cosine(0.0, 5) == 0.0 and mean_ln_cosine_expansion(0.0) == 0.0


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mean_ln_cosine(-0.1, 5), ValueError, "gamma must be >= 0"),
        (lambda: mean_ln_cosine(0.1, 1), ValueError, "k must be >= 2"),
        (lambda: mean_ln_cosine(0.1, 5.0), TypeError, "k must be an integer"),
        (lambda: mean_ln_cosine(np.inf, 5), ValueError, "gamma"),
        (lambda: mean_ln_cosine("a", 5), TypeError, "gamma"),
        (lambda: mean_ln_cosine_expansion(-1.0), ValueError, "gamma must be >= 0"),
        (lambda: mean_ln_cosine_expansion(0.1, 0), ValueError, "k must be >= 1"),
        (lambda: mean_ln_cosine_expansion(0.1, 2.5), TypeError, "k must be an integer"),
    ],
)
def test_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------------ gain_cosine_variance
def test_gain_cosine_variance_matches_monte_carlo_and_the_bound():
    """Var C_g against 40,000 pairs of uniform detail directions; sum r_i = 1; the bound 1/(n-1)
    with equality for a constant gain. Control: the plain law's 1/(n-1) is rejected for a spiky gain."""
    rng = np.random.default_rng(17)
    n = 12
    g = np.ones(n)
    g[:3] = 8.0
    res = ht.gain_cosine_variance(g)
    variance, r, lam = res  # unpacks
    assert r.shape == lam.shape == (n - 1,) and abs(r.sum() - 1) <= 1e-8 and np.all(np.diff(lam) >= 0)
    assert variance == pytest.approx((r**2).sum(), rel=1e-15)
    u = ht.normalise_detail(rng.standard_normal((40_000, n)))
    v = ht.normalise_detail(rng.standard_normal((40_000, n)))
    c = ht.cosine(u * g, v * g)
    se = np.sqrt(((c**2 - (c**2).mean()) ** 2).mean() / c.size)
    assert abs((c**2).mean() - variance) <= 4 * se
    assert abs((c**2).mean() - 1 / (n - 1)) > 4 * se  # control: the gain-free variance is rejected
    const = ht.gain_cosine_variance(np.full(n, -2.5))
    assert const.variance == pytest.approx(1 / (n - 1), rel=1e-9) and variance > 1.2 / (n - 1)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones(2), r"weight must be 1-D with at least 3 entries"),
        (np.ones((3, 3)), r"weight must be 1-D with at least 3 entries"),
        (np.array([1.0, 0.0, 2.0]), r"weight must have no zero entry"),
        (np.array([1.0, np.inf, 2.0]), r"weight must be finite"),
    ],
)
def test_gain_cosine_variance_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        ht.gain_cosine_variance(bad)
