"""Shared pytest configuration for the homtrap test suite.

Only configures Hypothesis: small, fast runs with no deadline, and no example
database (so running the suite never writes a ``.hypothesis/`` directory into the
repository). Select another profile with ``HOMTRAP_HYPOTHESIS_PROFILE=thorough``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "homtrap",
    max_examples=40,
    derandomize=True,  # the same examples on every run: CI results are reproducible
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HOMTRAP_HYPOTHESIS_PROFILE", "homtrap"))
