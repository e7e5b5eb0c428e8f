r"""The Birkhoff polytope :math:`\mathcal B_n` of doubly-stochastic matrices.

Its barycenter :math:`J/n` (:func:`homtrap.uniform_barycenter`); its vertices, the
permutation matrices (:func:`homtrap.permutation_matrix`), and the Birkhoff–von Neumann
decomposition into them :cite:p:`birkhoff1946` (:func:`homtrap.birkhoff_decomposition`);
membership (:func:`homtrap.marginal_error`, :func:`homtrap.is_doubly_stochastic`); the
entropy that Sinkhorn maximises (:func:`homtrap.entropy`); circulant members
(:func:`homtrap.circulant`); and how the book samples the polytope, Sinkhorn of Gaussian
logits (:func:`homtrap.random_logits`, :func:`homtrap.random_dsm`); two other families,
random Birkhoff mixtures of permutations with the free-probability prediction of their
:math:`\sigma_2` (:func:`homtrap.random_birkhoff_mixture`, :func:`homtrap.free_mixture_norm`,
:doc:`/book/20_open_questions`) and block-diagonal matrices (:func:`homtrap.block_diagonal`,
:doc:`/book/19_next_checks`).

Defined in :doc:`/book/01_dsm_detail_subspace`. Random members are drawn in nearly every
chapter; permutations and the decomposition return in :doc:`/book/02_maximum_entropy` and
:doc:`/book/04_low_temperature`, the entropy in :doc:`/book/04_low_temperature` and
:doc:`/book/05_figure1`, circulants in :doc:`/book/06_sigma2_vs_eigenvalues` and
:doc:`/book/09_non_normality`, and the marginal error wherever a layer is only approximately
doubly stochastic (:doc:`/book/09_non_normality`, :doc:`/book/17_case_mhc`,
:doc:`/book/21_diagnose`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import xlogy

from ._sinkhorn import sinkhorn
from ._sinkhorn_kernels import marginal_errors
from ._validation import as_batch_shape, as_generator, as_square_stack, as_vector_stack, check_int, check_positive_scalar, check_real_scalar

__all__ = [
    "BirkhoffDecomposition",
    "birkhoff_decomposition",
    "block_diagonal",
    "circulant",
    "circulant_eigenvalues",
    "entropy",
    "free_mixture_norm",
    "is_doubly_stochastic",
    "lazy_uniform_layer",
    "marginal_error",
    "permutation_matrix",
    "random_birkhoff_mixture",
    "random_dsm",
    "random_logits",
    "uniform_barycenter",
]


class BirkhoffDecomposition(NamedTuple):
    r"""A Birkhoff–von Neumann decomposition :math:`M = \sum_k w_k \Pi_{\pi_k}`.

    Returned by :func:`homtrap.birkhoff_decomposition`; unpacks as ``weights, permutations``.

    Attributes
    ----------
    weights : ndarray of float, shape (K,)
        Positive weights :math:`w_k`, summing to one.
    permutations : ndarray of int, shape (K, n)
        ``permutations[k][i]`` is :math:`\pi_k(i)`, the column of the one in row ``i`` of the
        k-th permutation matrix.

    See Also
    --------
    birkhoff_decomposition : Computes it.
    permutation_matrix : The matrix :math:`\Pi_{\pi_k}` of one row of ``permutations``.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = 0.5 * np.eye(2) + 0.5 * homtrap.permutation_matrix([1, 0])
    >>> d = homtrap.birkhoff_decomposition(M)
    >>> d.weights.tolist(), d.permutations.tolist()
    ([0.5, 0.5], [[0, 1], [1, 0]])
    >>> weights, permutations = d  # unpacks like a tuple
    """

    #: positive weights :math:`w_k`, summing to one, shape ``(k,)``
    weights: NDArray[np.float64]
    #: ``permutations[k][i]`` is the column of the one in row ``i`` of the k-th term, shape ``(k, n)``
    permutations: NDArray[np.int64]


def birkhoff_decomposition(M: ArrayLike, *, tol: float = 1e-12) -> BirkhoffDecomposition:
    r"""Greedy Birkhoff–von Neumann decomposition of a doubly-stochastic matrix.

    Writes :math:`M \in \mathcal B_n` as a convex combination of permutation matrices,

    .. math::

        M = \sum_{k=1}^{K} w_k \Pi_{\pi_k}, \qquad w_k > 0, \quad \sum_k w_k = 1,

    which exists by the Birkhoff–von Neumann theorem (:prf:ref:`thm-birkhoff-von-neumann`,
    :cite:p:`birkhoff1946`). Used in :doc:`/book/01_dsm_detail_subspace` and
    :doc:`/book/04_low_temperature` (the weight of the optimal assignment at low temperature).

    Parameters
    ----------
    M : array_like, shape (n, n)
        A single doubly-stochastic matrix: entries :math:`\ge -10^{-8}` and row and column
        sums within ``1e-8`` of one (no batch axes).
    tol : float, default 1e-12
        Remainder entries at or below ``tol`` are treated as zero; finite and ``> 0``.

    Returns
    -------
    BirkhoffDecomposition
        Named tuple ``(weights, permutations)``: ``weights`` of shape ``(K,)``, positive and
        summing to one up to ``tol``-sized rounding; ``permutations`` of shape ``(K, n)``
        (integers), ``permutations[k][i]`` the column of the one in row ``i`` of the k-th term.

    Raises
    ------
    ValueError
        If ``M`` is not a single square matrix (shape ``(n, n)``), holds NaN/inf, or is not
        doubly stochastic within ``1e-8``; if ``tol`` is not finite and positive.
    TypeError
        If ``M`` is not a real numeric array or ``tol`` is not a real number.

    See Also
    --------
    BirkhoffDecomposition : The named tuple returned.
    permutation_matrix : Turns one row of ``permutations`` into a matrix.
    is_doubly_stochastic : The membership test.

    Notes
    -----
    Greedy algorithm: at each step a permutation supported on the positive entries of the
    remainder :math:`R` is found with the assignment solver
    (``scipy.optimize.linear_sum_assignment``), maximising :math:`\sum_i \log R_{i\pi(i)}`,
    which keeps the chosen entries large; its weight is the smallest chosen entry, and that
    multiple of the permutation is subtracted. Each step zeroes at least one entry, so at most
    :math:`n^2 - 2n + 2` terms are produced (Marcus–Ree). The decomposition is not unique in
    general; this one is deterministic.

    Examples
    --------
    A mixture of the identity and the cyclic shift is recovered exactly:

    >>> import numpy as np, homtrap
    >>> M = 0.7 * np.eye(3) + 0.3 * homtrap.permutation_matrix([1, 2, 0])
    >>> w, perms = homtrap.birkhoff_decomposition(M)
    >>> print(np.round(w, 6), perms.tolist())
    [0.7 0.3] [[0, 1, 2], [1, 2, 0]]

    The terms sum back to a random member of the polytope, within the Marcus–Ree count:

    >>> D = homtrap.random_dsm(4, rng=0)
    >>> d = homtrap.birkhoff_decomposition(D)
    >>> R = sum(wk * homtrap.permutation_matrix(p) for wk, p in zip(d.weights, d.permutations))
    >>> bool(np.allclose(R, D, atol=1e-10)), len(d.weights) <= 4 * 4 - 2 * 4 + 2
    (True, True)
    """
    M = as_square_stack(M, "M")
    tol = check_positive_scalar(tol, "tol")
    if M.ndim != 2:
        raise ValueError(f"M must be a single matrix of shape (n, n), got shape {M.shape}")
    if M.min() < -1e-8 or marginal_error(M) > 1e-8:
        raise ValueError("M must be doubly stochastic (entries >= 0, row and column sums 1 within 1e-8)")
    n = M.shape[0]
    R = np.clip(M, 0.0, None)
    weights: list[float] = []
    perms: list[NDArray[np.int64]] = []
    rows = np.arange(n)
    for _ in range(n * n):
        if R.max() <= tol:
            break
        with np.errstate(divide="ignore"):
            cost = np.where(R > tol, -np.log(np.where(R > tol, R, 1.0)), 1e6)
        _, cols = linear_sum_assignment(cost)
        w = R[rows, cols].min()
        if w <= tol:  # no permutation left on the support: the remainder is rounding noise
            break
        weights.append(float(w))
        perms.append(cols.astype(np.int64))
        R[rows, cols] -= w
    return BirkhoffDecomposition(np.array(weights), np.array(perms, dtype=np.int64).reshape(-1, n))


def uniform_barycenter(n: int) -> NDArray[np.float64]:
    r"""The uniform barycenter :math:`J/n` of the Birkhoff polytope (every entry ``1/n``).

    :math:`J/n` is the centre of :math:`\mathcal B_n` (:prf:ref:`prop-birkhoff-centre`), the
    limit of Sinkhorn matrices as :math:`T \to \infty`, and the matrix every deep stack of
    contracting doubly-stochastic layers approaches. Used in :doc:`/book/01_dsm_detail_subspace`,
    :doc:`/book/02_maximum_entropy`, :doc:`/book/04_low_temperature` and
    :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.

    Returns
    -------
    ndarray of float, shape (n, n)
        The matrix with every entry ``1/n``.

    Raises
    ------
    ValueError
        If ``n < 1``.
    TypeError
        If ``n`` is not an integer.

    See Also
    --------
    centring_projector : :math:`P = I - J/n`.
    sigma2 : Is 0 exactly at :math:`J/n`.

    Examples
    --------
    >>> import homtrap
    >>> U = homtrap.uniform_barycenter(3)
    >>> print(U.round(4))
    [[0.3333 0.3333 0.3333]
     [0.3333 0.3333 0.3333]
     [0.3333 0.3333 0.3333]]
    >>> float(homtrap.sigma2(U)), bool(homtrap.is_doubly_stochastic(U))
    (0.0, True)
    """
    n = check_int(n, "n", minimum=1)
    return np.full((n, n), 1.0 / n)


def permutation_matrix(perm: ArrayLike) -> NDArray[np.float64]:
    r"""The permutation matrix :math:`\Pi_\pi`, with :math:`(\Pi_\pi)_{i\pi(i)} = 1`.

    Permutation matrices are the vertices of :math:`\mathcal B_n`
    (:prf:ref:`thm-birkhoff-von-neumann`), the :math:`T \to 0` limits of Sinkhorn matrices
    (:prf:ref:`thm-lowtemp-limit`), and the layers that preserve the detail exactly
    (:math:`\sigma_2 = 1`). Used in :doc:`/book/01_dsm_detail_subspace`,
    :doc:`/book/04_low_temperature` and many later chapters.

    Parameters
    ----------
    perm : array_like of int, shape (n,)
        A permutation of ``0, ..., n-1``: ``perm[i]`` is the column of the one in row ``i``.

    Returns
    -------
    ndarray of float, shape (n, n)
        :math:`\Pi_\pi`, with :math:`\Pi_\pi x = (x_{\pi(0)}, \dots, x_{\pi(n-1)})`.

    Raises
    ------
    ValueError
        If ``perm`` is not a non-empty 1-D integer array, or not a permutation of ``0..n-1``.

    See Also
    --------
    assignment_permutation : The permutation of the :math:`T \to 0` limit.
    birkhoff_decomposition : Writes a doubly-stochastic matrix as a mixture of these.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> Pi = homtrap.permutation_matrix([2, 0, 1])
    >>> print(Pi)
    [[0. 0. 1.]
     [1. 0. 0.]
     [0. 1. 0.]]
    >>> Pi @ np.array([10.0, 20.0, 30.0])
    array([30., 10., 20.])
    >>> float(homtrap.sigma2(Pi))  # a permutation keeps the whole detail
    1.0
    """
    p = np.asarray(perm)
    if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"perm must be a non-empty 1-D integer array, got {p!r}")
    n = p.size
    if not np.array_equal(np.sort(p), np.arange(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1}, got {p.tolist()}")
    P = np.zeros((n, n))
    P[np.arange(n), p] = 1.0
    return P


def marginal_error(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Largest deviation of a row or column sum from one, for each matrix.

    .. math::

        \operatorname{err}(M) = \max\bigl(\|M\mathbf 1 - \mathbf 1\|_\infty,\
        \|M^\top\mathbf 1 - \mathbf 1\|_\infty\bigr).

    It is 0 exactly for matrices with unit line sums, and the quantity every Sinkhorn solver's
    ``tol`` bounds. Used in :doc:`/book/01_dsm_detail_subspace`, :doc:`/book/09_non_normality`,
    :doc:`/book/14_proposition1`, :doc:`/book/17_case_mhc`, :doc:`/book/21_diagnose` and
    :doc:`/book/appendix_performance`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real square matrices, finite, any ``n >= 1``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        The error of each matrix (a scalar for a single matrix). Signs of entries are not
        checked: see :func:`homtrap.is_doubly_stochastic`.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    is_doubly_stochastic : Adds the sign check and a tolerance.
    truncated_sinkhorn : Layers whose rows sum to one only approximately.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> round(float(homtrap.marginal_error(np.array([[0.5, 0.5], [0.2, 0.8]]))), 6)  # column sums 0.7, 1.3
    0.3
    >>> M = homtrap.random_dsm(5, rng=0)
    >>> bool(homtrap.marginal_error(M) <= 1e-12)  # the solver's default tol
    True
    """
    M = as_square_stack(M, "M")
    return marginal_errors(M.reshape(-1, *M.shape[-2:])).reshape(M.shape[:-2])[()]


def is_doubly_stochastic(M: ArrayLike, *, atol: float = 1e-9) -> NDArray[np.bool_] | np.bool_:
    r"""Whether each matrix lies in the Birkhoff polytope, up to ``atol``.

    A matrix passes when every entry is :math:`\ge -\mathrm{atol}` and every row and column sum
    is within ``atol`` of one (:prf:ref:`def-birkhoff`). Used in
    :doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/07_contraction_across_layers`,
    :doc:`/book/11_theorem1` and :doc:`/book/20_open_questions`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Real square matrices, finite.
    atol : float, default 1e-9
        Absolute tolerance on the entries' signs and the line sums; finite and ``> 0``.

    Returns
    -------
    bool or ndarray of bool, shape (...)
        ``True`` where the matrix is doubly stochastic within ``atol`` (a numpy bool scalar for a
        single matrix).

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices or holds NaN/inf; if ``atol`` is not finite
        and positive.
    TypeError
        If ``M`` is not a real numeric array or ``atol`` is not a real number.

    See Also
    --------
    marginal_error : The line-sum error alone.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> A = np.array([[0.5, 0.5], [0.5, 0.5]])
    >>> B = np.array([[1.5, -0.5], [-0.5, 1.5]])  # unit line sums, negative entries
    >>> homtrap.is_doubly_stochastic(np.stack([A, B]))
    array([ True, False])
    >>> bool(homtrap.is_doubly_stochastic(homtrap.random_dsm(4, rng=0)))
    True
    """
    M = as_square_stack(M, "M")
    atol = check_positive_scalar(atol, "atol")
    nonneg = M.min(axis=(-2, -1)) >= -atol
    return nonneg & (marginal_error(M) <= atol)


def entropy(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Entropy :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}` of each matrix (with :math:`0\log 0 = 0`).

    The unnormalised entropy that Sinkhorn scaling maximises in the entropic objective
    :math:`\langle G, M\rangle + T\,H(M)` (:prf:ref:`def-maxent-objective`). On
    :math:`\mathcal B_n` it ranges from 0 (permutation matrices) to :math:`n\log n` (at
    :math:`J/n`). Used in :doc:`/book/01_dsm_detail_subspace`, :doc:`/book/04_low_temperature`,
    :doc:`/book/05_figure1` and :doc:`/book/20_open_questions`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Entrywise non-negative square matrices, finite.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`H(M)` in nats (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``M`` has a negative entry, is not a stack of square matrices, or holds NaN/inf.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    entropic_objective : :math:`\langle G, M\rangle + T\,H(M)`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> round(float(homtrap.entropy(homtrap.uniform_barycenter(4))), 6), round(float(4 * np.log(4)), 6)
    (5.545177, 5.545177)
    >>> float(homtrap.entropy(np.eye(4))) == 0.0  # a vertex: no entropy
    True
    """
    A = as_square_stack(M, "M")
    if np.any(A < 0):
        raise ValueError("M must be entrywise non-negative")
    return (-xlogy(A, A).sum(axis=(-2, -1)))[()]


def circulant_eigenvalues(c: ArrayLike) -> NDArray[np.complex128]:
    r"""Eigenvalues :math:`\hat c_k` of the circulant matrices with first rows ``c``, mode by mode.

    .. math::

        \hat c_k = \sum_{m=0}^{n-1} c_m\, e^{2\pi \mathrm i mk/n}, \qquad
        C f_k = \hat c_k f_k, \quad f_k = \bigl(e^{2\pi \mathrm i jk/n}\bigr)_{j=0}^{n-1},

    for :math:`C = ` :func:`homtrap.circulant` ``(c)``: every circulant is diagonalised by the
    Fourier modes, so :math:`L` layers multiply the :math:`k`-th Fourier coefficient of every input by
    :math:`\hat c_k^L`. For a probability vector ``c``, :math:`\hat c_0 = 1` and
    :math:`\sigma_2(C) = |\lambda_2(C)| = \max_{k \ne 0}|\hat c_k|`; :math:`C` is a low-pass filter
    exactly when :math:`|\hat c_k|` does not increase with the frequency :math:`\min(k, n - k)`
    (:prf:ref:`prop-circulant-filter`). Used in :doc:`/book/07_contraction_across_layers`.

    Parameters
    ----------
    c : array_like, shape (..., n)
        First rows, real and finite, ``n >= 1``; leading axes are batch axes.

    Returns
    -------
    ndarray of complex, shape (..., n)
        :math:`\hat c_k`, ``k = 0, ..., n-1``, the eigenvalue of the mode :math:`f_k`.

    Raises
    ------
    ValueError
        If ``c`` is a scalar or holds NaN/inf.
    TypeError
        If ``c`` is not a real numeric array.

    See Also
    --------
    circulant : The matrices themselves.

    Notes
    -----
    ``numpy.fft.fft`` uses the other sign in the exponent; for real ``c`` the result is its complex
    conjugate, which is how it is computed.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> c = np.array([0.6, 0.3, 0.0, 0.1])
    >>> c_hat = homtrap.circulant_eigenvalues(c)
    >>> print(np.round(c_hat[1], 3), np.abs(c_hat).round(4))  # c_0 + i c_1 - c_2 - i c_3; the moduli
    (0.6+0.2j) [1.     0.6325 0.2    0.6325]
    >>> F = np.exp(2j * np.pi * np.outer(np.arange(4), np.arange(4)) / 4)  # column k is f_k
    >>> bool(np.allclose(homtrap.circulant(c) @ F, F * c_hat))
    True
    >>> round(float(homtrap.sigma2(homtrap.circulant(c))), 6), round(float(np.abs(c_hat[1:]).max()), 6)
    (0.632456, 0.632456)
    """
    return np.conj(np.fft.fft(as_vector_stack(c, "c"), axis=-1))


def lazy_uniform_layer(n: int, s: float) -> NDArray[np.float64]:
    r"""The lazy uniform layer :math:`sI + (1 - s)J/n`, whose :math:`\sigma_2` is exactly :math:`|s|`.

    It keeps the mean and multiplies every detail by :math:`s`:
    :math:`(sI + (1 - s)J/n)\,x = \bar x\mathbf 1 + s\,x_\perp`. So :math:`\sigma_2 = |s|` and every
    product of :math:`L` copies leaves exactly :math:`|s|^L` of the detail: the example that
    attains the contraction bounds of Part III (:doc:`/book/08_effective_depth`). It is
    doubly stochastic exactly for :math:`-1/(n-1) \le s \le 1`. Also used in
    :doc:`/book/16_incompatibility` and :doc:`/book/21_diagnose`.

    Parameters
    ----------
    n : int
        Size, ``n >= 2``.
    s : float
        The detail factor, ``-1/(n-1) <= s <= 1``.

    Returns
    -------
    ndarray, shape (n, n)

    Raises
    ------
    ValueError
        If ``n < 2`` or ``s`` is outside ``[-1/(n-1), 1]`` (the matrix would have a negative
        entry) or not finite.
    TypeError
        If ``n`` is not an integer or ``s`` not a real number.

    See Also
    --------
    uniform_barycenter : :math:`J/n`, the case :math:`s = 0`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.lazy_uniform_layer(4, 0.5)
    >>> M[0].tolist()
    [0.625, 0.125, 0.125, 0.125]
    >>> round(float(homtrap.sigma2(M)), 12), bool(homtrap.is_doubly_stochastic(M))
    (0.5, True)
    """
    n = check_int(n, "n", minimum=2)
    s = check_real_scalar(s, "s")
    if not np.isfinite(s) or not -1 / (n - 1) <= s <= 1:
        raise ValueError(f"s must lie in [-1/(n-1), 1] = [{-1 / (n - 1):.6g}, 1] for the layer to be doubly stochastic, got {s}")
    return s * np.eye(n) + (1 - s) / n


def circulant(c: ArrayLike) -> NDArray[np.float64]:
    r"""Circulant matrices :math:`C_{ij} = c_{(j - i) \bmod n}` with first rows ``c``.

    Each row is the previous one shifted right by one. A circulant with non-negative entries
    summing to one is doubly stochastic and normal, so its :math:`\sigma_2` equals
    :math:`|\lambda_2|`, the second-largest modulus of the discrete Fourier transform of
    ``c``. Used in :doc:`/book/06_sigma2_vs_eigenvalues`,
    :doc:`/book/07_contraction_across_layers` (:prf:ref:`prop-circulant-filter`) and
    :doc:`/book/09_non_normality`.

    Parameters
    ----------
    c : array_like, shape (..., n)
        First rows, real and finite, ``n >= 1``; leading axes are batch axes.

    Returns
    -------
    ndarray of float, shape (..., n, n)
        The circulant matrices.

    Raises
    ------
    ValueError
        If ``c`` is a scalar or holds NaN/inf.
    TypeError
        If ``c`` is not a real numeric array.

    See Also
    --------
    lambda2 : Equals :func:`homtrap.sigma2` for a normal matrix such as a circulant.
    circulant_eigenvalues : The eigenvalues :math:`\hat c_k`, one per Fourier mode.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> C = homtrap.circulant([0.5, 0.3, 0.2])
    >>> print(C)
    [[0.5 0.3 0.2]
     [0.2 0.5 0.3]
     [0.3 0.2 0.5]]
    >>> dft = np.sort(np.abs(np.fft.fft([0.5, 0.3, 0.2])))[::-1]  # eigenvalue moduli of C
    >>> round(float(homtrap.sigma2(C)), 6), round(float(dft[1]), 6)
    (0.264575, 0.264575)
    """
    c = as_vector_stack(c, "c")
    n = c.shape[-1]
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return c[..., idx]


def block_diagonal(blocks: Sequence[ArrayLike]) -> NDArray[np.float64]:
    r"""The block-diagonal matrix :math:`\operatorname{blockdiag}(M_1, \dots, M_b)`, batched.

    Block :math:`i` occupies the consecutive rows and columns :math:`I_i`; every other entry is
    zero. If every :math:`M_i \in \mathcal B_{m_i}` then :math:`M \in \mathcal B_n`,
    :math:`n = \sum_i m_i`: a reducible doubly-stochastic matrix, with :math:`\sigma_2(M) = 1`
    for :math:`b \ge 2` blocks (:prf:ref:`def-nc-block`, :prf:ref:`prop-nc-block`). Used in
    :doc:`/book/19_next_checks`.

    Parameters
    ----------
    blocks : sequence of array_like, shapes (..., m_i, m_i)
        The square blocks, real and finite, with a common batch shape ``...``.

    Returns
    -------
    ndarray of float, shape (..., n, n)
        The block-diagonal matrices, ``n = sum(m_i)``.

    Raises
    ------
    ValueError
        If ``blocks`` is empty, a block is not a stack of square matrices or holds NaN/inf, or
        the batch shapes differ.
    TypeError
        If a block is not a real numeric array.

    See Also
    --------
    block_indicators : The block-mean directions such a matrix fixes.
    block_detail_basis : The within-block detail subspace it contracts.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.block_diagonal([np.full((2, 2), 0.5), np.eye(1)])
    >>> print(M)
    [[0.5 0.5 0. ]
     [0.5 0.5 0. ]
     [0.  0.  1. ]]
    >>> float(homtrap.sigma2(M))  # two blocks: the block means are never mixed
    1.0
    """
    if isinstance(blocks, np.ndarray) or not isinstance(blocks, Sequence) or len(blocks) == 0:
        raise ValueError("blocks must be a non-empty sequence (list or tuple) of square matrices")
    arrs = [as_square_stack(blk, f"blocks[{i}]") for i, blk in enumerate(blocks)]
    batch = arrs[0].shape[:-2]
    for i, blk in enumerate(arrs):
        if blk.shape[:-2] != batch:
            raise ValueError(
                f"blocks must share their batch shape: blocks[0] has {batch}, blocks[{i}] has {blk.shape[:-2]}"
            )
    sizes = [blk.shape[-1] for blk in arrs]
    out = np.zeros(batch + (sum(sizes), sum(sizes)))
    start = 0
    for blk, m in zip(arrs, sizes):
        out[..., start:start + m, start:start + m] = blk
        start += m
    return out


SizeLike = int | tuple[int, ...] | None


def random_logits(
    n: int,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
) -> NDArray[np.float64]:
    r"""I.i.d. Gaussian logits :math:`G_{ij} \sim \mathcal N(0, \mathrm{scale}^2)`, shape ``(*size, n, n)``.

    The book's random input: :func:`homtrap.random_dsm` passes them through Sinkhorn.
    Used in :doc:`/book/01_dsm_detail_subspace` and most chapters of Parts II and III.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    size : int or tuple of int, optional
        Batch shape (every entry ``>= 1``); ``None`` (default) gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator (Scientific Python SPEC 7); the same seed gives the same logits.
        ``None`` draws fresh entropy.
    scale : float, default 1.0
        Standard deviation :math:`s` of every logit; finite and ``> 0``.

    Returns
    -------
    ndarray of float, shape (\*size, n, n)
        The logits.

    Raises
    ------
    ValueError
        If ``n < 1``, an entry of ``size`` is ``< 1``, or ``scale`` is not finite and positive.
    TypeError
        If ``n`` or an entry of ``size`` is not an integer, ``size`` is not None, an int or a
        tuple, ``scale`` is not a real number, or ``rng`` is not None, an int or a Generator.

    See Also
    --------
    random_dsm : Sinkhorn of these logits.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(3, size=(2, 5), rng=0, scale=2.0)
    >>> G.shape
    (2, 5, 3, 3)
    >>> bool(np.array_equal(G, 2.0 * np.random.default_rng(0).standard_normal((2, 5, 3, 3))))
    True
    """
    n = check_int(n, "n", minimum=1)
    scale = check_positive_scalar(scale, "scale")
    shape = as_batch_shape(size) + (n, n)
    return as_generator(rng).standard_normal(shape) * scale


def random_dsm(
    n: int,
    temperature: float = 1.0,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
    tol: float = 1e-12,
) -> NDArray[np.float64]:
    r"""Random doubly-stochastic matrices :math:`M_T = S(\exp(G/T))` of Gaussian logits.

    The book's random members of :math:`\mathcal B_n`: logits
    :math:`G_{ij} \sim \mathcal N(0, \mathrm{scale}^2)` i.i.d., scaled to be doubly stochastic
    by Sinkhorn at temperature :math:`T` (:prf:ref:`def-sinkhorn`),

    .. math::

        M_T = S\bigl(\exp(G/T)\bigr) = \operatorname{diag}(a)\,\exp(G/T)\,\operatorname{diag}(b)
        \in \mathcal B_n .

    High temperature pushes :math:`M_T` towards :math:`J/n` (:math:`\sigma_2 \approx 2/(T\sqrt
    n)` for ``scale = 1``), low temperature towards a permutation matrix. Defined in
    :doc:`/book/01_dsm_detail_subspace` and drawn in most chapters (e.g.
    :doc:`/book/07_contraction_across_layers`, :doc:`/book/08_effective_depth`).

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    temperature : float, default 1.0
        Sinkhorn temperature :math:`T`; finite and ``> 0``.
    size : int or tuple of int, optional
        Batch shape; ``None`` (default) gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator; ``random_dsm(n, T, size=s, rng=k)`` equals
        ``sinkhorn(random_logits(n, size=s, rng=k), T)``.
    scale : float, default 1.0
        Standard deviation of the logits; finite and ``> 0`` (only ``scale / T`` matters).
    tol : float, default 1e-12
        Sinkhorn tolerance on the row and column sums; finite and ``> 0``.

    Returns
    -------
    ndarray of float, shape (\*size, n, n)
        Doubly-stochastic matrices (row and column sums within ``tol`` of one).

    Raises
    ------
    ValueError
        If ``n``, ``size``, ``temperature``, ``scale`` or ``tol`` is out of range (see
        :func:`homtrap.random_logits` and :func:`homtrap.sinkhorn`).
    TypeError
        If an argument has the wrong type (see :func:`homtrap.random_logits`).

    Warns
    -----
    ConvergenceWarning
        If Sinkhorn cannot reach ``tol`` for some matrix (see :func:`homtrap.sinkhorn`).

    See Also
    --------
    random_logits : The logits alone.
    sinkhorn : The scaling.
    sigma2 : The contraction factor of the result on the detail subspace.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(4, 1.0, size=3, rng=0)
    >>> M.shape, bool(homtrap.is_doubly_stochastic(M).all())
    ((3, 4, 4), True)

    At high temperature :math:`\sigma_2` is close to the law :math:`2/(T\sqrt n)`:

    >>> M = homtrap.random_dsm(64, 20.0, size=50, rng=0)
    >>> s = homtrap.sigma2(M)
    >>> print(f"{s.mean():.4f} vs {2 / (20.0 * np.sqrt(64)):.4f}")
    0.0121 vs 0.0125
    """
    T = check_positive_scalar(temperature, "temperature")
    G = random_logits(n, size=size, rng=rng, scale=scale)
    return sinkhorn(G, T, tol=tol)


def random_birkhoff_mixture(
    n: int,
    k: int,
    *,
    size: SizeLike = None,
    alpha: float = 1.0,
    rng: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    r"""Random Birkhoff mixtures :math:`M = \sum_{j=1}^k w_j \Pi_{\pi_j}` (:prf:ref:`def-oq-families`).

    The permutations :math:`\pi_1, \dots, \pi_k` are independent and uniform on the permutations
    of :math:`\{0, \dots, n-1\}`, the weights :math:`w \sim \mathrm{Dirichlet}(\alpha, \dots, \alpha)`
    independent of them. Every mixture is doubly stochastic exactly (up to the rounding of the
    weights' sum), whatever its :math:`\sigma_2` (:prf:ref:`prop-oq-birkhoff`). Used in
    :doc:`/book/20_open_questions`.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    k : int
        Number of permutations, ``k >= 1``.
    size : int, tuple of int or None, default None
        Batch shape; ``None`` for one mixture.
    alpha : float, default 1.0
        Concentration of the Dirichlet weights, ``> 0`` (``1``: uniform on the simplex).
    rng : int, numpy.random.Generator or None, optional
        Seed or generator. All weights are drawn first (``rng.dirichlet``), then all
        permutations (``rng.permuted`` of ``arange(n)`` rows).

    Returns
    -------
    matrices : ndarray of float, shape size + (n, n)
        The mixtures :math:`M`.
    weights : ndarray of float, shape size + (k,)
        The weights :math:`w`.
    permutations : ndarray of int, shape size + (k, n)
        ``permutations[..., j, i]`` is :math:`\pi_j(i)`, the column of the one in row ``i`` of
        :math:`\Pi_{\pi_j}` (the convention of :func:`homtrap.permutation_matrix`).

    Raises
    ------
    TypeError
        If ``n`` or ``k`` is not an integer, ``alpha`` not a real number, ``size`` not an int or
        tuple of ints, or ``rng`` not a seed or generator.
    ValueError
        If ``n < 1``, ``k < 1``, ``alpha <= 0`` or ``size`` has an entry ``< 1``.

    See Also
    --------
    free_mixture_norm : The free-probability prediction of :math:`\sigma_2` for large ``n``.
    birkhoff_decomposition : The converse: a doubly-stochastic matrix as a mixture.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M, w, perms = homtrap.random_birkhoff_mixture(5, 3, size=2, rng=0)
    >>> M.shape, w.shape, perms.shape
    ((2, 5, 5), (2, 3), (2, 3, 5))
    >>> rebuilt = sum(w[0, j] * homtrap.permutation_matrix(perms[0, j]) for j in range(3))
    >>> bool(np.allclose(M[0], rebuilt, rtol=0, atol=1e-15))
    True
    >>> bool(homtrap.is_doubly_stochastic(M).all())
    True
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(k, "k", minimum=1)
    alpha = check_positive_scalar(alpha, "alpha")
    shape = as_batch_shape(size)
    gen = as_generator(rng)
    count = int(np.prod(shape))
    W = gen.dirichlet(np.full(k, alpha), size=count)
    perms = gen.permuted(np.tile(np.arange(n), (count, k, 1)), axis=-1)
    M = np.zeros((count, n, n))
    rows, draws = np.arange(n)[None, :], np.arange(count)[:, None]
    for j in range(k):  # Pi_j[i, perms[j, i]] = 1, without forming the k matrices
        M[draws, rows, perms[:, j]] += W[:, j, None]
    return M.reshape(*shape, n, n), W.reshape(*shape, k), perms.reshape(*shape, k, n)


def free_mixture_norm(weights: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The Akemann–Ostrand norm :math:`\|\sum_j w_j u_j\|` of free Haar unitaries :math:`u_j`.

    For weights :math:`w_1, \dots, w_k \ge 0` (:prf:ref:`rem-oq-free`),

    .. math::

        \Bigl\|\sum_{j=1}^k w_j u_j\Bigr\| = \min_{t \ge 0}
        \Bigl\{2t + \sum_{j=1}^k \bigl(\sqrt{t^2 + w_j^2} - t\bigr)\Bigr\},

    which is :math:`2\sqrt{k-1}/k` for equal weights :math:`1/k` and :math:`1` for
    :math:`k = 2`. Random permutation matrices restricted to :math:`V_\perp` are asymptotically
    free Haar unitaries, so this is the large-:math:`n` prediction of :math:`\sigma_2` of the
    Birkhoff mixture :math:`\sum_j w_j \Pi_{\pi_j}` (:func:`homtrap.random_birkhoff_mixture`), a
    prediction the book tests but does not prove. Used in :doc:`/book/20_open_questions`.

    Parameters
    ----------
    weights : array_like, shape (..., k)
        Non-negative weights with :math:`\sum_j w_j \le 1` (e.g. points of the probability
        simplex); leading axes are batch axes.

    Returns
    -------
    float or ndarray of float, shape (...)
        The norm for each row of weights.

    Raises
    ------
    ValueError
        If ``weights`` is a scalar, holds NaN/inf or a negative entry, or a row sums to more
        than one (beyond rounding, ``1e-9``).
    TypeError
        If ``weights`` is not a real numeric array.

    See Also
    --------
    random_birkhoff_mixture : The mixtures whose :math:`\sigma_2` this predicts.

    Notes
    -----
    The objective is convex in :math:`t`; golden-section search (80 steps) on :math:`[0, 1]`,
    then the smaller of the value there and at :math:`t = 0`. The minimiser lies in
    :math:`[0, 1]` when :math:`\sum_j w_j \le 1`: the derivative is
    :math:`2 - \sum_j (1 - t/\sqrt{t^2 + w_j^2}) \ge 2 - \sum_j w_j^2/(2t^2) > 0` for
    :math:`t \ge 1`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> round(float(homtrap.free_mixture_norm([0.3, 0.7])), 12)  # k = 2: always 1
    1.0
    >>> w = np.full(8, 1 / 8)
    >>> bool(abs(homtrap.free_mixture_norm(w) - 2 * np.sqrt(7) / 8) < 1e-12)  # equal weights
    True
    >>> M, w, _ = homtrap.random_birkhoff_mixture(400, 8, size=5, rng=0)  # large n: close to sigma_2
    >>> bool(np.abs(homtrap.sigma2(M) - homtrap.free_mixture_norm(w)).max() < 0.1)
    True
    """
    w = as_vector_stack(weights, "weights")
    if w.min() < 0:
        raise ValueError(f"weights must be non-negative, got minimum {w.min()}")
    if w.sum(axis=-1).max() > 1 + 1e-9:
        raise ValueError(f"weights must sum to at most 1 along the last axis, got a sum of {w.sum(axis=-1).max()}")
    W = w.reshape(-1, w.shape[-1])
    f = lambda t: (2 - W.shape[-1]) * t + np.sqrt(t[:, None] ** 2 + W**2).sum(axis=-1)  # noqa: E731
    lo, hi, gr = np.zeros(len(W)), np.ones(len(W)), (np.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - gr * (hi - lo), lo + gr * (hi - lo)
        left = f(a) <= f(b)
        lo, hi = np.where(left, lo, a), np.where(left, b, hi)
    out = np.minimum(f(0.5 * (lo + hi)), f(np.zeros(len(W)))).reshape(w.shape[:-1])
    return out if out.ndim else out[()]
