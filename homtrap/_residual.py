r"""Residual stacks :math:`x_{\ell+1} = x_\ell + \alpha\,\varphi(M_\ell x_\ell)` and identity stagnation.

The object is the residual block of :prf:ref:`def-residual-block` with an entrywise
activation :math:`\varphi`: ``relu`` and ``tanh`` are 1-Lipschitz, ``gelu`` (tanh
approximation) has Lipschitz constant about 1.129 (:prf:ref:`rem-gelu-lipschitz`).

Used in Part V: :doc:`/book/14_proposition1`, :doc:`/book/15_identity_stagnation` and
:doc:`/book/16_incompatibility` (with the stack's Jacobian, :func:`residual_jacobian`); and by
:doc:`/book/21_diagnose`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from ._detail import detail
from ._sinkhorn_kernels import marginal_errors
from ._validation import as_real_array, as_square_stack, as_vector_stack, renamed_arguments

__all__ = [
    "ACTIVATIONS",
    "ResidualTrajectory",
    "activation_increment",
    "gelu",
    "gelu_slope",
    "lipschitz_constant",
    "relu",
    "residual_jacobian",
    "residual_split_stack",
    "residual_stack",
    "SplitTrajectory",
]

Activation = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def relu(z: NDArray[np.float64]) -> NDArray[np.float64] | np.float64:
    r"""Rectified linear unit :math:`\max(z, 0)`, entrywise; 1-Lipschitz, ``relu(0) = 0``.

    Parameters
    ----------
    z : array_like of float
        Pre-activations, any shape.

    Returns
    -------
    ndarray or float
        :math:`\max(z, 0)`, of the shape of ``z`` (a numpy scalar for a scalar).

    See Also
    --------
    gelu : a smooth variant that is not 1-Lipschitz.
    lipschitz_constant : 1 for ``"relu"``.

    Notes
    -----
    No validation: this is the activation applied inside :func:`residual_stack`. NaN
    propagates.

    Used in :doc:`/book/14_proposition1`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> homtrap.relu(np.array([-2.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    return np.maximum(z, 0.0)


def gelu(z: NDArray[np.float64]) -> NDArray[np.float64] | np.float64:
    r"""GELU, tanh approximation :math:`\tfrac12 z(1 + \tanh(\sqrt{2/\pi}(z + 0.044715 z^3)))`, entrywise.

    Not 1-Lipschitz: its slope (:func:`gelu_slope`) peaks at about 1.129 near
    :math:`z \approx 1.42` (:prf:ref:`rem-gelu-lipschitz`).

    Parameters
    ----------
    z : array_like of float
        Pre-activations, any shape (a numpy array or scalar; lists are not converted).

    Returns
    -------
    ndarray or float
        GELU of ``z``, of the shape of ``z``.

    See Also
    --------
    gelu_slope : its derivative.
    lipschitz_constant : :math:`\sup_z |\mathrm{gelu}'(z)|`.

    Notes
    -----
    No validation: this is the activation applied inside :func:`residual_stack`.

    Used in :doc:`/book/14_proposition1` and :doc:`/book/15_identity_stagnation`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> np.round(homtrap.gelu(np.array([-1.0, 0.0, 1.0, 2.0])), 6).tolist()
    [-0.158808, 0.0, 0.841192, 1.954598]
    """
    return 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z**3)))


def gelu_slope(z: NDArray[np.float64]) -> NDArray[np.float64] | np.float64:
    r"""Derivative :math:`\mathrm{gelu}'(z)` of :func:`gelu` (tanh approximation), entrywise.

    With :math:`c = \sqrt{2/\pi}`, :math:`u = c(z + 0.044715 z^3)` and :math:`t = \tanh u`,

    .. math:: \mathrm{gelu}'(z) = \tfrac12(1 + t) + \tfrac12 z (1 - t^2)\, c\,(1 + 3 \cdot 0.044715\, z^2).

    It satisfies :math:`\mathrm{gelu}'(z) + \mathrm{gelu}'(-z) = 1`, is below zero for
    :math:`z \lesssim -0.75`, and peaks at about 1.129 near :math:`z \approx 1.42`
    (:prf:ref:`rem-gelu-lipschitz`).

    Parameters
    ----------
    z : array_like of float
        Points, any shape (a numpy array or scalar; lists are not converted).

    Returns
    -------
    ndarray or float
        :math:`\mathrm{gelu}'(z)`, of the shape of ``z``.

    See Also
    --------
    gelu : the function.
    lipschitz_constant : the maximum of :math:`|\mathrm{gelu}'|`, located with this slope.

    Notes
    -----
    No validation (an inner-loop helper). The chapter's own copy computes the last factor
    as ``3 * 0.044715 * z**2`` and ``t**2``; this one as ``3 * 0.044715 * z * z`` and ``t * t``,
    which can differ in the last bit.

    Used in :doc:`/book/14_proposition1`.

    Examples
    --------
    Against a central difference of :func:`gelu`:

    >>> import numpy as np, homtrap
    >>> from homtrap._residual import gelu_slope
    >>> z = np.array([-1.0, 0.0, 1.0, 2.0])
    >>> np.round(gelu_slope(z), 6).tolist()
    [-0.082964, 0.5, 1.082964, 1.086099]
    >>> h = 1e-5
    >>> bool(np.allclose(gelu_slope(z), (homtrap.gelu(z + h) - homtrap.gelu(z - h)) / (2 * h), atol=1e-9))
    True
    """
    c = np.sqrt(2.0 / np.pi)
    u = c * (z + 0.044715 * z**3)
    t = np.tanh(u)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * z * z)


def lipschitz_constant(activation: str) -> float:
    r"""Lipschitz constant :math:`\sup_z |\varphi'(z)|` of a named activation.

    1 for ``"relu"`` and ``"tanh"``; for ``"gelu"`` (tanh approximation) the maximum of the
    closed-form derivative :func:`gelu_slope`, about 1.129 (:prf:ref:`rem-gelu-lipschitz`).

    Parameters
    ----------
    activation : {"relu", "tanh", "gelu"}
        A name in :data:`ACTIVATIONS`.

    Returns
    -------
    float
        :math:`\mathrm{Lip}(\varphi)`.

    Raises
    ------
    ValueError
        If ``activation`` is not one of the names above.

    See Also
    --------
    gelu_slope : the derivative maximised for ``"gelu"``.
    residual_stack : where the constant bounds the change of the detail per layer.

    Notes
    -----
    For ``"gelu"`` the slope is evaluated on a grid of 50 001 points in [0, 5], and the
    bracket around the grid maximum is refined by 60 ternary-search steps (the slope is
    unimodal near its peak); the result is accurate to rounding.

    Used in :doc:`/book/14_proposition1` and :doc:`/book/15_identity_stagnation`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> homtrap.lipschitz_constant("relu"), round(homtrap.lipschitz_constant("gelu"), 6)
    (1.0, 1.128993)

    An independent check: no secant slope of GELU on a fine grid exceeds it.

    >>> z = np.linspace(-10, 10, 200_001)
    >>> secant = np.diff(homtrap.gelu(z)) / np.diff(z)
    >>> bool(secant.max() <= homtrap.lipschitz_constant("gelu") + 1e-12)
    True
    """
    _check_activation_name(activation)
    if activation != "gelu":
        return 1.0
    z = np.linspace(0.0, 5.0, 50_001)
    i = int(np.argmax(gelu_slope(z)))
    lo, hi = z[max(i - 1, 0)], z[min(i + 1, z.size - 1)]
    for _ in range(60):  # golden-section-free refinement: the slope is unimodal near its peak
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if gelu_slope(np.array(m1)) < gelu_slope(np.array(m2)):
            lo = m1
        else:
            hi = m2
    return float(gelu_slope(np.array((lo + hi) / 2)))

def _gelu_tail(y: NDArray[np.float64]) -> NDArray[np.float64]:
    # g(y) = y / (1 + exp(2 u(y))) with u(y) = sqrt(2/pi) (y + 0.044715 y^3), so gelu(y) = y - g(y)
    return y * expit(-2 * np.sqrt(2 / np.pi) * (y + 0.044715 * y**3))  # y**3 may overflow: expit(-+inf) is exact


def _check_activation_name(activation: object) -> None:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")


def activation_increment(activation: str, m: ArrayLike, z: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The increment :math:`\psi = \varphi(m + z) - \varphi(m)` of an activation, without cancellation.

    Where :math:`|m| \gg |z|` the plain difference loses the digits of :math:`\psi` (for tanh at
    :math:`m = 20` both terms round to one). Each activation is rewritten so that no two large
    terms cancel:

    .. math::

        \text{relu:}\ \psi = \begin{cases} \max(z, -m) & m > 0 \\ \max(m + z, 0) & m \le 0 \end{cases},
        \qquad
        \text{tanh:}\ \psi = \frac{\sinh z}{\cosh(m + z)\cosh m},
        \qquad
        \text{gelu:}\ \psi = z - \bigl(g(m + z) - g(m)\bigr),

    with :math:`g(y) = y - \mathrm{gelu}(y) = y/(1 + e^{2u(y)})`,
    :math:`u(y) = \sqrt{2/\pi}\,(y + 0.044715\,y^3)`, which is small wherever :math:`y` is large and
    positive; for :math:`m < 0`, where :math:`\psi` is small, gelu's increment is accurate to
    a few roundings of :math:`|m| + |z|` (absolutely), not relatively. It is the
    branch increment of a residual stack in mean-detail coordinates, where the mean :math:`m` of
    the state grows and the detail :math:`z` does not (:doc:`/book/15_identity_stagnation`).

    Parameters
    ----------
    activation : {"relu", "tanh", "gelu"}
        The activation :math:`\varphi` (:data:`ACTIVATIONS`).
    m, z : array_like
        Base points and increments, real and finite; they broadcast.

    Returns
    -------
    numpy.float64 or ndarray of float
        :math:`\psi`, with the broadcast shape of ``m`` and ``z`` (a scalar for scalars).

    Raises
    ------
    ValueError
        If ``activation`` is not one of the names above, ``m`` or ``z`` holds NaN/inf, or
        ``m + z`` overflows.
    TypeError
        If ``m`` or ``z`` is not real.

    See Also
    --------
    residual_stack : the stack whose branch it is.
    lipschitz_constant : :math:`|\psi| \le K|z|`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> float(np.tanh(20.001) - np.tanh(20.0))  # the plain difference
    0.0
    >>> psi = float(homtrap.activation_increment("tanh", 20.0, 1e-3))
    >>> bool(abs(psi / (1e-3 / np.cosh(20.0) ** 2) - 1) < 1e-3)  # about z sech^2(m)
    True
    >>> float(homtrap.activation_increment("relu", 3.0, -5.0))  # relu(-2) - relu(3)
    -3.0
    """
    _check_activation_name(activation)
    mm = as_real_array(m, "m")
    zz = as_real_array(z, "z")
    with np.errstate(over="ignore", invalid="ignore"):
        if activation == "relu":
            out = np.where(mm > 0, np.maximum(zz, -mm), np.maximum(mm + zz, 0.0))
        elif activation == "tanh":
            out = np.sinh(zz) / (np.cosh(mm + zz) * np.cosh(mm))
            # cosh overflows beyond |argument| ~ 710, where tanh is +-1 to the last digit and the plain
            # difference is exact to within 1e-300
            out = np.where(np.isfinite(out), out, np.tanh(mm + zz) - np.tanh(mm))
        else:
            out = zz - (_gelu_tail(mm + zz) - _gelu_tail(mm))
    if not np.all(np.isfinite(out)):
        raise ValueError("m + z overflows: the increment is not finite")
    return out[()]



#: the activations the book uses, by name: ``"relu"`` (:func:`relu`), ``"tanh"`` (``numpy.tanh``)
#: and ``"gelu"`` (:func:`gelu`); used in :doc:`/book/14_proposition1` and
#: :doc:`/book/15_identity_stagnation`
ACTIVATIONS: dict[str, Activation] = {"relu": relu, "tanh": np.tanh, "gelu": gelu}


@dataclass(frozen=True)
class ResidualTrajectory:
    r"""States and update sizes of a residual stack, as returned by :func:`residual_stack`.

    Attributes
    ----------
    states : ndarray, shape (..., L + 1, n)
        :math:`x_0, \dots, x_L`.
    update_norms : ndarray, shape (..., L)
        :math:`\|\alpha\varphi(M_\ell x_\ell)\|`.
    detail_update_norms : ndarray, shape (..., L)
        :math:`\|P(x_{\ell+1} - x_\ell)\|`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> tr = homtrap.residual_stack(np.array([0.0, 1.0, 2.0]), np.full((2, 3, 3), 1 / 3), "relu")
    >>> tr.states.tolist()  # J/n maps x to its mean: relu(1) = 1 is added to every entry
    [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]
    >>> tr.detail_update_norms.tolist(), float(tr.relative_detail_change())
    ([0.0, 0.0], 0.0)

    See Also
    --------
    residual_stack : returns it.

    Notes
    -----
    Used in :doc:`/book/14_proposition1`, :doc:`/book/15_identity_stagnation` and
    :doc:`/book/16_incompatibility`.
    """

    states: NDArray[np.float64]
    update_norms: NDArray[np.float64]
    detail_update_norms: NDArray[np.float64]

    def relative_detail_change(self) -> NDArray[np.float64] | np.float64:
        """:math:`\\|P(x_L - x_0)\\| / \\|P x_0\\|`, the change of the detail over the stack relative to its size.

        Returns
        -------
        ndarray or float, shape (...)
            One value per trajectory (``inf`` or ``nan`` where :math:`Px_0 = 0`).
        """
        x0, xL = self.states[..., 0, :], self.states[..., -1, :]
        d = xL - x0
        d = d - d.mean(axis=-1, keepdims=True)
        p0 = x0 - x0.mean(axis=-1, keepdims=True)
        return np.linalg.norm(d, axis=-1) / np.linalg.norm(p0, axis=-1)


@renamed_arguments(gain="branch_gain")
def residual_stack(
    x0: ArrayLike,
    layers: ArrayLike,
    activation: str | Activation = "tanh",
    *,
    branch_gain: float = 1.0,
) -> ResidualTrajectory:
    r"""Run :math:`x_{\ell+1} = x_\ell + \alpha\,\varphi(M_\ell x_\ell)` through a stack of layers.

    Parameters
    ----------
    x0 : array_like, shape (..., n)
        Inputs (a batch of vectors).
    layers : array_like, shape (L, n, n) or (..., L, n, n)
        Mixing matrices; leading axes broadcast against those of ``x0``.
    activation : {"relu", "tanh", "gelu"} or callable, default "tanh"
        Entrywise :math:`\varphi`.
    branch_gain : float, default 1.0
        Gain :math:`\alpha` of the residual branch (a gain above 1 is the "expansive scaling" escape; not LayerNorm's ``weight``).

    Returns
    -------
    ResidualTrajectory
        ``states`` of shape ``(..., L + 1, n)``, ``update_norms`` and ``detail_update_norms``
        of shape ``(..., L)``.

    Raises
    ------
    TypeError
        If ``x0`` or ``layers`` is not real, ``branch_gain`` not a number, or ``activation``
        neither a name nor a callable.
    ValueError
        If ``x0`` has fewer than 2 entries, ``layers`` is not of shape ``(..., L, n, n)`` with
        the ``n`` of ``x0``, an entry is not finite, or ``activation`` is an unknown name.

    See Also
    --------
    lipschitz_constant : the constant that bounds the detail change per layer.
    homtrap.attention_stack : the analogous stack with attention layers.

    Notes
    -----
    For doubly-stochastic :math:`M_\ell` and a 1-Lipschitz :math:`\varphi`, one layer changes the
    detail by at most :math:`\alpha\,\sigma_2(M_\ell)\|Px_\ell\|`
    (:prf:ref:`prop-residual-corrected`), so a stack of homogenising layers barely moves the
    detail: identity stagnation. ``gain`` is the deprecated name of ``branch_gain``.

    Used in :doc:`/book/14_proposition1`, :doc:`/book/15_identity_stagnation`,
    :doc:`/book/16_incompatibility` and :doc:`/book/21_diagnose`.

    Examples
    --------
    Five Sinkhorn layers at temperature one, a tanh branch: every layer changes the detail by
    at most :math:`\sigma_2\|Px_\ell\|`.

    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(6, 1.0, size=5, rng=0)
    >>> x0 = np.random.default_rng(1).standard_normal(6) + 3.0
    >>> tr = homtrap.residual_stack(x0, M, "tanh")
    >>> tr.states.shape, tr.update_norms.shape
    ((6, 6), (5,))
    >>> Px = np.linalg.norm(homtrap.detail(tr.states[:-1]), axis=-1)
    >>> bool(np.all(tr.detail_update_norms <= homtrap.sigma2(M) * Px * (1 + 1e-9)))
    True
    """
    x = as_vector_stack(x0, "x0", min_n=2)
    A = as_square_stack(layers, "layers", min_n=2)
    if A.ndim < 3:
        raise ValueError(f"layers must have shape (..., L, n, n), got shape {A.shape}")
    if A.shape[-1] != x.shape[-1]:
        raise ValueError(f"layers are {A.shape[-1]}x{A.shape[-1]} but x0 has length {x.shape[-1]}")
    alpha = float(as_real_array(branch_gain, "branch_gain"))
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or a callable, got {activation!r}")
        phi = ACTIVATIONS[activation]
    elif callable(activation):
        phi = activation
    else:
        raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")
    L = A.shape[-3]
    states = [x]
    upd, dupd = [], []
    for ell in range(L):
        M = A[..., ell, :, :]
        branch = alpha * phi(np.einsum("...ij,...j->...i", M, x))
        upd.append(np.linalg.norm(branch, axis=-1))
        dupd.append(np.linalg.norm(branch - branch.mean(axis=-1, keepdims=True), axis=-1))
        x = x + branch
        states.append(x)
    return ResidualTrajectory(
        states=np.stack(np.broadcast_arrays(*states), axis=-2),
        update_norms=np.stack(np.broadcast_arrays(*upd), axis=-1),
        detail_update_norms=np.stack(np.broadcast_arrays(*dupd), axis=-1),
    )


#: the derivatives of the named activations, as residual_jacobian evaluates them
_SLOPES: dict[str, Activation] = {
    "relu": lambda z: (z > 0).astype(float),
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "gelu": gelu_slope,
}


@dataclass(frozen=True)
class SplitTrajectory:
    r"""A residual stack in mean-detail coordinates, as returned by :func:`residual_split_stack`.

    With :math:`x_\ell = m_\ell\mathbf 1 + d_\ell`, :math:`d_\ell \in V_\perp`:

    Attributes
    ----------
    means : ndarray, shape (..., B, L + 1)
        :math:`m_0, \dots, m_L`.
    details : ndarray, shape (..., B, L + 1, n)
        :math:`d_0, \dots, d_L`.
    branch_detail_norms : ndarray, shape (..., B, L)
        :math:`\|M_\ell d_\ell\|`, the detail the branch sees.
    update_ratios : ndarray, shape (..., B, L)
        :math:`\|\varphi(M_\ell x_\ell)\| / \|x_\ell\|`, the relative size of the update.

    See Also
    --------
    residual_split_stack : returns it.
    """

    means: NDArray[np.float64]
    details: NDArray[np.float64]
    branch_detail_norms: NDArray[np.float64]
    update_ratios: NDArray[np.float64]


def residual_split_stack(activation: str, means: ArrayLike, details: ArrayLike, layers: ArrayLike) -> SplitTrajectory:
    r"""The stack :math:`x_{\ell+1} = x_\ell + \varphi(M_\ell x_\ell)`, computed in mean-detail coordinates.

    For doubly-stochastic :math:`M_\ell` and :math:`x_\ell = m_\ell\mathbf 1 + d_\ell` with
    :math:`d_\ell \in V_\perp`, the branch sees :math:`M_\ell x_\ell = m_\ell\mathbf 1 + z_\ell`,
    :math:`z_\ell = M_\ell d_\ell \in V_\perp`, and with :math:`\psi_\ell = \varphi(m_\ell\mathbf 1 + z_\ell)
    - \varphi(m_\ell)\mathbf 1` (:func:`activation_increment`, entrywise, without cancellation)

    .. math::

        m_{\ell+1} = m_\ell + \varphi(m_\ell) + \overline{\psi_\ell}, \qquad
        d_{\ell+1} = d_\ell + \psi_\ell - \overline{\psi_\ell}\,\mathbf 1

    (:doc:`/book/15_identity_stagnation`, eq. ``eq-stag-split``). Unlike
    :func:`residual_stack`, which adds :math:`\varphi(M_\ell x_\ell)` to :math:`x_\ell` directly,
    it keeps the detail's digits when the mean grows large, as it does under ReLU and GELU.

    Parameters
    ----------
    activation : {"relu", "tanh", "gelu"}
        The activation :math:`\varphi`.
    means : array_like, shape (..., B)
        The means :math:`m_0` of ``B`` inputs.
    details : array_like, shape (..., B, n)
        Their details :math:`d_0 \in V_\perp` (zero mean; :func:`detail` makes one).
    layers : array_like, shape (..., L, n, n)
        Doubly-stochastic layers in the order applied; their leading axes broadcast with those
        of ``means`` (every input of a batch goes through the same stack).

    Returns
    -------
    SplitTrajectory

    Raises
    ------
    ValueError
        If ``activation`` is not one of the names above; an argument holds NaN/inf; the shapes
        do not match; a detail has a nonzero mean or a layer is not doubly stochastic (the split
        is exact only then), both to ``1e-8``; or the stack overflows.
    TypeError
        If an argument is not real.

    See Also
    --------
    residual_stack : the same stack in the plain coordinates, any branch gain.

    Examples
    --------
    Under ReLU a large mean dwarfs the detail; the split keeps it, the plain sum loses it:

    >>> import numpy as np, homtrap
    >>> layers = homtrap.random_dsm(4, 1.0, size=60, rng=0)
    >>> d0 = homtrap.detail(np.array([[1.0, -2.0, 0.5, 0.5]]))
    >>> tr = homtrap.residual_split_stack("relu", np.array([1.0]), d0, layers)
    >>> tr.means.shape, tr.details.shape
    ((1, 61), (1, 61, 4))
    >>> bool(tr.means[0, -1] > 1e17)  # the mean doubles every layer
    True
    >>> plain = homtrap.residual_stack(1.0 + d0, layers, "relu").states[0]
    >>> def rel_err(L):  # the plain sum's detail against the split's, at depth L
    ...     return np.linalg.norm(homtrap.detail(plain[L]) - tr.details[0, L]) / np.linalg.norm(tr.details[0, L])
    >>> bool(rel_err(10) < 1e-9), bool(rel_err(60) > 1)  # agree while the mean is small, not at 1e18
    (True, True)
    """
    _check_activation_name(activation)
    m = np.array(as_real_array(means, "means"), float)
    d = np.array(as_real_array(details, "details"), float)
    A = as_square_stack(layers, "layers", min_n=2)
    if A.ndim < 3:
        raise ValueError(f"layers must have shape (..., L, n, n) with a layer axis, got shape {A.shape}")
    n = A.shape[-1]
    if m.ndim < 1:
        raise ValueError("means must have at least one axis (the B inputs), got a scalar")
    if d.shape != m.shape + (n,):
        raise ValueError(f"details must have shape means.shape + (n,) = {m.shape + (n,)}, got {d.shape}")
    try:
        batch = np.broadcast_shapes(A.shape[:-3], m.shape[:-1])
    except ValueError:
        batch = None
    if batch != m.shape[:-1]:
        raise ValueError(f"the leading axes of layers {A.shape[:-3]} must broadcast to those of means "
                         f"without the input axis, {m.shape[:-1]}")
    if np.any(np.abs(d.mean(axis=-1)) > 1e-8 * (1 + np.linalg.norm(d, axis=-1))):
        raise ValueError("details must have zero mean (lie in V_perp); pass homtrap.detail(d)")
    if A.min() < -1e-8 or np.max(marginal_errors(A.reshape(-1, n, n))) > 1e-8:
        raise ValueError("layers must be doubly stochastic (to 1e-8): the mean-detail split is exact only then")
    phi = ACTIVATIONS[activation]
    means_out, details_out, z_norms, full_ratio = [m], [d], [], []
    for ell in range(A.shape[-3]):
        z = detail(np.matmul(d, A[..., ell, :, :].swapaxes(-1, -2)))  # rows of M_l d
        psi = activation_increment(activation, m[..., None], z)
        mean_branch = phi(m) + psi.mean(axis=-1)
        upd = psi - psi.mean(axis=-1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            state_norm = np.sqrt(n * m**2 + np.sum(d**2, axis=-1))
            ratio = np.sqrt(n * mean_branch**2 + np.sum(upd**2, axis=-1)) / state_norm
            huge = ~np.isfinite(ratio)
            if np.any(huge):  # squares beyond float range (|m| > 1e154): the same ratio, rescaled
                sc = np.maximum(np.abs(m), np.abs(mean_branch))[..., None]
                num = np.linalg.norm(np.concatenate([np.sqrt(n) * mean_branch[..., None], upd], axis=-1) / sc, axis=-1)
                den = np.linalg.norm(np.concatenate([np.sqrt(n) * m[..., None], d], axis=-1) / sc, axis=-1)
                ratio = np.where(huge, num / den, ratio)
        full_ratio.append(ratio)
        z_norms.append(np.linalg.norm(z, axis=-1))
        with np.errstate(over="ignore", invalid="ignore"):
            m, d = m + mean_branch, d + upd
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(d))):
            raise ValueError(f"the stack overflows at layer {ell + 1}")
        means_out.append(m)
        details_out.append(d)
    return SplitTrajectory(np.stack(means_out, axis=-1), np.stack(details_out, axis=-2),
                           np.stack(z_norms, axis=-1), np.stack(full_ratio, axis=-1))


def residual_jacobian(
    states: ArrayLike,
    layers: ArrayLike,
    activation: str = "tanh",
    *,
    branch_weight: float | ArrayLike = 1.0,
) -> NDArray[np.float64]:
    r"""The Jacobian :math:`\partial x_L / \partial x_0` of a residual stack along one of its trajectories.

    For :math:`x_{\ell+1} = x_\ell + W\varphi(M_\ell x_\ell)`, with a branch weight :math:`W`
    (the gain :math:`\alpha I` of :func:`homtrap.residual_stack`, or any fixed matrix), the chain
    rule gives

    .. math::

        \frac{\partial x_L}{\partial x_0} = \prod_{\ell = L-1}^{0} \bigl(I + W D_\ell M_\ell\bigr),
        \qquad D_\ell = \operatorname{diag}\bigl(\varphi'(M_\ell x_\ell)\bigr),

    the sensitivity of the stack's output to its input (:doc:`/book/16_incompatibility`). It is
    exact for ``"tanh"`` and ``"gelu"``; for ``"relu"`` it uses :math:`\varphi'(0) = 0`.

    Parameters
    ----------
    states : array_like, shape (..., L + 1, n)
        The trajectory :math:`x_0, \dots, x_L` (``ResidualTrajectory.states``); only
        :math:`x_0, \dots, x_{L-1}` enter.
    layers : array_like, shape (..., L, n, n)
        The mixing matrices :math:`M_\ell`; leading axes broadcast against those of ``states``.
    activation : {"relu", "tanh", "gelu"}, default "tanh"
        The entrywise :math:`\varphi` of the stack.
    branch_weight : float or array_like of shape (n, n), default 1.0
        :math:`W`: a gain :math:`\alpha` (meaning :math:`\alpha I`) or a matrix, e.g.
        :math:`J/n + \alpha P`, which scales only the detail of the branch.

    Returns
    -------
    ndarray of float, shape (..., n, n)
        :math:`\partial x_L / \partial x_0`.

    Raises
    ------
    ValueError
        If ``states`` is not of shape ``(..., L + 1, n)`` with ``n >= 2``, ``layers`` not of shape
        ``(..., L, n, n)`` with the same ``L`` and ``n``, ``branch_weight`` neither a scalar nor
        ``(n, n)``, an entry is not finite, or ``activation`` is an unknown name.
    TypeError
        If ``states``, ``layers`` or ``branch_weight`` is not real, or ``activation`` not a string.

    See Also
    --------
    residual_stack : The trajectory whose Jacobian this is.
    lipschitz_constant : :math:`\|D_\ell\|_2` is at most the activation's Lipschitz constant.

    Notes
    -----
    The product is accumulated from the first layer on,
    :math:`J \leftarrow J + W\bigl((D_\ell M_\ell) J\bigr)`, starting from :math:`J = I`.

    Examples
    --------
    At :math:`x_0 = 0` a tanh stack with gain :math:`\alpha` has :math:`D_\ell = I`; on the
    mean direction (:math:`M_\ell\mathbf 1 = \mathbf 1`) the Jacobian is
    :math:`(1 + \alpha)^L`:

    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(5, 1.0, size=4, rng=0)
    >>> tr = homtrap.residual_stack(np.zeros(5), M, "tanh", branch_gain=0.5)
    >>> J = homtrap.residual_jacobian(tr.states, M, "tanh", branch_weight=0.5)
    >>> bool(np.allclose(J @ np.ones(5), 1.5**4, rtol=1e-9))
    True

    Against central differences of the stack:

    >>> x0 = np.random.default_rng(1).standard_normal(5) + 1.0
    >>> J = homtrap.residual_jacobian(homtrap.residual_stack(x0, M, "gelu").states, M, "gelu")
    >>> e = np.eye(5)[2]
    >>> fd = (homtrap.residual_stack(x0 + 1e-6 * e, M, "gelu").states[-1]
    ...       - homtrap.residual_stack(x0 - 1e-6 * e, M, "gelu").states[-1]) / 2e-6
    >>> bool(np.abs(J[:, 2] - fd).max() < 1e-7)
    True
    """
    X = as_real_array(states, "states")
    if X.ndim < 2 or X.shape[-1] < 2 or X.shape[-2] < 1:
        raise ValueError(f"states must have shape (..., L + 1, n) with n >= 2, got shape {X.shape}")
    A = as_square_stack(layers, "layers", min_n=2)
    n, L = X.shape[-1], X.shape[-2] - 1
    if A.ndim < 3 or A.shape[-3] != L or A.shape[-1] != n:
        raise ValueError(
            f"layers must have shape (..., L, n, n) = (..., {L}, {n}, {n}) to match states, got shape {A.shape}"
        )
    if not isinstance(activation, str):
        raise TypeError(f"activation must be one of {sorted(_SLOPES)}, got {type(activation).__name__}")
    if activation not in _SLOPES:
        raise ValueError(f"activation must be one of {sorted(_SLOPES)}, got {activation!r}")
    slope = _SLOPES[activation]
    w = as_real_array(branch_weight, "branch_weight")
    if w.ndim == 0:
        W = float(w) * np.eye(n)
    elif w.shape == (n, n):
        W = w
    else:
        raise ValueError(f"branch_weight must be a scalar or of shape ({n}, {n}), got shape {w.shape}")
    batch = np.broadcast_shapes(X.shape[:-2], A.shape[:-3])
    jac = np.broadcast_to(np.eye(n), batch + (n, n)).copy()
    for ell in range(L):
        M = A[..., ell, :, :]
        z = np.einsum("...ij,...j->...i", M, X[..., ell, :])
        jac = jac + W @ ((slope(z)[..., :, None] * M) @ jac)
    return jac
