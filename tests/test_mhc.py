"""Tests of mHC's H_res model (homtrap._mhc) against independent transcriptions of the
published algorithm: mHC §4.2 Eq. 9 (Xie et al., arXiv 2512.24880) and DeepSeek's reference
``sinkhorn_normalize_ref`` (deepseek-ai/TileKernels, tile_kernels/torch/mhc.py), which is
written here in its own storage layout (comb = H_res transposed) and transposed at the end; and the
bias-only layer M_R with its homogenising range R_hom (prop-mhc-bias) against Sinkhorn and matrix powers."""

import numpy as np
import pytest

import homtrap as ht
from _helpers import match_id, naive_amax

EPS = np.finfo(float).eps


def naive_eq9(L, t_max):
    """mHC Eq. 9 with plain loops: M0 = exp(L); t_max times T_r(T_c(M)). One matrix."""
    n = L.shape[0]
    M = np.exp(L)  # no stabilisation: the test logits are moderate
    for _ in range(t_max):
        for j in range(n):  # T_c: every column divided by its sum
            s = sum(M[i, j] for i in range(n))
            M[:, j] = M[:, j] / s
        for i in range(n):  # T_r: every row divided by its sum, last
            s = sum(M[i, j] for j in range(n))
            M[i, :] = M[i, :] / s
    return M


def naive_columns_last(L, t_max):
    """The control: the same iteration with rows first and columns last."""
    M = np.exp(L)
    for _ in range(t_max):
        M = M / M.sum(axis=1, keepdims=True)
        M = M / M.sum(axis=0, keepdims=True)
    return M


def independent_tilekernels_ref(L, repeat, eps):
    """DeepSeek's sinkhorn_normalize_ref, step for step, in its layout comb = H_res^T."""
    x = L.T.copy()  # comb[m, k]; the layer computes out_k = sum_m comb[m, k] x_m
    x = np.exp(x - x.max(axis=-1, keepdims=True))
    x = x / x.sum(axis=-1, keepdims=True) + eps  # softmax(-1) + eps
    x = x / (x.sum(axis=-2, keepdims=True) + eps)
    for _ in range(repeat - 1):
        x = x / (x.sum(axis=-1, keepdims=True) + eps)
        x = x / (x.sum(axis=-2, keepdims=True) + eps)
    return x.T  # back to H_res orientation


def _logits(shape, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("t_max", [1, 3, 20])
def test_h_res_matches_eq9_transcription_and_is_row_stochastic(t_max):
    L = _logits((3, 4, 4), seed=t_max)
    H = ht.mhc_h_res(L, t_max=t_max)
    for k in range(3):
        np.testing.assert_allclose(H[k], naive_eq9(L[k].copy(), t_max), rtol=1e-12, atol=1e-14)
    # rows last: row sums are one to rounding
    assert np.abs(H.sum(axis=-1) - 1).max() <= 20 * 4 * EPS
    assert H.min() > 0


def test_column_error_decreases_in_t_max_and_rows_stay_exact():
    L = _logits((4, 4), scale=2.0, seed=7)
    errs = [np.abs(ht.mhc_h_res(L, t_max=t).sum(axis=0) - 1).max() for t in (1, 2, 4, 8, 16)]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[0] > 1e-2  # one iteration is visibly not column-stochastic (non-vacuous)


def test_order_matters_control_columns_last_is_column_stochastic_and_different():
    L = _logits((4, 4), scale=2.0, seed=3)
    H = ht.mhc_h_res(L, t_max=5)
    C = naive_columns_last(L, 5)
    assert np.abs(C.sum(axis=0) - 1).max() <= 20 * 4 * EPS  # the control is exact in its columns
    assert np.abs(H.sum(axis=0) - 1).max() > 1e-6  # mHC's order is not
    assert np.abs(H - C).max() > 1e-6  # and the matrices differ
    # and the book's old truncated_sinkhorn is the columns-last control, not mHC
    np.testing.assert_allclose(ht.truncated_sinkhorn(L, sweeps=5), C, atol=1e-13)


@pytest.mark.parametrize("eps", [1e-6, 1e-2])
def test_eps_option_matches_deepseek_reference_kernel(eps):
    L = _logits((5, 4, 4), scale=1.5, seed=11)
    H = ht.mhc_h_res(L, t_max=10, eps=eps)
    for k in range(5):
        np.testing.assert_allclose(H[k], independent_tilekernels_ref(L[k], 10, eps), rtol=1e-12, atol=1e-15)
    # eps > 0 changes the result, and the row sums are s/(s + eps) < 1
    H0 = ht.mhc_h_res(L, t_max=10)
    assert np.abs(H - H0).max() > eps / 100
    assert np.all(H.sum(axis=-1) < 1)


def test_eps_zero_equals_reference_with_eps_zero():
    # with eps = 0 the kernel's steps are exactly Eq. 9 (a check that the two transcriptions agree)
    L = _logits((4, 4), seed=5)
    np.testing.assert_allclose(independent_tilekernels_ref(L, 20, 0.0), naive_eq9(L.copy(), 20), rtol=1e-12)


def test_h_res_batched_over_leading_axes_and_stable_for_large_logits():
    L = _logits((2, 3, 5, 5), seed=2)
    H = ht.mhc_h_res(L)
    assert H.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(H[1, 2], ht.mhc_h_res(L[1, 2]), rtol=0, atol=0)  # same arithmetic per matrix
    # shifting all logits by 700 would overflow a naive exp; the result is shift invariant
    np.testing.assert_allclose(ht.mhc_h_res(L + 700.0), H, rtol=1e-12, atol=1e-15)


def test_h_res_bad_inputs():
    with pytest.raises(ValueError, match=r"\blogits must be square in its last two axes, got shape \(3, 4\)"):
        ht.mhc_h_res(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="logits must be finite"):
        ht.mhc_h_res(np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="t_max must be >= 1"):
        ht.mhc_h_res(np.zeros((2, 2)), t_max=0)
    with pytest.raises(TypeError, match="t_max must be an integer"):
        ht.mhc_h_res(np.zeros((2, 2)), t_max=2.5)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        ht.mhc_h_res(np.zeros((2, 2)), eps=-1e-6)
    with pytest.raises(TypeError, match="eps must be a real number"):
        ht.mhc_h_res(np.zeros((2, 2)), eps="1e-6")
    wide = np.array([[0.0, 0.0], [-2000.0, -2000.0]])  # row 2 of exp(L) underflows after T_c
    with pytest.raises(ValueError, match=r"\blogits span too wide a range: 1 row\(s\) of exp\(logits\) underflow to zero"):
        ht.mhc_h_res(wide)
    # the reference kernel's eps makes the same input well defined
    assert np.all(np.isfinite(ht.mhc_h_res(wide, eps=1e-6)))


def naive_logits(x, phi, alpha, b, norm_eps=0.0):
    """Eqs. 14-16 for one token: flatten, RMS norm, project, reshape row-major, gate, bias."""
    n = x.shape[0]
    flat = x.reshape(-1)
    r = np.sqrt(np.sum(flat**2) / flat.size + norm_eps)
    h = np.array([sum(flat[k] * phi[k, j] for k in range(flat.size)) for j in range(n * n)]) / r
    return alpha * np.array([[h[i * n + j] for j in range(n)] for i in range(n)]) + b


def test_logits_match_transcription_and_batch():
    rng = np.random.default_rng(4)
    n, C = 4, 6
    x = rng.standard_normal((3, n, C))
    phi = rng.standard_normal((n * C, n * n))
    b = rng.standard_normal((n, n))
    L = ht.mhc_logits(x, phi, 0.01, b)
    assert L.shape == (3, n, n)
    for k in range(3):
        np.testing.assert_allclose(L[k], naive_logits(x[k], phi, 0.01, b), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        ht.mhc_logits(x, phi, 0.3, b, norm_eps=1e-6)[1], naive_logits(x[1], phi, 0.3, b, 1e-6), rtol=1e-12
    )
    # scale invariance of the RMS norm (norm_eps = 0): logits do not depend on |x|
    np.testing.assert_allclose(ht.mhc_logits(5.0 * x, phi, 0.01, b), L, rtol=1e-12, atol=1e-14)


def test_logits_bad_inputs():
    n, C = 3, 2
    x, phi, b = np.ones((n, C)), np.ones((n * C, n * n)), np.zeros((n, n))
    with pytest.raises(ValueError, match=r"phi must have shape \(n\*C, n\*n\)"):
        ht.mhc_logits(x, np.ones((n * C, n)), 0.01, b)
    with pytest.raises(ValueError, match=r"b must have shape \(n, n\)"):
        ht.mhc_logits(x, phi, 0.01, np.zeros(n * n))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., n, C\)"):
        ht.mhc_logits(np.ones(n), phi, 0.01, b)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        ht.mhc_logits(x, phi, None, b)
    with pytest.raises(ValueError, match="alpha must be finite"):
        ht.mhc_logits(x, phi, np.inf, b)
    with pytest.raises(ValueError, match=r"\bx has a stream state that is identically zero"):
        ht.mhc_logits(np.zeros((n, C)), phi, 0.01, b)
    assert np.all(np.isfinite(ht.mhc_logits(np.zeros((n, C)), phi, 0.01, b, norm_eps=1e-6)))


def test_amax_gain_matches_definition_and_norms():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((6, 5, 5))
    fwd, bwd = ht.amax_gain(A)
    assert fwd.shape == bwd.shape == (6,)
    for k in range(6):
        f, g = naive_amax(A[k])
        assert fwd[k] == pytest.approx(f, rel=1e-13) and bwd[k] == pytest.approx(g, rel=1e-13)
    # for non-negative matrices they are the induced infinity- and 1-norms
    N = np.abs(A)
    fwd, bwd = ht.amax_gain(N)
    np.testing.assert_allclose(fwd, np.linalg.norm(N, np.inf, axis=(-2, -1)), rtol=1e-13)
    np.testing.assert_allclose(bwd, np.linalg.norm(N, 1, axis=(-2, -1)), rtol=1e-13)
    # on mHC's layer: forward exactly one (rows last), backward above one
    f, g = ht.amax_gain(ht.mhc_h_res(_logits((4, 4), scale=2.0, seed=1), t_max=3))
    assert abs(f - 1) <= 20 * EPS and g > 1 + 1e-6


def test_composite_matches_loop_and_cumulative():
    A = ht.mhc_h_res(_logits((2, 7, 4, 4), seed=8))
    P = ht.mhc_composite(A)
    cum = ht.mhc_composite(A, cumulative=True)
    assert P.shape == (2, 4, 4) and cum.shape == (2, 7, 4, 4)
    for k in range(2):
        Q = np.eye(4)
        for l in range(7):
            Q = A[k, l] @ Q  # later layers on the left
            np.testing.assert_allclose(cum[k, l], Q, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(P[k], Q, rtol=1e-12, atol=1e-15)
    # control: the opposite order is a different matrix for non-commuting layers
    R = np.eye(4)
    for l in range(7):
        R = R @ A[0, l]
    assert np.abs(R - P[0]).max() > 1e-6


def test_amax_and_composite_bad_inputs():
    with pytest.raises(ValueError, match=r"\bM must be square in its last two axes, got shape \(2, 3\)"):
        ht.amax_gain(np.ones((2, 3)))
    with pytest.raises(TypeError, match="M must be real"):
        ht.amax_gain(np.ones((2, 2), dtype=complex))
    with pytest.raises(ValueError, match=r"layers must have shape \(\.\.\., L, n, n\)"):
        ht.mhc_composite(np.eye(3))
    with pytest.raises(TypeError, match="cumulative must be a bool"):
        ht.mhc_composite(np.ones((2, 2, 2)), cumulative=1)


@pytest.mark.parametrize("eps", [0.0, 1e-6])
def test_rows_last_composites_have_forward_gain_at_most_one_and_backward_at_most_n(eps):
    # low temperature, so the column errors after t_max = 20 are visible
    L = _logits((6, 30, 4, 4), scale=6.0, seed=12)
    H = ht.mhc_h_res(L, eps=eps)
    fwd, bwd = ht.amax_gain(ht.mhc_composite(H, cumulative=True))
    assert np.all(fwd <= 1 + 50 * EPS) and np.all(bwd <= 4 * (1 + 50 * EPS))
    if eps == 0.0:  # row sums one to rounding by construction, hence a rounding-level tolerance
        assert np.abs(fwd - 1).max() <= 50 * 30 * EPS
    assert bwd.max() > 1.02  # non-vacuous: the backward gain does exceed one
    # control: the columns-last order moves the excess to the forward gain
    fwd_c, bwd_c = ht.amax_gain(ht.mhc_composite(naive_columns_last_stack(L), cumulative=True))
    assert np.abs(bwd_c - 1).max() <= 50 * 30 * EPS and fwd_c.max() > 1.05


def naive_columns_last_stack(L):
    return np.array([[naive_columns_last(L[a, b], 20) for b in range(L.shape[1])] for a in range(L.shape[0])])


def test_amax_gain_is_a_named_tuple():
    A = np.array([[0.5, 0.7], [0.5, 0.3]])  # columns sum to one, rows to 1.2 and 0.8
    g = ht.amax_gain(A)
    assert type(g).__name__ == "AmaxGain" and g._fields == ("forward", "backward")
    assert tuple(g) == (g.forward, g.backward)
    assert float(g.forward) == pytest.approx(1.2) and float(g.backward) == pytest.approx(1.0)


# ------------------------------------------------------------ the bias-only layer and R_hom
@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_mhc_bias_layer_is_the_sinkhorn_layer_of_the_bias(n):
    for R in (0.01, 1.0, 5.0, 30.0):
        M = ht.mhc_bias_layer(n, R)
        np.testing.assert_allclose(M, ht.sinkhorn(R * np.eye(n), tol=1e-14), rtol=0, atol=1e-12)
        # independent route: divide the rows of exp(R I) by their common sum e^R + n - 1
        K = np.exp(R * np.eye(n))
        np.testing.assert_allclose(M, K / K.sum(axis=1, keepdims=True), rtol=1e-13, atol=0)
        if n >= 2:
            s2 = (np.exp(R) - 1) / (np.exp(R) + n - 1)
            assert np.linalg.svd(M, compute_uv=False)[1] == pytest.approx(s2, abs=1e-12)
    # control: q = 1 / (e^R + n) (one off in the row sum) is rejected by the same comparison
    q = 1 / (np.e + n)
    assert not np.allclose((np.e - 1) * q * np.eye(n) + q, ht.mhc_bias_layer(n, 1.0), rtol=1e-13, atol=0)


@pytest.mark.parametrize("n", [2, 4, 8])
@pytest.mark.parametrize("depth", [1, 4, 64, 512])
@pytest.mark.parametrize("target", [0.01, 0.3, 0.99])
def test_mhc_homogenising_range_is_the_threshold(n, depth, target):
    R = ht.mhc_homogenising_range(n, depth, target)

    def d(r):  # ||M_r^L - J/n||_2 by matrix powers, not by the closed form
        return np.linalg.norm(np.linalg.matrix_power(ht.mhc_bias_layer(n, r), depth) - 1 / n, 2)

    assert d(R * (1 - 1e-6)) <= target < d(R * (1 + 1e-3))
    # control: a threshold 1 % too large is rejected by the same test
    assert not d(R * 1.01 * (1 - 1e-6)) <= target


def test_mhc_homogenising_range_asymptotics():
    for L in (10**3, 10**6):
        assert abs(ht.mhc_homogenising_range(4, L, 0.01) - np.log(4 * L / np.log(100))) <= 10 / L


@pytest.mark.parametrize(
    "fn, kw, match",
    [
        ("mhc_bias_layer", dict(n=0, logit_range=1.0), r"\bn must be >= 1, got 0"),
        ("mhc_bias_layer", dict(n=3, logit_range=0.0), r"\blogit_range must be > 0"),
        ("mhc_bias_layer", dict(n=3, logit_range=np.inf), r"\blogit_range must be finite"),
        ("mhc_bias_layer", dict(n=2.0, logit_range=1.0), r"\bn must be an integer"),
        ("mhc_homogenising_range", dict(n=1, depth=4, target=0.1), r"\bn must be >= 2, got 1"),
        ("mhc_homogenising_range", dict(n=4, depth=0, target=0.1), r"\bdepth must be >= 1, got 0"),
        ("mhc_homogenising_range", dict(n=4, depth=4, target=1.0), r"\btarget must lie in the open interval \(0, 1\)"),
        ("mhc_homogenising_range", dict(n=4, depth=4, target="x"), r"\btarget must be a real numeric array"),
    ],
    ids=match_id,
)
def test_bias_functions_bad_input(fn, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(ht, fn)(**kw)
