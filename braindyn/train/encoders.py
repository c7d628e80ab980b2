r"""Spike encoders: turn analog data (pixel intensities, signals) into spike trains.

* :func:`poisson_encode` (rate coding): in each step of :math:`\Delta t` ms an input of
  intensity :math:`x \in [0, 1]` spikes with probability :math:`p = x\,r_{max}\,\Delta t/1000`
  (a Bernoulli approximation of a Poisson process of rate :math:`x\,r_{max}` Hz).
* :func:`latency_encode` (time-to-first-spike): one spike per input, at the time an RC circuit
  driven by :math:`x` reaches the threshold :math:`\theta`,
  :math:`t(x) = \tau \ln\frac{x}{x - \theta}` for :math:`x > \theta` (none otherwise): strong
  inputs spike early; or, with ``linear=True``, :math:`t(x) = (1 - x)\,t_{max}`.
* :func:`delta_encode` (delta modulation, as in event cameras and silicon cochleas): an ON
  (OFF) event each time the signal has risen (fallen) by ``threshold`` since the last event;
  :func:`delta_decode` rebuilds the signal to within ``threshold``.

Outputs are float arrays (0/1, or signed event counts), time on the first axis.

Example
-------
>>> import jax, jax.numpy as jnp
>>> s = poisson_encode(jnp.array([0.0, 1.0]), 1000, dt=1.0, max_rate=100.0, key=jax.random.PRNGKey(0))
>>> s.shape, float(s[:, 0].sum())
((1000, 2), 0.0)
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError

__all__ = ["poisson_encode", "latency_encode", "latency_time", "delta_encode", "delta_decode"]


def _n_steps(n_steps, owner):
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise BraindynError(f"{owner}: n_steps must be a positive integer, got {n_steps!r}. Fix: e.g. n_steps=100.")
    return int(n_steps)


def _pos(name, v, owner, unit):
    if not (isinstance(v, (int, float, np.floating, np.integer)) and v > 0 and np.isfinite(v)):
        raise BraindynError(f"{owner}: {name} must be a positive number ({unit}), got {v!r}.")


def poisson_encode(x, n_steps: int, *, dt: float = 1.0, max_rate: float = 100.0, key=None):
    r"""Rate coding: Bernoulli spikes with probability :math:`\min(1, x\,r_{max}\Delta t/1000)` per step.

    Parameters
    ----------
    x : array
        Intensities in [0, 1] (any shape; values are clipped to [0, 1]).
    n_steps : int
        Number of steps.
    dt : float
        Step (ms).
    max_rate : float
        Rate (Hz) of an input of intensity 1.
    key : PRNG key (required)

    Returns
    -------
    float array ``(n_steps, *x.shape)`` of 0/1.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> s = poisson_encode(jnp.full(2000, 0.5), 100, dt=1.0, max_rate=200.0, key=jax.random.PRNGKey(1))
    >>> abs(float(s.mean()) - 0.1) < 0.01       # 100 Hz x 1 ms
    True
    """
    n = _n_steps(n_steps, "poisson_encode")
    _pos("dt", dt, "poisson_encode", "ms")
    _pos("max_rate", max_rate, "poisson_encode", "Hz")
    if key is None:
        raise BraindynError("poisson_encode needs key=jax.random.PRNGKey(...) (spikes are random).")
    x = jnp.asarray(x)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    p = jnp.clip(jnp.clip(x.astype(dtype), 0.0, 1.0) * (max_rate * dt / 1000.0), 0.0, 1.0)
    u = jax.random.uniform(key, (n,) + x.shape, dtype)
    return (u < p).astype(dtype)


def latency_time(x, *, tau: float = 5.0, threshold: float = 0.01, linear: bool = False, t_max: float = 10.0):
    r"""First-spike time (ms) of :func:`latency_encode`: :math:`\tau \ln\frac{x}{x-\theta}` for
    :math:`x > \theta` (``inf`` otherwise), or :math:`(1 - x)\,t_{max}` with ``linear``."""
    x = np.asarray(x, float)
    if linear:
        return (1.0 - np.clip(x, 0.0, 1.0)) * t_max
    with np.errstate(divide="ignore", invalid="ignore"):
        t = tau * np.log(x / (x - threshold))
    return np.where(x > threshold, t, np.inf)


def latency_encode(x, n_steps: int, *, dt: float = 1.0, tau: float = 5.0, threshold: float = 0.01,
                   linear: bool = False):
    r"""Time-to-first-spike coding: one spike per input, in the step containing :math:`t(x)`.

    :math:`t(x) = \tau\ln\frac{x}{x - \theta}` is the time at which :math:`\tau \dot V = -V + x`,
    :math:`V(0) = 0`, reaches :math:`\theta` (so inputs :math:`x \le \theta` never spike);
    with ``linear=True``, :math:`t(x) = (1 - x)\,t_{max}` with :math:`t_{max} = (n_{steps} - 1)\Delta t`.
    The spike is in step :math:`\lfloor t/\Delta t \rfloor`; times beyond the last step give no spike.

    Parameters
    ----------
    x : array
        Intensities (any shape; >= 0; in [0, 1] for ``linear``).
    n_steps : int
    dt : float
        Step (ms).
    tau : float
        RC time constant (ms).
    threshold : float
        :math:`\theta` (units of x).
    linear : bool

    Example
    -------
    >>> s = latency_encode(jnp.array([1.0, 0.5, 0.0]), 20, dt=1.0, linear=True)
    >>> [int(i) for i in s.argmax(0)], float(s.sum())    # steps 0, 9 (= 0.5 * 19), 19
    ([0, 9, 19], 3.0)
    """
    n = _n_steps(n_steps, "latency_encode")
    _pos("dt", dt, "latency_encode", "ms")
    _pos("tau", tau, "latency_encode", "ms")
    _pos("threshold", threshold, "latency_encode", "units of x")
    x = jnp.asarray(x)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    x = x.astype(dtype)
    if linear:
        t = (1.0 - jnp.clip(x, 0.0, 1.0)) * ((n - 1) * dt)
    else:
        safe = jnp.where(x > threshold, x, 2.0 * threshold)
        t = jnp.where(x > threshold, tau * jnp.log(safe / (safe - threshold)), jnp.inf)
    k = jnp.where(jnp.isfinite(t), jnp.floor(t / dt + 1e-9), n)
    steps = jnp.arange(n, dtype=dtype).reshape((n,) + (1,) * x.ndim)
    return (steps == k[None]).astype(dtype)


def delta_encode(signal, threshold: float):
    r"""Delta modulation of a signal sampled on the first axis.

    A reference level :math:`r` starts at ``signal[0]``; at each later sample the event count is
    :math:`e_k = \operatorname{trunc}((x_k - r)/\theta)` (positive: ON events, negative: OFF)
    and :math:`r \leftarrow r + e_k\theta`. Hence :math:`|x_k - r_k| < \theta` at every sample,
    and :func:`delta_decode` rebuilds :math:`r_k` from the events.

    Parameters
    ----------
    signal : array (T, ...)
    threshold : float
        :math:`\theta` (units of the signal, > 0).

    Returns
    -------
    float array (T, ...) of signed event counts (``events[0] = 0``).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> e = delta_encode(jnp.array([0.0, 0.25, 0.55, 0.1]), 0.2)
    >>> e.tolist()
    [0.0, 1.0, 1.0, -1.0]
    """
    _pos("threshold", threshold, "delta_encode", "units of the signal")
    x = jnp.asarray(signal)
    if x.ndim < 1 or x.shape[0] < 1:
        raise BraindynError(f"delta_encode: signal must have time on its first axis, got shape {x.shape}.")
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    x = x.astype(dtype)

    def body(ref, xk):
        e = jnp.trunc((xk - ref) / threshold)
        return ref + e * threshold, e

    _, ev = jax.lax.scan(body, x[0], x[1:])
    return jnp.concatenate([jnp.zeros_like(x[:1]), ev], axis=0)


def delta_decode(events, threshold: float, x0=0.0):
    r"""The reference level of :func:`delta_encode`: :math:`r_k = x_0 + \theta\sum_{j \le k} e_j`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> [round(v, 6) for v in delta_decode(jnp.array([0.0, 1.0, 1.0, -1.0]), 0.2).tolist()]
    [0.0, 0.2, 0.4, 0.2]
    """
    _pos("threshold", threshold, "delta_decode", "units of the signal")
    ev = jnp.asarray(events)
    return jnp.asarray(x0, ev.dtype) + threshold * jnp.cumsum(ev, axis=0)
