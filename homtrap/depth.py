r"""Effective depth :math:`D_\text{eff}(\varepsilon) = \min\{L : \sigma_2^L \le \varepsilon\}`.

Used in Part III; the high-temperature form appears in Part II.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, check_open_unit

__all__ = ["effective_depth"]


def effective_depth(sigma2: ArrayLike, eps: ArrayLike) -> NDArray[np.float64] | np.float64:
    r"""Smallest number of layers :math:`L \ge 0` with :math:`\sigma_2^L \le \varepsilon`.

    .. math::
        D_\text{eff}(\varepsilon) = \left\lceil \frac{\ln(1/\varepsilon)}{\ln(1/\sigma_2)} \right\rceil ,

    computed exactly (the ceiling is corrected against rounding by checking
    :math:`\sigma_2^{L-1} > \varepsilon \ge \sigma_2^L`). It is infinite when
    :math:`\sigma_2 = 1` and equals 1 when :math:`\sigma_2 = 0`.

    Parameters
    ----------
    sigma2 : array_like
        Values in :math:`[0, 1]`.
    eps : array_like
        Target contraction factors in :math:`(0, 1)`; broadcast against ``sigma2``.

    Returns
    -------
    float or ndarray of float
        Integer-valued depths (``inf`` where ``sigma2 == 1``).
    """
    s = as_real_array(sigma2, "sigma2")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"sigma2 must lie in [0, 1]; got values in [{s.min()}, {s.max()}]")
    e = check_open_unit(eps, "eps")
    s, e = np.broadcast_arrays(s, e)
    out = np.full(s.shape, np.inf)
    zero = s == 0
    out[zero] = 1.0
    mid = (s > 0) & (s < 1)
    sm, em = s[mid], e[mid]
    L = np.ceil(np.log(em) / np.log(sm))
    L = np.where(sm ** (L - 1) <= em, L - 1, L)
    L = np.where(sm**L > em, L + 1, L)
    out[mid] = np.maximum(L, 1.0)
    return out[()]
