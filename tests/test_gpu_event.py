"""The accelerator event kernel (load-balanced expansion, no compaction, no data-dependent loop) against
an independent NumPy product and against the existing event path; the fallback of a burst; gradients;
its benchmark script at a tiny size on the CPU."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn.connect as bc
from braindyn.ops import event_matvec
from braindyn.ops.event_expand import default_capacity, event_matvec_expand

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _numpy_product(csr, s, w):
    pre, post = csr.to_ij()
    w = np.broadcast_to(np.asarray(w, float), (csr.nnz,))
    y = np.zeros(csr.n_post)
    np.add.at(y, post, np.asarray(s, float)[pre] * w)
    return y


@pytest.fixture(scope="module")
def conn():
    return bc.fixed_prob(300, 200, 0.05, seed=3)


@pytest.mark.parametrize("kind,per_synapse", [("bool", False), ("float", True)])
def test_expansion_equals_numpy_and_the_event_path(conn, per_synapse, kind):
    rng = np.random.default_rng(1)
    s = rng.random(conn.n_pre) < 0.05
    if kind == "float":
        s = s * rng.uniform(0.5, 2.0, conn.n_pre)
    w = rng.normal(size=conn.nnz) if per_synapse else 0.7
    got = np.asarray(event_matvec_expand(conn, jnp.asarray(s), w))
    np.testing.assert_allclose(got, _numpy_product(conn, s, w), rtol=1e-12, atol=1e-12)
    ref = np.asarray(event_matvec(conn, jnp.asarray(s), jnp.asarray(w), method="jax"))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_burst_beyond_capacity_falls_back_exactly(conn):
    s = np.ones(conn.n_pre, bool)  # every row fires: nnz events > capacity
    cap = default_capacity(conn)
    assert cap < conn.nnz
    got = np.asarray(event_matvec_expand(conn, jnp.asarray(s), 1.0))
    np.testing.assert_array_equal(got, conn.in_degree().astype(float))  # integer counts: exact
    tiny = np.asarray(event_matvec_expand(conn, jnp.asarray(s), 1.0, capacity=conn.max_row))
    np.testing.assert_array_equal(tiny, got)


def test_no_spikes_and_empty_rows():
    c = bc.from_ij([2, 2], [0, 3], 4, 4)  # rows 0, 1, 3 empty
    assert np.asarray(event_matvec_expand(c, jnp.zeros(4, bool), 1.0)).tolist() == [0.0] * 4
    assert np.asarray(event_matvec_expand(c, jnp.array([True, True, True, True]), 2.0)).tolist() == [2.0, 0, 0, 2.0]


def test_gradient_matches_the_linear_map(conn):
    rng = np.random.default_rng(2)
    s = (rng.random(conn.n_pre) < 0.05).astype(float)
    w = rng.normal(size=conn.nnz)
    cot = rng.normal(size=conn.n_post)
    gw = jax.grad(lambda w_: jnp.dot(event_matvec_expand(conn, jnp.asarray(s), w_), cot))(jnp.asarray(w))
    pre, post = conn.to_ij()
    np.testing.assert_allclose(np.asarray(gw), s[pre] * cot[post], rtol=1e-12, atol=1e-12)


def test_bad_input():
    c = bc.from_ij([0], [0], 2, 2)
    with pytest.raises(ValueError, match="spikes has shape"):
        event_matvec_expand(c, jnp.zeros(3, bool))
    with pytest.raises(ValueError, match="capacity"):
        event_matvec_expand(c, jnp.zeros(2, bool), capacity=0)
    with pytest.raises(TypeError, match="CSR"):
        event_matvec_expand(np.eye(2), jnp.zeros(2, bool))


def test_benchmark_script_runs_tiny_on_cpu(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_event", os.path.join(ROOT, "benchmarks", "gpu_event.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--tiny", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {r["kernel"] for r in out["rows"]} >= {"segment", "jax", "expand"}
    assert all(row["max_abs_diff"] < 1e-4 for row in out["rows"])


def test_a_network_on_the_expansion_kernel_has_the_raster_of_the_default_kernel():
    import braindyn as bd
    from braindyn.distributed.shard import _setattrs
    from braindyn.models.benchmarks import build

    b = build("coba", n=300, dtype=jnp.float64)
    projs = {k: _setattrs(p, method="expand") for k, p in b.network.projections.items()}
    net = bd.Network(dict(b.network.populations), projs)
    rec = ["pop.E.spike", "pop.I.spike"]
    ref = bd.run(b.network, 30.0, state0=b.state0, inputs=b.inputs, record=rec, progress=False)
    got = bd.run(net, 30.0, state0=b.state0, inputs=b.inputs, record=rec, progress=False)
    assert np.asarray(ref["pop.E.spike"]).sum() > 20
    for k in rec:
        np.testing.assert_array_equal(np.asarray(got[k]), np.asarray(ref[k]))
