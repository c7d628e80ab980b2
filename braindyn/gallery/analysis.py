"""Gallery entries of the book's dynamics analyses: phase lines and planes, bifurcations, fast--slow.

Every entry computes with :mod:`braindyn.analysis` (data only) and draws with
:mod:`braindyn.plot`. Key figures: ``fixed_points`` (coordinates, stability, eigenvalues),
``fold_points``, ``hopf_points`` (parameter value and state), ``limit_cycle_period``.

Figures keep full float precision (a JSON float round-trips exactly): the located points are
accurate to far better than 1e-6 and are checked against references at that level, which
rounding to 6 decimals would use up (two values rounded apart differ by a whole 1e-6).
"""
from __future__ import annotations

import numpy as np

from .. import analysis as an
from .. import neurons
from . import Entry, Report


_KEYS = {"fixed_points": [], "hopf_points": [], "fold_points": [], "limit_cycle_period": None}


def _report(figures, data):
    """Every analysis entry reports the four key figures of the issue (empty / None when they do not
    apply), then its own."""
    return Report({**{k: (list(v) if isinstance(v, list) else v) for k, v in _KEYS.items()}, **figures}, data)


_FULL = None  # ``to_dict(digits=None)``: no rounding (see the module docstring)


def _fps(fps):
    return [fp.to_dict(_FULL) for fp in fps]


def _pts(points, kind):
    return [p.to_dict(_FULL) for p in points if p.kind == kind]


def _cycle_folds(cycles):
    return [q.to_dict(_FULL) for c in cycles for q in c.points if q.kind == "fold_cycle"]


def _fig(nrows=1, ncols=1, size=(6.5, 4.5)):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False)
    return fig, axes.ravel()


# ---- 1-D phase lines: QIF and ExpIF ----------------------------------------------------------
def _phase_line_entry(model, p, rng):
    vf = an.from_model(model, params=["I"])
    pl = an.phase_line(vf, rng, {"I": p["I"]})
    start = min(pl.fixed_points, key=lambda f: f.coords[0]).coords if pl.fixed_points else [rng[0]]
    br = an.continue_equilibria(vf, "I", start, {"I": min(p["I"], 0.0)}, p_range=(min(p["I"], 0.0) - 1.0, p["I_max"]))
    figures = {"I": p["I"], "fixed_points": _fps(pl.fixed_points), "fold_points": _pts(br.points, "fold")}
    return _report(figures, {"line": pl, "branch": br})


def _plot_phase_line(report, p, name):
    fig, (a1, a2) = _fig(1, 2, (11, 4))
    from ..plot import bifurcation_diagram, phase_line_plot

    phase_line_plot(report.data["line"], ax=a1, title=f"{name} phase line, I = {p['I']:g}", xlabel="V (mV)")
    bifurcation_diagram(report.data["branch"], ax=a2, title=f"{name}: fixed points vs I", ylabel="V (mV)")
    fig.tight_layout()
    return fig


def _qif(p):
    m = neurons.QIF(V_rest=p["V_rest"], V_c=p["V_c"], a0=p["a0"], tau=p["tau"])
    return _phase_line_entry(m, p, (p["V_min"], p["V_max"]))


def _expif(p):
    m = neurons.ExpIF(V_rest=p["V_rest"], V_T=p["V_T"], delta_T=p["delta_T"], tau=p["tau"])
    return _phase_line_entry(m, p, (p["V_min"], p["V_max"]))


# ---- AdEx phase plane with the spiking trajectory ---------------------------------------------
def _adex(p):
    from .. import run

    pat = dict(neurons.ADEX_PATTERNS[p["pattern"]])
    I = pat.pop("I", p["I"]) if p["I"] is None else p["I"]
    model = neurons.AdEx(method="rk4", **{k: v for k, v in pat.items() if k in {f for f in neurons.AdEx.__dataclass_fields__}})
    vf = an.from_model(model, params=["I"])
    res = run(model, p["duration"], p["dt"], inputs=float(I), record=["V", "w", "spike"])
    V, w = np.asarray(res["V"])[:, 0], np.asarray(res["w"])[:, 0]
    wr = (min(w.min(), -10.0) - 10.0, max(w.max(), 10.0) * 1.1 + 10.0)
    pp = an.phase_plane(vf, (p["V_min"], p["V_max"]), wr, {"I": float(I)})
    figures = {"pattern": p["pattern"], "I": float(I), "fixed_points": _fps(pp.fixed_points),
               "spike_count": int(res.spike_count())}
    spike = np.asarray(res["spike"])[:, 0].astype(bool)
    return _report(figures, {"pp": pp, "V": V, "w": w, "ts": np.asarray(res.ts), "spike": spike})


def _break_at_resets(V, w, spike):
    """Insert NaN after each spike step so that no line joins a spike to its reset (V jumps to
    V_reset and w by b at a reset: a discontinuity of the hybrid system, not a trajectory)."""
    idx = np.where(spike)[0]
    drop = np.where(np.diff(V) < -5.0)[0]  # a reset without a recorded spike flag (boundary cases)
    cut = np.union1d(idx, drop) + 1
    cut = cut[(cut > 0) & (cut < len(V))]
    return np.insert(np.asarray(V, float), cut, np.nan), np.insert(np.asarray(w, float), cut, np.nan)


def _plot_adex(report, p):
    from ..plot import phase_portrait

    d = report.data
    fig, (a1, a2) = _fig(1, 2, (12, 4.5))
    Vb, wb = _break_at_resets(d["V"], d["w"], report.data["spike"])
    phase_portrait(d["pp"], ax=a1, extra_trajectories=[(np.clip(Vb, d["pp"].x[0], d["pp"].x[-1]), wb,
                                                        "spiking trajectory (breaks at resets)")],
                   title=f"AdEx {p['pattern']}, I = {report.figures['I']:g}", xlabel="V (mV)", ylabel="w")
    a2.plot(d["ts"], d["V"], lw=1)
    a2.set_xlabel("t (ms)")
    a2.set_ylabel("V (mV)")
    fig.tight_layout()
    return fig


# ---- FitzHugh--Nagumo -----------------------------------------------------------------------------
def _fhn_vf(p):
    from ..neurons.continuous import FHN

    return an.from_model(FHN(a=p["a"], b=p["b"], tau=p["tau"]), params=["I"])


def _fhn_phase(p):
    vf = _fhn_vf(p)
    pp = an.phase_plane(vf, (-3, 3), (-1.5, 3), {"I": p["I"]}, starts=[[-2.0, -0.5], [0.0, 0.0]], t_max=p["duration"],
                        limit_cycle=True)
    lc = pp.limit_cycle
    figures = {"I": p["I"], "fixed_points": _fps(pp.fixed_points),
               "limit_cycle_period": float(lc.period) if lc else None,
               "limit_cycle": lc.to_dict(_FULL) if lc else None}
    return _report(figures, {"pp": pp})


def _fhn_bif(p):
    vf = _fhn_vf(p)
    fp = an.find_fixed_points(vf, {"I": p["I_min"]}, bounds=[(-3, 3), (-3, 3)])
    br = an.continue_equilibria(vf, "I", fp[0].coords, {"I": p["I_min"]}, p_range=(p["I_min"], p["I_max"]))
    cyc, period = [], None
    if br.hopfs:
        cb = an.continue_cycles(vf, br.hopfs[0], p_range=(p["I_min"], p["I_max"]), n_mesh=800, max_steps=p["max_steps"])
        cyc = [cb]
        if np.min(cb.values) <= p["I_cycle"] <= np.max(cb.values):
            period = an.cycle_at(vf, cb, p["I_cycle"], n_mesh=800).period
    fpc = an.find_fixed_points(vf, {"I": p["I_cycle"]}, bounds=[(-3, 3), (-3, 3)])
    figures = {"hopf_points": _pts(br.points, "hopf"), "fold_points": _pts(br.points, "fold"),
               "fold_cycle_points": _cycle_folds(cyc),
               "cycle_branch_end": cyc[0].reason if cyc else None,
               "I_cycle": p["I_cycle"], "fixed_points": _fps(fpc),
               "limit_cycle_period": float(period) if period else None}
    return _report(figures, {"branch": br, "cycles": cyc})


def _plot_bif(report, p, title, ylabel=None):
    from ..plot import bifurcation_diagram

    fig, (ax,) = _fig()
    bifurcation_diagram(report.data["branch"], report.data.get("cycles", ()), ax=ax, title=title, ylabel=ylabel)
    fig.tight_layout()
    return fig


# ---- Izhikevich -----------------------------------------------------------------------------------
def _izh(p):
    vf = an.from_model(neurons.Izhikevich(a=p["a"], b=p["b"]), params=["I"])
    fps = an.find_fixed_points(vf, {"I": p["I_min"]}, bounds=[(-90, -30), (-30, 10)])
    br = an.continue_equilibria(vf, "I", fps[0].coords, {"I": p["I_min"]}, p_range=(p["I_min"], p["I_max"]))
    pp = an.phase_plane(vf, (-75, -45), (-16, -8), {"I": p["I_phase"]})
    figures = {"hopf_points": _pts(br.points, "hopf"), "fold_points": _pts(br.points, "fold"),
               "I_phase": p["I_phase"], "fixed_points": _fps(pp.fixed_points)}
    return _report(figures, {"branch": br, "pp": pp})


def _plot_izh(report, p):
    from ..plot import bifurcation_diagram, phase_portrait

    fig, (a1, a2) = _fig(1, 2, (12, 4.5))
    bifurcation_diagram(report.data["branch"], ax=a1, title="Izhikevich: equilibria vs I", ylabel="V (mV)")
    phase_portrait(report.data["pp"], ax=a2, title=f"phase plane, I = {p['I_phase']:g}", xlabel="V (mV)", ylabel="u")
    fig.tight_layout()
    return fig


# ---- Hodgkin--Huxley --------------------------------------------------------------------------------
def _hh(p):
    vf = an.from_model(neurons.HH(gL=p["gL"], EL=p["EL"]), params=["I"])
    fps = an.find_fixed_points(vf, {"I": p["I_min"]}, bounds=[(-90, 40), (0, 1), (0, 1), (0, 1)], n_guesses=100)
    br = an.continue_equilibria(vf, "I", fps[0].coords, {"I": p["I_min"]}, p_range=(p["I_min"], p["I_max"]))
    cyc = []
    if p["cycles"] and br.hopfs:
        cyc = [an.continue_cycles(vf, br.hopfs[0], p_range=(p["I_min"], p["I_max"]), max_steps=p["max_steps"],
                                  n_mesh=1000, n_seg=10)]
    figures = {"hopf_points": _pts(br.points, "hopf"), "fold_points": _pts(br.points, "fold"),
               "I_min": p["I_min"], "fixed_points": _fps(fps),
               "fold_cycle_points": _cycle_folds(cyc)}
    return _report(figures, {"branch": br, "cycles": cyc})


# ---- Hindmarsh--Rose fast-slow -------------------------------------------------------------------
def _hr(p):
    from ..neurons.continuous import HindmarshRose

    vf = an.from_model(HindmarshRose(r=p["r"], s=p["s"]), params=["I"])
    fs = an.fast_slow(vf, "z", (p["z_min"], p["z_max"]), [-1.6, -11.8, 2.5], {"I": p["I"]},
                      fast_bounds=[(-3, 3), (-40, 5)], t_max=p["duration"], t_transient=p["t_transient"],
                      cycle_kw=dict(max_steps=p["max_steps"], n_mesh=600, max_period=200.0))
    pts = [q for b in fs.branches[:1] for q in b.points]
    period = None
    for cb in fs.cycles:  # the spiking cycle of the fast subsystem at z = z_cycle
        if np.min(cb.values) <= p["z_cycle"] <= np.max(cb.values) and np.max(cb.x_max[:, 0]) > 1.0:
            period = an.cycle_at(fs.fast_field, cb, p["z_cycle"], n_mesh=600).period
            break
    figures = {"I": p["I"], "fold_points": _pts(pts, "fold"), "hopf_points": _pts(pts, "hopf"),
               "z_cycle": p["z_cycle"], "limit_cycle_period": float(period) if period else None,
               "z_range_of_trajectory": [float(fs.trajectory.xs[:, 2].min()), float(fs.trajectory.xs[:, 2].max())]}
    return _report(figures, {"fs": fs})


def _plot_hr(report, p):
    from ..plot import fast_slow_diagram

    fig, (ax,) = _fig(size=(8, 5))
    fast_slow_diagram(report.data["fs"], var="V", ax=ax, title=f"Hindmarsh-Rose bursting, I = {p['I']:g}")
    fig.tight_layout()
    return fig


# ---- Wong--Wang decision model --------------------------------------------------------------------
def _ww(p):
    from ..models.decision_rate import WongWang

    vf = an.from_model(WongWang(), params=["mu0", "coherence"])
    pr = {"mu0": p["mu0"], "coherence": p["coherence"]}
    pp = an.phase_plane(vf, (0, 0.8), (0, 0.8), pr, starts=[[0.1, 0.1], [0.3, 0.05], [0.05, 0.3]], t_max=p["duration"])
    fps0 = an.find_fixed_points(vf, {**pr, "coherence": 0.0}, bounds=[(0, 1), (0, 1)])
    st = [f for f in fps0 if f.stable]
    br = an.continue_equilibria(vf, "coherence", st[0].coords, {**pr, "coherence": 0.0}, p_range=(-100, 100))
    # in mu0 at c = 0: the decision (asymmetric) states end at a fold; the symmetric state loses
    # and regains stability at two pitchforks (branch points)
    c0 = {**pr, "coherence": 0.0}
    sym = [f for f in fps0 if abs(f.coords[0] - f.coords[1]) < 1e-8]
    br_mu = an.continue_equilibria(vf, "mu0", st[-1].coords, c0, p_range=(0.0, p["mu0_max"]))
    br_sym = an.continue_equilibria(vf, "mu0", sym[0].coords, c0, p_range=(0.0, p["mu0_max"])) if sym else None
    figures = {"mu0": p["mu0"], "coherence": p["coherence"], "fixed_points": _fps(pp.fixed_points),
               "fold_points": _pts(br.points, "fold"),
               "bistable_coherence_range": sorted(float(q.value) for q in br.folds),
               "mu0_fold_points": _pts(br_mu.points, "fold"),
               "mu0_branch_points": _pts(br_sym.points, "branch_point") if br_sym else []}
    return _report(figures, {"pp": pp, "branch": br, "mu0_branches": [b for b in (br_mu, br_sym) if b is not None]})


def _plot_ww(report, p):
    from ..plot import bifurcation_diagram, phase_portrait

    fig, (a1, a2, a3) = _fig(1, 3, (17, 5))
    phase_portrait(report.data["pp"], ax=a1, title=f"Wong-Wang, mu0 = {p['mu0']:g}, c = {p['coherence']:g}%")
    bifurcation_diagram(report.data["branch"], ax=a2, title="equilibria vs coherence", xlabel="coherence c (%)")
    bifurcation_diagram(report.data["mu0_branches"], ax=a3, title="equilibria vs stimulus (c = 0)",
                        xlabel="mu0 (Hz)")
    fig.tight_layout()
    return fig


ENTRIES = [
    Entry("qif-phase", "QIF neuron: phase line and saddle-node at I = a0 (Vc - Vr)^2 / 4",
          dict(I=3.0, I_max=6.0, V_rest=-65.0, V_c=-50.0, a0=0.07, tau=10.0, V_min=-80.0, V_max=-35.0),
          _qif, lambda r, p: _plot_phase_line(r, p, "QIF")),
    Entry("expif-phase", "ExpIF neuron: phase line and its saddle-node (rheobase)",
          dict(I=0.0, I_max=8.0, V_rest=-65.0, V_T=-60.0, delta_T=1.0, tau=10.0, V_min=-75.0, V_max=-52.0),
          _expif, lambda r, p: _plot_phase_line(r, p, "ExpIF")),
    Entry("adex-phase", "AdEx neuron: V-w phase plane (nullclines, fixed points) with the spiking trajectory",
          dict(pattern="tonic", I=None, duration=300.0, dt=0.01, V_min=-75.0, V_max=-30.0),
          _adex, _plot_adex, choices={"pattern": sorted(neurons.ADEX_PATTERNS)}),
    Entry("fhn-phase", "FitzHugh-Nagumo phase plane with its limit cycle (I = 0.8)",
          dict(I=0.8, a=0.7, b=0.8, tau=12.5, duration=200.0),
          _fhn_phase, lambda r, p: _phase_only(r, p, f"FitzHugh-Nagumo, I = {p['I']:g}")),
    Entry("fhn-bifurcation", "FitzHugh-Nagumo: equilibria, Hopf points and limit cycles vs I",
          dict(I_min=0.0, I_max=1.6, I_cycle=0.8, a=0.7, b=0.8, tau=12.5, max_steps=300),
          _fhn_bif, lambda r, p: _plot_bif(r, p, "FitzHugh-Nagumo bifurcation in I", "V")),
    Entry("izhikevich-bifurcation", "Izhikevich (a .02, b .2): Hopf and saddle-node in I; phase plane",
          dict(a=0.02, b=0.2, I_min=0.0, I_max=6.0, I_phase=3.7),
          _izh, _plot_izh),
    Entry("hh-bifurcation", "Hodgkin-Huxley: equilibria, Hopf points (and cycles) vs I (classic gL 0.3)",
          dict(gL=0.3, EL=-54.387, I_min=0.0, I_max=200.0, cycles=False, max_steps=150),
          _hh, lambda r, p: _plot_bif(r, p, f"Hodgkin-Huxley bifurcation in I (gL = {p['gL']:g})", "V (mV)")),
    Entry("hr-fast-slow", "Hindmarsh-Rose bursting: fast subsystem's bifurcations in z with the orbit over them",
          dict(I=3.0, r=0.01, s=4.0, z_min=2.0, z_max=4.4, duration=2000.0, t_transient=500.0, max_steps=250,
               z_cycle=3.0),
          _hr, _plot_hr),
    Entry("wong-wang-phase", "Wong-Wang decision model: phase plane, bistability and folds in coherence",
          dict(mu0=20.0, coherence=0.0, duration=2000.0, mu0_max=100.0),
          _ww, _plot_ww),
]


def _phase_only(report, p, title):
    from ..plot import phase_portrait

    fig, (ax,) = _fig(size=(6.5, 5))
    phase_portrait(report.data["pp"], ax=ax, title=title)
    fig.tight_layout()
    return fig
