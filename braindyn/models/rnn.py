r"""The course's continuous-time rate RNN with noise (Song, Yang & Wang 2016).

.. math::
    \tau \frac{d\mathbf x}{dt} = -\mathbf x + W_{rec}\, f(\mathbf x) + W_{in}\,\mathbf u(t)
        + \mathbf b + \sqrt{2\tau}\,\sigma_{rec}\,\boldsymbol\xi(t), \qquad
    \mathbf z = W_{out}\, f(\mathbf x) + \mathbf b_{out}

discretised with Euler--Maruyama and :math:`\alpha = \Delta t/\tau`:

.. math::
    \mathbf x_{k+1} = (1 - \alpha)\,\mathbf x_k + \alpha\,\big(W_{rec} f(\mathbf x_k)
        + W_{in}\mathbf u_k + \mathbf b\big) + \sqrt{2\alpha}\,\sigma_{rec}\,\mathbf N(0, 1).

``x`` is the synaptic current of each unit, ``f(x)`` its rate (``"tanh"`` by default,
``"relu"`` or any name of :data:`braindyn.neurons.rate.TRANSFER_FUNCTIONS`). The weights
``W_rec`` (n, n), ``W_in`` (n, n_in), ``b`` (n), ``W_out`` (n_out, n), ``b_out`` (n_out) are
parameters (array leaves): ``bd.params.trainable(rnn)`` gives them to an optimiser. The
deterministic part is :meth:`RateRNN.vector_field`, so the slow- and fixed-point tools of
:mod:`braindyn.analysis` apply to a trained network directly (:meth:`RateRNN.as_vector_field`).
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Union

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..core import ODEModel
from ..neurons.rate import transfer
from ..params import param

__all__ = ["RateRNN", "run_trials"]


def _weights(default=None, unit="1", doc=""):
    return param(default, unit=unit, per_neuron=False, doc=doc)


class RateRNN(ODEModel):
    r"""Continuous-time rate RNN with recurrent noise, stepped with :math:`\alpha = \Delta t/\tau`.

    See the module docstring for the equations. The state is ``{"x": (n,)}``; the step input is
    ``{"u": (n_in,)}`` (or the array itself); the step output is ``{"r": f(x), "z": readout}``.

    Parameters
    ----------
    n, n_in, n_out : int
        Recurrent units, inputs and outputs (static).
    tau : float
        Time constant (ms, > 0): 100 (Song et al. 2016).
    sigma_rec : float
        Recurrent noise :math:`\sigma_{rec}` (dimensionless, >= 0): 0.05 (Yang et al. 2019).
    W_rec, W_in, b, W_out, b_out : arrays
        Weights (dimensionless); build random ones with :meth:`init`.
    f : str or callable
        Transfer function (static): ``"tanh"``.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> rnn = RateRNN.init(jax.random.PRNGKey(0), n=8, n_in=2, n_out=3, sigma_rec=0.0)
    >>> s, out = rnn.step(rnn.init_state(), {"u": jnp.ones(2)}, 0.0, 20.0)
    >>> bool(jnp.allclose(s["x"], 0.2 * (rnn.W_in @ jnp.ones(2) + rnn.b)))   # alpha = 20/100
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("x",)
    coupled: ClassVar[bool] = True
    membrane_var: ClassVar[str] = "x"
    n_in: int = eqx.field(static=True, default=1)
    n_out: int = eqx.field(static=True, default=1)
    method: Any = eqx.field(static=True, default="euler")
    f: Union[str, Callable] = eqx.field(static=True, default="tanh")
    tau: Any = param(100.0, bound="positive", unit="ms", doc="time constant")
    sigma_rec: Any = param(0.05, bound="nonnegative", unit="1", doc="recurrent noise")
    W_rec: Any = _weights(doc="recurrent weights (n, n)")
    W_in: Any = _weights(doc="input weights (n, n_in)")
    b: Any = _weights(doc="bias (n,)")
    W_out: Any = _weights(doc="readout weights (n_out, n)")
    b_out: Any = _weights(doc="readout bias (n_out,)")

    def __check_init__(self):
        transfer(self.f)
        shapes = {"W_rec": (self.n, self.n), "W_in": (self.n, self.n_in), "b": (self.n,),
                  "W_out": (self.n_out, self.n), "b_out": (self.n_out,)}
        for name, shp in shapes.items():
            v = getattr(self, name)
            if v is None or tuple(np.shape(v)) != shp:
                raise BraindynError(
                    f"parameter {name!r} of RateRNN must have shape {shp} (n={self.n}, n_in={self.n_in}, "
                    f"n_out={self.n_out}), got {None if v is None else tuple(np.shape(v))}. "
                    f"Fix: build the network with RateRNN.init(key, n=..., n_in=..., n_out=...).")

    @classmethod
    def example(cls) -> "RateRNN":
        """A small network (4 units, 2 inputs, 1 output) for the component harness."""
        return cls.init(jax.random.PRNGKey(0), 4, 2, 1)

    @classmethod
    def init(cls, key, n: int, n_in: int, n_out: int, *, g: float = 0.9, **kw) -> "RateRNN":
        r"""Random weights: :math:`W_{rec} \sim \mathcal N(0, g^2/n)` (gain ``g``),
        :math:`W_{in} \sim \mathcal N(0, 1/n_{in})`, :math:`W_{out} \sim \mathcal N(0, 1/n)`,
        zero biases. Other keywords (``tau``, ``sigma_rec``, ``f``) go to the constructor."""
        for name, v in (("n", n), ("n_in", n_in), ("n_out", n_out)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise BraindynError(f"RateRNN.init: {name} must be a positive integer, got {v!r}. Fix: e.g. {name}=64.")
        k1, k2, k3 = jax.random.split(jax.random.PRNGKey(key) if isinstance(key, int) else key, 3)
        return cls(n=int(n), n_in=int(n_in), n_out=int(n_out),
                   W_rec=g * jax.random.normal(k1, (n, n)) / np.sqrt(n),
                   W_in=jax.random.normal(k2, (n, n_in)) / np.sqrt(n_in), b=jnp.zeros(n),
                   W_out=jax.random.normal(k3, (n_out, n)) / np.sqrt(n), b_out=jnp.zeros(n_out), **kw)

    def initial(self):
        return {"x": 0.0}

    def rate(self, x):
        """:math:`f(x)`."""
        return transfer(self.f)(x)

    def readout(self, x):
        r""":math:`z = W_{out} f(x) + b_{out}`."""
        return self.rate(x) @ self.W_out.T + self.b_out

    def drive(self, x, u):
        r""":math:`W_{rec} f(x) + W_{in} u + b` (the target of the leak)."""
        return self.rate(x) @ self.W_rec.T + u @ self.W_in.T + self.b

    def vector_field(self, t, y, args):
        u = jnp.asarray(args.get("u", jnp.zeros(self.n_in)))
        u = jnp.broadcast_to(u, (self.n_in,)) if u.ndim == 0 else u
        return {"x": (-y["x"] + self.drive(y["x"], u)) / self.tau}

    def step(self, state, inputs, t, dt, key=None):
        u = inputs.get("u") if isinstance(inputs, dict) else inputs
        u = jnp.zeros(self.n_in, state["x"].dtype) if u is None else jnp.asarray(u, state["x"].dtype)
        u = jnp.broadcast_to(u, u.shape[:-1] + (self.n_in,) if u.ndim else (self.n_in,))  # a scalar drives every input
        x = state["x"]
        alpha = jnp.asarray(dt, x.dtype) / self.tau
        x_new = (1.0 - alpha) * x + alpha * self.drive(x, u)
        if key is not None:
            xi = jax.random.normal(key, x.shape, x.dtype)
            x_new = x_new + jnp.sqrt(2.0 * alpha) * self.sigma_rec * xi
        return {"x": x_new.astype(x.dtype)}, {"r": self.rate(x_new), "z": self.readout(x_new)}

    def as_vector_field(self, u=None):
        r"""The deterministic field :math:`F(x) = (-x + W_{rec} f(x) + W_{in} u + b)/\tau` at a
        constant input ``u`` (default 0) as a :class:`braindyn.analysis.VectorField`."""
        from ..analysis import vector_field

        u = jnp.zeros(self.n_in) if u is None else jnp.asarray(u)
        return vector_field(lambda x, p: self.vector_field(0.0, {"x": x}, {"u": u})["x"], self.n)


def run_trials(model: RateRNN, u, dt: float, *, key=None, x0=None):
    r"""Run a batch of trials with :func:`braindyn.simulate` (one ``vmap``; differentiable).

    Parameters
    ----------
    model : RateRNN
    u : array (batch, steps, n_in)
        Inputs of every step (step :math:`k` uses ``u[:, k]``).
    dt : float
        Step (ms); :math:`\alpha = \Delta t/\tau`.
    key : PRNG key or None
        Recurrent noise (None: no noise). Each trial gets its own key.
    x0 : array (n,) or None
        Initial state (default 0).

    Returns
    -------
    ``(x, z)``: states (batch, steps, n) and outputs (batch, steps, n_out) after every step.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> rnn = RateRNN.init(0, n=4, n_in=1, n_out=2)
    >>> x, z = run_trials(rnn, jnp.ones((3, 5, 1)), 20.0)
    >>> x.shape, z.shape
    ((3, 5, 4), (3, 5, 2))
    """
    from ..inputs import from_array
    from ..run import simulate

    u = jnp.asarray(u)
    if u.ndim != 3 or u.shape[-1] != model.n_in:
        raise BraindynError(f"run_trials: u must have shape (batch, steps, n_in={model.n_in}), got {u.shape}.")
    dtype = u.dtype if jnp.issubdtype(u.dtype, jnp.floating) else jnp.float32
    s0 = model.init_state(dtype=dtype)
    if x0 is not None:
        s0 = {"x": jnp.broadcast_to(jnp.asarray(x0, dtype), (model.n,))}
    B, T = u.shape[:2]
    keys = jax.random.split(key, B) if key is not None else None

    def one(ui, k):
        _, rec, _ = simulate(model, s0, T, dt, inputs={"u": from_array(ui, dt)}, key=k, record="x")
        return rec["x"]

    x = jax.vmap(one)(u, keys) if keys is not None else jax.vmap(lambda ui: one(ui, None))(u)
    return x, model.readout(x)
