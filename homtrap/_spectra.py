r"""Singular values and eigenvalues of doubly-stochastic matrices.

:func:`sigma2` uses Lemma 2 of :doc:`/book/01_dsm_detail_subspace`:
for :math:`M \in \mathcal B_n`, :math:`\sigma_2(M) = \|M - J/n\|_2`; :func:`detail_factor`
is :math:`\|PMP\|_2` for any square matrix. Both compute a spectral norm of a centred
matrix: small matrices through the top eigenvalue of :math:`A^\top A` (LAPACK), large ones
(``n >= 512``) by Lanczos iteration on :math:`A^\top A` (see :func:`detail_factor`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import eigh_tridiagonal as _eigh_tridiagonal
from scipy.linalg.lapack import dsyevx as _dsyevx

from ._validation import as_square_stack
from ._sinkhorn_kernels import marginal_errors

__all__ = [
    "departure_from_normality",
    "detail_factor",
    "lambda2",
    "sigma2",
    "sigma2_gap",
    "sigma_rms",
    "singular_values",
]

#: matrices closer than this to doubly stochastic use the Lemma-2 fast path
_DS_ATOL = 1e-9
_EPS = np.finfo(np.float64).eps


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


# ------------------------------------------------------------------ Lanczos route
#: from this size on each matrix goes through the Lanczos route (measured with
#: ``python benchmarks/bench.py --case large``: below it the dense route is about as fast)
_LANCZOS_MIN_N = 512
#: residual target of that route: the top Ritz pair's residual places the returned value within
#: _LANCZOS_TOL * max(1, value) of a singular value of the centred matrix. The functions promise
#: 1e-9; the margin makes a near-tie at the top (see detail_factor, Notes) far less likely to
#: mislead the iteration, for about 20 % more steps
_LANCZOS_TOL = 1e-12
#: Krylov dimension after which the route gives up and falls back to the dense one: at most
#: this, and n // 8 (at least 96), so that a failed attempt costs about as much as the dense route
_LANCZOS_MAX_STEPS = 300
#: seed of the fixed Lanczos start vector (results are reproducible bit for bit)
_LANCZOS_SEED = 0x5EED


def _lanczos_norm(A: NDArray[np.float64]) -> float | None:
    r""":math:`\|A\|_2` of one matrix by Lanczos on :math:`A^\top A`, or ``None`` if it does not converge.

    Lanczos with full reorthogonalisation (classical Gram-Schmidt, twice) on the operator
    :math:`v \mapsto A^\top(Av)`, never formed, from a fixed seeded start vector. It stops when
    the residual :math:`r = \|A^\top A x - \theta x\|_2 = \beta_k |y_k|` of the top Ritz pair
    :math:`(\theta, x)` satisfies :math:`r \le \tau \max(1, \sqrt\theta)\sqrt\theta` with
    :math:`\tau` = ``_LANCZOS_TOL``: some eigenvalue :math:`\lambda` of :math:`A^\top A` then has
    :math:`|\lambda - \theta| \le r`, hence :math:`|\sqrt\lambda - \sqrt\theta| \le r / \sqrt\theta
    \le \tau\max(1, \sqrt\theta)`. Returns :math:`\|Ax\|_2` (the Ritz vector's Rayleigh
    quotient, at most :math:`\|A\|_2`), or ``None`` after ``min(_LANCZOS_MAX_STEPS, max(96, n // 8))`` steps
    or as soon as the residual's decrease over the last 16 steps, extrapolated, would need more
    than twice that many (many singular values crowded near the top, as at low temperature).

    That :math:`\lambda` is the largest eigenvalue unless the start vector is (to rounding)
    orthogonal to the top eigenvector, or nearly so and the top eigenvalue is within about
    :math:`r` of the next: Lanczos finds extreme eigenvalues first, but no residual test can
    exclude an eigenvalue the Krylov space has not seen. Each step reads :math:`A` twice
    (about :math:`4n^2` flops), against :math:`O(n^3)` for any dense method.
    """
    n = A.shape[1]
    k_max = min(_LANCZOS_MAX_STEPS, max(96, n // 8), n)
    V = np.empty((k_max, n))
    alpha, beta, res = np.empty(k_max), np.empty(k_max), np.empty(k_max)
    v = np.random.default_rng(_LANCZOS_SEED).standard_normal(n)
    v /= np.linalg.norm(v)
    scale = 0.0  # max over steps of |alpha| + beta: within a factor 2 of ||A^T A||_2 once the top is found
    for j in range(k_max):
        V[j] = v
        w = (A @ v) @ A  # A^T (A v), as a row: both products read A in its memory order
        alpha[j] = v @ w
        Vj = V[: j + 1]
        w -= (Vj @ w) @ Vj
        w -= (Vj @ w) @ Vj
        beta[j] = np.linalg.norm(w)
        theta, Y = _eigh_tridiagonal(alpha[: j + 1], beta[:j])
        y = Y[:, -1]
        s = np.sqrt(max(theta[-1], 0.0))
        scale = max(scale, abs(alpha[j]) + beta[j])
        res[j], target = beta[j] * abs(y[-1]), _LANCZOS_TOL * max(1.0, s) * s
        # beta at rounding level: the Krylov space is invariant and its Ritz values are eigenvalues
        if res[j] <= target or beta[j] <= 4 * n * _EPS * scale:
            x = y @ Vj
            return float(np.linalg.norm(A @ x) / np.linalg.norm(x))
        if j >= 47 and j % 16 == 15 and target > 0:  # give up early if the residual's recent rate is hopeless
            rate = (res[j] / res[j - 16]) ** (1 / 16)  # convergence accelerates: allow twice the budget
            if rate >= 1.0 or j + np.log(target / res[j]) / np.log(rate) > 2 * k_max:
                return None
        v = w / beta[j]
    return None


def _large_norm(A: NDArray[np.float64]) -> float:
    r""":math:`\|A\|_2` of one large matrix: :func:`_lanczos_norm`, else the dense route on :math:`A^\top A`."""
    if not A.any():  # exactly zero (J/n): exactly 0
        return 0.0
    sig = _lanczos_norm(A)
    if sig is None:
        sig = float(np.sqrt(max(_top_eigenvalue(np.matmul(A.T, A)[None])[0], 0.0)))
    return sig


def _is_permutation(M: NDArray[np.float64]) -> bool:
    """Whether the ``(n, n)`` matrix is a permutation matrix (0/1 entries, one 1 per row and column); exact."""
    return bool(np.all((M == 0.0) | (M == 1.0)) and np.all(M.sum(axis=0) == 1.0) and np.all(M.sum(axis=1) == 1.0))


def _norm_stack(A: NDArray[np.float64], M: NDArray[np.float64], clip: bool) -> NDArray[np.float64]:
    r"""``||A_b||_2`` for a ``(B, n, n)`` stack of centred matrices ``A`` (computed from ``M``; ``A`` is overwritten).

    Below :data:`_LANCZOS_MIN_N` the top eigenvalue of :math:`A^\top A`; from it on the
    Lanczos route (:func:`_large_norm`), one matrix at a time, where a permutation ``M`` gives exactly 1.
    ``clip`` caps the result at 1 (doubly-stochastic input, where the norm is at most 1).
    """
    n = A.shape[-1]
    if n < _LANCZOS_MIN_N:
        ev = _top_eigenvalue(np.matmul(A.swapaxes(-1, -2), A))
        # sigma_2 <= 1 for a doubly-stochastic matrix; clip rounding excursions (e.g. 1 + 4e-13)
        return np.sqrt(np.clip(ev, 0.0, 1.0 if clip else None))
    out = np.array([1.0 if _is_permutation(m) else _large_norm(a) for a, m in zip(A, M)])
    return np.minimum(out, 1.0) if clip else out


def _centered_norm(M: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""``||M - J/n||_2`` for a ``(B, n, n)`` stack of doubly-stochastic matrices, capped at 1.

    Forming ``A = M - J/n`` explicitly keeps the exact cases exact: ``J/n`` gives 0 and a
    permutation matrix gives 1 (a rotated basis of the detail subspace would leave ~1e-16 of rounding).
    """
    return _norm_stack(M - 1.0 / M.shape[-1], M, clip=True)


def sigma2(M: ArrayLike, *, assume_doubly_stochastic: bool | None = None) -> NDArray[np.float64]:
    r"""Second-largest singular value :math:`\sigma_2(M)` of each matrix.

    For a doubly-stochastic matrix Lemma 2 gives :math:`\sigma_2(M) = \|M - J/n\|_2`,
    which is cheaper than a full SVD: for ``n < 512`` the square root of the top eigenvalue
    of :math:`(M - J/n)^\top (M - J/n)` (LAPACK ``dsyevx``), from ``n = 512`` on Lanczos
    iteration (the route of :func:`detail_factor`; ``benchmarks/bench.py --case large``
    compares it with the SVD). Other matrices fall back to the SVD.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Matrices with ``n >= 2``.
    assume_doubly_stochastic : bool or None, default None
        ``None`` checks each matrix (row and column sums within 1e-9 of one, entries
        non-negative) and uses the fast path only where the check passes; ``True`` uses it
        for all (returning :math:`\min(\|M - J/n\|_2, 1)`); ``False`` always uses the SVD.

    Returns
    -------
    ndarray, shape (...)

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``M`` is not real or ``assume_doubly_stochastic`` is not None/True/False.

    Notes
    -----
    Both fast routes compute the norm of the same computed matrix
    :math:`\hat A = \mathrm{fl}(M - J/n)`; the cancellation in forming it limits the
    relative accuracy below :math:`\sigma_2 \approx 10^{-7}` (absolute error about
    :math:`10^{-16}`). The large-``n`` route stops when the residual places its value within
    :math:`10^{-12}` of a singular value of :math:`\hat A` (see :func:`detail_factor` for the
    one caveat: near-ties at the top) and falls back to ``dsyevx`` when it does not converge. ``J/n`` gives
    exactly 0 and a permutation matrix exactly 1 on both routes. Defined in
    :doc:`/book/01_dsm_detail_subspace`, used in every later chapter.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> float(homtrap.sigma2(np.array([[0.9, 0.1], [0.1, 0.9]])))  # doctest: +ELLIPSIS
    0.8...
    >>> float(homtrap.sigma2(np.eye(3))), float(homtrap.sigma2(np.full((3, 3), 1 / 3)))
    (1.0, 0.0)
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


def detail_factor(M: ArrayLike) -> NDArray[np.float64]:
    r"""The detail factor :math:`\|PMP\|_2` of each matrix, :math:`P = I - J/n`.

    The largest factor by which the matrix can stretch a mean-free vector and keep only its
    mean-free part. For a doubly-stochastic :math:`M` it equals :math:`\sigma_2(M)`
    (Lemma 2, :math:`PMP = M - J/n`). For a row-stochastic :math:`M` (:math:`M\mathbf 1 =
    \mathbf 1`) it is the true contraction factor of the mean-free part, since
    :math:`MP = PMP` there (:math:`M J = J`) gives :math:`\|P M x\| \le \|PMP\|_2\|Px\|`
    for every :math:`x`, and :math:`\|P M_L\cdots M_1 x\|_2 \le \prod_\ell \|PM_\ell P\|_2 \|Px\|_2`;
    :math:`\sigma_2(M)` can be smaller than it. Valid for any real square matrix.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real square matrices, any ``n >= 1`` (``n = 1`` gives 0).

    Returns
    -------
    ndarray, shape (...)
        :math:`\|PMP\|_2` for each matrix (a float for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    Notes
    -----
    :math:`\hat B = \mathrm{fl}(P(M - J/n)P)` is formed by centring rows and columns.
    For ``n < 512`` the result is the square root of the top eigenvalue of
    :math:`\hat B^\top \hat B` (LAPACK ``dsyevx``, relative error a modest multiple of
    :math:`nu`). From ``n = 512`` on each matrix goes through Lanczos iteration on
    :math:`\hat B^\top \hat B`, applied as two matrix-vector products and never formed, with
    full reorthogonalisation and a fixed seeded start vector (so the result is reproducible).
    It stops once the residual :math:`r` of the top Ritz pair proves that the returned value
    is within :math:`10^{-12}\max(1, \text{value})` of a singular value of
    :math:`\hat B`; it falls back to the dense route after :math:`\min(300, \max(96, n/8))`
    steps without that, or earlier when the residual's recent rate of decrease predicts it
    (a failed attempt then costs a fraction of the dense route). A step
    costs about :math:`4n^2` flops, against :math:`O(n^3)` for the SVD; a few dozen steps
    suffice unless many singular values crowd near the top (low temperature), and
    ``benchmarks/bench.py --case large`` measures the ratio.

    The singular value found is the largest one, hence the result within :math:`10^{-9}
    \max(1, \|\hat B\|_2)` of :math:`\|\hat B\|_2`, unless the start vector has (almost) no
    component along the top right singular vector, or the top two singular values are closer
    than about :math:`10^{-6}` (but further apart than :math:`10^{-9}`) and the start vector
    strongly favours the second: a residual test cannot see a direction the Krylov space has
    not reached. For a matrix not built against the fixed start vector this is unlikely but
    not excluded; use ``np.linalg.norm(P @ M @ P, 2)`` where a proof is needed.
    ``J/n`` gives exactly 0 and a permutation matrix exactly 1.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(6, 1.0, rng=0)  # doubly stochastic: the detail factor is sigma_2
    >>> bool(abs(homtrap.detail_factor(M) - homtrap.sigma2(M)) < 1e-12)
    True
    >>> W = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])  # row-stochastic only
    >>> P = np.eye(3) - 1 / 3
    >>> bool(abs(homtrap.detail_factor(W) - np.linalg.norm(P @ W @ P, 2)) < 1e-12)
    True
    >>> homtrap.detail_factor(np.stack([np.eye(4), np.full((4, 4), 0.25)]))
    array([1., 0.])
    """
    M = as_square_stack(M, "M")
    batch, n = M.shape[:-2], M.shape[-1]
    flat = M.reshape(-1, n, n)
    B = flat - 1.0 / n  # P (M - J/n) P = P M P; subtracting J/n first keeps J/n exactly 0
    B -= B.mean(axis=-1, keepdims=True)
    B -= B.mean(axis=-2, keepdims=True)
    out = _norm_stack(B, flat, clip=False)
    if n >= 2:  # permutation matrices: ||P Pi P|| = 1 exactly (Pi commutes with P and is orthogonal)
        perm = (np.all((flat == 0.0) | (flat == 1.0), axis=(-2, -1)) & np.all(flat.sum(axis=-1) == 1.0, axis=-1)
                & np.all(flat.sum(axis=-2) == 1.0, axis=-1))
        out[perm] = 1.0
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
