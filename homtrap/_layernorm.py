r"""LayerNorm and the signal-to-noise ratio of the detail it normalises.

LayerNorm without affine parameters, :math:`\mathrm{LN}(y) = \sqrt n\,Py/\|Py\|`, its
unit-norm direction, the amplitude SNR :math:`\gamma` of Theorem 1, exact and Monte-Carlo laws
of the cosine :math:`\langle u, v\rangle` of two normalised noisy signals, and the mean
alignment :math:`h_k(r)` of the LayerNorm direction. Used in Part IV
(:doc:`/book/10_concentration`, :doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
:doc:`/book/13_affine_layernorm`) and Part VI.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ._validation import as_generator, as_real_array, as_vector_stack, check_int, check_positive_scalar, renamed_arguments

__all__ = [
    "amplitude_snr",
    "layer_norm",
    "ln_direction_mean",
    "noisy_ln_cosines",
    "normalise_detail",
    "reduced_ln_cosines",
]


def normalise_detail(y: ArrayLike) -> NDArray[np.float64]:
    r"""Unit-norm detail direction :math:`P y / \|P y\|` along the last axis.

    This is LayerNorm without affine parameters up to the factor :math:`\sqrt n`:
    the projection of :math:`y` onto the unit sphere of :math:`V_\perp`.

    Raises
    ------
    ValueError
        If some vector is constant (its detail part is zero and has no direction).
    """
    y = as_vector_stack(y, "y", min_n=2)
    d = y - y.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(d, axis=-1, keepdims=True)
    scale = np.abs(y).max(axis=-1, keepdims=True)
    if np.any(norm <= 1e-14 * np.maximum(scale, 1e-300)):
        raise ValueError("y has a vector with zero detail part (all entries equal); its direction is undefined")
    return d / norm


@renamed_arguments(gain="weight")
def layer_norm(
    y: ArrayLike,
    weight: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    *,
    eps: float = 0.0,
) -> NDArray[np.float64]:
    r"""LayerNorm along the last axis :cite:p:`ba2016layernorm`.

    .. math::
        \operatorname{LN}(y) = g \odot \frac{y - \bar y \mathbf 1}{\sqrt{\operatorname{var}(y) + \epsilon}} + b,
        \qquad \operatorname{var}(y) = \tfrac1n \|P y\|^2 ,

    the population variance, as in PyTorch. With ``weight=None``, ``bias=None`` and ``eps=0``
    it equals :math:`\sqrt n\, P y / \|P y\|` (see :func:`normalise_detail`).

    Parameters
    ----------
    y : array_like, shape (..., n)
        Input vectors, ``n >= 2``.
    weight, bias : array_like, shape (n,), scalar or broadcastable against ``y``, optional
        Affine parameters :math:`g` and :math:`b` (default 1 and 0).
    eps : float, default 0.0
        Variance floor :math:`\epsilon \ge 0`.

    Raises
    ------
    ValueError
        If ``eps == 0`` and some vector has zero variance (the result would be NaN).
    """
    y = as_vector_stack(y, "y", min_n=2)
    eps = float(as_real_array(eps, "eps"))
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    d = y - y.mean(axis=-1, keepdims=True)
    # rescale before squaring so that huge entries cannot overflow
    scale = np.maximum(np.abs(d).max(axis=-1, keepdims=True), 1e-300)
    var = ((d / scale) ** 2).mean(axis=-1, keepdims=True)
    # a constant vector leaves rounding-level detail (about 1e-16 of its size): treat as zero
    flat = np.sqrt(var) * scale <= 1e-14 * np.maximum(np.abs(y).max(axis=-1, keepdims=True), 1e-300)
    if eps == 0.0 and np.any(flat):
        raise ValueError("y has a vector with zero variance (all entries equal); LayerNorm is undefined there (pass eps > 0)")
    # sqrt(true variance + eps), arranged so that neither branch can overflow
    big = scale >= 1.0
    safe = np.where(big, scale, 1.0)
    with np.errstate(under="ignore"):  # underflow of a tiny variance to 0 is harmless here
        denom = np.where(big, safe * np.sqrt(var + eps / safe**2), np.sqrt(var * np.where(big, 0.0, scale) ** 2 + eps))
    out = d / denom
    for name, param in (("weight", weight), ("bias", bias)):
        if param is None:
            continue
        p = as_real_array(param, name)
        try:
            np.broadcast_shapes(p.shape, y.shape)
        except ValueError:
            raise ValueError(f"{name} must broadcast against y of shape {y.shape}, got shape {p.shape}") from None
        out = out * p if name == "weight" else out + p
    return out


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


@renamed_arguments(draws="size")
def noisy_ln_cosines(
    s: ArrayLike,
    s_prime: ArrayLike,
    noise_std: float,
    size: int,
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
    size : int
        Number of independent noise pairs.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    ndarray, shape (size,)
    """
    a = as_vector_stack(s, "s", min_n=2)
    b = as_vector_stack(s_prime, "s_prime", min_n=2)
    if a.ndim != 1 or b.shape != a.shape:
        raise ValueError(f"s and s_prime must be 1-D of the same length, got shapes {a.shape} and {b.shape}")
    nu = check_positive_scalar(noise_std, "noise_std")
    size = check_int(size, "size", minimum=1)
    gen = as_generator(rng)
    n = a.size
    xi = gen.standard_normal((2, size, n)) * nu
    u = normalise_detail(a + xi[0])
    v = normalise_detail(b + xi[1])
    return np.einsum("ij,ij->i", u, v)


@renamed_arguments(draws="size")
def reduced_ln_cosines(
    a: ArrayLike, a_prime: ArrayLike, k: int, size: int, *, rng: int | np.random.Generator | None = None
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
    size = check_int(size, "size", minimum=1)
    gen = as_generator(rng)
    h, h2 = gen.standard_normal((2, size, 2))
    A = gen.chisquare(k - 2, size)
    z = gen.standard_normal(size)
    B = gen.chisquare(k - 3, size)
    p, q = p0 + h, q0 + h2
    return ((p * q).sum(axis=1) + np.sqrt(A) * z) / np.sqrt(((p * p).sum(axis=1) + A) * ((q * q).sum(axis=1) + z * z + B))


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
