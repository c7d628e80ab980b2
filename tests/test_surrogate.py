"""Surrogate spike functions: Heaviside forward (strict), closed-form pseudo-derivatives backward."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from braindyn.surrogate import FastSigmoid, Gaussian, Heaviside, Sigmoid

X = jnp.array([-3.0, -0.5, 0.0, 0.4, 2.5])


def _sig(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("surr,closed", [
    (Sigmoid(2.0), lambda x: _sig(x / 2) * (1 - _sig(x / 2)) / 2),
    (FastSigmoid(0.5), lambda x: 1 / (0.5 * (1 + np.abs(x) / 0.5) ** 2)),
    (Gaussian(1.5), lambda x: np.exp(-x**2 / (2 * 1.5**2)) / (1.5 * np.sqrt(2 * np.pi))),
    (Heaviside(), lambda x: np.zeros_like(x)),
])
def test_forward_is_strict_heaviside_and_backward_is_the_closed_form(surr, closed):
    np.testing.assert_array_equal(np.asarray(surr(X)), [0, 0, 0, 1, 1])
    g = jax.vmap(jax.grad(lambda x: surr(x)))(X)
    np.testing.assert_allclose(np.asarray(g), closed(np.asarray(X)), rtol=1e-6, atol=1e-12)


def test_dtype_kept_and_jit():
    x = jnp.array([0.3, -0.3], jnp.float32)
    surr = Sigmoid()
    y = jax.jit(lambda v: surr(v))(x)
    assert y.dtype == jnp.float32


def test_width_is_a_checked_array_parameter():
    from braindyn import BraindynError

    s = Sigmoid(2.0)
    assert isinstance(s.width, jax.Array) and s.width.dtype.kind == "f"
    for bad in (-1.0, 0.0, float("nan"), "wide"):
        with pytest.raises(BraindynError, match="width"):
            Sigmoid(bad)
    # a new width is a new value of the same leaf: one compilation for every width
    traces = []

    @jax.jit
    def slope(surr, x):
        traces.append(1)
        return jax.grad(lambda v: surr(v))(x)

    for w in (0.5, 1.0, 2.0):
        g = slope(Sigmoid(w), jnp.asarray(0.0))
        assert float(g) == pytest.approx(0.25 / w)
    assert len(traces) == 1
