"""The one figure style of the book.

Every chapter calls :func:`set_book_style` once, in its first code cell, and draws with the
colours of :data:`PALETTE` (or :func:`book_palette`). No chapter sets ``rcParams`` of its own:
a change of style is made here and reaches every figure at the next re-execution.

Used in: every chapter notebook of the book (``book/*.ipynb``), from
:doc:`/book/01_dsm_detail_subspace` on.

Design choices
--------------
* seaborn's ``whitegrid`` theme at ``notebook`` scale, with the colour-blind-safe
  ``colorblind`` palette (ten hues that stay distinguishable under the common forms of
  colour-vision deficiency).
* Opaque white figure, axes and saved-figure backgrounds, so figures read the same on the
  light and dark themes of the HTML book and in the downloaded notebooks.
* PNG output at a fixed resolution: nbval does not compare ``image/png`` outputs, whereas SVG
  output embeds a timestamp that changes on every run and breaks strict notebook tests.
"""

from __future__ import annotations

from typing import Final

import matplotlib as mpl
import seaborn as sns

__all__ = [
    "DPI",
    "FIGSIZE",
    "FIGSIZE_SQUARE",
    "FIGSIZE_TALL",
    "FIGSIZE_WIDE",
    "PALETTE",
    "SAVEFIG_DPI",
    "book_palette",
    "set_book_style",
]

#: Screen resolution of inline figures, in dots per inch.
DPI: Final[int] = 110
#: Resolution of figures written with ``savefig``, in dots per inch.
SAVEFIG_DPI: Final[int] = 150

# Figure sizes in inches. The book's text column is about 7 inches wide at DPI, so the
# default width fills it without being rescaled by the browser.
#: Default single-panel figure, (width, height) in inches.
FIGSIZE: Final[tuple[float, float]] = (7.0, 4.2)
#: Two or three panels side by side, (width, height) in inches.
FIGSIZE_WIDE: Final[tuple[float, float]] = (10.0, 3.8)
#: Matrices shown as heat maps, (width, height) in inches.
FIGSIZE_SQUARE: Final[tuple[float, float]] = (5.0, 4.6)
#: Panels stacked vertically, (width, height) in inches.
FIGSIZE_TALL: Final[tuple[float, float]] = (7.0, 6.5)

#: Name of the seaborn palette used throughout the book.
PALETTE_NAME: Final[str] = "colorblind"
#: The book's colours as hex strings, in the order matplotlib cycles through them.
PALETTE: Final[tuple[str, ...]] = tuple(sns.color_palette(PALETTE_NAME).as_hex())

_FONT_SIZES: Final[dict[str, float]] = {
    "font.size": 11.0,
    "axes.titlesize": 12.0,
    "axes.labelsize": 11.0,
    "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0,
    "legend.fontsize": 10.0,
    "legend.title_fontsize": 10.0,
    "figure.titlesize": 13.0,
}


def book_palette(n: int | None = None) -> list[str]:
    """Return ``n`` colours of the book palette as hex strings.

    Parameters
    ----------
    n : int or None, optional
        Number of colours. ``None`` (the default) returns the whole palette of
        ``len(PALETTE)`` colours. When ``n`` exceeds the palette length the colours repeat
        cyclically, as matplotlib's own colour cycle does.

    Returns
    -------
    list of str
        ``n`` colours such as ``'#0173b2'``, in palette order.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (``bool`` is rejected too).
    ValueError
        If ``n`` is negative.

    See Also
    --------
    set_book_style : sets the same palette as matplotlib's colour cycle.

    Notes
    -----
    Used in the chapters' figures, for example :doc:`/book/18_case_sinkformers`.

    Examples
    --------
    >>> from homtrap.plotting import book_palette, PALETTE
    >>> book_palette(2) == list(PALETTE[:2])
    True
    >>> len(book_palette(12))
    12
    """
    if n is None:
        return list(PALETTE)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an integer or None, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _use_png_inline() -> None:
    """Make IPython's inline backend emit PNG only, when running under IPython.

    Equivalent to ``%config InlineBackend.figure_formats = ['png']``. Outside IPython (a
    script, pytest) it does nothing.
    """
    try:
        from IPython import get_ipython

        if get_ipython() is None:
            return
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # IPython or matplotlib-inline absent: nothing to configure
        return


def set_book_style() -> None:
    """Apply the book's figure style to matplotlib and seaborn.

    Call once at the top of every chapter, before the first figure. Calling it again is
    harmless: the style is reset to exactly the same state.

    The style is seaborn's ``whitegrid`` theme at ``notebook`` scale with the
    colour-blind-safe palette :data:`~homtrap.plotting.PALETTE`; opaque white figure, axes
    and saved-figure backgrounds; figure size :data:`~homtrap.plotting.FIGSIZE`;
    :data:`~homtrap.plotting.DPI` on screen and :data:`~homtrap.plotting.SAVEFIG_DPI` for
    saved files; constrained layout; and, under IPython, PNG as the only inline figure format.

    Returns
    -------
    None

    See Also
    --------
    book_palette : the palette as a list of ``n`` colours.

    Notes
    -----
    Called in the first code cell of every chapter, for example
    :doc:`/book/01_dsm_detail_subspace`.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from homtrap.plotting import set_book_style, DPI
    >>> set_book_style()
    >>> mpl.rcParams["figure.dpi"] == DPI
    True
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE_NAME)
    mpl.rcParams.update(
        {
            # Opaque white everywhere, independent of the page theme.
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.edgecolor": "white",
            "savefig.transparent": False,
            # Geometry and resolution.
            "figure.figsize": FIGSIZE,
            "figure.dpi": DPI,
            "savefig.dpi": SAVEFIG_DPI,
            "savefig.bbox": "tight",
            "figure.constrained_layout.use": True,
            # Lines and markers.
            "lines.linewidth": 1.8,
            "lines.markersize": 5.0,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
            # Deterministic element ids if a figure is ever saved as SVG.
            "svg.hashsalt": "homtrap",
            **_FONT_SIZES,
        }
    )
    _use_png_inline()
