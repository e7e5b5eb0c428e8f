"""Convert a chapter's hand-made exercise admonitions to sphinx-exercise directives (issue 17).

Usage: python scripts/convert_exercises.py book/09_non_normality.ipynb [more notebooks ...]

The old form, in a markdown cell (the ``(label)=`` line is optional)::

    (ex-maxent-1)=
    :::{admonition} Exercise 1 (title)
    body
    :::

    :::{admonition} Solution
    :class: dropdown
    body
    :::

becomes::

    :::{exercise} title
    :label: ex-maxent-1
    body
    :::

    :::{solution} ex-maxent-1
    :class: dropdown
    body
    :::

The number is dropped from the source: sphinx-exercise numbers the exercises itself, and the
solution's title names its exercise. An exercise without a label gets ``ex-<short>-<k>``
(``<short>`` from CHAPTER_SHORT_NAMES below, ``<k>`` its old number), the pattern of the labels
ch01-ch08 already had. Each fence keeps its length, so bodies with nested ``:::`` directives
(which need a longer outer fence) convert unchanged. Running the script again on a converted
notebook changes nothing. Anything it cannot parse (an exercise without its solution, a
solution without its exercise, a number out of sequence, an unclosed fence) stops it with an
AssertionError before any file is written.

The notebook is written back the way the book stores notebooks (json indent=1,
ensure_ascii=False, trailing newline); only markdown cells with exercises change.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: the ``<short>`` of ``ex-<short>-<k>``, by chapter number (ch01-ch08 already had these labels)
CHAPTER_SHORT_NAMES = {
    1: "dsm",
    2: "maxent",
    3: "hightemp",
    4: "lowtemp",
    5: "figure1",
    6: "sigma-lambda",
    7: "contraction",
    8: "effective-depth",
    9: "non-normality",
    10: "concentration",
    11: "theorem1",
    12: "figure2",
    13: "affine-layernorm",
    14: "proposition1",
    15: "stagnation",
    16: "incompatibility",
    17: "mhc",
    18: "sinkformers",
    19: "next-checks",
    20: "open-questions",
    21: "diagnose",
    22: "tradeoff-map",
}

LABEL_LINE = re.compile(r"^\((ex-[A-Za-z0-9-]+)\)=\s*$")
EXERCISE_OPEN = re.compile(r"^(:{3,})\{admonition\}\s+Exercise\s+(\d+)\s+\((.*)\)\s*$")
SOLUTION_OPEN = re.compile(r"^(:{3,})\{admonition\}\s+Solution\s*$")
# anything else that still looks like an old exercise or solution is a parse failure
LEFTOVER = re.compile(r"\{admonition\}\s+(Exercise|Solution)\b")
NEW_EXERCISE = re.compile(r"^(:{3,})\{exercise\}")


def _close(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the colon fence opened at ``start`` (a line of >= len(fence)
    colons only; nested directives inside need shorter fences, as in MyST)."""
    closing = re.compile(r"^:{%d,}\s*$" % len(fence))
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    raise AssertionError(f"unclosed fence {fence!r} opened at line {start + 1}: {lines[start]!r}")


def convert_text(text: str, short: str, expected_next: int) -> tuple[str, int]:
    """Convert the exercises in one markdown cell's text. ``expected_next`` is the number the
    next exercise must carry (exercises are numbered 1, 2, ... through a chapter); returns the
    new text and the next expected number."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        label_match = LABEL_LINE.match(line)
        if label_match and i + 1 < len(lines) and EXERCISE_OPEN.match(lines[i + 1]):
            label = label_match.group(1)
            i += 1
            line = lines[i]
        else:
            label = None
        m = EXERCISE_OPEN.match(line)
        if m is None:
            assert not LEFTOVER.search(line), f"cannot parse line {i + 1}: {line!r}"
            if NEW_EXERCISE.match(line):  # already converted: count it, keep it
                expected_next += 1
            out.append(line)
            i += 1
            continue
        fence, number, title = m.group(1), int(m.group(2)), m.group(3).strip()
        assert number == expected_next, f"Exercise {number} found where {expected_next} was expected"
        assert title, f"Exercise {number} has no title"
        expected_next += 1
        label = label or f"ex-{short}-{number}"
        assert label.startswith("ex-"), label
        end = _close(lines, i, fence)
        body = lines[i + 1 : end]
        assert not any(LEFTOVER.search(b) for b in body), f"Exercise {number}: nested exercise/solution"
        # the solution must follow, separated only by blank lines
        k = end + 1
        blanks = []
        while k < len(lines) and not lines[k].strip():
            blanks.append(lines[k])
            k += 1
        assert k < len(lines), f"Exercise {number} ({label}): no solution follows"
        s = SOLUTION_OPEN.match(lines[k])
        assert s, f"Exercise {number} ({label}): expected its solution, found {lines[k]!r}"
        s_fence = s.group(1)
        assert k + 1 < len(lines) and lines[k + 1].strip() == ":class: dropdown", (
            f"Exercise {number} ({label}): solution is not a dropdown: {lines[k + 1]!r}"
        )
        s_end = _close(lines, k, s_fence)
        s_body = lines[k + 2 : s_end]
        assert not any(LEFTOVER.search(b) for b in s_body), f"Exercise {number}: nested exercise/solution"
        out += [f"{fence}{{exercise}} {title}", f":label: {label}", *body, lines[end], *blanks]
        out += [f"{s_fence}{{solution}} {label}", ":class: dropdown", *s_body, lines[s_end]]
        i = s_end + 1
    return "\n".join(out), expected_next


def _split_source(text: str) -> list[str]:
    """A cell's text as nbformat stores it: lines with their newlines."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def convert_notebook(path: Path) -> int:
    """Convert one notebook in place; returns the number of exercises it holds afterwards."""
    m = re.match(r"(\d+)_", path.name)
    assert m, f"{path}: not a numbered chapter"
    chapter = int(m.group(1))
    assert chapter in CHAPTER_SHORT_NAMES, f"{path}: no short name for chapter {chapter}"
    short = CHAPTER_SHORT_NAMES[chapter]
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    expected = 1
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        new, expected = convert_text(text, short, expected)
        if new != text:
            cell["source"] = _split_source(new) if isinstance(source, list) else new
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected - 1


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv]
    assert paths, "usage: python scripts/convert_exercises.py book/NN_name.ipynb ..."
    # parse every notebook before writing any: convert copies first
    for p in paths:
        nb = json.loads(p.read_text(encoding="utf-8"))
        m = re.match(r"(\d+)_", p.name)
        assert m and int(m.group(1)) in CHAPTER_SHORT_NAMES, f"{p}: not a known chapter"
        expected = 1
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = cell["source"]
                _, expected = convert_text("".join(src) if isinstance(src, list) else src,
                                           CHAPTER_SHORT_NAMES[int(m.group(1))], expected)
    for p in paths:
        n = convert_notebook(p)
        print(f"{p}: {n} exercises")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
