r"""Plain (textbook) and truncated Sinkhorn–Knopp.

:func:`homtrap.plain_sinkhorn` is the textbook alternating normalisation, kept as a readable
reference and as the peer that shows why the plain iteration fails at low temperature
(:class:`homtrap.PlainSinkhornResult`; :func:`homtrap.plain_sweeps_predicted` predicts its
sweep count from :math:`\sigma_2`). :func:`homtrap.truncated_sinkhorn` and
:func:`homtrap.truncated_sinkhorn_path` run a fixed number of sweeps with no convergence
test, the way trained layers such as mHC's hyper-connections use Sinkhorn.

Plain Sinkhorn is used in :doc:`/book/03_high_temperature`, :doc:`/book/04_low_temperature`,
:doc:`/book/05_figure1`, :doc:`/book/19_next_checks`, :doc:`/book/21_diagnose`,
:doc:`/book/22_tradeoff_map` and :doc:`/book/appendix_performance`; truncated Sinkhorn in
:doc:`/book/09_non_normality`, :doc:`/book/17_case_mhc`, :doc:`/book/21_diagnose` and
:doc:`/book/22_tradeoff_map`; and both in the benchmarks.
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
    r"""Outcome of :func:`homtrap.plain_sinkhorn`, with the field names of :class:`homtrap.SinkhornResult`.

    Frozen dataclass. The deprecated property ``sweeps`` (homtrap 0.3) still returns
    ``iterations`` and warns.

    Attributes
    ----------
    matrix : ndarray of float, shape (..., n, n)
        The matrices after the last sweep.
    iterations : ndarray of int, shape (...)
        Sweeps used per matrix (a sweep normalises the rows, then the columns).
    marginal_error : ndarray of float, shape (...)
        Row-sum error :math:`\|M\mathbf 1 - \mathbf 1\|_\infty` of the returned matrix (its
        columns sum to one up to rounding, so this is
        :math:`\max(\|M\mathbf 1 - \mathbf 1\|_\infty, \|M^\top\mathbf 1 - \mathbf 1\|_\infty)`).
    converged : ndarray of bool, shape (...)
        ``marginal_error <= tol``.
    tol : float
        The requested tolerance.

    See Also
    --------
    plain_sinkhorn : Produces it.
    SinkhornResult : The production solver's result.

    Examples
    --------
    >>> import homtrap
    >>> res = homtrap.plain_sinkhorn(homtrap.random_logits(4, size=2, rng=0), 1.0)
    >>> res.matrix.shape, res.iterations.shape, res.converged.tolist(), res.tol
    ((2, 4, 4), (2,), [True, True], 1e-10)
    >>> bool((res.marginal_error <= res.tol).all())
    True
    """

    matrix: NDArray[np.float64]
    iterations: NDArray[np.int64]
    marginal_error: NDArray[np.float64]
    converged: NDArray[np.bool_]
    tol: float

    @property
    def sweeps(self) -> NDArray[np.int64]:
        r"""Deprecated name of :attr:`iterations` (homtrap 0.3); warns with a :class:`DeprecationWarning`.

        Returns
        -------
        ndarray of int, shape (...)
            ``self.iterations``.
        """
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


def plain_sweeps_predicted(sigma2: ArrayLike, tol: float = 1e-10) -> NDArray[np.float64] | np.float64:
    r"""Predict the sweeps plain Sinkhorn needs to reach ``tol`` from an error of order one: :math:`\log(1/\tau) / (-2\log\sigma_2)`.

    Near the solution the row error of alternating normalisation contracts by
    :math:`\sigma_2(M)^2` per sweep (:prf:ref:`prop-lowtemp-linearised`), so

    .. math::

        k(\tau) \approx \frac{\ln(1/\tau)}{2\ln(1/\sigma_2)}

    sweeps take an error of order one to :math:`\tau`. This is the linearised count; it is
    infinite where :math:`\sigma_2` rounds to one and zero where :math:`\sigma_2 = 0`. As
    :math:`T \to 0`, :math:`\sigma_2(M_T) \to 1` and the count explodes. Used in
    :doc:`/book/04_low_temperature`, :doc:`/book/19_next_checks`, :doc:`/book/21_diagnose`,
    :doc:`/book/22_tradeoff_map` and :doc:`/book/appendix_performance`.

    Parameters
    ----------
    sigma2 : array_like
        Second singular values in :math:`[0, 1]` (values up to :math:`1 + 10^{-12}` are accepted
        as 1), any shape.
    tol : float, default 1e-10
        The target row-sum error :math:`\tau`; finite and ``> 0``.

    Returns
    -------
    numpy.float64 or ndarray of float
        Real (not rounded) sweep counts, same shape as ``sigma2`` (a scalar for a scalar).

    Raises
    ------
    ValueError
        If ``sigma2`` is outside :math:`[0, 1]` or holds NaN/inf, or ``tol`` is not finite and
        positive.
    TypeError
        If ``sigma2`` is not real numeric or ``tol`` is not a real number.

    See Also
    --------
    plain_sinkhorn : The iteration it predicts; compare with
        :attr:`PlainSinkhornResult.iterations`.
    sigma2_gap : :math:`1 - \sigma_2^2` without cancellation, for :math:`\sigma_2` near 1.

    Examples
    --------
    >>> import homtrap
    >>> round(float(homtrap.plain_sweeps_predicted(0.1, 1e-10)), 9)  # each sweep gains two digits
    5.0

    Against the measured count of :func:`homtrap.plain_sinkhorn`:

    >>> G = homtrap.random_logits(5, rng=0)
    >>> res = homtrap.plain_sinkhorn(G, 1.0, tol=1e-10)
    >>> pred = homtrap.plain_sweeps_predicted(homtrap.sigma2(res.matrix), 1e-10)
    >>> int(res.iterations), round(float(pred), 1)
    (13, 14.5)
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
    :cite:p:`xie2025mhc`. The columns of the result sum to one (up to rounding); the rows only
    approximately, so the result is only approximately doubly stochastic and products of such
    matrices can have norm above one (:prf:ref:`prop-nn-column-stochastic`,
    :doc:`/book/09_non_normality`). Also used in :doc:`/book/17_case_mhc`,
    :doc:`/book/21_diagnose` and :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.
    temperature : float, default 1.0
        Temperature :math:`T`; finite and ``> 0``.
    sweeps : int, default 20
        Number of row-then-column normalisations, ``>= 1``.

    Returns
    -------
    ndarray of float, shape (..., n, n)
        Column-stochastic matrices; use :func:`homtrap.marginal_error` for the row error.

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices or holds NaN/inf, ``temperature`` is not
        finite and positive, ``logits / temperature`` overflows float64, or ``sweeps < 1``.
    TypeError
        If ``logits`` is not real numeric, ``temperature`` not a real number, or ``sweeps`` not an
        integer.

    See Also
    --------
    truncated_sinkhorn_path : Several sweep counts in one pass.
    sinkhorn : The converged solver.
    max_product_norm : How far products of truncated layers can grow.

    Notes
    -----
    Computed in the log domain (log-sum-exp normalisation), so small temperatures do not
    underflow.

    Examples
    --------
    The row error falls with the number of sweeps; the columns are exact:

    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(5, rng=0)
    >>> for s in (1, 5):
    ...     X = homtrap.truncated_sinkhorn(G, 1.0, sweeps=s)
    ...     print(s, f"{float(homtrap.marginal_error(X)):.1e}", bool(np.allclose(X.sum(axis=0), 1.0)))
    1 9.2e-02 True
    5 1.9e-05 True
    >>> bool(homtrap.marginal_error(homtrap.truncated_sinkhorn(G, 1.0, sweeps=20)) < 1e-12)
    True
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
    r"""Run truncated Sinkhorn once, keeping the matrices after exactly ``s`` sweeps for every ``s`` in ``sweeps``.

    Equivalent to ``{s: truncated_sinkhorn(logits, temperature, sweeps=s) for s in sweeps}``
    but costs only ``max(sweeps)`` sweeps. Used in :doc:`/book/09_non_normality` and
    :doc:`/book/17_case_mhc` to follow a truncated layer as the sweep count grows.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.
    temperature : float, default 1.0
        Temperature :math:`T`; finite and ``> 0``.
    sweeps : int or tuple of int, default (1, 2, 5, 10, 20, 50)
        Sweep counts, each ``>= 1`` (duplicates are merged); at least one.

    Returns
    -------
    dict of int to ndarray of float, shape (..., n, n)
        ``out[s]`` is the column-stochastic matrix after ``s`` sweeps; keys in increasing order.

    Raises
    ------
    ValueError
        If ``sweeps`` is empty or holds a count ``< 1``, ``temperature`` is not finite and
        positive, ``logits`` is not a stack of square matrices or holds NaN/inf, or
        ``logits / temperature`` overflows.
    TypeError
        If a sweep count is not an integer, or another argument has the wrong type.

    See Also
    --------
    truncated_sinkhorn : A single sweep count.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(5, rng=0)
    >>> path = homtrap.truncated_sinkhorn_path(G, 1.0, sweeps=(20, 1, 5))
    >>> list(path)
    [1, 5, 20]
    >>> all(np.array_equal(path[s], homtrap.truncated_sinkhorn(G, 1.0, sweeps=s)) for s in path)
    True
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
    r"""Textbook Sinkhorn–Knopp: alternate row and column normalisation of :math:`K = \exp(G/T)`.

    Each sweep divides every row of the current matrix by its sum, then every column, in the log
    domain and batched; it stops per matrix when the row error is at most ``tol`` (the columns
    are then exact). Convergence is linear, at a rate close to :math:`\sigma_2(M_T)^2` per sweep
    (:prf:ref:`prop-lowtemp-linearised`), so the number of sweeps grows without bound as
    :math:`T \to 0`. No Newton steps, no annealing: use :func:`homtrap.sinkhorn` for real work.
    Used in :doc:`/book/03_high_temperature`, :doc:`/book/04_low_temperature`,
    :doc:`/book/05_figure1`, :doc:`/book/19_next_checks`, :doc:`/book/21_diagnose` and
    :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.
    temperature : float, default 1.0
        Temperature :math:`T`; finite and ``> 0``.
    tol : float, default 1e-10
        Target row-sum error :math:`\tau`; finite and ``> 0``.
    max_iter : int, default 10000
        Sweeps allowed per matrix, ``>= 1``; matrices still above ``tol`` are returned
        unconverged (no warning: check ``converged``).

    Returns
    -------
    PlainSinkhornResult
        ``matrix`` of shape ``(..., n, n)``; ``iterations``, ``marginal_error`` and ``converged``
        of shape ``(...)``.

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices or holds NaN/inf, ``logits / temperature``
        overflows, or ``temperature``, ``tol`` or ``max_iter`` is out of range.
    TypeError
        If an argument has the wrong type.

    See Also
    --------
    plain_sweeps_predicted : The number of sweeps this needs, from :math:`\sigma_2`.
    sinkhorn : The production solver (same fixed point, far fewer sweeps at low temperature).
    truncated_sinkhorn : A fixed number of sweeps.

    Examples
    --------
    The sweep count explodes as the temperature falls:

    >>> import homtrap
    >>> G = homtrap.random_logits(5, rng=0)
    >>> [int(homtrap.plain_sinkhorn(G, T).iterations) for T in (1.0, 0.3, 0.1)]
    [13, 44, 99]
    >>> res = homtrap.plain_sinkhorn(G, 0.05, max_iter=100)
    >>> bool(res.converged), int(res.iterations)
    (False, 100)

    The fixed point is the production solver's:

    >>> import numpy as np
    >>> bool(np.allclose(homtrap.plain_sinkhorn(G, 1.0).matrix, homtrap.sinkhorn(G, 1.0), atol=1e-9))
    True
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
