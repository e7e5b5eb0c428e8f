r"""The detail subspace :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp` and the mean/detail split.

Every :math:`x \in \mathbb R^n` splits as :math:`x = \bar x\,\mathbf 1 + Px` with the centring
projector :math:`P = I - J/n`; this module holds :math:`P`, the two parts, an orthonormal
basis :math:`Q` of :math:`V_\perp`, the block :math:`Q^\top MQ` of a matrix on it, double
centring and the cosine. Defined in :doc:`/book/01_dsm_detail_subspace`; used from there on.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_square_stack, as_vector_stack, check_int

__all__ = [
    "centring_projector",
    "cosine",
    "detail",
    "detail_basis",
    "detail_block",
    "double_centre",
    "mean_part",
]


def centring_projector(n: int) -> NDArray[np.float64]:
    r"""The orthogonal projector :math:`P = I - J/n` onto :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp`."""
    n = check_int(n, "n", minimum=1)
    return np.eye(n) - np.full((n, n), 1.0 / n)


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


def cosine(x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Cosine of the angle between ``x`` and ``y`` along the last axis (batched, broadcasting)."""
    a = as_vector_stack(x, "x")
    b = as_vector_stack(y, "y")
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("x and y must be non-zero vectors (the angle of a zero vector is undefined)")
    return ((a * b).sum(axis=-1) / (na * nb))[()]


