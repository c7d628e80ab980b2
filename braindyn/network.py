"""Networks: populations and projections, composed, with a fixed and documented step order.

A :class:`Network` holds named populations (any :class:`~braindyn.core.Dynamics`) and named
projections (:class:`Projection`). Its state is ``{"pop": {name: state}, "proj": {name: state}}``
(nothing else), and one step from ``t`` to ``t + dt`` is, in this order:

1. **Deliver.** Every projection reads its presynaptic population's state at ``t`` (the
   spikes emitted by the previous step: synapses see the previous step's spikes, the book's
   convention), advances its own state (delay buffers, synaptic kinetics) and returns its
   contribution to the inputs of the postsynaptic population, computed from the
   postsynaptic state at ``t`` (e.g. :math:`g (E - V)` for a conductance).
2. **Integrate.** Every population steps from ``t`` to ``t + dt`` with the sum of the
   contributions addressed to it plus its external input. Populations are independent within
   a step, so their order does not matter.
3. **Learn.** Every plastic projection updates its weights from the new pre- and
   postsynaptic states (spikes emitted during this step).

Inputs of a network run are a dict ``{population: input}``.
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._errors import BraindynError, check_choice
from .core import Dynamics, default_float

__all__ = ["Projection", "Network"]


class Projection(eqx.Module):
    """Abstract connection from population ``pre`` to population ``post``.

    Subclasses implement :meth:`deliver` (and :meth:`init_state` / :meth:`learn` if they have
    state or plasticity). ``target`` names the input of the postsynaptic model that receives
    the contribution (``"I"``, the input current, by default).
    """

    pre: str = eqx.field(static=True, default="")
    post: str = eqx.field(static=True, default="")
    target: str = eqx.field(static=True, default="I")

    def init_state(self, pre_model, post_model, *, key=None, dtype=None) -> Any:
        return {}

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        """Return ``(state, contribution)``; ``contribution`` has the postsynaptic shape."""
        raise NotImplementedError

    def learn(self, state, pre_state, post_state, t, dt, key=None):
        """Plasticity after the populations have stepped (default: none)."""
        return state


class Network(Dynamics):
    """A network of named populations and projections.

    Parameters
    ----------
    populations : dict
        ``{name: model}``.
    projections : dict
        ``{name: Projection}``; each projection's ``pre`` and ``post`` must name populations.

    Example
    -------
    >>> import braindyn as bd
    >>> net = bd.Network({"A": bd.neurons.LIF(n=3)}, {})
    >>> res = bd.run(net, 50.0, inputs={"A": 22.0}, record="pop.A.spike")
    >>> res.spike_count()
    3
    """

    populations: dict
    projections: dict

    def __init__(self, populations: dict, projections: dict | None = None):
        projections = {} if projections is None else projections
        if not isinstance(populations, dict) or not populations:
            raise BraindynError(
                "Network: 'populations' must be a non-empty dict {name: model}. Fix: e.g. Network({'E': LIF(n=100)})."
            )
        for name, pr in projections.items():
            if not isinstance(pr, Projection):
                raise BraindynError(f"Network: projection {name!r} is a {type(pr).__name__}, not a Projection.")
            check_choice(f"presynaptic population of projection {name!r}", pr.pre, list(populations), "Network")
            check_choice(f"postsynaptic population of projection {name!r}", pr.post, list(populations), "Network")
        self.populations = dict(populations)
        self.projections = dict(projections)

    def init_state(self, *, key=None, dtype=None, **initial):
        key = jax.random.PRNGKey(0) if key is None else key
        dtype = dtype or default_float()
        kp, kj = jax.random.split(key)
        pops = {}
        for i, (name, m) in enumerate(self.populations.items()):
            pops[name] = m.init_state(key=jax.random.fold_in(kp, i), dtype=dtype, **initial.get(name, {}))
        projs = {}
        for i, (name, pr) in enumerate(self.projections.items()):
            projs[name] = pr.init_state(self.populations[pr.pre], self.populations[pr.post],
                                        key=jax.random.fold_in(kj, i), dtype=dtype)
        return {"pop": pops, "proj": projs}

    def step(self, state, inputs, t, dt, key=None):
        key = jax.random.PRNGKey(0) if key is None else key
        inputs = {} if inputs is None else inputs
        if not isinstance(inputs, dict):
            raise BraindynError(
                f"Network inputs must be a dict {{population: input}}, got {type(inputs).__name__}. "
                f"Fix: e.g. inputs={{{next(iter(self.populations))!r}: 20.0}}."
            )
        for name in inputs:
            check_choice("input population", name, list(self.populations), "Network")
        k_syn, k_pop, k_learn = jax.random.split(key, 3)
        pops, projs = state["pop"], dict(state["proj"])
        # 1. deliver
        received = {name: {} for name in self.populations}
        for i, (name, pr) in enumerate(self.projections.items()):
            projs[name], contrib = pr.deliver(projs[name], pops[pr.pre], pops[pr.post], t, dt,
                                              jax.random.fold_in(k_syn, i))
            acc = received[pr.post]
            acc[pr.target] = acc[pr.target] + contrib if pr.target in acc else contrib
        # 2. integrate
        new_pops, outputs = {}, {}
        for i, (name, m) in enumerate(self.populations.items()):
            ext = inputs.get(name)
            inp = dict(received[name])
            if ext is not None:
                ext = ext if isinstance(ext, dict) else {"I": ext}
                for k, v in ext.items():
                    inp[k] = inp[k] + v if k in inp else v
            new_pops[name], outputs[name] = m.step(pops[name], inp, t, dt, jax.random.fold_in(k_pop, i))
        # 3. learn
        for i, (name, pr) in enumerate(self.projections.items()):
            projs[name] = pr.learn(projs[name], new_pops[pr.pre], new_pops[pr.post], t, dt,
                                   jax.random.fold_in(k_learn, i))
        return {"pop": new_pops, "proj": projs}, outputs
