"""Gallery entries of spiking networks: the book's E-I balance network and the COBA benchmark."""
from __future__ import annotations

import jax
import numpy as np

from .. import connect as bc
from .. import neurons
from ..network import Network
from ..run import run
from ..synapses import ConductanceOutput, Exponential, SynapticProjection
from . import Entry, Report

__all__ = ["ei_balance"]


def ei_balance(seed: int = 0, n_e: int = 3200, n_i: int = 800, p: float = 0.02, g_e: float = 0.3, g_i: float = 3.2,
               storage: str = "csr", dtype=None):
    r"""The book's E-I balance network (Vogels & Abbott 2005 style) and its initial state.

    ``n_e`` excitatory and ``n_i`` inhibitory LIF neurons (:math:`V_{rest} = V_{reset}` = -60,
    :math:`V_{th}` = -50 mV, :math:`\tau` = 20 ms, :math:`t_{ref}` = 5 ms,
    :math:`V_0 \sim N(-60, 4^2)`), all-pairs random connectivity with probability ``p``,
    conductance-based exponential synapses (E: ``g_e``, 5 ms, 0 mV; I: ``g_i``, 10 ms, -80 mV):

    .. math:: \tau \dot V = -(V - V_{rest}) + I_{ext} + \sum g (E - V)

    Returns ``(network, state0)``; drive both populations with ``inputs={"E": 12., "I": 12.}``.

    Example
    -------
    >>> net, st = ei_balance(n_e=80, n_i=20, p=0.2)
    >>> sorted(net.projections)
    ['EE', 'EI', 'IE', 'II']
    """
    lif = dict(V_rest=-60.0, V_reset=-60.0, V_th=-50.0, tau=20.0, t_ref=5.0)
    pops = {"E": neurons.LIF(n=n_e, **lif), "I": neurons.LIF(n=n_i, **lif)}
    projs = {}
    for k, (a, b) in enumerate([("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]):
        if storage == "procedural":
            conn = bc.ProceduralConn(pops[a].n, pops[b].n, p, seed=seed * 10 + k)
        else:
            conn = bc.fixed_prob(pops[a].n, pops[b].n, p, seed=seed * 10 + k)
        syn = Exponential(5.0) if a == "E" else Exponential(10.0)
        out = ConductanceOutput(E=0.0) if a == "E" else ConductanceOutput(E=-80.0)
        projs[a + b] = SynapticProjection(a, b, conn, g_e if a == "E" else g_i, syn, out)
    net = Network(pops, projs)
    key = jax.random.PRNGKey(seed)
    V0 = {name: {"V": -60.0 + 4.0 * jax.random.normal(jax.random.fold_in(key, 100 + i), (pops[name].n,))}
          for i, name in enumerate(("E", "I"))}
    return net, net.init_state(key=key, dtype=dtype, **V0)


def _raster_report(res, names, params, extra=None):
    figures, data = {}, {"ts": res.ts, "rasters": {}, "rates": {}}
    for name in names:
        key = f"pop.{name}.spike"
        t, i = res.spike_events(key)
        figures[f"rate_{name}_hz"] = round(res.rate_hz(key), 4)
        figures[f"spike_count_{name}"] = int(len(t))
        data["rasters"][name] = (t, i)
        # population rate in 5 ms bins
        bins = np.arange(res.t_start, res.t_end + 5.0, 5.0)
        n = res[key].n
        data["rates"][name] = (bins[:-1], np.histogram(t, bins)[0] / n / 0.005)
    figures["dt_ms"] = params.get("dt", res.dt)
    if extra:
        figures.update(extra)
    return Report(figures, data)


def _ei(p):
    net, st = ei_balance(seed=p["seed"], n_e=p["n_e"], n_i=p["n_i"], p=p["p"], g_e=p["g_e"], g_i=p["g_i"],
                         storage=p["storage"])
    res = run(net, p["duration"], p["dt"], state0=st, inputs={"E": p["I_ext"], "I": p["I_ext"]},
              record=["pop.E.spike", "pop.I.spike"], key=p["seed"])
    return _raster_report(res, ("E", "I"), p)


def _coba(p):
    from ..models.benchmarks import build

    net, st, inputs = build("coba", p["n"], seed=p["seed"])
    res = run(net, p["duration"], p["dt"], state0=st, inputs=inputs, record=["pop.E.spike", "pop.I.spike"],
              key=p["seed"])
    rep = _raster_report(res, ("E", "I"), p)
    n_e, n_i = net.populations["E"].n, net.populations["I"].n
    rep.figures["rate_hz"] = round((rep.figures["rate_E_hz"] * n_e + rep.figures["rate_I_hz"] * n_i) / (n_e + n_i), 4)
    rep.figures["spike_count"] = rep.figures["spike_count_E"] + rep.figures["spike_count_I"]
    return rep


def _plot(report, params, title):
    import matplotlib.pyplot as plt

    d = report.data
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    offset = 0
    for k, (name, (t, i)) in enumerate(d["rasters"].items()):
        show = i < 400
        ax1.plot(t[show], i[show] + offset, ",", color=f"C{k}", label=name)
        offset += 400
        bt, rate = d["rates"][name]
        ax2.plot(bt, rate, color=f"C{k}", lw=1, label=name)
    ax1.set_ylabel("neuron (first 400)")
    ax1.set_title(title + "  " + ", ".join(f"{k}: {v}" for k, v in report.figures.items() if k.startswith("rate")))
    ax2.set_ylabel("rate (Hz)")
    ax2.set_xlabel("t (ms)")
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


ENTRIES = [
    Entry(
        name="ei-balance",
        summary="E-I balanced network: 3200 E + 800 I LIF, COBA exponential synapses, I_ext 12 (raster, rates)",
        defaults=dict(duration=200.0, dt=0.1, seed=0, n_e=3200, n_i=800, p=0.02, g_e=0.3, g_i=3.2, I_ext=12.0,
                      storage="csr"),
        compute=_ei,
        plot=lambda r, p: _plot(r, p, "E-I balance"),
        choices={"storage": ["csr", "procedural"]},
    ),
    Entry(
        name="coba",
        summary="COBA benchmark network (Brette et al. 2007): 3200 E + 800 I LIF, conductance-based synapses "
                "(raster, rates)",
        defaults=dict(duration=200.0, dt=0.1, seed=1, n=4000),
        compute=_coba,
        plot=lambda r, p: _plot(r, p, "COBA benchmark"),
    ),
]
