#!/usr/bin/env python
"""Build (or refresh) the environments in which readers run the chapters, and a kernel for each.

Two kinds, each from the project's own files and nothing else:

``colab``
    What Google Colab offers: Python 3.13 with numpy, scipy, matplotlib, seaborn and ipykernel
    (``tests/colab-requirements.txt``: the versions of ``requirements.txt``, so that outputs
    are comparable), **no** myst-nb, Jupyter Book or test tools, and homtrap installed as a
    plain, non-editable package with its ``book`` extra, as the chapters' set-up cell
    installs it there.
``binder``
    What Binder (repo2docker) builds: the Python of ``binder/runtime.txt``, then
    ``pip install -r binder/requirements.txt`` run from the repository root (whose ``.``
    line installs homtrap, non-editable). With a ``binder/`` folder repo2docker reads only
    that folder and does not run ``pip install .`` by itself.

Each environment lives in ``.venv/envs/<kind>`` and is rebuilt when its requirement files
change; homtrap is reinstalled from this checkout every time (a few seconds), so the
environment always runs the code under test. A Jupyter kernelspec ``homtrap-<kind>`` is
written into ``<env>/share/jupyter/kernels``; point ``JUPYTER_PATH`` at ``<env>/share/jupyter``
and run nbval with ``--nbval-kernel-name homtrap-<kind>``.

Usage::

    python scripts/reader_env.py colab     # prints the environment's directory
    python scripts/reader_env.py binder
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".venv" / "envs"

#: files that define each environment (a change rebuilds it from scratch)
DEFINITION = {
    "colab": [ROOT / "tests" / "colab-requirements.txt", ROOT / "pyproject.toml"],
    "binder": [ROOT / "binder" / "requirements.txt", ROOT / "binder" / "runtime.txt", ROOT / "pyproject.toml"],
}
#: the Python each environment runs
COLAB_PYTHON = "3.13"


class EnvironmentUnavailable(RuntimeError):
    """The interpreter an environment needs is not on this machine (or no package index)."""


def python_version(kind: str) -> str:
    """``major.minor`` of the Python the environment ``kind`` runs."""
    if kind == "colab":
        return COLAB_PYTHON
    text = (ROOT / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    if not match:
        raise ValueError(f"binder/runtime.txt must read python-3.X, got {text!r}")
    return match.group(1)


def find_python(version: str) -> str:
    """An interpreter of ``version`` (on PATH, or under pyenv), or raise EnvironmentUnavailable."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(str(p) for p in pyenv_root.glob(f"versions/{version}*/bin/python{version}"))
    candidates.append(shutil.which(f"python{version}"))  # may be a pyenv shim that is not active
    for exe in candidates:
        if exe and subprocess.run([exe, "-c", "import venv"], capture_output=True).returncode == 0:
            return exe
    if sys.version_info[:2] == tuple(map(int, version.split("."))):
        return sys.executable
    raise EnvironmentUnavailable(f"no Python {version} found (on PATH or under {pyenv_root}/versions)")


def _digest(kind: str) -> str:
    h = hashlib.sha256()
    for path in DEFINITION[kind]:
        h.update(path.read_bytes())
    return h.hexdigest()


def _pip(py: Path, *args: str) -> None:
    cmd = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        if re.search(r"(?i)(connection|resolve host|network is unreachable|no matching distribution)", proc.stderr):
            raise EnvironmentUnavailable(f"pip could not reach a package index: {proc.stderr.strip().splitlines()[-1]}")
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def build(kind: str) -> Path:
    """Create or refresh the environment ``kind``; return its directory."""
    if kind not in DEFINITION:
        raise ValueError(f"kind must be one of {sorted(DEFINITION)}, got {kind!r}")
    env = ENVS / kind
    py = env / "bin" / "python"
    stamp = env / ".homtrap-definition.sha256"
    want = _digest(kind)
    if not py.exists() or not stamp.exists() or stamp.read_text() != want:
        base = find_python(python_version(kind))
        shutil.rmtree(env, ignore_errors=True)
        env.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([base, "-m", "venv", str(env)], check=True)
        _pip(py, "--upgrade", "pip")
        if kind == "colab":
            _pip(py, "-r", "tests/colab-requirements.txt")
        else:  # exactly what repo2docker runs, from the repository root
            _pip(py, "-r", "binder/requirements.txt")
        stamp.write_text(want)
    # the code under test, as a plain (non-editable) install; its dependencies (and, on Colab,
    # those of the ``book`` extra the set-up cell asks for) are in the requirement files
    _pip(py, "--no-deps", "--force-reinstall", ".")
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' in-tree build directory
    check = subprocess.run([str(py), "-m", "pip", "check"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"pip check fails in {env}:\n{check.stdout}")
    write_kernelspec(env, kind)
    return env


def kernel_name(kind: str) -> str:
    """Name of the kernelspec of environment ``kind``."""
    return f"homtrap-{kind}"


def write_kernelspec(env: Path, kind: str) -> Path:
    """Write the kernelspec that runs ``env``'s Python; return its directory."""
    spec_dir = env / "share" / "jupyter" / "kernels" / kernel_name(kind)
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"homtrap reader ({kind})",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return spec_dir


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in DEFINITION:
        sys.exit(__doc__)
    try:
        print(build(sys.argv[1]))
    except EnvironmentUnavailable as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        sys.exit(3)
