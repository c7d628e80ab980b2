"""Spike encoders and the digits data set (issue 10, item 7)."""
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.train.encoders import delta_decode, delta_encode, latency_encode, latency_time, poisson_encode


def test_poisson_rate():
    x = jnp.array([0.0, 0.1, 0.5, 1.0, 1.7])
    n, dt, rmax = 20000, 0.5, 80.0
    s = np.asarray(poisson_encode(x, n, dt=dt, max_rate=rmax, key=jax.random.PRNGKey(0)))
    assert set(np.unique(s)) <= {0.0, 1.0}
    p = np.clip(np.asarray(x), 0, 1) * rmax * dt / 1000.0
    rate_hz = s.mean(0) * 1000.0 / dt
    se = np.sqrt(np.maximum(p * (1 - p), 1e-12) / n) * 1000.0 / dt
    assert np.all(np.abs(rate_hz - np.clip(np.asarray(x), 0, 1) * rmax) <= 4 * se + 1e-9)
    # Bernoulli per step: successive steps uncorrelated
    c = np.corrcoef(s[:-1, 3], s[1:, 3])[0, 1]
    assert abs(c) < 4 / np.sqrt(n)
    with pytest.raises(bd.BraindynError, match="key"):
        poisson_encode(x, 10)
    with pytest.raises(bd.BraindynError, match="n_steps"):
        poisson_encode(x, 0, key=jax.random.PRNGKey(0))


def _rc_crossing(xs, tau, theta, h=2e-4, t_max=20.0):
    """First times tau V' = -V + x (V(0) = 0) exceeds theta, by a fine Euler integration (independent)."""
    V, t, out = np.zeros(len(xs)), 0.0, np.full(len(xs), np.inf)
    while t < t_max:
        V += h * (-V + xs) / tau
        t += h
        out = np.where(np.isinf(out) & (V > theta), t, out)
    return out


def test_latency_formula_and_steps():
    tau, theta, dt = 5.0, 0.2, 0.5
    xs = np.array([0.25, 0.3, 0.5, 1.0, 2.0])
    t_formula = latency_time(xs, tau=tau, threshold=theta)
    t_rc = _rc_crossing(xs, tau, theta)
    np.testing.assert_allclose(t_formula, t_rc, atol=2e-3)
    s = np.asarray(latency_encode(jnp.asarray(np.append(xs, [0.1, 0.0])), 60, dt=dt, tau=tau, threshold=theta))
    assert s.sum(0).tolist() == [1, 1, 1, 1, 1, 0, 0]          # one spike each; none at or below theta
    np.testing.assert_array_equal(s.argmax(0)[:5], np.floor(t_rc / dt).astype(int))
    assert np.all(np.diff(s.argmax(0)[:5]) <= 0)             # stronger input, earlier spike
    lin = np.asarray(latency_encode(jnp.array([0.0, 0.25, 1.0]), 9, dt=1.0, linear=True))
    assert lin.argmax(0).tolist() == [8, 6, 0]               # (1 - x) * 8 ms


def test_delta_modulation_reconstructs():
    t = np.linspace(0, 1, 2001)
    sig = np.stack([np.sin(2 * np.pi * 3 * t), 0.5 * np.cos(2 * np.pi * 5 * t) + t], axis=1)
    theta = 0.05
    ev = np.asarray(delta_encode(jnp.asarray(sig), theta))
    rec = np.asarray(delta_decode(ev, theta, x0=sig[0]))
    assert np.all(np.abs(rec - sig) < theta + 1e-12)
    assert np.all(ev == np.round(ev)) and ev[0].tolist() == [0.0, 0.0]
    # the reference moves at most the total variation (+ theta), and loses < 2 thresholds per turning point
    tv = np.abs(np.diff(sig, axis=0)).sum(0)
    turns = (np.diff(np.sign(np.diff(sig, axis=0)), axis=0) != 0).sum(0)
    n_ev = np.abs(ev).sum(0)
    assert np.all(n_ev <= tv / theta + 1) and np.all(n_ev >= tv / theta - 2 * (turns + 1))
    # a jump of several thresholds is several events at once
    assert np.asarray(delta_encode(jnp.array([0.0, 0.35]), 0.1)).tolist() == [0.0, 3.0]
    with pytest.raises(bd.BraindynError, match="threshold"):
        delta_encode(jnp.zeros(3), 0.0)


def test_load_digits_split():
    pytest.importorskip("sklearn")
    from braindyn.train.data import load_digits

    d = load_digits(test_fraction=0.2, seed=0)
    assert d.x_train.shape[1] == 64 and len(d.x_train) + len(d.x_test) == 1797
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    # stratified: every class about 20 % held out
    for c in range(10):
        frac = np.sum(d.y_test == c) / (np.sum(d.y_test == c) + np.sum(d.y_train == c))
        assert abs(frac - 0.2) < 0.01
    # disjoint and seeded
    rows = {r.tobytes() for r in d.x_train}
    same = load_digits(test_fraction=0.2, seed=0)
    assert np.array_equal(same.x_test, d.x_test)
    assert not np.array_equal(load_digits(test_fraction=0.2, seed=1).y_test, d.y_test)
    assert sum(r.tobytes() in rows for r in d.x_test) < 5      # (the data set has a few duplicate images)
    with pytest.raises(bd.BraindynError, match="test_fraction"):
        load_digits(test_fraction=1.0)


def test_load_digits_without_sklearn(monkeypatch):
    from braindyn.train.data import load_digits

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(bd.BraindynError, match=r"braindyn\[data\]"):
        load_digits()
