"""Gallery entries of attractor networks (chapter 8): Hopfield networks and CANNs.

Entries: ``hopfield``, ``hopfield-capacity``, ``hopfield-modern``, ``cann-1d``,
``cann-tracking``, ``cann-stp``, ``cann-sfa``, ``cann-2d``. Each returns its key figures
beside the reference it is checked against (analytic bump, AGS capacity, the course's
intrinsic speed). Entries over ~10 s take ``quick`` (``--quick``: smaller network, shorter run).

Defaults: Hopfield networks of the course (N = 784, a 28 x 28 image; 10 random patterns;
10 % of the cue's bits flipped); the book's CANN1D class (512 neurons, tau 1, k 8.1, a 0.5,
A 10, J0 4, dt 0.1 ms) and its protocols (an input from 2 to 12 ms; the tracking input from 0
to 1.5 pi in 10 ms after 10 ms at 0); the course's SFA network (tau_v 10, k 0.1, m 0.3). The
integration method is rk4 (see :mod:`braindyn.models.cann`; ``--method euler`` is the book's).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import run as _run
from .. import simulate as _simulate
from ..models import cann as C
from ..models import hopfield as H
from . import Entry, Report
from ._common import float_list

# ---------------------------------------------------------------------------------------------
# Hopfield networks
# ---------------------------------------------------------------------------------------------


def _hopfield(p):
    n, P = int(p["n"]), int(p["patterns"])
    k = jax.random.PRNGKey(int(p["seed"]))
    kx, kc, kr = jax.random.split(k, 3)
    X = H.random_patterns(kx, P, n)
    net = H.Hopfield.store(X, mode=p["mode"])
    target = X[int(p["probe"]) % P]
    s0 = H.corrupt(kc, target, p["flip"])
    rec = net.recall(s0, key=kr, sweeps=int(p["sweeps"]))
    ov = np.asarray(H.overlap(target, rec.states))
    Eu = np.asarray(rec.energy_updates)
    tol = 1e-5 * max(1.0, float(np.max(np.abs(Eu))))
    E = np.asarray(rec.energy)
    # exact energies after each sweep (not the accumulated ones) must not increase either
    nonincreasing = bool(np.all(np.diff(Eu) <= tol) and np.all(np.diff(E) <= tol))
    changed = np.any(np.asarray(rec.states)[1:] != np.asarray(rec.states)[:-1], axis=1)
    figs = {"overlap": round(float(ov[-1]), 4), "overlap_initial": round(float(ov[0]), 4),
            "overlaps": float_list(ov, 4), "energy": float_list(E, 3), "energy_nonincreasing": nonincreasing,
            "sweeps_to_converge": int(np.flatnonzero(changed)[-1] + 1) if changed.any() else 0,
            "n": n, "patterns": P, "load": round(P / n, 4), "capacity_ags": H.AGS_CAPACITY, "mode": p["mode"]}
    return Report(figs, {"target": np.asarray(target), "s0": np.asarray(s0), "s": np.asarray(rec.state),
                         "E": E, "Eu": Eu, "n": n})


def _image(ax, v, title):
    n = v.shape[0]
    side = int(round(math.sqrt(n)))
    img = v.reshape(side, side) if side * side == n else v[None, :]
    ax.imshow(img, cmap="gray", interpolation="nearest", aspect="auto" if side * side != n else "equal")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _plot_hopfield(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig = plt.figure(figsize=(9, 3.2))
    axes = [fig.add_subplot(1, 4, i + 1) for i in range(4)]
    _image(axes[0], d["target"], "stored")
    _image(axes[1], d["s0"], f"{int(100 * params['flip'])} % flipped (m={f['overlap_initial']})")
    _image(axes[2], d["s"], f"recalled (m={f['overlap']})")
    ax = axes[3]
    n = d["n"]
    ax.plot(np.arange(len(d["Eu"])) / n, d["Eu"], lw=1, label="every update")
    ax.plot(np.arange(len(d["E"])), d["E"], "o", ms=3, label="after each sweep")
    ax.set_xlabel("sweeps")
    ax.set_ylabel("E")
    ax.legend(fontsize=7)
    ax.set_title(f"energy ({'non-increasing' if f['energy_nonincreasing'] else 'increases!'})", fontsize=9)
    fig.suptitle(f"Amari-Hopfield, N={n}, P={f['patterns']} ({params['mode']} updates)")
    fig.tight_layout()
    return fig


def _hopfield_capacity(p):
    n = 256 if p["quick"] else int(p["n"])
    loads = [float(a) for a in p["alphas"]]
    trials = int(p["trials"])
    Ps, ovs = [], []
    key = jax.random.PRNGKey(int(p["seed"]))
    for i, a in enumerate(loads):
        P = max(1, int(round(a * n)))
        kx, kc, kr = jax.random.split(jax.random.fold_in(key, i), 3)
        X = H.random_patterns(kx, P, n)
        net = H.Hopfield.store(X)
        probes = X[jnp.arange(min(trials, P))]
        rec = net.recall(H.corrupt(kc, probes, p["flip"]), key=kr, sweeps=int(p["sweeps"]))
        Ps.append(P)
        ovs.append(float(jnp.mean(H.overlap(probes, rec.state))))
    alpha = np.asarray(Ps) / n
    m_th, ac = H.ags_overlap(alpha)
    ovs = np.asarray(ovs)
    # load at which the mean overlap falls through 0.9 (linear interpolation)
    below = np.flatnonzero(ovs < 0.9)
    a_meas = None
    if below.size and below[0] > 0:
        j = below[0]
        a_meas = float(alpha[j - 1] + (ovs[j - 1] - 0.9) * (alpha[j] - alpha[j - 1]) / (ovs[j - 1] - ovs[j]))
    figs = {"patterns": Ps, "alphas": float_list(alpha, 4), "overlaps": float_list(ovs, 4),
            "overlaps_ags": float_list(m_th, 4), "alpha_c_ags": round(ac, 4),
            "alpha_at_overlap_0.9": None if a_meas is None else round(a_meas, 4), "n": n, "trials": trials,
            "flip": p["flip"]}
    return Report(figs, {"alpha": alpha, "ov": ovs})


def _plot_capacity(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(d["alpha"], d["ov"], "o-", label=f"simulation, N={f['n']}")
    aa = np.linspace(0.005, f["alpha_c_ags"], 300)  # the retrieval branch (none above alpha_c)
    ax.plot(aa, H.ags_overlap(aa)[0], "k--", lw=1, label="AGS retrieval state (N -> inf)")
    ax.axvline(f["alpha_c_ags"], color="r", lw=0.8, ls=":", label=f"alpha_c = {f['alpha_c_ags']}")
    ax.set_xlabel("load P/N")
    ax.set_ylabel("overlap after recall")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(f"Hopfield capacity ({int(100 * f['flip'])} % flipped cues)")
    fig.tight_layout()
    return fig


def _hopfield_modern(p):
    n, P = int(p["n"]), int(p["patterns"])
    kx, kc, kr = jax.random.split(jax.random.PRNGKey(int(p["seed"])), 3)
    X = H.random_patterns(kx, P, n)
    net = H.ModernHopfield(X, None if p["beta"] <= 0 else p["beta"])
    target = X[int(p["probe"]) % P]
    s0 = H.corrupt(kc, target, p["flip"])
    rec = net.recall(s0, steps=int(p["steps"]))
    E = np.asarray(rec.energy)
    ov = np.asarray(H.overlap(target, rec.states))
    classical = H.Hopfield.store(X).recall(s0, key=kr, sweeps=10)
    figs = {"overlap": round(float(ov[-1]), 4), "overlap_initial": round(float(ov[0]), 4),
            "overlaps": float_list(ov, 4), "energy": float_list(E, 4),
            "energy_nonincreasing": bool(np.all(np.diff(E) <= 1e-5 * max(1.0, float(np.abs(E).max())))),
            "classical_overlap": round(float(H.overlap(target, classical.state)), 4),
            "n": n, "patterns": P, "load": round(P / n, 4), "beta": round(float(net.beta), 6)}
    return Report(figs, {"target": np.asarray(target), "s0": np.asarray(s0), "s": np.asarray(rec.state),
                         "classical": np.asarray(classical.state), "E": E})


def _plot_modern(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig = plt.figure(figsize=(10, 3.0))
    axes = [fig.add_subplot(1, 5, i + 1) for i in range(5)]
    _image(axes[0], d["target"], "stored")
    _image(axes[1], d["s0"], f"cue (m={f['overlap_initial']})")
    _image(axes[2], d["s"], f"modern (m={f['overlap']})")
    _image(axes[3], d["classical"], f"classical (m={f['classical_overlap']})")
    axes[4].plot(d["E"], "o-")
    axes[4].set_xlabel("update")
    axes[4].set_ylabel("E")
    fig.suptitle(f"Modern Hopfield (Ramsauer et al. 2020), N={f['n']}, P={f['patterns']} = {f['load']} N")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# CANNs
# ---------------------------------------------------------------------------------------------


def _cann1d_model(p):
    """The book's 1-D CANN with the entry's parameters (128 neurons in the quick mode)."""
    n = 128 if p["quick"] else int(p["n"])
    return C.CANN1D(n=n, tau=p["tau"], k=p["k"], a=p["a"], A=p["A"], J0=p["J0"], method=p["method"])


def _cann_1d(p):
    m = _cann1d_model(p)
    n = m.n
    t_on, t_off = p["t_on"], p["t_on"] + p["t_stim"]
    inp = m.stimulus_input([0.0], [p["position"]], t_on=t_on, t_off=t_off)
    dt = p["dt"]
    res = _run(m, p["duration"], dt, inputs=inp, record="u", record_every=max(1, int(round(0.5 / dt))))
    u = np.asarray(res["u"])
    U = u[-1]
    x = np.asarray(m.x)
    th = m.analytic_bump()
    height, fwhm = float(U.max()), _fwhm(x, U)
    figs = {"bump_height": round(height, 6), "bump_fwhm": round(fwhm, 6), "center": round(float(m.decode(U)), 6),
            "analytic_height": round(th["u0"], 6), "analytic_fwhm": round(th["fwhm"], 6),
            "height_rel_error": round(abs(height / th["u0"] - 1), 6) if th["u0"] else None,
            "fwhm_rel_error": round(abs(fwhm / th["fwhm"] - 1), 6) if th["u0"] else None,
            "k": p["k"], "k_c": round(th["k_c"], 4), "n": n}
    if p["measure_kc"]:
        figs["k_c_measured"] = round(_measure_kc(m), 4)
        figs["k_c_rel_error"] = round(abs(figs["k_c_measured"] / th["k_c"] - 1), 5)
    i_stim = min(int(np.searchsorted(res.ts, t_off - 1e-9)), len(u) - 1)
    return Report(figs, {"x": x, "u_stim": u[i_stim], "t_stim": float(res.ts[i_stim]), "U": U,
                         "I": np.asarray(m.stimulus(p["position"])), "th": th, "m": m,
                         "t_end": float(res.ts[-1])})


def _fwhm(x, U):
    """Full width at half maximum of a single bump on the ring (linear interpolation)."""
    i = int(np.argmax(U))
    U = np.roll(U, len(U) // 2 - i)
    i = len(U) // 2
    half = U[i] / 2
    dx = x[1] - x[0]
    r = i + int(np.argmax(U[i:] < half))
    left = i - int(np.argmax(U[i::-1] < half))
    xr = (r - 1) + (U[r - 1] - half) / (U[r - 1] - U[r])
    xl = (left + 1) - (U[left + 1] - half) / (U[left + 1] - U[left])
    return float((xr - xl) * dx)


def _measure_kc(m, grid=41, span=0.1, duration=200.0):
    """Largest k (on a grid of ±span around the analytic k_c) at which a bump started at the
    saddle-node height survives: vmapped runs of ``simulate``."""
    kc = m.k_critical
    ks = kc * np.linspace(1 - span, 1 + span, grid)
    hc = float(m.J0) / (4 * math.sqrt(math.pi) * float(m.a) * kc)
    u0 = m.profile(0.0, hc)
    dt = 0.1

    @jax.jit
    def final_height(k):
        mm = C.CANN1D(n=m.n, tau=m.tau, k=k, a=m.a, A=m.A, J0=m.J0, method="rk4")
        fin, _, _ = _simulate(mm, mm.init_state(u=u0), int(duration / dt), dt, record=lambda s: {})
        return jnp.max(fin["u"])

    h = np.asarray(jax.vmap(final_height)(jnp.asarray(ks)))
    alive = h > 0.5 * hc
    j = int(np.flatnonzero(~alive)[0]) if (~alive).any() else grid - 1
    return float(0.5 * (ks[max(j - 1, 0)] + ks[j]))


def _plot_cann_1d(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(d["x"], d["I"], label="Iext")
    a1.plot(d["x"], d["u_stim"], "--", label="U")
    a1.set_title(f"t = {d['t_stim']:g} ms (input on)")
    a2.plot(d["x"], d["U"], "--", color="C1", label="U (simulation)")
    if d["th"]["u0"]:
        a2.plot(d["x"], np.asarray(d["m"].profile(f["center"])), ":", color="k", lw=1, label="analytic bump")
    a2.set_title(f"t = {d['t_end']:g} ms: height {f['bump_height']:.4g} (analytic {f['analytic_height']:.4g})")
    for ax in (a1, a2):
        ax.set_xlabel("x (rad)")
        ax.legend(fontsize=8)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    fig.suptitle(f"CANN, k = {params['k']} (k_c = {f['k_c']:.4g})")
    fig.tight_layout()
    return fig


def _cann_tracking(p):
    m = _cann1d_model(p)
    n = m.n
    t1, t2 = p["t_start"], p["t_start"] + p["t_move"]
    inp = m.stimulus_input([t1, t2], [0.0, p["distance"]], noise=p["noise"])
    dt = p["dt"]
    res = _run(m, p["duration"], dt, inputs=inp, record="u", record_every=max(1, int(round(0.1 / dt))),
               key=int(p["seed"]))
    u = np.asarray(res["u"])
    ts = res.ts
    c = np.asarray(m.decode(u))
    z = np.asarray(inp.position(ts))
    err = np.asarray(C.periodic_distance(c - z))
    v = p["distance"] / p["t_move"]
    sel = (ts > t2 - 0.3 * p["t_move"]) & (ts <= t2)
    lag = float(-np.mean(err[sel]) * np.sign(v))
    figs = {"lag_rad": round(lag, 5), "lag_input_only_rad": round(math.atan(abs(v) * float(m.tau)), 5),
            "speed_rad_per_ms": round(v, 5), "error_rad": float_list(err[::5], 4), "times_ms": float_list(ts[::5], 3),
            "final_error_rad": round(float(err[-1]), 5), "n": n}
    return Report(figs, {"x": np.asarray(m.x), "u": u, "ts": ts, "z": z, "err": err, "inp": inp, "m": m})


def _plot_tracking(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    t1 = params["t_start"]
    snaps = [t1, t1 + 0.5 * params["t_move"], t1 + params["t_move"], params["duration"] - 0.1 * params["duration"]]
    fig = plt.figure(figsize=(10, 5.5))
    for j, t in enumerate(snaps):
        ax = fig.add_subplot(2, 4, j + 1)
        i = min(int(np.searchsorted(d["ts"], t - 1e-9)), len(d["ts"]) - 1)
        ax.plot(d["x"], np.asarray(d["inp"].clean(d["ts"][i])), label="Iext")
        ax.plot(d["x"], d["u"][i], "--", label="U")
        ax.set_title(f"t = {d['ts'][i]:.3g} ms", fontsize=9)
        ax.set_xlabel("x")
        if j == 0:
            ax.legend(fontsize=7)
    ax = fig.add_subplot(2, 1, 2)
    ax.plot(d["ts"], d["err"], label="decoded centre - stimulus")
    ax.axhline(-f["lag_input_only_rad"], color="k", ls=":", lw=0.8, label="-atan(v tau) (input only)")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("error (rad)")
    ax.legend(fontsize=8)
    fig.suptitle(f"CANN smooth tracking: lag {f['lag_rad']:.3f} rad at {f['speed_rad_per_ms']:.3f} rad/ms")
    fig.tight_layout()
    return fig


def _speed_and_mode(ts, c, z, v_ext, t_from):
    """Bump speed (slope of the unwrapped centre) and the mode, after ``t_from``.

    The bump is *travelling* when it slips against the input (or, without input, moves) by π or
    more, or drifts monotonically; *oscillatory* when its offset from the input swings back and
    forth by more than 0.05 rad; otherwise *static* (a static input or none), *anticipative*
    (ahead of a moving input) or *smooth* (behind it).
    """
    sel = ts >= t_from
    speed = float(np.polyfit(ts[sel], np.unwrap(c[sel]), 1)[0])
    err = np.unwrap(np.asarray(C.periodic_distance(c[sel] - z[sel])))
    d = np.diff(err)
    d = d[np.abs(d) > 1e-4]
    turns = int(np.sum(np.sign(d[1:]) != np.sign(d[:-1])))
    if np.ptp(err) >= math.pi or (np.ptp(err) > 0.05 and turns < 2):
        mode = "travelling"
    elif np.ptp(err) > 0.05:
        mode = "oscillatory"
    elif v_ext == 0:
        mode = "static"
    else:
        mode = "anticipative" if np.mean(err) * np.sign(v_ext) > 0 else "smooth"
    return speed, mode, np.asarray(C.periodic_distance(err))


def _cann_sfa(p):
    n = 128 if p["quick"] else int(p["n"])
    T = 200.0 if p["quick"] else p["duration"]
    m = C.CANN1DSFA(n=n, tau=p["tau"], tau_v=p["tau_v"], k=p["k"], a=p["a"], J0=p["J0"], m=p["m"],
                    method=p["method"])
    task = p["task"]
    A = p["A"] if p["A"] is not None and p["A"] >= 0 else {"spontaneous": 10.0, "static-input": 2.0,
                                                            "moving-input": 10.0}[task]
    v_ext = p["v_ext"] if task == "moving-input" else 0.0
    if task == "spontaneous":  # a cue at 0 for t_cue ms, then the network alone (with the noise)
        inp = m.stimulus_input([0.0], [0.0], A=A, t_off=p["t_cue"], noise=p["noise"])
    else:
        inp = m.stimulus_input([0.0, T], [0.0, v_ext * T], A=A, noise=p["noise"])
    dt = p["dt"]
    res = _run(m, T, dt, inputs=inp, record="u", record_every=max(1, int(round(0.5 / dt))), key=int(p["seed"]))
    u = np.asarray(res["u"])
    ts = res.ts
    c = np.asarray(m.decode(u))
    z = np.asarray(inp.position(ts)) if task != "spontaneous" else np.zeros_like(c)
    speed, mode, err = _speed_and_mode(ts, c, z, v_ext, T / 2)
    v_int = m.intrinsic_speed()
    figs = {"speed_rad_per_ms": round(speed, 5), "mode": mode, "task": task, "m": p["m"],
            "m_onset": round(p["tau"] / p["tau_v"], 5), "v_int_course": round(v_int, 5),
            "speed_over_v_int": round(abs(speed) / v_int, 4) if v_int > 0 else None,
            "mean_offset_rad": round(float(np.mean(err)), 4) if task != "spontaneous" else None,
            "offset_range_rad": round(float(np.ptp(err)), 4) if task != "spontaneous" else None,
            "v_ext_rad_per_ms": v_ext, "A": A, "n": n}
    return Report(figs, {"x": np.asarray(m.x), "u": u, "ts": ts, "c": c, "z": z, "task": task})


def _plot_sfa(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    im = a1.imshow(d["u"].T, aspect="auto", origin="lower", cmap="viridis",
                   extent=[d["ts"][0], d["ts"][-1], d["x"][0], d["x"][-1]])
    fig.colorbar(im, ax=a1, label="u")
    a1.plot(d["ts"], d["c"], "w.", ms=1)
    if d["task"] != "spontaneous":
        a1.plot(d["ts"], np.asarray(C.periodic_distance(d["z"])), "r.", ms=1)
    a1.set_xlabel("t (ms)")
    a1.set_ylabel("x (rad)")
    a1.set_title(f"m = {f['m']} (onset {f['m_onset']}): {f['mode']}, {f['speed_rad_per_ms']:.4f} rad/ms")
    i = len(d["ts"]) - 1
    a2.plot(d["x"], d["u"][i], label=f"u at {d['ts'][i]:g} ms")
    a2.axvline(d["c"][i], color="k", lw=0.6)
    a2.set_xlabel("x (rad)")
    a2.legend(fontsize=8)
    a2.set_title(f"v_int (course) = {f['v_int_course']:.4f} rad/ms", fontsize=9)
    fig.suptitle(f"CANN with spike-frequency adaptation ({f['task']})")
    fig.tight_layout()
    return fig


def _cann_stp(p):
    # quick: a shorter run only (the depression acts through r, which scales as 1/n: a smaller
    # ring would be another network)
    n = int(p["n"])
    T = 300.0 if p["quick"] else p["duration"]
    m = C.CANN1DSTP(n=n, tau=p["tau"], tau_d=p["tau_d"], beta=p["beta"], k=p["k"], a=p["a"], J0=p["J0"],
                    A=p["A"], method=p["method"])
    inp = m.stimulus_input([0.0], [0.0], t_off=p["t_cue"], noise=p["noise"])
    dt = p["dt"]
    res = _run(m, T, dt, inputs=inp, record=["u", "p"], record_every=max(1, int(round(0.5 / dt))),
               key=int(p["seed"]))
    u, pp = np.asarray(res["u"]), np.asarray(res["p"])
    ts = res.ts
    c = np.asarray(m.decode(u))
    speed, mode, _ = _speed_and_mode(ts, c, np.zeros_like(c), 0.0, T / 2)
    figs = {"speed_rad_per_ms": round(speed, 5), "mode": mode, "bump_height": round(float(u[-1].max()), 4),
            "p_min": round(float(pp[-1].min()), 4), "beta": p["beta"], "tau_d": p["tau_d"], "n": n}
    return Report(figs, {"x": np.asarray(m.x), "u": u, "p": pp, "ts": ts, "c": c})


def _plot_stp(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    im = a1.imshow(d["u"].T, aspect="auto", origin="lower", cmap="viridis",
                   extent=[d["ts"][0], d["ts"][-1], d["x"][0], d["x"][-1]])
    fig.colorbar(im, ax=a1, label="u")
    a1.set_xlabel("t (ms)")
    a1.set_ylabel("x (rad)")
    a1.set_title(f"{f['mode']}: {f['speed_rad_per_ms']:.4f} rad/ms")
    i = len(d["ts"]) - 1
    a2.plot(d["x"], d["u"][i] / max(d["u"][i].max(), 1e-12), label="u / max u")
    a2.plot(d["x"], d["p"][i], label="p (available resources)")
    a2.set_xlabel("x (rad)")
    a2.legend(fontsize=8)
    fig.suptitle(f"CANN with synaptic depression (beta {f['beta']}, tau_d {f['tau_d']} ms)")
    fig.tight_layout()
    return fig


def _cann_2d(p):
    L = 48 if p["quick"] else int(p["length"])
    m = C.CANN2D(length=L, tau=p["tau"], k=p["k"], a=p["a"], A=p["A"], J0=p["J0"], method=p["method"])
    pos = [p["x0"], p["y0"]]
    t_off = p["t_on"] + p["t_stim"]
    inp = m.stimulus_input([0.0], [pos], t_on=p["t_on"], t_off=t_off)
    res = _run(m, p["duration"], p["dt"], inputs=inp, record="u", record_every=int(round(p["duration"] / p["dt"])))
    U = np.asarray(res["u"][-1])
    th = m.analytic_bump()
    h = float(U.max())
    figs = {"bump_height": round(h, 6), "center": float_list(m.decode(U), 5), "analytic_height": round(th["u0"], 6),
            "height_rel_error": round(abs(h / th["u0"] - 1), 6) if th["u0"] else None,
            "k_c": round(th["k_c"], 4), "length": L, "stimulus_position": pos}
    return Report(figs, {"U": U.reshape(L, L), "L": L})


def _plot_cann_2d(report, params):
    import matplotlib.pyplot as plt

    d, f = report.data, report.figures
    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(d["U"].T, origin="lower", extent=[-math.pi, math.pi, -math.pi, math.pi], cmap="viridis")
    fig.colorbar(im, ax=ax, label="u")
    ax.plot(*f["stimulus_position"], "r+", ms=10, label="stimulus")
    ax.plot(*f["center"], "wx", ms=8, label="decoded")
    ax.legend(fontsize=8)
    ax.set_title(f"2-D CANN: height {f['bump_height']:.4g} (analytic {f['analytic_height']:.4g})", fontsize=9)
    fig.tight_layout()
    return fig


_RING = dict(dt=0.1, method="rk4", tau=1.0, a=0.5, J0=4.0)

ENTRIES = [
    Entry(
        name="hopfield",
        summary="Amari-Hopfield network: Hebbian storage of random patterns, recall from 10 % flipped bits, energy",
        defaults=dict(n=784, patterns=10, flip=0.1, sweeps=10, mode="async", probe=0, seed=0),
        compute=_hopfield, plot=_plot_hopfield, choices={"mode": ["async", "sync"]},
    ),
    Entry(
        name="hopfield-capacity",
        summary="Hopfield recall vs load P/N against the AGS capacity 0.138 N (quick: N 256)",
        defaults=dict(n=784, alphas=[0.02, 0.05, 0.08, 0.1, 0.12, 0.13, 0.14, 0.15, 0.16, 0.18, 0.2, 0.25, 0.3],
                      trials=10, flip=0.1, sweeps=20, seed=0, quick=False),
        compute=_hopfield_capacity, plot=_plot_capacity,
    ),
    Entry(
        name="hopfield-modern",
        summary="Modern Hopfield network (Ramsauer et al. 2020 / Krotov-Hopfield hidden layer) beyond 0.138 N",
        defaults=dict(n=784, patterns=200, flip=0.1, steps=3, beta=0.0, probe=0, seed=0),
        compute=_hopfield_modern, plot=_plot_modern,
    ),
    Entry(
        name="cann-1d",
        summary="The book's 1-D CANN: a bump after a 10 ms input, against the analytic bump and k_c",
        defaults=dict(n=512, k=8.1, A=10.0, position=0.0, t_on=2.0, t_stim=10.0, duration=62.0, measure_kc=True,
                      quick=False, **_RING),
        compute=_cann_1d, plot=_plot_cann_1d,
    ),
    Entry(
        name="cann-tracking",
        summary="CANN smooth tracking of a moving input (the book's 0 -> 1.5 pi in 10 ms) and population decoding",
        defaults=dict(n=512, k=8.1, A=10.0, t_start=10.0, t_move=10.0, distance=1.5 * math.pi, duration=40.0,
                      noise=0.0, seed=0, quick=False, **_RING),
        compute=_cann_tracking, plot=_plot_tracking,
    ),
    Entry(
        name="cann-stp",
        summary="CANN with short-term synaptic depression: the bump travels spontaneously",
        defaults=dict(n=512, k=0.1, A=10.0, tau_d=50.0, beta=0.05, t_cue=10.0, noise=0.05, duration=600.0, seed=0,
                      quick=False, **_RING),
        compute=_cann_stp, plot=_plot_stp,
    ),
    Entry(
        name="cann-sfa",
        summary="CANN with spike-frequency adaptation: travelling above m = tau/tau_v; oscillatory, smooth and "
                "anticipative tracking (--set task=...)",
        defaults=dict(n=512, k=0.1, tau_v=10.0, m=0.3, task="spontaneous", A=-1.0, v_ext=0.05, t_cue=20.0,
                      noise=0.01, duration=400.0, seed=0, quick=False, **_RING),
        compute=_cann_sfa, plot=_plot_sfa, choices={"task": ["spontaneous", "static-input", "moving-input"]},
    ),
    Entry(
        name="cann-2d",
        summary="2-D CANN on a torus (FFT coupling): a bump after an input, against the analytic bump",
        defaults=dict(length=128, k=8.1, A=10.0, x0=1.0, y0=-0.5, t_on=2.0, t_stim=10.0, duration=50.0, quick=False,
                      **_RING),
        compute=_cann_2d, plot=_plot_cann_2d,
    ),
]
