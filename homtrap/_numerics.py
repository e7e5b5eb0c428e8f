r"""Low-precision floating-point formats: rounding to bfloat16 and float16.

:func:`homtrap.quantise` rounds an array to a format and back. Used in :doc:`/book/12_figure2`
(:prf:ref:`rem-rounding-collapse-depth`) and :doc:`/book/19_next_checks` to ask whether the
collapse survives the rounding of the formats networks are trained in; :func:`homtrap.rounding_noise`
is the standard deviation of that rounding, the noise level of a collapse depth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, check_int

__all__ = ["quantise", "rounding_noise"]


def quantise(x: ArrayLike, fmt: str = "bfloat16") -> NDArray[np.float64]:
    r"""Round to a low-precision format and back to float64 (round to nearest, ties to even).

    ``"float16"`` uses numpy's IEEE half precision (10 stored mantissa bits, unit roundoff
    :math:`2^{-11}`); ``"bfloat16"`` keeps float32's 8-bit exponent and the top 7 stored mantissa
    bits (unit roundoff :math:`2^{-8}`), emulated on the float32 bit pattern. In the normal range
    the relative rounding error is at most the unit roundoff. Used in :doc:`/book/12_figure2` and :doc:`/book/19_next_checks`.

    Parameters
    ----------
    x : array_like
        Real, finite values, any shape.
    fmt : {"bfloat16", "float16"}, default "bfloat16"
        The target format.

    Returns
    -------
    ndarray of float, same shape as ``x``
        The rounded values, as float64.

    Raises
    ------
    ValueError
        If ``fmt`` is not one of the two names, ``x`` holds NaN/inf, or (``"float16"``) a value
        overflows float16 (largest finite value 65504).
    TypeError
        If ``x`` is not a real numeric array.

    Notes
    -----
    bfloat16 goes through float32 first (itself round to nearest), then rounds the 32-bit
    pattern to its top 16 bits; values beyond bfloat16's range become ``inf`` without an error,
    unlike float16.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> homtrap.quantise(np.array([1 / 3, 1 + 2**-8, 1 + 3 * 2**-8]))  # ties go to the even neighbour
    array([0.33398438, 1.        , 1.015625  ])
    >>> bool(homtrap.quantise(1 / 3, "float16") == float(np.float16(1 / 3)))
    True
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


#: significant bits (stored mantissa bits plus the implicit one) of the formats rounding_noise knows
_SIGNIFICANT_BITS = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}


def rounding_noise(fmt: str | int = "bfloat16") -> float:
    r"""Standard deviation :math:`\nu_q = \mathrm{ulp}/\sqrt{12}` of rounding values in :math:`[1, 2)`.

    With :math:`p` significant bits the spacing of representable numbers in :math:`[1, 2)` is
    :math:`\mathrm{ulp} = 2^{1-p}`; rounding to nearest leaves an error spread uniformly over
    :math:`[-\mathrm{ulp}/2, \mathrm{ulp}/2]` for values spread over many ulps, whose standard
    deviation is

    .. math::

        \nu_q = \frac{2^{1-p}}{\sqrt{12}} .

    It is the noise level of low-precision storage in the collapse depth
    (:prf:ref:`rem-rounding-collapse-depth`, :func:`homtrap.collapse_depth`). Used in
    :doc:`/book/21_diagnose` and :doc:`/book/22_tradeoff_map`.

    Parameters
    ----------
    fmt : {"bfloat16", "float16", "float32", "float64"} or int, default "bfloat16"
        A format (8, 11, 24 and 53 significant bits), or the number of significant bits
        :math:`p \ge 1` itself (the stored mantissa bits plus the implicit leading one).

    Returns
    -------
    float
        :math:`\nu_q`.

    Raises
    ------
    ValueError
        If ``fmt`` is a string other than the four names, or an integer ``< 1``.
    TypeError
        If ``fmt`` is neither a string nor an integer.

    See Also
    --------
    quantise : The rounding itself.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> homtrap.rounding_noise("bfloat16") == float(2.0**-7 / np.sqrt(12)) == homtrap.rounding_noise(8)
    True
    >>> x = np.random.default_rng(0).uniform(1, 2, 100_000)  # the measured rounding error
    >>> round(float(np.std(homtrap.quantise(x) - x) / homtrap.rounding_noise()), 2)
    1.0
    """
    if isinstance(fmt, str):
        if fmt not in _SIGNIFICANT_BITS:
            raise ValueError(f"fmt must be one of {sorted(_SIGNIFICANT_BITS)} or a number of bits, got {fmt!r}")
        p = _SIGNIFICANT_BITS[fmt]
    else:
        p = check_int(fmt, "fmt", minimum=1)
    return float(2.0 ** (1 - p) / np.sqrt(12))
