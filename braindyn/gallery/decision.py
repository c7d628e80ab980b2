"""Gallery entry of perceptual decision making (chapter 7): the reduced rate model.

Entry: ``decision-rate``. Wong & Wang (2006) with an Ornstein--Uhlenbeck background current
per population (sigma 0.02 nA, tau_n 2 ms; :class:`braindyn.models.decision.WongWangOU`),
mu0 20 Hz, dt 0.1 ms. Protocol: the stimulus is on for 2 s after 100 ms; a trial's choice is
the first selective population whose rate H(x) crosses 15 Hz (rates sampled every
``record_ms`` = 1 ms, the crossing interpolated between samples), its reaction time the
crossing time after stimulus onset; a trial with no crossing takes the population with the
higher rate at stimulus end and counts in ``p_undecided``, not in ``mean_rt_ms`` (the mean
over all decided trials, correct or not). ``rate_winner_hz``/``rate_loser_hz``: the chosen and
the other population's rates at stimulus end, averaged over trials.

``--set coherence=C --set trials=N``: N trials at coherence C (%), scalar figures.
``--set psychometric=1``: ``trials`` per coherence over ``coherences``; every figure becomes a
list (one value per coherence) and ``p_correct`` is added (the fraction choosing the population
the stimulus favours; at 0 % the fraction choosing A). In both modes all trials are one
compiled ``jax.vmap`` of ``bd.simulate`` over (coherence, key) pairs, and ``batch_s`` is the
wall time of that compiled batch (compilation excluded). ``quick`` (tests, ``--quick``): at
most 200 trials, and coherences 0, 6.4, 25.6, 51.2 %.
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import inputs as _inputs
from .. import simulate as _simulate
from ..models.decision import WongWangOU, decide
from . import Entry, Report

_N_EXAMPLES = 8


def _make_batch(p):
    """A jitted function ``(coherences, keys, examples) -> (choice_A, rt, undecided, r1_end, r2_end,
    r1, r2)``: one flat batch of trials, the rates at stimulus end of every trial and the rate
    traces of the trials ``examples`` only."""
    dt = float(p["dt"])
    every = max(1, int(round(float(p["record_ms"]) / dt)))
    t_on, t_off = float(p["t_on"]), float(p["t_on"]) + float(p["t_stim"])
    n_steps = int(round(t_off / dt))
    n_steps -= n_steps % every
    stim = _inputs.section([0.0, 1.0], [t_on, t_off - t_on])
    ts = dt * every * np.arange(1, n_steps // every + 1)  # a record is the state at the end of its step
    gate = jnp.asarray((ts > t_on + 1e-9) & (ts <= t_off + 1e-9), float)
    i_end = int(np.argmin(np.abs(ts - t_off)))

    def trial(c, key):
        m = WongWangOU(coherence=c, mu0=p["mu0"], sigma=p["sigma"], tau_n=p["tau_n"], method=p["method"])
        _, rec, _ = _simulate(m, m.init_state(), n_steps, dt, inputs={"stim": stim}, key=key,
                              record=lambda s: {k: s[k][0] for k in m.variables}, record_every=every)
        r = m.rates(rec, {"stim": gate})
        return r["r1"], r["r2"]

    @jax.jit
    def batch(cs, keys, examples):
        r1, r2 = jax.vmap(trial)(cs, keys)
        choice, rt, und = decide(ts, r1, r2, t_on=t_on, t_off=t_off, threshold=p["threshold"])
        return choice, rt, und, r1[:, i_end], r2[:, i_end], r1[examples], r2[examples]

    return batch, ts


def _stats(choice, rt, und, r1e, r2e, c):
    """Figures of one coherence's trials: choice probabilities, RT and their standard errors."""
    choice, rt, und = np.asarray(choice), np.asarray(rt), np.asarray(und)
    n = len(choice)
    pA = float(choice.mean())
    pc = float((choice if c >= 0 else ~choice).mean())  # at c = 0: the fraction choosing A
    rts = rt[~und]
    win = np.where(choice, r1e, r2e)
    lose = np.where(choice, r2e, r1e)
    return {"p_choice_A": pA, "p_correct": pc, "p_correct_se": float(np.sqrt(max(pc * (1 - pc), 1e-12) / n)),
            "p_undecided": float(und.mean()), "mean_rt_ms": float(rts.mean()) if rts.size else None,
            "rt_se_ms": float(rts.std(ddof=1) / np.sqrt(rts.size)) if rts.size > 1 else None, "n": n,
            "rate_winner_hz": float(np.mean(win)), "rate_loser_hz": float(np.mean(lose))}


def _r(x, d):
    return None if x is None else round(x, d)


def choice_figures(st, cohs, n, psychometric) -> dict:
    """The JSON figures of per-coherence statistics ``st`` (from :func:`_stats`): scalars for one
    coherence, lists (with ``p_correct``) in the psychometric mode."""
    names = ("p_choice_A", "mean_rt_ms", "rt_se_ms", "p_undecided", "rate_winner_hz", "rate_loser_hz")
    digits = (4, 2, 2, 4, 3, 3)
    if psychometric:
        figs = {"coherences": cohs, "trials": n, "p_correct": [_r(q["p_correct"], 4) for q in st],
                "p_correct_se": [_r(q["p_correct_se"], 4) for q in st]}
        figs.update({k: [_r(q[k], dg) for q in st] for k, dg in zip(names, digits)})
    else:
        figs = {"coherence": cohs[0], "trials": n}
        figs.update({k: _r(st[0][k], dg) for k, dg in zip(names, digits)})
    return figs


def decision_axes(report, params, title_prefix=""):
    """A figure for a decision entry: the trace axes (returned for the caller to draw on) and, in
    the psychometric mode, the psychometric and chronometric panels; titled with the example
    coherence's choice probability and mean RT."""
    import matplotlib.pyplot as plt

    from ..plot.network import psychometric

    d, f = report.data, report.figures
    psy = bool(params["psychometric"])
    fig = plt.figure(figsize=(12 if psy else 6, 3.6), layout="constrained")
    axs = fig.subplots(1, 3 if psy else 1, squeeze=False)[0]
    ax = axs[0]
    ax.axhline(params["threshold"], color="k", ls=":", lw=0.8)
    ax.set_xlabel("t (ms)")
    st = d["stats"]
    q = st[0] if not psy else st[int(np.argmin(np.abs(np.asarray(f["coherences"]) - d["c_example"])))]
    rt = "-" if q["mean_rt_ms"] is None else f"{q['mean_rt_ms']:.0f}"
    ax.set_title(f"{title_prefix}c = {d['c_example']:g} %: P(A) {q['p_choice_A']:.2f}, RT {rt} ms", fontsize=9)
    if psy:
        rts = [np.nan if s["mean_rt_ms"] is None else s["mean_rt_ms"] for s in st]
        rte = [np.nan if s["rt_se_ms"] is None else s["rt_se_ms"] for s in st]
        psychometric(np.asarray(f["coherences"]), f["p_correct"], reaction_time=rts, accuracy_err=f["p_correct_se"],
                     rt_err=rte, axes=list(axs[1:]), label=f"{f['trials']} trials / coherence")
    return fig, ax


def _decision_rate(p):
    key = jax.random.PRNGKey(int(p["seed"]))
    c0 = float(p["coherence"])
    if p["psychometric"]:
        cohs = [0.0, 6.4, 25.6, 51.2] if p["quick"] else [float(c) for c in p["coherences"]]
        n = min(int(p["trials"]), 200) if p["quick"] else int(p["trials"])
    else:
        cohs = [c0]
        n = min(int(p["trials"]), 200) if p["quick"] else int(p["trials"])
    i_ex = int(np.argmin(np.abs(np.asarray(cohs) - c0)))  # example traces at the coherence nearest c0
    examples = jnp.arange(i_ex * n, i_ex * n + min(_N_EXAMPLES, n))
    batch, ts = _make_batch(p)
    cs = jnp.repeat(jnp.asarray(cohs), n)
    keys = jax.random.split(key, len(cohs) * n)
    compiled = batch.lower(cs, keys, examples).compile()  # compile outside the timing
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(cs, keys, examples))
    batch_s = time.perf_counter() - t0
    ch, rt, un, r1e, r2e = (np.asarray(x).reshape(len(cohs), n) for x in out[:5])
    st = [_stats(ch[i], rt[i], un[i], r1e[i], r2e[i], c) for i, c in enumerate(cohs)]
    figs = choice_figures(st, cohs, n, p["psychometric"])
    figs.update({"batch_trials": len(cohs) * n, "batch_s": round(batch_s, 3)})
    data = {"ts": ts, "r1": np.asarray(out[5]), "r2": np.asarray(out[6]), "c_example": cohs[i_ex],
            "choice": ch[i_ex, :_N_EXAMPLES], "stats": st}
    return Report(figs, data)


def _plot_decision(report, params):
    d = report.data
    fig, ax = decision_axes(report, params)
    for i in range(len(d["r1"])):
        ax.plot(d["ts"], d["r1"][i], color="C0", lw=0.6, alpha=0.7, label="A" if i == 0 else None)
        ax.plot(d["ts"], d["r2"][i], color="C3", lw=0.6, alpha=0.7, label="B" if i == 0 else None)
    ax.axvspan(params["t_on"], params["t_on"] + params["t_stim"], color="0.9", zorder=-1)
    ax.set_ylabel("rate H(x) (Hz)")
    ax.legend(fontsize=8)
    return fig


ENTRIES = [
    Entry(
        name="decision-rate",
        summary="Wong-Wang reduced decision model with OU background noise: choice and reaction time "
                "(--set coherence=C --set trials=N); --set psychometric=1: psychometric/chronometric curves",
        defaults=dict(coherence=6.4, trials=1000, mu0=20.0, sigma=0.02, tau_n=2.0, t_on=100.0, t_stim=2000.0,
                      threshold=15.0, dt=0.1, record_ms=1.0, method="exp_euler", psychometric=False,
                      coherences=[0.0, 3.2, 6.4, 12.8, 25.6, 51.2], seed=0,
                      quick=False),
        compute=_decision_rate, plot=_plot_decision, choices={"method": ["euler", "exp_euler", "rk2", "rk4"]},
    ),
]
