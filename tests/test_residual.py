"""Tests of homtrap._residual (Part V): residual stacks against an explicit loop and the corrected
Proposition 1, the activations (relu, gelu) with their Lipschitz constants, and the stack's Jacobian
residual_jacobian against finite differences."""

import numpy as np
import pytest

import homtrap as ht
from scipy.optimize import minimize_scalar
import homtrap
from homtrap import __all__ as residual_all
from homtrap import gelu_slope
from _helpers import match_id


def test_residual_stack_matches_loop_and_corrected_proposition():
    rng = np.random.default_rng(5)
    Ms = ht.random_dsm(16, 0.7, size=6, rng=rng)
    x0 = rng.standard_normal((4, 16)) + 5.0
    tr = ht.residual_stack(x0, Ms, "relu")
    x = x0.copy()
    for ell, M in enumerate(Ms):
        upd = np.maximum(x @ M.T, 0)
        np.testing.assert_allclose(tr.update_norms[:, ell], np.linalg.norm(upd, axis=1))
        # corrected Proposition 1: ||P phi(Mx)|| <= sigma2 ||Px||
        assert np.all(tr.detail_update_norms[:, ell] <= ht.sigma2(M) * np.linalg.norm(ht.detail(x), axis=1) + 1e-12)
        x = x + upd
    np.testing.assert_allclose(tr.states[:, -1], x)
    change = tr.relative_detail_change()
    assert np.all(change <= np.prod(1 + ht.sigma2(Ms)) - 1)


def test_gelu_and_activation_errors():
    z = np.linspace(-5, 5, 100_001)
    slope = np.diff(ht.gelu(z)) / np.diff(z)
    assert 1.1 < slope.max() < 1.2  # not 1-Lipschitz
    with pytest.raises(ValueError, match=r"\bactivation must be one of \['gelu', 'relu', 'tanh'\] or a callable, got 'swish'"):
        ht.residual_stack(np.ones((1, 3)) + np.arange(3), ht.random_dsm(3, 1.0, size=2, rng=0), "swish")
    with pytest.raises(ValueError, match=r"\blayers are 3x3 but x0 has length 4"):
        ht.residual_stack(np.arange(4.0), ht.random_dsm(3, 1.0, size=2, rng=0))


def test_lipschitz_constants():
    z = np.linspace(-8, 8, 400_001)
    fd = np.abs(np.diff(ht.gelu(z)) / np.diff(z)).max()
    assert ht.lipschitz_constant("gelu") == pytest.approx(fd, abs=1e-6)
    assert ht.lipschitz_constant("gelu") == pytest.approx(1.128993, abs=2e-6)
    assert ht.lipschitz_constant("relu") == ht.lipschitz_constant("tanh") == 1.0
    with pytest.raises(ValueError, match=r"\bactivation must be one of \['gelu', 'relu', 'tanh'\], got 'swish'"):
        ht.lipschitz_constant("swish")


# ----------------------------------------------------------------------
# Tests of homtrap._residual.gelu_slope (public since the restructure; book/14_proposition1.ipynb had a copy).

C0 = np.sqrt(2 / np.pi)


def chapter_gelu_slope(z):
    # the chapter's copy, verbatim (book/14_proposition1.ipynb, the cell of rem-gelu-lipschitz)
    u = C0 * (z + 0.044715 * z**3)
    t = np.tanh(u)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t**2) * C0 * (1 + 3 * 0.044715 * z**2)


def test_public():
    assert "gelu_slope" in residual_all


def test_agrees_with_the_chapters_copy():
    z = np.linspace(-6, 6, 2001)
    assert np.abs(gelu_slope(z) - chapter_gelu_slope(z)).max() <= 4e-16


def test_against_finite_differences_of_gelu():
    z = np.linspace(-6, 6, 2001)
    h = 1e-5
    fd = (homtrap.gelu(z + h) - homtrap.gelu(z - h)) / (2 * h)
    assert np.abs(fd - gelu_slope(z)).max() <= 1e-8
    # must-fail control: the slope of the exact (erf) GELU differs from the tanh approximation's by more
    from scipy.special import erf
    exact = 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    assert np.abs(exact - gelu_slope(z)).max() > 1e-4


def test_symmetry_and_sign():
    z = np.linspace(-6, 6, 2001)
    assert np.abs(gelu_slope(z) + gelu_slope(-z) - 1).max() <= 1e-12
    assert gelu_slope(np.array(0.0)) == 0.5
    assert np.all(gelu_slope(np.linspace(-6, -0.76, 500)) < 0) and np.all(gelu_slope(np.linspace(-0.75, 6, 500)) > 0)


def test_maximum_is_the_lipschitz_constant():
    opt = minimize_scalar(lambda s: -gelu_slope(s), bounds=(0.0, 3.0), method="bounded", options={"xatol": 1e-10})
    lip = homtrap.lipschitz_constant("gelu")
    assert abs(-opt.fun - lip) <= 1e-12 and 1.41 < opt.x < 1.43
    assert gelu_slope(np.linspace(-10, 10, 200_001)).max() <= lip + 1e-12
    assert lip > 1.12  # GELU is not 1-Lipschitz


def test_shapes_and_scalars():
    assert gelu_slope(np.zeros((2, 3))).shape == (2, 3)
    assert isinstance(gelu_slope(np.float64(1.0)), np.floating)
    assert np.isnan(gelu_slope(np.array(np.nan)))


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
def test_activations_secant_slopes(name):
    grid = np.linspace(-10, 10, 400_001)
    secant = np.diff(homtrap.ACTIVATIONS[name](grid)) / np.diff(grid)
    lip = homtrap.lipschitz_constant(name)
    assert np.abs(secant).max() <= lip + 1e-9 and np.abs(secant).max() >= lip - 1e-6


# ------------------------------------------------------------------------- residual_jacobian
def naive_stack_output(x0, layers, phi, W):
    """x_L of x_{l+1} = x_l + W phi(M_l x_l), by an explicit loop (not homtrap.residual_stack)."""
    x = np.array(x0, float)
    for M in layers:
        x = x + W @ phi(M @ x)
    return x


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("weight", ["scalar", "detail"])
def test_residual_jacobian_matches_finite_differences(name, weight):
    n, L = 6, 5
    layers = ht.random_dsm(n, 1.0, size=L, rng=3)
    x0 = np.random.default_rng(4).standard_normal(n) + 0.7
    P = np.eye(n) - 1 / n
    W = 2.0 * np.eye(n) if weight == "scalar" else 1 / n + 3.0 * P
    bw = 2.0 if weight == "scalar" else W
    phi = ht.ACTIVATIONS[name]
    states = np.array([x0])
    for M in layers:
        states = np.vstack([states, states[-1] + W @ phi(M @ states[-1])])
    J = ht.residual_jacobian(states, layers, name, branch_weight=bw)
    h = 1e-6
    fd = np.column_stack([(naive_stack_output(x0 + h * e, layers, phi, W)
                           - naive_stack_output(x0 - h * e, layers, phi, W)) / (2 * h) for e in np.eye(n)])
    np.testing.assert_allclose(J, fd, rtol=0, atol=1e-6 * np.abs(fd).max())
    # control: the same factors I + W D_l M_l multiplied in the wrong order are rejected by the same test
    slope = {"relu": lambda z: (z > 0).astype(float), "tanh": lambda z: 1 / np.cosh(z) ** 2, "gelu": gelu_slope}[name]
    wrong = np.eye(n)
    for M, x in zip(layers, states[:-1]):
        wrong = wrong @ (np.eye(n) + W @ (slope(M @ x)[:, None] * M))
    assert not np.allclose(wrong, fd, rtol=0, atol=1e-6 * np.abs(fd).max())


def test_residual_jacobian_batches_and_matches_residual_stack():
    layers = ht.random_dsm(4, 1.0, size=(3, 6), rng=1)  # three stacks of six layers
    x0 = np.random.default_rng(2).standard_normal((3, 5, 4))  # five inputs per stack
    tr = ht.residual_stack(x0, layers[:, None], "tanh", branch_gain=0.5)
    J = ht.residual_jacobian(tr.states, layers[:, None], "tanh", branch_weight=0.5)
    assert J.shape == (3, 5, 4, 4)
    for s in range(3):
        for b in range(5):
            np.testing.assert_array_equal(J[s, b], ht.residual_jacobian(tr.states[s, b], layers[s], branch_weight=0.5))
    # at x_0 = 0 with a tanh branch, D_l = I and the mean direction grows by (1 + alpha)^L
    zero = ht.residual_stack(np.zeros(4), layers[0], "tanh", branch_gain=0.5)
    J0 = ht.residual_jacobian(zero.states, layers[0], "tanh", branch_weight=0.5)
    np.testing.assert_allclose(J0 @ np.ones(4), 1.5**6 * np.ones(4), rtol=1e-9)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(states=np.zeros(4)), r"\bstates must have shape \(\.\.\., L \+ 1, n\)"),
        (dict(layers=np.full((2, 4, 4), 0.25)), r"\blayers must have shape \(\.\.\., L, n, n\) = \(\.\.\., 3, 4, 4\)"),
        (dict(activation="softplus"), r"\bactivation must be one of \['gelu', 'relu', 'tanh'\]"),
        (dict(activation=np.tanh), r"\bactivation must be one of"),
        (dict(branch_weight=np.ones(4)), r"\bbranch_weight must be a scalar or of shape \(4, 4\)"),
        (dict(branch_weight=np.nan), r"\bbranch_weight must be finite"),
        (dict(states=np.full((4, 4), np.inf)), r"\bstates must be finite"),
    ],
    ids=match_id,
)
def test_residual_jacobian_bad_input(kw, match):
    args = dict(states=np.zeros((4, 4)), layers=np.full((3, 4, 4), 0.25), activation="tanh") | kw
    with pytest.raises((ValueError, TypeError), match=match):
        ht.residual_jacobian(args.pop("states"), args.pop("layers"), **args)


# ------------------------------------------------------------------------ activation_increment
def independent_increment(name, m, z):
    """phi(m + z) - phi(m) in extended precision (numpy.longdouble), plain difference."""
    m, z = np.longdouble(m), np.longdouble(z)
    phi = {"relu": lambda y: np.maximum(y, 0), "tanh": np.tanh,
           "gelu": lambda y: 0.5 * y * (1 + np.tanh(np.sqrt(np.longdouble(2) / np.pi) * (y + np.longdouble(0.044715) * y**3)))}[name]
    return float(phi(m + z) - phi(m))


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
def test_activation_increment_matches_the_difference(name):
    rng = np.random.default_rng(41)
    m = rng.normal(0, 3, 400)
    z = rng.normal(0, 1, 400)
    got = ht.activation_increment(name, m, z)
    assert got.shape == (400,)
    want = np.array([independent_increment(name, a, b) for a, b in zip(m, z)])
    # relative accuracy, except for gelu at m < 0, where psi is small and accurate to the rounding
    # of m and z (the formula subtracts terms of their size there); the oracle's own plain
    # difference is accurate to its precision (80-bit on x86-64, only float64 on some platforms)
    err = np.abs(got - want)
    bound = (1e-12 * np.abs(want) + 8 * float(np.finfo(np.longdouble).eps) * (1 + np.abs(m) + np.abs(z))
             + (8 * np.finfo(float).eps * (np.abs(m) + np.abs(z)) if name == "gelu" else 0.0))
    assert np.all(err <= bound), (name, float((err / (bound + 1e-300)).max()))
    direct = ht.ACTIVATIONS[name](m + z) - ht.ACTIVATIONS[name](m)
    np.testing.assert_allclose(got, direct, rtol=1e-9, atol=1e-12)


def test_activation_increment_keeps_the_digits_the_plain_difference_loses():
    """Control: at m = 20, z = 1e-3 the plain tanh difference is 0 (both terms round to one), the
    increment is z sech^2(m) to first order; for relu at m = 1e8 the plain difference is off by 1e-8."""
    m, z = 20.0, 1e-3
    assert np.tanh(m + z) - np.tanh(m) == 0.0
    exact = np.sinh(z) / (np.cosh(m + z) * np.cosh(m))
    assert ht.activation_increment("tanh", m, z) == pytest.approx(exact, rel=1e-14)
    assert ht.activation_increment("tanh", m, z) == pytest.approx(z / np.cosh(m) ** 2, rel=2e-3)
    assert abs(((1e8 + 1e-3) - 1e8) / 1e-3 - 1) > 1e-9  # the plain relu difference
    assert ht.activation_increment("relu", 1e8, 1e-3) == 1e-3
    # beyond cosh's range the plain difference is used, and is exact there
    assert ht.activation_increment("tanh", 800.0, -800.0) == pytest.approx(-1.0, rel=1e-15)
    assert ht.activation_increment("tanh", 800.0, 1.0) == 0.0


def test_activation_increment_broadcasts_and_refuses_bad_input():
    assert ht.activation_increment("gelu", np.zeros((3, 1)), np.ones(4)).shape == (3, 4)
    assert np.ndim(ht.activation_increment("relu", 1.0, 2.0)) == 0
    with pytest.raises(ValueError, match=r"activation must be one of \['gelu', 'relu', 'tanh'\], got 'elu'"):
        ht.activation_increment("elu", 1.0, 2.0)
    with pytest.raises(ValueError, match=r"\bz must be finite"):
        ht.activation_increment("tanh", 1.0, np.nan)
    with pytest.raises(TypeError, match=r"\bm must be real, got a complex array"):
        ht.activation_increment("tanh", 1j, 1.0)
    with pytest.raises(ValueError, match=r"m \+ z overflows"):
        ht.activation_increment("gelu", 1e308, 1e308)
    assert ht.activation_increment("relu", 1e308, 1e308) == 1e308  # exact: max(z, -m), no m + z needed


# ------------------------------------------------------------------------ residual_split_stack
@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
def test_residual_split_stack_agrees_with_the_plain_stack_while_the_mean_is_moderate(name):
    """m 1 + d against residual_stack's states (the plain sum), over 8 layers where little cancels;
    update ratios and branch detail norms against their definitions. Control: a split that forgets
    the branch's mean part (m_{l+1} = m_l + phi(m_l)) is off by far more than the tolerance."""
    rng = np.random.default_rng(23)
    n, S, B, L = 6, 3, 5, 8  # relu at most doubles the mean per layer: the plain sum keeps ~13 digits
    layers = ht.random_dsm(n, 0.7, size=(S, L), rng=rng)
    m0 = rng.standard_normal((S, B))
    d0 = ht.detail(rng.standard_normal((S, B, n)))
    tr = ht.residual_split_stack(name, m0, d0, layers)
    assert tr.means.shape == (S, B, L + 1) and tr.details.shape == (S, B, L + 1, n)
    assert tr.branch_detail_norms.shape == tr.update_ratios.shape == (S, B, L)
    plain = ht.residual_stack(m0[..., None] + d0, layers[:, None], name).states  # (S, B, L + 1, n)
    np.testing.assert_allclose(tr.means[..., None] + tr.details, plain, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tr.details.mean(axis=-1), 0, atol=1e-12)
    x = plain[..., :-1, :]
    Mx = np.einsum("slij,sblj->sbli", layers, x)
    np.testing.assert_allclose(tr.update_ratios, np.linalg.norm(ht.ACTIVATIONS[name](Mx), axis=-1) / np.linalg.norm(x, axis=-1), rtol=1e-9)
    np.testing.assert_allclose(tr.branch_detail_norms, np.linalg.norm(ht.detail(Mx), axis=-1), rtol=1e-9, atol=1e-12)
    # control
    wrong = m0.copy()
    for ell in range(L):
        wrong = wrong + ht.ACTIVATIONS[name](wrong)
    assert np.abs(wrong - tr.means[..., -1]).max() > 1e-3


def test_residual_split_stack_keeps_the_detail_the_plain_sum_loses():
    layers = ht.random_dsm(4, 1.0, size=60, rng=0)
    d0 = ht.detail(np.array([[1.0, -2.0, 0.5, 0.5]]))
    tr = ht.residual_split_stack("relu", np.array([1.0]), d0, layers)
    assert tr.means[0, -1] == 2.0**60  # relu doubles a positive mean: exact in binary
    # the detail follows d_{l+1} = d_l + P relu(m_l 1 + M_l d_l) - ..., a bounded walk: finite, nonzero
    assert 0.1 < np.linalg.norm(tr.details[0, -1]) < 1e6


@pytest.mark.parametrize(
    "args, match",
    [
        (("elu", np.zeros(2), np.zeros((2, 3)), np.full((4, 3, 3), 1 / 3)), r"activation must be one of"),
        (("relu", np.zeros(2), np.zeros((2, 4)), np.full((4, 3, 3), 1 / 3)), r"details must have shape means.shape \+ \(n,\) = \(2, 3\)"),
        (("relu", np.zeros(2), np.ones((2, 3)), np.full((4, 3, 3), 1 / 3)), r"details must have zero mean"),
        (("relu", np.zeros(2), np.zeros((2, 3)), np.full((4, 3, 3), 0.5)), r"layers must be doubly stochastic"),
        (("relu", np.zeros(2), np.zeros((2, 3)), np.full((3, 3), 1 / 3)), r"layers must have shape \(\.\.\., L, n, n\)"),
        (("relu", np.zeros((2, 5)), np.zeros((2, 5, 3)), np.full((3, 4, 3, 3), 1 / 3)), r"the leading axes of layers \(3,\) must broadcast"),
        (("relu", 0.0, np.zeros(3), np.full((4, 3, 3), 1 / 3)), r"means must have at least one axis"),
        (("relu", np.array([np.nan]), np.zeros((1, 3)), np.full((4, 3, 3), 1 / 3)), r"means must be finite"),
        (("relu", np.array([1.7e308]), np.zeros((1, 3)), np.full((4, 3, 3), 1 / 3)), r"the stack overflows at layer 1"),
    ],
)
def test_residual_split_stack_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        ht.residual_split_stack(*args)


def test_residual_split_stack_update_ratios_stay_finite_for_huge_means():
    """|m| = 1e200: n m^2 overflows; the ratio ||phi(Mx)|| / ||x|| is still 1 for relu (phi(Mx) = x
    when x > 0 and M maps the mean to itself and the detail is tiny)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = ht.residual_split_stack("relu", np.array([1e200]), np.zeros((1, 3)), np.full((2, 3, 3), 1 / 3))
    np.testing.assert_allclose(tr.update_ratios, 1.0, rtol=1e-14)
