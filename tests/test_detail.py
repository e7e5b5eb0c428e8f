"""Tests for the linear-algebra helpers: centring_projector, uniform_barycenter, detail,
mean_part, marginal_error, is_doubly_stochastic, permutation_matrix, and the parts of
Lemma 1 (invariance of V_perp, mean preservation, M - J/n = P M P) they express.
"""

import itertools
import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

log_temperatures = st.floats(np.log(0.05), np.log(50.0)).map(np.exp)


def perm_matrix(perm):
    n = len(perm)
    P = np.zeros((n, n))
    P[np.arange(n), perm] = 1.0
    return P


@st.composite
def sinkhorn_dsms(draw):
    n = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    return ht.random_dsm(n, draw(log_temperatures), rng=seed)


@st.composite
def dsm_and_vector(draw):
    M = draw(sinkhorn_dsms())
    x = draw(hnp.arrays(np.float64, M.shape[0], elements=st.floats(-100, 100)))
    return M, x


# ------------------------------------------------------- projector, barycenter
@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_centering_projector(n):
    P = ht.centring_projector(n)
    assert P.shape == (n, n) and P.dtype == np.float64
    np.testing.assert_allclose(P, np.eye(n) - np.ones((n, n)) / n, atol=1e-15)
    np.testing.assert_allclose(P, P.T, atol=0)
    np.testing.assert_allclose(P @ P, P, atol=1e-14)
    np.testing.assert_allclose(P @ np.ones(n), 0, atol=1e-14)
    assert np.trace(P) == pytest.approx(n - 1)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_uniform_barycenter_is_centroid_of_permutations(n):
    J = ht.uniform_barycenter(n)
    assert J.shape == (n, n) and J.dtype == np.float64
    np.testing.assert_allclose(J, np.full((n, n), 1 / n), atol=1e-15)
    centroid = sum(perm_matrix(p) for p in itertools.permutations(range(n))) / math.factorial(n)
    np.testing.assert_allclose(J, centroid, atol=1e-14)
    np.testing.assert_allclose(J + ht.centring_projector(n), np.eye(n), atol=1e-15)


@pytest.mark.parametrize("n", [np.int64(5), np.int32(2)])
def test_numpy_integer_n_accepted(n):
    assert ht.centring_projector(n).shape == (int(n), int(n))
    assert ht.uniform_barycenter(n).shape == (int(n), int(n))


# ------------------------------------------------------------ detail / mean
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=st.floats(-1e3, 1e3)))
def test_detail_and_mean_part(x):
    d, m = ht.detail(x), ht.mean_part(x)
    assert d.shape == x.shape and m.shape == x.shape
    np.testing.assert_allclose(d, x - x.mean(axis=-1, keepdims=True), atol=1e-9)
    np.testing.assert_allclose(m, np.broadcast_to(x.mean(axis=-1, keepdims=True), x.shape), atol=1e-9)
    np.testing.assert_allclose(d + m, x, atol=1e-9)
    np.testing.assert_allclose(d.sum(axis=-1), 0, atol=1e-9)
    # d lies in V_perp, m in span{1}: orthogonal
    np.testing.assert_allclose(np.sum(d * m, axis=-1), 0, atol=1e-6)


def test_detail_matches_projector():
    x = np.random.default_rng(1).standard_normal((3, 7))
    np.testing.assert_allclose(ht.detail(x), x @ ht.centring_projector(7).T, atol=1e-14)
    np.testing.assert_allclose(ht.detail(ht.detail(x)), ht.detail(x), atol=1e-14)


def test_detail_accepts_lists_and_ints():
    np.testing.assert_allclose(ht.detail([1, 2, 3]), [-1.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(ht.mean_part([1, 2, 3]), [2.0, 2.0, 2.0], atol=1e-15)


# --------------------------------------------------------- Lemma 1 (Hypothesis)
@given(dsm_and_vector())
def test_lemma1_vperp_invariant_under_M_and_MT(Mx):
    M, x = Mx
    xp = x - x.mean()
    scale = max(1.0, np.abs(x).max())
    assert abs(np.sum(M @ xp)) <= 1e-9 * scale * len(x)
    assert abs(np.sum(M.T @ xp)) <= 1e-9 * scale * len(x)


@given(dsm_and_vector())
def test_lemma1_mean_preserved(Mx):
    M, x = Mx
    scale = max(1.0, np.abs(x).max())
    assert (M @ x).mean() == pytest.approx(x.mean(), abs=1e-9 * scale)
    np.testing.assert_allclose(ht.mean_part(M @ x), ht.mean_part(x), atol=1e-9 * scale)
    np.testing.assert_allclose(M @ x, ht.mean_part(x) + M @ ht.detail(x), atol=1e-9 * scale)


@given(sinkhorn_dsms())
def test_lemma1_M_minus_barycenter_equals_PMP(M):
    n = M.shape[0]
    P = ht.centring_projector(n)
    np.testing.assert_allclose(M - ht.uniform_barycenter(n), P @ M @ P, atol=1e-9)


@given(sinkhorn_dsms(), st.integers(1, 5))
def test_lemma1_powers(M, k):
    """(M - J/n)^k = M^k - J/n."""
    n = M.shape[0]
    J = ht.uniform_barycenter(n)
    np.testing.assert_allclose(np.linalg.matrix_power(M - J, k), np.linalg.matrix_power(M, k) - J, atol=1e-9)


@given(dsm_and_vector())
def test_detail_contraction_by_sigma2(Mx):
    """Lemma 2: ||M x_perp|| <= sigma2(M) ||x_perp||."""
    M, x = Mx
    xp = ht.detail(x)
    assert np.linalg.norm(M @ xp) <= float(ht.sigma2(M)) * np.linalg.norm(xp) + 1e-9 * max(1, np.abs(x).max())


# ------------------------------------------------------------- marginal error
def test_marginal_error_independent_computation():
    rng = np.random.default_rng(2)
    A = rng.random((2, 3, 5, 5))
    expected = np.maximum(np.abs(A.sum(-1) - 1).max(-1), np.abs(A.sum(-2) - 1).max(-1))
    got = ht.marginal_error(A)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got, expected, atol=1e-15)


def test_marginal_error_rows_and_columns_both_count():
    M = np.full((3, 3), 1 / 3)
    R = M.copy()
    R[0, :] += 0.01  # rows: first off by 0.03, columns: each off by 0.01
    assert float(ht.marginal_error(R)) == pytest.approx(0.03)
    assert float(ht.marginal_error(R.T)) == pytest.approx(0.03)
    C = M.copy()
    C[:, 1] *= 1.5  # column 1 off by 0.5, rows off by 1/6
    assert float(ht.marginal_error(C)) == pytest.approx(0.5)
    assert float(ht.marginal_error(M)) == pytest.approx(0.0, abs=1e-15)


@given(sinkhorn_dsms())
def test_marginal_error_of_sinkhorn_output_is_small(M):
    assert float(ht.marginal_error(M)) <= 1e-10 + 1e-15


# -------------------------------------------------------- is_doubly_stochastic
def test_is_doubly_stochastic_positive_cases():
    assert bool(ht.is_doubly_stochastic(np.eye(4)))
    assert bool(ht.is_doubly_stochastic(perm_matrix([2, 0, 1])))
    assert bool(ht.is_doubly_stochastic(np.full((5, 5), 0.2)))
    assert bool(ht.is_doubly_stochastic(np.array([[1.0]])))
    assert bool(ht.is_doubly_stochastic(ht.random_dsm(6, 0.3, rng=3)))


def test_is_doubly_stochastic_rejects_negative_entries_with_correct_marginals():
    n = 3
    d = 0.5  # > 1/n, so entries become negative while all marginals stay exactly 1
    M = np.full((n, n), 1 / n)
    M[0, 0] += d
    M[1, 1] += d
    M[0, 1] -= d
    M[1, 0] -= d
    assert float(ht.marginal_error(M)) < 1e-15
    assert M.min() < 0
    assert not bool(ht.is_doubly_stochastic(M))


def test_is_doubly_stochastic_atol():
    M = np.full((4, 4), 0.25)
    M[0, 0] += 1e-6  # marginal error 1e-6
    assert not bool(ht.is_doubly_stochastic(M))
    assert bool(ht.is_doubly_stochastic(M, atol=1e-5))
    N = np.eye(3)
    N[0, 0], N[0, 1], N[1, 1], N[1, 0] = 1 + 1e-7, -1e-7, 1 + 1e-7, -1e-7  # tiny negative entries
    assert not bool(ht.is_doubly_stochastic(N))
    assert bool(ht.is_doubly_stochastic(N, atol=1e-6))


def test_is_doubly_stochastic_batch_and_non_dsm():
    rng = np.random.default_rng(4)
    stack = np.stack([ht.random_dsm(4, 1.0, rng=5), rng.random((4, 4)), np.eye(4)]).reshape(3, 1, 4, 4)
    got = ht.is_doubly_stochastic(stack)
    assert got.shape == (3, 1)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got[:, 0], [True, False, True])
    # row-stochastic but not column-stochastic
    R = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert not bool(ht.is_doubly_stochastic(R))


# ---------------------------------------------------------- permutation_matrix
@pytest.mark.parametrize("n", [1, 2, 5])
def test_permutation_matrix(n):
    rng = np.random.default_rng(n)
    perm = rng.permutation(n)
    P = ht.permutation_matrix(perm)
    assert P.shape == (n, n)
    for i in range(n):
        for j in range(n):
            assert P[i, j] == (1.0 if perm[i] == j else 0.0)
    x = rng.standard_normal(n)
    np.testing.assert_allclose(P @ x, x[perm], atol=0)
    assert bool(ht.is_doubly_stochastic(P))


def test_permutation_matrix_composition_and_inverse():
    rng = np.random.default_rng(6)
    p, q = rng.permutation(6), rng.permutation(6)
    np.testing.assert_array_equal(ht.permutation_matrix(p) @ ht.permutation_matrix(q), ht.permutation_matrix(q[p]))
    np.testing.assert_array_equal(ht.permutation_matrix(np.argsort(p)), ht.permutation_matrix(p).T)


def test_permutation_matrix_accepts_lists_and_tuples():
    np.testing.assert_array_equal(ht.permutation_matrix([1, 2, 0]), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(ht.permutation_matrix((0, 1)), np.eye(2))


def test_double_centre_is_PXP_and_batched():
    X = np.random.default_rng(11).standard_normal((3, 5, 5))
    P = ht.centring_projector(5)
    np.testing.assert_allclose(ht.double_centre(X), P @ X @ P, atol=1e-14)
    np.testing.assert_allclose(ht.double_centre(X).sum(axis=-1), 0, atol=1e-13)
    np.testing.assert_allclose(ht.double_centre(X).sum(axis=-2), 0, atol=1e-13)


def test_detail_basis_and_block():
    Q = ht.detail_basis(6)
    np.testing.assert_allclose(Q.T @ Q, np.eye(5), atol=1e-14)
    np.testing.assert_allclose(Q.T @ np.ones(6), 0, atol=1e-14)
    np.testing.assert_allclose(Q @ Q.T, ht.centring_projector(6), atol=1e-14)
    M = ht.random_dsm(6, 0.5, size=3, rng=13)
    B = ht.detail_block(M)
    s = np.linalg.svd(M, compute_uv=False)
    np.testing.assert_allclose(np.linalg.svd(B, compute_uv=False), s[:, 1:], atol=1e-9)
    with pytest.raises(ValueError, match="n"):
        ht.detail_basis(1)


def test_circulant_entropy_cosine():
    c = np.array([0.5, 0.3, 0.2])
    C = ht.circulant(c)
    np.testing.assert_array_equal(C, [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.2, 0.5]])
    assert ht.circulant(np.stack([c, c])).shape == (2, 3, 3)
    assert ht.entropy(np.full((4, 4), 0.25)) == pytest.approx(4 * np.log(4))
    assert ht.entropy(np.eye(3)) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        ht.entropy(-np.eye(2))
    assert ht.cosine([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / np.sqrt(2))
    with pytest.raises(ValueError, match="zero"):
        ht.cosine([0.0, 0.0], [1.0, 0.0])
