"""Chapter 6: excitatory-inhibitory balance -- rate and spiking networks, plastic inhibition.

Run ``python examples/ch6_ei_balance.py [--short] [--out DIR]``. It

1. builds the course's rate E-I network (K inputs per unit, J ~ 1/sqrt(K), drive ~ sqrt(K))
   and compares its rates with the balanced state of van Vreeswijk & Sompolinsky (the linear
   balance equations) and with the exact finite-K fixed point;
2. balances feedforward excitation with plastic inhibition (Vogels et al. 2011, rate form)
   and checks that the postsynaptic rate reaches the rule's target rho0;
3. runs every gallery entry of the chapter (``braindyn run NAME`` from the command line:
   the rate network, the spiking network's linear response and step tracking, plastic
   inhibition) and writes its figure to ``DIR`` (default ``ch6_figures``).

``--short`` uses the entries' quick modes (small networks, short runs): the suite runs it so.
"""
from __future__ import annotations

import argparse
import pathlib

import jax.numpy as jnp

import braindyn as bd
from braindyn import gallery
from braindyn.models import balanced_rates, ei_rate_network, plastic_inhibition_network

ENTRIES = ["ei-balance-rate", "ei-linear-response", "ei-tracking", "ei-plastic-inhibition"]


def rate_demo(K=100, duration=200.0):
    """The rate network with K_E = K, K_I = K/4: simulated rates vs the two predictions."""
    j, I = [[0.2, -1.6], [0.2, -1.44]], [0.2, 0.16]
    net, scale = ei_rate_network(n_e=4 * K, n_i=K, K_E=K, K_I=K // 4, j=j)
    res = bd.run(net, duration, inputs={"E": scale * I[0], "I": scale * I[1]},
                 record={"rE": lambda s: jnp.mean(s["pop"]["E"]["r"]), "rI": lambda s: jnp.mean(s["pop"]["I"]["r"])})
    simulated = (float(res["rE"][-1]), float(res["rI"][-1]))
    return simulated, balanced_rates(j, I, K, K // 4), balanced_rates(j, I, K, K // 4, finite=False)


def plastic_demo(rho0=5.0):
    """Rate-form inhibitory plasticity: the postsynaptic rates before and after learning."""
    net = plastic_inhibition_network(n_post=20, form="rate", w_inh=0.05, eta=1e-5, rho0=rho0)
    res = bd.run(net, 500.0, record={"y": lambda s: jnp.mean(s["pop"]["post"]["r"])})
    return float(res["y"][49]), float(res["y"][-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="quick modes: small networks, short runs")
    ap.add_argument("--out", default="ch6_figures", help="folder for the figures")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    sim, finite, infinite = rate_demo(K=100 if args.short else 400)
    print(f"rate network: r_E, r_I = {sim[0]:.4f}, {sim[1]:.4f}; finite-K fixed point {finite[0]:.4f}, "
          f"{finite[1]:.4f}; balanced state {infinite[0]:.4f}, {infinite[1]:.4f}")
    y0, y1 = plastic_demo()
    print(f"plastic inhibition (rate form): postsynaptic rate {y0:.2f} -> {y1:.4f} (target 5)")

    figures = {}
    for name in ENTRIES:
        over = {"quick": True} if args.short else {}
        rep = gallery.run_entry(name, over, plot=str(out / f"{name}.png"))
        figures[name] = rep.figures
        keys = [k for k in rep.figures if not isinstance(rep.figures[k], list)][:5]
        print(f"{name:22s} " + ", ".join(f"{k}={rep.figures[k]}" for k in keys))
    return figures


if __name__ == "__main__":
    main()
