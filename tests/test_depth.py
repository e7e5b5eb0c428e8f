"""Tests of homtrap._depth. effective_depth: the smallest integer L >= 0 with sigma2**L <= target
(oracle: a brute-force loop over L, and exactly representable powers (0.5**k, 0.75**5) to pin
down the inclusive "<=" at the boundary); products of stacks (product_distances,
power_distances, max_product_norm, realised_depth) against explicit loops; the heterogeneous,
high-temperature and collapse depths.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht
from _helpers import match_id

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def brute_force_depth(s, eps):
    if s >= 1.0:
        return math.inf
    L = 0
    while s**L > eps:
        L += 1
    return L


# ---------------------------------------------------------------- exact cases
@pytest.mark.parametrize(
    ("s", "eps", "expected"),
    [
        (0.5, 0.25, 2),  # boundary: 0.5**2 == 0.25 exactly, "<=" is inclusive
        (0.5, 0.125, 3),
        (0.5, 0.2, 3),
        (0.5, 0.26, 2),
        (0.5, 0.5, 1),
        (0.5, 2.0**-40, 40),
        (0.75, 243 / 1024, 5),  # 0.75**5 exactly
        (0.75, 243 / 1024 * (1 - 1e-15), 6),
        (0.25, 0.25, 1),
        (0.9, 0.9, 1),
        (0.0, 0.5, 1),  # 0**0 = 1 > eps, 0**1 = 0 <= eps
        (1e-300, 1e-10, 1),
        (0.5, 0.999, 1),
        (0.999999, 0.5, 693147),
    ],
)
def test_exact_values(s, eps, expected):
    got = ht.effective_depth(s, eps)
    assert float(got) == expected
    assert brute_force_depth(s, eps) == expected  # self-check of the hand-computed value


def brute_force_depth_numpy_pow(s, eps):
    """The same loop with numpy's vectorised power, which may differ from Python's scalar
    pow by one ulp; at an exact boundary either answer is a legitimate float reading."""
    L = 0
    while np.power(np.array([s]), np.array([float(L)]))[0] > eps:
        L += 1
    return L


def boundary_cases(seed, count):
    """(s, eps) pairs with eps exactly at a float power s**k, or one ulp below it. For some
    of these ceil(log eps / log s) is off by one in either direction."""
    rng = np.random.default_rng(seed)
    for s in rng.uniform(0.01, 0.99, size=count):
        s = float(s)
        for k in (2, 3, 5, 10, 30):
            p = s**k
            for eps in (p, float(np.nextafter(p, 0.0))):
                if 0.0 < eps < 1.0:
                    yield s, eps


def test_boundary_cases_against_brute_force():
    for s, eps in boundary_cases(12345, 200):
        got = float(ht.effective_depth(s, eps))
        assert got in (brute_force_depth(s, eps), brute_force_depth_numpy_pow(s, eps)), (s, eps, got)


def test_boundary_cases_vectorised():
    pairs = np.array(list(boundary_cases(54321, 100)))
    got = np.asarray(ht.effective_depth(pairs[:, 0], pairs[:, 1]))
    for (s, eps), L in zip(pairs, got):
        assert L in (brute_force_depth(s, eps), brute_force_depth_numpy_pow(s, eps)), (s, eps, L)


def test_large_depth_against_brute_force():
    s, eps = 0.999999, 0.5
    L = float(ht.effective_depth(s, eps))
    assert L == int(L)
    L = int(L)
    assert s**L <= eps < s ** (L - 1)


@pytest.mark.parametrize("eps", [1e-3, 0.5, 0.999])
def test_sigma2_one_gives_infinity(eps):
    got = ht.effective_depth(1.0, eps)
    assert np.isinf(got) and got > 0


def test_returns_float_array_and_broadcasts():
    s = np.array([[0.0, 0.5], [0.9, 1.0]])
    got = ht.effective_depth(s, 0.01)
    assert isinstance(got, np.ndarray) or np.isscalar(got)
    got = np.asarray(got)
    assert got.shape == (2, 2)
    assert np.issubdtype(got.dtype, np.floating)
    expected = [[brute_force_depth(x, 0.01) for x in row] for row in s]
    np.testing.assert_array_equal(got, expected)
    eps = np.array([0.5, 0.1, 1e-6])
    got2 = np.asarray(ht.effective_depth(0.5, eps))
    np.testing.assert_array_equal(got2, [brute_force_depth(0.5, e) for e in eps])
    got3 = np.asarray(ht.effective_depth(np.array([0.5, 0.9, 0.99]), np.array([[0.5], [0.01]])))
    assert got3.shape == (2, 3)
    for i, e in enumerate([0.5, 0.01]):
        for j, x in enumerate([0.5, 0.9, 0.99]):
            assert got3[i, j] == brute_force_depth(x, e)


def test_scalar_input_scalar_shape():
    assert np.shape(ht.effective_depth(0.5, 0.1)) == ()


# ---------------------------------------------------------------- properties
@given(st.floats(0.0, 0.999, exclude_max=False), st.floats(1e-12, 0.999))
def test_minimality_brute_force(s, eps):
    L = float(ht.effective_depth(s, eps))
    assert L == int(L) and L >= 1
    L = int(L)
    # within a relative 1e-12 of the boundary the float power itself is ambiguous by an ulp
    assert s**L <= eps * (1 + 1e-12)
    assert s ** (L - 1) > eps * (1 - 1e-12)
    expected = brute_force_depth(s, eps)
    near_boundary = abs(s**expected - eps) <= 1e-12 * eps or abs(s ** (expected - 1) - eps) <= 1e-12 * eps
    if not near_boundary:
        assert L == expected


@given(st.floats(1e-3, 0.999), st.floats(1e-9, 0.5))
def test_close_to_log_ratio(s, eps):
    L = float(ht.effective_depth(s, eps))
    x = math.log(eps) / math.log(s)
    assert x <= L + 1e-9 and L < x + 1 + 1e-9


@given(st.floats(0.01, 0.99), st.floats(1e-6, 0.5), st.floats(1e-6, 0.5))
def test_monotone(s, e1, e2):
    lo, hi = sorted((e1, e2))
    assert float(ht.effective_depth(s, lo)) >= float(ht.effective_depth(s, hi))
    assert float(ht.effective_depth(min(s * 1.01, 0.999), lo)) >= float(ht.effective_depth(s, lo))


@given(st.integers(2, 8), st.floats(np.log(0.05), np.log(50.0)).map(np.exp), st.integers(0, 2**32 - 1))
def test_depth_bound_holds_for_matrix_powers(n, T, seed):
    """After effective_depth layers ||M^L - J/n||_2 <= sigma2^L <= eps (Corollary A)."""
    eps = 1e-3
    M = ht.random_dsm(n, T, rng=seed)
    s = float(ht.sigma2(M))
    L = float(ht.effective_depth(min(s, 1.0), eps))
    if math.isinf(L) or L > 2000:
        return
    d = np.linalg.norm(np.linalg.matrix_power(M, int(L)) - 1 / n, 2)
    assert d <= eps + 1e-9


# --------------------------------------------------------- products of stacks and realised depth
def _loop_products(A):
    out, P = [], np.eye(A.shape[-1])
    for M in A:
        P = M @ P
        out.append(P)
    return np.array(out)


def test_product_distances_match_explicit_loop_and_batching():
    A = ht.random_dsm(8, 0.7, size=(2, 3, 6), rng=0)
    d = ht.product_distances(A)
    assert d.shape == (2, 3, 6)
    for i in range(2):
        for j in range(3):
            prods = _loop_products(A[i, j])
            want = [np.linalg.norm(P - 1 / 8, 2) for P in prods]
            np.testing.assert_allclose(d[i, j], want, atol=1e-12)


def test_product_bound_by_sigma2_products_and_realised_depth_minimal():
    A = ht.random_dsm(16, 0.4, size=(20, 12), rng=1)
    d = ht.product_distances(A)
    bound = np.cumprod(ht.sigma2(A), axis=-1)
    assert np.all(d <= bound + 1e-9)
    r = ht.realised_depth(A, 0.05)
    for di, ri in zip(d, r):
        k = int(ri)
        assert di[k - 1] <= 0.05 and (k == 1 or di[k - 2] > 0.05)
    # the worst-case bound is never faster than reality
    assert np.all(ht.effective_depth_product(ht.sigma2(A), 0.05) >= r)


def test_realised_depth_inf_for_permutations():
    P = ht.permutation_matrix([1, 2, 0])
    assert ht.realised_depth(np.stack([P] * 5), 0.5) == np.inf


def test_power_distances_sandwich():
    M = ht.random_dsm(12, 0.5, size=4, rng=2)
    prof = ht.power_distances(M, 10)
    k = np.arange(1, 11)
    s2, l2 = ht.sigma2(M)[:, None], ht.lambda2(M)[:, None]
    assert np.all(prof <= s2**k + 1e-10)
    assert np.all(prof >= l2**k - 1e-10)
    np.testing.assert_allclose(prof[:, 2], [np.linalg.norm(np.linalg.matrix_power(m, 3) - 1 / 12, 2) for m in M], atol=1e-12)


def test_max_product_norm_is_one_for_exact_and_can_exceed_for_truncated():
    A = ht.random_dsm(6, 0.3, size=(3, 8), rng=3)
    np.testing.assert_allclose(ht.max_product_norm(A), 1.0, atol=1e-9)
    G = ht.random_logits(16, size=(20, 8), rng=4)
    one_sweep = ht.truncated_sinkhorn(G, 0.2, sweeps=1)
    assert ht.max_product_norm(one_sweep).max() > 1.05
    # columns are exact after a sweep that ends with the column step
    np.testing.assert_allclose(one_sweep.sum(axis=-2), 1.0, atol=1e-12)



def test_product_norm_bounds_against_explicit_products():
    """Both bounds hold for every partial product and equal their formulas computed by a plain loop;
    the column bound is sqrt(n) for column-stochastic layers. Control: the bound without the
    square root of the row norms (||P_k||_2 <= prod ||M_l||_1 alone) fails on the same stacks."""
    G = ht.random_logits(8, size=(5, 6), rng=11)
    layers = ht.truncated_sinkhorn(G, 0.1, sweeps=1)  # products amplify: norms above one
    b = ht.product_norm_bounds(layers)
    schur, column = b  # unpacks
    assert schur.shape == column.shape == (5, 6)
    violated = False
    for s in range(5):
        P = np.eye(8)
        schur_k, col_k = 1.0, 1.0
        for k in range(6):
            M = layers[s, k]
            P = M @ P
            schur_k *= np.sqrt(np.abs(M).sum(axis=0).max() * np.abs(M).sum(axis=1).max())
            col_k *= np.abs(M).sum(axis=0).max()
            norm = np.linalg.norm(P, 2)
            assert norm <= schur[s, k] * (1 + 1e-12) and norm <= column[s, k] * (1 + 1e-12)
            assert schur[s, k] == pytest.approx(schur_k, rel=1e-12)
            assert column[s, k] == pytest.approx(np.sqrt(8) * col_k, rel=1e-12)
            violated |= norm > col_k * (1 + 1e-9)  # the control bound
    assert violated
    np.testing.assert_allclose(column, np.sqrt(8), rtol=1e-12)  # column-stochastic: the cap
    cap = np.zeros((1, 4, 4))
    cap[0, 0] = 1.0  # e_1 1^T attains the cap
    assert np.linalg.norm(cap[0], 2) == pytest.approx(ht.product_norm_bounds(cap).column[0], rel=1e-15)


def test_product_norm_bounds_refuse_negative_layers():
    with pytest.raises(ValueError, match=r"layers must be non-negative"):
        ht.product_norm_bounds(-np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match=r"layers must have shape \(\.\.\., L, n, n\) with a layer axis"):
        ht.product_norm_bounds(np.ones((3, 3)))

# ----------------------------------------------------- heterogeneous and high-temperature depths
def test_effective_depth_product_brute_force():
    rng = np.random.default_rng(6)
    s = rng.uniform(0.2, 0.99, size=(50, 30))
    got = ht.effective_depth_product(s, 1e-3)
    for row, g in zip(s, got):
        p, want = 1.0, np.inf
        for L, v in enumerate(row, start=1):
            p *= v
            if p <= 1e-3:
                want = L
                break
        assert g == want
    assert ht.effective_depth_product([0.5, 0.0, 0.5], 0.1) == 2


def test_high_temperature_effective_depth_formula():
    assert ht.high_temperature_effective_depth(64, 1.0, 0.01) == pytest.approx(np.log(100) / np.log(4.0))
    assert ht.high_temperature_effective_depth(4, 0.5, 0.01) == np.inf  # T sqrt(n)/2 <= 1


# -------------------------------------------------------------------------------- collapse depth
def test_collapse_depth_is_minimal():
    for s2 in (0.1, 0.3, 0.8):
        L = int(ht.collapse_depth(s2, 30.0, 1.0, 64, 0.5))
        g = lambda k: 8 * s2**k * 30.0 / np.sqrt(63)
        assert g(L) <= 0.5 and (L == 0 or g(L - 1) > 0.5)
    assert ht.collapse_depth(1.0, 30.0, 1.0, 64, 0.5) == np.inf
    assert ht.collapse_depth(0.5, 0.0, 1.0, 64, 0.5) == 0


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ht.product_distances(np.eye(3)), r"layers must have shape \(\.\.\., L, n, n\) with a layer axis"),
        (lambda: ht.product_distances(np.full((2, 3, 3), np.nan)), r"layers must be finite; found 18 NaN/inf"),
        (lambda: ht.realised_depth(ht.random_dsm(3, 1.0, size=(2, 2), rng=0), 1.5), r"target must lie in the open interval \(0, 1\)"),
        (lambda: ht.power_distances(np.eye(3) / 1.0, 0), r"k_max must be >= 1, got 0"),
        (lambda: ht.effective_depth_product([1.2, 0.5], 0.1), r"sigma2s must lie in \[0, 1\]"),
        (lambda: ht.high_temperature_effective_depth(64, 1.0, 0.0), r"target must lie in the open interval \(0, 1\)"),
    ],
    ids=match_id,
)
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
