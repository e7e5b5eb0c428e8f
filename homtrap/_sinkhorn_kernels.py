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

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: absorb the scalings into the log-potentials once |log a| or |log b| exceeds this
_ABSORB_LOG = 30.0
#: switch a matrix to Newton when Sinkhorn predicts more sweeps than this
_SWITCH_SWEEPS = 40
#: maximum number of step halvings in the Newton line search
_MAX_HALVINGS = 40


def logsumexp_axis(x: Array, axis: int) -> Array:
    """Numerically safe ``log(sum(exp(x), axis))`` without scipy's per-call overhead."""
    m = x.max(axis=axis, keepdims=True)
    s = np.exp(x - m).sum(axis=axis, keepdims=True)
    return np.squeeze(np.log(s) + m, axis=axis)


def column_potential(Z: Array, u: Array) -> Array:
    """The ``v`` that makes every column of ``exp(Z + u + v)`` sum to exactly one."""
    return -logsumexp_axis(Z + u[:, :, None], axis=1)


def matrix_from_potentials(Z: Array, u: Array, v: Array) -> Array:
    """``exp(Z + u 1^T + 1 v^T)`` for a batch."""
    return np.exp(Z + u[:, :, None] + v[:, None, :])


def marginal_errors(M: Array) -> Array:
    """Largest absolute deviation of a row or column sum from one, per matrix."""
    row = np.abs(M.sum(axis=2) - 1.0).max(axis=1)
    col = np.abs(M.sum(axis=1) - 1.0).max(axis=1)
    return np.maximum(row, col)


def sinkhorn_sweeps(
    Z: Array, u: Array, v: Array, tol: float, budget: NDArray[np.int64]
) -> tuple[Array, Array, NDArray[np.int64], Array, NDArray[np.bool_]]:
    """Run stabilised Sinkhorn sweeps until each matrix converges or looks slow.

    Parameters
    ----------
    Z : ndarray, shape (B, n, n)
        Scaled logits.
    u, v : ndarray, shape (B, n)
        Initial log-potentials (updated copies are returned).
    tol : float
        Target marginal error.
    budget : ndarray of int, shape (B,)
        Maximum number of sweeps per matrix.

    Returns
    -------
    u, v : ndarray, shape (B, n)
        Log-potentials after the last sweep (column sums exact).
    sweeps : ndarray of int, shape (B,)
        Sweeps used per matrix.
    err : ndarray, shape (B,)
        Row-sum error after the last sweep.
    slow : ndarray of bool, shape (B,)
        Matrices stopped because the observed rate predicts more than
        ``_SWITCH_SWEEPS`` further sweeps (hand them to Newton).
    """
    B = Z.shape[0]
    u = u.copy()
    v = v.copy()
    sweeps = np.zeros(B, dtype=np.int64)
    err = np.full(B, np.inf)
    slow = np.zeros(B, dtype=bool)
    active = np.flatnonzero(budget > 0)
    while active.size:
        Za, ua, va = Z[active], u[active], v[active]
        K = matrix_from_potentials(Za, ua, va)
        a = np.ones_like(ua)
        b = np.ones_like(va)
        prev = np.full(active.size, np.inf)
        local = np.zeros(active.size, dtype=np.int64)
        room = budget[active] - sweeps[active]
        running = np.ones(active.size, dtype=bool)
        while True:
            Kb = np.matmul(K, b[:, :, None])[:, :, 0]
            e = np.abs(a * Kb - 1.0).max(axis=1)  # row error of the current iterate
            a = 1.0 / Kb
            b = 1.0 / np.matmul(a[:, None, :], K)[:, 0, :]
            local += running
            # the error e belongs to the iterate before this sweep; record it
            err_now = np.where(running, e, prev)
            rate = np.where(np.isfinite(prev) & (prev > 0), err_now / np.where(prev > 0, prev, 1.0), 0.0)
            done = err_now <= tol
            with np.errstate(divide="ignore", invalid="ignore"):
                predicted = np.where(
                    (rate > 0) & (rate < 1), np.log(tol / np.maximum(err_now, tol)) / np.log(rate), np.inf
                )
            is_slow = (local >= 3) & ((rate >= 1) | (predicted > _SWITCH_SWEEPS)) & ~done
            out = local >= room
            stop = running & (done | is_slow | out)
            slow_new = stop & is_slow & ~done
            prev = err_now
            running &= ~stop
            # record the stopping matrices
            if stop.any():
                idx = np.flatnonzero(stop)
                slow[active[idx]] = slow_new[idx]
            drift = max(np.abs(np.log(a)).max(initial=0.0), np.abs(np.log(b)).max(initial=0.0))
            if not running.any() or drift > _ABSORB_LOG or (local.max() % 64 == 0):
                break
        # absorb scalings and the bookkeeping for this block of sweeps
        ua = ua + np.log(a)
        va = va + np.log(b)
        u[active], v[active] = ua, va
        sweeps[active] = sweeps[active] + local
        err[active] = prev
        keep = running
        # matrices that stopped: leave them; the rest continue with a fresh kernel
        active = active[keep]
    return u, v, sweeps, err, slow


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
    Z: Array, u: Array, tol: float, budget: NDArray[np.int64]
) -> tuple[Array, Array, NDArray[np.int64], Array]:
    """Damped Newton iterations on the reduced dual ``F(u)`` for a batch.

    Each step solves ``L du = -(r - 1)`` where ``L`` is the Laplacian of ``W = M M^T``
    (``M`` column-normalised), then backtracks until ``F`` decreases (Armijo) or the
    gradient norm shrinks; the second test takes over close to the optimum, where the
    decrease of ``F`` (of the order of the squared gradient) is below rounding.

    Returns
    -------
    u, v : ndarray, shape (B, n)
        Log-potentials with exact column sums.
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
        du = np.linalg.solve(Lap + scale * (1.0 / n + 1e-12 * eye), -g[:, :, None])[:, :, 0]
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
    return u, v, steps, err
