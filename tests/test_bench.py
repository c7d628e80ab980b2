"""Benchmark networks and ``braindyn bench``: built from public blocks, rates in the published bands,
the peers' parameters, the command's keys (never timings)."""
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn import BraindynError
from braindyn.bench import run_benchmark
from braindyn.models import benchmarks as B
from braindyn.neurons import LIF, ConductanceNeuron
from braindyn.synapses import ConductanceOutput, CurrentOutput, Exponential, SynapticProjection

KEYS = {"n", "duration_ms", "dt_ms", "build_s", "compile_s", "run_s", "run_s_all", "rate_hz", "peak_rss_mb",
        "precision", "kernel", "via"}


def test_parameters_match_the_peers():
    """The numbers of ../shared/bench/params.py (copied, not imported) and the benchmark definition."""
    assert B.DT == 0.1 and B.sizes(4000) == (3200, 800, 0.02)
    assert (B.COBA["we"], B.COBA["wi"], B.COBA["tau_e"], B.COBA["tau_i"]) == (0.6, 6.7, 5.0, 10.0)
    assert (B.COBA["E_e"], B.COBA["E_i"], B.COBA["I_b"], B.COBA["E_L"], B.COBA["V_th"]) == (0.0, -80.0, 20.0, -60.0,
                                                                                            -50.0)
    assert (B.CUBA["we"], B.CUBA["wi"], B.CUBA["E_L"]) == (1.62, -9.0, -49.0)
    assert (B.COBAHH["g_Na"], B.COBAHH["g_K"], B.COBAHH["V_T"], B.COBAHH["we"], B.COBAHH["wi"]) == (
        20000.0, 6000.0, -63.0, 6.0, 67.0)


@pytest.mark.parametrize("name", B.NAMES)
def test_built_from_public_blocks_only(name):
    """Populations of public neuron classes, SynapticProjections with Exponential kinetics and the
    public outputs; no class of the benchmark module in the network except the channel pieces."""
    net, state0, inputs = B.build(name, n=200)
    assert sorted(net.populations) == ["E", "I"] and sorted(net.projections) == ["EE", "EI", "IE", "II"]
    assert net.populations["E"].n == 160 and net.populations["I"].n == 40
    for pop in net.populations.values():
        assert type(pop) is (ConductanceNeuron if name == "cobahh" else LIF)
        assert pop.refractory_rule == "exact"
    for pname, pr in net.projections.items():
        assert type(pr) is SynapticProjection and type(pr.synapse) is Exponential
        assert type(pr.output) is (CurrentOutput if name == "cuba" else ConductanceOutput)
        assert isinstance(pr.conn, bd.connect.CSR)
    assert (inputs == {"E": 20.0, "I": 20.0}) if name == "coba" else inputs is None


def test_initial_state_is_the_peers_distribution():
    _, st, _ = B.build("coba", n=4000)
    V = np.concatenate([np.asarray(st["pop"]["E"]["V"]), np.asarray(st["pop"]["I"]["V"])])
    assert abs(V.mean() + 55.0) < 0.15 and abs(V.std() - 2.0) < 0.1
    _, st, _ = B.build("cuba", n=4000)
    V = np.asarray(st["pop"]["E"]["V"])
    assert V.min() >= -60.0 and V.max() <= -50.0 and abs(V.mean() + 55.0) < 0.3
    _, st, _ = B.build("cobahh", n=4000)
    E = st["pop"]["E"]
    assert abs(float(E["V"].mean()) + 65.0) < 0.3 and float(jnp.abs(E["Na_m"]).max()) == 0.0
    ge = np.asarray(st["proj"]["EE"]["syn"]["g"])      # g_e of the E population, nS
    gi = np.asarray(st["proj"]["IE"]["syn"]["g"])
    assert abs(ge.mean() - 40.0) < 1.5 and abs(gi.mean() - 200.0) < 10.0 and gi.min() >= 0.0


def test_connectivity_is_80_inputs_per_neuron():
    net, _, _ = B.build("coba", 1000)
    indeg = net.projections["EE"].conn.in_degree() + net.projections["IE"].conn.in_degree()
    assert 70 < indeg.mean() < 90


# Published bands for 4000 neurons, 1 s (the peers' rate_hz for the same parameters, see
# benchmarks/README.md: COBA ~21-22 Hz, CUBA ~5.6 Hz, COBA-HH ~34-38 Hz; Brette et al. 2007 report
# COBA at a few to ~20 Hz). At 400 neurons and 50 ms the rates are noisier; the bands are wide
# enough for that but exclude silence, saturation and the refractory limit (200 Hz for 5 ms).
@pytest.mark.parametrize("name, lo, hi", [("coba", 5.0, 60.0), ("cuba", 1.0, 40.0), ("cobahh", 10.0, 120.0)])
def test_run_benchmark_small(name, lo, hi):
    out = run_benchmark(name, n=400, duration=50.0, repeats=2)
    assert KEYS <= set(out)
    assert out["n"] == 400 and out["duration_ms"] == pytest.approx(50.0) and out["n_steps"] == 500
    assert len(out["run_s_all"]) == 2 and out["run_s"] == min(out["run_s_all"])
    assert lo < out["rate_hz"] < hi, out["rate_hz"]
    assert out["peak_rss_mb"] > 0 and out["n_synapses"] > 0.7 * 80 * 400


@pytest.mark.parametrize("name, lo, hi", [("coba", 15.0, 30.0), ("cuba", 3.5, 8.0), ("cobahh", 25.0, 45.0)])
def test_user_run_rates_match_the_peers(name, lo, hi):
    """The network run with ``bd.run`` exactly as the docs say, 1000 neurons for 300 ms: the mean
    rate is in the band of the peers' rates for the same parameters (COBA 20.4-22.1 Hz, CUBA
    5.55-5.75 Hz, COBA-HH 34.3-38.2 Hz at 4000 neurons, 1 s)."""
    net, state0, inputs = B.build(name, n=1000)
    res = bd.run(net, 300.0, state0=state0, inputs=inputs, record=["pop.E.spike", "pop.I.spike"])
    spikes = res.spike_count("pop.E.spike") + res.spike_count("pop.I.spike")
    rate = spikes / 1000 / 0.3
    assert lo < rate < hi, rate


def test_via_run_and_simulate_give_the_same_spikes():
    a = run_benchmark("cuba", n=300, duration=30.0, repeats=1, via="simulate")
    b = run_benchmark("cuba", n=300, duration=30.0, repeats=1, via="run")
    assert a["spikes"] == b["spikes"] > 0 and b["via"] == "run"


def test_storages_give_identical_activity():
    spikes = []
    for storage in ("csr-procedural", "procedural", "dense-procedural"):
        out = run_benchmark("coba", n=200, duration=30.0, repeats=1, storage=storage)
        spikes.append(out["spikes"])
    assert spikes[0] == spikes[1] == spikes[2] and spikes[0] > 0


def test_traub_channels_reproduce_the_traub_miles_equations():
    """The Traub--Miles pieces inside ConductanceNeuron give the benchmark's vector field
    (written out independently here)."""
    net, _, _ = B.build("cobahh", n=100)
    nrn = net.populations["E"]
    P = B.COBAHH
    rng = np.random.default_rng(0)
    V = rng.uniform(-80, 20, 16)
    m, h, n = (rng.uniform(0, 1, 16) for _ in range(3))
    y = {"V": jnp.asarray(V), "Na_m": jnp.asarray(m), "Na_h": jnp.asarray(h), "K_n": jnp.asarray(n)}
    I = rng.normal(0, 100, 16)
    f = nrn.vector_field(0.0, y, {"I": jnp.asarray(I)})
    x = V - P["V_T"]
    am = 0.32 * (13 - x) / (np.exp((13 - x) / 4) - 1)
    bm = 0.28 * (x - 40) / (np.exp((x - 40) / 5) - 1)
    ah = 0.128 * np.exp((17 - x) / 18)
    bh = 4 / (1 + np.exp((40 - x) / 5))
    an = 0.032 * (15 - x) / (np.exp((15 - x) / 5) - 1)
    bn = 0.5 * np.exp((10 - x) / 40)
    dV = (P["g_L"] * (P["E_L"] - V) - P["g_Na"] * m ** 3 * h * (V - P["E_Na"]) - P["g_K"] * n ** 4 * (V - P["E_K"])
          + I) / P["C_m"]
    np.testing.assert_allclose(f["V"], dV, rtol=2e-4, atol=1e-3)
    np.testing.assert_allclose(f["Na_m"], am * (1 - m) - bm * m, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(f["Na_h"], ah * (1 - h) - bh * h, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(f["K_n"], an * (1 - n) - bn * n, rtol=2e-4, atol=1e-5)


def test_conductance_input_makes_exp_euler_exact_for_coba():
    """A COBA neuron with its conductances held over a step: one step of the run equals the exact
    solution V_inf + (V - V_inf) exp(-(1 + g_e + g_i) dt / tau)."""
    net, st, inputs = B.build("coba", n=200)
    ge = jnp.linspace(0.0, 2.0, 160)
    gi = jnp.linspace(0.0, 1.0, 160)
    st["proj"]["EE"]["syn"]["g"] = ge
    st["proj"]["IE"]["syn"]["g"] = gi
    new, _ = net.step(st, inputs, 0.0, 0.1)
    P = B.COBA
    # the synapses decay first (deliver), then the neuron integrates with the decayed conductances
    ge1, gi1 = ge * np.exp(-0.1 / P["tau_e"]), gi * np.exp(-0.1 / P["tau_i"])
    gt = 1.0 + ge1 + gi1
    V_inf = (P["E_L"] + ge1 * P["E_e"] + gi1 * P["E_i"] + P["I_b"]) / gt
    V0 = np.asarray(st["pop"]["E"]["V"])
    V1 = V_inf + (V0 - V_inf) * np.exp(-gt * 0.1 / P["tau_m"])
    spiked = np.asarray(new["pop"]["E"]["spike"]) > 0
    np.testing.assert_allclose(np.asarray(new["pop"]["E"]["V"])[~spiked], V1[~spiked], rtol=2e-6, atol=2e-5)


def test_cli_json():
    p = subprocess.run([sys.executable, "-m", "braindyn.cli", "bench", "cuba", "--n", "300", "--duration", "20",
                        "--repeats", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert KEYS <= set(out) and out["n"] == 300 and out["via"] == "simulate"


def test_bad_arguments():
    with pytest.raises(BraindynError, match="benchmark"):
        run_benchmark("cobra", n=400)
    with pytest.raises(BraindynError, match="repeats"):
        run_benchmark("coba", n=400, repeats=0)
    with pytest.raises(BraindynError, match="duration"):
        run_benchmark("coba", n=400, duration=-1.0)
    with pytest.raises(BraindynError, match="via"):
        run_benchmark("coba", n=400, via="brian")
    with pytest.raises(BraindynError, match="storage"):
        B.build("coba", 400, storage="coo")
    with pytest.raises(BraindynError, match="size"):
        B.build("coba", 5)


def test_build_is_reproducible_and_keyed():
    a = B.build("coba", n=100, seed=3)
    b = B.build("coba", n=100, seed=3)
    c = B.build("coba", n=100, seed=4)
    assert np.array_equal(a.state0["pop"]["E"]["V"], b.state0["pop"]["E"]["V"])
    assert not np.array_equal(a.state0["pop"]["E"]["V"], c.state0["pop"]["E"]["V"])
    d = B.build("coba", n=100, seed=3, key=jax.random.PRNGKey(9))
    assert not np.array_equal(a.state0["pop"]["E"]["V"], d.state0["pop"]["E"]["V"])
