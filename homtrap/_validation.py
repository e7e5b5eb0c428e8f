"""Input validation shared by every public function.

Every check raises :class:`TypeError` (wrong kind of object) or :class:`ValueError`
(right kind, bad value) with a message that names the offending argument, so that bad
input never turns into a silent NaN or a hang further down.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_real_array",
    "as_square_stack",
    "as_vector_stack",
    "check_positive_scalar",
    "check_real_scalar",
    "check_int",
    "check_open_unit",
    "finite_range",
    "as_generator",
    "as_batch_shape",
    "renamed_arguments",
]

F = TypeVar("F", bound=Callable[..., Any])


def as_real_array(x: ArrayLike, name: str, *, check_finite: bool = True) -> NDArray[np.float64]:
    """Convert ``x`` to a finite float64 array, rejecting non-real and non-finite input.

    Parameters
    ----------
    x : array_like
        The input.
    name : str
        The argument's name, used in error messages.
    check_finite : bool, default True
        ``False`` leaves the NaN/inf check to the caller (who then calls :func:`finite_range`,
        which also returns the range).

    Returns
    -------
    ndarray of float64
        A (possibly new) array with the same shape as ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, is complex or is boolean.
    ValueError
        If ``x`` is empty or holds NaN or infinite entries.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be a real numeric array; could not convert it ({exc})") from exc
    kind = arr.dtype.kind  # one character; cheaper than np.issubdtype on every call
    if kind == "b":
        raise TypeError(f"{name} must be a real numeric array, got a boolean array")
    if kind == "c":
        raise TypeError(f"{name} must be real, got a complex array")
    if kind not in "iuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if check_finite:
        finite_range(arr, name)
    return arr


def finite_range(arr: NDArray[np.float64], name: str) -> tuple[float, float]:
    """``(min, max)`` of a float array, raising ``ValueError`` if any entry is NaN or infinite.

    ``min`` and ``max`` propagate NaN and show infinities: two fast reductions instead of a
    boolean mask over the whole array.
    """
    lo, hi = float(arr.min()), float(arr.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; found {bad} NaN/inf entries")
    return lo, hi


def as_square_stack(x: ArrayLike, name: str, *, min_n: int = 1, check_finite: bool = True) -> NDArray[np.float64]:
    """Validate a stack of square matrices of shape ``(..., n, n)``.

    Parameters
    ----------
    x : array_like
        The input.
    name : str
        The argument's name, used in error messages.
    min_n : int, default 1
        Smallest admissible matrix size.

    Returns
    -------
    ndarray of float64
        The validated array.
    """
    arr = as_real_array(x, name, check_finite=check_finite)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., n, n), got shape {arr.shape}")
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be square in its last two axes, got shape {arr.shape}")
    if arr.shape[-1] < min_n:
        raise ValueError(f"{name} must be at least {min_n}x{min_n}, got shape {arr.shape}")
    return arr


def as_vector_stack(x: ArrayLike, name: str, *, min_n: int = 1) -> NDArray[np.float64]:
    """Validate a stack of vectors of shape ``(..., n)``."""
    arr = as_real_array(x, name)
    if arr.ndim < 1:
        raise ValueError(f"{name} must have at least 1 dimension (..., n), got a scalar")
    if arr.shape[-1] < min_n:
        raise ValueError(f"{name} must have at least {min_n} entries along its last axis, got shape {arr.shape}")
    return arr


def check_real_scalar(x: Any, name: str) -> float:
    """Return ``x`` as a float after checking that it is a real number (a 0-d real array counts)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number) and not np.iscomplexobj(x):
            x = x.item()
        else:
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    return float(x)


def check_positive_scalar(x: Any, name: str) -> float:
    """Return ``x`` as a float after checking that it is a finite real number > 0."""
    value = check_real_scalar(x, name)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_int(x: Any, name: str, *, minimum: int) -> int:
    """Return ``x`` as an int after checking that it is an integer >= ``minimum``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    value = int(x)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_batch_shape(size: Any, name: str = "size", *, minimum: int = 1) -> tuple[int, ...]:
    """A ``size`` argument (``None``, an int or a tuple of ints, numpy's convention) as a shape tuple.

    ``None`` gives ``()`` (one draw); every entry must be an integer >= ``minimum``.
    """
    if size is None:
        return ()
    if isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_)):
        return (check_int(size, name, minimum=minimum),)
    if isinstance(size, tuple):
        return tuple(check_int(s, name, minimum=minimum) for s in size)
    raise TypeError(f"{name} must be None, an int or a tuple of ints, got {type(size).__name__} {size!r}")


def check_open_unit(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Validate values in the open interval (0, 1)."""
    arr = as_real_array(x, name)
    if np.any((arr <= 0) | (arr >= 1)):
        raise ValueError(f"{name} must lie in the open interval (0, 1); got values in [{arr.min()}, {arr.max()}]")
    return arr


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a seed, a generator (used as is) or ``None`` (SPEC 7)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def renamed_arguments(**renames: str) -> Callable[[F], F]:
    """Keep old keyword names working for one release: ``@renamed_arguments(eps="target")``.

    A call with an old name warns (:class:`DeprecationWarning`, naming both) and passes the
    value on under the new name; giving both names is a :class:`TypeError`.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {old}= (the old name) and {new}=; use {new}= only")
                    warnings.warn(f"{fn.__name__}(): the argument {old}= is now called {new}=; {old}= will be removed",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
