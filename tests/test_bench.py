"""Benchmark networks and ``braindyn bench``: keys, sane rates, peer parameters (never timings)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from braindyn import BraindynError
from braindyn.bench import run_benchmark
from braindyn.models import benchmarks as B

KEYS = {"n", "duration_ms", "dt_ms", "build_s", "compile_s", "run_s", "run_s_all", "rate_hz", "peak_rss_mb",
        "precision", "kernel"}


def test_parameters_match_the_peers():
    """The numbers of ../shared/bench/params.py (copied, not imported) and the benchmark definition."""
    assert B.DT == 0.1 and B.sizes(4000) == (3200, 800, 0.02)
    assert (B.COBA["we"], B.COBA["wi"], B.COBA["tau_e"], B.COBA["tau_i"]) == (0.6, 6.7, 5.0, 10.0)
    assert (B.COBA["E_e"], B.COBA["E_i"], B.COBA["I_b"], B.COBA["E_L"], B.COBA["V_th"]) == (0.0, -80.0, 20.0, -60.0,
                                                                                            -50.0)
    assert (B.CUBA["we"], B.CUBA["wi"], B.CUBA["E_L"]) == (1.62, -9.0, -49.0)
    assert (B.COBAHH["g_Na"], B.COBAHH["g_K"], B.COBAHH["V_T"], B.COBAHH["we"], B.COBAHH["wi"]) == (
        20000.0, 6000.0, -63.0, 6.0, 67.0)


@pytest.mark.parametrize("name, lo, hi", [("coba", 5.0, 80.0), ("cuba", 1.0, 80.0), ("cobahh", 5.0, 150.0)])
def test_run_benchmark_small(name, lo, hi):
    out = run_benchmark(name, n=400, duration=50.0, repeats=2)
    assert KEYS <= set(out)
    assert out["n"] == 400 and out["duration_ms"] == pytest.approx(50.0) and out["n_steps"] == 500
    assert len(out["run_s_all"]) == 2 and out["run_s"] == min(out["run_s_all"])
    assert lo < out["rate_hz"] < hi, out["rate_hz"]
    assert out["peak_rss_mb"] > 0 and out["n_synapses"] > 0.7 * 80 * 400


def test_connectivity_is_80_inputs_per_neuron_with_empty_rows_outside_the_block():
    net, _ = B.build("coba", 1000, fused=False)
    exc, inh = net.projections["exc"].conn, net.projections["inh"].conn
    assert exc.out_degree()[800:].sum() == 0 and inh.out_degree()[:800].sum() == 0
    indeg = exc.in_degree() + inh.in_degree()
    assert 70 < indeg.mean() < 90


def test_fused_projection_gives_identical_activity():
    """One n x 2n CSR with stacked ge/gi channels = two projections with the same synapses."""
    a = run_benchmark("coba", n=300, duration=40.0, repeats=1, storage="csr")
    b = run_benchmark("coba", n=300, duration=40.0, repeats=1, storage="csr", fused=False)
    assert a["spikes"] == b["spikes"] > 0 and a["n_synapses"] == b["n_synapses"]


def test_storages_give_identical_activity():
    rates = []
    for storage in ("csr-procedural", "procedural", "dense-procedural"):
        out = run_benchmark("coba", n=200, duration=30.0, repeats=1, storage=storage)
        rates.append(out["spikes"])
    assert rates[0] == rates[1] == rates[2] and rates[0] > 0


def test_cli_json():
    p = subprocess.run([sys.executable, "-m", "braindyn.cli", "bench", "cuba", "--n", "300", "--duration", "20",
                        "--repeats", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert KEYS <= set(out) and out["n"] == 300


def test_bad_arguments():
    with pytest.raises(BraindynError, match="benchmark"):
        run_benchmark("cobra", n=400)
    with pytest.raises(BraindynError, match="repeats"):
        run_benchmark("coba", n=400, repeats=0)
    with pytest.raises(BraindynError, match="duration"):
        run_benchmark("coba", n=400, duration=-1.0)
    with pytest.raises(BraindynError, match="storage"):
        B.build("coba", 400, storage="coo")


@pytest.mark.parametrize("model", [B.COBALIF(n=50), B.CUBALIF(n=50), B.TraubHH(n=50)])
def test_written_out_update_equals_core_exp_euler(model):
    """The benchmark neurons' fast path is the core's exponential Euler, written out."""
    import jax
    import jax.numpy as jnp

    from braindyn.integrators import get

    rng = np.random.default_rng(0)
    y = {k: jnp.asarray(rng.uniform(-70, -40, 50) if k == "V" else rng.uniform(0, 1, 50)) for k in model.variables}
    args = {"I": jnp.asarray(rng.normal(0, 5, 50)), "ge": jnp.asarray(rng.uniform(0, 3, 50)),
            "gi": jnp.asarray(rng.uniform(0, 3, 50))}
    if isinstance(model, B.TraubHH):
        args = {"I": args["I"] * 10, "ge": args["ge"] * 30, "gi": args["gi"] * 100}
    fast = model.integrate_continuous(y, args, 0.0, 0.1, None)
    ref = get("exp_euler")(model.vector_field, 0.0, y, 0.1, args)
    for k in y:
        np.testing.assert_allclose(fast[k], ref[k], rtol=1e-9, atol=1e-9)
    assert jax.tree.structure(fast) == jax.tree.structure(ref)
