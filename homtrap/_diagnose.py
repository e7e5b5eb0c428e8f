r"""A practitioner's check of mixing matrices: one layer, a stack of layers, or batches of stacks.

:func:`diagnose` collects, in one report (:class:`Diagnosis`), what the book proves matters:
the true per-layer *detail factor* :math:`\|PM_\ell P\|_2` (:math:`P = I - J/n`), which is
:math:`\sigma_2` for doubly-stochastic layers; :math:`|\lambda_2|`; the row and column errors;
mHC's Amax gains (largest absolute row and column sums, Xie et al., arXiv 2512.24880,
Figs. 3 and 7) of every layer and of the composite; the distances to :math:`J/n` and to the
nearest permutation; the effective depth; the detail left after the stack; the spectral SNR
for a given noise level (Theorem 1) and whether residual updates stagnate (Proposition 1).
The findings are members of the enum :class:`Verdict`.

Why :math:`\|PMP\|_2` is the right factor for row-stochastic layers (softmax attention,
Sinkformer attention, mHC's :math:`H^{\mathrm{res}}`): if :math:`M\mathbf 1 = \mathbf 1` then
:math:`MJ = J`, so :math:`PM(I - P) = PMJ/n = PJ/n = 0` and :math:`PM = PMP`. Hence
:math:`\|PMx\| = \|PMP\,Px\| \le \|PMP\|_2\,\|Px\|` for every input :math:`x`, with equality
for a top right singular vector, and for a stack of row-stochastic layers
:math:`P M_L \cdots M_1 = (PM_LP) \cdots (PM_1P)`. For doubly-stochastic layers
:math:`PMP = M - J/n`, whose norm is :math:`\sigma_2` (Lemma 2). If the rows do not sum to
one, :math:`PMx = PMPx + \bar x\, PM\mathbf 1` and the mean :math:`\bar x` of the input leaks
into the detail: no bound in terms of :math:`\|Px\|` holds, and :func:`diagnose` withholds
its depth statements.

Used in :doc:`/book/21_diagnose` (where these statements are proved,
:prf:ref:`prop-diagnose-guarantees`), :doc:`/book/17_case_mhc` and
:doc:`/book/22_tradeoff_map`.
"""

from __future__ import annotations

import enum
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ._validation import as_square_stack, check_int, check_positive_scalar, renamed_arguments
from ._depth import cyclic_effective_depth, partial_products
from ._spectra import detail_factor as _detail_factor
from ._spectra import sigma2 as _sigma2
from ._birkhoff import entropy

__all__ = ["DIAGNOSE_DEFAULTS", "Diagnosis", "Verdict", "diagnose"]

#: default of ``homogenising``: a layer with detail factor below it keeps less than 10 % of any detail
HOMOGENISING = 0.1
#: default of ``frozen``: a layer with detail factor above it keeps more than 99 % of some detail
FROZEN = 0.99
#: default of ``ds_tol``: row or column sums further than this from one are "not doubly stochastic"
DS_TOL = 1e-6
#: default of ``dense_max_n``: largest n for which the O(n^3) fields (|lambda_2|, distance to a permutation) are computed
DENSE_MAX_N = 512
#: values below this (absolute; every printed quantity is a fraction of order one) are printed as "below 1e-11"
RESOLUTION = 1e-11
#: the defaults of :func:`diagnose`'s keywords and its printing resolution, read-only
DIAGNOSE_DEFAULTS = types.MappingProxyType({
    "target": 0.01, "homogenising": HOMOGENISING, "frozen": FROZEN, "ds_tol": DS_TOL, "dense_max_n": DENSE_MAX_N,
    "resolution": RESOLUTION,
})
#: marginal errors up to this are treated as exact where an identity needs exact sums (as homtrap.sigma2 does)
_LEMMA2_ATOL = 1e-9
#: a stack whose detail left is within this of one keeps some detail at full size
_PRESERVED_TOL = 1e-9


class Verdict(enum.Enum):
    """The findings :func:`diagnose` can report; ``verdict.description`` is the plain-language rule.

    Members are listed in the order in which a report lists them. :meth:`Diagnosis.explain`
    adds the numbers of a given stack (:prf:ref:`def-diagnose-verdicts`).

    Attributes
    ----------
    NOT_DOUBLY_STOCHASTIC
        A row or column sum differs from one by more than ``ds_tol``.
    NOT_ROW_STOCHASTIC
        A row sum differs from one by more than ``ds_tol``; the depth, trap, stagnation and
        collapse verdicts are withheld.
    HOMOGENEITY_TRAP
        Every layer's detail factor is below ``homogenising``.
    KEEPS_DETAIL
        Every layer's detail factor is above ``frozen``.
    DEPTH_BOUND
        The detail of any input shrinks to ``target`` within the effective depth.
    NO_DEPTH_BOUND
        The product of the detail factors never falls below ``target``.
    DETAIL_PRESERVED
        Some detail passes the whole stack at full size.
    DETAIL_GROWS
        Some detail leaves the stack larger than it entered.
    RESIDUAL_STAGNATION
        A 1-Lipschitz residual branch changes the detail by less than ``homogenising`` per layer.
    GAIN_ABOVE_ONE
        The composite's Amax gain exceeds ``1 + ds_tol``.
    ORTHOGONAL_COLLAPSE
        Spectral SNR at most 1/8 after the stack (Theorem 1 forces collapse).
    NO_FORCED_COLLAPSE
        Spectral SNR above 1/8.
    description : str
        Property of every member: the rule in plain language.

    See Also
    --------
    diagnose : the function that reports them.
    Diagnosis.has : whether a report (or each stack of a batch) carries a verdict.

    Notes
    -----
    Used in :doc:`/book/21_diagnose`.

    Examples
    --------
    >>> import homtrap
    >>> v = homtrap.Verdict.HOMOGENEITY_TRAP
    >>> v.name, v.description[:40]
    ('HOMOGENEITY_TRAP', 'every layer keeps less than the fraction')
    >>> d = homtrap.diagnose(homtrap.random_dsm(8, 0.3, size=3, rng=0))
    >>> d.has(v) == (v in d.verdicts)
    True
    """

    NOT_DOUBLY_STOCHASTIC = "a row or column sum differs from one by more than ds_tol"
    NOT_ROW_STOCHASTIC = (
        "a row sum differs from one by more than ds_tol: the input's mean leaks into the detail, so no "
        "detail bound holds for inputs with a mean and the depth, trap, stagnation and collapse verdicts are withheld"
    )
    HOMOGENEITY_TRAP = "every layer keeps less than the fraction homogenising of any detail (detail factor ||PMP||_2)"
    KEEPS_DETAIL = "every layer keeps more than the fraction frozen of some detail direction (detail factor ||PMP||_2)"
    DEPTH_BOUND = "the detail of any input shrinks to the fraction target of its size within the effective depth, at worst"
    NO_DEPTH_BOUND = "the product of the detail factors never falls below target: no depth at which the detail is sure to vanish"
    DETAIL_PRESERVED = "some detail passes the whole stack at full size (e.g. permutation layers)"
    DETAIL_GROWS = "some detail leaves the stack larger than it entered (possible for row-stochastic layers only)"
    RESIDUAL_STAGNATION = "residual updates stagnate: a 1-Lipschitz branch changes the detail by less than homogenising per layer"
    GAIN_ABOVE_ONE = "the composite's Amax gain (largest absolute row or column sum) exceeds 1 + ds_tol"
    ORTHOGONAL_COLLAPSE = "spectral SNR <= 1/8 at the LayerNorm after the stack: noisy outputs are nearly orthogonal"
    NO_FORCED_COLLAPSE = "spectral SNR > 1/8: Theorem 1 does not force collapse after this stack"

    @property
    def description(self) -> str:
        """The rule in plain language (the member's value)."""
        return str(self.value)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


def _fmt(x: float, resolution: float = RESOLUTION) -> str:
    """A portable 3-significant-digit string: values below ``resolution`` print as "below <resolution>".

    Above the resolution, fewer digits are printed when the third would be below it (so that
    rounding-level differences between machines cannot change the text); ``-0`` never appears.
    """
    x = float(x) + 0.0  # -0.0 + 0.0 is +0.0
    if not np.isfinite(x):
        return f"{x:g}"
    if abs(x) < resolution:
        return f"below {resolution:.0e}".replace("e-0", "e-")
    digits = int(min(3, max(1, np.floor(np.log10(abs(x) / resolution)))))
    return f"{x:.{digits}g}"


def _range(a: NDArray[np.float64] | None) -> str:
    if a is None:
        return "not computed (n > dense_max_n)"
    a = np.asarray(a, dtype=float).ravel()
    lo, hi = _fmt(a.min()), _fmt(a.max())
    if lo == hi:  # one value, or all equal to the printed precision (e.g. all below the resolution)
        return lo if a.size == 1 else f"{lo} (all {a.size})"
    return f"{lo} .. {hi} (median {_fmt(np.median(a))})"


@dataclass(frozen=True, kw_only=True, eq=False)
class Diagnosis:
    r"""Report of :func:`diagnose`.

    For one stack (input ``(n, n)`` or ``(L, n, n)``) per-layer fields have shape ``(L,)``
    and per-stack fields are floats. For a batch (input ``(..., L, n, n)`` with leading axes
    ``batch_shape``, e.g. heads or tokens) every field carries the leading axes: per-layer
    fields have shape ``batch_shape + (L,)``, per-stack fields ``batch_shape``; ``d[i]`` (or
    ``d[i, j]``) is the :class:`Diagnosis` of one stack and :meth:`has` tells which stacks
    carry a verdict.

    Attributes
    ----------
    n, layers : int
        Matrix size and number of layers.
    batch_shape : tuple of int
        Leading axes, ``()`` for one stack.
    sigma2 : ndarray
        Second singular value of each layer.
    detail_factor : ndarray
        :math:`\|PM_\ell P\|_2`: equals :math:`\sigma_2` for doubly-stochastic layers and is the
        exact largest factor by which one row-stochastic layer can change the detail.
    lambda2 : ndarray or None
        Second eigenvalue modulus (``None`` if ``n > dense_max_n``; for row-stochastic layers
        :math:`|\lambda_2| \le` ``detail_factor``).
    row_error, column_error, marginal_error : ndarray
        :math:`\|M\mathbf 1 - \mathbf 1\|_\infty`, :math:`\|M^\top\mathbf 1 - \mathbf 1\|_\infty` and their maximum.
    layer_amax_forward, layer_amax_backward : ndarray
        mHC's Amax gains of each layer: largest absolute row sum and column sum.
    distance_to_uniform : ndarray
        :math:`\|M - J/n\|_2` per layer.
    distance_to_permutation : ndarray or None
        :math:`\|M - \Pi\|_2` for the permutation :math:`\Pi` closest in Frobenius norm
        (``None`` if ``n > dense_max_n``: the assignment is :math:`O(n^3)`).
    entropy_ratio : ndarray
        :math:`H(M) / (n \log n)` with :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}`: 0 for a
        permutation, 1 for :math:`J/n`, in [0, 1] for row- or column-stochastic :math:`M` (each
        row or column contributes at most :math:`\log n`); for unnormalised input it can lie
        outside (negative if entries exceed one).
    row_stochastic : bool or ndarray
        Every layer's row error is at most ``ds_tol``: the hypothesis of every bound below.
    target : float
        Target detail fraction :math:`\varepsilon` used for the depths.
    effective_depth : float or ndarray
        :math:`\min\{D : \prod_{j \le m} f_j \le \varepsilon \text{ for all } m \ge D\}` for the
        clipped detail factors :math:`f_j` of the stack repeated cyclically (``inf`` if never);
        for doubly-stochastic layers this is :math:`\min\{D : \prod_{j \le D}\sigma_2 \le \varepsilon\}`.
        A guarantee only when ``row_stochastic``.
    detail_left : float or ndarray
        :math:`\|P M_L \cdots M_1 P\|_2`: for row-stochastic stacks the largest fraction of any
        detail that survives the stack (equals :math:`\|M_L\cdots M_1 - J/n\|_2` for
        doubly-stochastic ones).
    detail_profile : ndarray
        :math:`\|P M_k \cdots M_1 P\|_2` for :math:`k = 1, \dots, L`.
    max_product_norm : float or ndarray
        :math:`\max_k \|M_k \cdots M_1\|_2` (1 for exact DSMs; above 1 flags growth).
    amax_forward, amax_backward : float or ndarray
        mHC's Amax gains of the composite :math:`M_L \cdots M_1`: its largest absolute row sum
        (forward signal gain) and column sum (backward gradient gain).
    snr : float, ndarray or None
        Spectral SNR :math:`\gamma = \prod_\ell f_\ell \cdot \|x_\perp\| / (\nu\sqrt{n-1})` if a noise level was given.
    collapse_depth : float, ndarray or None
        Layers (the stack repeated cyclically) after which :math:`8\gamma \le 1` for good.
    residual_change_bound : float or ndarray
        :math:`\prod_\ell (1 + f_\ell) - 1`: the most a residual stack with 1-Lipschitz
        branches can change the detail, relative to its size (row-stochastic layers).
    verdicts : tuple of Verdict
        The findings, in the order of :class:`Verdict`; for a batch, those of at least one stack.
    thresholds : dict
        The ``homogenising``, ``frozen`` and ``ds_tol`` used.

    See Also
    --------
    diagnose : builds it.
    Verdict : the findings.

    Notes
    -----
    Used in :doc:`/book/17_case_mhc`, :doc:`/book/21_diagnose` (:prf:ref:`def-diagnosis`) and
    :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    Six Sinkhorn layers at temperature one: the detail left after the stack is the norm of
    :math:`P M_6 \cdots M_1 P`, here checked against a direct computation.

    >>> import numpy as np, homtrap
    >>> M = homtrap.random_dsm(4, 1.0, size=6, rng=0)
    >>> d = homtrap.diagnose(M)
    >>> d.verdicts
    (<Verdict.DEPTH_BOUND: 'the detail of any input shrinks to the fraction target of its size within the effective depth, at worst'>,)
    >>> prod = M[5] @ M[4] @ M[3] @ M[2] @ M[1] @ M[0]
    >>> P = homtrap.centring_projector(4)
    >>> bool(abs(d.detail_left - np.linalg.norm(P @ prod @ P, 2)) < 1e-12)
    True
    >>> d.summary_rows()[0]
    ('matrix size n, layers L', '4, 6')
    """

    n: int
    layers: int
    batch_shape: tuple[int, ...] = ()
    sigma2: NDArray[np.float64]
    detail_factor: NDArray[np.float64]
    lambda2: NDArray[np.float64] | None
    marginal_error: NDArray[np.float64]
    row_error: NDArray[np.float64]
    column_error: NDArray[np.float64]
    layer_amax_forward: NDArray[np.float64]
    layer_amax_backward: NDArray[np.float64]
    distance_to_uniform: NDArray[np.float64]
    distance_to_permutation: NDArray[np.float64] | None
    entropy_ratio: NDArray[np.float64]
    row_stochastic: Any
    target: float
    effective_depth: Any
    detail_left: Any
    detail_profile: NDArray[np.float64]
    max_product_norm: Any
    amax_forward: Any
    amax_backward: Any
    snr: Any
    collapse_depth: Any
    residual_change_bound: Any
    verdicts: tuple[Verdict, ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def eps(self) -> float:
        """Deprecated name of ``target`` (homtrap 0.3)."""
        warnings.warn("Diagnosis.eps is now called .target; .eps will be removed", DeprecationWarning, stacklevel=2)
        return self.target
    _stacks: tuple[Diagnosis, ...] = field(default=(), repr=False, compare=False)
    _notes: tuple[str, ...] = field(default=(), repr=False, compare=False)

    # ------------------------------------------------------------------ batches
    def __getitem__(self, index: Any) -> Diagnosis:
        """The :class:`Diagnosis` of one stack of a batch, ``d[i]`` or ``d[i, j]``."""
        if not self.batch_shape:
            raise TypeError("this Diagnosis is of a single stack; only batched diagnoses can be indexed")
        flat = np.arange(len(self._stacks)).reshape(self.batch_shape)[index]
        if np.ndim(flat) != 0:
            raise IndexError(f"index {index!r} must select one stack of batch shape {self.batch_shape}")
        return self._stacks[int(flat)]

    def has(self, verdict: Verdict) -> Any:
        """Whether the report carries ``verdict``: a bool, or a bool array of shape ``batch_shape``.

        Raises
        ------
        TypeError
            If ``verdict`` is not a :class:`Verdict` member.
        """
        if not isinstance(verdict, Verdict):
            raise TypeError(f"verdict must be a homtrap.Verdict member, got {type(verdict).__name__}")
        if not self.batch_shape:
            return verdict in self.verdicts
        return np.array([verdict in s.verdicts for s in self._stacks]).reshape(self.batch_shape)

    # ------------------------------------------------------------------ text
    def explain(self) -> tuple[str, ...]:
        """Each verdict as ``NAME: explanation`` with this stack's numbers (for a batch: with counts)."""
        if self.batch_shape:
            total = len(self._stacks)
            return tuple(f"{v.name} ({int(np.sum(self.has(v)))} of {total} stacks): {v.description}" for v in self.verdicts)
        return self._notes

    def summary_rows(self) -> list[tuple[str, str]]:
        """The report as (quantity, value) rows; values at 3 significant digits, rounding-level ones as "below 1e-11"."""
        ds = float(np.max(self.marginal_error)) <= self.thresholds.get("ds_tol", DS_TOL)
        rows = [("matrix size n, layers L", f"{self.n}, {self.layers}")]
        if self.batch_shape:
            rows.append(("stacks (batch shape)", f"{len(self._stacks)} {self.batch_shape}"))
        rows += [
            ("detail factor ||PMP||_2", _range(self.detail_factor)),
            ("sigma_2", _range(self.sigma2)),
            ("|lambda_2|", _range(self.lambda2)),
            ("row error", _range(self.row_error)),
            ("column error", _range(self.column_error)),
            ("marginal error", f"<= {_fmt(self.thresholds.get('ds_tol', DS_TOL))} (doubly stochastic)" if ds else _range(self.marginal_error)),
            ("||M - J/n||_2", _range(self.distance_to_uniform)),
            ("distance to nearest permutation", _range(self.distance_to_permutation)),
            ("entropy / (n log n)", _range(self.entropy_ratio)),
            ("Amax gain of a layer, forward", _range(self.layer_amax_forward)),
            ("Amax gain of a layer, backward", _range(self.layer_amax_backward)),
            (f"effective depth D_eff({_fmt(self.target)})", _range(self.effective_depth)),
            ("detail left after the stack", _range(self.detail_left)),
            ("max_k ||M_k...M_1||_2", _range(self.max_product_norm)),
            ("Amax gain of the stack, forward", _range(self.amax_forward)),
            ("Amax gain of the stack, backward", _range(self.amax_backward)),
            ("residual detail change bound", _range(self.residual_change_bound)),
        ]
        if self.snr is not None:
            rows.append(("spectral SNR after the stack", _range(self.snr)))
            rows.append(("layers until 8 gamma <= 1", _range(self.collapse_depth)))
        return rows

    def __repr__(self) -> str:
        rows = self.summary_rows()
        width = max(len(k) for k, _ in rows)
        lines = ["Diagnosis"] + [f"  {k:<{width}}  {v}" for k, v in rows]
        lines += ["verdicts:"] + [f"  - {v}" for v in self.explain()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in self.summary_rows())
        verdicts = "".join(f"<li>{html.escape(v)}</li>" for v in self.explain())
        return f"<table><thead><tr><th>quantity</th><th>value</th></tr></thead><tbody>{body}</tbody></table><ul>{verdicts}</ul>"

    def plot(self, ax=None):
        r"""One-call figure of one stack: per-layer :math:`\sigma_2` and :math:`|\lambda_2|`, the bound :math:`\prod \|PM_\ell P\|_2` and the detail left after :math:`k` layers."""
        import matplotlib.pyplot as plt

        if self.batch_shape:
            raise TypeError("plot one stack of a batch: d[i].plot()")
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 3.6))
        k = np.arange(1, self.layers + 1)
        ax.plot(k, self.sigma2, "o-", label=r"$\sigma_2(M_\ell)$")
        if self.lambda2 is not None:
            ax.plot(k, self.lambda2, "s--", label=r"$|\lambda_2(M_\ell)|$")
        ax.plot(k, np.cumprod(self.detail_factor), ":", label=r"$\prod_{\ell\leq k}\|PM_\ell P\|_2$ (bound)")
        ax.plot(k, np.maximum(self.detail_profile, 1e-300), "-", label=r"$\|PM_k\cdots M_1P\|_2$ (detail left)")
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.legend()
        return ax


# ---------------------------------------------------------------------- numerics
def _svds_top(X: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """The ``k`` largest singular values (descending) of each matrix of a ``(B, n, n)`` stack, by ARPACK.

    Lanczos bidiagonalisation from a fixed seeded start vector, so the result is deterministic;
    used only above ``dense_max_n``, where a dense SVD costs :math:`O(n^3)`.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, svds

    out = np.empty((X.shape[0], k))
    v0 = np.random.default_rng(0).standard_normal(X.shape[-1])
    for i, x in enumerate(X):
        try:
            out[i] = np.sort(svds(x, k=k, tol=0, v0=v0, return_singular_vectors=False))[::-1]
        except ArpackNoConvergence:  # pragma: no cover - not seen on the book's inputs
            out[i] = np.linalg.svd(x, compute_uv=False)[:k]
    return out


def _norm2(X: NDArray[np.float64], dense: bool) -> NDArray[np.float64]:
    """Spectral norm of each matrix of a ``(B, n, n)`` stack: dense SVD, or ARPACK above ``dense_max_n``."""
    if dense:
        return np.linalg.svd(X, compute_uv=False)[:, 0]
    return _svds_top(X, 1)[:, 0]


def _top_two(A: NDArray[np.float64], f: NDArray[np.float64], merr: NDArray[np.float64],
             dense: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """sigma_1 (NaN where not computed) and sigma_2 of each layer.

    Dense: sigma_2 from :func:`homtrap.sigma2`. Large n: Lemma 2 for doubly-stochastic layers
    (sigma_2 = ||PMP||_2, sigma_1 not needed), one ARPACK call for both values otherwise.
    """
    s1 = np.full(A.shape[0], np.nan)
    if dense:
        return s1, np.atleast_1d(_sigma2(A))
    s2 = np.empty(A.shape[0])
    ds = merr <= _LEMMA2_ATOL
    s2[ds] = np.minimum(f[ds], 1.0)  # Lemma 2: sigma_2 = ||M - J/n||_2 = ||PMP||_2 <= 1 for doubly-stochastic M
    if not np.all(ds):
        top = _svds_top(A[~ds], 2)
        s1[~ds], s2[~ds] = top[:, 0], top[:, 1]
    return s1, s2


def _lambda2(A: NDArray[np.float64], row_st: NDArray[np.bool_], col_st: NDArray[np.bool_]) -> NDArray[np.float64]:
    r"""|lambda_2|: for row- or column-stochastic layers the spectral radius of PMP (the eigenvalue 1 removed exactly).

    If :math:`M\mathbf 1 = \mathbf 1`, then in a basis :math:`(\mathbf 1, \text{basis of } \mathbf 1^\perp)`
    :math:`M` is block triangular with diagonal blocks :math:`1` and :math:`PMP|_{\mathbf 1^\perp}`; so
    the other eigenvalues of :math:`M` are those of :math:`PMP` on :math:`\mathbf 1^\perp` (and
    :math:`PMP\mathbf 1 = 0`). The same holds for :math:`M^\top` if the columns sum to one.
    """
    out = np.empty(A.shape[0])
    st = row_st | col_st
    if np.any(st):
        X = A[st] - A[st].mean(axis=-1, keepdims=True)
        X = X - X.mean(axis=-2, keepdims=True)
        out[st] = np.abs(np.linalg.eigvals(X)).max(axis=-1)
    if not np.all(st):
        out[~st] = np.sort(np.abs(np.linalg.eigvals(A[~st])), axis=-1)[:, -2]
    return out


def _distance_to_permutation(A: NDArray[np.float64]) -> NDArray[np.float64]:
    n = A.shape[-1]
    out = np.empty(A.shape[0])
    for i, m in enumerate(A):
        rows, cols = linear_sum_assignment(m, maximize=True)  # closest in Frobenius norm
        Pi = np.zeros((n, n))
        Pi[rows, cols] = 1.0
        out[i] = np.linalg.norm(m - Pi, 2)
    return out


def _checked_products(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """The partial products of a ``(B, L, n, n)`` stack (:func:`partial_products`); a ValueError if they overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = partial_products(X)
    if not np.all(np.isfinite(out)):
        raise ValueError("M: the products M_k ... M_1 of the stack overflow float64 (its row sums are far above one); "
                         "normalise or rescale M")
    return out


# ---------------------------------------------------------------------- verdicts of one stack
def _judge(n: int, f: NDArray[np.float64], row_err: NDArray[np.float64], col_err: NDArray[np.float64], left: float,
           amax_f: float, amax_b: float, pnorm: float, *, target: float, nu: float | None, x_norm: float | None,
           h: float, fz: float, tol: float) -> tuple[dict[str, Any], list[tuple[Verdict, str]]]:
    """The per-stack numbers that depend on the thresholds, and the verdicts with their explanations."""
    row_st_l, col_st_l = row_err <= tol, col_err <= tol
    ds_l = row_st_l & col_st_l
    merr = np.maximum(row_err, col_err)
    row_st = bool(np.all(row_st_l))
    fbar = np.where(ds_l, np.minimum(f, 1.0), f)  # DS layers: f <= 1 is a theorem, any excess is rounding
    d_eff = cyclic_effective_depth(fbar, target)
    res_bound = float(np.prod(1.0 + fbar) - 1.0)
    snr = coll = None
    if nu is not None:
        gamma0 = x_norm / (nu * np.sqrt(n - 1))
        snr = float(np.prod(fbar) * gamma0)
        # layers (the stack repeated cyclically) until 8 gamma <= 1 for good, counted exactly
        coll = 0.0 if 8 * gamma0 <= 1 else cyclic_effective_depth(fbar, min(1.0 / (8 * gamma0), 1 - 1e-16))
    found: list[tuple[Verdict, str]] = []

    def add(v: Verdict, text: str) -> None:
        found.append((v, f"{v.name}: {text}"))

    if merr.max() > tol:
        if row_st:
            where = (f"rows sum to one within ds_tol = {_fmt(tol)}, column sums are off by up to "
                     f"{_fmt(col_err.max())}; the statements below are bounds for row-stochastic layers, with the true "
                     "detail factor ||PMP||_2 in place of sigma_2")
        else:
            where = f"row sums off by up to {_fmt(row_err.max())}, column sums by up to {_fmt(col_err.max())}"
        add(Verdict.NOT_DOUBLY_STOCHASTIC, f"not doubly stochastic ({where})")
    if not row_st:
        extra = ("; the column sums are one, so mean-free inputs stay mean-free and their detail shrinks by at most "
                 "the product of the detail factors" if np.all(col_st_l) else "")
        add(Verdict.NOT_ROW_STOCHASTIC, f"row sums off by up to {_fmt(row_err.max())}: the input's mean leaks into "
            f"the detail, so no depth, trap, stagnation or collapse statement is made{extra}")
    else:
        kind = "doubly-stochastic" if np.all(ds_l) else "row-stochastic"
        if np.all(f < h):
            add(Verdict.HOMOGENEITY_TRAP, f"every layer keeps at most {_fmt(100 * f.max())}% of any detail; "
                f"at most {_fmt(100 * left)}% survives the stack ({kind} layers)")
        elif np.all(f > fz):
            add(Verdict.KEEPS_DETAIL, f"every layer keeps more than {_fmt(100 * fz)}% of some detail direction "
                "(near-permutation layers, as at low temperature, or weakly coupled blocks)")
        elif np.isfinite(d_eff):
            add(Verdict.DEPTH_BOUND, f"detail shrinks to {_fmt(target)} of its size within {_fmt(d_eff)} layers at worst "
                f"(bound for {kind} layers)")
        else:
            add(Verdict.NO_DEPTH_BOUND, f"the product of the detail factors never falls below {_fmt(target)}")
        if left > 1.0 + _PRESERVED_TOL:
            add(Verdict.DETAIL_GROWS, f"some detail leaves the stack {_fmt(left)} times larger (detail factors up to "
                f"{_fmt(f.max())}; row-stochastic layers can amplify detail)")
        elif left >= 1.0 - _PRESERVED_TOL:
            add(Verdict.DETAIL_PRESERVED, "some detail passes the whole stack at full size (detail left 1)")
        if f.max() < h:
            add(Verdict.RESIDUAL_STAGNATION, f"a 1-Lipschitz branch changes the detail by at most "
                f"{_fmt(100 * f.max())}% per layer ({_fmt(100 * res_bound)}% over the stack; {kind} layers)")
    if max(amax_f, amax_b) > 1.0 + tol:
        add(Verdict.GAIN_ABOVE_ONE, f"Amax gain of the stack: forward {_fmt(amax_f)}, backward {_fmt(amax_b)} "
            f"(max product norm {_fmt(pnorm)})")
    if snr is not None and row_st:
        if 8 * snr <= 1:
            add(Verdict.ORTHOGONAL_COLLAPSE, f"spectral SNR {_fmt(snr)} <= 1/8; the mean LN cosine of two inputs is "
                f"then at most about {_fmt(snr**2 / (1 + snr**2))} and its spread is the noise floor 1/sqrt(n-1) (Part IV)")
        else:
            add(Verdict.NO_FORCED_COLLAPSE, f"spectral SNR {_fmt(snr)} > 1/8: Theorem 1 does not force collapse yet "
                f"(8 gamma <= 1 after {_fmt(coll)} layers like these)")
    order = list(Verdict)
    found.sort(key=lambda p: order.index(p[0]))
    numbers = {"row_stochastic": row_st, "effective_depth": d_eff, "residual_change_bound": res_bound,
               "snr": snr, "collapse_depth": coll}
    return numbers, found


_PER_LAYER = ("sigma2", "detail_factor", "lambda2", "marginal_error", "row_error", "column_error",
              "layer_amax_forward", "layer_amax_backward", "distance_to_uniform", "distance_to_permutation",
              "entropy_ratio", "detail_profile")
_PER_STACK = ("row_stochastic", "effective_depth", "detail_left", "max_product_norm", "amax_forward",
              "amax_backward", "snr", "collapse_depth", "residual_change_bound")


def _unit_scalar(x: Any, name: str) -> float:
    """A real number in the open interval (0, 1); TypeError/ValueError naming ``name`` otherwise."""
    value = check_positive_scalar(x, name)
    if value >= 1.0:
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {value}")
    return value


@renamed_arguments(eps="target")
def diagnose(
    M: ArrayLike,
    *,
    target: float = 0.01,
    noise_std: float | None = None,
    detail_norm: float | None = None,
    homogenising: float = HOMOGENISING,
    frozen: float = FROZEN,
    ds_tol: float = DS_TOL,
    dense_max_n: int = DENSE_MAX_N,
) -> Diagnosis:
    r"""Diagnose one mixing matrix ``(n, n)``, a stack ``(L, n, n)``, or a batch of stacks ``(..., L, n, n)``.

    Every depth, trap, stagnation and collapse statement uses the true detail factor
    :math:`f_\ell = \|PM_\ell P\|_2` (:math:`P = I - J/n`, computed by
    :func:`homtrap.detail_factor`) and is made only for *row-stochastic* stacks (every row
    sum within ``ds_tol`` of one), for which :math:`PM = PMP` and hence
    :math:`\|PM_L\cdots M_1x\| \le \prod_\ell f_\ell\,\|Px\|` for every input :math:`x`
    (proof in the module docstring and in :doc:`/book/21_diagnose`). For doubly-stochastic
    layers :math:`f_\ell = \sigma_2(M_\ell)`. Softmax attention, Sinkformer attention with an
    odd number of half-steps and mHC's :math:`H^{\mathrm{res}}` are row-stochastic but not
    column-stochastic: they get the verdict ``NOT_DOUBLY_STOCHASTIC`` together with bounds
    stated for row-stochastic layers. Matrices whose rows do not sum to one (unnormalised
    input, or Sinkhorn stopped after a column pass) get ``NOT_ROW_STOCHASTIC`` and no
    guarantee; their fields are still reported.

    Parameters
    ----------
    M : array_like, shape (n, n), (L, n, n) or (..., L, n, n)
        Non-negative mixing matrices, applied in order ``M[..., 0, :, :]`` first. A 3-d input
        is one stack of ``L`` layers; a batch of ``B`` single layers is ``(B, 1, n, n)``.
    target : float, default 0.01
        Target detail fraction :math:`\varepsilon` of the effective depth, in (0, 1).
    noise_std : float, optional
        Noise level :math:`\nu` at the LayerNorm that follows the stack (Theorem 1).
    detail_norm : float, optional
        Size :math:`\|x_\perp\|` of the input detail; default :math:`\sqrt n` (unit-variance
        features). Only used with ``noise_std``.
    homogenising : float, default 0.1 (``HOMOGENISING``)
        Detail factors below it in every layer give ``HOMOGENEITY_TRAP`` and ``RESIDUAL_STAGNATION``.
    frozen : float, default 0.99 (``FROZEN``)
        Detail factors above it in every layer give ``KEEPS_DETAIL``.
    ds_tol : float, default 1e-6 (``DS_TOL``)
        Row or column sums further than this from one give ``NOT_DOUBLY_STOCHASTIC``; row sums
        further than this give ``NOT_ROW_STOCHASTIC``; an Amax gain above ``1 + ds_tol``
        gives ``GAIN_ABOVE_ONE``.
    dense_max_n : int, default 512 (``DENSE_MAX_N``)
        Largest ``n`` for which the :math:`O(n^3)` fields ``lambda2`` and
        ``distance_to_permutation`` are computed (dense eigenvalues, an assignment problem) and
        the other spectral norms use a dense SVD. Above it those two fields are ``None`` and the
        other norms use Lanczos (ARPACK, a fixed start vector); for a single doubly-stochastic
        layer ``max_product_norm`` is then the upper bound :math:`\sqrt{\|M\|_1\|M\|_\infty}`,
        within the marginal error of the exact value one. ``detail_factor`` always comes from
        :func:`homtrap.detail_factor`.

    The defaults are listed in the read-only mapping :data:`homtrap.DIAGNOSE_DEFAULTS`.

    Returns
    -------
    Diagnosis
        ``repr`` prints a table (numbers to at most 3 significant digits, rounding-level ones
        as "below 1e-11"), notebooks show an HTML table, ``.plot()`` draws one stack,
        ``.verdicts`` is a tuple of :class:`Verdict` members and ``.explain()`` gives them with
        numbers. For a batch every field carries the leading axes ``batch_shape``, ``d[i]`` is
        the report of one stack and ``d.has(verdict)`` a boolean array.

    Raises
    ------
    TypeError
        If ``M`` is not a real array or a keyword has the wrong type.
    ValueError
        If ``M`` is not a finite stack of square matrices with ``n >= 2``, has a negative
        entry, or its products overflow; or a keyword is out of range (``target``,
        ``homogenising``, ``frozen`` in (0, 1), ``homogenising < frozen``, ``ds_tol``,
        ``noise_std``, ``detail_norm`` > 0, ``dense_max_n >= 2``), or ``detail_norm`` is given
        without ``noise_std``.

    See Also
    --------
    Diagnosis : the report.
    Verdict : the findings.
    homtrap.detail_factor : the per-layer factor :math:`\|PMP\|_2`.
    homtrap.effective_depth : the depth of a single repeated layer.

    Notes
    -----
    Used in :doc:`/book/21_diagnose` (:prf:ref:`prop-diagnose-guarantees`),
    :doc:`/book/17_case_mhc` and :doc:`/book/22_tradeoff_map`.

    Examples
    --------
    >>> import numpy as np
    >>> import homtrap
    >>> d = homtrap.diagnose(homtrap.random_dsm(4, 1.0, size=6, rng=0))
    >>> d.layers, bool(d.detail_left < 0.05), d.has(homtrap.Verdict.NOT_DOUBLY_STOCHASTIC)
    (6, True, False)
    >>> A = homtrap.softmax_attention(np.random.default_rng(1).standard_normal((8, 8)))  # row-stochastic
    >>> homtrap.diagnose(A).verdicts[0]
    <Verdict.NOT_DOUBLY_STOCHASTIC: 'a row or column sum differs from one by more than ds_tol'>
    >>> batch = homtrap.diagnose(np.stack([A, A.T])[:, None])  # two single layers
    >>> batch.batch_shape, batch.has(homtrap.Verdict.NOT_ROW_STOCHASTIC)
    ((2,), array([False,  True]))
    """
    A = as_square_stack(M, "M", min_n=2)
    if A.min() < 0.0:
        raise ValueError("M must be entrywise non-negative (a mixing matrix); got a negative entry "
                         f"{float(A.min()):.3g}")
    e = _unit_scalar(target, "target")
    h = _unit_scalar(homogenising, "homogenising")
    fz = _unit_scalar(frozen, "frozen")
    if not h < fz:
        raise ValueError(f"homogenising must be below frozen, got homogenising={h} and frozen={fz}")
    tol = check_positive_scalar(ds_tol, "ds_tol")
    dmax = check_int(dense_max_n, "dense_max_n", minimum=2)
    nu = x_norm = None
    if noise_std is not None:
        nu = check_positive_scalar(noise_std, "noise_std")
        x_norm = np.sqrt(A.shape[-1]) if detail_norm is None else check_positive_scalar(detail_norm, "detail_norm")
    elif detail_norm is not None:
        raise ValueError("detail_norm is only used together with noise_std")
    if A.ndim == 2:
        A = A[None]
    batch, (L, n) = A.shape[:-3], A.shape[-3:-1]
    X = A.reshape(-1, L, n, n)
    B = X.shape[0]
    flat = X.reshape(-1, n, n)  # every layer of every stack
    dense = n <= dmax

    # per layer, all stacks at once
    row_sums, col_sums = flat.sum(axis=-1), flat.sum(axis=-2)
    row_err = np.abs(row_sums - 1.0).max(axis=-1)
    col_err = np.abs(col_sums - 1.0).max(axis=-1)
    merr = np.maximum(row_err, col_err)
    amax_f_layer = np.abs(row_sums).max(axis=-1)
    amax_b_layer = np.abs(col_sums).max(axis=-1)
    f = np.atleast_1d(_detail_factor(flat))
    s1, s2 = _top_two(flat, f, merr, dense)
    l2 = _lambda2(flat, row_err <= _LEMMA2_ATOL, col_err <= _LEMMA2_ATOL) if dense else None
    if dense:
        dist_u = _norm2(flat - 1.0 / n, True)
    else:  # for doubly-stochastic layers M - J/n = PMP (Lemma 2), up to the marginal error
        dist_u = f.copy()
        far = merr > _LEMMA2_ATOL
        if np.any(far):
            dist_u[far] = _norm2(flat[far] - 1.0 / n, False)
    dist_p = _distance_to_permutation(flat) if dense else None
    ent = np.atleast_1d(entropy(flat)) / (n * np.log(n)) + 0.0  # negative only if an entry exceeds one; + 0.0: no -0

    # per stack: the partial products M_k ... M_1 (for one layer, the layer itself)
    prods = _checked_products(X)
    profile = f.reshape(B, L) if L == 1 else np.atleast_1d(_detail_factor(prods.reshape(-1, n, n))).reshape(B, L)
    last = prods[:, -1]
    amax_f = np.abs(last.sum(axis=-1)).max(axis=-1)
    amax_b = np.abs(last.sum(axis=-2)).max(axis=-1)
    if dense:
        pnorm = _norm2(prods.reshape(-1, n, n), True).reshape(B, L).max(axis=-1)
    elif L == 1:
        # ||M||_2 <= sqrt(||M||_1 ||M||_inf); for a nearly doubly-stochastic M both are within merr of one;
        # other layers: sigma_1 from the ARPACK call that gave sigma_2
        pnorm = np.where(merr <= _LEMMA2_ATOL, np.sqrt(amax_f_layer * amax_b_layer), s1)
    else:
        pnorm = _norm2(prods.reshape(-1, n, n), False).reshape(B, L).max(axis=-1)

    per_layer = {
        "sigma2": s2, "detail_factor": f, "lambda2": l2, "marginal_error": merr, "row_error": row_err,
        "column_error": col_err, "layer_amax_forward": amax_f_layer, "layer_amax_backward": amax_b_layer,
        "distance_to_uniform": dist_u, "distance_to_permutation": dist_p, "entropy_ratio": ent,
    }
    per_layer = {k: (None if v is None else v.reshape(B, L)) for k, v in per_layer.items()}
    per_layer["detail_profile"] = profile
    thresholds = {"homogenising": h, "frozen": fz, "ds_tol": tol}
    stacks = []
    for b in range(B):
        layer_fields = {k: (None if v is None else v[b].copy()) for k, v in per_layer.items()}
        left = float(profile[b, -1])
        numbers, found = _judge(n, per_layer["detail_factor"][b], per_layer["row_error"][b], per_layer["column_error"][b],
                                left, float(amax_f[b]), float(amax_b[b]), float(pnorm[b]), target=e, nu=nu, x_norm=x_norm,
                                h=h, fz=fz, tol=tol)
        stacks.append(Diagnosis(
            n=n, layers=L, target=e, detail_left=left, max_product_norm=float(pnorm[b]), amax_forward=float(amax_f[b]),
            amax_backward=float(amax_b[b]), verdicts=tuple(v for v, _ in found), thresholds=dict(thresholds),
            _notes=tuple(t for _, t in found), **numbers, **layer_fields,
        ))
    if not batch:
        return stacks[0]

    def gather(name: str) -> Any:
        vals = [getattr(s, name) for s in stacks]
        return None if vals[0] is None else np.array(vals).reshape(batch + np.shape(vals[0]))

    fields = {name: gather(name) for name in _PER_LAYER + _PER_STACK}
    verdicts = tuple(v for v in Verdict if any(v in s.verdicts for s in stacks))
    return Diagnosis(n=n, layers=L, batch_shape=tuple(batch), target=e, verdicts=verdicts, thresholds=dict(thresholds),
                     _stacks=tuple(stacks), **fields)
