"""One network sharded over 1, 2, 4 and 8 forced CPU devices: rasters bit-identical to the unsharded
run (bd.run, the reference), procedural blocks = the whole's synapses, a 2-device checkpoint continued on
1 device. Multi-device checks run in a subprocess (XLA_FLAGS must be set before JAX starts)."""
import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import braindyn as bd
import braindyn.connect as bc
from braindyn.distributed import StateLayout, block, shard_network, unblock
from braindyn.synapses import Exponential, SynapticProjection

_SCRIPT = textwrap.dedent(r"""
    import json, os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp, numpy as np
    import braindyn as bd, braindyn.connect as bc
    from braindyn.models.benchmarks import build
    from braindyn.distributed import (run_sharded, shard_network, save_sharded, load_sharded, make_mesh,
                                      BlockProceduralConn, AXIS)
    from braindyn.synapses import SynapticProjection, Exponential, ConductanceOutput, CurrentOutput
    out = {}
    rec = ["pop.E.spike", "pop.I.spike", "pop.E.V"]

    def same(res, ref):
        return all(np.array_equal(np.asarray(res.records[k]), np.asarray(ref[k])) for k in rec)

    # 1. COBA (CSR, grouped EE+EI / IE+II event calls), sizes that do not divide the device counts; each
    #    device count runs 20 ms, is checkpointed per shard, and continues for 20 ms (on 1 device for D = 2)
    b = build("coba", n=203, dtype=jnp.float64)
    ref = bd.run(b.network, 40.0, state0=b.state0, inputs=b.inputs, record=rec, progress=False)
    out["coba_spikes"] = int(np.asarray(ref["pop.E.spike"]).sum() + np.asarray(ref["pop.I.spike"]).sum())
    sns = {D: shard_network(b.network, D) for D in (1, 2, 4, 8)}
    out["coba"] = {}
    for D, then in ((1, 1), (2, 1), (4, 4), (8, 8)):
        half = run_sharded(b.network, 20.0, state0=b.state0, inputs=b.inputs, record=rec, sharded=sns[D])
        path = os.path.join(sys.argv[1], f"d{D}")
        save_sharded(half.run_state, path, b.network, D)
        rest = run_sharded(b.network, 20.0, resume=load_sharded(path, b.network), inputs=b.inputs, record=rec,
                           sharded=sns[then])
        out["coba"][D] = all(np.array_equal(np.concatenate([half.records[k], rest.records[k]]), np.asarray(ref[k]))
                             for k in rec) and bool(np.allclose(np.concatenate([half.ts, rest.ts]), ref.ts))
    out["shards"] = sorted(os.listdir(os.path.join(sys.argv[1], "d2")))
    # 2. procedural connectivity, 3 devices
    p = build("coba", n=150, dtype=jnp.float64, storage="procedural")
    refp = bd.run(p.network, 40.0, state0=p.state0, inputs=p.inputs, record=rec, progress=False)
    out["proc_spikes"] = int(np.asarray(refp["pop.E.spike"]).sum())
    out["proc"] = same(run_sharded(p.network, 40.0, state0=p.state0, inputs=p.inputs, devices=3, record=rec), refp)
    # 3. a block of targets draws the whole's synapses: union of the 4 blocks == to_csr() of the whole
    pc = bc.ProceduralConn(60, 50, 0.2, seed=7, weight=0.5, weight_std=0.1)
    D, B = 4, 13
    blk = BlockProceduralConn(pc, B)
    mesh = make_mesh(D)
    rows = jax.shard_map(lambda _: [x[None] for x in jax.vmap(blk._row)(jnp.arange(60))], mesh=mesh,
                         in_specs=jax.sharding.PartitionSpec(AXIS), out_specs=jax.sharding.PartitionSpec(AXIS),
                         check_vma=False)(jnp.zeros(D))
    t, v, w = (np.asarray(x) for x in rows)
    pre, post, wts = [], [], []
    for d in range(D):
        jj, kk = np.nonzero(v[d])
        pre += list(jj); post += list(t[d][jj, kk] + d * B); wts += list(w[d][jj, kk])
    order = np.lexsort((post, pre))
    whole = pc.to_csr()
    wpre, wpost = whole.to_ij()
    out["proc_blocks"] = (np.array_equal(np.asarray(pre)[order], wpre) and np.array_equal(np.asarray(post)[order], wpost)
                          and np.allclose(np.asarray(wts)[order], pc.csr_weights(), rtol=1e-13, atol=0))
    # 4. per-synapse weights, a delay, per-neuron kinetics, a dense projection, per-neuron input array
    nE, nI = 37, 11
    E = bd.neurons.LIF(n=nE, V_rest=-60., V_reset=-60., V_th=-50., tau=np.linspace(15., 25., nE), t_ref=2.)
    I = bd.neurons.LIF(n=nI, V_rest=-60., V_reset=-60., V_th=-50., tau=10.)
    cEE = bc.fixed_prob(nE, nE, 0.2, seed=3)
    wEE = np.random.default_rng(0).uniform(0.5, 1.5, cEE.nnz)
    dIE = (np.random.default_rng(1).random((nI, nE)) < 0.3) * 2.0
    net = bd.Network({"E": E, "I": I}, {
        "EE": SynapticProjection("E", "E", cEE, wEE, Exponential(np.linspace(3., 6., nE)), ConductanceOutput(E=0.),
                                 delay=0.5),
        "EI": SynapticProjection("E", "I", bc.fixed_prob(nE, nI, 0.3, seed=4), 0.8, Exponential(5.)),
        "IE": SynapticProjection("I", "E", dIE, 0.3, Exponential(10.), ConductanceOutput(E=-80.))})
    inp = {"E": np.linspace(11., 14., nE), "I": 12.}
    st0 = net.init_state(E={"V": np.linspace(-60., -51., nE)})
    refm = bd.run(net, 40.0, state0=st0, inputs=inp, record=rec, progress=False)
    out["mixed_spikes"] = int(np.asarray(refm["pop.E.spike"]).sum())
    out["mixed"] = same(run_sharded(net, 40.0, state0=st0, inputs=inp, devices=5, record=rec), refm)
    print("RESULT" + json.dumps(out))
""")


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    d = tmp_path_factory.mktemp("shard")
    f = d / "check.py"
    f.write_text(_SCRIPT)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    r = subprocess.run([sys.executable, str(f), str(d / "ckpt")], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def test_coba_raster_identical_on_1_2_4_8_devices_across_a_per_shard_checkpoint(multi):
    assert multi["coba_spikes"] > 20  # the comparison has spikes to compare
    assert multi["coba"] == {"1": True, "2": True, "4": True, "8": True}


def test_procedural_blocks_draw_the_whole_synapses_and_raster(multi):
    assert multi["proc_blocks"]
    assert multi["proc_spikes"] > 10 and multi["proc"]


def test_per_synapse_weights_delay_dense_and_per_neuron_parameters(multi):
    assert multi["mixed_spikes"] > 10
    assert multi["mixed"]


def test_two_device_checkpoint_continues_on_one_device(multi):
    assert multi["shards"] == ["shard-000", "shard-001", "sharding.json"]
    assert multi["coba"]["2"]  # its 20 ms after the checkpoint ran on 1 device


# ---- in-process (one device) ---------------------------------------------------------------------
def test_block_unblock_roundtrip_with_channels():
    x = np.arange(2 * 7 * 3).reshape(14, 3)
    b = block(x, 7, 3, channels=2)
    assert b.shape == (3, 2 * 3, 3)
    np.testing.assert_array_equal(b[0, :3], x[0:3])        # channel 0, neurons 0..2
    np.testing.assert_array_equal(b[0, 3:], x[7:10])       # channel 1, neurons 0..2
    np.testing.assert_array_equal(b[2, :3], x[[6, 6, 6]])  # last block padded with the last neuron
    np.testing.assert_array_equal(unblock(b, 7, 3, channels=2), x)


def test_state_layout_replicates_spikes_and_blocks_the_rest():
    E = bd.neurons.LIF(n=10)
    net = bd.Network({"E": E}, {"EE": SynapticProjection("E", "E", bc.fixed_prob(10, 10, 0.3, seed=0), 1.0,
                                                         Exponential(5.0), delay=0.3)})
    lay = StateLayout(net, 4)
    st = net.init_state()
    sh = lay.shard_state(st)
    assert sh["pop"]["E"]["V"].shape == (4, 3)
    assert sh["pop"]["E"]["spike"].shape == (4, 10)          # every device holds the whole spike vector
    assert sh["proj"]["EE"]["syn"]["g"].shape == (4, 3)
    assert all(x.shape[0] == 4 for x in jax.tree.leaves(sh["proj"]["EE"]["delay"]))  # replicated buffer
    back = lay.unshard_state(sh)
    for a, b in zip(jax.tree.leaves(st), jax.tree.leaves(back)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_errors_name_the_problem():
    E = bd.neurons.LIF(n=10)
    from braindyn.plasticity import STDP

    plastic = bd.Network({"E": E}, {"EE": SynapticProjection("E", "E", bc.fixed_prob(10, 10, 0.3, seed=0), 1.0,
                                                             plasticity=STDP())})
    with pytest.raises(bd.BraindynError, match="plastic"):
        shard_network(plastic, 2)
    with pytest.raises(bd.BraindynError, match="positive integer"):
        shard_network(bd.Network({"E": E}, {}), 0)
    from braindyn.distributed import make_mesh

    with pytest.raises(bd.BraindynError, match="xla_force_host_platform_device_count"):
        make_mesh(10_000)
    sub = bd.Network({"V1": bd.Network({"E": E}, {})}, {})
    with pytest.raises(bd.BraindynError, match="flat population"):
        shard_network(sub, 2)


def test_cli_bench_devices_forces_cpu_devices_and_counts_the_same_spikes():
    from braindyn.bench import run_benchmark

    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    r = subprocess.run([sys.executable, "-m", "braindyn.cli", "bench", "cuba", "--n", "200", "--duration", "20",
                        "--repeats", "1", "--devices", "2", "--json"], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["devices"] == 2 and out["via"] == "sharded"
    ref = run_benchmark("cuba", n=200, duration=20.0, repeats=1, dtype=np.float32)
    assert ref["devices"] == 1 and ref["spikes"] > 0
    assert out["spikes"] == ref["spikes"]
