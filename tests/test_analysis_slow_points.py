"""Slow-point finder on a ring attractor (a continuum of fixed points) and on a rate RNN."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import numpy as np

from braindyn.analysis import find_slow_points, vector_field


def test_ring_attractor_points_and_linearisation():
    # dx/dt = x (1 - |x|^2): every point of the unit circle is fixed; eigenvalues 0 (along) and -2 (across)
    vf = vector_field(lambda x, p: x * (1 - jnp.dot(x, x)), 2)
    rng = np.random.default_rng(0)
    starts = rng.normal(size=(32, 2)) * 0.8
    sp = find_slow_points(vf, starts, n_iter=2000, lr=0.02, dedup_tol=1e-3)
    r = np.linalg.norm(sp.points, axis=1)
    ring = r > 0.5  # the origin (unstable node, eigenvalues 1, 1) is a fixed point too
    assert ring.sum() > 10 and np.all(r[~ring] < 1e-8)
    np.testing.assert_allclose(r[ring], 1.0, atol=1e-6)
    np.testing.assert_allclose(np.sort(sp.eigenvalues[ring].real, axis=1), np.tile([-2.0, 0.0], (ring.sum(), 1)), atol=1e-5)
    assert np.all(sp.is_fixed)


def test_rate_rnn_fixed_points():
    # dx/dt = -x + W tanh(x), W = 2 I: fixed points solve x = 2 tanh(x) per unit (x* = 0, +-1.915)
    vf = vector_field(lambda x, p: -x + 2.0 * jnp.tanh(x), 3)
    starts = np.random.default_rng(1).normal(size=(20, 3)) * 2
    sp = find_slow_points(vf, starts, n_iter=3000)
    xstar = 1.9150080481
    assert np.all(np.isclose(np.abs(sp.points), xstar, atol=1e-8) | np.isclose(sp.points, 0, atol=1e-8))
    for pt, ev in zip(sp.points, sp.eigenvalues):
        expected = np.sort(-1 + 2 / np.cosh(pt) ** 2)[::-1]
        np.testing.assert_allclose(ev.real, expected, atol=1e-8)
