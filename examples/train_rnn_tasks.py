"""Training rate RNNs on cognitive tasks, then finding their fixed points (issue 10, the courses).

Run ``python examples/train_rnn_tasks.py [--task decision|context|working-memory] [--short] [--out DIR]``.

1. builds the course's continuous-time rate RNN with recurrent noise
   (:class:`braindyn.models.RateRNN`: tau 100 ms, dt 20 ms, alpha = dt/tau = 0.2);
2. trains it with BPTT (:func:`braindyn.train.train_step`, Adam, gradient clipping) on fresh
   batches of a task from :mod:`braindyn.train.tasks` (input noise sigma = 1);
3. measures the held-out accuracy per coherence;
4. finds the slow and fixed points of the trained network at the input of the integration
   epoch (:func:`braindyn.analysis.find_slow_points`, Sussillo & Barak 2013) and draws the
   held-out trajectories and the points in the plane of the first two principal components.

``--short``: a tiny network and a few iterations (the suite runs it so); the accuracy is then
near chance. The full run reaches >= 95 % at coherences >= 12.8 % (``braindyn run rnn-decision``).
"""
from __future__ import annotations

import argparse
import pathlib

import jax
import numpy as np
import optax

import braindyn as bd
from braindyn.models import RateRNN, run_trials
from braindyn.train import tasks

TASKS = {"decision": (tasks.perceptual_decision, 3, [1.0, 0.5, 0.5]),
         "context": (tasks.context_decision, 7, [1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5]),
         "working-memory": (tasks.delayed_match_to_sample, 3, [1.0, 0.0, 0.0])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="decision", choices=sorted(TASKS))
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--out", default="train_rnn_figures")
    args = ap.parse_args(argv)
    make, n_in, u_analysis = TASKS[args.task]
    n, iters, batch = (16, 10, 16) if args.short else (64, 600, 64)
    dt = 20.0
    kw = {} if not args.short else ({"t_delay": 200.0} if args.task == "working-memory" else {"t_stimulus": 200.0})

    rnn = RateRNN.init(jax.random.PRNGKey(0), n=n, n_in=n_in, n_out=3, tau=100.0, sigma_rec=0.05)
    params, static = bd.params.trainable(rnn, freeze=("tau", "sigma_rec"))

    def loss_fn(p, u, target, mask, key):
        _, z = run_trials(bd.params.combine(p, static), u, dt, key=key)
        return bd.train.cross_entropy(z, target, mask)

    opt = optax.adam(0.01)
    step = jax.jit(bd.train.train_step(loss_fn, opt, clip_norm=1.0))
    state = opt.init(params)
    rng = np.random.default_rng(0)
    for it in range(iters):
        b = make(batch, dt=dt, seed=rng, **kw)
        params, state, loss = step(params, state, b.inputs, b.target, b.mask, jax.random.PRNGKey(it))
        if it % max(1, iters // 5) == 0:
            print(f"iteration {it:4d}  loss {float(loss):.4f}")
    model = bd.params.combine(params, static)

    test = make(200 if args.short else 1000, dt=dt, seed=1000, **kw)
    x, z = run_trials(model, test.inputs, dt, key=jax.random.PRNGKey(12345))
    ok = tasks.choices(z, test) == test.label
    print(f"held-out accuracy: {ok.mean():.3f}")
    if "coherence" in test.info:
        for c in np.unique(test.info["coherence"]):
            print(f"  coherence {100 * c:5.1f} %: {ok[test.info['coherence'] == c].mean():.3f}")

    x = np.asarray(x)
    a, b_ = test.info["epochs"]["delay" if args.task == "working-memory" else "stimulus"]
    visited = x[:, a:b_].reshape(-1, n)
    starts = visited[np.random.default_rng(0).choice(len(visited), 32, replace=False)]
    sp = bd.analysis.find_slow_points(model.as_vector_field(np.array(u_analysis)), starts,
                                      n_iter=200 if args.short else 3000, slow_tol=1e-6, dedup_tol=0.05)
    print(f"slow points: {len(sp.points)}, of which fixed: {int(sp.is_fixed.sum())}; "
          f"stability: {sorted(set(sp.stability))}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X = x.reshape(-1, n)
    mu = X.mean(0)
    pcs = np.linalg.svd(X - mu, full_matrices=False)[2][:2].T
    fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    for i in range(40):
        y = (x[i] - mu) @ pcs
        ax.plot(y[:, 0], y[:, 1], color="C0" if test.label[i] == 1 else "C3", lw=0.6)
    if len(sp.points):
        P = (sp.points - mu) @ pcs
        ax.plot(P[:, 0], P[:, 1], "ko", ms=4, label="slow/fixed points")
        ax.legend()
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    fig.savefig(out / f"rnn_{args.task}_pca.png", dpi=110)
    plt.close(fig)
    return {"accuracy": float(ok.mean()), "n_slow_points": len(sp.points)}


if __name__ == "__main__":
    main()
