"""The runner: chunking, continuation, records, memory, NaN localisation, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import HH, LIF


def test_chunked_run_equals_single_chunk():
    m = LIF(n=5, noise={"V": 2.0})
    a = bd.run(m, 100.0, inputs=21.0, record=["V", "spike"], key=3)
    b = bd.run(m, 100.0, inputs=21.0, record=["V", "spike"], key=3, chunk_steps=128)   # 1000 = 8 x 125
    c = bd.run(m, 100.0, inputs=21.0, record=["V", "spike"], key=3, chunk_steps=300)   # uneven: remainder chunk
    np.testing.assert_array_equal(a["V"], b["V"])
    np.testing.assert_array_equal(a["V"], c["V"])
    np.testing.assert_array_equal(np.asarray(a["spike"]), np.asarray(c["spike"]))
    np.testing.assert_allclose(a.ts, c.ts, rtol=1e-12)


def test_continuing_a_run_equals_one_long_run():
    m = LIF(n=3, noise={"V": 1.0})
    whole = bd.run(m, 60.0, inputs=21.0, record="V", key=1)
    first = bd.run(m, 30.0, inputs=21.0, record="V", key=1)
    second = bd.run(m, 30.0, inputs=21.0, record="V", resume=first.run_state)
    np.testing.assert_array_equal(whole["V"], np.concatenate([first["V"], second["V"]]))
    np.testing.assert_allclose(whole.ts, np.concatenate([first.ts, second.ts]))


def test_record_every_and_time_labels():
    res = bd.run(LIF(), 10.0, 0.1, inputs=0.0, record="V", record_every=10)
    np.testing.assert_allclose(res.ts, np.arange(1, 11) * 1.0)
    res = bd.run(LIF(), 10.0, 0.1, inputs=0.0, record="V", record_every=10, time_label="start")
    np.testing.assert_allclose(res.ts, np.arange(1, 11) * 1.0 - 0.1)
    with pytest.raises(ValueError, match="record_every"):
        bd.run(LIF(), 10.0, record_every=0)


def test_record_function_and_nested_names():
    net = bd.Network({"A": LIF(n=4), "B": LIF(n=2)})
    res = bd.run(net, 5.0, inputs={"A": 1.0}, record={"vA": "pop.A.V", "mean": lambda s: s["pop"]["B"]["V"].mean()})
    assert res["vA"].shape == (50, 4)
    assert res["mean"].shape == (50,)
    with pytest.raises(ValueError, match="not in the state"):
        bd.run(net, 5.0, record="pop.C.V")


def test_spike_raster_is_bit_packed():
    """A 4000-neuron raster costs 1 bit per neuron and step: 10 s at dt 0.1 ms = 50 MB."""
    n = 4000
    m = LIF(n=n, V_init=jnp.linspace(-5.0, 19.0, n))
    res = bd.run(m, 20.0, inputs=22.0, record="spike")
    tr = res["spike"]
    assert isinstance(tr, bd.SpikeTrain)
    assert tr.packed.nbytes == 200 * n // 8
    # packed and dense views agree
    dense = np.asarray(tr)
    assert dense.shape == (200, n) and dense.dtype == bool
    np.testing.assert_array_equal(tr.counts(), dense.sum(0))
    t, i = tr.events()
    assert len(t) == dense.sum() > 0
    np.testing.assert_array_equal(np.sort(i[t == t[0]]), np.nonzero(dense[np.searchsorted(res.ts, t[0])])[0])


def _blow_up(neuron, n, t_on):
    """Input current that becomes +inf for one neuron from time t_on (ms)."""
    mask = jnp.arange(n) == neuron
    return lambda t: jnp.where(mask & (t >= t_on - 1e-9), jnp.inf, 0.0)


def test_divergence_names_variable_neuron_and_step():
    with pytest.raises(bd.SimulationDiverged) as err:
        bd.run(LIF(n=4, method="euler"), 5.0, inputs=_blow_up(2, 4, 2.0), record="V")
    e = err.value
    assert e.variable == "input I"          # the cause (the state turns NaN in the same step)
    assert e.index == (2,)
    assert e.step == 20 and e.t == pytest.approx(2.1)
    assert "step 20" in str(e) and "'input I' became inf" in str(e) and "give finite inputs" in str(e)
    # the partial result keeps every record made before the failing step
    assert e.result is not None and e.result["V"].shape[0] == e.step
    assert np.all(np.isfinite(e.result["V"]))


def test_divergence_in_a_later_chunk_keeps_earlier_chunks():
    with pytest.raises(bd.SimulationDiverged) as err:
        bd.run(LIF(n=2), 50.0, inputs=_blow_up(1, 2, 30.0), record="V", chunk_steps=100)
    e = err.value
    assert e.index == (1,)
    assert e.step == 300
    assert e.result["V"].shape[0] == 300 and e.result.status == "diverged"


@pytest.mark.parametrize("kwargs,match", [
    (dict(dt=0.0), "dt"), (dict(dt=-0.1), "dt"), (dict(duration=-1.0), "duration"),
    (dict(time_label="middle"), "time_label"),
])
def test_bad_run_arguments(kwargs, match):
    args = dict(duration=10.0, dt=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bd.run(LIF(), args.pop("duration"), **args)


@pytest.mark.parametrize("factory,match", [
    (lambda: LIF(tau=0.0), "tau"), (lambda: LIF(tau=-5.0), "tau"), (lambda: LIF(t_ref=-1.0), "t_ref"),
    (lambda: LIF(tau=float("nan")), "tau"), (lambda: LIF(method="rk5"), "rk4"), (lambda: LIF(n=0), "'n'"),
    (lambda: HH(gL=-0.1), "gL"), (lambda: HH(C=0.0), "C"), (lambda: LIF(refractory_rule="soft"), "refractory_rule"),
    (lambda: LIF(noise={"W": 1.0}), "noisy variable"),
])
def test_bad_model_parameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_wrong_input_shape_is_named():
    with pytest.raises(ValueError, match=r"input 'I'.*shape \(3,\).*\(5,\)"):
        bd.run(LIF(n=5), 10.0, inputs=jnp.ones(3))


def test_wrong_initial_value_shape():
    with pytest.raises(ValueError, match="initial value of 'V'"):
        LIF(n=5).init_state(V=jnp.zeros(4))


def test_simulate_is_pure_and_differentiable():
    m = LIF(n=2)

    def loss(I):
        _, rec, _ = bd.simulate(m, m.init_state(), 100, 0.1, inputs=I, record="V")
        return rec["V"].mean()

    g = jax.grad(loss)(10.0)
    # d<V>/dI for a subthreshold LIF equals R (1 - mean of the relaxation kernel) > 0
    assert 0 < float(g) < 1


def test_nonfinite_record_of_a_finite_state_is_reported():
    with pytest.raises(bd.SimulationDiverged, match="record v"):
        bd.run(LIF(n=3), 5.0, inputs=1.0, record={"v": lambda s: jnp.log(s["V"] + 4.0)})


def test_finite_run_has_no_per_step_check_cost_path():
    # a finite run returns normally with check_finite on (the replay path is never taken)
    res = bd.run(LIF(n=3, noise={"V": 1.0}), 20.0, inputs=22.0, record="V", check_finite=True, key=2)
    ref = bd.run(LIF(n=3, noise={"V": 1.0}), 20.0, inputs=22.0, record="V", check_finite=False, key=2)
    np.testing.assert_array_equal(res["V"], ref["V"])


def test_gradient_through_many_spikes_stays_bounded():
    """With the reset detached (default) d<V>/dI stays O(1) over many spikes; through the reset
    it grows with every spike (the reason the default detaches)."""
    def grad(detach):
        m = LIF(detach_reset=detach)

        def loss(I):
            _, rec, _ = bd.simulate(m, m.init_state(dtype=jnp.float32), 400, 0.1, inputs=I, record="V")
            return rec["V"].mean()

        return float(jax.grad(loss)(jnp.float32(25.0)))

    g = grad(True)
    assert np.isfinite(g) and abs(g) < 10
    assert abs(grad(False)) > 10 * abs(g)


def test_exprel_is_finite_where_the_update_overflows():
    from braindyn.integrators.exp import exprel

    z = jnp.array([0.0, 1e-8, 1.0, 500.0])
    v = exprel(z)
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(v[:3], [1.0, 1.0, np.expm1(1.0)], rtol=1e-6)
    assert np.all(np.isfinite(jax.vmap(jax.grad(exprel))(z)))
