"""Records over windows, checked run arguments, input names, state0, divergence results,
memory estimates and the determinism contract (issue 11)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import HH, LIF, QIF, ExpIF


@pytest.fixture(scope="module")
def raster():
    """A 3-neuron noisy LIF, 100 ms: full raster (record_every=1) and window counts (10 steps)."""
    m = LIF(n=3, t_ref=0.0, noise={"V": 2.0})
    kw = dict(inputs=jnp.array([25.0, 60.0, 500.0]), key=4)
    full = bd.run(m, 100.0, record=["V", "spike"], **kw)
    win = bd.run(m, 100.0, record=["V", "spike"], record_every=10, **kw)
    return m, kw, full, win


def test_spike_record_over_a_window_is_the_count_of_the_window(raster):
    _, _, full, win = raster
    dense = np.asarray(full["spike"])                       # (1000, 3) booleans
    expected = dense.reshape(100, 10, 3).sum(axis=1)        # independent: sum of the raster per window
    counts = np.asarray(win["spike"])
    assert counts.dtype.kind == "i" and counts.shape == (100, 3)
    assert expected.sum() > 100 and expected.max() >= 2      # windows with several spikes
    np.testing.assert_array_equal(counts, expected)
    # rates from the counts equal the rates from the raster: no spike is dropped
    np.testing.assert_array_equal(win.rates_hz(), full.rates_hz())
    assert win.spike_count() == int(dense.sum())
    assert win.rate_hz() == pytest.approx(dense.sum() / 3 / 0.1)
    # the other records are samples at the end of each window
    np.testing.assert_array_equal(np.asarray(win["V"]), np.asarray(full["V"])[9::10])
    np.testing.assert_allclose(win.ts, full.ts[9::10])


def test_record_all_counts_spikes_too(raster):
    m, kw, full, _ = raster
    res = bd.run(m, 100.0, record=None, record_every=10, **kw)
    assert res.spike_counts == ("spike",)
    np.testing.assert_array_equal(np.asarray(res["spike"]), np.asarray(full["spike"]).reshape(100, 10, 3).sum(1))


def test_spike_times_need_the_raster_and_neuron_in_range(raster):
    _, _, full, win = raster
    with pytest.raises(bd.BraindynError, match="record_every=1"):
        win.spike_times()
    with pytest.raises(bd.BraindynError, match=r"neuron=99 is out of range.*3 neuron"):
        full.spike_times(neuron=99)
    with pytest.raises(bd.BraindynError, match="neuron=-1"):
        full.spike_times(neuron=-1)
    for r in (full, win):
        with pytest.raises(bd.BraindynError, match="'V' is not a spike record"):
            r.rate_hz("V")
        with pytest.raises(bd.BraindynError, match="not a spike record"):
            r.spike_count("V")


def test_simulate_counts_are_differentiable_sums_of_surrogate_spikes():
    m = LIF(n=2)
    st = m.init_state()

    def counts(I, every):
        _, rec, _ = bd.simulate(m, st, 400, 0.1, inputs=I, record="spike", record_every=every)
        return rec["spike"]

    I = jnp.array([22.0, 26.0])
    c10, c1 = counts(I, 10), counts(I, 1)
    assert c10.dtype == st["V"].dtype                        # float: the surrogate gradient flows
    np.testing.assert_allclose(np.asarray(c10), np.asarray(c1).reshape(40, 10, 2).sum(1))
    assert float(c10.sum()) >= 3
    g = jax.grad(lambda I: counts(I, 10).sum())(I)
    assert np.all(np.isfinite(np.asarray(g))) and np.all(np.asarray(g) > 0)   # more drive, more spikes


@pytest.mark.parametrize("duration,every,valid", [(10.5, 10, "duration=10 or 11 ms"), (0.5, 10, "duration=1 ms"),
                                                  (2.3, 2, "duration=2.2 or 2.4 ms")])
def test_duration_not_a_whole_number_of_windows_names_the_nearest(duration, every, valid):
    with pytest.raises(bd.BraindynError, match=valid):
        bd.run(LIF(), duration, 0.1, inputs=22.0, record="spike", record_every=every)


@pytest.mark.parametrize("kwargs,match", [
    (dict(t0=float("nan")), "'t0' must be finite"), (dict(t0=float("inf")), "'t0' must be finite"),
    (dict(t0="0"), "'t0' must be a number"), (dict(dt=float("nan")), "dt"), (dict(duration=-5.0), "duration"),
    (dict(chunk_steps=0), "chunk_steps"), (dict(checkpoint_every=0), "checkpoint_every"),
    (dict(dtype=jnp.int32), "float type"), (dict(memory_limit=-1), "memory_limit"),
])
def test_bad_run_arguments_are_named(kwargs, match):
    args = dict(duration=5.0, dt=0.1)
    args.update(kwargs)
    with pytest.raises(bd.BraindynError, match=match):
        bd.run(LIF(), args.pop("duration"), inputs=22.0, **args)


@pytest.mark.parametrize("kwargs,match", [
    (dict(dt=0.0), "dt must be a finite number > 0"), (dict(dt=-0.1), "dt must be"), (dict(dt="0.1"), "dt must be"),
    (dict(n_steps=-10), "n_steps must be a non-negative"), (dict(n_steps=10.0), "n_steps must be"),
    (dict(record_every=0), "record_every"), (dict(n_steps=25, record_every=10), "n_steps=20 or 30"),
    (dict(unroll=0), "unroll"), (dict(record="W"), "cannot record 'W'"),
    (dict(inputs={"J": 22.0}), "input 'J' is never read"),
])
def test_simulate_checks_at_trace_time(kwargs, match):
    m = LIF(n=3)
    args = dict(n_steps=20, dt=0.1, inputs=22.0, record="V")
    args.update(kwargs)
    st = m.init_state()
    with pytest.raises(bd.BraindynError, match=match):
        jax.jit(lambda s: bd.simulate(m, s, args["n_steps"], args["dt"], inputs=args["inputs"], record=args["record"],
                                      record_every=args.get("record_every", 1), unroll=args.get("unroll", 1)))(st)


def test_input_names_are_checked_against_what_the_model_reads():
    with pytest.raises(bd.BraindynError, match=r"input 'J' is never read by LIF.*\['I'\]"):
        bd.run(LIF(), 10.0, inputs={"J": 22.0})
    net = bd.Network({"E": LIF(n=2), "I": LIF(n=1)})
    with pytest.raises(bd.BraindynError, match=r"input 'J' is never read by LIF \(population 'E'\).*'E': \{'I'"):
        bd.run(net, 10.0, inputs={"E": {"J": 22.0}})
    # the names that are read run, and drive the neurons
    assert bd.run(LIF(), 50.0, inputs={"I": 22.0}, record="spike").spike_count() > 0
    res = bd.run(net, 50.0, inputs={"E": {"I": 22.0}, "I": 22.0}, record="pop.E.spike")
    assert res.spike_count() > 0


def test_state0_is_checked_against_the_model():
    with pytest.raises(bd.BraindynError, match=r"state0 does not fit LIF.*\['h', 'm', 'n'\]"):
        bd.run(LIF(), 10.0, inputs=22.0, state0=HH().init_state())
    with pytest.raises(bd.BraindynError, match=r"field 'V' has shape \(5,\), the model's has shape \(3,\)"):
        bd.run(LIF(n=3), 10.0, inputs=22.0, state0=LIF(n=5).init_state())
    s = LIF(n=3).init_state()
    s["ref"] = s["ref"].astype(jnp.float64)
    with pytest.raises(bd.BraindynError, match="field 'ref' has dtype float64"):
        bd.run(LIF(n=3), 10.0, inputs=22.0, state0=s)
    s = LIF(n=3).init_state()
    s["V"] = s["V"].at[1].set(jnp.nan)
    with pytest.raises(bd.BraindynError, match=r"field 'V' is not finite at index \(1,\)"):
        bd.run(LIF(n=3), 10.0, inputs=22.0, state0=s)


@pytest.mark.parametrize("model", [ExpIF, QIF])
def test_infinite_input_to_a_clipping_reset_is_caught(model):
    with pytest.raises(bd.BraindynError, match="constant value is not finite"):
        bd.run(model(), 10.0, inputs=math.inf, record="V")


def test_infinite_input_during_the_run_trips_the_divergence_check():
    # ExpIF's reset clips V at V_th: the state stays finite, the input is named
    inp = bd.inputs.section([20.0, math.inf], [5.0, 5.0])
    with pytest.raises(bd.SimulationDiverged, match=r"'input I' became inf at step 50") as err:
        bd.run(ExpIF(), 10.0, inputs=inp, record="V")
    assert err.value.step == 50 and err.value.result.n_steps == 50


@pytest.mark.parametrize("model", [LIF, ExpIF, QIF, bd.neurons.Izhikevich])
def test_huge_finite_input_resets_exactly(model):
    """A drive of 1e10 makes the neuron fire at the maximal rate: a spike in the first step after
    each refractory period of n_ref steps (the model's own answer), and the reset value exact
    (the old x + s (v - x) lost v to cancellation: a LIF driven by 1e10 was reset to -8 mV, by 1e30 to 0 mV, instead of -5 mV)."""
    m = model(n=2, t_ref=1.0)
    r = bd.run(m, 10.0, inputs={"I": 1e10}, record=["V", "spike"])
    v_reset = m.c if model is bd.neurons.Izhikevich else m.V_reset
    n_ref = int(round(1.0 / 0.1))                       # "book" rule: floor(t_ref/dt) steps
    sp = np.asarray(r["spike"].dense())[:, 0]
    assert list(np.flatnonzero(sp)) == list(range(0, 100, n_ref + 1))
    np.testing.assert_array_equal(np.asarray(r["V"])[sp > 0], np.float32(v_reset))


@pytest.mark.parametrize("model", [QIF, bd.neurons.Izhikevich])
def test_overflow_before_the_reset_trips_the_divergence_check(model):
    # an RK4 stage at V ~ drive * dt squares past the float range (1e10 in float32, 1e160 in
    # float64); the reset (or QIF's clip at V_th) used to hide the overflow
    big = 1e160 if jax.config.jax_enable_x64 else 1e10
    with pytest.raises(bd.SimulationDiverged, match=r"variable 'V' became nan at step 0") as err:
        bd.run(model(n=2, method="rk4"), 5.0, inputs={"I": big}, record="V")
    assert err.value.result.n_steps == 0


def test_divergence_result_describes_one_point():
    """After a divergence the partial result's state, n_steps, t_end and records agree, and
    equal an uninterrupted run of the same steps."""
    m = LIF(n=2, method="euler", noise={"V": 1.0})

    def drive(late):  # 20 for 23 ms, then ``late`` for neuron 1
        return bd.inputs.section([jnp.array([20.0, 20.0]), jnp.array([20.0, late])], [23.0, 27.0])

    kw = dict(record="V", record_every=4, chunk_steps=100, key=1)
    with pytest.raises(bd.SimulationDiverged) as err:
        bd.run(m, 50.0, inputs=drive(jnp.inf), **kw)
    e = err.value
    r = e.result
    assert e.step == 230
    assert r.n_steps == 228 == r.run_state.step          # the end of the last complete window of 4 steps
    assert r.t_end == pytest.approx(22.8) and r.run_state.t == pytest.approx(r.t_end)
    assert r["V"].shape[0] == 57 and r.ts[-1] == pytest.approx(r.t_end)
    ok = bd.run(m, 50.0, inputs=drive(20.0), **kw)       # same compiled chunks, finite drive
    np.testing.assert_array_equal(np.asarray(r["V"]), np.asarray(ok["V"])[:57])
    np.testing.assert_array_equal(np.asarray(r.final_state["V"]), np.asarray(ok["V"])[56])


def test_poisson_rate_above_one_per_step_is_an_error():
    with pytest.raises(bd.BraindynError, match=r"rate\*dt = 2 > 1"):
        bd.run(bd.Network({"P": bd.neurons.PoissonGroup(n=2, rate=100.0), "E": LIF(n=2)}), 1.0,
               inputs={"E": bd.inputs.poisson(20000.0, n=2)})


def test_float64_without_x64_is_a_braindyn_error():
    with jax.enable_x64(False):
        with pytest.raises(bd.BraindynError, match="jax_enable_x64"):
            bd.run(LIF(), 1.0, inputs=22.0, dtype=jnp.float64)


def test_memory_estimate_matches_the_records_and_refuses_what_does_not_fit(raster):
    m, kw, full, win = raster
    for res, every in ((full, 1), (win, 10)):
        est = bd.estimate_memory(m, 100.0, record=["V", "spike"], record_every=every)
        actual = {"V": np.asarray(res["V"]).nbytes,
                  "spike": res["spike"].packed.nbytes if every == 1 else np.asarray(res["spike"]).nbytes}
        assert est.by_record == actual
        assert est.records_bytes == sum(actual.values()) + res.ts.nbytes
    big = bd.estimate_memory(LIF(n=4000), 1e6, record=["V", "spike"])
    assert big.by_record["V"] == 10 ** 7 * 4000 * 8 and big.by_record["spike"] == 10 ** 7 * 500
    with pytest.raises(bd.BraindynError, match=r"need .* in memory .*store='run.zarr'"):
        bd.run(m, 100.0, record=["V", "spike"], memory_limit=10_000, **kw)


def test_same_seed_same_bits_across_chunks_unroll_and_resume():
    """The determinism contract: chunk sizes, unroll factors and resumes do not change a single
    bit. (Unroll factors used to change the last bits, ~1e-14 in float64, on CPUs with FMA: XLA
    fused the unrolled steps differently.)"""
    m = LIF(n=4, noise={"V": 1.5})
    kw = dict(inputs=bd.inputs.ou(20.0, 3.0, 5.0, n=4), record=["V", "spike"], key=11)
    ref = bd.run(m, 20.0, **kw)
    assert ref.spike_count() > 0
    other = bd.run(m, 20.0, chunk_steps=50, **kw)
    np.testing.assert_array_equal(np.asarray(other["V"]), np.asarray(ref["V"]))
    np.testing.assert_array_equal(np.asarray(other["spike"]), np.asarray(ref["spike"]))
    for unroll in (2, 3):
        u = bd.run(m, 20.0, unroll=unroll, chunk_steps=60, **kw)
        np.testing.assert_array_equal(np.asarray(u["V"]), np.asarray(ref["V"]))
    # and a run resumed twice from its run state
    rest = {k: v for k, v in kw.items() if k != "key"}
    a = bd.run(m, 5.0, **kw)
    b = bd.run(m, 10.0, resume=a.run_state, chunk_steps=50, **rest)
    c = bd.run(m, 5.0, resume=b.run_state, **rest)
    np.testing.assert_array_equal(np.concatenate([np.asarray(x["V"]) for x in (a, b, c)]), np.asarray(ref["V"]))


def test_refractory_end_exact_after_1e8_steps():
    """At step 10^8 a neuron that spikes in step s is frozen at V_reset for exactly
    n_ref = floor(t_ref / dt) steps ("book" rule), then integrates again."""
    lif = LIF(n=1, t_ref=2.0)
    first = bd.run(lif, 10.0, 0.1, inputs=40.0, record="spike")
    late = bd.RunState(state=lif.init_state(), input_states=first.run_state.input_states, step=10 ** 8, t0=0.0,
                       dt=0.1, key=first.run_state.key, fingerprint=first.run_state.fingerprint)
    res = bd.run(lif, 30.0, 0.1, inputs=40.0, record=["V", "spike"], resume=late)
    spikes = np.nonzero(np.asarray(res["spike"])[:, 0])[0]
    V = np.asarray(res["V"])[:, 0]
    assert len(spikes) >= 2
    s = spikes[0]
    np.testing.assert_array_equal(V[s: s + 21], np.full(21, float(lif.V_reset)))   # reset step + 20 frozen steps
    assert V[s + 21] > float(lif.V_reset)
    assert res.spike_times()[0] == pytest.approx(1e7 + (s + 1) * 0.1, abs=1e-6)


def test_input_values_are_checked_and_lists_are_arrays():
    with pytest.raises(bd.BraindynError, match=r"input 'I' must be a number.*'x' \(str\)"):
        bd.run(LIF(), 5.0, inputs={"I": "x"})
    with pytest.raises(bd.BraindynError, match="not finite"):
        bd.run(LIF(n=2), 5.0, inputs=[1.0, None])
    # a list of numbers is one input per neuron (independent reference: the array form)
    a = bd.run(LIF(n=2), 50.0, inputs=[20.0, 30.0], record="spike")
    b = bd.run(LIF(n=2), 50.0, inputs=jnp.array([20.0, 30.0]), record="spike")
    np.testing.assert_array_equal(np.asarray(a["spike"]), np.asarray(b["spike"]))
    # a spike generator ignores a bare current (its default input), but not a name
    bd.run(bd.neurons.PoissonGroup(n=2, rate=10.0), 5.0, inputs=2.0)
    with pytest.raises(bd.BraindynError, match="input 'I' is never read by PoissonGroup"):
        bd.run(bd.neurons.PoissonGroup(n=2, rate=10.0), 5.0, inputs={"I": 2.0})


def test_run_warns_about_units():
    from braindyn._errors import UnitWarning

    with pytest.warns(UnitWarning, match="in seconds"):
        bd.run(LIF(), 1.0, inputs=1.0)
    with pytest.warns(UnitWarning, match="shorter than dt"):
        bd.run(LIF(tau=0.01), 20.0, inputs=1.0)
