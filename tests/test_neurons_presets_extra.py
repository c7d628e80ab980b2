"""Further firing-pattern presets (Izhikevich 2004 features, GIF behaviours of Mihalas & Niebur
2009, the chaotic Hindmarsh--Rose regime), each checked by a property that the paper states,
through the classifier of :mod:`braindyn.neurons.patterns` or an independent measure, never
by a copied spike count."""
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import Izhikevich, fi_curve, rheobase
from braindyn.neurons.izhikevich import IZHIKEVICH_FEATURES
from braindyn.neurons.patterns import classify


# ---- Izhikevich (2004), Fig. 1: every feature in one vmapped run (rk4, dt 0.05) --------------
@pytest.fixture(scope="module")
def izh_features():
    F = IZHIKEVICH_FEATURES
    names = list(F)
    T, dt = max(F[n]["T"] for n in names), 0.05
    par = {k: np.array([F[n][k] for n in names]) for k in ("a", "b", "c", "d", "k1", "k0", "V_u", "lambda_u")}
    V0 = np.array([F[n]["V0"] for n in names])
    u0 = np.array([F[n]["b"] * F[n]["V0"] if F[n]["u0"] is None else F[n]["u0"] for n in names])
    m = Izhikevich(n=len(names), method="rk4", V_init=V0, u_init=u0, **par)
    stim = np.stack([np.asarray(Izhikevich.pattern_input(n, T).array(T, dt)).ravel() for n in names], 1)
    res = bd.run(m, T, dt, inputs=bd.inputs.from_array(stim, dt=dt), record=["V", "spike"])
    spikes = {}
    for k, n in enumerate(names):
        t = res.spike_times(neuron=k)
        spikes[n] = t[t < F[n]["T"]]
    return names, spikes, res


def _pat(spikes, name, **kw):
    return classify(spikes[name], *IZHIKEVICH_FEATURES[name]["window"], **kw)


def test_tonic_spiking_fires_regularly_while_the_input_is_on(izh_features):
    _, spikes, _ = izh_features
    # "fires a train of spikes as long as the input is on": not transient; after the onset
    # doublet (the cell starts from the rest of I = 0) the intervals are regular
    assert _pat(spikes, "tonic_spiking").label != "transient"
    assert _pat(spikes, "tonic_spiking", skip=2).label == "tonic"


def test_spike_frequency_adaptation_slows_down(izh_features):
    _, spikes, _ = izh_features
    p = _pat(spikes, "spike_frequency_adaptation")
    assert p.label != "transient" and p.n_spikes >= 5  # keeps firing
    assert np.all(np.diff(p.isis) > 0)  # "the frequency decreases with time": every ISI longer
    assert p.adaptation_index > 0.2 and p.adaptation_ratio > 2.0


def test_rebound_burst_after_release_from_inhibition(izh_features):
    _, spikes, _ = izh_features
    t = spikes["rebound_burst"]
    assert np.all(t > 25.0)  # nothing before or during the inhibitory pulse (20-25 ms)
    p = _pat(spikes, "rebound_burst")
    assert p.label == "transient"  # the response ends
    assert p.n_spikes >= 3 and np.median(p.isis) < 10.0  # a high-frequency burst, not one spike
    # a rebound *spike* cell (c = -60, d = 4) answers the same pulse with a single spike
    assert len(bd.run(Izhikevich.preset("rebound_spike", method="rk4"), 200.0, 0.05,
                      inputs=Izhikevich.pattern_input("rebound_spike", 200.0)).spike_times()) == 1


def test_integrator_fires_to_close_pulses_only(izh_features):
    _, spikes, _ = izh_features
    t = spikes["integrator"]
    T1 = 100.0 / 11
    assert len(t) == 1 and T1 + 5.0 < t[0] < T1 + 20.0  # pulses 5 ms apart sum up; 10 ms apart do not


def test_threshold_variability(izh_features):
    _, spikes, _ = izh_features
    t = spikes["threshold_variability"]
    # the same weak pulse is subthreshold alone (10-15 ms) but fires after inhibition (70-75 ms)
    assert len(t) == 1 and 80.0 < t[0] < 100.0


def test_accommodation(izh_features):
    _, spikes, _ = izh_features
    t = spikes["accommodation"]
    # a slow ramp to 8 does not fire, a fast ramp to only 4 does
    assert len(t) == 1 and 300.0 < t[0] < 330.0


def test_inhibition_induced_spiking(izh_features):
    _, spikes, _ = izh_features
    t = spikes["inhibition_induced_spiking"]
    assert np.all(t > 50.0)  # silent under the strong current
    assert _pat(spikes, "inhibition_induced_spiking").label == "tonic"  # fires while it is lowered


def test_subthreshold_oscillations_ring_after_the_spike(izh_features):
    names, spikes, res = izh_features
    k = names.index("subthreshold_oscillations")
    assert len(spikes["subthreshold_oscillations"]) == 1
    ts, V = res.ts, np.asarray(res["V"])[:, k]
    late = V[(ts > 40.0) & (ts < 200.0)]
    a, b = IZHIKEVICH_FEATURES["subthreshold_oscillations"]["a"], IZHIKEVICH_FEATURES["subthreshold_oscillations"]["b"]
    # rest of 0.04 V^2 + (5 - b) V + 140 = 0 (lower root); its Jacobian has complex eigenvalues
    Vr = (-(5 - b) - np.sqrt((5 - b) ** 2 - 4 * 0.04 * 140)) / 0.08
    tr, det = 0.08 * Vr + 5 - a, -a * (0.08 * Vr + 5) + a * b
    assert tr ** 2 - 4 * det < 0
    crossings = np.sum(np.diff(np.sign(late - Vr)) != 0)
    assert crossings >= 3  # a damped oscillation around rest, not a monotone return


def test_class_1_and_class_2_excitability():
    # Hodgkin's classes: class 1 can fire at an arbitrarily low rate (onset at the saddle-node),
    # class 2 starts at a finite rate (onset at a Hopf point, below the saddle-node current)
    rates, onsets = {}, {}
    for name in ("class_1_excitable", "class_2_excitable"):
        m = Izhikevich.preset(name)
        onsets[name] = rheobase(m, -1.0, 6.0, duration=1000.0, dt=0.05)
        fi = fi_curve(m, np.array([onsets[name] + 0.02]), duration=1000.0, dt=0.05, t_discard=300.0)
        rates[name] = float(fi.rate_isi_hz[0])
    sn = lambda k1, k0, b: (k1 - b) ** 2 / 0.16 - k0  # saddle-node current, u* = b V
    assert onsets["class_1_excitable"] == pytest.approx(sn(4.1, 108.0, -0.1), abs=0.1)
    assert rates["class_1_excitable"] < 5.0
    assert onsets["class_2_excitable"] < sn(5.0, 140.0, 0.26) - 0.1
    assert rates["class_2_excitable"] > 15.0


# ---- GIF (Mihalas & Niebur 2009, Table 1): further behaviours -------------------------------
from braindyn.neurons import GIF  # noqa: E402
from braindyn.neurons.if_family import GIF_FEATURES  # noqa: E402


def _steps(vals, durs, T, dt):
    t = (np.arange(int(round(T / dt))) + 0.5) * dt
    k = np.searchsorted(np.cumsum(durs), t, side="right")
    return np.asarray(list(vals) + [vals[-1]])[k]


@pytest.fixture(scope="module")
def gif_features():
    names, T, dt = list(GIF_FEATURES), 800.0, 0.1
    keys = ("a", "A1", "A2")
    m = GIF(n=len(names), **{k: np.array([GIF_FEATURES[n]["params"][k] for n in names]) for k in keys})
    stim = np.stack([_steps(*GIF_FEATURES[n]["stim"], T, dt) for n in names], 1)
    res = bd.run(m, T, dt, inputs=bd.inputs.from_array(stim, dt=dt), record="spike")
    return {n: res.spike_times(neuron=k) for k, n in enumerate(names)}


def test_gif_rebound_spike_and_burst(gif_features):
    for name, burst in (("rebound_spike", False), ("rebound_burst", True)):
        t = gif_features[name]
        assert np.all(t > 600.0), name  # silent at rest and under inhibition (100-600 ms)
        p = classify(t, 600.0, 800.0)
        assert p.label == "transient", (name, p)
        if burst:
            assert p.n_spikes >= 3 and np.all(p.isis < 10.0)  # one high-frequency burst
        else:
            assert p.n_spikes == 1


def test_gif_hyperpolarization_induced_firing(gif_features):
    # a constant *inhibitory* current makes these cells fire: tonic spikes, and bursts with the
    # spike-induced currents of tonic bursting (A1 = 10, A2 = -0.6)
    assert classify(gif_features["hyperpolarization_induced_spiking"], 0.0, 400.0).label == "tonic"
    assert classify(gif_features["hyperpolarization_induced_bursting"], 0.0, 400.0).label == "bursting"


def test_gif_class_1_and_2_onsets():
    # Table 1 drives both just above the steady-state threshold, where V* = V_rest + R I reaches
    # Theta* = Theta_inf + (a/b)(V* - V_rest): I* = (Theta_inf - V_rest)/(R (1 - a/b)) = 1 for
    # class 1 (a = 0) and 2 for class 2 (a = 0.005, b = 0.01). Class 1 then fires arbitrarily
    # slowly, class 2 at a finite rate.
    rates = {}
    for name, I_star in (("class_1_excitable", 1.0), ("class_2_excitable", 2.0)):
        I_pre = GIF_FEATURES[name]["stim"][0][0]
        assert I_star < I_pre < 1.01 * I_star
        fi = fi_curve(GIF.preset(name), np.array([0.99 * I_star, I_pre, 1.3 * I_star]), duration=2000.0, dt=0.1,
                      t_discard=500.0)
        rates[name] = fi.rate_isi_hz
    r1, r2 = rates["class_1_excitable"], rates["class_2_excitable"]
    assert r1[0] == 0 and 0 < r1[1] < 10.0 and r1[2] > 3 * r1[1]  # class 1: onset at I* = 1, rate from ~0
    assert r2[1] > 25.0 and r2[2] < 2 * r2[1]  # class 2: a finite rate just above I* = 2


# ---- Hindmarsh-Rose: the chaotic regime (r = 0.006, I = 3.25) --------------------------------
from braindyn.neurons import HR_PATTERNS, HindmarshRose  # noqa: E402
from braindyn.neurons.patterns import find_bursts  # noqa: E402


def test_hindmarsh_rose_chaotic_regime_vs_regular_bursting():
    # two trajectories 1e-6 apart in V, for the chaotic preset and for regular bursting (r = 0.01)
    out = {}
    for name in ("chaotic", "bursting"):
        m = HindmarshRose.preset(name, n=2, method="rk4", V_init=np.array([-1.6, -1.6 + 1e-6]))
        res = bd.run(m, 2500.0, 0.05, inputs=HR_PATTERNS[name]["I"], record=["V", "y", "z", "spike"])
        X = np.stack([np.asarray(res[k]) for k in ("V", "y", "z")], -1)
        sep = np.linalg.norm(X[:, 0] - X[:, 1], axis=-1)
        t = res.spike_times(neuron=0)
        sizes = [len(b) for b in find_bursts(t[t > 500.0])][1:-1]  # whole bursts after the transient
        out[name] = (sep, res.ts, sizes)
    sep, ts, sizes = out["chaotic"]
    # sensitive dependence: the separation reaches the size of the attractor (V spans ~3) ...
    assert sep.max() > 1.0
    # ... growing exponentially: positive largest Lyapunov exponent from the growth to 1e-2
    k = int(np.argmax(sep > 1e-2))
    assert (np.log(sep[k]) - np.log(1e-6)) / ts[k] > 0.01  # 1/ms
    assert len(set(sizes)) >= 3 and len(sizes) >= 10  # irregular bursts: spikes per burst vary
    sep_r, _, sizes_r = out["bursting"]
    assert sep_r.max() < 0.2  # a stable limit cycle: nearby trajectories stay together
    assert len(set(sizes_r)) == 1  # the same burst again and again


# ---- gallery: the new presets run with their own stimulus and settings ------------------------
@pytest.mark.parametrize("entry,pattern,duration,expected", [
    ("izhikevich", "rebound_burst", 200.0, "transient"),
    ("izhikevich", "inhibition_induced_spiking", 350.0, "tonic"),
    ("gif", "hyperpolarization_induced_bursting", 400.0, "bursting"),
    ("hindmarsh-rose", "chaotic", 1000.0, None),
])
def test_gallery_default_stimulus_of_new_presets(entry, pattern, duration, expected):
    from braindyn import gallery

    rep = gallery.run_entry(entry, {"pattern": pattern, "duration": duration})
    if expected is None:  # chaos is judged by trajectories above; here: it runs with its r and I
        assert rep.figures["I"] == HR_PATTERNS[pattern]["I"] and rep.figures["spike_count"] > 10
    else:
        assert rep.figures["classified_pattern"] == expected
