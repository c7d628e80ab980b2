"""Training by back-propagation through time (BPTT) with optax, public API only.

Run ``python examples/train_bptt.py [--short]``. It

1. trains a recurrent rate network (a :class:`braindyn.Network` of 24 tanh
   :class:`~braindyn.neurons.RateUnit` with a dense recurrent :class:`SynapticProjection`)
   to integrate a step input more slowly than its units (target
   :math:`z(t) = a\\,(1 - e^{-t/\\tau_{target}})`, :math:`\\tau_{target} = 40` ms, units of
   10 ms) for three amplitudes :math:`a` at once (a mini-batch: ``jax.vmap`` over trials),
   with gradient checkpointing of the run and gradient clipping;
2. trains the same network with truncated BPTT (windows of 25 ms) and compares the losses;
3. trains a population of 20 LIF neurons with surrogate gradients (``FastSigmoid``) to fire
   at target rates from 5 to 50 Hz (:func:`braindyn.train.rate_loss`), learning each
   neuron's input gain.

``--short`` runs a few epochs of each (the suite runs it so). Returns a dict of the losses.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import braindyn as bd
from braindyn.synapses import Instant, SynapticProjection

DT = 1.0            # ms
T_STEPS = 150       # 150 ms per trial
AMPS = jnp.array([0.5, 1.0, 1.5])


def rate_network(n=24, seed=0):
    W = 0.5 * jax.random.normal(jax.random.PRNGKey(seed), (n, n)) / np.sqrt(n)
    return bd.Network({"R": bd.neurons.RateUnit(n=n, f="tanh", tau=10.0)},
                      {"RR": SynapticProjection("R", "R", W, 1.0, Instant(), signal="r")})


def integration_task(short):
    net = rate_network()
    n = net.populations["R"].n
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    params = {"net": bd.trainable(net, freeze=("gain", "theta", "r_max", "weight", "scale", "tau"))[0],
              "w_in": jax.random.normal(k1, (n,)) / np.sqrt(n), "w_out": jax.random.normal(k2, (n,)) / np.sqrt(n)}
    static = bd.trainable(net, freeze=("gain", "theta", "r_max", "weight", "scale", "tau"))[1]
    t = DT * (jnp.arange(T_STEPS) + 1)
    targets = AMPS[:, None] * (1 - jnp.exp(-t / 40.0))[None, :]

    def trial(p, a, **kw):
        m = bd.params.combine(p["net"], static)
        _, rec = bd.train.rollout(m, m.init_state(), T_STEPS, DT, inputs={"R": a * p["w_in"]},
                                  record=lambda s: {"z": s["pop"]["R"]["r"] @ p["w_out"]}, **kw)
        return rec["z"]

    def make_loss(**kw):
        return lambda p, a, y: bd.train.mse(jax.vmap(lambda ai: trial(p, ai, **kw))(a), y)

    epochs = 30 if short else 400
    results = {}
    for name, kw in (("checkpointed", {"checkpoint_every": 25}), ("truncated", {"truncate_every": 25})):
        p, hist = bd.train.fit(make_loss(**kw), params, optax.adam(1e-2), [(AMPS, targets)], epochs=epochs,
                               clip_norm=1.0)
        full = float(make_loss()(p, AMPS, targets))  # every method scored with the full loss
        results[name] = {"first_loss": hist["loss"][0], "final_loss": full}
        print(f"rate RNN, {name:12s} BPTT: loss {hist['loss'][0]:.4f} -> {full:.5f} ({epochs} epochs)")
    return results


def rate_targets_task(short):
    n = 20
    target_hz = jnp.linspace(5.0, 50.0, n)
    lif = bd.neurons.LIF(n=n, V_rest=0.0, V_reset=0.0, V_th=1.0, tau=20.0, t_ref=2.0,
                         spike_fn=bd.surrogate.FastSigmoid(0.3))
    params = {"gain": jnp.full((n,), 1.2)}
    steps = 1000  # 1 s at 1 ms

    def loss(p):
        _, rec = bd.train.rollout(lif, lif.init_state(), steps, DT, inputs=p["gain"], record="spike",
                                  checkpoint_every=100)
        return bd.train.rate_loss(rec["spike"], target_hz, DT) / 100.0

    epochs = 20 if short else 300
    p, hist = bd.train.fit(loss, params, optax.adam(0.05), [()], epochs=epochs)
    _, rec = bd.train.rollout(lif, lif.init_state(), steps, DT, inputs=p["gain"], record="spike")
    rates = np.asarray(rec["spike"].sum(0)) / (steps * DT / 1000.0)
    err = float(np.mean(np.abs(rates - np.asarray(target_hz))))
    print(f"LIF rates: loss {hist['loss'][0]:.2f} -> {hist['loss'][-1]:.3f}; mean |rate - target| = {err:.2f} Hz")
    return {"first_loss": hist["loss"][0], "final_loss": hist["loss"][-1], "mean_abs_rate_error_hz": err}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="a few epochs (CI)")
    args = ap.parse_args(argv)
    out = integration_task(args.short)
    out["lif_rates"] = rate_targets_task(args.short)
    return out


if __name__ == "__main__":
    main()
