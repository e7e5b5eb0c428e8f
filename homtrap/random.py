"""Random doubly-stochastic matrices: Sinkhorn of Gaussian logits.

Used in every chapter; defined in :doc:`/book/01_dsm_detail_subspace`.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import NDArray

from ._validation import check_int, check_positive_scalar
from .sinkhorn import sinkhorn

__all__ = ["random_dsm", "random_logits"]

SizeLike = int | tuple[int, ...] | None


def _batch_shape(size: SizeLike) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return (check_int(size, "size", minimum=1),)
    if isinstance(size, tuple):
        return tuple(check_int(s, "size", minimum=1) for s in size)
    raise TypeError(f"size must be None, an int or a tuple of ints, got {type(size).__name__}")


def _generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def random_logits(
    n: int,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
) -> NDArray[np.float64]:
    r"""I.i.d. :math:`\mathcal N(0, \text{scale}^2)` logits of shape ``(*size, n, n)``.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    size : int or tuple of int, optional
        Batch shape; ``None`` gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None
        Seed or generator (Scientific Python SPEC 7); the same seed gives the same logits.
    scale : float, default 1.0
        Standard deviation of every logit.

    Returns
    -------
    ndarray, shape ``(*size, n, n)``
    """
    n = check_int(n, "n", minimum=1)
    scale = check_positive_scalar(scale, "scale")
    shape = _batch_shape(size) + (n, n)
    return _generator(rng).standard_normal(shape) * scale


def random_dsm(
    n: int,
    temperature: float = 1.0,
    *,
    size: SizeLike = None,
    rng: int | np.random.Generator | None = None,
    scale: float = 1.0,
    tol: float = 1e-12,
) -> NDArray[np.float64]:
    r"""Random doubly-stochastic matrices :math:`M_T = S(\exp(G/T))`, :math:`G_{ij} \sim \mathcal N(0, \text{scale}^2)`.

    Parameters
    ----------
    n : int
        Matrix size, ``n >= 1``.
    temperature : float, default 1.0
        Sinkhorn temperature :math:`T > 0`.
    size : int or tuple of int, optional
        Batch shape; ``None`` gives a single ``(n, n)`` matrix.
    rng : int, numpy.random.Generator or None
        Seed or generator; ``random_dsm(n, T, size=s, rng=k)`` equals
        ``sinkhorn(random_logits(n, size=s, rng=k), T)``.
    scale : float, default 1.0
        Standard deviation of the logits (only ``scale / T`` matters).
    tol : float, default 1e-12
        Sinkhorn tolerance on the row and column sums.

    Returns
    -------
    ndarray, shape ``(*size, n, n)``

    Examples
    --------
    >>> import homtrap
    >>> M = homtrap.random_dsm(4, 1.0, size=3, rng=0)
    >>> M.shape
    (3, 4, 4)
    """
    T = check_positive_scalar(temperature, "temperature")
    G = random_logits(n, size=size, rng=rng, scale=scale)
    return sinkhorn(G, T, tol=tol)
