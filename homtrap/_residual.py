r"""Residual stacks :math:`x_{\ell+1} = x_\ell + \alpha\,\varphi(M_\ell x_\ell)` and identity stagnation.

Used in Part V. Activations act entrywise; ``relu`` and ``tanh`` are 1-Lipschitz,
``gelu`` (tanh approximation) has Lipschitz constant about 1.13.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, as_square_stack, as_vector_stack, renamed_arguments

__all__ = ["ACTIVATIONS", "ResidualTrajectory", "gelu", "gelu_slope", "lipschitz_constant", "relu", "residual_stack"]

Activation = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def relu(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rectified linear unit, 1-Lipschitz, ``relu(0) = 0``."""
    return np.maximum(z, 0.0)


def gelu(z: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""GELU, tanh approximation :math:`\tfrac12 z(1 + \tanh(\sqrt{2/\pi}(z + 0.044715 z^3)))`.

    Not 1-Lipschitz: its slope peaks at about 1.13 (near :math:`z \approx 1.5`).
    """
    return 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z**3)))


def gelu_slope(z: NDArray[np.float64]) -> NDArray[np.float64]:
    c = np.sqrt(2.0 / np.pi)
    u = c * (z + 0.044715 * z**3)
    t = np.tanh(u)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * z * z)


def lipschitz_constant(activation: str) -> float:
    r"""Lipschitz constant :math:`\sup_z |\varphi'(z)|` of a named activation.

    1 for ``"relu"`` and ``"tanh"``; for ``"gelu"`` (tanh approximation) the maximum of the
    closed-form derivative, about 1.129, located by a dense grid and refined by bisection on
    the second derivative's sign (Part V).
    """
    if activation in ("relu", "tanh"):
        return 1.0
    if activation != "gelu":
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
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


#: the activations the book uses, by name
ACTIVATIONS: dict[str, Activation] = {"relu": relu, "tanh": np.tanh, "gelu": gelu}


@dataclass(frozen=True)
class ResidualTrajectory:
    """States and update sizes of a residual stack.

    Attributes
    ----------
    states : ndarray, shape (..., L + 1, n)
        :math:`x_0, \\dots, x_L`.
    update_norms : ndarray, shape (..., L)
        :math:`\\|\\alpha\\varphi(M_\\ell x_\\ell)\\|`.
    detail_update_norms : ndarray, shape (..., L)
        :math:`\\|P(x_{\\ell+1} - x_\\ell)\\|`.
    """

    states: NDArray[np.float64]
    update_norms: NDArray[np.float64]
    detail_update_norms: NDArray[np.float64]

    def relative_detail_change(self) -> NDArray[np.float64]:
        """:math:`\\|P(x_L - x_0)\\| / \\|P x_0\\|`."""
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
