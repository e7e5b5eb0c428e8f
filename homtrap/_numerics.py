r"""Low-precision floating-point formats: rounding to bfloat16 and float16.

Used in :doc:`/book/12_figure2` and :doc:`/book/19_next_checks` to ask whether the collapse
survives the rounding of the formats networks are trained in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array

__all__ = ["quantise"]


def quantise(x: ArrayLike, fmt: str = "bfloat16") -> NDArray[np.float64]:
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
