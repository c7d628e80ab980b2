"""The model core: parameters in an immutable module, state in a separate PyTree, pure steps.

Every braindyn component is an :class:`equinox.Module` (a PyTree of parameters) with

* ``init_state(*, key=None, dtype=None, **initial) -> state`` — a dict of arrays;
* ``step(state, inputs, t, dt, key) -> (state, outputs)`` — pure, no global time.

Because nothing is hidden, ``jax.jit``, ``jax.vmap``, ``jax.grad`` and ``lax.scan`` apply to
models directly; a parameter sweep is a ``vmap`` over a constructor.

:class:`ODEModel` is the base of every model whose continuous part is a vector field
``vector_field(t, y, args)`` (``y`` a dict of the continuous variables, ``args`` the inputs);
:class:`SpikingNeuron` adds the spike, reset and refractory logic as composable pieces that
every spiking model shares. The order of one neuron step is documented on
:meth:`SpikingNeuron.step`.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Optional

import equinox as eqx
import jax
import jax.numpy as jnp

from . import integrators
from ._errors import BraindynError, check_choice, check_nonnegative, check_positive, check_shape
from .surrogate import Sigmoid, Surrogate

__all__ = ["Dynamics", "ODEModel", "SpikingNeuron", "as_inputs", "NEVER"]

#: Value of ``t_last`` (ms) for a neuron that has not fired yet (finite, so NaN checks stay exact).
NEVER = -1.0e7


def default_float():
    """The default floating dtype of JAX (float32, or float64 with ``jax_enable_x64``)."""
    return jnp.zeros(()).dtype if jnp.zeros(()).dtype.kind == "f" else jnp.float32


class Dynamics(eqx.Module):
    """Abstract base of everything that can be stepped in time.

    Subclasses implement :meth:`init_state` and :meth:`step`.
    """

    def init_state(self, *, key=None, dtype=None, **initial) -> dict:
        raise NotImplementedError

    def step(self, state, inputs, t, dt, key=None):
        """Advance ``state`` from time ``t`` to ``t + dt`` (ms). Returns ``(state, outputs)``."""
        raise NotImplementedError


def as_inputs(inputs, n: int, owner: str = "") -> dict:
    """Normalise the ``inputs`` argument of a step to a dict with at least the current ``"I"``.

    A scalar or an array of shape ``(n,)`` is the input current ``I``; a dict is passed through
    with ``I`` defaulting to 0. Shapes are checked against the population size.
    """
    if inputs is None:
        inputs = {}
    elif not isinstance(inputs, dict):
        inputs = {"I": inputs}
    out = dict(inputs)
    out.setdefault("I", 0.0)
    for k, v in out.items():
        check_shape(f"input {k!r}", v, ((), (1,), (n,)), owner)
    return out


class ODEModel(Dynamics):
    """Base of models with a continuous part ``dy/dt = f(t, y, args)`` (optionally with noise).

    Subclasses define the class attribute ``variables`` (names of the continuous state
    variables, in order), :meth:`initial` and :meth:`vector_field`.

    Common fields
    -------------
    n : int
        Number of units (neurons) in the population.
    method : str or Solver
        Integration method: any name of :data:`braindyn.integrators.ODE_METHODS`
        (``"exp_euler"``, ``"rk4"``, ``"euler"``, ...) or a solver object. With ``noise``, an SDE
        method (a name of :data:`braindyn.integrators.SDE_METHODS` such as ``"milstein"``, or
        an SDE solver object) integrates drift and noise together.
    noise : dict or None
        Additive white noise :math:`\\sigma_x \\xi(t)` per variable, ``{"V": sigma}`` with
        :math:`\\sigma` in (unit of x)/sqrt(ms). With an ODE ``method`` the noise is added by
        an Euler--Maruyama splitting after the deterministic step (strong order 1 for additive noise).
    """

    variables: ClassVar[tuple[str, ...]] = ()
    n: int = eqx.field(static=True, default=1)
    method: Any = eqx.field(static=True, default="exp_euler")
    noise: Optional[dict] = None

    def __check_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise BraindynError(
                f"parameter 'n' of {type(self).__name__} must be a positive integer (number of neurons), "
                f"got {self.n!r}. Fix: e.g. n=100."
            )
        if isinstance(self.method, str):
            names = sorted(integrators.ODE_METHODS)
            if self.noise is not None:
                names += sorted(integrators.SDE_METHODS)
            check_choice("integration method", self.method, names, type(self).__name__)
        if self.noise is not None:
            if not isinstance(self.noise, dict):
                raise BraindynError(
                    f"parameter 'noise' of {type(self).__name__} must be a dict {{variable: sigma}}, got "
                    f"{self.noise!r}. Fix: e.g. noise={{'V': 1.0}}."
                )
            for k, v in self.noise.items():
                check_choice("noisy variable", k, self.variables, type(self).__name__)
                check_nonnegative(f"noise[{k!r}]", v, type(self).__name__)

    # ---- to be defined by subclasses -------------------------------------------------
    def initial(self) -> dict:
        """Default initial values of the continuous variables (scalars or per-neuron arrays)."""
        raise NotImplementedError

    def vector_field(self, t, y, args):
        """``dy/dt`` as a dict with the keys of ``y``; ``args`` is the dict of inputs (``I`` ...)."""
        raise NotImplementedError

    # ---- shared machinery ----------------------------------------------------------------
    def init_state(self, *, key=None, dtype=None, **initial) -> dict:
        """Initial state: each variable from :meth:`initial`, overridden by keyword arguments.

        ``dtype`` (default: JAX's default float) fixes the floating type of the whole state.
        """
        dtype = dtype or default_float()
        init = dict(self.initial())
        for k in initial:
            check_choice("initial variable", k, self.variables, type(self).__name__)
        init.update(initial)
        state = {}
        for k in self.variables:
            v = init[k]
            check_shape(f"initial value of {k!r}", v, ((), (self.n,)), type(self).__name__)
            state[k] = jnp.broadcast_to(jnp.asarray(v, dtype), (self.n,))
        return state

    def solver(self):
        """The ODE solver of the drift (SDE solvers are handled in :meth:`integrate_continuous`)."""
        return integrators.get(self.method)

    def integrate_continuous(self, y, args, t, dt, key):
        """One step of the continuous part (drift by ``method``, plus noise if any)."""
        f = self.vector_field
        if self.noise is None:
            return self.solver()(f, t, y, dt, args)
        sig = {k: self.noise.get(k, 0.0) for k in y}
        if _is_sde_solver(self.method):
            sde = integrators.get_sde(self.method) if isinstance(self.method, str) else self.method
            g = lambda tt, yy, aa: {k: jnp.broadcast_to(jnp.asarray(sig[k], yy[k].dtype), yy[k].shape) for k in yy}
            return sde.step(f, g, t, y, dt, args, key)
        y_new = self.solver()(f, t, y, dt, args)
        if key is None:
            raise BraindynError(
                f"{type(self).__name__} has noise={self.noise!r} but step() got key=None. "
                f"Fix: pass a jax.random key (braindyn.run does this for you)."
            )
        keys = jax.random.split(key, len(y))
        out = {}
        for kk, (name, x) in zip(keys, y_new.items()):
            s = sig[name]
            if isinstance(s, (int, float)) and s == 0:
                out[name] = x
            else:
                out[name] = x + s * math.sqrt(dt) * jax.random.normal(kk, x.shape, x.dtype)
        return out

    def step(self, state, inputs, t, dt, key=None):
        """Integrate the continuous variables over one step; outputs are empty."""
        args = as_inputs(inputs, self.n, type(self).__name__)
        y = {k: state[k] for k in self.variables}
        y_new = self.integrate_continuous(y, args, t, dt, key)
        new = dict(state)
        new.update({k: v.astype(state[k].dtype) for k, v in y_new.items()})
        return new, {}


def _is_sde_solver(method) -> bool:
    if isinstance(method, str):
        return method in integrators.SDE_METHODS and method not in integrators.ODE_METHODS
    return hasattr(method, "strong_order")


class SpikingNeuron(ODEModel):
    """Base of spiking neurons: continuous dynamics + spike condition + reset + refractoriness.

    Order of one step from ``t`` to ``t + dt`` (all inputs held at their value at ``t``):

    1. integrate the continuous variables with ``method`` (and noise, if any);
    2. refractoriness: variables in ``refractory_vars`` of neurons in their refractory period
       keep their value (the equations are replaced by :math:`\\dot V = 0`);
    3. spike detection: ``spike = spike_fn(distance)`` with ``distance`` from
       :meth:`spike_distance` (for threshold models :math:`V - V_{th}`, strict ``>``);
    4. reset (:meth:`reset`) of the spiking neurons, and ``t_last = t + dt`` for them.

    Refractory rule (``refractory_rule``): a step starting at :math:`t` is refractory when
    :math:`k = (t + \\Delta t - t_{last})/\\Delta t` (an integer number of steps since the spike)
    satisfies :math:`k\\,\\Delta t \\le t_{ref}` (``"book"``, the book's ``(t - t_last) <= t_ref``
    test with step-start labels: reset step + ``t_ref/dt`` clamped steps) or
    :math:`k\\,\\Delta t < t_{ref}` (``"exact"``: the membrane is frozen for exactly
    :math:`t_{ref}` including the reset step, which converges to the continuous model).

    Common fields (besides :class:`ODEModel`'s)
    --------------------------------------------
    t_ref : float
        Absolute refractory period (ms, >= 0).
    refractory_rule : {"book", "exact"}
    spike_fn : Surrogate
        Heaviside forward, surrogate gradient backward (default ``Sigmoid(1.0)``, width in mV).
    detach_reset : bool
        If True (default), no gradient flows through the spike into the reset (the spike still
        carries its surrogate gradient to synapses and losses); False keeps the full path.
    """

    spike_var: ClassVar[str] = "V"
    refractory_vars: ClassVar[tuple[str, ...]] = ("V",)
    t_ref: Any = 0.0
    refractory_rule: str = eqx.field(static=True, default="book")
    spike_fn: Surrogate = Sigmoid(1.0)
    detach_reset: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        ODEModel.__check_init__(self)
        check_nonnegative("t_ref", self.t_ref, type(self).__name__, "ms")
        check_choice("refractory_rule", self.refractory_rule, ("book", "exact"), type(self).__name__)

    # ---- to be refined by subclasses ---------------------------------------------------
    def spike_distance(self, y_old, y_new):
        """Signed distance to the spike condition (spike where > 0). Default: ``V - V_th``."""
        return y_new["V"] - self.V_th

    def reset(self, y, spike):
        """State after the spike (``spike`` is 0/1 in the state dtype). Default: no change."""
        return y

    # ---- shared machinery ----------------------------------------------------------------
    def init_state(self, *, key=None, dtype=None, **initial) -> dict:
        state = ODEModel.init_state(self, key=key, dtype=dtype, **initial)
        dt_ = state[self.variables[0]].dtype
        state["spike"] = jnp.zeros((self.n,), dt_)
        state["t_last"] = jnp.full((self.n,), NEVER, dt_)
        return state

    def _has_refractory(self):
        return not (isinstance(self.t_ref, (int, float)) and self.t_ref == 0)

    def refractory(self, state, t, dt):
        """Boolean mask of neurons in their refractory period during the step starting at ``t``."""
        k = jnp.round((t + dt - state["t_last"]) / dt)
        lim = jnp.asarray(self.t_ref) / dt
        if self.refractory_rule == "book":
            return k <= lim + 1e-6
        return k < lim - 1e-6

    def step(self, state, inputs, t, dt, key=None):
        args = as_inputs(inputs, self.n, type(self).__name__)
        y = {k: state[k] for k in self.variables}
        y_new = self.integrate_continuous(y, args, t, dt, key)
        ref = None
        if self._has_refractory():
            ref = self.refractory(state, t, dt)
            y_new = {k: (jnp.where(ref, y[k], v) if k in self.refractory_vars else v) for k, v in y_new.items()}
        dtype = state[self.spike_var].dtype
        spike = self.spike_fn(jnp.asarray(self.spike_distance(y, y_new), dtype))
        if ref is not None:
            spike = jnp.where(ref, jnp.zeros_like(spike), spike)
        # The reset sees the spike without its surrogate gradient by default (Zenke & Vogels 2021):
        # through the reset the gradient would be multiplied at every spike and explode.
        y_new = self.reset(y_new, jax.lax.stop_gradient(spike) if self.detach_reset else spike)
        new = dict(state)
        new.update({k: v.astype(state[k].dtype) for k, v in y_new.items()})
        new["spike"] = spike
        t_end = jnp.asarray(t + dt, dtype)
        new["t_last"] = jnp.where(spike > 0, t_end, state["t_last"])
        return new, {"spike": spike}

    @staticmethod
    def reset_to(x, value, spike):
        """``x`` where no spike, ``value`` where ``spike`` = 1, written so that the surrogate
        gradient flows through the spike: :math:`x + s\\,(v - x)`."""
        return x + spike * (value - x)
