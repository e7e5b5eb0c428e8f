"""homtrap.book (portable glue) and the book-wide rules it serves.

nbval compares every glued value of every chapter with the stored one, on another Python,
SIMD level and thread count. These tests pin down what makes that comparison portable: the
rounding of glued floats, the bound-gluing of rounding-level quantities, the glue record
written without myst-nb (Colab), and the conventions every notebook must follow.
"""

from __future__ import annotations

import ast
import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import homtrap
from homtrap import book

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


# ---------------------------------------------------------------------------- stable()
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.000334963617487, 1.00033),
        (np.float64(7.078782406710135e-09), 7.07878e-09),
        (np.float32(0.5), 0.5),
        (np.array(2.0 / 3.0), 0.666667),
        (-123456789.0, -123457000.0),
        (0.0, 0.0),
    ],
)
def test_stable_rounds_floats_to_six_significant_digits(value, expected):
    out = book.stable(value)
    assert type(out) is float and out == expected


@pytest.mark.parametrize("value", [np.int64(305), 305, True, np.bool_(False), "∞"])
def test_stable_keeps_integers_booleans_and_strings(value):
    out = book.stable(value)
    assert out == value and type(out) in (int, bool, str)


def test_stable_keeps_non_finite_and_other_objects():
    assert book.stable(float("inf")) == float("inf") and np.isnan(book.stable(float("nan")))
    obj = object()
    assert book.stable(obj) is obj


def test_stable_is_machine_independent_but_not_blind():
    # two machines disagreeing in the last bits store the same text ...
    a, b = 1.000334963617487, 1.0003349637219499
    assert repr(book.stable(a)) == repr(book.stable(b)) == "1.00033"
    # ... while a real difference (in the 4th digit) still shows: the comparison keeps its power
    assert book.stable(7.0787e-09) != book.stable(7.0780e-09)


@pytest.mark.parametrize("digits", [0, 16, 2.5, True, "6"])
def test_stable_rejects_bad_digits(digits):
    with pytest.raises(ValueError, match="digits"):
        book.stable(1.0, digits=digits)


# ---------------------------------------------------------------------------- glue()
class _Display:
    """Stand-in for IPython's display: records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, obj, raw=False, metadata=None):
        self.calls.append((obj, raw, metadata))


@pytest.fixture
def in_kernel(monkeypatch):
    """Pretend to run inside a kernel and capture what glue displays."""
    import IPython
    import IPython.display

    shown = _Display()
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown)
    return shown


def test_glue_writes_the_record_myst_nb_writes(in_kernel, monkeypatch):
    myst_glue = pytest.importorskip("myst_nb.ext.glue")
    book.glue("k", np.float64(0.123456789))
    ours = in_kernel.calls.pop()
    monkeypatch.setattr(myst_glue, "ipy_display", in_kernel)
    myst_glue.glue("k", 0.123457, display=False)
    theirs = in_kernel.calls.pop()
    assert ours == theirs
    assert ours[0] == {"application/papermill.record/text/plain": "0.123457"}
    assert ours[2]["scrapbook"] == {"name": "k", "mime_prefix": "application/papermill.record/"}


def test_glue_display_true_is_unprefixed(in_kernel):
    book.glue("k", 3, display=True)
    data, raw, meta = in_kernel.calls.pop()
    assert data == {"text/plain": "3"} and raw and meta["scrapbook"]["mime_prefix"] == ""


def test_glue_outside_a_kernel_does_nothing(capsys):
    book.glue("k", 1.5)
    assert capsys.readouterr() == ("", "")


def test_glue_rejects_a_bad_name():
    with pytest.raises(TypeError, match="name"):
        book.glue("", 1.0)


def test_glue_below_glues_the_bound_and_checks_it(in_kernel):
    book.glue_below("err", np.array([3e-15, 7e-16]), 1e-13)
    assert in_kernel.calls.pop()[0] == {"application/papermill.record/text/plain": "1e-13"}
    with pytest.raises(AssertionError, match="exceeds the stated bound"):  # the control: a bound that fails
        book.glue_below("err", 2e-13, 1e-13)


@pytest.mark.parametrize("bound", [0.0, -1e-12, float("inf"), float("nan")])
def test_glue_below_rejects_a_bad_bound(bound):
    with pytest.raises(ValueError, match="bound"):
        book.glue_below("err", 1e-15, bound)


def test_glue_below_rejects_a_non_finite_value():
    with pytest.raises(ValueError, match="finite"):
        book.glue_below("err", float("nan"), 1e-12)


# ---------------------------------------------------------------------------- the notebooks
def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_glues_through_homtrap_book(path):
    sources = ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code"]
    assert not any("from myst_nb import glue" in s for s in sources), "use `from homtrap.book import glue`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_pins_this_release(path):
    first = "".join(_cells(path)[0]["source"])
    pin = f'"homtrap[book] @ git+https://github.com/homtrap/homtrap@v{homtrap.__version__}"'
    assert pin in first, f"{path.name}: the reader set-up cell must install {pin}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_glued_floats_are_rounded(path):
    """No glued float is stored at full precision (its last digits would differ by machine)."""
    long_floats = []
    for cell in _cells(path):
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            text = out["data"].get(record["mime_prefix"] + "text/plain", "")
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, float) and math.isfinite(value) and value != 0:
                if len(Decimal(text).normalize().as_tuple().digits) > 8:  # significant digits
                    long_floats.append((record["name"], text))
    assert not long_floats, f"{path.name}: glued at full precision: {long_floats[:5]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_only_timing_cells_skip_comparison(path):
    for index, cell in enumerate(_cells(path)):
        if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
            reason = cell["metadata"].get("nbval-ignore-reason", "")
            assert "timing" in reason, f"{path.name} cell {index}: nbval-ignore-output without a timing reason"
