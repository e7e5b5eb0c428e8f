"""Tests of homtrap._residual.gelu_slope (public since the restructure; book/14_proposition1.ipynb had a copy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import homtrap
from homtrap._residual import __all__ as residual_all
from homtrap._residual import gelu_slope

C0 = np.sqrt(2 / np.pi)


def chapter_gelu_slope(z):
    # the chapter's copy, verbatim (book/14_proposition1.ipynb, the cell of rem-gelu-lipschitz)
    u = C0 * (z + 0.044715 * z**3)
    t = np.tanh(u)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t**2) * C0 * (1 + 3 * 0.044715 * z**2)


def test_public():
    assert "gelu_slope" in residual_all


def test_agrees_with_the_chapters_copy():
    z = np.linspace(-6, 6, 2001)
    assert np.abs(gelu_slope(z) - chapter_gelu_slope(z)).max() <= 4e-16


def test_against_finite_differences_of_gelu():
    z = np.linspace(-6, 6, 2001)
    h = 1e-5
    fd = (homtrap.gelu(z + h) - homtrap.gelu(z - h)) / (2 * h)
    assert np.abs(fd - gelu_slope(z)).max() <= 1e-8
    # must-fail control: the slope of the exact (erf) GELU differs from the tanh approximation's by more
    from scipy.special import erf
    exact = 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    assert np.abs(exact - gelu_slope(z)).max() > 1e-4


def test_symmetry_and_sign():
    z = np.linspace(-6, 6, 2001)
    assert np.abs(gelu_slope(z) + gelu_slope(-z) - 1).max() <= 1e-12
    assert gelu_slope(np.array(0.0)) == 0.5
    assert np.all(gelu_slope(np.linspace(-6, -0.76, 500)) < 0) and np.all(gelu_slope(np.linspace(-0.75, 6, 500)) > 0)


def test_maximum_is_the_lipschitz_constant():
    opt = minimize_scalar(lambda s: -gelu_slope(s), bounds=(0.0, 3.0), method="bounded", options={"xatol": 1e-10})
    lip = homtrap.lipschitz_constant("gelu")
    assert abs(-opt.fun - lip) <= 1e-12 and 1.41 < opt.x < 1.43
    assert gelu_slope(np.linspace(-10, 10, 200_001)).max() <= lip + 1e-12
    assert lip > 1.12  # GELU is not 1-Lipschitz


def test_shapes_and_scalars():
    assert gelu_slope(np.zeros((2, 3))).shape == (2, 3)
    assert isinstance(gelu_slope(np.float64(1.0)), np.floating)
    assert np.isnan(gelu_slope(np.array(np.nan)))


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
def test_activations_secant_slopes(name):
    grid = np.linspace(-10, 10, 400_001)
    secant = np.diff(homtrap.ACTIVATIONS[name](grid)) / np.diff(grid)
    lip = homtrap.lipschitz_constant(name)
    assert np.abs(secant).max() <= lip + 1e-9 and np.abs(secant).max() >= lip - 1e-6
