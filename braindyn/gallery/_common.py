"""Shared pieces of gallery entries: single-neuron runs, their figures and their plots."""
from __future__ import annotations

import numpy as np

from .. import run as _run
from . import Report

__all__ = ["neuron_report", "plot_neuron", "float_list"]


def float_list(x, digits=4):
    """JSON-ready list of floats rounded to ``digits`` decimals."""
    return [round(float(v), digits) for v in np.asarray(x).ravel()]


def neuron_report(res, params, *, var="V", extra=None, inputs_trace=None) -> Report:
    """Key figures of a single-neuron run: spike count and times (ms), rate (Hz), ISIs."""
    times = res.spike_times()
    isi = np.diff(times)
    dur = res.t_end - res.t_start
    figures = {
        "spike_count": int(len(times)),
        "spike_times": float_list(times, 3),
        "rate_hz": round(1000.0 * len(times) / dur, 4),
        "mean_isi_ms": round(float(isi.mean()), 4) if len(isi) else None,
        "method": str(params.get("method", "")),
        "dt_ms": float(params.get("dt", res.dt)),
    }
    if extra:
        figures.update(extra)
    data = {"ts": res.ts, "trace": np.asarray(res[var])[:, 0], "var": var, "spikes": times,
            "input": inputs_trace}
    return Report(figures, data)


def plot_neuron(report, params, *, title="", ylabel="V (mV)", input_label="I"):
    """Membrane trace with spike ticks, and the input below it when available."""
    import matplotlib.pyplot as plt

    d = report.data
    has_input = d.get("input") is not None
    fig, axes = plt.subplots(2 if has_input else 1, 1, figsize=(7, 4.2 if has_input else 3), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1]} if has_input else None, squeeze=False)
    ax = axes[0, 0]
    ax.plot(d["ts"], d["trace"], lw=1.2, color="C0")
    if len(d["spikes"]):
        ax.plot(d["spikes"], np.full(len(d["spikes"]), np.max(d["trace"]) + 2), "|", color="k", ms=8)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}  ({report.figures['spike_count']} spikes)")
    if has_input:
        ax2 = axes[1, 0]
        ax2.plot(d["ts"], d["input"], color="C3", lw=1.2)
        ax2.set_ylabel(input_label)
        ax2.set_xlabel("t (ms)")
    else:
        ax.set_xlabel("t (ms)")
    fig.tight_layout()
    return fig
