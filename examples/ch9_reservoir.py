"""Chapter 9: reservoir computing -- echo state networks and a liquid state machine.

Run ``python examples/ch9_reservoir.py [--short] [--out DIR]``. It

1. checks the echo-state property of leaky tanh reservoirs: two runs driven by the same input
   from different initial states, for several spectral radii; the distance between them
   shrinks when :math:`\\rho(W) < 1` and does not when :math:`\\rho(W)` is well above 1
   (:math:`\\sigma_{max}(W) < 1` would guarantee the shrinking for any input);
2. fits a ridge readout of a 100-unit ESN to Jaeger's sine-power task by hand (public API only:
   :class:`braindyn.models.ESN`, :func:`braindyn.train.ridge`, :func:`braindyn.train.nrmse`);
3. runs the chapter's gallery entries (``braindyn run NAME`` from the command line) --
   ``esn-sine``, ``esn-lorenz``, ``esn-mackey-glass``, ``lsm`` -- and writes their figures to
   ``DIR`` (default ``ch9_figures``).

``--short`` uses the entries' quick modes (the suite runs it so). Returns a dict of the numbers.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

from braindyn import gallery
from braindyn.models import ESN, sigma_max, sine_power, spectral_radius
from braindyn.train import nrmse, ridge

ENTRIES = ["esn-sine", "esn-lorenz", "esn-mackey-glass", "lsm"]


def echo_state_property(radii=(0.5, 0.9, 1.5, 3.0), n=200, steps=300, seed=0):
    """Distance ratio |x_a(T) - x_b(T)| / |x_a(0) - x_b(0)| of two runs from random initial
    states under the same weak input, per spectral radius."""
    rng = np.random.default_rng(seed)
    u = 0.1 * np.sin(0.2 * np.arange(steps))[:, None]
    xa, xb = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    out = {}
    for rho in radii:
        esn = ESN.random(n, 1, spectral_radius=rho, density=0.1, seed=seed)
        Xa, Xb = np.asarray(esn.run(u, xa)), np.asarray(esn.run(u, xb))
        out[rho] = {"ratio": float(np.linalg.norm(Xa[-1] - Xb[-1]) / np.linalg.norm(xa - xb)),
                    "sigma_max": sigma_max(esn), "spectral_radius": spectral_radius(esn)}
    return out


def sine_power_by_hand(n=100, seed=0):
    """ESN on u = sin(n/5) -> 0.5 sin^7(n/5): ridge on 500 steps after a 100-step washout."""
    u, y = sine_power(1000)
    esn = ESN.random(n, 1, spectral_radius=0.8, seed=seed)
    X = np.asarray(esn.run(u[:, None]))
    ro = ridge(X[100:600], y[100:600], 1e-8)
    return nrmse(y[600:], np.asarray(ro(X[600:])))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="quick modes: small reservoirs, short series")
    ap.add_argument("--out", default="ch9_figures", help="folder for the figures")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"esp": echo_state_property(n=100 if args.short else 200)}
    print("echo-state property: distance ratio after 300 steps")
    for rho, d in result["esp"].items():
        print(f"  rho = {rho:4.1f} (sigma_max = {d['sigma_max']:.2f}): {d['ratio']:.2e}")
    result["sine_power_nrmse"] = sine_power_by_hand()
    print(f"sine power by hand: test NRMSE {result['sine_power_nrmse']:.2e}")
    for name in ENTRIES:
        rep = gallery.run_entry(name, {"quick": True} if args.short else {}, plot=str(out / f"{name}.png"))
        result[name] = rep.figures
        print(f"{name}: {rep.figures}")
    return result


if __name__ == "__main__":
    main()
