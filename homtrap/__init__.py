"""homtrap: the numerical companion of *The Homogeneity Trap, executed*.

Batched, validated numpy kernels for doubly-stochastic (Sinkhorn) matrices and the
quantities the book studies: the second singular value, the detail subspace, LayerNorm
and effective depth. Every function batches over leading axes ``(..., n, n)``.
"""

from __future__ import annotations

from typing import Any

from .attention import sinkformer_attention, sinkhorn_attention, softmax_attention
from .birkhoff import birkhoff_decomposition
from .collapse import (
    amplitude_snr,
    chi2_tail_bounds,
    collapse_depth,
    ln_direction_mean,
    noisy_ln_cosines,
    quantize,
    reduced_ln_cosines,
    sphere_cap_bound,
    sphere_cap_probability,
    sphere_inner_product_law,
    theorem1_bound,
    theorem1_probability,
)
from .diagnose import Diagnosis, Verdict, diagnose
from .depth import effective_depth, effective_depth_product, high_temperature_effective_depth
from .layers import max_product_norm, power_distances, product_distances, realised_depth
from .mhc import amax_gain, mhc_composite, mhc_h_res, mhc_logits
from .normalization import layer_norm, normalize_detail
from .random import random_dsm, random_logits
from .sinkhorn import ConvergenceError, ConvergenceWarning, SinkhornResult, sinkhorn, sinkhorn_solve
from .residual import ACTIVATIONS, ResidualTrajectory, gelu, lipschitz_constant, relu, residual_stack
from .reference import PlainSinkhornResult, plain_sinkhorn, plain_sweeps_predicted, truncated_sinkhorn, truncated_sinkhorn_path
from .spectral import departure_from_normality, detail_factor, lambda2, sigma2, sigma2_gap, sigma_rms, singular_values
from .subspace import (
    centering_projector,
    circulant,
    cosine,
    detail_basis,
    detail_block,
    entropy,
    detail,
    double_centre,
    is_doubly_stochastic,
    marginal_error,
    mean_part,
    permutation_matrix,
    uniform_barycenter,
)
from .temperature import (
    TemperatureSweep,
    assignment_gap,
    assignment_permutation,
    entropic_objective,
    first_order_sigma2,
    sigma2_sweep,
)

__version__ = "0.3.0"

__all__ = [
    "__version__",
    "ACTIVATIONS",
    "ConvergenceError",
    "ConvergenceWarning",
    "Diagnosis",
    "PlainSinkhornResult",
    "ResidualTrajectory",
    "SinkhornResult",
    "TemperatureSweep",
    "Verdict",
    "amax_gain",
    "amplitude_snr",
    "assignment_gap",
    "assignment_permutation",
    "birkhoff_decomposition",
    "book_palette",
    "centering_projector",
    "chi2_tail_bounds",
    "circulant",
    "collapse_depth",
    "cosine",
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
    "gelu",
    "high_temperature_effective_depth",
    "is_doubly_stochastic",
    "lambda2",
    "layer_norm",
    "lipschitz_constant",
    "ln_direction_mean",
    "marginal_error",
    "max_product_norm",
    "mean_part",
    "mhc_composite",
    "mhc_h_res",
    "mhc_logits",
    "noisy_ln_cosines",
    "normalize_detail",
    "permutation_matrix",
    "plain_sinkhorn",
    "plain_sweeps_predicted",
    "power_distances",
    "product_distances",
    "quantize",
    "random_dsm",
    "random_logits",
    "realised_depth",
    "reduced_ln_cosines",
    "relu",
    "residual_stack",
    "set_book_style",
    "sigma2",
    "sigma2_gap",
    "sigma2_sweep",
    "sigma_rms",
    "singular_values",
    "sinkformer_attention",
    "sinkhorn",
    "sinkhorn_attention",
    "sinkhorn_solve",
    "softmax_attention",
    "sphere_cap_bound",
    "sphere_cap_probability",
    "sphere_inner_product_law",
    "theorem1_bound",
    "theorem1_probability",
    "truncated_sinkhorn",
    "truncated_sinkhorn_path",
    "uniform_barycenter",
]

_PLOTTING = {"set_book_style", "book_palette"}


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
    raise AttributeError(f"module 'homtrap' has no attribute {name!r}")
