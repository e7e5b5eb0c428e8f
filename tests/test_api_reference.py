"""The API reference (book/api.md) documents every public name of homtrap, each exactly once.

The built page is checked too, in tests/test_browser.py (every name has its ``homtrap.<name>``
anchor); this test reads only the page's source, so it runs in the unit layer without a build.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import homtrap

API_PAGE = Path(__file__).resolve().parent.parent / "book" / "api.md"
#: the directives that give a name its own entry (and its homtrap.<name> anchor)
ENTRY = re.compile(r"^\.\. (?:autofunction|autoclass|autoexception|autodata|data):: (\S+)\s*$", re.M)
#: entries of homtrap's flat namespace; homtrap.plotting's constants are documented beside them
PLOTTING_CONSTANT = re.compile(r"^homtrap\.plotting\.[A-Z_]+$")


def entries(text: str) -> Counter:
    """How often each flat-namespace name has an entry in the page source ``text``."""
    names = [n for n in ENTRY.findall(text) if not PLOTTING_CONSTANT.match(n)]
    return Counter(n.removeprefix("homtrap.") for n in names)


def mismatch(text: str) -> dict[str, list[str]]:
    """Public names without an entry, entries that are not public names, and duplicates."""
    found = entries(text)
    public = set(homtrap.__all__)
    return {
        "missing": sorted(public - set(found)),
        "not public": sorted(set(found) - public),
        "duplicated": sorted(n for n, k in found.items() if k > 1),
    }


def test_every_public_name_has_exactly_one_entry():
    assert mismatch(API_PAGE.read_text(encoding="utf-8")) == {"missing": [], "not public": [], "duplicated": []}


def test_the_check_sees_a_missing_a_stray_and_a_duplicated_entry():
    """Control: the comparison above fails when the page drops, invents or repeats an entry."""
    text = API_PAGE.read_text(encoding="utf-8")
    assert ".. autofunction:: sigma2\n" in text  # the entry the controls below edit
    dropped = text.replace(".. autofunction:: sigma2\n", "")
    assert mismatch(dropped)["missing"] == ["sigma2"]
    stray = text + "\n.. autofunction:: not_a_homtrap_function\n"
    assert mismatch(stray)["not public"] == ["not_a_homtrap_function"]
    twice = text + "\n.. autofunction:: sigma2\n"
    assert mismatch(twice)["duplicated"] == ["sigma2"]


def test_every_summary_table_row_is_documented_in_its_section():
    """Each section's autosummary table lists exactly the functions and classes documented
    below it (so the table's links all land on the same page)."""
    text = API_PAGE.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert sections, "no sections found in book/api.md"
    for section in sections:
        title = section.splitlines()[0]
        table = re.search(r"\.\. autosummary::\n(?:   :\S+:.*\n)*\n((?:   \S+\n)+)", section)
        assert table, f"section {title!r} has no autosummary table"
        rows = {r.strip() for r in table.group(1).splitlines()}
        documented = set(entries(section))
        assert rows == documented, f"section {title!r}: table {sorted(rows ^ documented)} differs from entries"
