r"""Concentration bounds behind Theorem 1: :math:`\chi^2` tails, spherical caps, and the
theorem's bound and probability.

Setting: clean detail signals :math:`s, s' \in \mathbb R^n`, noisy pre-activations
:math:`y = s + \xi`, :math:`\xi \sim \mathcal N(0, \nu^2 I_n)`, and the LayerNorm direction
:math:`u = P y / \|P y\|`. Used in Part IV (:doc:`/book/10_concentration`,
:doc:`/book/11_theorem1`, :doc:`/book/12_figure2`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._validation import as_real_array, check_int, renamed_arguments

__all__ = [
    "Chi2TailBounds",
    "chi2_tail_bounds",
    "sphere_cap_bound",
    "sphere_cap_probability",
    "sphere_inner_product_law",
    "theorem1_bound",
    "theorem1_probability",
]


@renamed_arguments(eps="deviation")
def theorem1_bound(gamma: ArrayLike, deviation: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The bound :math:`\varepsilon + 8\gamma` on :math:`|\langle u, v\rangle|` of Theorem 1."""
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

    Raises :class:`ValueError` unless the theorem's hypothesis :math:`n - 1 \ge 64x/9` holds.
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


class Chi2TailBounds(NamedTuple):
    """The Laurent–Massart deviation points of :func:`chi2_tail_bounds` (unpacks as ``upper, lower``)."""

    #: :math:`k + 2\sqrt{kx} + 2x`, exceeded with probability at most :math:`e^{-x}`
    upper: NDArray[np.float64] | np.float64
    #: :math:`k - 2\sqrt{kx}`, undercut with probability at most :math:`e^{-x}`
    lower: NDArray[np.float64] | np.float64


def chi2_tail_bounds(k: int, x: ArrayLike) -> Chi2TailBounds:
    r"""Laurent–Massart deviation points for :math:`\chi^2_k` :cite:p:`laurentmassart2000`.

    Returns ``(upper, lower)`` with :math:`P(\chi^2_k \ge \text{upper}) \le e^{-x}` and
    :math:`P(\chi^2_k \le \text{lower}) \le e^{-x}`: upper :math:`= k + 2\sqrt{kx} + 2x`,
    lower :math:`= k - 2\sqrt{kx}`.
    """
    k = check_int(k, "k", minimum=1)
    xx = as_real_array(x, "x")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    return Chi2TailBounds((k + 2 * np.sqrt(k * xx) + 2 * xx)[()], (k - 2 * np.sqrt(k * xx))[()])


def sphere_cap_probability(k: int, t: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Exact :math:`P(\langle U, e\rangle \ge t)` for :math:`U` uniform on the unit sphere of :math:`\mathbb R^k`.

    Uses :math:`\langle U, e\rangle^2 \sim \mathrm{Beta}(1/2, (k-1)/2)` and symmetry, for
    :math:`0 \le t \le 1`; ``k >= 2``.
    """
    k = check_int(k, "k", minimum=2)
    tt = as_real_array(t, "t")
    if np.any((tt < 0) | (tt > 1)):
        raise ValueError("t must lie in [0, 1]")
    return (0.5 * stats.beta.sf(tt**2, 0.5, (k - 1) / 2))[()]


def sphere_cap_bound(k: int, t: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Ball's cap bound :math:`P(\langle U, e\rangle \ge t) \le e^{-kt^2/2}` :cite:p:`ball1997`."""
    k = check_int(k, "k", minimum=1)
    tt = as_real_array(t, "t")
    if np.any((tt < 0) | (tt > 1)):
        raise ValueError("t must lie in [0, 1]")
    return np.exp(-k * tt**2 / 2)[()]


def sphere_inner_product_law(k: int) -> stats.rv_continuous:
    r"""Law of :math:`\langle U, V\rangle` for independent uniform :math:`U, V` on the unit sphere of :math:`\mathbb R^k`.

    Density :math:`\propto (1 - t^2)^{(k-3)/2}` on :math:`[-1, 1]`, i.e.
    :math:`2\,\mathrm{Beta}(\tfrac{k-1}{2}, \tfrac{k-1}{2}) - 1`: mean 0, variance :math:`1/k`.
    The collapsed histogram of Figure 2 (Part IV). Returns a frozen ``scipy.stats`` law; ``k >= 2``.
    """
    k = check_int(k, "k", minimum=2)
    return stats.beta((k - 1) / 2, (k - 1) / 2, loc=-1.0, scale=2.0)


