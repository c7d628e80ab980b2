"""Training spiking networks with surrogate gradients (issue 10, item 7).

Run ``python examples/train_snn.py [--short] [--out DIR]``. It

1. encodes one handwritten digit three ways (:func:`braindyn.train.poisson_encode`,
   :func:`braindyn.train.latency_encode`, and a row of pixels as a signal with
   :func:`braindyn.train.delta_encode`, rebuilt by :func:`braindyn.train.delta_decode`);
2. trains the three-layer LIF network (:class:`braindyn.models.LIFClassifier`) on
   scikit-learn's 8x8 digits (Poisson-encoded, surrogate gradients through the spikes;
   :func:`braindyn.train.train_digits`) and prints the held-out test accuracy;
3. trains the same network to fire at a time-varying target rate
   (:func:`braindyn.train.fit_rate_pattern`) and plots target and output rates.

Needs scikit-learn (``pip install braindyn[data]``). ``--short``: tiny sizes (the suite runs it
so). The full run reaches >= 95 % test accuracy (``braindyn run snn-digits``).
"""
from __future__ import annotations

import argparse
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import braindyn as bd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--out", default="train_snn_figures")
    args = ap.parse_args(argv)

    d = bd.train.load_digits(test_fraction=0.2, seed=0)
    img = jnp.asarray(d.x_train[0])
    poisson = bd.train.poisson_encode(img, 20, dt=1.0, max_rate=500.0, key=jax.random.PRNGKey(0))
    latency = bd.train.latency_encode(img, 20, dt=1.0, tau=5.0, threshold=0.05)
    row = jnp.asarray(d.x_train[:50, 27])                  # one pixel across 50 images, as a signal
    events = bd.train.delta_encode(row, 0.1)
    rebuilt = bd.train.delta_decode(events, 0.1, x0=row[0])
    print(f"digit {d.y_train[0]}: {int(poisson.sum())} Poisson spikes, {int(latency.sum())} latency spikes; "
          f"delta modulation: {int(jnp.abs(events).sum())} events, max error {float(jnp.abs(rebuilt - row).max()):.3f}")

    r = bd.train.train_digits(n_hidden=16 if args.short else 256, n_steps=5 if args.short else 20,
                              epochs=1 if args.short else 60, n_train=128 if args.short else None)
    print(f"digits: test accuracy {r['test_accuracy']:.3f} after {r['epochs']} epochs ({r['train_s']:.1f} s)")

    T = 100 if args.short else 300
    t = np.arange(T, dtype=float)[:, None]
    target = 40.0 + 30.0 * np.sin(2 * np.pi * t / 100.0 + np.array([[0.0, np.pi]]))
    fit = bd.train.fit_rate_pattern(target, n_in=30, n_hidden=32, iterations=5 if args.short else 300)
    print(f"rate pattern: mean squared error {fit['loss_initial']:.0f} -> {fit['loss_final']:.0f} Hz^2, "
          f"correlation {fit['correlation']:.2f}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.plot(target, "k--", lw=1)
    ax.plot(fit["rate"], lw=1)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("rate (Hz)")
    fig.savefig(out / "snn_rate_pattern.png", dpi=110)
    plt.close(fig)
    return {"test_accuracy": r["test_accuracy"], "rate_correlation": fit["correlation"]}


if __name__ == "__main__":
    main()
