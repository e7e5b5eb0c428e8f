r"""Birkhoff–von Neumann decomposition of a doubly-stochastic matrix.

Every :math:`M \in \mathcal B_n` is a convex combination of permutation matrices
:cite:p:`birkhoff1946`. Used in :doc:`/book/01_dsm_detail_subspace`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ._validation import as_square_stack, check_positive_scalar
from .subspace import marginal_error

__all__ = ["birkhoff_decomposition"]


def birkhoff_decomposition(
    M: ArrayLike, *, tol: float = 1e-12
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Greedy Birkhoff–von Neumann decomposition :math:`M = \sum_k w_k P_{\pi_k}`.

    At each step a permutation supported on the positive entries of the remainder is found
    with the assignment solver (maximising :math:`\sum_i \log R_{i\pi(i)}`, which keeps
    the chosen entries large), its weight is the smallest chosen entry, and that multiple
    of the permutation is subtracted. Each step zeroes at least one entry, so at most
    :math:`n^2 - 2n + 2` terms are produced (Marcus–Ree).

    Parameters
    ----------
    M : array_like, shape (n, n)
        A doubly-stochastic matrix (row and column sums within 1e-8 of one, entries >= 0).
    tol : float, default 1e-12
        Remainder entries below ``tol`` are treated as zero.

    Returns
    -------
    weights : ndarray, shape (k,)
        Positive weights summing to one (up to ``tol``-sized rounding).
    permutations : ndarray of int, shape (k, n)
        ``permutations[k][i]`` is the column of the one in row ``i`` of the k-th term.
    """
    M = as_square_stack(M, "M")
    tol = check_positive_scalar(tol, "tol")
    if M.ndim != 2:
        raise ValueError(f"M must be a single matrix of shape (n, n), got shape {M.shape}")
    if M.min() < -1e-8 or marginal_error(M) > 1e-8:
        raise ValueError("M must be doubly stochastic (entries >= 0, row and column sums 1 within 1e-8)")
    n = M.shape[0]
    R = np.clip(M, 0.0, None)
    weights: list[float] = []
    perms: list[NDArray[np.int64]] = []
    rows = np.arange(n)
    for _ in range(n * n):
        if R.max() <= tol:
            break
        with np.errstate(divide="ignore"):
            cost = np.where(R > tol, -np.log(np.where(R > tol, R, 1.0)), 1e6)
        _, cols = linear_sum_assignment(cost)
        w = R[rows, cols].min()
        if w <= tol:  # no permutation left on the support: the remainder is rounding noise
            break
        weights.append(float(w))
        perms.append(cols.astype(np.int64))
        R[rows, cols] -= w
    return np.array(weights), np.array(perms, dtype=np.int64).reshape(-1, n)
