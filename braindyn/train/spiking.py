r"""Surrogate-gradient training of spiking networks: digit classification and a target rate pattern.

:func:`train_digits` trains :class:`braindyn.models.snn.LIFClassifier` on scikit-learn's 8x8
digits (:func:`braindyn.train.data.load_digits`): each image is Poisson-encoded
(:func:`braindyn.train.encoders.poisson_encode`, a fresh draw every epoch) over ``n_steps``
steps; the loss is the cross-entropy of the output membrane potentials averaged over the
steps, :math:`\mathcal L = \mathrm{CE}\big(\frac{g}{T}\sum_t V^{(2)}_t, y\big)` (gain :math:`g`); the prediction is
the class with the largest mean output potential.

:func:`fit_rate_pattern` trains the same network to make its output neurons fire at a
time-varying target rate :math:`r^*_i(t)` given a frozen Poisson input pattern: the loss is the
mean squared difference between the target and the output spikes filtered by a causal
exponential kernel (time constant ``tau_filter``), in Hz.
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError

__all__ = ["train_digits", "fit_rate_pattern", "filtered_rate"]


def _adam(lr):
    import optax

    return optax.adam(lr)


def train_digits(*, n_hidden: int = 256, n_steps: int = 20, dt: float = 1.0, max_rate: float = 500.0,
                 epochs: int = 60, batch: int = 64, lr: float = 5e-3, tau: float = 10.0, gain: float = 10.0,
                 seed: int = 0, test_fraction: float = 0.2, n_train: int | None = None, dtype=jnp.float32) -> dict:
    r"""Train the three-layer LIF network on the digits; returns a dict of results.

    Parameters
    ----------
    n_hidden : int
        Hidden LIF neurons.
    n_steps, dt : int, float
        Steps per image and step (ms).
    max_rate : float
        Poisson rate (Hz) of a white pixel.
    epochs, batch, lr : int, int, float
        Passes over the training set, mini-batch size, Adam learning rate.
    tau : float
        Membrane time constant of both layers (ms).
    gain : float
        Logits are ``gain`` times the mean output potential (the potential stays below the
        threshold 1, so without a gain the softmax could not become confident).
    seed : int
        Seed of the split, the initial weights, the batches and the encodings.
    n_train : int or None
        Use only the first ``n_train`` training images (tests).

    Returns
    -------
    dict with ``test_accuracy``, ``train_accuracy``, ``epochs``, ``train_s`` (wall time of the
    training loop, compilation included), ``losses`` (per epoch), ``model``.
    """
    from ..models.snn import LIFClassifier, run_batch
    from ..params import combine, trainable
    from . import cross_entropy, train_step
    from .data import load_digits
    from .encoders import poisson_encode

    d = load_digits(test_fraction, seed)
    xtr, ytr = (d.x_train, d.y_train) if n_train is None else (d.x_train[:n_train], d.y_train[:n_train])
    net = LIFClassifier.init(jax.random.PRNGKey(seed), 64, n_hidden, 10, tau=tau, tau_out=tau)
    net = jax.tree.map(lambda a: a.astype(dtype) if isinstance(a, jax.Array) and a.dtype.kind == "f" else a, net)
    params, static = trainable(net, freeze=("tau", "V_th", "V_reset", "V_rest", "R", "t_ref", "width", "V_init"))

    def logits(pr, x, key):
        m = combine(pr, static)
        s = poisson_encode(x, n_steps, dt=dt, max_rate=max_rate, key=key)       # (T, B, 64)
        V = run_batch(m, jnp.swapaxes(s, 0, 1), dt, lambda st: st["o"]["V"])    # (B, T, 10)
        return gain * V.mean(1)

    def loss_fn(pr, x, y, key):
        return cross_entropy(logits(pr, x, key), y)

    opt = _adam(lr)
    step = jax.jit(train_step(loss_fn, opt))
    pred = jax.jit(lambda pr, x, k: jnp.argmax(logits(pr, x, k), -1))
    opt_state = opt.init(params)
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed + 1)
    losses = []
    t0 = time.perf_counter()
    nb = max(1, len(xtr) // batch)
    for ep in range(epochs):
        perm = rng.permutation(len(xtr))
        tot = 0.0
        for i in range(nb):
            idx = perm[i * batch:(i + 1) * batch]
            params, opt_state, loss = step(params, opt_state, jnp.asarray(xtr[idx], dtype), jnp.asarray(ytr[idx]),
                                           jax.random.fold_in(key, ep * nb + i))
            tot += float(loss)
        losses.append(tot / nb)
    train_s = time.perf_counter() - t0
    kt = jax.random.PRNGKey(seed + 2)
    both = np.asarray(pred(params, jnp.asarray(np.concatenate([d.x_test, xtr]), dtype), kt))   # one compilation
    acc_te = float(np.mean(both[:len(d.y_test)] == d.y_test))
    acc_tr = float(np.mean(both[len(d.y_test):] == ytr))
    return {"test_accuracy": acc_te, "train_accuracy": acc_tr, "epochs": epochs, "train_s": train_s,
            "losses": losses, "model": combine(params, static), "n_test": len(d.y_test)}


def filtered_rate(spikes, dt: float, tau_filter: float):
    r"""Causal exponential filter of spike trains (time on axis 0) in Hz:
    :math:`r_{k} = e^{-\Delta t/\tau} r_{k-1} + \frac{1000}{\tau} s_k` (a spike adds 1000/τ Hz)."""
    decay = jnp.exp(-dt / tau_filter)

    def body(r, s):
        r = decay * r + (1000.0 / tau_filter) * s
        return r, r

    _, out = jax.lax.scan(body, jnp.zeros_like(spikes[0]), spikes)
    return out


def fit_rate_pattern(target_hz, *, dt: float = 1.0, n_in: int = 50, n_hidden: int = 64, in_rate: float = 20.0,
                     tau_filter: float = 30.0, iterations: int = 300, lr: float = 0.05, seed: int = 0,
                     dtype=jnp.float32) -> dict:
    r"""Train the three-layer LIF network so that its output neurons fire at ``target_hz``.

    Parameters
    ----------
    target_hz : array (T, n_out)
        Target rate of each output neuron at each step (Hz).
    dt : float
        Step (ms).
    n_in, in_rate : int, float
        A frozen input pattern of ``n_in`` Poisson trains at ``in_rate`` Hz (drawn once, seed ``seed``).
    tau_filter : float
        Time constant (ms) of the exponential filter of the output spikes (:func:`filtered_rate`).
    iterations, lr : int, float
        Adam iterations and learning rate.

    Returns
    -------
    dict with ``loss_initial``, ``loss_final`` (mean squared rate error, Hz²), ``rate`` (the
    filtered output rate after training, (T, n_out)), ``correlation`` (Pearson correlation
    between the flattened target and rate), ``losses``.

    Example
    -------
    >>> import numpy as np
    >>> t = np.arange(20.0)[:, None]
    >>> out = fit_rate_pattern(40 + 30 * np.sin(2 * np.pi * t / 20.0), n_in=5, n_hidden=4, iterations=1)
    >>> sorted(out)[:3]
    ['correlation', 'loss_final', 'loss_initial']
    """
    from ..models.snn import LIFClassifier, run_batch
    from ..params import combine, trainable
    from . import train_step
    from .encoders import poisson_encode

    tgt = jnp.asarray(target_hz, dtype)
    if tgt.ndim != 2:
        raise BraindynError(f"fit_rate_pattern: target_hz must have shape (steps, n_out), got {tgt.shape}.")
    T, n_out = tgt.shape
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    x = poisson_encode(jnp.ones(n_in, dtype), T, dt=dt, max_rate=in_rate, key=k1)
    net = LIFClassifier.init(k2, n_in, n_hidden, n_out, scale=10.0)
    net = jax.tree.map(lambda a: a.astype(dtype) if isinstance(a, jax.Array) and a.dtype.kind == "f" else a, net)
    params, static = trainable(net, freeze=("tau", "V_th", "V_reset", "V_rest", "R", "t_ref", "width", "V_init"))

    def rate(pr):
        s = run_batch(combine(pr, static), x[None], dt, lambda st: st["o"]["spike"])[0]
        return filtered_rate(s, dt, tau_filter)

    def loss_fn(pr):
        return jnp.mean((rate(pr) - tgt) ** 2)

    opt = _adam(lr)
    step = jax.jit(train_step(loss_fn, opt))
    opt_state = opt.init(params)
    losses = [float(jax.jit(loss_fn)(params))]
    for _ in range(iterations):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    r = np.asarray(jax.jit(rate)(params))
    final = float(np.mean((r - np.asarray(tgt)) ** 2))
    corr = float(np.corrcoef(r.ravel(), np.asarray(tgt).ravel())[0, 1]) if r.std() > 0 else 0.0
    return {"loss_initial": losses[0], "loss_final": final, "rate": r, "correlation": corr, "losses": losses}
