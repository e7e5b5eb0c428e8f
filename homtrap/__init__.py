r"""homtrap: the numerical companion of *The Homogeneity Trap, executed*.

Batched, validated numpy kernels for doubly-stochastic (Sinkhorn) matrices and the
quantities the book studies: the second singular value, the detail subspace, LayerNorm
and effective depth. Every function batches over leading axes ``(..., n, n)``.

Everything public is imported from here (``import homtrap``; ``homtrap.sigma2(M)``). The
implementation lives in private modules, one per mathematical object, in the pattern of
POT's ``ot.bregman``:

========================  ==================================================================
``_sinkhorn``              Sinkhorn scaling: the production solver (``_sinkhorn_kernels``: its loops)
``_sinkhorn_variants``     the textbook loop and truncated (fixed-sweep) Sinkhorn
``_birkhoff``              the Birkhoff polytope: :math:`J/n`, permutations, marginals, entropy,
                           Birkhoff–von Neumann decomposition, random members
``_detail``                the detail subspace :math:`V_\perp` and the mean/detail split
``_spectra``               :math:`\sigma_2`, the detail factor :math:`\|PMP\|_2`, :math:`|\lambda_2|` and friends
``_depth``                 every depth: effective, realised, product, collapse; products of stacks
``_temperature``           the temperature axis (Part II)
``_layernorm``             LayerNorm and the SNR of the detail (Part IV)
``_concentration``         :math:`\chi^2` tails, spherical caps, Theorem 1's bound (Part IV)
``_numerics``              rounding to bfloat16 / float16
``_residual``              residual stacks and activations (Part V)
``_mhc``, ``_attention``   the architecture layers of the case studies (Part VI)
``_diagnose``              :func:`diagnose`, the practitioner's entry point
``plotting``               the book's figure style (needs the ``figures`` extra)
``book``                   glue helpers for the book's notebooks
========================  ==================================================================

Vocabulary: ``size`` is a number of samples or a batch shape; ``tol`` a solver's tolerance on
the row and column sums; ``target`` the detail fraction :math:`\varepsilon` of a depth;
``deviation`` the :math:`\varepsilon` of Theorem 1; ``eps`` only a numerical floor (LayerNorm's
variance floor, mHC's additive :math:`\epsilon`); ``weight`` and ``bias`` LayerNorm's affine
parameters; ``branch_gain`` the residual branch's :math:`\alpha`; ``iterations`` the work a
solver did. Names renamed in 0.4 still work for now and warn (:class:`DeprecationWarning`).
"""

from __future__ import annotations

import warnings as _warnings
from typing import Any

# Sinkhorn scaling onto the Birkhoff polytope: the production solver
from ._sinkhorn import (
    ConvergenceError,
    ConvergenceWarning,
    SinkhornResult,
    sinkhorn,
    sinkhorn_jacobian,
    sinkhorn_solve,
)
# Sinkhorn variants: the textbook loop and truncated (fixed-sweep) Sinkhorn
from ._sinkhorn_variants import (
    PlainSinkhornResult,
    plain_sinkhorn,
    plain_sweeps_predicted,
    truncated_sinkhorn,
    truncated_sinkhorn_path,
)
# the Birkhoff polytope: J/n, permutations, marginals, entropy, decomposition, random members
from ._birkhoff import (
    BirkhoffDecomposition,
    birkhoff_decomposition,
    block_diagonal,
    circulant,
    circulant_eigenvalues,
    entropy,
    free_mixture_norm,
    is_doubly_stochastic,
    lazy_uniform_layer,
    marginal_error,
    permutation_matrix,
    random_birkhoff_mixture,
    random_dsm,
    random_logits,
    uniform_barycenter,
)
# the detail subspace: centring projector, mean/detail split, basis, block, cosine
from ._detail import (
    block_detail_basis,
    block_indicators,
    centring_projector,
    cosine,
    detail,
    detail_basis,
    detail_block,
    double_centre,
    low_rank_noise,
    mean_part,
    random_detail_pair,
    random_detail_subspace,
)
# spectra: sigma_2, the detail factor, |lambda_2|, sigma_rms, non-normality
from ._spectra import (
    departure_from_normality,
    detail_factor,
    gram_laplacian,
    lambda2,
    scaled_power_norms,
    sigma2,
    sigma2_gap,
    sigma_rms,
    singular_values,
)
# depth: effective, realised, product and collapse depths; products of stacks
from ._depth import (
    collapse_depth,
    effective_depth,
    effective_depth_product,
    high_temperature_effective_depth,
    max_product_norm,
    power_distances,
    product_distances,
    product_norm_bounds,
    ProductNormBounds,
    realised_depth,
)
# the temperature axis: sweeps of sigma_2, the high- and low-temperature laws
from ._temperature import (
    TemperatureSweep,
    assignment_gap,
    assignment_permutation,
    crossing_temperature,
    entropic_objective,
    first_order_sigma2,
    off_permutation_max,
    oscillation,
    sigma2_derivative,
    sigma2_sweep,
)
# LayerNorm and the SNR of the detail it normalises
from ._layernorm import (
    GainCosineVariance,
    amplitude_snr,
    gain_cosine_variance,
    layer_norm,
    ln_direction_mean,
    mean_ln_cosine,
    mean_ln_cosine_expansion,
    noisy_ln_cosines,
    normalise_detail,
    reduced_ln_cosines,
)
# concentration bounds: chi^2 tails, spherical caps, Theorem 1
from ._concentration import (
    Chi2TailBounds,
    chi2_tail_bounds,
    cosine_concentration_radius,
    sphere_cap_bound,
    sphere_cap_probability,
    sphere_inner_product_law,
    theorem1_bound,
    theorem1_min_dimension,
    theorem1_probability,
)
# low-precision formats
from ._numerics import (
    quantise,
    rounding_noise,
)
# residual dynamics and activations
from ._residual import (
    ACTIVATIONS,
    ResidualTrajectory,
    activation_increment,
    gelu,
    gelu_slope,
    lipschitz_constant,
    relu,
    residual_jacobian,
    residual_split_stack,
    residual_stack,
    SplitTrajectory,
)
# mHC's residual mixing layer (architecture case study)
from ._mhc import (
    AmaxGain,
    amax_gain,
    mhc_bias_layer,
    mhc_composite,
    mhc_h_res,
    mhc_homogenising_range,
    mhc_logits,
)
# attention layers: softmax, Sinkformer, Sinkhorn (architecture case study)
from ._attention import (
    AttentionStack,
    attention_stack,
    bilinear_scores,
    clustered_tokens,
    random_bilinear_form,
    random_orthogonal,
    sinkformer_attention,
    sinkhorn_attention,
    softmax_attention,
)
# diagnose: the practitioner's check of mixing matrices
from ._diagnose import (
    DIAGNOSE_DEFAULTS,
    Diagnosis,
    Verdict,
    diagnose,
)

__version__ = "0.5.0"

__all__ = [
    "__version__",
    "ACTIVATIONS",
    "AmaxGain",
    "AttentionStack",
    "BirkhoffDecomposition",
    "Chi2TailBounds",
    "ConvergenceError",
    "ConvergenceWarning",
    "DIAGNOSE_DEFAULTS",
    "Diagnosis",
    "GainCosineVariance",
    "PlainSinkhornResult",
    "ProductNormBounds",
    "ResidualTrajectory",
    "SinkhornResult",
    "SplitTrajectory",
    "TemperatureSweep",
    "Verdict",
    "amax_gain",
    "activation_increment",
    "amplitude_snr",
    "assignment_gap",
    "assignment_permutation",
    "attention_stack",
    "bilinear_scores",
    "birkhoff_decomposition",
    "block_detail_basis",
    "block_diagonal",
    "block_indicators",
    "book_palette",
    "centring_projector",
    "chi2_tail_bounds",
    "circulant",
    "circulant_eigenvalues",
    "clustered_tokens",
    "collapse_depth",
    "cosine",
    "cosine_concentration_radius",
    "crossing_temperature",
    "departure_from_normality",
    "detail",
    "detail_basis",
    "detail_block",
    "detail_factor",
    "diagnose",
    "double_centre",
    "effective_depth",
    "effective_depth_product",
    "entropic_objective",
    "entropy",
    "first_order_sigma2",
    "free_mixture_norm",
    "gain_cosine_variance",
    "gelu",
    "gelu_slope",
    "gram_laplacian",
    "high_temperature_effective_depth",
    "is_doubly_stochastic",
    "lambda2",
    "lazy_uniform_layer",
    "layer_norm",
    "lipschitz_constant",
    "ln_direction_mean",
    "low_rank_noise",
    "marginal_error",
    "max_product_norm",
    "mean_ln_cosine",
    "mean_ln_cosine_expansion",
    "mean_part",
    "mhc_bias_layer",
    "mhc_composite",
    "mhc_h_res",
    "mhc_homogenising_range",
    "mhc_logits",
    "noisy_ln_cosines",
    "normalise_detail",
    "off_permutation_max",
    "oscillation",
    "permutation_matrix",
    "plain_sinkhorn",
    "plain_sweeps_predicted",
    "power_distances",
    "product_distances",
    "product_norm_bounds",
    "quantise",
    "random_bilinear_form",
    "random_birkhoff_mixture",
    "random_detail_pair",
    "random_detail_subspace",
    "random_dsm",
    "random_logits",
    "random_orthogonal",
    "realised_depth",
    "reduced_ln_cosines",
    "relu",
    "residual_jacobian",
    "residual_split_stack",
    "residual_stack",
    "rounding_noise",
    "scaled_power_norms",
    "set_book_style",
    "sigma2",
    "sigma2_derivative",
    "sigma2_gap",
    "sigma2_sweep",
    "sigma_rms",
    "singular_values",
    "sinkformer_attention",
    "sinkhorn",
    "sinkhorn_attention",
    "sinkhorn_jacobian",
    "sinkhorn_solve",
    "softmax_attention",
    "sphere_cap_bound",
    "sphere_cap_probability",
    "sphere_inner_product_law",
    "theorem1_bound",
    "theorem1_min_dimension",
    "theorem1_probability",
    "truncated_sinkhorn",
    "truncated_sinkhorn_path",
    "uniform_barycenter",
]

_PLOTTING = {"set_book_style", "book_palette"}

#: public names renamed in homtrap 0.4: old name -> new name (they warn, then work)
_RENAMED = {
    "centering_projector": "centring_projector",
    "normalize_detail": "normalise_detail",
    "quantize": "quantise",
}


def __getattr__(name: str) -> Any:
    # plotting pulls in matplotlib and seaborn: import it only when a figure is wanted
    if name in _PLOTTING:
        try:
            from . import plotting
        except ModuleNotFoundError as exc:  # the "figures" extra is not installed
            raise ImportError(
                f"homtrap.{name} needs matplotlib and seaborn ({exc.name} is missing): "
                "pip install 'homtrap[figures]'"
            ) from exc
        return getattr(plotting, name)
    if name in _RENAMED:
        new = _RENAMED[name]
        _warnings.warn(f"homtrap.{name} is now called homtrap.{new}; the old name will be removed",
                      DeprecationWarning, stacklevel=2)
        return globals()[new]
    raise AttributeError(f"module 'homtrap' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _PLOTTING)
