"""Input validation shared by the connectivity generators and event kernels.

Every check raises :class:`~braindyn.BraindynError` (a ``ValueError``) whose message names the parameter, the
offending value and how to fix it (design principle 7: errors teach).
"""
from __future__ import annotations

import numbers

import numpy as np

from .._errors import BraindynError


def _fail(name, value, need, fix):
    raise BraindynError(f"{name}={value!r} is invalid: {need}. Fix: {fix}")


def check_size(name, value, *, minimum=0):
    """``value`` must be an integer >= ``minimum``; returns it as ``int``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        _fail(name, value, "expected an integer", f"pass an int >= {minimum}")
    if value < minimum:
        _fail(name, value, f"must be >= {minimum}", f"pass an int >= {minimum}")
    return int(value)


def check_prob(name, value):
    """``value`` must be a finite real number in [0, 1]; returns it as ``float``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        _fail(name, value, "expected a probability (a float in [0, 1])",
              "pass a float between 0 and 1")
    v = float(value)
    if not (0.0 <= v <= 1.0):
        _fail(name, value, "a probability must lie in [0, 1]",
              "pass a float between 0 and 1 (e.g. 80 / n_pre for 80 synapses per neuron)")
    return v


def check_positive(name, value, *, allow_zero=False):
    """``value`` must be a finite real > 0 (or >= 0); returns ``float``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        _fail(name, value, "expected a real number", "pass a positive float")
    v = float(value)
    ok = np.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        need = "must be finite and >= 0" if allow_zero else "must be finite and > 0"
        _fail(name, value, need, "pass a positive finite float")
    return v


def check_seed(value):
    """``seed`` must be an int >= 0 or a ``numpy.random.Generator``."""
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        _fail("seed", value, "connectivity must be reproducible",
              "pass an integer seed, e.g. seed=0")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        _fail("seed", value, "expected a non-negative integer", "pass e.g. seed=0")
    if value < 0:
        _fail("seed", value, "must be >= 0", "pass a non-negative integer seed")
    return np.random.default_rng(int(value))


def check_square(n_pre, n_post, what):
    if n_pre != n_post:
        raise BraindynError(
            f"allow_self=False needs n_pre == n_post (got n_pre={n_pre}, n_post={n_post}): "
            f"'self connection' is only defined for a population projecting onto itself. "
            f"Fix: use allow_self=True for {what} between two different populations.")
