r"""Stacks of doubly-stochastic layers: products, detail decay, realised depth and
transient growth.

Used in Part III (contraction across layers, effective depth, non-normality).
A stack is an array of shape ``(..., L, n, n)``: layer ``ell`` (0-based) is applied
``ell``-th, so the product after ``k`` layers is :math:`M_k \cdots M_1`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_square_stack, check_int, check_open_unit

__all__ = ["max_product_norm", "power_distances", "product_distances", "realised_depth"]


def _stack(layers: ArrayLike) -> NDArray[np.float64]:
    A = as_square_stack(layers, "layers", min_n=2)
    if A.ndim < 3:
        raise ValueError(f"layers must have shape (..., L, n, n) with a layer axis, got shape {A.shape}")
    return A


def _cumulative_products(A: NDArray[np.float64]) -> NDArray[np.float64]:
    """``out[..., k] = A[..., k] @ ... @ A[..., 0]`` for every k."""
    out = np.empty_like(A)
    out[..., 0, :, :] = A[..., 0, :, :]
    for k in range(1, A.shape[-3]):
        out[..., k, :, :] = np.matmul(A[..., k, :, :], out[..., k - 1, :, :])
    return out


def _spectral_norm(X: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.linalg.svd(X, compute_uv=False)[..., 0]


def product_distances(layers: ArrayLike) -> NDArray[np.float64]:
    r"""Distance :math:`\|M_k \cdots M_1 - J/n\|_2` of every partial product to the uniform matrix.

    For doubly-stochastic layers this is the operator norm of the product on the detail
    subspace, at most :math:`\prod_{\ell \le k} \sigma_2(M_\ell)` (Corollary of Lemma 2).

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)

    Returns
    -------
    ndarray, shape (..., L)
    """
    A = _stack(layers)
    n = A.shape[-1]
    return _spectral_norm(_cumulative_products(A) - 1.0 / n)


def power_distances(M: ArrayLike, k_max: int) -> NDArray[np.float64]:
    r"""Profile :math:`\|M^k - J/n\|_2` for :math:`k = 1, \dots, k_{\max}` (tied weights).

    For :math:`M \in \mathcal B_n` it lies between :math:`|\lambda_2|^k` and :math:`\sigma_2^k`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
    k_max : int
        Largest power, ``>= 1``.

    Returns
    -------
    ndarray, shape (..., k_max)
    """
    A = as_square_stack(M, "M", min_n=2)
    k_max = check_int(k_max, "k_max", minimum=1)
    stack = np.broadcast_to(A[..., None, :, :], A.shape[:-2] + (k_max,) + A.shape[-2:])
    return product_distances(stack)


def max_product_norm(layers: ArrayLike) -> NDArray[np.float64]:
    r"""Largest operator norm :math:`\max_k \|M_k \cdots M_1\|_2` over the partial products.

    Exactly 1 for exact doubly-stochastic layers; it can exceed 1 for approximately
    doubly-stochastic ones, e.g. from truncated Sinkhorn (a fixed number of sweeps).

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    A = _stack(layers)
    return _spectral_norm(_cumulative_products(A)).max(axis=-1)


def realised_depth(layers: ArrayLike, eps: float) -> NDArray[np.float64]:
    r"""First depth :math:`k` with :math:`\|M_k \cdots M_1 - J/n\|_2 \le \varepsilon` (``inf`` if none).

    Compare with the worst-case effective depth of :func:`homtrap.effective_depth`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
    eps : float
        Target in (0, 1).

    Returns
    -------
    ndarray of float, shape (...)
        Integer-valued depths in ``1..L`` or ``inf``.
    """
    e = float(check_open_unit(eps, "eps"))
    d = product_distances(layers)
    hit = d <= e
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


