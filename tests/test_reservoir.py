"""Reservoir computing: the ESN step against numpy, the echo-state property, the data generators
against scipy / numpy references, and the chapter's gallery entries and example (quick modes)."""
import importlib.util
import json
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from braindyn import BraindynError, gallery  # noqa: E402
from braindyn.models import (ESN, lorenz, lsm_features, mackey_glass, pattern_rates, sigma_max,  # noqa: E402
                             sine_power, spectral_radius)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_esn_step_matches_numpy_and_reports_its_radii():
    rng = np.random.default_rng(0)
    n, n_in, a = 30, 2, 0.3
    W, W_in, b = rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=(n, n_in)), rng.normal(size=n)
    esn = ESN(W_in, W, b, leak=a)
    U = rng.normal(size=(25, n_in))
    x, ref = rng.normal(size=n), []
    x0 = x.copy()
    for u in U:
        x = (1 - a) * x + a * np.tanh(W_in @ u + W @ x + b)
        ref.append(x)
    np.testing.assert_allclose(np.asarray(esn.run(U, x0)), np.array(ref), rtol=1e-12, atol=1e-12)
    # batch of initial states and inputs
    Xb = np.asarray(esn.run(np.stack([U, U]), np.stack([x0, x0])))
    np.testing.assert_allclose(Xb[1], np.array(ref), rtol=1e-12, atol=1e-12)
    # as a braindyn model: one step per sample
    st = esn.init_state(x=x0)
    st, _ = esn.step(st, U[0], 0.0, 1.0)
    np.testing.assert_allclose(np.asarray(st["x"]), ref[0], rtol=1e-12)
    assert spectral_radius(esn) == pytest.approx(np.max(np.abs(np.linalg.eigvals(W))), rel=1e-12)
    assert sigma_max(esn) == pytest.approx(np.linalg.svd(W, compute_uv=False)[0], rel=1e-12)
    r = ESN.random(80, 1, spectral_radius=1.3, density=0.2, seed=4)
    assert spectral_radius(r) == pytest.approx(1.3, rel=1e-10)
    assert sigma_max(r) >= spectral_radius(r)
    assert np.count_nonzero(np.asarray(r.W)) == pytest.approx(0.2 * 80 * 80, rel=0.1)


def test_echo_state_property_distance_shrinks_below_one_not_above():
    rng = np.random.default_rng(1)
    n, T = 100, 200
    u = 0.1 * np.sin(0.2 * np.arange(T))[:, None]
    xa, xb = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)

    def ratio(esn):
        Xa, Xb = np.asarray(esn.run(u, xa)), np.asarray(esn.run(u, xb))
        d = np.linalg.norm(Xa - Xb, axis=1)
        return d, d[-1] / np.linalg.norm(xa - xb)

    # sigma_max < 1: a contraction for any input, the distance falls at every step
    small = ESN.random(n, 1, spectral_radius=0.4, seed=2)
    assert sigma_max(small) < 1.0
    d, r = ratio(small)
    assert r < 1e-10 and np.all(np.diff(d) <= 1e-15)
    # rho < 1 (sigma_max > 1): still forgets its initial state
    mid = ESN.random(n, 1, spectral_radius=0.9, seed=2)
    assert sigma_max(mid) > 1.0
    assert ratio(mid)[1] < 1e-4
    # rho well above 1: the two runs stay apart
    big = ESN.random(n, 1, spectral_radius=3.0, seed=2)
    d, r = ratio(big)
    assert r > 0.3 and d[-50:].min() > 0.3 * d[0]


def test_lorenz_matches_solve_ivp():
    ts, X = lorenz(101, h=0.01, sample_every=2, transient=0.0, x0=(1.0, 1.0, 1.0))

    def f(t, y):
        return [10 * (y[1] - y[0]), y[0] * (28 - y[2]) - y[1], y[0] * y[1] - 8 / 3 * y[2]]

    ref = solve_ivp(f, (0, 2.0), [1.0, 1.0, 1.0], t_eval=ts, method="DOP853", rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ts[-1], 2.0)
    np.testing.assert_allclose(X, ref.y.T, atol=2e-5 * np.abs(ref.y).max())


def test_mackey_glass_matches_a_numpy_method_of_steps():
    ts, x = mackey_glass(151, transient=0.0, h=0.1, sample=1.0, x0=1.2)
    # independent reference: numpy RK4 at h = 0.01 with the delayed value interpolated linearly
    h, lag = 0.01, 1700                       # tau = 17 = lag * h
    N = 15000
    y = np.empty(N + 1)
    y[0] = 1.2

    def yd(k2):  # y at half-index position k2/2 minus the delay (history 1.2)
        pos = k2 / 2.0 - lag
        if pos <= 0:
            return 1.2
        i = int(np.floor(pos))
        return y[i] + (pos - i) * (y[min(i + 1, N)] - y[i])

    def F(v, d):
        return 0.2 * d / (1 + d ** 10) - 0.1 * v

    for k in range(N):
        d0, dh, d1 = yd(2 * k), yd(2 * k + 1), yd(2 * k + 2)
        k1 = F(y[k], d0)
        k2 = F(y[k] + h / 2 * k1, dh)
        k3 = F(y[k] + h / 2 * k2, dh)
        k4 = F(y[k] + h * k3, d1)
        y[k + 1] = y[k] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    np.testing.assert_allclose(ts, np.arange(151.0))
    np.testing.assert_allclose(x, y[::100], atol=1e-4)
    # beyond the transient the series is aperiodic and bounded (tau = 17: the chaotic regime)
    _, xs = mackey_glass(400)
    assert 0.3 < xs.min() < 0.6 and 1.1 < xs.max() < 1.4


def test_sine_power_and_lsm_pieces():
    u, y = sine_power(50)
    np.testing.assert_allclose(y, 0.5 * np.sin(np.arange(50) / 5) ** 7, atol=1e-15)
    f = pattern_rates(np.arange(12.0).reshape(2, 3, 2), [1, 0, 1], window=30.0)
    np.testing.assert_allclose(np.asarray(f(45.0)), [2.0, 3.0])      # trial 1 (class 0), bin 1
    np.testing.assert_allclose(np.asarray(f(89.0)), [10.0, 11.0])    # trial 2 (class 1), bin 2
    F = lsm_features((np.array([1.0, 11.0, 12.0, 25.0]), np.array([0, 1, 1, 0]), 2), 2, 20.0, n_bins=2)
    np.testing.assert_array_equal(F, [[1, 0, 0, 2], [1, 0, 0, 0]])   # [bin0: n0 n1, bin1: n0 n1]
    with pytest.raises(BraindynError, match="square"):
        ESN(np.ones((3, 1)), np.ones((3, 2)))
    with pytest.raises(BraindynError, match="shape"):
        ESN.random(5, 2).run(np.ones((4, 3)))
    with pytest.raises(BraindynError, match="density"):
        ESN.random(5, 1, density=0.0)
    with pytest.raises(BraindynError):
        ESN.random(5, 1, leak=1.5)


@pytest.mark.parametrize("name", ["esn-sine", "esn-lorenz", "esn-mackey-glass"])
def test_esn_entries_quick(name):
    f = gallery.run_entry(name, {"quick": True}).figures
    json.dumps(f)
    assert f["spectral_radius"] < 1.0 < f["sigma_max"]
    if name == "esn-lorenz":
        assert len(f["nrmse"]) == len(f["mae"]) == 3 and f["horizon"] == pytest.approx(0.2)
        assert f["nrmse"][0] < 0.05                               # x, 0.2 time units ahead
        assert max(f["nrmse"]) < 0.05
    elif name == "esn-sine":
        assert f["nrmse"] < 0.01 < 0.3 < f["nrmse_input_only"]
    else:
        assert f["nrmse"] < 0.05


def test_lsm_entry_quick(tmp_path):
    f = gallery.run_entry("lsm", {"quick": True}, plot=str(tmp_path / "lsm.png")).figures
    assert (tmp_path / "lsm.png").stat().st_size > 0
    assert 5.0 < f["rate_hz"] < 100.0
    assert f["accuracy"] >= 0.8 > 2 * f["chance"]


def test_example_ch9_reservoir(tmp_path):
    spec = importlib.util.spec_from_file_location("ch9_reservoir", ROOT / "examples" / "ch9_reservoir.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.ENTRIES = ["esn-sine"]            # the other entries run in their own tests above
    res = mod.main(["--short", "--out", str(tmp_path)])
    esp = res["esp"]
    assert esp[0.5]["ratio"] < 1e-6 and esp[3.0]["ratio"] > 0.1
    assert res["sine_power_nrmse"] < 0.01
    assert (tmp_path / "esn-sine.png").stat().st_size > 0
