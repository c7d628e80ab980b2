r"""Parameters: array leaves declared once, with their bound and unit.

Every number a user might sweep or train (a time constant, a threshold, a weight) is a
*parameter*: a JAX array leaf of the model (scalar, or one value per neuron), so that

* ``jax.grad`` reaches it (``eqx.partition(model, eqx.is_inexact_array)`` splits trainable
  from frozen, see :func:`trainable`),
* a new value never recompiles a run (arrays are traced, Python floats would be static),
* a sweep is a ``jax.vmap`` over a constructor.

Everything that changes the *shape* of the computation is *structure*: sizes (``n``), method
names, connectivity, delays in steps, flags. Structure fields are static
(``eqx.field(static=True)``) and a new value compiles a new run.

A parameter is declared once, on the class, with :func:`param`::

    class LIF(SpikingNeuron):
        tau: Any = param(10.0, bound="positive", unit="ms", doc="membrane time constant")

The declaration converts any number, list or NumPy array to an array of JAX's default float
type at construction, and the shared check (:func:`check_params`, run once per instance by
:class:`Parametrized`) tests the type (numbers only), the bound, finiteness and the shape
(``()`` or ``(n,)`` for per-neuron parameters), with an error that names the parameter, the
value and the fix. :func:`describe` lists a component's parameters with their units.

Bounds: ``"finite"`` (default), ``"positive"`` (> 0), ``"nonnegative"`` (>= 0),
``"probability"`` ([0, 1]), ``"extended"`` (any real, ±inf allowed, e.g. weight bounds), or a
pair ``(lo, hi)`` (inclusive; ``None`` for an open side).

Example
-------
>>> import jax, braindyn as bd
>>> lif = bd.neurons.LIF(tau=12.0)
>>> lif.tau.dtype.kind, lif.tau.shape
('f', ())
>>> [p.name for p in bd.params.describe(lif)][:3]
['t_ref', 'V_rest', 'V_reset']
>>> g = jax.grad(lambda m: m.tau * 2.0)(lif)          # the gradient reaches the parameter
>>> float(g.tau)
2.0
"""
from __future__ import annotations

import dataclasses
import numbers
from typing import Any, NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import BraindynError, _fmt

__all__ = ["param", "Parametrized", "ParamSpec", "check_params", "describe", "trainable", "combine",
           "to_param", "default_float"]


def default_float():
    """The default floating dtype of JAX (float32, or float64 with ``jax_enable_x64``)."""
    return jnp.zeros(()).dtype if jnp.zeros(()).dtype.kind == "f" else jnp.float32


class ParamSpec(NamedTuple):
    """What :func:`param` records about a parameter (in the field's metadata)."""

    bound: Any = "finite"
    unit: str = ""
    per_neuron: bool = True
    doc: str = ""
    optional: bool = False


def to_param(value):
    """Convert a number, list or NumPy array to a JAX array of the default float type.

    JAX float arrays (and tracers) pass unchanged, so a ``vmap`` over a constructor and a
    float64 parameter under ``jax_enable_x64`` keep their type; ``None`` stays ``None``;
    anything that is not numeric is left as it is for :func:`check_params` to report.
    """
    if value is None:
        return None
    if isinstance(value, jax.Array):
        return value if jnp.issubdtype(value.dtype, jnp.inexact) else value.astype(default_float())
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)):
        return value
    try:
        arr = np.asarray(value)
    except Exception:
        return value
    if arr.dtype.kind not in "biuf":
        return value
    return jnp.asarray(arr, default_float())


def param(default=None, *, bound="finite", unit: str = "", per_neuron: bool = True, doc: str = "",
          optional: bool = False):
    """Declare a parameter field: an array leaf with a bound and a unit.

    Parameters
    ----------
    default : number, array or None
        Default value (converted with :func:`to_param`).
    bound : str or (lo, hi)
        ``"finite"``, ``"positive"``, ``"nonnegative"``, ``"probability"``, ``"extended"``
        (±inf allowed) or an inclusive interval.
    unit : str
        Physical unit, shown in errors and in :func:`describe` (e.g. ``"ms"``, ``"mV"``).
    per_neuron : bool
        The value may be a scalar or one value per neuron (shape ``(n,)``, checked against the
        component's ``n`` when it has one). False: a scalar or any shape the component checks.
    optional : bool
        ``None`` is a valid value (e.g. "start at the reset potential").
    """
    spec = ParamSpec(bound, unit, per_neuron, doc, optional or default is None)
    if getattr(type(default), "__hash__", None) is None:  # an array default: one copy per instance
        return eqx.field(default_factory=lambda: default, converter=to_param, metadata={"param": spec})
    return eqx.field(default=default, converter=to_param, metadata={"param": spec})


def _fields(obj):
    return [f for f in dataclasses.fields(obj) if "param" in f.metadata]


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


_RULES = {
    "finite": (None, None, "a finite number"),
    "extended": (None, None, "a number (±inf allowed)"),
    "positive": (0.0, None, "> 0"),
    "nonnegative": (0.0, None, ">= 0"),
    "probability": (0.0, 1.0, "in [0, 1]"),
}


def check_value(name: str, value, spec: ParamSpec, owner: str, n: Optional[int] = None):
    """Check one parameter value against its declaration (see :func:`check_params`)."""
    where = f" of {owner}" if owner else ""
    unit = f" ({spec.unit})" if spec.unit else ""
    if value is None:
        if spec.optional:
            return
        raise BraindynError(f"parameter {name!r}{where} is None. Fix: pass a number{unit}.")
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, (str, bytes, bool, np.bool_, complex)) or not (
            isinstance(value, (jax.Array, numbers.Real, np.ndarray))) or (kind is not None and kind not in "biuf"):
        raise BraindynError(f"parameter {name!r}{where} must be a number or an array of numbers{unit}, got "
                            f"{value!r} ({type(value).__name__}). Fix: e.g. {name}=10.0 (a number, not a string).")
    shape = tuple(np.shape(value))
    if spec.per_neuron and n is not None and shape not in ((), (n,)):
        raise BraindynError(f"parameter {name!r}{where} has shape {shape}, but the population has n={n} neurons. "
                            f"Fix: pass a scalar (the same for every neuron) or an array of shape ({n},).")
    if _is_traced(value):
        return  # inside jit/vmap/grad: values are unknown; shapes were checked above
    arr = np.asarray(value, dtype=float)
    bound = spec.bound
    if isinstance(bound, str):
        if bound not in _RULES:  # pragma: no cover - a declaration error
            raise ValueError(f"unknown bound {bound!r} for parameter {name!r}")
        lo, hi, rule = _RULES[bound]
        strict_lo = bound == "positive"
    else:
        lo, hi = bound
        rule, strict_lo = f"in [{lo}, {hi}]", False
    if bound != "extended" and not np.all(np.isfinite(arr)):
        raise BraindynError(f"parameter {name!r}{where} must be finite, got {_fmt(arr)}. Fix: pass a finite "
                            f"number{unit} (check for a division by zero or an unset value).")
    if np.any(np.isnan(arr)):
        raise BraindynError(f"parameter {name!r}{where} is NaN. Fix: pass a number{unit}.")
    bad = np.zeros(arr.shape, bool)
    if lo is not None:
        bad |= (arr <= lo) if strict_lo else (arr < lo)
    if hi is not None:
        bad |= arr > hi
    if np.any(bad):
        example = {"positive": f"{name}=10.0", "nonnegative": f"{name}=0.0",
                   "probability": f"{name}=0.1"}.get(bound, f"a value {rule}")
        raise BraindynError(f"parameter {name!r}{where} must be {rule}{unit}, got {_fmt(arr)}. Fix: e.g. {example}.")


def check_params(obj):
    """Check every declared parameter of ``obj`` (type, finiteness, bound, per-neuron shape)."""
    owner = type(obj).__name__
    n = getattr(obj, "n", None)
    n = n if isinstance(n, int) and not isinstance(n, bool) else None
    for f in _fields(obj):
        check_value(f.name, getattr(obj, f.name), f.metadata["param"], owner, n)


class _ParamMeta(type(eqx.Module)):
    """Equinox's metaclass, plus: a misspelt or missing constructor argument is a BraindynError that
    lists the valid names (instead of Python's bare ``TypeError``)."""

    def __call__(cls, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except TypeError as err:
            msg = str(err)
            import re

            head = re.match(r"^[\w.<>]*__init__\(\) ", msg)
            # only the call of this constructor itself (not a TypeError of another one called inside it)
            own = f"{getattr(cls.__init__, '__qualname__', '')}() "
            if head is None or head.group(0) != own or not ("unexpected keyword" in msg or "positional argument" in msg):
                raise
            prefix = head.group(0)
            import difflib
            import inspect

            try:
                names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
            except (TypeError, ValueError):  # pragma: no cover
                names = [f.name for f in dataclasses.fields(cls)]
            bad = msg.rsplit("'", 2)[-2] if msg.count("'") >= 2 else ""
            close = []
            if "unexpected keyword" in msg:
                close = [c for c in names if c.lower() == bad.lower()] or difflib.get_close_matches(bad, names, n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise BraindynError(f"{cls.__name__}: {msg[len(prefix):]}.{hint} Its arguments: {', '.join(names)}.") \
                from None


class Parametrized(eqx.Module, metaclass=_ParamMeta):
    """Base of every component with declared parameters: checks them once per instance."""

    def __check_init__(self):
        check_params(self)


class ParamInfo(NamedTuple):
    name: str
    value: Any
    unit: str
    bound: Any
    doc: str


def describe(obj) -> list:
    """The declared parameters of a component: name, value, unit, bound and description."""
    return [ParamInfo(f.name, getattr(obj, f.name), f.metadata["param"].unit, f.metadata["param"].bound,
                      f.metadata["param"].doc) for f in _fields(obj)]


def trainable(model, freeze=()):
    """Split ``model`` into ``(params, static)`` for training: every float array leaf is a
    parameter, except the fields named in ``freeze`` (attribute names, anywhere in the tree).

    ``eqx.combine(params, static)`` (or :func:`combine`) rebuilds the model.

    Example
    -------
    >>> import jax, braindyn as bd
    >>> p, s = bd.params.trainable(bd.neurons.LIF(), freeze=("V_th",))
    >>> p.V_th is None, float(p.tau)
    (True, 10.0)
    """
    params, static = eqx.partition(model, eqx.is_inexact_array)
    if freeze:
        freeze = set(freeze)

        def is_frozen(path):
            return any(getattr(k, "name", None) in freeze for k in path)

        leaves_p = jax.tree_util.tree_flatten_with_path(params, is_leaf=lambda x: x is None)[0]
        mask = [not is_frozen(path) and leaf is not None for path, leaf in leaves_p]
        treedef = jax.tree_util.tree_structure(params, is_leaf=lambda x: x is None)
        flat_p = [leaf for _, leaf in leaves_p]
        flat_s = jax.tree_util.tree_flatten(static, is_leaf=lambda x: x is None)[0]
        new_p = [lp if m else None for lp, m in zip(flat_p, mask)]
        new_s = [ls if m else (lp if lp is not None else ls) for lp, ls, m in zip(flat_p, flat_s, mask)]
        params = jax.tree_util.tree_unflatten(treedef, new_p)
        static = jax.tree_util.tree_unflatten(treedef, new_s)
    return params, static


def combine(params, static):
    """Inverse of :func:`trainable`."""
    return eqx.combine(params, static)
