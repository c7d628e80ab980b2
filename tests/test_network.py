"""The network step order: synapses see the previous step's spikes; learning sees the new ones."""
import equinox as eqx
import jax.numpy as jnp
import numpy as np

import braindyn as bd
from braindyn.neurons import LIF


class Relay(bd.Projection):
    """Test projection: the postsynaptic current is w times the presynaptic spikes of state t."""

    w: float = 1.0

    def init_state(self, pre_model, post_model, *, key=None, dtype=None):
        return {"seen": jnp.zeros((), dtype), "learned": jnp.zeros((), dtype)}

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        s = pre_state["spike"].sum()
        return {**state, "seen": s}, self.w * jnp.ones(post_state["V"].shape) * s

    def learn(self, state, pre_state, post_state, t, dt, key=None):
        return {**state, "learned": pre_state["spike"].sum()}


def test_delivery_is_one_step_after_the_spike():
    # A fires at a known step; B (no leak input) jumps in the step after.
    net = bd.Network({"A": LIF(n=1), "B": LIF(n=1, tau=1e9, V_th=1e9, V_init=0.0)},
                     {"ab": Relay(pre="A", post="B", w=1.0)})
    res = bd.run(net, 40.0, inputs={"A": 22.0}, record={"a": "pop.A.spike", "vb": "pop.B.V",
                                                         "seen": "proj.ab.seen", "learned": "proj.ab.learned"})
    k = int(np.nonzero(np.asarray(res["a"])[:, 0])[0][0])     # record index of A's first spike
    # learn() saw the spike in the same step, deliver() one step later
    assert res["learned"][k] == 1 and res["seen"][k] == 0 and res["seen"][k + 1] == 1
    # B integrates the current during step k+1: dV = dt * w / C-free LIF with R=1, tau huge -> tiny;
    # what matters: V of B changes first at record k+1
    vb = res["vb"][:, 0]
    assert np.all(vb[: k + 1] == vb[0]) and vb[k + 1] != vb[0]


def test_network_validation():
    import pytest

    with pytest.raises(ValueError, match="presynaptic"):
        bd.Network({"A": LIF()}, {"x": Relay(pre="Z", post="A")})
    with pytest.raises(ValueError, match="non-empty"):
        bd.Network({})
    net = bd.Network({"A": LIF()})
    with pytest.raises(ValueError, match="input population"):
        bd.run(net, 1.0, inputs={"B": 1.0})
