r"""The Sinkhorn projection onto the Birkhoff polytope: the production solver.

The object is Sinkhorn's map :math:`G \mapsto S(\exp(G/T))`, the unique doubly-stochastic
matrix :math:`\operatorname{diag}(a)\exp(G/T)\operatorname{diag}(b)`: :func:`sinkhorn` returns
the matrix, :func:`sinkhorn_solve` the matrix with its scalings and per-matrix diagnostics
(:class:`SinkhornResult`); :class:`ConvergenceWarning` and :class:`ConvergenceError` report a
missed tolerance. Introduced in :doc:`/book/01_dsm_detail_subspace` and used by nearly every
chapter; :doc:`/book/02_maximum_entropy` shows what it maximises, :doc:`/book/04_low_temperature`
and :doc:`/book/appendix_performance` how the solver stays fast at low temperature;
:func:`sinkhorn_jacobian` differentiates the map (:doc:`/book/17_case_mhc`).
"""

from __future__ import annotations

import threading
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from threadpoolctl import ThreadpoolController

from . import _sinkhorn_kernels as _k
from ._validation import as_square_stack, check_int, check_positive_scalar, finite_range

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "SinkhornResult",
    "sinkhorn",
    "sinkhorn_jacobian",
    "sinkhorn_solve",
]

#: bytes of float64 data per chunk of matrices processed together (fits in L2/L3 cache)
_CHUNK_BYTES = 1 << 20

#: problems with fewer entries than this run without the BLAS thread limit
_LIMIT_MIN_ENTRIES = 1 << 16
#: scratch buffers up to this many bytes are kept between calls (per thread)
_WORKSPACE_MAX_BYTES = 1 << 24

_CONTROLLER: ThreadpoolController | None = None
_LOCAL = threading.local()


def chunk_size(n: int) -> int:
    """Matrices of size ``n`` solved together: as many as fit in ``_CHUNK_BYTES`` (about L2 cache), at least one."""
    return max(1, _CHUNK_BYTES // (8 * n * n))


def _workspace(shape: tuple[int, int, int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two scratch arrays of ``shape``, reused between calls in the same thread.

    Fresh multi-megabyte arrays are paid for in page faults on first touch (on the test
    machine ~0.5 ms per 2 MB, as much as the whole computation at high temperature), so the
    chunk buffers are kept. Buffers above ``_WORKSPACE_MAX_BYTES`` are not kept.
    """
    size = shape[0] * shape[1] * shape[2]
    if 8 * size > _WORKSPACE_MAX_BYTES:
        return np.empty(shape), np.empty(shape)
    cached = getattr(_LOCAL, "buffers", None)
    if cached is None or cached[0].size < size:
        cached = (np.empty(size), np.empty(size))
        _LOCAL.buffers = cached
    return cached[0][:size].reshape(shape), cached[1][:size].reshape(shape)


def _blas_controller() -> ThreadpoolController:
    """One ThreadpoolController per process: building it scans the loaded libraries (~1 ms)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


class ConvergenceWarning(RuntimeWarning):
    """Issued by :func:`sinkhorn` (``on_failure="warn"``, the default) when some matrix missed ``tol``.

    The message gives the number of matrices that missed, the worst marginal error and the
    budget; :func:`sinkhorn_solve` gives the per-matrix diagnostics.

    See Also
    --------
    ConvergenceError : raised instead with ``on_failure="raise"``.

    Notes
    -----
    The book's chapters solve to tolerance and never see it; see :doc:`/book/04_low_temperature`
    for the temperatures at which a solver can run out of budget.

    Examples
    --------
    Two iterations at a low temperature are not enough:

    >>> import warnings
    >>> import numpy as np, homtrap
    >>> G = np.random.default_rng(0).standard_normal((5, 5))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     M = homtrap.sinkhorn(G, 0.05, max_iter=2)
    >>> caught[0].category is homtrap.ConvergenceWarning
    True
    """


class ConvergenceError(RuntimeError):
    """Raised by ``sinkhorn(..., on_failure="raise")`` when some matrix missed ``tol``.

    See Also
    --------
    ConvergenceWarning : the default, a warning instead of an error.

    Notes
    -----
    The book's chapters solve to tolerance and never see it; see :doc:`/book/04_low_temperature`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> G = np.random.default_rng(0).standard_normal((5, 5))
    >>> try:
    ...     homtrap.sinkhorn(G, 0.05, max_iter=2, on_failure="raise")
    ... except homtrap.ConvergenceError as exc:
    ...     print(str(exc)[:45])
    Sinkhorn did not converge for 1 of 1 matrices
    """


@dataclass(frozen=True)
class SinkhornResult:
    r"""Outcome of :func:`sinkhorn_solve`, with the diagnostics of every matrix.

    Attributes
    ----------
    matrix : ndarray, shape (..., n, n)
        The (approximately) doubly-stochastic matrices.
    log_u, log_v : ndarray, shape (..., n)
        Log scalings: ``matrix == exp(logits / T + log_u[..., :, None] + log_v[..., None, :])``.
    iterations : ndarray of int, shape (...)
        Work per matrix: Sinkhorn sweeps plus Newton steps.
    newton_steps : ndarray of int, shape (...)
        How many of those iterations were Newton steps.
    marginal_error : ndarray, shape (...)
        ``max(|M 1 - 1|_inf, |M^T 1 - 1|_inf)`` of the returned matrix.
    converged : ndarray of bool, shape (...)
        ``marginal_error <= tol``.
    tol : float
        The requested tolerance.
    all_converged : bool
        Property: ``True`` when every matrix met the tolerance.

    See Also
    --------
    sinkhorn_solve : returns it.

    Notes
    -----
    Read in :doc:`/book/02_maximum_entropy`, :doc:`/book/04_low_temperature` and
    :doc:`/book/appendix_performance` (via :func:`sinkhorn_solve`).

    Examples
    --------
    The scalings reproduce the matrix, :math:`M = \operatorname{diag}(e^{u})\,\exp(G/T)\,\operatorname{diag}(e^{v})`:

    >>> import numpy as np, homtrap
    >>> G = np.random.default_rng(0).standard_normal((5, 5))
    >>> res = homtrap.sinkhorn_solve(G, 0.5)
    >>> bool(res.all_converged), bool(res.marginal_error <= 1e-12)
    (True, True)
    >>> bool(np.allclose(res.matrix, np.exp(G / 0.5 + res.log_u[:, None] + res.log_v[None, :]), rtol=1e-12))
    True
    """

    matrix: NDArray[np.float64]
    log_u: NDArray[np.float64]
    log_v: NDArray[np.float64]
    iterations: NDArray[np.int64]
    newton_steps: NDArray[np.int64]
    marginal_error: NDArray[np.float64]
    converged: NDArray[np.bool_]
    tol: float

    @property
    def all_converged(self) -> bool:
        """True when every matrix met the tolerance."""
        return bool(np.all(self.converged))


#: logits whose standard deviation exceeds this are solved by temperature annealing
_ANNEAL_START = 5.0
#: logits below this in absolute value are exponentiated without a shift
_EXP_SAFE = 600.0
#: ratio between successive annealing temperatures
_ANNEAL_FACTOR = 3.0
#: marginal error targeted at the intermediate annealing stages
_ANNEAL_TOL = 1e-5
#: matrices whose marginal error ends above this fraction of tol are polished
_POLISH_BELOW = 0.5
#: Newton steps allowed to polish a matrix that ends short of half the tolerance
_POLISH_STEPS = 6
#: Levenberg-Marquardt factor of the polishing steps (shift = factor x largest marginal error)
_POLISH_LM = 0.1


def _inner_tol(tol: float, n: int) -> float:
    """The target the iterations aim at, below ``tol`` by the rounding of forming and summing ``M``.

    The error that is checked against ``tol`` is measured on the returned matrix, whose row
    sums differ from the iteration's by up to about ``n`` roundings.
    """
    margin = 4.0 * n * np.finfo(float).eps
    return tol - margin if tol > 2.0 * margin else 0.5 * tol


def _solve_stage(Z, u, tol, budget, out=None, work=None, unshifted=False):
    """Sweeps while they are fast, then Newton; returns (u, v, M, sweeps, newton)."""
    tol = _inner_tol(tol, Z.shape[-1])
    sw = _k.sinkhorn_sweeps(Z, u, tol, budget, out=out, work=work, unshifted=unshifted)
    u, v, M = sw.u, sw.v, sw.matrix
    newton = np.zeros(Z.shape[0], dtype=np.int64)
    need = np.flatnonzero(~(sw.err <= tol) & (sw.sweeps < budget))
    if need.size:
        un, vn, Mn, steps, _ = _k.newton_steps(Z[need], u[need], tol, budget[need] - sw.sweeps[need])
        u[need], v[need], M[need], newton[need] = un, vn, Mn, steps
    return u, v, M, sw.sweeps, newton


def _spread(Z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard deviation of each matrix's entries, in two fast passes.

    Uses ``E[Z^2] - E[Z]^2``; where that cancels (an offset much larger than the spread) or
    overflows (huge logits) a careful shifted and scaled computation takes over.
    """
    B, n, _ = Z.shape
    flat = Z.reshape(B, n * n)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.matmul(Z, np.ones(n)).sum(axis=1) / flat.shape[1]  # row sums by BLAS, then n numbers each
        var = np.einsum("bi,bi->b", flat, flat) / flat.shape[1] - mean * mean
        careful = ~np.isfinite(var) | (var <= 1e-6 * mean * mean)
    std = np.sqrt(np.maximum(var, 0.0))
    if careful.any():
        X = flat[careful] - flat[careful, :1]
        big = np.maximum(np.abs(X).max(axis=1), 1e-300)
        std[careful] = big * (X / big[:, None]).std(axis=1)
    return std


def _solve_chunk(
    Z: NDArray[np.float64], tol: float, max_iter: int, out: NDArray[np.float64], work: NDArray[np.float64], bound: float
):
    """Solve one chunk into ``out``; low-temperature matrices are reached by annealing (epsilon-scaling).

    ``Z`` (the scaled logits) is not modified; ``work`` is scratch space of the same shape;
    ``bound`` is an upper bound of ``max |Z|``.
    """
    B = Z.shape[0]
    # lam scales the logits: stage k solves lam_k * Z, starting where Sinkhorn is fast
    if bound <= _ANNEAL_START:  # the spread is at most max |Z|: no annealing, no need to compute it
        lam = np.ones(B)
    else:
        lam = np.minimum(1.0, _ANNEAL_START / np.maximum(_spread(Z), 1e-300))
    u = None
    iters = np.zeros(B, dtype=np.int64)
    newton = np.zeros(B, dtype=np.int64)
    stage = np.flatnonzero(lam < 1.0)
    if stage.size:
        # the first stage starts from the row maxima, so that every row of exp(lam Z + u) peaks at 1
        u = -Z.max(axis=2) * lam[:, None]
    while stage.size:
        Zs = Z[stage] * lam[stage, None, None]
        budget = max_iter - iters[stage]
        us, _, _, sw, nw = _solve_stage(Zs, u[stage], max(tol, _ANNEAL_TOL), budget)
        iters[stage] += sw + nw
        newton[stage] += nw
        new_lam = np.minimum(1.0, lam[stage] * _ANNEAL_FACTOR)
        u[stage] = us * (new_lam / lam[stage])[:, None]  # warm start: potentials scale with 1/T
        lam[stage] = new_lam
        stage = stage[(new_lam < 1.0) & (iters[stage] < max_iter)]
    budget = np.maximum(max_iter - iters, 0)
    u, v, M, sw, nw = _solve_stage(Z, u, tol, budget, out=out, work=work, unshifted=bound < _EXP_SAFE)
    if M is not out:
        out[...] = M
    iters += sw + nw
    newton += nw
    err = _k.marginal_errors(out)
    # Polish: at low temperature the potentials are large (|u| ~ max|Z| ~ 1e3 at T = 1e-3), and
    # forming Z + u + v loses ulp(|u|) ~ 1e-13 per entry, so the last Newton step can stall a
    # few 1e-13 above tol (seen on some CPUs and not others). Re-centring on the returned
    # matrix (logits log M, potentials 0) removes the large terms; a few damped Newton steps
    # (Levenberg-Marquardt: near a permutation the graph of M M^T is nearly disconnected) then
    # reach ~1e-15. Only matrices short of half the tolerance are touched.
    short = np.flatnonzero(~(err <= _POLISH_BELOW * tol) & (iters < max_iter))
    if short.size:
        with np.errstate(divide="ignore"):
            Zp = np.log(out[short])
        budget = np.minimum(max_iter - iters[short], _POLISH_STEPS)
        up, vp, Mp, steps, _ = _k.newton_steps(Zp, np.zeros((short.size, Z.shape[-1])), 0.5 * _inner_tol(tol, Z.shape[-1]), budget, lm=_POLISH_LM)
        errp = _k.marginal_errors(Mp)
        better = np.flatnonzero(errp < err[short])
        s = short[better]
        out[s], err[s] = Mp[better], errp[better]
        u[s] += up[better]
        v[s] += vp[better]
        iters[short] += steps
        newton[short] += steps
    return u, v, iters, newton, err


def sinkhorn_solve(
    logits: ArrayLike,
    temperature: float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> SinkhornResult:
    r"""Sinkhorn projection with full diagnostics.

    Computes the unique doubly-stochastic matrix of the form
    :math:`M = \operatorname{diag}(a)\,\exp(G/T)\,\operatorname{diag}(b)`
    (Sinkhorn's theorem :cite:p:`sinkhorn1964,sinkhornknopp1967`), which is also the
    entropic optimal-transport plan
    :math:`\arg\max_{M \in \mathcal B_n} \langle G, M\rangle + T\,H(M)` :cite:p:`cuturi2013`.

    The solver works in the log domain on a batch, chunk by chunk: stabilised Sinkhorn
    sweeps while they converge quickly, then damped Newton steps on the dual potentials for
    the matrices on which Sinkhorn is slow (low temperature). It stays finite for every
    temperature and never loops forever.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`; leading axes are a batch.
    temperature : float, default 1.0
        :math:`T > 0`. Large ``T`` gives matrices near :math:`J/n`, small ``T`` near the
        permutation solving the assignment problem :math:`\max_\pi \sum_i G_{i\pi(i)}`.
    tol : float, default 1e-12
        Target for the largest deviation of any row or column sum from one.
    max_iter : int, default 10000
        Budget per matrix, counting Sinkhorn sweeps and Newton steps alike.

    Returns
    -------
    SinkhornResult
        Matrices, log scalings and per-matrix diagnostics.

    Raises
    ------
    TypeError, ValueError
        On non-real, non-finite, empty or non-square ``logits`` or a bad ``temperature``,
        ``tol`` or ``max_iter``.

    See Also
    --------
    sinkhorn : returns only the matrix and warns if it did not converge.
    homtrap.plain_sinkhorn : the textbook iteration, the readable reference.

    Notes
    -----
    Used in :doc:`/book/02_maximum_entropy`, :doc:`/book/03_high_temperature`,
    :doc:`/book/04_low_temperature`, :doc:`/book/05_figure1`, :doc:`/book/19_next_checks`,
    :doc:`/book/20_open_questions` and :doc:`/book/appendix_performance`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> res = homtrap.sinkhorn_solve(np.array([[2.0, 0.0], [0.0, 1.0]]), 0.5)
    >>> bool(res.all_converged), np.round(res.matrix.sum(axis=0), 12).tolist()
    (True, [1.0, 1.0])

    An independent check: the textbook iteration reaches the same matrix.

    >>> M = np.exp(np.array([[2.0, 0.0], [0.0, 1.0]]) / 0.5)
    >>> for _ in range(200):
    ...     M = M / M.sum(axis=1, keepdims=True)
    ...     M = M / M.sum(axis=0, keepdims=True)
    >>> bool(np.allclose(res.matrix, M, atol=1e-12))
    True
    """
    G = as_square_stack(logits, "logits", check_finite=False)
    lo, hi = finite_range(G, "logits")
    T = check_positive_scalar(temperature, "temperature")
    tol = check_positive_scalar(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    batch_shape, n = G.shape[:-2], G.shape[-1]
    bound = max(-lo, hi) / T  # largest |logits / T| (Python floats: overflow gives inf, no warning)
    if not np.isfinite(bound):
        raise ValueError(f"logits / temperature overflows float64 (temperature={T}); use a larger temperature")
    flat = G.reshape(-1, n, n)
    B = flat.shape[0]
    Z1 = flat[:1] / T if B == 1 and bound < _EXP_SAFE else None
    if Z1 is not None and (bound <= _ANNEAL_START or _spread(Z1)[0] <= _ANNEAL_START):
        # one matrix that needs no annealing: the lean loop (the same iteration as the batched
        # kernel, without its bookkeeping), unless it turns out to be slow
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            fast = _k.single_sweeps(Z1[0], _inner_tol(tol, n), max_iter)
        if fast is not None:
            M1, u1, v1, k, _ = fast
            err1 = _k.marginal_errors(M1[None])[0]
            if err1 <= _POLISH_BELOW * tol:  # otherwise the general solver polishes it
                return SinkhornResult(
                    matrix=M1.reshape(G.shape), log_u=u1.reshape(*batch_shape, n), log_v=v1.reshape(*batch_shape, n),
                    iterations=np.full(batch_shape, k, dtype=np.int64), newton_steps=np.zeros(batch_shape, dtype=np.int64),
                    marginal_error=np.reshape(err1, batch_shape), converged=np.ones(batch_shape, dtype=bool), tol=tol,
                )
    M = np.empty((B, n, n))
    u = np.empty((B, n))
    v = np.empty((B, n))
    iters = np.empty(B, dtype=np.int64)
    newton = np.empty(B, dtype=np.int64)
    err = np.empty(B)
    chunk = min(B, chunk_size(n))
    # The kernels are many small batched BLAS calls: one BLAS thread is faster and steadier
    # than several competing ones (the limit is restored on exit; defaults are never changed).
    # Tiny problems skip the limit: setting it costs more than they do, and BLAS does not
    # thread matrices that small anyway. (Spreading chunks over Python threads does not pay:
    # measured, numpy's batched matmul does not run concurrently and the small operations
    # contend for the GIL.)
    limit = _blas_controller().limit(limits=1, user_api="blas") if B * n * n >= _LIMIT_MIN_ENTRIES else nullcontext()
    with limit:
        for start in range(0, B, chunk):
            sl = slice(start, min(start + chunk, B))
            Z, work = _workspace((sl.stop - start, n, n))  # scratch kept between calls: scaled logits, kernel
            if T == 1.0:
                Z = flat[sl]
            else:
                np.divide(flat[sl], T, out=Z)
            u[sl], v[sl], iters[sl], newton[sl], err[sl] = _solve_chunk(Z, tol, max_iter, M[sl], work, bound)
    return SinkhornResult(
        matrix=M.reshape(G.shape),
        log_u=u.reshape(*batch_shape, n),
        log_v=v.reshape(*batch_shape, n),
        iterations=iters.reshape(batch_shape),
        newton_steps=newton.reshape(batch_shape),
        marginal_error=err.reshape(batch_shape),
        converged=(err <= tol).reshape(batch_shape),
        tol=tol,
    )


def sinkhorn(
    logits: ArrayLike,
    temperature: float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    on_failure: Literal["warn", "raise", "ignore"] = "warn",
) -> NDArray[np.float64]:
    r"""Doubly-stochastic matrix :math:`S(\exp(G/T))`, batched over leading axes.

    Parameters
    ----------
    logits : array_like, shape (..., n, n)
        Real, finite logits :math:`G`.
    temperature : float, default 1.0
        :math:`T > 0`.
    tol : float, default 1e-12
        Target for the largest deviation of a row or column sum from one.
    max_iter : int, default 10000
        Budget per matrix (Sinkhorn sweeps plus Newton steps).
    on_failure : {"warn", "raise", "ignore"}, default "warn"
        What to do when some matrix misses ``tol``: issue a :class:`ConvergenceWarning`
        naming the achieved error, raise :class:`ConvergenceError`, or stay silent (then
        use :func:`sinkhorn_solve` to read the diagnostics).

    Returns
    -------
    ndarray, shape (..., n, n)
        Non-negative matrices whose row and column sums are within ``tol`` of one.

    Raises
    ------
    TypeError, ValueError
        As :func:`sinkhorn_solve`; ``ValueError`` also for an unknown ``on_failure``.
    ConvergenceError
        With ``on_failure="raise"``, if some matrix misses ``tol``.

    Warns
    -----
    ConvergenceWarning
        With ``on_failure="warn"`` (the default), if some matrix misses ``tol``.

    See Also
    --------
    sinkhorn_solve : the same computation with potentials and diagnostics.
    random_dsm : Sinkhorn of Gaussian logits.

    Notes
    -----
    Used in every chapter; defined in :doc:`/book/01_dsm_detail_subspace`.

    Examples
    --------
    >>> import numpy as np, homtrap
    >>> M = homtrap.sinkhorn(np.zeros((3, 3)))
    >>> np.allclose(M, 1 / 3)
    True
    >>> Ms = homtrap.sinkhorn(np.random.default_rng(0).standard_normal((4, 6, 6)), 0.3)  # a batch
    >>> Ms.shape, bool(np.all(homtrap.marginal_error(Ms) <= 1e-12))
    ((4, 6, 6), True)
    """
    if on_failure not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_failure must be 'warn', 'raise' or 'ignore', got {on_failure!r}")
    res = sinkhorn_solve(logits, temperature, tol=tol, max_iter=max_iter)
    if on_failure != "ignore" and not res.all_converged:
        bad = int(np.size(res.converged) - np.count_nonzero(res.converged))
        worst = float(np.max(res.marginal_error))
        msg = (
            f"Sinkhorn did not converge for {bad} of {np.size(res.converged)} matrices: worst marginal error "
            f"{worst:.3g} > tol={res.tol:.3g} after max_iter={max_iter}. Increase max_iter or tol, or call "
            "sinkhorn_solve() for per-matrix diagnostics."
        )
        if on_failure == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return res.matrix


def scaling_system(M: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""The :math:`2n \times 2n` matrix of the linearised scaling equations at a positive ``M``.

    Perturbing the potentials of :math:`M = \operatorname{diag}(e^\alpha)K\operatorname{diag}(e^\beta)`
    by :math:`(a, b)` changes its row and column sums by this matrix times :math:`(a, b)`:

    .. math:: \begin{pmatrix} \operatorname{diag}(M\mathbf 1) & M \\ M^\top & \operatorname{diag}(M^\top\mathbf 1) \end{pmatrix},

    singular along the gauge :math:`(\mathbf 1, -\mathbf 1)`. Shared by :func:`sinkhorn_jacobian`
    and :func:`homtrap.sigma2_derivative`, which solve it by least squares.
    """
    return np.block([[np.diag(M.sum(axis=1)), M], [M.T, np.diag(M.sum(axis=0))]])


#: how far from 1 the line sums of sinkhorn_jacobian's M may be (the solver's default tol is far below)
_JACOBIAN_MARGINAL_TOL = 1e-6


def sinkhorn_jacobian(M: ArrayLike) -> NDArray[np.float64]:
    r"""The Jacobian of Sinkhorn's map :math:`\Lambda \mapsto M = S(\exp\Lambda)`, at its value ``M``.

    By Sinkhorn's theorem :math:`M = \exp(\Lambda + \alpha\mathbf 1^\top + \mathbf 1\beta^\top)`.
    Its differential in a direction :math:`E` is (:prf:ref:`prop-mhc-jacobian`, part 1)

    .. math::

        \mathrm dM[E] = M \circ \bigl(E + a\mathbf 1^\top + \mathbf 1 b^\top\bigr), \qquad
        \begin{pmatrix} \operatorname{diag}(M\mathbf 1) & M \\ M^\top & \operatorname{diag}(M^\top\mathbf 1)
        \end{pmatrix} \begin{pmatrix} a \\ b \end{pmatrix}
        = -\begin{pmatrix} (M \circ E)\mathbf 1 \\ (M \circ E)^\top \mathbf 1 \end{pmatrix},

    the scalings :math:`(a, b)` keeping the row and column sums fixed (the system is singular
    along the gauge :math:`(\mathbf 1, -\mathbf 1)`, which does not change :math:`\mathrm dM[E]`;
    it is solved by least squares). The Jacobian depends on :math:`\Lambda` only through
    :math:`M`. It is symmetric positive semidefinite for the Frobenius inner product, and
    :math:`\|\mathrm dM\|_2 \le n\,m_\pi` with :math:`m_\pi` the largest entry off any permutation
    (:func:`homtrap.off_permutation_max`): near a permutation the map is frozen. Used in
    :doc:`/book/17_case_mhc`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Doubly-stochastic matrices with positive entries, the values :math:`S(\exp\Lambda)` at
        which to differentiate; leading axes are batch axes.

    Returns
    -------
    ndarray of float, shape (..., n * n, n * n)
        ``J[..., p, q] = dM_p / dΛ_q`` with both matrices flattened in C order
        (``p = i * n + j``): ``J @ E.ravel()`` is :math:`\mathrm dM[E]` flattened.

    Raises
    ------
    ValueError
        If ``M`` is not a stack of square matrices, holds NaN/inf, has an entry ``<= 0``, or a row
        or column sum further than ``1e-6`` from one (the formula holds on the Birkhoff polytope
        only; a truncated Sinkhorn output is not a value of :math:`S`).
    TypeError
        If ``M`` is not a real numeric array.

    See Also
    --------
    sinkhorn : The map differentiated.
    off_permutation_max : The :math:`m_\pi` of the bound :math:`n\,m_\pi`.

    Notes
    -----
    One least-squares solve of the :math:`2n \times 2n` system per matrix, with the :math:`n^2`
    basis directions :math:`E = e_i e_j^\top` as right-hand sides; the result has :math:`n^4`
    entries, so it is meant for the small :math:`n` of mixing layers (mHC's :math:`n = 4`). Rounding is amplified by the condition number,
    about :math:`1/(1 - \sigma_2(M)^2)`, of the system.

    Examples
    --------
    At :math:`J/n` the Jacobian is the orthogonal projector onto doubly-centred directions,
    divided by :math:`n`:

    >>> import numpy as np, homtrap
    >>> J = homtrap.sinkhorn_jacobian(np.full((3, 3), 1 / 3))
    >>> P = homtrap.centring_projector(3)
    >>> bool(np.allclose(J, np.kron(P, P) / 3, atol=1e-14))
    True

    Against central differences of the projection itself:

    >>> lam = homtrap.random_logits(4, rng=0)
    >>> E = np.random.default_rng(1).standard_normal((4, 4))
    >>> fd = (homtrap.sinkhorn(lam + 1e-6 * E) - homtrap.sinkhorn(lam - 1e-6 * E)) / 2e-6
    >>> dM = homtrap.sinkhorn_jacobian(homtrap.sinkhorn(lam)) @ E.ravel()
    >>> bool(np.abs(dM - fd.ravel()).max() < 1e-8)
    True
    """
    arr = as_square_stack(M, "M")
    if arr.min() <= 0:
        raise ValueError(f"M must have positive entries (a Sinkhorn matrix S(exp Λ)), got minimum {arr.min()}")
    n = arr.shape[-1]
    defect = float(_k.marginal_errors(arr.reshape(-1, n, n)).max())
    if defect > _JACOBIAN_MARGINAL_TOL:  # the formula holds at doubly-stochastic M only
        raise ValueError(f"M must be doubly stochastic (a Sinkhorn matrix S(exp Λ)): its row and column sums "
                         f"differ from 1 by up to {defect:.3g} > {_JACOBIAN_MARGINAL_TOL:g}")
    flat = arr.reshape(-1, n, n)
    out = np.empty((flat.shape[0], n * n, n * n))
    eye = np.eye(n)
    for k, Mk in enumerate(flat):  # one least-squares solve per matrix, all n^2 directions at once
        m = Mk.ravel()
        # direction E = e_i e_j^T (column i * n + j): row sums change by M_ij e_i, column sums by M_ij e_j
        rhs = -np.concatenate([(eye[:, :, None] * m.reshape(n, 1, n)).reshape(n, n * n),
                               (eye[:, None, :] * m.reshape(1, n, n)).reshape(n, n * n)])
        ab = np.linalg.lstsq(scaling_system(Mk), rhs, rcond=None)[0]  # (2n, n^2)
        # dM[E]_pq = M_pq (E_pq + a_p + b_q)
        out[k] = np.diag(m) + m[:, None] * (ab[:n, None, :] + ab[None, n:, :]).reshape(n * n, n * n)
    return out.reshape(*arr.shape[:-2], n * n, n * n)
