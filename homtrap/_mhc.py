r"""mHC's residual mixing matrix :math:`H^{\mathrm{res}}`, written from its primary sources.

mHC (Xie et al., "mHC: Manifold-Constrained Hyper-Connections", DeepSeek-AI,
arXiv 2512.24880) mixes :math:`n` residual streams with a matrix
:math:`H^{\mathrm{res}}_l` that is projected towards the Birkhoff polytope by a *fixed*
number of Sinkhorn–Knopp iterations (§4.2, Eq. 9; §5.4):

.. math::

   M^{(0)} = \exp(\tilde H^{\mathrm{res}}), \qquad
   M^{(t)} = \mathcal T_r\bigl(\mathcal T_c(M^{(t-1)})\bigr), \quad t = 1, \dots, t_{\max} = 20,

where :math:`\mathcal T_c` divides every column by its sum and :math:`\mathcal T_r` every row.
Rows are normalised **last**, so every layer is exactly row-stochastic (the forward gain of
one layer is exactly one) and the truncation error sits in the column sums, which govern
the backward (gradient) pass. This is the opposite order to
:func:`homtrap.truncated_sinkhorn` (rows, then columns), which the book used before.

The object of this module is that mixing layer: its logits (:func:`mhc_logits`), the
truncated Sinkhorn map (:func:`mhc_h_res`), products of layers (:func:`mhc_composite`) and
mHC's Amax gains (:func:`amax_gain`); and the bias-only layer in closed form
(:func:`mhc_bias_layer`) with the range at which a stack of them homogenises
(:func:`mhc_homogenising_range`). Used in :doc:`/book/17_case_mhc` and
:doc:`/book/22_tradeoff_map`, in :doc:`/book/16_incompatibility` and :doc:`/book/21_diagnose`,
and by :func:`homtrap.diagnose`.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._depth import partial_products
from ._validation import as_real_array, as_square_stack, check_int, check_open_unit, check_positive_scalar

__all__ = [
    "AmaxGain",
    "amax_gain",
    "mhc_bias_layer",
    "mhc_composite",
    "mhc_h_res",
    "mhc_homogenising_range",
    "mhc_logits",
]


def _check_nonneg_scalar(x: object, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def mhc_h_res(logits: ArrayLike, *, t_max: int = 20, eps: float = 0.0) -> NDArray[np.float64]:
    r"""mHC's :math:`H^{\mathrm{res}}`: ``t_max`` Sinkhorn iterations, columns first, rows last.

    Transcribes mHC §4.2, Eq. 9 (Xie et al., arXiv 2512.24880): :math:`M^{(0)} = \exp(L)`,
    then ``t_max`` times :math:`M \leftarrow \mathcal T_r(\mathcal T_c(M))`. With ``eps = 0``
    the result is row-stochastic to rounding and its column sums carry the truncation error.

    ``eps > 0`` models DeepSeek's public reference kernel, transcribed from
    ``deepseek-ai/TileKernels`` at commit ``36d9e45d38e204ebb87e6f6e833821eee0482fe5``:
    ``tile_kernels/torch/mhc.py::sinkhorn_normalize_ref`` and the tilelang kernel
    ``tile_kernels/mhc/sinkhorn_kernel.py::_mhc_sinkhorn_fwd`` (identical steps). In that code
    the stored matrix ``comb[m, k]`` is applied as ``out_k = sum_m comb[m, k] x_m``
    (``tile_kernels/torch/mhc.py::mhc_post_ref``), i.e. :math:`H^{\mathrm{res}} = \text{comb}^\top`,
    and its steps are ``softmax(-1) + eps``, one division by ``sum(-2) + eps``, then
    ``repeat - 1`` pairs of divisions by ``sum(-1) + eps`` and ``sum(-2) + eps``. In the
    orientation of :math:`H^{\mathrm{res}}` (the one used here, rows = output streams) that is:

    1. :math:`M \leftarrow \mathcal T_c(\exp L) + \varepsilon` (a column softmax, then
       :math:`\varepsilon` added to every entry);
    2. :math:`M_{ij} \leftarrow M_{ij} / (\sum_k M_{ik} + \varepsilon)` (rows);
    3. ``t_max - 1`` times: columns :math:`M_{ij} \leftarrow M_{ij} / (\sum_k M_{kj} + \varepsilon)`,
       then rows as in step 2.

    With ``eps = 0`` these steps are exactly Eq. 9, so one code path serves both. The kernel
    uses ``eps = 1e-6`` and ``repeat = 10`` by default (``mhc_pre`` in
    ``tile_kernels/modeling/mhc/functional.py``); the paper states :math:`t_{\max} = 20`, the
    default here. With ``eps > 0`` the row sums are :math:`s/(s+\varepsilon)`, one minus
    about :math:`\varepsilon`, not one.

    The exponential is stabilised by subtracting each column's maximum logit, which leaves the
    column softmax of step 1 (and hence every later step) unchanged.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        The raw matrices :math:`\tilde H^{\mathrm{res}}` (see :func:`mhc_logits`), in the
        orientation in which :math:`H^{\mathrm{res}}` multiplies the stream vector.
    t_max : int, default 20
        Number of column-then-row iterations, ``>= 1``.
    eps : float, default 0.0
        The reference kernel's additive epsilon (``1e-6`` there); ``0`` is the paper's Eq. 9.

    Returns
    -------
    ndarray, shape (..., n, n)
        The matrices :math:`M^{(t_{\max})}`.

    Raises
    ------
    TypeError
        If ``logits`` is not a real array, ``t_max`` not an integer or ``eps`` not a number.
    ValueError
        If ``logits`` is not a finite stack of square matrices, ``t_max < 1``, ``eps < 0``,
        or (with ``eps = 0``) a row of :math:`\exp L` underflows to zero, which Eq. 9 cannot
        normalise.

    See Also
    --------
    amax_gain : mHC's forward and backward gains of the result.
    mhc_logits : the logits mHC feeds in.
    homtrap.truncated_sinkhorn : the opposite order (rows, then columns).

    Notes
    -----
    Used in :doc:`/book/16_incompatibility`, :doc:`/book/17_case_mhc`,
    :doc:`/book/21_diagnose` and :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    >>> import numpy as np
    >>> import homtrap
    >>> L = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 3.0]])
    >>> H = homtrap.mhc_h_res(L, t_max=3)
    >>> bool(np.allclose(H.sum(axis=1), 1.0, atol=1e-14))  # rows last: rows sum to one
    True
    >>> bool(abs(H.sum(axis=0) - 1.0).max() > 1e-6)  # the columns carry the truncation error
    True

    An independent transcription of Eq. 9 (exponentiate, then columns and rows in turn), and
    the limit: with many iterations the result is the Sinkhorn projection.

    >>> M = np.exp(L)
    >>> for _ in range(3):
    ...     M = M / M.sum(axis=0, keepdims=True)
    ...     M = M / M.sum(axis=1, keepdims=True)
    >>> bool(np.allclose(H, M, rtol=1e-13, atol=0))
    True
    >>> bool(np.allclose(homtrap.mhc_h_res(L, t_max=500), homtrap.sinkhorn(L), atol=1e-10))
    True
    """
    L = as_square_stack(logits, "logits")
    t_max = check_int(t_max, "t_max", minimum=1)
    eps = _check_nonneg_scalar(eps, "eps")
    # column softmax = T_c(exp L); subtracting each column's max leaves it unchanged
    with np.errstate(under="ignore"):
        M = np.exp(L - L.max(axis=-2, keepdims=True))
    M = M / M.sum(axis=-2, keepdims=True)  # each column holds an entry 1 before this: sum >= 1
    if eps > 0:
        M = M + eps
    else:
        bad = int(np.count_nonzero(M.sum(axis=-1) == 0.0))
        if bad:
            raise ValueError(
                f"logits span too wide a range: {bad} row(s) of exp(logits) underflow to zero after the "
                "column normalisation, which Eq. 9 cannot normalise (use eps > 0 as the reference kernel does)"
            )
    M = M / (M.sum(axis=-1, keepdims=True) + eps)
    for _ in range(t_max - 1):
        M = M / (M.sum(axis=-2, keepdims=True) + eps)
        M = M / (M.sum(axis=-1, keepdims=True) + eps)
    return M


def mhc_logits(
    x: ArrayLike, phi: ArrayLike, alpha: float, b: ArrayLike, *, norm_eps: float = 0.0
) -> NDArray[np.float64]:
    r"""mHC's raw mixing logits :math:`\tilde H^{\mathrm{res}} = \alpha\,\mathrm{mat}(\tilde x\varphi / r) + b`.

    Paper eqs. 14–16 (Xie et al., arXiv 2512.24880), as transcribed in the docstrings of
    AMD's aiter Triton kernels: :math:`\tilde x \in \mathbb R^{nC}` is the flattened stream
    state, :math:`r = \|\tilde x\|_2/\sqrt{nC}` its RMS norm (eq. 15), and the
    :math:`n^2` outputs of :math:`\tilde x\varphi` are reshaped row-major to :math:`n\times n`
    (``mat``). The gate :math:`\alpha` is a learned scalar initialised at ``0.01`` in the
    paper; there is no temperature. DeepSeek's kernel
    (``deepseek-ai/TileKernels``, ``tile_kernels/torch/mhc.py::mhc_pre_norm_fn_ref``) adds
    ``norm_eps = 1e-6`` inside the square root and applies the reshaped matrix transposed
    (see :func:`mhc_h_res`); for learned or random :math:`\varphi, b` the transpose only
    relabels parameters.

    The "default range 160" (diagonal logits 0, off-diagonal −8, divided by τ = 0.05) found
    in discussions of mHC is the setting of a third-party re-implementation
    (tokenbender/mHC-manifold-constrained-hyper-connections), not DeepSeek's.

    Parameters
    ----------
    x : array_like, shape (..., n, C)
        The :math:`n` residual streams of width :math:`C`, for any leading (token) axes.
    phi : array_like, shape (n*C, n*n)
        The projection :math:`\varphi^{\mathrm{res}}`.
    alpha : float
        The gate :math:`\alpha^{\mathrm{res}}` (any finite real).
    b : array_like, shape (n, n)
        The bias :math:`b^{\mathrm{res}}`.
    norm_eps : float, default 0.0
        Added to the mean square before the square root (``1e-6`` in DeepSeek's kernel).

    Returns
    -------
    ndarray, shape (..., n, n)
        The logits, to be passed to :func:`mhc_h_res`.

    Raises
    ------
    TypeError
        If an argument is not real.
    ValueError
        If shapes do not match, an entry is not finite, ``norm_eps < 0``, or a stream state
        is identically zero with ``norm_eps = 0`` (its RMS norm is zero).

    See Also
    --------
    mhc_h_res : turns the logits into the mixing matrix.

    Notes
    -----
    Used in :doc:`/book/17_case_mhc` and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np
    >>> import homtrap
    >>> rng = np.random.default_rng(0)
    >>> n, C = 4, 8
    >>> phi = rng.standard_normal((n * C, n * n)) / np.sqrt(n * C)
    >>> L = homtrap.mhc_logits(rng.standard_normal((n, C)), phi, 0.01, np.eye(n))
    >>> L.shape
    (4, 4)
    >>> bool(abs(L - np.eye(n)).max() < 0.1)  # alpha = 0.01 keeps the logits near the bias
    True
    >>> x = rng.standard_normal((n, C))  # the formula by hand: RMS-normalise, project, reshape
    >>> by_hand = 0.01 * (x.ravel() @ phi / np.sqrt(np.mean(x**2))).reshape(n, n) + np.eye(n)
    >>> bool(np.allclose(homtrap.mhc_logits(x, phi, 0.01, np.eye(n)), by_hand, rtol=1e-12, atol=1e-15))
    True
    """
    X = as_real_array(x, "x")
    if X.ndim < 2:
        raise ValueError(f"x must have shape (..., n, C), got shape {X.shape}")
    n, C = X.shape[-2:]
    P = as_real_array(phi, "phi")
    if P.shape != (n * C, n * n):
        raise ValueError(f"phi must have shape (n*C, n*n) = ({n * C}, {n * n}) for x of shape {X.shape}, got {P.shape}")
    B = as_real_array(b, "b")
    if B.shape != (n, n):
        raise ValueError(f"b must have shape (n, n) = ({n}, {n}), got {B.shape}")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    a = float(alpha)
    if not np.isfinite(a):
        raise ValueError(f"alpha must be finite, got {a}")
    norm_eps = _check_nonneg_scalar(norm_eps, "norm_eps")
    flat = X.reshape(*X.shape[:-2], n * C)
    ms = np.mean(flat * flat, axis=-1, keepdims=True) + norm_eps
    if np.any(ms == 0.0):
        raise ValueError("x has a stream state that is identically zero: its RMS norm is zero (use norm_eps > 0)")
    H = (flat @ P) / np.sqrt(ms)
    return a * H.reshape(*X.shape[:-2], n, n) + B


class AmaxGain(NamedTuple):
    r"""mHC's Amax gains of :func:`amax_gain` (unpacks as ``forward, backward``).

    Attributes
    ----------
    forward : float or ndarray, shape (...)
        Largest absolute row sum :math:`\max_i |\sum_j M_{ij}|` (gain of a constant signal).
    backward : float or ndarray, shape (...)
        Largest absolute column sum :math:`\max_j |\sum_i M_{ij}|` (gain of a constant gradient).

    See Also
    --------
    amax_gain : returns it.

    Notes
    -----
    Used in :doc:`/book/17_case_mhc` and :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> g = homtrap.amax_gain(np.array([[0.5, 0.5], [1.0, 0.0]]))
    >>> float(g.forward), float(g.backward)
    (1.0, 1.5)
    """

    #: largest absolute row sum :math:`\max_i |\sum_j M_{ij}|`, shape ``(...)``
    forward: NDArray[np.float64] | np.float64
    #: largest absolute column sum :math:`\max_j |\sum_i M_{ij}|`, shape ``(...)``
    backward: NDArray[np.float64] | np.float64


def amax_gain(M: ArrayLike) -> AmaxGain:
    r"""mHC's Amax gains: the largest absolute row sum (forward) and column sum (backward).

    mHC (Xie et al., arXiv 2512.24880, Figs. 3 and 7) measures a mixing matrix :math:`M` (one
    layer's :math:`H^{\mathrm{res}}` or a composite, see :func:`mhc_composite`) by

    .. math::

       g_{\mathrm{fwd}} = \max_i \Bigl|\sum_j M_{ij}\Bigr|, \qquad
       g_{\mathrm{bwd}} = \max_j \Bigl|\sum_i M_{ij}\Bigr|,

    the worst amplification of a constant signal in the forward pass (:math:`M\mathbf 1`) and of
    a constant gradient in the backward pass (:math:`M^\top\mathbf 1`). For non-negative
    :math:`M` these are the induced :math:`\infty`- and :math:`1`-norms.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real, finite square matrices; leading axes are a batch.

    Returns
    -------
    AmaxGain
        Named tuple ``(forward, backward)``, each of shape ``(...)`` (numpy scalars for one
        matrix).

    Raises
    ------
    TypeError
        If ``M`` is not a real array.
    ValueError
        If ``M`` is not a finite stack of square matrices.

    See Also
    --------
    mhc_composite : the products whose gains mHC reports.
    homtrap.marginal_error : the largest deviation of a row or column sum from one.

    Notes
    -----
    Used in :doc:`/book/17_case_mhc` and :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    >>> import numpy as np
    >>> import homtrap
    >>> fwd, bwd = homtrap.amax_gain(np.array([[0.5, 0.5], [1.0, 0.0]]))
    >>> float(fwd), float(bwd)
    (1.0, 1.5)

    Twenty layers of mHC's :math:`H^{\mathrm{res}}` are exactly row-stochastic, so the forward gain
    of their product is one; the backward gain carries the column errors:

    >>> L = 3.0 * np.random.default_rng(0).standard_normal((20, 4, 4))
    >>> g = homtrap.amax_gain(homtrap.mhc_composite(homtrap.mhc_h_res(L, t_max=2)))
    >>> round(float(g.forward), 9), bool(g.backward > 1.0)
    (1.0, True)
    """
    A = as_square_stack(M, "M")
    forward = np.abs(A.sum(axis=-1)).max(axis=-1)
    backward = np.abs(A.sum(axis=-2)).max(axis=-1)
    return AmaxGain(forward[()], backward[()])


def mhc_composite(layers: ArrayLike, *, cumulative: bool = False) -> NDArray[np.float64]:
    r"""The composite mixing map :math:`M_L \cdots M_2 M_1` of a stack of layers.

    With :math:`x_{l+1} = H^{\mathrm{res}}_l x_l + \dots`, the residual stream carries
    :math:`x_1` to layer :math:`L+1` through :math:`H_L\cdots H_1` (later layers on the left);
    mHC's Figs. 3 and 7 report the Amax gains (:func:`amax_gain`) of such products.

    Parameters
    ----------
    layers : array_like, shape (..., L, n, n)
        ``layers[..., l, :, :]`` is :math:`M_{l+1}` (the first applied is index 0).
    cumulative : bool, default False
        ``True`` returns every partial product :math:`M_l\cdots M_1`, ``l = 1..L``.

    Returns
    -------
    ndarray, shape (..., n, n), or (..., L, n, n) if ``cumulative``

    Raises
    ------
    TypeError
        If ``layers`` is not a real array or ``cumulative`` is not a bool.
    ValueError
        If ``layers`` is not a finite array of shape ``(..., L, n, n)``.

    See Also
    --------
    amax_gain : the gains of the composite.
    homtrap.product_distances : distances of such products to :math:`J/n`.

    Notes
    -----
    Used in :doc:`/book/17_case_mhc` and :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    >>> import numpy as np
    >>> import homtrap
    >>> A = np.array([[0.0, 1.0], [1.0, 0.0]]); B = np.array([[1.0, 0.0], [0.5, 0.5]])
    >>> homtrap.mhc_composite(np.stack([A, B])).tolist()  # B @ A: A is applied first
    [[0.0, 1.0], [0.5, 0.5]]
    """
    S = as_square_stack(layers, "layers")
    if S.ndim < 3:
        raise ValueError(f"layers must have shape (..., L, n, n), got shape {S.shape}")
    if not isinstance(cumulative, (bool, np.bool_)):
        raise TypeError(f"cumulative must be a bool, got {type(cumulative).__name__}")
    out = partial_products(S)
    return out if cumulative else out[..., -1, :, :]


def mhc_bias_layer(n: int, logit_range: float) -> NDArray[np.float64]:
    r"""The Sinkhorn layer of the bias alone, :math:`M_R = S(\exp(R\,I))`, in closed form.

    With logit :math:`R` on the diagonal and :math:`0` off it (mHC's identity-favouring bias, up
    to a constant), :math:`q = 1/(e^R + n - 1)` and :math:`p = e^R q`
    (:prf:ref:`prop-mhc-bias`):

    .. math::

        M_R = p\,I + q\,(J - I), \qquad
        \sigma_2(M_R) = p - q = \frac{e^R - 1}{e^R + n - 1},
        \qquad \|M_R^L - J/n\|_2 = \sigma_2(M_R)^L .

    The first Sinkhorn sweep already returns :math:`M_R`, so truncated Sinkhorn (mHC's 20 sweeps)
    gives the same layer. Used in :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    n : int
        Number of streams, ``n >= 1``.
    logit_range : float
        :math:`R > 0`, the gap between the diagonal and the off-diagonal logits.

    Returns
    -------
    ndarray of float, shape (n, n)
        :math:`M_R`.

    Raises
    ------
    TypeError
        If ``n`` is not an integer or ``logit_range`` not a real number.
    ValueError
        If ``n < 1`` or ``logit_range`` is not finite and ``> 0``.

    See Also
    --------
    mhc_homogenising_range : The range below which a stack of :math:`L` such layers homogenises.
    mhc_h_res : mHC's truncated Sinkhorn of general logits.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.mhc_bias_layer(4, 2.0)
    >>> bool(np.allclose(M, homtrap.sinkhorn(2.0 * np.eye(4)), atol=1e-12))
    True
    >>> s2 = (np.exp(2.0) - 1) / (np.exp(2.0) + 3)
    >>> bool(abs(homtrap.sigma2(M) - s2) < 1e-12)
    True
    """
    n = check_int(n, "n", minimum=1)
    R = check_positive_scalar(logit_range, "logit_range")
    q = 1.0 / (math.exp(R) + n - 1)
    return (math.exp(R) - 1) * q * np.eye(n) + q * np.ones((n, n))


def mhc_homogenising_range(n: int, depth: int, target: float) -> float:
    r"""The largest bias range :math:`R` at which :math:`L` bias-only layers homogenise to ``target``.

    For the layer :math:`M_R` of :func:`mhc_bias_layer`, :math:`\|M_R^L - J/n\|_2 \le \varepsilon`
    if and only if :math:`R \le R_{\mathrm{hom}}(L, \varepsilon)` (:prf:ref:`prop-mhc-bias`), with

    .. math::

        R_{\mathrm{hom}}(L, \varepsilon) = \ln\Bigl(\frac{n}{1 - \varepsilon^{1/L}} - n + 1\Bigr)
        = \ln\frac{nL}{\ln(1/\varepsilon)} + O(1/L) .

    The frozen threshold of the same proposition is :math:`R_{\mathrm{froz}}(L, \delta) =
    R_{\mathrm{hom}}(L, 1 - \delta)`: at and above it the stack keeps at least :math:`1 - \delta` of
    the detail. Used in :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    n : int
        Number of streams, ``n >= 2``.
    depth : int
        Number of layers :math:`L \ge 1`.
    target : float
        :math:`\varepsilon \in (0, 1)`, the detail fraction :math:`\|M_R^L - J/n\|_2` reached.

    Returns
    -------
    float
        :math:`R_{\mathrm{hom}}(L, \varepsilon)`.

    Raises
    ------
    TypeError
        If ``n`` or ``depth`` is not an integer, or ``target`` not real.
    ValueError
        If ``n < 2``, ``depth < 1`` or ``target`` is outside the open interval :math:`(0, 1)`.

    See Also
    --------
    mhc_bias_layer : The layer :math:`M_R`.
    effective_depth : The depth at which a fixed :math:`\sigma_2` reaches a target.

    Notes
    -----
    Computed as ``log(n / -expm1(log(target) / depth) - n + 1)``, accurate for large ``depth``.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> R = homtrap.mhc_homogenising_range(4, 64, 0.01)
    >>> round(R, 4)
    4.0003
    >>> [bool(np.linalg.norm(np.linalg.matrix_power(homtrap.mhc_bias_layer(4, R * f), 64) - 1 / 4, 2) <= 0.01)
    ...  for f in (0.999, 1.001)]
    [True, False]
    """
    n = check_int(n, "n", minimum=2)
    L = check_int(depth, "depth", minimum=1)
    eps = float(check_open_unit(target, "target"))
    return math.log(n / -math.expm1(math.log(eps) / L) - n + 1)
