"""Input helpers against their definitions."""
import jax
import numpy as np
import pytest

import braindyn as bd
from braindyn import inputs


def test_section_switches_on_step_boundaries():
    x = inputs.section([0.0, 10.0, 0.0], [10.0, 50.0, 10.0]).array(70.0, 0.1)
    assert x.shape == (700,)
    assert np.all(x[:100] == 0) and np.all(x[100:600] == 10) and np.all(x[600:] == 0)


def test_section_length_mismatch():
    with pytest.raises(ValueError, match="durations"):
        inputs.section([1.0, 2.0], [10.0])


def test_ramp_sin_square():
    r = inputs.ramp(0.0, 10.0, 0.0, 100.0).array(100.0, 1.0)
    np.testing.assert_allclose(r, 10.0 * (np.arange(100) + 0.5) / 100.0)
    s = inputs.sinusoidal(2.0, 10.0).array(100.0, 0.1)
    np.testing.assert_allclose(s, 2.0 * np.sin(2 * np.pi * 10.0 * (np.arange(1000) * 0.1 + 0.05) / 1000.0), atol=1e-9)
    q = inputs.square(1.0, 100.0, duty=0.3).array(100.0, 0.1)
    assert q.mean() == pytest.approx(0.3, abs=0.01)


def test_poisson_rate():
    x = inputs.poisson(50.0, n=2000).array(200.0, 0.1, jax.random.PRNGKey(2))
    rate = x.sum() / 2000 / 0.2
    # Poisson count over 2000 trains x 0.2 s: sd of the mean rate = sqrt(50 / 0.2 / 2000) = 0.35 Hz
    assert abs(rate - 50.0) < 4 * 0.36


def test_ou_statistics_and_autocorrelation():
    x = inputs.ou(1.0, 0.5, 5.0, n=500).array(200.0, 0.1, jax.random.PRNGKey(0))
    assert abs(x.mean() - 1.0) < 0.02 and abs(x.std() - 0.5) < 0.02
    # autocorrelation at lag tau decays to 1/e
    lag = 50
    xc = x - x.mean()
    rho = (xc[:-lag] * xc[lag:]).mean() / xc.var()
    assert rho == pytest.approx(np.exp(-1), abs=0.03)


def test_wiener_increments():
    x = inputs.wiener(3.0, n=2000).array(10.0, 0.1, jax.random.PRNGKey(1))
    assert (x * 0.1).std() == pytest.approx(3.0 * np.sqrt(0.1), rel=0.02)


def test_inputs_add_and_drive_a_neuron():
    stim = inputs.section([0.0, 10.0], [10.0, 20.0]) + inputs.ou(0.0, 1.0, 2.0)
    res = bd.run(bd.neurons.LIF(), 30.0, inputs=stim, record="V", key=4)
    assert np.all(np.isfinite(res["V"]))


def test_from_array_and_callable():
    vals = np.arange(10.0)
    x = inputs.from_array(vals, dt=0.1).array(1.5, 0.1)
    np.testing.assert_allclose(x, np.r_[vals, np.zeros(5)])
    # a plain function of the step's start time t; LIF at rest until the input starts at 5 ms
    res = bd.run(bd.neurons.LIF(V_init=0.0), 10.0, inputs=lambda t: 15.0 * (t >= 5.0 - 1e-9), record="V")
    assert res["V"][49, 0] == 0.0 and res["V"][50, 0] == pytest.approx(15.0 * (1 - np.exp(-0.01)))
