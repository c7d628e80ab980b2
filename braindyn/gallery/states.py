r"""Gallery entries: network states beyond the book.

* ``brunel``: the sparse LIF network of Brunel (2000) (:func:`braindyn.models.states.brunel_network`),
  defaults of the paper's Fig. 8 (N_E 10 000, C_E 1000, J 0.1 mV, D 1.5 ms; ``--set g=...
  --set nu_ext=...`` with ``nu_ext`` in units of :math:`\nu_{thr}`; Fig. 8A g=3, nu_ext=2 (SR);
  8B g=6, nu_ext=4 (SI fast); 8C g=5, nu_ext=2 (AI); 8D g=4.5, nu_ext=0.9 (SI slow)).
  Figures: ``rate_hz`` (excitatory neurons, after ``transient``), ``rate_mf_hz`` (the
  self-consistent asynchronous rate, :func:`~braindyn.models.states.brunel_rate`), ``cv`` (mean
  over excitatory neurons with at least 3 intervals of the ISI coefficient of variation,
  :func:`braindyn.measure.cv_isi`, ``ddof=1``), ``cv_mf`` (the CV of a LIF under the
  mean-field input, :func:`~braindyn.models.states.brunel_cv`; about 0.68 at Fig. 8C, where the
  network measures about 0.4: its population rate carries a weak fast oscillation, about
  100-130 Hz, that makes the firing more regular than white-noise input would), ``synchrony`` (Golomb's :math:`\chi`,
  :func:`braindyn.measure.synchrony`, of the membrane potentials of ``n_record`` excitatory
  neurons), ``f_peak_hz`` (peak of the power spectrum of the population rate) and ``state``:

  - ``"SR"`` if ``cv < cv_regular`` (0.2): regular firing (the synchronous regular state);
  - otherwise ``"AI"`` if ``synchrony < chi_async`` (0.35);
  - otherwise ``"SI-fast"`` if ``f_peak_hz >= f_fast`` (60 Hz), else ``"SI-slow"``.

  ``--quick``: N_E 2000 with :math:`\epsilon` = 0.5 (so C_E = 1000 as in the paper and the
  mean-field rate is unchanged), 400 ms. The shared input of this denser network correlates
  the potentials more (``synchrony`` about 0.55 in the AI point, against about 0.3 at N_E
  10 000), so its ``state`` reads the irregular states as SI: use the full size to classify.
* ``ring``: the ring model of Ben-Yishai, Bar-Or & Sompolinsky (1995)
  (:func:`~braindyn.models.states.ring_network`): ``bump_width_rad`` (full width of the active
  region, :math:`2\theta_c`, from the measured 0th and 2nd Fourier moments of the stationary
  profile: :math:`\cos 2\theta_c = -(c(1 - \epsilon) - J_0 r_0)/(J_2 r_2 + c\epsilon)`),
  ``tuning_amplitude`` (peak rate), against the analytic solution
  (:func:`~braindyn.models.states.ring_solution`) and the :math:`\epsilon \to 0` width.
"""
from __future__ import annotations

import numpy as np

from .. import measure
from .. import run as _run
from ..models import states as M
from . import Entry, Report

# ---------------------------------------------------------------------------------------------
# Brunel (2000)
# ---------------------------------------------------------------------------------------------


def classify(cv, chi, f_peak, *, cv_regular=0.2, chi_async=0.35, f_fast=60.0):
    """The entry's state from CV, synchrony and the population rate's peak frequency (module rule)."""
    if not np.isfinite(cv) or cv < cv_regular:
        return "SR"
    if chi < chi_async:
        return "AI"
    return "SI-fast" if f_peak >= f_fast else "SI-slow"


def _brunel(p):
    N_E, eps, dur = int(p["N_E"]), float(p["epsilon"]), float(p["duration"])
    if p["quick"]:
        N_E, eps, dur = 2000, 0.5, 400.0
    net, info = M.brunel_network(N_E, p["g"], p["nu_ext"], J=p["J"], D=p["D"], epsilon=eps, seed=int(p["seed"]),
                                 dt=p["dt"])
    rng = np.random.default_rng(int(p["seed"]))
    th = info["V_th"]
    st = net.init_state(E={"V": rng.uniform(info["V_rest"], th, N_E)},
                        I={"V": rng.uniform(info["V_rest"], th, info["N_I"])})
    nrec = min(int(p["n_record"]), N_E)
    rec = {"E": "pop.E.spike", "V": lambda x: x["pop"]["E"]["V"][:nrec]}
    res = _run(net, dur, p["dt"], state0=st, record=rec, key=int(p["seed"]) + 1)
    skip = float(p["transient"])
    keep = res.ts > skip
    spk = np.asarray(res["E"].dense())[keep]
    T = (dur - skip) / 1000.0
    counts = spk.sum(0)
    rate = float(counts.mean() / T)
    times = np.asarray(measure.spike_times(spk, p["dt"], t0=skip, max_spikes=max(int(counts.max()), 2)))
    cvs = np.asarray(measure.cv_isi(times, ddof=1))
    cvs = cvs[counts >= 4]
    cv = float(np.nanmean(cvs)) if cvs.size else float("nan")
    chi = float(measure.synchrony(np.asarray(res["V"])[keep]))
    pop = spk.sum(1).astype(float)
    f = np.fft.rfftfreq(pop.size, p["dt"] / 1000.0)
    P = np.abs(np.fft.rfft(pop - pop.mean())) ** 2
    f_peak = float(f[1:][np.argmax(P[1:])])
    mf = M.brunel_rate(p["g"], p["nu_ext"], J=p["J"], C_E=info["C_E"], gamma=info["gamma"], tau=info["tau"],
                       theta=th - info["V_rest"], V_r=info["V_reset"] - info["V_rest"], t_ref=info["t_ref"])
    mu, sig = M.brunel_moments(p["g"], p["nu_ext"], mf, J=p["J"], C_E=info["C_E"], gamma=info["gamma"],
                               tau=info["tau"], theta=th - info["V_rest"])
    _, cv_mf = M.brunel_cv(mu, sig, tau=info["tau"], theta=th - info["V_rest"],
                           V_r=info["V_reset"] - info["V_rest"], t_ref=info["t_ref"])
    state = classify(cv, chi, f_peak, cv_regular=p["cv_regular"], chi_async=p["chi_async"], f_fast=p["f_fast"])
    figs = {"rate_hz": round(rate, 4), "rate_mf_hz": round(mf, 4), "cv": round(cv, 4), "cv_mf": round(cv_mf, 4), "synchrony": round(chi, 4),
            "f_peak_hz": round(f_peak, 2), "state": state, "N_E": N_E, "C_E": info["C_E"], "C_I": info["C_I"],
            "nu_thr_hz": round(info["nu_thr_hz"], 4), "g": float(p["g"]), "nu_ext": float(p["nu_ext"])}
    t_ev, i_ev = res.spike_events("E")
    sel = i_ev < 200
    return Report(figs, {"t": t_ev[sel], "i": i_ev[sel], "ts": res.ts[keep], "pop": pop / N_E / (p["dt"] / 1000.0)})


def _plot_brunel(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    a1.plot(d["t"], d["i"], ",k")
    a1.set_ylabel("E neuron")
    a1.set_title(f"g={f['g']}, nu_ext={f['nu_ext']} nu_thr: {f['state']} (rate {f['rate_hz']:.1f} Hz, "
                 f"mean field {f['rate_mf_hz']:.1f}; CV {f['cv']:.2f}, chi {f['synchrony']:.2f})", fontsize=9)
    a2.plot(d["ts"], d["pop"], lw=0.6)
    a2.set_xlabel("t (ms)")
    a2.set_ylabel("population rate (Hz)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# the ring model
# ---------------------------------------------------------------------------------------------


def ring_moments(r, n, c, eps, J0, J2):
    """``theta_c`` from a stationary profile ``r`` through its 0th and 2nd moments (module text)."""
    th = M.ring_angles(n)
    r0, r2 = float(np.mean(r)), float(np.mean(r * np.cos(2 * th)))
    x = -(c * (1 - eps) - J0 * r0) / (J2 * r2 + c * eps)
    return 0.5 * float(np.arccos(np.clip(x, -1.0, 1.0)))


def _ring(p):
    n = int(p["n"])
    net = M.ring_network(n, p["J0"], p["J2"], p["tau"], dt=p["dt"])
    I = M.ring_input(n, p["c"], p["epsilon"], p["theta0"])
    res = _run(net, p["duration"], p["dt"], inputs={"R": I}, record="pop.R.r")
    r = np.asarray(res["pop.R.r"][-1])
    th = M.ring_angles(n)
    # centre the bump at 0 before measuring the width from the moments
    k = int(np.argmax(r))
    tc = ring_moments(np.roll(r, n // 2 - k), n, p["c"], p["epsilon"], p["J0"], p["J2"])
    figs = {"bump_width_rad": round(2 * tc, 5), "tuning_amplitude": round(float(r.max()), 5),
            "bump_centre_rad": round(float(th[k]), 5)}
    try:
        tca, A, mmax = M.ring_solution(p["J0"], p["J2"], p["c"], p["epsilon"])
        figs.update(width_analytic_rad=round(2 * tca, 5), amplitude_analytic=round(mmax, 5))
    except Exception:  # noqa: BLE001 - broad regime: no narrow solution
        figs.update(width_analytic_rad=None, amplitude_analytic=None)
    if p["J2"] > 2:
        figs["width_eps0_rad"] = round(2 * M.ring_width_eps0(p["J2"]), 5)
    return Report(figs, {"theta": th, "r": r, "input": I})


def _plot_ring(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(d["theta"], d["r"], label="rate")
    ax.plot(d["theta"], d["input"], ls=":", label="input")
    ax.set_xlabel("theta (rad)")
    ax.set_ylabel("rate")
    ax.set_title(f"width {f['bump_width_rad']:.3f} rad (analytic {f['width_analytic_rad']})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


ENTRIES = [
    Entry(
        name="brunel",
        summary="Brunel (2000) sparse LIF network: SR/AI/SI states from CV and synchrony; rate vs the "
                "self-consistent mean field (--set g=... --set nu_ext=...)",
        defaults=dict(N_E=10000, epsilon=0.1, g=5.0, nu_ext=2.0, J=0.1, D=1.5, duration=500.0, transient=100.0,
                      n_record=500, cv_regular=0.2, chi_async=0.35, f_fast=60.0, dt=0.1, seed=0, quick=False),
        compute=_brunel, plot=_plot_brunel,
    ),
    Entry(
        name="ring",
        summary="Ring model (Ben-Yishai, Bar-Or & Sompolinsky 1995): bump width and amplitude vs the analytic "
                "marginal-regime solution",
        defaults=dict(n=256, J0=2.0, J2=6.0, c=1.0, epsilon=0.1, theta0=0.0, tau=10.0, duration=500.0, dt=0.1),
        compute=_ring, plot=_plot_ring,
    ),
]
