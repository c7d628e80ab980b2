"""Gallery entries of the foundation: the book's Hodgkin--Huxley step and LIF runs."""
from __future__ import annotations

import numpy as np

from .. import inputs, neurons, run
from . import Entry
from ._common import neuron_report, plot_neuron


def _hh(p):
    model = neurons.HH(method=p["method"], gL=p["gL"], T=p["T"])
    stim = inputs.section([0.0, p["amplitude"], 0.0],
                          [p["t_on"], p["t_off"] - p["t_on"], max(p["duration"] - p["t_off"], 0.0)])
    res = run(model, p["duration"], p["dt"], inputs=stim, record=["V", "m", "h", "n", "spike"])
    rep = neuron_report(res, p, extra={"V_max_mV": round(float(np.max(res["V"])), 3),
                                       "V_rest_mV": round(float(res["V"][0, 0]), 4)},
                        inputs_trace=stim.array(p["duration"], p["dt"]))
    return rep


def _lif(p):
    model = neurons.LIF(method=p["method"], tau=p["tau"], t_ref=p["t_ref"], V_th=p["V_th"], V_reset=p["V_reset"],
                        V_rest=p["V_rest"], R=p["R"], refractory_rule=p["refractory_rule"])
    res = run(model, p["duration"], p["dt"], inputs=p["I"], record=["V", "spike"])
    period = float(model.period(p["I"]))
    rep = neuron_report(res, p, extra={"analytic_period_ms": round(period, 4) if np.isfinite(period) else None})
    rep.data["threshold"] = p["V_th"]
    return rep


ENTRIES = [
    Entry(
        name="hh",
        summary="Hodgkin-Huxley neuron, book parameters: a 10 uA/cm2 step from 10 to 60 ms (exp-Euler, dt 0.1 ms)",
        defaults=dict(duration=70.0, dt=0.1, method="exp_euler", amplitude=10.0, t_on=10.0, t_off=60.0,
                      gL=0.03, T=6.3),
        compute=_hh,
        plot=lambda r, p: plot_neuron(r, p, title="Hodgkin-Huxley", input_label="I (uA/cm2)"),
    ),
    Entry(
        name="lif",
        summary="Leaky integrate-and-fire neuron, book parameters, constant input I = 22 for 200 ms",
        defaults=dict(duration=200.0, dt=0.1, method="exp_euler", I=22.0, tau=10.0, t_ref=5.0, V_th=20.0,
                      V_reset=-5.0, V_rest=0.0, R=1.0, refractory_rule="book"),
        compute=_lif,
        plot=lambda r, p: plot_neuron(r, p, title=f"LIF, I = {p['I']:g}"),
        choices={"refractory_rule": ["book", "exact"]},
    ),
]
