"""The common surrogate set: Heaviside forward; each backward pass equals its closed-form
pseudo-derivative (written here from the papers' formulas in x and w, not from the code), the
smooth steps they come from (checked by finite differences of the step), and their integrals."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

import braindyn as bd
from braindyn import surrogate as S

X = np.array([-7.0, -2.5, -1.0, -0.6, -0.2, 0.0, 0.15, 0.45, 0.9, 1.7, 4.0, 12.0])
W = 0.8


def phi(u):
    return np.exp(-u**2 / 2) / np.sqrt(2 * np.pi)


def _sig(u):
    return 1 / (1 + np.exp(-u))


# closed forms of sigma'(x) for width w
CLOSED = {
    "Sigmoid": lambda x, w: _sig(x / w) * (1 - _sig(x / w)) / w,
    "FastSigmoid": lambda x, w: 1 / (w * (1 + np.abs(x) / w) ** 2),
    "ArcTan": lambda x, w: w / (np.pi * (w**2 + x**2)),
    "PiecewiseLinear": lambda x, w: np.clip(w - np.abs(x), 0, None) / w**2,
    "Gaussian": lambda x, w: np.exp(-x**2 / (2 * w**2)) / (w * np.sqrt(2 * np.pi)),
    # Yin et al. 2021: (1+h) N(0, w^2) - h N(w, (s w)^2) - h N(-w, (s w)^2), h = 0.15, s = 6
    "MultiGaussian": lambda x, w: (1.15 * phi(x / w) / w - 0.15 * phi((x - w) / (6 * w)) / (6 * w)
                                   - 0.15 * phi((x + w) / (6 * w)) / (6 * w)),
    "Exponential": lambda x, w: np.exp(-np.abs(x) / w) / (2 * w),
    "Erf": lambda x, w: np.exp(-(x / w) ** 2) / (w * np.sqrt(np.pi)),
    "InverseSquareRoot": lambda x, w: w**2 / (2 * (w**2 + x**2) ** 1.5),
    "LogTailed": lambda x, w: np.where(np.abs(x) <= w, 1 / (2 * w), 1 / (2 * np.abs(x) + 1e-300)),
    "SoftSign": lambda x, w: w / (2 * (w + np.abs(x)) ** 2),
    "Rectangle": lambda x, w: np.where(np.abs(x) < w / 2, 1 / w, 0.0),
    "Heaviside": lambda x, w: np.zeros_like(x),
}

# smooth unit steps g(x) whose derivative the surrogate is (checked by central differences)
STEPS = {
    "Sigmoid": lambda x, w: _sig(x / w),
    "ArcTan": lambda x, w: 0.5 + np.arctan(x / w) / np.pi,
    "Erf": lambda x, w: 0.5 * (1 + special.erf(x / w)),
    "Gaussian": lambda x, w: 0.5 * (1 + special.erf(x / (w * np.sqrt(2)))),
    "InverseSquareRoot": lambda x, w: 0.5 * (1 + (x / w) / np.sqrt(1 + (x / w) ** 2)),
    "SoftSign": lambda x, w: 0.5 * (1 + (x / w) / (1 + np.abs(x / w))),
    "Exponential": lambda x, w: np.where(x < 0, 0.5 * np.exp(x / w), 1 - 0.5 * np.exp(-x / w)),
}

INTEGRAL = {"Sigmoid": 1, "FastSigmoid": 2, "ArcTan": 1, "PiecewiseLinear": 1, "Gaussian": 1, "MultiGaussian": 0.85,
            "Exponential": 1, "Erf": 1, "InverseSquareRoot": 1, "SoftSign": 1, "Rectangle": 1, "Heaviside": 0}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_forward_heaviside_backward_closed_form(name):
    surr = getattr(S, name)(W)
    x = jnp.asarray(X)
    np.testing.assert_array_equal(np.asarray(surr(x)), (X > 0).astype(float))
    g = np.asarray(jax.vmap(jax.grad(lambda v: surr(v)))(x))
    np.testing.assert_allclose(g, CLOSED[name](X, W), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(surr.pseudo_derivative(x)), g, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(STEPS))
def test_pseudo_derivative_is_the_derivative_of_its_smooth_step(name):
    surr = getattr(S, name)(W)
    x = X[np.abs(X) > 1e-3]  # away from the kink of the Exponential's step
    h = 1e-5
    fd = (STEPS[name](x + h, W) - STEPS[name](x - h, W)) / (2 * h)
    np.testing.assert_allclose(np.asarray(surr.pseudo_derivative(jnp.asarray(x))), fd, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name", sorted(INTEGRAL))
def test_integral_of_the_pseudo_derivative(name):
    surr = getattr(S, name)(W)
    f = lambda v: float(surr.pseudo_derivative(jnp.asarray(v)))  # noqa: E731
    total = sum(integrate.quad(f, a, b, limit=200)[0] for a, b in [(-np.inf, -W), (-W, -W / 2), (-W / 2, 0),
                                                                     (0, W / 2), (W / 2, W), (W, np.inf)])
    assert total == pytest.approx(INTEGRAL[name], rel=1e-6, abs=1e-9)


def test_log_tailed_decays_like_one_over_x():
    surr = S.LogTailed(W)
    g = np.asarray(surr.pseudo_derivative(jnp.array([10.0, 100.0, 1000.0])))
    np.testing.assert_allclose(g * np.array([10.0, 100.0, 1000.0]), 0.5, rtol=1e-12)


@pytest.mark.parametrize("name", ["MultiGaussian", "LogTailed"])
def test_surrogate_in_a_neuron_carries_the_gradient(name):
    """A LIF neuron with the surrogate: d spike / d I through one step equals sigma'(V - V_th) dV/dI."""
    lif = bd.neurons.LIF(spike_fn=getattr(S, name)(2.0), V_rest=-65.0, V_reset=-65.0, V_th=-50.0)
    s0 = lif.init_state()
    s0["V"] = jnp.array([-50.5])

    def spk(I):
        new, _ = lif.step(s0, {"I": jnp.array([I])}, 0.0, 0.1)
        return new["spike"][0], new["V"][0]

    g = jax.grad(lambda I: spk(I)[0])(1.0)
    dV_dI = jax.grad(lambda I: spk(I)[1])(1.0)  # below threshold after the step: no reset
    V1 = float(spk(1.0)[1])
    assert V1 < -50.0
    assert float(g) == pytest.approx(CLOSED[name](V1 + 50.0, 2.0) * float(dV_dI), rel=1e-10)


def test_widths_are_checked_parameters():
    for cls in (S.ArcTan, S.Exponential, S.Rectangle, S.MultiGaussian):
        with pytest.raises(bd.BraindynError, match="width"):
            cls(-1.0)
