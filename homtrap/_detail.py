r"""The detail subspace :math:`V_\perp = \operatorname{span}\{\mathbf 1\}^\perp` and the mean/detail split.

Every :math:`x \in \mathbb R^n` splits as :math:`x = \bar x\,\mathbf 1 + Px` with the centring
projector :math:`P = I - J/n` (:func:`homtrap.centring_projector`); this module holds
:math:`P`, the two parts (:func:`homtrap.mean_part`, :func:`homtrap.detail`), an orthonormal
basis :math:`Q` of :math:`V_\perp` (:func:`homtrap.detail_basis`), the block :math:`Q^\top MQ`
of a matrix on it (:func:`homtrap.detail_block`), double centring
(:func:`homtrap.double_centre`) and the cosine (:func:`homtrap.cosine`); random pairs of detail
vectors at a given angle (:func:`homtrap.random_detail_pair`), uniformly random subspaces of :math:`V_\perp` and Gaussian noise supported on them
(:func:`homtrap.random_detail_subspace`, :func:`homtrap.low_rank_noise`), and the split of
:math:`\mathbb R^n` by consecutive blocks (:func:`homtrap.block_indicators`,
:func:`homtrap.block_detail_basis`) of :doc:`/book/19_next_checks`.

Defined in :doc:`/book/01_dsm_detail_subspace` (:prf:ref:`def-detail`) and used from there
on: the projector and the basis in Parts I–III (:doc:`/book/03_high_temperature`,
:doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`), the detail
part and the cosine in Parts IV–V (:doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
:doc:`/book/13_affine_layernorm`, :doc:`/book/14_proposition1`) and in
:doc:`/book/21_diagnose`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_batch_shape,
    as_generator,
    as_real_array,
    as_square_stack,
    as_vector_stack,
    check_int,
    check_positive_scalar,
)

__all__ = [
    "block_detail_basis",
    "block_indicators",
    "centring_projector",
    "cosine",
    "detail",
    "detail_basis",
    "detail_block",
    "double_centre",
    "low_rank_noise",
    "mean_part",
    "random_detail_pair",
    "random_detail_subspace",
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


def random_detail_pair(
    n: int,
    cosine: ArrayLike,
    norm: float = 1.0,
    *,
    size: int | tuple[int, ...] | None = None,
    rng: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Two detail vectors of a given norm and cosine, uniformly oriented in :math:`V_\perp`.

    Draw :math:`e` uniform on the unit sphere of :math:`V_\perp` and :math:`f` uniform on the
    unit sphere of :math:`V_\perp \cap e^\perp` (Gram–Schmidt of an independent Gaussian vector),
    and return

    .. math::

        a = r\,e, \qquad b = r\,\bigl(c\,e + \sqrt{1 - c^2}\,f\bigr),

    so that :math:`\|a\| = \|b\| = r`, :math:`\cos(a, b) = c` and the pair's law is invariant
    under every rotation of :math:`V_\perp`: the two similar inputs of
    :prf:ref:`def-figure2-protocol` (:doc:`/book/12_figure2`) and of the pair population of
    :doc:`/book/13_affine_layernorm`.

    Parameters
    ----------
    n : int
        Dimension, ``n >= 3`` (:math:`V_\perp` must hold two orthonormal vectors).
    cosine : float or array_like
        The cosine :math:`c \in [-1, 1]`; an array broadcasts against ``size`` (one cosine per
        pair).
    norm : float, default 1.0
        The common norm :math:`r > 0`.
    size : int, tuple of int or None, default None
        Batch shape; ``None`` for one pair.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator: ``standard_normal(size + (n,))`` for :math:`e`, then the same for
        :math:`f`.

    Returns
    -------
    a, b : ndarray of float, shape size + (n,)
        The pairs.

    Raises
    ------
    ValueError
        If ``n < 3``, ``cosine`` holds NaN/inf or a value outside :math:`[-1, 1]` or does not
        broadcast to ``size``, ``norm <= 0`` or ``size`` has an entry ``< 1``.
    TypeError
        If ``n`` is not an integer, ``cosine`` or ``norm`` not real, ``size`` not an int or tuple
        of ints, or ``rng`` not a seed or generator.

    See Also
    --------
    cosine : Measures the angle of the pair.
    random_detail_subspace : A random subspace of :math:`V_\perp` instead of a random pair.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> a, b = homtrap.random_detail_pair(8, 0.9, norm=3.0, size=4, rng=0)
    >>> a.shape, np.round(homtrap.cosine(a, b), 12).tolist()
    ((4, 8), [0.9, 0.9, 0.9, 0.9])
    >>> bool(np.allclose(np.linalg.norm(b, axis=-1), 3.0)), bool(np.allclose(a.sum(axis=-1), 0))
    (True, True)
    >>> a, b = homtrap.random_detail_pair(8, [-1.0, 0.0, 0.5], size=3, rng=1)  # one cosine per pair
    >>> np.round(homtrap.cosine(a, b), 12).tolist()
    [-1.0, 0.0, 0.5]
    """
    n = check_int(n, "n", minimum=3)
    c = as_real_array(cosine, "cosine")
    if np.abs(c).max() > 1:
        raise ValueError(f"cosine must lie in [-1, 1], got values in [{c.min()}, {c.max()}]")
    r = check_positive_scalar(norm, "norm")
    shape = as_batch_shape(size)
    try:
        np.broadcast_to(c, shape)
    except ValueError:
        raise ValueError(f"cosine must broadcast to size {shape}, got shape {c.shape}") from None
    gen = as_generator(rng)
    y = gen.standard_normal(shape + (n,))
    d = y - y.mean(axis=-1, keepdims=True)
    e = d / np.linalg.norm(d, axis=-1, keepdims=True)
    f = gen.standard_normal(shape + (n,))
    f = f - f.mean(axis=-1, keepdims=True)
    f = f - (f * e).sum(-1, keepdims=True) * e
    f /= np.linalg.norm(f, axis=-1, keepdims=True)
    return r * e, r * (c[..., None] * e + np.sqrt(1 - c**2)[..., None] * f)


def random_detail_subspace(n: int, rank: int, *, rng: int | np.random.Generator | None = None) -> NDArray[np.float64]:
    r"""An orthonormal basis :math:`U` of a uniformly random ``rank``-dimensional subspace :math:`W \subset V_\perp`.

    :math:`U = Q\,\mathrm{qr}(Z)`, with :math:`Q` the Helmert basis of :math:`V_\perp`
    (:func:`homtrap.detail_basis`) and :math:`Z` an :math:`(n-1) \times r` Gaussian matrix: the
    span of :math:`Z` is uniform (rotation invariant) on the subspaces of
    :math:`\mathbb R^{n-1}`, and :math:`Q` maps it isometrically into :math:`V_\perp`. With
    ``rank = n - 1`` the subspace is all of :math:`V_\perp`. The support of the low-rank noise of
    :doc:`/book/19_next_checks` (:func:`homtrap.low_rank_noise`).

    Parameters
    ----------
    n : int
        Dimension of the ambient space, ``n >= 2``.
    rank : int
        Dimension :math:`r` of the subspace, ``1 <= rank <= n - 1``.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator; one ``standard_normal((n - 1, rank))`` draw.

    Returns
    -------
    ndarray of float, shape (n, rank)
        :math:`U`, with :math:`U^\top U = I_r` and :math:`\mathbf 1^\top U = 0` (to rounding).

    Raises
    ------
    TypeError
        If ``n`` or ``rank`` is not an integer, or ``rng`` not a seed or generator.
    ValueError
        If ``n < 2``, ``rank < 1`` or ``rank > n - 1``.

    See Also
    --------
    low_rank_noise : Gaussian noise supported on the subspace.
    detail_basis : The fixed basis of all of :math:`V_\perp`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> U = homtrap.random_detail_subspace(6, 2, rng=0)
    >>> U.shape, bool(np.allclose(U.T @ U, np.eye(2))), bool(np.allclose(U.sum(axis=0), 0))
    ((6, 2), True, True)
    """
    n = check_int(n, "n", minimum=2)
    r = check_int(rank, "rank", minimum=1)
    if r > n - 1:
        raise ValueError(f"rank must be <= n - 1 = {n - 1} (the dimension of V_perp), got {r}")
    gen = as_generator(rng)
    return _helmert(n) @ np.linalg.qr(gen.standard_normal((n - 1, r)))[0]


def low_rank_noise(
    basis: ArrayLike,
    size: int | tuple[int, ...] | None = None,
    scale: float | None = None,
    *,
    rng: int | np.random.Generator | None = None,
) -> NDArray[np.float64]:
    r"""Gaussian noise :math:`\xi = s\,Uz`, :math:`z \sim \mathcal N(0, I_r)`, supported on the span of ``basis``.

    The low-rank noise model of :doc:`/book/19_next_checks`: all of the noise lies in an
    :math:`r`-dimensional subspace :math:`W \subset V_\perp` with orthonormal basis :math:`U`
    (e.g. :func:`homtrap.random_detail_subspace`), with covariance :math:`s^2 UU^\top`. The
    default scale :math:`s = \sqrt{(n-1)/r}` gives it the detail power of standard isotropic
    noise,

    .. math::

        \mathbb E\|\xi\|^2 = s^2 r = n - 1 = \mathbb E\|P\,\mathcal N(0, I_n)\|^2 ;

    for noise level :math:`\nu` multiply by :math:`\nu` (or pass ``scale``).

    Parameters
    ----------
    basis : array_like, shape (n, r)
        Orthonormal columns orthogonal to :math:`\mathbf 1` (within ``1e-8``), ``n >= 2``.
    size : int, tuple of int or None, default None
        Number (batch shape) of noise vectors; ``None`` for one.
    scale : float or None, default None
        Standard deviation :math:`s > 0` of each coordinate :math:`z_i`; ``None`` for
        :math:`\sqrt{(n-1)/r}`.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator; one ``standard_normal(size + (r,))`` draw.

    Returns
    -------
    ndarray of float, shape size + (n,)
        The noise vectors.

    Raises
    ------
    ValueError
        If ``basis`` is not a 2-D array with ``n >= 2`` rows, holds NaN/inf, or its columns are
        not orthonormal or not orthogonal to :math:`\mathbf 1`; if ``scale <= 0`` or ``size`` has
        an entry ``< 1``.
    TypeError
        If ``basis`` is not a real numeric array, ``scale`` not a real number, ``size`` not an int
        or tuple of ints, or ``rng`` not a seed or generator.

    See Also
    --------
    random_detail_subspace : A uniformly random support :math:`W`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> U = homtrap.random_detail_subspace(64, 4, rng=0)
    >>> xi = homtrap.low_rank_noise(U, 20_000, rng=1)
    >>> xi.shape, bool(np.allclose(xi - xi @ U @ U.T, 0, atol=1e-12))  # inside W
    ((20000, 64), True)
    >>> round(float((xi**2).sum(axis=1).mean() / 63), 1)  # detail power n - 1
    1.0
    """
    U = as_real_array(basis, "basis")
    if U.ndim != 2 or U.shape[0] < 2:
        raise ValueError(f"basis must be a 2-D array of shape (n, r) with n >= 2, got shape {U.shape}")
    n, r = U.shape
    if np.abs(U.T @ U - np.eye(r)).max() > 1e-8 or np.abs(U.sum(axis=0)).max() > 1e-8 * np.sqrt(n):
        raise ValueError("basis must have orthonormal columns orthogonal to 1 (a basis of a subspace of V_perp)")
    scale = np.sqrt((n - 1) / r) if scale is None else check_positive_scalar(scale, "scale")
    shape = as_batch_shape(size)
    gen = as_generator(rng)
    return scale * gen.standard_normal(shape + (r,)) @ U.T


def _block_sizes(sizes: Sequence[int]) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)) or len(sizes) == 0:
        raise TypeError(f"sizes must be a non-empty sequence of integers, got {type(sizes).__name__}")
    return [check_int(m, "sizes", minimum=1) for m in sizes]


def block_indicators(sizes: Sequence[int]) -> NDArray[np.float64]:
    r"""The indicator vectors :math:`\mathbf 1_{I_1}, \dots, \mathbf 1_{I_b}` of consecutive blocks, as columns.

    For the partition of :math:`\{1, \dots, n\}` into consecutive blocks :math:`I_i` of sizes
    :math:`m_i` (:prf:ref:`def-nc-block`). Their span :math:`S` holds the block means; every
    block-diagonal doubly-stochastic matrix fixes it, :math:`Mx = M^\top x = x` for :math:`x \in S`
    (:prf:ref:`prop-nc-block`). Used in :doc:`/book/19_next_checks`.

    Parameters
    ----------
    sizes : sequence of int
        Block sizes :math:`m_1, \dots, m_b \ge 1`.

    Returns
    -------
    ndarray of float, shape (n, b)
        Column :math:`i` is :math:`\mathbf 1_{I_i}`, ``n = sum(sizes)``.

    Raises
    ------
    TypeError
        If ``sizes`` is not a non-empty sequence of integers.
    ValueError
        If a size is ``< 1``.

    See Also
    --------
    block_detail_basis : The orthogonal complement of :math:`S` in :math:`V_\perp` plus :math:`\mathbf 1`.
    block_diagonal : Matrices with this block structure.

    Examples
    --------
    >>> import homtrap
    >>> print(homtrap.block_indicators([2, 1]))
    [[1. 0.]
     [1. 0.]
     [0. 1.]]
    """
    sizes = _block_sizes(sizes)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return (labels[:, None] == np.arange(len(sizes))[None, :]).astype(float)


def block_detail_basis(sizes: Sequence[int]) -> NDArray[np.float64]:
    r"""An orthonormal basis of the within-block detail subspace :math:`D` of consecutive blocks.

    :math:`D = \{x : \sum_{j \in I_i} x_j = 0 \text{ for every block } i\}`, the orthogonal
    complement of the block indicators (:func:`homtrap.block_indicators`), of dimension
    :math:`n - b` (:prf:ref:`def-nc-block`). The basis is the Helmert basis of each block's
    detail subspace (:func:`homtrap.detail_basis`), placed in that block's rows; blocks of size
    one contribute nothing. A block-diagonal doubly-stochastic matrix maps :math:`D` to itself and
    contracts it by :math:`\sigma_{\mathrm{in}} = \max_i \sigma_2(M_i)` (:prf:ref:`prop-nc-block`).
    Used in :doc:`/book/19_next_checks`.

    Parameters
    ----------
    sizes : sequence of int
        Block sizes :math:`m_1, \dots, m_b \ge 1`, at least one of them ``>= 2``.

    Returns
    -------
    ndarray of float, shape (n, n - b)
        Orthonormal columns spanning :math:`D`, ``n = sum(sizes)``, ``b = len(sizes)``.

    Raises
    ------
    TypeError
        If ``sizes`` is not a non-empty sequence of integers.
    ValueError
        If a size is ``< 1``, or every block has size one (then :math:`D = \{0\}`).

    See Also
    --------
    block_indicators : The complement of :math:`D`.
    detail_basis : The case of one block, :math:`D = V_\perp`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> QD = homtrap.block_detail_basis([3, 2])
    >>> QD.shape, bool(np.allclose(QD.T @ QD, np.eye(3)))
    ((5, 3), True)
    >>> bool(np.allclose(QD.T @ homtrap.block_indicators([3, 2]), 0))  # D is orthogonal to the block means
    True
    """
    sizes = _block_sizes(sizes)
    if max(sizes) < 2:
        raise ValueError("sizes must include a block of size >= 2 (with blocks of size one D = {0})")
    cols, start, n_tot = [], 0, sum(sizes)
    for m in sizes:
        if m >= 2:
            B = np.zeros((n_tot, m - 1))
            B[start:start + m] = _helmert(m)
            cols.append(B)
        start += m
    return np.hstack(cols)


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


