"""Discovery of the package's components and their example instances (see :mod:`braindyn.testing`)."""
from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

#: The kinds of components, in the order :func:`discover` lists them.
KINDS = ("dynamics", "projection", "synapse", "output", "learning_rule", "short_term_plasticity", "input",
         "builder")
# braindyn.distributed: its classes wrap populations for shard_map (tested by tests/test_shard.py)
_SKIP_MODULES = ("braindyn.gallery", "braindyn.cli", "braindyn.plot", "braindyn.testing", "braindyn.distributed")


class HarnessError(AssertionError):
    """A component failed a check (the message names the component, the check and the numbers)."""


# =============================================================================================
# Discovery
# =============================================================================================
@dataclass(frozen=True)
class Component:
    """A discovered component: its kind, its qualified name and the class (or builder function)."""

    kind: str
    name: str
    obj: Any

    @property
    def short(self):
        return self.name.rsplit(".", 1)[-1] if self.kind != "builder" else self.name.replace("braindyn.models.", "")


@functools.lru_cache(maxsize=None)
def _is_stub(fn) -> bool:
    """True when ``fn``'s body (after its docstring) only raises ``NotImplementedError``."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0].body if tree.body and hasattr(tree.body[0], "body") else []
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


def _bases():
    from .. import core, inputs, network
    from ..synapses import kinetics, outputs

    try:
        from ..plasticity.rule import LearningRule
    except ImportError:  # pragma: no cover - older layout
        LearningRule = None
    return dict(projection=network.Projection, dynamics=core.Dynamics, input=inputs.Input,
                synapse=kinetics.Synapse, output=outputs.Output, learning_rule=LearningRule)


def _abstract_methods(cls) -> list:
    """Methods of ``cls`` that are still stubs (``raise NotImplementedError``)."""
    from ..inputs import Input
    from ..synapses.kinetics import Synapse

    # a stub is fine when the method that would call it is overridden
    alternatives = {(Input, "at"): "__call__", (Synapse, "update"): "step", (Synapse, "conductance"): "step"}
    out = []
    for name in dir(cls):
        if name.startswith("__") and name != "__call__":
            continue
        attr = inspect.getattr_static(cls, name)
        fn = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
        if not inspect.isfunction(fn) or not fn.__module__.startswith("braindyn") or not _is_stub(fn):
            continue
        ok = False
        for (base, meth), alt in alternatives.items():
            if issubclass(cls, base) and name == meth and inspect.getattr_static(cls, alt) is not \
                    inspect.getattr_static(base, alt):
                ok = True
        if not ok:
            out.append(name)
    return out


def _kind_of(cls) -> Optional[str]:
    for kind, base in _bases().items():
        if base is not None and issubclass(cls, base):
            return kind
    if cls.__module__.startswith("braindyn.plasticity") and hasattr(cls, "init_state"):
        return "learning_rule" if hasattr(cls, "update") else "short_term_plasticity"
    return None


def discover(package: str = "braindyn", errors: Optional[list] = None) -> list:
    """Every concrete component of ``package``, sorted by kind and name.

    Walks the package (skipping the gallery, the command line and plotting), imports every
    module and collects the public classes defined there that are projections, models
    (:class:`~braindyn.core.Dynamics`), inputs, synaptic kinetics or outputs, learning rules or
    short-term plasticity (classes of :mod:`braindyn.plasticity` with ``init_state``), plus the
    network builders: the public ``build*`` and ``*_network`` functions of :mod:`braindyn.models`.
    A class is concrete when none of its methods is a ``raise NotImplementedError`` stub.
    Modules that fail to import are appended to ``errors`` as ``(module, exception)`` (the
    harness's suite fails on them).
    """
    pkg = importlib.import_module(package)
    found = {}
    names = [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")]
    for modname in names:
        if modname.startswith(_SKIP_MODULES):
            continue
        try:
            mod = importlib.import_module(modname)
        except Exception as e:  # noqa: BLE001 - reported, never hidden
            if errors is not None:
                errors.append((modname, e))
            continue
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != modname:
                continue
            if inspect.isclass(obj):
                kind = _kind_of(obj)
                if kind is not None and not _abstract_methods(obj):
                    found[obj] = Component(kind, f"{modname}.{name}", obj)
            elif inspect.isfunction(obj) and (name.startswith("build") or name.endswith("_network")) \
                    and modname.startswith(package + ".models"):
                found[obj] = Component("builder", f"{modname}.{name}", obj)
    return sorted(found.values(), key=lambda c: (KINDS.index(c.kind), c.name))


# =============================================================================================
# Examples
# =============================================================================================
def _cls(module, name):
    return getattr(importlib.import_module(module), name)


def _n(name):
    return _cls("braindyn.neurons", name)


def _i(name):
    return _cls("braindyn.inputs", name)


def _csr(n_pre, n_post, p, seed):
    return _cls("braindyn.connect", "fixed_prob")(n_pre, n_post, p, seed=seed)


def _hh_channels():
    ch = importlib.import_module("braindyn.neurons.channels")
    return {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak()}


def _benchmarks():
    b = importlib.import_module("braindyn.models.benchmarks")
    return [(name, b.build(name, n=100)) for name in b.NAMES]


def _model(module, name):
    return getattr(importlib.import_module(f"braindyn.models.{module}"), name)


#: Qualified name -> function returning an example, for the classes whose constructor needs
#: arguments and that have no ``example`` classmethod yet (required arguments only; a builder's
#: entry gives its required name, or a size small enough for the suite where its default is large).
FALLBACK_EXAMPLES = {
    "braindyn.network.Network": lambda: _cls("braindyn", "Network")({"A": _n("LIF")(n=2), "B": _n("RateUnit")(n=2)}),
    "braindyn.neurons.conductance.ConductanceNeuron": lambda: _n("ConductanceNeuron")(_hh_channels()),
    "braindyn.neurons.input_groups.SpikeTimeGroup": lambda: _n("SpikeTimeGroup")(3, [0, 2, 1], [0.3, 0.5, 1.2]),
    "braindyn.synapses.projection.SynapticProjection":
        lambda: _cls("braindyn.synapses", "SynapticProjection")("pre", "post", _csr(4, 3, 0.6, 1)),
    "braindyn.synapses.gap.GapJunction":
        lambda: _cls("braindyn.synapses", "GapJunction")("pre", "post", np.ones((3, 2))),
    "braindyn.inputs.Constant": lambda: _i("Constant")(0.5),
    "braindyn.inputs.Section": lambda: _i("Section")([0.5, 1.0], [1.0, 1.0]),
    "braindyn.inputs.Ramp": lambda: _i("Ramp")(0.0, 1.0, 0.0, 2.0),
    "braindyn.inputs.Sinusoid": lambda: _i("Sinusoid")(1.0, 250.0),
    "braindyn.inputs.Square": lambda: _i("Square")(1.0, 250.0),
    "braindyn.inputs.PoissonSpikes": lambda: _i("PoissonSpikes")(rate=800.0, n=2),
    "braindyn.inputs.WienerNoise": lambda: _i("WienerNoise")(sigma=0.5, n=2),
    "braindyn.inputs.OUProcess": lambda: _i("OUProcess")(mean=0.5, sigma=0.3, tau=2.0, n=2),
    "braindyn.inputs.ArrayInput": lambda: _i("ArrayInput")(values=np.linspace(0.0, 1.0, 30)),
    "braindyn.inputs.Sum": lambda: _i("Sum")((_i("Constant")(0.5), _i("Sinusoid")(1.0, 250.0))),
    "braindyn.models.benchmarks.build": _benchmarks,
    # network builders whose default size is too large for the suite: a small size
    "braindyn.models.ei.ei_rate_network": lambda: _model("ei", "ei_rate_network")(n_e=20, n_i=8, K_E=8, K_I=4),
    "braindyn.models.ei.plastic_inhibition_network": lambda: [
        (form, _model("ei", "plastic_inhibition_network")(n_post=3, n_exc=12, n_inh=8, form=form))
        for form in ("spike", "rate")],
    "braindyn.models.states.brunel_network": lambda: _model("states", "brunel_network")(N_E=80),
    "braindyn.models.states.ring_network": lambda: _model("states", "ring_network")(16),
}


def examples(component) -> list:
    """``[(label, instance), ...]`` for a :class:`Component`, a class or a builder function.

    Order: the class's ``example()`` classmethod (or a builder's ``examples()`` attribute), then
    :data:`FALLBACK_EXAMPLES`, then the default constructor. Raises :class:`HarnessError` when
    none works.
    """
    obj = component.obj if isinstance(component, Component) else component
    qual = f"{obj.__module__}.{obj.__qualname__}"
    label = obj.__qualname__
    tried = []
    ex = getattr(obj, "example", None) if inspect.isclass(obj) else getattr(obj, "examples", None)
    if ex is not None and callable(ex):
        out = ex()
        return list(out) if isinstance(out, list) else [(label, out)]
    if qual in FALLBACK_EXAMPLES:
        out = FALLBACK_EXAMPLES[qual]()
        return list(out) if isinstance(out, list) else [(label, out)]
    if inspect.isclass(obj):
        try:
            return [(label, obj())]
        except Exception as e:  # noqa: BLE001
            tried.append(f"{label}() raised {type(e).__name__}: {e}")
    raise HarnessError(f"cannot build an example of {qual}: {'; '.join(tried) or 'a builder needs arguments'}. "
                       f"Fix: give it a classmethod `example(cls)` returning a small instance (builders: an "
                       f"`examples()` attribute returning [(label, result), ...]).")
