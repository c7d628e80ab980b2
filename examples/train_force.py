"""FORCE learning (Sussillo & Abbott 2009): a chaotic rate reservoir learns to produce a
periodic target through its fed-back readout, and keeps producing it after learning stops.

Run ``python examples/train_force.py [--short] [--plot FILE]``. It builds
:func:`braindyn.train.force_network` (``n`` tanh rate units, ``g = 1.5``: chaotic without
feedback; readout :math:`z = W^\\top r` fed back into the reservoir), gives it the target
:math:`f(t)` (a sum of four sines, period 240 ms) as the third factor of its :class:`FORCE`
rule (recursive least squares every 2 steps) through the run's inputs, and after ``T_train``
passes ``NaN`` instead (no teacher: the rule leaves the weights alone) -- all in one
:func:`braindyn.run`. It prints the readout's NRMSE (RMSE / std of the target) before
training, over the last two periods of training, and over the test phase, and the same
network with LMS (the rule the paper shows failing at this).

``--short``: 250 units, 6 s of training and 2 s of test (the suite runs it so); default 300
units, 10 s and 4 s. Returns a dict of the numbers.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import braindyn as bd
from braindyn.train import LMS, force_network, nrmse, sum_of_sines


def force_run(n=300, T_train=10000.0, T_test=4000.0, period=240.0, dt=0.5, seed=0, rule=None):
    """One run with learning then without; returns (ts, z, target, T_train, period)."""
    net = force_network(n, g=1.5, seed=seed, rule=rule)
    # the teacher, two steps ahead (the readout lags by two steps), switched off after T_train
    teacher = {"value": lambda t: sum_of_sines(t + 2 * dt, period), "on": lambda t: 1.0 * (t < T_train)}
    res = bd.run(net, T_train + T_test, dt=dt, inputs={"target": teacher}, record="pop.Z.z")
    ts = np.asarray(res.ts)
    return ts, np.asarray(res["pop.Z.z"])[:, 0], np.asarray(sum_of_sines(ts, period)), T_train, period


def errors(ts, z, f, T_train, period):
    """NRMSE in the first period, the last two periods of training, and the test phase."""
    pick = {"before": ts <= period, "train_end": (ts > T_train - 2 * period) & (ts <= T_train),
            "test": ts > T_train}
    return {k: nrmse(f[m], z[m]) for k, m in pick.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="250 units, 6 s training, 2 s test")
    ap.add_argument("--plot", default=None, help="write a figure of target and readout to this file")
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    n, T_train, T_test = (250, 6000.0, 2000.0) if args.short else (300, 10000.0, 4000.0)
    run = force_run(n, T_train, T_test)
    out = {"force": errors(*run)}
    lms = force_run(n, T_train, T_test, rule=LMS(eta=1e-3))
    out["lms"] = errors(*lms)
    for k, v in out.items():
        print(f"{k:5s}: NRMSE before {v['before']:.3f}, end of training {v['train_end']:.4f}, "
              f"after learning stopped {v['test']:.4f}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ts, z, f, T, P = run
        fig, ax = plt.subplots(3, 1, figsize=(9, 6), sharey=True)
        for a, (lo, title) in zip(ax, ((0.0, "start (chaotic, learning on)"), (T - 3 * P, "end of training"),
                                       (ts[-1] - 3 * P, "after learning stopped"))):
            m = (ts >= lo) & (ts <= lo + 3 * P)
            a.plot(ts[m], f[m], "k", lw=2, label="target f(t)")
            a.plot(ts[m], z[m], "C3--", lw=1.2, label="readout z(t)")
            a.set_title(title, fontsize=9)
        ax[0].legend(fontsize=8, loc="upper right")
        ax[-1].set_xlabel("t (ms)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    return out


if __name__ == "__main__":
    main()
