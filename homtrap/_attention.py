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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_square_stack, check_int, check_positive_scalar
from ._sinkhorn import sinkhorn

__all__ = ["sinkformer_attention", "sinkhorn_attention", "softmax_attention"]


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

    Notes
    -----
    The row maximum is subtracted before exponentiating, so any finite scores give a finite
    result. This is the first half-step of Sinkhorn's algorithm and equals
    ``sinkformer_attention(scores, beta, n_it=1)``.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> A = homtrap.softmax_attention(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]]))
    >>> np.round(A, 12).tolist()
    [[0.25, 0.75], [0.5, 0.5]]
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
    (``set_transformer/run_expe.py``).

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
