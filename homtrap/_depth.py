r"""Depth: how many layers it takes the detail to fall below a target.

One home for every depth of the book: the effective depth
:math:`D_\text{eff}(\varepsilon) = \min\{L : \sigma_2^L \le \varepsilon\}` and its forms for
products and at high temperature; the realised depth and the detail profile
:math:`\|M_k \cdots M_1 - J/n\|_2` of an actual stack; the largest gain of its partial products;
the collapse depth :math:`L_\eta` of Theorem 1; and the depth of a stack repeated cyclically
(used by :func:`homtrap.diagnose`). A stack is an array of shape ``(..., L, n, n)``; layer
``ell`` (0-based) is applied ``ell``-th, so the product after ``k`` layers is
:math:`M_k \cdots M_1`. Used in Part III (:doc:`/book/07_contraction_across_layers`,
:doc:`/book/08_effective_depth`, :doc:`/book/09_non_normality`), Part IV
(:doc:`/book/11_theorem1`) and Part VI.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, as_square_stack, check_int, check_open_unit, check_positive_scalar, renamed_arguments

__all__ = [
    "collapse_depth",
    "effective_depth",
    "effective_depth_product",
    "high_temperature_effective_depth",
    "max_product_norm",
    "power_distances",
    "product_distances",
    "realised_depth",
]


@renamed_arguments(eps="target")
def effective_depth(sigma2: ArrayLike, target: ArrayLike) -> NDArray[np.float64] | np.float64:
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
    target : array_like
        Target contraction factors in :math:`(0, 1)`; broadcast against ``sigma2``.

    Returns
    -------
    float or ndarray of float
        Integer-valued depths (``inf`` where ``sigma2 == 1``).
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2 must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = check_open_unit(target, "target")
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


@renamed_arguments(eps="target")
def effective_depth_product(sigma2s: ArrayLike, target: float) -> NDArray[np.float64] | np.float64:
    r"""Heterogeneous effective depth: the smallest :math:`L` with :math:`\prod_{\ell \le L} \sigma_2(M_\ell) \le \varepsilon`.

    Parameters
    ----------
    sigma2s : array_like, shape (..., L)
        Per-layer :math:`\sigma_2` values in :math:`[0, 1]`, in the order the layers are applied.
    target : float
        Target in (0, 1).

    Returns
    -------
    float or ndarray of float, shape (...)
        Depths in ``1..L``, or ``inf`` if the product of all ``L`` values stays above ``target``.
    """
    s = as_real_array(sigma2s, "sigma2s")
    if s.ndim < 1:
        raise ValueError("sigma2s must have a layer axis (shape (..., L))")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2s must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = float(check_open_unit(target, "target"))
    with np.errstate(divide="ignore"):
        logs = np.cumsum(np.log(s), axis=-1)
    hit = logs <= np.log(e)
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


@renamed_arguments(eps="target")
def high_temperature_effective_depth(n: ArrayLike, temperature: ArrayLike, target: float) -> NDArray[np.float64] | np.float64:
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
    e = float(check_open_unit(target, "target"))
    x = T * np.sqrt(nn) / 2.0
    with np.errstate(divide="ignore"):
        out = np.where(x > 1, np.log(1 / e) / np.log(np.where(x > 1, x, 2.0)), np.inf)
    return out[()]


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


@renamed_arguments(eps="target")
def realised_depth(layers: ArrayLike, target: float) -> NDArray[np.float64]:
    r"""First depth :math:`k` with :math:`\|M_k \cdots M_1 - J/n\|_2 \le \varepsilon` (``inf`` if none).

    Compare with the worst-case effective depth of :func:`homtrap.effective_depth`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
    target : float
        Target in (0, 1).

    Returns
    -------
    ndarray of float, shape (...)
        Integer-valued depths in ``1..L`` or ``inf``.
    """
    e = float(check_open_unit(target, "target"))
    d = product_distances(layers)
    hit = d <= e
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


def collapse_depth(sigma2: ArrayLike, detail_norm: ArrayLike, noise_std: float, n: int, eta: float) -> NDArray[np.float64] | np.float64:
    r"""Depth after which Theorem 1 guarantees collapse: smallest :math:`L` with :math:`8\gamma_L \le \eta`.

    With :math:`\gamma_L = \sigma_2^L \|x_\perp\| / (\nu\sqrt{n-1})` (spectral form), this is
    :math:`L = \lceil \ln(8\|x_\perp\|/(\eta\nu\sqrt{n-1})) / \ln(1/\sigma_2) \rceil`, or 0 if
    already :math:`8\gamma_0 \le \eta`; ``inf`` when :math:`\sigma_2 = 1`.
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError("sigma2 must lie in [0, 1]")
    d = as_real_array(detail_norm, "detail_norm")
    if np.any(d < 0):
        raise ValueError("detail_norm must be >= 0")
    nu = check_positive_scalar(noise_std, "noise_std")
    n = check_int(n, "n", minimum=2)
    eta = check_positive_scalar(eta, "eta")
    s, d = np.broadcast_arrays(s, d)
    gamma0 = d / (nu * np.sqrt(n - 1))
    need = 8 * gamma0 / eta  # contraction factor needed
    out = np.full(s.shape, np.inf)
    done = need <= 1
    out[done] = 0.0
    zero = (s == 0) & ~done
    out[zero] = 1.0
    mid = (s > 0) & (s < 1) & ~done
    L = np.ceil(np.log(need[mid]) / np.log(1 / s[mid]))
    L = np.where(8 * gamma0[mid] * s[mid] ** (L - 1) <= eta, L - 1, L)
    L = np.where(8 * gamma0[mid] * s[mid] ** L > eta, L + 1, L)
    out[mid] = L
    return out[()]


def cyclic_effective_depth(f: NDArray[np.float64], target: float) -> float:
    r"""Smallest D with :math:`\prod_{j \le m} f_j \le \varepsilon` for every :math:`m \ge D`, the stack repeated cyclically.

    For factors at most one the products are non-increasing and this is the first crossing
    (computed as in :prf:ref:`prop-diagnose-guarantees`, never more than ``2L`` factors). With
    factors above one (possible for row-stochastic layers) the running maximum over the next
    cycle, :math:`R_m = \max_{0 \le t < L} S_{m+t}` of the log-products :math:`S`, is
    non-increasing when the cycle's log-product :math:`c` is negative and satisfies
    :math:`R_{m+L} = R_m + c`; ``D`` is the first ``m`` with :math:`R_m \le \ln\varepsilon`.
    """
    with np.errstate(divide="ignore"):
        logs = np.log(f)
    L = f.size
    cycle = logs.sum()
    if np.all(f <= 1.0):
        if cycle == 0.0:
            return np.inf
        if cycle == -np.inf or cycle <= np.log(target):
            return float(effective_depth_product(f, target))
        full = max(0, int(np.floor(np.log(target) / cycle)) - 1)  # whole cycles that surely stay above target
        rest = np.log(target) - full * cycle
        partial = np.cumsum(np.tile(logs, 2))
        return float(full * L + int(np.argmax(partial <= rest)) + 1)
    if cycle > 0.0:
        return np.inf
    S = np.cumsum(np.tile(logs, 3))  # S[m - 1] = log-product of the first m factors, m = 1 .. 3L
    R = np.array([S[m - 1:m - 1 + L].max() for m in range(1, 2 * L + 1)])  # R_m, m = 1 .. 2L
    log_target = np.log(target)
    if cycle == 0.0 or cycle == -np.inf:
        hit = np.flatnonzero(R[:L] <= log_target)
        if hit.size:
            return float(hit[0] + 1)
        return np.inf if cycle == 0.0 else float(np.flatnonzero(R <= log_target)[0] + 1)
    # cycle < 0: R_{iL + j} = i c + R_j; skip the cycles that surely stay above the target
    full = max(0, int(np.floor((log_target - R[:L].max()) / cycle)) - 1)
    hit = np.flatnonzero(full * cycle + R <= log_target)
    while hit.size == 0:  # pragma: no cover - the floor above leaves at most two cycles to search
        full += 1
        hit = np.flatnonzero(full * cycle + R <= log_target)
    return float(full * L + hit[0] + 1)
