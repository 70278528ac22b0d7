"""Shared test configuration.

Hypothesis explores new random examples on every run during development; under CI (CI=true)
it is derandomized so that a CI verdict is reproducible.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
