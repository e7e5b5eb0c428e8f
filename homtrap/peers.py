"""The implementations homtrap's solver is measured against, and a timer.

A reader who reuses homtrap would otherwise write the textbook loop or call POT
:cite:p:`flamary2021pot`; the benchmarks (``benchmarks/bench.py``) and the appendix
:doc:`/book/appendix_performance` run those peers on the same inputs, in the same process, and
check that they agree before reporting any time.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["best_time", "each", "naive_sinkhorn", "pot_sinkhorn"]


def naive_sinkhorn(G: NDArray[np.float64], T: float, tol: float = 1e-9, max_iter: int = 10_000) -> tuple[NDArray[np.float64], int]:
    """Textbook Sinkhorn–Knopp on one matrix: ``K = exp((G - max G)/T)``, ``a = 1/(K b)``, ``b = 1/(K^T a)``.

    Stops when the row sums of ``diag(a) K diag(b)`` (whose column sums are exact) are within
    ``tol`` of one, or after ``max_iter`` sweeps. Plain domain, no safeguards: at low
    temperature entries of ``K`` underflow and the result may be NaN.

    Returns
    -------
    M : ndarray, shape (n, n)
    sweeps : int
    """
    K = np.exp((G - G.max()) / T)
    b = np.ones(G.shape[0])
    it = 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for it in range(1, max_iter + 1):
            a = 1.0 / (K @ b)
            b = 1.0 / (K.T @ a)
            if np.abs(a * (K @ b) - 1.0).max() <= tol:
                break
        return a[:, None] * K * b[None, :], it


def pot_sinkhorn(
    G: NDArray[np.float64], T: float, tol: float = 1e-9, max_iter: int = 10_000, method: str = "sinkhorn"
) -> tuple[NDArray[np.float64], int]:
    """POT's ``ot.sinkhorn`` on one matrix (cost ``-G``, regularisation ``T``, uniform marginals), times ``n``.

    POT stops on the marginal violation of the plan (marginals ``1/n``), so ``tol / n`` is
    passed to ask for the same accuracy as the doubly-stochastic matrix. Its warnings (no
    convergence, overflow) are silenced here; the caller measures the achieved error.

    Raises
    ------
    ImportError
        If POT is not installed (``pip install POT``).
    """
    import ot  # an optional dependency: only the benchmarks need it

    n = G.shape[0]
    w = np.full(n, 1.0 / n)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        P, log = ot.sinkhorn(w, w, -G, T, method=method, numItermax=max_iter, stopThr=tol / n, log=True)
    return n * np.asarray(P), int(log.get("niter", max_iter))


def each(fn: Callable[..., tuple[NDArray[np.float64], int]], Gs: NDArray[np.float64], T: float, **kw: Any) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Apply a one-matrix solver to every matrix of a ``(B, n, n)`` stack; returns ``(matrices, sweeps)``."""
    out = np.empty_like(Gs)
    its = np.empty(len(Gs), dtype=np.int64)
    for i, g in enumerate(Gs):
        out[i], its[i] = fn(g, T, **kw)
    return out, its


def best_time(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall-clock time of ``repeat`` calls of ``fn()`` (seconds) and the last result."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result
