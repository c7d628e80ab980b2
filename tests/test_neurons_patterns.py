"""Firing-pattern presets recognised by the spike-train classifier (not by copied counts)."""
import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import ADEX_PATTERNS, GIF_PATTERNS, IZHIKEVICH_PATTERNS, HR_PATTERNS, AdEx, GIF, HindmarshRose, Izhikevich
from braindyn.neurons.patterns import adaptation_index, classify, find_bursts


# ---- the classifier on synthetic trains (its rules, independent of any model) ---------------
def test_classifier_rules_on_synthetic_trains():
    tonic = np.arange(10.0, 500.0, 25.0)
    assert classify(tonic, 0, 500).label == "tonic"
    adapting = np.cumsum(np.linspace(10.0, 40.0, 16))
    assert classify(adapting, 0, 500).label == "adapting"
    burst = lambda t0: t0 + np.array([0.0, 2.0, 4.5])
    bursting = np.concatenate([burst(t) for t in range(10, 500, 60)])
    assert classify(bursting, 0, 500).label == "bursting"
    init = np.concatenate([burst(5.0), np.arange(40.0, 500.0, 30.0)])
    assert classify(init, 0, 500).label == "initial_burst"
    assert classify(np.array([12.0, 40.0]), 0, 500).label == "transient"
    assert classify(np.arange(150.0, 500.0, 60.0), 0, 500).label == "delayed"
    assert classify(np.array([]), 0, 500).label == "quiescent"
    assert [len(b) for b in find_bursts(bursting)][:3] == [3, 3, 3]
    assert adaptation_index([10.0, 10.0, 10.0]) == 0.0
    assert adaptation_index([10.0, 20.0]) == pytest.approx(1 / 3)  # (20 - 10)/(20 + 10), Naud et al. 2008


# ---- AdEx: the book's six patterns, one run for all ------------------------------------------
def test_adex_presets_are_recognised():
    names = list(ADEX_PATTERNS)
    arr = lambda k: np.array([ADEX_PATTERNS[n][k] for n in names])
    m = AdEx(n=len(names), a=arr("a"), b=arr("b"), tau=arr("tau"), tau_w=arr("tau_w"), V_reset=arr("V_reset"))
    res = bd.run(m, 500.0, inputs=arr("I"), record="spike")
    for k, name in enumerate(names):
        assert classify(res.spike_times(neuron=k), 0.0, 500.0).label == name, name


# ---- Izhikevich: classic patterns, one run with a per-neuron stimulus ------------------------
IZH_EXPECTED = {
    "regular_spiking": "adapting", "intrinsically_bursting": "initial_burst", "chattering": "bursting",
    "fast_spiking": "tonic", "low_threshold_spiking": "adapting", "thalamo_cortical": "initial_burst",
    "resonator": "tonic", "phasic_spiking": "transient", "tonic_bursting": "bursting",
    "phasic_bursting": "transient", "mixed_mode": "initial_burst", "spike_latency": "transient",
    "rebound_spike": "transient",
}


def _steps(vals, durs, T, dt):
    """Piecewise-constant current per step (NumPy), the last value held to T."""
    t = (np.arange(int(round(T / dt))) + 0.5) * dt
    k = np.searchsorted(np.cumsum(durs), t, side="right")
    return np.asarray(list(vals) + [vals[-1]])[k]


def _stim_matrix(patterns, T, dt):
    return np.stack([_steps(*IZHIKEVICH_PATTERNS[p]["stim"], T, dt) for p in patterns], axis=1)


@pytest.fixture(scope="module")
def izh_run():
    names = list(IZHIKEVICH_PATTERNS)
    P = IZHIKEVICH_PATTERNS
    par = {k: np.array([P[n][k] for n in names]) for k in ("a", "b", "c", "d")}
    m = Izhikevich(n=len(names), V_init=np.array([P[n]["V0"] for n in names]), **par)
    stim = bd.inputs.from_array(_stim_matrix(names, 200.0, 0.1), dt=0.1)
    return names, bd.run(m, 200.0, inputs=stim, record="spike")


def test_izhikevich_presets_are_recognised(izh_run):
    names, res = izh_run
    assert set(IZH_EXPECTED) == set(names)
    for k, name in enumerate(names):
        vals, durs = IZHIKEVICH_PATTERNS[name]["stim"]
        t_on = float(durs[0]) if vals[0] <= 0 and len(vals) > 1 else 0.0
        pat = classify(res.spike_times(neuron=k), t_on, 200.0)
        assert pat.label == IZH_EXPECTED[name], (name, pat)
        if name == "fast_spiking":
            assert pat.rate_hz > 100.0  # "extremely high frequency" (Izhikevich 2003)
        if name == "phasic_bursting":
            assert pat.n_spikes >= 4 and np.all(pat.isis < 10.0)  # one burst, then silence
        if name == "spike_latency":
            assert pat.latency > 3.0  # fires after the end of the 3 ms pulse
        if name == "rebound_spike":
            assert pat.latency > 5.0  # after the release of the 5 ms inhibitory pulse


# ---- GIF (Mihalas & Niebur 2009) -------------------------------------------------------------
GIF_EXPECTED = {"tonic_spiking": "tonic", "spike_frequency_adaptation": "adapting", "phasic_spiking": "transient",
                "tonic_bursting": "bursting", "phasic_bursting": "transient", "mixed_mode": "initial_burst",
                "spike_latency": "transient"}


def test_gif_presets_are_recognised():
    names = list(GIF_PATTERNS)
    assert set(names) == set(GIF_EXPECTED)
    T, dt = 500.0, 0.1
    cols = [_steps(*GIF_PATTERNS[n]["stim"], T, dt) for n in names]
    keys = ("a", "A1", "A2")
    m = GIF(n=len(names), **{k: np.array([GIF_PATTERNS[n]["params"][k] for n in names]) for k in keys})
    res = bd.run(m, T, inputs=bd.inputs.from_array(np.stack(cols, 1), dt=dt), record="spike")
    for k, name in enumerate(names):
        pat = classify(res.spike_times(neuron=k), 0.0, T)
        assert pat.label == GIF_EXPECTED[name], (name, pat)
    lat = classify(res.spike_times(neuron=names.index("spike_latency")), 20.0, T).latency
    assert lat > 5.0  # the spike comes well after the 2 ms pulse


# ---- Hindmarsh-Rose --------------------------------------------------------------------------
def test_hindmarsh_rose_regimes():
    names = list(HR_PATTERNS)
    I = np.array([HR_PATTERNS[n]["I"] for n in names])
    res = bd.run(HindmarshRose(n=len(names), method="rk4"), 1000.0, 0.05, inputs=I, record="spike")
    labels = {n: classify(res.spike_times(neuron=k), 0.0, 1000.0) for k, n in enumerate(names)}
    assert labels["quiescent"].label == "quiescent"
    assert labels["bursting"].label == "bursting"
    assert labels["tonic"].label in ("tonic", "adapting") and max(labels["tonic"].burst_sizes) == 1
