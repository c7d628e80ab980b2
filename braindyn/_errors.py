"""Validation helpers whose messages name the parameter, the value and the fix.

Every public constructor of braindyn checks its arguments with these functions so
that a bad value fails at build time with a message a student can act on, rather
than as a NaN a thousand steps into a run.
"""
from __future__ import annotations

import difflib
import numbers
import warnings

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
    "check_number",
    "UnitWarning",
    "warn_duration_unit",
    "warn_time_constants",
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


class UnitWarning(UserWarning):
    r"""A value that is almost certainly in the wrong unit (braindyn times are in ms).

    Raised as a warning, never an error: the value may be meant. Two checks use it:

    * a run duration under 5 ms with ``dt >= 0.01`` ms (``duration=1.0`` meant one *second*?),
      :func:`warn_duration_unit`;
    * a time constant :math:`\tau < dt` (``tau=0.01`` meant 10 ms written in seconds?),
      :func:`warn_time_constants`.

    Silence it where the value is meant::

        import warnings, braindyn as bd
        warnings.filterwarnings("ignore", category=bd.UnitWarning)

    (``pytest -W ignore::braindyn.UnitWarning``, or ``-W error::braindyn.UnitWarning`` to make it
    an error).

    Example
    -------
    >>> import warnings, braindyn as bd
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     bd._errors.warn_duration_unit(0.5, 0.1)
    >>> w[0].category.__name__
    'UnitWarning'
    """


def check_number(name: str, value, owner: str = "", unit: str = "") -> float:
    """A real Python/NumPy number (not a string, bool, complex or array) as ``float``.

    Checks the *type* only (use :func:`check_positive` etc. for the value); for run arguments
    such as ``dt`` and ``duration`` that must be plain numbers. Traced values pass unchanged.

    Example
    -------
    >>> check_number("dt", 0.1)
    0.1
    """
    if _is_traced(value):
        return value
    where = f" of {owner}" if owner else ""
    u = f" ({unit})" if unit else ""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    elif hasattr(value, "ndim") and getattr(value, "ndim") == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        got = f"{value!r} ({type(value).__name__})" if not hasattr(value, "shape") else \
            f"an array of shape {np.shape(value)}"
        raise BraindynError(f"{name!r}{where} must be a number{u}, got {got}. "
                            f"Fix: e.g. {name}=0.1 (a number, not a string or an array).")
    return float(value)


def warn_duration_unit(duration, dt, model=None, *, stacklevel: int = 3):
    r"""Warn (:class:`UnitWarning`) when ``duration`` looks like seconds: under 5 ms with ``dt`` >= 0.01 ms
    and, when ``model`` is given, shorter than half its slowest declared time constant.

    Both in ms. The usual slip is a duration in seconds (``duration=1.0`` for one second =
    1000 ms). Short runs are legitimate for models with fast dynamics (a few steps of a delay
    line, a synapse test): with ``model`` the warning fires only if the run does not even cover
    :math:`\tau_{max} / 2` of the model's own declared time constants (``tau*`` parameters in
    ms; a model without any is not warned about).
    """
    try:
        d, h = float(duration), float(dt)
    except (TypeError, ValueError):
        return
    if not (0 < d < 5.0 and h >= 0.01):
        return
    if model is not None:
        taus = [float(np.max(a)) for *_, v in _time_constants(model, "", set())
                for a in [_as_array(v)] if a is not None and a.size and np.all(np.isfinite(a))]
        if not taus or d >= max(taus) / 2:
            return
        extra = f", shorter than half of the model's slowest time constant ({max(taus)!r} ms)"
    else:
        extra = ""
    warnings.warn(f"duration={d!r} ms with dt={h!r} ms is only {d / h:.0f} steps{extra}: is the duration in "
                  f"seconds? braindyn times are in ms (1 s = 1000.0). Silence with "
                  f"warnings.filterwarnings('ignore', category=braindyn.UnitWarning) if meant.",
                  UnitWarning, stacklevel=stacklevel)


def _time_constants(obj, path, seen):
    """Yield ``(path, name, value)`` for every declared parameter in ms whose name starts with tau."""
    import dataclasses

    if id(obj) in seen:
        return
    if isinstance(obj, dict):
        seen.add(id(obj))
        for k, v in obj.items():
            yield from _time_constants(v, f"{path}.{k}" if path else str(k), seen)
        return
    if isinstance(obj, (list, tuple)):
        seen.add(id(obj))
        for i, v in enumerate(obj):
            yield from _time_constants(v, f"{path}[{i}]", seen)
        return
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    seen.add(id(obj))
    for f in dataclasses.fields(obj):
        try:
            v = getattr(obj, f.name)
        except AttributeError:
            continue
        spec = f.metadata.get("param") if f.metadata else None
        if spec is not None:
            if f.name.lower().startswith("tau") and getattr(spec, "unit", "") == "ms":
                yield (path, f.name, v)
        elif not f.metadata.get("static", False):
            yield from _time_constants(v, f"{path}.{f.name}" if path else f.name, seen)


def warn_time_constants(model, dt, *, stacklevel: int = 3):
    r"""Warn (:class:`UnitWarning`) for each declared time constant :math:`\tau < dt` in ``model``.

    Looks at every parameter declared with unit ``"ms"`` whose name starts with ``tau``, in
    the model and its parts (populations, projections, synapses). A time constant shorter than
    the step is either resolved by no solver or, most often, written in seconds. Traced values
    are skipped.

    Example
    -------
    >>> import warnings, braindyn as bd
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     bd._errors.warn_time_constants(bd.neurons.LIF(tau=0.01), 0.1)
    >>> "tau" in str(w[0].message)
    True
    """
    try:
        h = float(dt)
    except (TypeError, ValueError):
        return
    for path, name, v in _time_constants(model, "", set()):
        arr = _as_array(v)
        if arr is None or arr.size == 0 or not np.all(np.isfinite(arr)):
            continue
        lo = float(arr.min())
        if 0 < lo < h:
            where = f"{path}.{name}" if path else f"{type(model).__name__}.{name}"
            warnings.warn(f"time constant {where} = {lo!r} ms is shorter than dt = {h!r} ms: is it in seconds? "
                          f"braindyn times are in ms (10 ms = 10.0). Fix: pass it in ms or reduce dt; silence "
                          f"with warnings.filterwarnings('ignore', category=braindyn.UnitWarning) if meant.",
                          UnitWarning, stacklevel=stacklevel)


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
    """A value for an error message: the number, or an array's range and its first bad entry."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    try:
        fin = np.isfinite(arr)
    except TypeError:
        return f"an array of shape {arr.shape}"
    if not np.all(fin):
        i = tuple(int(x) for x in np.argwhere(~fin)[0])
        return f"an array of shape {arr.shape} with {arr[i].item()!r} at index {i[0] if len(i) == 1 else i}"
    if arr.size == 0:
        return f"an empty array of shape {arr.shape}"
    return f"an array with min {arr.min().item()!r}, max {arr.max().item()!r} (shape {arr.shape})"


def _numeric(name, value, owner):
    """``value`` as a float array; None if traced; a clear error if it is not numeric."""
    if _is_traced(value):
        return None
    where = f" of {owner}" if owner else ""
    try:
        raw = np.asarray(value)
    except Exception:
        raw = None
    if raw is None or isinstance(value, (str, bytes)) or (
            raw.dtype.kind not in "biuf" and not raw.dtype.name.startswith(("bfloat", "float"))):
        shown = repr(value) if len(repr(value)) < 60 else f"a {type(value).__name__}"
        raise BraindynError(f"parameter {name!r}{where} must be a number (or an array of numbers), got {shown} "
                            f"({type(value).__name__}). Fix: e.g. {name}=10.0 (a number, not a string).")
    return raw.astype(float)


def check_finite(name: str, value, owner: str = ""):
    """Raise if ``value`` contains NaN or infinity, or is not numeric. Traced values pass unchecked."""
    arr = _numeric(name, value, owner)
    where = f" of {owner}" if owner else ""
    if arr is not None and not np.all(np.isfinite(arr)):
        raise BraindynError(
            f"parameter {name!r}{where} must be finite, got {_fmt(value)}. "
            f"Fix: pass a finite number (check for a division by zero or an unset value)."
        )
    return value


def _check_bound(name, value, owner, unit, bad, rule, fix):
    arr = _numeric(name, value, owner)
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
    arr = _numeric(name, value, owner)
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
