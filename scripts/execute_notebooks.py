#!/usr/bin/env python
"""Re-execute the book's notebooks in place, byte-stably.

The book is built with ``execute_notebooks: "off"``: it renders the outputs stored in each
``.ipynb``. This script is how those outputs are produced. Running it twice on an unchanged
notebook (same code, same package versions) writes a byte-identical file, so ``git diff``
after a re-execution shows only real changes in results.

What makes the output stable
----------------------------
* nbclient runs with ``record_timing=False`` (no per-cell ``execution`` timestamps);
* notebook metadata is normalised: a fixed ``kernelspec`` and a ``language_info`` without
  the interpreter's version string;
* volatile cell metadata (``execution``, ``ExecuteTime``) is dropped;
* execution counts are renumbered 1, 2, ... over the code cells that ran;
* adjacent stream outputs of the same stream are merged (how a print is split into
  messages depends on timing);
* ``PYTHONHASHSEED=0`` in the kernel, so set and dict-of-str iteration orders do not vary;
* the file is written by nbformat (one-space indent, sorted keys) with a trailing newline.

Inline matplotlib PNGs are deterministic for fixed versions of matplotlib and FreeType:
Agg writes no timestamp into PNG metadata (only a ``Software`` entry).

Usage
-----
    python scripts/execute_notebooks.py                  # every notebook listed in _toc.yml
    python scripts/execute_notebooks.py book/01_*.ipynb  # only these

Each notebook runs in its own directory with the interpreter that runs this script (the
``python3`` kernelspec resolves ``python`` to ``sys.executable``). A failing cell stops the
run with a non-zero exit status and leaves that notebook file untouched.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO_ROOT = Path(__file__).resolve().parent.parent
TOC_PATH = REPO_ROOT / "_toc.yml"
TIMEOUT_S = 900  # per cell
#: BLAS/OpenMP threads of the kernel that stores the outputs (the tests use another count)
STORE_THREADS = "2"

KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")

#: first code cell of every chapter: installs homtrap where it is missing (Colab); a no-op
#: locally and on Binder. Hidden from the HTML pages (``remove-cell``), present in the .ipynb.
#: It pins the release tag of the installed version, so a page and the code it runs agree.
def setup_cell_source(version: str | None = None) -> str:
    """The reader set-up cell, pinned to ``v<version>`` (default: this checkout's homtrap)."""
    version = version or _homtrap_version()
    return "\n".join(
        [
            "# Reader set-up: on Colab (or wherever homtrap is missing) install the book's package,",
            "# pinned to the release these outputs were produced with. Locally and on Binder homtrap",
            "# is already installed and this cell does nothing.",
            "import importlib.util",
            "",
            'if importlib.util.find_spec("homtrap") is None:',
            f'    %pip install --quiet "homtrap[book] @ git+https://github.com/homtrap/homtrap@v{version}"',
        ]
    )


def _homtrap_version() -> str:
    """``__version__`` of this checkout's homtrap, read from the source (no import)."""
    import re

    text = (REPO_ROOT / "homtrap" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


#: packages named in each chapter's "verified with" footer
FOOTER_PACKAGES = ("homtrap", "numpy", "scipy", "matplotlib")


def _toc_files(entries: Iterable[dict]) -> Iterator[str]:
    """Yield every ``file:`` of a list of _toc.yml entries, depth first."""
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("sections", "chapters", "parts"):
            yield from _toc_files(entry.get(key, []))


def notebooks_in_toc(toc_path: Path = TOC_PATH) -> list[Path]:
    """Return the ``.ipynb`` files listed in ``_toc.yml``, in reading order.

    Parameters
    ----------
    toc_path : pathlib.Path
        The Jupyter Book table of contents.

    Returns
    -------
    list of pathlib.Path
        Absolute paths of the listed files that exist with an ``.ipynb`` suffix.
    """
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    files = [toc["root"], *_toc_files([toc])]
    found: list[Path] = []
    for name in files:
        path = toc_path.parent / name
        if path.suffix == "":
            path = path.with_suffix(".ipynb")
        if path.suffix == ".ipynb" and path.is_file() and path not in found:
            found.append(path.resolve())
    return found


def _merge_adjacent_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name (stdout/stderr) into one."""
    merged: list = []
    for output in outputs:
        if (
            output.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == output.get("name")
        ):
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip everything from an executed notebook that changes between identical runs.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook (modified in place).

    Returns
    -------
    nbformat.NotebookNode
        The same notebook, for chaining.
    """
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.metadata.pop("widgets", None)

    count = 0
    for index, cell in enumerate(nb.cells):
        # Notebooks written before nbformat 4.5 have no cell ids; nbformat would invent
        # random ones on every write, so give them deterministic ids instead.
        if "id" not in cell:
            cell["id"] = f"cell-{index:04d}"
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if cell.source.strip() == "":
            cell.execution_count = None
            cell.outputs = []
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = _merge_adjacent_streams(cell.outputs)
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    if nb.nbformat == 4 and nb.nbformat_minor < 5:
        nb.nbformat_minor = 5
    return nb


def _is_setup_cell(cell) -> bool:
    return cell.get("metadata", {}).get("homtrap") == "reader-setup"


def _is_footer_cell(cell) -> bool:
    return cell.get("metadata", {}).get("homtrap") == "verified-with"


def add_reader_setup(nb: nbformat.NotebookNode) -> None:
    """Make the first cell the (hidden) Colab install cell, replacing an older version."""
    nb.cells = [c for c in nb.cells if not _is_setup_cell(c)]
    cell = nbformat.v4.new_code_cell(setup_cell_source())
    cell.metadata = {"homtrap": "reader-setup", "tags": ["remove-cell"]}
    cell["id"] = "reader-setup"
    nb.cells.insert(0, cell)


def _outputs_signature(nb: nbformat.NotebookNode) -> list:
    return [c.get("outputs", []) for c in nb.cells if c.cell_type == "code"]


def set_footer(nb: nbformat.NotebookNode, outputs_changed: bool, previous_date: str | None) -> None:
    """End the notebook with a "verified with" footer: package versions and output date.

    The date is that of the last run whose outputs differed from the stored ones, so an
    unchanged re-execution leaves the file byte-identical.
    """
    nb.cells = [c for c in nb.cells if not _is_footer_cell(c)]
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in FOOTER_PACKAGES)
    date = previous_date if (previous_date and not outputs_changed) else datetime.date.today().isoformat()
    py = ".".join(map(str, sys.version_info[:2]))
    exempt = sum(1 for c in nb.cells if "nbval-ignore-output" in c.get("metadata", {}).get("tags", []))
    exempt_text = (
        f" The {exempt} cell{'s' if exempt > 1 else ''} that show{'' if exempt > 1 else 's'} wall-clock timings "
        f"(tagged `nbval-ignore-output`) {'are' if exempt > 1 else 'is'} run but not compared."
        if exempt
        else ""
    )
    cell = nbformat.v4.new_markdown_cell(
        "```{admonition} Verified with\n"
        ":class: tip\n"
        f"The outputs on this page were produced on {date} by {versions} (Python {py}). "
        "The test suite re-executes this notebook on another Python, with numpy's SIMD kernels one level "
        "lower and another BLAS thread count, and requires every text output to equal the stored one "
        "(strict `nbval`): printed lines, tables, and the numbers glued into the prose, which are stored "
        "rounded to six significant digits or as the bounds the text claims. Figures are redrawn and "
        f"their checks rerun, but images are not compared pixel by pixel.{exempt_text}\n"
        "```"
    )
    cell.metadata = {"homtrap": "verified-with", "homtrap_date": date}
    cell["id"] = "verified-with"
    nb.cells.append(cell)


def execute_notebook(path: Path) -> None:
    """Execute one notebook in its own directory and write it back, normalised.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file; overwritten only if every cell ran without error.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the file is left as it was.
    """
    nb = nbformat.read(path, as_version=4)
    old = next((c for c in nb.cells if _is_footer_cell(c)), None)
    previous_date = old.metadata.get("homtrap_date") if old is not None else None
    add_reader_setup(nb)
    before = normalise(nbformat.from_dict(nb))
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [
        (i, o.get("ename"), o.get("evalue"))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:  # e.g. raised while a figure was being rendered for display
        raise CellExecutionError(f"error outputs in cells {errors}", "", "")
    normalise(nb)
    set_footer(nb, _outputs_signature(nb) != _outputs_signature(before), previous_date)
    normalise(nb)
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(
        description="Re-execute notebooks in place with byte-stable output."
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="notebooks to execute (default: every .ipynb listed in _toc.yml)",
    )
    args = parser.parse_args(argv)

    # Inherited by the kernel process started by nbclient.
    os.environ["PYTHONHASHSEED"] = "0"
    # The stored outputs come from one fixed environment: numpy's best SIMD kernels and two
    # BLAS threads (one kernel at a time, so no oversubscription). The test suite compares them
    # in a perturbed one (scripts/perturbed_env.py: SIMD one level lower, one BLAS thread,
    # another Python), so nothing that depends on these settings can be stored.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = STORE_THREADS
    # Silences debugpy's frozen-modules notice at kernel start-up.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    paths = [p.resolve() for p in args.paths] or notebooks_in_toc()
    if not paths:
        print("no notebooks to execute", file=sys.stderr)
        return 1
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"not a notebook file: {path}", file=sys.stderr)
            return 2
    for path in paths:
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"executing {shown} ...", flush=True)
        try:
            execute_notebook(path)
        except CellExecutionError as err:
            print(f"FAILED: {shown}\n{err}", file=sys.stderr)
            return 1
    print(f"executed {len(paths)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
