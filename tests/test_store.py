"""Streamed records: a Zarr v3 store that reads back identical to the in-memory records,
resumes that append (and cut back to the checkpoint), Ctrl-C that keeps what was done."""
import os
import shutil

import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import LIF

zarr = pytest.importorskip("zarr")

REC = ["pop.E.V", "pop.E.spike", "pop.I.spike"]


def _net():
    return bd.Network({"E": LIF(n=6, noise={"V": 2.0}), "I": LIF(n=3, noise={"V": 2.0})})


KW = dict(inputs={"E": jnp.linspace(18.0, 40.0, 6), "I": 30.0}, key=5, chunk_steps=100)


@pytest.fixture(scope="module")
def reference():
    net = _net()
    return net, bd.run(net, 60.0, record=REC, **KW), bd.run(net, 60.0, record=REC, record_every=5, **KW)


def _same(res_store, res_mem):
    assert set(res_store.records) == set(res_mem.records)
    np.testing.assert_array_equal(res_store.ts, res_mem.ts)
    for k in res_mem.records:
        np.testing.assert_array_equal(np.asarray(res_store[k]), np.asarray(res_mem[k]))


def test_store_reads_back_identical_to_memory(tmp_path, reference):
    net, mem, mem5 = reference
    assert mem.spike_count("pop.E.spike") > 10
    for every, ref in ((1, mem), (5, mem5)):
        path = tmp_path / f"run{every}.zarr"
        res = bd.run(net, 60.0, record=REC, record_every=every, store=path, **KW)
        _same(res, ref)
        assert res.store == os.fspath(path) and not isinstance(res["pop.E.V"], np.ndarray)   # read lazily
        np.testing.assert_array_equal(res.rates_hz("pop.E.spike"), ref.rates_hz("pop.E.spike"))
        # any Zarr reader: packed bits / counts / values, times, metadata
        g = zarr.open_group(path, mode="r")
        enc = g["pop.E.spike"].attrs["encoding"]
        raw = g["pop.E.spike"][:]
        if every == 1:
            assert enc == "packbits" and raw.dtype == np.uint8 and raw.shape == (600, 1)
            np.testing.assert_array_equal(np.unpackbits(raw, axis=-1, count=6).astype(bool),
                                          np.asarray(ref["pop.E.spike"]))
        else:
            assert enc == "counts" and raw.dtype.kind == "i"
        assert g["pop.E.V"].compressors  # compressed
        assert g.attrs["dt"] == 0.1 and g.attrs["record_every"] == every and g.attrs["step_start"] == 0
        assert g.attrs["fingerprint"] == ref.run_state.fingerprint
        assert "populations.E.tau" in g.attrs["parameters"] and g.attrs["versions"]["zarr"] == zarr.__version__
        assert g["pop.E.V"].chunks[0] <= 100 // every       # one Zarr chunk per run chunk: bounded memory
    with pytest.raises(bd.BraindynError, match="exists already"):
        bd.run(net, 60.0, record=REC, store=tmp_path / "run1.zarr", **KW)


def test_resume_appends_and_cuts_back_to_the_checkpoint(tmp_path, reference):
    net, mem, _ = reference
    path, ck, early = tmp_path / "s.zarr", tmp_path / "ck", tmp_path / "ck_early"
    # 20 ms with a checkpoint (kept aside), then 20 ms more into the same store
    first = bd.run(net, 20.0, record=REC, store=path, checkpoint=ck, **KW)
    shutil.copytree(ck, early)
    bd.run(net, 20.0, record=REC, store=path, resume=ck, checkpoint=ck,
           **{k: v for k, v in KW.items() if k != "key"})
    assert zarr.open_group(path, mode="r")["ts"].shape == (400,)
    # resuming from the earlier checkpoint drops the 200 records after it and appends anew
    rest = bd.run(net, 40.0, record=REC, store=path, resume=early, **{k: v for k, v in KW.items() if k != "key"})
    assert first.n_steps == 200 and rest.n_steps == 400 and rest.ts[0] == pytest.approx(20.1)
    ts, recs, attrs = bd.store.open_records(path)
    np.testing.assert_array_equal(ts, mem.ts)
    for k in REC:
        np.testing.assert_array_equal(np.asarray(recs[k]), np.asarray(mem[k]))
    # the result of the resumed call holds its own records only
    np.testing.assert_array_equal(np.asarray(rest["pop.E.V"]), np.asarray(mem["pop.E.V"])[200:])
    with pytest.raises(bd.BraindynError, match="record"):
        bd.run(net, 10.0, record=["pop.E.V"], store=path, resume=early, **{k: v for k, v in KW.items() if k != "key"})


def test_ctrl_c_flushes_the_store_and_carries_the_partial_result(tmp_path, reference):
    net, mem, _ = reference
    path, ck = tmp_path / "i.zarr", tmp_path / "ck"
    calls = []

    def interrupt(ts, recs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as err:
        bd.run(net, 60.0, record=REC, store=path, checkpoint=ck, checkpoint_every=10, on_chunk=interrupt, **KW)
    part = err.value.result
    assert part.status == "interrupted" and part.n_steps == 300 and part.run_state.step == 300
    assert part.t_end == pytest.approx(30.0)
    np.testing.assert_array_equal(np.asarray(part["pop.E.V"]), np.asarray(mem["pop.E.V"])[:300])
    assert zarr.open_group(path, mode="r")["pop.E.V"].shape[0] == 300
    assert bd.RunState.load(ck).step == 300                      # saved on the way out
    # in memory too
    calls.clear()
    with pytest.raises(KeyboardInterrupt) as err:
        bd.run(net, 60.0, record=REC, on_chunk=interrupt, **KW)
    np.testing.assert_array_equal(np.asarray(err.value.result["pop.E.spike"]), np.asarray(mem["pop.E.spike"])[:300])
    # and the continuation from the partial result completes the run bit-identically
    rest = bd.run(net, 30.0, record=REC, resume=err.value.result.run_state,
                  **{k: v for k, v in KW.items() if k != "key"})
    np.testing.assert_array_equal(np.asarray(rest["pop.E.V"]), np.asarray(mem["pop.E.V"])[300:])
