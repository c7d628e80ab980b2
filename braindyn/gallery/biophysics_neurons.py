"""Gallery entries of the two-compartment Pinsky--Rinzel neuron (``pinsky-rinzel``) and the
thalamocortical relay neuron's rebound burst (``thalamocortical``)."""
from __future__ import annotations

import numpy as np

from .. import inputs, neurons, run
from . import Entry
from ._common import neuron_report, plot_neuron

__all__ = ["count_bursts", "ENTRIES"]


def count_bursts(times, max_isi: float = 15.0, min_spikes: int = 2) -> int:
    """Number of bursts in a spike train: runs of at least ``min_spikes`` spikes whose
    successive intervals are all at most ``max_isi`` (ms).

    Example
    -------
    >>> count_bursts([10.0, 14.0, 17.0, 100.0, 160.0, 163.0])
    2
    """
    t = np.sort(np.asarray(times, float))
    if len(t) == 0:
        return 0
    groups = np.split(t, np.nonzero(np.diff(t) > max_isi)[0] + 1)
    return int(sum(len(g) >= min_spikes for g in groups))


def _pinsky_rinzel(p):
    m = neurons.PinskyRinzel(gc=p["g_c"], p=p["p"], method=p["method"])
    stim = inputs.Constant(p["I"])
    res = run(m, p["duration"], p["dt"], inputs=stim, record=["Vs", "Vd", "Ca", "spike"])
    times = res.spike_times()
    rep = neuron_report(res, p, var="Vs", extra={
        "burst_count": count_bursts(times, p["burst_isi"]), "g_c": p["g_c"], "I": p["I"],
        "Vd_max_mV": round(float(np.max(res["Vd"])), 3)})
    rep.data["Vd"] = np.asarray(res["Vd"])[:, 0]
    return rep


def _plot_pr(report, p):
    fig = plot_neuron(report, p, title=f"Pinsky-Rinzel, g_c = {p['g_c']:g}, I_s = {p['I']:g} "
                                       f"({report.figures['burst_count']} bursts)")
    ax = fig.axes[0]
    (dend,) = ax.plot(report.data["ts"], report.data["Vd"], color="C1", lw=0.8)
    ax.legend([ax.lines[0], dend], ["soma", "dendrite"], fontsize=8)
    return fig


def _thalamocortical(p):
    m = neurons.thalamocortical(method=p["method"], gT=p["gT"])
    stim = inputs.section([0.0, p["I_hyper"], 0.0], [p["t_settle"], p["t_hyper"], p["t_after"]])
    dur = p["t_settle"] + p["t_hyper"] + p["t_after"]
    res = run(m, dur, p["dt"], inputs=stim, record=["V", "T_h", "pool_c", "spike"])
    times = res.spike_times()
    release = p["t_settle"] + p["t_hyper"]
    after = times[times > release]
    hT = np.asarray(res["T_h"])[:, 0]
    k_rest, k_rel = int(round(p["t_settle"] / p["dt"])) - 1, int(round(release / p["dt"])) - 1
    rep = neuron_report(res, dict(p, duration=dur), extra={
        "hT_rest": round(float(hT[k_rest]), 5), "hT_release": round(float(hT[k_rel]), 5),
        "rebound_spikes": int(len(after)), "burst_count": count_bursts(times, 15.0),
        "rebound_latency_ms": round(float(after[0] - release), 3) if len(after) else None,
        "I_hyper": p["I_hyper"]}, inputs_trace=stim.array(dur, p["dt"]))
    return rep


ENTRIES = [
    Entry("pinsky-rinzel", "Pinsky-Rinzel two-compartment CA3 neuron: bursts at weak coupling (--set g_c=10.5: spikes)",
          dict(duration=500.0, I=1.5, g_c=2.1, p=0.5, dt=0.02, method="rk4", burst_isi=15.0),
          _pinsky_rinzel, _plot_pr),
    Entry("thalamocortical", "Thalamocortical neuron (T/L/N Ca, AHP, Ih): rebound burst after a hyperpolarising step",
          dict(I_hyper=-1.5, t_settle=100.0, t_hyper=300.0, t_after=100.0, gT=2.0, dt=0.02, method="rk4"),
          _thalamocortical, lambda r, p: plot_neuron(r, p, title="Thalamocortical neuron: rebound burst",
                                                     input_label="I (uA/cm2)")),
]
