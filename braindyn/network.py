r"""Networks: populations and projections, composed, with a fixed and documented step order.

A :class:`Network` holds named populations (any :class:`~braindyn.core.Dynamics`, including
another :class:`Network`: channels -> neuron -> network -> system) and named projections
(:class:`Projection`). Its state is ``{"pop": {name: state}, "proj": {name: state}}``. A
projection names its populations by *path*: ``"E"``, or ``"V1.E"`` for the population ``E`` of
the sub-network ``V1``, so a multi-area model is built from area models.

One step from ``t`` to ``t + dt`` is, in this order:

1. **Deliver.** Every projection reads its presynaptic population's state at ``t`` (the
   spikes, or any other variable, emitted by the previous step: synapses see the previous
   step's spikes, the book's convention), advances its own state (delay buffers, synaptic
   kinetics) and returns its contribution to the inputs of the postsynaptic population: a
   current, or a :class:`~braindyn.core.Conductance` :math:`(g, E)` that the neuron resolves
   at its own potential during the step. Projections are delivered in the order of their
   names, and the contributions to one input of one population are summed in that order
   (so declaring them in another order gives the same bits).
2. **Integrate.** Every population steps from ``t`` to ``t + dt`` with the sum of the
   contributions addressed to it plus its external input. Populations are independent within
   a step.
3. **Learn.** Every plastic projection updates its weights from the new pre- and
   postsynaptic states (spikes emitted during this step) and, if it names one, a third
   factor (``factor=``): a variable of a population (``"R.r"``) or a signal of the run's
   inputs declared with ``Network(..., signals=("reward",))``.

Randomness: the key of population ``name`` is ``fold_in(key, stable_hash("pop:" + name))``
(projections ``"proj:"``, learning ``"learn:"``), never its position, so adding a population
does not change the noise of the others, and jit and eager runs draw the same numbers. A
network stepped with ``key=None`` passes ``None`` on: a component that needs randomness raises.

Inputs of a network run are a dict ``{population: input}`` (for a sub-network, a dict of its
populations' inputs), plus the declared signals.
"""
from __future__ import annotations

from typing import Any, Optional

import equinox as eqx

from . import clock
from ._errors import BraindynError, check_choice
from .core import Dynamics, default_float

__all__ = ["Projection", "Network"]


class Projection(eqx.Module):
    """Abstract connection from population ``pre`` to population ``post`` (paths in the network).

    Subclasses implement :meth:`deliver` (and :meth:`init_state` / :meth:`learn` if they have
    state or plasticity). ``target`` names the input of the postsynaptic model that receives
    the contribution (``"I"``, the input current, by default). ``factor`` names the third
    factor of a learning rule: a population variable path (``"R.r"``) or a declared signal.
    """

    pre: str = eqx.field(static=True, default="")
    post: str = eqx.field(static=True, default="")
    target: str = eqx.field(static=True, default="I")

    def init_state(self, pre_model, post_model, *, key=None, dtype=None) -> Any:
        return {}

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        """Return ``(state, contribution)``; ``contribution`` has the postsynaptic shape."""
        raise NotImplementedError

    def learn(self, state, pre_state, post_state, t, dt, key=None, factor=None):
        """Plasticity after the populations have stepped (default: none)."""
        return state


def _check_name(name, what):
    if not isinstance(name, str) or not name or "." in name:
        raise BraindynError(f"Network: {what} name {name!r} must be a non-empty string without '.' (dots separate "
                            f"the parts of a path such as 'V1.E'). Fix: e.g. 'E', 'V1_E'.")


def _add(acc: dict, key, value):
    acc[key] = acc[key] + value if key in acc else value


def _merge(received, ext):
    """Merge the contributions to a population with its external input (both may be nested)."""
    if ext is None:
        return received
    if not isinstance(ext, dict):
        ext = {"I": ext}
    out = dict(received)
    for k, v in ext.items():
        if k in out and isinstance(out[k], dict):
            out[k] = _merge(out[k], v)
        else:
            _add(out, k, v)
    return out


class Network(Dynamics):
    """A network of named populations and projections (see the module docstring for the step order).

    Parameters
    ----------
    populations : dict
        ``{name: model}``; a model may itself be a :class:`Network`.
    projections : dict
        ``{name: Projection}``; each projection's ``pre`` and ``post`` are population paths
        (``"E"``, ``"V1.E"``).
    signals : tuple of str
        Names of run inputs that are not populations (third factors of learning rules, e.g.
        ``"reward"``), passed as ``inputs={"reward": ...}``.

    Example
    -------
    >>> import braindyn as bd
    >>> net = bd.Network({"A": bd.neurons.LIF(n=3)}, {})
    >>> res = bd.run(net, 50.0, inputs={"A": 22.0}, record="pop.A.spike")
    >>> res.spike_count()
    3
    >>> big = bd.Network({"V1": net, "V2": bd.neurons.LIF(n=2)})       # a network as a population
    >>> bd.run(big, 50.0, inputs={"V1": {"A": 22.0}}, record="pop.V1.pop.A.spike").spike_count()
    3
    """

    populations: dict
    projections: dict
    signals: tuple = eqx.field(static=True)
    groups: tuple

    def __init__(self, populations: dict, projections: Optional[dict] = None, *, signals=()):
        projections = {} if projections is None else projections
        if not isinstance(populations, dict) or not populations:
            raise BraindynError(
                "Network: 'populations' must be a non-empty dict {name: model}. Fix: e.g. Network({'E': LIF(n=100)})."
            )
        if not isinstance(projections, dict):
            raise BraindynError(f"Network: 'projections' must be a dict {{name: Projection}}, got "
                                f"{type(projections).__name__}.")
        for name, m in populations.items():
            _check_name(name, "population")
            if not isinstance(m, Dynamics):
                raise BraindynError(f"Network: population {name!r} is a {type(m).__name__} ({m!r}), not a model. "
                                    f"Fix: pass a braindyn model, e.g. bd.neurons.LIF(n=100).")
        signals = tuple(signals)
        for sname in signals:
            _check_name(sname, "signal")
            if sname in populations:
                raise BraindynError(f"Network: signal {sname!r} has the name of a population. Fix: rename it.")
        self.populations = dict(populations)
        self.signals = signals
        for name, pr in projections.items():
            _check_name(name, "projection")
            if not isinstance(pr, Projection):
                raise BraindynError(f"Network: projection {name!r} is a {type(pr).__name__}, not a Projection.")
            pre_m = self._resolve(pr.pre, f"presynaptic population of projection {name!r}")
            post_m = self._resolve(pr.post, f"postsynaptic population of projection {name!r}")
            if hasattr(pr, "check_sizes"):  # a size mismatch is an error here, not at the first run
                pr.check_sizes(pre_m, post_m, known_only=True)
            factor = getattr(pr, "factor", None)
            if factor is not None:
                self._check_factor(name, factor)
        self.projections = dict(projections)
        from .synapses.fused import build_groups

        # projections that share their presynaptic spikes: one merged event-kernel call per step
        self.groups = build_groups({n: self.projections[n] for n in sorted(self.projections)})

    # ---- paths -------------------------------------------------------------------------------------
    def _paths(self, prefix=""):
        out = []
        for name, m in self.populations.items():
            out.append(prefix + name)
            if isinstance(m, Network):
                out += m._paths(prefix + name + ".")
        return out

    def _resolve(self, path, what="population"):
        """The model at ``path`` (``"E"`` or ``"V1.E"``)."""
        node, parts = self, str(path).split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, Network) or part not in node.populations:
                check_choice(what, path, self._paths(), "Network")
            node = node.populations[part]
        return node

    def _check_factor(self, name, factor):
        if factor in self.signals:
            return
        head, _, var = str(factor).rpartition(".")
        if head and head in self._paths():
            return
        raise BraindynError(f"Network: projection {name!r} takes its third factor from {factor!r}, which is neither a "
                            f"declared signal {list(self.signals)} nor a population variable path like 'R.r'. Fix: "
                            f"Network(..., signals=({factor!r},)) and pass inputs={{{factor!r}: ...}}, or name a "
                            f"population variable.")

    @staticmethod
    def _get(pop_states, path):
        parts = path.split(".")
        node = pop_states[parts[0]]
        for part in parts[1:]:
            node = node["pop"][part]
        return node

    # ---- the Dynamics interface ---------------------------------------------------------------------
    def init_state(self, *, key=None, dtype=None, **initial):
        dtype = dtype or default_float()
        for name in initial:
            check_choice("population with initial values", name, list(self.populations), "Network")
        pops = {}
        for name in sorted(self.populations):
            m = self.populations[name]
            pops[name] = m.init_state(key=clock.named_key(key, "pop:" + name), dtype=dtype, **initial.get(name, {}))
        projs = {}
        for name in sorted(self.projections):
            pr = self.projections[name]
            projs[name] = pr.init_state(self._resolve(pr.pre), self._resolve(pr.post),
                                        key=clock.named_key(key, "proj:" + name), dtype=dtype)
        return {"pop": pops, "proj": projs}

    def _check_inputs(self, inputs):
        if inputs is None:
            return {}
        if not isinstance(inputs, dict):
            raise BraindynError(
                f"Network inputs must be a dict {{population: input}}, got {type(inputs).__name__}. "
                f"Fix: e.g. inputs={{{next(iter(self.populations))!r}: 20.0}}."
            )
        for name in inputs:
            check_choice("input population", name, list(self.populations) + list(self.signals), "Network")
        return inputs

    def step(self, state, inputs, t, dt, key=None):
        from .synapses.fused import deliver_all

        inputs = self._check_inputs(inputs)
        pops, projs = state["pop"], state["proj"]
        names = sorted(self.projections)
        # 1. deliver (sorted names; contributions summed in that order)
        paths = {p for n in names for p in (self.projections[n].pre, self.projections[n].post)}
        pop_states = {p: self._get(pops, p) for p in paths}
        keys = {n: clock.named_key(key, "proj:" + n) for n in names}
        new_projs, contribs = deliver_all({n: self.projections[n] for n in names}, {n: projs[n] for n in names},
                                          pop_states, t, dt, keys, groups=self.groups)
        received = {name: {} for name in self.populations}
        for n in names:
            pr = self.projections[n]
            parts = pr.post.split(".")
            acc = received[parts[0]]
            for part in parts[1:]:
                acc = acc.setdefault(part, {})
            _add(acc, pr.target, contribs[n])
        # 2. integrate
        new_pops, outputs = {}, {}
        for name in sorted(self.populations):
            m = self.populations[name]
            inp = _merge(received[name], inputs.get(name))
            new_pops[name], outputs[name] = m.step(pops[name], inp, t, dt, clock.named_key(key, "pop:" + name))
        # 3. learn
        for n in names:
            pr = self.projections[n]
            factor = getattr(pr, "factor", None)
            if factor is not None:
                if factor in self.signals:
                    if factor not in inputs:
                        raise BraindynError(f"projection {n!r} learns with the signal {factor!r}, which the run's "
                                            f"inputs do not provide. Fix: inputs={{..., {factor!r}: value}}.")
                    factor = inputs[factor]
                else:
                    head, _, var = factor.rpartition(".")
                    factor = self._get(new_pops, head)[var]
                new_projs[n] = pr.learn(new_projs[n], self._get(new_pops, pr.pre), self._get(new_pops, pr.post), t,
                                        dt, clock.named_key(key, "learn:" + n), factor=factor)
            else:
                new_projs[n] = pr.learn(new_projs[n], self._get(new_pops, pr.pre), self._get(new_pops, pr.post), t,
                                        dt, clock.named_key(key, "learn:" + n))
        return {"pop": new_pops, "proj": new_projs}, outputs
