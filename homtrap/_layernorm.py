r"""LayerNorm and the signal-to-noise ratio of the detail it normalises.

The object is LayerNorm without affine parameters, :math:`\mathrm{LN}(y) = \sqrt n\,Py/\|Py\|`,
and its unit-norm direction :math:`u = Py/\|Py\|` applied to noisy signals
:math:`y = y_0 + \xi`, :math:`\xi \sim \mathcal N(0, \nu^2 I_n)` (:prf:ref:`def-noisy-ln`):
the amplitude SNR :math:`\gamma` of Theorem 1, exact and Monte-Carlo samples of the cosine
:math:`\langle u, v\rangle` of two normalised noisy signals, the mean alignment :math:`h_k(r)`
of the LayerNorm direction and the mean cosine :math:`\mathbb E\langle u, v\rangle` of two
noisy copies of one signal (:prf:ref:`prop-mean-cosine`).

Used in Part IV (:doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
:doc:`/book/13_affine_layernorm`) and in :doc:`/book/19_next_checks`,
:doc:`/book/20_open_questions` and :doc:`/book/21_diagnose`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, special

from ._detail import centring_projector
from ._validation import as_generator, as_real_array, as_vector_stack, check_int, check_positive_scalar, renamed_arguments

__all__ = [
    "GainCosineVariance",
    "amplitude_snr",
    "gain_cosine_variance",
    "layer_norm",
    "ln_direction_mean",
    "mean_ln_cosine",
    "mean_ln_cosine_expansion",
    "noisy_ln_cosines",
    "normalise_detail",
    "reduced_ln_cosines",
]


def normalise_detail(y: ArrayLike) -> NDArray[np.float64]:
    r"""Unit-norm detail direction :math:`P y / \|P y\|` along the last axis.

    This is LayerNorm without affine parameters up to the factor :math:`\sqrt n`:
    the projection of :math:`y` onto the unit sphere of :math:`V_\perp`,

    .. math:: u = \frac{P y}{\|P y\|}, \qquad P = I - J/n .

    Parameters
    ----------
    y : array_like, shape (..., n)
        Real, finite vectors, ``n >= 2``; leading axes are a batch.

    Returns
    -------
    ndarray, shape (..., n)
        Unit vectors with zero mean.

    Raises
    ------
    TypeError
        If ``y`` is not a real numeric array.
    ValueError
        If ``y`` is a scalar, has fewer than 2 entries along its last axis or a non-finite
        entry, or some vector is constant (its detail part is zero, relative to its size,
        and has no direction).

    See Also
    --------
    layer_norm : the same direction times :math:`\sqrt n`, with affine parameters.
    homtrap.detail : the detail :math:`Py` itself.

    Notes
    -----
    Used in :doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
    :doc:`/book/13_affine_layernorm` and :doc:`/book/19_next_checks` (there under its
    deprecated name ``normalize_detail``).

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> y = np.array([1.0, 2.0, 3.0, 6.0])
    >>> u = homtrap.normalise_detail(y)
    >>> np.round(u, 6).tolist()
    [-0.534522, -0.267261, 0.0, 0.801784]
    >>> round(float(u.sum()), 12), round(float(u @ u), 12)  # zero mean, unit norm
    (0.0, 1.0)
    >>> bool(np.allclose(u, homtrap.layer_norm(y) / np.sqrt(4)))  # LayerNorm up to sqrt(n)
    True
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
        Real, finite input vectors, ``n >= 2``; leading axes are a batch.
    weight, bias : array_like, shape (n,), scalar or broadcastable against ``y``, optional
        Affine parameters :math:`g` and :math:`b` (default ``None``: 1 and 0).
        ``gain`` is the deprecated name of ``weight``.
    eps : float, default 0.0
        Variance floor :math:`\epsilon \ge 0` (PyTorch's default is ``1e-5``).

    Returns
    -------
    ndarray
        :math:`\operatorname{LN}(y)`, of the broadcast shape of ``y``, ``weight`` and ``bias``.

    Raises
    ------
    TypeError
        If ``y``, ``weight``, ``bias`` or ``eps`` is not real.
    ValueError
        If ``y`` has fewer than 2 entries along its last axis or a non-finite entry, if
        ``eps < 0``, if ``weight`` or ``bias`` does not broadcast against ``y``, or if
        ``eps == 0`` and some vector has zero variance (the result would be NaN).

    See Also
    --------
    normalise_detail : the unit-norm direction :math:`Py/\|Py\|`.

    Notes
    -----
    Huge and tiny inputs are rescaled before squaring, so the result is finite whenever it
    is representable. A vector whose detail is below :math:`10^{-14}` of its largest entry
    counts as constant.

    Used in :doc:`/book/11_theorem1`, :doc:`/book/12_figure2` and
    :doc:`/book/13_affine_layernorm`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> y = np.array([1.0, 2.0, 3.0, 6.0])
    >>> np.round(homtrap.layer_norm(y), 6).tolist()
    [-1.069045, -0.534522, 0.0, 1.603567]
    >>> ln = homtrap.layer_norm(y, weight=2.0, bias=1.0, eps=1e-5)
    >>> d = y - y.mean()
    >>> bool(np.allclose(ln, 2.0 * d / np.sqrt(d.var() + 1e-5) + 1.0))  # the formula by hand
    True
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


class GainCosineVariance(NamedTuple):
    r"""The exact law of :math:`C_g = \cos(D_g u, D_g v)` for pure noise (unpacks as ``variance, r, eigenvalues``).

    Attributes
    ----------
    variance : float
        :math:`\operatorname{Var} C_g = \sum_i r_i^2`; :math:`1/\text{variance}` is the effective
        dimension :math:`k_{\mathrm{eff}}`.
    r : ndarray, shape (n - 1,)
        The weights :math:`r_i` of the nonzero eigenvalues; :math:`\sum_i r_i = 1`.
    eigenvalues : ndarray, shape (n - 1,)
        The nonzero eigenvalues :math:`\lambda_i` of :math:`D_g P D_g`, ascending.

    See Also
    --------
    gain_cosine_variance : returns it.
    """

    variance: float
    r: NDArray[np.float64]
    eigenvalues: NDArray[np.float64]


def gain_cosine_variance(weight: ArrayLike) -> GainCosineVariance:
    r"""Exact variance of the cosine of two pure-noise LayerNorm outputs after a gain.

    For :math:`u, v` independent and uniform on the unit sphere of :math:`V_\perp` and a gain
    (LayerNorm's weight) :math:`g` with no zero entry, :math:`C_g = \cos(D_g u, D_g v)` has
    :math:`\mathbb E C_g = 0` and (:prf:ref:`prop-gain-pure-noise`)

    .. math::

        \operatorname{Var} C_g = \sum_i r_i^2 \ge \frac{1}{n-1}, \qquad
        r_i = \int_0^\infty \frac{\lambda_i}{1 + 2t\lambda_i} \prod_j (1 + 2t\lambda_j)^{-1/2}\, dt ,

    with :math:`\lambda_i` the eigenvalues of :math:`D_g P D_g` and :math:`\sum_i r_i = 1`; equality
    holds exactly for gains of constant modulus. Used in :doc:`/book/13_affine_layernorm`.

    Parameters
    ----------
    weight : array_like, shape (n,)
        The gain :math:`g`, real, finite, no zero entry, ``n >= 3``.

    Returns
    -------
    GainCosineVariance
        ``variance``, the weights ``r`` and the ``eigenvalues`` (the zero eigenvalue, with
        eigenvector :math:`D_g^{-1}\mathbf 1`, is dropped: its weight is 0).

    Raises
    ------
    ValueError
        If ``weight`` is not 1-D with ``n >= 3`` entries, holds NaN/inf or a zero.
    TypeError
        If ``weight`` is not real.

    Notes
    -----
    The integrals are evaluated together by ``scipy.integrate.quad_vec`` (absolute tolerance
    ``1e-14``, relative ``1e-10``); eigenvalues below ``1e-12`` times the largest count as zero.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> res = homtrap.gain_cosine_variance(np.full(9, 1.7))  # a constant gain changes nothing
    >>> round(res.variance * 8, 9), round(float(res.r.sum()), 9)
    (1.0, 1.0)
    >>> g = np.ones(9); g[:3] = 10.0  # a spiky gain widens the law: fewer effective dimensions
    >>> bool(1 / homtrap.gain_cosine_variance(g).variance < 8)
    True
    """
    g = as_real_array(weight, "weight")
    if g.ndim != 1 or g.size < 3:
        raise ValueError(f"weight must be 1-D with at least 3 entries, got shape {g.shape}")
    if np.any(g == 0):
        raise ValueError("weight must have no zero entry (D_g must be invertible)")
    P = centring_projector(g.size)
    lam = np.linalg.eigvalsh(np.diag(g) @ P @ np.diag(g))
    lam = lam[lam > 1e-12 * lam.max()]  # the zero eigenvalue contributes r = 0
    integrand = lambda t: lam / (1 + 2 * t * lam) * np.exp(-0.5 * np.log1p(2 * t * lam).sum())  # noqa: E731
    r, _ = integrate.quad_vec(integrand, 0, np.inf, epsabs=1e-14, epsrel=1e-10)
    return GainCosineVariance(float((r**2).sum()), r, lam)


@renamed_arguments(s="signal", s_prime="signal_prime")
def amplitude_snr(signal: ArrayLike, signal_prime: ArrayLike, noise_std: float) -> NDArray[np.float64] | np.float64:
    r"""Amplitude SNR :math:`\gamma = \max(\|Py_0\|, \|Py_0'\|) / (\nu \sqrt{n-1})` along the last axis.

    The ratio of the larger clean detail to the typical length :math:`\nu\sqrt{n-1}` of the
    noise's detail, the :math:`\gamma` of Theorem 1 (:prf:ref:`thm-orthogonal-collapse`):

    .. math:: \gamma = \frac{\max(\|Py_0\|, \|Py_0'\|)}{\nu\sqrt{n - 1}} .

    Parameters
    ----------
    signal, signal_prime : array_like, shape (..., n)
        Clean signals :math:`y_0, y_0'`, ``n >= 2``; their leading axes broadcast (``s``,
        ``s_prime`` are their deprecated names).
    noise_std : float
        Noise level :math:`\nu > 0`.

    Returns
    -------
    float or ndarray, shape (...)
        :math:`\gamma` (a numpy scalar for a single pair).

    Raises
    ------
    TypeError
        If an argument is not real.
    ValueError
        If ``signal`` or ``signal_prime`` has fewer than 2 entries or a non-finite entry, their lengths
        differ, or ``noise_std`` is not a finite number > 0.

    See Also
    --------
    theorem1_bound : the bound :math:`\varepsilon + 8\gamma` in terms of it.
    noisy_ln_cosines : samples of the cosine it governs.

    Notes
    -----
    Used in :doc:`/book/11_theorem1`, :doc:`/book/12_figure2` and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> s = np.array([1.0, -1.0, 0.5, -0.5])
    >>> s2 = np.array([0.0, 1.0, 0.0, -1.0]) + 7.0  # a mean does not count
    >>> round(float(homtrap.amplitude_snr(s, s2, 0.5)), 6)
    1.825742
    >>> round(float(np.linalg.norm(s - s.mean()) / (0.5 * np.sqrt(3))), 6)  # s has the larger detail
    1.825742
    """
    a = as_vector_stack(signal, "signal", min_n=2)
    b = as_vector_stack(signal_prime, "signal_prime", min_n=2)
    nu = check_positive_scalar(noise_std, "noise_std")
    n = a.shape[-1]
    if b.shape[-1] != n:
        raise ValueError(f"signal and signal_prime must have the same length, got {n} and {b.shape[-1]}")
    na = np.linalg.norm(a - a.mean(axis=-1, keepdims=True), axis=-1)
    nb = np.linalg.norm(b - b.mean(axis=-1, keepdims=True), axis=-1)
    return (np.maximum(na, nb) / (nu * np.sqrt(n - 1)))[()]


@renamed_arguments(draws="size", s="signal", s_prime="signal_prime")
def noisy_ln_cosines(
    signal: ArrayLike,
    signal_prime: ArrayLike,
    noise_std: float,
    size: int,
    *,
    rng: int | np.random.Generator | None = None,
) -> NDArray[np.float64]:
    r"""Monte-Carlo samples of :math:`\langle u, v\rangle`, :math:`u = \mathrm{LN}(y_0+\xi)`, :math:`v = \mathrm{LN}(y_0'+\xi')`.

    Here :math:`\mathrm{LN}(y) = Py/\|Py\|` (unit-norm LayerNorm) and :math:`\xi, \xi'` are
    independent :math:`\mathcal N(0, \nu^2 I_n)`.

    Cost :math:`O(\text{size}\cdot n)`; :func:`reduced_ln_cosines` draws from the same law at
    :math:`O(1)` per sample.

    Parameters
    ----------
    signal, signal_prime : array_like, shape (n,)
        Clean signals :math:`y_0, y_0'`, ``n >= 2``, of the same length (``s``, ``s_prime`` are
        their deprecated names).
    noise_std : float
        Noise level :math:`\nu > 0`.
    size : int
        Number of independent noise pairs, ``>= 1`` (``draws`` is its deprecated name).
    rng : int, numpy.random.Generator or None, optional
        Seed or generator of the noise (``None``: fresh entropy).

    Returns
    -------
    ndarray, shape (size,)
        The cosines :math:`\langle u, v\rangle \in [-1, 1]`.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``size`` not an integer, ``rng`` not a seed or
        generator).
    ValueError
        If ``signal`` and ``signal_prime`` are not 1-D of the same length ``>= 2``, ``noise_std`` is not
        > 0, ``size < 1``, or a noisy signal is constant (probability zero).

    See Also
    --------
    reduced_ln_cosines : exact samples of the same law at O(1) cost per draw.
    mean_ln_cosine : the exact mean for ``signal == signal_prime``.
    theorem1_bound : the bound these samples obey with high probability.

    Notes
    -----
    Used in :doc:`/book/11_theorem1`, :doc:`/book/20_open_questions` and
    :doc:`/book/21_diagnose`.

    Examples
    --------
    Two noisy copies of one signal: the sample mean matches the exact mean
    (:prf:ref:`prop-mean-cosine`) within a few standard errors.

    >>> import numpy as np, homtrap
    >>> from homtrap._layernorm import mean_ln_cosine
    >>> s = np.arange(8.0)
    >>> c = homtrap.noisy_ln_cosines(s, s, 1.0, 20_000, rng=0)
    >>> gamma = float(homtrap.amplitude_snr(s, s, 1.0))
    >>> exact = float(mean_ln_cosine(gamma, 7))
    >>> round(exact, 4), bool(abs(c.mean() - exact) < 4 * c.std() / np.sqrt(c.size))
    (0.8714, True)
    """
    a = as_vector_stack(signal, "signal", min_n=2)
    b = as_vector_stack(signal_prime, "signal_prime", min_n=2)
    if a.ndim != 1 or b.shape != a.shape:
        raise ValueError(f"signal and signal_prime must be 1-D of the same length, got shapes {a.shape} and {b.shape}")
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
    freedom (:prf:ref:`lem-reduced-sampler`): with :math:`p = a + h`, :math:`q = a' + h'`
    (:math:`h, h'` standard normal in the plane), :math:`A \sim \chi^2_{k-2}`,
    :math:`z \sim \mathcal N(0, 1)` and :math:`B \sim \chi^2_{k-3}`,

    .. math:: \langle u, v\rangle = \frac{\langle p, q\rangle + \sqrt A\,z}
              {\sqrt{(\|p\|^2 + A)(\|q\|^2 + z^2 + B)}} .

    Parameters
    ----------
    a, a_prime : array_like, shape (2,)
        Coordinates of :math:`y_0/\nu` and :math:`y_0'/\nu` in an orthonormal basis of a plane
        containing both (for example ``[gamma * sqrt(k), 0]``).
    k : int
        Dimension of the detail space, ``k >= 4`` (``n - 1`` for signals of length ``n``).
    size : int
        Number of samples, ``>= 1`` (``draws`` is its deprecated name).
    rng : int, numpy.random.Generator or None, optional
        Seed or generator (``None``: fresh entropy).

    Returns
    -------
    ndarray, shape (size,)
        Samples of :math:`\langle u, v\rangle`.

    Raises
    ------
    TypeError
        If ``a`` or ``a_prime`` is not real, ``k`` or ``size`` not an integer, or ``rng`` not a
        seed or generator.
    ValueError
        If ``a`` or ``a_prime`` is not a finite 2-vector, ``k < 4`` or ``size < 1``.

    See Also
    --------
    noisy_ln_cosines : direct simulation in :math:`\mathbb R^n`, the independent check.

    Notes
    -----
    Used in :doc:`/book/11_theorem1`, :doc:`/book/13_affine_layernorm` and
    :doc:`/book/20_open_questions`.

    Examples
    --------
    The reduced sampler against direct simulation in :math:`\mathbb R^{64}` (a
    two-sample Kolmogorov–Smirnov test does not reject):

    >>> import numpy as np, homtrap
    >>> from scipy import stats
    >>> n, gamma = 64, 0.3
    >>> s = homtrap.detail(np.arange(n, dtype=float))
    >>> s *= gamma * np.sqrt(n - 1) / np.linalg.norm(s)  # amplitude SNR gamma, noise 1
    >>> direct = homtrap.noisy_ln_cosines(s, s, 1.0, 5_000, rng=0)
    >>> a = [gamma * np.sqrt(n - 1), 0.0]
    >>> reduced = homtrap.reduced_ln_cosines(a, a, n - 1, 50_000, rng=1)
    >>> bool(stats.ks_2samp(direct, reduced).pvalue > 1e-3)
    True
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
    r"""Mean alignment :math:`h_k(r) = \mathbb E\,\langle u, y_0/\|y_0\|\rangle` of the LayerNorm direction.

    For :math:`u = (y_0 + g)/\|y_0 + g\|` with :math:`g \sim \mathcal N(0, \nu^2 I_k)` in a
    :math:`k`-dimensional space and :math:`r = \|y_0\|/\nu`,

    .. math:: h_k(r) = \frac{r}{\sqrt 2}\,\frac{\Gamma(\tfrac{k+1}{2})}{\Gamma(\tfrac k2 + 1)}\,
              {}_1F_1\!\left(\tfrac12; \tfrac k2 + 1; -\tfrac{r^2}{2}\right),

    so that :math:`\mathbb E\langle u, v\rangle = h_k(r)\,h_k(r')\cos(y_0, y_0')` for independent
    noises (:prf:ref:`prop-noisy-cosine-mean`, Figure 2). :math:`h_k(r) \approx r\sqrt{1/k}`
    for small :math:`r` and :math:`\to 1` as :math:`r \to \infty`.

    Parameters
    ----------
    r : array_like of float
        Signal-to-noise length ratio :math:`r = \|y_0\|/\nu \ge 0`; any shape.
    k : int
        Dimension of the space, ``k >= 1``.

    Returns
    -------
    float or ndarray
        :math:`h_k(r) \in [0, 1)`, of the shape of ``r``.

    Raises
    ------
    TypeError
        If ``r`` is not real or ``k`` not an integer.
    ValueError
        If some ``r`` is negative or not finite, or ``k < 1``.

    See Also
    --------
    mean_ln_cosine : :math:`h_k(\gamma\sqrt k)^2`, the mean cosine of two noisy copies.

    Notes
    -----
    The gamma-function ratio is evaluated through ``gammaln`` and the confluent
    hypergeometric function by ``scipy.special.hyp1f1``.

    Used in :doc:`/book/11_theorem1`, :doc:`/book/12_figure2`,
    :doc:`/book/13_affine_layernorm`, :doc:`/book/19_next_checks`,
    :doc:`/book/20_open_questions` and :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> np.round(homtrap.ln_direction_mean([0.0, 1.0, 10.0], 5), 6).tolist()
    [0.0, 0.397496, 0.9803]

    A Monte-Carlo check in :math:`\mathbb R^5` with :math:`r = 1`:

    >>> g = np.random.default_rng(0).standard_normal((100_000, 5))
    >>> s = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    >>> u = (s + g) / np.linalg.norm(s + g, axis=1, keepdims=True)
    >>> bool(abs(u[:, 0].mean() - homtrap.ln_direction_mean(1.0, 5)) < 4 * u[:, 0].std() / np.sqrt(1e5))
    True
    """
    rr = as_real_array(r, "r")
    if np.any(rr < 0):
        raise ValueError("r must be >= 0")
    k = check_int(k, "k", minimum=1)
    c = np.exp(special.gammaln((k + 1) / 2) - special.gammaln(k / 2 + 1))
    return (rr / np.sqrt(2) * c * special.hyp1f1(0.5, k / 2 + 1, -(rr**2) / 2))[()]


def _nonneg_gamma(gamma: ArrayLike) -> NDArray[np.float64] | np.float64:
    """``gamma`` as a float array (a numpy scalar if 0-d) after checking it is finite and >= 0."""
    g = as_real_array(gamma, "gamma")
    if np.any(g < 0):
        raise ValueError("gamma must be >= 0")
    return g[()]


def mean_ln_cosine(gamma: ArrayLike, k: int) -> NDArray[np.float64] | np.float64:
    r"""Exact mean cosine :math:`\mathbb E\langle u, v\rangle = h_k(\gamma\sqrt k)^2` of two noisy copies of one signal.

    For :math:`y_0 = y_0' \in V_\perp` with amplitude SNR :math:`\gamma = \|y_0\|/(\nu\sqrt k)` in a
    detail space of dimension :math:`k`, :prf:ref:`prop-mean-cosine` gives
    :math:`\mathbb E\langle u, v\rangle = m^2` with :math:`m = \mathbb E\langle u, \hat{y}_0\rangle`,
    and :prf:ref:`prop-noisy-cosine-mean` gives :math:`m` in closed form
    (:func:`ln_direction_mean`):

    .. math::

        \mathbb E\langle u, v\rangle = h_k\bigl(\gamma\sqrt k\bigr)^2
        = \frac{\gamma^2}{1 + \gamma^2}\Bigl(1 + \frac{\gamma^2 - 1/2}{k(1+\gamma^2)^2} + O(k^{-2})\Bigr).

    For :math:`y_0 \perp y_0'` the mean is 0.

    Parameters
    ----------
    gamma : array_like of float
        Amplitude SNR :math:`\gamma \ge 0` (:func:`amplitude_snr` with ``signal_prime = signal``); any shape.
    k : int
        Detail dimension :math:`k = n - 1 \ge 2`.

    Returns
    -------
    float or ndarray
        :math:`h_k(\gamma\sqrt k)^2 \in [0, 1)`, of the shape of ``gamma``.

    Raises
    ------
    TypeError
        If ``gamma`` is not real or ``k`` not an integer.
    ValueError
        If some ``gamma`` is negative or not finite, or ``k < 2``.

    See Also
    --------
    mean_ln_cosine_expansion : the approximations :math:`\gamma^2/(1+\gamma^2)` and its
        :math:`1/k` correction.
    ln_direction_mean : :math:`h_k(r)`.
    noisy_ln_cosines, reduced_ln_cosines : samples whose mean this is.

    Notes
    -----
    Computed as ``ln_direction_mean(gamma * sqrt(k), k) ** 2``, the arithmetic of the
    chapter's ``mean_cosine_exact``.

    Used in :doc:`/book/11_theorem1`.

    Examples
    --------
    At :math:`k = 1023` and :math:`\gamma = 1/2` the mean is just below the heuristic
    :math:`\gamma^2/(1+\gamma^2) = 0.2`; a Monte-Carlo mean from the reduced sampler agrees:

    >>> import numpy as np, homtrap
    >>> from homtrap._layernorm import mean_ln_cosine
    >>> exact = float(mean_ln_cosine(0.5, 1023))
    >>> round(exact, 6)
    0.199969
    >>> a = [0.5 * np.sqrt(1023), 0.0]
    >>> c = homtrap.reduced_ln_cosines(a, a, 1023, 100_000, rng=0)
    >>> bool(abs(c.mean() - exact) < 4 * c.std() / np.sqrt(c.size))
    True
    """
    g = _nonneg_gamma(gamma)
    k = check_int(k, "k", minimum=2)
    return ln_direction_mean(g * np.sqrt(k), k) ** 2


def mean_ln_cosine_expansion(gamma: ArrayLike, k: int | None = None) -> NDArray[np.float64] | np.float64:
    r"""Large-:math:`k` approximations of :func:`mean_ln_cosine`: :math:`\gamma^2/(1+\gamma^2)` and its :math:`1/k` correction.

    With ``k=None`` the heuristic of :prf:ref:`prop-mean-cosine` (the squared length of the
    noisy detail replaced by its mean), the power SNR over one plus the power SNR:

    .. math:: \mathbb E\langle u, v\rangle \approx \frac{\gamma^2}{1 + \gamma^2},

    with relative error :math:`O(1/k)`. With ``k`` given, the second-order expansion (from
    :math:`(1+\eta)^{-1/2} = 1 - \eta/2 + 3\eta^2/8 - \dots`, not proved rigorous in the book but
    checked numerically to relative error below :math:`1/k^2`):

    .. math:: \mathbb E\langle u, v\rangle \approx \frac{\gamma^2}{1 + \gamma^2}
              \Bigl(1 + \frac{\gamma^2 - 1/2}{k(1 + \gamma^2)^2}\Bigr).

    Parameters
    ----------
    gamma : array_like of float
        Amplitude SNR :math:`\gamma \ge 0`; any shape.
    k : int or None, default None
        Detail dimension :math:`k \ge 1` for the second-order formula; ``None`` for the
        first-order heuristic.

    Returns
    -------
    float or ndarray
        The approximation, of the shape of ``gamma``.

    Raises
    ------
    TypeError
        If ``gamma`` is not real or ``k`` is neither ``None`` nor an integer.
    ValueError
        If some ``gamma`` is negative or not finite, or ``k < 1``.

    See Also
    --------
    mean_ln_cosine : the exact value.

    Notes
    -----
    The arithmetic is that of the chapter's ``heuristic`` and ``second_order``, operation for
    operation (bit-identical for scalar ``gamma``).

    Used in :doc:`/book/11_theorem1`.

    Examples
    --------
    The relative errors against the exact mean at :math:`k = 63`, below :math:`1/k` and
    :math:`1/k^2`:

    >>> import numpy as np
    >>> from homtrap._layernorm import mean_ln_cosine, mean_ln_cosine_expansion
    >>> g = np.array([0.1, 0.3, 0.5])
    >>> exact = mean_ln_cosine(g, 63)
    >>> first = mean_ln_cosine_expansion(g)
    >>> second = mean_ln_cosine_expansion(g, 63)
    >>> np.round(first, 6).tolist()
    [0.009901, 0.082569, 0.2]
    >>> bool(np.all(np.abs(first / exact - 1) <= 1 / 63)), bool(np.all(np.abs(second / exact - 1) <= 1 / 63**2))
    (True, True)
    """
    g = _nonneg_gamma(gamma)
    heuristic = g**2 / (1 + g**2)
    if k is None:
        return heuristic
    k = check_int(k, "k", minimum=1)
    return heuristic * (1 + (g**2 - 0.5) / (k * (1 + g**2) ** 2))
