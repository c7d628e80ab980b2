"""A projection carries any presynaptic signal: rate networks, rate -> spiking, graded synapses."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import braindyn as bd  # noqa: E402
import braindyn.connect as bc  # noqa: E402
from braindyn import BraindynError  # noqa: E402
from braindyn.plasticity import TsodyksMarkramRate  # noqa: E402
from braindyn.synapses import CurrentOutput, Exponential, Instant, SynapticProjection  # noqa: E402

F64 = jnp.float64

# A rate E-I network: tau_E dE/dt = -E + f(W_EE^T E + W_IE^T I + I_E), tau_I dI/dt = -I + f(W_EI^T E + W_II^T I + I_I)
N_E, N_I = 3, 2
TAU_E, TAU_I, GAIN, THETA = 10.0, 5.0, 1.5, 0.5
RNG = np.random.default_rng(11)
W = {"EE": RNG.uniform(0.5, 1.5, (N_E, N_E)), "EI": RNG.uniform(1.0, 2.0, (N_E, N_I)),
     "IE": -RNG.uniform(1.5, 2.5, (N_I, N_E)), "II": -RNG.uniform(0.5, 1.0, (N_I, N_I))}
I_EXT = {"E": np.array([0.6, 0.2, 1.0]), "I": np.array([0.1, -0.2])}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rate_ei_network(storage="dense"):
    pops = {"E": bd.neurons.RateUnit(n=N_E, tau=TAU_E, gain=GAIN, theta=THETA),
            "I": bd.neurons.RateUnit(n=N_I, tau=TAU_I, gain=GAIN, theta=THETA)}
    projs = {}
    for name, m in W.items():
        a, b = name[0], name[1]
        if storage == "dense":
            projs[name] = SynapticProjection(a, b, m, 1.0, Instant(), CurrentOutput(), signal="r")
        else:
            csr = bc.from_matrix(m)
            projs[name] = SynapticProjection(a, b, csr, csr.values_from_dense(m), Instant(), CurrentOutput(), signal="r")
    return bd.Network(pops, projs)


def scipy_rate_ei(T, t_eval):
    def rhs(t, y):
        E, I = y[:N_E], y[N_E:]
        xE = E @ W["EE"] + I @ W["IE"] + I_EXT["E"]
        xI = E @ W["EI"] + I @ W["II"] + I_EXT["I"]
        return np.concatenate([(-E + sigmoid(GAIN * (xE - THETA))) / TAU_E,
                               (-I + sigmoid(GAIN * (xI - THETA))) / TAU_I])

    sol = solve_ivp(rhs, (0.0, T), np.zeros(N_E + N_I), method="LSODA", rtol=1e-11, atol=1e-13, t_eval=t_eval)
    return sol.y.T


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_rate_ei_network_matches_scipy(storage):
    """The coupling is read at the step start and held over the step, so the network is a first-order
    scheme: its error against solve_ivp is small and halves with dt."""
    T = 100.0
    errs = []
    for dt in (0.02, 0.01):
        res = bd.run(rate_ei_network(storage), T, dt, inputs={"E": jnp.asarray(I_EXT["E"]), "I": jnp.asarray(I_EXT["I"])},
                     record=["pop.E.r", "pop.I.r"], check_finite=False)
        got = np.concatenate([np.asarray(res["pop.E.r"]), np.asarray(res["pop.I.r"])], axis=1)
        t = dt * np.arange(1, got.shape[0] + 1)
        ref = scipy_rate_ei(T, t)
        assert np.ptp(ref[:, 0]) > 0.1  # the rates move
        errs.append(np.max(np.abs(got - ref)))
    assert errs[1] < 2e-3, errs
    assert 1.7 < errs[0] / errs[1] < 2.3, errs  # first order in dt


def test_rate_network_same_on_every_storage():
    pc = bc.ProceduralConn(20, 15, 0.3, seed=4)
    out = {}
    for storage in ("dense", "csr", "procedural"):
        conn = {"procedural": pc, "csr": pc.to_csr(), "dense": pc.to_csr().to_dense(dtype=np.float64)}[storage]
        pops = {"A": bd.neurons.RateUnit(n=20, tau=5.0),
                "B": bd.neurons.RateUnit(n=15, tau=10.0, f="tanh")}
        proj = SynapticProjection("A", "B", conn, 0.3, Exponential(3.0), CurrentOutput(), signal="r", delay=0.5)
        net = bd.Network(pops, {"p": proj})
        res = bd.run(net, 50.0, 0.1, inputs={"A": jnp.linspace(-1.0, 2.0, 20)}, record="pop.B.r", check_finite=False)
        out[storage] = np.asarray(res["pop.B.r"])
    assert np.ptp(out["csr"]) > 0.1
    np.testing.assert_allclose(out["dense"], out["csr"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["procedural"], out["csr"], rtol=1e-10, atol=1e-12)


def test_rate_to_lif_projection_drives_the_lif_at_its_analytic_rate():
    """A relu rate unit relaxes to r* = 2; it drives 40 LIF neurons through a CSR with weight 11/r*:
    after the transient they fire with the LIF period for I = 11 (the input is then constant)."""
    rate = bd.neurons.RateUnit(n=1, tau=2.0, f="relu")
    lif = bd.neurons.LIF(n=40, V_rest=0.0, V_reset=0.0, V_th=10.0, tau=10.0, t_ref=2.0)
    conn = bc.from_ij(np.zeros(40, int), np.arange(40), 1, 40)
    proj = SynapticProjection("R", "L", conn, 11.0 / 2.0, Instant(), CurrentOutput(), signal="r")
    net = bd.Network({"R": rate, "L": lif}, {"RL": proj})
    res = bd.run(net, 1100.0, 0.01, inputs={"R": 2.0}, record="pop.L.spike", check_finite=False)
    spikes = np.asarray(res["pop.L.spike"])
    late = spikes[int(100.0 / 0.01):]  # after 50 tau of the rate unit
    rate_hz = late.sum() / 40 / 1.0
    assert rate_hz == pytest.approx(1000.0 / float(lif.period(11.0)), rel=0.02)
    assert np.all(spikes.sum(axis=0) == spikes[:, 0].sum())  # identical drive, identical trains


def test_spiking_to_rate_and_back():
    """LIF spikes drive a rate unit through exponential synapses (event path); the rate unit feeds
    back a continuous current (matvec path): both directions in one network."""
    lif = bd.neurons.LIF(n=10, V_rest=0.0, V_reset=0.0, V_th=10.0, tau=10.0)
    rate = bd.neurons.RateUnit(n=2, tau=20.0, f="relu")
    rng = np.random.default_rng(0)
    projs = {"LR": SynapticProjection("L", "R", bc.fixed_prob(10, 2, 0.8, seed=1), 0.2, Exponential(10.0)),
             "RL": SynapticProjection("R", "L", rng.uniform(0, 1, (2, 10)), 5.0, Instant(), signal="r")}
    counts = []
    for names in (("LR",), ("LR", "RL")):
        net = bd.Network({"L": lif, "R": rate}, {k: projs[k] for k in names})
        res = bd.run(net, 200.0, 0.1, inputs={"L": 11.0}, record=["pop.R.r", "pop.L.spike"], check_finite=False)
        assert np.asarray(res["pop.R.r"])[-1].min() > 0.0  # the spikes drive the rate units
        counts.append(int(np.asarray(res["pop.L.spike"]).sum()))
    assert counts[0] > 0 and counts[1] > counts[0] + 20  # the rates feed back an excitatory current


def test_graded_synapse_reads_the_membrane_potential():
    lif = bd.neurons.LIF(n=3)
    m = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    V = jnp.array([-70.0, -60.0, -50.0])
    for conn, w in ((m, 0.1), (bc.from_matrix(m), 0.1 * bc.from_matrix(m).values_from_dense(m))):
        proj = SynapticProjection("A", "B", conn, w, Instant(), CurrentOutput(), signal="V")
        st = proj.init_state(lif, bd.neurons.LIF(n=2), dtype=F64)
        _, I = proj.deliver(st, {"V": V, "spike": jnp.zeros(3)}, {"V": jnp.zeros(2)}, 0.0, 0.1)
        np.testing.assert_allclose(I, 0.1 * np.asarray(V) @ m, rtol=1e-12)


def test_event_and_matvec_paths_agree_and_event_can_be_forced():
    pc = bc.ProceduralConn(30, 20, 0.2, seed=9)
    x = jnp.asarray((np.random.default_rng(1).random(30) < 0.3).astype(float))
    outs = []
    for conn in (pc, pc.to_csr(), pc.to_csr().to_dense(dtype=np.float64)):
        for event in (True, False):
            proj = SynapticProjection("A", "B", conn, 0.7, Instant(), signal="s", event=event)
            st = proj.init_state(bd.neurons.LIF(n=30), bd.neurons.LIF(n=20), dtype=F64)
            outs.append(np.asarray(proj.deliver(st, {"s": x}, {"V": jnp.zeros(20)}, 0.0, 0.1)[1]))
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-12, atol=1e-12)


def test_gradient_reaches_the_weight_through_a_continuous_csr_projection():
    csr = bc.fixed_prob(8, 5, 0.5, seed=3)
    r = jnp.linspace(0.1, 1.0, 8)

    def total(w):
        proj = SynapticProjection("A", "B", csr, w, Instant(), signal="r")
        st = proj.init_state(bd.neurons.RateUnit(n=8), bd.neurons.RateUnit(n=5), dtype=F64)
        return jnp.sum(proj.deliver(st, {"r": r}, {"r": jnp.zeros(5)}, 0.0, 0.1)[1])

    g = jax.grad(total)(jnp.asarray(0.5, F64))
    pre, _ = csr.to_ij()
    assert float(g) == pytest.approx(float(np.sum(np.asarray(r)[pre])), rel=1e-12)


def test_rate_short_term_plasticity_on_a_continuous_signal():
    """TsodyksMarkramRate on a rate projection: the transmitted rate is u+ x r (its fixed point)."""
    stp = TsodyksMarkramRate(U=0.2, tau_f=0.0, tau_d=200.0)
    proj = SynapticProjection("A", "B", np.ones((1, 1)), 1.0, Instant(), signal="r", stp=stp)
    st = proj.init_state(bd.neurons.RateUnit(n=1), bd.neurons.RateUnit(n=1), dtype=F64)
    step = jax.jit(lambda st: proj.deliver(st, {"r": jnp.array([20.0])}, {"r": jnp.zeros(1)}, 0.0, 1.0))
    for _ in range(3000):
        st, out = step(st)
    assert float(out[0]) == pytest.approx(float(stp.steady_state(20.0)[2]), rel=1e-6)


def test_bad_signal_names_raise():
    proj = SynapticProjection("A", "B", np.ones((2, 2)), 1.0, signal="rate")
    st = proj.init_state(bd.neurons.RateUnit(n=2), bd.neurons.RateUnit(n=2), dtype=F64)
    with pytest.raises(BraindynError, match="'rate'.*'r'"):
        proj.deliver(st, {"r": jnp.zeros(2)}, {"r": jnp.zeros(2)}, 0.0, 0.1)
    with pytest.raises(BraindynError, match="signal"):
        SynapticProjection("A", "B", np.ones((2, 2)), 1.0, signal="")
    with pytest.raises(BraindynError, match="event"):
        SynapticProjection("A", "B", np.ones((2, 2)), 1.0, event="yes")
