r"""The temperature axis: sweeps of :math:`\sigma_2(M_T)`, the high- and low-temperature limits.

:func:`homtrap.sigma2_sweep` samples :math:`\sigma_2(M_T)`, :math:`M_T = S(\exp(G/T))`, over a
grid of temperatures (:class:`homtrap.TemperatureSweep`); :func:`homtrap.first_order_sigma2`
is the high-temperature law :math:`\|PGP\|_2/(nT)`; :func:`homtrap.assignment_permutation` and
:func:`homtrap.assignment_gap` describe the :math:`T \to 0` limit, and
:func:`homtrap.off_permutation_max` how close a matrix has come to it; and
:func:`homtrap.entropic_objective` is the objective that :math:`M_T` maximises.

Used in Part II (:doc:`/book/02_maximum_entropy`, :doc:`/book/03_high_temperature`,
:doc:`/book/04_low_temperature`, :doc:`/book/05_figure1`) and again in
:doc:`/book/06_sigma2_vs_eigenvalues`, :doc:`/book/08_effective_depth`,
:doc:`/book/19_next_checks`, :doc:`/book/21_diagnose` and :doc:`/book/22_tradeoff_map`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ._validation import as_generator, as_real_array, as_square_stack, check_int, check_positive_scalar, renamed_arguments
from ._birkhoff import entropy, random_logits
from ._sinkhorn import ConvergenceError, scaling_system, sinkhorn_solve
from ._spectra import sigma2
from ._detail import double_centre

__all__ = [
    "TemperatureSweep",
    "assignment_gap",
    "assignment_permutation",
    "crossing_temperature",
    "entropic_objective",
    "first_order_sigma2",
    "off_permutation_max",
    "oscillation",
    "sigma2_derivative",
    "sigma2_sweep",
]


@dataclass(frozen=True)
class TemperatureSweep:
    r"""Samples of :math:`\sigma_2(M_T)` over a grid of temperatures, from :func:`homtrap.sigma2_sweep`.

    Frozen dataclass; ``sweep.sigma2[i]`` holds the samples at ``sweep.temperatures[i]``.

    Attributes
    ----------
    n : int
        Matrix size.
    temperatures : ndarray of float, shape (k,)
        The grid, in the order given.
    sigma2 : ndarray of float, shape (k, size)
        ``sigma2[i, j]`` is :math:`\sigma_2(S(\exp(G_j / T_i)))`.
    iterations : ndarray of int, shape (k, size)
        Solver work per matrix (Sinkhorn sweeps plus Newton steps).
    max_marginal_error : float
        Worst row or column sum error over all matrices of the sweep.
    common_logits : bool
        Whether the same logits ``G_j`` were used at every temperature.

    See Also
    --------
    sigma2_sweep : Builds it.

    Examples
    --------
    >>> import homtrap
    >>> sweep = homtrap.sigma2_sweep(6, [1.0, 8.0], 10, rng=0)
    >>> sweep.temperatures, sweep.sigma2.shape, sweep.common_logits
    (array([1., 8.]), (2, 10), True)
    >>> int(sweep.iterations.min()) >= 1, bool(sweep.max_marginal_error <= 1e-10)
    (True, True)
    """

    n: int
    temperatures: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    iterations: NDArray[np.int64]
    max_marginal_error: float
    common_logits: bool

    def mean(self) -> NDArray[np.float64]:
        r"""Compute the mean of :math:`\sigma_2` at each temperature.

        Returns
        -------
        ndarray of float, shape (k,)
            ``sigma2.mean(axis=1)``.

        Examples
        --------
        >>> import homtrap
        >>> sweep = homtrap.sigma2_sweep(8, [0.5, 4.0], 20, rng=0)
        >>> sweep.mean().round(4)
        array([0.7103, 0.1332])
        """
        return self.sigma2.mean(axis=1)

    def quantile(self, q: ArrayLike) -> NDArray[np.float64]:
        r"""Compute quantiles of :math:`\sigma_2` at each temperature.

        Parameters
        ----------
        q : array_like of float
            Quantile level(s) in :math:`[0, 1]`, a scalar or a 1-D array.

        Returns
        -------
        ndarray of float, shape (k,) or (len(q), k)
            ``numpy.quantile(sigma2, q, axis=1)``: shape ``(k,)`` for a scalar ``q``.

        Raises
        ------
        ValueError
            If a level is outside :math:`[0, 1]` (from ``numpy.quantile``).

        Examples
        --------
        >>> import homtrap
        >>> sweep = homtrap.sigma2_sweep(8, [0.5, 4.0], 20, rng=0)
        >>> sweep.quantile(0.5).shape, sweep.quantile([0.1, 0.9]).shape
        ((2,), (2, 2))
        """
        return np.quantile(self.sigma2, q, axis=1)


def crossing_temperature(temperatures: ArrayLike, values: ArrayLike, level: float) -> float:
    r"""The temperature at which a decreasing curve, sampled on a grid, crosses ``level``.

    For samples :math:`m_i = m(T_i)` on an increasing grid :math:`T_1 < \dots < T_N`, the crossing
    is the single index :math:`i` with :math:`m_i \ge \text{level} > m_{i+1}`, and the curve is
    interpolated linearly in :math:`\log T` between :math:`T_i` and :math:`T_{i+1}`:

    .. math::

        T_\times = \exp\bigl(\log T_i + t\,(\log T_{i+1} - \log T_i)\bigr), \qquad
        t = \frac{m_i - \text{level}}{m_i - m_{i+1}} \in [0, 1) .

    Used for the half-way temperature of :math:`\mathbb E\sigma_2(M_T)` in
    :doc:`/book/05_figure1` and for the frozen and trapped temperatures of
    :doc:`/book/22_tradeoff_map`. A grid scaled by :math:`c` moves the crossing by :math:`c`.

    Parameters
    ----------
    temperatures : array_like, shape (N,)
        The grid :math:`T_i`: finite, ``> 0`` and strictly increasing, ``N >= 2``.
    values : array_like, shape (N,)
        The curve on the grid, finite.
    level : float
        The level to cross, finite.

    Returns
    -------
    float
        :math:`T_\times \in [T_i, T_{i+1})`.

    Raises
    ------
    ValueError
        If the grid is not finite, positive and strictly increasing, the shapes differ, or the
        curve does not cross ``level`` downward exactly once on the grid (the crossing would be
        ambiguous, or outside the grid).
    TypeError
        If an argument is not real.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> T = np.geomspace(0.1, 10.0, 21)
    >>> m = 1 / (1 + T)  # crosses 1/2 at T = 1, a grid point
    >>> round(homtrap.crossing_temperature(T, m, 0.5), 12)
    1.0
    >>> round(homtrap.crossing_temperature(T, -np.log(T), 0.0), 12)  # linear in log T: exact
    1.0
    >>> homtrap.crossing_temperature(T, m, 2.0)
    Traceback (most recent call last):
    ...
    ValueError: values must cross level=2.0 downward exactly once on the grid, crossed 0 times
    """
    T = as_real_array(temperatures, "temperatures")
    m = as_real_array(values, "values")
    if T.ndim != 1 or T.size < 2:
        raise ValueError(f"temperatures must be 1-D with at least 2 entries, got shape {T.shape}")
    if m.shape != T.shape:
        raise ValueError(f"values must have the shape of temperatures {T.shape}, got {m.shape}")
    if np.any(T <= 0) or np.any(np.diff(T) <= 0):
        raise ValueError("temperatures must be > 0 and strictly increasing")
    lv = as_real_array(level, "level")
    if lv.ndim != 0:
        raise ValueError(f"level must be a scalar, got shape {lv.shape}")
    lv = float(lv)
    idx = np.flatnonzero((m[:-1] >= lv) & (m[1:] < lv))
    if idx.size != 1:
        raise ValueError(f"values must cross level={lv} downward exactly once on the grid, crossed {idx.size} times")
    i = int(idx[0])
    t = (m[i] - lv) / (m[i] - m[i + 1])
    return float(np.exp(np.log(T[i]) + t * (np.log(T[i + 1]) - np.log(T[i]))))


@renamed_arguments(trials="size")
def sigma2_sweep(
    n: int,
    temperatures: ArrayLike,
    size: int,
    *,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
    common_logits: bool = True,
    tol: float = 1e-10,
) -> TemperatureSweep:
    r"""Sample :math:`\sigma_2(M_T)` for Gaussian logits over a grid of temperatures.

    For ``size`` logit matrices :math:`G_j` with i.i.d. :math:`\mathcal N(0, \mathrm{scale}^2)`
    entries, computes :math:`\sigma_2(M_T)`, :math:`M_T = S(\exp(G_j/T))`, at every temperature of
    the grid with the converged solver :func:`homtrap.sinkhorn_solve`. :math:`\sigma_2` falls from
    near 1 at low temperature to :math:`\approx 2/(T\sqrt n)` at high temperature
    (:prf:ref:`thm-hightemp`). Used in :doc:`/book/03_high_temperature`,
    :doc:`/book/05_figure1`, :doc:`/book/08_effective_depth`, :doc:`/book/19_next_checks` and
    :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 2``.
    temperatures : array_like, shape (k,)
        Positive, finite temperatures (flattened to 1-D).
    size : int
        Matrices per temperature, ``>= 1``. The old keyword ``trials=`` still works and warns with a
        :class:`DeprecationWarning`.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator for the logits.
    scale : float, default 1.0
        Standard deviation of the logits; finite and ``> 0``.
    common_logits : bool, default True
        Use the same ``size`` logit matrices at every temperature (common random numbers:
        curves are smooth and pathwise monotonicity can be checked); otherwise draw fresh
        logits per temperature.
    tol : float, default 1e-10
        Sinkhorn tolerance on the row and column sums; finite and ``> 0``.

    Returns
    -------
    TemperatureSweep
        With ``sigma2`` and ``iterations`` of shape ``(k, size)``.

    Raises
    ------
    ValueError
        If ``n < 2``, ``size < 1``, a temperature is not positive or not finite, or ``scale`` or
        ``tol`` is out of range.
    TypeError
        If ``n`` or ``size`` is not an integer, or another argument has the wrong type.
    ConvergenceError
        If Sinkhorn misses ``tol`` for some matrix (the message names the temperature).

    See Also
    --------
    TemperatureSweep : The result.
    first_order_sigma2 : The high-temperature prediction for given logits.
    random_dsm : One temperature, returning the matrices.

    Examples
    --------
    The mean :math:`\sigma_2` falls with temperature:

    >>> import numpy as np, homtrap
    >>> sweep = homtrap.sigma2_sweep(8, [0.5, 1.0, 4.0], 20, rng=0)
    >>> sweep.sigma2.shape
    (3, 20)
    >>> sweep.mean().round(4)
    array([0.7103, 0.4655, 0.1332])
    >>> bool(sweep.max_marginal_error <= 1e-10), bool(np.all(np.diff(sweep.sigma2, axis=0) < 0))
    (True, True)
    """
    n = check_int(n, "n", minimum=2)
    size = check_int(size, "size", minimum=1)
    Ts = as_real_array(temperatures, "temperatures").reshape(-1)
    if np.any(Ts <= 0):
        raise ValueError(f"temperatures must be > 0, got min {Ts.min()}")
    gen = as_generator(rng)
    G = random_logits(n, size=size, rng=gen, scale=scale)
    s2 = np.empty((Ts.size, size))
    it = np.empty((Ts.size, size), dtype=np.int64)
    worst = 0.0
    for i, T in enumerate(Ts):
        if not common_logits and i > 0:
            G = random_logits(n, size=size, rng=gen, scale=scale)
        res = sinkhorn_solve(G, float(T), tol=tol)
        if not res.all_converged:
            raise ConvergenceError(f"Sinkhorn missed tol={tol} at T={T}: error {res.marginal_error.max():.3g}")
        s2[i] = sigma2(res.matrix, assume_doubly_stochastic=True)
        it[i] = res.iterations
        worst = max(worst, float(res.marginal_error.max()))
    return TemperatureSweep(n, Ts, s2, it, worst, common_logits)


def first_order_sigma2(logits: ArrayLike, temperature: float) -> NDArray[np.float64] | np.float64:
    r"""High-temperature prediction :math:`\|PGP\|_2 / (nT)` of :math:`\sigma_2(M_T)`.

    From the expansion :math:`M_T = J/n + PGP/(nT) + O(T^{-2})` and Lemma 2
    (:prf:ref:`thm-hightemp`, item 3),

    .. math::

        \sigma_2(M_T) = \frac{\|PGP\|_2}{nT} + O(T^{-2}) \qquad (T \to \infty).

    Used in :doc:`/book/03_high_temperature`, :doc:`/book/05_figure1`,
    :doc:`/book/06_sigma2_vs_eigenvalues` and :doc:`/book/08_effective_depth`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`, ``n >= 2``.
    temperature : float
        Temperature :math:`T`; finite and ``> 0``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        The prediction for each logit matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf, or if
        ``temperature`` is not finite and positive.
    TypeError
        If ``logits`` is not a real numeric array or ``temperature`` not a real number.

    See Also
    --------
    double_centre : :math:`PGP`.
    sigma2_sweep : Measured :math:`\sigma_2(M_T)` over temperatures.

    Examples
    --------
    At :math:`T = 50` the prediction matches the Sinkhorn matrix to a relative :math:`10^{-3}`:

    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(6, rng=0)
    >>> pred = homtrap.first_order_sigma2(G, 50.0)
    >>> exact = homtrap.sigma2(homtrap.sinkhorn(G, 50.0))
    >>> print(f"{pred:.5f} {exact:.5f}")
    0.00992 0.00991
    >>> bool(abs(pred - exact) < 1e-3 * exact)
    True
    """
    G = as_square_stack(logits, "logits", min_n=2)
    T = check_positive_scalar(temperature, "temperature")
    n = G.shape[-1]
    return np.linalg.svd(double_centre(G), compute_uv=False)[..., 0] / (n * T)


def oscillation(logits: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Oscillation :math:`\operatorname{osc}(G)`: the largest cross-difference of the logits.

    .. math::

        \operatorname{osc}(G) = \max_{i,j,k,l}\,\bigl(G_{ij} + G_{kl} - G_{il} - G_{kj}\bigr)
        = \max_{i,k}\Bigl[\max_j (G_{ij} - G_{kj}) + \max_l (G_{kl} - G_{il})\Bigr] \;\ge 0 .

    The cross-differences are the gauge-invariant combinations of the logits, so
    :math:`\operatorname{osc}(G) = \operatorname{osc}(PGP) \le 4\max_{ij}|G_{ij}|`, with equality to
    zero exactly when :math:`PGP = 0`. With :math:`\omega = \operatorname{osc}(G)/T` it bounds the
    Sinkhorn matrix entry by entry, :math:`e^{-\omega} \le n(M_T)_{ij} \le e^{\omega}`, and
    :math:`\sigma_2(M_T) \le \|M_T - J/n\|_F \le e^{\omega} - 1` at every temperature
    (:prf:ref:`lem-crossratio`). Used in :doc:`/book/03_high_temperature`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\operatorname{osc}(G) \ge 0` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``logits`` is not a real numeric array.

    See Also
    --------
    double_centre : :math:`PGP`, which has the same oscillation.
    first_order_sigma2 : The high-temperature law, sharper when :math:`T` is large.

    Notes
    -----
    Computed as in the second form above, :math:`O(n^3)` operations and memory per matrix: the
    inner maxima form the matrix :math:`D_{ik} = \max_j (G_{ij} - G_{kj})`, and
    :math:`\operatorname{osc}(G) = \max_{i,k}(D + D^\top)_{ik}`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> float(homtrap.oscillation(G))  # G_00 + G_11 - G_01 - G_10
    2.0
    >>> G = homtrap.random_logits(5, rng=0)
    >>> bool(np.isclose(homtrap.oscillation(G), homtrap.oscillation(homtrap.double_centre(G))))
    True
    >>> M = homtrap.sinkhorn(G, 3.0)  # the entrywise bound of the lemma
    >>> omega = homtrap.oscillation(G) / 3.0
    >>> bool(np.all(np.exp(-omega) <= 5 * M) and np.all(5 * M <= np.exp(omega)))
    True
    """
    G = as_square_stack(logits, "logits")
    diff = (G[..., :, None, :] - G[..., None, :, :]).max(axis=-1)  # diff[i, k] = max_j (G_ij - G_kj)
    return (diff + np.swapaxes(diff, -1, -2)).max(axis=(-2, -1))[()]


def sigma2_derivative(logits: ArrayLike, temperature: float, *, tol: float = 1e-13) -> NDArray[np.float64] | np.float64:
    r"""The derivative :math:`d\sigma_2(M_T)/dT` along the temperature path, in closed form.

    Writing :math:`\log M_T = G/T + \alpha\mathbf 1^\top + \mathbf 1\beta^\top` and differentiating
    the scaling equations gives :math:`dM_T/dT = -T^{-2}\, M_T \circ \widetilde G_T`, where the
    *weighted double centring* :math:`\widetilde G_T = G - a\mathbf 1^\top - \mathbf 1 b^\top` makes
    every row and column sum of :math:`M_T \circ \widetilde G_T` vanish. If :math:`\sigma_2(M_T)`
    is a simple singular value of :math:`M_T - J/n`, with unit singular vectors :math:`u, v`,

    .. math::

        \frac{d\sigma_2(M_T)}{dT} = -\frac{1}{T^2}\, u^\top \bigl(M_T \circ \widetilde G_T\bigr)\, v

    (:prf:ref:`rem-fig1-derivative`). A positive value means that :math:`\sigma_2` rises with
    :math:`T` there, as on the counterexample trajectories of :prf:ref:`prop-fig1-nonmonotone`.
    Used in :doc:`/book/05_figure1`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`, ``n >= 2``.
    temperature : float
        Temperature :math:`T`; finite and ``> 0``.
    tol : float, default 1e-13
        Tolerance of the Sinkhorn solve for :math:`M_T`, on the row and column sums; finite and
        ``> 0``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`d\sigma_2(M_T)/dT` for each logit matrix (a scalar for a single matrix); ``nan``
        where the top singular value of :math:`M_T - J/n` is not simple (a relative gap to the
        next one below :math:`10^{-8}`), where :math:`\sigma_2` is not differentiable or the
        singular vectors are not resolved.

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf, or
        ``temperature`` or ``tol`` is not finite and positive.
    TypeError
        If ``logits`` is not a real numeric array, or ``temperature`` or ``tol`` not a real number.
    ConvergenceError
        If Sinkhorn misses ``tol`` for some matrix.

    See Also
    --------
    first_order_sigma2 : The hot end, where the derivative tends to :math:`-\|PGP\|_2/(nT^2)`.
    sigma2_sweep : :math:`\sigma_2(M_T)` on a grid of temperatures.

    Notes
    -----
    The potentials :math:`a, b` solve the :math:`2n \times 2n` linear system
    :math:`\operatorname{diag}(M\mathbf 1)a + Mb = (M \circ G)\mathbf 1`,
    :math:`M^\top a + \operatorname{diag}(M^\top\mathbf 1)b = (M \circ G)^\top\mathbf 1`, singular
    only along the gauge direction :math:`(\mathbf 1, -\mathbf 1)`; a least-squares solve picks
    one solution, and :math:`\widetilde G_T` does not depend on which. One SVD and one linear
    solve per matrix.

    Examples
    --------
    At high temperature the derivative approaches that of the first-order law
    :math:`\|PGP\|_2/(nT)`, and it agrees with a centred finite difference:

    >>> import numpy as np, homtrap
    >>> G = homtrap.random_logits(6, rng=0)
    >>> d = homtrap.sigma2_derivative(G, 50.0)
    >>> first = -homtrap.first_order_sigma2(G, 50.0) / 50.0
    >>> bool(abs(d / first - 1) < 0.01)
    True
    >>> h = 1e-4
    >>> fd = (homtrap.sigma2(homtrap.sinkhorn(G, 1 + h)) - homtrap.sigma2(homtrap.sinkhorn(G, 1 - h))) / (2 * h)
    >>> bool(abs(homtrap.sigma2_derivative(G, 1.0) - fd) < 1e-6)
    True
    """
    G = as_square_stack(logits, "logits", min_n=2)
    T = check_positive_scalar(temperature, "temperature")
    tol = check_positive_scalar(tol, "tol")
    res = sinkhorn_solve(G, T, tol=tol)
    if not res.all_converged:
        raise ConvergenceError(f"Sinkhorn missed tol={tol} at T={T}: error {res.marginal_error.max():.3g}")
    n = G.shape[-1]
    flat_G, flat_M = G.reshape(-1, n, n), res.matrix.reshape(-1, n, n)
    out = np.empty(flat_G.shape[0])
    for k, (g, M) in enumerate(zip(flat_G, flat_M)):
        MG = M * g
        system = scaling_system(M)
        rhs = np.concatenate([MG.sum(axis=1), MG.sum(axis=0)])
        ab = np.linalg.lstsq(system, rhs, rcond=None)[0]  # singular only along the gauge (1, -1)
        W = M * (g - ab[:n, None] - ab[None, n:])
        U, s, Vt = np.linalg.svd(M - 1 / n)
        if s[0] - s[1] <= 1e-8 * s[0]:  # sigma_2 not simple: no derivative
            out[k] = np.nan
        else:
            out[k] = -(U[:, 0] @ W @ Vt[0]) / T**2
    return out.reshape(G.shape[:-2])[()]


def assignment_permutation(logits: ArrayLike) -> NDArray[np.int64]:
    r"""The optimal assignment :math:`\pi^\star` maximising :math:`\sum_i G_{i\pi(i)}`: the :math:`T \to 0` limit.

    As :math:`T \to 0`, :math:`M_T = S(\exp(G/T))` tends to the permutation matrix
    :math:`\Pi_{\pi^\star}` when the optimal assignment is unique (:prf:ref:`thm-lowtemp-limit`).
    Solved with ``scipy.optimize.linear_sum_assignment``, one matrix at a time. Used in
    :doc:`/book/02_maximum_entropy`, :doc:`/book/04_low_temperature`, :doc:`/book/05_figure1` and
    :doc:`/book/21_diagnose`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.

    Returns
    -------
    ndarray of int, shape (..., n)
        ``perm[..., i]`` is the column :math:`\pi^\star(i)` assigned to row ``i``. With ties, one
        of the optimal assignments.

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices or holds NaN/inf.
    TypeError
        If ``logits`` is not a real numeric array.

    See Also
    --------
    assignment_gap : How far ahead of the second-best assignment it is.
    permutation_matrix : :math:`\Pi_{\pi^\star}`.

    Examples
    --------
    >>> import itertools, numpy as np, homtrap
    >>> G = homtrap.random_logits(4, rng=1)
    >>> p = homtrap.assignment_permutation(G)
    >>> p.tolist()
    [1, 0, 2, 3]
    >>> best = max(itertools.permutations(range(4)), key=lambda q: G[np.arange(4), list(q)].sum())
    >>> list(best) == p.tolist()  # brute force over all 24 permutations
    True
    >>> M = homtrap.sinkhorn(G, 0.02)  # low temperature: close to the permutation matrix
    >>> bool(np.abs(M - homtrap.permutation_matrix(p)).max() < 0.01)
    True
    """
    G = as_square_stack(logits, "logits")
    n = G.shape[-1]
    flat = G.reshape(-1, n, n)
    out = np.empty((flat.shape[0], n), dtype=np.int64)
    for k, g in enumerate(flat):  # scipy's solver takes one matrix at a time
        _, out[k] = linear_sum_assignment(g, maximize=True)
    return out.reshape(*G.shape[:-2], n)


def off_permutation_max(M: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The largest entry :math:`m_\pi` of ``M`` off its nearest permutation :math:`\pi`.

    The permutation is the one maximising :math:`\sum_i \log M_{i\pi(i)}` (the optimal
    assignment of the logits :math:`\log M`, :func:`homtrap.assignment_permutation`), and

    .. math::

        m_\pi = \max\{M_{ij} : j \ne \pi(i)\} .

    It measures how close ``M`` is to a vertex of the Birkhoff polytope; it bounds the
    Sinkhorn Jacobian, :math:`\|\mathrm dM\|_2 \le n\,m_\pi` (:prf:ref:`prop-mhc-jacobian`,
    :func:`homtrap.sinkhorn_jacobian`). Used in :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Matrices with non-negative entries, ``n >= 2``; leading axes are batch axes. Zero
        entries are allowed (their logarithm is :math:`-\infty`: never on the permutation if
        another assignment avoids them).

    Returns
    -------
    float or ndarray of float, shape (...)
        :math:`m_\pi` of each matrix.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices with ``n >= 2``, holds NaN/inf or a negative
        entry.
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    assignment_permutation : The optimal assignment of logits.
    sinkhorn_jacobian : The Jacobian that :math:`n\,m_\pi` bounds.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = np.array([[0.1, 0.7, 0.2], [0.8, 0.05, 0.15], [0.1, 0.25, 0.65]])
    >>> float(homtrap.off_permutation_max(M))  # pi = (1, 0, 2); the largest of the rest is 0.25
    0.25
    >>> float(homtrap.off_permutation_max(np.eye(3)))  # a permutation matrix
    0.0
    >>> G = homtrap.random_logits(4, rng=0)
    >>> [bool(homtrap.off_permutation_max(homtrap.sinkhorn(G, T)) < 1e-4) for T in (0.05, 0.02)]  # cooling
    [False, True]
    """
    arr = as_square_stack(M, "M", min_n=2)
    if arr.min() < 0:
        raise ValueError(f"M must be entrywise non-negative, got minimum {arr.min()}")
    n = arr.shape[-1]
    flat = arr.reshape(-1, n, n)
    out = np.empty(flat.shape[0])
    with np.errstate(divide="ignore"):  # log 0 = -inf: a forbidden assignment
        for k, Mk in enumerate(flat):  # scipy's solver takes one matrix at a time
            try:
                rows, cols = linear_sum_assignment(-np.log(Mk))
            except ValueError as exc:  # every permutation meets a zero entry
                raise ValueError(f"M must have a permutation with positive entries on it ({exc})") from exc
            mask = np.ones(Mk.shape, bool)
            mask[rows, cols] = False
            out[k] = Mk[mask].max()
    res = out.reshape(arr.shape[:-2])
    return res if res.ndim else res[()]


def assignment_gap(logits: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Assignment gap :math:`\Delta(G)`: the best assignment value minus the second best.

    .. math::

        \Delta(G) = \max_\pi \sum_i G_{i\pi(i)} - \max_{\pi \ne \pi^\star} \sum_i G_{i\pi(i)}
        \;\ge 0 ,

    (:prf:ref:`def-lowtemp-gap`); ``0`` means a tie. It controls the low-temperature limit: the
    distance of :math:`M_T` to :math:`\Pi_{\pi^\star}` shrinks like :math:`e^{-\Delta/T}`
    (:prf:ref:`cor-lowtemp-exponential`). Used in :doc:`/book/04_low_temperature` and
    :doc:`/book/05_figure1`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`, ``n >= 2``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\Delta(G) \ge 0` for each matrix (a scalar for a single matrix).

    Raises
    ------
    ValueError
        If ``logits`` is not a stack of square matrices with ``n >= 2`` or holds NaN/inf.
    TypeError
        If ``logits`` is not a real numeric array.

    See Also
    --------
    assignment_permutation : The optimum :math:`\pi^\star`.

    Notes
    -----
    Computed with :math:`n + 1` assignment solves per matrix: the optimum, then one solve for each
    edge :math:`(i, \pi^\star(i))` of the optimum with that edge forbidden (every other permutation
    misses at least one of them). Cost :math:`O(n^4)` per matrix.

    Examples
    --------
    >>> import itertools, numpy as np, homtrap
    >>> G = homtrap.random_logits(4, rng=1)
    >>> values = sorted(G[np.arange(4), list(q)].sum() for q in itertools.permutations(range(4)))
    >>> round(float(homtrap.assignment_gap(G)), 6), round(float(values[-1] - values[-2]), 6)
    (0.225471, 0.225471)
    >>> float(homtrap.assignment_gap(np.zeros((3, 3))))  # all assignments tie
    0.0
    """
    G = as_square_stack(logits, "logits", min_n=2)
    n = G.shape[-1]
    flat = G.reshape(-1, n, n)
    out = np.empty(flat.shape[0])
    rows = np.arange(n)
    for k, g in enumerate(flat):
        _, best = linear_sum_assignment(g, maximize=True)
        top = g[rows, best].sum()
        forbid = np.abs(g).max() * (n + 1) * 4 + 1.0  # makes the forbidden edge never optimal
        second = -np.inf
        for i in range(n):
            h = g.copy()
            h[i, best[i]] -= forbid
            _, p = linear_sum_assignment(h, maximize=True)
            second = max(second, g[rows, p].sum())
        out[k] = top - second
    return out.reshape(G.shape[:-2])[()]


def entropic_objective(logits: ArrayLike, M: ArrayLike, temperature: float) -> NDArray[np.float64] | np.float64:
    r"""The entropic objective :math:`\Phi_T(M) = \langle G, M\rangle + T\,H(M)` of each matrix.

    .. math::

        \Phi_T(M) = \sum_{ij} G_{ij} M_{ij} - T \sum_{ij} M_{ij}\log M_{ij}
        \qquad (0 \log 0 = 0),

    (:prf:ref:`def-maxent-objective`). Over the Birkhoff polytope its unique maximiser is the
    Sinkhorn matrix :math:`M_T = S(\exp(G/T))` (:prf:ref:`thm-maxent`). Used in
    :doc:`/book/02_maximum_entropy`, :doc:`/book/04_low_temperature` and :doc:`/book/05_figure1`.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.
    M : array_like, shape (..., n, n)
        Entrywise non-negative, finite matrices; broadcast against ``logits``.
    temperature : float
        Temperature :math:`T`; finite and ``> 0``.

    Returns
    -------
    numpy.float64 or ndarray of float, shape (...)
        :math:`\Phi_T(M)` (a scalar for single matrices).

    Raises
    ------
    ValueError
        If ``M`` has a negative entry, an input is not a stack of square matrices or holds
        NaN/inf, the shapes do not broadcast, or ``temperature`` is not finite and positive.
    TypeError
        If an input is not real numeric.

    See Also
    --------
    entropy : :math:`H(M)`.
    sinkhorn : The maximiser :math:`M_T`.

    Examples
    --------
    The Sinkhorn matrix beats both the barycenter (maximal entropy) and the optimal permutation
    (maximal linear term):

    >>> import homtrap
    >>> G = homtrap.random_logits(4, rng=1)
    >>> M_T = homtrap.sinkhorn(G, 1.0)
    >>> Pi = homtrap.permutation_matrix(homtrap.assignment_permutation(G))
    >>> [round(float(homtrap.entropic_objective(G, X, 1.0)), 4) for X in (M_T, homtrap.uniform_barycenter(4), Pi)]
    [6.4978, 6.0556, 2.3542]
    """
    G = as_square_stack(logits, "logits")
    M = as_square_stack(M, "M")
    T = check_positive_scalar(temperature, "temperature")
    if np.any(M < 0):
        raise ValueError("M must be entrywise non-negative")
    return (G * M).sum(axis=(-2, -1)) + T * entropy(M)
