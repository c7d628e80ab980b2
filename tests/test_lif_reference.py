"""LIF against the analytic period and the book's discrete-time numbers (refcases.md)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import LIF


def test_book_run_i22_step_labels():
    """refcases: 6 spikes at step labels 26.0, 57.1, 88.2, 119.3, 150.4, 181.5 (book rules)."""
    res = bd.run(LIF(), 200.0, 0.1, inputs=22.0, record="spike", time_label="start")
    np.testing.assert_allclose(res.spike_times(), [26.0, 57.1, 88.2, 119.3, 150.4, 181.5], atol=1e-6)


def test_strict_threshold_at_i20():
    """I = 20 drives V asymptotically to V_th = 20: strict '>' never fires."""
    assert bd.run(LIF(), 200.0, 0.1, inputs=20.0, record="spike").spike_count() == 0


def test_isi_matches_analytic_period_exact_rule():
    """The interspike interval converges to t_ref + tau ln((RI - V_reset)/(RI - V_th)) = 31.027 ms."""
    T_analytic = 5 + 10 * np.log(27 / 2)
    for dt in (0.01, 0.001):
        res = bd.run(LIF(refractory_rule="exact"), 200.0, dt, inputs=22.0, record="spike")
        isi = np.diff(res.spike_times())
        assert np.all(np.abs(isi - T_analytic) <= 1.5 * dt), (dt, isi)
    assert LIF().period(22.0) == pytest.approx(T_analytic)


def test_subthreshold_decay_is_exact():
    """Between spikes exp-Euler is exact: V(t) = V_rest + RI + (V0 - V_rest - RI) e^{-t/tau}."""
    res = bd.run(LIF(V_init=10.0), 30.0, 0.5, inputs=5.0, record="V")
    expected = 5.0 + (10.0 - 5.0) * np.exp(-res.ts / 10.0)
    np.testing.assert_allclose(res["V"][:, 0], expected, rtol=1e-10)


def test_fi_counts_refcases_vmapped():
    """refcases f-I (tau 5, t_ref 5, dt 0.01, 1000 ms): counts within 1 of the analytic rate."""
    Is = jnp.array([22.0, 30.0, 50.0, 100.0, 200.0, 400.0])
    model = LIF(n=len(Is), tau=5.0)
    res = bd.run(model, 1000.0, 0.01, inputs=Is, record="spike")
    counts = res["spike"].counts()
    analytic = 1000.0 / (5 + 5 * np.log((np.asarray(Is) + 5) / (np.asarray(Is) - 20)))
    assert np.all(np.abs(counts - analytic) <= 1.0 + 1e-9), (counts, analytic)
    np.testing.assert_array_equal(counts, [55, 89, 125, 158, 177, 188])


def test_refractory_rules_differ_by_one_step():
    book = bd.run(LIF(), 200.0, 0.1, inputs=22.0, record="spike").spike_times()
    exact = bd.run(LIF(refractory_rule="exact"), 200.0, 0.1, inputs=22.0, record="spike").spike_times()
    np.testing.assert_allclose(np.diff(book) - np.diff(exact), 0.1, atol=1e-9)
