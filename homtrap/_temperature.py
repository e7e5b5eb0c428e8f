r"""The temperature axis: sweeps of :math:`\sigma_2(M_T)`, the high-temperature law and the
low-temperature limit.

Used in Part II (:doc:`/book/02_maximum_entropy`, :doc:`/book/03_high_temperature`,
:doc:`/book/04_low_temperature`, :doc:`/book/05_figure1`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ._validation import as_generator, as_real_array, as_square_stack, check_int, check_positive_scalar, renamed_arguments
from ._birkhoff import entropy, random_logits
from ._sinkhorn import ConvergenceError, sinkhorn_solve
from ._spectra import sigma2
from ._detail import double_centre

__all__ = [
    "TemperatureSweep",
    "assignment_gap",
    "assignment_permutation",
    "entropic_objective",
    "first_order_sigma2",
    "sigma2_sweep",
]


@dataclass(frozen=True)
class TemperatureSweep:
    """Samples of :math:`\\sigma_2(M_T)` over a grid of temperatures.

    Attributes
    ----------
    n : int
        Matrix size.
    temperatures : ndarray, shape (k,)
        The grid.
    sigma2 : ndarray, shape (k, trials)
        ``sigma2[i, j]`` is :math:`\\sigma_2(S(\\exp(G_j / T_i)))`.
    iterations : ndarray of int, shape (k, trials)
        Solver work per matrix (Sinkhorn sweeps plus Newton steps).
    max_marginal_error : float
        Worst row or column sum error over all matrices of the sweep.
    common_logits : bool
        Whether the same logits ``G_j`` were used at every temperature.
    """

    n: int
    temperatures: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    iterations: NDArray[np.int64]
    max_marginal_error: float
    common_logits: bool

    def mean(self) -> NDArray[np.float64]:
        """Mean of :math:`\\sigma_2` at each temperature."""
        return self.sigma2.mean(axis=1)

    def quantile(self, q: ArrayLike) -> NDArray[np.float64]:
        """Quantiles of :math:`\\sigma_2` at each temperature, shape ``(len(q), k)`` or ``(k,)``."""
        return np.quantile(self.sigma2, q, axis=1)


@renamed_arguments(trials="size")
def sigma2_sweep(
    n: int,
    temperatures: ArrayLike,
    size: int,
    *,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
    common_logits: bool = True,
    tol: float = 1e-10,
) -> TemperatureSweep:
    r"""Sample :math:`\sigma_2(M_T)` for Gaussian logits over a grid of temperatures.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 2``.
    temperatures : array_like, shape (k,)
        Positive temperatures.
    size : int
        Matrices per temperature.
    rng : int, numpy.random.Generator or None
        Seed or generator.
    scale : float, default 1.0
        Standard deviation of the logits.
    common_logits : bool, default True
        Use the same ``size`` logit matrices at every temperature (common random numbers:
        curves are smooth and pathwise monotonicity can be checked); otherwise draw fresh
        logits per temperature.
    tol : float, default 1e-10
        Sinkhorn tolerance; an unconverged matrix raises :class:`~homtrap.ConvergenceError`.

    Returns
    -------
    TemperatureSweep
    """
    n = check_int(n, "n", minimum=2)
    size = check_int(size, "size", minimum=1)
    Ts = as_real_array(temperatures, "temperatures").reshape(-1)
    if np.any(Ts <= 0):
        raise ValueError(f"temperatures must be > 0, got min {Ts.min()}")
    gen = as_generator(rng)
    G = random_logits(n, size=size, rng=gen, scale=scale)
    s2 = np.empty((Ts.size, size))
    it = np.empty((Ts.size, size), dtype=np.int64)
    worst = 0.0
    for i, T in enumerate(Ts):
        if not common_logits and i > 0:
            G = random_logits(n, size=size, rng=gen, scale=scale)
        res = sinkhorn_solve(G, float(T), tol=tol)
        if not res.all_converged:
            raise ConvergenceError(f"Sinkhorn missed tol={tol} at T={T}: error {res.marginal_error.max():.3g}")
        s2[i] = sigma2(res.matrix, assume_doubly_stochastic=True)
        it[i] = res.iterations
        worst = max(worst, float(res.marginal_error.max()))
    return TemperatureSweep(n, Ts, s2, it, worst, common_logits)


def first_order_sigma2(logits: ArrayLike, temperature: float) -> NDArray[np.float64]:
    r"""High-temperature prediction :math:`\|P G P\|_2 / (n T)` of :math:`\sigma_2(M_T)`.

    From :math:`M_T = J/n + P G P/(nT) + O(T^{-2})` and Lemma 2.
    """
    G = as_square_stack(logits, "logits", min_n=2)
    T = check_positive_scalar(temperature, "temperature")
    n = G.shape[-1]
    return np.linalg.svd(double_centre(G), compute_uv=False)[..., 0] / (n * T)


def assignment_permutation(logits: ArrayLike) -> NDArray[np.int64]:
    r"""The permutation :math:`\pi` maximising :math:`\sum_i G_{i\pi(i)}` (the :math:`T \to 0` limit).

    Parameters
    ----------
    logits : array_like, shape (..., n, n)

    Returns
    -------
    ndarray of int, shape (..., n)
        ``perm[..., i]`` is the column assigned to row ``i``.
    """
    G = as_square_stack(logits, "logits")
    n = G.shape[-1]
    flat = G.reshape(-1, n, n)
    out = np.empty((flat.shape[0], n), dtype=np.int64)
    for k, g in enumerate(flat):  # scipy's solver takes one matrix at a time
        _, out[k] = linear_sum_assignment(g, maximize=True)
    return out.reshape(*G.shape[:-2], n)


def assignment_gap(logits: ArrayLike) -> NDArray[np.float64]:
    r"""Gap :math:`\Delta` between the best and the second-best assignment value.

    :math:`\Delta = \max_\pi \sum_i G_{i\pi(i)} - \max_{\pi \ne \pi^\star} \sum_i G_{i\pi(i)}`,
    computed with ``n`` assignment solves, each forbidding one edge of the optimum
    :math:`\pi^\star` (every other permutation misses at least one of them). ``0`` means a tie.
    Controls the low-temperature limit (Part II).

    Parameters
    ----------
    logits : array_like, shape (..., n, n), n >= 2

    Returns
    -------
    ndarray, shape (...)
    """
    G = as_square_stack(logits, "logits", min_n=2)
    n = G.shape[-1]
    flat = G.reshape(-1, n, n)
    out = np.empty(flat.shape[0])
    rows = np.arange(n)
    for k, g in enumerate(flat):
        _, best = linear_sum_assignment(g, maximize=True)
        top = g[rows, best].sum()
        forbid = np.abs(g).max() * (n + 1) * 4 + 1.0  # makes the forbidden edge never optimal
        second = -np.inf
        for i in range(n):
            h = g.copy()
            h[i, best[i]] -= forbid
            _, p = linear_sum_assignment(h, maximize=True)
            second = max(second, g[rows, p].sum())
        out[k] = top - second
    return out.reshape(G.shape[:-2])[()]


def entropic_objective(logits: ArrayLike, M: ArrayLike, temperature: float) -> NDArray[np.float64]:
    r"""The entropic-OT objective :math:`\langle G, M\rangle + T\,H(M)`, :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}`.

    :math:`M_T = S(\exp(G/T))` is its unique maximiser over the Birkhoff polytope.
    """
    G = as_square_stack(logits, "logits")
    M = as_square_stack(M, "M")
    T = check_positive_scalar(temperature, "temperature")
    if np.any(M < 0):
        raise ValueError("M must be entrywise non-negative")
    return (G * M).sum(axis=(-2, -1)) + T * entropy(M)
