"""Every learning rule inside a network equals the same rule run standalone, on dense and CSR weights.

The network run records the weights from the projection's state and the pre- and postsynaptic
signals the rule saw (the populations' states after each step, what ``learn`` reads); a
``lax.scan`` over ``rule.update`` fed with those recorded sequences must give the same weights at
every step. The populations are driven so that the weights really change (checked).
"""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import braindyn as bd  # noqa: E402
import braindyn.connect as bc  # noqa: E402
from braindyn import BraindynError  # noqa: E402
from braindyn.plasticity import (BCM, STDP, Hebb, InhibitorySTDP, LearningRule, Oja,  # noqa: E402
                                 TripletSTDP, WeightLayout)
from braindyn.synapses import CurrentOutput, Exponential, Instant, SynapticProjection  # noqa: E402

F64 = jnp.float64
N_PRE, N_POST, DT = 6, 4, 0.1

SPIKE_RULES = {
    "stdp_additive": lambda: STDP(A_plus=0.05, A_minus=0.055, w_min=0.0, w_max=1.0),
    "stdp_soft_bounds": lambda: STDP(A_plus=0.05, A_minus=0.055, w_min=0.0, w_max=1.0,
                                     weight_dependence="multiplicative"),
    "stdp_nearest": lambda: STDP(A_plus=0.05, A_minus=0.055, pairing="nearest"),
    "triplet": lambda: TripletSTDP(A2_plus=0.01, A3_plus=0.02, A2_minus=0.015, A3_minus=0.001),
    "inhibitory_spike": lambda: InhibitorySTDP(eta=0.02, rho0=0.01),
}
RATE_RULES = {
    "hebb": lambda: Hebb(eta=0.01, w_max=2.0),
    "oja": lambda: Oja(eta=0.02),
    "bcm_filter": lambda: BCM(eta=0.02, tau_theta=20.0),
    "bcm_running_mean": lambda: BCM(eta=0.02, threshold="running_mean"),
    "inhibitory_rate": lambda: InhibitorySTDP(eta=0.02, rho0=0.4, form="rate"),
}


def mask():
    m = (np.random.default_rng(7).random((N_PRE, N_POST)) < 0.6).astype(float)
    m[0, 0] = 1.0
    return m


def build(rule, storage, signal):
    m = mask()
    conn = m if storage == "dense" else bc.from_matrix(m)
    if signal == "spike":
        lif = dict(V_rest=-65.0, V_reset=-65.0, V_th=-50.0, tau=10.0)
        pops = {"A": bd.neurons.LIF(n=N_PRE, **lif), "B": bd.neurons.LIF(n=N_POST, **lif)}
        inputs = {"A": jnp.linspace(16.0, 30.0, N_PRE), "B": jnp.linspace(15.2, 22.0, N_POST)}
        proj = SynapticProjection("A", "B", conn, 0.5, Exponential(5.0), CurrentOutput(), plasticity=rule)
    else:
        pops = {"A": bd.neurons.RateUnit(n=N_PRE, tau=5.0), "B": bd.neurons.RateUnit(n=N_POST, tau=8.0)}
        phases = jnp.linspace(0.0, 3.0, N_PRE)
        inputs = {"A": lambda t: 2.0 * jnp.sin(0.05 * t + phases), "B": -0.5}
        proj = SynapticProjection("A", "B", conn, 0.5, Instant(), CurrentOutput(), plasticity=rule,
                                  signal="r", learn_pre="r", learn_post="r")
    return bd.Network(pops, {"p": proj}), inputs, conn, proj


def standalone(rule, conn, w0, pre, post):
    lay = WeightLayout.of(conn)

    def body(c, ab):
        st, w = rule.update(c[0], c[1], ab[0], ab[1], DT, lay)
        return (st, w), w

    _, ws = jax.lax.scan(body, (rule.init_state(N_PRE, N_POST, F64), w0), (jnp.asarray(pre), jnp.asarray(post)))
    return np.asarray(ws)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("name", list(SPIKE_RULES) + list(RATE_RULES))
def test_rule_in_network_equals_standalone(name, storage):
    signal = "spike" if name in SPIKE_RULES else "r"
    rule = (SPIKE_RULES.get(name) or RATE_RULES[name])()
    net, inputs, conn, proj = build(rule, storage, signal)
    res = bd.run(net, 150.0, DT, inputs=inputs, record=["proj.p.w", f"pop.A.{signal}", f"pop.B.{signal}"],
                 check_finite=False)
    w_net = np.asarray(res["proj.p.w"])
    pre, post = np.asarray(res[f"pop.A.{signal}"]), np.asarray(res[f"pop.B.{signal}"])
    if signal == "spike":
        assert pre.sum() > 20 and post.sum() > 10, "both populations must spike"
    w0 = proj.initial_weights(F64)
    w_ref = standalone(rule, conn, w0, pre, post)
    assert w_net.shape == w_ref.shape == (pre.shape[0],) + tuple(w0.shape)
    np.testing.assert_allclose(w_net, w_ref, rtol=1e-11, atol=1e-13)
    # the weights really changed, and only on existing synapses
    assert np.max(np.abs(w_net[-1] - np.asarray(w0))) > 1e-3
    if storage == "dense":
        assert np.all(w_net[-1][mask() == 0] == 0.0)


@pytest.mark.parametrize("name", list(SPIKE_RULES) + list(RATE_RULES))
def test_dense_and_csr_networks_learn_the_same_weights(name):
    signal = "spike" if name in SPIKE_RULES else "r"
    out = {}
    for storage in ("dense", "csr"):
        rule = (SPIKE_RULES.get(name) or RATE_RULES[name])()
        net, inputs, conn, _ = build(rule, storage, signal)
        res = bd.run(net, 60.0, DT, inputs=inputs, record=["proj.p.w"], check_finite=False)
        out[storage] = (np.asarray(res["proj.p.w"])[-1], conn)
    csr = out["csr"][1]
    np.testing.assert_allclose(csr.values_from_dense(out["dense"][0]), out["csr"][0], rtol=1e-9, atol=1e-12)


class Modulated(LearningRule):
    """A test rule that reads the third factor: dw = factor * pre_j * post_i."""

    uses_factor = True

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        f = jnp.broadcast_to(jnp.asarray(factor, w.dtype), post.shape)   # scalar or one per postsynaptic neuron
        return state, w + layout.outer(pre.astype(w.dtype), post.astype(w.dtype) * f)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_learn_passes_the_third_factor_scalar_or_per_postsynaptic_neuron(storage):
    m = mask()
    conn = m if storage == "dense" else bc.from_matrix(m)
    proj = SynapticProjection("A", "B", conn, 1.0, plasticity=Modulated(), learn_pre="r", learn_post="r",
                              factor="reward")
    assert proj.factor == "reward"
    A, B = bd.neurons.RateUnit(n=N_PRE), bd.neurons.RateUnit(n=N_POST)
    st = proj.init_state(A, B, dtype=F64)
    x, y = jnp.arange(1.0, N_PRE + 1.0), jnp.arange(1.0, N_POST + 1.0)
    for factor in (0.5, jnp.array([0.0, 1.0, 2.0, 3.0])):
        new = proj.learn(st, {"r": x}, {"r": y}, 0.0, DT, factor=factor)
        dense = m * np.outer(x, y * np.broadcast_to(np.asarray(factor), (N_POST,)))
        expected = dense if storage == "dense" else conn.values_from_dense(dense)
        np.testing.assert_allclose(np.asarray(new["w"]) - np.asarray(st["w"]), expected, rtol=1e-12)


def test_a_factor_for_a_rule_without_one_is_an_error():
    with pytest.raises(BraindynError, match="third factor"):
        SynapticProjection("A", "B", mask(), 1.0, plasticity=STDP(), factor="reward")


@pytest.mark.parametrize("source", ["signal", "population"])
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_third_factor_resolved_by_the_network_equals_standalone(source, storage):
    """The network resolves ``factor`` (a declared signal of the run's inputs, or a population
    variable) and the rule sees it: weights equal a standalone loop fed the same factor sequence."""
    m = mask()
    conn = m if storage == "dense" else bc.from_matrix(m)
    pops = {"A": bd.neurons.RateUnit(n=N_PRE, tau=5.0), "B": bd.neurons.RateUnit(n=N_POST, tau=8.0),
            "R": bd.neurons.RateUnit(n=N_POST, tau=3.0)}
    factor = "reward" if source == "signal" else "R.r"
    proj = SynapticProjection("A", "B", conn, 0.2, Instant(), signal="r", learn_pre="r", learn_post="r",
                              plasticity=Modulated(), factor=factor)
    net = bd.Network(pops, {"p": proj}, signals=("reward",) if source == "signal" else ())
    phases = jnp.linspace(0.0, 3.0, N_PRE)
    inputs = {"A": lambda t: jnp.sin(0.05 * t + phases), "B": 0.3, "R": jnp.linspace(-1.0, 1.0, N_POST)}
    if source == "signal":
        inputs["reward"] = lambda t: 0.01 * jnp.cos(0.1 * t)
    res = bd.run(net, 30.0, DT, inputs=inputs, record=["proj.p.w", "pop.A.r", "pop.B.r", "pop.R.r"],
                 check_finite=False)
    n = np.asarray(res["pop.A.r"]).shape[0]
    if source == "signal":
        # the signal is evaluated at the start of each step (t = k dt), like every input
        fac = 0.01 * np.cos(0.1 * DT * np.arange(n))[:, None] * np.ones((1, N_POST))
    else:
        fac = np.asarray(res["pop.R.r"])  # the factor population after each step, as learn sees it
    lay = WeightLayout.of(conn)
    rule = Modulated()

    def body(w, abf):
        return rule.update({}, w, abf[0], abf[1], DT, lay, factor=abf[2])[1], None

    w = np.asarray(proj.initial_weights(F64))
    ws = []
    for a, b, f in zip(np.asarray(res["pop.A.r"]), np.asarray(res["pop.B.r"]), fac):
        w, _ = body(jnp.asarray(w), (jnp.asarray(a), jnp.asarray(b), jnp.asarray(f)))
        ws.append(np.asarray(w))
    np.testing.assert_allclose(np.asarray(res["proj.p.w"]), np.stack(ws), rtol=1e-9, atol=1e-12)
    assert np.max(np.abs(ws[-1] - np.asarray(proj.initial_weights(F64)))) > 1e-4
