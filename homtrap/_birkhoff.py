r"""The Birkhoff polytope :math:`\mathcal B_n` of doubly-stochastic matrices.

Its barycenter :math:`J/n`, its vertices (the permutation matrices, Birkhoff–von Neumann
:cite:p:`birkhoff1946`), membership (row and column sums), the entropy that Sinkhorn
maximises, circulant members, and how the book samples it: Sinkhorn of Gaussian logits.
Defined in :doc:`/book/01_dsm_detail_subspace`; used in every chapter.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import xlogy

from ._sinkhorn import sinkhorn
from ._sinkhorn_kernels import marginal_errors
from ._validation import as_generator, as_square_stack, as_vector_stack, check_int, check_positive_scalar

__all__ = [
    "BirkhoffDecomposition",
    "birkhoff_decomposition",
    "circulant",
    "entropy",
    "is_doubly_stochastic",
    "marginal_error",
    "permutation_matrix",
    "random_dsm",
    "random_logits",
    "uniform_barycenter",
]


class BirkhoffDecomposition(NamedTuple):
    r"""A Birkhoff–von Neumann decomposition :math:`M = \sum_k w_k \Pi_{\pi_k}` (unpacks as ``w, perms``)."""

    #: positive weights :math:`w_k`, summing to one, shape ``(k,)``
    weights: NDArray[np.float64]
    #: ``permutations[k][i]`` is the column of the one in row ``i`` of the k-th term, shape ``(k, n)``
    permutations: NDArray[np.int64]


def birkhoff_decomposition(M: ArrayLike, *, tol: float = 1e-12) -> BirkhoffDecomposition:
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
    return BirkhoffDecomposition(np.array(weights), np.array(perms, dtype=np.int64).reshape(-1, n))


def uniform_barycenter(n: int) -> NDArray[np.float64]:
    r"""The uniform barycenter :math:`J/n` of the Birkhoff polytope (every entry ``1/n``)."""
    n = check_int(n, "n", minimum=1)
    return np.full((n, n), 1.0 / n)


def permutation_matrix(perm: ArrayLike) -> NDArray[np.float64]:
    r"""The permutation matrix with :math:`P_{i,\pi(i)} = 1`.

    Parameters
    ----------
    perm : array_like of int, shape (n,)
        A permutation of ``0, ..., n-1``.
    """
    p = np.asarray(perm)
    if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"perm must be a non-empty 1-D integer array, got {p!r}")
    n = p.size
    if not np.array_equal(np.sort(p), np.arange(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1}, got {p.tolist()}")
    P = np.zeros((n, n))
    P[np.arange(n), p] = 1.0
    return P


def marginal_error(M: ArrayLike) -> NDArray[np.float64]:
    r"""Largest deviation of a row or column sum from one: :math:`\max(\|M\mathbf 1-\mathbf 1\|_\infty, \|M^\top\mathbf 1-\mathbf 1\|_\infty)`."""
    M = as_square_stack(M, "M")
    return marginal_errors(M.reshape(-1, *M.shape[-2:])).reshape(M.shape[:-2])[()]


def is_doubly_stochastic(M: ArrayLike, *, atol: float = 1e-9) -> NDArray[np.bool_]:
    r"""Whether each matrix lies in the Birkhoff polytope up to ``atol``.

    Entries must be :math:`\ge -\text{atol}` and every row and column sum within ``atol`` of one.
    """
    M = as_square_stack(M, "M")
    atol = check_positive_scalar(atol, "atol")
    nonneg = M.min(axis=(-2, -1)) >= -atol
    return nonneg & (marginal_error(M) <= atol)


def entropy(M: ArrayLike) -> NDArray[np.float64]:
    r"""Entropy :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}` (with :math:`0\log 0 = 0`) of each matrix."""
    A = as_square_stack(M, "M")
    if np.any(A < 0):
        raise ValueError("M must be entrywise non-negative")
    return (-xlogy(A, A).sum(axis=(-2, -1)))[()]


def circulant(c: ArrayLike) -> NDArray[np.float64]:
    r"""Circulant matrices with first rows ``c`` (shape ``(..., n)``): :math:`C_{ij} = c_{(j - i) \bmod n}`."""
    c = as_vector_stack(c, "c")
    n = c.shape[-1]
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return c[..., idx]


SizeLike = int | tuple[int, ...] | None


def _batch_shape(size: SizeLike) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return (check_int(size, "size", minimum=1),)
    if isinstance(size, tuple):
        return tuple(check_int(s, "size", minimum=1) for s in size)
    raise TypeError(f"size must be None, an int or a tuple of ints, got {type(size).__name__}")


def random_logits(
    n: int,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
) -> NDArray[np.float64]:
    r"""I.i.d. :math:`\mathcal N(0, \text{scale}^2)` logits of shape ``(*size, n, n)``.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    size : int or tuple of int, optional
        Batch shape; ``None`` gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None
        Seed or generator (Scientific Python SPEC 7); the same seed gives the same logits.
    scale : float, default 1.0
        Standard deviation of every logit.

    Returns
    -------
    ndarray, shape ``(*size, n, n)``
    """
    n = check_int(n, "n", minimum=1)
    scale = check_positive_scalar(scale, "scale")
    shape = _batch_shape(size) + (n, n)
    return as_generator(rng).standard_normal(shape) * scale


def random_dsm(
    n: int,
    temperature: float = 1.0,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
    tol: float = 1e-12,
) -> NDArray[np.float64]:
    r"""Random doubly-stochastic matrices :math:`M_T = S(\exp(G/T))`, :math:`G_{ij} \sim \mathcal N(0, \text{scale}^2)`.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    temperature : float, default 1.0
        Sinkhorn temperature :math:`T > 0`.
    size : int or tuple of int, optional
        Batch shape; ``None`` gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None
        Seed or generator; ``random_dsm(n, T, size=s, rng=k)`` equals
        ``sinkhorn(random_logits(n, size=s, rng=k), T)``.
    scale : float, default 1.0
        Standard deviation of the logits (only ``scale / T`` matters).
    tol : float, default 1e-12
        Sinkhorn tolerance on the row and column sums.

    Returns
    -------
    ndarray, shape ``(*size, n, n)``

    Examples
    --------
    >>> import homtrap
    >>> M = homtrap.random_dsm(4, 1.0, size=3, rng=0)
    >>> M.shape
    (3, 4, 4)
    """
    T = check_positive_scalar(temperature, "temperature")
    G = random_logits(n, size=size, rng=rng, scale=scale)
    return sinkhorn(G, T, tol=tol)
