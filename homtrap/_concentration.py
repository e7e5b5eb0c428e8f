r"""Noise, LayerNorm and orthogonal collapse (Theorem 1).

Used in Part IV. Setting: clean detail signals :math:`s, s' \in \mathbb R^n`, noisy
pre-activations :math:`y = s + \xi`, :math:`\xi \sim \mathcal N(0, \nu^2 I_n)`, and the
LayerNorm direction :math:`u = P y / \|P y\|`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from ._validation import as_real_array, as_vector_stack, check_int, check_positive_scalar
from .normalization import normalize_detail
from .random import _generator

__all__ = [
    "amplitude_snr",
    "chi2_tail_bounds",
    "collapse_depth",
    "ln_direction_mean",
    "noisy_ln_cosines",
    "quantize",
    "reduced_ln_cosines",
    "sphere_cap_bound",
    "sphere_cap_probability",
    "sphere_inner_product_law",
    "theorem1_bound",
    "theorem1_probability",
]


def amplitude_snr(s: ArrayLike, s_prime: ArrayLike, noise_std: float) -> NDArray[np.float64] | np.float64:
    r"""Amplitude SNR :math:`\gamma = \max(\|Ps\|, \|Ps'\|) / (\nu \sqrt{n-1})` along the last axis."""
    a = as_vector_stack(s, "s", min_n=2)
    b = as_vector_stack(s_prime, "s_prime", min_n=2)
    nu = check_positive_scalar(noise_std, "noise_std")
    n = a.shape[-1]
    if b.shape[-1] != n:
        raise ValueError(f"s and s_prime must have the same length, got {n} and {b.shape[-1]}")
    na = np.linalg.norm(a - a.mean(axis=-1, keepdims=True), axis=-1)
    nb = np.linalg.norm(b - b.mean(axis=-1, keepdims=True), axis=-1)
    return (np.maximum(na, nb) / (nu * np.sqrt(n - 1)))[()]


def noisy_ln_cosines(
    s: ArrayLike,
    s_prime: ArrayLike,
    noise_std: float,
    draws: int,
    *,
    rng: int | np.random.Generator | None = None,
) -> NDArray[np.float64]:
    r"""Monte-Carlo samples of :math:`\langle u, v\rangle`, :math:`u = \mathrm{LN}(s+\xi)`, :math:`v = \mathrm{LN}(s'+\xi')`.

    Here :math:`\mathrm{LN}(y) = Py/\|Py\|` (unit-norm LayerNorm) and :math:`\xi, \xi'` are
    independent :math:`\mathcal N(0, \nu^2 I_n)`.

    Parameters
    ----------
    s, s_prime : array_like, shape (n,)
        Clean signals.
    noise_std : float
        :math:`\nu > 0`.
    draws : int
        Number of independent noise pairs.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    ndarray, shape (draws,)
    """
    a = as_vector_stack(s, "s", min_n=2)
    b = as_vector_stack(s_prime, "s_prime", min_n=2)
    if a.ndim != 1 or b.shape != a.shape:
        raise ValueError(f"s and s_prime must be 1-D of the same length, got shapes {a.shape} and {b.shape}")
    nu = check_positive_scalar(noise_std, "noise_std")
    draws = check_int(draws, "draws", minimum=1)
    gen = _generator(rng)
    n = a.size
    xi = gen.standard_normal((2, draws, n)) * nu
    u = normalize_detail(a + xi[0])
    v = normalize_detail(b + xi[1])
    return np.einsum("ij,ij->i", u, v)


def theorem1_bound(gamma: ArrayLike, eps: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""The bound :math:`\varepsilon + 8\gamma` on :math:`|\langle u, v\rangle|` of Theorem 1."""
    g = as_real_array(gamma, "gamma")
    e = as_real_array(eps, "eps")
    if np.any(g < 0):
        raise ValueError("gamma must be >= 0")
    if np.any((e <= 0) | (e >= 1)):
        raise ValueError("eps must lie in (0, 1)")
    return (e + 8.0 * g)[()]


def theorem1_probability(n: int, x: ArrayLike, eps: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Guaranteed probability :math:`1 - 2e^{-x} - 2e^{-(n-1)\varepsilon^2/2}` of Theorem 1.

    Raises :class:`ValueError` unless the theorem's hypothesis :math:`n - 1 \ge 64x/9` holds.
    """
    n = check_int(n, "n", minimum=2)
    xx = as_real_array(x, "x")
    e = as_real_array(eps, "eps")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    if np.any((e <= 0) | (e >= 1)):
        raise ValueError("eps must lie in (0, 1)")
    if np.any(n - 1 < 64 * xx / 9):
        raise ValueError(f"Theorem 1 needs n - 1 >= 64 x / 9; with n = {n} that is x <= {9 * (n - 1) / 64:.4g}")
    return (1 - 2 * np.exp(-xx) - 2 * np.exp(-(n - 1) * e**2 / 2))[()]


def collapse_depth(sigma2: ArrayLike, detail_norm: ArrayLike, noise_std: float, n: int, eta: float) -> NDArray[np.float64] | np.float64:
    r"""Depth after which Theorem 1 guarantees collapse: smallest :math:`L` with :math:`8\gamma_L \le \eta`.

    With :math:`\gamma_L = \sigma_2^L \|x_\perp\| / (\nu\sqrt{n-1})` (spectral form), this is
    :math:`L = \lceil \ln(8\|x_\perp\|/(\eta\nu\sqrt{n-1})) / \ln(1/\sigma_2) \rceil`, or 0 if
    already :math:`8\gamma_0 \le \eta`; ``inf`` when :math:`\sigma_2 = 1`.
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


def chi2_tail_bounds(k: int, x: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Laurent–Massart deviation points for :math:`\chi^2_k` :cite:p:`laurentmassart2000`.

    Returns ``(upper, lower)`` with :math:`P(\chi^2_k \ge \text{upper}) \le e^{-x}` and
    :math:`P(\chi^2_k \le \text{lower}) \le e^{-x}`: upper :math:`= k + 2\sqrt{kx} + 2x`,
    lower :math:`= k - 2\sqrt{kx}`.
    """
    k = check_int(k, "k", minimum=1)
    xx = as_real_array(x, "x")
    if np.any(xx <= 0):
        raise ValueError("x must be > 0")
    return (k + 2 * np.sqrt(k * xx) + 2 * xx)[()], (k - 2 * np.sqrt(k * xx))[()]


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


def quantize(x: ArrayLike, fmt: str = "bfloat16") -> NDArray[np.float64]:
    r"""Round to a low-precision format and back to float64 (round to nearest, ties to even).

    ``"float16"`` uses numpy's IEEE half precision (10-bit mantissa, relative step
    :math:`2^{-11}`); ``"bfloat16"`` keeps float32's exponent and the top 7 mantissa bits
    (relative step :math:`2^{-8}`), emulated on the float32 bit pattern.
    """
    a = as_real_array(x, "x")
    if fmt == "float16":
        with np.errstate(over="ignore"):
            out = a.astype(np.float16).astype(np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("x overflows float16 (largest finite value 65504)")
        return out
    if fmt == "bfloat16":
        f = a.astype(np.float32)
        bits = f.view(np.uint32).astype(np.uint64)
        rounding = ((bits >> 16) & 1) + 0x7FFF  # round to nearest, ties to even
        bits = ((bits + rounding) >> 16) << 16
        return bits.astype(np.uint32).view(np.float32).astype(np.float64)
    raise ValueError(f"fmt must be 'bfloat16' or 'float16', got {fmt!r}")


def ln_direction_mean(r: ArrayLike, k: int) -> NDArray[np.float64] | np.float64:
    r"""Mean alignment :math:`h_k(r) = \mathbb E\,\langle u, s/\|s\|\rangle` of the LayerNorm direction.

    For :math:`u = (s + g)/\|s + g\|` with :math:`g \sim \mathcal N(0, \nu^2 I_k)` in a
    :math:`k`-dimensional space and :math:`r = \|s\|/\nu`,

    .. math:: h_k(r) = \frac{r}{\sqrt 2}\,\frac{\Gamma(\tfrac{k+1}{2})}{\Gamma(\tfrac k2 + 1)}\,
              {}_1F_1\!\left(\tfrac12; \tfrac k2 + 1; -\tfrac{r^2}{2}\right),

    so that :math:`\mathbb E\langle u, v\rangle = h_k(r)\,h_k(r')\cos(s, s')` for independent
    noises (Part IV, Figure 2). :math:`h_k(r) \approx r\sqrt{1/k}` for small :math:`r` and
    :math:`\to 1` as :math:`r \to \infty`.
    """
    rr = as_real_array(r, "r")
    if np.any(rr < 0):
        raise ValueError("r must be >= 0")
    k = check_int(k, "k", minimum=1)
    c = np.exp(special.gammaln((k + 1) / 2) - special.gammaln(k / 2 + 1))
    return (rr / np.sqrt(2) * c * special.hyp1f1(0.5, k / 2 + 1, -(rr**2) / 2))[()]


def sphere_inner_product_law(k: int) -> stats.rv_continuous:
    r"""Law of :math:`\langle U, V\rangle` for independent uniform :math:`U, V` on the unit sphere of :math:`\mathbb R^k`.

    Density :math:`\propto (1 - t^2)^{(k-3)/2}` on :math:`[-1, 1]`, i.e.
    :math:`2\,\mathrm{Beta}(\tfrac{k-1}{2}, \tfrac{k-1}{2}) - 1`: mean 0, variance :math:`1/k`.
    The collapsed histogram of Figure 2 (Part IV). Returns a frozen ``scipy.stats`` law; ``k >= 2``.
    """
    k = check_int(k, "k", minimum=2)
    return stats.beta((k - 1) / 2, (k - 1) / 2, loc=-1.0, scale=2.0)


def reduced_ln_cosines(
    a: ArrayLike, a_prime: ArrayLike, k: int, draws: int, *, rng: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    r"""Exact samples of :math:`\langle u, v\rangle` at O(1) cost per draw (Part IV, Theorem 1).

    Same law as :func:`noisy_ln_cosines` in a detail space of dimension :math:`k`, for signals
    whose coordinates in an orthonormal basis of the plane they span are ``a`` and
    ``a_prime`` (2-vectors, in units of the noise level :math:`\nu`). Rotation invariance
    reduces the two :math:`k`-dimensional noises to two Gaussian pairs in the plane, one
    shared Gaussian coordinate along the direction of the second noise's out-of-plane part,
    and two independent :math:`\chi^2` variables with :math:`k-2` and :math:`k-3` degrees of
    freedom (chapter 11 proves the reduction). Needs ``k >= 4``.
    """
    p0 = as_real_array(a, "a").reshape(-1)
    q0 = as_real_array(a_prime, "a_prime").reshape(-1)
    if p0.size != 2 or q0.size != 2:
        raise ValueError("a and a_prime must be 2-vectors (coordinates in the plane of the two signals)")
    k = check_int(k, "k", minimum=4)
    draws = check_int(draws, "draws", minimum=1)
    gen = _generator(rng)
    h, h2 = gen.standard_normal((2, draws, 2))
    A = gen.chisquare(k - 2, draws)
    z = gen.standard_normal(draws)
    B = gen.chisquare(k - 3, draws)
    p, q = p0 + h, q0 + h2
    return ((p * q).sum(axis=1) + np.sqrt(A) * z) / np.sqrt(((p * p).sum(axis=1) + A) * ((q * q).sum(axis=1) + z * z + B))
