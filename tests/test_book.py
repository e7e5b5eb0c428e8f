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
import re
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


# ---------------------------------------------------------------------------- exercises
CHAPTERS = [p for p in NOTEBOOKS if p.name[:2].isdigit()]

_FENCE_OPEN = re.compile(r"^(:{3,}|`{3,})\{([\w:-]+)\}(.*)$")


def exercise_problems(text: str) -> list[str]:
    """What is wrong with the exercises in a chapter's markdown: every exercise must be a
    sphinx-exercise ``{exercise}`` with an ``ex-`` label, followed (blank lines only between)
    by the ``{solution}`` of that label as a collapsed dropdown; nothing may still look like an
    exercise or solution written as an admonition or as plain bold text."""
    problems, count = [], 0
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if re.search(r"\{admonition\}\s*(Exercise|Solution)|^\*\*(Exercise|Solution)\b", lines[i]):
            problems.append(f"line {i + 1}: exercise/solution not written with sphinx-exercise: {lines[i]!r}")
        if m and m.group(2) == "solution":
            problems.append(f"line {i + 1}: solution {m.group(3).strip()!r} does not follow its exercise")
        if not (m and m.group(2) == "exercise"):
            i += 1
            continue
        count += 1
        fence = m.group(1)
        label = next((l.split(":label:", 1)[1].strip() for l in lines[i + 1 : i + 4] if l.startswith(":label:")), "")
        if not re.fullmatch(r"ex-[a-z0-9-]+-\d+", label):
            problems.append(f"line {i + 1}: exercise without an ex-<chapter>-<k> label ({label!r})")
        end = next((j for j in range(i + 1, len(lines)) if re.fullmatch(re.escape(fence[0]) + "{%d,}\\s*" % len(fence), lines[j])), None)
        if end is None:
            problems.append(f"line {i + 1}: exercise {label!r} is never closed")
            break
        j = end + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        s = _FENCE_OPEN.match(lines[j]) if j < len(lines) else None
        if not (s and s.group(2) == "solution" and s.group(3).strip() == label):
            problems.append(f"line {i + 1}: exercise {label!r} is not followed by {{solution}} {label}")
            i = end + 1
            continue
        if not any(l.strip() == ":class: dropdown" for l in lines[j + 1 : j + 4]):
            problems.append(f"line {j + 1}: the solution of {label!r} is not a collapsed dropdown")
        s_end = next((k for k in range(j + 1, len(lines)) if re.fullmatch(re.escape(s.group(1)[0]) + "{%d,}\\s*" % len(s.group(1)), lines[k])), len(lines))
        i = s_end + 1
    if not count:
        problems.append("no {exercise} at all")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_is_a_labelled_sphinx_exercise_with_its_solution(path):
    text = "\n\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    problems = exercise_problems(text)
    assert not problems, f"{path.name}: {problems}"


_NEW_FORM = """## Exercises

:::{exercise} a title
:label: ex-demo-1
body
:::

:::{solution} ex-demo-1
:class: dropdown
body
:::
"""


def test_exercise_check_accepts_the_new_form_and_rejects_the_old_one():
    assert exercise_problems(_NEW_FORM) == []
    # CONTROLS: the old admonition form, a missing label, a missing or foreign or open solution
    old = "(ex-demo-1)=\n:::{admonition} Exercise 1 (a title)\nbody\n:::\n\n:::{admonition} Solution\n:class: dropdown\nbody\n:::\n"
    assert exercise_problems(old)
    assert exercise_problems(_NEW_FORM.replace(":label: ex-demo-1\n", ""))
    assert exercise_problems(_NEW_FORM.split(":::{solution}")[0])
    assert exercise_problems(_NEW_FORM.replace("{solution} ex-demo-1", "{solution} ex-demo-2"))
    assert exercise_problems(_NEW_FORM.replace(":class: dropdown\n", ""))
    assert exercise_problems("## Exercises\n\nnone here\n")
