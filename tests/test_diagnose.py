"""Tests of homtrap.diagnose: values against independent computations, verdicts, batches, bad input."""

import numpy as np
import pytest

import homtrap as ht
from homtrap import Verdict
from _helpers import match_id, naive_amax, naive_detail_factor, naive_softmax


# ---------------------------------------------------------------- independent computations
def naive_product(stack):
    prod = np.eye(stack.shape[-1])
    for M in stack:
        prod = M @ prod
    return prod


def independent_sinkformer(scores, beta=1.0, n_it=3):
    """n_it Sinkhorn half-steps on exp(beta * scores), rows first (Sinkformers' code, eps = 1), in the primal."""
    K = np.exp(beta * np.asarray(scores, dtype=float))
    for i in range(n_it):
        K = K / K.sum(axis=-1, keepdims=True) if i % 2 == 0 else K / K.sum(axis=-2, keepdims=True)
    return K


def independent_mhc(logits, t_max=20):
    """mHC's Eq. 9: M = exp(logits), then t_max times columns then rows (rows last)."""
    K = np.exp(np.asarray(logits, dtype=float))
    for _ in range(t_max):
        K = K / K.sum(axis=-2, keepdims=True)
        K = K / K.sum(axis=-1, keepdims=True)
    return K


def naive_depth(factors, eps, cycles=400):
    """First m from which the running product of the cyclically repeated factors stays <= eps (over a long horizon)."""
    prods = np.cumprod(np.tile(np.asarray(factors, dtype=float), cycles))
    above = np.flatnonzero(prods > eps)
    if above.size == 0:
        return 1.0
    if above[-1] >= prods.size - len(factors):  # still above eps in the last cycle: never for good
        return np.inf
    return float(above[-1] + 2)


# ---------------------------------------------------------------- doubly-stochastic input
def test_single_matrix_report_matches_direct_computation():
    M = ht.random_dsm(8, 0.7, rng=0)
    d = ht.diagnose(M, target=0.05)
    s = np.linalg.svd(M, compute_uv=False)
    assert d.n == 8 and d.layers == 1 and d.batch_shape == ()
    assert d.sigma2[0] == pytest.approx(s[1], abs=1e-10)
    assert d.detail_factor[0] == pytest.approx(naive_detail_factor(M), abs=1e-12)
    assert d.detail_factor[0] == pytest.approx(s[1], abs=1e-10)  # Lemma 2
    assert d.distance_to_uniform[0] == pytest.approx(s[1], abs=1e-10)
    assert d.lambda2[0] == pytest.approx(np.sort(np.abs(np.linalg.eigvals(M)))[-2], abs=1e-8)
    L = next(k for k in range(1, 1000) if s[1] ** k <= 0.05)
    assert d.effective_depth == L
    assert d.max_product_norm == pytest.approx(1.0, abs=1e-9)
    assert d.residual_change_bound == pytest.approx(s[1], abs=1e-10)
    assert (d.amax_forward, d.amax_backward) == pytest.approx(naive_amax(M), abs=1e-12)
    assert d.row_stochastic and d.verdicts == (Verdict.DEPTH_BOUND,)
    assert d.thresholds == {"homogenising": 0.1, "frozen": 0.99, "ds_tol": 1e-6}
    assert "Diagnosis" in repr(d) and "<table>" in d._repr_html_()


def test_stack_values_and_verdicts():
    A = ht.random_dsm(64, 5.0, size=6, rng=1)
    d = ht.diagnose(A, noise_std=0.01)
    prod = naive_product(A)
    assert d.detail_left == pytest.approx(np.linalg.norm(prod - 1 / 64, 2), rel=1e-6, abs=1e-14)
    assert d.detail_left == pytest.approx(naive_detail_factor(prod), rel=1e-6, abs=1e-14)
    assert d.snr == pytest.approx(np.prod(d.sigma2) * np.sqrt(64) / (0.01 * np.sqrt(63)))
    assert d.verdicts == (Verdict.HOMOGENEITY_TRAP, Verdict.RESIDUAL_STAGNATION, Verdict.ORTHOGONAL_COLLAPSE)
    assert all(text.startswith(v.name) for text, v in zip(d.explain(), d.verdicts))
    assert str(Verdict.HOMOGENEITY_TRAP).startswith("HOMOGENEITY_TRAP: ") and Verdict.HOMOGENEITY_TRAP.description


def test_permutation_preserves_detail_and_prints_no_negative_zero():
    Pi = ht.permutation_matrix([1, 0, 2])
    d = ht.diagnose(Pi)
    assert d.effective_depth == np.inf and d.distance_to_permutation[0] == 0
    assert d.detail_factor[0] == pytest.approx(1.0, abs=1e-12) and d.detail_left == pytest.approx(1.0, abs=1e-12)
    assert Verdict.KEEPS_DETAIL in d.verdicts and Verdict.DETAIL_PRESERVED in d.verdicts
    assert Verdict.DEPTH_BOUND not in d.verdicts and Verdict.NOT_DOUBLY_STOCHASTIC not in d.verdicts
    text = repr(d)
    assert not {"-0", "-0.0", "-0,"} & set(text.replace("(", " ").split()) and "nan" not in text
    # control: a doubly-stochastic layer that contracts does not claim preserved detail
    assert Verdict.DETAIL_PRESERVED not in ht.diagnose(0.5 * Pi + 0.5 / 3).verdicts


def test_near_permutation_and_column_last_truncation():
    G = 2.0 * np.eye(4) + 0.1 * ht.random_logits(4, size=3, rng=2)
    frozen = ht.diagnose(ht.sinkhorn(G, 0.05))
    assert Verdict.KEEPS_DETAIL in frozen.verdicts
    assert frozen.distance_to_permutation.max() < 0.01 and frozen.entropy_ratio.max() < 0.01
    # the book's truncated Sinkhorn normalises columns last: rows are off, no guarantee may be given
    G = ht.random_logits(16, size=(10,), rng=3)
    H = ht.truncated_sinkhorn(G, 0.2, sweeps=1)
    trunc = ht.diagnose(H)
    assert trunc.verdicts[:2] == (Verdict.NOT_DOUBLY_STOCHASTIC, Verdict.NOT_ROW_STOCHASTIC)
    for v in (Verdict.DEPTH_BOUND, Verdict.HOMOGENEITY_TRAP, Verdict.KEEPS_DETAIL, Verdict.RESIDUAL_STAGNATION):
        assert v not in trunc.verdicts
    assert not trunc.row_stochastic and trunc.max_product_norm > 1
    assert np.allclose(trunc.row_error, np.abs(H.sum(axis=2) - 1).max(axis=1), rtol=0, atol=1e-13)
    assert np.allclose(trunc.column_error, np.abs(H.sum(axis=1) - 1).max(axis=1), rtol=0, atol=1e-13)


# ---------------------------------------------------------------- row-stochastic input
def test_softmax_counterexample_uses_the_true_detail_factor():
    # a positive row-stochastic matrix is the softmax attention of its log entries
    M = naive_softmax(np.log(np.array([[0.75, 0.25], [0.01, 0.99]])))
    s2 = np.linalg.svd(M, compute_uv=False)[1]
    f = naive_detail_factor(M)
    assert s2 < f < 1
    d = ht.diagnose(M)
    assert d.detail_factor[0] == pytest.approx(f, abs=1e-12)
    assert d.sigma2[0] == pytest.approx(s2, abs=1e-12)
    old_depth = naive_depth([s2], 0.01)  # what a sigma_2-based diagnosis promised
    new_depth = naive_depth([f], 0.01)
    assert old_depth < new_depth
    P = np.eye(2) - 0.5
    # the old promise is false: after old_depth layers some detail is still larger than 1 %
    assert np.linalg.norm(P @ np.linalg.matrix_power(M, int(old_depth)) @ P, 2) > 0.01
    # the report's promise holds and is exactly the depth of the true factor
    assert d.effective_depth == new_depth
    assert np.linalg.norm(P @ np.linalg.matrix_power(M, int(d.effective_depth)) @ P, 2) <= 0.01
    assert d.verdicts[0] is Verdict.NOT_DOUBLY_STOCHASTIC and Verdict.DEPTH_BOUND in d.verdicts
    assert d.row_stochastic and "row-stochastic" in " ".join(d.explain())


def test_softmax_attention_heads_batch():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((3, 4, 2, 12, 12))  # (heads, tokens, layers, n, n)
    A = naive_softmax(scores, beta=1.5)
    d = ht.diagnose(A)
    assert d.batch_shape == (3, 4) and d.layers == 2 and d.n == 12
    assert d.detail_factor.shape == (3, 4, 2) and d.detail_left.shape == (3, 4)
    assert d.amax_forward.shape == (3, 4) and d.layer_amax_backward.shape == (3, 4, 2)
    for i in range(3):
        for j in range(4):
            stack = A[i, j]
            one = d[i, j]
            assert one.batch_shape == () and one.verdicts[0] is Verdict.NOT_DOUBLY_STOCHASTIC
            f = [naive_detail_factor(M) for M in stack]
            assert np.allclose(d.detail_factor[i, j], f, rtol=0, atol=1e-12)
            Q = naive_product(stack)
            assert d.detail_left[i, j] == pytest.approx(naive_detail_factor(Q), abs=1e-12)
            assert (d.amax_forward[i, j], d.amax_backward[i, j]) == pytest.approx(naive_amax(Q), abs=1e-12)
            assert np.allclose(d.layer_amax_backward[i, j], [naive_amax(M)[1] for M in stack], atol=1e-12)
            assert d.effective_depth[i, j] == naive_depth(np.minimum(f, 1) if max(f) <= 1 else f, 0.01)
    has = d.has(Verdict.NOT_DOUBLY_STOCHASTIC)
    assert has.shape == (3, 4) and has.all()
    assert not d.has(Verdict.NOT_ROW_STOCHASTIC).any() and d.row_stochastic.all()
    assert any("of 12 stacks" in line for line in d.explain())
    # a 3-d input is one stack, (B, 1, n, n) a batch of single layers
    assert ht.diagnose(A[0, 0]).batch_shape == () and ht.diagnose(A[0, 0][:, None]).batch_shape == (2,)


def test_sinkformer_attention_is_row_stochastic_only():
    scores = np.random.default_rng(6).standard_normal((4, 10, 10))
    A = independent_sinkformer(scores, beta=3.0, n_it=3)
    d = ht.diagnose(A)
    assert d.row_stochastic and Verdict.NOT_DOUBLY_STOCHASTIC in d.verdicts
    assert d.row_error.max() <= 1e-12 and d.column_error.max() > 1e-3
    assert np.allclose(d.detail_factor, [naive_detail_factor(M) for M in A], rtol=0, atol=1e-12)
    assert np.allclose(d.detail_profile, [naive_detail_factor(naive_product(A[: k + 1])) for k in range(4)], atol=1e-12)
    # the detail of any input is bounded by the product of the true factors
    x = np.random.default_rng(7).standard_normal((200, 10)) + 3.0
    y = x @ naive_product(A).T
    ratio = np.linalg.norm(ht.detail(y), axis=1) / np.linalg.norm(ht.detail(x), axis=1)
    assert np.all(ratio <= d.detail_left * (1 + 1e-12)) and d.detail_left <= np.prod(d.detail_factor) * (1 + 1e-12)


def test_mhc_like_near_doubly_stochastic_layers():
    # H_res as in mHC (rows normalised last), with column sums between 0.96 and 1.04
    rng = np.random.default_rng(8)
    logits = 3.0 * np.eye(4) + 2.5 * rng.standard_normal((12, 4, 4))
    H = independent_mhc(logits, t_max=20)
    col = np.abs(H.sum(axis=1) - 1).max(axis=1)
    assert col.max() <= 0.04 and col.max() > 1e-3  # the regime of mHC's learned matrices
    d = ht.diagnose(H)
    assert d.row_stochastic and Verdict.NOT_DOUBLY_STOCHASTIC in d.verdicts
    assert np.allclose(d.column_error, col, rtol=0, atol=1e-13)
    assert np.allclose(d.detail_factor, [naive_detail_factor(M) for M in H], rtol=0, atol=1e-12)
    Q = naive_product(H)
    assert d.amax_forward == pytest.approx(1.0, abs=1e-12)  # rows last: the forward gain is one
    assert (d.amax_forward, d.amax_backward) == pytest.approx(naive_amax(Q), abs=1e-12)
    assert d.detail_left == pytest.approx(naive_detail_factor(Q), abs=1e-12)
    assert d.has(Verdict.GAIN_ABOVE_ONE) == (d.amax_backward > 1 + 1e-6)
    # the depth promise for row-stochastic layers: after D_eff layers of the repeated stack, at most eps of any detail
    D = int(d.effective_depth)
    assert d.has(Verdict.DEPTH_BOUND) and 1 < D < 200
    P = np.eye(4) - 0.25
    reps = naive_product(np.resize(H, (D, 4, 4)))
    assert np.linalg.norm(P @ reps @ P, 2) <= 0.01
    assert "row-stochastic layers" in " ".join(d.explain()) and "doubly-stochastic layers" not in " ".join(d.explain())
    # control: the transposed layers are column-stochastic only and get no guarantee
    dt = ht.diagnose(H.transpose(0, 2, 1))
    assert Verdict.NOT_ROW_STOCHASTIC in dt.verdicts and not dt.has(Verdict.DEPTH_BOUND) and not dt.row_stochastic


def test_amplifying_row_stochastic_layers_depth_and_growth():
    # rows (e1, e1, e2): a row-stochastic layer whose detail factor exceeds one
    grow = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]])
    f_grow = naive_detail_factor(grow)
    assert f_grow > 1
    d = ht.diagnose(grow)
    assert d.detail_factor[0] == pytest.approx(f_grow, abs=1e-12)
    assert Verdict.DETAIL_GROWS in d.verdicts and Verdict.DEPTH_BOUND not in d.verdicts and d.effective_depth == np.inf
    rng = np.random.default_rng(9)
    for _ in range(60):
        layers = [grow if rng.random() < 0.3 else ht.random_dsm(3, float(rng.uniform(0.3, 3)), rng=rng) for _ in range(4)]
        stack = np.stack(layers)
        eps = float(rng.choice([0.5, 0.1, 0.01]))
        dd = ht.diagnose(stack, target=eps)
        f = np.array([naive_detail_factor(M) for M in stack])
        f = np.where([np.array_equal(M, grow) for M in stack], f, np.minimum(f, 1.0))
        assert dd.effective_depth == naive_depth(f, eps), (f, eps)
        assert dd.has(Verdict.DEPTH_BOUND) == np.isfinite(dd.effective_depth) or dd.has(Verdict.KEEPS_DETAIL) or dd.has(
            Verdict.HOMOGENEITY_TRAP)


# ---------------------------------------------------------------- unnormalised input and portable text
def test_unnormalised_input_gets_no_guarantee():
    M = 3.0 * ht.random_dsm(5, 1.0, rng=10)
    d = ht.diagnose(M)
    assert d.verdicts[:2] == (Verdict.NOT_DOUBLY_STOCHASTIC, Verdict.NOT_ROW_STOCHASTIC)
    assert Verdict.GAIN_ABOVE_ONE in d.verdicts
    assert not ({Verdict.DEPTH_BOUND, Verdict.HOMOGENEITY_TRAP, Verdict.KEEPS_DETAIL} & set(d.verdicts))
    assert d.amax_forward == pytest.approx(3.0, abs=1e-12) and d.row_error[0] == pytest.approx(2.0, abs=1e-12)
    noisy = ht.diagnose(M, noise_std=0.1)
    assert noisy.snr is not None and Verdict.ORTHOGONAL_COLLAPSE not in noisy.verdicts
    assert Verdict.NO_FORCED_COLLAPSE not in noisy.verdicts


def test_rounding_level_values_print_as_bounds():
    M = ht.random_dsm(6, 1.0, rng=11)
    tiny = M.copy()
    tiny[0, 0] += 1.8e-13
    tiny[0, 1] -= 1.8e-13  # rows still sum to one, two columns off by 1.8e-13
    text = repr(ht.diagnose(np.stack([tiny, M])))
    assert "below 1e-11" in text and "e-13" not in text and "e-14" not in text
    # control: a marginal error above the resolution is printed as a number
    big = M.copy()
    big[0, 0] += 2e-7
    big[0, 1] -= 2e-7
    assert "2e-07" in repr(ht.diagnose(big))


def test_large_n_path_matches_dense_path():
    A = independent_sinkformer(np.random.default_rng(12).standard_normal((2, 40, 40)), beta=2.0)
    M = ht.random_dsm(40, 1.0, rng=13)
    for X in (A, A[0], M):  # a row-stochastic stack, one such layer, one doubly-stochastic layer
        dense = ht.diagnose(X)
        sparse = ht.diagnose(X, dense_max_n=16)
        assert sparse.lambda2 is None and sparse.distance_to_permutation is None
        assert "not computed" in repr(sparse)
        for name in ("detail_factor", "sigma2", "distance_to_uniform", "detail_profile"):
            assert np.allclose(getattr(sparse, name), getattr(dense, name), rtol=0, atol=1e-9), name
        assert sparse.max_product_norm == pytest.approx(dense.max_product_norm, abs=1e-9)
        assert sparse.verdicts == dense.verdicts


def test_thresholds_are_keywords():
    M = ht.random_dsm(16, 3.0, rng=14)
    f = ht.diagnose(M).detail_factor[0]
    assert Verdict.HOMOGENEITY_TRAP in ht.diagnose(M, homogenising=min(0.99, 2 * f)).verdicts
    assert Verdict.HOMOGENEITY_TRAP not in ht.diagnose(M, homogenising=f / 2).verdicts
    assert Verdict.KEEPS_DETAIL in ht.diagnose(M, homogenising=f / 4, frozen=f / 2).verdicts
    H = independent_mhc(ht.random_logits(4, size=2, rng=15), t_max=20)
    me = ht.diagnose(H).marginal_error.max()
    assert Verdict.NOT_DOUBLY_STOCHASTIC in ht.diagnose(H, ds_tol=me / 2).verdicts
    assert Verdict.NOT_DOUBLY_STOCHASTIC not in ht.diagnose(H, ds_tol=2 * me).verdicts


def test_plot_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    ax = ht.diagnose(ht.random_dsm(8, 1.0, size=4, rng=4)).plot()
    assert len(ax.lines) >= 3


def test_thresholds_are_module_constants_and_the_defaults():
    from homtrap._diagnose import DENSE_MAX_N, DS_TOL, FROZEN, HOMOGENISING

    import inspect

    defaults = {k: p.default for k, p in inspect.signature(ht.diagnose).parameters.items()}
    assert (defaults["homogenising"], defaults["frozen"], defaults["ds_tol"], defaults["dense_max_n"]) == (
        HOMOGENISING, FROZEN, DS_TOL, DENSE_MAX_N)
    assert ht.diagnose(np.eye(3)).thresholds == {"homogenising": HOMOGENISING, "frozen": FROZEN, "ds_tol": DS_TOL}


def test_diagnose_defaults_mapping_is_the_signature_and_read_only():
    import inspect

    from homtrap._diagnose import RESOLUTION

    defaults = {k: p.default for k, p in inspect.signature(ht.diagnose).parameters.items() if k in ht.DIAGNOSE_DEFAULTS}
    assert defaults == {k: v for k, v in ht.DIAGNOSE_DEFAULTS.items() if k != "resolution"}
    assert set(ht.DIAGNOSE_DEFAULTS) - set(defaults) == {"resolution"} and ht.DIAGNOSE_DEFAULTS["resolution"] == RESOLUTION
    with pytest.raises(TypeError, match="does not support item assignment"):
        ht.DIAGNOSE_DEFAULTS["target"] = 0.5  # type: ignore[index]


def test_text_does_not_depend_on_rounding():
    rng = np.random.default_rng(16)
    A = ht.random_dsm(8, 1.0, size=5, rng=rng)
    B = A * (1 + 1e-13 * rng.standard_normal(A.shape))  # a different machine's last bits
    da, db = ht.diagnose(A, noise_std=0.05), ht.diagnose(B, noise_std=0.05)
    assert repr(da) == repr(db) and da.explain() == db.explain()
    # control: the underlying numbers do differ, so full-precision text would differ
    assert repr(da.detail_factor.tolist()) != repr(db.detail_factor.tolist())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(M=np.ones((2, 3))), r"\bM must be square in its last two axes"),
        (dict(M=np.full((3, 3), np.nan)), r"\bM must be finite; found 9 NaN/inf"),
        (dict(M=np.eye(3) * 1j), r"\bM must be real, got a complex array"),
        (dict(M=np.eye(3, dtype=bool)), r"\bM must be a real numeric array, got a boolean array"),
        (dict(M=np.full((40, 3, 3), 1e200)), r"\bM\b: the products .* overflow float64"),
        (dict(M=np.eye(3), target="0.1"), r"\btarget must be a real number, got str"),
        (dict(M=np.eye(3), target=np.array([0.1, 0.2])), r"\btarget must be a real number, got ndarray"),
        (dict(M=np.eye(3), ds_tol=True), r"\bds_tol must be a real number, got bool"),
        (dict(M=np.eye(3), noise_std=np.nan), r"\bnoise_std must be finite, got nan"),
        (dict(M=np.eye(3), noise_std=1.0, detail_norm=0.0), r"\bdetail_norm must be > 0, got 0\.0"),
        (dict(M=-np.eye(3)), r"\bM must be entrywise non-negative"),
        (dict(M=np.eye(3), target=1.0), r"\btarget must lie in the open interval \(0, 1\), got 1\.0"),
        (dict(M=np.eye(3), noise_std=-1.0), r"\bnoise_std must be > 0, got -1\.0"),
        (dict(M=np.eye(3), detail_norm=1.0), r"\bdetail_norm is only used together with noise_std"),
        (dict(M=np.eye(1)), r"\bM must be at least 2x2, got shape \(1, 1\)"),
        (dict(M=np.eye(3), homogenising=0.0), r"\bhomogenising must be > 0, got 0\.0"),
        (dict(M=np.eye(3), frozen=1.5), r"\bfrozen must lie in the open interval \(0, 1\), got 1\.5"),
        (dict(M=np.eye(3), homogenising=0.5, frozen=0.4), r"\bhomogenising must be below frozen, got homogenising=0\.5 and frozen=0\.4"),
        (dict(M=np.eye(3), ds_tol=0.0), r"\bds_tol must be > 0, got 0\.0"),
        (dict(M=np.eye(3), dense_max_n=1), r"\bdense_max_n must be >= 2, got 1"),
        (dict(M=np.eye(3), dense_max_n=2.5), r"\bdense_max_n must be an integer, got float 2\.5"),
    ],
    ids=match_id,
)
def test_bad_input(kwargs, match):
    M = kwargs.pop("M")
    with pytest.raises((ValueError, TypeError), match=match):
        ht.diagnose(M, **kwargs)


def test_bad_use_of_a_report():
    single = ht.diagnose(np.eye(3))
    with pytest.raises(TypeError, match=r"this Diagnosis is of a single stack; only batched diagnoses can be indexed"):
        single[0]
    with pytest.raises(TypeError, match=r"\bverdict must be a homtrap\.Verdict member, got str"):
        single.has("HOMOGENEITY_TRAP")
    batch = ht.diagnose(np.stack([np.eye(3)] * 2)[:, None])
    with pytest.raises(IndexError, match=r"\bindex slice\(None, None, None\) must select one stack of batch shape \(2,\)"):
        batch[:]
    with pytest.raises(TypeError, match=r"plot one stack of a batch: d\[i\]\.plot\(\)"):
        batch.plot()


def test_collapse_depth_counts_cyclically_and_plot_draws_detail():
    A = np.stack([0.9 * np.eye(4) + 0.1 / 4, 0.01 * np.eye(4) + 0.99 / 4])
    nu = 8 / (5 * np.sqrt(3))
    d = ht.diagnose(A, noise_std=nu, detail_norm=1.0)
    gamma0 = 1.0 / (nu * np.sqrt(3))
    s = d.sigma2
    brute = next(k for k in range(0, 100) if 8 * gamma0 * np.prod(np.resize(s, k)) <= 1)
    assert d.collapse_depth == brute == 2
    import matplotlib

    matplotlib.use("Agg")
    ax = d.plot()
    ax.figure.savefig(__import__("io").BytesIO(), format="png")  # mathtext must render
    assert len(ax.lines) == 5  # sigma2, lambda2, bound, detail left, the line at 1


def test_sigma2_never_exceeds_one_for_doubly_stochastic_input():
    G = ht.random_logits(4, size=256, rng=np.random.default_rng(20260122))[26]
    M = ht.sinkhorn(G, 0.05)
    assert ht.sigma2(M) <= 1.0
    assert np.isfinite(ht.effective_depth(ht.sigma2(M), 0.01)) or ht.sigma2(M) == 1.0
