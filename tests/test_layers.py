"""Tests of stacks of layers (products, realised depth, power profiles, transient growth),
the heterogeneous and high-temperature effective depths, and truncated Sinkhorn."""

import numpy as np
import pytest

import homtrap as ht


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


def test_truncated_sinkhorn_converges_to_sinkhorn_as_sweeps_grow():
    G = ht.random_logits(8, size=5, rng=5)
    errs = [ht.marginal_error(ht.truncated_sinkhorn(G, 1.0, sweeps=s)).max() for s in (1, 5, 50)]
    assert errs[0] > errs[1] > errs[2]
    np.testing.assert_allclose(ht.truncated_sinkhorn(G, 1.0, sweeps=200), ht.sinkhorn(G, 1.0), atol=1e-9)


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


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ht.product_distances(np.eye(3)), "layers"),
        (lambda: ht.product_distances(np.full((2, 3, 3), np.nan)), "layers"),
        (lambda: ht.realised_depth(ht.random_dsm(3, 1.0, size=(2, 2), rng=0), 1.5), "eps"),
        (lambda: ht.power_distances(np.eye(3) / 1.0, 0), "k_max"),
        (lambda: ht.effective_depth_product([1.2, 0.5], 0.1), "sigma2s"),
        (lambda: ht.truncated_sinkhorn(np.zeros((3, 3)), 1.0, sweeps=0), "sweeps"),
        (lambda: ht.truncated_sinkhorn(np.zeros((3, 3)), -1.0), "temperature"),
        (lambda: ht.high_temperature_effective_depth(64, 1.0, 0.0), "eps"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
