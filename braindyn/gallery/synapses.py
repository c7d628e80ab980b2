"""Gallery entries of synapses and plasticity: conductance traces, STP trains, the STDP window."""
from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from ..plasticity import STDP, TsodyksMarkram, WeightLayout
from ..synapses import AMPA, NMDA, Alpha, DualExponential, Exponential, GABAa, GABAb
from . import Entry, Report
from ._common import float_list

KINETICS = {
    "exp": ("exponential, tau 5 ms", lambda p: Exponential(tau=p["tau_decay"])),
    "alpha": ("alpha function, tau 6 ms (peak 2.2073 at 6 ms)", lambda p: Alpha(tau=p["tau_decay"])),
    "dual-exp": ("dual exponential, rise 2 / decay 20 ms (peak 1.5485 at 5.117 ms)",
                 lambda p: DualExponential(tau_rise=p["tau_rise"], tau_decay=p["tau_decay"])),
    "ampa": ("AMPA kinetic model, T 0.5 mM for 0.5 ms (peak 0.20819)", lambda p: AMPA()),
    "gabaa": ("GABA_A kinetic model, T 1 mM for 1 ms (peak 0.37948)", lambda p: GABAa()),
    "nmda": ("NMDA kinetic model (Destexhe 1994) gating; use with the Mg-block output", lambda p: NMDA()),
    "gabab": ("GABA_B second-messenger model (r, G protein, G^4/(G^4+Kd)), a 10-spike 200 Hz burst",
              lambda p: GABAb()),
}
DEFAULT_TAUS = {"exp": (0.0, 5.0), "alpha": (6.0, 6.0), "dual-exp": (2.0, 20.0)}


def _synapse(kind):
    def compute(p):
        syn = KINETICS[kind][1](p)
        dt, n = p["dt"], int(round(p["duration"] / p["dt"]))
        spike_steps = {int(round(t / dt)) for t in p["spike_times"]}
        arr = jnp.asarray([1.0 if k in spike_steps else 0.0 for k in range(n)])

        def body(st, a):
            st = syn.update(st, a[None] * p["weight"], dt)
            return st, syn.conductance(st)[0]

        _, g = jax.lax.scan(body, syn.init_state(1, jnp.zeros(()).dtype), arr)
        g = np.asarray(g)
        ts = dt * np.arange(n)
        k = int(np.argmax(g))
        return Report({"model": kind, "peak": round(float(g[k]), 5), "peak_time_ms": round(float(ts[k]), 3),
                       "dt_ms": dt, "spike_times_ms": list(p["spike_times"])}, {"ts": ts, "g": g})
    return compute


def _plot_trace(report, params, title, ylabel="g"):
    import matplotlib.pyplot as plt

    d = report.data
    fig, ax = plt.subplots(figsize=(6.5, 3))
    ax.plot(d["ts"], d["g"], lw=1.5)
    for t in report.figures.get("spike_times_ms", []):
        ax.axvline(t, color="k", lw=0.5, ls=":")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}: peak {report.figures['peak']} at {report.figures['peak_time_ms']} ms")
    fig.tight_layout()
    return fig


def _stp(p):
    stp = TsodyksMarkram(U=p["U"], tau_f=p["tau_f"], tau_d=p["tau_d"])
    dt = p["dt"]
    every = int(round(1000.0 / p["rate_hz"] / dt))
    n = every * (p["n_spikes"] - 1) + 1
    spikes = (np.arange(n) % every == 0).astype(float)

    def body(st, s):
        st, eff = stp(st, s[None], dt)
        return st, (eff[0], st["u"][0], st["x"][0])

    _, (eff, u, x) = jax.lax.scan(body, stp.init_state(1, jnp.zeros(()).dtype), jnp.asarray(spikes))
    A = np.asarray(eff)[spikes > 0]
    ss = stp.steady_state(1000.0 / p["rate_hz"])[2]
    figs = {"epsc_relative": float_list(A / A[0], 4), "A5_over_A1": round(float(A[4] / A[0]), 4) if len(A) > 4 else None,
            "steady_state_relative": round(float(ss / A[0]), 4), "last_relative": round(float(A[-1] / A[0]), 4)}
    return Report(figs, {"ts": dt * np.arange(n), "u": np.asarray(u), "x": np.asarray(x), "A": A,
                         "t_spk": dt * np.flatnonzero(spikes)})


def _plot_stp(report, params):
    import matplotlib.pyplot as plt

    d = report.data
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.5, 4.5), sharex=True)
    a1.plot(d["ts"], d["u"], label="u")
    a1.plot(d["ts"], d["x"], label="x")
    a1.legend()
    a2.stem(d["t_spk"], d["A"] / d["A"][0])
    a2.axhline(report.figures["steady_state_relative"], color="k", ls=":", lw=0.8)
    a2.set_ylabel("EPSC / EPSC1")
    a2.set_xlabel("t (ms)")
    a1.set_title(f"Tsodyks-Markram, U {params['U']}, tau_f {params['tau_f']}, tau_d {params['tau_d']}")
    fig.tight_layout()
    return fig


def _stdp(p):
    rule = STDP(tau_pre=p["tau_pre"], tau_post=p["tau_post"], A_plus=p["A_plus"], A_minus=p["A_minus"],
                w_min=-1e9, w_max=1e9)
    dt = p["dt"]
    lay = WeightLayout.of(np.ones((1, 1)))
    deltas = np.round(np.arange(-p["window"], p["window"] + 1e-9, p["step"]), 6)
    deltas = deltas[deltas != 0]
    K = int(round(p["window"] / dt)) + 3

    def one(delta):
        k = jnp.round(jnp.abs(delta) / dt).astype(jnp.int32)
        pre_step = jnp.where(delta > 0, 1, 1 + k)
        post_step = jnp.where(delta > 0, 1 + k, 1)
        steps = jnp.arange(K + 2)

        def body(c, i):
            st, w = c
            st, w = rule.update(st, w, (i == pre_step).astype(w.dtype)[None], (i == post_step).astype(w.dtype)[None],
                                dt, lay)
            return (st, w), None

        w0 = jnp.zeros((1, 1))
        (st, w), _ = jax.lax.scan(body, (rule.init_state(1, 1, w0.dtype), w0), steps)
        return w[0, 0]

    dw = np.asarray(jax.vmap(one)(jnp.asarray(deltas)))
    figs = {"delta_t_ms": float_list(deltas, 3), "dw": float_list(dw, 5)}
    for d in (5.0, 15.0, -3.0, -15.0):
        j = np.argmin(np.abs(deltas - d))
        if abs(deltas[j] - d) < 1e-6:
            figs[f"dw_at_{d:g}ms"] = round(float(dw[j]), 4)
    return Report(figs, {"deltas": deltas, "dw": dw})


def _plot_stdp(report, params):
    import matplotlib.pyplot as plt

    d = report.data
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(d["deltas"], d["dw"], ".", ms=4)
    x = np.linspace(-params["window"], params["window"], 400)
    ax.plot(x[x > 0], params["A_plus"] * np.exp(-x[x > 0] / params["tau_pre"]), "k", lw=0.7)
    ax.plot(x[x < 0], -params["A_minus"] * np.exp(x[x < 0] / params["tau_post"]), "k", lw=0.7)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_xlabel("t_post - t_pre (ms)")
    ax.set_ylabel("dw")
    ax.set_title("STDP window (trace rule, dots) vs exponentials (lines)")
    fig.tight_layout()
    return fig


def _entry(kind):
    tr, td = DEFAULT_TAUS.get(kind, (0.0, 0.0))
    return Entry(
        name=f"synapse-{kind}",
        summary=f"Conductance after presynaptic spikes: {KINETICS[kind][0]}",
        defaults=dict(duration=300.0 if kind in ("nmda", "gabab") else 60.0, dt=0.1, weight=1.0,
                      spike_times=[10.0 + 5.0 * i for i in range(10)] if kind == "gabab" else [10.0],
                      tau_rise=tr, tau_decay=td),
        compute=_synapse(kind),
        plot=lambda r, p, kind=kind: _plot_trace(r, p, f"synapse {kind}"),
    )


ENTRIES = [_entry(k) for k in KINETICS] + [
    Entry(
        name="stp",
        summary="Tsodyks-Markram short-term plasticity: EPSCs of a regular train (default 10 Hz, depressing)",
        defaults=dict(dt=0.1, U=0.15, tau_f=10.0, tau_d=500.0, rate_hz=10.0, n_spikes=20),
        compute=_stp,
        plot=_plot_stp,
    ),
    Entry(
        name="stdp-window",
        summary="STDP weight change vs spike-time difference (trace rule; tau 16.8/33.7 ms, A 0.96/0.53)",
        defaults=dict(dt=0.1, tau_pre=16.8, tau_post=33.7, A_plus=0.96, A_minus=0.53, window=60.0, step=1.0),
        compute=_stdp,
        plot=_plot_stdp,
    ),
]

