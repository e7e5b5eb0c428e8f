#!/usr/bin/env python
"""Print shell ``export`` lines for a floating-point environment unlike the one that stores outputs.

The notebooks' outputs are stored by ``scripts/execute_notebooks.py`` with numpy's best SIMD
kernels and two BLAS threads. The test suite compares them in a *perturbed* environment, so
that an output that depends on the machine cannot land:

* numpy's SIMD dispatch one level lower (``NPY_DISABLE_CPU_FEATURES``): on x86-64 the
  highest of ``X86_V4`` (AVX-512) and ``X86_V3`` (AVX2/FMA) that this CPU has is switched
  off, with every feature above it; elsewhere every dispatched feature above the baseline;
* one BLAS/OpenMP thread instead of the two the outputs are stored with (one per test
  worker: two workers on two cores do not oversubscribe).

``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are never touched: on some CPUs they are set
to work around bugs of older OpenBLAS builds.

Usage::

    eval "$(python scripts/perturbed_env.py)"
"""

from __future__ import annotations

import shlex

#: x86-64 levels from the highest down; a level implies every feature dispatched after it
X86_LEVELS = ("X86_V4", "X86_V3")


def disabled_features() -> list[str]:
    """The dispatched numpy CPU features to switch off: the top level this CPU has, and above."""
    from numpy._core import _multiarray_umath as umath

    dispatch = list(umath.__cpu_dispatch__)  # from the lowest to the highest
    found = umath.__cpu_features__
    for level in X86_LEVELS:
        if level in dispatch and found.get(level):
            start = dispatch.index(level)
            return [f for f in dispatch[start:] if found.get(f)]
    return [f for f in dispatch if found.get(f)]  # other architectures: baseline kernels only


def perturbed_environment() -> dict[str, str]:
    """The environment variables of the perturbed run."""
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    features = disabled_features()
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(features)
    return env


if __name__ == "__main__":
    for key, value in perturbed_environment().items():
        print(f"export {key}={shlex.quote(value)}")
