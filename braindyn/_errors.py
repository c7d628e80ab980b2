"""Validation helpers whose messages name the parameter, the value and the fix.

Every public constructor of braindyn checks its arguments with these functions so
that a bad value fails at build time with a message a student can act on, rather
than as a NaN a thousand steps into a run.
"""
from __future__ import annotations

import difflib
import numbers

import numpy as np

__all__ = [
    "BraindynError",
    "SimulationDiverged",
    "check_positive",
    "check_nonnegative",
    "check_finite",
    "check_choice",
    "check_shape",
    "check_probability",
]


class BraindynError(ValueError):
    """A bad argument. Subclass of :class:`ValueError` so ordinary handlers catch it."""


class SimulationDiverged(FloatingPointError):
    """A simulation produced a non-finite value.

    Attributes
    ----------
    variable : str
        Path of the state variable that first became non-finite (e.g. ``"E.V"``).
    index : tuple
        Index of the first offending element (the neuron index for a population).
    step : int
        Step number (0-based) at whose end the value was first non-finite.
    t : float
        Time (ms) at the end of that step.
    result : braindyn.run.RunResult or None
        Everything recorded up to the last complete chunk before the failure, so that
        no record is lost.
    """

    def __init__(self, message, *, variable=None, index=None, step=None, t=None, result=None):
        super().__init__(message)
        self.variable = variable
        self.index = index
        self.step = step
        self.t = t
        self.result = result


def _is_traced(value) -> bool:
    # Values inside jit/vmap/grad are tracers: they cannot be checked eagerly.
    try:
        import jax

        return isinstance(value, jax.core.Tracer)
    except Exception:  # pragma: no cover
        return False


def _as_array(value):
    if _is_traced(value):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def _fmt(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    return f"array with min {np.nanmin(arr)!r}, max {np.nanmax(arr)!r} (shape {arr.shape})"


def check_finite(name: str, value, owner: str = ""):
    """Raise if ``value`` contains NaN or infinity. Traced values pass unchecked."""
    arr = _as_array(value)
    where = f" of {owner}" if owner else ""
    if arr is not None and not np.all(np.isfinite(arr)):
        raise BraindynError(
            f"parameter {name!r}{where} must be finite, got {_fmt(value)}. "
            f"Fix: pass a finite number (check for a division by zero or an unset value)."
        )
    return value


def _check_bound(name, value, owner, unit, bad, rule, fix):
    arr = _as_array(value)
    if arr is None:
        return value
    check_finite(name, value, owner)
    if np.any(bad(arr)):
        where = f" of {owner}" if owner else ""
        u = f" {unit}" if unit else ""
        raise BraindynError(f"parameter {name!r}{where} must be {rule}{u}, got {_fmt(value)}. Fix: {fix}")
    return value


def check_positive(name: str, value, owner: str = "", unit: str = ""):
    """Raise if ``value`` is not strictly positive (time constants, dt, capacitances)."""
    u = f" {unit}" if unit else ""
    return _check_bound(name, value, owner, unit, lambda a: a <= 0, "> 0",
                        f"use a positive value (e.g. {name}=10.0{u}).")


def check_nonnegative(name: str, value, owner: str = "", unit: str = ""):
    """Raise if ``value`` is negative (refractory periods, conductances, rates)."""
    return _check_bound(name, value, owner, unit, lambda a: a < 0, ">= 0", "use zero or a positive value.")


def check_probability(name: str, value, owner: str = ""):
    """Raise if ``value`` is outside [0, 1]."""
    arr = _as_array(value)
    where = f" of {owner}" if owner else ""
    if arr is None:
        return value
    check_finite(name, value, owner)
    if np.any((arr < 0) | (arr > 1)):
        raise BraindynError(
            f"parameter {name!r}{where} must lie in [0, 1], got {_fmt(value)}. "
            f"Fix: pass a probability, e.g. {name}=0.02."
        )
    return value


def check_choice(name: str, value, choices, owner: str = ""):
    """Raise if ``value`` is not one of ``choices``, suggesting the closest names."""
    choices = list(choices)
    if value in choices:
        return value
    where = f" of {owner}" if owner else ""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise BraindynError(
        f"unknown {name} {value!r}{where}.{hint} Valid choices: {', '.join(repr(c) for c in choices)}."
    )


def check_shape(name: str, value, allowed, owner: str = ""):
    """Raise if ``np.shape(value)`` is not broadcast-compatible with one of ``allowed`` shapes.

    ``allowed`` is a tuple of shapes, e.g. ``((), (n,))`` for "scalar or one per neuron".
    """
    if isinstance(value, numbers.Number):
        shape = ()
    else:
        shape = tuple(np.shape(value))
    if shape in [tuple(a) for a in allowed]:
        return value
    where = f" of {owner}" if owner else ""
    opts = " or ".join(str(tuple(a)) for a in allowed)
    raise BraindynError(
        f"{name!r}{where} has shape {shape}, expected {opts}. "
        f"Fix: pass a scalar (same for every neuron) or one value per neuron."
    )
