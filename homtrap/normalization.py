r"""Layer normalisation along the last axis.

Used in Part IV (Theorem 1 and orthogonal collapse).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, as_vector_stack

__all__ = ["layer_norm", "normalize_detail"]


def normalize_detail(y: ArrayLike) -> NDArray[np.float64]:
    r"""Unit-norm detail direction :math:`P y / \|P y\|` along the last axis.

    This is LayerNorm without affine parameters up to the factor :math:`\sqrt n`:
    the projection of :math:`y` onto the unit sphere of :math:`V_\perp`.

    Raises
    ------
    ValueError
        If some vector is constant (its detail part is zero and has no direction).
    """
    y = as_vector_stack(y, "y", min_n=2)
    d = y - y.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(d, axis=-1, keepdims=True)
    scale = np.abs(y).max(axis=-1, keepdims=True)
    if np.any(norm <= 1e-14 * np.maximum(scale, 1e-300)):
        raise ValueError("y has a vector with zero detail part (all entries equal); its direction is undefined")
    return d / norm


def layer_norm(
    y: ArrayLike,
    gain: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    *,
    eps: float = 0.0,
) -> NDArray[np.float64]:
    r"""LayerNorm along the last axis :cite:p:`ba2016layernorm`.

    .. math::
        \operatorname{LN}(y) = g \odot \frac{y - \bar y \mathbf 1}{\sqrt{\operatorname{var}(y) + \epsilon}} + b,
        \qquad \operatorname{var}(y) = \tfrac1n \|P y\|^2 ,

    the population variance, as in PyTorch. With ``gain=None``, ``bias=None`` and ``eps=0``
    it equals :math:`\sqrt n\, P y / \|P y\|` (see :func:`normalize_detail`).

    Parameters
    ----------
    y : array_like, shape (..., n)
        Input vectors, ``n >= 2``.
    gain, bias : array_like, shape (n,) or broadcastable, optional
        Affine parameters :math:`g` and :math:`b` (default 1 and 0).
    eps : float, default 0.0
        Variance floor :math:`\epsilon \ge 0`.

    Raises
    ------
    ValueError
        If ``eps == 0`` and some vector has zero variance (the result would be NaN).
    """
    y = as_vector_stack(y, "y", min_n=2)
    eps = float(as_real_array(eps, "eps"))
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    d = y - y.mean(axis=-1, keepdims=True)
    var = (d * d).mean(axis=-1, keepdims=True)
    if eps == 0.0 and np.any(var <= 0.0):
        raise ValueError("y has a vector with zero variance; LayerNorm is undefined there (pass eps > 0)")
    out = d / np.sqrt(var + eps)
    n = y.shape[-1]
    if gain is not None:
        g = as_real_array(gain, "gain")
        if g.shape[-1:] not in ((n,), (1,)):
            raise ValueError(f"gain must have last dimension {n} (or 1), got shape {g.shape}")
        out = out * g
    if bias is not None:
        b = as_real_array(bias, "bias")
        if b.shape[-1:] not in ((n,), (1,)):
            raise ValueError(f"bias must have last dimension {n} (or 1), got shape {b.shape}")
        out = out + b
    return out
