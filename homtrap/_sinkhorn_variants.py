"""Plain (textbook) Sinkhorn–Knopp, kept as a readable reference and as the peer that
shows why the plain iteration fails at low temperature.

Used in :doc:`/book/04_low_temperature` and the benchmarks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, as_square_stack, check_int, check_positive_scalar

__all__ = ["PlainSinkhornResult", "plain_sinkhorn", "plain_sweeps_predicted", "truncated_sinkhorn", "truncated_sinkhorn_path"]


@dataclass(frozen=True)
class PlainSinkhornResult:
    """Outcome of :func:`plain_sinkhorn`, with the field names of :class:`SinkhornResult`.

    Attributes
    ----------
    matrix : ndarray, shape (..., n, n)
        The matrices after the last sweep.
    iterations : ndarray of int, shape (...)
        Sweeps used per matrix (a sweep normalises the rows, then the columns).
    marginal_error : ndarray, shape (...)
        ``max(|M 1 - 1|_inf, |M^T 1 - 1|_inf)`` of the returned matrix.
    converged : ndarray of bool, shape (...)
        ``marginal_error <= tol``.
    tol : float
        The requested tolerance.
    """

    matrix: NDArray[np.float64]
    iterations: NDArray[np.int64]
    marginal_error: NDArray[np.float64]
    converged: NDArray[np.bool_]
    tol: float

    @property
    def sweeps(self) -> NDArray[np.int64]:
        """Deprecated name of :attr:`iterations` (homtrap 0.3)."""
        warnings.warn("PlainSinkhornResult.sweeps is now called .iterations; .sweeps will be removed",
                      DeprecationWarning, stacklevel=2)
        return self.iterations


def _log_kernel(G: NDArray[np.float64], T: float, n: int) -> NDArray[np.float64]:
    with np.errstate(over="ignore"):
        L = (G / T).reshape(-1, n, n)
    if not np.all(np.isfinite(L)):
        raise ValueError(f"logits / temperature overflows float64 (temperature={T})")
    return L - L.max(axis=2, keepdims=True)


def _sweep(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """One Sinkhorn sweep in the log domain: normalise the rows, then the columns."""
    m = X.max(axis=2, keepdims=True)
    X = X - (np.log(np.exp(X - m).sum(axis=2, keepdims=True)) + m)
    m = X.max(axis=1, keepdims=True)
    return X - (np.log(np.exp(X - m).sum(axis=1, keepdims=True)) + m)


def plain_sweeps_predicted(sigma2: ArrayLike, tol: float = 1e-10) -> NDArray[np.float64]:
    r"""Sweeps plain Sinkhorn needs to reach ``tol`` from an error of order one: :math:`\log(1/\tau) / (-2\log\sigma_2)`.

    Near the solution the row error of alternating normalisation contracts by
    :math:`\sigma_2(M)^2` per sweep (:doc:`/book/04_low_temperature`), so this is the
    linearised sweep count; it is infinite where :math:`\sigma_2` rounds to one and zero where
    :math:`\sigma_2 = 0`. Compare with :attr:`PlainSinkhornResult.iterations`.

    Parameters
    ----------
    sigma2 : array_like
        Second singular values in :math:`[0, 1]`.
    tol : float, default 1e-10
        The target row-sum error :math:`\tau`.

    Returns
    -------
    ndarray
        Same shape as ``sigma2``.

    Examples
    --------
    >>> import homtrap
    >>> round(float(homtrap.plain_sweeps_predicted(0.1, 1e-10)), 9)  # each sweep gains two digits
    5.0
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1 + 1e-12)):
        raise ValueError(f"sigma2 must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    tol = check_positive_scalar(tol, "tol")
    with np.errstate(divide="ignore"):
        return np.where(s < 1.0, np.log(1.0 / tol) / (-2.0 * np.log(np.minimum(s, 1.0))), np.inf)[()]


def truncated_sinkhorn(logits: ArrayLike, temperature: float = 1.0, *, sweeps: int = 20) -> NDArray[np.float64]:
    r"""Exactly ``sweeps`` Sinkhorn sweeps (rows, then columns) of :math:`\exp(G/T)`, no convergence test.

    This is how layers such as mHC's hyper-connections use Sinkhorn (about 20 sweeps)
    :cite:p:`xie2025mhc`. The columns of the result sum to one exactly; the rows only
    approximately, so the result is only approximately doubly stochastic and products of
    such matrices can have norm above one (Part III).

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
    temperature : float, default 1.0
    sweeps : int, default 20
        Number of row-then-column normalisations, ``>= 1``.

    Returns
    -------
    ndarray, shape (..., n, n)
        Column-stochastic matrices; use :func:`homtrap.marginal_error` for the row error.
    """
    G = as_square_stack(logits, "logits")
    T = check_positive_scalar(temperature, "temperature")
    sweeps = check_int(sweeps, "sweeps", minimum=1)
    X = _log_kernel(G, T, G.shape[-1])
    for _ in range(sweeps):
        X = _sweep(X)
    return np.exp(X).reshape(G.shape)


def truncated_sinkhorn_path(
    logits: ArrayLike, temperature: float = 1.0, *, sweeps: tuple[int, ...] = (1, 2, 5, 10, 20, 50)
) -> dict[int, NDArray[np.float64]]:
    """Matrices after exactly ``s`` sweeps for every ``s`` in ``sweeps``, computed in one pass.

    Equivalent to ``{s: truncated_sinkhorn(logits, temperature, sweeps=s) for s in sweeps}``
    but costs only ``max(sweeps)`` sweeps.
    """
    G = as_square_stack(logits, "logits")
    T = check_positive_scalar(temperature, "temperature")
    if isinstance(sweeps, (int, np.integer)):
        sweeps = (sweeps,)
    counts = sorted({check_int(s, "sweeps", minimum=1) for s in sweeps})
    if not counts:
        raise ValueError("sweeps must name at least one sweep count")
    X = _log_kernel(G, T, G.shape[-1])
    done, out = 0, {}
    for s in counts:
        for _ in range(s - done):
            X = _sweep(X)
        done = s
        out[s] = np.exp(X).reshape(G.shape)
    return out


def plain_sinkhorn(
    logits: ArrayLike, temperature: float = 1.0, *, tol: float = 1e-10, max_iter: int = 10_000
) -> PlainSinkhornResult:
    r"""Alternate row and column normalisation of :math:`K = \exp(G/T)` (log-domain, batched).

    Each sweep divides every row of the current matrix by its sum, then every column. The
    error after the sweep is the largest row-sum deviation (columns are then exact). Its
    convergence is linear, at a rate close to :math:`\sigma_2(M_T)^2` per sweep, so the
    number of sweeps grows without bound as :math:`T \to 0`. No Newton steps, no annealing.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
    temperature : float, default 1.0
    tol : float, default 1e-10
    max_iter : int, default 10000
        Sweeps allowed per matrix; matrices still above ``tol`` are returned unconverged.

    See Also
    --------
    plain_sweeps_predicted : the number of sweeps this needs, from :math:`\sigma_2`.

    Returns
    -------
    PlainSinkhornResult
    """
    G = as_square_stack(logits, "logits")
    T = check_positive_scalar(temperature, "temperature")
    tol = check_positive_scalar(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    n = G.shape[-1]
    X = _log_kernel(G, T, n)
    B = X.shape[0]
    sweeps = np.zeros(B, dtype=np.int64)
    err = np.full(B, np.inf)
    active = np.arange(B)
    for _ in range(max_iter):
        Xa = _sweep(X[active])
        X[active] = Xa
        sweeps[active] += 1
        e = np.abs(np.exp(Xa).sum(axis=2) - 1.0).max(axis=1)
        err[active] = e
        active = active[e > tol]
        if not active.size:
            break
    M = np.exp(X)
    return PlainSinkhornResult(
        matrix=M.reshape(G.shape),
        iterations=sweeps.reshape(G.shape[:-2]),
        marginal_error=err.reshape(G.shape[:-2]),
        converged=(err <= tol).reshape(G.shape[:-2]),
        tol=tol,
    )
