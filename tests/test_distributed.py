"""Two processes joined by jax.distributed (CPU collectives, the launcher of braindyn.distributed.launch):
the raster of one network sharded over them is bit-identical to the single-process unsharded run, and
their per-shard checkpoint continues in this (single-device) process bit-identically."""
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.models.benchmarks import build

_SCRIPT = textwrap.dedent(r"""
    import sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp, numpy as np
    from braindyn.models.benchmarks import build
    from braindyn.distributed import run_sharded, save_sharded
    assert jax.process_count() == 2 and jax.device_count() == 2, (jax.process_count(), jax.device_count())
    b = build("coba", n=203, dtype=jnp.float64)
    rec = ["pop.E.spike", "pop.I.spike", "pop.E.V"]
    res = run_sharded(b.network, 20.0, state0=b.state0, inputs=b.inputs, devices=2, record=rec)
    save_sharded(res.run_state, sys.argv[1] + "/ckpt", b.network, 2)
    if jax.process_index() == 0:
        np.savez(sys.argv[1] + "/records.npz", **{k: np.asarray(v) for k, v in res.records.items()})
""")

REC = ["pop.E.spike", "pop.I.spike", "pop.E.V"]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    d = tmp_path_factory.mktemp("mp")
    (d / "script.py").write_text(_SCRIPT)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    r = subprocess.run([sys.executable, "-m", "braindyn.distributed.launch", "-n", "2", "--devices-per-process", "1",
                        str(d / "script.py"), str(d)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    return d


def test_two_processes_raster_identical_to_single_process(two_processes):
    b = build("coba", n=203, dtype=jnp.float64)
    ref = bd.run(b.network, 20.0, state0=b.state0, inputs=b.inputs, record=REC, progress=False)
    got = np.load(two_processes / "records.npz")
    assert np.asarray(ref["pop.E.spike"]).sum() > 10
    for k in REC:
        np.testing.assert_array_equal(got[k], np.asarray(ref[k]))


def test_checkpoint_of_two_processes_continues_in_one(two_processes):
    from braindyn.distributed import load_sharded

    assert sorted(os.listdir(two_processes / "ckpt")) == ["shard-000", "shard-001", "sharding.json"]
    b = build("coba", n=203, dtype=jnp.float64)
    rs = load_sharded(two_processes / "ckpt", b.network)
    assert rs.step == 200
    # continue with the ordinary single-device runner: the assembled state is the whole network's
    rest = bd.run(b.network, 20.0, resume=rs, inputs=b.inputs, record=REC, progress=False)
    whole = bd.run(b.network, 40.0, state0=b.state0, inputs=b.inputs, record=REC, progress=False)
    for k in REC:
        np.testing.assert_array_equal(np.asarray(rest[k]), np.asarray(whole[k])[200:])


def test_launcher_rejects_a_bad_process_count():
    from braindyn.distributed.launch import launch

    with pytest.raises(bd.BraindynError, match="positive integer"):
        launch(0, ["x.py"])


# ---- trial/parameter batches on a local Dask cluster of 2 worker processes ------------------------------------
def test_dask_batch_on_two_workers_gathers_into_one_store(tmp_path):
    pytest.importorskip("distributed", reason="the 'cluster' extra (dask[distributed]) is not installed: "
                                              "pip install 'braindyn[cluster]'")
    from distributed import Client, LocalCluster

    from braindyn.distributed.batch import load_batch, run_batch

    sys.path.insert(0, os.path.dirname(__file__))
    import _batch_tasks

    currents = [21.0, 25.0, 30.0, 40.0]
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"PYTHONPATH": os.pathsep.join([tests_dir, *sys.path])}) as cl, Client(cl) as client:
        out = run_batch(_batch_tasks.lif_count, currents, client=client, store=str(tmp_path / "sweep.zarr"))
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    # independent reference: the LIF firing period tau ln(I / (I - V_th)) (V_rest = V_reset = 0, no refractoriness)
    period = 10.0 * np.log(np.array(currents) / (np.array(currents) - 20.0))
    np.testing.assert_allclose(out["count"], np.floor(200.0 / period), atol=1)
    assert np.all(np.diff(out["count"]) > 0)
    back, items = load_batch(tmp_path / "sweep.zarr")
    assert items == currents
    np.testing.assert_array_equal(back["count"], out["count"])
