r"""Gallery entries of compartmental neurons (chapter 2): ``cable``, ``axon``, ``dendrite``.

``cable``: a passive sealed cable (diameter ``diam`` µm, ``length`` µm, leak ``g_leak``
mS/cm², ``Ra`` Ω·cm, ``cm`` µF/cm²) held by a constant current at one end until steady
state, then released. ``lambda_um``: the decay length of the steady-state depolarisation,
from a least-squares fit of :math:`\log(V - E_L)` against :math:`x` over
:math:`0.2\lambda \le x \le 4\lambda` (the sealed end is 10 λ away, where its correction
:math:`e^{-2(L - x)/\lambda}` is below :math:`10^{-5}`). ``tau_ms``: the slowest time constant
of the decay after release: the log slope of the area-weighted mean of :math:`V - E_L`
(the membrane charge, which the axial currents of a sealed cable do not change, so it
decays as :math:`e^{-t/\tau_m}` exactly, whatever the spatial profile: Rall's :math:`\tau_0`). Both against
the closed forms :math:`\lambda = \sqrt{d R_m / 4 R_a}`, :math:`\tau = R_m c_m`
(``lambda_analytic_um``, ``tau_analytic_ms``, relative errors ``*_rel_err``). Crank--Nicolson.

``axon``: an unmyelinated HH axon (the book's squid channels, 6.3 °C, Ra 35.4 Ω·cm), a
current pulse at one end; ``velocity_m_per_s`` from the arrival times of the spike (0 mV
upward crossing) between 25 % and 75 % of the length (:func:`~braindyn.compartments.conduction_velocity`).
Also reported: the velocity over ``diams`` (``velocities_m_per_s``; its log--log slope
``exponent``, 0.5 for :math:`v \propto \sqrt d`) and over compartment lengths ``dx_um``
(``mesh_velocities_m_per_s``: convergence). ``--set myelinated=1``: the same fibre
myelinated: nodes of Ranvier (``node_um`` long, HH channels) every ``internode_um`` with
myelin (capacitance ``cm_myelin``, leak ``g_myelin``), ``myelin_length`` µm long (12 mm; 8 mm
with ``--quick``: along myelin the stimulus spreads electrotonically over millimetres and
inflates the velocity measured on shorter fibres); the velocity is fitted over the nodes
(saltatory conduction), and ``unmyelinated_m_per_s`` is the bare fibre of the same diameter.

``dendrite``: the NMDA plateau (clustered vs distributed input). A Y-shaped neuron (HH soma,
a passive trunk and two thin passive branches) in a :class:`~braindyn.Network`: one
presynaptic spike (at ``t_stim``) drives NMDA synapses (two-state transmitter kinetics,
:class:`~braindyn.synapses.MgBlockOutput` read at the local potential ``V_b1``/``V_b2`` of
the synaptic site) near the tips of the branches: ``single`` (weight 1 on branch 1),
``clustered`` (weight 2 on branch 1) and ``distributed`` (weight 1 on each branch; the same
total conductance as clustered). Clustered input depolarises its branch enough to relieve the
Mg block: a local plateau that is far more than twice the single response and fires the soma,
while the same input distributed over two branches stays in the blocked range and does not.
``spike_times``: the somatic spikes of the clustered condition; ``spike_counts``,
``peak_branch1_mV``, ``peak_soma_mV``: per condition.
"""
from __future__ import annotations

import numpy as np

from . import Entry, Report
from ._common import float_list


# ---------------------------------------------------------------- cable
def _cable(p):
    import braindyn as bd
    from ..compartments import CompartmentalNeuron, Morphology, Section, cable_constants
    from ..neurons.channels import Leak

    an = cable_constants(p["diam"], p["g_leak"], p["Ra"], p["cm"])
    lam, tau = an["lambda_um"], an["tau_ms"]
    L = 10.0 * lam
    nseg = int(p["nseg_quick"] if p["quick"] else p["nseg"])
    m = Morphology([Section("cable", L, p["diam"], nseg=nseg)])
    cell = CompartmentalNeuron(m, {"cable": {"L": Leak(g=p["g_leak"], E=p["E_leak"])}}, cm=p["cm"], Ra=p["Ra"],
                               V_init=p["E_leak"], spike_site=("cable", 0.0), V_th=1e9, scheme="crank_nicolson")
    t_on = 12.0 * tau
    dur = t_on + 6.0 * tau
    every = max(1, int(round(0.25 / p["dt"])))
    inp = {"I": bd.inputs.section([p["I_nA"], 0.0], [t_on, dur - t_on])}
    res = bd.run(cell, dur, dt=p["dt"], inputs=inp, record="V", record_every=every)
    ts, V = res.ts, np.asarray(res["V"])[:, 0, :] - p["E_leak"]
    x = m.x_um
    k_ss = int(np.searchsorted(ts, t_on - 1e-9))
    vss = V[k_ss]
    sel = (x >= 0.2 * lam) & (x <= 4.0 * lam)
    lam_fit = -1.0 / np.polyfit(x[sel], np.log(vss[sel]), 1)[0]
    vbar = V @ m.area / m.area.sum()  # the charge of the sealed cable: decays as exp(-t/tau) exactly
    late = (ts >= t_on + 0.5 * tau) & (ts <= t_on + 4.0 * tau)
    tau_fit = -1.0 / np.polyfit(ts[late], np.log(vbar[late]), 1)[0]
    figs = {"lambda_um": round(float(lam_fit), 3), "tau_ms": round(float(tau_fit), 4),
            "lambda_analytic_um": round(lam, 3), "tau_analytic_ms": round(tau, 4),
            "lambda_rel_err": float(f"{abs(lam_fit / lam - 1):.3g}"),
            "tau_rel_err": float(f"{abs(tau_fit / tau - 1):.3g}"),
            "nseg": nseg, "dx_um": round(L / nseg, 3), "dt_ms": p["dt"]}
    return Report(figs, {"x": x, "vss": vss, "ts": ts, "v0": vbar, "lam": lam, "tau": tau, "t_on": t_on})


def _plot_cable(report, params):
    import matplotlib.pyplot as plt

    from ..compartments import finite_cable_steady_state

    d = report.data
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    a.semilogy(d["x"], d["vss"], lw=2, label="braindyn")
    L = 10 * d["lam"]
    a.semilogy(d["x"], d["vss"][0] * finite_cable_steady_state(d["x"], L, d["lam"]) /
               finite_cable_steady_state(d["x"][0], L, d["lam"]), "k--", lw=1, label="cosh((L-x)/λ)")
    a.set_xlim(0, 5 * d["lam"])
    a.set_ylim(d["vss"][0] * 1e-3, d["vss"][0] * 1.5)
    a.set_xlabel("x (µm)")
    a.set_ylabel("V - E_L (mV)")
    a.set_title(f"steady state: λ = {report.figures['lambda_um']:.1f} µm")
    a.legend(fontsize=8)
    b.semilogy(d["ts"] - d["t_on"], np.maximum(d["v0"], 1e-12), lw=2)
    b.set_xlim(0, 6 * d["tau"])
    b.set_ylim(d["vss"][0] * 1e-4, d["vss"][0] * 1.5)
    b.set_xlabel("t after release (ms)")
    b.set_ylabel("mean V - E_L (mV)")
    b.set_title(f"decay: τ = {report.figures['tau_ms']:.3f} ms")
    return fig


# ---------------------------------------------------------------- axon
def hh_axon(diam, length, dx, *, Ra=35.4, myelinated=False, node_um=1.0, internode_um=100.0, cm_myelin=0.01,
            g_myelin=0.0003, scheme="crank_nicolson"):
    """An HH axon (a :class:`~braindyn.compartments.CompartmentalNeuron`) of ``length`` µm with
    compartments of at most ``dx`` µm; myelinated: internodes of ``internode_um`` with capacitance
    ``cm_myelin`` and leak ``g_myelin`` between nodes of ``node_um``. Returns ``(cell, node_sections)``."""
    from ..compartments import CompartmentalNeuron, Morphology, Section
    from ..neurons.channels import IK_HH, INa_HH, Leak

    hh = {"Na": INa_HH(), "K": IK_HH(), "L": Leak(g=0.3, E=-54.3)}
    if not myelinated:
        m = Morphology([Section("axon", length, diam, nseg=max(1, int(np.ceil(length / dx))))])
        return CompartmentalNeuron(m, {"axon": hh}, Ra=Ra, spike_site=("axon", 1.0), scheme=scheme,
                                   sites={"start": ("axon", 0.0)}), ["axon"]
    secs, chans, cms = [], {}, []
    k, pos, parent = 0, 0.0, None
    while pos < length:
        nd = f"node{k}"
        secs.append(Section(nd, node_um, diam, parent, 1.0, 1))
        chans[nd] = hh
        cms += [1.0]
        pos += node_um
        if pos >= length:
            break
        it = f"inter{k}"
        nseg = max(1, int(np.ceil(internode_um / dx)))
        secs.append(Section(it, internode_um, diam, nd, 1.0, nseg))
        chans[it] = {"L": Leak(g=g_myelin, E=-65.0)}
        cms += [cm_myelin] * nseg
        pos += internode_um
        parent = it
        k += 1
    m = Morphology(secs)
    return CompartmentalNeuron(m, chans, Ra=Ra, cm=np.asarray(cms), spike_site=(secs[-1].name, 1.0), scheme=scheme,
                               sites={"start": ("node0", 0.5)}), [s.name for s in secs if s.name.startswith("node")]


def axon_velocity(diam, length, dx, dt, *, I_nA=None, duration=None, record_trace=False, **kw):
    """Velocity (m/s) of a spike along :func:`hh_axon`, fitted between 25 % and 75 % of its length
    (over the nodes when myelinated); with ``record_trace`` also ``(ts, V, x)``."""
    import braindyn as bd
    from ..compartments import conduction_velocity

    cell, nodes = hh_axon(diam, length, dx, **kw)
    I = (0.2 * diam ** 1.5 if I_nA is None else I_nA) * (0.2 if kw.get("myelinated") else 1.0)
    if duration is None:
        duration = 2.0 + length / (500.0 * np.sqrt(diam)) * 1.5  # ~0.5 m/s at 1 um, with margin
    duration = dt * int(np.ceil(duration / dt))
    res = bd.run(cell, duration, dt=dt, inputs={"start": bd.inputs.section([0.0, I, 0.0], [0.5, 1.0, duration - 1.5])},
                 record="V")
    V = np.asarray(res["V"])[:, 0, :]
    x = cell.morphology.x_um
    if kw.get("myelinated"):
        cols = np.array([cell.morphology.index(nd, 0.5) for nd in nodes])
        v = conduction_velocity(res.ts, V[:, cols], x[cols], 0.25 * length, 0.75 * length)
    else:
        v = conduction_velocity(res.ts, V, x, 0.25 * length, 0.75 * length)
    return (v, (res.ts, V, x)) if record_trace else v


def _axon(p):
    q = p["quick"]
    d0 = float(p["diam"])
    length = float(p["length"])
    dx = float(p["dx"])
    dt = float(p["dt"])
    if p["myelinated"]:
        # a long fibre: the stimulus spreads electrotonically along myelin for millimetres (its
        # length constant is ~1 cm), which inflates the velocity of fibres shorter than ~8 mm
        mlen = 8000.0 if q else float(p["myelin_length"])
        v, tr = axon_velocity(d0, mlen, 25.0 if q else dx, dt, record_trace=True, myelinated=True, node_um=p["node_um"],
                              internode_um=p["internode_um"], cm_myelin=p["cm_myelin"], g_myelin=p["g_myelin"])
        v_un = axon_velocity(d0, length, dx, dt)
        figs = {"velocity_m_per_s": round(v, 4), "unmyelinated_m_per_s": round(v_un, 4),
                "speedup": round(v / v_un, 3), "diam_um": d0, "myelinated": True}
        return Report(figs, {"trace": tr, "title": "myelinated"})
    v, tr = axon_velocity(d0, length, dx, dt, record_trace=True)
    figs = {"velocity_m_per_s": round(v, 4), "diam_um": d0, "myelinated": False}
    diams = [float(d) for d in p["diams"]][: (2 if q else None)]
    vs = [axon_velocity(d, length, dx, dt) for d in diams]
    slope = float(np.polyfit(np.log(diams), np.log(vs), 1)[0])
    figs.update({"diams_um": diams, "velocities_m_per_s": float_list(vs, 4), "exponent": round(slope, 4),
                 "v_over_sqrt_d": float_list(np.asarray(vs) / np.sqrt(diams), 4)})
    dxs = [float(h) for h in p["mesh_dx"]][: (2 if q else None)]
    mv = [axon_velocity(d0, length, h, dt) for h in dxs]
    figs.update({"mesh_dx_um": dxs, "mesh_velocities_m_per_s": float_list(mv, 5)})
    return Report(figs, {"trace": tr, "title": "unmyelinated", "diams": diams, "vs": vs})


def _plot_axon(report, params):
    import matplotlib.pyplot as plt

    ts, V, x = report.data["trace"]
    d = report.data
    two = "diams" in d
    fig, axs = plt.subplots(1, 2 if two else 1, figsize=(11 if two else 6, 3.8), layout="constrained", squeeze=False)
    a = axs[0, 0]
    im = a.imshow(V.T, aspect="auto", origin="lower", extent=[ts[0], ts[-1], x[0], x[-1]], cmap="viridis")
    fig.colorbar(im, ax=a, label="V (mV)")
    a.set_xlabel("t (ms)")
    a.set_ylabel("x (µm)")
    a.set_title(f"{d['title']} axon, d = {report.figures['diam_um']} µm: "
                f"{report.figures['velocity_m_per_s']:.3f} m/s")
    if two:
        b = axs[0, 1]
        ds = np.asarray(d["diams"])
        b.loglog(ds, d["vs"], "o-", label="braindyn")
        b.loglog(ds, d["vs"][0] * np.sqrt(ds / ds[0]), "k--", label="∝ √d")
        b.set_xlabel("diameter (µm)")
        b.set_ylabel("velocity (m/s)")
        b.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------- dendrite
def _dendrite_net(p, w1, w2):
    import braindyn as bd
    from ..compartments import CompartmentalNeuron, Morphology, Section
    from ..neurons.channels import IK_HH, INa_HH, Leak
    from ..synapses import MgBlockOutput, NMDA, SynapticProjection

    nseg = int(p["nseg"])
    m = Morphology([Section("soma", 20.0, 20.0), Section("trunk", 50.0, 2.0, "soma", 1.0, nseg),
                    Section("b1", 200.0, 0.5, "trunk", 1.0, nseg), Section("b2", 200.0, 0.5, "trunk", 1.0, nseg)])
    pas = Leak(g=0.1, E=-65.0)
    cell = CompartmentalNeuron(m, {"soma": {"Na": INa_HH(), "K": IK_HH(), "L": Leak(g=0.3, E=-54.3)},
                                   "trunk": {"L": pas}, "b1": {"L": pas}, "b2": {"L": pas}},
                               sites={"b1": ("b1", 0.9), "b2": ("b2", 0.9)}, Ra=100.0)
    src = bd.neurons.SpikeTimeGroup(1, indices=[0], times=[p["t_stim"]])
    projs = {}
    for name, w in (("b1", w1), ("b2", w2)):
        if w <= 0:
            continue
        projs[f"to_{name}"] = SynapticProjection("src", "cell", np.ones((1, 1)), w * p["g_nmda_uS"], NMDA(),
                                                 MgBlockOutput(E=0.0, Mg=p["Mg"], var=f"V_{name}"),
                                                 target=name, dt=p["dt"])
    return bd.Network({"src": src, "cell": cell}, projs), cell


def _dendrite(p):
    import braindyn as bd

    conds = {"single": (1.0, 0.0), "clustered": (2.0, 0.0), "distributed": (1.0, 1.0)}
    out, traces = {}, {}
    for name, (w1, w2) in conds.items():
        net, cell = _dendrite_net(p, w1, w2)
        res = bd.run(net, p["duration"], dt=p["dt"], record=["pop.cell.spike", "pop.cell.V"])
        out[name] = [round(float(t), 3) for t in res.spike_times()]
        V = np.asarray(res["pop.cell.V"])[:, 0, :]
        traces[name] = (res.ts, V[:, 0], V[:, cell.site_index("b1")], V[:, cell.site_index("b2")])
    figs = {"spike_times": out["clustered"], "spike_counts": {k: len(v) for k, v in out.items()},
            "spike_times_by_condition": out, "g_nmda_uS": p["g_nmda_uS"],
            "peak_branch1_mV": {k: round(float(v[2].max()), 2) for k, v in traces.items()},
            "peak_soma_mV": {k: round(float(v[1].max()), 2) for k, v in traces.items()}}
    return Report(figs, traces)


def _plot_dendrite(report, params):
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True, layout="constrained")
    for a, (name, (ts, vs, v1, v2)) in zip(axs, report.data.items()):
        a.plot(ts, vs, "k", lw=1.2, label="soma")
        a.plot(ts, v1, "C0", lw=1, label="branch 1 tip")
        a.plot(ts, v2, "C3", lw=1, label="branch 2 tip")
        a.set_title(f"{name}: {report.figures['spike_counts'][name]} spike(s)", fontsize=9)
        a.set_xlabel("t (ms)")
    axs[0].set_ylabel("V (mV)")
    axs[0].legend(fontsize=7)
    return fig


ENTRIES = [
    Entry(
        name="cable",
        summary="passive cable: steady-state length constant and time constant vs the analytic cable solution",
        defaults=dict(diam=1.0, g_leak=0.1, Ra=100.0, cm=1.0, E_leak=-65.0, I_nA=0.01, nseg=1001, nseg_quick=201,
                      dt=0.05, quick=False),
        compute=_cable, plot=_plot_cable),
    Entry(
        name="axon",
        summary="HH axon: conduction velocity, its sqrt(d) scaling and mesh convergence; "
                "--set myelinated=1: nodes of Ranvier, saltatory conduction",
        defaults=dict(diam=1.0, length=4000.0, dx=10.0, dt=0.01, diams=[0.5, 1.0, 2.0, 4.0],
                      mesh_dx=[40.0, 20.0, 10.0, 5.0], myelinated=False, node_um=1.0, internode_um=100.0,
                      cm_myelin=0.01, g_myelin=0.0003, myelin_length=12000.0, quick=False),
        compute=_axon, plot=_plot_axon),
    Entry(
        name="dendrite",
        summary="dendritic NMDA plateau: clustered vs distributed NMDA input on the branches of a Y-shaped neuron "
                "(single, clustered, distributed)",
        defaults=dict(g_nmda_uS=0.044, Mg=1.0, t_stim=5.0, duration=60.0, dt=0.025, nseg=9,
                      quick=False),
        compute=_dendrite, plot=_plot_dendrite),
]
