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

from typing import Any, ClassVar, Optional

import equinox as eqx
import jax
import jax.numpy as jnp

from . import clock, integrators
from ._errors import BraindynError, check_choice, check_shape
from .params import Parametrized, default_float, param, to_param
from .surrogate import Sigmoid, Surrogate

__all__ = ["Dynamics", "ODEModel", "SpikingNeuron", "Conductance", "as_inputs", "split_current", "default_float",
           "param"]


class Dynamics(Parametrized):
    """Abstract base of everything that can be stepped in time.

    Subclasses implement :meth:`init_state` and :meth:`step`. Numeric parameters are declared
    with :func:`braindyn.params.param` (array leaves: traced, trainable, checked once);
    sizes, method names and flags are static fields (structure).

    ``step`` receives ``t`` as a :class:`braindyn.clock.Time` when called by the runner (a
    drift-free time that behaves like a number in sums, differences and comparisons), and
    ``key`` is the component's own random key (``None`` for a deterministic run: a
    component that needs randomness then raises an error).
    """

    def init_state(self, *, key=None, dtype=None, **initial) -> dict:
        raise NotImplementedError

    def step(self, state, inputs, t, dt, key=None):
        """Advance ``state`` from time ``t`` to ``t + dt`` (ms). Returns ``(state, outputs)``."""
        raise NotImplementedError


class Conductance(eqx.Module):
    r"""A synaptic input that depends on the membrane potential: :math:`I(V) = g E - g V`.

    Conductance outputs (:class:`braindyn.synapses.ConductanceOutput`) hand their pair
    :math:`(g, E)` to the neuron as a ``Conductance`` rather than a current frozen at the start
    of the step: the neuron evaluates :math:`I(V)` *inside* its vector field with the current
    :math:`V`, so exponential Euler sees :math:`-g` in its linearisation and is exact for
    conductances held over the step (and every other solver sees the true equation).
    Conductances add (``g`` and ``gE`` sum), and adding a current :math:`I_0` gives
    :math:`I(V) = (gE + I_0) - g V`.

    Fields
    ------
    g : array
        Total conductance (unit of the model's input per mV, e.g. mS/cm^2 for HH).
    gE : array
        :math:`\sum_k g_k E_k` (same unit times mV).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> c = Conductance.of(jnp.array([2.0]), 0.0) + Conductance.of(jnp.array([1.0]), -80.0)
    >>> c.current(jnp.array([-60.0])).tolist()       # 2 (0 + 60) + 1 (-80 + 60)
    [100.0]
    """

    g: Any
    gE: Any

    @staticmethod
    def of(g, E):
        return Conductance(g, g * E)

    def current(self, V):
        return self.gE - self.g * V

    def __add__(self, other):
        if isinstance(other, Conductance):
            return Conductance(self.g + other.g, self.gE + other.gE)
        return Conductance(self.g, self.gE + other)

    __radd__ = __add__

    @property
    def shape(self):
        return jnp.shape(self.g)


def split_current(I):
    """``(g, J)`` with the input current :math:`I(V) = J - g V`: a :class:`Conductance` gives
    ``(g, gE)``, a plain current ``(0, I)``. For declared linear parts (see
    :meth:`ODEModel.linear_part`)."""
    if isinstance(I, Conductance):
        return I.g, I.gE
    return 0.0, I


class _Field:
    """The vector field handed to the solvers, carrying the model's declared linear parts."""

    __slots__ = ("model",)

    def __init__(self, model):
        self.model = model

    def __call__(self, t, y, args):
        return self.model.field(t, y, args)

    def linear_part(self, t, y, args):
        return self.model.linear_part(t, y, args)


def _resolve(args, V):
    """Inputs with every :class:`Conductance` turned into its current at potential ``V``."""
    if not any(isinstance(v, Conductance) for v in args.values()):
        return args
    return {k: (v.current(V) if isinstance(v, Conductance) else v) for k, v in args.items()}


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
        check_shape(f"input {k!r}", v.g if isinstance(v, Conductance) else v, ((), (1,), (n,)), owner)
    return out


def _noise_param(noise):
    if isinstance(noise, dict):
        return {k: to_param(v) for k, v in noise.items()}
    return noise


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
    #: The variable a :class:`Conductance` input acts on (the membrane potential).
    membrane_var: ClassVar[str] = "V"
    #: True when element ``i`` of the vector field depends on elements other than ``i`` of the
    #: state (a rate network written inside ``vector_field``). Exponential integrators then take
    #: the exact Jacobian diagonal (cost O(n^2) per step) instead of one Jacobian-vector product.
    coupled: ClassVar[bool] = False
    n: int = eqx.field(static=True, default=1)
    method: Any = eqx.field(static=True, default="exp_euler")
    noise: Optional[dict] = eqx.field(default=None, converter=_noise_param)

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
            from .params import ParamSpec, check_value

            for k, v in self.noise.items():
                check_choice("noisy variable", k, self.variables, type(self).__name__)
                check_value(f"noise[{k!r}]", v, ParamSpec("nonnegative", "(unit of x)/sqrt(ms)"),
                            type(self).__name__, self.n)

    # ---- to be defined by subclasses -------------------------------------------------
    def initial(self) -> dict:
        """Default initial values of the continuous variables (scalars or per-neuron arrays)."""
        raise NotImplementedError

    def vector_field(self, t, y, args):
        """``dy/dt`` as a dict with the keys of ``y``; ``args`` is the dict of inputs (``I`` ...)."""
        raise NotImplementedError

    def linear_part(self, t, y, args):
        r"""Optional declaration :math:`f_x = a_x x + b_x` for *every* variable :math:`x`, with
        :math:`a_x, b_x` independent of :math:`x` itself (they may depend on the others):
        ``{x: (a_x, b_x)}``, or ``None`` (the default: exponential Euler then derives
        :math:`a_x` by a Jacobian--vector product). With the declaration exponential Euler takes
        the exact update :math:`x + \Delta t\,\varphi_1(a\Delta t)(a x + b)` directly (no
        linearisation: smaller graphs, faster steps, the same values). ``args`` holds the inputs
        unresolved: :func:`split_current` turns ``args["I"]`` into :math:`(g, J)` with
        :math:`I(V) = J - g V`, so a synaptic conductance adds :math:`g` to the leak. The
        harness checks a declaration against the vector field."""
        return None

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
        solver = integrators.get(self.method)
        if self.coupled and hasattr(solver, "exact_diagonal"):
            solver = solver.exact_diagonal()
        return solver

    def field(self, t, y, args):
        """The vector field with the inputs resolved at ``y`` (a :class:`Conductance` becomes its
        current at the membrane potential of ``y``): what the solvers integrate."""
        V = y.get(self.membrane_var)
        return self.vector_field(t, y, args if V is None else _resolve(args, V))

    def integrate_continuous(self, y, args, t, dt, key):
        """One step of the continuous part (drift by ``method``, plus noise if any)."""
        f = _Field(self)
        if self.noise is None:
            return self.solver()(f, t, y, dt, args)
        sig = {k: self.noise.get(k, 0.0) for k in y}
        if key is None:
            raise BraindynError(
                f"{type(self).__name__} has noise={{{', '.join(map(repr, self.noise))}: ...}} but its step got "
                f"key=None. Fix: pass a jax.random key (braindyn.run does this for you; bd.simulate needs key=...)."
            )
        if _is_sde_solver(self.method):
            sde = integrators.get_sde(self.method) if isinstance(self.method, str) else self.method
            g = lambda tt, yy, aa: {k: jnp.broadcast_to(jnp.asarray(sig[k], yy[k].dtype), yy[k].shape) for k in yy}
            return sde.step(f, g, t, y, dt, args, key)
        y_new = self.solver()(f, t, y, dt, args)
        out = {}
        for name, x in y_new.items():
            s = sig[name]
            if name not in self.noise:
                out[name] = x
            else:
                xi = clock.normal(clock.named_key(key, name), self.n, x.dtype)
                out[name] = x + jnp.asarray(s, x.dtype) * jnp.sqrt(jnp.asarray(dt, x.dtype)) * xi
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
    4. reset (:meth:`reset`) of the spiking neurons, and the refractory counter of the spiking
       neurons set to :math:`n_{ref}` steps.

    Refractoriness counts steps (the integer state ``ref``: steps left), so it is exact at any
    time of any run. A neuron that spiked in step :math:`s` is refractory in steps
    :math:`s+1, \\dots, s+n_{ref}` with (``refractory_rule``)
    :math:`n_{ref} = \\lfloor t_{ref}/\\Delta t \\rfloor` (``"book"``: the book's
    ``(t - t_last) <= t_ref`` test with step-start labels) or
    :math:`n_{ref} = \\lceil t_{ref}/\\Delta t \\rceil - 1` (``"exact"``: the membrane is frozen
    for exactly :math:`t_{ref}` including the reset step, which converges to the continuous model).

    Common fields (besides :class:`ODEModel`'s)
    --------------------------------------------
    t_ref : float
        Absolute refractory period (ms, >= 0). A parameter (no recompilation for a new value),
        but an integer number of steps: it has no gradient.
    refractory_rule : {"book", "exact"}
    spike_fn : Surrogate
        Heaviside forward, surrogate gradient backward (default ``Sigmoid(1.0)``, width in mV).
    detach_reset : bool
        If True (default), no gradient flows through the spike into the reset (the spike still
        carries its surrogate gradient to synapses and losses); False keeps the full path.
    """

    spike_var: ClassVar[str] = "V"
    refractory_vars: ClassVar[tuple[str, ...]] = ("V",)
    t_ref: Any = param(0.0, bound="nonnegative", unit="ms", doc="absolute refractory period")
    refractory_rule: str = eqx.field(static=True, default="book")
    spike_fn: Surrogate = Sigmoid(1.0)
    detach_reset: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
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
        state["ref"] = jnp.zeros((self.n,), jnp.int32)
        return state

    def refractory_steps(self, dt):
        """:math:`n_{ref}`: steps a neuron stays refractory after the step of its spike."""
        x = jax.lax.stop_gradient(jnp.asarray(self.t_ref) / dt)
        if self.refractory_rule == "book":
            return jnp.floor(x + 1e-6).astype(jnp.int32)
        return jnp.maximum(jnp.ceil(x - 1e-6).astype(jnp.int32) - 1, 0)

    def refractory(self, state, t, dt):
        """Boolean mask of neurons in their refractory period during the step starting at ``t``."""
        return state["ref"] > 0

    def step(self, state, inputs, t, dt, key=None):
        args = as_inputs(inputs, self.n, type(self).__name__)
        y = {k: state[k] for k in self.variables}
        y_new = self.integrate_continuous(y, args, t, dt, key)
        ref = self.refractory(state, t, dt)
        y_new = {k: (jnp.where(ref, y[k], v) if k in self.refractory_vars else v) for k, v in y_new.items()}
        dtype = state[self.spike_var].dtype
        spike = self.spike_fn(jnp.asarray(self.spike_distance(y, y_new), dtype))
        spike = jnp.where(ref, jnp.zeros_like(spike), spike)
        # The reset sees the spike without its surrogate gradient by default (Zenke & Vogels 2021):
        # through the reset the gradient would be multiplied at every spike and explode.
        pre = y_new[self.spike_var]
        y_new = self.reset(y_new, jax.lax.stop_gradient(spike) if self.detach_reset else spike)
        # A non-finite value before the reset (an overflowing stage, an absurd drive) must reach
        # the divergence check even where the reset or a clip would replace it by a finite value.
        y_new = dict(y_new)
        y_new[self.spike_var] = jnp.where(jnp.isfinite(pre), y_new[self.spike_var], jnp.nan)
        new = dict(state)
        new.update({k: v.astype(state[k].dtype) for k, v in y_new.items()})
        new["spike"] = spike
        new["ref"] = jnp.where(spike > 0, self.refractory_steps(dt), jnp.maximum(state["ref"] - 1, 0))
        return new, {"spike": spike}

    @staticmethod
    def reset_to(x, value, spike):
        """``x`` where no spike, ``value`` where ``spike`` = 1, written so that the surrogate
        gradient flows through the spike: :math:`(1 - s)\\,x + s\\,v`.

        Exact for :math:`s \\in \\{0, 1\\}` whatever the size of ``x`` (the form
        :math:`x + s\\,(v - x)` would lose ``v`` to cancellation after a large overshoot), and a
        non-finite ``x`` at a spike gives NaN, so the divergence check sees it."""
        return (1 - spike) * x + spike * value
