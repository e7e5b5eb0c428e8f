r"""The mean/detail split of :math:`\mathbb R^n` and doubly-stochastic checks.

Used from :doc:`/book/01_dsm_detail_subspace` on.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlogy

from ._sinkhorn_kernels import marginal_errors
from ._validation import as_square_stack, as_vector_stack, check_int, check_positive_scalar

__all__ = [
    "centering_projector",
    "circulant",
    "cosine",
    "detail",
    "detail_basis",
    "detail_block",
    "double_centre",
    "is_doubly_stochastic",
    "marginal_error",
    "mean_part",
    "entropy",
    "permutation_matrix",
    "uniform_barycenter",
]


def centering_projector(n: int) -> NDArray[np.float64]:
    r"""The orthogonal projector :math:`P = I - J/n` onto :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp`."""
    n = check_int(n, "n", minimum=1)
    return np.eye(n) - np.full((n, n), 1.0 / n)


def uniform_barycenter(n: int) -> NDArray[np.float64]:
    r"""The uniform barycenter :math:`J/n` of the Birkhoff polytope (every entry ``1/n``)."""
    n = check_int(n, "n", minimum=1)
    return np.full((n, n), 1.0 / n)


def detail(x: ArrayLike) -> NDArray[np.float64]:
    r"""Detail part :math:`P x = x - \bar x \mathbf 1` of each vector along the last axis."""
    x = as_vector_stack(x, "x")
    return x - x.mean(axis=-1, keepdims=True)


def mean_part(x: ArrayLike) -> NDArray[np.float64]:
    r"""Mean part :math:`\bar x \mathbf 1` of each vector along the last axis."""
    x = as_vector_stack(x, "x")
    return np.broadcast_to(x.mean(axis=-1, keepdims=True), x.shape).copy()


def double_centre(X: ArrayLike) -> NDArray[np.float64]:
    r"""Doubly centred matrices :math:`P X P` (every row and column sums to zero), batched.

    :math:`X \mapsto PXP` is the orthogonal projection onto the matrices with zero row and
    column sums, the directions in which the Birkhoff polytope extends (Part II).
    """
    X = as_square_stack(X, "X")
    X = X - X.mean(axis=-1, keepdims=True)
    return X - X.mean(axis=-2, keepdims=True)


def detail_basis(n: int) -> NDArray[np.float64]:
    r"""An orthonormal basis :math:`Q \in \mathbb R^{n \times (n-1)}` of :math:`V_\perp` (Helmert basis).

    Column :math:`j` is :math:`(\mathbf 1_{j} , -j, 0, \dots)/\sqrt{j(j+1)}`: deterministic,
    so results do not depend on a QR factorisation's sign conventions.
    """
    return _helmert(check_int(n, "n", minimum=2)).copy()


@functools.lru_cache(maxsize=16)
def _helmert(n: int) -> NDArray[np.float64]:
    """The Helmert basis of :func:`detail_basis`, built once per ``n`` (read-only)."""
    j = np.arange(1, n)
    Q = np.where(np.arange(n)[:, None] < j[None, :], 1.0, 0.0)
    Q[j, j - 1] = -j.astype(float)
    Q /= np.sqrt(j * (j + 1.0))[None, :]
    Q.flags.writeable = False
    return Q


def detail_block(M: ArrayLike) -> NDArray[np.float64]:
    r"""The matrix :math:`B = Q^\top M Q` of :math:`M` restricted to :math:`V_\perp`, batched.

    For a doubly-stochastic :math:`M`, the singular values of :math:`M` are 1 together with
    those of :math:`B` (Lemma 2), and products of layers act on :math:`V_\perp` as products of
    their blocks.
    """
    A = as_square_stack(M, "M", min_n=2)
    Q = detail_basis(A.shape[-1])
    return np.swapaxes(Q, 0, 1) @ A @ Q


def circulant(c: ArrayLike) -> NDArray[np.float64]:
    r"""Circulant matrices with first rows ``c`` (shape ``(..., n)``): :math:`C_{ij} = c_{(j - i) \bmod n}`."""
    c = as_vector_stack(c, "c")
    n = c.shape[-1]
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return c[..., idx]


def entropy(M: ArrayLike) -> NDArray[np.float64]:
    r"""Entropy :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}` (with :math:`0\log 0 = 0`) of each matrix."""
    A = as_square_stack(M, "M")
    if np.any(A < 0):
        raise ValueError("M must be entrywise non-negative")
    return (-xlogy(A, A).sum(axis=(-2, -1)))[()]


def cosine(x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Cosine of the angle between ``x`` and ``y`` along the last axis (batched, broadcasting)."""
    a = as_vector_stack(x, "x")
    b = as_vector_stack(y, "y")
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("x and y must be non-zero vectors (the angle of a zero vector is undefined)")
    return ((a * b).sum(axis=-1) / (na * nb))[()]


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


