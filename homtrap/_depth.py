r"""Effective depth :math:`D_\text{eff}(\varepsilon) = \min\{L : \sigma_2^L \le \varepsilon\}`.

Used in Part III; the high-temperature form appears in Part II.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, check_open_unit

__all__ = ["effective_depth", "effective_depth_product", "high_temperature_effective_depth"]


def effective_depth(sigma2: ArrayLike, eps: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Smallest number of layers :math:`L \ge 0` with :math:`\sigma_2^L \le \varepsilon`.

    .. math::
        D_\text{eff}(\varepsilon) = \left\lceil \frac{\ln(1/\varepsilon)}{\ln(1/\sigma_2)} \right\rceil ,

    with the ceiling checked against the powers themselves
    (:math:`\sigma_2^{L-1} > \varepsilon \ge \sigma_2^L` in floating point), so an
    off-by-one from rounding the logarithms cannot occur; at an exact tie such as
    ``(0.1, 0.01)`` the answer follows numpy's rounding of the power. It is infinite when
    :math:`\sigma_2 = 1` and equals 1 when :math:`\sigma_2 = 0`.

    Parameters
    ----------
    sigma2 : array_like
        Values in :math:`[0, 1]`.
    eps : array_like
        Target contraction factors in :math:`(0, 1)`; broadcast against ``sigma2``.

    Returns
    -------
    float or ndarray of float
        Integer-valued depths (``inf`` where ``sigma2 == 1``).
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2 must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = check_open_unit(eps, "eps")
    s, e = np.broadcast_arrays(s, e)
    out = np.full(s.shape, np.inf)
    zero = s == 0
    out[zero] = 1.0
    mid = (s > 0) & (s < 1)
    sm, em = s[mid], e[mid]
    L = np.ceil(np.log(em) / np.log(sm))
    L = np.where(sm ** (L - 1) <= em, L - 1, L)
    L = np.where(sm**L > em, L + 1, L)
    out[mid] = np.maximum(L, 1.0)
    return out[()]


def effective_depth_product(sigma2s: ArrayLike, eps: float) -> NDArray[np.float64] | np.float64:
    r"""Heterogeneous effective depth: the smallest :math:`L` with :math:`\prod_{\ell \le L} \sigma_2(M_\ell) \le \varepsilon`.

    Parameters
    ----------
    sigma2s : array_like, shape (..., L)
        Per-layer :math:`\sigma_2` values in :math:`[0, 1]`, in the order the layers are applied.
    eps : float
        Target in (0, 1).

    Returns
    -------
    float or ndarray of float, shape (...)
        Depths in ``1..L``, or ``inf`` if the product of all ``L`` values stays above ``eps``.
    """
    s = as_real_array(sigma2s, "sigma2s")
    if s.ndim < 1:
        raise ValueError("sigma2s must have a layer axis (shape (..., L))")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2s must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = float(check_open_unit(eps, "eps"))
    with np.errstate(divide="ignore"):
        logs = np.cumsum(np.log(s), axis=-1)
    hit = logs <= np.log(e)
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


def high_temperature_effective_depth(n: ArrayLike, temperature: ArrayLike, eps: float) -> NDArray[np.float64] | np.float64:
    r"""High-temperature form :math:`\ln(1/\varepsilon) / \ln(T\sqrt n / 2)` of the effective depth.

    Uses the asymptotic law :math:`\sigma_2 \approx 2/(T\sqrt n)` for standard Gaussian logits
    (valid for :math:`T\sqrt n/2 > 1`; ``nan``-free: returns ``inf`` where :math:`T\sqrt n \le 2`).
    This is a real number, not rounded up to an integer.
    """
    nn = as_real_array(n, "n")
    T = as_real_array(temperature, "temperature")
    if np.any(nn < 2):
        raise ValueError("n must be >= 2")
    if np.any(T <= 0):
        raise ValueError("temperature must be > 0")
    e = float(check_open_unit(eps, "eps"))
    x = T * np.sqrt(nn) / 2.0
    with np.errstate(divide="ignore"):
        out = np.where(x > 1, np.log(1 / e) / np.log(np.where(x > 1, x, 2.0)), np.inf)
    return out[()]
