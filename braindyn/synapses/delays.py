r"""Transmission delays stored in ring buffers.

Convention. A presynaptic spike emitted during step :math:`m` is *sent* at step :math:`n = m + 1`
(synapses see the previous step's spikes). With a delay of :math:`d` steps it *arrives* at step
:math:`n + d` exactly: :math:`d = 0` is the undelayed projection.

* :class:`HomogeneousDelay` — one delay for every synapse: a ring buffer of the last :math:`d`
  presynaptic spike vectors (memory :math:`d \times n_{pre}`), read and overwritten at a moving
  pointer, so each step costs :math:`O(n_{pre})` whatever the delay.
* :class:`HeterogeneousDelay` — one delay per synapse: on the *postsynaptic* side, a buffer of
  :math:`D = \max d` future steps of summed input (memory :math:`D \times n_{post}`). A spike adds
  its weights into slot :math:`d_k` of its targets (event-driven: the scatter is the propagation
  itself, through a connectivity whose target index is :math:`d_k n_{post} + i_k`), and each
  step the buffer shifts by one slot. Only linear (postsynaptically aligned) kinetics can use it.

Delays are given in ms and converted with the projection's ``dt`` (rounded to whole steps).

Example
-------
>>> import jax.numpy as jnp
>>> dl = HomogeneousDelay(steps=2)
>>> st = dl.init_state(3, jnp.float32)
>>> outs = []
>>> for n in range(4):
...     st, out = dl(st, jnp.array([float(n == 0), 0.0, 0.0]))
...     outs.append(int(out[0]))
>>> outs
[0, 0, 1, 0]
"""
from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jax import lax

from .._errors import BraindynError

__all__ = ["HomogeneousDelay", "HeterogeneousDelay", "delay_steps"]


def delay_steps(delay, dt, owner="SynapticProjection"):
    """Delay (ms) -> whole number of steps, with a clear error for a bad value."""
    import numpy as np

    d = np.asarray(delay, float)
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise BraindynError(f"parameter 'delay' of {owner} must be finite and >= 0 ms, got {delay!r}. "
                            f"Fix: e.g. delay=1.5 (ms).")
    steps = np.round(d / dt)
    if np.any(np.abs(steps * dt - d) > 1e-6 * max(1.0, float(d.max(initial=0.0)))):
        raise BraindynError(f"delay {delay!r} ms of {owner} is not a whole number of steps of dt={dt} ms. "
                            f"Fix: use a multiple of dt, or set the projection's dt.")
    return steps.astype(np.int32)


class HomogeneousDelay(eqx.Module):
    r"""Ring buffer delaying a presynaptic vector by ``steps`` steps (``steps = 0``: no buffer):
    :math:`x^{out}_n = x^{in}_{n - d}`. ``steps`` is structure (static).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> dl = HomogeneousDelay(steps=1)
    >>> st = dl.init_state(2, jnp.float32)
    >>> st, a = dl(st, jnp.array([1.0, 2.0]))
    >>> st, b = dl(st, jnp.array([0.0, 0.0]))
    >>> a.tolist(), b.tolist()
    ([0.0, 0.0], [1.0, 2.0])
    """

    steps: int = eqx.field(static=True)

    def init_state(self, n, dtype):
        if self.steps == 0:
            return {}
        return {"buf": jnp.zeros((self.steps, n), dtype), "ptr": jnp.zeros((), jnp.int32)}

    def __call__(self, state, x):
        """Push ``x`` (sent now) and pop the vector sent ``steps`` steps ago."""
        if self.steps == 0:
            return state, x
        buf, p = state["buf"], state["ptr"]
        out = lax.dynamic_index_in_dim(buf, p, keepdims=False)
        buf = lax.dynamic_update_index_in_dim(buf, x.astype(buf.dtype), p, 0)
        p = jnp.where(p + 1 >= self.steps, 0, p + 1).astype(jnp.int32)
        return {"buf": buf, "ptr": p}, out


class HeterogeneousDelay(eqx.Module):
    r"""Postsynaptic buffer of future inputs for per-synapse delays (``max_steps`` >= 1):
    :math:`a_{i}(t_n) = \sum_{k:\, i_k = i} w_k\, x_{j_k}(t_{n - d_k})`.

    ``__call__(state, contrib)`` takes the ``(max_steps + 1, n_post)`` contributions of the spikes
    sent now (row ``d``: what arrives in ``d`` steps) and returns what arrives now.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> dl = HeterogeneousDelay(max_steps=2, n_post=1)
    >>> st = dl.init_state(1, jnp.float32)
    >>> st, now = dl(st, jnp.array([1.0, 0.0, 5.0]))      # 1 now, 5 in two steps
    >>> outs = [float(now[0])]
    >>> for _ in range(2):
    ...     st, now = dl(st, jnp.zeros(3))
    ...     outs.append(float(now[0]))
    >>> outs
    [1.0, 0.0, 5.0]
    """

    max_steps: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)

    def init_state(self, n, dtype):
        return {"buf": jnp.zeros((self.max_steps, self.n_post), dtype)}

    def __call__(self, state, contrib):
        buf = state["buf"]
        contrib = contrib.reshape(self.max_steps + 1, self.n_post).astype(buf.dtype)
        now = buf[0] + contrib[0]
        shifted = jnp.concatenate([buf[1:], jnp.zeros((1, self.n_post), buf.dtype)], axis=0)
        return {"buf": shifted + contrib[1:]}, now
