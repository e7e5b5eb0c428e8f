"""The implementations homtrap's solver is measured against, and a timer (not part of the package).

A reader who reuses homtrap would otherwise write the textbook loop or call POT
:cite:p:`flamary2021pot`; the benchmarks (``benchmarks/bench.py``) and the appendix
:doc:`/book/appendix_performance` run those peers on the same inputs, in the same process, and
check that they agree before reporting any time. The appendix imports this file from the
repository's ``benchmarks/`` folder (on Colab it downloads it from the release it pins).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from homtrap import marginal_error, sinkhorn_solve

__all__ = [
    "best_time", "compare_solvers", "each", "markdown_table", "naive_sinkhorn", "pot_sinkhorn", "worst_marginal_error",
]


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


def worst_marginal_error(M: NDArray[np.float64]) -> float:
    """Largest marginal error over a stack, ``inf`` if any entry is NaN or infinite (a failed peer)."""
    return float(marginal_error(M).max()) if np.all(np.isfinite(M)) else np.inf


def compare_solvers(
    Gs: NDArray[np.float64], T: float, tol: float, *, repeat: int = 3, peers_repeat: int = 1, max_iter: int = 10_000
) -> dict[str, float]:
    """Solve the same logits with homtrap, POT and the textbook loop; times, errors, work and agreement.

    homtrap gets the best of ``repeat`` runs, each peer the best of ``peers_repeat``; the peers
    get ``max_iter`` sweeps. Times are per call (seconds) for the whole stack ``Gs``; errors
    are the worst marginal error of each result (``inf`` for NaN); ``agree_pot`` is the largest
    entrywise difference between homtrap and POT where POT returned finite matrices.
    """
    B = len(Gs)
    t_h, res = best_time(lambda: sinkhorn_solve(Gs, T, tol=tol), repeat)
    t_p, (Mp, itp) = best_time(lambda: each(pot_sinkhorn, Gs, T, tol=tol, max_iter=max_iter), peers_repeat)
    t_n, (Mn, itn) = best_time(lambda: each(naive_sinkhorn, Gs, T, tol=tol, max_iter=max_iter), peers_repeat)
    ok = np.isfinite(Mp).all(axis=(1, 2))
    agree = float(np.abs(res.matrix[ok] - Mp[ok]).max()) if ok.any() else np.nan
    return dict(T=T, n=Gs.shape[-1], B=B, homtrap_s=t_h, pot_s=t_p, naive_s=t_n,
                homtrap_err=float(res.marginal_error.max()), pot_err=worst_marginal_error(Mp),
                naive_err=worst_marginal_error(Mn), homtrap_iter=float(np.median(res.iterations)),
                homtrap_newton=float(np.median(res.newton_steps)), pot_iter=float(np.median(itp)),
                naive_iter=float(np.median(itn)), agree_pot=agree, speedup_pot=t_p / t_h, speedup_naive=t_n / t_h)


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    cols: Sequence[str],
    heads: Sequence[str] | None = None,
    fmt: Mapping[str, str] | None = None,
) -> str:
    """A Markdown table of the columns ``cols`` of ``rows``.

    ``heads`` are the column titles (default: the keys); ``fmt`` maps a column to a format
    string. Strings are shown as they are, other floats with 3 significant digits, anything
    else with ``str``.
    """
    fmt = fmt or {}
    heads = list(cols) if heads is None else list(heads)
    if len(heads) != len(cols):
        raise ValueError(f"heads must have one title per column: {len(heads)} titles for {len(cols)} columns")

    def cell(c: str, v: Any) -> str:
        if isinstance(v, str):
            return v
        if c in fmt:
            return fmt[c].format(v)
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(cell(c, r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"
