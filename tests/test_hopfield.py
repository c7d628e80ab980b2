"""Hopfield networks against NumPy reimplementations and published results.

References: the Hebbian rule and the asynchronous/synchronous updates rewritten in NumPy (the
same update order), Ramsauer et al.'s (2020) update and energy in NumPy, and the capacity
0.138 N with the overlap m = 0.967 at capacity of Amit, Gutfreund & Sompolinsky (1985, 1987).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn import BraindynError
from braindyn.models import hopfield as H


def _np_energy(W, s):
    return -0.5 * s @ W @ s


def _np_async_sweep(W, s, order):
    s = s.copy()
    for i in order:
        h = W[i] @ s
        if h > 0:
            s[i] = 1.0
        elif h < 0:
            s[i] = -1.0
    return s


def test_hebbian_weights_match_numpy():
    X = np.asarray(H.random_patterns(0, 7, 50))
    W = X.T @ X / 50
    np.fill_diagonal(W, 0.0)
    np.testing.assert_allclose(np.asarray(H.hebbian_weights(X)), W, atol=1e-12)
    assert set(np.unique(X)) == {-1.0, 1.0}


def test_async_sweep_equals_numpy_and_energy_never_increases():
    """N 784, 10 patterns, 10 % flipped bits: the book's setting."""
    X = H.random_patterns(jax.random.PRNGKey(3), 10, 784)
    net = H.Hopfield.store(X)
    s0 = H.corrupt(jax.random.PRNGKey(4), X[2], 0.1)
    assert np.sum(np.asarray(s0) != np.asarray(X[2])) == round(0.1 * 784)
    key = jax.random.PRNGKey(5)
    rec = net.recall(s0, key=key, sweeps=10)
    W = np.asarray(net.W)
    ref = np.asarray(s0)
    # recall draws one order per sweep from split(key, sweeps)
    orders = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, 784))(jax.random.split(key, 10)))
    for order in orders:
        ref = _np_async_sweep(W, ref, order)
    np.testing.assert_array_equal(np.asarray(rec.state), ref)
    Eu = np.asarray(rec.energy_updates)
    assert Eu.shape == (10 * 784 + 1,)
    assert np.all(np.diff(Eu) <= 1e-9)
    # the accumulated energies end at the exact energy of each sweep's state
    np.testing.assert_allclose(Eu[784::784], [_np_energy(W, np.asarray(s)) for s in rec.states[1:]], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(rec.energy), [_np_energy(W, np.asarray(s)) for s in rec.states], rtol=1e-10)
    assert float(H.overlap(X[2], rec.state)) >= 0.99


def test_sign_zero_keeps_the_state_and_sync_update():
    W = jnp.asarray([[0.0, 1.0, -1.0], [1.0, 0.0, 1.0], [-1.0, 1.0, 0.0]])
    net = H.Hopfield(W, 3, "sync")
    s = jnp.asarray([1.0, -1.0, -1.0])   # fields: W s = [0, 0, -2]
    np.testing.assert_array_equal(np.asarray(net.sync_update(s)), [1.0, -1.0, -1.0])
    s = jnp.asarray([-1.0, 1.0, 1.0])    # fields [0, 0, 2]: neurons 0 and 1 keep their state
    np.testing.assert_array_equal(np.asarray(net.sync_update(s)), [-1.0, 1.0, 1.0])
    # a synchronous 2-cycle: two neurons that copy each other's opposite state
    W2 = jnp.asarray([[0.0, 1.0], [1.0, 0.0]])
    rec = H.Hopfield(W2, 2, "sync").recall(jnp.asarray([1.0, -1.0]), sweeps=4)
    np.testing.assert_array_equal(np.asarray(rec.states)[:, 0], [1, -1, 1, -1, 1])


def test_recall_below_and_above_capacity():
    """Near-perfect recall well below 0.138 N, failure well above it (N 784, 10 % flipped)."""
    n = 784
    out = {}
    for P in (39, 235):  # 0.05 N and 0.30 N
        X = H.random_patterns(jax.random.PRNGKey(P), P, n)
        net = H.Hopfield.store(X)
        probes = X[:8]
        rec = net.recall(H.corrupt(jax.random.PRNGKey(1), probes, 0.1), key=jax.random.PRNGKey(2), sweeps=10)
        out[P] = float(jnp.mean(H.overlap(probes, rec.state)))
        assert np.all(np.diff(np.asarray(rec.energy_updates), axis=1) <= 1e-9)
    assert out[39] >= 0.995
    assert out[235] < 0.6


def test_ags_capacity_against_the_published_values():
    m, ac = H.ags_overlap([0.01, 0.1379, 0.2])
    assert ac == pytest.approx(0.138, abs=0.001)           # Amit, Gutfreund & Sompolinsky 1985
    assert float(m[1]) == pytest.approx(0.967, abs=0.003)   # the overlap at capacity (AGS 1987)
    assert float(m[0]) == pytest.approx(1.0, abs=1e-6) and float(m[2]) == 0.0


def test_modern_hopfield_update_and_energy_match_numpy():
    n, P = 784, 200  # 200 > 0.138 N: beyond the classical capacity
    X = H.random_patterns(jax.random.PRNGKey(0), P, n)
    net = H.ModernHopfield(X)
    assert float(net.beta) == pytest.approx(1 / np.sqrt(n))
    v0 = H.corrupt(jax.random.PRNGKey(1), X[11], 0.1)
    Xn, v = np.asarray(X), np.asarray(v0)
    b = 1 / np.sqrt(n)
    z = b * Xn @ v
    f = np.exp(z - z.max())
    f /= f.sum()
    np.testing.assert_allclose(np.asarray(net.update(v0)), Xn.T @ f, rtol=1e-10, atol=1e-12)
    lse = (z.max() + np.log(np.sum(np.exp(z - z.max())))) / b
    E_ref = -lse + 0.5 * v @ v + np.log(P) / b + 0.5 * np.max(np.sum(Xn ** 2, 1))
    assert float(net.energy(v0)) == pytest.approx(E_ref, rel=1e-10)
    rec = net.recall(v0, steps=3)
    assert float(H.overlap(X[11], rec.state)) > 0.9999
    assert np.all(np.diff(np.asarray(rec.energy)) <= 1e-9)
    # the classical network fails on the same patterns and cue
    cl = H.Hopfield.store(X).recall(v0, key=jax.random.PRNGKey(2), sweeps=10)
    assert float(H.overlap(X[11], cl.state)) < 0.8


def test_modern_energy_nonincreasing_from_a_mixture():
    """A cue between two patterns (the hardest case for the CCCP bound): still never increases."""
    X = H.random_patterns(jax.random.PRNGKey(7), 30, 64)
    net = H.ModernHopfield(X, beta=0.05)
    rec = net.recall(0.5 * (X[0] + X[1]), steps=20)
    assert np.all(np.diff(np.asarray(rec.energy)) <= 1e-9)


def test_binarize_images():
    imgs = np.zeros((2, 4, 4))
    imgs[0, :2] = 1.0
    imgs[1, :, :1] = 255.0
    X = H.binarize(imgs)
    assert X.shape == (2, 16)
    assert float(X[0, 0]) == 1.0 and float(X[0, -1]) == -1.0 and float(X[1, 0]) == 1.0


def test_hopfield_runs_as_a_braindyn_model():
    X = H.random_patterns(0, 5, 100)
    net = H.Hopfield.store(X)
    s0 = H.corrupt(jax.random.PRNGKey(1), X[0], 0.1)
    res = bd.run(net, 5.0, 1.0, state0=net.init_state(s=s0), record="s", key=3)   # one step = one sweep
    assert float(H.overlap(X[0], res["s"][-1])) == 1.0


def test_gallery_hopfield_entries():
    from braindyn import gallery

    f = gallery.run_entry("hopfield", {}).figures
    assert f["overlap"] >= 0.99 and f["energy_nonincreasing"] is True and f["n"] == 784
    assert f["overlap_initial"] == pytest.approx(0.8, abs=0.005)
    f = gallery.run_entry("hopfield-modern", {}).figures
    assert f["overlap"] > 0.999 and f["energy_nonincreasing"] is True and f["load"] > 0.138
    assert f["classical_overlap"] < 0.8
    f = gallery.run_entry("hopfield-capacity", {"quick": True, "alphas": [0.05, 0.3], "trials": 4}).figures
    assert f["overlaps"][0] > 0.99 and f["overlaps"][1] < 0.6 and f["alpha_c_ags"] == pytest.approx(0.138, abs=1e-3)


def test_errors_name_the_fix():
    with pytest.raises(BraindynError, match="square"):
        H.Hopfield(jnp.ones((3, 4)), 3)
    with pytest.raises(BraindynError, match="key"):
        H.Hopfield.store(H.random_patterns(0, 2, 10)).recall(jnp.ones(10))
    with pytest.raises(BraindynError, match="shape"):
        H.Hopfield.store(H.random_patterns(0, 2, 10)).recall(jnp.ones(9), key=jax.random.PRNGKey(0))
    with pytest.raises(BraindynError, match="flip"):
        H.corrupt(jax.random.PRNGKey(0), jnp.ones(10), 1.5)
    with pytest.raises(ValueError, match="mode"):
        H.Hopfield.store(H.random_patterns(0, 2, 10), mode="parallel")
    with pytest.raises(BraindynError, match="patterns"):
        H.ModernHopfield(jnp.ones(5))
