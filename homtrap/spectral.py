r"""Singular values and eigenvalues of doubly-stochastic matrices.

:func:`sigma2` uses Lemma 2 of :doc:`/book/01_dsm_detail_subspace`:
for :math:`M \in \mathcal B_n`, :math:`\sigma_2(M) = \|M - J/n\|_2`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dsyevx as _dsyevx

from ._validation import as_square_stack
from ._sinkhorn_kernels import marginal_errors

__all__ = ["departure_from_normality", "lambda2", "sigma2", "sigma2_gap", "sigma_rms", "singular_values"]

#: matrices closer than this to doubly stochastic use the Lemma-2 fast path
_DS_ATOL = 1e-9


def _doubly_stochastic(flat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Row/column sums within ``_DS_ATOL`` of one and entries >= ``-_DS_ATOL``, for a validated ``(B, n, n)`` stack."""
    return (marginal_errors(flat) <= _DS_ATOL) & (flat.min(axis=(-2, -1)) >= -_DS_ATOL)


def singular_values(M: ArrayLike) -> NDArray[np.float64]:
    """All singular values of each matrix, in descending order, shape ``(..., n)``."""
    M = as_square_stack(M, "M")
    return np.linalg.svd(M, compute_uv=False)


#: from this size on, LAPACK's dsyevx for the top eigenvalue only beats numpy's batched eigvalsh
_EVX_MIN_N = 24


def _top_eigenvalue(C: NDArray[np.float64]) -> NDArray[np.float64]:
    """Largest eigenvalue of each symmetric matrix of a ``(B, n, n)`` stack (``C`` is overwritten).

    Both routes tridiagonalise; numpy's batched ``eigvalsh`` then finds every eigenvalue,
    LAPACK's ``dsyevx`` (bisection restricted to the top index) only the one we need, which
    is about 1.5x faster from ``n ~ 24`` on despite the Python loop. A C-ordered symmetric
    matrix is its own Fortran-ordered transpose, so no copy is made.
    """
    B, n, _ = C.shape
    if n < _EVX_MIN_N:
        return np.linalg.eigvalsh(C)[:, -1]
    out = np.empty(B)
    for i in range(B):
        w, _, m, _, info = _dsyevx(C[i].T, compute_v=0, range="I", il=n, iu=n, overwrite_a=1)
        out[i] = w[0] if info == 0 and m == 1 else np.linalg.eigvalsh(C[i])[-1]
    return out


def _centered_norm(M: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""``||M - J/n||_2`` for a ``(B, n, n)`` stack, via the top eigenvalue of ``A^T A``, ``A = M - J/n``.

    Forming ``A`` explicitly keeps the exact cases exact: ``J/n`` gives 0 and a permutation
    matrix gives 1 (a rotated basis of the detail subspace would leave ~1e-16 of rounding).
    """
    A = M - 1.0 / M.shape[-1]
    ev = _top_eigenvalue(np.matmul(A.swapaxes(-1, -2), A))
    # sigma_2 <= 1 for a doubly-stochastic matrix; clip rounding excursions (e.g. 1 + 4e-13)
    return np.sqrt(np.clip(ev, 0.0, 1.0))


def sigma2(M: ArrayLike, *, assume_doubly_stochastic: bool | None = None) -> NDArray[np.float64]:
    r"""Second-largest singular value :math:`\sigma_2(M)` of each matrix.

    For a doubly-stochastic matrix Lemma 2 gives :math:`\sigma_2(M) = \|M - J/n\|_2`,
    computed as the square root of the top eigenvalue of the symmetric matrix
    :math:`(M - J/n)^\top (M - J/n)` (``eigvalsh``), which is cheaper than a full SVD.
    Other matrices fall back to the SVD.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Matrices with ``n >= 2``.
    assume_doubly_stochastic : bool or None, default None
        ``None`` checks each matrix (row and column sums within 1e-9 of one, entries
        non-negative) and uses the fast path only where the check passes; ``True`` uses it
        for all; ``False`` always uses the SVD.

    Returns
    -------
    ndarray, shape (...)

    Notes
    -----
    The squared form loses relative accuracy only below :math:`\sigma_2 \approx 10^{-7}`
    (absolute error about :math:`10^{-16}/\sigma_2`); it is exact to 1e-9 in the range the
    book uses. Defined in :doc:`/book/01_dsm_detail_subspace`, used in every later chapter.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> float(homtrap.sigma2(np.array([[0.9, 0.1], [0.1, 0.9]])))  # doctest: +ELLIPSIS
    0.8...
    """
    M = as_square_stack(M, "M", min_n=2)
    if assume_doubly_stochastic not in (None, True, False):
        raise TypeError(f"assume_doubly_stochastic must be None, True or False, got {assume_doubly_stochastic!r}")
    batch, n = M.shape[:-2], M.shape[-1]
    flat = M.reshape(-1, n, n)
    if assume_doubly_stochastic is None:
        ds = _doubly_stochastic(flat)
    else:
        ds = np.full(flat.shape[0], bool(assume_doubly_stochastic))
    if np.all(ds):  # the usual case: no fancy-index copies
        out = _centered_norm(flat)
    else:
        out = np.empty(flat.shape[0])
        if np.any(ds):
            out[ds] = _centered_norm(flat[ds])
        out[~ds] = np.linalg.svd(flat[~ds], compute_uv=False)[:, 1]
    return out.reshape(batch)[()]


def lambda2(M: ArrayLike) -> NDArray[np.float64]:
    r"""Second-largest eigenvalue modulus :math:`|\lambda_2(M)|`.

    For a doubly-stochastic matrix this is the spectral radius of :math:`M - J/n`
    (the eigenvalue 1 on :math:`\mathbf 1` is replaced by 0); otherwise the second entry of
    the eigenvalue moduli sorted in decreasing order.
    """
    M = as_square_stack(M, "M", min_n=2)
    batch, n = M.shape[:-2], M.shape[-1]
    flat = M.reshape(-1, n, n)
    ds = _doubly_stochastic(flat)
    out = np.empty(flat.shape[0])
    if np.any(ds):
        out[ds] = np.abs(np.linalg.eigvals(flat[ds] - 1.0 / n)).max(axis=-1)
    if not np.all(ds):
        mods = np.sort(np.abs(np.linalg.eigvals(flat[~ds])), axis=-1)
        out[~ds] = mods[:, -2]
    return out.reshape(batch)[()]


def sigma2_gap(M: ArrayLike) -> NDArray[np.float64]:
    r"""The gap :math:`1 - \sigma_2(M)^2` of a doubly-stochastic matrix, accurate near :math:`\sigma_2 = 1`.

    For :math:`M \in \mathcal B_n`, :math:`1 - \sigma_2^2` is the second-smallest eigenvalue
    (algebraic connectivity) of the graph Laplacian of :math:`W = MM^\top` built from its
    off-diagonal entries, which involves no cancellation; ``1 - sigma2(M)**2`` loses all
    digits once :math:`1 - \sigma_2 \lesssim 10^{-16}`. Used in Part II (low temperature).

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Doubly-stochastic matrices (row and column sums within 1e-9 of one), ``n >= 2``.
    """
    A = as_square_stack(M, "M", min_n=2)
    flat = A.reshape(-1, *A.shape[-2:])
    if not np.all(_doubly_stochastic(flat)):
        raise ValueError("M must be doubly stochastic (row and column sums within 1e-9 of one, entries >= 0)")
    n = A.shape[-1]
    W = np.matmul(A, np.swapaxes(A, -1, -2))
    d = np.arange(n)
    W[..., d, d] = 0.0
    lap = -W
    lap[..., d, d] = W.sum(axis=-1)
    return np.clip(np.linalg.eigvalsh(lap)[..., 1], 0.0, None)[()]


def sigma_rms(M: ArrayLike) -> NDArray[np.float64]:
    r"""Root-mean-square singular value of a doubly-stochastic matrix on the detail subspace.

    .. math:: \sigma_{\mathrm{rms}}(M) = \sqrt{\frac{\|M\|_F^2 - 1}{n - 1}} = \sqrt{\frac{\|PMP\|_F^2}{n-1}},

    the factor by which a typical (uniformly random) detail vector contracts in mean square,
    against the worst case :math:`\sigma_2` (Part I, Part III). Valid for doubly-stochastic ``M``.
    """
    A = as_square_stack(M, "M", min_n=2)
    n = A.shape[-1]
    return np.sqrt(np.clip(((A * A).sum(axis=(-2, -1)) - 1.0) / (n - 1), 0.0, None))[()]


def departure_from_normality(M: ArrayLike) -> NDArray[np.float64]:
    r"""Commutator norm :math:`\|MM^\top - M^\top M\|_F` of each matrix (0 exactly for normal matrices)."""
    A = as_square_stack(M, "M")
    At = np.swapaxes(A, -1, -2)
    return np.linalg.norm(A @ At - At @ A, axis=(-2, -1))[()]
