"""Gallery entry of perceptual decision making (chapter 7): the spiking network of Wang (2002).

Entry: ``decision-spiking`` (:func:`braindyn.models.decision_spiking.wang2002`, 2000 LIF neurons,
AMPA/NMDA/GABA_A synapses with Mg block, Poisson background and stimulus; every all-to-all block
costs O(N)). Protocol (as ``decision-rate``): a warm-up of ``warmup`` ms without stimulus (the first
200 ms a transient from V = -70 mV) brings the network into its spontaneous state, from which
every trial starts (each with its own
random stream); the stimulus is on for ``t_stim`` ms after ``t_on`` ms; the population rates of
A and B are taken in a causal 50 ms window every 1 ms; a trial's choice is the first selective
group whose rate crosses ``threshold`` Hz, its reaction time the crossing time after stimulus
onset; a trial with no crossing takes the group with the higher rate at stimulus end and counts
in ``p_undecided``, not in ``mean_rt_ms``.

Figures: ``p_choice_A``, ``mean_rt_ms``, ``p_undecided``; ``rate_winner_hz``, ``rate_loser_hz``,
``rate_inh_hz`` (the chosen, the other selective group's and the interneurons' rates in the
window ending at stimulus end, averaged over trials); ``rate_spont_hz`` ([E, I], the mean rates
of all pyramidal cells and interneurons over the warm-up after its transient and the
pre-stimulus period of every trial).
``--set psychometric=1``: ``trials`` per coherence over ``coherences`` as one compiled batch;
the figures become lists and ``p_correct`` is added. ``batch_s``: wall time of the compiled
batch (compilation excluded). ``--quick``: 500 neurons (scale 0.25), 4 trials per coherence,
a 600 ms stimulus and coherences 0 and 51.2 % for the psychometric mode (for tests).
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import run as _run
from ..models.decision import decide
from ..models.decision_spiking import population_sizes, trial_batch, wang2002, window_rates
from . import Entry, Report
from .decision import _stats, choice_figures, decision_axes

_N_EXAMPLES = 4
_TRANSIENT = 200.0  # ms from the initial state (V = -70 mV everywhere) to the spontaneous state


def _settings(p):
    q = dict(p)
    if p["quick"]:
        q.update(scale=min(float(p["scale"]), 0.25), trials=min(int(p["trials"]), 4),
                 t_stim=min(float(p["t_stim"]), 600.0), warmup=min(float(p["warmup"]), 400.0))
    return q


def _decision_spiking(p):
    p = _settings(p)
    dt, scale = float(p["dt"]), float(p["scale"])
    t_on, t_stim = float(p["t_on"]), float(p["t_stim"])
    t_off = t_on + t_stim
    n_steps = int(round(t_off / dt))
    net = wang2002(scale=scale, dt=dt, mu0=float(p["mu0"]), sigma=float(p["sigma"]))
    sizes = population_sizes(scale)
    # the spontaneous state every trial starts from: a transient of 200 ms, then the rest of
    # the warm-up recorded for the spontaneous rates
    settle = _run(net, _TRANSIENT, dt=dt, key=int(p["seed"]) + 1000003)
    names = [f"pop.{k}.spike" for k in "ABNI"]
    warm = _run(net, float(p["warmup"]) - _TRANSIENT, dt=dt, resume=settle.run_state, record=names)
    state0 = warm.final_state
    if p["psychometric"]:
        cohs = [0.0, 51.2] if p["quick"] else [float(c) for c in p["coherences"]]
    else:
        cohs = [float(p["coherence"])]
    n = int(p["trials"])
    cs = jnp.repeat(jnp.asarray(cohs), n)
    keys = jax.random.split(jax.random.PRNGKey(int(p["seed"])), len(cohs) * n)
    batch = trial_batch(net, n_steps, dt, t_on=t_on, t_stim=t_stim, mu0=float(p["mu0"]), sigma=float(p["sigma"]))
    compiled = batch.lower(state0, cs, keys).compile()
    t0 = time.perf_counter()
    counts = jax.block_until_ready(compiled(state0, cs, keys))
    batch_s = time.perf_counter() - t0
    rates = {}
    for k in "ABNI":
        ts, rates[k] = window_rates(counts[k], sizes[k], dt, window=float(p["window"]))
    choice, rt, und = decide(ts, rates["A"], rates["B"], t_on=t_on, t_off=t_off, threshold=float(p["threshold"]))
    i_end = int(np.argmin(np.abs(ts - t_off)))
    shape = (len(cohs), n)
    ch, rt, un = (np.asarray(x).reshape(shape) for x in (choice, rt, und))
    rA, rB, rI = (np.asarray(rates[k][:, i_end]).reshape(shape) for k in "ABI")
    st = [_stats(ch[i], rt[i], un[i], rA[i], rB[i], c) for i, c in enumerate(cohs)]
    pre = int(round(t_on / dt))
    # spontaneous rates: the recorded warm-up and the pre-stimulus period of every trial
    cnt = {k: np.asarray(counts[k][:, :pre], np.float64).sum() + warm.spike_count(f"pop.{k}.spike") for k in "ABNI"}
    span = (len(cohs) * n * t_on + float(p["warmup"]) - _TRANSIENT) / 1000.0
    n_e = sizes["A"] + sizes["B"] + sizes["N"]
    spont = [(cnt["A"] + cnt["B"] + cnt["N"]) / (n_e * span), cnt["I"] / (sizes["I"] * span)]
    inh = [round(float(rI[i].mean()), 3) for i in range(len(cohs))]
    figs = choice_figures(st, cohs, n, p["psychometric"])
    figs["rate_inh_hz"] = inh if p["psychometric"] else inh[0]
    figs.update({"rate_spont_hz": [round(x, 3) for x in spont], "n_neurons": sum(sizes.values()),
                 "batch_trials": len(cohs) * n, "batch_s": round(batch_s, 3)})
    i_ex = int(np.argmin(np.abs(np.asarray(cohs) - float(p["coherence"]))))
    sl = slice(i_ex * n, i_ex * n + min(_N_EXAMPLES, n))
    data = {"ts": np.asarray(ts), "rA": np.asarray(rates["A"][sl]), "rB": np.asarray(rates["B"][sl]),
            "rI": np.asarray(rates["I"][sl]), "c_example": cohs[i_ex], "stats": st}
    return Report(figs, data)


def _plot(report, params):
    d = report.data
    fig, ax = decision_axes(report, params, "Wang 2002, ")
    for i in range(len(d["rA"])):
        ax.plot(d["ts"], d["rA"][i], color="C0", lw=0.7, label="A" if i == 0 else None)
        ax.plot(d["ts"], d["rB"][i], color="C3", lw=0.7, label="B" if i == 0 else None)
        ax.plot(d["ts"], d["rI"][i], color="0.5", lw=0.5, label="I" if i == 0 else None)
    ax.axvspan(params["t_on"], d["ts"][-1], color="0.92", zorder=-1)
    ax.set_ylabel("population rate, 50 ms window (Hz)")
    ax.legend(fontsize=8)
    return fig


ENTRIES = [
    Entry(
        name="decision-spiking",
        summary="Wang (2002) spiking decision network, 2000 LIF neurons with AMPA/NMDA/GABA_A: choice and "
                "reaction time (--set coherence=C --set trials=N); --set psychometric=1: psychometric curve",
        defaults=dict(coherence=25.6, trials=40, mu0=40.0, sigma=10.0, t_on=100.0, t_stim=2000.0, threshold=15.0,
                      window=50.0, warmup=1000.0, dt=0.1, scale=1.0, psychometric=False,
                      coherences=[0.0, 3.2, 6.4, 12.8, 25.6, 51.2], seed=0, quick=False),
        compute=_decision_spiking, plot=_plot,
    ),
]
