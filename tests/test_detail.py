"""Tests of homtrap._detail, the detail subspace V_perp: centring_projector, detail, mean_part,
double_centre, detail_basis, detail_block, cosine, and the parts of Lemma 1 (invariance of
V_perp, mean preservation, M - J/n = P M P) they express; random detail pairs and subspaces, low-rank noise,
block indicators and the within-block detail basis.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht
from _helpers import dsm_and_vector, match_id, sinkhorn_dsms

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


# ------------------------------------------------------ random detail subspaces, low-rank noise
@pytest.mark.parametrize("n, rank", [(2, 1), (5, 2), (16, 15)])
def test_random_detail_subspace_is_an_orthonormal_basis_in_v_perp(n, rank):
    U = ht.random_detail_subspace(n, rank, rng=n + rank)
    assert U.shape == (n, rank)
    np.testing.assert_allclose(U.T @ U, np.eye(rank), atol=1e-13)
    np.testing.assert_allclose(U.sum(axis=0), 0, atol=1e-13)
    np.testing.assert_array_equal(U, ht.random_detail_subspace(n, rank, rng=n + rank))


def test_random_detail_subspace_is_uniform():
    """E[U U^T] = r/(n-1) P for a rotation-invariant subspace; a fixed one is rejected."""
    n, r, draws = 6, 2, 4000
    rng = np.random.default_rng(8)
    projs = np.array([(lambda U: U @ U.T)(ht.random_detail_subspace(n, r, rng=rng)) for _ in range(draws)])
    P = np.eye(n) - np.ones((n, n)) / n
    se = projs.std(axis=0) / np.sqrt(draws)
    assert np.all(np.abs(projs.mean(axis=0) - r / (n - 1) * P) <= 5 * se + 1e-12)
    # control: the span of the first r Helmert columns every time (not uniform) fails the same test
    Q = ht.detail_basis(n)[:, :r]
    assert not np.all(np.abs(Q @ Q.T - r / (n - 1) * P) <= 5 * se + 1e-12)


def test_low_rank_noise_covariance_and_support():
    n, r, draws = 8, 3, 40_000
    U = ht.random_detail_subspace(n, r, rng=1)
    xi = ht.low_rank_noise(U, draws, rng=2)
    assert xi.shape == (draws, n)
    np.testing.assert_allclose(xi - xi @ U @ U.T, 0, atol=1e-12)  # supported on W
    cov = xi.T @ xi / draws
    want = (n - 1) / r * U @ U.T  # default scale: detail power n - 1
    assert np.abs(cov - want).max() < 5 * np.sqrt(2 / draws) * (n - 1) / r
    # control: the covariance of isotropic detail noise P, of the same total power, is rejected
    assert not np.abs(cov - (np.eye(n) - 1 / n)).max() < 5 * np.sqrt(2 / draws) * (n - 1) / r
    xs = ht.low_rank_noise(U, (2, 3), scale=0.5, rng=3)
    assert xs.shape == (2, 3, n)
    np.testing.assert_allclose(xs, 0.5 * np.random.default_rng(3).standard_normal((2, 3, r)) @ U.T, atol=0)
    assert ht.low_rank_noise(U, rng=0).shape == (n,)


@pytest.mark.parametrize(
    "fn, kw, match",
    [
        ("random_detail_subspace", dict(n=1, rank=1), r"\bn must be >= 2, got 1"),
        ("random_detail_subspace", dict(n=4, rank=4), r"\brank must be <= n - 1 = 3"),
        ("random_detail_subspace", dict(n=4, rank=0), r"\brank must be >= 1, got 0"),
        ("random_detail_subspace", dict(n=4, rank=1.5), r"\brank must be an integer"),
        ("low_rank_noise", dict(basis=np.eye(3)[:, :1]), r"\bbasis must have orthonormal columns orthogonal to 1"),
        ("low_rank_noise", dict(basis=2 * ht.detail_basis(3)), r"\bbasis must have orthonormal columns"),
        ("low_rank_noise", dict(basis=np.ones(3)), r"\bbasis must be a 2-D array"),
        ("low_rank_noise", dict(basis=ht.detail_basis(3), scale=0.0), r"\bscale must be > 0"),
        ("low_rank_noise", dict(basis=ht.detail_basis(3), size=0), r"\bsize must be >= 1, got 0"),
    ],
    ids=match_id,
)
def test_subspace_and_noise_bad_input(fn, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(ht, fn)(**kw)


# ------------------------------------------------------ block indicators, within-block detail
def naive_within_block_projector(sizes):
    """I minus the block-mean projector sum_i 1_{I_i} 1_{I_i}^T / m_i, by explicit loops."""
    n = sum(sizes)
    Pr = np.eye(n)
    start = 0
    for m in sizes:
        for i in range(start, start + m):
            for j in range(start, start + m):
                Pr[i, j] -= 1 / m
        start += m
    return Pr


@pytest.mark.parametrize("sizes", [[2, 2], [1, 3, 4], [5], [3, 1]])
def test_block_indicators_and_detail_basis(sizes):
    n, b = sum(sizes), len(sizes)
    Ind = ht.block_indicators(sizes)
    assert Ind.shape == (n, b)
    np.testing.assert_array_equal(Ind.sum(axis=0), sizes)
    np.testing.assert_array_equal(Ind.sum(axis=1), 1)
    QD = ht.block_detail_basis(sizes)
    assert QD.shape == (n, n - b)
    np.testing.assert_allclose(QD.T @ QD, np.eye(n - b), atol=1e-14)
    np.testing.assert_allclose(QD @ QD.T, naive_within_block_projector(sizes), atol=1e-14)
    if b == 1:  # one block: D = V_perp
        np.testing.assert_allclose(QD, ht.detail_basis(n), atol=0)
    # control: V_perp itself is not D when there are several blocks
    if b > 1:
        assert not np.allclose(naive_within_block_projector(sizes), np.eye(n) - 1 / n, atol=1e-14)


def test_block_detail_basis_is_invariant_under_block_diagonal_layers():
    sizes = [3, 5]
    M = ht.block_diagonal([ht.random_dsm(m, 0.5, rng=m) for m in sizes])
    QD, Ind = ht.block_detail_basis(sizes), ht.block_indicators(sizes)
    np.testing.assert_allclose(M @ Ind, Ind, atol=1e-9)
    s_in = max(float(ht.sigma2(ht.random_dsm(m, 0.5, rng=m))) for m in sizes)
    assert np.linalg.norm(QD.T @ M @ QD, 2) == pytest.approx(s_in, abs=1e-9)


@pytest.mark.parametrize(
    "fn, sizes, match",
    [
        ("block_indicators", [], r"\bsizes must be a non-empty sequence"),
        ("block_indicators", 4, r"\bsizes must be a non-empty sequence"),
        ("block_indicators", [2, 0], r"\bsizes must be >= 1, got 0"),
        ("block_detail_basis", [1, 1], r"\bsizes must include a block of size >= 2"),
        ("block_detail_basis", [2.0], r"\bsizes must be an integer"),
    ],
    ids=match_id,
)
def test_block_bad_input(fn, sizes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(ht, fn)(sizes)


# ------------------------------------------------------------------------- random_detail_pair
def test_random_detail_pair_norm_cosine_and_batch():
    a, b = ht.random_detail_pair(10, 0.3, norm=2.5, size=(4, 6), rng=5)
    assert a.shape == b.shape == (4, 6, 10)
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 2.5, rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(b, axis=-1), 2.5, rtol=1e-14)
    np.testing.assert_allclose((a * b).sum(-1) / 2.5**2, 0.3, atol=1e-14)
    np.testing.assert_allclose(a.sum(-1), 0, atol=1e-13)
    np.testing.assert_allclose(b.sum(-1), 0, atol=1e-13)
    c = np.linspace(-1, 1, 7)
    a, b = ht.random_detail_pair(5, c, size=7, rng=1)
    np.testing.assert_allclose((a * b).sum(-1), c, atol=1e-14)
    one = ht.random_detail_pair(5, 0.5, rng=2)
    assert one[0].shape == (5,)


def test_random_detail_pair_is_rotation_invariant():
    """e = a / r is uniform on the sphere of V_perp: E[e e^T] = P / (n - 1); the component f of b is
    uniform on the sphere of V_perp and e^perp: E[f f^T] = P / (n - 1) too. A biased sampler is rejected."""
    n, draws, c = 5, 20_000, 0.6
    a, b = ht.random_detail_pair(n, c, size=draws, rng=9)
    f = (b - c * a) / np.sqrt(1 - c**2)
    P = np.eye(n) - 1 / n
    for v in (a, f):
        outer = v[:, :, None] * v[:, None, :]
        se = outer.std(axis=0) / np.sqrt(draws)
        assert np.all(np.abs(outer.mean(axis=0) - P / (n - 1)) <= 5 * se)
    np.testing.assert_allclose((a * f).sum(-1), 0, atol=1e-13)
    # control: directions drawn from a non-isotropic Gaussian fail the same test
    y = np.random.default_rng(0).standard_normal((draws, n)) * np.arange(1, n + 1)
    e = (y - y.mean(-1, keepdims=True)) / np.linalg.norm(y - y.mean(-1, keepdims=True), axis=-1, keepdims=True)
    outer = e[:, :, None] * e[:, None, :]
    assert not np.all(np.abs(outer.mean(axis=0) - P / (n - 1)) <= 5 * outer.std(axis=0) / np.sqrt(draws))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n=2), r"\bn must be >= 3, got 2"),
        (dict(cosine=1.5), r"\bcosine must lie in \[-1, 1\]"),
        (dict(cosine=[0.1, 0.2]), r"\bcosine must broadcast to size \(3,\)"),
        (dict(cosine=np.nan), r"\bcosine must be finite"),
        (dict(norm=0.0), r"\bnorm must be > 0"),
        (dict(norm="a"), r"\bnorm must be a real number"),
        (dict(size=0), r"\bsize must be >= 1, got 0"),
    ],
    ids=match_id,
)
def test_random_detail_pair_bad_input(kw, match):
    args = dict(n=4, cosine=0.5, size=3, rng=0) | kw
    with pytest.raises((ValueError, TypeError), match=match):
        ht.random_detail_pair(**args)
