r"""Depth: how many layers it takes the detail to fall below a target.

One home for every depth of the book: the effective depth
:math:`D_\text{eff}(\varepsilon) = \min\{L : \sigma_2^L \le \varepsilon\}`
(:func:`homtrap.effective_depth`) and its forms for products
(:func:`homtrap.effective_depth_product`) and at high temperature
(:func:`homtrap.high_temperature_effective_depth`); the realised depth
(:func:`homtrap.realised_depth`) and the detail profile :math:`\|M_k \cdots M_1 - J/n\|_2` of
an actual stack (:func:`homtrap.product_distances`, :func:`homtrap.power_distances`); the
largest gain of its partial products (:func:`homtrap.max_product_norm`); the collapse depth
:math:`L_\eta` of Theorem 1 (:func:`homtrap.collapse_depth`); and the depth of a stack
repeated cyclically (used by :func:`homtrap.diagnose`). A stack is an array of shape
``(..., L, n, n)``; layer ``ell`` (0-based) is applied ``ell``-th, so the product after ``k``
layers is :math:`M_k \cdots M_1`.

Used in Part III (:doc:`/book/07_contraction_across_layers`, :doc:`/book/08_effective_depth`,
:doc:`/book/09_non_normality`), Part IV (:doc:`/book/11_theorem1`) and Part VI
(:doc:`/book/17_case_mhc`, :doc:`/book/19_next_checks`, :doc:`/book/21_diagnose`,
:doc:`/book/22_tradeoff_map`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, as_square_stack, check_int, check_open_unit, check_positive_scalar, renamed_arguments

__all__ = [
    "collapse_depth",
    "effective_depth",
    "effective_depth_product",
    "high_temperature_effective_depth",
    "max_product_norm",
    "power_distances",
    "product_distances",
    "product_norm_bounds",
    "ProductNormBounds",
    "realised_depth",
]


@renamed_arguments(eps="target")
def effective_depth(sigma2: ArrayLike, target: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Effective depth: the smallest number of layers :math:`L` with :math:`\sigma_2^L \le \varepsilon`.

    How many layers of contraction factor :math:`\sigma_2` it takes to shrink the detail of every
    input to the fraction :math:`\varepsilon` of its size (:prf:ref:`def-effective-depth`). By
    :prf:ref:`prop-deff-closed-form`,

    .. math::

        D_\text{eff}(\varepsilon; \sigma_2) = \left\lceil \frac{\ln(1/\varepsilon)}{\ln(1/\sigma_2)} \right\rceil
        \quad (0 < \sigma_2 < 1),

    with :math:`D_\text{eff} = 1` when :math:`\sigma_2 = 0` and :math:`\infty` when
    :math:`\sigma_2 = 1`. Used in :doc:`/book/08_effective_depth`, :doc:`/book/17_case_mhc`,
    :doc:`/book/19_next_checks`, :doc:`/book/21_diagnose` and :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    sigma2 : array_like
        Contraction factors :math:`\sigma_2` in :math:`[0, 1]`, any shape.
    target : array_like
        Detail fractions :math:`\varepsilon` in the open interval :math:`(0, 1)`; broadcast against
        ``sigma2``. The old keyword ``eps=`` still works and warns with a
        :class:`DeprecationWarning`.

    Returns
    -------
    numpy.float64 or ndarray of float
        Integer-valued depths :math:`\ge 1` (``inf`` where ``sigma2 == 1``), of the broadcast shape
        (a scalar for scalar inputs).

    Raises
    ------
    ValueError
        If ``sigma2`` has a value outside :math:`[0, 1]`, ``target`` a value outside
        :math:`(0, 1)`, either holds NaN/inf, or their shapes do not broadcast.
    TypeError
        If ``sigma2`` or ``target`` is not real numeric, or both ``eps=`` and ``target=`` are given.

    See Also
    --------
    effective_depth_product : The same for layers with different :math:`\sigma_2`.
    realised_depth : The depth a given stack actually needs (never more than this).
    high_temperature_effective_depth : The real-valued high-temperature approximation.
    sigma2 : The contraction factor.

    Notes
    -----
    The ceiling of the logarithm ratio is checked against the powers themselves
    (:math:`\sigma_2^{L-1} > \varepsilon \ge \sigma_2^L` in floating point), so an off-by-one from
    rounding the logarithms cannot occur; at an exact tie such as ``(0.1, 0.01)`` the answer
    follows numpy's rounding of the power.

    Examples
    --------
    Layers that halve the detail need 7 layers to shrink it below 1 %
    (:math:`0.5^6 = 0.0156`, :math:`0.5^7 = 0.0078`):

    >>> import numpy as np, homtrap
    >>> float(homtrap.effective_depth(0.5, 0.01))
    7.0
    >>> homtrap.effective_depth([0.1, 0.5, 0.9, 1.0], 0.01)
    array([ 3.,  7., 44., inf])
    >>> int(np.ceil(np.log(100) / np.log(1 / 0.9)))  # the closed form for 0.9
    44

    The depth of a random doubly-stochastic layer at temperature 1:

    >>> M = homtrap.random_dsm(6, 1.0, rng=0)
    >>> float(homtrap.effective_depth(homtrap.sigma2(M), 0.01))
    6.0
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2 must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = check_open_unit(target, "target")
    s, e = np.broadcast_arrays(s, e)
    out = np.full(s.shape, np.inf)
    zero = s == 0
    out[zero] = 1.0
    mid = (s > 0) & (s < 1)
    sm, em = s[mid], e[mid]
    L = np.ceil(np.log(em) / np.log(sm))
    L = np.where(sm ** (L - 1) <= em, L - 1, L)
    L = np.where(sm**L > em, L + 1, L)
    out[mid] = np.maximum(L, 1.0)
    return out[()]


@renamed_arguments(eps="target")
def effective_depth_product(sigma2s: ArrayLike, target: float) -> NDArray[np.float64] | np.float64:
    r"""Effective depth of a heterogeneous stack: the smallest :math:`L` with :math:`\prod_{\ell \le L} \sigma_2(M_\ell) \le \varepsilon`.

    For a stack whose layers have different contraction factors (:prf:ref:`def-effective-depth`,
    equation for heterogeneous stacks),

    .. math::

        D_\text{eff}(\varepsilon; M_1, M_2, \dots) = \min\Bigl\{L : \prod_{\ell=1}^{L} \sigma_2(M_\ell) \le \varepsilon\Bigr\},

    an upper bound on the realised depth of the stack (:prf:ref:`cor-realised-le-deff`). Used in
    :doc:`/book/08_effective_depth` and :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    sigma2s : array_like, shape (..., L)
        Per-layer :math:`\sigma_2` values in :math:`[0, 1]`, in the order the layers are applied
        (last axis); leading axes are batch axes.
    target : float
        Detail fraction :math:`\varepsilon` in :math:`(0, 1)`. The old keyword ``eps=`` still
        works and warns with a :class:`DeprecationWarning`.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        Depths in ``1..L``, or ``inf`` if the product of all ``L`` values stays above ``target``
        (a scalar for a single stack).

    Raises
    ------
    ValueError
        If ``sigma2s`` is a scalar, has a value outside :math:`[0, 1]` or holds NaN/inf, or if
        ``target`` is outside :math:`(0, 1)`.
    TypeError
        If ``sigma2s`` or ``target`` is not real numeric.

    See Also
    --------
    effective_depth : A single repeated factor (no cap at ``L``).
    realised_depth : The depth the stack actually needs.

    Notes
    -----
    The running product is formed as a cumulative sum of logarithms, so long stacks do not
    underflow; a zero factor gives :math:`\ln 0 = -\infty` and ends the search there.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> float(homtrap.effective_depth_product([0.5, 0.2, 0.5, 0.5], 0.01))  # 0.5 * 0.2 * 0.5 * 0.5 = 0.025
    inf
    >>> float(homtrap.effective_depth_product([0.5, 0.2, 0.1, 0.5], 0.01))  # 0.01 after three layers
    3.0

    Equal factors give the homogeneous depth, capped by the stack's length:

    >>> float(homtrap.effective_depth_product(np.full(10, 0.5), 0.01)), float(homtrap.effective_depth(0.5, 0.01))
    (7.0, 7.0)
    """
    s = as_real_array(sigma2s, "sigma2s")
    if s.ndim < 1:
        raise ValueError("sigma2s must have a layer axis (shape (..., L))")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2s must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = float(check_open_unit(target, "target"))
    with np.errstate(divide="ignore"):
        logs = np.cumsum(np.log(s), axis=-1)
    hit = logs <= np.log(e)
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


@renamed_arguments(eps="target")
def high_temperature_effective_depth(n: ArrayLike, temperature: ArrayLike, target: float) -> NDArray[np.float64] | np.float64:
    r"""High-temperature form :math:`\ln(1/\varepsilon) / \ln(T\sqrt n / 2)` of the effective depth.

    Substitutes the high-temperature law :math:`\sigma_2(M_T) \approx 2/(T\sqrt n)` for standard
    Gaussian logits (:prf:ref:`thm-hightemp`, :doc:`/book/03_high_temperature`) into the closed form
    of :prf:ref:`prop-deff-closed-form`, without the ceiling:

    .. math::

        \tilde D(\varepsilon; n, T) = \frac{\ln(1/\varepsilon)}{\ln(T\sqrt n/2)} ,
        \qquad T\sqrt n / 2 > 1 .

    It shows how slowly depth grows with temperature and width. Used in
    :doc:`/book/08_effective_depth`.

    Parameters
    ----------
    n : array_like
        Matrix sizes, ``>= 2`` (real values are accepted); broadcast against ``temperature``.
    temperature : array_like
        Temperatures :math:`T > 0`.
    target : float
        Detail fraction :math:`\varepsilon` in :math:`(0, 1)`. The old keyword ``eps=`` still
        works and warns with a :class:`DeprecationWarning`.

    Returns
    -------
    numpy.float64 or ndarray of float
        Real (not rounded up) depths, of the broadcast shape of ``n`` and ``temperature``;
        ``inf`` where :math:`T\sqrt n \le 2` (the law predicts no contraction there), never ``nan``.

    Raises
    ------
    ValueError
        If a value of ``n`` is below 2, a temperature is not positive, an input holds NaN/inf, or
        ``target`` is outside :math:`(0, 1)`.
    TypeError
        If an argument is not real numeric.

    See Also
    --------
    effective_depth : The exact depth from a measured :math:`\sigma_2`.
    sigma2_sweep : Measured :math:`\sigma_2(M_T)` over temperatures.

    Examples
    --------
    At :math:`n = 64` and :math:`T = 20` the law gives :math:`\sigma_2 \approx 1/80`, so about one
    layer reaches 1 %:

    >>> import numpy as np, homtrap
    >>> round(float(homtrap.high_temperature_effective_depth(64, 20.0, 0.01)), 4)
    1.0509
    >>> round(float(np.log(100) / np.log(80)), 4)
    1.0509
    >>> homtrap.high_temperature_effective_depth(4, [0.5, 1.0], 0.01)  # T * sqrt(n) / 2 <= 1
    array([inf, inf])
    """
    nn = as_real_array(n, "n")
    T = as_real_array(temperature, "temperature")
    if np.any(nn < 2):
        raise ValueError("n must be >= 2")
    if np.any(T <= 0):
        raise ValueError("temperature must be > 0")
    e = float(check_open_unit(target, "target"))
    x = T * np.sqrt(nn) / 2.0
    with np.errstate(divide="ignore"):
        out = np.where(x > 1, np.log(1 / e) / np.log(np.where(x > 1, x, 2.0)), np.inf)
    return out[()]


def _stack(layers: ArrayLike) -> NDArray[np.float64]:
    A = as_square_stack(layers, "layers", min_n=2)
    if A.ndim < 3:
        raise ValueError(f"layers must have shape (..., L, n, n) with a layer axis, got shape {A.shape}")
    return A


def partial_products(A: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""``out[..., k, :, :] = A[..., k, :, :] @ ... @ A[..., 0, :, :]`` for every k (a new array).

    The one loop over the products :math:`M_k \cdots M_1` of a stack ``(..., L, n, n)``, shared by
    the depth functions here, :func:`homtrap.mhc_composite` and :func:`homtrap.diagnose`.
    """
    out = np.empty_like(A)
    out[..., 0, :, :] = A[..., 0, :, :]
    for k in range(1, A.shape[-3]):
        out[..., k, :, :] = np.matmul(A[..., k, :, :], out[..., k - 1, :, :])
    return out


def _spectral_norm(X: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.linalg.svd(X, compute_uv=False)[..., 0]


def product_distances(layers: ArrayLike) -> NDArray[np.float64]:
    r"""Detail left after every partial product: :math:`d_k = \|M_k \cdots M_1 - J/n\|_2`, :math:`k = 1, \dots, L`.

    For doubly-stochastic layers :math:`d_k` is the norm of the product on the detail subspace,
    the largest fraction of any input's detail that survives :math:`k` layers, and
    :math:`d_k \le \prod_{\ell \le k} \sigma_2(M_\ell)` (:prf:ref:`thm-product-contraction`).
    Used in :doc:`/book/07_contraction_across_layers`, :doc:`/book/08_effective_depth`,
    :doc:`/book/09_non_normality`, :doc:`/book/17_case_mhc`, :doc:`/book/19_next_checks` and
    :doc:`/book/21_diagnose`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
        A stack of ``L >= 1`` real, finite square matrices with ``n >= 2``, in the order they are
        applied (``layers[..., 0, :, :]`` first); leading axes are batch axes.

    Returns
    -------
    ndarray of float, shape (..., L)
        :math:`d_1, \dots, d_L` for each stack.

    Raises
    ------
    ValueError
        If ``layers`` has fewer than 3 dimensions, is not square in its last two axes, has
        ``n < 2``, or holds NaN/inf.
    TypeError
        If ``layers`` is not a real numeric array.

    See Also
    --------
    power_distances : The same for one layer repeated.
    realised_depth : The first :math:`k` with :math:`d_k \le \varepsilon`.
    max_product_norm : :math:`\max_k \|M_k \cdots M_1\|_2`.

    Notes
    -----
    The partial products are formed left to right (:math:`M_{k} (M_{k-1} \cdots M_1)`) and each
    distance is the largest singular value from a full SVD; cost :math:`O(L n^3)` per stack.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> layers = homtrap.random_dsm(6, 1.0, size=3, rng=0)
    >>> d = homtrap.product_distances(layers)
    >>> prod = layers[2] @ layers[1] @ layers[0]
    >>> bool(np.isclose(d[2], np.linalg.norm(prod - 1 / 6, 2)))  # independent check
    True
    >>> bool(np.all(d <= np.cumprod(homtrap.sigma2(layers)) + 1e-12))  # the product bound
    True
    """
    A = _stack(layers)
    n = A.shape[-1]
    return _spectral_norm(partial_products(A) - 1.0 / n)


def power_distances(M: ArrayLike, k_max: int) -> NDArray[np.float64]:
    r"""Profile :math:`\|M^k - J/n\|_2` for :math:`k = 1, \dots, k_{\max}` (tied weights).

    The detail left after :math:`k` applications of the same layer. For :math:`M \in \mathcal B_n`
    it lies between :math:`|\lambda_2|^k` and :math:`\sigma_2^k`
    (:prf:ref:`thm-powers-sandwich`), and tends to :math:`|\lambda_2|^k` in rate. Used in
    :doc:`/book/07_contraction_across_layers`, :doc:`/book/08_effective_depth`,
    :doc:`/book/09_non_normality` and :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices, ``n >= 2``; leading axes are batch axes.
    k_max : int
        Largest power, ``>= 1``.

    Returns
    -------
    ndarray of float, shape (..., k_max)
        :math:`\|M^k - J/n\|_2` for :math:`k = 1, \dots, k_{\max}`.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf, or if
        ``k_max < 1``.
    TypeError
        If ``M`` is not a real numeric array or ``k_max`` is not an integer.

    See Also
    --------
    product_distances : The same for a stack of different layers.
    lambda2 : The asymptotic rate.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(5, 1.0, rng=0)
    >>> d = homtrap.power_distances(M, 4)
    >>> k = np.arange(1, 5)
    >>> bool(np.all(homtrap.lambda2(M) ** k <= d + 1e-12) and np.all(d <= homtrap.sigma2(M) ** k + 1e-12))
    True
    >>> bool(np.isclose(d[3], np.linalg.norm(np.linalg.matrix_power(M, 4) - 1 / 5, 2)))
    True
    """
    A = as_square_stack(M, "M", min_n=2)
    k_max = check_int(k_max, "k_max", minimum=1)
    stack = np.broadcast_to(A[..., None, :, :], A.shape[:-2] + (k_max,) + A.shape[-2:])
    return product_distances(stack)


def max_product_norm(layers: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Largest operator norm :math:`\max_k \|M_k \cdots M_1\|_2` over the partial products of a stack.

    Exactly 1 for exactly doubly-stochastic layers (every product is doubly stochastic and has
    norm 1); it can exceed 1 for approximately doubly-stochastic ones, e.g. from truncated
    Sinkhorn (a fixed number of sweeps), where products can amplify signals
    (:doc:`/book/09_non_normality`). Also used in :doc:`/book/17_case_mhc` and
    :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
        A stack of ``L >= 1`` real, finite square matrices with ``n >= 2``, in the order applied.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        The largest spectral norm over :math:`k = 1, \dots, L` (a scalar for a single stack).

    Raises
    ------
    ValueError
        If ``layers`` has fewer than 3 dimensions, is not square in its last two axes, has
        ``n < 2``, or holds NaN/inf.
    TypeError
        If ``layers`` is not a real numeric array.

    See Also
    --------
    truncated_sinkhorn : Layers that are only approximately doubly stochastic.
    product_distances : The detail part of the same products.

    Examples
    --------
    >>> import homtrap
    >>> exact = homtrap.random_dsm(4, 0.3, size=8, rng=0)
    >>> round(float(homtrap.max_product_norm(exact)), 9)
    1.0
    >>> G = homtrap.random_logits(4, size=8, rng=0)
    >>> one_sweep = homtrap.truncated_sinkhorn(G, 0.3, sweeps=1)  # rows sum to one only roughly
    >>> round(float(homtrap.max_product_norm(one_sweep)), 4)
    1.2311
    """
    A = _stack(layers)
    return _spectral_norm(partial_products(A)).max(axis=-1)


class ProductNormBounds(NamedTuple):
    r"""Two bounds on :math:`\|M_k \cdots M_1\|_2` for every :math:`k` (unpacks as ``schur, column``).

    Attributes
    ----------
    schur : ndarray, shape (..., L)
        The Schur-test bound :math:`\prod_{\ell \le k}\sqrt{\|M_\ell\|_1\|M_\ell\|_\infty}`.
    column : ndarray, shape (..., L)
        The column bound :math:`\sqrt{n}\,\prod_{\ell \le k}\|M_\ell\|_1`.

    See Also
    --------
    product_norm_bounds : returns it.
    """

    schur: NDArray[np.float64]
    column: NDArray[np.float64]


def product_norm_bounds(layers: ArrayLike) -> ProductNormBounds:
    r"""Bounds on the norms of the partial products of a stack of non-negative layers.

    For a non-negative matrix, :math:`\|M\|_1` is its largest column sum and
    :math:`\|M\|_\infty` its largest row sum. The Schur test
    :math:`\|A\|_2 \le \sqrt{\|A\|_1\|A\|_\infty}` and the submultiplicativity of both norms give,
    for :math:`P_k = M_k \cdots M_1`,

    .. math::

        \|P_k\|_2 \;\le\; \prod_{\ell \le k} \sqrt{\|M_\ell\|_1\,\|M_\ell\|_\infty}
        \qquad\text{and}\qquad
        \|P_k\|_2 \le \|P_k\|_F \le \sqrt{n}\,\|P_k\|_1 \le \sqrt{n}\prod_{\ell \le k}\|M_\ell\|_1 ,

    the second because every column of the non-negative :math:`P_k` has Euclidean norm at most
    its sum. For column-stochastic layers (truncated Sinkhorn ending on a column step) the second
    is the cap :math:`\sqrt{n}` whatever the depth, attained by :math:`e_1\mathbf 1^\top`
    (:prf:ref:`prop-nn-column-stochastic`, :prf:ref:`rem-schur-test`). Used in
    :doc:`/book/09_non_normality`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
        A stack of ``L >= 1`` real, finite, **non-negative** square matrices with ``n >= 2``, in
        the order applied.

    Returns
    -------
    ProductNormBounds
        ``schur`` and ``column``, each of shape ``(..., L)``: the two bounds for
        :math:`k = 1, \dots, L`.

    Raises
    ------
    ValueError
        If ``layers`` has fewer than 3 dimensions, is not square in its last two axes, has
        ``n < 2``, holds NaN/inf or a negative entry (both bounds need non-negative layers).
    TypeError
        If ``layers`` is not a real numeric array.

    See Also
    --------
    max_product_norm : The largest :math:`\|P_k\|_2` itself.
    truncated_sinkhorn : Layers whose products these bounds control.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(4, size=8, rng=0)
    >>> layers = homtrap.truncated_sinkhorn(G, 0.3, sweeps=1)
    >>> b = homtrap.product_norm_bounds(layers)
    >>> measured = float(homtrap.max_product_norm(layers))
    >>> bool(measured <= b.schur.max() and measured <= b.column.max())
    True
    >>> round(float(b.column.max()), 9)  # column-stochastic layers: the cap sqrt(4)
    2.0
    """
    A = _stack(layers)
    if A.min() < 0:
        raise ValueError(f"layers must be non-negative (the bounds use line sums as norms), got minimum {A.min():.3g}")
    col = A.sum(axis=-2).max(axis=-1)  # ||M_l||_1
    row = A.sum(axis=-1).max(axis=-1)  # ||M_l||_inf
    return ProductNormBounds(np.sqrt(np.cumprod(col * row, axis=-1)), np.sqrt(A.shape[-1]) * np.cumprod(col, axis=-1))


@renamed_arguments(eps="target")
def realised_depth(layers: ArrayLike, target: float) -> NDArray[np.float64] | np.float64:
    r"""Realised depth: the first :math:`k` with :math:`\|M_k \cdots M_1 - J/n\|_2 \le \varepsilon` (``inf`` if none).

    The depth at which an actual stack has shrunk the detail of every input to the fraction
    :math:`\varepsilon` (:prf:ref:`def-realised-depth`). It never exceeds the effective depth
    from the layers' :math:`\sigma_2` values (:prf:ref:`cor-realised-le-deff`). Used in
    :doc:`/book/08_effective_depth`, :doc:`/book/17_case_mhc` and :doc:`/book/19_next_checks`.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
        A stack of ``L >= 1`` real, finite square matrices with ``n >= 2``, in the order applied.
    target : float
        Detail fraction :math:`\varepsilon` in :math:`(0, 1)`. The old keyword ``eps=`` still
        works and warns with a :class:`DeprecationWarning`.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        Integer-valued depths in ``1..L``, or ``inf`` if the stack never gets there (a scalar for
        a single stack).

    Raises
    ------
    ValueError
        If ``target`` is outside :math:`(0, 1)`, or ``layers`` is not a stack of square matrices
        of shape ``(..., L, n, n)`` with ``n >= 2``, or holds NaN/inf.
    TypeError
        If an argument is not real numeric.

    See Also
    --------
    effective_depth_product : The worst-case depth from the layers' :math:`\sigma_2`.
    product_distances : The profile :math:`d_k` it thresholds.

    Examples
    --------
    >>> import homtrap
    >>> layers = homtrap.random_dsm(6, 1.0, size=12, rng=0)
    >>> R = homtrap.realised_depth(layers, 0.01)
    >>> D = homtrap.effective_depth_product(homtrap.sigma2(layers), 0.01)
    >>> float(R), float(D)
    (4.0, 7.0)
    """
    e = float(check_open_unit(target, "target"))
    d = product_distances(layers)
    hit = d <= e
    first = np.argmax(hit, axis=-1).astype(np.float64) + 1.0
    return np.where(hit.any(axis=-1), first, np.inf)[()]


def collapse_depth(sigma2: ArrayLike, detail_norm: ArrayLike, noise_std: float, n: int, eta: float) -> NDArray[np.float64] | np.float64:
    r"""Collapse depth of Theorem 1: the smallest :math:`L` with :math:`8\gamma_L \le \eta`.

    In the spectral form of Theorem 1 (:prf:ref:`cor-collapse-depth`), the signal-to-noise ratio
    of the detail after :math:`L` layers with contraction factor :math:`\sigma_2` is
    :math:`\gamma_L = \sigma_2^L\,\|x_\perp\| / (\nu\sqrt{n-1})`, and LayerNorm outputs of two
    inputs are nearly orthogonal once :math:`8\gamma_L \le \eta`. This returns

    .. math::

        L_\eta = \max\Bigl(0, \Bigl\lceil \frac{\ln\bigl(8\|x_\perp\|/(\eta\,\nu\sqrt{n-1})\bigr)}{\ln(1/\sigma_2)} \Bigr\rceil\Bigr),

    with 0 if already :math:`8\gamma_0 \le \eta`, 1 if :math:`\sigma_2 = 0` (and not already), and
    ``inf`` when :math:`\sigma_2 = 1`. Used in :doc:`/book/11_theorem1` and
    :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    sigma2 : array_like
        Contraction factors in :math:`[0, 1]`.
    detail_norm : array_like
        Detail norms :math:`\|x_\perp\| \ge 0` of the input; broadcast against ``sigma2``.
    noise_std : float
        Noise standard deviation :math:`\nu > 0` (finite).
    n : int
        Dimension, ``>= 2``.
    eta : float
        Collapse level :math:`\eta > 0` (finite).

    Returns
    -------
    numpy.float64 or ndarray of float
        Integer-valued depths :math:`\ge 0`, or ``inf``, of the broadcast shape of ``sigma2`` and
        ``detail_norm`` (a scalar for scalar inputs).

    Raises
    ------
    ValueError
        If ``sigma2`` is outside :math:`[0, 1]`, ``detail_norm`` is negative, an input holds
        NaN/inf, ``noise_std`` or ``eta`` is not finite and positive, or ``n < 2``.
    TypeError
        If an argument is not real numeric, or ``n`` is not an integer.

    See Also
    --------
    theorem1_bound : The bound whose :math:`8\gamma` term this drives below :math:`\eta`.
    effective_depth : The same ceiling, for the detail fraction alone.

    Notes
    -----
    As in :func:`homtrap.effective_depth`, the ceiling is checked against the powers in floating
    point, so rounding of the logarithms cannot shift it by one.

    Examples
    --------
    With :math:`\sigma_2 = 0.5`, unit detail, noise :math:`\nu = 0.01` and :math:`n = 65`:
    :math:`8\gamma_0 = 100`, so it takes :math:`\lceil\log_2 100\rceil = 7` layers to reach
    :math:`\eta = 1`.

    >>> import homtrap
    >>> float(homtrap.collapse_depth(0.5, 1.0, 0.01, 65, 1.0))
    7.0
    >>> float(homtrap.collapse_depth(0.5, 1e-4, 0.01, 65, 1.0))  # 8 gamma_0 = 0.01: already collapsed
    0.0
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError("sigma2 must lie in [0, 1]")
    d = as_real_array(detail_norm, "detail_norm")
    if np.any(d < 0):
        raise ValueError("detail_norm must be >= 0")
    nu = check_positive_scalar(noise_std, "noise_std")
    n = check_int(n, "n", minimum=2)
    eta = check_positive_scalar(eta, "eta")
    s, d = np.broadcast_arrays(s, d)
    gamma0 = d / (nu * np.sqrt(n - 1))
    need = 8 * gamma0 / eta  # contraction factor needed
    out = np.full(s.shape, np.inf)
    done = need <= 1
    out[done] = 0.0
    zero = (s == 0) & ~done
    out[zero] = 1.0
    mid = (s > 0) & (s < 1) & ~done
    L = np.ceil(np.log(need[mid]) / np.log(1 / s[mid]))
    L = np.where(8 * gamma0[mid] * s[mid] ** (L - 1) <= eta, L - 1, L)
    L = np.where(8 * gamma0[mid] * s[mid] ** L > eta, L + 1, L)
    out[mid] = L
    return out[()]


def cyclic_effective_depth(f: NDArray[np.float64], target: float) -> float:
    r"""Smallest D with :math:`\prod_{j \le m} f_j \le \varepsilon` for every :math:`m \ge D`, the stack repeated cyclically.

    For factors at most one the products are non-increasing and this is the first crossing
    (computed as in :prf:ref:`prop-diagnose-guarantees`, never more than ``2L`` factors). With
    factors above one (possible for row-stochastic layers) the running maximum over the next
    cycle, :math:`R_m = \max_{0 \le t < L} S_{m+t}` of the log-products :math:`S`, is
    non-increasing when the cycle's log-product :math:`c` is negative and satisfies
    :math:`R_{m+L} = R_m + c`; ``D`` is the first ``m`` with :math:`R_m \le \ln\varepsilon`.
    """
    with np.errstate(divide="ignore"):
        logs = np.log(f)
    L = f.size
    cycle = logs.sum()
    if np.all(f <= 1.0):
        if cycle == 0.0:
            return np.inf
        if cycle == -np.inf or cycle <= np.log(target):
            return float(effective_depth_product(f, target))
        full = max(0, int(np.floor(np.log(target) / cycle)) - 1)  # whole cycles that surely stay above target
        rest = np.log(target) - full * cycle
        partial = np.cumsum(np.tile(logs, 2))
        return float(full * L + int(np.argmax(partial <= rest)) + 1)
    if cycle > 0.0:
        return np.inf
    S = np.cumsum(np.tile(logs, 3))  # S[m - 1] = log-product of the first m factors, m = 1 .. 3L
    R = np.array([S[m - 1:m - 1 + L].max() for m in range(1, 2 * L + 1)])  # R_m, m = 1 .. 2L
    log_target = np.log(target)
    if cycle == 0.0 or cycle == -np.inf:
        hit = np.flatnonzero(R[:L] <= log_target)
        if hit.size:
            return float(hit[0] + 1)
        return np.inf if cycle == 0.0 else float(np.flatnonzero(R <= log_target)[0] + 1)
    # cycle < 0: R_{iL + j} = i c + R_j; skip the cycles that surely stay above the target
    full = max(0, int(np.floor((log_target - R[:L].max()) / cycle)) - 1)
    hit = np.flatnonzero(full * cycle + R <= log_target)
    while hit.size == 0:  # pragma: no cover - the floor above leaves at most two cycles to search
        full += 1
        hit = np.flatnonzero(full * cycle + R <= log_target)
    return float(full * L + hit[0] + 1)
