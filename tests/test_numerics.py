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
