"""A 1000-compartment neuron, 1 s of simulated time: braindyn.compartments vs NEURON.

Two cells, each simulated by both simulators back to back in this process (the machine may be
loaded by other work: compare the ratio, not the absolute times):

* ``tree``: an HH soma, an HH axon (165 compartments) and a passive dendritic tree of
  3 primary dendrites that branch twice (21 sections, 834 compartments): 1000 compartments,
  branched (braindyn: Hines elimination as two ``lax.scan`` sweeps);
* ``axon``: an unbranched HH cable of 1000 compartments (braindyn: the tridiagonal LAPACK path).

Both at dt = 0.025 ms, backward Euler (NEURON's default ``secondorder = 0``), NEURON's ``hh``
with its rate tables off (``usetable_hh = 0``, the same equations; the time with tables on,
NEURON's default, is reported too), a constant current at the soma (repetitive firing). The
spike counts of the two simulators are printed as a check that both ran the same model.
braindyn's time excludes compilation (reported separately), float64 on the CPU.

Run: ``python benchmarks/compartments_vs_neuron.py [--duration MS] [--json]``.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import jax

jax.config.update("jax_enable_x64", True)


import braindyn as bd  # noqa: E402
from braindyn.compartments import CompartmentalNeuron, Morphology, Section  # noqa: E402
from braindyn.neurons import channels as ch  # noqa: E402

DT = 0.025
I_SOMA = 0.5  # nA


def tree_sections():
    secs = [("soma", 20.0, 20.0, None, 0.5, 1), ("axon", 1000.0, 1.0, "soma", 0.0, 165)]
    k = 0
    for p in range(3):
        secs.append((f"p{p}", 200.0, 3.0, "soma", 1.0, 40))
        for b in range(2):
            nb = f"p{p}b{b}"
            secs.append((nb, 150.0, 1.5, f"p{p}", 1.0, 40))
            for c in range(2):
                secs.append((f"{nb}c{c}", 100.0, 1.0, nb, 1.0, 40 if k % 2 == 0 else 39))
                k += 1
    return secs


def axon_sections():
    return [("soma", 5000.0, 2.0, None, 0.5, 1000)]


def braindyn_cell(secs):
    m = Morphology([Section(n, L, d, p, x, ns) for n, L, d, p, x, ns in secs])
    hh = {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)}
    chans = {}
    for n, *_ in secs:
        chans[n] = hh if n in ("soma", "axon") else {"L": ch.Leak(g=0.1, E=-65.0)}
    return CompartmentalNeuron(m, chans, Ra=100.0, spike_site=("soma", 0.5))


def run_braindyn(secs, duration):
    cell = braindyn_cell(secs)
    n_steps = int(round(duration / DT))
    st = cell.init_state()

    @jax.jit
    def go(state):
        fin, rec, _ = bd.simulate(cell, state, n_steps, DT, inputs={"I": I_SOMA}, record=lambda s: {"sp": s["spike"]})
        return fin, rec["sp"].sum()

    t0 = time.perf_counter()
    compiled = go.lower(st).compile()
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    fin, n_sp = jax.block_until_ready(compiled(st))
    return time.perf_counter() - t0, t_compile, int(n_sp), cell.n_comp


def run_neuron(secs, duration, usetable):
    from neuron import h

    h.load_file("stdrun.hoc")
    h.usetable_hh = 1 if usetable else 0
    h.secondorder = 0
    h.celsius = 6.3
    objs = {}
    for n, L, d, p, x, ns in secs:
        s = h.Section(name=n)
        s.L, s.diam, s.nseg, s.Ra = L, d, ns, 100.0
        if n in ("soma", "axon"):
            s.insert("hh")
        else:
            s.insert("pas")
            s.g_pas, s.e_pas = 1e-4, -65.0
        if p is not None:
            s.connect(objs[p](x))
        objs[n] = s
    ic = h.IClamp(objs["soma"](0.5))
    ic.delay, ic.dur, ic.amp = 0.0, 1e9, I_SOMA
    nc = h.NetCon(objs["soma"](0.5)._ref_v, None, sec=objs["soma"])
    nc.threshold = 0.0
    tv = h.Vector()
    nc.record(tv)
    h.dt = DT
    h.steps_per_ms = 1.0 / DT
    h.finitialize(-65.0)
    t0 = time.perf_counter()
    h.continuerun(duration)
    el = time.perf_counter() - t0
    ncomp = int(sum(s.nseg for s in objs.values()))
    del nc, ic, objs
    return el, len(tv), ncomp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"duration_ms": a.duration, "dt_ms": DT, "load_avg_1min": os.getloadavg()[0], "cpus": os.cpu_count(),
           "jax": jax.__version__}
    try:
        import neuron

        out["neuron"] = neuron.__version__
    except ImportError:
        neuron = None
    for name, secs in (("tree", tree_sections()), ("axon", axon_sections())):
        bt, bc, bs, nb = run_braindyn(secs, a.duration)
        row = {"compartments": nb, "braindyn_s": round(bt, 3), "braindyn_compile_s": round(bc, 2),
               "braindyn_spikes": bs}
        if neuron is not None:
            nt, ns, nn = run_neuron(secs, a.duration, usetable=False)
            nt2, ns2, _ = run_neuron(secs, a.duration, usetable=True)
            row.update({"neuron_s": round(nt, 3), "neuron_spikes": ns, "neuron_compartments": nn,
                        "neuron_tables_s": round(nt2, 3), "neuron_tables_spikes": ns2,
                        "ratio_braindyn_over_neuron": round(bt / nt, 2)})
        out[name] = row
    out["load_avg_1min_end"] = os.getloadavg()[0]
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
