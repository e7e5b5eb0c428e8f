#!/usr/bin/env python
"""Benchmarks: homtrap's Sinkhorn and sigma2 against POT, a naive numpy loop and LAPACK's SVD.

All implementations run in one process on the same inputs; each result is checked against
the others (and its marginal error measured) before its time is reported, and every table
gives ratios measured side by side, never absolute times alone. The peers live in
``benchmarks/peers.py`` (the appendix "How fast, and why" uses the same functions).

Usage (inside the project's environment: ``source scripts/_env.sh`` first)::

    python benchmarks/bench.py                 # all tables, full sizes (about 15 minutes)
    python benchmarks/bench.py --quick         # small sizes, seconds (the test suite runs this)
    python benchmarks/bench.py --case sweep    # one table
    python benchmarks/bench.py --case large    # one layer, n = 64 .. 4096, vs a dense SVD (about 5 minutes)
    python benchmarks/bench.py --case large --sizes 512,2048 --threads 2   # chosen sizes, two BLAS threads
    python benchmarks/bench.py --json out.json # also write every row as JSON
    python benchmarks/bench.py --case fig1 --impl homtrap   # one timed workload, for whole-process timers
    python benchmarks/bench.py --case sweep --impl pot --batch 4096 --sweeps 100   # (and --case none: the baseline)

Cases: ``sweep`` (time per Sinkhorn sweep), ``e2e`` (end to end to a tolerance, across T),
``sigma2`` (sigma2 vs batched SVD), ``scaling`` (n and batch size), ``fig1`` (the full
Figure-1 sweep: 20 temperatures x 1000 matrices x n = 64, sigma2 included), ``large`` (one
doubly-stochastic layer of size n = 64 .. 4096: ``sigma2``, ``detail_factor`` and ``diagnose``
against ``np.linalg.svd(M, compute_uv=False)``, the values checked against the SVD's sigma_2).

Every case runs with one BLAS thread unless ``--threads`` says otherwise; the peers always get
the same number of threads as homtrap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import homtrap
from homtrap import _sinkhorn, _sinkhorn_kernels  # the solver's internals: chunking and the bare sweep kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))  # peers.py lives beside this file
from peers import best_time, compare_solvers, each, markdown_table, naive_sinkhorn, pot_sinkhorn, worst_marginal_error  # noqa: E402

TOL = 1e-9


# --------------------------------------------------------------------------- cases
def case_e2e(n: int, B: int, temps, repeat: int, peers_repeat: int = 1) -> list[dict]:
    """Solve the same B Gaussian logit matrices to TOL with each implementation, for each T."""
    Gs = np.random.default_rng(0).standard_normal((B, n, n))
    return [compare_solvers(Gs, T, TOL, repeat=repeat, peers_repeat=peers_repeat) for T in temps]


def case_sweep(n: int, B: int, sweeps: int, repeat: int) -> dict:
    """Cost of one Sinkhorn sweep per matrix at T = 1 (microseconds), every implementation doing exactly ``sweeps``.

    homtrap: its batched sweep kernel with the adaptive stopping switched off, on the same chunks
    of matrices as ``sinkhorn_solve`` (set-up and final matrix included); POT and the naive loop: their
    full solver with ``tol = 0``, so they run exactly ``sweeps`` sweeps. ``homtrap_solve_us`` is
    a whole ``sinkhorn_solve`` to tol = 1e-13 divided by the iterations it reports.
    """
    Gs = np.random.default_rng(1).standard_normal((B, n, n))
    chunk = max(1, min(B, _sinkhorn.chunk_size(n)))  # the solver's chunks, so that the kernel runs as in sinkhorn_solve

    def kernel():
        done = 0
        for s in range(0, B, chunk):
            Z = Gs[s : s + chunk]
            done += int(_sinkhorn_kernels.sinkhorn_sweeps(Z, None, 0.0, np.full(len(Z), sweeps), adaptive=False).sweeps.sum())
        return done

    t_k, kres = best_time(kernel, repeat)
    t_s, sres = best_time(lambda: homtrap.sinkhorn_solve(Gs, 1.0, tol=1e-13), repeat)
    t_p, _ = best_time(lambda: each(pot_sinkhorn, Gs, 1.0, tol=0.0, max_iter=sweeps), 1)
    t_n, _ = best_time(lambda: each(naive_sinkhorn, Gs, 1.0, tol=0.0, max_iter=sweeps), 1)
    per = lambda t, total: 1e6 * t / total  # noqa: E731  microseconds per matrix-sweep
    h = per(t_k, kres)
    p, nv = per(t_p, B * sweeps), per(t_n, B * sweeps)
    return dict(n=n, B=B, sweeps=sweeps, homtrap_us=h, homtrap_solve_us=per(t_s, int(sres.iterations.sum())),
                pot_us=p, naive_us=nv, speedup_pot=p / h, speedup_naive=nv / h)


def case_sigma2(n: int, B: int, repeat: int) -> dict:
    """homtrap.sigma2 against numpy's batched SVD on the same doubly-stochastic matrices."""
    M = homtrap.random_dsm(n, 1.0, size=B, rng=2)
    t_s, s = best_time(lambda: homtrap.sigma2(M), repeat)
    t_v, v = best_time(lambda: np.linalg.svd(M, compute_uv=False)[:, 1], repeat)
    return dict(n=n, B=B, sigma2_s=t_s, svd_s=t_v, speedup=t_v / t_s, max_abs_diff=float(np.abs(s - v).max()))


def case_large(n: int, repeat: int) -> dict:
    """One doubly-stochastic layer of size ``n`` (T = 1): ``sigma2``, ``detail_factor`` and ``diagnose`` vs a dense SVD.

    The peer is ``np.linalg.svd(M, compute_uv=False)`` (all singular values, LAPACK ``gesdd``),
    whose second value is the reference sigma_2; ``err_*`` is the absolute difference of each
    homtrap value to it (for ``diagnose``, the larger of its ``sigma2`` and ``detail_factor``
    fields; the two agree on a doubly-stochastic layer, Lemma 2). ``speedup_*`` = SVD time /
    homtrap time, measured in this run on the same matrix.
    """
    M = homtrap.random_dsm(n, 1.0, rng=5)
    t_v, sv = best_time(lambda: np.linalg.svd(M, compute_uv=False), repeat)
    ref = float(sv[1])
    t_s, s = best_time(lambda: homtrap.sigma2(M), repeat)
    t_f, f = best_time(lambda: homtrap.detail_factor(M), repeat)
    t_d, d = best_time(lambda: homtrap.diagnose(M[None]), repeat)
    d_err = max(abs(float(np.ravel(getattr(d, k))[0]) - ref) for k in ("sigma2", "detail_factor"))
    return dict(n=n, svd_s=t_v, sigma2_s=t_s, detail_s=t_f, diagnose_s=t_d, speedup_sigma2=t_v / t_s,
                speedup_detail=t_v / t_f, speedup_diagnose=t_v / t_d, sigma2=ref, err_sigma2=abs(float(s) - ref),
                err_detail=abs(float(f) - ref), err_diagnose=d_err)


LARGE_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
LARGE_COLS = ["n", "svd_s", "sigma2_s", "detail_s", "diagnose_s", "speedup_sigma2", "speedup_detail",
              "speedup_diagnose", "sigma2", "err_sigma2", "err_detail", "err_diagnose"]


def case_fig1(trials: int = 1000) -> dict:
    """The Figure-1 sweep: 20 temperatures x ``trials`` matrices, n = 64, every matrix to 1e-10, sigma2 included."""
    Ts = np.geomspace(0.01, 100, 20)
    t, sw = best_time(lambda: homtrap.sigma2_sweep(64, Ts, trials, rng=3), 1)
    return dict(seconds=t, matrices=Ts.size * trials, max_marginal_error=sw.max_marginal_error)


# --------------------------------------------------------------------------- main
def machine_info(quick: bool, threads: int = 1) -> dict:
    """Where and with what the numbers were measured."""
    import datetime
    import platform

    import ot
    import scipy

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return dict(date=datetime.date.today().isoformat(), cpu=cpu, cores=os.cpu_count(), python=platform.python_version(),
                numpy=np.__version__, scipy=scipy.__version__, pot=ot.__version__, homtrap=homtrap.__version__,
                quick=quick, blas_threads=threads)


E2E_COLS = ["T", "B", "homtrap_s", "pot_s", "naive_s", "speedup_pot", "speedup_naive", "homtrap_err", "pot_err",
            "naive_err", "homtrap_iter", "homtrap_newton", "pot_iter", "naive_iter", "agree_pot"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--case", choices=["all", "sweep", "e2e", "sigma2", "scaling", "fig1", "large", "none"], default="all")
    ap.add_argument("--impl", choices=["homtrap", "pot", "naive"],
                    help="time one implementation only, once, for whole-process timers: --case e2e (to tol), sweep "
                         "(exactly --sweeps sweeps), fig1, or none (imports and inputs only, the baseline)")
    ap.add_argument("--n", type=int, default=64, help="with --impl: matrix size (default 64)")
    ap.add_argument("--batch", type=int, help="with --impl: number of matrices (default 1000, 100 with --quick)")
    ap.add_argument("--temperature", type=float, default=1.0, help="with --impl: temperature (default 1)")
    ap.add_argument("--sweeps", type=int, default=50, help="with --impl and --case sweep: sweeps per matrix (default 50)")
    ap.add_argument("--sizes", help="with --case large: comma-separated n (default 64,128,...,4096; 64,600 with --quick)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for every implementation (default 1)")
    ap.add_argument("--json", metavar="PATH", help="also write all rows to PATH as JSON (with --case: update that case only)")
    args = ap.parse_args(argv)
    q = args.quick
    rep = 1 if q else 3
    results: dict[str, list[dict]] = {}
    if args.threads < 1:
        ap.error(f"--threads must be >= 1, got {args.threads}")
    with threadpool_limits(args.threads):  # default one BLAS thread for small batched kernels (never changed globally)
        if args.impl:  # a single timed workload, for whole-process timers
            import ot  # noqa: F401  every implementation pays the same imports (POT's included)

            n, B = args.n, args.batch or (100 if q else 1000)
            Gs = np.random.default_rng(0).standard_normal((B, n, n))
            if args.case == "fig1":
                if args.impl != "homtrap":
                    sys.exit("the full Figure-1 sweep is only run with homtrap (peers need ~30 min)")
                print(case_fig1(100 if q else 1000))
                return 0
            if args.case == "none":  # imports and inputs only: the baseline to subtract
                print(f"baseline: {B} matrices n={n}")
                return 0
            T = args.temperature
            if args.case == "sweep":  # exactly --sweeps sweeps per matrix, no stopping
                k = args.sweeps
                chunk = max(1, min(B, _sinkhorn.chunk_size(n)))
                fn = {"homtrap": lambda: [_sinkhorn_kernels.sinkhorn_sweeps(Gs[s:s + chunk] / T, None, 0.0, np.full(len(Gs[s:s + chunk]), k), adaptive=False).matrix for s in range(0, B, chunk)],
                      "pot": lambda: each(pot_sinkhorn, Gs, T, tol=0.0, max_iter=k)[0],
                      "naive": lambda: each(naive_sinkhorn, Gs, T, tol=0.0, max_iter=k)[0]}[args.impl]
                fn()
                print(f"{args.impl}: {B} matrices n={n} T={T}: {k} sweeps each")
                return 0
            fn = {"homtrap": lambda: homtrap.sinkhorn(Gs, T, tol=TOL),
                  "pot": lambda: each(pot_sinkhorn, Gs, T, tol=TOL)[0],
                  "naive": lambda: each(naive_sinkhorn, Gs, T, tol=TOL)[0]}[args.impl]
            M = fn()
            print(f"{args.impl}: {B} matrices n={n} T={T}: max marginal error {worst_marginal_error(M):.2e}")
            return 0
        if args.case in ("all", "sweep"):
            rows = [case_sweep(n, 64 if q else 256, 20 if q else 50, rep) for n in ((16, 64) if q else (16, 32, 64, 128, 256))]
            results["sweep"] = rows
            print("## Time per iteration (microseconds per matrix, T = 1)\n")
            print(markdown_table(rows, ["n", "B", "homtrap_us", "homtrap_solve_us", "pot_us", "naive_us", "speedup_pot", "speedup_naive"]))
        if args.case in ("all", "e2e"):
            temps = (0.3, 1.0, 10.0) if q else (0.001, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
            rows = case_e2e(64, 20 if q else 100, temps, rep)
            results["e2e"] = rows
            print(f"## End to end to tol = {TOL:g} (n = 64)\n")
            print(markdown_table(rows, E2E_COLS))
        if args.case in ("all", "sigma2"):
            rows = [case_sigma2(n, 100 if q else 1000, rep) for n in ((16, 64) if q else (16, 32, 64, 128, 256))]
            results["sigma2"] = rows
            print("## sigma2 (Lemma 2 + top eigenvalue) vs batched SVD\n")
            print(markdown_table(rows, ["n", "B", "sigma2_s", "svd_s", "speedup", "max_abs_diff"]))
        if args.case in ("all", "scaling"):
            rows = []
            for n in ((16, 64) if q else (16, 32, 64, 128, 256)):
                for B in ((1, 10) if q else (1, 10, 100, 1000)):
                    if n * n * B > 256 * 256 * 100:  # keep every cell under a minute
                        continue
                    for T in ((1.0,) if q else (0.3, 1.0, 10.0)):
                        rows.append(case_e2e(n, B, (T,), rep, peers_repeat=1 if q or B > 10 else 3)[0])
            results["scaling"] = rows
            print("## Scaling (end to end to tol, by n, batch size and T)\n")
            print(markdown_table(rows, ["n", "B", "T", "homtrap_s", "pot_s", "naive_s", "speedup_pot", "speedup_naive",
                               "homtrap_err", "naive_err"]))
        if args.case in ("all", "fig1") and not q:
            r = case_fig1()
            results["fig1"] = [r]
            print("## Full Figure-1 sweep (20 T x 1000 matrices x n = 64, sigma2 included)\n")
            print(markdown_table([r], ["seconds", "matrices", "max_marginal_error"]))
        if args.case in ("all", "large"):
            sizes = tuple(int(v) for v in args.sizes.split(",")) if args.sizes else ((64, 600) if q else LARGE_SIZES)
            rows = []
            for n in sizes:  # one row at a time: the largest sizes take minutes
                rows.append(case_large(n, 1 if q or n > 2048 else rep))
                print(f"  n = {n}: svd {rows[-1]['svd_s']:.3g} s, sigma2 {rows[-1]['sigma2_s']:.3g} s", file=sys.stderr)
            results["large"] = rows
            print(f"## One doubly-stochastic layer vs np.linalg.svd(M, compute_uv=False) ({args.threads} BLAS thread(s))\n")
            print(markdown_table(rows, LARGE_COLS))
    if args.json:
        results["meta"] = [machine_info(q, args.threads)]
        if args.case != "all" and os.path.exists(args.json):  # one case re-run: keep the others
            with open(args.json) as fh:
                results = {**json.load(fh), **results}
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
