"""Integrate-and-fire family against analytic formulas, refcases.md and scipy solve_ivp."""
import math

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import GIF, LIF, QIF, AdEx, AdQIF, ExpIF, Izhikevich, Theta

from test_neurons_refs import assert_spikes_match, spikes_ivp


def run(model, T, dt, I, **kw):
    # check_finite=False: the runner's NaN check does not yet support x64 (reported to the lead).
    return bd.run(model, T, dt, inputs=I, record=["V", "spike"] if "V" in model.variables else ["spike"],
                  check_finite=False, **kw)


def vf(model, y, I):
    return {k: float(np.asarray(v).ravel()[0]) for k, v in model.vector_field(0.0, y, {"I": I}).items()}


# ---- QIF -------------------------------------------------------------------------------------
def qif_T(I, V0, Vr=-65.0, Vc=-50.0, a0=0.07, tau=10.0, Vth=0.0):
    # time to threshold of tau V' = a0 (V - Vr)(V - Vc) + I, by the arctan integral
    m, q = 0.5 * (Vr + Vc), I / a0 - 0.25 * (Vc - Vr) ** 2
    s = math.sqrt(q)
    return tau / (a0 * s) * (math.atan((Vth - m) / s) - math.atan((V0 - m) / s))


def test_qif_fixed_points_and_rheobase_refcases():
    m = QIF()
    for I, (lo, hi) in [(0.0, (-65.0, -50.0)), (3.0, (-61.15963, -53.84037))]:
        for V in (lo, hi):  # refcases: zeros of the vector field
            assert abs(vf(m, {"V": np.array([V])}, I)["V"]) < 1e-5
    assert m.rheobase() == pytest.approx(3.9375, abs=1e-12)  # a0 (Vc - Vr)^2 / 4
    lo, hi = m.fixed_points(3.0)
    assert (lo, hi) == (pytest.approx(-61.15963, abs=1e-5), pytest.approx(-53.84037, abs=1e-5))


@pytest.mark.parametrize("I,n,first,isi", [(5.0, 4, 99.69, 104.69), (6.0, 6, 67.65, 72.65)])
def test_qif_spike_times_refcases(I, n, first, isi):
    assert qif_T(I, -68.0) == pytest.approx(first, abs=0.005)  # the formula agrees with refcases
    res = run(QIF(method="rk4", refractory_rule="exact"), 500.0, 0.01, I)
    t = res.spike_times()
    assert len(t) == n
    assert t[0] == pytest.approx(first, abs=0.011)
    assert np.diff(t) == pytest.approx(np.full(n - 1, isi), abs=0.011)
    # book setting (exp-Euler, dt 0.1, book refractory rule) stays within a few steps
    tb = run(QIF(), 500.0, 0.1, I, time_label="start").spike_times()
    assert len(tb) == n and abs(tb[0] - first) < 0.2 and abs(np.diff(tb).mean() - isi - 0.1) < 0.2


# ---- theta -----------------------------------------------------------------------------------
@pytest.mark.parametrize("I", [0.25, 1.0, 4.0])
def test_theta_period_analytic(I):
    T = math.pi * 10.0 / math.sqrt(I)  # Ermentrout & Kopell: period pi tau / sqrt(I)
    t = run(Theta(method="rk4"), round(6 * T, 2), 0.01, I).spike_times()  # a whole number of steps
    assert np.diff(t) == pytest.approx(np.full(len(t) - 1, T), abs=0.011)
    assert t[0] == pytest.approx(T, abs=0.011)  # from theta = -pi


def test_theta_rests_below_rheobase():
    res = bd.run(Theta(), 300.0, inputs=-0.2, record=["theta", "spike"], check_finite=False)
    J = -0.2
    assert res.spike_count() == 0
    assert float(res["theta"][-1, 0]) == pytest.approx(-math.acos((1 + J) / (1 - J)), abs=1e-4)


# ---- LIF subthreshold decay (the foundation's model, checked here too) ------------------------
def test_lif_subthreshold_decay_exact():
    res = bd.run(LIF(V_init=15.0), 50.0, inputs=0.0, record="V", check_finite=False)
    assert np.asarray(res["V"])[:, 0] == pytest.approx(15.0 * np.exp(-res.ts / 10.0), abs=1e-9)


# ---- ExpIF -----------------------------------------------------------------------------------
def test_expif_fixed_points_rheobase_and_spikes_refcases():
    m = ExpIF()
    for V in (-64.99322, -58.06315):
        assert abs(vf(m, {"V": np.array([V])}, 0.0)["V"]) < 1e-5
    assert m.rheobase() == pytest.approx(4.0)  # (V_T - V_rest - Delta_T)/R
    t = run(ExpIF(method="rk4", refractory_rule="exact"), 500.0, 0.01, 5.0, time_label="start").spike_times()
    assert len(t) == 11
    assert t[0] == pytest.approx(42.06, abs=0.011)
    assert np.diff(t).mean() == pytest.approx(44.06, abs=0.011)


# ---- AdEx ------------------------------------------------------------------------------------
REF_COUNTS = {"tonic": 9, "adapting": 19, "initial_burst": 17, "bursting": 33, "transient": 2, "delayed": 6}


def _adex_population(**kw):
    names = list(bd.neurons.ADEX_PATTERNS)
    P = bd.neurons.ADEX_PATTERNS
    arr = lambda k: np.array([P[n][k] for n in names])
    m = AdEx(n=len(names), a=arr("a"), b=arr("b"), tau=arr("tau"), tau_w=arr("tau_w"), V_reset=arr("V_reset"), **kw)
    return names, m, arr("I")


def test_adex_pattern_counts_refcases():
    names, m, I = _adex_population()  # all six patterns in one run: EE, dt 0.1, 500 ms
    res = bd.run(m, 500.0, inputs=I, record="spike", check_finite=False)
    counts = np.asarray(res["spike"]).sum(axis=0)
    assert dict(zip(names, counts.tolist())) == REF_COUNTS
    t, i = res.spike_events()
    assert t[i == names.index("tonic")][0] - 0.1 == pytest.approx(13.4, abs=0.1)
    assert t[i == names.index("transient")] - 0.1 == pytest.approx([13.3, 41.7], abs=0.15)
    assert t[i == names.index("delayed")][0] - 0.1 == pytest.approx(143.7, abs=0.15)


def adex_f(p, I):
    def f(t, y):
        V, w = y
        dV = (-(V + 70.0) + 2.0 * math.exp((V + 50.0) / 2.0) - 0.5 * w + 0.5 * I) / p["tau"]
        return [dV, (p["a"] * (V + 70.0) - w) / p["tau_w"]]
    return f


@pytest.mark.parametrize("pattern", ["adapting", "initial_burst", "delayed"])
def test_adex_against_solve_ivp(pattern):
    p = bd.neurons.ADEX_PATTERNS[pattern]
    ref = spikes_ivp(adex_f(p, p["I"]), [p["V_reset"], 0.0], 300.0, V_th=-30.0,
                     reset=lambda y: np.array([p["V_reset"], y[1] + p["b"]]))
    t = run(AdEx.preset(pattern, method="rk4"), 300.0, 0.005, p["I"]).spike_times()
    assert_spikes_match(t, ref, 0.005)


def test_adex_rheobase_formula_a0():
    # a = 0: saddle-node where d/dV [-(V - V_rest) + D exp((V - V_T)/D)] = 0, i.e. V = V_T
    m = AdEx.preset("tonic")
    assert m.rheobase() == pytest.approx((-50.0 + 70.0 - 2.0) / 0.5)


# ---- AdQIF -----------------------------------------------------------------------------------
def test_adqif_against_solve_ivp_and_fixed_point():
    def f(t, y):
        V, w = y
        return [(0.07 * (V + 65.0) * (V + 50.0) - w + 30.0) / 10.0, ((V + 65.0) - w) / 10.0]

    ref = spikes_ivp(f, [-68.0, 0.0], 200.0, V_th=-30.0, reset=lambda y: np.array([-68.0, y[1] + 0.1]))
    t = run(AdQIF(method="rk4"), 200.0, 0.005, 30.0).spike_times()
    assert len(ref) > 5
    assert_spikes_match(t, ref, 0.005)
    # fixed points where c x (x - 15) - x + I = 0 (x = V - V_rest, w = x): zeros of the field
    x = (2.05 - math.sqrt(2.05 ** 2 - 4 * 0.07 * 10.0)) / (2 * 0.07)
    d = vf(AdQIF(), {"V": np.array([x - 65.0]), "w": np.array([x])}, 10.0)
    assert abs(d["V"]) < 1e-9 and abs(d["w"]) < 1e-9


# ---- GIF -------------------------------------------------------------------------------------
def test_gif_against_solve_ivp_bursting():
    a, A1, A2, I = 0.005, 10.0, -0.6, 2.0

    def f(t, y):
        V, th, I1, I2 = y
        return [(-(V + 70.0) + 20.0 * (I1 + I2 + I)) / 20.0, a * (V + 70.0) - 0.01 * (th + 50.0), -0.2 * I1,
                -0.02 * I2]

    # the threshold is a state variable: spike when V - theta crosses 0
    def g(t, z):  # z = (V - theta, theta, I1, I2)
        d = f(t, [z[0] + z[1], z[1], z[2], z[3]])
        return [d[0] - d[1], d[1], d[2], d[3]]

    def reset(z):
        V, th = z[0] + z[1], z[1]
        th = max(-60.0, th)
        return np.array([-70.0 - th, th, 0.0 * z[2] + A1, z[3] + A2])

    ref = spikes_ivp(g, [-70.0 + 50.0, -50.0, 0.0, 0.0], 200.0, V_th=0.0, reset=reset)
    t = run(GIF.preset("tonic_bursting", method="rk4"), 200.0, 0.005, I).spike_times()
    assert len(ref) > 8
    assert_spikes_match(t, ref, 0.005)


def gif_book_numpy(p, I_of_t, T, dt, rule):
    """The GIF in the book's update order, in NumPy: every variable advanced by exponential Euler
    (exact for each linear equation with the others held), then the spike test of the new V against
    the threshold of the previous step ("previous") or the new one ("current"), then the reset.
    Returns the spike times (end of the step)."""
    phi = lambda lam: (np.exp(lam * dt) - 1.0) / lam  # the step of x' = lam x + c, times x' at its start
    I1 = I2 = 0.0
    V, th = p["V_rest"], p["theta_inf"]
    out = []
    for k in range(int(round(T / dt))):
        I = I_of_t((k + 0.5) * dt)
        dI1, dI2 = -p["k1"] * I1, -p["k2"] * I2
        dV = (-(V - p["V_rest"]) + p["R"] * (I1 + I2 + I)) / p["tau"]
        dth = p["a"] * (V - p["V_rest"]) - p["b"] * (th - p["theta_inf"])
        I1n, I2n = I1 + phi(-p["k1"]) * dI1, I2 + phi(-p["k2"]) * dI2
        Vn, thn = V + phi(-1.0 / p["tau"]) * dV, th + phi(-p["b"]) * dth
        if Vn > (th if rule == "previous" else thn):
            out.append((k + 1) * dt)
            I1n, I2n = p["R1"] * I1n + p["A1"], p["R2"] * I2n + p["A2"]
            Vn, thn = p["V_reset"], max(p["theta_reset"], thn)
        I1, I2, V, th = I1n, I2n, Vn, thn
    return np.array(out)


GIF_DEFAULTS = dict(V_rest=-70.0, V_reset=-70.0, theta_inf=-50.0, theta_reset=-60.0, R=20.0, tau=20.0, a=0.0,
                    b=0.01, k1=0.2, k2=0.02, R1=0.0, R2=1.0, A1=0.0, A2=0.0)


@pytest.mark.parametrize("pattern", ["hyperpolarization_induced_spiking", "rebound_burst", "spike_latency"])
def test_gif_threshold_rules_against_the_book_order(pattern):
    """threshold_rule="previous" is the book's (and BrainPy's) test of the new V against the old
    threshold, "current" braindyn's test against the new one; each matches its NumPy
    reimplementation spike for spike, and the two differ where the threshold moves fast."""
    entry = bd.neurons.if_family.GIF_FEATURES.get(pattern) or bd.neurons.if_family.GIF_PATTERNS[pattern]
    p = {**GIF_DEFAULTS, **entry["params"]}
    vals, durs = entry["stim"]
    edges = np.cumsum(durs)
    I_of_t = lambda t: vals[min(int(np.searchsorted(edges, t, side="right")), len(vals) - 1)]
    T = float(sum(durs))
    stim = bd.inputs.section(vals, durs)
    times = {}
    for rule in ("current", "previous"):
        ref = gif_book_numpy(p, I_of_t, T, 0.1, rule)
        t = bd.run(GIF.preset(pattern, threshold_rule=rule), T, 0.1, inputs=stim, record="spike").spike_times()
        assert len(ref) >= 1
        np.testing.assert_allclose(t, ref, atol=1e-6, err_msg=rule)
        times[rule] = ref
    d = times["previous"][0] - times["current"][0]
    assert 0.05 < abs(d) < 1.0, d  # first spikes differ by one to a few steps (0.6 ms for rebound_burst)


def test_gif_threshold_rule_is_checked():
    with pytest.raises(bd.BraindynError, match="threshold_rule"):
        GIF(threshold_rule="old")


def test_gif_subthreshold_exact():
    # below threshold V relaxes exponentially: V = V_rest + R I (1 - e^{-t/tau})
    res = bd.run(GIF(), 100.0, inputs=0.5, record="V", check_finite=False)
    ref = -70.0 + 20.0 * 0.5 * (1 - np.exp(-res.ts / 20.0))
    assert np.asarray(res["V"])[:, 0] == pytest.approx(ref, abs=1e-9)


# ---- Izhikevich ------------------------------------------------------------------------------
def test_izhikevich_counts_refcases():
    # refcases: a .02 b .2 c -65 d 2 base, I = 10, 200 ms, V0 -65, u0 = b V0
    cells = {"RS": dict(d=8.0), "IB": dict(c=-55.0, d=4.0), "FS": dict(a=0.1), "CH": dict(c=-50.0),
             "LTS": dict(b=0.25), "default": {}}
    ref = {"RS": 5, "IB": 8, "FS": 28, "CH": 22, "LTS": 18, "default": 13}
    base = dict(a=0.02, b=0.2, c=-65.0, d=2.0)
    par = {k: np.array([{**base, **cells[c]}[k] for c in cells]) for k in base}
    m = Izhikevich(n=len(cells), **par)
    counts = np.asarray(bd.run(m, 200.0, inputs=10.0, record="spike", check_finite=False)["spike"]).sum(0)
    assert dict(zip(cells, counts.tolist())) == ref


def test_izhikevich_fixed_points_refcases():
    m = Izhikevich()
    for V, u in [(-62.7386, -12.5477), (-57.2614, -11.4523)]:
        d = vf(m, {"V": np.array([V]), "u": np.array([u])}, 3.7)
        assert abs(d["V"]) < 1e-3 and abs(d["u"]) < 1e-5
    assert m.saddle_node_current() == pytest.approx(4.0)


def test_izhikevich_against_solve_ivp():
    def f(t, y):
        V, u = y
        return [0.04 * V * V + 5 * V + 140 - u + 10.0, 0.02 * (0.2 * V - u)]

    ref = spikes_ivp(f, [-65.0, -13.0], 200.0, V_th=30.0, reset=lambda y: np.array([-55.0, y[1] + 4.0]))
    t = run(Izhikevich(c=-55.0, d=4.0, method="rk4"), 200.0, 0.005, 10.0).spike_times()
    assert len(ref) == 8
    assert_spikes_match(t, ref, 0.005)


# ---- bad parameters --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: QIF(tau=-1.0), lambda: QIF(a0=0.0), lambda: Theta(tau=0.0), lambda: ExpIF(delta_T=-1.0),
    lambda: AdEx(tau_w=0.0), lambda: AdQIF(c=-0.1), lambda: GIF(k1=0.0), lambda: Izhikevich(a=float("nan")),
    lambda: AdEx.preset("bursty"), lambda: GIF.preset("nope"), lambda: Izhikevich.preset("regular"),
    lambda: QIF(t_ref=-1.0), lambda: AdEx(noise={"X": 1.0}),
])
def test_bad_parameters_raise(make):
    with pytest.raises(bd.BraindynError):
        make()
