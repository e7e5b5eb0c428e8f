"""Bad input is rejected loudly: the right exception type, and a message naming the argument.

One test per class of bad input, parametrised over every public function it applies to.
TypeError: the wrong kind of object (complex, strings, booleans, non-numeric, non-integer n).
ValueError: the right kind with a bad value (NaN/inf, wrong shape, empty, out of range).
"""

import numpy as np
import pytest

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

GOOD_M = np.full((3, 3), 1 / 3)
GOOD_Y = np.array([1.0, 2.0, 4.0])


def arg(name, problem):
    """Regex matching the argument name as a whole word, followed by the problem (a regex)."""
    return rf"\b{name} {problem}"


FINITE = r"must be finite; found \d+ NaN/inf entries"


# functions taking a stack of square matrices, with that argument's name
MATRIX_FUNCS = {
    "sinkhorn": (lambda a: ht.sinkhorn(a, 1.0), "logits"),
    "sinkhorn_solve": (lambda a: ht.sinkhorn_solve(a, 1.0), "logits"),
    "oscillation": (lambda a: ht.oscillation(a), "logits"),
    "sigma2_derivative": (lambda a: ht.sigma2_derivative(a, 1.0), "logits"),
    "gram_laplacian": (lambda a: ht.gram_laplacian(a), "M"),
    "scaled_power_norms": (lambda a: ht.scaled_power_norms(a, [1, 2]), "B"),
    "sigma2": (lambda a: ht.sigma2(a), "M"),
    "sigma2_svd": (lambda a: ht.sigma2(a, assume_doubly_stochastic=False), "M"),
    "lambda2": (lambda a: ht.lambda2(a), "M"),
    "singular_values": (lambda a: ht.singular_values(a), "M"),
    "marginal_error": (lambda a: ht.marginal_error(a), "M"),
    "is_doubly_stochastic": (lambda a: ht.is_doubly_stochastic(a), "M"),
    "birkhoff_decomposition": (lambda a: ht.birkhoff_decomposition(a), "M"),
    "sinkhorn_jacobian": (lambda a: ht.sinkhorn_jacobian(a), "M"),
    "off_permutation_max": (lambda a: ht.off_permutation_max(a), "M"),
}

# functions taking a stack of vectors
VECTOR_FUNCS = {
    "detail": (lambda a: ht.detail(a), "x"),
    "mean_part": (lambda a: ht.mean_part(a), "x"),
    "layer_norm": (lambda a: ht.layer_norm(a), "y"),
    "normalise_detail": (lambda a: ht.normalise_detail(a), "y"),
    "circulant_eigenvalues": (lambda a: ht.circulant_eigenvalues(a), "c"),
}

ARRAY_FUNCS = {**MATRIX_FUNCS, **VECTOR_FUNCS}

# functions taking a matrix size n
N_FUNCS = {
    "centring_projector": lambda n: ht.centring_projector(n),
    "uniform_barycenter": lambda n: ht.uniform_barycenter(n),
    "random_dsm": lambda n: ht.random_dsm(n, 1.0, rng=0),
    "random_logits": lambda n: ht.random_logits(n, rng=0),
}

# functions taking a temperature
T_FUNCS = {
    "sinkhorn": lambda T: ht.sinkhorn(GOOD_M, T),
    "sinkhorn_solve": lambda T: ht.sinkhorn_solve(GOOD_M, T),
    "random_dsm": lambda T: ht.random_dsm(3, T, rng=0),
    "sigma2_derivative": lambda T: ht.sigma2_derivative(GOOD_M, T),
}


def good_input(name):
    return GOOD_M if name in MATRIX_FUNCS else GOOD_Y


def with_entry(name, value):
    a = good_input(name).astype(float)
    a.flat[1] = value
    return a


def test_good_inputs_are_accepted():
    """Sanity check for the fixtures used below."""
    for name, (f, _) in ARRAY_FUNCS.items():
        f(good_input(name))
    for f in N_FUNCS.values():
        f(3)
    for f in T_FUNCS.values():
        f(0.5)


# -------------------------------------------------------------- array entries
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_non_finite_entries(name, bad):
    f, argname = ARRAY_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, FINITE)):
        f(with_entry(name, bad))


@pytest.mark.parametrize("name", [k for k in ARRAY_FUNCS if k != "birkhoff_decomposition"])  # 2-D only
def test_nan_in_one_batch_member(name):
    f, argname = ARRAY_FUNCS[name]
    a = np.stack([good_input(name)] * 3).astype(float)
    a[1].flat[0] = np.nan
    with pytest.raises(ValueError, match=arg(argname, FINITE)):
        f(a)


@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_complex_arrays(name):
    f, argname = ARRAY_FUNCS[name]
    with pytest.raises(TypeError, match=arg(argname, "must be real, got a complex array")):
        f(good_input(name).astype(complex))


@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_string_arrays(name):
    f, argname = ARRAY_FUNCS[name]
    with pytest.raises(TypeError, match=arg(argname, r"must be a real numeric array, got dtype <U\d+")):
        f(good_input(name).astype(str))


@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_bool_arrays(name):
    f, argname = ARRAY_FUNCS[name]
    with pytest.raises(TypeError, match=arg(argname, "must be a real numeric array, got a boolean array")):
        f(np.ones_like(good_input(name), dtype=bool))


@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_none_and_object_input(name):
    f, argname = ARRAY_FUNCS[name]
    with pytest.raises(TypeError, match=arg(argname, "must be a real numeric array, got dtype object")):
        f(None)
    with pytest.raises(TypeError, match=arg(argname, "must be a real numeric array, got dtype object")):
        f(np.array([{"a": 1}] * good_input(name).size, dtype=object).reshape(good_input(name).shape))


@pytest.mark.parametrize("name", ARRAY_FUNCS)
def test_ragged_nested_lists(name):
    f, argname = ARRAY_FUNCS[name]
    ragged = [[1.0, 0.0], [0.0]] if name in MATRIX_FUNCS else [[1.0, 2.0], [3.0]]
    # the spec does not fix the type here
    with pytest.raises((TypeError, ValueError), match=arg(argname, "must be a real numeric array; could not convert it")):
        f(ragged)


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (4, 1)])
@pytest.mark.parametrize("name", MATRIX_FUNCS)
def test_non_square(name, shape):
    f, argname = MATRIX_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, r"must be square in its last two axes, got shape \(")):
        f(np.full(shape, 0.25))


@pytest.mark.parametrize("value", [np.array([0.5, 0.5]), np.array(1.0), 1.0])
@pytest.mark.parametrize("name", MATRIX_FUNCS)
def test_matrix_ndim_below_two(name, value):
    f, argname = MATRIX_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, r"must have at least 2 dimensions \(\.\.\., n, n\), got shape")):
        f(value)


@pytest.mark.parametrize("name", VECTOR_FUNCS)
def test_vector_ndim_zero(name):
    f, argname = VECTOR_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, r"must have at least 1 dimension \(\.\.\., n\), got a scalar")):
        f(np.array(2.0))


@pytest.mark.parametrize("shape", [(0, 0), (3, 0, 0)])
@pytest.mark.parametrize("name", MATRIX_FUNCS)
def test_empty_matrices(name, shape):
    f, argname = MATRIX_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, r"must not be empty, got shape \(")):
        f(np.zeros(shape))


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
@pytest.mark.parametrize("name", VECTOR_FUNCS)
def test_empty_vectors(name, shape):
    f, argname = VECTOR_FUNCS[name]
    with pytest.raises(ValueError, match=arg(argname, r"must not be empty, got shape \(")):
        f(np.zeros(shape))


@pytest.mark.parametrize("func", [ht.sigma2, ht.lambda2])
def test_spectral_functions_need_n_at_least_two(func):
    with pytest.raises(ValueError, match=arg("M", r"must be at least 2x2, got shape \(1, 1\)")):
        func(np.array([[1.0]]))
    with pytest.raises(ValueError, match=arg("M", r"must be at least 2x2, got shape \(4, 1, 1\)")):
        func(np.ones((4, 1, 1)))


# ------------------------------------------------------------------ temperature
@pytest.mark.parametrize("T", [0, 0.0, -1.0, -1e-300, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", T_FUNCS)
def test_temperature_bad_value(name, T):
    problem = "must be > 0, got" if np.isfinite(T) else "must be finite, got"
    with pytest.raises(ValueError, match=arg("temperature", problem)):
        T_FUNCS[name](T)


@pytest.mark.parametrize("T", [1 + 2j, np.complex128(1.0), "1.0", None, [1.0]])
@pytest.mark.parametrize("name", T_FUNCS)
def test_temperature_non_real(name, T):
    with pytest.raises(TypeError, match=arg("temperature", "must be a real number, got")):
        T_FUNCS[name](T)


# ---------------------------------------------------------------------------- n
@pytest.mark.parametrize("n", [0, -1, -10])
@pytest.mark.parametrize("name", N_FUNCS)
def test_n_too_small(name, n):
    with pytest.raises(ValueError, match=arg("n", rf"must be >= 1, got {n}")):
        N_FUNCS[name](n)


@pytest.mark.parametrize("n", [2.5, "3", None, 3 + 0j, np.float64(2.5)])
@pytest.mark.parametrize("name", N_FUNCS)
def test_n_not_an_integer(name, n):
    with pytest.raises(TypeError, match=arg("n", "must be an integer, got")):
        N_FUNCS[name](n)


# ------------------------------------------------------------ effective_depth
@pytest.mark.parametrize("s", [-0.1, 1.0 + 1e-9, 2.0, np.nan, np.inf, np.array([0.5, 1.5]), np.array([np.nan, 0.5])])
def test_effective_depth_sigma2_out_of_range(s):
    problem = r"must lie in \[0, 1\]" if np.all(np.isfinite(s)) else FINITE
    with pytest.raises(ValueError, match=arg("sigma2", problem)):
        ht.effective_depth(s, 0.1)


@pytest.mark.parametrize("target", [0.0, 1.0, -0.5, 2.0, np.nan, np.inf, np.array([0.1, 1.0])])
def test_effective_depth_target_out_of_range(target):
    problem = r"must lie in the open interval \(0, 1\)" if np.all(np.isfinite(target)) else FINITE
    with pytest.raises(ValueError, match=arg("target", problem)):
        ht.effective_depth(0.5, target)


@pytest.mark.parametrize(
    "bad, problem",
    [
        (0.5 + 0j, "must be real, got a complex array"),
        ("0.5", r"must be a real numeric array, got dtype <U3"),
        (None, "must be a real numeric array, got dtype object"),
        (True, "must be a real numeric array, got a boolean array"),
        (np.array([True]), "must be a real numeric array, got a boolean array"),
    ],
    ids=["(0.5+0j)", "0.5", "None", "True", "bad4"],
)
def test_effective_depth_non_real(bad, problem):
    with pytest.raises(TypeError, match=arg("sigma2", problem)):
        ht.effective_depth(bad, 0.1)
    with pytest.raises(TypeError, match=arg("target", problem)):
        ht.effective_depth(0.5, bad)


# ------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    "y",
    [
        np.full(5, 3.0),
        np.zeros(4),
        np.array([7.0]),
        np.array([[1.0, 2.0], [5.0, 5.0]]),
        np.full(3, 0.1),  # mean(y) != 0.1 in floating point: "variance" ~1e-34 from rounding
        np.full(7, 0.7),
    ],
    ids=str,
)
@pytest.mark.parametrize("func", [ht.layer_norm, ht.normalise_detail])
def test_zero_variance(func, y):
    if y.shape[-1] < 2:
        problem = "must have at least 2 entries along its last axis"
    else:
        problem = "has a vector with zero " + ("variance" if func is ht.layer_norm else "detail part")
    with pytest.raises(ValueError, match=arg("y", problem)):
        func(y)


@pytest.mark.parametrize("eps", [-1e-5, np.nan, np.inf])
def test_layer_norm_bad_eps(eps):
    problem = "must be >= 0, got" if np.isfinite(eps) else FINITE
    with pytest.raises(ValueError, match=arg("eps", problem)):
        ht.layer_norm(GOOD_Y, eps=eps)


@pytest.mark.parametrize("which", ["weight", "bias"])
def test_layer_norm_bad_affine_params(which):
    with pytest.raises(ValueError, match=arg(which, r"must broadcast against y of shape \(3,\), got shape \(4,\)")):
        ht.layer_norm(GOOD_Y, **{which: np.ones(4)})
    with pytest.raises(ValueError, match=arg(which, FINITE)):
        ht.layer_norm(GOOD_Y, **{which: np.array([1.0, np.nan, 1.0])})
    with pytest.raises(TypeError, match=arg(which, "must be real, got a complex array")):
        ht.layer_norm(GOOD_Y, **{which: np.ones(3, dtype=complex)})


# ----------------------------------------------------------- sinkhorn options
@pytest.mark.parametrize("mode", ["bogus", "WARN", "", "raise "])
def test_on_failure_not_allowed(mode):
    with pytest.raises(ValueError, match=arg("on_failure", "must be 'warn', 'raise' or 'ignore', got")):
        ht.sinkhorn(GOOD_M, 1.0, on_failure=mode)


@pytest.mark.parametrize("mode", [None, 1, True])
def test_on_failure_wrong_type(mode):
    with pytest.raises((ValueError, TypeError), match=arg("on_failure", "must be 'warn', 'raise' or 'ignore', got")):
        ht.sinkhorn(GOOD_M, 1.0, on_failure=mode)


@pytest.mark.parametrize("func", [ht.sinkhorn, ht.sinkhorn_solve])
def test_tol_and_max_iter(func):
    for tol in (0.0, -1e-3, np.nan, np.inf):
        with pytest.raises(ValueError, match=arg("tol", "must be > 0, got" if np.isfinite(tol) else "must be finite, got")):
            func(GOOD_M, 1.0, tol=tol)
    with pytest.raises(TypeError, match=arg("tol", "must be a real number, got str")):
        func(GOOD_M, 1.0, tol="1e-9")
    for max_iter in (0, -5):
        with pytest.raises(ValueError, match=arg("max_iter", rf"must be >= 1, got {max_iter}")):
            func(GOOD_M, 1.0, max_iter=max_iter)
    for max_iter in (2.5, "10", None):
        with pytest.raises(TypeError, match=arg("max_iter", "must be an integer, got")):
            func(GOOD_M, 1.0, max_iter=max_iter)


# ---------------------------------------------------------- permutation_matrix
@pytest.mark.parametrize(
    "perm", [[0, 0, 1], [0, 1, 3], [-1, 0, 1], [[0, 1], [1, 0]], [], np.array(0)], ids=str
)
def test_permutation_matrix_rejects_non_permutations(perm):
    one_d = np.ndim(perm) == 1 and len(perm) == 3
    problem = r"must be a permutation of 0\.\.2" if one_d else "must be a non-empty 1-D integer array"
    with pytest.raises(ValueError, match=arg("perm", problem)):
        ht.permutation_matrix(perm)


@pytest.mark.parametrize("perm", [[0.5, 1.5], ["a", "b"], [True, False], [0j, 1 + 0j]], ids=str)
def test_permutation_matrix_rejects_non_integers(perm):
    # the spec does not fix the type here
    with pytest.raises((TypeError, ValueError), match=arg("perm", "must be a non-empty 1-D integer array")):
        ht.permutation_matrix(perm)


# ------------------------------------------------------------------ no hang


def test_errors_do_not_leave_nan_results():
    """A bad call must raise, never return NaN silently."""
    for f, argname in ARRAY_FUNCS.values():
        with pytest.raises((TypeError, ValueError), match=arg(argname, FINITE)):
            f(np.full((3, 3), np.nan))
