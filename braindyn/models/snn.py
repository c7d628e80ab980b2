r"""Trainable spiking networks built from braindyn neurons (surrogate-gradient training).

* :class:`LIFClassifier`: the three-layer feed-forward LIF network (input spikes, a hidden
  LIF layer, an output LIF layer):

  .. math::
      \tau \dot V^{(1)} = -V^{(1)} + W_1 s^{in}(t), \qquad
      \tau \dot V^{(2)} = -V^{(2)} + W_2 s^{(1)}(t),

  with :math:`s = H(V - V_{th})` (surrogate gradient of the neurons' ``spike_fn``) and reset to
  0. The output is the membrane :math:`V^{(2)}` (the logits at each step) and its spikes.
* :class:`AdaptiveRSNN`: a recurrent network of GIF neurons (:class:`braindyn.neurons.GIF`)
  whose spike-triggered current :math:`I_2` (increment :math:`A_2 < 0`, decay
  :math:`k_2 = 1/\tau_a`) is a slow adaptation, the LSNN idea of Bellec et al. (2018), with a
  leaky read-out of the filtered spikes
  :math:`\tau_{out}\dot y = -y + \tau_{out}\sum_k\delta(t - t_k)`, :math:`z = W_{out} y + b_{out}`.

Both are :class:`braindyn.Dynamics` (``init_state``/``step``), so :func:`braindyn.simulate`
runs them and ``jax.grad`` differentiates through the run; :func:`run_batch` runs a batch of
input sequences.
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..core import Dynamics
from ..neurons import GIF, LIF
from ..params import param
from ..surrogate import FastSigmoid

__all__ = ["LIFClassifier", "AdaptiveRSNN", "run_batch"]


def _w(doc):
    return param(None, per_neuron=False, unit="1", doc=doc)


def _key(key):
    return jax.random.PRNGKey(key) if isinstance(key, int) else key


class LIFClassifier(Dynamics):
    r"""Three-layer LIF network (see the module docstring).

    Parameters
    ----------
    n_in : int
        Input channels (static).
    hidden, output : LIF
        The two LIF layers (their ``n`` are the layer sizes; ``V_th`` 1, ``V_reset`` 0, ``R`` 1).
    W1 : array (n_hidden, n_in), W2 : array (n_out, n_hidden)
        Weights (units of V per input spike held over a step).

    The step input is the input spike vector (or ``{"u": ...}``); the outputs are the output
    layer's ``V`` and ``spike``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> net = LIFClassifier.init(0, n_in=4, n_hidden=8, n_out=2)
    >>> s, out = net.step(net.init_state(), jnp.ones(4), 0.0, 1.0)
    >>> sorted(out), out["V"].shape
    (['V', 'spike'], (2,))
    """

    hidden: LIF
    output: LIF
    W1: Any = _w("input-to-hidden weights (n_hidden, n_in)")
    W2: Any = _w("hidden-to-output weights (n_out, n_hidden)")
    n_in: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        for name, shp in (("W1", (self.hidden.n, self.n_in)), ("W2", (self.output.n, self.hidden.n))):
            v = getattr(self, name)
            if v is None or tuple(np.shape(v)) != shp:
                raise BraindynError(f"parameter {name!r} of LIFClassifier must have shape {shp}, got "
                                    f"{None if v is None else tuple(np.shape(v))}. Fix: use LIFClassifier.init.")

    @classmethod
    def example(cls) -> "LIFClassifier":
        """A small classifier (3 inputs, 4 hidden, 2 outputs) for the component harness."""
        return cls.init(jax.random.PRNGKey(0), 3, 4, 2)

    @classmethod
    def init(cls, key, n_in: int, n_hidden: int, n_out: int, *, tau: float = 10.0, tau_out: float = 10.0,
             scale: float = 5.0, width: float = 0.5) -> "LIFClassifier":
        r"""Random weights :math:`W_1 \sim \mathcal N(0, s^2/n_{in})`, :math:`W_2 \sim \mathcal N(0, s^2/n_h)`
        (``scale`` :math:`s`); LIF layers with ``V_th`` 1, ``V_reset`` 0, no refractory period,
        time constants ``tau``, ``tau_out`` (ms) and a fast-sigmoid surrogate of ``width``."""
        k1, k2 = jax.random.split(_key(key))
        lif = dict(V_rest=0.0, V_reset=0.0, V_th=1.0, R=1.0, t_ref=0.0, spike_fn=FastSigmoid(width))
        return cls(hidden=LIF(n=n_hidden, tau=tau, **lif), output=LIF(n=n_out, tau=tau_out, **lif),
                   W1=scale * jax.random.normal(k1, (n_hidden, n_in)) / np.sqrt(n_in),
                   W2=scale * jax.random.normal(k2, (n_out, n_hidden)) / np.sqrt(n_hidden), n_in=n_in)

    def init_state(self, *, key=None, dtype=None, **initial):
        return {"h": self.hidden.init_state(dtype=dtype), "o": self.output.init_state(dtype=dtype)}

    def step(self, state, inputs, t, dt, key=None):
        s_in = inputs.get("u", inputs.get("s")) if isinstance(inputs, dict) else inputs
        dtype = state["h"]["V"].dtype
        s_in = jnp.asarray(s_in, dtype)
        s_in = jnp.broadcast_to(s_in, (self.W1.shape[1],)) if s_in.ndim == 0 else s_in  # a scalar drives every input
        h, _ = self.hidden.step(state["h"], {"I": self.W1.astype(dtype) @ s_in}, t, dt)
        o, _ = self.output.step(state["o"], {"I": self.W2.astype(dtype) @ h["spike"]}, t, dt)
        return {"h": h, "o": o}, {"V": o["V"], "spike": o["spike"]}


class AdaptiveRSNN(Dynamics):
    r"""Recurrent network of adaptive GIF neurons with a leaky linear read-out (see the module docstring).

    Input to neuron :math:`i`: :math:`I_i = \sum_j W^{in}_{ij} u_j + \sum_{j \ne i} W^{rec}_{ij} s_j(t - \Delta t)`.

    Parameters
    ----------
    neurons : GIF
        The population (``A2 < 0`` on the adaptive neurons, ``k2 = 1/tau_a``).
    W_in (n, n_in), W_rec (n, n), W_out (n_out, n), b_out (n_out) : arrays
    tau_out : float
        Read-out time constant (ms).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> net = AdaptiveRSNN.init(0, n_in=3, n=10, n_out=3)
    >>> s, out = net.step(net.init_state(), jnp.ones(3), 0.0, 1.0)
    >>> out["z"].shape
    (3,)
    """

    neurons: GIF
    W_in: Any = _w("input weights (n, n_in)")
    W_rec: Any = _w("recurrent weights (n, n); the diagonal is not used")
    W_out: Any = _w("read-out weights (n_out, n)")
    b_out: Any = _w("read-out bias (n_out,)")
    tau_out: Any = param(20.0, bound="positive", unit="ms", per_neuron=False, doc="read-out time constant")
    n_in: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        n = self.neurons.n
        for name, shp in (("W_in", (n, self.n_in)), ("W_rec", (n, n)), ("W_out", (np.shape(self.b_out)[0], n))):
            v = getattr(self, name)
            if v is None or tuple(np.shape(v)) != shp:
                raise BraindynError(f"parameter {name!r} of AdaptiveRSNN must have shape {shp}, got "
                                    f"{None if v is None else tuple(np.shape(v))}. Fix: use AdaptiveRSNN.init.")

    @classmethod
    def example(cls) -> "AdaptiveRSNN":
        """A small network (2 inputs, 4 neurons, 1 output) for the component harness."""
        return cls.init(jax.random.PRNGKey(0), 2, 4, 1)

    @classmethod
    def init(cls, key, n_in: int, n: int, n_out: int, *, frac_adaptive: float = 0.5, tau: float = 20.0,
             tau_a: float = 1000.0, beta: float = 0.05, tau_out: float = 20.0, scale_in: float = 1.0,
             scale_rec: float = 0.5, width: float = 0.5, detach_reset: bool = True) -> "AdaptiveRSNN":
        r"""A network with ``frac_adaptive`` of its neurons adaptive: GIF with :math:`V_{rest} = V_{reset} = 0`,
        :math:`\Theta_\infty = 1`, :math:`R = 1`, membrane ``tau`` (ms), adaptation :math:`A_2 = -\beta`
        (units of the input), :math:`k_2 = 1/\tau_a`; random weights of scales ``scale_in/sqrt(n_in)``,
        ``scale_rec/sqrt(n)``; a small random read-out. ``detach_reset=False`` lets the surrogate
        gradient flow through the spike into the reset and the adaptation jump (across the delay)."""
        k1, k2, k3 = jax.random.split(_key(key), 3)
        n_ad = int(round(frac_adaptive * n))
        A2 = jnp.concatenate([jnp.full(n_ad, -beta), jnp.zeros(n - n_ad)])
        gif = GIF(n=n, V_rest=0.0, V_reset=0.0, theta_inf=1.0, theta_reset=1.0, R=1.0, tau=tau, a=0.0, b=0.01,
                  k1=0.2, k2=1.0 / tau_a, R1=0.0, R2=1.0, A1=0.0, A2=A2, t_ref=0.0, spike_fn=FastSigmoid(width),
                  detach_reset=detach_reset)
        return cls(neurons=gif, W_in=scale_in * jax.random.normal(k1, (n, n_in)) / np.sqrt(n_in),
                   W_rec=scale_rec * jax.random.normal(k2, (n, n)) / np.sqrt(n),
                   W_out=0.1 * jax.random.normal(k3, (n_out, n)) / np.sqrt(n), b_out=jnp.zeros(n_out),
                   tau_out=tau_out, n_in=n_in)

    def init_state(self, *, key=None, dtype=None, **initial):
        s = self.neurons.init_state(dtype=dtype)
        return {"neurons": s, "y": jnp.zeros_like(s["V"])}

    def step(self, state, inputs, t, dt, key=None):
        u = inputs.get("u") if isinstance(inputs, dict) else inputs
        s = state["neurons"]
        dtype = s["V"].dtype
        W_rec = self.W_rec.astype(dtype) * (1.0 - jnp.eye(self.neurons.n, dtype=dtype))
        u = jnp.asarray(u, dtype)
        u = jnp.broadcast_to(u, (self.W_in.shape[1],)) if u.ndim == 0 else u  # a scalar drives every input
        I = self.W_in.astype(dtype) @ u + W_rec @ s["spike"]
        s_new, _ = self.neurons.step(s, {"I": I}, t, dt)
        decay = jnp.exp(-jnp.asarray(dt, dtype) / self.tau_out)
        y = (decay * state["y"] + s_new["spike"]).astype(dtype)
        z = self.W_out.astype(dtype) @ y + self.b_out.astype(dtype)
        return {"neurons": s_new, "y": y}, {"z": z, "spike": s_new["spike"]}


def run_batch(model, seqs, dt: float, record):
    r"""Run ``model`` on a batch of input sequences ``seqs`` (batch, steps, n_in) with
    :func:`braindyn.simulate` (one ``vmap``, differentiable). ``record(state)`` says what to keep
    (e.g. ``lambda s: s["o"]["V"]``); returns it with shape (batch, steps, ...).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> net = LIFClassifier.init(0, n_in=4, n_hidden=8, n_out=2)
    >>> run_batch(net, jnp.ones((3, 5, 4)), 1.0, lambda s: s["o"]["V"]).shape
    (3, 5, 2)
    """
    from ..inputs import from_array
    from ..run import simulate

    seqs = jnp.asarray(seqs)
    dtype = seqs.dtype if jnp.issubdtype(seqs.dtype, jnp.floating) else jnp.float32
    s0 = model.init_state(dtype=dtype)
    T = seqs.shape[1]

    def one(x):
        # the recorder flattens nested dicts to dotted labels: record a flat tuple of leaves instead
        leaves = []

        def rec_fn(s):
            out, tree = jax.tree.flatten(record(s))
            leaves[:] = [tree]
            return {str(i): v for i, v in enumerate(out)}

        _, rec, _ = simulate(model, s0, T, dt, inputs={"u": from_array(x, dt)}, record=rec_fn)
        return jax.tree.unflatten(leaves[0], [rec[str(i)] for i in range(len(rec))])

    return jax.vmap(one)(seqs)
