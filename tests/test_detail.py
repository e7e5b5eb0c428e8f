"""Tests of homtrap._detail, the detail subspace V_perp: centring_projector, detail, mean_part,
double_centre, detail_basis, detail_block, cosine, and the parts of Lemma 1 (invariance of
V_perp, mean preservation, M - J/n = P M P) they express.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht
from _helpers import dsm_and_vector, sinkhorn_dsms

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# ------------------------------------------------------- projector, barycenter
@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_centring_projector(n):
    P = ht.centring_projector(n)
    assert P.shape == (n, n) and P.dtype == np.float64
    np.testing.assert_allclose(P, np.eye(n) - np.ones((n, n)) / n, atol=1e-15)
    np.testing.assert_allclose(P, P.T, atol=0)
    np.testing.assert_allclose(P @ P, P, atol=1e-14)
    np.testing.assert_allclose(P @ np.ones(n), 0, atol=1e-14)
    assert np.trace(P) == pytest.approx(n - 1)


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


# ------------------------------------------------------------- marginal error


# -------------------------------------------------------- is_doubly_stochastic


# ---------------------------------------------------------- permutation_matrix


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
    with pytest.raises(ValueError, match=r"\bn must be >= 2, got 1"):
        ht.detail_basis(1)


def test_cosine():
    assert ht.cosine([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / np.sqrt(2))
    with pytest.raises(ValueError, match=r"\bx and y must be non-zero vectors"):
        ht.cosine([0.0, 0.0], [1.0, 0.0])
