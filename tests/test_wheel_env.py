"""homtrap as a package people install: the wheel builds in isolation and works in a fresh venv.

The wheel is built the way pip builds it for a user (PEP 517, isolated: setuptools is fetched
at the floor ``pyproject.toml`` declares), installed with its dependencies into a new virtual
environment with no access to this checkout, and imported there. Needs the package index.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # build from a copy holding only what the package is made of: setuptools writes build/ and
    # *.egg-info into the source tree, which must not happen in the checkout
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "homtrap", src / "homtrap", ignore=shutil.ignore_patterns("__pycache__"))
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w", str(out), str(src)])
    if proc.returncode != 0 and "No matching distribution" in proc.stderr + proc.stdout:
        pytest.skip("no package index reachable to fetch the build backend")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("homtrap-*.whl")
    return whl


def test_wheel_contents(wheel):
    import homtrap

    assert wheel.name.startswith(f"homtrap-{homtrap.__version__}-py3-none-any")
    names = zipfile.ZipFile(wheel).namelist()
    assert "homtrap/py.typed" in names
    assert "homtrap/data/benchmarks.json" in names
    assert any(re.fullmatch(r"homtrap-[^/]+\.dist-info/licenses/LICENSE", n) for n in names), names
    assert not any(n.startswith(("book/", "tests/", "scripts/")) for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    requires = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    hard = [r for r in requires if "extra ==" not in r]
    # figure styling is an extra: a numerical user does not get matplotlib, seaborn and pandas
    assert not any(("matplotlib" in r or "seaborn" in r) for r in hard), hard
    assert any("extra == \"figures\"" in r for r in requires), requires
    # the long description is the package's own, not the book's README
    assert "# homtrap" in meta and "Two commands" not in meta


def test_wheel_installs_and_imports_in_a_fresh_venv(wheel, tmp_path):
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    proc = _run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    probe = (
        "import json, numpy as np, homtrap, importlib.util\n"
        "from importlib.resources import files\n"
        "M = homtrap.sinkhorn(np.random.default_rng(0).standard_normal((3, 8, 8)))\n"
        "try:\n"
        "    homtrap.set_book_style\n"
        "    styled = 'no error'\n"
        "except ImportError as e:\n"
        "    styled = str(e)\n"
        "print(json.dumps({'file': homtrap.__file__, 'version': homtrap.__version__,\n"
        "  'ok': bool(homtrap.marginal_error(M).max() < 1e-9), 'typed': files('homtrap').joinpath('py.typed').is_file(),\n"
        "  'mpl': importlib.util.find_spec('matplotlib') is not None, 'styled': styled}))\n"
    )
    out = _run([str(py), "-c", probe], cwd=tmp_path)  # not the checkout: the installed copy
    assert out.returncode == 0, out.stderr[-3000:]
    facts = json.loads(out.stdout)
    import homtrap

    assert str(env) in facts["file"] and facts["version"] == homtrap.__version__
    assert facts["ok"] and facts["typed"]
    assert not facts["mpl"]
    assert "pip install 'homtrap[figures]'" in facts["styled"]
