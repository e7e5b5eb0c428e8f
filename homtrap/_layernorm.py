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
    gain, bias : array_like, shape (n,), scalar or broadcastable against ``y``, optional
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
    # rescale before squaring so that huge entries cannot overflow
    scale = np.maximum(np.abs(d).max(axis=-1, keepdims=True), 1e-300)
    var = ((d / scale) ** 2).mean(axis=-1, keepdims=True)
    # a constant vector leaves rounding-level detail (about 1e-16 of its size): treat as zero
    flat = np.sqrt(var) * scale <= 1e-14 * np.maximum(np.abs(y).max(axis=-1, keepdims=True), 1e-300)
    if eps == 0.0 and np.any(flat):
        raise ValueError("y has a vector with zero variance (all entries equal); LayerNorm is undefined there (pass eps > 0)")
    # sqrt(true variance + eps), arranged so that neither branch can overflow
    big = scale >= 1.0
    safe = np.where(big, scale, 1.0)
    with np.errstate(under="ignore"):  # underflow of a tiny variance to 0 is harmless here
        denom = np.where(big, safe * np.sqrt(var + eps / safe**2), np.sqrt(var * np.where(big, 0.0, scale) ** 2 + eps))
    out = d / denom
    for name, param in (("gain", gain), ("bias", bias)):
        if param is None:
            continue
        p = as_real_array(param, name)
        try:
            np.broadcast_shapes(p.shape, y.shape)
        except ValueError:
            raise ValueError(f"{name} must broadcast against y of shape {y.shape}, got shape {p.shape}") from None
        out = out * p if name == "gain" else out + p
    return out
