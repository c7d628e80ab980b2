r"""The component harness: one set of checks that every braindyn component passes.

:func:`discover` finds every concrete component of the package by itself (no hand-kept list):
models (:class:`~braindyn.core.Dynamics`: neurons, rate models, networks), projections,
synaptic kinetics and outputs, learning rules, short-term plasticity, inputs and the network
builders of :mod:`braindyn.models`. :func:`check_component` puts one component in a small
*host* system (a projection between two populations, an input driving a neuron, ...) and checks

``declared``
    no numeric field is a Python number (a parameter is a declared array leaf, see
    :mod:`braindyn.params`; a Python number would be static and recompile for a new value).
``jit_eager``
    one step and a short :func:`braindyn.simulate` (with a key) give the same values with and
    without ``jax.jit``: the same random numbers, values within float tolerance (``1e-12``
    relative in float64; bit equality is not required, XLA fuses multiply-adds).
``chunking``
    two compiled :func:`braindyn.run` calls with other ``chunk_steps`` agree bit for bit.
``vmap``
    ``jax.vmap`` over three values of a parameter equals three single runs.
``grad``
    (float64) the gradient of a smooth loss (the mean of every float state variable over the
    run) with respect to every declared parameter (scalar or per neuron, along the direction
    of ones) equals a central finite difference within ``1e-3`` relative. Surrogate spikes are
    replaced by the exact Heaviside for this check, so the gradient is the true derivative of
    the piecewise-smooth run. Integer-step parameters (:data:`STEP_PARAMS`, e.g. ``t_ref``)
    must have a zero gradient instead.
``surrogate``
    (spiking neurons) one step from a state just below and just above the spike condition:
    ``d spike / d V`` equals the surrogate's closed form
    :math:`\rho(x/w)/w \cdot \partial x/\partial V` (``spike_fn.rho``, ``x`` the spike distance).
``dtype``
    float32 and float64 states keep their dtype through the steps (with 64-bit JAX on, the
    stricter case for float32).
``recompile``
    20 new parameter values (built through the constructor, as a user would) and 20 new input
    values through :func:`braindyn.run` compile the run at most once (compilations counted with
    ``jax.log_compiles``).

``check_component(obj, float32=True)`` runs the checks that need no float64 (all but ``grad``)
with 64-bit JAX switched off, the default setting of JAX.

**Examples of components.** The harness builds an instance with the class's ``example()``
classmethod if it has one, else its default constructor; the few classes whose constructor
needs arguments and that have no ``example`` yet are built from :data:`FALLBACK_EXAMPLES`
(required arguments only). A concrete class that cannot be built makes the harness fail, so a
new component is never skipped silently.

Example
-------
>>> import jax
>>> jax.config.update("jax_enable_x64", True)          # the gradient check needs float64
>>> import braindyn as bd
>>> from braindyn.testing import check_component
>>> report = check_component(bd.neurons.LIF(n=2, tau=12.0), checks=("jit_eager", "grad", "dtype"))
>>> sorted(report)
['dtype', 'grad', 'jit_eager']
>>> report["grad"].startswith("pass")
True

A user model is checked the same way (``check_component(MyNeuron())``); ``discover()`` lists
what the library's own suite checks (``tests/test_harness.py``).
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import importlib
import inspect
import logging
import pkgutil
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Component", "Case", "HarnessError", "CHECKS", "STEP_PARAMS", "FALLBACK_EXAMPLES", "discover",
           "examples", "case_for", "check_component", "applicable_checks", "check_model"]

#: Names of the checks, in the order :func:`check_component` runs them.
CHECKS = ("declared", "jit_eager", "chunking", "vmap", "grad", "surrogate", "dtype", "recompile")
#: Parameters that count whole steps (no gradient: they must have a zero one).
STEP_PARAMS = frozenset({"t_ref"})
KINDS = ("dynamics", "projection", "synapse", "output", "learning_rule", "short_term_plasticity", "input",
         "builder")
_SKIP_MODULES = ("braindyn.gallery", "braindyn.cli", "braindyn.plot", "braindyn.testing")


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
    from . import core, inputs, network
    from .synapses import kinetics, outputs

    try:
        from .plasticity.rule import LearningRule
    except ImportError:  # pragma: no cover - older layout
        LearningRule = None
    return dict(projection=network.Projection, dynamics=core.Dynamics, input=inputs.Input,
                synapse=kinetics.Synapse, output=outputs.Output, learning_rule=LearningRule)


def _abstract_methods(cls) -> list:
    """Methods of ``cls`` that are still stubs (``raise NotImplementedError``)."""
    from .inputs import Input
    from .synapses.kinetics import Synapse

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
    public ``build*`` functions of :mod:`braindyn.models`. A class is concrete when none of its
    methods is a ``raise NotImplementedError`` stub. Modules that fail to import are appended
    to ``errors`` as ``(module, exception)`` (the harness's suite fails on them).
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
            elif inspect.isfunction(obj) and name.startswith("build") and modname.startswith(package + ".models"):
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


#: Qualified name -> function returning an example, for the classes whose constructor needs
#: arguments and that have no ``example`` classmethod yet (required arguments only; a builder's
#: entry gives its required name and a size small enough for the suite).
FALLBACK_EXAMPLES = {
    "braindyn.network.Network": lambda: _cls("braindyn", "Network")({"A": _n("LIF")(n=2), "B": _n("RateUnit")(n=2)}),
    "braindyn.neurons.conductance.ConductanceNeuron": lambda: _n("ConductanceNeuron")(_hh_channels()),
    "braindyn.neurons.input_groups.SpikeTimeGroup": lambda: _n("SpikeTimeGroup")(3, [0, 2, 1], [0.3, 0.5, 1.2]),
    "braindyn.synapses.projection.SynapticProjection":
        lambda: _cls("braindyn.synapses", "SynapticProjection")("pre", "post", _csr(4, 3, 0.6, 1)),
    "braindyn.synapses.gap.GapJunction": lambda: _cls("braindyn.synapses", "GapJunction")("pre", "post", np.ones((3, 2))),
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


# =============================================================================================
# Cases: a component in a host system that braindyn.simulate / braindyn.run can step
# =============================================================================================
@dataclass(eq=False)
class Case:
    """A component in a runnable host: ``system = (model, inputs)``; ``locate(system)`` returns
    the component inside it (for parameter paths); ``initial(model, dtype)`` the initial state."""

    name: str
    component: Any
    model: Any
    inputs: Any = None
    locate: Callable = lambda system: system[0]
    initial: Optional[Callable] = None
    n_steps: int = 20
    dt: float = 0.1
    spiking_neuron: bool = False
    sweep: Optional[str] = None

    @property
    def system(self):
        return (self.model, self.inputs)

    def state0(self, model, dtype):
        if self.initial is not None:
            return self.initial(model, dtype)
        return _perturbed(model, model.init_state(key=jax.random.PRNGKey(0), dtype=dtype))


def _perturbed(model, state):
    """The initial state with every continuous variable moved by 5 % (+0.05), away from rest."""
    from .network import Network

    if isinstance(model, Network):
        pops = {k: _perturbed(model.populations[k], v) for k, v in state["pop"].items()}
        return {**state, "pop": pops}
    out = dict(state)
    for k in getattr(model, "variables", ()):
        if k in out and jnp.issubdtype(out[k].dtype, jnp.inexact):
            out[k] = (out[k] * 1.05 + 0.05).astype(out[k].dtype)
    return out


def _cast_state(state, dtype):
    return jax.tree.map(lambda x: x.astype(dtype) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x, state)


def _host_neurons(n, spiking=True, signal="spike"):
    """A population for a host network: noisy LIF neurons that fire within a few steps
    (``spiking``), quiet LIF neurons, or noisy rate units for a continuous signal."""
    from . import neurons as N

    if signal not in ("spike", "V"):
        return N.RateUnit(n=n, noise={"r": 0.5})
    if spiking:
        return N.LIF(n=n, V_rest=-65.0, V_reset=-65.0, V_th=-64.0, tau=5.0, V_init=-64.5, noise={"V": 2.0})
    return N.LIF(n=n, V_rest=-65.0, V_reset=-65.0, V_th=1e3, tau=5.0, V_init=-64.0)


def _sizes(proj):
    if hasattr(proj, "n_pre") and hasattr(proj, "n_post"):
        return int(proj.n_pre), int(proj.n_post) // int(getattr(proj, "channels", 1))
    conn = proj.conn
    if hasattr(conn, "n_pre"):
        return conn.n_pre, conn.n_post
    return tuple(np.shape(conn))


def _network_case(label, component, proj, locate, *, post_spiking=False, factor=None):
    """A two-population network around ``proj`` (the component is inside it)."""
    from .network import Network

    n_pre, n_post = _sizes(proj)
    signal = getattr(proj, "signal", "spike")
    if proj.pre == proj.post:
        pops = {proj.pre: _host_neurons(n_pre, True, signal)}
    else:
        pops = {proj.pre: _host_neurons(n_pre, True, signal), proj.post: _host_neurons(n_post, post_spiking)}
    signals = (factor,) if factor else ()
    net = Network(pops, {"proj": proj}, signals=signals)
    inputs = {k: 1.0 for k in pops}
    if factor:
        inputs[factor] = 0.5
    return Case(label, component, net, inputs, locate=lambda s: locate(s[0].projections["proj"]),
                initial=lambda m, dtype: m.init_state(key=jax.random.PRNGKey(0), dtype=dtype))


def _projection(**kw):
    import braindyn.connect as bc
    from .synapses import SynapticProjection

    return SynapticProjection("pre", "post", bc.fixed_prob(4, 3, 0.6, seed=1), 0.5, **kw)


def case_for(component, kind: Optional[str] = None, label: Optional[str] = None) -> Case:
    """The host :class:`Case` of a component instance (``kind`` guessed from its class)."""
    from . import neurons as N
    from .core import SpikingNeuron
    from .network import Network
    from .synapses import CurrentOutput, Exponential, SynapticProjection

    kind = kind or _kind_of(type(component)) or ("builder" if hasattr(component, "network") else None)
    label = label or type(component).__name__
    if kind == "dynamics":
        inputs = ({k: 0.1 for k in component.populations} if isinstance(component, Network) else 0.1)
        return Case(label, component, component, inputs, spiking_neuron=isinstance(component, SpikingNeuron))
    if kind == "builder":
        net, state0, inputs = component.network, component.state0, component.inputs
        if isinstance(inputs, dict):
            inputs = {k: float(v) if np.ndim(v) == 0 and not callable(v) else v for k, v in inputs.items()}
        return Case(label, component, net, inputs, initial=lambda m, dtype: _cast_state(state0, dtype))
    if kind == "projection":
        return _network_case(label, component, component, lambda p: p)
    if kind == "synapse":
        return _network_case(label, component, _projection(synapse=component), lambda p: p.synapse)
    if kind == "output":
        return _network_case(label, component, _projection(output=component), lambda p: p.output)
    if kind == "learning_rule":
        factor = "reward" if getattr(component, "uses_factor", False) else None
        proj = _projection(synapse=Exponential(5.0), plasticity=component, factor=factor)
        return _network_case(label, component, proj, lambda p: p.plasticity, post_spiking=True, factor=factor)
    if kind == "short_term_plasticity":
        rate = "step" in vars(type(component))
        proj = _projection(stp=component, **({"signal": "r"} if rate else {}))
        return _network_case(label, component, proj, lambda p: p.stp)
    if kind == "input":
        n = int(getattr(component, "n", 2) or 2)
        host = N.LIF(n=n, V_rest=-65.0, V_reset=-65.0, V_th=1e3, tau=5.0, V_init=-64.0)
        return Case(label, component, host, component, locate=lambda s: s[1])
    raise HarnessError(f"{label}: no host system for a component of kind {kind!r}.")


# =============================================================================================
# Parameters
# =============================================================================================
def _param_paths(node, prefix=()):
    """``[(path, spec)]`` of the declared, non-None parameters in ``node`` and its sub-components."""
    from .params import Parametrized

    out = []
    if isinstance(node, dict):
        for k in sorted(node, key=str):
            out += _param_paths(node[k], prefix + (("key", k),))
    elif isinstance(node, (list, tuple)) and not hasattr(node, "_fields"):
        for i, v in enumerate(node):
            out += _param_paths(v, prefix + (("idx", i),))
    elif isinstance(node, eqx.Module):
        for f in dataclasses.fields(node):
            if f.metadata.get("static", False):
                continue
            v = getattr(node, f.name, None)
            if isinstance(node, Parametrized) and "param" in f.metadata:
                if isinstance(v, jax.Array) and jnp.issubdtype(v.dtype, jnp.inexact):
                    out.append((prefix + (("attr", f.name),), f.metadata["param"]))
            elif isinstance(v, (eqx.Module, dict, list, tuple)):
                out += _param_paths(v, prefix + (("attr", f.name),))
    return out


def _follow(node, path):
    for how, k in path:
        node = getattr(node, k) if how == "attr" else node[k]
    return node


def _label(path):
    return ".".join(str(k) for _, k in path)


def _smooth(paths):
    return [(p, s) for p, s in paths if p[-1][1] not in STEP_PARAMS]


def _setter(case, paths):
    """``(system, values) -> system`` with the parameters at ``paths`` replaced."""
    def set_(system, values):
        return eqx.tree_at(lambda s: tuple(_follow(case.locate(s), p) for p in paths), system, tuple(values))
    return set_


def _sweep_values(value, spec, k=3):
    """``k`` values around ``value`` that respect the parameter's bound."""
    v = np.asarray(value, np.float64)
    rel = np.linspace(-0.1, 0.1, k)
    bound = spec.bound
    if bound in ("positive", "nonnegative") and np.all(v > 0):
        vals = [v * (1 + r) for r in rel]
    elif bound == "probability":
        vals = [np.clip(v + 0.1 * r, 0.0, 1.0) if np.all(v < 0.9) else v - 0.05 * (r + 0.1) for r in rel]
    elif bound in ("positive", "nonnegative"):
        vals = [v + 0.05 * (r + 0.1) + (0.01 if bound == "positive" else 0.0) for r in rel]
    else:
        vals = [v + r * max(float(np.max(np.abs(v))), 1.0) for r in rel]
    return [np.asarray(x, np.asarray(value).dtype) for x in vals]


# =============================================================================================
# Running a case
# =============================================================================================
def _sim(system, initial, dt, dtype, n_steps, key):
    """``simulate`` of ``system`` from ``initial(model, dtype)``, recording the whole state."""
    from .run import simulate

    model, inputs = system
    return simulate(model, initial(model, dtype), n_steps, dt, inputs=inputs, record=lambda s: s, key=key)


#: One compiled simulation per system structure: the checks share it (new values, same compilation).
_sim_jit = eqx.filter_jit(_sim)


def _simulate(case, system, dtype, n_steps=None, key=1):
    return _sim_jit(system, case.state0, case.dt, dtype, n_steps or case.n_steps, key)


def _flat(tree):
    return [(jax.tree_util.keystr(p), np.asarray(v)) for p, v in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _bits(x):
    return x.view(np.uint8) if x.dtype.kind == "f" else x


def _compare(a, b, what, rtol, atol):
    """Leaves of ``a`` and ``b`` equal: integers and booleans exactly, floats within
    ``rtol`` (bit for bit when ``rtol == 0``)."""
    fa, fb = _flat(a), _flat(b)
    if [k for k, _ in fa] != [k for k, _ in fb]:
        raise HarnessError(f"{what}: the two results have different structures")
    for (k, x), (_, y) in zip(fa, fb):
        if x.shape != y.shape:
            raise HarnessError(f"{what}: {k} has shapes {x.shape} and {y.shape}")
        if x.dtype.kind in "biu" or rtol == 0:
            if not np.array_equal(_bits(x), _bits(y)):
                diff = np.abs(x.astype(float) - y.astype(float))
                raise HarnessError(f"{what}: {k} differs in {int(np.sum(diff > 0))} elements, not bit for bit (max |diff| "
                                   f"{float(np.max(diff)):.3g})")
        elif not np.allclose(x, y, rtol=rtol, atol=atol * (1.0 + float(np.max(np.abs(x), initial=0.0)))):
            raise HarnessError(f"{what}: {k} differs by up to {float(np.max(np.abs(x - y))):.3g} (rtol={rtol:g})")


def _tol(dtype):
    return (1e-12, 1e-12) if jnp.dtype(dtype) == jnp.float64 else (2e-5, 2e-6)


def _run(case, system, dtype, chunk, key=3):
    from .run import run

    model, inputs = system
    res = run(model, round(case.n_steps * case.dt, 12), case.dt, inputs=inputs, state0=case.state0(model, dtype),
              key=key, chunk_steps=chunk, progress=False)
    recs = {k: (v.packed if hasattr(v, "packed") else v) for k, v in res.records.items()}
    return recs, res.run_state.state, res.run_state.input_states


def _first_param(case):
    """The parameter the sweeps use: ``case.sweep``, else the component's own first smooth one,
    else a sub-component's."""
    if case.sweep is not None:
        from .params import ParamSpec

        return (("attr", case.sweep),), ParamSpec()
    paths = _smooth(_param_paths(case.component))
    own = [ps for ps in paths if len(ps[0]) == 1]
    return (own or paths or [None])[0]


# =============================================================================================
# The checks
# =============================================================================================
def _check_declared(case, dtype):
    comp = case.component
    bad = []
    nodes = [comp] + [_follow(comp, p[:-1]) for p, _ in _param_paths(comp)]
    for node in nodes:
        for f in dataclasses.fields(node) if isinstance(node, eqx.Module) else ():
            v = getattr(node, f.name, None)
            if not f.metadata.get("static", False) and isinstance(v, (int, float)) and not isinstance(v, bool):
                bad.append(f"{type(node).__name__}.{f.name} = {v!r}")
    if bad:
        raise HarnessError(f"{case.name}: numeric fields are Python numbers, not declared parameters: "
                           f"{sorted(set(bad))}. Fix: declare them with braindyn.params.param(default, bound=..., "
                           f"unit=...) (array leaves: traced, trainable, no recompilation), or make structure "
                           f"static with eqx.field(static=True).")
    return f"pass ({len(_param_paths(comp))} declared parameters)"


def _check_jit_eager(case, dtype):
    rtol, atol = _tol(dtype)
    n = 2  # op by op is slow: the first step, then one more with the next step's key
    state = case.state0(case.model, dtype)  # eager too (outside disable_jit: an iterative rest state is slow)
    with jax.disable_jit():
        _, eager, _ = _sim(case.system, lambda m, d: state, case.dt, dtype, n, 1)
    _, jitted, _ = _simulate(case, case.system, dtype)
    for i in range(n):
        _compare(jax.tree.map(lambda x: x[i], jitted), jax.tree.map(lambda x: x[i], eager),
                 f"{case.name}: step {i + 1} of a simulate with a key, jit vs eager", rtol, atol)
    return f"pass ({n} steps, same random numbers, within rtol {rtol:g})"


def _check_chunking(case, dtype):
    a = _run(case, case.system, dtype, case.n_steps)
    b = _run(case, case.system, dtype, case.n_steps // 4)
    _compare(a, b, f"{case.name}: bd.run with chunk_steps={case.n_steps} vs {case.n_steps // 4}", 0, 0)
    return "pass (bit for bit)"


def _check_vmap(case, dtype):
    ps = _first_param(case)
    if ps is None:
        return "skip (no declared smooth parameter)"
    path, spec = ps
    rtol, atol = _tol(dtype)
    set_ = _setter(case, [path])
    base = _follow(case.locate(case.system), path)
    vals = jnp.asarray(np.stack(_sweep_values(base, spec)), getattr(base, "dtype", dtype))
    batch = eqx.filter_jit(jax.vmap(lambda v: _sim(set_(case.system, [v]), case.state0, case.dt, dtype,
                                                   case.n_steps, 1)[:2]))(vals)
    for i in range(vals.shape[0]):
        _compare(jax.tree.map(lambda x: x[i], batch), _simulate(case, set_(case.system, [vals[i]]), dtype)[:2],
                 f"{case.name}: vmap over {_label(path)} = {np.asarray(vals[i]).ravel()[:3]}", 10 * rtol, 10 * atol)
    return f"pass (3 values of {_label(path)})"


def _exact_spikes(system):
    """``system`` with every surrogate spike function replaced by the exact Heaviside."""
    from .surrogate import Heaviside, Surrogate

    return jax.tree.map(lambda x: Heaviside(x.width) if isinstance(x, Surrogate) else x, system,
                        is_leaf=lambda x: isinstance(x, Surrogate))


def _reduce(rec):
    """The loss: the mean of every float record, summed (and the sum of mean magnitudes)."""
    leaves = [x for x in jax.tree.leaves(rec) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]
    return sum(jnp.mean(x) for x in leaves), sum(jnp.mean(jnp.abs(x)) for x in leaves)


def _check_grad(case, dtype):
    if jnp.dtype(dtype) != jnp.float64:
        return "skip (finite differences need float64)"
    paths = _param_paths(case.component)
    if not paths:
        return "skip (no declared parameters)"
    set_ = _setter(case, [p for p, _ in paths])
    base = [_follow(case.locate(case.system), p) for p, _ in paths]
    exact = _exact_spikes(case.system)

    def loss(values):  # surrogates replaced by the exact Heaviside: the true derivative
        return _reduce(_sim(set_(exact, values), case.state0, case.dt, dtype, case.n_steps, 1)[1])

    (_, scale), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(base)

    def at(i, p, x):  # the forward run (the same with surrogates): the shared compiled simulation
        vals = list(base)
        vals[i] = jnp.asarray(p + x, base[i].dtype)
        return float(_reduce(_simulate(case, set_(case.system, vals), dtype)[1])[0])

    eps = float(jnp.finfo(jnp.float64).eps)
    bad, checked, step, kinks = [], 0, [], []
    for i, (path, spec) in enumerate(paths):
        g, name = float(jnp.sum(grads[i])), _label(path)
        if path[-1][1] in STEP_PARAMS:
            if g != 0.0:
                bad.append(f"{name}: an integer-step parameter has gradient {g:.3g} (expected exactly 0)")
            step.append(name)
            continue
        p = np.asarray(base[i], np.float64)
        if not np.all(np.isfinite(p)):
            continue
        h = 1e-5 * max(float(np.max(np.abs(p))), 1e-2)
        f0, fp, fm = at(i, p, 0.0), at(i, p, h), at(i, p, -h)
        floor = 200 * eps * float(scale) / h
        ok = lambda d: np.isfinite(g) and abs(g - d) <= 1e-3 * max(abs(d), abs(g)) + floor  # noqa: E731
        checked += 1
        if spec.bound in ("positive", "nonnegative", "probability") and np.any(p - 2 * h < 0):
            fd = (-3 * f0 + 4 * fp - at(i, p, 2 * h)) / (2 * h)  # at the edge of the bound: one-sided
            if not ok(fd):
                bad.append(f"{name}: autodiff {g:.8g} vs one-sided finite difference {fd:.8g}")
            continue
        fd = (fp - fm) / (2 * h)
        if ok(fd):
            continue
        # a kink at this very value (a min/max/where switching at p): autodiff takes one side
        right = (-3 * f0 + 4 * fp - at(i, p, 2 * h)) / (2 * h)
        left = (3 * f0 - 4 * fm + at(i, p, -2 * h)) / (2 * h)
        if (ok(right) or ok(left)) and abs(right - left) > 1e-3 * max(abs(right), abs(left)) + floor:
            kinks.append(name)
            continue
        bad.append(f"{name}: autodiff {g:.8g} vs finite difference {fd:.8g} (one-sided: {left:.8g}, {right:.8g})")
    if bad:
        raise HarnessError(f"{case.name}: gradients (float64, {case.n_steps} steps) wrong: " + "; ".join(bad))
    notes = ([f"{', '.join(step)}: zero"] if step else []) + \
        ([f"{', '.join(kinks)}: at a kink, equal to a one-sided difference"] if kinks else [])
    return f"pass ({checked} parameters within 1e-3 of finite differences" + \
        (f"; {'; '.join(notes)})" if notes else ")")


def _check_surrogate(case, dtype):
    from . import clock
    from .core import SpikingNeuron, as_inputs

    m = case.model
    if not isinstance(m, SpikingNeuron):
        return "skip (not a spiking neuron)"
    rtol = 1e-9 if jnp.dtype(dtype) == jnp.float64 else 1e-3
    s0 = m.init_state(key=jax.random.PRNGKey(0), dtype=dtype)
    t, dt, key, var = clock.step_time(0, case.dt, 0.0, dtype), case.dt, jax.random.PRNGKey(0), m.spike_var
    w = jnp.broadcast_to(jnp.asarray(m.spike_fn.width, dtype), (m.n,))

    def dist(v, I):  # spike distance after one step from spike_var = v with input current I
        y = {k: s0[k] for k in m.variables}
        y[var] = v
        return jnp.asarray(m.spike_distance(y, m.integrate_continuous(dict(y), as_inputs(I, m.n), t, dt, key)), dtype)

    def spike(v, I):
        return m.step({**s0, var: v}, as_inputs(I, m.n), t, dt, key)[0]["spike"]

    def solve(f, x0, scale, target):
        # f(x) = target, elementwise: expand a bracket around x0, then bisect
        def expand(_, c):
            lo, hi = c
            return (jnp.where(f(lo) < target, lo, x0 - 2 * (x0 - lo)), jnp.where(f(hi) > target, hi, x0 + 2 * (hi - x0)))

        def bisect(_, c):
            lo, hi = c
            mid = 0.5 * (lo + hi)
            above = f(mid) > target
            return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

        lo, hi = jax.lax.fori_loop(0, 40, expand, (x0 - scale, x0 + scale))
        lo, hi = jax.lax.fori_loop(0, 120, bisect, (lo, hi))
        return 0.5 * (lo + hi)

    @functools.partial(jax.jit, static_argnums=1)
    def find(target, move_state):
        # a state just below/above the spike condition: move the spike variable (input 0), or,
        # where that cannot reach it (an upward-crossing condition), the input current
        zero = jnp.zeros(m.n, dtype)
        if move_state:
            v, I = solve(lambda x: dist(x, zero), s0[var], w, target), zero
        else:
            v, I = s0[var], solve(lambda x: dist(s0[var], x), zero, jnp.ones_like(w), target)
        d, dd = jax.jvp(lambda x: dist(x, I), (v,), (jnp.ones_like(v),))
        sp, dsp = jax.jvp(lambda x: spike(x, I), (v,), (jnp.ones_like(v),))
        return d, dd, sp, dsp

    out = []
    for side in (-0.5, 0.5):
        for move_state in (True, False):
            d, dd, sp, dsp = find(side * w, move_state)
            if bool(jnp.all(jnp.abs(d - side * w) < 0.25 * w)):
                break
        else:
            raise HarnessError(f"{case.name}: neither a value of {var!r} nor an input current puts the spike distance "
                               f"at {side} * width after one step (got {np.asarray(d)})")
        expect = type(m.spike_fn).rho(d / w) / w * dd
        if not np.array_equal(np.asarray(sp), np.full(m.n, float(side > 0))):
            raise HarnessError(f"{case.name}: spike = {np.asarray(sp)} at a distance {np.asarray(d)} to the condition")
        if not np.allclose(dsp, expect, rtol=rtol, atol=rtol * float(jnp.max(jnp.abs(expect)))):
            raise HarnessError(f"{case.name}: d spike/d {var} = {np.asarray(dsp)} at distance {np.asarray(d)}, but "
                               f"the surrogate's closed form rho(x/w)/w * dx/d{var} gives {np.asarray(expect)}")
        out.append(float(np.asarray(dsp)[0]))
    return f"pass (d spike/d {var} = {out[0]:.4g} below, {out[1]:.4g} above the spike condition)"


def _one_step(system, initial, dt, dtype, key):
    from . import clock, inputs as _inp

    model, inputs = system
    state = initial(model, dtype)
    t = clock.step_time(0, dt, 0.0, dtype)
    vals, _ = _inp.evaluate(inputs, _inp.init_states(inputs, key), t, dt, key)
    return state, model.step(state, vals, t, dt, key)[0]


def _check_dtype(case, dtype):
    from . import inputs as _inp

    msgs = []
    for dt_ in ((jnp.float32, jnp.float64) if jax.config.jax_enable_x64 else (jnp.float32,)):
        name = jnp.dtype(dt_).name
        try:
            final, rec, istates = _simulate(case, case.system, dt_)
        except TypeError:  # lax.scan refuses a carry whose dtype changes: find which one, in one step
            before, after = eqx.filter_jit(_one_step)(case.system, case.state0, case.dt, dt_, jax.random.PRNGKey(1))
            msgs += [f"state {k} is {b.dtype} after a step from {a.dtype} in a {name} run"
                     for (k, a), (_, b) in zip(_flat(before), _flat(after)) if a.dtype != b.dtype]
            if not msgs:
                raise
            break
        i0 = _inp.init_states(case.inputs, jax.random.PRNGKey(1))
        for what, tree in (("state", final), ("record", rec)):
            msgs += [f"{what} {k} is {v.dtype} in a {name} run" for k, v in _flat(tree)
                     if v.dtype.kind == "f" and v.dtype != jnp.dtype(dt_)]
        msgs += [f"input state {k} changed from {a.dtype} to {b.dtype}"
                 for (k, a), (_, b) in zip(_flat(i0), _flat(istates)) if a.dtype != b.dtype]
    if msgs:
        raise HarnessError(f"{case.name}: dtype not kept: " + "; ".join(msgs))
    return "pass (float32 and float64)" if jax.config.jax_enable_x64 else "pass (float32)"


class _CompileLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.names = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Compiling "):
            self.names.append(msg.split(" ")[1])


@contextlib.contextmanager
def _count_compiles():
    h = _CompileLog()
    logger = logging.getLogger("jax")
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        with jax.log_compiles(True):
            yield h.names
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


def _with_value(component, name, value):
    """``component`` with the parameter ``name`` set through the constructor (as a user would),
    or by replacing the leaf when the constructor does not take every field."""
    try:
        return dataclasses.replace(component, **{name: value})
    except Exception:  # noqa: BLE001 - a hand-written __init__
        old = getattr(component, name)
        return eqx.tree_at(lambda c: getattr(c, name), component, jnp.asarray(value, old.dtype))


def _check_recompile(case, dtype):
    ps = _first_param(case)
    vals = None
    if ps is not None:
        path, spec = ps
        base = _follow(case.locate(case.system), path)
        vals = _sweep_values(base, spec, 20)
    numeric = [x for x in jax.tree.leaves(case.inputs) if isinstance(x, (int, float)) and not isinstance(x, bool)]
    if vals is None and not numeric:
        return "skip (no declared parameter and no numeric input)"
    counts = []
    with _count_compiles() as names:
        for i in range(20):
            system = case.system
            if vals is not None:
                owner = _follow(case.locate(system), path[:-1])
                v = vals[i].item() if vals[i].ndim == 0 else vals[i]
                new_owner = _with_value(owner, path[-1][1], v)
                system = eqx.tree_at(lambda s: _follow(case.locate(s), path[:-1]), system, new_owner)
            if numeric:
                model, inputs = system
                inputs = jax.tree.map(lambda x: x + 0.01 * i if isinstance(x, float) else x, inputs)
                system = (model, inputs)
            _run(case, system, dtype, case.n_steps)
            counts.append(len(names))
    runs = [n for n in names if "run_chunk" in n]
    later = names[counts[0]:]
    what = (f"{_label(path)}" if vals is not None else "") + (" and the inputs" if numeric else "")
    if len(runs) > 1 or later:
        raise HarnessError(f"{case.name}: 20 new values of {what} compiled {len(runs)} runs; after the first run "
                           f"these compiled again: {sorted(set(later))}. Fix: make the value a declared parameter "
                           f"(an array leaf), not a Python number or a static field.")
    return f"pass (20 values of {what}: {len(runs)} compilation of the run)"


_RUNNERS = dict(declared=_check_declared, jit_eager=_check_jit_eager, chunking=_check_chunking, vmap=_check_vmap,
                grad=_check_grad, surrogate=_check_surrogate, dtype=_check_dtype, recompile=_check_recompile)


def applicable_checks(case: Case, float32: bool = False) -> tuple:
    """The checks that apply to ``case`` (``surrogate`` only for spiking neurons, ``grad`` not in float32)."""
    return tuple(c for c in CHECKS if not (c == "surrogate" and not case.spiking_neuron)
                 and not (c == "grad" and float32))


@contextlib.contextmanager
def _mode(float32):
    if float32:
        with jax.enable_x64(False):
            yield jnp.float32
    else:
        yield jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def check_component(obj, checks: Optional[Sequence[str]] = None, *, kind: Optional[str] = None,
                    float32: bool = False, param: Optional[str] = None, raise_on_failure: bool = True) -> dict:
    """Run the harness's checks on a component and return ``{check: "pass ..." | "skip ..." }``.

    Parameters
    ----------
    obj : component instance, :class:`Component`, class, builder function or :class:`Case`
        A class or a :class:`Component` is built with :func:`examples` (every example is checked).
    checks : sequence of str, optional
        Names from :data:`CHECKS` (default: all that apply, see :func:`applicable_checks`).
    kind : str, optional
        The kind of a component instance (guessed from its class).
    float32 : bool
        Build and run everything with 64-bit JAX switched off (``grad`` does not apply).
    param : str, optional
        The field of the component that ``vmap`` and ``recompile`` sweep (default: its first
        declared smooth parameter).
    raise_on_failure : bool
        Raise :class:`HarnessError` listing every failed check (else failures are reported as
        ``"FAIL: ..."`` in the result).
    """
    with _mode(float32) as dtype:
        if isinstance(obj, Case):
            cases = [obj]
        elif isinstance(obj, Component) or inspect.isclass(obj) or inspect.isfunction(obj):
            comp_kind = obj.kind if isinstance(obj, Component) else kind
            cases = [case_for(inst, comp_kind or ("builder" if inspect.isfunction(obj) else None), label)
                     for label, inst in examples(obj)]
        else:
            cases = [case_for(obj, kind)]
        report, failures = {}, []
        for case in cases:
            if param is not None:
                case.sweep = param
            for name in (checks or applicable_checks(case, float32)):
                if name not in _RUNNERS:
                    raise ValueError(f"unknown check {name!r}; the checks are {CHECKS}")
                key = name if len(cases) == 1 else f"{case.name}:{name}"
                try:
                    report[key] = _RUNNERS[name](case, dtype)
                except Exception as e:  # noqa: BLE001 - every failure is reported with its check
                    msg = str(e) if isinstance(e, HarnessError) else f"{case.name}: {type(e).__name__}: {e}"
                    report[key] = "FAIL: " + msg
                    failures.append(f"[{key}] {msg}")
    if failures and raise_on_failure:
        raise HarnessError("\n".join(failures))
    return report


# ---- the factory harness (a parametrised family of models) ----
def _loss(model, state, n_steps, dt, inputs, var):
    from .run import simulate

    final, rec, _ = simulate(model, state, n_steps, dt, inputs=inputs, record=lambda s: s[var])
    return jnp.mean(rec[var]) if isinstance(rec, dict) and var in rec else jnp.mean(rec["value"])


def check_model(factory: Callable, values: Sequence[float], *, inputs=None, n_steps: int = 200, dt: float = 0.1,
                var: str | None = None, grad_inputs=None, fd_rtol: float = 2e-2, key=0):
    """Run the harness on the models ``factory(p)`` for each ``p`` in ``values``.

    Parameters
    ----------
    factory : callable
        ``p -> model`` (``p`` a scalar parameter; it is traced under vmap and grad).
    values : sequence of float
        At least two parameter values for the vmap check; ``values[0]`` is used for grad.
    inputs : input PyTree
        Inputs of the run (as for :func:`braindyn.simulate`).
    n_steps, dt : int, float
        Length of the runs.
    var : str
        State variable whose mean over the run is the loss (default: the model's first variable).
    grad_inputs : input PyTree, optional
        Inputs for the finite-difference comparison of the gradient (choose a regime with no
        spike so the run is smooth in the parameter); ``None`` skips the comparison but still
        checks that the gradient is finite.
    fd_rtol : float
        Relative tolerance of the gradient against the finite difference.

    Returns
    -------
    dict with the per-check outcomes (raises ``AssertionError`` on failure).
    """
    import jax.random as jr

    from .run import simulate
    from .surrogate import Heaviside

    values = [float(v) for v in values]
    m0 = factory(values[0])
    var = var or m0.variables[0]
    out = {}
    # 1. jit: compiled run equals the same run traced without an outer jit
    s0 = m0.init_state(key=jr.PRNGKey(key))
    run_ = lambda m, s: simulate(m, s, n_steps, dt, inputs=inputs, record=lambda st: st[var], key=key)
    f_jit = jax.jit(lambda s: run_(m0, s)[1])
    r_jit = np.asarray(f_jit(s0)["value"])
    r_eager = np.asarray(run_(m0, s0)[1]["value"])
    assert np.all(np.isfinite(r_jit)), "jit run produced non-finite values"
    np.testing.assert_allclose(r_jit, r_eager, rtol=1e-5, atol=1e-6, err_msg="jit and non-jit runs differ")
    out["jit"] = True

    # 2. vmap over parameters == separate runs
    def one(p):
        m = factory(p)
        return run_(m, m.init_state(key=jr.PRNGKey(key)))[1]["value"]

    batch = np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(values)))
    for i, p in enumerate(values):
        single = np.asarray(jax.jit(one)(jnp.asarray(p)))
        np.testing.assert_allclose(batch[i], single, rtol=1e-5, atol=1e-5,
                                   err_msg=f"vmap result for parameter {p} differs from a single run")
    out["vmap"] = True

    # 3. grad through the run (for the finite-difference check the surrogate is replaced by the
    #    exact Heaviside, whose gradient is the true derivative of a spike-free run)
    def loss(p, inp, exact=False):
        m = factory(p)
        if exact and hasattr(m, "spike_fn"):
            m = eqx.tree_at(lambda mm: mm.spike_fn, m, Heaviside())
        final, rec, _ = simulate(m, m.init_state(key=jr.PRNGKey(key)), n_steps, dt, inputs=inp,
                                 record=lambda st: st[var], key=key)
        return jnp.mean(rec["value"])

    g = float(jax.jit(jax.grad(loss))(jnp.asarray(values[0]), inputs))
    assert np.isfinite(g), f"gradient through the run is not finite: {g}"
    out["grad"] = g
    if grad_inputs is not None:
        p = values[0]
        h = 1e-4 * max(abs(p), 1.0)
        g_s = float(jax.grad(loss)(jnp.asarray(p), grad_inputs, True))
        fd = (float(loss(jnp.asarray(p + h), grad_inputs, True)) - float(loss(jnp.asarray(p - h), grad_inputs, True))) / (2 * h)
        assert abs(g_s - fd) <= fd_rtol * max(abs(fd), 1e-8), f"grad {g_s} vs finite difference {fd}"
        out["grad_vs_fd"] = (g_s, fd)

    # 4. dtype kept
    dtypes = [jnp.float32] + ([jnp.float64] if jax.config.jax_enable_x64 else [])
    for dt_ in dtypes:
        s = m0.init_state(key=jr.PRNGKey(key), dtype=dt_)
        final, _, _ = jax.jit(lambda st: simulate(m0, st, 20, dt, inputs=inputs, record=lambda q: ()))(s)
        for k, v in final.items():
            assert v.dtype == dt_ or not jnp.issubdtype(v.dtype, jnp.floating), f"state variable {k!r} changed dtype from {dt_.__name__} to {v.dtype}"
    out["dtype"] = [d.__name__ for d in dtypes]
    return out
