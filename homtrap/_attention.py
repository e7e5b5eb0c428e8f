r"""Attention matrices: softmax, Sinkformer (truncated Sinkhorn) and converged Sinkhorn attention.

Three maps from a stack of similarity scores :math:`S` (shape ``(..., n, n)``) and an inverse
temperature :math:`\beta` to an ``n x n`` attention matrix, as studied in
:doc:`/book/18_case_sinkformers`:

* :func:`softmax_attention` -- the row softmax of :math:`\beta S` (row-stochastic);
* :func:`sinkformer_attention` -- the attention of Sinkformers (Sander, Ablin, Blondel, Peyré,
  *Sinkformers: Transformers with Doubly Stochastic Attention*, AISTATS 2022, arXiv 2110.11773),
  transcribed from the authors' code: ``n_it`` log-domain Sinkhorn *half*-steps with
  :math:`\varepsilon = 1`, rows first, so that odd ``n_it`` ends on rows and the result is exactly
  row-stochastic but only approximately column-stochastic; ``n_it = 1`` is softmax;
* :func:`sinkhorn_attention` -- the idealised, converged doubly-stochastic attention
  :math:`S(\exp(\beta S))`, computed by :func:`homtrap.sinkhorn`.

and the builders of the chapter's experiments: random clustered tokens
(:func:`clustered_tokens`), random score forms and orthogonal value maps
(:func:`random_bilinear_form`, :func:`random_orthogonal`), the logits
:math:`\beta XWX^\top` (:func:`bilinear_scores`) and stacks of attention layers
(:func:`attention_stack`). Used in :doc:`/book/18_case_sinkformers` and
:doc:`/book/21_diagnose`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_batch_shape, as_generator, as_real_array, as_square_stack, check_int, check_positive_scalar
from ._sinkhorn import sinkhorn

__all__ = [
    "AttentionStack",
    "attention_stack",
    "bilinear_scores",
    "clustered_tokens",
    "random_bilinear_form",
    "random_orthogonal",
    "sinkformer_attention",
    "sinkhorn_attention",
    "softmax_attention",
]


def _scaled_scores(scores: ArrayLike, beta: float) -> NDArray[np.float64]:
    """Validate ``scores`` (real, finite, square in the last two axes) and ``beta`` and return ``beta * scores``."""
    S = as_square_stack(scores, "scores")
    b = check_positive_scalar(beta, "beta")
    with np.errstate(over="ignore"):
        Z = b * S
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"beta * scores overflows float64 (beta={b:g}); use a smaller beta or smaller scores")
    return Z


def _logsumexp(Z: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``log(sum(exp(Z), axis))`` with the maximum subtracted first (finite for finite ``Z``), keepdims."""
    m = Z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(Z - m).sum(axis=axis, keepdims=True))


def softmax_attention(scores: ArrayLike, beta: float = 1.0) -> NDArray[np.float64]:
    r"""Row-softmax attention :math:`A_{ij} = e^{\beta S_{ij}} / \sum_k e^{\beta S_{ik}}`.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Real, finite similarity scores :math:`S` (for example :math:`QK^\top/\sqrt{d}`); leading
        axes are a batch (heads, layers, instances).
    beta : float, default 1.0
        Inverse temperature :math:`\beta > 0`.

    Returns
    -------
    ndarray, shape (..., n, n)
        Positive row-stochastic matrices (rows sum to one up to rounding).

    Raises
    ------
    TypeError
        If ``scores`` is not a real numeric array or ``beta`` not a real number.
    ValueError
        If ``scores`` is empty, non-finite or not square in its last two axes, if ``beta <= 0``,
        or if ``beta * scores`` overflows.

    See Also
    --------
    sinkformer_attention : a few Sinkhorn half-steps; ``n_it = 1`` is this map.
    sinkhorn_attention : the converged doubly-stochastic attention.
    homtrap.detail_factor : :math:`\|PAP\|_2`, the factor by which one such layer changes the detail.

    Notes
    -----
    The row maximum is subtracted before exponentiating, so any finite scores give a finite
    result. This is the first half-step of Sinkhorn's algorithm and equals
    ``sinkformer_attention(scores, beta, n_it=1)``.

    Used in :doc:`/book/18_case_sinkformers` and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> A = homtrap.softmax_attention(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]]))
    >>> np.round(A, 12).tolist()
    [[0.25, 0.75], [0.5, 0.5]]

    An independent check with ``scipy.special.softmax``:

    >>> from scipy.special import softmax
    >>> S = np.random.default_rng(0).standard_normal((4, 4))
    >>> bool(np.allclose(homtrap.softmax_attention(S, 2.0), softmax(2.0 * S, axis=-1), rtol=1e-13, atol=0))
    True
    """
    Z = _scaled_scores(scores, beta)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def sinkformer_attention(scores: ArrayLike, beta: float = 1.0, n_it: int = 3) -> NDArray[np.float64]:
    r"""Sinkformer attention: ``n_it`` Sinkhorn half-steps on :math:`\exp(\beta S)`, rows first.

    Transcribed from the authors' code, github.com/michaelsdr/sinkformers (commit ``045d933``,
    where the files below were last changed in ``48c5cd3``): class ``SinkhornDistance`` in
    ``vit-pytorch/vit_pytorch/sinkhorn.py`` (ViT), ``nlp-tutorial/text-classification-transformer/sinkhorn.py``
    (IMDb) and ``set_transformer/set_transformer/layers.py`` (ModelNet 40), called from
    ``Attention.forward`` in ``vit-pytorch/vit_pytorch/vit.py``, ``ScaledDotProductAttention`` in
    ``nlp-tutorial/.../model.py`` and ``MABSINK_Simplified`` in ``set_transformer/set_transformer/modules.py``.
    With the scaled dot products :math:`Z = \beta S` as input (their ``dots``, already multiplied by
    ``dim_head ** -0.5``, so their :math:`\beta S` is :math:`QK^\top/\sqrt{d}`), ``eps = 1`` (the
    default everywhere) and uniform marginals :math:`\mu = \nu = \mathbf 1/n`, the dual potentials
    start at :math:`u = v = 0` and half-step :math:`i = 0, \dots, n_{it} - 1` is

    .. math::

        i \text{ even: } u_i \leftarrow \log\tfrac1n - \log\textstyle\sum_j e^{Z_{ij} + v_j},
        \qquad
        i \text{ odd: } v_j \leftarrow \log\tfrac1n - \log\textstyle\sum_i e^{Z_{ij} + u_i},

    (their update ``u = eps * (log(mu) - logsumexp(M(C, u, v))) + u`` with
    ``M = (Z + u_i + v_j) / eps``, in which :math:`u_i` cancels); the plan is
    :math:`\pi_{ij} = e^{Z_{ij} + u_i + v_j}` and the attention is :math:`A = n\,\pi`
    (``attn = attn * attn.shape[-1]``).

    Consequences: for odd ``n_it`` the last half-step normalises rows, so :math:`A` is exactly
    row-stochastic and its column sums carry the truncation error; ``n_it = 1`` is softmax
    attention (their README: "1 iteration in Sinkhorn corresponds to the original Transformer");
    even ``n_it`` ends on columns and gives a column-stochastic matrix. The authors train with
    ``n_it`` in {1, 3} for ViT (``vit-pytorch/run_expe.py``) and {1, 3, 5} for ModelNet 40
    (``set_transformer/run_expe.py``) :cite:p:`sander2022sinkformers`.

    Not transcribed: the early stop (their loop breaks when the summed change of :math:`u` in
    a row half-step, averaged over the batch, falls below ``thresh``: 1e-12 for ViT and IMDb,
    1e-2 for ModelNet). It can only fire right after a row half-step, so it never changes which
    marginal is exact; it stops earlier only when the matrix is already nearly balanced. Their
    computation runs in float32; this one in float64.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Real, finite similarity scores :math:`S`; leading axes are a batch.
    beta : float, default 1.0
        Inverse temperature :math:`\beta > 0` (their ``eps = 1`` and the :math:`1/\sqrt{d}`
        scaling are absorbed in it: :math:`\beta = 1/(\varepsilon\sqrt d)` for raw dot products).
    n_it : int, default 3
        Number of half-steps (their ``max_iter`` / ``n_it``), at least 1.

    Returns
    -------
    ndarray, shape (..., n, n)
        Positive matrices; row-stochastic for odd ``n_it``, column-stochastic for even ``n_it``.

    Raises
    ------
    TypeError
        If ``scores`` is not a real numeric array, ``beta`` not a real number or ``n_it`` not an
        integer.
    ValueError
        If ``scores`` is empty, non-finite or not square in its last two axes, if ``beta <= 0``,
        ``n_it < 1``, or if ``beta * scores`` overflows.

    See Also
    --------
    softmax_attention : ``n_it = 1``.
    sinkhorn_attention : the limit ``n_it -> infinity``, a doubly-stochastic matrix.

    Notes
    -----
    Used in :doc:`/book/18_case_sinkformers` (:prf:ref:`def-sinkformer-attention`,
    :prf:ref:`prop-sinkformer-halfsteps`) and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> S = np.array([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> A = homtrap.sinkformer_attention(S, beta=1.0, n_it=3)
    >>> np.round(A.sum(axis=1), 12).tolist()  # rows exact
    [1.0, 1.0, 1.0]
    >>> np.round(A.sum(axis=0), 3).tolist()  # columns only approximately one
    [1.085, 0.899, 1.016]
    >>> bool(np.allclose(homtrap.sinkformer_attention(S, n_it=1), homtrap.softmax_attention(S)))
    True
    """
    Z = _scaled_scores(scores, beta)
    n_it = check_int(n_it, "n_it", minimum=1)
    n = Z.shape[-1]
    log_marg = -np.log(n)
    u = np.zeros(Z.shape[:-1] + (1,))  # row potentials, as a column
    v = np.zeros(Z.shape[:-2] + (1, n))  # column potentials, as a row
    for i in range(n_it):
        if i % 2 == 0:
            u = log_marg - _logsumexp(Z + v, axis=-1)
        else:
            v = log_marg - _logsumexp(Z + u, axis=-2)
    return np.exp(Z + u + v + np.log(n))


def sinkhorn_attention(
    scores: ArrayLike, beta: float = 1.0, *, tol: float = 1e-12, max_iter: int = 10_000
) -> NDArray[np.float64]:
    r"""Converged (idealised) doubly-stochastic attention :math:`S(\exp(\beta S))`.

    The limit of :func:`sinkformer_attention` as ``n_it`` grows: :func:`homtrap.sinkhorn` applied
    to the logits :math:`\beta S` at temperature one, solved to ``tol``. This is the attention
    that Sinkformers approximate, not the one they compute with ``n_it`` in {1, 3, 5}.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Real, finite similarity scores :math:`S`; leading axes are a batch.
    beta : float, default 1.0
        Inverse temperature :math:`\beta > 0`.
    tol : float, default 1e-12
        Target for the largest deviation of a row or column sum from one (passed to
        :func:`homtrap.sinkhorn`).
    max_iter : int, default 10000
        Budget per matrix (passed to :func:`homtrap.sinkhorn`).

    Returns
    -------
    ndarray, shape (..., n, n)
        Doubly-stochastic matrices (row and column sums within ``tol`` of one); a
        :class:`homtrap.ConvergenceWarning` is issued if some matrix misses ``tol``.

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax_attention`, and on a bad ``tol`` or ``max_iter``.

    See Also
    --------
    sinkformer_attention : the truncated map that Sinkformers compute.
    homtrap.sinkhorn : the solver.

    Notes
    -----
    Used in :doc:`/book/18_case_sinkformers` and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> S = np.array([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> A = homtrap.sinkhorn_attention(S)
    >>> np.round(A.sum(axis=0), 9).tolist(), np.round(A.sum(axis=1), 9).tolist()
    ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    """
    Z = _scaled_scores(scores, beta)
    return sinkhorn(Z, 1.0, tol=tol, max_iter=max_iter)


def _draw_many(draw: Callable[[], NDArray[np.float64]], size: tuple[int, ...], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """``draw()`` repeated over ``size`` in C order (the order of nested list comprehensions)."""
    if not size:
        return draw()
    out = np.empty(size + shape)
    for index in np.ndindex(*size):
        out[index] = draw()
    return out


def clustered_tokens(
    n_tokens: int,
    dim: int,
    n_clusters: int,
    noise: float,
    *,
    size: int | tuple[int, ...] | None = None,
    rng: int | np.random.Generator | None = None,
) -> NDArray[np.float64]:
    r"""Random tokens in clusters: ``n_tokens`` rows of dimension ``dim`` around ``n_clusters`` Gaussian centres.

    The token model of :doc:`/book/18_case_sinkformers`: centres
    :math:`c_1, \dots, c_K \sim \mathcal N(0, I_d)` and, for token :math:`i` of cluster
    :math:`\lfloor iK/n \rfloor` (consecutive blocks of :math:`n/K` tokens),

    .. math:: x_i = c_{\lfloor iK/n \rfloor} + \tau\, g_i, \qquad g_i \sim \mathcal N(0, I_d),

    all independent. The tokens have a common mean (which doubly-stochastic attention
    passes unchanged) and a cluster structure (the detail that attention contracts).

    Parameters
    ----------
    n_tokens : int
        Number of tokens :math:`n \ge 1`, a multiple of ``n_clusters``.
    dim : int
        Token dimension :math:`d \ge 1`.
    n_clusters : int
        Number of clusters :math:`K \ge 1`.
    noise : float
        Within-cluster standard deviation :math:`\tau \ge 0`.
    size : int, tuple of int or None, default None
        Batch shape of independent instances; ``None`` for one instance.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator. Each instance draws the centres, then the noise; instances are
        drawn one after the other in C order, so ``size=(S,)`` equals ``S`` calls with the
        same generator.

    Returns
    -------
    ndarray, shape size + (n_tokens, dim)
        The token matrices :math:`X` (one token per row).

    Raises
    ------
    TypeError
        If an integer argument is not an integer, ``noise`` not a real number, ``size`` not
        an int or tuple of ints, or ``rng`` not a seed or generator.
    ValueError
        If ``n_tokens``, ``dim`` or ``n_clusters`` is below 1, ``n_tokens`` is not a multiple
        of ``n_clusters``, ``noise`` is negative or not finite, or ``size`` has a negative entry.

    See Also
    --------
    random_bilinear_form : the score form :math:`W` of :math:`S = XWX^\top`.
    bilinear_scores : the score matrix of these tokens.

    Notes
    -----
    The arithmetic and the order of the draws are those of the chapter's ``draw_tokens``.

    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    >>> import numpy as np
    >>> from homtrap._attention import clustered_tokens
    >>> X = clustered_tokens(400, 3, 2, 0.1, rng=0)
    >>> X.shape
    (400, 3)
    >>> np.round(X[:200].std(axis=0), 1).tolist()  # the first cluster: spread 0.1 about its centre
    [0.1, 0.1, 0.1]
    >>> clustered_tokens(8, 3, 2, 0.1, size=(5, 2), rng=0).shape
    (5, 2, 8, 3)
    """
    n = check_int(n_tokens, "n_tokens", minimum=1)
    d = check_int(dim, "dim", minimum=1)
    kc = check_int(n_clusters, "n_clusters", minimum=1)
    if n % kc:
        raise ValueError(f"n_tokens must be a multiple of n_clusters, got n_tokens={n} and n_clusters={kc}")
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a real number, got {type(noise).__name__}")
    tau = float(noise)
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {tau}")
    shape = as_batch_shape(size, minimum=0)
    gen = as_generator(rng)
    labels = np.repeat(np.arange(kc), n // kc)

    def draw() -> NDArray[np.float64]:
        centres = gen.standard_normal((kc, d))
        return centres[labels] + noise * gen.standard_normal((n, d))

    return _draw_many(draw, shape, (n, d))


def random_bilinear_form(
    dim: int, *, size: int | tuple[int, ...] | None = None, rng: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    r"""Random attention score form :math:`W = W_Q W_K^\top/\sqrt d` with Gaussian :math:`W_Q, W_K`.

    With queries :math:`XW_Q` and keys :math:`XW_K` the scaled dot-product scores are
    :math:`XW_QW_K^\top X^\top/\sqrt d = XWX^\top` (:prf:ref:`def-attention`). Here
    :math:`W_Q, W_K` have independent :math:`\mathcal N(0, 1/d)` entries (the usual
    :math:`1/\sqrt{\text{fan-in}}` initialisation), so that

    .. math:: W = \frac{W_Q W_K^\top}{\sqrt d}, \qquad \mathbb E\,W = 0, \qquad
              \mathbb E\,W_{ij}^2 = \frac{1}{d^2}.

    Parameters
    ----------
    dim : int
        Token dimension :math:`d \ge 1`.
    size : int, tuple of int or None, default None
        Batch shape (for example ``(instances, layers)``); ``None`` for one matrix.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator. Each matrix draws :math:`W_Q`, then :math:`W_K`; matrices are drawn
        one after the other in C order.

    Returns
    -------
    ndarray, shape size + (dim, dim)
        The forms :math:`W`.

    Raises
    ------
    TypeError
        If ``dim`` is not an integer, ``size`` not an int or tuple of ints, or ``rng`` not a
        seed or generator.
    ValueError
        If ``dim < 1`` or ``size`` has a negative entry.

    See Also
    --------
    bilinear_scores : the scores :math:`\beta XWX^\top`.
    attention_stack : a stack of attention layers with these forms.

    Notes
    -----
    The arithmetic and the order of the draws are those of the chapter's ``draw_bilinear``.

    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    The entries have mean 0 and variance :math:`1/d^2`:

    >>> import numpy as np
    >>> from homtrap._attention import random_bilinear_form
    >>> W = random_bilinear_form(8, size=4000, rng=0)
    >>> W.shape
    (4000, 8, 8)
    >>> bool(abs(W.mean()) < 0.01), bool(abs(W.var() * 8**2 - 1) < 0.05)
    (True, True)
    """
    d = check_int(dim, "dim", minimum=1)
    shape = as_batch_shape(size, minimum=0)
    gen = as_generator(rng)

    def draw() -> NDArray[np.float64]:
        w_q = gen.standard_normal((d, d)) / np.sqrt(d)
        w_k = gen.standard_normal((d, d)) / np.sqrt(d)
        return w_q @ w_k.T / np.sqrt(d)

    return _draw_many(draw, shape, (d, d))


def random_orthogonal(
    dim: int, *, size: int | tuple[int, ...] | None = None, rng: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    r"""Haar-random orthogonal matrices (the value maps of the chapter's attention stacks).

    The QR decomposition :math:`G = QR` of a Gaussian matrix, with the signs of the columns
    of :math:`Q` fixed by :math:`\operatorname{diag}(R) > 0`, gives :math:`Q` distributed by
    Haar measure on :math:`O(d)`. An orthogonal value map
    :math:`V` keeps the norms of the token dimension, so that any contraction of an attention
    layer :math:`X \mapsto AXV` comes from :math:`A` alone.

    Parameters
    ----------
    dim : int
        Dimension :math:`d \ge 1`.
    size : int, tuple of int or None, default None
        Batch shape; ``None`` for one matrix.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator; matrices are drawn one after the other in C order.

    Returns
    -------
    ndarray, shape size + (dim, dim)
        Orthogonal matrices :math:`Q` (:math:`Q^\top Q = I` to rounding).

    Raises
    ------
    TypeError
        If ``dim`` is not an integer, ``size`` not an int or tuple of ints, or ``rng`` not a
        seed or generator.
    ValueError
        If ``dim < 1`` or ``size`` has a negative entry.

    See Also
    --------
    random_bilinear_form : the score forms of the same stacks.
    attention_stack : where the value maps act.

    Notes
    -----
    The same law as ``scipy.stats.ortho_group``. The arithmetic and the order of the draws are
    those of the chapter's ``draw_value``.

    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    Orthogonal, and Haar-distributed: the trace has mean 0 and variance 1.

    >>> import numpy as np
    >>> from homtrap._attention import random_orthogonal
    >>> Q = random_orthogonal(4, size=4000, rng=0)
    >>> bool(np.allclose(Q @ Q.transpose(0, 2, 1), np.eye(4), atol=1e-12))
    True
    >>> tr = np.trace(Q, axis1=1, axis2=2)
    >>> bool(abs(tr.mean()) < 0.1 and abs(tr.var() - 1) < 0.1)
    True
    """
    d = check_int(dim, "dim", minimum=1)
    shape = as_batch_shape(size, minimum=0)
    gen = as_generator(rng)

    def draw() -> NDArray[np.float64]:
        q, r = np.linalg.qr(gen.standard_normal((d, d)))
        return q * np.sign(np.diag(r))

    return _draw_many(draw, shape, (d, d))


def _token_stack(x: ArrayLike, name: str) -> NDArray[np.float64]:
    X = as_real_array(x, name)
    if X.ndim < 2 or X.shape[-1] < 1 or X.shape[-2] < 1:
        raise ValueError(f"{name} must have shape (..., n, d) with n, d >= 1, got shape {X.shape}")
    return X


def bilinear_scores(x: ArrayLike, weight: ArrayLike, beta: float = 1.0) -> NDArray[np.float64]:
    r"""Attention logits :math:`G = \beta\,XWX^\top` of tokens :math:`X` under a score form :math:`W`.

    The entry :math:`G_{ij} = \beta\,\langle x_i, W x_j\rangle` is the scaled score of query
    token :math:`i` against key token :math:`j` (:prf:ref:`def-attention`); the attention maps
    of this module turn :math:`G` into an attention matrix.

    Parameters
    ----------
    x : array_like, shape (..., n, d)
        Tokens, one per row; leading axes are a batch.
    weight : array_like, shape (..., d, d)
        Score forms :math:`W`; leading axes broadcast against those of ``x``.
    beta : float, default 1.0
        Inverse temperature :math:`\beta > 0`.

    Returns
    -------
    ndarray, shape (..., n, n)
        The logits :math:`G`.

    Raises
    ------
    TypeError
        If ``x`` or ``weight`` is not real or ``beta`` not a real number.
    ValueError
        If ``x`` is not of shape ``(..., n, d)``, ``weight`` not ``(..., d, d)`` with the same
        ``d``, an entry is not finite, ``beta <= 0``, or the batch axes do not broadcast.

    See Also
    --------
    softmax_attention, sinkhorn_attention, sinkformer_attention : attention maps of :math:`G`.
    attention_stack : a stack of layers built on these logits.

    Notes
    -----
    Evaluated as ``beta * x @ weight @ swapaxes(x)``, left to right, the arithmetic of the
    chapter's ``run_stacks`` (the chapter's first-layer ``S0`` uses ``np.einsum``, which can
    differ in the last bits).

    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    >>> import numpy as np
    >>> from homtrap._attention import bilinear_scores
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> W = np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> bilinear_scores(X, W, beta=0.5).tolist()
    [[0.5, 1.0, 1.5], [0.0, 0.5, 0.5], [0.5, 1.5, 2.0]]
    >>> float(0.5 * X[0] @ W @ X[2])  # entry (0, 2) by hand
    1.5
    """
    X = _token_stack(x, "x")
    W = as_square_stack(weight, "weight")
    if W.shape[-1] != X.shape[-1]:
        raise ValueError(f"weight must be {X.shape[-1]}x{X.shape[-1]} for tokens of dimension {X.shape[-1]}, got shape {W.shape}")
    b = check_positive_scalar(beta, "beta")
    try:
        np.broadcast_shapes(X.shape[:-2], W.shape[:-2])
    except ValueError:
        raise ValueError(f"the batch axes of x {X.shape[:-2]} and weight {W.shape[:-2]} do not broadcast") from None
    return b * X @ W @ np.swapaxes(X, -1, -2)


class AttentionStack(NamedTuple):
    r"""The trajectory of :func:`attention_stack` (unpacks as ``states, attention``).

    Attributes
    ----------
    states : ndarray, shape (..., L + 1, n, d)
        The token matrices :math:`X_0, \dots, X_L`.
    attention : ndarray, shape (..., L, n, n)
        The attention matrices :math:`A_1, \dots, A_L` of the layers.

    See Also
    --------
    attention_stack : returns it.

    Notes
    -----
    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    >>> import numpy as np
    >>> from homtrap._attention import attention_stack
    >>> X0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> res = attention_stack(X0, np.zeros((1, 2, 2)), np.eye(2)[None])  # zero scores: A = J/n
    >>> np.round(res.attention[0], 6).tolist()[0], np.round(res.states[-1], 6).tolist()[0]
    ([0.333333, 0.333333, 0.333333], [0.666667, 0.666667])
    """

    #: the token matrices X_0, ..., X_L
    states: NDArray[np.float64]
    #: the attention matrices A_1, ..., A_L
    attention: NDArray[np.float64]


#: the attention maps of :func:`attention_stack`, by name (logits G -> attention matrix)
_ATTENTION_MAPS = ("softmax", "sinkhorn", "sinkformer")


def attention_stack(
    x0: ArrayLike,
    weights: ArrayLike,
    values: ArrayLike,
    attention: str | Callable[[NDArray[np.float64]], NDArray[np.float64]] = "softmax",
    beta: float = 1.0,
    *,
    skip: bool = False,
    n_it: int = 3,
) -> AttentionStack:
    r"""Run tokens through a stack of attention layers :math:`X_{\ell} = A_\ell X_{\ell-1} V_\ell` (plus :math:`X_{\ell-1}` with ``skip``).

    Layer :math:`\ell = 1, \dots, L` computes the logits
    :math:`G_\ell = \beta X_{\ell-1} W_\ell X_{\ell-1}^\top` (:func:`bilinear_scores`), the
    attention matrix :math:`A_\ell = \mathcal A(G_\ell)` and

    .. math:: X_\ell = A_\ell X_{\ell-1} V_\ell \quad\text{(pure attention)}, \qquad
              X_\ell = X_{\ell-1} + A_\ell X_{\ell-1} V_\ell \quad\text{(with the skip connection)}.

    For row-stochastic :math:`A_\ell` the detail :math:`PX_\ell` of a pure stack obeys
    :math:`\|PX_\ell\|_F \le \|PA_\ell P\|_2\,\|PX_{\ell-1}\|_F\,\|V_\ell\|_2`
    (:prf:ref:`prop-attn-detail-factor`).

    Parameters
    ----------
    x0 : array_like, shape (..., n, d)
        Input tokens, one per row; leading axes are a batch (instances).
    weights : array_like, shape (..., L, d, d)
        Score forms :math:`W_\ell` of ``L >= 1`` layers (:func:`random_bilinear_form`);
        leading axes broadcast against those of ``x0``.
    values : array_like, shape (..., L, d, d)
        Value maps :math:`V_\ell` (:func:`random_orthogonal`), the same ``L``.
    attention : {"softmax", "sinkhorn", "sinkformer"} or callable, default "softmax"
        The map :math:`\mathcal A` from logits to attention: :func:`softmax_attention`,
        :func:`sinkhorn_attention` (converged, tolerance 1e-12), :func:`sinkformer_attention`
        with ``n_it`` half-steps, or any callable taking the logits ``(..., n, n)``.
    beta : float, default 1.0
        Inverse temperature :math:`\beta > 0`.
    skip : bool, default False
        Add the skip connection :math:`X_{\ell-1}`.
    n_it : int, default 3
        Half-steps of ``attention="sinkformer"`` (ignored otherwise).

    Returns
    -------
    AttentionStack
        Named tuple ``(states, attention)`` of shapes ``(..., L + 1, n, d)`` and
        ``(..., L, n, n)``.

    Raises
    ------
    TypeError
        If an array is not real, ``beta`` not a real number, ``skip`` not a bool, ``n_it`` not
        an integer, or ``attention`` neither a name nor a callable.
    ValueError
        If the shapes do not match (``x0`` ``(..., n, d)``, ``weights`` and ``values``
        ``(..., L, d, d)`` with the same ``L >= 1``; batch axes must broadcast), an entry is not
        finite, ``beta <= 0``, ``n_it < 1``, or ``attention`` is an unknown name; and as the
        attention map raises (for example when the logits overflow).

    See Also
    --------
    homtrap.detail_factor : the per-layer factor :math:`\|PA_\ell P\|_2` of the returned
        attention matrices.
    homtrap.residual_stack : the residual stack with a fixed mixing matrix per layer.

    Notes
    -----
    Per layer the operations are those of the chapter's ``run_stacks``, in the same order:
    ``A = attention(beta * X @ W @ X^T)``, ``Y = A @ X @ V``, ``X = X + Y`` or ``Y``; the named
    maps are called with the logits and ``beta = 1``.

    Used in :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    A pure stack of four softmax layers on clustered tokens: the detail (the part of the tokens
    that differs between tokens) shrinks layer by layer, and never by less than the detail
    factor allows (until it reaches the rounding level, where the inexact row sums leak the
    mean into it).

    >>> import numpy as np, homtrap
    >>> from homtrap._attention import attention_stack, clustered_tokens, random_bilinear_form, random_orthogonal
    >>> gen = np.random.default_rng(0)
    >>> X0 = clustered_tokens(12, 4, 3, 0.5, rng=gen)
    >>> W, V = random_bilinear_form(4, size=4, rng=gen), random_orthogonal(4, size=4, rng=gen)
    >>> states, A = attention_stack(X0, W, V, "softmax", beta=1.0)
    >>> states.shape, A.shape
    ((5, 12, 4), (4, 12, 12))
    >>> r = np.linalg.norm(homtrap.detail(states.swapaxes(-1, -2)), axis=(-2, -1))  # ||P X_l||_F
    >>> np.round(r[:3] / r[0], 3).tolist(), bool(r[-1] < 1e-6 * r[0])
    ([1.0, 0.369, 0.025], True)
    >>> f = homtrap.detail_factor(A)
    >>> bool(np.all(r[1:4] <= f[:3] * r[:3] * (1 + 1e-9)))  # above the rounding level (r > 1e-10 r[0])
    True
    """
    X = _token_stack(x0, "x0")
    Ws = as_real_array(weights, "weights")
    Vs = as_real_array(values, "values")
    d = X.shape[-1]
    for name, arr in (("weights", Ws), ("values", Vs)):
        if arr.ndim < 3 or arr.shape[-2:] != (d, d):
            raise ValueError(f"{name} must have shape (..., L, {d}, {d}) for tokens of dimension {d}, got shape {arr.shape}")
    if Ws.shape[-3] != Vs.shape[-3]:
        raise ValueError(f"weights and values must have the same number of layers, got {Ws.shape[-3]} and {Vs.shape[-3]}")
    try:
        np.broadcast_shapes(X.shape[:-2], Ws.shape[:-3], Vs.shape[:-3])
    except ValueError:
        raise ValueError(
            f"the batch axes of x0 {X.shape[:-2]}, weights {Ws.shape[:-3]} and values {Vs.shape[:-3]} do not broadcast"
        ) from None
    b = check_positive_scalar(beta, "beta")
    if not isinstance(skip, (bool, np.bool_)):
        raise TypeError(f"skip must be a bool, got {type(skip).__name__}")
    if isinstance(attention, str):
        if attention not in _ATTENTION_MAPS:
            raise ValueError(f"attention must be one of {list(_ATTENTION_MAPS)} or a callable, got {attention!r}")
        if attention == "softmax":
            attend = softmax_attention
        elif attention == "sinkhorn":
            attend = sinkhorn_attention
        else:
            k = check_int(n_it, "n_it", minimum=1)

            def attend(G: NDArray[np.float64]) -> NDArray[np.float64]:
                return sinkformer_attention(G, 1.0, k)
    elif callable(attention):
        attend = attention
    else:
        raise TypeError(f"attention must be a name or a callable, got {type(attention).__name__}")
    states, mats = [X], []
    for ell in range(Ws.shape[-3]):
        W, V = Ws[..., ell, :, :], Vs[..., ell, :, :]
        A = attend(b * X @ W @ np.swapaxes(X, -1, -2))
        Y = A @ X @ V
        X = X + Y if skip else Y
        states.append(X)
        mats.append(A)
    return AttentionStack(np.stack(np.broadcast_arrays(*states), axis=-3), np.stack(np.broadcast_arrays(*mats), axis=-3))
