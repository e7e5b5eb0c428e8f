"""Tests of homtrap._layernorm's mean_ln_cosine and mean_ln_cosine_expansion (moved from book/11_theorem1.ipynb)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import homtrap
from homtrap._layernorm import mean_ln_cosine, mean_ln_cosine_expansion


# the chapter's functions, verbatim (book/11_theorem1.ipynb, the check of prop-mean-cosine)
def mean_cosine_exact(gamma, k):
    return homtrap.ln_direction_mean(gamma * np.sqrt(k), k) ** 2


heuristic = lambda g: g**2 / (1 + g**2)
second_order = lambda g, k: heuristic(g) * (1 + (g**2 - 0.5) / (k * (1 + g**2) ** 2))

GAMMAS = np.geomspace(0.01, 0.5, 13)


def test_bit_identical_to_the_chapter():
    for n in (64, 256, 1024):
        k = n - 1
        for gamma in GAMMAS:  # numpy scalars, as in the chapter's loop
            assert mean_ln_cosine(gamma, k) == mean_cosine_exact(gamma, k)
            assert mean_ln_cosine_expansion(gamma) == heuristic(gamma)
            assert mean_ln_cosine_expansion(gamma, k) == second_order(gamma, k)
            g = float(gamma)  # and Python floats
            assert mean_ln_cosine_expansion(g, k) == second_order(g, k)


def test_arrays_agree_with_scalars():
    exact = mean_ln_cosine(GAMMAS, 63)
    assert exact.shape == GAMMAS.shape
    assert np.allclose(exact, [mean_cosine_exact(g, 63) for g in GAMMAS], rtol=1e-15, atol=0)
    assert np.allclose(mean_ln_cosine_expansion(GAMMAS, 63), [second_order(g, 63) for g in GAMMAS], rtol=1e-15, atol=0)


def independent_mean(gamma, k):
    # E[(alpha + Z) / sqrt((alpha + Z)^2 + A)]^2, Z ~ N(0, 1), A ~ chi^2_{k-1} (prop-mean-cosine, part 1),
    # by quadrature: E over A of the conditional mean over Z
    alpha = gamma * np.sqrt(k)
    z, w = np.polynomial.hermite_e.hermegauss(160)  # E over Z ~ N(0, 1) by Gauss-Hermite
    w = w / w.sum()

    def inner(a):
        return float(np.sum(w * (alpha + z) / np.sqrt((alpha + z) ** 2 + a)))

    lo, hi = stats.chi2.ppf([1e-14, 1 - 1e-14], k - 1)
    m = integrate.quad(lambda a: inner(a) * stats.chi2.pdf(a, k - 1), lo, hi, epsabs=1e-12, epsrel=1e-10, limit=200)[0]
    return m * m


@pytest.mark.parametrize("gamma, k", [(0.1, 7), (0.5, 7), (0.3, 63), (1.0, 20)])
def test_against_quadrature(gamma, k):
    assert abs(mean_ln_cosine(gamma, k) - independent_mean(gamma, k)) <= 1e-7


def test_against_samples_and_a_wrong_law_fails():
    k, gamma = 63, 0.4
    a = np.array([gamma * np.sqrt(k), 0.0])
    c = homtrap.reduced_ln_cosines(a, a, k, 200_000, rng=0)
    se = c.std() / np.sqrt(c.size)
    assert abs(c.mean() - mean_ln_cosine(gamma, k)) <= 4 * se
    # must-fail control: the theorem's order gamma (instead of gamma^2) is far outside the error bars
    assert abs(c.mean() - gamma) > 100 * se


def test_expansion_errors_are_order_1_over_k_and_1_over_k2():
    for k in (63, 255, 1023):
        exact = mean_ln_cosine(GAMMAS, k)
        e1 = np.abs(mean_ln_cosine_expansion(GAMMAS) / exact - 1)
        e2 = np.abs(mean_ln_cosine_expansion(GAMMAS, k) / exact - 1)
        assert e1.max() <= 1 / k and e2.max() <= 1 / k**2
        assert e1.max() > 0.1 / k  # not better than O(1/k): the correction is needed
    assert mean_ln_cosine(0.0, 5) == 0.0 and mean_ln_cosine_expansion(0.0) == 0.0


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mean_ln_cosine(-0.1, 5), ValueError, "gamma must be >= 0"),
        (lambda: mean_ln_cosine(0.1, 1), ValueError, "k must be >= 2"),
        (lambda: mean_ln_cosine(0.1, 5.0), TypeError, "k must be an integer"),
        (lambda: mean_ln_cosine(np.inf, 5), ValueError, "gamma"),
        (lambda: mean_ln_cosine("a", 5), TypeError, "gamma"),
        (lambda: mean_ln_cosine_expansion(-1.0), ValueError, "gamma must be >= 0"),
        (lambda: mean_ln_cosine_expansion(0.1, 0), ValueError, "k must be >= 1"),
        (lambda: mean_ln_cosine_expansion(0.1, 2.5), TypeError, "k must be an integer"),
    ],
)
def test_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
