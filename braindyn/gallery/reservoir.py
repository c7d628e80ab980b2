"""Gallery: reservoir computing (chapter 9) -- echo state networks on the sine-power, Lorenz and
Mackey--Glass tasks, and a liquid state machine classifying spatio-temporal spike patterns.

``lsm``: ``classes`` random rate templates (``pattern_bins`` x ``n_in``, each rate high or low)
are shown for ``window`` ms each, in random order, as Poisson input; the readout is ridge
regression onto one-hot labels from the liquid's spike counts in ``feature_bins`` bins of each
window, trained on the first ``train_fraction`` of the trials; ``accuracy`` is on the rest, next
to the same readout of the input spikes (``accuracy_input_only``). With ``memory=1`` the
templates differ only in the first half of the window and both readouts see only the second
half, so the class must be carried by the liquid's fading memory (measured, 240 trials:
liquid 0.60, input only 0.34, chance 0.33).

Every ESN entry fits a ridge readout on ``[x(n), u(n)]`` (reservoir states and the input, after a
washout) on the first part of the series and reports, on the held-out rest: ``nrmse`` (RMSE /
standard deviation of the target, one per output variable where there are several), ``mae``,
the reservoir's ``spectral_radius`` and ``sigma_max``. The ESN entries compute in float64
(``jax.enable_x64``): a ridge readout with a small :math:`\beta` on reservoir states loses
about an order of magnitude of NRMSE to float32 round-off (Lorenz, quick: z 0.09 vs 0.018).
"""
from __future__ import annotations

import numpy as np

from . import Entry, Report

__all__ = ["ENTRIES"]


def _esn(p, n_in):
    from ..models import ESN

    return ESN.random(int(p["n"]), n_in, spectral_radius=float(p["spectral_radius"]),
                      input_scaling=float(p["input_scaling"]), leak=float(p["leak"]), density=float(p["density"]),
                      bias_scaling=float(p["bias_scaling"]), seed=int(p["seed"]))


def _fit_predict(esn, U, Y, washout, n_train, beta):
    """Drive the reservoir with ``U``; ridge on [x, u] over [washout, n_train); predictions of all steps."""
    from ..train import ridge

    X = np.asarray(esn.run(U))
    F = np.hstack([X, U])
    ro = ridge(F[washout:n_train], Y[washout:n_train], beta)
    return np.asarray(ro(F)), X


def _x64(compute):
    """Run ``compute`` with float64 on (see the module docstring)."""
    import functools

    import jax

    @functools.wraps(compute)
    def wrapped(p):
        with jax.enable_x64(True):
            return compute(p)

    return wrapped


def _figures(esn, Y_test, P_test, extra=None):
    from ..models import sigma_max, spectral_radius
    from ..train import mae, nrmse

    fig = {"nrmse": nrmse(Y_test, P_test), "mae": mae(Y_test, P_test),
           "spectral_radius": round(spectral_radius(esn), 6), "sigma_max": round(sigma_max(esn), 6)}
    for k in ("nrmse", "mae"):
        fig[k] = [round(v, 6) for v in fig[k]] if isinstance(fig[k], list) else round(fig[k], 6)
    fig.update(extra or {})
    return fig


# ---------------------------------------------------------------------------------------- esn-sine
def _sine(p):
    from ..models import sine_power
    from ..train import nrmse, ridge

    n = int(p["samples"]) if not p["quick"] else 600
    u, y = sine_power(n, k=int(p["k"]), omega=float(p["omega"]), amplitude=float(p["amplitude"]))
    esn = _esn(p, 1)
    U = u[:, None]
    n_train = int(p["train_fraction"] * n)
    pred, X = _fit_predict(esn, U, y, int(p["washout"]), n_train, float(p["beta"]))
    lin = ridge(U[int(p["washout"]):n_train], y[int(p["washout"]):n_train], float(p["beta"]))
    base = nrmse(y[n_train:], np.asarray(lin(U[n_train:])))
    figs = _figures(esn, y[n_train:], pred[n_train:], {"nrmse_input_only": round(base, 6), "n": int(p["n"])})
    return Report(figs, {"u": u, "y": y, "pred": pred, "n_train": n_train, "X": X})


def _plot_sine(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    k = np.arange(len(d["u"]))
    s = slice(d["n_train"], min(d["n_train"] + 150, len(k)))
    fig, ax = plt.subplots(3, 1, figsize=(8, 6.5), sharex=False)
    ax[0].plot(k[s], d["u"][s], color="0.5", label="input u = sin(wn)")
    ax[0].plot(k[s], d["y"][s], "k", lw=2, label=f"target {p['amplitude']} sin^{p['k']}(wn)")
    ax[0].plot(k[s], d["pred"][s], "C3--", lw=1.5, label="ESN readout")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[0].set_title(f"esn-sine: test NRMSE {report.figures['nrmse']:.2e} "
                    f"(input only: {report.figures['nrmse_input_only']:.2f})")
    ax[1].plot(k[s], d["pred"][s] - d["y"][s], "C3")
    ax[1].set_ylabel("error")
    ax[2].plot(k[s], d["X"][s, :8], lw=0.8)
    ax[2].set_ylabel("x (8 units)")
    ax[2].set_xlabel("step n")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------- esn-lorenz
def _lorenz(p):
    from ..models import lorenz

    n = int(p["samples"]) if not p["quick"] else 2000
    h, every = float(p["h"]), int(p["sample_every"])
    H = int(round(float(p["horizon"]) / (h * every)))
    ts, L = lorenz(n + H, h=h, sample_every=every)
    U = (L - L.mean(0)) / L.std(0)
    U, Y = U[:-H], L[H:]
    n_train = int(p["train_fraction"] * n)
    esn = _esn({**p, "n": p["n"] if not p["quick"] else 200}, 3)
    pred, _ = _fit_predict(esn, U, Y, int(p["washout"]), n_train, float(p["beta"]))
    figs = _figures(esn, Y[n_train:], pred[n_train:], {"horizon": float(H * h * every), "n": esn.n,
                                                        "variables": ["x", "y", "z"]})
    return Report(figs, {"ts": ts[:n] + H * h * every, "Y": Y, "pred": pred, "n_train": n_train})


def _plot_lorenz(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    s = slice(d["n_train"], min(d["n_train"] + 1000, len(d["Y"])))
    fig = plt.figure(figsize=(10, 6))
    for i, name in enumerate("xyz"):
        ax = fig.add_subplot(3, 2, 2 * i + 1)
        ax.plot(d["ts"][s], d["Y"][s, i], "k", lw=1.8, label="true")
        ax.plot(d["ts"][s], d["pred"][s, i], "C3--", lw=1.2, label="ESN")
        ax.set_ylabel(f"{name}(t + {report.figures['horizon']:g})")
        if i == 0:
            ax.legend(fontsize=8, loc="upper right")
            ax.set_title(f"esn-lorenz: NRMSE x, y, z = {', '.join(f'{v:.1e}' for v in report.figures['nrmse'])}")
    ax.set_xlabel("t")
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(d["Y"][s, 0], d["Y"][s, 2], "k", lw=1.2, label="true")
    ax.plot(d["pred"][s, 0], d["pred"][s, 2], "C3--", lw=0.9, label="ESN")
    ax.set_xlabel("x")
    ax.set_ylabel("z")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------- esn-mackey-glass
def _mg(p):
    from ..models import mackey_glass

    n = int(p["samples"]) if not p["quick"] else 1000
    H = int(p["horizon"])
    ts, x = mackey_glass(n + H, tau=float(p["tau"]), sample=float(p["sample"]))
    u = (x - x.mean()) / x.std()
    U, Y = u[:-H, None], x[H:]
    n_train = int(p["train_fraction"] * n)
    esn = _esn({**p, "n": p["n"] if not p["quick"] else 100}, 1)
    pred, _ = _fit_predict(esn, U, Y, int(p["washout"]), n_train, float(p["beta"]))
    figs = _figures(esn, Y[n_train:], pred[n_train:], {"horizon": H * float(p["sample"]), "n": esn.n})
    return Report(figs, {"ts": ts[H:], "Y": Y, "pred": pred, "n_train": n_train, "x": x,
                         "lag": int(round(float(p["tau"]) / float(p["sample"])))})


def _plot_mg(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    s = slice(d["n_train"], min(d["n_train"] + 500, len(d["Y"])))
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [2.2, 1]})
    ax[0].plot(d["ts"][s], d["Y"][s], "k", lw=1.8, label="Mackey-Glass")
    ax[0].plot(d["ts"][s], d["pred"][s], "C3--", lw=1.2, label="ESN")
    ax[0].set_xlabel("t")
    ax[0].set_ylabel(f"x(t + {report.figures['horizon']:g})")
    ax[0].legend(fontsize=8)
    ax[0].set_title(f"esn-mackey-glass: test NRMSE {report.figures['nrmse']:.2e}")
    lag = d["lag"]
    ax[1].plot(d["x"][lag:], d["x"][:-lag], lw=0.5, color="0.3")
    ax[1].set_xlabel("x(t)")
    ax[1].set_ylabel(f"x(t - {p['tau']:g})")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------- lsm
def _lsm(p):
    from .. import run
    from ..models import liquid_state_machine, lsm_features, pattern_rates
    from ..train import ridge

    rng = np.random.default_rng(int(p["seed"]))
    K, nb, n_in, window = int(p["classes"]), int(p["pattern_bins"]), int(p["n_in"]), float(p["window"])
    trials = int(p["trials"]) if not p["quick"] else 90
    templates = np.where(rng.random((K, nb, n_in)) < float(p["p_high"]), float(p["rate_high"]),
                         float(p["rate_low"]))
    if p["memory"]:  # the classes differ only in the first half of the window
        templates[:, nb // 2:] = templates[0, nb // 2:]
    labels = rng.integers(0, K, trials)
    dt = float(p["dt"])
    net = liquid_state_machine(pattern_rates(templates, labels, window), n_in, n=int(p["n"]), dt=dt,
                               seed=int(p["seed"]))
    res = run(net, trials * window, dt=dt, inputs={"L": float(p["background"])},
              record=["pop.L.spike", "pop.In.spike"], key=int(p["seed"]) + 1)
    n_train = int(p["train_fraction"] * trials)
    out = {}
    for name, rec in (("liquid", "pop.L.spike"), ("input", "pop.In.spike")):
        fb = int(p["feature_bins"])
        F = lsm_features(res[rec], trials, window, n_bins=fb)
        if p["memory"]:  # read the second half only: the class must be remembered
            F = F[:, (fb // 2) * (F.shape[1] // fb):]
        m, s = F[:n_train].mean(0), F[:n_train].std(0) + 1e-9
        Z = (F - m) / s
        ro = ridge(Z[:n_train], np.eye(K)[labels[:n_train]], float(p["beta"]) * n_train)
        pred = np.argmax(np.asarray(ro(Z)), axis=1)
        out[name] = (float(np.mean(pred[n_train:] == labels[n_train:])), pred)
    figs = {"accuracy": round(out["liquid"][0], 4), "accuracy_input_only": round(out["input"][0], 4),
            "chance": round(1.0 / K, 4), "rate_hz": round(res.rate_hz("pop.L.spike"), 3),
            "test_trials": trials - n_train, "n": int(p["n"])}
    ev = res["pop.L.spike"].events()
    ev_in = res["pop.In.spike"].events()
    return Report(figs, {"events": ev, "events_in": ev_in, "labels": labels, "pred": out["liquid"][1],
                         "window": window, "n_train": n_train, "K": K})


def _plot_lsm(report, p):
    import matplotlib.pyplot as plt

    d = report.data
    w = d["window"]
    show = 6
    t_end = show * w
    fig, ax = plt.subplots(3, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [1, 2, 0.6]})
    for a, (t, i), title in ((ax[0], d["events_in"], "input (Poisson)"), (ax[1], d["events"], "liquid (LIF)")):
        m = t < t_end
        a.plot(t[m], i[m], "|", ms=2, color="k")
        a.set_ylabel(title)
        for k in range(show + 1):
            a.axvline(k * w, color="C0", lw=0.6)
    for k in range(show):
        ax[2].text(k * w + w / 2, 0.5, f"class {d['labels'][k]}\nreadout {d['pred'][k]}", ha="center", va="center",
                   fontsize=8)
    ax[2].set_yticks([])
    ax[2].set_xlabel("t (ms)")
    ax[0].set_title(f"lsm: test accuracy {report.figures['accuracy']:.2f} (chance {report.figures['chance']:.2f}; "
                    f"readout of the input spikes alone {report.figures['accuracy_input_only']:.2f})")
    fig.tight_layout()
    return fig


_ESN = dict(spectral_radius=0.9, input_scaling=0.5, leak=1.0, density=0.05, bias_scaling=0.2, seed=0, quick=False)

ENTRIES = [
    Entry(
        name="esn-sine",
        summary="Echo state network: input sin(n/5), target 0.5 sin^7(n/5) (Jaeger 2001); ridge readout, "
                "test NRMSE vs the input-only readout",
        defaults=dict(_ESN, n=100, spectral_radius=0.8, input_scaling=1.0, density=0.1, bias_scaling=0.0,
                      samples=1000, washout=100, train_fraction=0.6, beta=1e-8, k=7, omega=0.2, amplitude=0.5),
        compute=_x64(_sine), plot=_plot_sine,
    ),
    Entry(
        name="esn-lorenz",
        summary="Echo state network predicting the Lorenz state (x, y, z) 0.2 time units ahead "
                "(series from braindyn's rk4); NRMSE per variable (--quick: 200 units, 2000 samples)",
        defaults=dict(_ESN, n=500, samples=5000, h=0.01, sample_every=2, horizon=0.2, washout=200,
                      train_fraction=0.7, beta=1e-8),
        compute=_x64(_lorenz), plot=_plot_lorenz,
    ),
    Entry(
        name="esn-mackey-glass",
        summary="Echo state network predicting the Mackey-Glass series (tau = 17, braindyn's DDE solver) "
                "6 time units ahead (--quick: 100 units, 1000 samples)",
        defaults=dict(_ESN, n=300, leak=0.3, samples=3000, tau=17.0, sample=1.0, horizon=6, washout=200,
                      train_fraction=0.7, beta=1e-8),
        compute=_x64(_mg), plot=_plot_mg,
    ),
    Entry(
        name="lsm",
        summary="Liquid state machine: a recurrent LIF network classifying spatio-temporal Poisson rate "
                "patterns with a linear readout of binned spike counts (--quick: 90 trials); --set memory=1: "
                "the classes differ only in the first half of each window and the readout sees only the second",
        defaults=dict(n=200, n_in=40, classes=3, pattern_bins=4, feature_bins=4, window=100.0, trials=240,
                      p_high=0.3, rate_high=40.0, rate_low=5.0, background=13.5, train_fraction=2.0 / 3.0,
                      beta=1.0, dt=0.1, memory=False, seed=0, quick=False),
        compute=_lsm, plot=_plot_lsm,
    ),
]
