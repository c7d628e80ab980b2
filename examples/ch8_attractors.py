"""Chapter 8: attractor networks -- Hopfield networks and continuous attractor networks (CANNs).

Run ``python examples/ch8_attractors.py [--short] [--out DIR]``. It

1. stores random patterns in an Amari--Hopfield network and recalls one from a cue with
   10 % of its bits flipped (asynchronous updates: the energy never increases);
2. builds the book's 1-D CANN, gives it a 10 ms input, and compares the bump that stays with
   the analytic solution;
3. runs every gallery entry of the chapter (``braindyn run NAME`` from the command line) and
   writes its figure to ``DIR`` (default ``ch8_figures``).

``--short`` uses the entries' quick modes (small networks, short runs): the suite runs it so.
"""
from __future__ import annotations

import argparse
import pathlib

import jax
import numpy as np

import braindyn as bd
from braindyn import gallery
from braindyn.models import CANN1D, Hopfield
from braindyn.models import hopfield as H

ENTRIES = ["hopfield", "hopfield-capacity", "hopfield-modern", "cann-1d", "cann-tracking", "cann-stp", "cann-sfa",
           "cann-2d"]
#: What --short changes besides the entries' ``quick`` flag (all but the first two have one).
SHORT = {"hopfield": {"n": 256}, "hopfield-capacity": {"alphas": [0.05, 0.3], "trials": 4},
         "hopfield-modern": {"n": 256, "patterns": 100}, "cann-1d": {"measure_kc": False}}


def hopfield_demo(n=784, patterns=10, flip=0.1, seed=0):
    """Store, corrupt, recall: returns the overlaps before and after, and the energy trace."""
    kx, kc, kr = jax.random.split(jax.random.PRNGKey(seed), 3)
    X = H.random_patterns(kx, patterns, n)
    net = Hopfield.store(X)
    cue = H.corrupt(kc, X[0], flip)
    rec = net.recall(cue, key=kr, sweeps=10)
    return float(H.overlap(X[0], cue)), float(H.overlap(X[0], rec.state)), np.asarray(rec.energy)


def cann_demo(n=512, k=8.1):
    """The book's protocol (input at 0 from 2 to 12 ms, then none): bump height vs analytic."""
    m = CANN1D(n=n, k=k)
    inp = m.stimulus_input([0.0], [0.0], t_on=2.0, t_off=12.0)
    res = bd.run(m, 62.0, 0.1, inputs=inp, record="u", record_every=5)
    U = res["u"][-1]
    return float(U.max()), m.analytic_bump()["u0"], float(m.decode(U))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="quick modes: small networks, short runs")
    ap.add_argument("--out", default="ch8_figures", help="folder for the figures")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    m0, m1, E = hopfield_demo(n=256 if args.short else 784)
    print(f"Hopfield: overlap {m0:.3f} -> {m1:.3f}, energy {E[0]:.1f} -> {E[-1]:.1f}")
    h, h_th, c = cann_demo(n=128 if args.short else 512)
    print(f"CANN: bump height {h:.5f} (analytic {h_th:.5f}), centre {c:.4f} rad")

    figures = {}
    for name in ENTRIES:
        over = dict(SHORT.get(name, {})) if args.short else {}
        if args.short and "quick" in gallery.get(name).defaults:
            over["quick"] = True
        rep = gallery.run_entry(name, over, plot=str(out / f"{name}.png"))
        figures[name] = rep.figures
        keys = [k for k in rep.figures if not isinstance(rep.figures[k], list)][:5]
        print(f"{name:18s} " + ", ".join(f"{k}={rep.figures[k]}" for k in keys))
    return figures


if __name__ == "__main__":
    main()
