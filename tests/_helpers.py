"""Independent oracles and Hypothesis strategies shared by several test files.

Imported as ``from _helpers import ...``: pytest puts ``tests/`` (a directory without
``__init__.py``) on ``sys.path`` when it imports the test files (rootdir-relative "prepend"
import mode), and the module name starts with an underscore so it is never collected.
The oracles (``naive_*``, ``perm_matrix``) use numpy only, never homtrap; the strategies draw
doubly-stochastic matrices with :func:`homtrap.sinkhorn`, which tests/test_sinkhorn.py checks.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

import homtrap as ht


# ---------------------------------------------------------------------------------- oracles
def perm_matrix(perm):
    """The permutation matrix with ``P[i, perm[i]] = 1``, built by fancy indexing (not by homtrap)."""
    n = len(perm)
    P = np.zeros((n, n))
    P[np.arange(n), perm] = 1.0
    return P


def naive_centring_projector(n):
    """P = I - J/n formed explicitly."""
    return np.eye(n) - np.ones((n, n)) / n


def naive_detail_factor(M):
    """||P M P||_2 with P = I - J/n formed explicitly, by numpy's dense 2-norm (an SVD)."""
    P = naive_centring_projector(M.shape[-1])
    return np.linalg.norm(P @ M @ P, 2)


def naive_amax(M):
    """mHC's Amax gains of one matrix: largest absolute row sum and column sum, by explicit loops."""
    n = M.shape[0]
    rows = max(abs(sum(M[i, j] for j in range(n))) for i in range(n))
    cols = max(abs(sum(M[i, j] for i in range(n))) for j in range(n))
    return rows, cols


def naive_softmax(scores, beta=1.0):
    """Row softmax of beta * scores, written out (softmax attention)."""
    Z = beta * np.asarray(scores, dtype=float)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


# ------------------------------------------------------------------------- Hypothesis strategies
#: temperatures log-uniform on [0.05, 50]
log_temperatures = st.floats(np.log(0.05), np.log(50.0)).map(np.exp)


@st.composite
def sinkhorn_dsms(draw):
    """Doubly-stochastic matrices, n in 2..8: the Sinkhorn map of seeded Gaussian logits."""
    n = draw(st.integers(2, 8))
    T = draw(log_temperatures)
    seed = draw(st.integers(0, 2**32 - 1))
    G = np.random.default_rng(seed).standard_normal((n, n))
    return ht.sinkhorn(G, T)


@st.composite
def dsm_and_vector(draw):
    """A doubly-stochastic matrix (:func:`sinkhorn_dsms`) and a vector of its size."""
    M = draw(sinkhorn_dsms())
    x = draw(hnp.arrays(np.float64, M.shape[0], elements=st.floats(-100, 100)))
    return M, x


def match_id(value):
    """A short pytest id for an error-match regex: the argument it names (``r"\\bM must ..."`` -> ``M``)."""
    if isinstance(value, str):
        return value.removeprefix("\\b").split()[0].split("\\b")[0].rstrip(":")
    return None
