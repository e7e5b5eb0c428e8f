r"""Concentration bounds behind Theorem 1: :math:`\chi^2` tails, spherical caps, the theorem's
bound and probability, and the sharper cosine-concentration radius.

Setting (:prf:ref:`def-noisy-ln`): clean detail signals :math:`y_0, y_0' \in \mathbb R^n`, noisy
pre-activations :math:`y = y_0 + \xi`, :math:`\xi \sim \mathcal N(0, \nu^2 I_n)`, the LayerNorm
direction :math:`u = P y / \|P y\|` (and :math:`v` likewise for :math:`y_0'`), the detail dimension
:math:`k = n - 1` and the amplitude SNR :math:`\gamma` (:func:`homtrap.amplitude_snr`).

Used in Part IV: :doc:`/book/10_concentration` (:math:`\chi^2` tails, caps, the law of
:math:`\langle U, V\rangle`), :doc:`/book/11_theorem1` (Theorem 1 and
:prf:ref:`prop-sharper`), :doc:`/book/12_figure2` and :doc:`/book/13_affine_layernorm`; also
in :doc:`/book/19_next_checks`, :doc:`/book/20_open_questions` and :doc:`/book/21_diagnose`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._validation import as_real_array, check_int, check_real_scalar, renamed_arguments

__all__ = [
    "Chi2TailBounds",
    "chi2_tail_bounds",
    "cosine_concentration_radius",
    "sphere_cap_bound",
    "sphere_cap_probability",
    "sphere_inner_product_law",
    "theorem1_bound",
    "theorem1_min_dimension",
    "theorem1_probability",
]


@renamed_arguments(eps="deviation")
def theorem1_bound(gamma: ArrayLike, deviation: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The bound :math:`\varepsilon + 8\gamma` on :math:`|\langle u, v\rangle|` of Theorem 1.

    Theorem 1 (:prf:ref:`thm-orthogonal-collapse`) states that, for two noisy inputs whose
    amplitude SNR is :math:`\gamma`,

    .. math::

        |\langle u, v\rangle| \le \varepsilon + 8\gamma

    with probability at least :func:`theorem1_probability`. The bound is informative only
    where it is below one, i.e. :math:`\gamma < (1 - \varepsilon)/8`.

    Parameters
    ----------
    gamma : array_like of float
        Amplitude SNR :math:`\gamma \ge 0` (see :func:`homtrap.amplitude_snr`); any shape.
    deviation : array_like of float
        The noise-floor deviation :math:`\varepsilon`, in the open interval (0, 1);
        broadcast against ``gamma``.

    Returns
    -------
    float or ndarray
        :math:`\varepsilon + 8\gamma`, of the broadcast shape (a numpy scalar for scalar input).

    Raises
    ------
    TypeError
        If ``gamma`` or ``deviation`` is not real.
    ValueError
        If ``gamma`` has a negative or non-finite entry, or ``deviation`` an entry outside
        (0, 1); if the shapes do not broadcast.

    See Also
    --------
    theorem1_probability : the probability with which the bound holds.
    cosine_concentration_radius : the sharper, quadratic-in-:math:`\gamma` bound.
    homtrap.amplitude_snr : :math:`\gamma` of two signals.

    Notes
    -----
    Used in :doc:`/book/11_theorem1`, :doc:`/book/20_open_questions` and :doc:`/book/21_diagnose`.

    Examples
    --------
    The bound at :math:`\gamma = 0.01`, :math:`\varepsilon = 0.2`, and the largest
    :math:`\gamma` for which it says anything:

    >>> import homtrap
    >>> round(float(homtrap.theorem1_bound(0.01, 0.2)), 6)
    0.28
    >>> round(float(homtrap.theorem1_bound((1 - 0.2) / 8, 0.2)), 6)
    1.0
    """
    g = as_real_array(gamma, "gamma")
    e = as_real_array(deviation, "deviation")
    if np.any(g < 0):
        raise ValueError("gamma must be >= 0")
    if np.any((e <= 0) | (e >= 1)):
        raise ValueError("deviation must lie in (0, 1)")
    return (e + 8.0 * g)[()]


@renamed_arguments(eps="deviation")
def theorem1_probability(n: int, x: ArrayLike, deviation: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Guaranteed probability :math:`1 - 2e^{-x} - 2e^{-(n-1)\varepsilon^2/2}` of Theorem 1.

    The two failure terms of :prf:ref:`thm-orthogonal-collapse`: :math:`2e^{-x}` for a noise
    shorter than half its typical length (both inputs, Laurent–Massart,
    :prf:ref:`thm-laurent-massart`) and :math:`2e^{-(n-1)\varepsilon^2/2}` for a spherical cap
    (Ball's bound, :prf:ref:`thm-cap-bound`). The value can be negative (then the theorem says
    nothing).

    Parameters
    ----------
    n : int
        Dimension :math:`n \ge 2` (the detail space has dimension :math:`n - 1`).
    x : array_like of float
        Tail parameter :math:`x > 0`; the theorem needs :math:`n - 1 \ge 64x/9`.
    deviation : array_like of float
        :math:`\varepsilon` in (0, 1); broadcast against ``x``.

    Returns
    -------
    float or ndarray
        :math:`1 - 2e^{-x} - 2e^{-(n-1)\varepsilon^2/2}`, of the broadcast shape.

    Raises
    ------
    TypeError
        If ``n`` is not an integer or ``x``, ``deviation`` not real.
    ValueError
        If ``n < 2``, some ``x <= 0``, some ``deviation`` outside (0, 1), or the hypothesis
        :math:`n - 1 \ge 64x/9` fails for some ``x`` (the message gives the largest allowed ``x``).

    See Also
    --------
    theorem1_bound : the bound that holds with this probability.
    chi2_tail_bounds, sphere_cap_bound : the two tail bounds it combines.

    Notes
    -----
    Used in :doc:`/book/11_theorem1` and :doc:`/book/20_open_questions`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> p = homtrap.theorem1_probability(1024, np.log(400), 0.1)
    >>> round(float(p), 6)
    0.982988
    >>> round(float(1 - 2 / 400 - 2 * np.exp(-1023 * 0.01 / 2)), 6)  # the formula by hand
    0.982988
    """
    n = check_int(n, "n", minimum=2)
    xx = as_real_array(x, "x")
    e = as_real_array(deviation, "deviation")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    if np.any((e <= 0) | (e >= 1)):
        raise ValueError("deviation must lie in (0, 1)")
    if np.any(n - 1 < 64 * xx / 9):
        raise ValueError(f"Theorem 1 needs n - 1 >= 64 x / 9; with n = {n} that is x <= {9 * (n - 1) / 64:.4g}")
    return (1 - 2 * np.exp(-xx) - 2 * np.exp(-(n - 1) * e**2 / 2))[()]


def _theorem1_certifies(n: int, gamma: float, level: float, failure: float) -> bool:
    # Theorem 1 at dimension n with the best admissible x (largest allowed, rounding-safe) and
    # deviation = level - 8 gamma: is P(|<u, v>| <= level) >= 1 - failure certified?
    x = 9 * (n - 1) / 64 * (1 - 1e-12)
    return float(theorem1_probability(n, x, level - 8 * gamma)) >= 1 - failure


def theorem1_min_dimension(gamma: float, level: float, failure: float = 0.05) -> float:
    r"""The smallest dimension :math:`n` at which Theorem 1 certifies :math:`|\langle u, v\rangle| \le` ``level``.

    Theorem 1 (:prf:ref:`thm-orthogonal-collapse`) gives, for :math:`n - 1 \ge 64x/9`,
    :math:`P(|\langle u, v\rangle| \le \varepsilon + 8\gamma) \ge 1 - 2e^{-x} - 2e^{-(n-1)\varepsilon^2/2}`.
    For a target level :math:`\tau` put :math:`\varepsilon = \tau - 8\gamma` and take the largest
    admissible :math:`x = 9(n-1)/64`; the bound then increases with :math:`n`, and this is the
    smallest :math:`n` with

    .. math::

        1 - 2e^{-9(n-1)/64} - 2e^{-(n-1)(\tau - 8\gamma)^2/2} \;\ge\; 1 - \delta ,

    found by doubling and bisection, which is exact because the failure bound decreases strictly
    in :math:`n` (:prf:ref:`prop-oq-nthm`, where it is written :math:`n_{\mathrm{thm}}(\gamma, \tau)`).
    It is :math:`\infty` when :math:`\tau \le 8\gamma`: the theorem then certifies nothing at any
    :math:`n`. How conservative it is against the true law is measured in
    :doc:`/book/20_open_questions`.

    Parameters
    ----------
    gamma : float
        Amplitude SNR :math:`\gamma \ge 0` (:func:`amplitude_snr`).
    level : float
        The level :math:`\tau \in (0, 1)` that :math:`|\langle u, v\rangle|` must not exceed.
    failure : float, default 0.05
        The allowed failure probability :math:`\delta \in (0, 1)`.

    Returns
    -------
    float
        The smallest such :math:`n \ge 2` (an integer value), or ``inf``.

    Raises
    ------
    ValueError
        If ``gamma`` is negative or not finite, or ``level`` or ``failure`` is not in (0, 1).
    TypeError
        If an argument is not a real number.

    See Also
    --------
    theorem1_probability : the bound evaluated here.
    theorem1_bound : the level :math:`\varepsilon + 8\gamma` for a given deviation.

    Examples
    --------
    >>> import homtrap
    >>> n = homtrap.theorem1_min_dimension(0.0, 0.3)  # pure noise: |<u, v>| <= 0.3 w.p. 95 %
    >>> n
    83.0
    >>> x = 9 * (n - 2) / 64  # one dimension less is not enough
    >>> bool(homtrap.theorem1_probability(int(n) - 1, x, 0.3) < 0.95)
    True
    >>> homtrap.theorem1_min_dimension(0.05, 0.3)  # 8 gamma > level: never
    inf
    """
    g, tau, delta = (check_real_scalar(v, name) for v, name in ((gamma, "gamma"), (level, "level"), (failure, "failure")))
    if not np.isfinite(g) or g < 0:
        raise ValueError(f"gamma must be finite and >= 0, got {g}")
    for name, value in (("level", tau), ("failure", delta)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie in (0, 1), got {value}")
    if tau - 8 * g <= 0:
        return float("inf")
    lo, hi = 2, 4
    while not _theorem1_certifies(hi, g, tau, delta):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # certified at hi, not at lo
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _theorem1_certifies(mid, g, tau, delta) else (mid, hi)
    return float(hi)


class Chi2TailBounds(NamedTuple):
    r"""The Laurent–Massart deviation points of :func:`chi2_tail_bounds` (unpacks as ``upper, lower``).

    Attributes
    ----------
    upper : float or ndarray
        :math:`k + 2\sqrt{kx} + 2x`; :math:`P(\chi^2_k \ge \text{upper}) \le e^{-x}`.
    lower : float or ndarray
        :math:`k - 2\sqrt{kx}`; :math:`P(\chi^2_k \le \text{lower}) \le e^{-x}` (negative, and
        then trivially true, for :math:`x > k/4`).

    See Also
    --------
    chi2_tail_bounds : returns it.

    Notes
    -----
    Used in :doc:`/book/10_concentration` and :doc:`/book/11_theorem1`.

    Examples
    --------
    >>> import homtrap
    >>> b = homtrap.chi2_tail_bounds(100, 1.0)
    >>> float(b.upper), float(b.lower)
    (122.0, 80.0)
    """

    #: :math:`k + 2\sqrt{kx} + 2x`, exceeded with probability at most :math:`e^{-x}`
    upper: NDArray[np.float64] | np.float64
    #: :math:`k - 2\sqrt{kx}`, undercut with probability at most :math:`e^{-x}`
    lower: NDArray[np.float64] | np.float64


def chi2_tail_bounds(k: int, x: ArrayLike) -> Chi2TailBounds:
    r"""Laurent–Massart deviation points for :math:`\chi^2_k` :cite:p:`laurentmassart2000`.

    For :math:`A \sim \chi^2_k` and :math:`x > 0` (:prf:ref:`thm-laurent-massart`),

    .. math::

        P\bigl(A \ge k + 2\sqrt{kx} + 2x\bigr) \le e^{-x}, \qquad
        P\bigl(A \le k - 2\sqrt{kx}\bigr) \le e^{-x}.

    Parameters
    ----------
    k : int
        Degrees of freedom, ``k >= 1``.
    x : array_like of float
        Tail parameter :math:`x > 0`; any shape.

    Returns
    -------
    Chi2TailBounds
        Named tuple ``(upper, lower)``, each of the shape of ``x``.

    Raises
    ------
    TypeError
        If ``k`` is not an integer or ``x`` not real.
    ValueError
        If ``k < 1`` or some ``x <= 0``.

    See Also
    --------
    theorem1_probability : where the lower tail enters Theorem 1.

    Notes
    -----
    The exact tails are available as ``scipy.stats.chi2(k)``; the example checks the bounds
    against them.

    Used in :doc:`/book/10_concentration` and :doc:`/book/11_theorem1`.

    Examples
    --------
    The deviation points at :math:`k = 63`, :math:`x = \log 100`, checked against the exact
    tails of :math:`\chi^2_{63}` (both below :math:`e^{-x} = 0.01`):

    >>> import numpy as np, homtrap
    >>> from scipy import stats
    >>> upper, lower = homtrap.chi2_tail_bounds(63, np.log(100))
    >>> round(float(upper), 4), round(float(lower), 4)
    (106.2765, 28.9338)
    >>> bool(stats.chi2.sf(upper, 63) <= 0.01), bool(stats.chi2.cdf(lower, 63) <= 0.01)
    (True, True)
    """
    k = check_int(k, "k", minimum=1)
    xx = as_real_array(x, "x")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    return Chi2TailBounds((k + 2 * np.sqrt(k * xx) + 2 * xx)[()], (k - 2 * np.sqrt(k * xx))[()])


def sphere_cap_probability(k: int, t: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Exact :math:`P(\langle U, e\rangle \ge t)` for :math:`U` uniform on the unit sphere of :math:`\mathbb R^k`.

    For a fixed unit vector :math:`e`, :math:`\langle U, e\rangle^2 \sim
    \mathrm{Beta}(\tfrac12, \tfrac{k-1}{2})` (:prf:ref:`prop-cap-law`), and by symmetry

    .. math:: P(\langle U, e\rangle \ge t) = \tfrac12\,P\bigl(\mathrm{Beta}(\tfrac12, \tfrac{k-1}{2}) \ge t^2\bigr),
              \qquad 0 \le t \le 1.

    Parameters
    ----------
    k : int
        Dimension of the sphere's ambient space, ``k >= 2``.
    t : array_like of float
        Cap heights in [0, 1]; any shape.

    Returns
    -------
    float or ndarray
        The cap probabilities, of the shape of ``t`` (``0.5`` at ``t = 0``, ``0`` at ``t = 1``).

    Raises
    ------
    TypeError
        If ``k`` is not an integer or ``t`` not real.
    ValueError
        If ``k < 2`` or some ``t`` lies outside [0, 1].

    See Also
    --------
    sphere_cap_bound : Ball's upper bound :math:`e^{-kt^2/2}` on this probability.
    sphere_inner_product_law : the full law of :math:`\langle U, V\rangle`.

    Notes
    -----
    Used in :doc:`/book/10_concentration`, :doc:`/book/11_theorem1`, :doc:`/book/12_figure2`
    and :doc:`/book/20_open_questions`.

    Examples
    --------
    The exact cap at :math:`k = 64`, :math:`t = 0.3`, against a Monte-Carlo estimate and
    Ball's bound:

    >>> import numpy as np, homtrap
    >>> p = homtrap.sphere_cap_probability(64, 0.3)
    >>> round(float(p), 6)
    0.007592
    >>> g = np.random.default_rng(0).standard_normal((200_000, 64))
    >>> mc = float(np.mean(g[:, 0] / np.linalg.norm(g, axis=1) >= 0.3))
    >>> bool(abs(mc - p) < 5 * np.sqrt(p / 200_000))
    True
    >>> bool(p <= homtrap.sphere_cap_bound(64, 0.3))
    True
    """
    k = check_int(k, "k", minimum=2)
    tt = as_real_array(t, "t")
    if np.any((tt < 0) | (tt > 1)):
        raise ValueError("t must lie in [0, 1]")
    return (0.5 * stats.beta.sf(tt**2, 0.5, (k - 1) / 2))[()]


def sphere_cap_bound(k: int, t: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Ball's cap bound :math:`P(\langle U, e\rangle \ge t) \le e^{-kt^2/2}` :cite:p:`ball1997`.

    For :math:`U` uniform on the unit sphere of :math:`\mathbb R^k`, a unit vector :math:`e`
    and :math:`0 \le t \le 1` (:prf:ref:`thm-cap-bound`).

    Parameters
    ----------
    k : int
        Dimension, ``k >= 1``.
    t : array_like of float
        Cap heights in [0, 1]; any shape.

    Returns
    -------
    float or ndarray
        :math:`e^{-kt^2/2}`, of the shape of ``t``.

    Raises
    ------
    TypeError
        If ``k`` is not an integer or ``t`` not real.
    ValueError
        If ``k < 1`` or some ``t`` lies outside [0, 1].

    See Also
    --------
    sphere_cap_probability : the exact probability it bounds.

    Notes
    -----
    Used in :doc:`/book/10_concentration`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> t = np.array([0.1, 0.3, 0.5])
    >>> np.round(homtrap.sphere_cap_bound(64, t), 6).tolist()
    [0.726149, 0.056135, 0.000335]
    >>> bool(np.all(homtrap.sphere_cap_probability(64, t) <= homtrap.sphere_cap_bound(64, t)))
    True
    """
    k = check_int(k, "k", minimum=1)
    tt = as_real_array(t, "t")
    if np.any((tt < 0) | (tt > 1)):
        raise ValueError("t must lie in [0, 1]")
    return np.exp(-k * tt**2 / 2)[()]


def sphere_inner_product_law(k: int) -> stats.distributions.rv_frozen:
    r"""Law of :math:`\langle U, V\rangle` for independent uniform :math:`U, V` on the unit sphere of :math:`\mathbb R^k`.

    The density is proportional to :math:`(1 - t^2)^{(k-3)/2}` on :math:`[-1, 1]`, i.e.

    .. math:: \langle U, V\rangle \sim 2\,\mathrm{Beta}\bigl(\tfrac{k-1}{2}, \tfrac{k-1}{2}\bigr) - 1,

    with mean 0 and variance :math:`1/k` (:prf:ref:`prop-sphere-inner-product`): the collapsed
    histogram of Figure 2 and the noise floor of Theorem 1.

    Parameters
    ----------
    k : int
        Dimension, ``k >= 2``.

    Returns
    -------
    scipy.stats.distributions.rv_frozen
        A frozen ``scipy.stats.beta`` law with ``loc=-1``, ``scale=2`` (``.pdf``, ``.cdf``,
        ``.ppf``, ``.rvs``, ``.mean()``, ``.var()``).

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        If ``k < 2``.

    See Also
    --------
    sphere_cap_probability : the one-sided tail of :math:`\langle U, e\rangle`, the same law.

    Notes
    -----
    Used in :doc:`/book/10_concentration`, :doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
    :doc:`/book/13_affine_layernorm`, :doc:`/book/19_next_checks` and
    :doc:`/book/20_open_questions`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> law = homtrap.sphere_inner_product_law(64)
    >>> round(float(law.var()), 6), 1 / 64
    (0.015625, 0.015625)
    >>> round(float(law.sf(0.3)), 6) == round(float(homtrap.sphere_cap_probability(64, 0.3)), 6)
    True
    """
    k = check_int(k, "k", minimum=2)
    return stats.beta((k - 1) / 2, (k - 1) / 2, loc=-1.0, scale=2.0)


def cosine_concentration_radius(
    k: int, x: ArrayLike, gamma: ArrayLike, gamma_prime: ArrayLike, c0: ArrayLike
) -> NDArray[np.float64] | np.float64:
    r"""Radius :math:`R` of :prf:ref:`prop-sharper`: :math:`|\langle u, v\rangle - c_0| \le R` with probability :math:`\ge 1 - 9e^{-x}`.

    In the setting of :prf:ref:`def-noisy-ln` with detail dimension :math:`k`, per-signal SNRs
    :math:`\gamma_1 = \|y_0\|/(\nu\sqrt k)`, :math:`\gamma_2 = \|y_0'\|/(\nu\sqrt k)` and the clean
    value :math:`c_0 = \langle y_0, y_0'\rangle / (\nu^2 k\sqrt{(1+\gamma_1^2)(1+\gamma_2^2)})`, put
    :math:`t = \sqrt{x/k}`,
    :math:`\delta_i = \bigl(2(1 + \sqrt2\gamma_i)t + 2t^2\bigr)/(1 + \gamma_i^2)` and
    :math:`\delta = \max(\delta_1, \delta_2)`. If :math:`\delta < 1`,

    .. math::

        R = \frac{1}{1 - \delta}\Bigl(\frac{\sqrt2\,t\,\bigl(\gamma_1 + \gamma_2 + \sqrt{1 + 2t + 2t^2}\bigr)}
            {\sqrt{(1 + \gamma_1^2)(1 + \gamma_2^2)}} + |c_0|\,\delta\Bigr),

    and :math:`R = \infty` (the proposition says nothing) if :math:`\delta \ge 1`. For
    :math:`y_0 = y_0'`, :math:`c_0 = \gamma^2/(1+\gamma^2)`; for :math:`y_0 \perp y_0'`, :math:`c_0 = 0`.

    Parameters
    ----------
    k : int or array_like of int
        Detail dimension :math:`k = n - 1 \ge 1`.
    x : array_like of float
        Tail parameter :math:`x > 0` (failure probability at most :math:`9e^{-x}`).
    gamma, gamma_prime : array_like of float
        :math:`\gamma_1, \gamma_2 \ge 0`.
    c0 : array_like of float
        The clean cosine :math:`c_0`, in [-1, 1].

    All arguments broadcast against each other.

    Returns
    -------
    float or ndarray
        :math:`R`, of the broadcast shape; ``inf`` where :math:`\delta \ge 1`.

    Raises
    ------
    TypeError
        If an argument is not real (``k`` not an integer).
    ValueError
        If some ``k < 1``, ``x <= 0``, ``gamma`` or ``gamma_prime`` is negative, ``c0`` lies
        outside [-1, 1], an entry is not finite, or the shapes do not broadcast.

    See Also
    --------
    theorem1_bound : the coarser bound :math:`\varepsilon + 8\gamma`.
    homtrap.mean_ln_cosine : the exact mean :math:`\mathbb E\langle u, v\rangle` for :math:`y_0 = y_0'`.
    homtrap.noisy_ln_cosines, homtrap.reduced_ln_cosines : samples to check the radius against.

    Notes
    -----
    :math:`R = O(\sqrt{x/k})` uniformly in :math:`\gamma`, so :math:`|\langle u, v\rangle| \le
    \gamma^2/(1+\gamma^2) + O(\sqrt{x/k})`: the signal enters quadratically, unlike the
    :math:`8\gamma` of Theorem 1. The constants are poor for small :math:`k`: at :math:`k = 63`
    and :math:`x = \log 900`, :math:`|c_0| + R > 1` (or :math:`\delta \ge 1`) for every
    :math:`\gamma`, so the bound says nothing there.

    The arithmetic is that of the chapter's check, operation for operation (for scalar
    arguments the results are bit-identical).

    Used in :doc:`/book/11_theorem1`.

    Examples
    --------
    The radius for two noisy copies of one signal (:math:`c_0 = \gamma^2/(1+\gamma^2)`) at
    :math:`k = 1023`, :math:`x = \log 900`; it beats :math:`\varepsilon + 8\gamma` once
    :math:`\gamma` is moderate, and is infinite at :math:`k = 63`:

    >>> import numpy as np, homtrap
    >>> from homtrap._concentration import cosine_concentration_radius
    >>> g = 0.5
    >>> c0 = g**2 / (1 + g**2)
    >>> R = cosine_concentration_radius(1023, np.log(900), g, g, c0)
    >>> round(float(R), 4), round(float(c0 + R), 4)
    (0.3117, 0.5117)
    >>> float(cosine_concentration_radius(63, np.log(900), g, g, c0))
    inf

    A check against samples of :math:`\langle u, v\rangle` (:func:`homtrap.reduced_ln_cosines`,
    signals of length :math:`\gamma\sqrt k` in units of :math:`\nu`): the deviation from
    :math:`c_0` exceeds :math:`R` in none of 20 000 draws (at most 1 % are allowed).

    >>> a = np.array([g * np.sqrt(1023), 0.0])
    >>> c = homtrap.reduced_ln_cosines(a, a, 1023, 20_000, rng=0)
    >>> int(np.sum(np.abs(c - c0) > R))
    0
    """
    kk = as_real_array(k, "k")
    if not np.all(kk == np.round(kk)):
        raise TypeError("k must be an integer (or an array of integers)")
    if np.any(kk < 1):
        raise ValueError("k must be >= 1")
    xx = as_real_array(x, "x")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    g1 = as_real_array(gamma, "gamma")
    g2 = as_real_array(gamma_prime, "gamma_prime")
    if np.any(g1 < 0):
        raise ValueError("gamma must be >= 0")
    if np.any(g2 < 0):
        raise ValueError("gamma_prime must be >= 0")
    c = as_real_array(c0, "c0")
    if np.any(np.abs(c) > 1):
        raise ValueError("c0 must lie in [-1, 1]")
    try:
        kk, xx, g1, g2, c = np.broadcast_arrays(kk, xx, g1, g2, c)
    except ValueError:
        raise ValueError(
            f"k, x, gamma, gamma_prime and c0 must broadcast, got shapes {np.shape(k)}, {np.shape(x)}, "
            f"{np.shape(gamma)}, {np.shape(gamma_prime)} and {np.shape(c0)}"
        ) from None
    # the chapter's arithmetic, operation for operation, on float64 scalars: numpy evaluates
    # ``g**2`` on arrays as g*g but on scalars with pow(), which can differ in the last bit
    shape = kk.shape
    out = [_radius(*args) for args in zip(kk.flat, xx.flat, g1.flat, g2.flat, c.flat)]
    return np.array(out, dtype=float).reshape(shape)[()]


def _radius(k: np.float64, x: np.float64, g1: np.float64, g2: np.float64, c0: np.float64) -> float:
    """The radius R of prop-sharper for scalars (inf when delta >= 1)."""
    t = np.sqrt(x / k)
    delta = max((2 * (1 + np.sqrt(2) * g) * t + 2 * t**2) / (1 + g**2) for g in (g1, g2))
    if delta >= 1:
        return np.inf
    main = np.sqrt(2) * t * (g1 + g2 + np.sqrt(1 + 2 * t + 2 * t**2)) / np.sqrt((1 + g1**2) * (1 + g2**2))
    return (main + abs(c0) * delta) / (1 - delta)
