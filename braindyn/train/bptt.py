r"""Gradient training (back-propagation through time) with optax: :func:`train_step` and :func:`fit`.

The pattern
-----------
1. **Parameters**: ``params, static = bd.trainable(model, freeze=(...))`` splits the model into
   its trainable float leaves and the rest (:mod:`braindyn.params`); ``bd.params.combine(p, static)``
   rebuilds it inside the loss. Any parameter (time constants, thresholds, weights of a
   projection) can be trained; integer/structural fields never are.
2. **A trial**: run the rebuilt model with :func:`~braindyn.train.rollout` (the values of
   :func:`braindyn.simulate`; ``checkpoint_every`` bounds the memory of long runs,
   ``truncate_every`` truncates the gradient) and return its records.
3. **A mini-batch**: ``jax.vmap`` of the trial over the trial axis of the batch (inputs,
   initial states, keys), then a loss of :mod:`braindyn.train.losses`.
4. **The loop**: :func:`fit` (or ``jax.jit(train_step(loss, optax.adam(...)))`` in your own loop),
   with ``clip_norm`` for exploding gradients.

The gradient is back-propagation through the ``lax.scan`` of the run:

.. math:: \frac{\partial L}{\partial\theta} = \sum_{t}\frac{\partial L}{\partial h_t}
          \frac{\partial h_t}{\partial\theta}\Big|_{\text{direct}}, \qquad
          \frac{\partial L}{\partial h_{t}} = \frac{\partial L_t}{\partial h_t}
          + \frac{\partial L}{\partial h_{t+1}}\frac{\partial h_{t+1}}{\partial h_t}.

Example (recover two membrane time constants from a batch of two trials):

>>> import jax, jax.numpy as jnp, optax, braindyn as bd
>>> def lif(tau):
...     return bd.neurons.LIF(n=2, tau=tau, V_th=1e3, V_rest=0.0, V_reset=0.0)
>>> params, static = bd.trainable(lif(jnp.array([8.0, 8.0])), freeze=("V_rest", "V_reset", "V_th", "R", "t_ref"))
>>> def trial(p, I):                                   # one trial: a run, its record
...     m = bd.params.combine(p, static)
...     _, rec = bd.train.rollout(m, m.init_state(), 100, 0.5, inputs=I, record="V", checkpoint_every=25)
...     return rec["V"]
>>> batch_trial = jax.vmap(trial, in_axes=(None, 0))   # a mini-batch: vmap over trials
>>> I = jnp.array([[2.0, 1.0], [4.0, 3.0]])
>>> target = batch_trial(bd.trainable(lif(jnp.array([12.0, 5.0])))[0], I)
>>> loss = lambda p, I, y: bd.train.mse(batch_trial(p, I), y)
>>> p, hist = bd.train.fit(loss, params, optax.adam(0.3), [(I, target)], epochs=150)
>>> [round(float(t), 1) for t in p.tau]
[12.0, 5.0]

Spiking neurons and surrogate gradients
---------------------------------------
A spike is a Heaviside step of the distance to threshold: its derivative is zero almost
everywhere. Every :class:`~braindyn.SpikingNeuron` computes its spike with ``spike_fn``, a
:mod:`braindyn.surrogate` (Heaviside forward, pseudo-derivative :math:`\rho(x/w)/w` backward):
``bd.neurons.LIF(spike_fn=bd.surrogate.FastSigmoid(1.0))``. The width :math:`w` (mV) matters
more than the shape (Zenke & Vogels 2021): about the distance the membrane moves in a few
steps; heavy tails (``FastSigmoid``, ``ArcTan``) keep silent networks learning, compact ones
(``PiecewiseLinear``, ``Rectangle``) give sparser gradients. Spikes recorded by
:func:`~braindyn.train.rollout`/:func:`~braindyn.simulate` stay floats, so their surrogate
gradient reaches a loss (:func:`~braindyn.train.losses.rate_loss`, spike counts as logits).

``detach_reset`` (a static field of every spiking neuron, default ``True``): the reset
:math:`V \leftarrow V - s\,(V - V_{reset})` sees the spike :math:`s` through
``stop_gradient``, so no gradient flows through the spike into the reset. Through the reset
the gradient is multiplied by the reset's Jacobian at every spike and tends to explode or to
cancel the useful term; detaching it is the recommendation of Zenke & Vogels (2021) and what
e-prop assumes (:mod:`braindyn.train.eprop`). ``detach_reset=False`` keeps the exact surrogate
gradient of the whole step (e.g. to compare with a reference implementation).
"""
from __future__ import annotations

from typing import Callable, Optional

import equinox as eqx
import jax
import numpy as np
import optax

from .._errors import BraindynError

__all__ = ["train_step", "fit"]


def train_step(loss_fn: Callable, optimizer, *, has_aux: bool = False, clip_norm: Optional[float] = None):
    r"""One optimisation step of ``loss_fn`` with an optax ``optimizer``: returns ``step``.

    ``step(params, opt_state, *batch) -> (params, opt_state, loss)`` (``(..., loss, aux)`` when
    ``has_aux``): the value and gradient of ``loss_fn(params, *batch)``, the gradient clipped to
    global norm ``clip_norm`` (``optax.clip_by_global_norm``:
    :math:`g \leftarrow g \min(1, c/\lVert g\rVert_2)`), then ``optimizer.update`` and
    ``optax.apply_updates``. ``opt_state`` is ``optimizer.init(params)`` (clipping keeps no state).
    ``step`` is pure: wrap it in ``jax.jit`` (or ``eqx.filter_jit`` when ``params`` holds
    non-array leaves); :func:`fit` does.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *batch)`` -> scalar loss, or ``(loss, aux)`` with ``has_aux=True``.
    optimizer : optax.GradientTransformation
        E.g. ``optax.adam(1e-2)``.
    has_aux : bool
        ``loss_fn`` returns ``(loss, aux)``; ``step`` then also returns ``aux``.
    clip_norm : float, optional
        Clip the gradient to this global L2 norm (> 0).

    Example
    -------
    >>> import jax, jax.numpy as jnp, optax
    >>> loss = lambda p, x, y: jnp.mean((p["w"] * x - y) ** 2)
    >>> opt = optax.sgd(0.1)
    >>> step = jax.jit(train_step(loss, opt, clip_norm=10.0))
    >>> p = {"w": jnp.array(0.0)}; s = opt.init(p)
    >>> for _ in range(50):
    ...     p, s, l = step(p, s, jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0]))
    >>> round(float(p["w"]), 4)
    2.0
    """
    if not callable(loss_fn):
        raise BraindynError(f"train_step: loss_fn must be a function loss_fn(params, *batch), got {loss_fn!r}.")
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise BraindynError(f"train_step: optimizer must be an optax GradientTransformation, got {optimizer!r}. "
                            f"Fix: e.g. optimizer=optax.adam(1e-2).")
    if clip_norm is not None and not (isinstance(clip_norm, (int, float)) and clip_norm > 0):
        raise BraindynError(f"train_step: clip_norm must be a positive number or None, got {clip_norm!r}. "
                            f"Fix: e.g. clip_norm=1.0.")
    clipper = optax.clip_by_global_norm(float(clip_norm)) if clip_norm is not None else None

    def step(params, opt_state, *batch):
        out, grads = jax.value_and_grad(loss_fn, has_aux=has_aux)(params, *batch)
        if clipper is not None:
            grads, _ = clipper.update(grads, clipper.init(params))
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if has_aux:
            loss, aux = out
            return params, opt_state, loss, aux
        return params, opt_state, out

    return step


def fit(loss_fn: Callable, params, optimizer, batches, *, epochs: int = 1, clip_norm: Optional[float] = None,
        has_aux: bool = False, callback: Optional[Callable] = None, opt_state=None):
    r"""Train ``params`` on ``batches`` for ``epochs`` epochs; returns ``(params, history)``.

    Each element of ``batches`` is a tuple ``batch`` passed as ``loss_fn(params, *batch)`` (a
    non-tuple element is passed as one argument). ``batches`` may be a sequence (re-iterated
    every epoch) or a function ``epoch -> iterable`` (e.g. a fresh shuffle per epoch). The step
    is :func:`train_step`, compiled once with ``eqx.filter_jit``.

    Parameters
    ----------
    loss_fn, optimizer, clip_norm, has_aux
        As in :func:`train_step`.
    params : PyTree
        Initial parameters (e.g. the first output of :func:`braindyn.params.trainable`).
    batches : sequence or callable
        The batches of one epoch, or ``epoch -> batches``.
    epochs : int
        Passes over the batches (>= 1).
    callback : callable, optional
        ``callback(epoch, params, history)`` after each epoch; returning ``True`` stops training.
    opt_state : optional
        Optimiser state to continue from (default ``optimizer.init(params)``).

    Returns
    -------
    ``(params, history)`` with ``history["loss"]`` (one float per step), ``history["epoch_loss"]``
    (mean per epoch), ``history["aux"]`` (per step, with ``has_aux``) and ``history["opt_state"]``
    (the final optimiser state).

    Example
    -------
    >>> import jax.numpy as jnp, optax
    >>> loss = lambda p, x, y: jnp.mean((p["w"] * x - y) ** 2)
    >>> data = [(jnp.array([1.0, 2.0]), jnp.array([3.0, 6.0]))]
    >>> p, hist = fit(loss, {"w": jnp.array(0.0)}, optax.adam(0.1), data, epochs=200)
    >>> round(float(p["w"]), 3), len(hist["loss"])
    (3.0, 200)
    """
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise BraindynError(f"fit: epochs must be a positive integer, got {epochs!r}. Fix: e.g. epochs=10.")
    step = eqx.filter_jit(train_step(loss_fn, optimizer, has_aux=has_aux, clip_norm=clip_norm))
    if opt_state is None:
        opt_state = optimizer.init(eqx.filter(params, eqx.is_array))
    history = {"loss": [], "epoch_loss": []}
    if has_aux:
        history["aux"] = []
    for epoch in range(epochs):
        source = batches(epoch) if callable(batches) else batches
        losses = []
        n = 0
        for batch in source:
            n += 1
            if not isinstance(batch, tuple):
                batch = (batch,)
            out = step(params, opt_state, *batch)
            params, opt_state, loss = out[:3]
            loss = float(loss)
            if not np.isfinite(loss):
                raise BraindynError(f"fit: the loss became {loss} at epoch {epoch}, step {n - 1}. Fix: lower the "
                                    f"learning rate, set clip_norm (e.g. clip_norm=1.0), or check the model's dt.")
            losses.append(loss)
            history["loss"].append(loss)
            if has_aux:
                history["aux"].append(jax.tree.map(np.asarray, out[3]))
        if n == 0:
            raise BraindynError("fit: batches is empty. Fix: pass a non-empty sequence of batches (tuples of arrays).")
        history["epoch_loss"].append(float(np.mean(losses)))
        history["opt_state"] = opt_state
        if callback is not None and callback(epoch, params, history) is True:
            break
    return params, history
