r"""Singular values and eigenvalues of doubly-stochastic matrices.

:func:`homtrap.sigma2` uses Lemma 2 (:prf:ref:`lem-sigma2`) of
:doc:`/book/01_dsm_detail_subspace`: for :math:`M \in \mathcal B_n`,
:math:`\sigma_2(M) = \|M - J/n\|_2`; :func:`homtrap.detail_factor` is :math:`\|PMP\|_2` for
any square matrix. Both compute a spectral norm of a centred matrix: small matrices through
the top eigenvalue of :math:`A^\top A` (LAPACK), large ones (``n >= 512``) by Lanczos
iteration on :math:`A^\top A` (see :func:`homtrap.detail_factor`). Around them:
:func:`homtrap.lambda2` (:math:`|\lambda_2|`), :func:`homtrap.sigma2_gap`
(:math:`1 - \sigma_2^2` without cancellation), :func:`homtrap.sigma_rms`,
:func:`homtrap.singular_values`, :func:`homtrap.departure_from_normality`,
:func:`homtrap.gram_laplacian` (the Laplacian behind the gap) and
:func:`homtrap.scaled_power_norms` (the non-normal transient).

:math:`\sigma_2` is used in nearly every chapter; :math:`|\lambda_2|` and non-normality in
:doc:`/book/06_sigma2_vs_eigenvalues` and :doc:`/book/09_non_normality`; the gap in
:doc:`/book/04_low_temperature`; the detail factor in :doc:`/book/18_case_sinkformers` and
:doc:`/book/21_diagnose`.
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
    "gram_laplacian",
    "lambda2",
    "scaled_power_norms",
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
    r"""All singular values of each matrix, in descending order.

    A thin wrapper of ``numpy.linalg.svd(M, compute_uv=False)`` with the package's input
    validation. For :math:`M \in \mathcal B_n` the first is 1 and the second is
    :math:`\sigma_2(M)` (:prf:ref:`lem-sigma2`). Used in :doc:`/book/04_low_temperature`,
    :doc:`/book/06_sigma2_vs_eigenvalues` and :doc:`/book/09_non_normality`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices.

    Returns
    -------
    ndarray of float, shape (..., n)
        :math:`\sigma_1 \ge \dots \ge \sigma_n \ge 0` for each matrix.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2 : The second one alone, faster for doubly-stochastic matrices.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(4, rng=0)
    >>> s = homtrap.singular_values(M)
    >>> round(float(s[0]), 9), bool(np.isclose(s[1], homtrap.sigma2(M)))
    (1.0, True)
    """
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


def sigma2(M: ArrayLike, *, assume_doubly_stochastic: bool | None = None) -> NDArray[np.float64] | np.float64:
    r"""Second-largest singular value :math:`\sigma_2(M)` of each matrix.

    The book's central quantity. For :math:`M \in \mathcal B_n` it is the norm of :math:`M` on
    the detail subspace (Lemma 2, :prf:ref:`lem-sigma2`),

    .. math::

        \sigma_2(M) = \max_{x \perp \mathbf 1,\ \|x\| = 1} \|Mx\|_2 = \|M - J/n\|_2 ,

    so one layer shrinks the detail of every input by at least this factor
    (:prf:ref:`cor-detail-contraction`) and a stack of :math:`L` layers by at least the product
    of their factors. Computing it as :math:`\|M - J/n\|_2` is cheaper than a full SVD: for
    ``n < 512`` the square root of the top eigenvalue of :math:`(M - J/n)^\top (M - J/n)` (LAPACK ``dsyevx``), from ``n = 512`` on Lanczos
    iteration (the route of :func:`detail_factor`; ``benchmarks/bench.py --case large``
    compares it with the SVD). Other matrices fall back to the SVD.

    Defined in :doc:`/book/01_dsm_detail_subspace`; used in nearly every later chapter, e.g.
    :doc:`/book/03_high_temperature` (its high-temperature law), :doc:`/book/07_contraction_across_layers`
    and :doc:`/book/08_effective_depth` (depth from it).

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices with ``n >= 2``.
    assume_doubly_stochastic : bool or None, default None
        ``None`` checks each matrix (row and column sums within 1e-9 of one, entries
        non-negative) and uses the fast path only where the check passes; ``True`` uses it
        for all (returning :math:`\min(\|M - J/n\|_2, 1)`); ``False`` always uses the SVD.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\sigma_2` of each matrix (a scalar for a single matrix); in :math:`[0, 1]` for
        doubly-stochastic matrices.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``M`` is not real or ``assume_doubly_stochastic`` is not None/True/False.

    See Also
    --------
    detail_factor : :math:`\|PMP\|_2` for any square matrix (equal on :math:`\mathcal B_n`).
    singular_values : All singular values.
    lambda2 : The eigenvalue counterpart, :math:`|\lambda_2| \le \sigma_2`.
    effective_depth : Layers needed to shrink the detail to a target, from :math:`\sigma_2`.

    Notes
    -----
    Both fast routes compute the norm of the same computed matrix
    :math:`\hat A = \mathrm{fl}(M - J/n)`; the cancellation in forming it limits the
    relative accuracy below :math:`\sigma_2 \approx 10^{-7}` (absolute error about
    :math:`10^{-16}`). The large-``n`` route stops when the residual places its value within
    :math:`10^{-12}` of a singular value of :math:`\hat A` (see :func:`detail_factor` for the
    one caveat: near-ties at the top) and falls back to ``dsyevx`` when it does not converge. ``J/n`` gives
    exactly 0 and a permutation matrix exactly 1 on both routes.

    Examples
    --------
    :math:`\sigma_2` of a random doubly-stochastic matrix, checked against the SVD:

    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(8, 1.0, rng=0)
    >>> s = homtrap.sigma2(M)
    >>> bool(np.isclose(s, np.linalg.svd(M, compute_uv=False)[1], rtol=1e-12))
    True

    For :math:`\begin{pmatrix} 0.9 & 0.1 \\ 0.1 & 0.9 \end{pmatrix}` it is :math:`0.9 - 0.1`;
    the barycenter keeps no detail, a permutation all of it:

    >>> round(float(homtrap.sigma2(np.array([[0.9, 0.1], [0.1, 0.9]]))), 6)
    0.8
    >>> float(homtrap.sigma2(np.eye(3))), float(homtrap.sigma2(np.full((3, 3), 1 / 3)))
    (1.0, 0.0)

    A batch gives one value per matrix:

    >>> homtrap.sigma2(homtrap.random_dsm(5, 1.0, size=(2, 3), rng=0)).shape
    (2, 3)
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


def detail_factor(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The detail factor :math:`\|PMP\|_2` of each matrix, :math:`P = I - J/n`.

    The largest factor by which the matrix can stretch a mean-free vector and keep only its
    mean-free part. For a doubly-stochastic :math:`M` it equals :math:`\sigma_2(M)`
    (Lemma 2, :math:`PMP = M - J/n`). For a row-stochastic :math:`M` (:math:`M\mathbf 1 =
    \mathbf 1`) it is the true contraction factor of the mean-free part, since
    :math:`MP = PMP` there (:math:`M J = J`) gives :math:`\|P M x\| \le \|PMP\|_2\|Px\|`
    for every :math:`x`, and :math:`\|P M_L\cdots M_1 x\|_2 \le \prod_\ell \|PM_\ell P\|_2 \|Px\|_2`;
    :math:`\sigma_2(M)` can be smaller than it. Valid for any real square matrix.

    It is the per-layer factor of :func:`homtrap.diagnose`, which must also handle layers that
    are only row-stochastic, such as attention (:prf:ref:`rem-row-stochastic`). Used in
    :doc:`/book/18_case_sinkformers` and :doc:`/book/21_diagnose`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices, any ``n >= 1`` (``n = 1`` gives 0).

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\|PMP\|_2` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2 : Equal for doubly-stochastic matrices.
    centring_projector : :math:`P`.
    diagnose : Uses it as the per-layer factor.

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


def lambda2(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Second-largest eigenvalue modulus :math:`|\lambda_2(M)|` of each matrix.

    For a doubly-stochastic matrix this is the spectral radius of :math:`M - J/n` (the
    eigenvalue 1 on :math:`\mathbf 1` is replaced by 0); otherwise the second entry of the
    eigenvalue moduli sorted in decreasing order. On :math:`\mathcal B_n`,
    :math:`|\lambda_2| \le \sigma_2` (:prf:ref:`prop-lambda-le-sigma`) and
    :math:`|\lambda_2|^k \le \|M^k - J/n\|_2 \le \sigma_2^k` (:prf:ref:`thm-powers-sandwich`):
    :math:`|\lambda_2|` is the asymptotic rate of tied-weight powers, :math:`\sigma_2` the
    guaranteed rate of every stack. Used in :doc:`/book/01_dsm_detail_subspace`,
    :doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`,
    :doc:`/book/08_effective_depth`, :doc:`/book/09_non_normality` and :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices, ``n >= 2``. Matrices doubly stochastic within ``1e-9``
        (line sums and entry signs) use the centred route.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`|\lambda_2(M)|` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2 : The worst-case contraction factor, an upper bound on :math:`|\lambda_2|`.
    departure_from_normality : The two coincide for normal matrices.
    power_distances : :math:`\|M^k - J/n\|_2`, between :math:`|\lambda_2|^k` and :math:`\sigma_2^k`.

    Notes
    -----
    Eigenvalues come from ``numpy.linalg.eigvals`` (general, non-symmetric LAPACK routine). For a
    non-normal matrix an eigenvalue can be sensitive to rounding, so :math:`|\lambda_2|` may
    carry errors well above machine precision when :math:`M` is far from normal.

    Examples
    --------
    A non-normal doubly-stochastic matrix, where :math:`|\lambda_2| < \sigma_2`:

    >>> import numpy as np, homtrap
    >>> M = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]])
    >>> round(float(homtrap.lambda2(M)), 6), round(float(homtrap.sigma2(M)), 6)
    (0.25, 0.5)
    >>> moduli = np.sort(np.abs(np.linalg.eigvals(M)))[::-1]  # independent check
    >>> round(float(moduli[1]), 6)
    0.25
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


def gram_laplacian(M: ArrayLike) -> NDArray[np.float64]:
    r"""The graph Laplacian of the weights :math:`W_{kl} = (MM^\top)_{kl}`, :math:`k \ne l`.

    .. math::

        L_{kl} = -W_{kl}\ (k \ne l), \qquad L_{kk} = \sum_{l \ne k} W_{kl} .

    :math:`L` is symmetric and positive semi-definite, :math:`x^\top L x = \tfrac12\sum_{k \ne l}
    W_{kl}(x_k - x_l)^2`, with :math:`L\mathbf 1 = 0`. For :math:`M \in \mathcal B_n` the row sums
    of :math:`MM^\top` are one, so :math:`L = I - MM^\top`; its second-smallest eigenvalue (the
    algebraic connectivity) is :math:`1 - \sigma_2(M)^2` (:prf:ref:`prop-lowtemp-fiedler`), which
    :func:`homtrap.sigma2_gap` returns. For a matrix with exact columns (column sums one, as
    after a column normalisation) the same :math:`L` is the Hessian of Sinkhorn's reduced dual.
    Built from the off-diagonal weights, it involves no cancellation where :math:`MM^\top` is close
    to the identity (low temperature). Used in :doc:`/book/04_low_temperature`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices (not necessarily doubly stochastic).

    Returns
    -------
    ndarray of float, shape (..., n, n)
        The Laplacians, symmetric with zero row sums (up to rounding).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2_gap : Its second-smallest eigenvalue, for doubly-stochastic ``M``.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(5, 0.5, rng=0)
    >>> L = homtrap.gram_laplacian(M)
    >>> bool(np.allclose(L, np.eye(5) - M @ M.T)), bool(np.allclose(L.sum(axis=1), 0))
    (True, True)
    >>> fiedler = np.linalg.eigvalsh(L)[1]
    >>> bool(np.isclose(fiedler, homtrap.sigma2_gap(M))), bool(np.isclose(fiedler, 1 - homtrap.sigma2(M) ** 2))
    (True, True)
    """
    A = as_square_stack(M, "M")
    n = A.shape[-1]
    W = np.matmul(A, np.swapaxes(A, -1, -2))
    d = np.arange(n)
    W[..., d, d] = 0.0
    lap = -W
    lap[..., d, d] = W.sum(axis=-1)
    return lap


def sigma2_gap(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The gap :math:`1 - \sigma_2(M)^2` of each doubly-stochastic matrix, accurate near :math:`\sigma_2 = 1`.

    For :math:`M \in \mathcal B_n`, :math:`1 - \sigma_2^2` is the second-smallest eigenvalue
    (algebraic connectivity) of the graph Laplacian of the weights :math:`W_{kl} = (MM^\top)_{kl}`,
    :math:`k \ne l` (:prf:ref:`prop-lowtemp-fiedler`),

    .. math::

        1 - \sigma_2(M)^2 = \lambda_2(L), \qquad L_{kl} = -W_{kl}\ (k \ne l), \quad
        L_{kk} = \sum_{l \ne k} W_{kl},

    which involves no cancellation: ``1 - sigma2(M)**2`` loses all digits once
    :math:`1 - \sigma_2 \lesssim 10^{-16}`, as happens at low temperature. The gap also sets the
    speed of plain Sinkhorn (:prf:ref:`prop-lowtemp-linearised`). Used in
    :doc:`/book/04_low_temperature`, :doc:`/book/17_case_mhc` and :doc:`/book/21_diagnose`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Doubly-stochastic matrices (row and column sums within ``1e-9`` of one, entries
        :math:`\ge -10^{-9}`), ``n >= 2``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`1 - \sigma_2(M)^2 \in [0, 1]` for each matrix (a scalar for a single matrix),
        clipped below at 0.

    Raises
    ------
    ValueError
        If ``M`` is not doubly stochastic within ``1e-9``, is not a stack of square matrices with
        ``n >= 2``, or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2 : :math:`\sigma_2` itself.
    gram_laplacian : The Laplacian :math:`L`.
    plain_sweeps_predicted : The sweeps plain Sinkhorn needs, from :math:`\sigma_2`.

    Examples
    --------
    A matrix :math:`10^{-10}` away from the identity: the gap survives, the naive formula does
    not.

    >>> import numpy as np, homtrap
    >>> d = 1e-10
    >>> M = np.array([[1 - d, d], [d, 1 - d]])
    >>> print(f"{float(homtrap.sigma2_gap(M)):.6e}")  # exact: 1 - (1 - 2d)^2 = 4d - 4d^2
    4.000000e-10
    >>> print(f"{4 * d - 4 * d**2:.6e}")
    4.000000e-10
    """
    A = as_square_stack(M, "M", min_n=2)
    flat = A.reshape(-1, *A.shape[-2:])
    if not np.all(_doubly_stochastic(flat)):
        raise ValueError("M must be doubly stochastic (row and column sums within 1e-9 of one, entries >= 0)")
    return np.clip(np.linalg.eigvalsh(gram_laplacian(A))[..., 1], 0.0, None)[()]


def sigma_rms(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Root-mean-square singular value :math:`\sigma_{\mathrm{rms}}` of a doubly-stochastic matrix on the detail subspace.

    .. math::

        \sigma_{\mathrm{rms}}(M) = \sqrt{\frac{\|M\|_F^2 - 1}{n - 1}}
        = \frac{\|PMP\|_F}{\sqrt{n-1}}
        = \Bigl(\frac{1}{n-1}\sum_{k=2}^{n}\sigma_k(M)^2\Bigr)^{1/2},

    the factor by which a typical (uniformly random) detail vector contracts in mean square,
    against the worst case :math:`\sigma_2`; :math:`\sigma_{\mathrm{rms}} \le \sigma_2`. Used in
    :doc:`/book/01_dsm_detail_subspace`, :doc:`/book/03_high_temperature`,
    :doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`,
    :doc:`/book/08_effective_depth` and later chapters.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices, ``n >= 2``. The formula assumes doubly-stochastic ``M``
        (it is not checked); for other matrices the result has no meaning.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\sigma_{\mathrm{rms}}(M)` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sigma2 : The worst-case factor.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(5, rng=0)
    >>> s = np.linalg.svd(M, compute_uv=False)
    >>> bool(np.isclose(homtrap.sigma_rms(M), np.sqrt(np.mean(s[1:] ** 2))))
    True
    >>> bool(homtrap.sigma_rms(M) <= homtrap.sigma2(M))
    True
    """
    A = as_square_stack(M, "M", min_n=2)
    n = A.shape[-1]
    return np.sqrt(np.clip(((A * A).sum(axis=(-2, -1)) - 1.0) / (n - 1), 0.0, None))[()]


def departure_from_normality(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Commutator norm :math:`\operatorname{cm}(M) = \|MM^\top - M^\top M\|_F` of each matrix.

    Zero exactly for normal matrices (:prf:ref:`def-normal`), for which
    :math:`|\lambda_2| = \sigma_2`; the larger it is, the further the eigenvalues can be from the
    singular values, and the longer powers of a layer can linger above :math:`|\lambda_2|^k`.
    Used in :doc:`/book/06_sigma2_vs_eigenvalues` and :doc:`/book/09_non_normality`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\operatorname{cm}(M) \ge 0` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    lambda2 : Equals :func:`homtrap.sigma2` when this is 0 (doubly-stochastic ``M``).

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> C = homtrap.circulant([0.5, 0.3, 0.2])  # circulants are normal
    >>> M = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]])
    >>> round(float(homtrap.departure_from_normality(C)), 9), round(float(homtrap.departure_from_normality(M)), 6)
    (0.0, 0.306186)
    """
    A = as_square_stack(M, "M")
    At = np.swapaxes(A, -1, -2)
    return np.linalg.norm(A @ At - At @ A, axis=(-2, -1))[()]


def scaled_power_norms(B: ArrayLike, powers: ArrayLike) -> NDArray[np.float64]:
    r"""Norms of the powers of each matrix scaled to spectral radius one: :math:`\|(B/\rho(B))^k\|_2`.

    .. math::

        \kappa_k(B) = \frac{\|B^k\|_2}{\rho(B)^k} = \bigl\|(B/\rho(B))^k\bigr\|_2 \ge 1 .

    For the detail block :math:`B = Q^\top M Q` of :math:`M \in \mathcal B_n`
    (:func:`homtrap.detail_block`) this is the *transient factor*
    :math:`\kappa_k(M) = \|M^k - J/n\|_2 / |\lambda_2(M)|^k` (:prf:ref:`def-nn-transient`): how far
    the detail left after :math:`k` tied layers lies above the eigenvalue prediction
    :math:`|\lambda_2|^k`. It is one for every :math:`k` when :math:`B` is normal, and at most the
    eigenvector condition number :math:`\kappa_2(V)` when :math:`B` is diagonalisable
    (:prf:ref:`prop-nn-transient`). Used in :doc:`/book/09_non_normality`.

    Parameters
    ----------
    B : array_like, shape (..., m, m)
        Real, finite square matrices with a positive spectral radius.
    powers : array_like of int, shape (p,)
        The powers :math:`k \ge 1` to report, in any order.

    Returns
    -------
    ndarray of float, shape (..., p)
        :math:`\kappa_k(B)` for each matrix and each power, in the order of ``powers``.

    Raises
    ------
    ValueError
        If ``B`` is not a stack of square matrices, holds NaN/inf or has a matrix of spectral
        radius 0 (nilpotent), or ``powers`` is not a non-empty 1-D array of integers ``>= 1``.
    TypeError
        If ``B`` is not a real numeric array.

    See Also
    --------
    power_distances : :math:`\|M^k - J/n\|_2` for a doubly-stochastic ``M``.
    departure_from_normality : The commutator norm, zero exactly when :math:`\kappa_k = 1` is forced.

    Notes
    -----
    The powers of :math:`B/\rho(B)` are formed by repeated multiplication up to ``max(powers)``,
    one matrix product per power, and their norms by the SVD (``numpy.linalg.norm(..., 2)``);
    :math:`\rho(B)` comes from ``numpy.linalg.eigvals``.

    Examples
    --------
    The transient factor of a Sinkhorn matrix, two ways:

    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(8, 0.3, rng=0)
    >>> kappa = homtrap.scaled_power_norms(homtrap.detail_block(M), [1, 2, 5])
    >>> direct = homtrap.power_distances(M, 5)[[0, 1, 4]] / homtrap.lambda2(M) ** np.array([1, 2, 5])
    >>> bool(np.allclose(kappa, direct, rtol=1e-6)), bool(np.all(kappa >= 1))
    (True, True)

    A Jordan block grows linearly before it decays:

    >>> homtrap.scaled_power_norms(np.array([[0.5, 1.0], [0.0, 0.5]]), [1, 10]).round(3)
    array([ 2.414, 20.05 ])
    """
    A = as_square_stack(B, "B")
    p = np.asarray(powers)
    if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.integer) or p.min() < 1:
        raise ValueError(f"powers must be a non-empty 1-D array of integers >= 1, got {p!r}")
    rho = np.abs(np.linalg.eigvals(A)).max(axis=-1)
    if np.any(rho == 0):
        raise ValueError("B must have a positive spectral radius; found a nilpotent matrix")
    C = A / rho[..., None, None]
    Ck = np.broadcast_to(np.eye(A.shape[-1]), A.shape).copy()
    wanted, norms = set(p.tolist()), {}
    for j in range(1, int(p.max()) + 1):
        Ck = C @ Ck
        if j in wanted:
            norms[j] = np.linalg.norm(Ck, 2, axis=(-2, -1))
    return np.stack([norms[j] for j in p.tolist()], axis=-1)
