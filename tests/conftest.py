import os

import jax

# Reference comparisons (scipy solve_ivp at rtol 1e-9) need float64; float32 is tested explicitly.
jax.config.update("jax_enable_x64", True)
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: long check (minutes); skipped unless BRAINDYN_SLOW=1 (the README's test command "
        "skips it; run `BRAINDYN_SLOW=1 python -m pytest -m slow` for them)",
    )


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BRAINDYN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow check: set BRAINDYN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
