"""Batched numerical kernels behind :func:`homtrap.sinkhorn`.

Private module. Everything works on a contiguous chunk of matrices ``Z`` of shape
``(B, n, n)`` holding the scaled logits ``logits / T`` and on log-potentials ``u, v`` of
shape ``(B, n)``; the current doubly-stochastic candidate is always

.. math:: M = \\exp(Z + u\\,\\mathbf 1^\\top + \\mathbf 1 v^\\top).

Two solvers share that state:

* **stabilised Sinkhorn sweeps** in the plain domain on the absorbed kernel
  ``K = exp(Z + u + v)`` (entries at most about 1, so nothing overflows; entries that
  underflow are below 1e-308 of their row and cannot matter), with the scalings absorbed
  back into ``u, v`` whenever they drift far from 1 (Schmitzer's log-stabilisation);
* **damped Newton steps on the reduced dual**

  .. math:: \\tilde F(u) = \\sum_j \\log\\sum_i e^{Z_{ij}+u_i} - \\sum_i u_i,

  whose minimiser gives the Sinkhorn scaling. Its gradient is ``r - 1`` (row sums after
  an exact column normalisation) and its Hessian is the graph Laplacian of
  ``W = M M^T``; forming the Laplacian from the off-diagonal entries of ``W`` avoids the
  cancellation of ``diag(r) - M M^T`` near permutation matrices.

Sinkhorn's sweep count explodes as ``T -> 0`` (its rate is about ``sigma_2(M)^2`` per
sweep); Newton converges quadratically there, so the driver switches per matrix as soon
as the observed rate predicts too many remaining sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: absorb the scalings into the log-potentials once a scaling leaves [1/_ABSORB, _ABSORB]
_ABSORB = 1e13
#: switch a matrix to Newton when Sinkhorn predicts more sweeps than switch_sweeps(n)
_SWITCH_BASE = 40
#: size up to which the break-even number of sweeps is _SWITCH_BASE
_SWITCH_N0 = 64
#: drop finished matrices from the working set once at most this fraction is still running
_COMPACT_LIVE = 0.5
#: sweeps between two estimates of a matrix's convergence rate
_RATE_EVERY = 4
#: maximum number of step halvings in the Newton line search
_MAX_HALVINGS = 40


def switch_sweeps(n: int) -> float:
    """Sweeps Sinkhorn may still need before Newton is cheaper.

    A sweep costs ``O(n^2)``, a Newton step ``O(n^3)`` (``M M^T`` and a linear solve), and
    Newton needs a handful of steps, so the break-even number of sweeps grows like ``n``:
    ``40`` up to ``n = 64`` (measured), proportionally more beyond.
    """
    return _SWITCH_BASE * max(1.0, n / _SWITCH_N0)


def marginal_errors(M: Array) -> Array:
    """Largest absolute deviation of a row or column sum from one, per matrix of a ``(B, n, n)`` stack.

    The sums are batched matrix-vector products with a vector of ones (BLAS), several
    times faster than ``sum`` along the short contiguous rows.
    """
    B, n, _ = M.shape
    row = np.abs(np.matmul(M, np.ones((B, n, 1)))[:, :, 0] - 1.0).max(axis=1)
    col = np.abs(np.matmul(np.ones((B, 1, n)), M)[:, 0, :] - 1.0).max(axis=1)
    return np.maximum(row, col)


@dataclass
class SweepResult:
    """Outcome of :func:`sinkhorn_sweeps` for a chunk of ``B`` matrices.

    ``matrix == exp(Z + u[:, :, None] + v[:, None, :])`` up to rounding; its column sums
    are exact (to rounding) and ``err`` is its largest row-sum error. Matrices with
    ``err > tol`` and ``sweeps`` below their budget were stopped because Sinkhorn would need
    too many further sweeps (or produced a non-finite scaling); their ``u`` is a safe
    starting point for Newton.
    """

    u: Array
    v: Array
    matrix: Array
    err: Array
    sweeps: NDArray[np.int64]


def sinkhorn_sweeps(
    Z: Array,
    u: Array | None,
    tol: float,
    budget: NDArray[np.int64],
    *,
    adaptive: bool = True,
    out: Array | None = None,
    work: Array | None = None,
    unshifted: bool = False,
) -> SweepResult:
    """Stabilised, batched Sinkhorn sweeps from the row potential ``u``.

    One ``exp`` builds the kernel ``K = exp(Z + u + v0)`` with the column potential ``v0``
    that makes every column sum to one; afterwards each sweep is two batched
    matrix-vector products on the scalings ``a, b`` (``M = diag(a) K diag(b)``), and the
    row error of the current iterate comes free with the first of them. The scalings are
    absorbed into ``u, v`` (one more ``exp``) only when they drift outside
    ``[1e-13, 1e13]``, which happens at low temperature only. Matrices that finish are
    recorded at once and dropped from the working set in batches, so finished matrices
    cost almost nothing. Row and column sums are batched matrix-vector products (BLAS),
    not ``sum`` reductions, which are several times slower on small rows.

    Parameters
    ----------
    Z : ndarray, shape (B, n, n)
        Scaled logits (not modified).
    u : ndarray, shape (B, n), or None
        Initial row log-potentials; ``None`` means zero.
    tol : float
        Target row-sum error (column sums are exact after every sweep).
    budget : ndarray of int, shape (B,)
        Maximum number of sweeps per matrix (0 returns the column-normalised start).
    adaptive : bool, default True
        Stop a matrix early (handing it to Newton) when its observed rate predicts more than
        ``switch_sweeps(n)`` further sweeps. ``False`` runs every matrix until ``tol`` or its
        budget (used to time the sweep itself).
    out : ndarray, shape (B, n, n), optional
        Where to write the matrices (a new array otherwise).
    work : ndarray, shape (B, n, n), optional
        Scratch space for the kernel (a new array otherwise); overwritten.
    unshifted : bool, default False
        With ``u=None``: the caller guarantees ``|Z| < 700``, so ``exp(Z)`` needs no
        column shift (saves two passes over the data).

    Returns
    -------
    SweepResult
    """
    B, n, _ = Z.shape
    zero_u = u is None
    u0 = np.zeros((B, n)) if zero_u else u
    u = u0.copy()
    K = np.empty_like(Z) if work is None else work
    if zero_u and unshifted:
        m = np.zeros((B, n))
        np.exp(Z, out=K)
    else:
        if zero_u:
            m = Z.max(axis=1)
            np.subtract(Z, m[:, None, :], out=K)
        else:
            np.add(Z, u[:, :, None], out=K)
            m = K.max(axis=1)
            K -= m[:, None, :]
        np.exp(K, out=K)  # every column has an entry exactly 1: no overflow, no zero column
    b = 1.0 / np.matmul(np.ones((B, 1, n)), K)[:, 0, :]
    v = -m
    a = np.ones((B, n))
    res = SweepResult(u=np.empty((B, n)), v=np.empty((B, n)), matrix=np.empty_like(Z) if out is None else out,
                      err=np.full(B, np.inf), sweeps=np.zeros(B, dtype=np.int64))
    idx = np.arange(B)  # chunk position of each row of K, a, b
    k = 0  # sweeps done (the same for every matrix still in the working set)
    room = np.asarray(budget, dtype=np.int64).copy()
    e_old = np.full(B, np.inf)  # error _RATE_EVERY sweeps ago
    live = np.ones(B, dtype=bool)
    a_fin = np.empty((B, n))  # final scalings of the finished matrices still in the working set
    b_fin = np.empty((B, n))
    scratch = np.empty((B, n))
    log_switch = np.log(tol) if tol > 0 else -np.inf
    switch = switch_sweeps(n)

    def flush() -> None:
        """Write the finished matrices of the working set: M = diag(a) K diag(b)."""
        f = np.flatnonzero(~live)
        if f.size == B:  # the whole chunk, never compacted: write in place
            np.multiply(K, a_fin[:, :, None], out=res.matrix)
            res.matrix *= b_fin[:, None, :]
        elif f.size:
            Mf = K[f]
            Mf *= a_fin[f][:, :, None]
            Mf *= b_fin[f][:, None, :]
            res.matrix[idx[f]] = Mf

    room_min = int(room.min())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while True:
            Kb = np.matmul(K, b[:, :, None])[:, :, 0]
            r = np.multiply(a, Kb, out=scratch[: idx.size])
            r -= 1.0
            e = np.abs(r, out=r).max(axis=1)  # row error of the iterate (a, b)
            check = k % _RATE_EVERY == 0
            compact = absorb = False
            # the common sweep stops here: nobody converged, nobody out of budget, no rate check
            if check or not (e.min() > tol) or k >= room_min:  # `not >` also catches NaN
                stop = ~(e > tol) | (k >= room)
                slow = np.zeros(idx.size, dtype=bool)
                if adaptive and check:
                    # rate per sweep over the last _RATE_EVERY sweeps; predicted sweeps still needed
                    log_rate = (np.log(e) - np.log(e_old)) / _RATE_EVERY
                    predicted = (log_switch - np.log(e)) / log_rate
                    slow = live & ~stop & (k >= _RATE_EVERY) & ((log_rate >= 0) | (predicted > switch))
                    stop |= slow
                    e_old = e
                stop &= live
                if stop.any():
                    j = np.flatnonzero(stop)
                    g = idx[j]
                    aj, bj = a[j], b[j]
                    a_fin[j], b_fin[j] = aj, bj
                    uj, vj = u[g] + np.log(aj), v[g] + np.log(bj)
                    bad = ~(np.isfinite(uj).all(axis=1) & np.isfinite(vj).all(axis=1))
                    uj[bad] = u0[g[bad]]  # a scaling overflowed: Newton restarts from the input
                    res.u[g], res.v[g], res.err[g], res.sweeps[g] = uj, vj, e[j], k
                    live[j] = False
                    n_live = np.count_nonzero(live)
                    if n_live == 0:
                        break
                    # drop finished matrices in batches (and at once after a non-finite scaling)
                    compact = bool(bad.any()) or n_live <= _COMPACT_LIVE * live.size
                    room_min = int(room[live].min())
            a = np.divide(1.0, Kb, out=a)
            b = np.divide(1.0, np.matmul(a[:, None, :], K)[:, 0, :], out=b)
            k += 1
            if check:
                lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
                absorb = not (1.0 / _ABSORB <= lo and hi <= _ABSORB)
            if compact or (absorb and not live.all()):
                flush()
                keep = np.flatnonzero(live)
                K, a, b, a_fin, b_fin = K[keep], a[keep], b[keep], a_fin[keep], b_fin[keep]
                idx, room, e_old, live = idx[keep], room[keep], e_old[keep], live[keep]
            if absorb:
                # absorb the scalings into the potentials and rebuild the kernel (entries <= 1)
                u[idx] += np.log(a)
                v[idx] += np.log(b)
                K = np.exp(Z[idx] + u[idx][:, :, None] + v[idx][:, None, :])
                a = np.ones_like(a)
                b = np.ones_like(b)
        flush()
    return res


def single_sweeps(Z: Array, tol: float, max_sweeps: int) -> tuple[Array, Array, Array, int, float] | None:
    """Sinkhorn sweeps on one well-scaled matrix, for problems too small to amortise the batched kernel.

    The same iteration as :func:`sinkhorn_sweeps` (``M = diag(a) exp(Z) diag(b)``, row error
    from the first matrix-vector product, columns exact after each sweep) with none of the
    batch bookkeeping, which costs more than the arithmetic for a single small matrix. The
    caller guarantees ``|Z| < 700`` (``exp`` is safe without a shift). Gives up, returning
    ``None``, as soon as it would be slow (the observed rate predicts more than
    ``switch_sweeps(n)`` further sweeps) or a scaling leaves ``[1e-13, 1e13]``; the caller
    then runs the general solver.

    Returns
    -------
    (M, u, v, sweeps, err) or None
        The matrix, its log-potentials (``M = exp(Z + u 1^T + 1 v^T)``), the sweeps used and
        the row error of the iterate (columns are exact).
    """
    n = Z.shape[0]
    K = np.exp(Z)
    b = 1.0 / K.sum(axis=0)
    a = np.ones(n)
    switch = switch_sweeps(n)
    e_old = np.inf
    log_tol = np.log(tol)
    for k in range(max_sweeps + 1):
        Kb = K @ b
        e = float(np.abs(a * Kb - 1.0).max())
        if e <= tol:
            break
        if not np.isfinite(e) or k == max_sweeps:
            return None
        if k % _RATE_EVERY == 0:
            if k and (e >= e_old or (log_tol - np.log(e)) * _RATE_EVERY / (np.log(e) - np.log(e_old)) > switch):
                return None
            e_old = e
        a = 1.0 / Kb
        b = 1.0 / (a @ K)
        if k % _RATE_EVERY == 0 and not (1.0 / _ABSORB <= min(a.min(), b.min()) and max(a.max(), b.max()) <= _ABSORB):
            return None
    return a[:, None] * K * b[None, :], np.log(a), np.log(b), k, e


def evaluate_dual(Z: Array, u: Array) -> tuple[Array, Array, Array, Array]:
    """Column-normalise ``exp(Z + u)`` and return ``(F(u), v, M, g)`` with one ``exp``.

    ``F`` is the reduced dual objective, ``v`` the exact column potential, ``M`` the
    column-stochastic matrix and ``g = M 1 - 1`` the gradient of ``F``.
    """
    X = Z + u[:, :, None]
    m = X.max(axis=1, keepdims=True)
    E = np.exp(X - m)
    s = E.sum(axis=1, keepdims=True)
    lse = np.log(s) + m
    M = E / s
    F = lse[:, 0, :].sum(axis=1) - u.sum(axis=1)
    return F, -lse[:, 0, :], M, M.sum(axis=2) - 1.0


def newton_steps(
    Z: Array, u: Array, tol: float, budget: NDArray[np.int64], lm: float = 0.0
) -> tuple[Array, Array, Array, NDArray[np.int64], Array]:
    """Damped Newton iterations on the reduced dual (see :func:`_newton_steps`), without floating-point warnings.

    Trial steps may overflow; they are rejected by the line search (non-finite objective).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _newton_steps(Z, u, tol, budget, lm)


def _newton_steps(
    Z: Array, u: Array, tol: float, budget: NDArray[np.int64], lm: float = 0.0
) -> tuple[Array, Array, Array, NDArray[np.int64], Array]:
    """Damped Newton iterations on the reduced dual ``F(u)`` for a batch.

    Each step solves ``L du = -(r - 1)`` where ``L`` is the Laplacian of ``W = M M^T``
    (``M`` column-normalised), then backtracks until ``F`` decreases (Armijo) or the
    gradient norm shrinks; the second test takes over close to the optimum, where the
    decrease of ``F`` (of the order of the squared gradient) is below rounding.

    With ``lm > 0`` the system is ``(L + lm |g|_inf I) du = -g`` (Levenberg-Marquardt with
    a shift proportional to the gradient, which keeps fast local convergence). Near a
    permutation matrix the graph of ``W`` falls apart into pieces joined by weights of 1e-40
    and less; undamped, the rounding noise of ``g`` along those near-null directions gives
    steps of 1e12. The solver uses this for its final polish (``homtrap.sinkhorn``).

    Returns
    -------
    u, v : ndarray, shape (B, n)
        Log-potentials with exact column sums.
    M : ndarray, shape (B, n, n)
        ``exp(Z + u + v)``, the column-normalised matrix.
    steps : ndarray of int, shape (B,)
        Newton steps used per matrix.
    err : ndarray, shape (B,)
        Row-sum error at the end (column sums are exact).
    """
    B, n, _ = Z.shape
    u = u.copy()
    steps = np.zeros(B, dtype=np.int64)
    F, v, M, g_all = evaluate_dual(Z, u)
    err = np.abs(g_all).max(axis=1)
    stall = np.zeros(B, dtype=np.int64)
    active = np.flatnonzero((err > tol) & (budget > 0))
    diag = np.arange(n)
    eye = np.eye(n)
    while active.size:
        Za, ua, Ma, g, Fa = Z[active], u[active], M[active], g_all[active], F[active]
        W = np.matmul(Ma, Ma.transpose(0, 2, 1))
        W[:, diag, diag] = 0.0
        deg = W.sum(axis=2)
        Lap = -W
        Lap[:, diag, diag] = deg
        scale = np.maximum(deg.mean(axis=1), 1e-300)[:, None, None]
        shift = scale * (1.0 / n + 1e-12 * eye)
        if lm:  # Levenberg-Marquardt: damp the near-null directions of a nearly disconnected graph
            shift = shift + (lm * np.abs(g).max(axis=1))[:, None, None] * eye
        du = np.linalg.solve(Lap + shift, -g[:, :, None])[:, :, 0]
        du -= du.mean(axis=1, keepdims=True)
        slope = np.minimum((g * du).sum(axis=1), 0.0)
        gnorm = np.sqrt((g * g).sum(axis=1))
        t = np.ones(active.size)
        accepted = np.zeros(active.size, dtype=bool)
        new = [ua.copy(), Fa.copy(), v[active], Ma.copy(), g.copy()]
        for _ in range(_MAX_HALVINGS):
            todo = np.flatnonzero(~accepted)
            if not todo.size:
                break
            cand = ua[todo] + t[todo, None] * du[todo]
            Fc, vc, Mc, gc = evaluate_dual(Za[todo], cand)
            ok = Fc <= Fa[todo] + 1e-4 * t[todo] * slope[todo]
            ok |= np.sqrt((gc * gc).sum(axis=1)) <= (1.0 - 1e-4 * t[todo]) * gnorm[todo]
            ok &= np.isfinite(Fc)
            hit = todo[ok]
            accepted[hit] = True
            for store, val in zip(new, (cand, Fc, vc, Mc, gc)):
                store[hit] = val[ok]
            t[todo[~ok]] *= 0.5
        u[active], F[active], v[active], M[active], g_all[active] = new
        en = np.abs(new[4]).max(axis=1)
        steps[active] += 1
        stall[active] = np.where(accepted & (en < err[active]), 0, stall[active] + 1)
        err[active] = en
        keep = (en > tol) & (steps[active] < budget[active]) & (stall[active] < 8)
        active = active[keep]
    return u, v, M, steps, err
