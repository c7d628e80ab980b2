r"""Losses and scores for training on a run's records.

All are pure JAX functions (jit/vmap/grad), averaged over every axis unless a ``mask`` is given.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from .._errors import BraindynError

__all__ = ["mse", "cross_entropy", "accuracy", "rate_loss"]


def mse(pred, target, mask=None):
    r"""Mean squared error :math:`\frac{1}{N}\sum_i m_i (y_i - \hat y_i)^2`, with :math:`N = \sum_i m_i`.

    ``pred`` and ``target`` broadcast together; ``mask`` (optional, 0/1, broadcastable) selects
    the entries that count (e.g. the response period of a task).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> float(mse(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
    2.0
    """
    err = (jnp.asarray(pred) - jnp.asarray(target)) ** 2
    if mask is None:
        return jnp.mean(err)
    m = jnp.broadcast_to(jnp.asarray(mask, err.dtype), err.shape)
    return jnp.sum(err * m) / jnp.maximum(jnp.sum(m), 1.0)


def _labels_to_onehot(logits, labels):
    labels = jnp.asarray(labels)
    if jnp.issubdtype(labels.dtype, jnp.integer):
        if labels.shape != logits.shape[:-1]:
            raise BraindynError(f"cross_entropy: integer labels of shape {labels.shape} do not match logits of shape "
                                f"{logits.shape} (expected labels of shape {logits.shape[:-1]}). Fix: one class "
                                f"index per row of logits.")
        return jax.nn.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    if labels.shape != logits.shape:
        raise BraindynError(f"cross_entropy: probability labels of shape {labels.shape} do not match logits of "
                            f"shape {logits.shape}. Fix: pass integer class indices or one-hot rows.")
    return labels.astype(logits.dtype)


def cross_entropy(logits, labels, mask=None):
    r"""Softmax cross-entropy :math:`-\frac1N\sum_n \sum_c y_{nc}\log\operatorname{softmax}(z_n)_c`.

    ``logits`` has classes on the last axis; ``labels`` are integer class indices (shape
    ``logits.shape[:-1]``) or probability rows (shape of ``logits``). ``mask`` (shape
    ``logits.shape[:-1]``) weights the rows.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> round(float(cross_entropy(jnp.zeros((1, 4)), jnp.array([2]))), 6)   # log 4
    1.386294
    """
    logits = jnp.asarray(logits)
    y = _labels_to_onehot(logits, labels)
    per_row = -jnp.sum(y * jax.nn.log_softmax(logits, axis=-1), axis=-1)
    if mask is None:
        return jnp.mean(per_row)
    m = jnp.broadcast_to(jnp.asarray(mask, per_row.dtype), per_row.shape)
    return jnp.sum(per_row * m) / jnp.maximum(jnp.sum(m), 1.0)


def accuracy(logits, labels, mask=None):
    r"""Fraction of rows whose largest logit is the label (integer indices or one-hot/probability rows).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> float(accuracy(jnp.array([[2.0, 1.0], [0.0, 3.0]]), jnp.array([0, 0])))
    0.5
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        labels = jnp.argmax(labels, axis=-1)
    hit = (jnp.argmax(logits, axis=-1) == labels).astype(logits.dtype if jnp.issubdtype(logits.dtype, jnp.floating)
                                                         else jnp.float32)
    if mask is None:
        return jnp.mean(hit)
    m = jnp.broadcast_to(jnp.asarray(mask, hit.dtype), hit.shape)
    return jnp.sum(hit * m) / jnp.maximum(jnp.sum(m), 1.0)


def rate_loss(spikes, target_rate_hz, dt, axis=0):
    r"""Squared error of firing rates: :math:`\frac1n\sum_i (r_i - r^*_i)^2` in Hz², with
    :math:`r_i = 1000 \sum_t s_{t,i} / (T\,\Delta t)` the rate of neuron :math:`i` over the
    ``T`` steps on ``axis`` (spikes as 0/1 floats, so their surrogate gradient flows).

    Parameters
    ----------
    spikes : array
        Spike record, time on ``axis`` (default 0), e.g. ``(T, n)``.
    target_rate_hz : float or array
        Target rate (Hz), broadcast against the rates (shape of ``spikes`` without ``axis``).
    dt : float
        Time step of the record (ms).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> s = jnp.zeros((1000, 2)).at[::100, 0].set(1.0)     # 10 spikes in 100 ms: 100 Hz
    >>> float(rate_loss(s, jnp.array([100.0, 0.0]), 0.1))
    0.0
    """
    spikes = jnp.asarray(spikes)
    T = spikes.shape[axis]
    rate = 1000.0 * jnp.sum(spikes, axis=axis) / (T * dt)
    return jnp.mean((rate - jnp.asarray(target_rate_hz, rate.dtype)) ** 2)
