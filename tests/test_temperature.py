"""Tests of homtrap._temperature, the temperature axis: sweeps of sigma_2, the first-order law,
the T -> 0 limit (assignment permutation and gap, the largest entry off the nearest permutation)
and the entropic objective."""

import numpy as np
import pytest

import homtrap as ht
from _helpers import match_id, perm_matrix


def test_sweep_shapes_reproducibility_and_agreement_with_direct_computation():
    Ts = np.array([0.3, 1.0, 5.0])
    a = ht.sigma2_sweep(8, Ts, 6, rng=3)
    b = ht.sigma2_sweep(8, Ts, 6, rng=np.random.default_rng(3))
    assert a.sigma2.shape == (3, 6) and a.iterations.shape == (3, 6)
    np.testing.assert_array_equal(a.sigma2, b.sigma2)
    G = ht.random_logits(8, size=6, rng=3)
    for i, T in enumerate(Ts):
        M = ht.sinkhorn(G, T)
        np.testing.assert_allclose(a.sigma2[i], np.linalg.svd(M, compute_uv=False)[:, 1], atol=1e-9)
    assert a.max_marginal_error <= 1e-10
    np.testing.assert_allclose(a.mean(), a.sigma2.mean(axis=1))
    assert a.quantile([0.1, 0.9]).shape == (2, 3)


def test_sweep_fresh_logits_differ_from_common():
    Ts = [1.0, 1.0]
    common = ht.sigma2_sweep(6, Ts, 4, rng=0)
    fresh = ht.sigma2_sweep(6, Ts, 4, rng=0, common_logits=False)
    np.testing.assert_array_equal(common.sigma2[0], common.sigma2[1])
    np.testing.assert_array_equal(common.sigma2[0], fresh.sigma2[0])
    assert not np.array_equal(fresh.sigma2[0], fresh.sigma2[1])


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(n=1), r"\bn must be >= 2, got 1"),
        (dict(size=0), r"\bsize must be >= 1, got 0"),
        (dict(temperatures=[1.0, -1.0]), r"\btemperatures must be > 0, got min -1\.0"),
        (dict(temperatures=[np.nan]), r"\btemperatures must be finite; found 1 NaN/inf"),
    ],
    ids=match_id,
)
def test_sweep_bad_input(bad, match):
    kw = dict(n=4, temperatures=[1.0], size=2) | bad
    with pytest.raises((ValueError, TypeError), match=match):
        ht.sigma2_sweep(**kw)


def test_first_order_law_error_shrinks_like_one_over_T():
    G = ht.random_logits(16, size=20, rng=1)
    rel = []
    for T in (10.0, 100.0):
        exact = ht.sigma2(ht.sinkhorn(G, T))
        rel.append(np.max(np.abs(ht.first_order_sigma2(G, T) / exact - 1)))
    # relative error is O(1/T): a tenfold T cuts it about tenfold
    assert rel[1] < rel[0] / 5
    assert rel[1] < 0.02


def test_first_order_law_matches_double_centering_svd():
    G = ht.random_logits(5, rng=2)
    P = ht.centring_projector(5)
    want = np.linalg.svd(P @ G @ P, compute_uv=False)[0] / (5 * 2.0)
    assert ht.first_order_sigma2(G, 2.0) == pytest.approx(want, rel=1e-12)


# ---------------------------------------------------------------------------------- oscillation
def naive_oscillation(G):
    """max over all quadruples i, j, k, l of G_ij + G_kl - G_il - G_kj, by explicit loops."""
    n = G.shape[0]
    return max(G[i, j] + G[k, l] - G[i, l] - G[k, j]
               for i in range(n) for j in range(n) for k in range(n) for l in range(n))


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_oscillation_against_brute_force(n):
    rng = np.random.default_rng(n)
    G = rng.standard_normal((4, n, n))
    got = ht.oscillation(G)
    assert got.shape == (4,)
    for g, o in zip(G, got):
        assert abs(o - naive_oscillation(g)) <= 1e-12
    # control: the largest single entry difference is a different (smaller) quantity for n >= 2
    if n >= 2:
        assert not np.allclose(got, np.ptp(G, axis=(1, 2)), rtol=1e-6, atol=0)


def test_oscillation_gauge_invariance_and_bounds():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((6, 6))
    u, v = rng.standard_normal(6), rng.standard_normal(6)
    osc = float(ht.oscillation(G))
    assert isinstance(ht.oscillation(G), np.floating)  # a scalar for one matrix
    assert abs(float(ht.oscillation(G + u[:, None] + v[None, :])) - osc) <= 1e-12
    assert abs(float(ht.oscillation(ht.double_centre(G))) - osc) <= 1e-12
    assert 0 < osc <= 4 * np.abs(G).max()
    assert float(ht.oscillation(u[:, None] + v[None, :])) <= 1e-12  # a pure gauge term
    assert float(ht.oscillation(np.array([[1.0, 0.0], [0.0, 1.0]]))) == 2.0


@pytest.mark.parametrize("T", [0.3, 1.0, 5.0, 30.0])
def test_oscillation_bounds_the_sinkhorn_matrix(T):
    """lem-crossratio (2): exp(-osc/T) <= n M_ij <= exp(osc/T) and sigma_2 <= e^(osc/T) - 1."""
    G = ht.random_logits(8, size=10, rng=2)
    M = ht.sinkhorn(G, T)
    omega = ht.oscillation(G)[:, None, None] / T
    assert np.all(8 * M <= np.exp(omega) * (1 + 1e-9)) and np.all(8 * M >= np.exp(-omega) * (1 - 1e-9))
    bound = np.expm1(omega[:, 0, 0])
    assert np.all(ht.sigma2(M) <= bound + 1e-12)
    if T == 30.0:
        assert bound.max() < 1  # the sigma_2 bound is informative here


# ---------------------------------------------------------------------------- sigma2_derivative
def naive_derivative(G, T, h):
    """Centred finite difference of sigma_2(M_T) in T (independent of the closed form)."""
    up, down = (ht.sigma2(ht.sinkhorn(G, t, tol=1e-14)) for t in (T + h, T - h))
    return (up - down) / (2 * h)


@pytest.mark.parametrize(("n", "T"), [(3, 0.5), (6, 1.0), (16, 0.3), (16, 4.0)])
def test_sigma2_derivative_against_finite_differences(n, T):
    G = ht.random_logits(n, size=3, rng=n)
    got = ht.sigma2_derivative(G, T)
    assert got.shape == (3,)
    fd = naive_derivative(G, T, 1e-4 * T)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=0)
    # control: the derivative at another temperature is rejected by the same comparison
    assert not np.allclose(ht.sigma2_derivative(G, 1.2 * T), fd, rtol=1e-5, atol=0)


def test_sigma2_derivative_weighted_centring_and_hot_end():
    """The weighted double centring has zero line sums (checked through dM/dT = -M o G~ / T^2, whose
    line sums vanish), and at high T the derivative tends to that of ||PGP||_2 / (nT)."""
    G = ht.random_logits(6, rng=0)
    T, h = 0.7, 1e-5
    dM = (ht.sinkhorn(G, T + h, tol=1e-14) - ht.sinkhorn(G, T - h, tol=1e-14)) / (2 * h)
    assert np.abs(dM.sum(axis=0)).max() < 1e-8 and np.abs(dM.sum(axis=1)).max() < 1e-8
    for T in (100.0, 1000.0):
        first = -ht.first_order_sigma2(G, T) / T
        assert abs(ht.sigma2_derivative(G, T) / first - 1) < 20 / T


def test_sigma2_derivative_positive_on_the_counterexample():
    """prop-fig1-nonmonotone: sigma_2 rises with T at T = 0.3 for the chapter's G_0, falls at T = 2."""
    G0 = np.array([[3.0, 2.0, 0.0], [2.0, 0.0, 2.0], [0.0, 2.0, 3.0]])
    assert ht.sigma2_derivative(G0, 0.3) > 0 and ht.sigma2_derivative(G0, 2.0) < 0
    assert isinstance(ht.sigma2_derivative(G0, 0.3), np.floating)


def test_sigma2_derivative_nan_where_not_simple():
    # constant logits: M_T = J/n, every detail singular value is 0, so sigma_2 is not simple
    out = ht.sigma2_derivative(np.stack([np.zeros((4, 4)), ht.random_logits(4, rng=0)]), 1.0)
    assert np.isnan(out[0]) and np.isfinite(out[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(logits=np.ones((1, 1))), r"\blogits must be at least 2x2"),
        (dict(logits=np.ones((2, 3))), r"\blogits must be square"),
        (dict(temperature=0.0), r"\btemperature must be > 0, got 0\.0"),
        (dict(tol=-1.0), r"\btol must be > 0, got -1\.0"),
        (dict(tol="1e-12"), r"\btol must be a real number, got str"),
    ],
    ids=match_id,
)
def test_sigma2_derivative_rejects_bad_input(kwargs, match):
    args = {"logits": np.eye(3), "temperature": 1.0, **kwargs}
    tol = args.pop("tol", 1e-13)
    with pytest.raises((ValueError, TypeError), match=match):
        ht.sigma2_derivative(args["logits"], args["temperature"], tol=tol)


def test_oscillation_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\blogits must be square in its last two axes"):
        ht.oscillation(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"\blogits must be real, got a complex array"):
        ht.oscillation(np.ones((2, 2), dtype=complex))


def test_assignment_matches_brute_force_and_low_temperature_limit():
    from itertools import permutations

    G = ht.random_logits(5, size=3, rng=4)
    perms = ht.assignment_permutation(G)
    for g, p in zip(G, perms):
        best = max(permutations(range(5)), key=lambda q: g[np.arange(5), list(q)].sum())
        assert list(p) == list(best)
        M = ht.sinkhorn(g, 1e-3)
        np.testing.assert_array_equal(M.argmax(axis=1), p)


def test_entropic_objective_is_maximised_by_sinkhorn():
    rng = np.random.default_rng(5)
    G = rng.standard_normal((6, 6))
    T = 0.7
    M = ht.sinkhorn(G, T)
    best = ht.entropic_objective(G, M, T)
    for _ in range(200):
        # feasible perturbation: a multiple of a random zero-row/column-sum matrix
        D = ht.centring_projector(6) @ rng.standard_normal((6, 6)) @ ht.centring_projector(6)
        t = 0.5 * M.min() / np.abs(D).max()
        assert ht.entropic_objective(G, M + t * D, T) < best
    assert ht.entropic_objective(G, M, T) > ht.entropic_objective(G, ht.uniform_barycenter(6), T)


def test_entropic_objective_rejects_negative_matrix():
    with pytest.raises(ValueError, match=r"\bM must be entrywise non-negative"):
        ht.entropic_objective(np.zeros((2, 2)), -np.eye(2), 1.0)


def test_assignment_gap_matches_brute_force():
    from itertools import permutations

    G = ht.random_logits(5, size=4, rng=7)
    for g, gap in zip(G, ht.assignment_gap(G)):
        vals = sorted((g[np.arange(5), list(q)].sum() for q in permutations(range(5))), reverse=True)
        assert gap == pytest.approx(vals[0] - vals[1], abs=1e-12)
    assert ht.assignment_gap(np.zeros((3, 3))) == 0.0  # all assignments tie




# ------------------------------------------------------------------------- off_permutation_max
def naive_off_permutation_max(M):
    """Brute force: the permutation maximising sum_i log M[i, pi(i)] over all n! permutations, then the
    largest entry off it."""
    from itertools import permutations

    n = M.shape[0]
    with np.errstate(divide="ignore"):
        best = max(permutations(range(n)), key=lambda q: np.log(M[np.arange(n), list(q)]).sum())
    off = np.ones((n, n), bool)
    off[np.arange(n), list(best)] = False
    return M[off].max()


@pytest.mark.parametrize("T", [0.05, 0.3, 2.0])
def test_off_permutation_max_matches_brute_force(T):
    M = ht.random_dsm(5, T, size=6, rng=3)
    got = ht.off_permutation_max(M)
    assert got.shape == (6,)
    for Mi, g in zip(M, got):
        assert g == naive_off_permutation_max(Mi)
    # control: the largest entry off the identity (not the nearest permutation) is rejected by the same test
    off_id = np.where(np.eye(5, dtype=bool), -np.inf, M).max(axis=(-2, -1))
    assert not np.array_equal(got, off_id)


def test_off_permutation_max_of_a_permutation_and_at_the_barycentre():
    perm = [2, 0, 3, 1]
    assert ht.off_permutation_max(perm_matrix(perm)) == 0.0  # zero entries off the permutation
    assert ht.off_permutation_max(np.full((3, 3), 1 / 3)) == pytest.approx(1 / 3, abs=1e-15)
    assert np.ndim(ht.off_permutation_max(np.full((3, 3), 1 / 3))) == 0


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones((1, 1)), r"\bM must be at least 2x2"),
        (np.array([[0.5, -0.5], [0.5, 1.5]]), r"\bM must be entrywise non-negative"),
        (np.array([[1.0, 1.0], [0.0, 0.0]]), r"\bM must have a permutation with positive entries"),
        (np.full((2, 2), np.inf), r"\bM must be finite"),
        (np.array([[True, False], [False, True]]), r"\bM must be a real numeric array"),
    ],
    ids=match_id,
)
def test_off_permutation_max_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ht.off_permutation_max(bad)


# ------------------------------------------------------------------------ crossing_temperature
def naive_log_crossing(T, m, level):
    """Bisection on the piecewise log-linear interpolant (an independent route to the crossing)."""
    logT = np.log(T)
    lo, hi = logT[0], logT[-1]
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.interp(mid, logT, m) >= level:
            lo = mid
        else:
            hi = mid
    return float(np.exp((lo + hi) / 2))


def test_crossing_temperature_matches_bisection_and_scales_with_the_grid():
    rng = np.random.default_rng(31)
    T = np.geomspace(0.05, 20.0, 30)
    for _ in range(20):
        m = np.sort(rng.uniform(0, 1, T.size))[::-1]  # strictly decreasing a.s.
        level = float(rng.uniform(m[-1] + 1e-3, m[0] - 1e-3))
        got = ht.crossing_temperature(T, m, level)
        assert got == pytest.approx(naive_log_crossing(T, m, level), rel=1e-12)
        assert ht.crossing_temperature(3 * T, m, level) == pytest.approx(3 * got, rel=1e-12)
    # control: interpolation linear in T (not log T) lands elsewhere, and the test sees it
    m = 1 / (1 + T)
    lin = float(np.interp(-0.3, -m, T))
    assert abs(lin - naive_log_crossing(T, m, 0.3)) > 1e-4
    assert ht.crossing_temperature(T, m, 0.3) == pytest.approx(naive_log_crossing(T, m, 0.3), rel=1e-12)


def test_crossing_temperature_at_grid_points_and_exact_for_log_linear_curves():
    T = np.geomspace(0.1, 10.0, 21)
    assert ht.crossing_temperature(T, 1 / (1 + T), 0.5) == pytest.approx(1.0, rel=1e-14)
    assert ht.crossing_temperature(T, 2.0 - 0.5 * np.log(T), 1.7) == pytest.approx(np.exp(0.6), rel=1e-13)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]), 5.0), "values must cross level=5.0 downward exactly once.*0 times"),
        ((np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 0.0, 2.0, 0.0]), 1.0), "values must cross.*2 times"),
        ((np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), 2.5), "values must cross.*0 times"),  # increasing
        ((np.array([1.0, 3.0, 2.0]), np.array([3.0, 2.0, 1.0]), 1.5), "temperatures must be > 0 and strictly increasing"),
        ((np.array([0.0, 1.0, 2.0]), np.array([3.0, 2.0, 1.0]), 1.5), "temperatures must be > 0"),
        ((np.array([1.0, 2.0]), np.array([3.0, 2.0, 1.0]), 1.5), "values must have the shape of temperatures"),
        ((np.array([1.0]), np.array([3.0]), 1.5), "temperatures must be 1-D with at least 2 entries"),
        ((np.array([1.0, 2.0]), np.array([3.0, np.nan]), 1.5), "values"),
        ((np.array([1.0, 2.0]), np.array([3.0, 1.0]), np.array([1.0, 2.0])), "level must be a scalar"),
    ],
)
def test_crossing_temperature_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        ht.crossing_temperature(*args)
    with pytest.raises(TypeError, match="level"):
        ht.crossing_temperature(np.array([1.0, 2.0]), np.array([3.0, 1.0]), "1.0")
