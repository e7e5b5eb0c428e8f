r"""The detail subspace :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp` and the mean/detail split.

Every :math:`x \in \mathbb R^n` splits as :math:`x = \bar x\,\mathbf 1 + Px` with the centring
projector :math:`P = I - J/n` (:func:`homtrap.centring_projector`); this module holds
:math:`P`, the two parts (:func:`homtrap.mean_part`, :func:`homtrap.detail`), an orthonormal
basis :math:`Q` of :math:`V_\perp` (:func:`homtrap.detail_basis`), the block :math:`Q^\top MQ`
of a matrix on it (:func:`homtrap.detail_block`), double centring
(:func:`homtrap.double_centre`) and the cosine (:func:`homtrap.cosine`).

Defined in :doc:`/book/01_dsm_detail_subspace` (:prf:ref:`def-detail`) and used from there
on: the projector and the basis in Parts I–III (:doc:`/book/03_high_temperature`,
:doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`), the detail
part and the cosine in Parts IV–V (:doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
:doc:`/book/13_affine_layernorm`, :doc:`/book/14_proposition1`) and in
:doc:`/book/21_diagnose`.
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
    r"""The centring projector :math:`P = I - J/n`, the orthogonal projector onto :math:`V_\perp`.

    :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp` is the detail subspace
    (:prf:ref:`def-detail`): :math:`Px = x - \bar x\,\mathbf 1` removes the mean of a feature
    vector. For :math:`M \in \mathcal B_n`, :math:`PMP = M - J/n` and
    :math:`\|PMP\|_2 = \sigma_2(M)` (:prf:ref:`lem-sigma2`). Defined in
    :doc:`/book/01_dsm_detail_subspace`; used throughout Parts I–III.

    Parameters
    ----------
    n : int
        Dimension, ``n >= 1`` (``n = 1`` gives the zero matrix).

    Returns
    -------
    ndarray of float, shape (n, n)
        :math:`P`, symmetric and idempotent, of rank :math:`n - 1`.

    Raises
    ------
    ValueError
        If ``n < 1``.
    TypeError
        If ``n`` is not an integer.

    See Also
    --------
    detail : Applies :math:`P` to vectors without forming it.
    detail_basis : An orthonormal basis :math:`Q` of :math:`V_\perp`, with :math:`QQ^\top = P`.
    uniform_barycenter : :math:`J/n`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> P = homtrap.centring_projector(3)
    >>> print(P.round(4))
    [[ 0.6667 -0.3333 -0.3333]
     [-0.3333  0.6667 -0.3333]
     [-0.3333 -0.3333  0.6667]]
    >>> bool(np.allclose(P @ P, P)), bool(np.allclose(P @ np.ones(3), 0))
    (True, True)
    """
    n = check_int(n, "n", minimum=1)
    return np.eye(n) - np.full((n, n), 1.0 / n)


def detail(x: ArrayLike) -> NDArray[np.float64]:
    r"""Detail part :math:`x_\perp = Px = x - \bar x\,\mathbf 1` of each vector along the last axis.

    The component of :math:`x` in the detail subspace :math:`V_\perp` (:prf:ref:`def-detail`):
    what distinguishes the entries of a feature vector from one another, and what a
    doubly-stochastic layer contracts by :math:`\sigma_2` at least
    (:prf:ref:`cor-detail-contraction`). Used in Parts IV–V (:doc:`/book/10_concentration` to
    :doc:`/book/16_incompatibility`) and :doc:`/book/21_diagnose`.

    Parameters
    ----------
    x : array_like, shape (..., n)
        Real, finite vectors; leading axes are batch axes.

    Returns
    -------
    ndarray of float, shape (..., n)
        :math:`x - \bar x\,\mathbf 1`; each vector sums to zero.

    Raises
    ------
    ValueError
        If ``x`` is a scalar or holds NaN/inf.
    TypeError
        If ``x`` is not a real numeric array.

    See Also
    --------
    mean_part : The complementary part :math:`\bar x\,\mathbf 1`.
    centring_projector : The matrix :math:`P`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> x = np.array([1.0, 2.0, 6.0])
    >>> homtrap.detail(x)
    array([-2., -1.,  3.])
    >>> bool(np.allclose(homtrap.detail(x), homtrap.centring_projector(3) @ x))
    True
    >>> bool(np.allclose(homtrap.detail(x) + homtrap.mean_part(x), x))
    True
    """
    x = as_vector_stack(x, "x")
    return x - x.mean(axis=-1, keepdims=True)


def mean_part(x: ArrayLike) -> NDArray[np.float64]:
    r"""Mean part :math:`\bar x\,\mathbf 1` of each vector along the last axis.

    The component of :math:`x` along :math:`\mathbf 1`, which every doubly-stochastic layer keeps
    unchanged (:prf:ref:`lem-dsm-basic`); :math:`x = \bar x\,\mathbf 1 + x_\perp`. Defined in
    :doc:`/book/01_dsm_detail_subspace`.

    Parameters
    ----------
    x : array_like, shape (..., n)
        Real, finite vectors; leading axes are batch axes.

    Returns
    -------
    ndarray of float, shape (..., n)
        Every entry of a vector replaced by the vector's mean (a new, writable array).

    Raises
    ------
    ValueError
        If ``x`` is a scalar or holds NaN/inf.
    TypeError
        If ``x`` is not a real numeric array.

    See Also
    --------
    detail : The complementary part :math:`x - \bar x\,\mathbf 1`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> homtrap.mean_part(np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]]))
    array([[3., 3., 3.],
           [1., 1., 1.]])
    """
    x = as_vector_stack(x, "x")
    return np.broadcast_to(x.mean(axis=-1, keepdims=True), x.shape).copy()


def double_centre(X: ArrayLike) -> NDArray[np.float64]:
    r"""Doubly centred matrices :math:`PXP`, whose rows and columns all sum to zero, batched.

    :math:`X \mapsto PXP` is the orthogonal projection (in the Frobenius inner product) onto the
    matrices with zero row and column sums, the directions in which the Birkhoff polytope extends.
    For logits :math:`G`, :math:`C = PGP` is the only part of :math:`G` that the Sinkhorn matrix
    :math:`M_T` sees, and the first-order law :math:`\sigma_2(M_T) \approx \|C\|_2/(nT)` uses it
    (:prf:ref:`thm-hightemp`). Used in :doc:`/book/03_high_temperature` and
    :doc:`/book/06_sigma2_vs_eigenvalues`.

    Parameters
    ----------
    X : array_like, shape (..., n, n)
        Real, finite square matrices.

    Returns
    -------
    ndarray of float, shape (..., n, n)
        :math:`PXP` for each matrix, computed by subtracting row means, then column means.

    Raises
    ------
    ValueError
        If ``X`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``X`` is not a real numeric array.

    See Also
    --------
    first_order_sigma2 : :math:`\|PGP\|_2/(nT)`.
    centring_projector : :math:`P`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(4, rng=0)
    >>> C = homtrap.double_centre(G)
    >>> P = homtrap.centring_projector(4)
    >>> bool(np.allclose(C, P @ G @ P)), bool(np.allclose(C.sum(axis=0), 0) and np.allclose(C.sum(axis=1), 0))
    (True, True)
    """
    X = as_square_stack(X, "X")
    X = X - X.mean(axis=-1, keepdims=True)
    return X - X.mean(axis=-2, keepdims=True)


def detail_basis(n: int) -> NDArray[np.float64]:
    r"""An orthonormal basis :math:`Q \in \mathbb R^{n \times (n-1)}` of :math:`V_\perp` (the Helmert basis).

    Column :math:`j` (1-based) is :math:`(1, \dots, 1, -j, 0, \dots, 0)/\sqrt{j(j+1)}`, with
    :math:`j` ones: deterministic, so results do not depend on a QR factorisation's sign
    conventions. :math:`Q^\top Q = I_{n-1}` and :math:`QQ^\top = P`. It gives the block
    :math:`B = Q^\top MQ` of :prf:ref:`lem-sigma2`. Used in :doc:`/book/03_high_temperature`,
    :doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`,
    :doc:`/book/12_figure2` and :doc:`/book/19_next_checks`.

    Parameters
    ----------
    n : int
        Dimension, ``n >= 2``.

    Returns
    -------
    ndarray of float, shape (n, n - 1)
        :math:`Q` (a fresh, writable copy).

    Raises
    ------
    ValueError
        If ``n < 2``.
    TypeError
        If ``n`` is not an integer.

    See Also
    --------
    detail_block : :math:`Q^\top MQ`.
    centring_projector : :math:`P = QQ^\top`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> Q = homtrap.detail_basis(3)
    >>> print(Q.round(4))
    [[ 0.7071  0.4082]
     [-0.7071  0.4082]
     [ 0.     -0.8165]]
    >>> bool(np.allclose(Q.T @ Q, np.eye(2))), bool(np.allclose(Q @ Q.T, homtrap.centring_projector(3)))
    (True, True)
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
    r"""The block :math:`B = Q^\top MQ` of :math:`M` on the detail subspace :math:`V_\perp`, batched.

    With :math:`Q` the Helmert basis of :func:`homtrap.detail_basis`. For a doubly-stochastic
    :math:`M` the singular values of :math:`M` are 1 together with those of :math:`B`
    (:prf:ref:`lem-sigma2`), so :math:`\|B\|_2 = \sigma_2(M)`; and products of layers act on
    :math:`V_\perp` as products of their blocks,
    :math:`Q^\top M_2 M_1 Q = (Q^\top M_2 Q)(Q^\top M_1 Q)`. Defined in
    :doc:`/book/01_dsm_detail_subspace`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices, ``n >= 2``.

    Returns
    -------
    ndarray of float, shape (..., n - 1, n - 1)
        :math:`Q^\top MQ` for each matrix.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    detail_basis : The basis :math:`Q`.
    sigma2 : :math:`\|B\|_2` for doubly-stochastic :math:`M`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(5, rng=0)
    >>> B = homtrap.detail_block(M)
    >>> B.shape
    (4, 4)
    >>> sv_M = np.linalg.svd(M, compute_uv=False)
    >>> sv_B = np.linalg.svd(B, compute_uv=False)
    >>> bool(np.allclose(sv_M, np.r_[1.0, sv_B])), bool(np.isclose(sv_B[0], homtrap.sigma2(M)))
    (True, True)
    """
    A = as_square_stack(M, "M", min_n=2)
    Q = detail_basis(A.shape[-1])
    return np.swapaxes(Q, 0, 1) @ A @ Q


def cosine(x: ArrayLike, y: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Cosine of the angle between ``x`` and ``y`` along the last axis (batched, broadcasting).

    .. math::

        \cos\angle(x, y) = \frac{\langle x, y\rangle}{\|x\|_2\,\|y\|_2}.

    Applied to LayerNorm outputs or detail parts, it measures how much two tokens still differ;
    Theorem 1 (:prf:ref:`thm-orthogonal-collapse`) bounds it after noise. Used in
    :doc:`/book/12_figure2` and :doc:`/book/13_affine_layernorm`.

    Parameters
    ----------
    x, y : array_like, shape (..., n)
        Real, finite, non-zero vectors; their leading axes broadcast against each other.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        Cosines in :math:`[-1, 1]` (a scalar for two single vectors).

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is a scalar, holds NaN/inf, or contains a zero vector, or if their
        shapes do not broadcast.
    TypeError
        If ``x`` or ``y`` is not a real numeric array.

    See Also
    --------
    detail : Take the detail parts first to compare what the mean hides.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> round(float(homtrap.cosine([1.0, 0.0], [1.0, 1.0])), 6), round(float(1 / np.sqrt(2)), 6)
    (0.707107, 0.707107)
    >>> homtrap.cosine(np.eye(3), [1.0, 0.0, 0.0])  # broadcasting: one cosine per row
    array([1., 0., 0.])
    """
    a = as_vector_stack(x, "x")
    b = as_vector_stack(y, "y")
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("x and y must be non-zero vectors (the angle of a zero vector is undefined)")
    return ((a * b).sum(axis=-1) / (na * nb))[()]


