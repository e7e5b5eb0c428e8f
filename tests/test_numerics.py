"""Tests of homtrap.quantise: rounding to bfloat16 (by hand) and float16 (numpy's own cast)."""

import numpy as np
import pytest

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def test_quantise_formats():
    x = np.array([1.0, 1 + 2**-9, 1 + 3 * 2**-9, -2.5, 1e-3])
    q = ht.quantise(x, "bfloat16")
    assert q[0] == 1.0 and q[1] == 1.0 and q[2] == 1 + 2**-7 and q[3] == -2.5
    assert np.all(np.abs(q - x) <= 2**-8 * np.abs(x))
    h = ht.quantise(x, "float16")
    np.testing.assert_array_equal(h, x.astype(np.float16).astype(np.float64))
    with pytest.raises(ValueError, match=r"\bfmt must be 'bfloat16' or 'float16', got 'fp8'"):
        ht.quantise(x, "fp8")
    with pytest.raises(ValueError, match=r"\bx overflows float16 \(largest finite value 65504\)"):
        ht.quantise([1e6], "float16")


@pytest.mark.parametrize(("fmt", "bits"), [("bfloat16", 8), ("float16", 11), ("float32", 24), ("float64", 53)])
def test_rounding_noise_formats_and_bits(fmt, bits):
    assert ht.rounding_noise(fmt) == ht.rounding_noise(bits) == 2.0 ** (1 - bits) / np.sqrt(12)
    assert isinstance(ht.rounding_noise(fmt), float)


@pytest.mark.parametrize("fmt", ["bfloat16", "float16"])
def test_rounding_noise_is_the_measured_rounding_error(fmt):
    """ulp / sqrt(12) is the standard deviation of the error of quantise on values spread over [1, 2)."""
    x = np.random.default_rng(1).uniform(1, 2, 200_000)
    measured = float(np.std(ht.quantise(x, fmt) - x))
    assert abs(measured / ht.rounding_noise(fmt) - 1) < 0.01
    other = "float16" if fmt == "bfloat16" else "bfloat16"  # control: the other format's noise is far off
    assert abs(measured / ht.rounding_noise(other) - 1) > 0.5


def test_rounding_noise_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\bfmt must be one of \['bfloat16', 'float16', 'float32', 'float64'\]"):
        ht.rounding_noise("fp8")
    with pytest.raises(ValueError, match=r"\bfmt must be >= 1, got 0"):
        ht.rounding_noise(0)
    with pytest.raises(TypeError, match=r"\bfmt must be an integer, got float"):
        ht.rounding_noise(8.0)
