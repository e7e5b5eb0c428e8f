"""The environments readers run the chapters in, rebuilt from the project's files.

* **Binder**: ``binder/requirements.txt`` installed with the Python of ``binder/runtime.txt``
  from the repository root, as repo2docker does (with a ``binder/`` folder it reads nothing
  else and runs no ``pip install .`` of its own). The environment must be slim (JupyterLab
  and the numerical stack, none of the build or test toolchain), hold homtrap from this
  checkout as a plain install, and run chapters under strict nbval.
* **Colab**: Python 3.13 with Colab's stack and homtrap, non-editable. The ``notebooks``
  layer of ``scripts/test.sh`` executes every chapter in it; here we check that it is what
  it claims to be.

Both are built by ``scripts/reader_env.py`` into ``.venv/envs/`` (cached; rebuilt when their
requirement files change) and need the package index (PyPI). They skip, saying why, only
when the interpreter they need is not on the machine or no index is reachable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import reader_env  # noqa: E402

#: chapters run in the Binder environment: the first, one that uses POT, and the appendix,
#: which reads the benchmark tables shipped inside the package
BINDER_CHAPTERS = ("01_dsm_detail_subspace.ipynb", "02_maximum_entropy.ipynb", "appendix_performance.ipynb")
#: the book's build and test toolchain, which a reader's environment must not carry
TOOLCHAIN = ("jupyter_book", "sphinx", "myst_nb", "nbval", "pytest", "playwright", "pypdfium2", "hypothesis")


def _env(kind: str) -> Path:
    try:
        return reader_env.build(kind)
    except reader_env.EnvironmentUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def binder_env() -> Path:
    return _env("binder")


@pytest.fixture(scope="module")
def colab_env() -> Path:
    return _env("colab")


def _probe(env: Path) -> dict:
    """Facts about an environment, asked from a neutral directory (no checkout on sys.path)."""
    code = (
        "import importlib.util, json, sys, homtrap; from importlib.resources import files;"
        f"print(json.dumps({{'python': '%d.%d' % sys.version_info[:2], 'homtrap': homtrap.__file__,"
        " 'version': homtrap.__version__, 'data': files('homtrap').joinpath('data', 'benchmarks.json').is_file(),"
        f" 'toolchain': [m for m in {list(TOOLCHAIN)!r} if importlib.util.find_spec(m)],"
        " 'jupyterlab': importlib.util.find_spec('jupyterlab') is not None}))"
    )
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _checkout_version() -> str:
    return re.search(r'^__version__ = "([^"]+)"', (ROOT / "homtrap" / "__init__.py").read_text(), re.M).group(1)


def _run_nbval(env: Path, kind: str, notebooks: list[Path]) -> subprocess.CompletedProcess:
    environ = dict(os.environ, JUPYTER_PATH=str(env / "share" / "jupyter"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile", "--nbval",
           "--nbval-kernel-name", reader_env.kernel_name(kind),
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), *map(str, notebooks)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=environ)


def test_binder_runtime_is_a_python_3_pin():
    assert re.fullmatch(r"python-3\.\d+", (ROOT / "binder" / "runtime.txt").read_text().strip())


def test_binder_environment_is_slim_and_holds_this_homtrap(binder_env):
    facts = _probe(binder_env)
    assert facts["python"] == reader_env.python_version("binder")
    assert facts["toolchain"] == [], f"the Binder environment carries build/test tools: {facts['toolchain']}"
    assert facts["jupyterlab"]
    # a plain install of this checkout (repo2docker copies the repository and installs ".")
    assert "site-packages" in facts["homtrap"] and not Path(facts["homtrap"]).is_relative_to(ROOT / "homtrap")
    assert facts["version"] == _checkout_version() and facts["data"]


def test_binder_environment_runs_chapters(binder_env):
    run = _run_nbval(binder_env, "binder", [ROOT / "book" / name for name in BINDER_CHAPTERS])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_colab_environment_is_colab_like(colab_env):
    facts = _probe(colab_env)
    assert facts["python"] == "3.13"
    assert facts["toolchain"] == [], f"the Colab-like environment carries build/test tools: {facts['toolchain']}"
    assert "site-packages" in facts["homtrap"] and facts["version"] == _checkout_version() and facts["data"]
