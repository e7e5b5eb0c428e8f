r"""Low-precision floating-point formats: rounding to bfloat16 and float16.

:func:`homtrap.quantise` rounds an array to a format and back. Used in :doc:`/book/12_figure2`
(:prf:ref:`rem-rounding-collapse-depth`) and :doc:`/book/19_next_checks` to ask whether the
collapse survives the rounding of the formats networks are trained in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array

__all__ = ["quantise"]


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
