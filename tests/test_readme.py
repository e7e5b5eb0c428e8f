"""Every Python example in the README files runs as written.

The repository README (the book) and homtrap/README.md (the package's long description on
PyPI) are what a newcomer copies first; each ```python block is executed in a fresh namespace,
in order, with the working directory at the repository root.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "homtrap/README.md")


def python_blocks_in_text(text: str) -> list[str]:
    """The ```python fenced blocks of a markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def python_blocks(path: Path) -> list[str]:
    return python_blocks_in_text(path.read_text(encoding="utf-8"))


def test_blocks_are_found():
    """Control: the extraction finds the blocks (a regex that finds nothing would pass below)."""
    assert python_blocks(ROOT / "README.md"), "README.md has no ```python block"
    assert python_blocks(ROOT / "homtrap/README.md"), "homtrap/README.md has no ```python block"
    assert python_blocks_in_text("```python\nx = 1\n```\n") == ["x = 1\n"]


@pytest.mark.parametrize(
    "readme, index",
    [(r, i) for r in READMES for i in range(len(python_blocks(ROOT / r)))],
)
def test_readme_block_runs(readme, index, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = python_blocks(ROOT / readme)[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{readme} block {index + 1}", "exec"), {"__name__": "__readme__"})
