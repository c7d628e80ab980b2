"""Online gradients: RTRL against BPTT, and e-prop on a recurrent spiking network.

Run ``python examples/train_online.py [--short]``. It

1. computes the gradient of a small recurrent rate network (8 tanh units, 60 steps) by
   real-time recurrent learning (:func:`braindyn.train.rtrl`, forward sensitivities) and by
   BPTT (``jax.grad`` of :func:`braindyn.train.rollout`) and prints their largest relative
   difference;
2. compares the e-prop gradient (:func:`braindyn.train.eprop_grad`) of a recurrent LIF network
   with a leaky read-out with the BPTT gradient of the same loss (cosine similarity, per weight
   matrix, for several recurrent weight scales; exact when the recurrent weights are zero), for
   LIF neurons and (without ``--short``) adaptive GIF neurons;
3. trains that network with e-prop (Adam on the e-prop gradient) to produce two sine waves from
   frozen Poisson-like input spikes and prints the loss before and after.

``--short``: fewer trials and epochs (the suite runs it so). Returns a dict of the numbers.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import braindyn as bd
from braindyn.synapses import Instant, SynapticProjection


def rtrl_vs_bptt(n=8, T=60, dt=1.0):
    W = 0.9 * jax.random.normal(jax.random.PRNGKey(2), (n, n)) / np.sqrt(n)
    net = bd.Network({"R": bd.neurons.RateUnit(n=n, f="tanh", tau=5.0)},
                     {"RR": SynapticProjection("R", "R", W, 1.0, Instant(), signal="r")})
    params, static = bd.trainable(net, freeze=("gain", "theta", "r_max", "weight", "scale"))
    drive = lambda k: jnp.sin(0.2 * k + jnp.arange(n))  # noqa: E731  input at step k
    target = jnp.cos(0.1 * jnp.arange(T))
    xs = {"t": dt * jnp.arange(T), "I": jax.vmap(drive)(jnp.arange(T))}

    def step(p, s, x):
        return bd.params.combine(p, static).step(s, {"R": x["I"]}, x["t"], dt)[0]

    def loss_t(p, s, y):
        return (s["pop"]["R"]["r"][0] - y) ** 2

    L, g_rtrl, _ = jax.jit(lambda p: bd.train.rtrl(step, loss_t, p, net.init_state(), xs, target))(params)

    def bptt(p):
        m = bd.params.combine(p, static)
        _, rec = bd.train.rollout(m, m.init_state(), T, dt, inputs={"R": lambda t: drive(jnp.round(t / dt))},
                                  record="pop.R.r")
        return jnp.sum((rec["pop.R.r"][:, 0] - target) ** 2)

    g_bptt = jax.grad(bptt)(params)
    rel = max(float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))
              for a, b in zip(jax.tree.leaves(g_rtrl), jax.tree.leaves(g_bptt)))
    print(f"RTRL vs BPTT ({n} units, {T} steps, {jnp.zeros(()).dtype}): largest relative difference {rel:.2e}")
    return rel


def eprop_problem(n=40, n_in=10, T=300, seed=0, neuron="LIF"):
    key = jax.random.PRNGKey(seed)
    xs = (jax.random.uniform(key, (T, n_in)) < 0.05).astype(jnp.zeros(()).dtype)
    t = jnp.arange(T)
    targets = jnp.stack([jnp.sin(2 * jnp.pi * t / 150), jnp.sin(2 * jnp.pi * t / 75)], 1)
    if neuron == "LIF":
        pop = bd.neurons.LIF(n=n, V_rest=0.0, V_reset=0.0, V_th=1.0, tau=20.0, t_ref=2.0,
                             spike_fn=bd.surrogate.PiecewiseLinear(0.5))
    else:  # adaptive (ALIF-like): GIF with a slow spike-triggered hyperpolarising current I2
        pop = bd.neurons.GIF(n=n, V_rest=0.0, V_reset=0.0, theta_inf=1.0, theta_reset=1.0, R=1.0, tau=20.0, a=0.0,
                             b=0.01, k1=0.2, k2=1 / 200.0, R1=0.0, R2=1.0, A1=0.0, A2=-0.3, t_ref=0.0,
                             spike_fn=bd.surrogate.FastSigmoid(0.5))
    return pop, xs, targets


def mse(y, t):
    return 0.5 * jnp.sum((y - t) ** 2)


def eprop_vs_bptt(short, neuron="LIF"):
    lif, xs, targets = eprop_problem(neuron=neuron)
    n, n_in = lif.n, xs.shape[1]
    both = jax.jit(lambda W: (bd.train.eprop_grad(lif, W, xs, targets, 1.0, mse)[1],
                              jax.grad(lambda W: bd.train.rsnn_loss(lif, W, xs, targets, 1.0, mse)[0])(W)))
    cos = lambda a, b: float(jnp.vdot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))  # noqa: E731
    out = {}
    for scale in ((0.0, 1.0) if short else (0.0, 0.5, 1.0, 1.5, 2.0)):
        sims = {"W_in": [], "W_rec": []}
        for seed in range(2 if short else 10):
            W = bd.train.init_rsnn_weights(seed, n_in, n, 2, scale_in=8.0, scale_rec=scale)
            g, gb = both(W)
            for k in sims:
                if scale > 0 or k == "W_in":
                    sims[k].append(cos(g[k], gb[k]))
        out[scale] = {k: (float(np.mean(v)), float(np.min(v))) for k, v in sims.items() if v}
        txt = ", ".join(f"{k}: mean {m:.3f} (min {lo:.3f})" for k, (m, lo) in out[scale].items())
        print(f"e-prop vs BPTT, {neuron}, recurrent scale {scale}: cosine {txt}")
    return out


def train_with_eprop(short):
    lif, xs, targets = eprop_problem()
    W = bd.train.init_rsnn_weights(0, xs.shape[1], lif.n, 2, scale_in=8.0, scale_rec=1.0)
    opt = optax.adam(5e-3)
    state = opt.init(W)
    grad = jax.jit(lambda W: bd.train.eprop_grad(lif, W, xs, targets, 1.0, mse))
    losses = []
    for _ in range(15 if short else 300):
        E, g = grad(W)
        losses.append(float(E))
        upd, state = opt.update(g, state, W)
        W = optax.apply_updates(W, upd)
        W["W_rec"] = W["W_rec"] * (1 - jnp.eye(lif.n))
    losses.append(float(grad(W)[0]))
    print(f"e-prop training: loss {losses[0]:.2f} -> {losses[-1]:.2f} ({len(losses) - 1} updates)")
    return {"first_loss": losses[0], "final_loss": losses[-1]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="fewer trials and epochs (CI)")
    args = ap.parse_args(argv)
    out = {"rtrl_rel_diff": rtrl_vs_bptt(), "eprop_cosine": eprop_vs_bptt(args.short)}
    if not args.short:
        out["eprop_cosine_adaptive"] = eprop_vs_bptt(False, "GIF")
    out["eprop_training"] = train_with_eprop(args.short)
    return out


if __name__ == "__main__":
    main()
