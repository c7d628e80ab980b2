"""Gallery entries of the neuron library: every single-neuron model of the book, with its
firing-pattern presets (``--set pattern=...``) and the book's stimulus for each preset."""
from __future__ import annotations

import numpy as np

from .. import inputs, neurons, run
from ..neurons.patterns import classify
from . import Entry
from ._common import float_list, neuron_report, plot_neuron


def _stim_section(values, durations, total):
    vals, durs = list(values), list(durations)
    if total > sum(durs):
        vals.append(vals[-1])
        durs.append(total - sum(durs))
    return inputs.section(vals, durs)


def _spiking(model, p, stim, var="V", extra=None, window=None):
    rec = [var, "spike"]
    res = run(model, p["duration"], p["dt"], inputs=stim, record=rec)
    figs = dict(extra or {})
    if "pattern" in p:
        figs["preset"] = p["pattern"]
    if window is not None:
        t_on, t_off = window
        found = classify(res.spike_times(), t_on, min(t_off, p["duration"])).as_dict()
        # what the spike-train classifier recognises (a class such as "bursting"), kept apart
        # from the preset's name (such as "chattering")
        found["classified_pattern"] = found.pop("pattern")
        figs.update(found)
    trace = stim.array(p["duration"], p["dt"]) if isinstance(stim, inputs.Input) else None
    return neuron_report(res, p, var=var, extra=figs, inputs_trace=trace)


# ---- integrate-and-fire family --------------------------------------------------------------
def _qif(p):
    m = neurons.QIF(method=p["method"], t_ref=p["t_ref"], V_th=p["V_th"])
    T = float(m.period(p["I"]))
    V_lo, V_hi = m.fixed_points(p["I"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={
        "analytic_period_ms": round(T, 4) if np.isfinite(T) else None, "rheobase": round(float(m.rheobase()), 6),
        "fixed_points_mV": [None if np.isnan(v) else round(float(v), 5) for v in (V_lo, V_hi)]})


def _theta(p):
    m = neurons.Theta(method=p["method"], tau=p["tau"], eta=p["eta"])
    T = float(m.period(p["I"]))
    return _spiking(m, p, inputs.Constant(p["I"]), var="theta",
                    extra={"analytic_period_ms": round(T, 4) if np.isfinite(T) else None})


def _expif(p):
    m = neurons.ExpIF(method=p["method"], t_ref=p["t_ref"], delta_T=p["delta_T"], V_T=p["V_T"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={"rheobase": round(float(m.rheobase()), 6)})


def _adex(p):
    pat = neurons.ADEX_PATTERNS[p["pattern"]]
    I = pat["I"] if p["I"] is None else p["I"]
    m = neurons.AdEx.preset(p["pattern"], method=p["method"])
    return _spiking(m, p, inputs.Constant(I), extra={"I": I}, window=(0.0, p["duration"]))


def _adqif(p):
    m = neurons.AdQIF(method=p["method"], a=p["a"], b=p["b"], tau_w=p["tau_w"])
    return _spiking(m, p, inputs.Constant(p["I"]), window=(0.0, p["duration"]))


def _izhikevich(p):
    from ..neurons.izhikevich import IZHIKEVICH_FEATURES

    feature = IZHIKEVICH_FEATURES.get(p["pattern"])
    pat = feature or neurons.IZHIKEVICH_PATTERNS[p["pattern"]]
    # dt and method default to the preset's recommendation (2004 features: rk4 at 0.05 ms)
    p = dict(p, dt=p["dt"] if p["dt"] is not None else (feature["dt"] if feature else 0.1),
             method=p["method"] if p["method"] is not None else (feature["method"] if feature else "exp_euler"))
    m = neurons.Izhikevich.preset(p["pattern"], method=p["method"])
    if p["I"] is None:
        vals, durs = pat["stim"]
        stim = neurons.Izhikevich.pattern_input(p["pattern"], p["duration"])
        # the response is judged from the end of a silent or hyperpolarising first section
        window = (float(durs[0]) if vals[0] <= 0 and len(vals) > 1 else 0.0, p["duration"])
        if feature:
            window = feature["window"]
    else:
        stim, window = inputs.Constant(p["I"]), (0.0, p["duration"])
    return _spiking(m, p, stim, extra={"a": m.a, "b": m.b, "c": m.c, "d": m.d}, window=window)


def _gif(p):
    from ..neurons.if_family import GIF_FEATURES

    pat = {**neurons.GIF_PATTERNS, **GIF_FEATURES}[p["pattern"]]
    m = neurons.GIF.preset(p["pattern"], method=p["method"])
    if p["I"] is None:
        vals, durs = pat["stim"]
        stim = _stim_section(vals, durs, p["duration"])
        window = (float(durs[0]) if vals[0] <= 0 and len(vals) > 1 else 0.0, p["duration"])
    else:
        stim, window = inputs.Constant(p["I"]), (0.0, p["duration"])
    return _spiking(m, p, stim, window=window)


# ---- conductance-based and continuous -------------------------------------------------------
def _ml(p):
    m = neurons.MorrisLecar(method=p["method"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={"V_rest_mV": round(float(m.resting_potential()), 4)})


def _wb(p):
    m = neurons.WangBuzsaki(method=p["method"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={"V_rest_mV": round(float(m.resting_potential()), 4)})


def _channels(p):
    from ..neurons import channels as ch

    parts = {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak()}
    if p["g_AHP"] > 0:
        parts.update({"Ca": ch.ICa_ML(g=p["g_Ca"]), "pool": ch.CalciumPool(), "AHP": ch.IK_Ca(g=p["g_AHP"])})
    m = neurons.ConductanceNeuron(parts, method=p["method"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={"channels": list(parts)}, window=(0.0, p["duration"]))


def _fhn(p):
    m = neurons.FHN(method=p["method"])
    V0, w0 = m.rest(p["I"])
    return _spiking(m, p, inputs.Constant(p["I"]), extra={"fixed_point": [round(V0, 6), round(w0, 6)]})


def _hr(p):
    I = neurons.HR_PATTERNS[p["pattern"]]["I"] if p["I"] is None else p["I"]
    over = {} if p["r"] is None else {"r": p["r"]}  # None: the pattern's own r (0.01 unless given)
    m = neurons.HindmarshRose.preset(p["pattern"], method=p["method"], **over)
    return _spiking(m, p, inputs.Constant(I), extra={"I": I}, window=(0.0, p["duration"]))


# ---- rate units and input groups ------------------------------------------------------------
def _rate(model, p, var, stim, extra):
    res = run(model, p["duration"], p["dt"], inputs=stim)
    figs = {f"{v}_final": round(float(np.asarray(res[v])[-1, 0]), 6) for v in var}
    figs.update(extra)
    data = {"ts": res.ts, "traces": {v: np.asarray(res[v])[:, 0] for v in var}}
    from . import Report

    return Report(figs, data)


def _plot_rate(report, params, title):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    for v, tr in report.data["traces"].items():
        ax.plot(report.data["ts"], tr, label=v)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("rate")
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _rate_unit(p):
    m = neurons.RateUnit(method=p["method"], tau=p["tau"], f=p["f"], gain=p["gain"], theta=p["theta"])
    return _rate(m, p, ["r"], p["I"], {"r_steady_analytic": round(float(m.steady_state(p["I"])), 6)})


def _threshold_linear(p):
    m = neurons.ThresholdLinear(method=p["method"], tau=p["tau"], gain=p["gain"], theta=p["theta"])
    return _rate(m, p, ["r"], p["I"], {"r_steady_analytic": round(float(m.steady_state(p["I"])), 6)})


def _wilson_cowan(p):
    m = neurons.WilsonCowan(method=p["method"], rE_init=p["rE0"], rI_init=p["rI0"])
    return _rate(m, p, ["rE", "rI"], {"I": p["I_E"], "I_inh": p["I_I"]}, {})


def _poisson(p):
    m = neurons.PoissonGroup(n=p["n"], rate=p["rate"])
    res = run(m, p["duration"], p["dt"], record="spike", key=p["seed"])
    t, i = res.spike_events()
    figs = {"spike_count": res.spike_count(), "spike_times": float_list(res.spike_times(), 3),
            "rate_hz": round(res.rate_hz(), 4), "expected_rate_hz": p["rate"]}
    return _report(figs, {"t": t, "i": i, "n": p["n"]})


def _spike_times(p):
    times = [float(x) for x in p["times"]]
    idx = [int(x) for x in p["indices"]]
    m = neurons.SpikeTimeGroup(p["n"], idx, times)
    res = run(m, p["duration"], p["dt"], record="spike", time_label="start")
    t, i = res.spike_events()
    figs = {"spike_count": res.spike_count(), "spike_times": float_list(t, 3), "spike_neurons": [int(x) for x in i]}
    return _report(figs, {"t": t, "i": i, "n": p["n"]})


def _report(figs, data):
    from . import Report

    return Report(figs, data)


def _plot_raster(report, params, title):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(report.data["t"], report.data["i"], "|", color="k", ms=4)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("neuron")
    ax.set_title(f"{title}  ({report.figures['spike_count']} spikes)")
    fig.tight_layout()
    return fig


_IF = dict(dt=0.1, method="exp_euler")
ENTRIES = [
    Entry("qif", "Quadratic integrate-and-fire, book parameters, I = 5 for 500 ms (analytic period and rheobase)",
          dict(duration=500.0, I=5.0, t_ref=5.0, V_th=0.0, **_IF), _qif,
          lambda r, p: plot_neuron(r, p, title=f"QIF, I = {p['I']:g}")),
    Entry("theta", "Theta neuron (Ermentrout-Kopell), I = 1: period pi tau / sqrt(I)",
          dict(duration=200.0, I=1.0, tau=10.0, eta=0.0, dt=0.01, method="rk4"), _theta,
          lambda r, p: plot_neuron(r, p, title="Theta neuron", ylabel="theta (rad)")),
    Entry("expif", "Exponential integrate-and-fire, book parameters, I = 5 for 500 ms",
          dict(duration=500.0, I=5.0, t_ref=2.0, delta_T=1.0, V_T=-60.0, **_IF), _expif,
          lambda r, p: plot_neuron(r, p, title=f"ExpIF, I = {p['I']:g}")),
    Entry("adex", "Adaptive exponential IF: the book's six firing patterns (--set pattern=bursting ...)",
          dict(duration=500.0, pattern="tonic", I=None, **_IF), _adex,
          lambda r, p: plot_neuron(r, p, title=f"AdEx, {p['pattern']}"),
          choices={"pattern": list(neurons.ADEX_PATTERNS)}),
    Entry("adqif", "Adaptive quadratic integrate-and-fire, I = 30 for 300 ms",
          dict(duration=300.0, I=30.0, a=1.0, b=0.1, tau_w=10.0, **_IF), _adqif,
          lambda r, p: plot_neuron(r, p, title="Adaptive QIF")),
    Entry("izhikevich", "Izhikevich model with the 2003 classes and 2004 features (--set pattern=rebound_burst ...)",
          dict(duration=200.0, pattern="regular_spiking", I=None, dt=None, method=None), _izhikevich,
          lambda r, p: plot_neuron(r, p, title=f"Izhikevich, {p['pattern']}"),
          choices={"pattern": list(neurons.IZHIKEVICH_PATTERNS) + list(neurons.izhikevich.IZHIKEVICH_FEATURES)}),
    Entry("gif", "Generalized IF (Mihalas-Niebur 2009) behaviours (--set pattern=tonic_bursting ...)",
          dict(duration=500.0, pattern="tonic_spiking", I=None, **_IF), _gif,
          lambda r, p: plot_neuron(r, p, title=f"GIF, {p['pattern']}"),
          choices={"pattern": list(neurons.GIF_PATTERNS) + list(neurons.if_family.GIF_FEATURES)}),
    Entry("morris-lecar", "Morris-Lecar neuron (Rinzel-Ermentrout class-2 parameters), I = 100 uA/cm2 for 1 s",
          dict(duration=1000.0, I=100.0, **_IF), _ml,
          lambda r, p: plot_neuron(r, p, title=f"Morris-Lecar, I = {p['I']:g}")),
    Entry("wang-buzsaki", "Wang-Buzsaki fast-spiking interneuron, I = 1 uA/cm2 for 200 ms (exp-Euler, dt 0.01)",
          dict(duration=200.0, I=1.0, dt=0.01, method="exp_euler"), _wb,
          lambda r, p: plot_neuron(r, p, title=f"Wang-Buzsaki, I = {p['I']:g}")),
    Entry("conductance", "Neuron assembled from channels: HH Na, K, leak (+ Ca, Ca pool, K-AHP with g_AHP > 0)",
          dict(duration=300.0, I=10.0, g_Ca=0.05, g_AHP=0.0, **_IF), _channels,
          lambda r, p: plot_neuron(r, p, title="Channel-assembled neuron")),
    Entry("fhn", "FitzHugh-Nagumo (a 0.7, b 0.8, tau 12.5), I = 0.8: limit cycle of period 36.5 ms",
          dict(duration=300.0, I=0.8, dt=0.05, method="rk4"), _fhn,
          lambda r, p: plot_neuron(r, p, title=f"FitzHugh-Nagumo, I = {p['I']:g}", ylabel="V")),
    Entry("hindmarsh-rose", "Hindmarsh-Rose: quiescent, bursting, tonic and chaotic regimes (--set pattern=chaotic ...)",
          dict(duration=1000.0, pattern="bursting", I=None, r=None, dt=0.05, method="rk4"), _hr,
          lambda r, p: plot_neuron(r, p, title=f"Hindmarsh-Rose, {p['pattern']}", ylabel="V"),
          choices={"pattern": list(neurons.HR_PATTERNS)}),
    Entry("rate-unit", "Leaky rate unit with a chosen transfer function (sigmoid, tanh, relu, ...), step input",
          dict(duration=100.0, I=2.0, tau=10.0, f="sigmoid", gain=1.0, theta=0.0, dt=0.1, method="exp_euler"),
          _rate_unit, lambda r, p: _plot_rate(r, p, f"Rate unit ({p['f']})"),
          choices={"f": list(neurons.rate.TRANSFER_FUNCTIONS)}),
    Entry("threshold-linear", "Threshold-linear rate unit, tau dr/dt = -r + beta [I - theta]+",
          dict(duration=100.0, I=3.0, tau=10.0, gain=1.0, theta=1.0, dt=0.1, method="exp_euler"),
          _threshold_linear, lambda r, p: _plot_rate(r, p, "Threshold-linear unit")),
    Entry("wilson-cowan", "Wilson-Cowan E-I rate model (book parameters)",
          dict(duration=100.0, I_E=0.0, I_I=0.0, rE0=0.3, rI0=0.05, dt=0.01, method="rk4"),
          _wilson_cowan, lambda r, p: _plot_rate(r, p, "Wilson-Cowan")),
    Entry("poisson-group", "Poisson group: n independent trains at a constant rate (Hz)",
          dict(duration=1000.0, n=100, rate=20.0, seed=0, dt=0.1), _poisson,
          lambda r, p: _plot_raster(r, p, f"Poisson group, {p['rate']:g} Hz")),
    Entry("spike-time-group", "Spike-time group: neurons that fire at given times",
          dict(duration=50.0, n=3, indices=[0, 1, 2, 0], times=[5.0, 10.0, 15.0, 30.0], dt=0.1), _spike_times,
          lambda r, p: _plot_raster(r, p, "Spike-time group")),
]
