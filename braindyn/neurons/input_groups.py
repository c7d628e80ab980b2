"""Input groups: populations that emit spikes without dynamics, to drive networks.

* :class:`PoissonGroup` -- independent Poisson trains, at constant rates or at a rate that
  is a function of time (inhomogeneous Poisson);
* :class:`SpikeTimeGroup` -- spikes at given times from given neurons.

Both are :class:`~braindyn.core.Dynamics`: state ``{"spike": (n,)}``, pure ``step``; they are
used as populations of a :class:`~braindyn.Network` or run alone with :func:`braindyn.run`
(record ``"spike"``).
"""
from __future__ import annotations

from typing import Any, Callable, Union

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_nonnegative, check_shape
from ..core import Dynamics, default_float

__all__ = ["PoissonGroup", "SpikeTimeGroup"]


class PoissonGroup(Dynamics):
    """``n`` independent Poisson spike trains.

    In the step from :math:`t` to :math:`t + \\Delta t` neuron :math:`i` fires with
    probability :math:`r_i(t + \\Delta t/2)\\,\\Delta t` (rate in Hz, :math:`\\Delta t` in ms
    divided by 1000), so the count in a window :math:`T` is Poisson with mean
    :math:`\\int_0^T r(t)\\,dt` as :math:`\\Delta t \\to 0` (binomial at finite :math:`\\Delta t`).

    Parameters
    ----------
    n : int
        Number of trains.
    rate : float, array of shape (n,), or callable
        Rates (Hz, >= 0). A callable ``rate(t)`` (``t`` in ms, returning Hz, a scalar or
        ``(n,)``) gives an inhomogeneous Poisson group; it must be hashable (a function).

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.PoissonGroup(n=1000, rate=20.0), duration=1000.0, record="spike")
    >>> 18.0 < res.rate_hz() < 22.0
    True
    """

    n: int = eqx.field(static=True, default=1)
    rate: Any = 10.0

    def __init__(self, n: int = 1, rate: Union[float, Any, Callable] = 10.0):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise BraindynError(f"parameter 'n' of PoissonGroup must be a positive integer, got {n!r}. Fix: e.g. n=100.")
        self.n = n
        if callable(rate):
            self.rate = _Static(rate)
        else:
            check_nonnegative("rate", rate, "PoissonGroup", "Hz")
            check_shape("rate", rate, ((), (n,)), "PoissonGroup")
            self.rate = rate

    def rate_at(self, t):
        """Rates (Hz, shape (n,)) at time ``t`` (ms)."""
        r = self.rate.fn(t) if isinstance(self.rate, _Static) else self.rate
        return jnp.broadcast_to(jnp.maximum(jnp.asarray(r), 0.0), (self.n,))

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"spike": jnp.zeros((self.n,), dtype or default_float())}

    def step(self, state, inputs, t, dt, key=None):
        if key is None:
            raise BraindynError("PoissonGroup.step needs a random key. Fix: pass key=jax.random.PRNGKey(0) "
                                "(braindyn.run does this for you).")
        p = self.rate_at(t + 0.5 * dt) * (dt / 1000.0)
        spike = (jax.random.uniform(key, (self.n,)) < p).astype(state["spike"].dtype)
        return {"spike": spike}, {"spike": spike}


class _Static(eqx.Module):
    fn: Callable = eqx.field(static=True)


class SpikeTimeGroup(Dynamics):
    """Neurons that fire at given times.

    Neuron ``indices[k]`` fires at ``times[k]`` (ms): the spike is emitted by the step that
    contains the time, :math:`t \\le t_k < t + \\Delta t` (steps start at multiples of
    :math:`\\Delta t`), so with ``time_label="start"`` a run reports ``times`` rounded down to
    the grid. Each step compares all events (cost proportional to their number).

    Parameters
    ----------
    n : int
        Number of neurons.
    indices : sequence of int
        Neuron of each event (0 <= index < n).
    times : sequence of float
        Time of each event (ms, >= 0).

    Example
    -------
    >>> import braindyn as bd
    >>> g = bd.neurons.SpikeTimeGroup(3, indices=[0, 2, 0], times=[1.0, 2.5, 4.0])
    >>> res = bd.run(g, duration=5.0, record="spike", time_label="start")
    >>> [round(float(x), 1) for x in res.spike_times(neuron=0)]
    [1.0, 4.0]
    """

    n: int = eqx.field(static=True, default=1)
    indices: Any = None
    times: Any = None

    def __init__(self, n: int, indices, times):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise BraindynError(f"parameter 'n' of SpikeTimeGroup must be a positive integer, got {n!r}.")
        idx = np.asarray(indices)
        tt = np.asarray(times, float)
        if idx.shape != tt.shape or idx.ndim != 1:
            raise BraindynError(
                f"SpikeTimeGroup: 'indices' (shape {idx.shape}) and 'times' (shape {tt.shape}) must be 1-D and of "
                f"the same length. Fix: one neuron index per spike time."
            )
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n):
            raise BraindynError(f"SpikeTimeGroup: 'indices' must be integers in [0, {n}), got {idx.tolist()[:10]}.")
        check_nonnegative("times", tt, "SpikeTimeGroup", "ms")
        self.n = n
        self.indices = jnp.asarray(idx, jnp.int32)
        self.times = jnp.asarray(tt)

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"spike": jnp.zeros((self.n,), dtype or default_float())}

    def step(self, state, inputs, t, dt, key=None):
        k_now = jnp.round(t / dt)
        hit = jnp.floor(self.times / dt + 1e-4) == k_now
        spike = jnp.zeros((self.n,), state["spike"].dtype).at[self.indices].max(hit.astype(state["spike"].dtype))
        return {"spike": spike}, {"spike": spike}
