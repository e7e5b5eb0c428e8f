"""Tests of the attention builders of homtrap._attention (moved from book/18_case_sinkformers.ipynb)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import homtrap
from homtrap._attention import (
    AttentionStack,
    attention_stack,
    bilinear_scores,
    clustered_tokens,
    random_bilinear_form,
    random_orthogonal,
)

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
