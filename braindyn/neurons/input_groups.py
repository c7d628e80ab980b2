"""Input groups: populations that emit spikes without dynamics, to drive networks.

* :class:`PoissonGroup` -- independent Poisson trains, at constant rates or at a rate that
  is a function of time (inhomogeneous Poisson);
* :class:`SpikeTimeGroup` -- spikes at given times from given neurons.

Both are :class:`~braindyn.core.Dynamics`: state ``{"spike": (n,)}``, pure ``step``; they are
used as populations of a :class:`~braindyn.Network` or run alone with :func:`braindyn.run`
(record ``"spike"``).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Union

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .. import clock
from .._errors import BraindynError
from ..core import Dynamics, default_float
from ..params import param

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
        Rates (Hz, >= 0): a parameter (array leaf; a new rate does not recompile). A callable
        ``rate(t)`` (``t`` in ms, returning Hz, a scalar or ``(n,)``) gives an inhomogeneous
        Poisson group; it is structure (static; it must be hashable, e.g. a function), kept in
        ``rate_fn`` (``rate`` is then None).

    An input named ``"rate"`` (Hz; scalar or ``(n,)``; e.g. ``inputs={"stim": {"rate":
    bd.inputs.from_array(...)}}`` in a network) adds to the rate: a time-varying stimulus that is
    data, so trials with different stimuli are one ``jax.vmap``. The total rate is clipped at 0.

    Each step draws one uniform number per neuron by blocks of neurons
    (:func:`braindyn.clock.uniform`), from the group's own key.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.PoissonGroup(n=1000, rate=20.0), duration=1000.0, record="spike")
    >>> 18.0 < res.rate_hz() < 22.0
    True
    """

    n: int = eqx.field(static=True, default=1)
    rate: Optional[Any] = param(10.0, bound="nonnegative", unit="Hz", optional=True,
                                doc="firing rate of each train (None with rate_fn)")
    rate_fn: Optional[Callable] = eqx.field(static=True, default=None)

    def __init__(self, n: int = 1, rate: Union[float, Any, Callable] = 10.0):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise BraindynError(f"parameter 'n' of PoissonGroup must be a positive integer, got {n!r}. Fix: e.g. n=100.")
        self.n = n
        if callable(rate):
            self.rate, self.rate_fn = None, rate
        else:
            if rate is None:
                raise BraindynError("parameter 'rate' of PoissonGroup is None. Fix: pass a rate in Hz or a "
                                    "function of time, e.g. rate=10.0.")
            self.rate, self.rate_fn = rate, None

    def rate_at(self, t):
        """Rates (Hz, shape (n,)) at time ``t`` (ms)."""
        r = self.rate_fn(t) if self.rate_fn is not None else self.rate
        return jnp.broadcast_to(jnp.maximum(jnp.asarray(r), 0.0), (self.n,))

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"spike": jnp.zeros((self.n,), dtype or default_float())}

    def step(self, state, inputs, t, dt, key=None):
        if key is None:
            raise BraindynError("PoissonGroup.step needs a random key. Fix: pass key=jax.random.PRNGKey(0) "
                                "(braindyn.run does this for you).")
        dtype = state["spike"].dtype
        rate = self.rate_fn(t + 0.5 * dt) if self.rate_fn is not None else self.rate
        if isinstance(inputs, dict) and "rate" in inputs:
            rate = rate + jnp.asarray(inputs["rate"])
        p = jnp.broadcast_to(jnp.maximum(jnp.asarray(rate), 0.0), (self.n,)) * (dt / 1000.0)
        spike = (clock.uniform(key, self.n, dtype) < p).astype(dtype)
        return {"spike": spike}, {"spike": spike}


class SpikeTimeGroup(Dynamics):
    """Neurons that fire at given times.

    Neuron ``indices[k]`` fires at ``times[k]`` (ms): the spike is emitted by the step that
    contains the time, :math:`t \\le t_k < t + \\Delta t` (within :math:`10^{-4}\\Delta t`, for
    times written in decimal), so with ``time_label="start"`` a run reports ``times`` rounded
    down to the grid of steps. Each step compares all events (cost proportional to their number).

    Parameters
    ----------
    n : int
        Number of neurons.
    indices : sequence of int
        Neuron of each event (0 <= index < n); an integer array (structure of the events).
    times : sequence of float
        Time of each event (ms, >= 0): a parameter (float array leaf, one per event).

    The step compares the event times with its own time as differences
    (:class:`braindyn.clock.Time`), so events stay on the right step at any time of a long run.

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
    times: Any = param(None, bound="nonnegative", unit="ms", per_neuron=False, doc="time of each event")

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
        self.n = n
        self.indices = jnp.asarray(idx, jnp.int32)
        self.times = tt

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"spike": jnp.zeros((self.n,), dtype or default_float())}

    def step(self, state, inputs, t, dt, key=None):
        # the step [t, t + dt) holds t_k when -1e-4 dt <= t_k - t < (1 - 1e-4) dt (a tolerance of
        # 1e-4 steps for times written in decimal, like 0.3 ms at dt 0.1 ms)
        d = -(t - self.times)  # Time - array: exact near t
        hit = (d >= -1e-4 * dt) & (d < (1.0 - 1e-4) * dt)
        spike = jnp.zeros((self.n,), state["spike"].dtype).at[self.indices].max(hit.astype(state["spike"].dtype))
        return {"spike": spike}, {"spike": spike}
