"""SynapticProjection: delays (exact arrival step), storages (identical activity), errors, E-I network."""
import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import braindyn as bd  # noqa: E402
import braindyn.connect as bc  # noqa: E402
from braindyn import BraindynError  # noqa: E402
from braindyn.plasticity import STDP, TsodyksMarkram  # noqa: E402
from braindyn.synapses import (AMPA, ConductanceOutput, CurrentOutput, Delta, Exponential,  # noqa: E402
                               SynapticProjection)


class Source(bd.Dynamics):
    """Test population: neuron j spikes during the steps listed in ``times[j]``."""

    n: int = eqx.field(static=True)
    steps: tuple = eqx.field(static=True)

    def init_state(self, *, key=None, dtype=None, **initial):
        dtype = dtype or jnp.float64
        return {"spike": jnp.zeros((self.n,), dtype), "i": jnp.zeros((), jnp.int32)}

    def step(self, state, inputs, t, dt, key=None):
        i = state["i"]
        spk = jnp.stack([jnp.any(i == jnp.array(s, jnp.int32)) if s else jnp.array(False) for s in self.steps])
        return {"spike": spk.astype(state["spike"].dtype), "i": i + 1}, {}


class Sink(bd.Dynamics):
    n: int = eqx.field(static=True)

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"V": jnp.zeros((self.n,), dtype or jnp.float64), "spike": jnp.zeros((self.n,), dtype or jnp.float64)}

    def step(self, state, inputs, t, dt, key=None):
        return state, {}


def arrival_steps(proj, n_steps=40):
    net = bd.Network({"src": Source(n=proj.n_pre, steps=((5,),) + ((),) * (proj.n_pre - 1)),
                      "dst": Sink(n=proj.n_post)}, {"p": proj})
    res = bd.run(net, n_steps * 0.1, 0.1, record="proj.p.syn.g", check_finite=False)
    g = np.asarray(res["proj.p.syn.g"])
    return [int(np.argmax(g[:, i] > 0)) if np.any(g[:, i] > 0) else None for i in range(proj.n_post)]


# the source spikes during step 5, so the spike is sent at step 6 and, with delay d, arrives at step 6 + d
SENT = 6


@pytest.mark.parametrize("d", [0, 1, 7])
@pytest.mark.parametrize("kind", ["csr", "dense", "procedural"])
def test_homogeneous_delay_arrives_at_n_plus_d(d, kind):
    if kind == "csr":
        conn = bc.from_ij([0, 0], [0, 1], 1, 2)
    elif kind == "dense":
        conn = np.ones((1, 2))
    else:
        conn = bc.ProceduralConn(1, 2, 1.0, seed=0)
    proj = SynapticProjection("src", "dst", conn, 1.0, Delta(), CurrentOutput(), delay=0.1 * d)
    assert arrival_steps(proj) == [SENT + d, SENT + d]


@pytest.mark.parametrize("kind", ["csr", "dense"])
def test_per_synapse_delays_arrive_at_n_plus_d(kind):
    delays = np.array([0.0, 0.3, 1.0])
    if kind == "csr":
        conn, dl = bc.from_ij([0, 0, 0], [0, 1, 2], 1, 3), delays
    else:
        conn, dl = np.ones((1, 3)), delays[None, :]
    proj = SynapticProjection("src", "dst", conn, 1.0, Exponential(5.0), CurrentOutput(), delay=dl)
    assert arrival_steps(proj) == [SENT, SENT + 3, SENT + 10]


def test_per_synapse_delay_weights_and_repeated_spikes():
    conn, w = bc.from_ij([0, 0, 1], [0, 0, 0], 2, 1, weights=[1.0, 2.0, 4.0])
    proj = SynapticProjection("src", "dst", conn, w, Delta(), CurrentOutput(), delay=np.array([0.2, 0.0, 0.2]))
    net = bd.Network({"src": Source(n=2, steps=((3, 4), (3,))), "dst": Sink(n=1)}, {"p": proj})
    res = bd.run(net, 1.5, 0.1, record="proj.p.syn.g", check_finite=False)
    charge = np.asarray(res["proj.p.syn.g"])[:, 0] * 0.1
    expected = np.zeros(15)
    # spikes of step 3 are sent at step 4, of step 4 at step 5
    expected[4] += 2.0
    expected[6] += 1.0 + 4.0
    expected[5] += 2.0
    expected[7] += 1.0
    np.testing.assert_allclose(charge, expected, atol=1e-12)


def ei_network(storage, seed=3, n_e=80, n_i=20, p=0.1, stp=False, stdp=False):
    """A small E-I LIF network whose weights are dyadic (sums exact in any order)."""
    n = n_e + n_i
    lif = dict(V_rest=-60.0, V_reset=-60.0, V_th=-50.0, tau=20.0, t_ref=5.0)
    pops = {"E": bd.neurons.LIF(n=n_e, **lif), "I": bd.neurons.LIF(n=n_i, **lif)}
    projs = {}
    for k, (a, b, w, tau, E) in enumerate([("E", "E", 0.25, 5.0, 0.0), ("E", "I", 0.25, 5.0, 0.0),
                                          ("I", "E", 2.0, 10.0, -80.0), ("I", "I", 2.0, 10.0, -80.0)]):
        pc = bc.ProceduralConn(pops[a].n, pops[b].n, p, seed=seed + k)
        conn = {"procedural": pc, "csr": pc.to_csr(), "dense": pc.to_csr().to_dense(dtype=np.float64)}[storage]
        projs[a + b] = SynapticProjection(
            a, b, conn, w, Exponential(tau), ConductanceOutput(E=E), delay=0.2,
            stp=TsodyksMarkram(U=0.5, tau_f=20.0, tau_d=50.0) if (stp and a == "E") else None,
            plasticity=STDP(A_plus=0.25, A_minus=0.25, w_min=0.0, w_max=4.0) if (stdp and a == b == "E") else None)
    return bd.Network(pops, projs)


def run_ei(net, key=0, T=150.0):
    st = net.init_state(key=jax.random.PRNGKey(key))
    rng = np.random.default_rng(key)
    st["pop"]["E"]["V"] = jnp.asarray(rng.uniform(-60, -50, net.populations["E"].n))
    st["pop"]["I"]["V"] = jnp.asarray(rng.uniform(-60, -50, net.populations["I"].n))
    return bd.run(net, T, 0.1, state0=st, inputs={"E": 14.0, "I": 14.0},
                  record=["pop.E.spike", "pop.I.spike"], check_finite=False)


@pytest.mark.parametrize("opts", [{}, {"stp": True, "stdp": True}])
def test_three_storages_give_identical_activity(opts):
    rasters = {}
    for storage in ("csr", "dense", "procedural"):
        if storage == "procedural" and opts.get("stdp"):
            continue  # plasticity needs stored weights
        res = run_ei(ei_network(storage, **opts), T=100.0)
        rasters[storage] = (np.asarray(res["pop.E.spike"]), np.asarray(res["pop.I.spike"]))
    ref = rasters["csr"]
    assert ref[0].sum() > 20  # the network is active
    for k, r in rasters.items():
        np.testing.assert_array_equal(r[0], ref[0], err_msg=k)
        np.testing.assert_array_equal(r[1], ref[1], err_msg=k)


def test_transmitter_kinetics_through_projection_csr_equals_dense():
    pc = bc.ProceduralConn(5, 4, 0.6, seed=1)
    out = []
    for conn in (pc.to_csr(), pc.to_csr().to_dense(dtype=np.float64), pc):
        proj = SynapticProjection("src", "dst", conn, 0.5, AMPA(), ConductanceOutput(E=0.0))
        net = bd.Network({"src": Source(n=5, steps=((2,), (4,), (), (3, 9), (1,))), "dst": Sink(n=4)}, {"p": proj})
        st = net.init_state()
        st["pop"]["dst"]["V"] = jnp.full(4, -65.0)
        res = bd.run(net, 3.0, 0.1, state0=st, record=lambda s: {"s": s["proj"]["p"]["syn"]["s"]},
                     check_finite=False)
        out.append(np.asarray(res["s"]))
    np.testing.assert_allclose(out[0], out[1], atol=1e-14)
    np.testing.assert_allclose(out[0], out[2], atol=1e-14)


def test_ei_balance_reference_rates():
    """refcases: 3200 E + 800 I LIF, COBA exponential synapses, I_ext 12: E 16.7-18.4 Hz, I 16.3-17.2 Hz."""
    from braindyn.gallery.networks_bench import ei_balance

    net, st = ei_balance(seed=0)
    res = bd.run(net, 200.0, 0.1, state0=st, inputs={"E": 12.0, "I": 12.0},
                 record=["pop.E.spike", "pop.I.spike"], check_finite=False)
    rE, rI = res.rate_hz("pop.E.spike"), res.rate_hz("pop.I.spike")
    assert 14.0 < rE < 21.0 and 14.0 < rI < 21.0, (rE, rI)


def test_conn_population_mismatch_and_bad_arguments():
    conn = bc.from_ij([0], [1], 3, 3)
    with pytest.raises(BraindynError, match="3 x 3 but the populations have 4 and 4"):   # at construction
        bd.Network({"A": bd.neurons.LIF(n=4)}, {"p": SynapticProjection("A", "A", conn, 1.0)})
    with pytest.raises(BraindynError, match="weight"):
        SynapticProjection("A", "A", conn, np.ones(5))
    with pytest.raises(BraindynError, match="whole number of steps"):
        SynapticProjection("A", "A", conn, 1.0, delay=0.15)
    with pytest.raises(BraindynError, match="delay"):
        SynapticProjection("A", "A", conn, 1.0, delay=-1.0)
    with pytest.raises(BraindynError, match="stp"):
        SynapticProjection("A", "A", conn, 1.0, AMPA(), stp=TsodyksMarkram())
    with pytest.raises(BraindynError, match="per-synapse delays"):
        SynapticProjection("A", "A", conn, 1.0, AMPA(), delay=np.array([0.1]))
    with pytest.raises(BraindynError, match="procedural"):
        SynapticProjection("A", "A", bc.ProceduralConn(3, 3, 0.5, seed=0), 1.0, plasticity=STDP())
    with pytest.raises(BraindynError, match="connectivity"):
        SynapticProjection("A", "A", "dense", 1.0)
    proj = SynapticProjection("A", "A", bc.from_ij([0], [1], 4, 4), 1.0, delay=0.5)
    net = bd.Network({"A": bd.neurons.LIF(n=4)}, {"p": proj})
    with pytest.raises(BraindynError, match="dt=0.05"):
        bd.run(net, 1.0, 0.05, check_finite=False)


# ------------------------------------------------------------------------------- grouped delivery
def coba_like(n_e=160, n_i=40, p=0.1, seed=0, extra=False):
    """Two LIF populations, four CSR projections (E->E, E->I share pre and delay: one group; so do
    I->E and I->I), conductance outputs. ``extra`` adds projections that must stay ungrouped."""
    from braindyn.synapses import ConductanceOutput

    lif = dict(V_rest=-60.0, V_reset=-60.0, V_th=-50.0, tau=20.0, t_ref=5.0)
    pops = {"E": bd.neurons.LIF(n=n_e, **lif), "I": bd.neurons.LIF(n=n_i, **lif)}
    projs = {}
    for k, (a, b) in enumerate([("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]):
        conn = bc.fixed_prob(pops[a].n, pops[b].n, p, seed=seed * 10 + k)
        syn, E = (Exponential(5.0), 0.0) if a == "E" else (Exponential(10.0), -80.0)
        projs[a + b] = SynapticProjection(a, b, conn, 0.6 if a == "E" else 6.7, syn, ConductanceOutput(E=E),
                                          delay=0.2)
    if extra:
        conn = bc.fixed_prob(n_e, n_i, p, seed=99)
        projs["EI_stp"] = SynapticProjection("E", "I", conn, 0.3, Exponential(5.0), delay=0.2,
                                             stp=TsodyksMarkram(U=0.3, tau_f=50.0, tau_d=100.0))
        projs["EI_delay"] = SynapticProjection("E", "I", conn, 0.3, Exponential(5.0), delay=0.5)
        projs["EI_pw"] = SynapticProjection("E", "I", conn, np.full(conn.nnz, 0.1), Exponential(5.0), delay=0.2)
    return pops, dict(sorted(projs.items()))


def run_with_deliver_all(pops, projs, group, n_steps=600, dt=0.1, seed=0):
    """The network's step written out with deliver_all (phase 1), as the Network does."""
    from braindyn.synapses.fused import deliver_all

    rng = np.random.default_rng(seed)
    pstate = {k: m.init_state(dtype=jnp.float64) for k, m in pops.items()}
    for k in pstate:
        pstate[k]["V"] = jnp.asarray(rng.uniform(-60, -50, pops[k].n))
    sstate = {k: pr.init_state(pops[pr.pre], pops[pr.post], dtype=jnp.float64) for k, pr in projs.items()}

    def step(carry, i):
        ps, ss = carry
        ss, contrib = deliver_all(projs, ss, ps, i * dt, dt, {k: None for k in projs}, group=group)
        received = {k: {} for k in pops}
        for k, pr in projs.items():
            acc = received[pr.post]
            acc[pr.target] = acc[pr.target] + contrib[k] if pr.target in acc else contrib[k]
        new = {}
        for k, m in pops.items():
            inp = dict(received[k])
            inp["I"] = inp["I"] + 14.0 if "I" in inp else 14.0
            new[k] = m.step(ps[k], inp, i * dt, dt)[0]
        return (new, ss), (new["E"]["spike"], new["I"]["spike"], ss)

    return jax.jit(lambda c: jax.lax.scan(step, c, jnp.arange(n_steps)))((pstate, sstate))[1]


def test_plan_groups_projections_sharing_pre_signal_delay_and_storage():
    from braindyn.synapses.fused import plan

    pops, projs = coba_like(extra=True)
    assert [sorted(g) for g in plan(projs)] == [["EE", "EI"], ["IE", "II"]]


def test_merged_csr_is_the_column_wise_concatenation():
    from braindyn.synapses.fused import HostCSR, merge_csr

    a, b, c = bc.fixed_prob(30, 20, 0.2, seed=1), bc.fixed_prob(30, 7, 0.5, seed=2), bc.fixed_prob(30, 11, 0.1, seed=3)
    merged, offsets = merge_csr(tuple(HostCSR.of(x) for x in (a, b, c)))
    assert offsets == (0, 20, 27) and merged.n_post == 38
    np.testing.assert_array_equal(merged.to_dense(), np.hstack([a.to_dense(), b.to_dense(), c.to_dense()]))
    assert merged.max_row == int(np.diff(np.asarray(merged.indptr)).max())
    # cached by content: an equal CSR built again maps to the same merged object
    again = merge_csr(tuple(HostCSR.of(x) for x in (bc.fixed_prob(30, 20, 0.2, seed=1), b, c)))
    assert again[0] is merged


@pytest.mark.parametrize("extra", [False, True])
def test_grouped_delivery_equals_ungrouped(extra):
    pops, projs = coba_like(extra=extra)
    ref = run_with_deliver_all(pops, projs, group=False)
    got = run_with_deliver_all(pops, projs, group=True)
    assert np.asarray(ref[0]).sum() > 50  # the network is active
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(ref[0]))
    np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(ref[1]))
    for name in projs:  # every projection state (delay buffers, conductances) equal
        for a, b in zip(jax.tree.leaves(got[2][name]), jax.tree.leaves(ref[2][name])):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=1e-13)


def test_grouped_delivery_inside_the_network_run_equals_a_network_without_groups():
    """Whatever path the Network takes, its run equals the ungrouped reference written out above."""
    pops, projs = coba_like()
    ref = run_with_deliver_all(pops, projs, group=False, n_steps=400)
    net = bd.Network(pops, projs)
    st = net.init_state(dtype=jnp.float64)
    rng = np.random.default_rng(0)
    for k in pops:
        st["pop"][k]["V"] = jnp.asarray(rng.uniform(-60, -50, pops[k].n))
    res = bd.run(net, 40.0, 0.1, state0=st, inputs={"E": 14.0, "I": 14.0}, record=["pop.E.spike", "pop.I.spike"],
                 check_finite=False)
    np.testing.assert_array_equal(np.asarray(res["pop.E.spike"]), np.asarray(ref[0]) > 0)
    np.testing.assert_array_equal(np.asarray(res["pop.I.spike"]), np.asarray(ref[1]) > 0)


# ------------------------------------------------------------------------------- parameters
def test_weights_and_dense_matrices_are_trainable_leaves_csr_indices_are_frozen():
    import equinox as eqx

    dense = SynapticProjection("A", "B", np.array([[0, 1], [1, 1]]), 0.5)
    assert dense.conn.dtype.kind == "f" and dense.weight.dtype.kind == "f"
    csr = bc.fixed_prob(10, 10, 0.3, seed=0)
    sparse = SynapticProjection("A", "B", csr, np.full(csr.nnz, 0.2), Exponential(4.0))
    params, _ = eqx.partition(sparse, eqx.is_inexact_array)
    leaves = jax.tree.leaves(params)
    assert any(x.shape == (csr.nnz,) for x in leaves)  # per-synapse weights
    assert not any(jnp.issubdtype(x.dtype, jnp.integer) for x in leaves)
    assert np.asarray(sparse.conn.indices).dtype.kind == "i"
    names = [p.name for p in bd.params.describe(sparse)]
    assert "weight" in names
    # a new weight value does not change the structure (no recompilation)
    other = SynapticProjection("A", "B", csr, np.full(csr.nnz, 0.7), Exponential(4.0))
    assert jax.tree.structure(other) == jax.tree.structure(sparse)


def test_bad_pre_range_and_weight_raise():
    conn = bc.from_ij([0], [1], 4, 4)
    with pytest.raises(BraindynError, match="pre_range"):
        SynapticProjection("A", "A", conn, 1.0, pre_range=(5, 2))
    with pytest.raises(BraindynError, match="pre_range"):
        SynapticProjection("A", "A", conn, 1.0, pre_range=(2, 2))
    with pytest.raises(BraindynError, match="pre_range"):
        SynapticProjection("A", "A", conn, 1.0, pre_range=(0, 5))
    with pytest.raises(BraindynError, match="pre_range"):
        SynapticProjection("A", "A", conn, 1.0, pre_range="all")
    with pytest.raises(BraindynError, match="weight"):
        SynapticProjection("A", "A", conn, float("nan"))
    with pytest.raises(BraindynError, match="weight"):
        SynapticProjection("A", "A", conn, "0.5")
    assert SynapticProjection("A", "A", conn, 1.0, pre_range=(1, 4)).pre_range == (1, 4)
