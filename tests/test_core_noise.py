"""Noise as a composable piece of any model: stationary statistics against the OU closed form."""
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import LIF


@pytest.mark.parametrize("method", ["exp_euler", "euler_maruyama", "milstein", "sra1"])
def test_noisy_lif_below_threshold_is_an_ou_process(method):
    """tau dV = -V dt + sigma tau dW  ->  stationary mean 0, variance sigma^2 tau / 2."""
    sigma, tau = 1.0, 10.0
    m = LIF(n=4000, tau=tau, V_th=1e9, t_ref=0.0, V_init=0.0, noise={"V": sigma}, method=method)
    res = bd.run(m, 100.0, 0.1, inputs=0.0, record="V", record_every=100, key=3)
    v = res["V"][-1]
    var = sigma**2 * tau / 2
    # 4000 samples: sd of the sample mean sqrt(var/4000), of the sample variance var sqrt(2/4000)
    assert abs(v.mean()) < 4 * np.sqrt(var / 4000)
    assert abs(v.var() - var) < 4 * var * np.sqrt(2 / 4000) + 0.1  # + O(dt/tau) bias of the schemes


def test_noise_is_reproducible_and_key_dependent():
    m = LIF(n=10, noise={"V": 2.0})
    a = bd.run(m, 20.0, inputs=20.0, record="V", key=5)["V"]
    b = bd.run(m, 20.0, inputs=20.0, record="V", key=5)["V"]
    c = bd.run(m, 20.0, inputs=20.0, record="V", key=6)["V"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sde_method_name_needs_noise():
    with pytest.raises(ValueError, match="integration method"):
        LIF(method="milstein")
