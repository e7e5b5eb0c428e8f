"""Tests for homtrap._attention (the attention layers): softmax, Sinkformer and converged Sinkhorn attention.

Each map is compared with independent transcriptions written here: a probability-domain
alternating normalisation (``naive_sinkformer``), an entry-by-entry plain-Python transcription of
the authors' ``SinkhornDistance.forward`` with its early stop (``naive_sinkformer_loops``), and a
vectorised literal transcription with their ``eps`` and un-cancelled potentials
(``independent_sinkformer_authors_form``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.special import softmax as scipy_softmax

import homtrap
from homtrap import sinkformer_attention, sinkhorn_attention, softmax_attention
from scipy import stats
from homtrap import (
    AttentionStack,
    attention_stack,
    bilinear_scores,
    clustered_tokens,
    random_bilinear_form,
    random_orthogonal,
)


def naive_softmax(S, beta):
    """Row softmax by scipy."""
    return scipy_softmax(beta * np.asarray(S, dtype=float), axis=-1)


def naive_sinkformer(S, beta, n_it):
    """Probability domain: n_it alternating normalisations of exp(beta S), rows first, to sums 1/n, then times n."""
    K = np.exp(beta * np.asarray(S, dtype=float))
    n = K.shape[-1]
    for i in range(n_it):
        if i % 2 == 0:
            K = K / (n * K.sum(axis=-1, keepdims=True))
        else:
            K = K / (n * K.sum(axis=-2, keepdims=True))
    return n * K


def independent_sinkformer_authors_form(dots, n_it, eps=1.0):
    """Line-by-line numpy transcription of SinkhornDistance.forward (michaelsdr/sinkformers, vit_pytorch/sinkhorn.py).

    C = -c; M(C, u, v) = (-C + u_i + v_j) / eps; even i: u = eps (log mu - lse_j M) + u; odd i:
    v = eps (log nu - lse_i M) + v; pi = exp(M); attn = pi * n. (Early stop omitted, see docstring.)
    """
    C = -np.asarray(dots, dtype=float)
    n_x, n_y = C.shape[-2], C.shape[-1]
    mu = np.full(C.shape[:-1], 1.0 / n_x)
    nu = np.full(C.shape[:-2] + (n_y,), 1.0 / n_y)
    u = np.zeros_like(mu)
    v = np.zeros_like(nu)

    def M(u, v):
        return (-C + u[..., :, None] + v[..., None, :]) / eps

    for i in range(n_it):
        if i % 2 == 0:
            u = eps * (np.log(mu) - logsumexp(M(u, v), axis=-1)) + u
        else:
            v = eps * (np.log(nu) - logsumexp(np.swapaxes(M(u, v), -2, -1), axis=-1)) + v
    pi = np.exp(M(u, v))
    return pi * pi.shape[-1]


def naive_sinkformer_loops(dots, n_it, eps=1.0, thresh=None):
    """Entry-by-entry transcription of SinkhornDistance.forward for one matrix, plain Python floats.

    Written from michaelsdr/sinkformers, vit-pytorch/vit_pytorch/sinkhorn.py (commit 045d933):
    C = -c; mu = nu = 1/n; u = v = 0; for i in range(max_iter): if i % 2 == 0 the row update
    u = eps * (log(mu) - logsumexp_j(M)) + u and err = sum |u - u_old| (their batch mean of one),
    else the column update of v; then ``if err < thresh: break`` (tested after every half-step,
    with the err of the last row update). M_ij = (-C_ij + u_i + v_j) / eps; pi = exp(M); attn = n pi.
    ``thresh=None`` leaves the early stop out (an infinite loop budget is never used here).
    Returns (attn, number of half-steps run).
    """
    c = [[float(x) for x in row] for row in dots]
    n = len(c)
    C = [[-x for x in row] for row in c]
    u, v = [0.0] * n, [0.0] * n

    def M(i, j):
        return (-C[i][j] + u[i] + v[j]) / eps

    def lse(xs):
        m = max(xs)
        return m + math.log(sum(math.exp(x - m) for x in xs))

    err = math.inf
    run = 0
    for it in range(n_it):
        if it % 2 == 0:
            u_old = list(u)
            u = [eps * (math.log(1.0 / n) - lse([M(i, j) for j in range(n)])) + u[i] for i in range(n)]
            err = sum(abs(a - b) for a, b in zip(u, u_old))
        else:
            v = [eps * (math.log(1.0 / n) - lse([M(i, j) for i in range(n)])) + v[j] for j in range(n)]
        run += 1
        if thresh is not None and err < thresh:
            break
    pi = [[math.exp(M(i, j)) for j in range(n)] for i in range(n)]
    return np.array(pi) * n, run


def naive_sinkhorn_converged(S, beta, sweeps=20000):
    """Plain alternating normalisation to (near) convergence, probability domain."""
    K = np.exp(beta * np.asarray(S, dtype=float))
    for _ in range(sweeps):
        K = K / K.sum(axis=-1, keepdims=True)
        K = K / K.sum(axis=-2, keepdims=True)
    return K


def cluster_scores(rng, n=24, d=8, size=()):
    """Similarity scores x_i W x_j of clustered tokens, as in the Sinkformer chapter (smaller)."""
    centres = rng.standard_normal(size + (4, d))
    X = np.repeat(centres, n // 4, axis=-2) + 0.5 * rng.standard_normal(size + (n, d))
    W = rng.standard_normal(size + (d, d)) @ rng.standard_normal(size + (d, d)) / d**1.5
    return X @ W @ np.swapaxes(X, -1, -2)


@pytest.fixture
def rng():
    return np.random.default_rng(20260418)


def col_error(A):
    return np.abs(A.sum(axis=-2) - 1).max(axis=-1)


def test_softmax_matches_scipy_and_rows_sum_to_one(rng):
    S = rng.standard_normal((3, 2, 7, 7))
    for beta in (0.1, 1.0, 7.5):
        A = softmax_attention(S, beta)
        assert A.shape == S.shape
        np.testing.assert_allclose(A, naive_softmax(S, beta), rtol=1e-12, atol=0)
        np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=0, atol=10 * 7 * np.finfo(float).eps)
        assert np.all(A > 0)


def test_softmax_is_stable_for_huge_scores():
    S = np.array([[1000.0, 1000.0 + np.log(3.0)], [-1000.0, -1000.0]])
    A = softmax_attention(S)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-12)
    with np.errstate(over="ignore", invalid="ignore"):  # control: the unstabilised formula fails here
        E = np.exp(S)
        assert not np.all(np.isfinite(E / E.sum(axis=-1, keepdims=True)))


@pytest.mark.parametrize("n_it", [1, 2, 3, 4, 5, 6, 9])
def test_sinkformer_matches_both_transcriptions(rng, n_it):
    S = rng.standard_normal((2, 3, 9, 9))
    for beta in (0.5, 2.0):
        A = sinkformer_attention(S, beta, n_it)
        np.testing.assert_allclose(A, naive_sinkformer(S, beta, n_it), rtol=1e-11, atol=0)
        np.testing.assert_allclose(A, independent_sinkformer_authors_form(beta * S, n_it), rtol=1e-11, atol=0)


@pytest.mark.parametrize("n_it", [1, 2, 3, 4, 5, 6])
def test_sinkformer_matches_entrywise_loop_transcription(rng, n_it):
    for n, beta in ((2, 1.0), (5, 0.7), (7, 3.0)):
        S = rng.standard_normal((n, n))
        A_loop, run = naive_sinkformer_loops(beta * S, n_it)
        assert run == n_it
        np.testing.assert_allclose(sinkformer_attention(S, beta, n_it), A_loop, rtol=1e-11, atol=0)
    # control: the transcription is sensitive to the order (columns first gives another matrix)
    S = rng.standard_normal((6, 6))
    A_cols_first, _ = naive_sinkformer_loops((2.0 * S).T, 3)
    assert np.abs(sinkformer_attention(S, 2.0, 3) - A_cols_first.T).max() > 1e-3


def test_authors_early_stop_only_after_a_row_half_step(rng):
    # their loop may stop early (thresh 1e-12 for ViT/IMDb, 1e-2 for ModelNet 40); it stops only after a
    # row half-step, so what it returns is sinkformer_attention with the (odd) number of half-steps run
    S = rng.standard_normal((6, 6))
    runs = set()
    for thresh in (1e-2, 1e-4, 1e-6):
        A_loop, run = naive_sinkformer_loops(0.5 * S, 400, thresh=thresh)
        assert run % 2 == 1 and run < 400
        runs.add(run)
        np.testing.assert_allclose(sinkformer_attention(S, 0.5, run), A_loop, rtol=1e-11, atol=0)
        np.testing.assert_allclose(A_loop.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert len(runs) == 3  # the thresholds really stop at different half-steps


def test_authors_eps_is_an_inverse_temperature(rng):
    # their eps enters as M = (dots + u + v) / eps: eps = 1/beta on unscaled dots is our beta
    S = rng.standard_normal((4, 6, 6))
    np.testing.assert_allclose(
        sinkformer_attention(S, 2.0, 3), independent_sinkformer_authors_form(S, 3, eps=0.5), rtol=1e-11
    )


def test_one_half_step_is_softmax(rng):
    S = 3.0 * rng.standard_normal((5, 10, 10))
    np.testing.assert_allclose(sinkformer_attention(S, 1.7, n_it=1), naive_softmax(S, 1.7), rtol=1e-12)
    # control: three half-steps are not softmax
    assert np.abs(sinkformer_attention(S, 1.7, n_it=3) - naive_softmax(S, 1.7)).max() > 1e-2


def test_odd_ends_on_rows_even_on_columns(rng):
    S = cluster_scores(rng, size=(6,))
    tol = 50 * S.shape[-1] * np.finfo(float).eps
    for n_it in (1, 3, 5):
        A = sinkformer_attention(S, 3.0, n_it)
        np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=0, atol=tol)
        assert np.all(col_error(A) > 1e-3)  # and not column-stochastic
    for n_it in (2, 4):
        A = sinkformer_attention(S, 3.0, n_it)
        np.testing.assert_allclose(A.sum(axis=-2), 1.0, rtol=0, atol=tol)
        assert np.all(np.abs(A.sum(axis=-1) - 1).max(axis=-1) > 1e-3)


def test_column_error_grows_at_low_temperature(rng):
    S = cluster_scores(rng, n=24, size=(32,))
    med = [np.median(col_error(sinkformer_attention(S, beta, 3))) for beta in (0.3, 1.0, 3.0, 10.0)]
    assert all(b > a for a, b in zip(med, med[1:]))
    assert med[0] < 0.05 and med[-1] > 1.0
    # and more half-steps reduce it at fixed temperature
    e = [np.median(col_error(sinkformer_attention(S, 3.0, k))) for k in (1, 3, 5, 21)]
    assert all(b < a for a, b in zip(e, e[1:]))


def test_many_half_steps_converge_to_sinkhorn(rng):
    S = rng.standard_normal((4, 8, 8))
    beta = 1.0
    A_inf = sinkhorn_attention(S, beta)
    np.testing.assert_allclose(A_inf, naive_sinkhorn_converged(S, beta, sweeps=2000), rtol=0, atol=1e-10)
    np.testing.assert_allclose(sinkformer_attention(S, beta, n_it=401), A_inf, rtol=0, atol=1e-10)
    assert np.abs(sinkformer_attention(S, beta, n_it=3) - A_inf).max() > 1e-4  # control


def test_sinkhorn_attention_is_doubly_stochastic_and_matches_homtrap_sinkhorn(rng):
    S = cluster_scores(rng, size=(3,))
    A = sinkhorn_attention(S, 3.0)
    np.testing.assert_array_equal(A, homtrap.sinkhorn(3.0 * S))  # the same call by construction
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=0, atol=1e-11)
    np.testing.assert_allclose(A.sum(axis=-2), 1.0, rtol=0, atol=1e-11)


def test_row_shift_invariance(rng):
    # adding a constant to each row of the scores changes none of the three maps;
    # adding one to each column changes softmax but not converged Sinkhorn
    S = rng.standard_normal((3, 7, 7))
    a = rng.standard_normal((3, 7, 1))
    b = rng.standard_normal((3, 1, 7))
    for fn in (softmax_attention, lambda x: sinkformer_attention(x, 1.0, 3), sinkhorn_attention):
        np.testing.assert_allclose(fn(S + a), fn(S), rtol=0, atol=1e-12)
    np.testing.assert_allclose(sinkhorn_attention(S + b), sinkhorn_attention(S), rtol=0, atol=1e-10)
    assert np.abs(softmax_attention(S + b) - softmax_attention(S)).max() > 1e-2


@pytest.mark.parametrize("fn", [softmax_attention, sinkformer_attention, sinkhorn_attention])
def test_bad_scores(fn):
    with pytest.raises(ValueError, match="scores must be finite"):
        fn(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="scores must be square"):
        fn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="scores must have at least 2 dimensions"):
        fn(np.zeros(3))
    with pytest.raises(TypeError, match="scores must be real"):
        fn(np.zeros((2, 2), dtype=complex))
    with pytest.raises(ValueError, match="beta must be > 0"):
        fn(np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match="beta \\* scores overflows"):
        fn(np.full((2, 2), 1e300), 1e10)


@pytest.mark.parametrize("fn", [softmax_attention, sinkformer_attention, sinkhorn_attention])
def test_bad_beta(fn):
    S = np.zeros((3, 3))
    with pytest.raises(ValueError, match="beta must be finite"):
        fn(S, np.nan)
    with pytest.raises(ValueError, match="beta must be finite"):
        fn(S, np.inf)
    with pytest.raises(TypeError, match="beta must be a real number"):
        fn(S, "1")
    with pytest.raises(ValueError, match="beta must be > 0"):
        fn(S, -1.0)


def test_one_token_and_numpy_integer_n_it():
    for fn in (softmax_attention, sinkformer_attention, sinkhorn_attention):
        np.testing.assert_array_equal(fn(np.array([[5.0]])), [[1.0]])
    S = np.arange(9.0).reshape(3, 3) / 9
    np.testing.assert_array_equal(sinkformer_attention(S, 1.0, np.int64(3)), sinkformer_attention(S, 1.0, 3))


def test_bad_n_it():
    with pytest.raises(ValueError, match="n_it must be >= 1, got 0"):
        sinkformer_attention(np.zeros((2, 2)), 1.0, 0)
    with pytest.raises(TypeError, match="n_it must be an integer"):
        sinkformer_attention(np.zeros((2, 2)), 1.0, 2.5)
    with pytest.raises(TypeError, match="n_it must be an integer"):
        sinkformer_attention(np.zeros((2, 2)), 1.0, True)
    with pytest.raises(TypeError, match="n_it must be an integer"):
        sinkformer_attention(np.zeros((2, 2)), 1.0, "3")
    with pytest.raises(ValueError, match="n_it must be >= 1, got -2"):
        sinkformer_attention(np.zeros((2, 2)), 1.0, -2)


# ----------------------------------------------------------------------
# Tests of the attention builders of homtrap._attention (moved from book/18_case_sinkformers.ipynb).

N_TOK, D, N_CLUSTERS, NOISE = 48, 16, 4, 0.5


# the chapter's local functions, verbatim (cell 4 and cell 16 of book/18_case_sinkformers.ipynb)
def draw_tokens(gen):
    centres = gen.standard_normal((N_CLUSTERS, D))
    labels = np.repeat(np.arange(N_CLUSTERS), N_TOK // N_CLUSTERS)
    return centres[labels] + NOISE * gen.standard_normal((N_TOK, D))


def draw_bilinear(gen):
    w_q = gen.standard_normal((D, D)) / np.sqrt(D)
    w_k = gen.standard_normal((D, D)) / np.sqrt(D)
    return w_q @ w_k.T / np.sqrt(D)


def draw_value(gen):
    q, r = np.linalg.qr(gen.standard_normal((D, D)))
    return q * np.sign(np.diag(r))


def notebook_stack(X0, beta, attend, Ws, Vs, skip):
    # the state and attention updates of run_stacks, without its bookkeeping
    X = X0.copy()
    states, mats = [X], []
    for ell in range(Ws.shape[1]):
        W, V = Ws[:, ell], Vs[:, ell]
        A = attend(beta * X @ W @ X.transpose(0, 2, 1))
        Y = A @ X @ V
        X = X + Y if skip else Y
        states.append(X)
        mats.append(A)
    return np.stack(states, axis=1), np.stack(mats, axis=1)


# ------------------------------------------------------------------ identical to the chapter
def test_draws_are_bit_identical_to_the_chapter():
    seeds, layers = 5, 3
    g1, g2 = np.random.default_rng(20260118), np.random.default_rng(20260118)
    X_nb = np.array([draw_tokens(g1) for _ in range(seeds)])
    W_nb = np.array([[draw_bilinear(g1) for _ in range(layers)] for _ in range(seeds)])
    V_nb = np.array([[draw_value(g1) for _ in range(layers)] for _ in range(seeds)])
    X = clustered_tokens(N_TOK, D, N_CLUSTERS, NOISE, size=seeds, rng=g2)
    W = random_bilinear_form(D, size=(seeds, layers), rng=g2)
    V = random_orthogonal(D, size=(seeds, layers), rng=g2)
    assert np.array_equal(X, X_nb) and np.array_equal(W, W_nb) and np.array_equal(V, V_nb)
    # the generator is left in the same state
    assert np.array_equal(g1.standard_normal(4), g2.standard_normal(4))


def test_single_draws_match_batched_draws():
    a = np.array([random_orthogonal(5, rng=g) for g in [np.random.default_rng(3)] for _ in range(1)])
    b = random_orthogonal(5, size=1, rng=3)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kind", ["softmax", "sinkhorn", "sinkformer"])
@pytest.mark.parametrize("skip", [False, True])
def test_attention_stack_is_bit_identical_to_run_stacks(kind, skip):
    gen = np.random.default_rng(1)
    X0 = np.array([draw_tokens(gen) for _ in range(3)])
    Ws = np.array([[draw_bilinear(gen) for _ in range(4)] for _ in range(3)])
    Vs = np.array([[draw_value(gen) for _ in range(4)] for _ in range(3)])
    attend = {"softmax": homtrap.softmax_attention, "sinkhorn": homtrap.sinkhorn_attention,
              "sinkformer": lambda G: homtrap.sinkformer_attention(G, 1.0, 3)}[kind]
    beta = 0.3
    states_nb, A_nb = notebook_stack(X0, beta, attend, Ws, Vs, skip)
    res = attention_stack(X0, Ws, Vs, kind, beta, skip=skip, n_it=3)
    assert isinstance(res, AttentionStack)
    assert np.array_equal(res.states, states_nb) and np.array_equal(res.attention, A_nb)
    res_callable = attention_stack(X0, Ws, Vs, attend, beta, skip=skip)
    assert np.array_equal(res_callable.states, states_nb)


def test_bilinear_scores_matches_the_chapters_expression_and_einsum():
    gen = np.random.default_rng(2)
    X = np.array([draw_tokens(gen) for _ in range(3)])
    W = np.array([draw_bilinear(gen) for _ in range(3)])
    beta = 0.7
    assert np.array_equal(bilinear_scores(X, W, beta), beta * X @ W @ X.transpose(0, 2, 1))
    # independent oracle: the entries <x_i, W x_j> by einsum
    assert np.allclose(bilinear_scores(X, W), np.einsum("sid,sde,sje->sij", X, W, X), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ the laws
def test_clustered_tokens_law():
    X = clustered_tokens(40, 3, 4, 0.2, size=2000, rng=4)
    assert X.shape == (2000, 40, 3)
    blocks = X.reshape(2000, 4, 10, 3)
    spread = blocks - blocks.mean(axis=2, keepdims=True)
    # within-cluster variance tau^2 (unbiased with 10 tokens per cluster)
    assert abs((spread**2).sum(axis=2).mean() / 9 / 0.2**2 - 1) < 0.02
    # cluster means: N(0, 1 + tau^2/10) entries, independent across clusters
    means = blocks.mean(axis=2)
    assert abs(means.var() / (1 + 0.04 / 10) - 1) < 0.05
    # control: the within-cluster check rejects a wrong tau
    assert abs((spread**2).sum(axis=2).mean() / 9 / 0.25**2 - 1) > 0.2
    # tokens of one cluster share a centre: noise 0 gives identical rows
    X0 = clustered_tokens(6, 2, 3, 0.0, rng=0)
    assert np.array_equal(X0[0], X0[1]) and not np.array_equal(X0[1], X0[2])


def test_random_bilinear_form_law():
    W = random_bilinear_form(6, size=20_000, rng=5)
    assert abs(W.mean()) < 0.005
    assert abs(W.var() * 36 - 1) < 0.02
    # second moments: E[W^T W] = I / d (each column of W has d entries of variance 1/d^2)
    assert np.allclose(np.mean(W.transpose(0, 2, 1) @ W, axis=0), np.eye(6) * 6 / 36, atol=0.01)


def test_random_orthogonal_is_haar():
    Q = random_orthogonal(3, size=20_000, rng=6)
    assert np.allclose(Q @ Q.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    # independent oracle: scipy's Haar sampler; KS test on the (1, 1) entry and on the trace
    ref = stats.ortho_group.rvs(3, size=20_000, random_state=7)
    assert stats.ks_2samp(Q[:, 0, 0], ref[:, 0, 0]).pvalue > 1e-3
    assert stats.ks_2samp(np.trace(Q, axis1=1, axis2=2), np.trace(ref, axis1=1, axis2=2)).pvalue > 1e-3
    # must-fail control: QR without the sign fix is not Haar (diag(R) has a fixed sign convention)
    gen = np.random.default_rng(8)
    raw = np.array([np.linalg.qr(gen.standard_normal((3, 3)))[0] for _ in range(20_000)])
    assert stats.ks_2samp(raw[:, 0, 0], ref[:, 0, 0]).pvalue < 1e-6


def test_attention_stack_detail_bound_and_control():
    gen = np.random.default_rng(9)
    X0 = clustered_tokens(24, 8, 4, 0.5, size=4, rng=gen)
    W = random_bilinear_form(8, size=(4, 5), rng=gen)
    V = random_orthogonal(8, size=(4, 5), rng=gen)
    for kind in ("softmax", "sinkhorn"):
        states, A = attention_stack(X0, W, V, kind, 1.0)
        assert states.shape == (4, 6, 24, 8) and A.shape == (4, 5, 24, 24)
        r = np.linalg.norm(homtrap.detail(states.swapaxes(-1, -2)), axis=(-2, -1))
        ok = r[:, 1:] > 1e-10 * r[:, :1]
        bound = homtrap.detail_factor(A) * r[:, :-1]
        assert np.all(r[:, 1:][ok] <= bound[ok] * (1 + 1e-9))
        # control: sigma_2 in place of the detail factor is not a bound for softmax at low temperature
    states, A = attention_stack(X0, W, V, "softmax", 10.0)
    r = np.linalg.norm(homtrap.detail(states.swapaxes(-1, -2)), axis=(-2, -1))
    s2 = np.linalg.svd(A, compute_uv=False)[..., 1]
    ok = r[:, 1:] > 1e-10 * r[:, :1]
    assert np.any(r[:, 1:][ok] > s2[ok] * r[:, :-1][ok] * (1 + 1e-6))
    with pytest.raises(ValueError, match="weights must not be empty"):
        attention_stack(X0, W[:, :0], V[:, :0])


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: clustered_tokens(10, 3, 4, 0.1), ValueError, "n_tokens must be a multiple of n_clusters"),
        (lambda: clustered_tokens(8, 3, 2, -0.1), ValueError, "noise"),
        (lambda: clustered_tokens(8, 3, 2, "a"), TypeError, "noise"),
        (lambda: clustered_tokens(8.0, 3, 2, 0.1), TypeError, "n_tokens"),
        (lambda: clustered_tokens(8, 0, 2, 0.1), ValueError, "dim"),
        (lambda: random_bilinear_form(3, size=-1), ValueError, "size"),
        (lambda: random_bilinear_form(3, size=2.0), TypeError, "size"),
        (lambda: random_orthogonal(0), ValueError, "dim"),
        (lambda: random_orthogonal(2, rng="x"), TypeError, "rng"),
        (lambda: bilinear_scores(np.ones((3, 2)), np.ones((3, 3))), ValueError, "weight"),
        (lambda: bilinear_scores(np.ones(3), np.ones((3, 3))), ValueError, "x must have shape"),
        (lambda: bilinear_scores(np.ones((3, 2)), np.eye(2), beta=0.0), ValueError, "beta"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 2, 2)), np.ones((3, 2, 2))), ValueError, "same number of layers"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 3, 3)), np.ones((2, 3, 3))), ValueError, "weights"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 2, 2)), np.ones((2, 2, 2)), "bogus"), ValueError, "attention"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 2, 2)), np.ones((2, 2, 2)), 3), TypeError, "attention"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 2, 2)), np.ones((2, 2, 2)), skip=1), TypeError, "skip"),
        (lambda: attention_stack(np.ones((3, 2)), np.ones((2, 2, 2)), np.ones((2, 2, 2)), "sinkformer", n_it=0),
         ValueError, "n_it"),
        (lambda: attention_stack(np.ones((2, 3, 2)), np.ones((3, 2, 2, 2)), np.ones((3, 2, 2, 2))), ValueError, "broadcast"),
    ],
)
def test_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
