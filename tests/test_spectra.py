"""Tests of homtrap._spectra: sigma2, lambda2, singular_values, detail_factor, sigma2_gap and friends.

Oracles: numpy's SVD and eigenvalues, closed forms (2x2 DSMs, permutations, J/n,
circulants, the primitive-but-sigma2=1 counterexample of Remark C) and the statements
of Lemma 1 / Lemma 2 of the paper map (checked as properties with Hypothesis).
"""

import itertools

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht
from _helpers import dsm_and_vector, naive_detail_factor, naive_softmax, perm_matrix, sinkhorn_dsms

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

COUNTEREXAMPLE = np.array(
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
)


# --------------------------------------------------------------------- helpers
def svd_sigma2(M):
    return np.linalg.svd(M, compute_uv=False)[..., 1]


def eig_lambda2(M):
    return np.sort(np.abs(np.linalg.eigvals(M)), axis=-1)[..., ::-1][..., 1]


def circulant_dsm(c):
    """Circulant matrix with first row c (c >= 0, sum 1): row i is c rolled by i."""
    return np.stack([np.roll(c, i) for i in range(len(c))])


def birkhoff_mixture(rng, n, k):
    """An exact DSM built without Sinkhorn: a convex combination of k random permutations."""
    w = rng.dirichlet(np.ones(k))
    return sum(wi * perm_matrix(rng.permutation(n)) for wi in w)


@st.composite
def mixture_dsms(draw):
    n = draw(st.integers(2, 8))
    k = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    return birkhoff_mixture(np.random.default_rng(seed), n, k)


any_dsm = st.one_of(sinkhorn_dsms(), mixture_dsms())


# ------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("p", [0.0, 0.1, 0.25, 0.5, 0.77, 0.999, 1.0])
def test_two_by_two_closed_form(p):
    M = np.array([[p, 1 - p], [1 - p, p]])
    assert ht.sigma2(M) == pytest.approx(abs(2 * p - 1), abs=1e-12)
    assert ht.lambda2(M) == pytest.approx(abs(2 * p - 1), abs=1e-12)
    np.testing.assert_allclose(ht.singular_values(M), [1.0, abs(2 * p - 1)], atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_permutation_matrices(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        P = perm_matrix(rng.permutation(n))
        np.testing.assert_allclose(ht.singular_values(P), np.ones(n), atol=1e-12)
        assert ht.sigma2(P) == pytest.approx(1.0, abs=1e-12)
        assert ht.lambda2(P) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("n", [2, 3, 8, 64])
def test_uniform_barycenter_has_sigma2_zero(n):
    J = np.full((n, n), 1.0 / n)
    assert ht.sigma2(J) == pytest.approx(0.0, abs=1e-12)
    assert ht.lambda2(J) == pytest.approx(0.0, abs=1e-10)
    expected = np.zeros(n)
    expected[0] = 1
    np.testing.assert_allclose(ht.singular_values(J), expected, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13])
def test_circulant_singular_values_are_dft_moduli(n):
    rng = np.random.default_rng(100 + n)
    c = rng.random(n)
    c /= c.sum()
    M = circulant_dsm(c)
    moduli = np.sort(np.abs(np.fft.fft(c)))[::-1]
    np.testing.assert_allclose(ht.singular_values(M), moduli, atol=1e-12)
    assert ht.sigma2(M) == pytest.approx(moduli[1], abs=1e-12)
    # circulants are normal, so eigenvalue moduli equal singular values
    assert ht.lambda2(M) == pytest.approx(moduli[1], abs=1e-10)


def test_counterexample_primitive_but_sigma2_one():
    M = COUNTEREXAMPLE
    np.testing.assert_allclose(M @ M, np.full((4, 4), 0.25), atol=1e-15)  # primitive
    assert ht.sigma2(M) == pytest.approx(1.0, abs=1e-12)
    # M - J/4 is nilpotent of order 2, so eigenvalues are 0 (computed ones are ~sqrt(eps))
    assert ht.lambda2(M) == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_allclose(ht.singular_values(M), [1.0, 1.0, 0.0, 0.0], atol=1e-12)
    assert bool(ht.is_doubly_stochastic(M))


@pytest.mark.parametrize("blocks", [(2, 2), (1, 3), (2, 3, 1)])
def test_block_diagonal_dsm_has_sigma2_one(blocks):
    M = scipy.linalg.block_diag(*[np.full((b, b), 1.0 / b) for b in blocks])
    assert ht.sigma2(M) == pytest.approx(1.0, abs=1e-12)
    assert ht.lambda2(M) == pytest.approx(1.0, abs=1e-10)


# --------------------------------------------------------------- numpy oracles
@pytest.mark.parametrize("T", [0.05, 0.3, 1.0, 10.0])
@pytest.mark.parametrize("n", [2, 3, 8, 64])
def test_sinkhorn_dsm_against_numpy(n, T):
    M = ht.random_dsm(n, T, size=4, rng=n * 1000 + int(100 * T))
    np.testing.assert_allclose(ht.sigma2(M), svd_sigma2(M), atol=1e-10, rtol=0)
    np.testing.assert_allclose(ht.lambda2(M), eig_lambda2(M), atol=1e-8, rtol=0)
    np.testing.assert_allclose(ht.singular_values(M), np.linalg.svd(M, compute_uv=False), atol=1e-12, rtol=0)


@pytest.mark.parametrize("T", [1e3, 1e6])
def test_small_sigma2_keeps_relative_accuracy(T):
    """High temperature: sigma2 ~ 1/T is tiny; compare relatively with the SVD."""
    M = ht.random_dsm(16, T, size=3, rng=7)
    np.testing.assert_allclose(ht.sigma2(M), svd_sigma2(M), rtol=1e-6, atol=0)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_general_matrices_against_numpy(n):
    rng = np.random.default_rng(200 + n)
    A = rng.standard_normal((5, n, n))
    np.testing.assert_allclose(ht.singular_values(A), np.linalg.svd(A, compute_uv=False), atol=1e-12, rtol=0)
    np.testing.assert_allclose(ht.sigma2(A), svd_sigma2(A), atol=1e-12, rtol=0)


def test_lambda2_of_non_dsm_is_second_eigenvalue_modulus():
    rng = np.random.default_rng(210)
    A = rng.random((4, 5, 5))  # positive, not doubly stochastic
    np.testing.assert_allclose(ht.lambda2(A), eig_lambda2(A), atol=1e-10, rtol=0)


def test_singular_values_descending_and_shape():
    A = np.random.default_rng(211).standard_normal((2, 3, 4, 4))
    s = ht.singular_values(A)
    assert s.shape == (2, 3, 4)
    assert np.all(np.diff(s, axis=-1) <= 0)
    assert np.all(s >= 0)


# ------------------------------------------------------------- sigma2 fallback
def test_sigma2_of_gaussian_matrix_uses_svd_not_lemma2():
    rng = np.random.default_rng(300)
    A = rng.standard_normal((6, 6))
    lemma2 = np.linalg.norm(A - 1 / 6, 2)
    assert abs(lemma2 - svd_sigma2(A)) > 1e-2  # the two genuinely differ here
    assert ht.sigma2(A) == pytest.approx(svd_sigma2(A), abs=1e-12)
    assert ht.sigma2(A, assume_doubly_stochastic=False) == pytest.approx(svd_sigma2(A), abs=1e-12)


def test_sigma2_of_truncated_sinkhorn_uses_svd():
    """One Sinkhorn sweep at low temperature: only approximately doubly stochastic."""
    rng = np.random.default_rng(301)
    G = rng.standard_normal((8, 8))
    res = ht.sinkhorn_solve(G, 0.05, max_iter=1)
    M = res.matrix
    assert not bool(res.converged)
    assert abs(np.linalg.norm(M - 1 / 8, 2) - svd_sigma2(M)) > 1e-6
    assert ht.sigma2(M) == pytest.approx(svd_sigma2(M), abs=1e-12)
    assert ht.sigma2(M, assume_doubly_stochastic=False) == pytest.approx(svd_sigma2(M), abs=1e-12)


def test_sigma2_mixed_batch():
    rng = np.random.default_rng(302)
    dsm = ht.random_dsm(5, 0.5, rng=1)
    gauss = rng.standard_normal((5, 5))
    stack = np.stack([dsm, gauss, perm_matrix([1, 0, 2, 4, 3])])
    np.testing.assert_allclose(ht.sigma2(stack), svd_sigma2(stack), atol=1e-10, rtol=0)


@pytest.mark.parametrize("assume", [None, True, False])
def test_sigma2_assume_flag_on_dsm_agrees_with_svd(assume):
    M = ht.random_dsm(7, 0.4, size=3, rng=303)
    np.testing.assert_allclose(ht.sigma2(M, assume_doubly_stochastic=assume), svd_sigma2(M), atol=1e-10)


# ------------------------------------------------------------------- batching
def test_batching_equals_looping():
    M = ht.random_dsm(5, 0.3, size=(2, 3), rng=400)
    s2, l2, sv = ht.sigma2(M), ht.lambda2(M), ht.singular_values(M)
    assert s2.shape == (2, 3) and l2.shape == (2, 3) and sv.shape == (2, 3, 5)
    for i, j in itertools.product(range(2), range(3)):
        assert s2[i, j] == pytest.approx(float(ht.sigma2(M[i, j])), abs=1e-14)
        assert l2[i, j] == pytest.approx(float(ht.lambda2(M[i, j])), abs=1e-14)
        np.testing.assert_allclose(sv[i, j], ht.singular_values(M[i, j]), atol=1e-14)


def test_single_matrix_returns_scalar_shape():
    M = ht.random_dsm(4, 1.0, rng=401)
    assert np.shape(ht.sigma2(M)) == ()
    assert np.shape(ht.lambda2(M)) == ()
    assert float(ht.sigma2(M)) == pytest.approx(svd_sigma2(M), abs=1e-12)


# --------------------------------------------- Lemma 1 / Lemma 2 (Hypothesis)
@given(any_dsm)
def test_lemma1_sigma1_is_one_with_singular_vector_ones(M):
    n = M.shape[0]
    e = np.ones(n) / np.sqrt(n)
    assert ht.singular_values(M)[0] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(M @ e, e, atol=1e-9)
    np.testing.assert_allclose(M.T @ e, e, atol=1e-9)
    assert np.linalg.norm(M, 2) == pytest.approx(1.0, abs=1e-9)


@given(any_dsm)
def test_lemma2_sigma2_equals_distance_to_barycenter_and_restricted_norm(M):
    n = M.shape[0]
    Q = scipy.linalg.null_space(np.ones((1, n)))  # orthonormal basis of V_perp
    s2 = float(ht.sigma2(M))
    assert s2 == pytest.approx(svd_sigma2(M), abs=1e-9)
    assert s2 == pytest.approx(np.linalg.norm(M - 1 / n, 2), abs=1e-9)
    assert s2 == pytest.approx(np.linalg.norm(Q.T @ M @ Q, 2), abs=1e-9)
    assert 0.0 <= s2 <= 1.0 + 1e-12


@given(any_dsm)
def test_lambda2_bounded_by_sigma2(M):
    # eigenvalues of defective (non-normal) matrices are only accurate to ~eps**(1/m)
    assert float(ht.lambda2(M)) <= float(ht.sigma2(M)) + 1e-4
    assert float(ht.lambda2(M)) == pytest.approx(eig_lambda2(M), abs=1e-4)


@given(sinkhorn_dsms())
def test_sigma2_below_one_for_strictly_positive_dsm(M):
    """If every entry is >= m then M = nm J/n + (1 - nm) R with R a DSM, so sigma2 <= 1 - n m."""
    n = M.shape[0]
    m = M.min()
    assert m > 0
    assert float(ht.sigma2(M)) <= 1 - n * m + 1e-9
    if n * m > 1e-6:
        assert float(ht.sigma2(M)) < 1


@given(any_dsm, st.integers(0, 2**32 - 1), st.floats(np.log(0.05), np.log(50.0)).map(np.exp))
def test_sigma2_submultiplicative(A, seed, T):
    n = A.shape[0]
    B = ht.random_dsm(n, T, rng=seed)
    assert float(ht.sigma2(A @ B)) <= float(ht.sigma2(A)) * float(ht.sigma2(B)) + 1e-9
    assert float(ht.sigma2(B @ A)) <= float(ht.sigma2(A)) * float(ht.sigma2(B)) + 1e-9


@given(any_dsm, st.integers(1, 6))
def test_matrix_power_decay_bounded_between_lambda2_and_sigma2(M, k):
    """||M^k - J/n||_2 lies in [|lambda2|^k, sigma2^k] for a DSM."""
    n = M.shape[0]
    d = np.linalg.norm(np.linalg.matrix_power(M, k) - 1 / n, 2)
    assert d <= float(ht.sigma2(M)) ** k + 1e-9
    assert d >= float(ht.lambda2(M)) ** k - 1e-4


def test_sigma_rms_is_rms_of_detail_singular_values():
    M = ht.random_dsm(9, 0.6, size=4, rng=12)
    s = np.linalg.svd(M, compute_uv=False)[:, 1:]
    np.testing.assert_allclose(ht.sigma_rms(M), np.sqrt((s**2).mean(axis=1)), atol=1e-10)
    assert ht.sigma_rms(np.full((4, 4), 0.25)) == 0.0


def test_departure_from_normality():
    assert ht.departure_from_normality(ht.circulant(np.array([0.6, 0.3, 0.1]))) == pytest.approx(0.0, abs=1e-15)
    M = ht.random_dsm(5, 0.5, rng=14)
    assert ht.departure_from_normality(M) == pytest.approx(np.linalg.norm(M @ M.T - M.T @ M))


@pytest.mark.parametrize("n", [2, 5, 23, 24, 64])
def test_sigma2_exact_at_the_extremes_on_both_eigen_routes(n):
    """J/n has sigma2 exactly 0 and a permutation exactly 1, below and above the dsyevx switch."""
    P = ht.permutation_matrix(np.random.default_rng(n).permutation(n))
    assert ht.sigma2(np.full((n, n), 1.0 / n)) == 0.0
    assert ht.sigma2(P) == 1.0
    M = ht.random_dsm(n, 0.7, size=7, rng=n)
    np.testing.assert_allclose(ht.sigma2(M), np.linalg.svd(M, compute_uv=False)[:, 1], atol=1e-12)


# ------------------------------------------------- detail_factor and the large-n route
# Oracles: np.linalg.norm(P M P, 2) and np.linalg.svd (dense LAPACK), and matrices built
# as J/n + U diag(s) V^T with U, V orthonormal in the mean-free subspace, whose detail
# factor is s[0] by construction. The large-n (Lanczos) route promises 1e-9 * max(1, value)
# (homtrap.detail_factor, Notes): that is the tolerance used for it.
LARGE_TOL = 1e-9
N_LARGE = ht._spectra._LANCZOS_MIN_N  # first size on the Lanczos route


def mean_free_frame(n, rng, first=None):
    """An orthonormal (n, n-1) basis of the mean-free subspace; ``first`` (mean-free, unit) is its first column."""
    X = rng.standard_normal((n, n - 1))
    if first is not None:
        X[:, 0] = first
    X -= X.mean(axis=0)
    Q, _ = np.linalg.qr(X)
    return Q


def with_detail_spectrum(s, rng, top_right=None):
    """J/n + U diag(s) V^T: its P M P is U diag(s) V^T, so its detail factor is max(s)."""
    n = len(s) + 1
    U, V = mean_free_frame(n, rng), mean_free_frame(n, rng, top_right)
    return 1.0 / n + (U * s) @ V.T


def test_large_route_threshold_is_in_the_tested_range():
    assert 2 < N_LARGE <= 1000  # the sizes below exercise both routes


@pytest.mark.parametrize("n", [2, 5, 30, N_LARGE, N_LARGE + 88])
def test_detail_factor_of_dsm_is_sigma2(n):
    M = ht.random_dsm(n, 0.8, rng=500 + n)
    ref = svd_sigma2(M)
    tol = LARGE_TOL if n >= N_LARGE else 1e-12
    assert float(ht.detail_factor(M)) == pytest.approx(ref, abs=tol * max(1.0, ref))
    assert float(ht.sigma2(M)) == pytest.approx(ref, abs=tol * max(1.0, ref))
    if n >= N_LARGE:  # the value came from Lanczos itself, not from its dense fallback
        lanczos = ht._spectra._lanczos_norm(M - 1.0 / n)
        assert lanczos is not None and lanczos == pytest.approx(ref, abs=LARGE_TOL * max(1.0, ref))


@pytest.mark.parametrize("n", [4, 40, N_LARGE])
def test_detail_factor_of_row_stochastic_matrix(n):
    """Softmax attention: the detail factor is ||PWP||, not sigma_2 (control: the two differ)."""
    W = naive_softmax(np.random.default_rng(600 + n).standard_normal((n, n)) * 2.0)
    ref = naive_detail_factor(W)
    assert abs(ref - svd_sigma2(W)) > 1e-6  # the quantities genuinely differ here
    tol = LARGE_TOL if n >= N_LARGE else 1e-12
    assert float(ht.detail_factor(W)) == pytest.approx(ref, abs=tol * max(1.0, ref))
    # sigma2 sees a non-doubly-stochastic matrix and takes the SVD: the true sigma_2
    assert float(ht.sigma2(W)) == pytest.approx(svd_sigma2(W), abs=1e-12)


@pytest.mark.parametrize("n", [3, 50, N_LARGE])
def test_detail_factor_of_general_matrix(n):
    """Any real square matrix, norms above 1 included (relative tolerance then)."""
    A = 3.0 * np.random.default_rng(700 + n).standard_normal((n, n))
    ref = naive_detail_factor(A)
    assert ref > 1.0
    tol = LARGE_TOL if n >= N_LARGE else 1e-12
    assert float(ht.detail_factor(A)) == pytest.approx(ref, abs=tol * ref)


@pytest.mark.parametrize("n", [2, 7, 64, N_LARGE, N_LARGE + 88])
def test_detail_factor_exact_on_permutations_and_barycenter(n):
    """Exact by construction: ||P Pi P|| = 1 (Pi orthogonal, commutes with P) and P (J/n) P = 0."""
    Pi = perm_matrix(np.random.default_rng(800 + n).permutation(n))
    J = np.full((n, n), 1.0 / n)
    assert ht.detail_factor(Pi) == 1.0
    assert ht.detail_factor(J) == 0.0
    assert ht.sigma2(Pi) == 1.0
    assert ht.sigma2(J) == 0.0
    np.testing.assert_array_equal(ht.detail_factor(np.stack([Pi, J, Pi])), [1.0, 0.0, 1.0])


def test_detail_factor_of_one_by_one_is_zero():
    assert ht.detail_factor(np.array([[0.7]])) == 0.0


@pytest.mark.parametrize("n", [40, N_LARGE])
def test_detail_factor_known_spectrum(n):
    """J/n + U diag(s) V^T has detail factor s[0] exactly in exact arithmetic (oracle without an SVD)."""
    rng = np.random.default_rng(900 + n)
    s = np.sort(rng.uniform(0.0, 0.4, n - 1))[::-1]
    s[0] = 0.45
    M = with_detail_spectrum(s, rng)
    tol = LARGE_TOL if n >= N_LARGE else 1e-12
    assert float(ht.detail_factor(M)) == pytest.approx(0.45, abs=tol)


@pytest.mark.parametrize("n", [60, N_LARGE])
def test_detail_factor_clustered_top_singular_values(n):
    """Top two detail singular values 1e-8 apart: returning the second would fail the tolerance."""
    rng = np.random.default_rng(1000 + n)
    s = np.sort(rng.uniform(0.0, 0.4, n - 1))[::-1]
    s[0], s[1] = 0.5, 0.5 - 1e-8
    assert s[0] - s[1] > 5 * LARGE_TOL  # control: the cluster is resolved only by a correct method
    M = with_detail_spectrum(s, rng)
    assert float(ht.detail_factor(M)) == pytest.approx(0.5, abs=LARGE_TOL)
    assert float(ht.sigma2(M, assume_doubly_stochastic=True)) == pytest.approx(0.5, abs=LARGE_TOL)


def test_large_route_falls_back_to_dense_when_lanczos_does_not_converge(monkeypatch):
    """Two Lanczos steps cannot reach the residual target: the dense route must give the value."""
    M = ht.random_dsm(N_LARGE, 1.0, rng=1100)
    ref = svd_sigma2(M)
    monkeypatch.setattr(ht._spectra, "_LANCZOS_MAX_STEPS", 2)
    assert ht._spectra._lanczos_norm(M - 1.0 / N_LARGE) is None  # control: Lanczos alone gives up
    assert float(ht.detail_factor(M)) == pytest.approx(ref, abs=1e-12)
    assert float(ht.sigma2(M)) == pytest.approx(ref, abs=1e-12)


def test_large_route_low_rank_detail_block():
    """A rank-3 detail block: Lanczos meets an invariant subspace (beta at rounding level) and stops there."""
    rng = np.random.default_rng(1150)
    n = N_LARGE
    s = np.zeros(n - 1)
    s[:3] = [0.7, 0.3, 0.1]
    M = with_detail_spectrum(s, rng)
    assert float(ht.detail_factor(M)) == pytest.approx(0.7, abs=LARGE_TOL)


def test_large_route_batches_and_determinism():
    rng = np.random.default_rng(1300)
    n = N_LARGE
    dsm = ht.random_dsm(n, 1.5, rng=rng)
    W = naive_softmax(rng.standard_normal((n, n)))
    stack = np.stack([dsm, W, np.eye(n)]).reshape(3, 1, n, n)
    f = ht.detail_factor(stack)
    assert f.shape == (3, 1)
    ref = [naive_detail_factor(m) for m in stack[:2, 0]]
    np.testing.assert_allclose(f[:2, 0], ref, atol=LARGE_TOL, rtol=0)
    assert f[2, 0] == 1.0  # the identity is a permutation: exactly 1
    # the start vector is seeded: the same input gives the same bits
    np.testing.assert_array_equal(ht.detail_factor(stack), f)
    assert float(ht.detail_factor(dsm)) == f[0, 0]
    s = ht.sigma2(stack[[0, 2]])
    np.testing.assert_allclose(s[:, 0], [ref[0], 1.0], atol=LARGE_TOL, rtol=0)  # DSM: sigma_2 = ||PMP|| (Lemma 2)


def test_detail_factor_small_batches_equal_looping():
    M = np.random.default_rng(1400).random((2, 3, 6, 6))
    f = ht.detail_factor(M)
    assert f.shape == (2, 3)
    for i, j in itertools.product(range(2), range(3)):
        assert f[i, j] == pytest.approx(naive_detail_factor(M[i, j]), abs=1e-12)


@pytest.mark.parametrize(
    "bad, exc, problem",
    [
        (np.ones((3, 4)), ValueError, r"must be square in its last two axes, got shape \(3, 4\)"),
        (np.ones(3), ValueError, r"must have at least 2 dimensions \(\.\.\., n, n\), got shape \(3,\)"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, r"must be finite; found 1 NaN/inf"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, r"must be finite; found 1 NaN/inf"),
        (np.eye(2) + 0j, TypeError, r"must be real, got a complex array"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, r"must be a real numeric array, got dtype <U1"),
        (np.eye(2, dtype=bool), TypeError, r"must be a real numeric array, got a boolean array"),
        (np.zeros((0, 0)), ValueError, r"must not be empty, got shape \(0, 0\)"),
    ],
    ids=["non-square", "1-D", "nan", "inf", "complex", "str", "bool", "empty"],
)
def test_detail_factor_bad_input_names_argument(bad, exc, problem):
    with pytest.raises(exc, match=rf"\bM {problem}"):
        ht.detail_factor(bad)


def test_sigma2_bad_flag_names_argument():
    with pytest.raises(TypeError, match=r"\bassume_doubly_stochastic must be None, True or False, got 'yes'"):
        ht.sigma2(np.eye(3), assume_doubly_stochastic="yes")


# ---------------------------------------------------------------------------- Lemma 2 on vectors
@given(dsm_and_vector())
def test_detail_contraction_by_sigma2(Mx):
    """Lemma 2: ||M x_perp|| <= sigma2(M) ||x_perp||."""
    M, x = Mx
    xp = ht.detail(x)
    assert np.linalg.norm(M @ xp) <= float(ht.sigma2(M)) * np.linalg.norm(xp) + 1e-9 * max(1, np.abs(x).max())


# ------------------------------------------------------------------------------------ sigma2_gap
def test_sigma2_gap_accurate_where_sigma2_rounds_to_one():
    M = ht.random_dsm(8, 0.5, size=5, rng=8)
    np.testing.assert_allclose(ht.sigma2_gap(M), 1 - ht.sigma2(M) ** 2, atol=1e-12)
    eps = 1e-20  # a 2x2 DSM with sigma2 = 1 - 2 eps: 1 - sigma2^2 = 4 eps - 4 eps^2
    M2 = np.array([[1 - eps, eps], [eps, 1 - eps]])
    assert ht.sigma2(M2) == 1.0  # rounding
    assert ht.sigma2_gap(M2) == pytest.approx(4 * eps, rel=1e-9)
    with pytest.raises(ValueError, match=r"\bM must be doubly stochastic \(row and column sums within 1e-9 of one, entries >= 0\)"):
        ht.sigma2_gap(np.ones((3, 3)))


# ------------------------------------------------------------------------------ gram_laplacian
def naive_gram_laplacian(M):
    """L_kl = -(M M^T)_kl for k != l, L_kk = sum_{l != k} (M M^T)_kl, by explicit loops."""
    n = M.shape[0]
    W = M @ M.T
    L = np.zeros((n, n))
    for k in range(n):
        for l in range(n):
            if k != l:
                L[k, l] = -W[k, l]
                L[k, k] += W[k, l]
    return L


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_gram_laplacian_against_loops_on_any_matrix(n):
    A = np.random.default_rng(n).standard_normal((3, n, n))  # not doubly stochastic
    L = ht.gram_laplacian(A)
    assert L.shape == (3, n, n)
    for a, lap in zip(A, L):
        np.testing.assert_allclose(lap, naive_gram_laplacian(a), rtol=0, atol=1e-13)
    np.testing.assert_allclose(L, np.swapaxes(L, -1, -2), rtol=0, atol=1e-13)
    np.testing.assert_allclose(L.sum(axis=-1), 0, atol=1e-12)


@pytest.mark.parametrize("T", [0.05, 0.5, 5.0])
def test_gram_laplacian_of_dsm_is_identity_minus_gram_and_gives_the_gap(T):
    M = ht.random_dsm(7, T, size=4, rng=3)
    L = ht.gram_laplacian(M)
    np.testing.assert_allclose(L, np.eye(7) - M @ np.swapaxes(M, -1, -2), rtol=0, atol=1e-9)
    ev = np.linalg.eigvalsh(L)
    assert np.all(ev >= -1e-12)  # positive semi-definite
    np.testing.assert_allclose(ev[:, 1], ht.sigma2_gap(M), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ev[:, 1], 1 - svd_sigma2(M) ** 2, rtol=1e-6, atol=1e-12)
    # control: the largest eigenvalue is a different quantity
    assert not np.allclose(ev[:, -1], 1 - svd_sigma2(M) ** 2, rtol=1e-3)


def test_gram_laplacian_keeps_the_gap_where_one_minus_sigma2_squared_cancels():
    d = 1e-17  # 1 - d rounds to 1: sigma_2 comes out as 1, the gap 4d - 4d^2 only through L
    M = np.array([[1 - d, d], [d, 1 - d]])
    lam = np.linalg.eigvalsh(ht.gram_laplacian(M))[1]
    assert abs(lam - (4 * d - 4 * d**2)) <= 1e-6 * 4 * d
    assert abs((1 - svd_sigma2(M) ** 2) - 4 * d) > 1e-3 * 4 * d  # control: the direct formula loses it


def test_gram_laplacian_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\bM must be square in its last two axes"):
        ht.gram_laplacian(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"\bM must be a real numeric array"):
        ht.gram_laplacian([["a", "b"], ["c", "d"]])


# -------------------------------------------------------------------------- scaled_power_norms
def naive_scaled_power_norms(B, powers):
    """||B^k||_2 / rho(B)^k by numpy.linalg.matrix_power and a dense 2-norm, one power at a time."""
    rho = np.abs(np.linalg.eigvals(B)).max()
    return np.array([np.linalg.norm(np.linalg.matrix_power(B, k), 2) / rho**k for k in powers])


def test_scaled_power_norms_against_matrix_powers_in_any_order():
    B = ht.detail_block(ht.random_dsm(6, 0.2, size=3, rng=4))
    powers = [7, 1, 3, 3, 12]
    got = ht.scaled_power_norms(B, powers)
    assert got.shape == (3, 5)
    for b, row in zip(B, got):
        np.testing.assert_allclose(row, naive_scaled_power_norms(b, powers), rtol=1e-9)
    assert got[:, 2].tolist() == got[:, 3].tolist()


def test_scaled_power_norms_is_the_transient_factor_of_a_dsm():
    """def-nn-transient: on the detail block, kappa_k = ||M^k - J/n||_2 / |lambda_2|^k, kappa_1 = sigma_2/|lambda_2|."""
    M = ht.random_dsm(8, 0.3, size=5, rng=5)
    k = np.arange(1, 11)
    kappa = ht.scaled_power_norms(ht.detail_block(M), k)
    lam = ht.lambda2(M)
    np.testing.assert_allclose(kappa, ht.power_distances(M, 10) / lam[:, None] ** k, rtol=1e-7)
    np.testing.assert_allclose(kappa[:, 0], ht.sigma2(M) / lam, rtol=1e-8)
    assert np.all(kappa >= 1 - 1e-9) and kappa.max() > 1.01  # non-normal: a real transient
    # normal matrices (circulants) have kappa_k = 1: the same check on them has no transient
    C = ht.circulant(np.random.default_rng(6).dirichlet(np.ones(8), size=3))
    np.testing.assert_allclose(ht.scaled_power_norms(ht.detail_block(C), k), 1, rtol=0, atol=1e-9)


def test_scaled_power_norms_of_a_jordan_block():
    a, b = 0.5, 1.0
    got = ht.scaled_power_norms(np.array([[a, b], [0.0, a]]), [1, 10, 50])
    expected = [np.linalg.norm([[1, k * b / a], [0, 1]], 2) for k in (1, 10, 50)]  # (B/a)^k = I + k N/a
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "B, powers, match",
    [
        (np.eye(2), [0, 1], r"\bpowers must be a non-empty 1-D array of integers >= 1"),
        (np.eye(2), [], r"\bpowers must be a non-empty 1-D array of integers >= 1"),
        (np.eye(2), [1.5], r"\bpowers must be a non-empty 1-D array of integers >= 1"),
        (np.eye(2), [[1, 2]], r"\bpowers must be a non-empty 1-D array of integers >= 1"),
        (np.array([[0.0, 1.0], [0.0, 0.0]]), [1], r"\bB must have a positive spectral radius"),
        (np.ones((2, 3)), [1], r"\bB must be square in its last two axes"),
    ],
    ids=["zero", "empty", "float", "2-D", "nilpotent", "non-square"],
)
def test_scaled_power_norms_rejects_bad_input(B, powers, match):
    with pytest.raises(ValueError, match=match):
        ht.scaled_power_norms(B, powers)
