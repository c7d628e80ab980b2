"""CANNs against the analytic bump, the critical k, and NumPy reimplementations.

References: the closed-form stationary bump and k_c (derived in braindyn.models.cann, checked
here also as an exact zero of the discrete vector field), the low-pass lag atan(v tau) of an
input-driven ring, the exact onset m = tau/tau_v of the travelling bump with adaptation, and
NumPy RK4 reimplementations with the book's dense connection matrix (not the FFT).
"""
import importlib.util
import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn import BraindynError
from braindyn.models import cann as C

ROOT = pathlib.Path(__file__).resolve().parents[1]


# ---- NumPy reference: the book's dense matrix, RK4 -------------------------------------------
def _dense_J(n, a=0.5, J0=4.0):
    x = -np.pi + 2 * np.pi * np.arange(n) / n
    d = x[:, None] - x[None, :]
    d = d - 2 * np.pi * np.round(d / (2 * np.pi))
    return x, J0 * np.exp(-0.5 * (d / a) ** 2) / (np.sqrt(2 * np.pi) * a)


def _np_run(f, y0, dt, steps, every, observe):
    y = [np.array(v, float) for v in y0]
    out = []
    for i in range(steps):
        t = i * dt
        k1 = f(t, y)
        k2 = f(t, [a + 0.5 * dt * b for a, b in zip(y, k1)])
        k3 = f(t, [a + 0.5 * dt * b for a, b in zip(y, k2)])
        k4 = f(t, [a + dt * b for a, b in zip(y, k3)])
        y = [a + dt / 6 * (p + 2 * q + 2 * r + s) for a, p, q, r, s in zip(y, k1, k2, k3, k4)]
        if (i + 1) % every == 0:
            out.append(observe(y))
    return np.asarray(out)


def _np_rates(u, k):
    return u * u / (1 + k * np.sum(u * u))


def _slope(ts, c, t_from):
    sel = ts > t_from
    return np.polyfit(ts[sel], np.unwrap(c[sel]), 1)[0]


# ---- the coupling ----------------------------------------------------------------------------
def test_fft_coupling_equals_the_dense_matrix():
    m = C.CANN1D(n=64)
    x, J = _dense_J(64)
    np.testing.assert_allclose(np.asarray(m.x), x, atol=1e-14)
    r = np.random.default_rng(0).random(64)
    np.testing.assert_allclose(np.asarray(m.recurrent(jnp.asarray(r))), J @ r, rtol=1e-10, atol=1e-12)
    m2 = C.CANN2D(length=8)
    X = np.asarray(m2.x)
    d = X[:, None, :] - X[None, :, :]
    d = d - 2 * np.pi * np.round(d / (2 * np.pi))
    J2 = 4.0 * np.exp(-0.5 * np.sum(d * d, -1) / 0.25) / (np.sqrt(2 * np.pi) * 0.5)
    r2 = np.random.default_rng(1).random(64)
    np.testing.assert_allclose(np.asarray(m2.recurrent(jnp.asarray(r2))), J2 @ r2, rtol=1e-10, atol=1e-12)


# ---- the stationary bump ---------------------------------------------------------------------
@pytest.mark.parametrize("k", [8.1, 0.1])
def test_analytic_bump_is_a_zero_of_the_discrete_field(k):
    """The Gaussian ansatz is exact: the field vanishes on it (512 neurons, the book's ring)."""
    m = C.CANN1D(k=k)
    s = m.analytic_bump()
    kc = 512 / (2 * np.pi) * 16 / (8 * np.sqrt(2 * np.pi) * 0.5)
    assert s["k_c"] == pytest.approx(kc, rel=1e-12)
    u0 = 4 * (1 + np.sqrt(1 - k / kc)) / (4 * np.sqrt(np.pi) * 0.5 * k)
    assert s["u0"] == pytest.approx(u0, rel=1e-12)
    u = m.profile(0.3)
    f = m.vector_field(0.0, {"u": u}, {"I": 0.0})["u"]
    # exact on the line; the ring cuts the tails of u at the antipode, exp(-pi^2/4a^2) = 5e-5
    assert float(jnp.max(jnp.abs(f))) < 1e-4 * s["u0"]
    f2 = m.vector_field(0.0, {"u": 1.05 * u}, {"I": 0.0})["u"]      # a scaled bump is not a zero
    assert float(jnp.max(jnp.abs(f2))) > 1e-2 * s["u0"]


@pytest.mark.parametrize("k", [8.1, 0.1])
def test_bump_height_and_width_after_the_book_protocol(k):
    """512 neurons, input A=10 at 0 from 2 to 12 ms, then alone: height and FWHM within 1 %."""
    from braindyn.gallery.attractors import _fwhm

    m = C.CANN1D(k=k)
    inp = m.stimulus_input([0.0], [0.0], t_on=2.0, t_off=12.0)
    res = bd.run(m, 62.0, 0.1, inputs=inp, record="u", record_every=620)
    U = np.asarray(res["u"][-1])
    s = m.analytic_bump()
    assert U.max() == pytest.approx(s["u0"], rel=0.01)
    assert _fwhm(np.asarray(m.x), U) == pytest.approx(4 * 0.5 * np.sqrt(np.log(2)), rel=0.01)
    assert abs(float(m.decode(U))) < 1e-6
    # it is much tighter than 1 %: the bump is an exact solution
    assert U.max() == pytest.approx(s["u0"], rel=1e-4)


def test_critical_k_within_one_percent():
    """A bump started at the saddle-node height survives at 0.99 k_c and dies at 1.01 k_c."""
    base = C.CANN1D(n=128)
    kc = base.k_critical
    hc = 4.0 / (4 * np.sqrt(np.pi) * 0.5 * kc)
    u0 = base.profile(0.0, hc)

    def final(k):
        m = C.CANN1D(n=128, k=k)
        fin, _, _ = bd.simulate(m, m.init_state(u=u0), 1500, 0.1, record=lambda s: {})
        return jnp.max(fin["u"])

    h = np.asarray(jax.jit(jax.vmap(final))(jnp.asarray([0.99 * kc, 1.01 * kc])))
    assert h[0] == pytest.approx(C.bump_solution(0.99 * kc, rho=128 / (2 * np.pi))["u0"], rel=0.01)
    assert h[1] < 1e-3 * hc


def test_2d_bump_height_and_centre():
    m = C.CANN2D(length=32)
    x0 = np.asarray(m.x)[16 * 32 + 20]    # a grid point
    inp = m.stimulus_input([0.0], [x0], t_on=2.0, t_off=12.0)
    res = bd.run(m, 40.0, 0.1, inputs=inp, record="u", record_every=400)
    U = np.asarray(res["u"][-1])
    s = m.analytic_bump()
    assert s["k_c"] == pytest.approx(32 * 32 / (2 * np.pi) ** 2 * 16 / 16, rel=1e-12)
    assert U.max() == pytest.approx(s["u0"], rel=0.01)
    np.testing.assert_allclose(np.asarray(m.decode(U)), x0, atol=1e-6)


# ---- tracking --------------------------------------------------------------------------------
def test_tracking_without_recurrence_lags_by_atan_v_tau():
    """J0 = 0: u is the input low-pass filtered; its population vector lags by atan(v tau)."""
    v = 0.3
    m = C.CANN1D(n=128, J0=0.0)
    inp = m.stimulus_input([5.0, 25.0], [0.0, 20 * v])
    res = bd.run(m, 25.0, 0.05, inputs=inp, record="u", record_every=500)
    lag = float(inp.position(25.0)) - float(m.decode(res["u"][-1]))
    lag = (lag + np.pi) % (2 * np.pi) - np.pi
    assert lag == pytest.approx(math.atan(v * 1.0), rel=0.01)


def test_tracking_matches_numpy():
    """The book's smooth tracking (0 -> 1.5 pi in 10 ms), 128 neurons, against NumPy RK4."""
    n, dt = 128, 0.1
    m = C.CANN1D(n=n)
    inp = m.stimulus_input([10.0, 20.0], [0.0, 1.5 * np.pi])
    res = bd.run(m, 30.0, dt, inputs=inp, record="u", record_every=10)
    c = np.asarray(m.decode(res["u"]))
    x, J = _dense_J(n)

    def I(t):  # the input of the step starting at t is evaluated at its midpoint
        tm = t + dt / 2
        z = np.interp(tm, [10.0, 20.0], [0.0, 1.5 * np.pi])
        d = x - z
        d = d - 2 * np.pi * np.round(d / (2 * np.pi))
        return 10.0 * np.exp(-0.25 * d * d / 0.25)

    def f(t, y, I_t={}):
        key = round(t / dt)
        if key not in I_t:
            I_t[key] = I(t)
        return [-y[0] + J @ _np_rates(y[0], 8.1) + I_t[key]]

    cref = _np_run(f, [np.zeros(n)], dt, 300, 10, lambda y: np.angle(np.sum(y[0] * np.exp(1j * x))))
    err = (c - cref + np.pi) % (2 * np.pi) - np.pi
    assert np.max(np.abs(err)) < 1e-6


# ---- adaptation ------------------------------------------------------------------------------
def _sfa_run(m_val, n=128, T=200.0, kick=0.01):
    m = C.CANN1DSFA(n=n, m=m_val)
    u = m.profile(0.0, C.bump_solution(0.1, rho=n / (2 * np.pi), m=m_val)["u0"])
    st = m.init_state(u=u, v=m_val * jnp.roll(u, 1))   # the adaptation trails one neuron behind
    res = bd.run(m, T, 0.1, state0=st, record="u", record_every=10)
    return m, res.ts, np.asarray(m.decode(res["u"])), np.asarray(res["u"][-1])


def test_sfa_travels_above_the_onset_only():
    m, ts, c, U = _sfa_run(0.08)      # the kick decays at 1/tau_v - m/tau = 0.02 /ms: the bump stops
    assert abs(_slope(ts, c, 150.0)) < 3e-4 and abs(c[-1] - c[0]) < 0.3
    s = C.bump_solution(0.1, rho=128 / (2 * np.pi), m=0.08)   # the static bump with adaptation
    assert U.max() == pytest.approx(s["u0"], rel=0.01)
    _, ts, c, _ = _sfa_run(0.15)
    assert abs(_slope(ts, c, 150.0)) > 0.01


def test_sfa_speed_matches_numpy_and_the_course_formula_is_quoted():
    n, T = 128, 150.0
    m, ts, c, _ = _sfa_run(0.3, n=n, T=T)
    speed = abs(_slope(ts, c, 100.0))
    x, J = _dense_J(n)
    u0 = np.asarray(m.profile(0.0, C.bump_solution(0.1, rho=n / (2 * np.pi), m=0.3)["u0"]))

    def f(t, y):
        u, v = y
        return [-u + J @ _np_rates(u, 0.1) - v, (-v + 0.3 * u) / 10.0]

    cref = _np_run(f, [u0, 0.3 * np.roll(u0, 1)], 0.1, int(T / 0.1), 10,
                   lambda y: np.angle(np.sum(y[0] * np.exp(1j * x))))
    ref = abs(_slope(np.arange(1, len(cref) + 1) * 1.0, cref, 100.0))
    assert speed == pytest.approx(ref, rel=0.02)
    # the course's Gaussian-ansatz speed overestimates it by about sqrt(2)
    assert speed / m.intrinsic_speed() == pytest.approx(1 / np.sqrt(2), rel=0.03)


def test_stp_speed_matches_numpy():
    """Depression: 128 neurons with beta scaled by 128/512 (the same beta r as the default)."""
    n, T, beta = 128, 300.0, 0.05 * 128 / 512
    m = C.CANN1DSTP(n=n, beta=beta)
    u = m.profile(0.0)
    p0 = 1.0 - 0.01 * jnp.roll(u, 1) / jnp.max(u)
    res = bd.run(m, T, 0.1, state0=m.init_state(u=u, p=p0), record="u", record_every=10)
    c = np.asarray(m.decode(res["u"]))
    speed = abs(_slope(res.ts, c, 200.0))
    x, J = _dense_J(n)

    def f(t, y):
        uu, p = y
        r = _np_rates(uu, 0.1)
        return [-uu + J @ (p * r), (1 - p) / 50.0 - beta * p * r]

    cref = _np_run(f, [np.asarray(u), np.asarray(p0)], 0.1, int(T / 0.1), 10,
                   lambda y: np.angle(np.sum(y[0] * np.exp(1j * x))))
    assert speed > 0.01
    assert speed == pytest.approx(abs(_slope(np.arange(1, len(cref) + 1) * 1.0, cref, 200.0)), rel=0.02)


# ---- gallery, command line, example ----------------------------------------------------------
def test_gallery_sfa_modes():
    from braindyn import gallery

    def mode(**kw):
        return gallery.run_entry("cann-sfa", {"quick": True, **kw}).figures

    f = mode(m=0.3)
    assert f["mode"] == "travelling" and f["speed_rad_per_ms"] != 0
    assert mode(m=0.05)["mode"] == "static"
    assert mode(m=0.3, task="static-input")["mode"] == "oscillatory"
    assert mode(m=0.05, task="moving-input")["mode"] == "smooth"
    assert mode(m=0.3, task="moving-input")["mode"] == "anticipative"


def test_cli_cann_1d_json(capsys):
    from braindyn.cli import main

    assert main(["run", "cann-1d", "--quick", "--json", "--set", "measure_kc=0"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["height_rel_error"] < 0.01 and d["fwhm_rel_error"] < 0.01 and d["n"] == 128


def test_example_runs_in_its_short_mode(tmp_path):
    spec = importlib.util.spec_from_file_location("ch8_attractors", ROOT / "examples" / "ch8_attractors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--short", "--out", str(tmp_path)])
    assert out["cann-1d"]["height_rel_error"] < 0.01
    assert out["hopfield"]["energy_nonincreasing"] is True
    assert len(list(tmp_path.glob("*.png"))) == len(out)


def test_errors_name_the_fix():
    with pytest.raises(BraindynError, match="n"):
        C.CANN1D(n=0)
    with pytest.raises(BraindynError, match="tau"):
        C.CANN1D(tau=-1.0)
    with pytest.raises(BraindynError, match="length"):
        C.CANN2D(length=3)
    with pytest.raises(BraindynError, match="z_max"):
        C.CANN1D(z_min=1.0, z_max=0.0)
    with pytest.raises(BraindynError, match="times"):
        C.CANN1D(n=8).stimulus_input([0.0, 1.0], [0.0])
    with pytest.raises(BraindynError, match="key"):
        C.CANN1D(n=8).stimulus_input([0.0], [0.0], noise=1.0)(0.0, 0.1, None)
    with pytest.raises(BraindynError, match="dim"):
        C.bump_solution(1.0, dim=3)
