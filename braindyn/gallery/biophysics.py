"""Gallery entries of chapter 2's biophysics: ion equilibria (``nernst-ghk``) and the voltage
clamp of the Hodgkin--Huxley axon (``hh-voltage-clamp``)."""
from __future__ import annotations

import numpy as np

from .. import biophysics as bp
from .. import clamp, inputs, neurons
from . import Entry, Report
from ._common import float_list


# ---- nernst-ghk ------------------------------------------------------------------------------
def _nernst_ghk(p):
    ions = {"K": bp.Ion("K", 1, p["K_in"], p["K_out"]), "Na": bp.Ion("Na", 1, p["Na_in"], p["Na_out"]),
            "Cl": bp.Ion("Cl", -1, p["Cl_in"], p["Cl_out"])}
    P = {"K": p["P_K"], "Na": p["P_Na"], "Cl": p["P_Cl"]}
    T = p["T"]
    E = {k: float(ion.reversal(T)) for k, ion in ions.items()}
    V_rest = float(bp.ghk_voltage(ions, P, T))
    V = np.linspace(-100.0, 80.0, 361)
    # absolute permeabilities for the current-voltage curves: P_K = 1e-6 cm/s, the ratios kept
    scale = 1e-6 / P["K"] if P["K"] > 0 else 1e-6
    I = {k: np.asarray(ions[k].current(V, P[k] * scale, T)) for k in ions}
    figures = {"E_K_mV": round(E["K"], 4), "E_Na_mV": round(E["Na"], 4), "E_Cl_mV": round(E["Cl"], 4),
               "V_rest_mV": round(V_rest, 4), "T_C": T, "RT_over_F_mV": round(float(bp.thermal_voltage(T)), 4)}
    return Report(figures, {"V": V, "I": I, "E": E, "V_rest": V_rest})


def _plot_nernst_ghk(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    fig, ax = plt.subplots(figsize=(6.5, 4))
    total = sum(d["I"].values())
    for i, (k, I) in enumerate(d["I"].items()):
        ax.plot(d["V"], I, color=f"C{i}", label=f"I_{k} (E_{k} = {d['E'][k]:.1f} mV)")
        ax.axvline(d["E"][k], color=f"C{i}", ls=":", lw=0.8)
    ax.plot(d["V"], total, "k", lw=2, label=f"total (V_rest = {d['V_rest']:.1f} mV)")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(d["V_rest"], color="k", ls="--", lw=0.8)
    ax.set_xlabel("V (mV)")
    ax.set_ylabel("GHK current (uA/cm2)")
    ax.set_title(f"GHK currents at {p['T']:g} C (P_K = 1e-6 cm/s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- hh-voltage-clamp ------------------------------------------------------------------------
def _tau_fit(t, g):
    """Fit of :math:`g(t) = (a - (a - b) e^{-t/\\tau})^4` (the n^4 time course) by scipy."""
    from scipy.optimize import curve_fit

    f = lambda t, a, b, tau: (a - (a - b) * np.exp(-t / tau)) ** 4
    a0 = max(float(g[-1]), 1e-9) ** 0.25
    b0 = max(float(g[0]), 0.0) ** 0.25
    (a, b, tau), _ = curve_fit(f, t, g, p0=(a0, b0, 1.0), maxfev=20000)
    return float(a), float(b), float(abs(tau))


def _hh_clamp(p):
    hh = neurons.HH()
    V_rest = float(hh.resting_potential())
    V_cmd = V_rest + p["step_mV"]
    dt, t_on, t_step = p["dt"], p["t_hold"], p["t_step"]
    # the book's step first, then steps to several potentials: one clamp per level, all at once,
    # and the same with TTX and with TEA
    levels = np.arange(-60.0, 61.0, 10.0) if not p["quick"] else np.array([-60.0, -20.0, 20.0, 60.0])
    cmds = np.concatenate([[V_cmd], levels])
    cmd = inputs.section([np.full(cmds.shape, V_rest), cmds], [t_on, t_step])
    full = clamp.voltage_clamp(hh, cmd, t_on + t_step, dt)
    ttx = clamp.voltage_clamp(hh, cmd, t_on + t_step, dt, block=("TTX",))
    tea = clamp.voltage_clamp(hh, cmd, t_on + t_step, dt, block=("TEA",))
    on = full.ts >= t_on - 1e-9
    t = full.ts[on] - t_on
    gNa, gK = full.conductances["Na"][on, 0], full.conductances["K"][on, 0]
    k = int(np.argmax(gNa))
    # the book's fit: g_K(t) = gK_max n(t)^4 with n relaxing exponentially -> tau_n
    a, b, tau = _tau_fit(t, gK / float(hh.gK))
    from ..neurons.hh import hh_rates

    r = hh_rates(V_cmd)
    tau_n = 1.0 / float(r["alpha_n"] + r["beta_n"])
    on_l = on
    figures = {
        "V_rest_mV": round(V_rest, 4), "V_command_mV": round(V_cmd, 4),
        "gNa_peak": round(float(gNa[k]), 4), "t_gNa_peak_ms": round(float(t[k]), 4),
        "gK_steady": round(float(gK[-1]), 4),
        "tau_n_fit_ms": round(tau, 4), "tau_n_ms": round(tau_n, 4),
        "levels_mV": float_list(levels, 2),
        "gK_steady_vs_V": float_list(full.conductances["K"][-1, 1:], 4),
        "gNa_peak_vs_V": float_list(full.conductances["Na"][on_l, 1:].max(axis=0), 4),
        "dt_ms": dt,
    }
    data = {"t": t, "gNa": gNa, "gK": gK, "fit": (a, b, tau), "ts": full.ts - t_on, "levels": cmds,
            "I_total": full.I_ion, "I_Na_sep": full.I_ion - ttx.I_ion, "I_K_sep": full.I_ion - tea.I_ion,
            "gK_V": full.conductances["K"][-1, 1:], "gNa_V": full.conductances["Na"][on_l, 1:].max(axis=0),
            "levels_only": levels}
    return Report(figures, data)


def _plot_hh_clamp(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    f = report.figures
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    for j, V in enumerate(d["levels"]):
        ax[0, 0].plot(d["ts"], d["I_total"][:, j], lw=1, label=f"{V:g} mV")
    ax[0, 0].set_title("clamp currents at several steps (ionic part)")
    ax[0, 0].set_xlabel("t after step (ms)")
    ax[0, 0].set_ylabel("I (uA/cm2)")
    ax[0, 0].legend(fontsize=6, ncol=2)
    j = 0  # the book's step
    ax[0, 1].plot(d["ts"], d["I_total"][:, j], "k", label="total")
    ax[0, 1].plot(d["ts"], d["I_Na_sep"][:, j], "C3", label="I_Na = total - total(TTX)")
    ax[0, 1].plot(d["ts"], d["I_K_sep"][:, j], "C0", label="I_K = total - total(TEA)")
    ax[0, 1].set_title(f"separation of I_Na and I_K at {d['levels'][j]:g} mV")
    ax[0, 1].set_xlabel("t after step (ms)")
    ax[0, 1].legend(fontsize=7)
    ax[1, 0].plot(d["levels_only"], d["gK_V"], "o-", color="C0", label="g_K steady")
    ax[1, 0].plot(d["levels_only"], d["gNa_V"], "s-", color="C3", label="g_Na peak")
    ax[1, 0].set_xlabel("command V (mV)")
    ax[1, 0].set_ylabel("g (mS/cm2)")
    ax[1, 0].legend()
    a, b, tau = d["fit"]
    ax[1, 1].plot(d["t"], d["gK"], "C0", label="g_K (clamp)")
    ax[1, 1].plot(d["t"], 36.0 * (a - (a - b) * np.exp(-d["t"] / tau)) ** 4, "k--",
                  label=f"fit n^4: tau_n = {tau:.3f} ms")
    ax[1, 1].plot(d["t"], d["gNa"], "C3", label="g_Na (clamp)")
    ax[1, 1].set_xlabel("t after step (ms)")
    ax[1, 1].set_title(f"step to {f['V_command_mV']:.2f} mV")
    ax[1, 1].legend(fontsize=7)
    fig.tight_layout()
    return fig


ENTRIES = [
    Entry("nernst-ghk", "Nernst potentials and the GHK resting potential of the squid axon (K/Na/Cl, 6.3 C)",
          dict(K_in=400.0, K_out=20.0, Na_in=50.0, Na_out=440.0, Cl_in=52.0, Cl_out=560.0, T=6.3,
               P_K=1.0, P_Na=0.04, P_Cl=0.45),
          _nernst_ghk, _plot_nernst_ghk),
    Entry("hh-voltage-clamp", "Voltage clamp of the HH axon: a +56 mV step from rest, g_Na and g_K, TTX/TEA",
          dict(step_mV=56.0, t_hold=5.0, t_step=20.0, dt=0.01, quick=False),
          _hh_clamp, _plot_hh_clamp),
]
