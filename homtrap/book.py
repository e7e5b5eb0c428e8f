"""Numbers for the book's prose that are the same on every machine.

The chapters insert computed numbers into their text with myst-nb's ``glue``, and the test
suite re-executes every notebook and compares each glued value with the stored one
(strict ``nbval``). A float glued at full precision carries its last few bits of rounding
noise, which differ between CPUs, SIMD kernels, BLAS builds and thread counts, so the
comparison would fail on every machine but the one that stored it. This module glues
what is stable instead:

* :func:`glue` rounds floats to ``digits`` significant digits (six by default, far more
  than the prose shows and far fewer than the noise reaches), turns numpy scalars into
  Python numbers, and leaves integers, booleans and strings alone;
* :func:`glue_below` is for quantities that *are* rounding noise (the marginal error of a
  converged matrix, a residual at machine precision): it asserts that the value is below a
  stated bound and glues the bound, which is what the prose can honestly claim.

The glue record is written exactly as ``myst_nb.glue`` writes it, but without importing
myst-nb, so the chapters run unchanged where only numpy, scipy, matplotlib and IPython are
installed (Colab), and their outputs there are the ones stored in the book.

Used in every chapter notebook (``from homtrap.book import glue``);
:func:`stored_benchmarks` in :doc:`/book/appendix_performance`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["glue", "glue_below", "stable", "stored_benchmarks"]

#: significant digits kept by :func:`glue`: stable across machines, finer than any prose format
DEFAULT_DIGITS = 6
#: the mime-type prefix myst-nb gives to glued values that are not displayed
_GLUE_PREFIX = "application/papermill.record/"


def stable(value: Any, digits: int = DEFAULT_DIGITS) -> Any:
    """``value`` as a Python number rounded to ``digits`` significant digits.

    Parameters
    ----------
    value : float, int, bool, str, numpy scalar or 0-d array
        What to round. Real floats are rounded, integers, booleans and strings are returned
        as Python objects unchanged; anything else (a figure, a table) is returned as it is.
    digits : int, default 6
        Significant digits kept, from 1 to 15.

    Returns
    -------
    float, int, bool, str or the input
        A Python scalar whose ``repr`` is short and machine-independent.

    Raises
    ------
    ValueError
        If ``digits`` is not in 1..15.

    See Also
    --------
    glue : glues ``stable(value)``.

    Notes
    -----
    Rounding is by the decimal string ``f"{x:.{digits - 1}e}"`` (round half to even on the
    binary value), so ``repr`` of the result has at most ``digits`` significant digits.
    Used through :func:`glue` in every chapter.

    Examples
    --------
    >>> stable(1.0003349636174870)
    1.00033
    >>> stable(np.float64(7.0787824e-09), digits=2)
    7.1e-09
    >>> stable(np.int64(305)), stable(True), stable(float("inf"))
    (305, True, inf)
    """
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15, got {digits!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, str, numbers.Integral)):
        return value
    if isinstance(value, numbers.Real):
        x = float(value)
        if x == 0.0 or not math.isfinite(x):
            return x
        return float(f"{x:.{int(digits) - 1}e}")
    return value


def glue(name: str, value: Any, display: bool = False, *, digits: int = DEFAULT_DIGITS) -> None:
    """Glue ``stable(value, digits)`` under ``name`` for ``{glue:text}`` in the prose.

    A drop-in replacement for ``myst_nb.glue`` that stores machine-independent numbers.

    Parameters
    ----------
    name : str
        The glue key, unique within the notebook.
    value : Any
        The value; floats are rounded to ``digits`` significant digits (see :func:`stable`).
    display : bool, default False
        Also display the value in the cell's output (as ``myst_nb.glue`` does).
    digits : int, default 6
        Significant digits kept for floats.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string.
    ValueError
        If ``digits`` is not in 1..15.

    See Also
    --------
    glue_below : for values at the rounding level.
    stable : the rounding.

    Returns
    -------
    None
        The value is sent to the notebook as a display message.

    Notes
    -----
    Outside an IPython kernel (a script, a doctest) this does nothing. Used in every chapter.

    Examples
    --------
    >>> glue("example_sigma2", np.float64(0.123456789))  # stored as 0.123457
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    rounded = stable(value, digits)
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipy_display
    except ImportError:  # no IPython at all: a plain script, nothing to glue into
        return
    if get_ipython() is None:  # not in a kernel (a script, a doctest): nothing to glue into
        return
    # The same display message as ``myst_nb.glue`` (which this reproduces so that it works
    # where myst-nb is not installed, on Colab): the value's mime bundle, with every key
    # prefixed unless displayed, and a ``scrapbook`` record naming it.
    mimebundle, metadata = format_display_data(rounded)
    prefix = "" if display else _GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + key: val for key, val in mimebundle.items()}, raw=True, metadata=metadata)


def glue_below(name: str, value: Any, bound: float) -> None:
    """Assert ``value <= bound`` (elementwise, for an array) and glue ``bound`` under ``name``.

    For quantities at the level of rounding, whose digits differ from machine to machine:
    the prose states the bound that every machine meets, and this call checks it.

    Parameters
    ----------
    name : str
        The glue key.
    value : float or array_like
        The measured quantity (for example a maximal marginal error); must be finite.
    bound : float
        The bound claimed in the prose, a positive float.

    Raises
    ------
    ValueError
        If ``bound`` is not positive and finite, or ``value`` is not finite.
    AssertionError
        If some value exceeds ``bound``.

    Returns
    -------
    None

    See Also
    --------
    glue : for values that are stable to six digits.

    Notes
    -----
    Used in the chapters that state rounding-level quantities, for example
    :doc:`/book/01_dsm_detail_subspace` and :doc:`/book/14_proposition1`.

    Examples
    --------
    >>> glue_below("example_err", 3.2e-15, 1e-13)
    >>> try:
    ...     glue_below("example_err", 3.2e-12, 1e-13)  # a claim the value does not meet
    ... except AssertionError as exc:
    ...     print(str(exc).splitlines()[0])
    example_err: 3.2e-12 exceeds the stated bound 1e-13
    """
    b = float(bound)
    if not (math.isfinite(b) and b > 0):
        raise ValueError(f"bound must be positive and finite, got {bound!r}")
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"value for {name!r} must be finite, got {value!r}")
    worst = float(v.max()) if v.size else -math.inf
    assert worst <= b, f"{name}: {worst:.3g} exceeds the stated bound {b:.3g}"
    glue(name, b)


#: the benchmark results the appendix shows, shipped with the package (``homtrap/data``)
BENCHMARKS_FILE = "benchmarks.json"


def stored_benchmarks() -> dict[str, Any]:
    """The tables of the last full benchmark run, as stored by ``benchmarks/bench.py --json``.

    The file ships inside the package (``homtrap/data/benchmarks.json``), so the appendix
    finds it wherever homtrap is installed: a checkout, Binder, Colab.

    Returns
    -------
    dict
        ``{"meta": [...], "sweep": [...], "e2e": [...], ...}``: lists of rows per table.

    Notes
    -----
    Used in :doc:`/book/appendix_performance`.

    Examples
    --------
    >>> from homtrap.book import stored_benchmarks
    >>> bench = stored_benchmarks()
    >>> sorted(bench)[:3]
    ['e2e', 'fig1', 'meta']
    """
    import json
    from importlib.resources import files

    return json.loads(files("homtrap").joinpath("data", BENCHMARKS_FILE).read_text(encoding="utf-8"))
