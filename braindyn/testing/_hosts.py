"""Host systems: each component inside something that :func:`braindyn.simulate` and
:func:`braindyn.run` can step, and the paths to its declared parameters."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._discovery import HarnessError, _kind_of

#: Parameters that count whole steps (no gradient: they must have a zero one).
STEP_PARAMS = frozenset({"t_ref"})


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
    from ..network import Network

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


def _host_neurons(n, role):
    """A population of a host network: ``"poisson"`` spike trains (cheap, random), ``"noisy"``
    LIF neurons that fire within a few steps, ``"quiet"`` LIF neurons that never fire, or
    ``"rate"`` noisy rate units (for a continuous signal ``r``)."""
    from .. import neurons as N

    if role == "poisson":
        return N.PoissonGroup(n=n, rate=2000.0)
    if role == "rate":
        return N.RateUnit(n=n, noise={"r": 0.5})
    if role == "noisy":
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
    from ..network import Network

    n_pre, n_post = _sizes(proj)
    signal = getattr(proj, "signal", None)  # None: it reads the membrane potential (gap junctions)
    pre = {"spike": "poisson", None: "noisy", "V": "noisy"}.get(signal, "rate")
    if proj.pre == proj.post:
        pops = {proj.pre: _host_neurons(n_pre, "noisy" if pre == "poisson" else pre)}
    else:
        pops = {proj.pre: _host_neurons(n_pre, pre),
                proj.post: _host_neurons(n_post, "noisy" if post_spiking else "quiet")}
    signals = (factor,) if factor else ()
    net = Network(pops, {"proj": proj}, signals=signals)
    inputs = {k: 1.0 for k in pops}
    if factor:
        inputs[factor] = 0.5
    return Case(label, component, net, inputs, locate=lambda s: locate(s[0].projections["proj"]),
                initial=lambda m, dtype: m.init_state(key=jax.random.PRNGKey(0), dtype=dtype))


def _projection(**kw):
    import braindyn.connect as bc
    from ..synapses import SynapticProjection

    return SynapticProjection("pre", "post", bc.fixed_prob(4, 3, 0.6, seed=1), 0.5, **kw)


def case_for(component, kind: Optional[str] = None, label: Optional[str] = None) -> Case:
    """The host :class:`Case` of a component instance (``kind`` guessed from its class)."""
    from .. import neurons as N
    from ..core import SpikingNeuron
    from ..network import Network
    from ..synapses import Exponential

    kind = kind or _kind_of(type(component)) or ("builder" if hasattr(component, "network") or isinstance(
        component, tuple) else None)
    label = label or type(component).__name__
    if kind == "dynamics":
        inputs = ({k: 0.1 for k in component.populations} if isinstance(component, Network) else 0.1)
        return Case(label, component, component, inputs, spiking_neuron=isinstance(component, SpikingNeuron))
    if kind == "builder":  # a network, (network, extra ...), or (network, state0, inputs) with names
        if isinstance(component, Network):
            component = (component,)
        net = getattr(component, "network", component[0])
        state0, inputs = getattr(component, "state0", None), getattr(component, "inputs", None)
        if isinstance(inputs, dict):
            inputs = {k: float(v) if np.ndim(v) == 0 and not callable(v) else v for k, v in inputs.items()}
        if state0 is None:
            return Case(label, net, net, inputs)
        return Case(label, net, net, inputs, initial=lambda m, dtype: _cast_state(state0, dtype))
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
    from ..params import Parametrized

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
