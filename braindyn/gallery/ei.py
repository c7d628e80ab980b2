r"""Gallery entries of chapter 6: excitatory-inhibitory balance.

Entries (the spiking network itself is ``ei-balance``):

* ``ei-balance-rate``: the course's rate network (:func:`braindyn.models.ei.ei_rate_network`),
  against the balanced-state rates :math:`-A^{-1} I` (van Vreeswijk & Sompolinsky 1996) and
  the exact finite-K fixed point.
* ``ei-linear-response``: the spiking E-I network's rate against a constant input current: a
  linear fit (slope, R²) beside the balance of the mean drift (below).
* ``ei-tracking``: the same network's population rate after a step of its input: the time to
  90 % of the change, against the membrane time constant.
* ``ei-plastic-inhibition``: excitation balanced by plastic feedforward inhibition (Vogels et
  al. 2011), spike or rate form, against the rule's fixed point (the target rate).

**The balance of the spiking network.** For conductance synapses the mean input of a neuron
at mean potential :math:`\bar V` is
:math:`I + a_E r_E (E_E - \bar V) + a_I r_I (E_I - \bar V)` with :math:`a_b = K_b\, w_b\,
\tau_b` (in-degree x weight x synaptic time constant). In a stationary state the mean of
:math:`\tau \dot V` is zero, the resets removing :math:`\tau r (V_{th} - V_{reset})`; with
:math:`r_E = r_I = r` (the two populations are identical here) this gives the balance
estimate

.. math::
    r = \frac{I - (\bar V - V_{rest})}{a_I (\bar V - E_I) - a_E (E_E - \bar V) + \tau (V_{th} -
    V_{reset})},

linear in :math:`I` at a fixed :math:`\bar V`; the entry evaluates it with the measured
:math:`\bar V` (it neglects the correlation of conductances and potential).
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .. import run as _run
from ..models import ei as M
from . import Entry, Report
from ._common import float_list
from .networks_bench import ei_balance

# ---------------------------------------------------------------------------------------------
# the rate network
# ---------------------------------------------------------------------------------------------


def _j(p):
    return [[p["j_EE"], p["j_EI"]], [p["j_IE"], p["j_II"]]]


def _ei_rate(p):
    if p["quick"]:
        p = dict(p, n_e=400, n_i=100, K_E=100, K_I=25, duration=100.0)
    net, s = M.ei_rate_network(int(p["n_e"]), int(p["n_i"]), int(p["K_E"]), int(p["K_I"]), _j(p), p["tau_e"],
                               p["tau_i"], seed=int(p["seed"]), dt=p["dt"])
    rng = np.random.default_rng(int(p["seed"]))
    st = net.init_state(E={"r": rng.uniform(0.0, 2.0, int(p["n_e"]))}, I={"r": rng.uniform(0.0, 2.0, int(p["n_i"]))})
    rec = {"rE": lambda x: jnp.mean(x["pop"]["E"]["r"]), "rI": lambda x: jnp.mean(x["pop"]["I"]["r"])}
    res = _run(net, p["duration"], p["dt"], state0=st, inputs={"E": s * p["I_E"], "I": s * p["I_I"]}, record=rec)
    rE_all = np.asarray(res.run_state.state["pop"]["E"]["r"])
    rI_all = np.asarray(res.run_state.state["pop"]["I"]["r"])
    rE, rI = float(rE_all.mean()), float(rI_all.mean())
    K_E, K_I, sq = int(p["K_E"]), int(p["K_I"]), math.sqrt(p["K_E"])
    exc, inh, ext = K_E * p["j_EE"] / sq * rE, K_I * p["j_EI"] / sq * rI, sq * p["I_E"]
    r_inf = M.balanced_rates(_j(p), [p["I_E"], p["I_I"]], K_E, K_I, finite=False)
    r_K = M.balanced_rates(_j(p), [p["I_E"], p["I_I"]], K_E, K_I, finite=True)
    figs = {"rate_E": round(rE, 5), "rate_I": round(rI, 5), "rate_E_std": round(float(rE_all.std()), 6),
            "mean_input_E": round(exc + inh + ext, 5), "input_exc_E": round(exc, 4), "input_inh_E": round(inh, 4),
            "input_ext_E": round(ext, 4), "balance_index": round(abs(exc + inh + ext) / exc, 5),
            "rate_E_balanced": round(float(r_inf[0]), 5), "rate_I_balanced": round(float(r_inf[1]), 5),
            "rate_E_finite_K": round(float(r_K[0]), 5), "rate_I_finite_K": round(float(r_K[1]), 5),
            "K_E": K_E, "K_I": K_I}
    Ks = np.unique(np.geomspace(10, 1e5, 60).astype(int))
    curve = np.array([M.balanced_rates(_j(p), [p["I_E"], p["I_I"]], k, k * K_I / K_E) for k in Ks])
    return Report(figs, {"ts": res.ts, "rE": np.asarray(res["rE"]), "rI": np.asarray(res["rI"]), "Ks": Ks,
                         "curve": curve, "r_inf": r_inf})


def _plot_ei_rate(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.plot(d["ts"], d["rE"], label="E (mean)")
    a1.plot(d["ts"], d["rI"], label="I (mean)")
    a1.axhline(f["rate_E_finite_K"], color="C0", ls=":", lw=1, label="finite-K fixed point")
    a1.axhline(f["rate_I_finite_K"], color="C1", ls=":", lw=1)
    a1.set_xlabel("t (ms)")
    a1.set_ylabel("rate (a.u.)")
    a1.legend(fontsize=8)
    a1.set_title(f"K_E={f['K_E']}: input to E: exc {f['input_exc_E']:.1f}, inh {f['input_inh_E']:.1f}, "
                 f"ext {f['input_ext_E']:.1f}", fontsize=9)
    a2.semilogx(d["Ks"], d["curve"][:, 0], color="C0", label="E, exact fixed point")
    a2.semilogx(d["Ks"], d["curve"][:, 1], color="C1", label="I, exact fixed point")
    a2.axhline(d["r_inf"][0], color="C0", ls="--", lw=1, label="balanced state (K -> inf)")
    a2.axhline(d["r_inf"][1], color="C1", ls="--", lw=1)
    a2.plot([f["K_E"]], [f["rate_E"]], "o", color="C0", label="simulated")
    a2.plot([f["K_E"]], [f["rate_I"]], "o", color="C1")
    a2.set_xlabel("K_E (inputs per unit)")
    a2.set_ylabel("rate (a.u.)")
    a2.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# the spiking network: linear response and tracking
# ---------------------------------------------------------------------------------------------


def _net(p):
    if p["quick"]:     # half the neurons, the same in-degrees
        return ei_balance(seed=int(p["seed"]), n_e=1600, n_i=400, p=2 * p["p"], g_e=p["g_e"], g_i=p["g_i"])
    return ei_balance(seed=int(p["seed"]), n_e=3200, n_i=800, p=p["p"], g_e=p["g_e"], g_i=p["g_i"])


def _rec():
    return {"E": "pop.E.spike", "I": "pop.I.spike", "V": lambda x: jnp.mean(x["pop"]["E"]["V"])}


def balance_estimate(I, V_mean, a_E, a_I, lif=M.LIF_BOOK, E_E=0.0, E_I=-80.0):
    """The module's balance estimate of the rate (Hz) for input ``I`` and mean potential ``V_mean``."""
    den = a_I * (V_mean - E_I) - a_E * (E_E - V_mean) + lif["tau"] * (lif["V_th"] - lif["V_reset"])
    return 1000.0 * (I - (V_mean - lif["V_rest"])) / den


def _a(net):
    out = {}
    for b, tau in (("E", 5.0), ("I", 10.0)):
        pr = net.projections[b + "E"]
        K = pr.conn.nnz / net.populations["E"].n
        out[b] = K * float(pr.weight) * tau
    return out["E"], out["I"]


def _linear_response(p):
    net, st = _net(p)
    inputs = list(p["inputs"])
    dur, skip = (400.0, 100.0) if p["quick"] else (p["duration"], p["transient"])
    a_E, a_I = _a(net)
    rates_E, rates_I, V = [], [], []
    for I in inputs:
        res = _run(net, dur, p["dt"], state0=st, inputs={"E": I, "I": I}, record=_rec(), key=int(p["seed"]))
        for name, out in (("E", rates_E), ("I", rates_I)):
            t, _ = res.spike_events(name)
            out.append(float((t > skip).sum()) / res[name].n / ((dur - skip) / 1000.0))
        V.append(float(np.asarray(res["V"])[res.ts > skip].mean()))
    x, y = np.asarray(inputs, float), np.asarray(rates_E)
    slope, icept = np.polyfit(x, y, 1)
    r2 = 1.0 - np.sum((y - (slope * x + icept)) ** 2) / np.sum((y - y.mean()) ** 2)
    pred = np.array([balance_estimate(I, v, a_E, a_I) for I, v in zip(x, V)])
    pslope = np.polyfit(x, pred, 1)[0]
    figs = {"input": float_list(x, 3), "rate_E_hz": float_list(y, 3), "rate_I_hz": float_list(rates_I, 3),
            "V_mean_mV": float_list(V, 3), "slope_hz_per_mV": round(float(slope), 5),
            "intercept_hz": round(float(icept), 4), "r2": round(float(r2), 5),
            "rate_E_balance_hz": float_list(pred, 3), "slope_balance_hz_per_mV": round(float(pslope), 5),
            "a_E_ms": round(a_E, 3), "a_I_ms": round(a_I, 3)}
    return Report(figs, {"x": x, "y": y, "yI": np.asarray(rates_I), "pred": pred, "fit": (slope, icept)})


def _plot_linear(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(d["x"], d["y"], "o", label="E (simulated)")
    ax.plot(d["x"], d["yI"], "s", ms=4, label="I (simulated)")
    xx = np.linspace(d["x"].min(), d["x"].max(), 50)
    ax.plot(xx, d["fit"][0] * xx + d["fit"][1], "k-", lw=1,
            label=f"fit: {f['slope_hz_per_mV']:.3f} Hz/mV, R² {f['r2']:.3f}")
    ax.plot(d["x"], d["pred"], "x--", lw=1, label="balance estimate (measured V)")
    ax.set_xlabel("input current I_ext (mV)")
    ax.set_ylabel("population rate (Hz)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _tracking(p):
    net, _ = _net(p)
    dur = 400.0 if p["quick"] else p["duration"]
    if p["quick"]:
        p = dict(p, trials=min(int(p["trials"]), 4))
    t_step = p["t_step"]

    def stim(t):
        return jnp.where(t < t_step, p["I_before"], p["I_after"])

    n = net.populations["E"].n
    b = p["bin"]
    edges = np.arange(0.0, dur + b / 2, b)
    trials = []
    for k in range(int(p["trials"])):
        # trials differ by their initial potentials, N(-60, 4^2) mV (the network itself has no noise)
        rng = np.random.default_rng(1000 * int(p["seed"]) + k)
        V0 = {name: {"V": -60.0 + 4.0 * rng.standard_normal(net.populations[name].n)} for name in ("E", "I")}
        res = _run(net, dur, p["dt"], state0=net.init_state(**V0), inputs={"E": stim, "I": stim}, record=_rec())
        trials.append(np.histogram(res.spike_events("E")[0], edges)[0] / n / (b / 1000.0))
    rate = np.mean(trials, axis=0)
    centers = 0.5 * (edges[1:] + edges[:-1])
    before = (centers > t_step - 100.0) & (centers < t_step)
    after = centers > t_step + 100.0
    r0, r1 = float(rate[before].mean()), float(rate[after].mean())
    level = r0 + 0.9 * (r1 - r0)
    cross = np.flatnonzero((centers > t_step) & (rate >= level) if r1 > r0 else (centers > t_step) & (rate <= level))
    t90 = float(edges[1:][cross[0]] - t_step) if len(cross) else float("nan")
    tau = M.LIF_BOOK["tau"]
    # least-squares fit of r0 + (r1 - r0)(1 - exp(-(t - t_step)/tau_fit)) over the 100 ms after the step
    win = (centers > t_step) & (centers < t_step + 100.0)
    grid = np.geomspace(0.1, 200.0, 400)
    sse = [np.sum((rate[win] - r0 - (r1 - r0) * (1 - np.exp(-(centers[win] - t_step) / g))) ** 2) for g in grid]
    tau_fit = float(grid[int(np.argmin(sse))])
    a_E, a_I = _a(net)
    tI, _ = res.spike_events("I")
    rI0 = float(((tI > t_step - 100.0) & (tI < t_step)).sum()) / res["I"].n / 0.1
    g = (a_E * r0 + a_I * rI0) / 1000.0        # mean conductances before the step, in units of the leak
    figs = {"tracking_time_ms": round(t90, 3), "rate_before_hz": round(r0, 3), "rate_after_hz": round(r1, 3),
            "tau_m_ms": tau, "passive_90_ms": round(tau * math.log(10.0), 3),
            "tau_fit_ms": round(tau_fit, 3), "noise_hz": round(float(rate[before].std()), 3),
            "tau_eff_ms": round(tau / (1 + g), 3),
            "bin_ms": b, "trials": int(p["trials"])}
    return Report(figs, {"t": centers, "rate": rate, "t_step": t_step, "level": level, "res": res})


def _plot_tracking(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1.3]})
    t, i = d["res"].spike_events("E")
    show = i < 400
    a1.plot(t[show], i[show], ",", color="C0")
    a1.axvline(d["t_step"], color="k", lw=0.8)
    a1.set_ylabel("E neuron (first 400)")
    a2.plot(d["t"], d["rate"], color="C0", lw=1, label="E rate (trial mean)")
    a2.axhline(d["level"], color="k", ls=":", lw=1, label="90 % of the change")
    a2.axvline(d["t_step"], color="k", lw=0.8)
    tau = f["tau_m_ms"]
    r0, r1 = f["rate_before_hz"], f["rate_after_hz"]
    tt = np.linspace(d["t_step"], d["t"][-1], 200)
    a2.plot(tt, r0 + (r1 - r0) * (1 - np.exp(-(tt - d["t_step"]) / tau)), "C3--", lw=1,
            label=f"a membrane with tau_m = {tau:g} ms")
    a2.set_xlabel("t (ms)")
    a2.set_ylabel("rate (Hz)")
    a2.legend(fontsize=8)
    a1.set_title(f"tracking time (90 %): {f['tracking_time_ms']} ms vs tau_m {tau:g} ms", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# plastic inhibition
# ---------------------------------------------------------------------------------------------


def _plastic(p):
    form = p["form"]
    if p["quick"]:
        dur, n_post = (2500.0 if form == "spike" else 300.0), 50
    else:
        dur, n_post = (p["duration"] or (6000.0 if form == "spike" else 500.0)), int(p["n_post"])
    eta = p["eta"] if p["eta"] is not None else (0.2 if form == "spike" else 1e-5)
    w_inh = p["w_inh"] if p["w_inh"] is not None else (0.01 if form == "spike" else 0.05)
    win = min(p["window"], dur / 5) if form == "spike" else dur / 10

    def build(eta):
        return M.plastic_inhibition_network(n_post, int(p["n_exc"]), int(p["n_inh"]), form=form, p=p["p"],
                                            rate_exc=p["rate_exc"], rate_inh=p["rate_inh"], w_exc=p["w_exc"],
                                            w_inh=w_inh, eta=eta, rho0=p["rho0"], seed=int(p["seed"]), dt=p["dt"])

    net, frozen = build(eta), build(0.0)      # frozen: the same network with the initial weights, eta = 0
    w0 = np.asarray(net.projections["YP"].initial_weights())
    key = int(p["seed"])
    if form == "spike":
        ref = _run(frozen, 500.0, p["dt"], record={"s": "pop.post.spike"}, key=key + 1)
        before = ref.rate_hz("s")
        res = _run(net, dur, p["dt"], record={"s": "pop.post.spike"}, key=key)
        t, _ = res.spike_events("s")
        edges = np.arange(0.0, dur + 1e-9, 100.0)
        ts, trace = 0.5 * (edges[1:] + edges[:-1]), np.histogram(t, edges)[0] / n_post / 0.1
        after = float((t >= dur - win).sum()) / n_post / (win / 1000.0)
        unit = "Hz"
    else:
        mean_y = {"y": lambda x: jnp.mean(x["pop"]["post"]["r"])}
        before = float(np.asarray(_run(frozen, 100.0, p["dt"], record=mean_y)["y"])[-1])   # 10 tau
        res = _run(net, dur, p["dt"], record=mean_y)
        ts, trace = res.ts, np.asarray(res["y"])
        after = float(trace[ts > dur - win].mean())
        unit = "a.u."
    w1 = np.asarray(res.run_state.state["proj"]["YP"]["w"])
    figs = {"rate_before_hz": round(before, 4), "rate_after_hz": round(after, 4), "target_hz": p["rho0"],
            "weights_mean_before": round(float(w0.mean()), 5), "weights_mean": round(float(w1.mean()), 5),
            "weights_std": round(float(w1.std()), 5), "form": form, "rate_unit": unit, "eta": eta}
    if form == "spike":
        figs["alpha"] = round(2 * p["rho0"] / 1000.0 * 20.0, 5)
    return Report(figs, {"t": ts, "trace": trace, "w0": w0, "w1": w1})


def _plot_plastic(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.plot(d["t"], d["trace"], lw=1, label="postsynaptic rate")
    a1.axhline(f["target_hz"], color="k", ls="--", lw=1, label="target rho0")
    a1.set_xlabel("t (ms)")
    a1.set_ylabel(f"rate ({f['rate_unit']})")
    a1.legend(fontsize=8)
    a1.set_title(f"{f['form']} form: {f['rate_before_hz']} -> {f['rate_after_hz']} (target {f['target_hz']})",
                 fontsize=9)
    bins = np.linspace(0.0, max(float(d["w1"].max()), float(d["w0"].max())) * 1.05 + 1e-9, 40)
    a2.hist(np.ravel(d["w0"]), bins, alpha=0.6, label="before learning")
    a2.hist(np.ravel(d["w1"]), bins, alpha=0.6, label="after learning")
    a2.set_xlabel("inhibitory weight (conductance, unit of g_L)" if f["form"] == "spike" else "inhibitory weight")
    a2.set_ylabel("synapses")
    a2.legend(fontsize=8)
    fig.tight_layout()
    return fig


_SPIKE = dict(p=0.02, g_e=0.3, g_i=3.2, seed=0, dt=0.1, quick=False)

ENTRIES = [
    Entry(
        name="ei-balance-rate",
        summary="Rate E-I network, J ~ 1/sqrt(K): rates against the balanced state -A^-1 I (van Vreeswijk & "
                "Sompolinsky) and the exact finite-K fixed point",
        defaults=dict(n_e=2000, n_i=500, K_E=400, K_I=100, j_EE=0.2, j_EI=-1.6, j_IE=0.2, j_II=-1.44, I_E=0.2,
                      I_I=0.16, tau_e=10.0, tau_i=10.0, duration=200.0, dt=0.1, seed=0, quick=False),
        compute=_ei_rate, plot=_plot_ei_rate,
    ),
    Entry(
        name="ei-linear-response",
        summary="Spiking E-I network (ei-balance): population rate vs input current, linear fit and balance estimate",
        defaults=dict(inputs=[10.0, 30.0, 50.0, 70.0, 90.0, 110.0], duration=600.0, transient=100.0, **_SPIKE),
        compute=_linear_response, plot=_plot_linear,
    ),
    Entry(
        name="ei-tracking",
        summary="Spiking E-I network (ei-balance): rate after a step of the input, 90 % time vs tau_m",
        defaults=dict(I_before=20.0, I_after=110.0, t_step=200.0, duration=400.0, bin=1.0, trials=8, **_SPIKE),
        compute=_tracking, plot=_plot_tracking,
    ),
    Entry(
        name="ei-plastic-inhibition",
        summary="Excitation balanced by plastic feedforward inhibition (Vogels et al. 2011): the rate goes to rho0",
        defaults=dict(form="spike", n_post=100, n_exc=400, n_inh=400, p=0.2, rate_exc=10.0, rate_inh=10.0,
                      w_exc=0.3, w_inh=None, eta=None, rho0=5.0, duration=None, window=1000.0, dt=0.1, seed=0,
                      quick=False),
        compute=_plastic, plot=_plot_plastic, choices={"form": ["spike", "rate"]},
    ),
]
