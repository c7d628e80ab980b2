"""Conductance-based neurons: Morris--Lecar, Wang--Buzsaki, and neurons assembled from channels.

Like :class:`~braindyn.neurons.HH` these neurons have no reset: a spike is an upward
crossing of ``V_th``. Their default ``method`` is exponential Euler at dt = 0.1 ms, the
book's choice for conductance models.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Optional

import equinox as eqx
import jax
import jax.numpy as jnp

from .._errors import BraindynError
from ..core import SpikingNeuron, split_current
from ..params import param
from .channels import Channel, IK_ML, IK_WB, ICa_ML, INa_WB

__all__ = ["MorrisLecar", "WangBuzsaki", "ConductanceNeuron"]


@eqx.filter_jit
def _newton_jit(model, I, V0, iters):
    net = lambda V: model.steady_current(V) - I
    # one root per neuron when parameters are per-neuron: the derivative is elementwise
    V0 = jnp.broadcast_to(V0, jnp.shape(net(V0))).astype(V0.dtype)
    dnet = jax.grad(lambda V: jnp.sum(net(V)))
    return jax.lax.fori_loop(0, iters, lambda _, V: V - net(V) / dnet(V), V0)


def _newton_rest(model, I=0.0, V0=-65.0, iters=40):
    """Root of ``model.steady_current(V) - I`` by Newton's method from ``V0`` (compiled once
    per model structure: new parameter values do not recompile)."""
    dt = jnp.zeros(()).dtype
    return _newton_jit(model, jnp.asarray(I, dt), jnp.asarray(V0, dt), iters)


class _Conductance(SpikingNeuron):
    refractory_vars: ClassVar[tuple[str, ...]] = ()

    def spike_distance(self, y_old, y_new):
        return jnp.where(y_old["V"] <= self.V_th, y_new["V"] - self.V_th, -1.0)


class MorrisLecar(_Conductance):
    """Morris--Lecar neuron (Morris & Lecar 1981), with the class-2 ("Hopf") parameters of
    Rinzel & Ermentrout (1989) used by the book.

    .. math::
        C \\frac{dV}{dt} &= -g_{Ca} m_\\infty(V)(V - V_{Ca}) - g_K W (V - V_K) - g_L (V - V_L) + I(t) \\\\
        \\frac{dW}{dt} &= \\phi \\frac{W_\\infty(V) - W}{\\tau_W(V)}, \\quad
        m_\\infty = \\tfrac12\\left[1 + \\tanh\\tfrac{V - V_1}{V_2}\\right],\\;
        W_\\infty = \\tfrac12\\left[1 + \\tanh\\tfrac{V - V_3}{V_4}\\right],\\;
        \\tau_W = \\frac{1}{\\cosh\\frac{V - V_3}{2 V_4}}

    Parameters
    ----------
    V_Ca, V_K, V_leak : float
        Reversal potentials (mV): 130, -84, -60.
    g_Ca, g_K, g_leak : float
        Maximal conductances (mS/cm^2): 4.4, 8, 2.
    C : float
        Capacitance (uF/cm^2): 20.
    V1, V2, V3, V4 : float
        Half-activation and slope parameters (mV): -1.2, 18, 2, 30.
    phi : float
        Rate of W (1/ms): 0.04.
    V_th : float
        Spike detection level (mV): 10.
    V_init : float or None
        Initial V (mV); None starts at rest (I = 0); W starts at :math:`W_\\infty(V)`.

    I in uA/cm^2, t in ms.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.MorrisLecar(), duration=1000.0, inputs=100.0)
    >>> res.spike_count() > 5
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "W")
    V_Ca: Any = param(130.0, unit="mV", doc="calcium reversal potential")
    g_Ca: Any = param(4.4, bound="positive", unit="mS/cm^2", doc="maximal calcium conductance")
    V_K: Any = param(-84.0, unit="mV", doc="potassium reversal potential")
    g_K: Any = param(8.0, bound="positive", unit="mS/cm^2", doc="maximal potassium conductance")
    V_leak: Any = param(-60.0, unit="mV", doc="leak reversal potential")
    g_leak: Any = param(2.0, bound="positive", unit="mS/cm^2", doc="leak conductance")
    C: Any = param(20.0, bound="positive", unit="uF/cm^2", doc="membrane capacitance")
    V1: Any = param(-1.2, unit="mV", doc="half-activation of m_inf")
    V2: Any = param(18.0, bound="positive", unit="mV", doc="slope of m_inf")
    V3: Any = param(2.0, unit="mV", doc="half-activation of W_inf")
    V4: Any = param(30.0, bound="positive", unit="mV", doc="slope of W_inf")
    phi: Any = param(0.04, bound="positive", unit="1/ms", doc="rate of W")
    V_th: Any = param(10.0, unit="mV", doc="spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = resting potential")

    def channels(self) -> dict:
        """The same neuron as channel pieces (for :class:`ConductanceNeuron`)."""
        from .channels import Leak

        return {"Ca": ICa_ML(g=self.g_Ca, E=self.V_Ca, V1=self.V1, V2=self.V2),
                "K": IK_ML(g=self.g_K, E=self.V_K, V3=self.V3, V4=self.V4, phi=self.phi),
                "L": Leak(g=self.g_leak, E=self.V_leak)}

    def W_inf(self, V):
        return 0.5 * (1.0 + jnp.tanh((V - self.V3) / self.V4))

    def steady_current(self, V):
        """Ionic current (uA/cm^2) with W at its steady state."""
        m = 0.5 * (1.0 + jnp.tanh((V - self.V1) / self.V2))
        return (self.g_Ca * m * (V - self.V_Ca) + self.g_K * self.W_inf(V) * (V - self.V_K)
                + self.g_leak * (V - self.V_leak))

    def resting_potential(self, I=0.0):
        """V (mV) where the steady-state current balances ``I``."""
        return _newton_rest(self, I, -60.0)

    def initial(self):
        V0 = self.resting_potential() if self.V_init is None else jnp.asarray(self.V_init)
        return {"V": V0, "W": self.W_inf(V0)}

    def vector_field(self, t, y, args):
        V, W = y["V"], y["W"]
        m_inf = 0.5 * (1.0 + jnp.tanh((V - self.V1) / self.V2))
        x = (V - self.V3) / self.V4
        I_ion = self.g_Ca * m_inf * (V - self.V_Ca) + self.g_K * W * (V - self.V_K) + self.g_leak * (V - self.V_leak)
        return {"V": (args["I"] - I_ion) / self.C,
                "W": self.phi * (0.5 * (1.0 + jnp.tanh(x)) - W) * jnp.cosh(0.5 * x)}


class WangBuzsaki(_Conductance):
    """Wang--Buzsaki fast-spiking interneuron (Wang & Buzsaki 1996, J Neurosci 16:6402).

    .. math::
        C \\frac{dV}{dt} &= -g_{Na} m_\\infty^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_L (V - E_L) + I(t) \\\\
        \\frac{dx}{dt} &= \\phi\\,[\\alpha_x(V)(1 - x) - \\beta_x(V) x], \\quad x \\in \\{h, n\\}

    with :math:`m_\\infty = \\alpha_m/(\\alpha_m + \\beta_m)` and the rates of
    :class:`~braindyn.neurons.channels.INa_WB` and :class:`~braindyn.neurons.channels.IK_WB`.

    **Step size.** The gates are fast (:math:`\\phi = 5`): exponential Euler at dt = 0.1 ms
    lengthens the ISI by about 25 % (I = 1: 22 ms instead of 16.75 ms); use dt = 0.01 ms
    (ISIs within 5 %) or ``method="rk4"`` (exact to the step at dt = 0.01 ms).

    Parameters
    ----------
    ENa, EK, EL : float
        Reversal potentials (mV): 55, -90, -65.
    gNa, gK, gL : float
        Maximal conductances (mS/cm^2): 35, 9, 0.1.
    phi : float
        Temperature factor of h and n (dimensionless): 5.
    C : float
        Capacitance (uF/cm^2): 1.
    V_th : float
        Spike detection level (mV): 20.
    V_init : float or None
        Initial V (mV); None starts at rest; gates at their steady state.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.WangBuzsaki(), duration=100.0, inputs=1.0)
    >>> res.spike_count() > 2
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "h", "n")
    ENa: Any = param(55.0, unit="mV", doc="sodium reversal potential")
    gNa: Any = param(35.0, bound="positive", unit="mS/cm^2", doc="maximal sodium conductance")
    EK: Any = param(-90.0, unit="mV", doc="potassium reversal potential")
    gK: Any = param(9.0, bound="positive", unit="mS/cm^2", doc="maximal potassium conductance")
    EL: Any = param(-65.0, unit="mV", doc="leak reversal potential")
    gL: Any = param(0.1, bound="positive", unit="mS/cm^2", doc="leak conductance")
    phi: Any = param(5.0, bound="positive", unit="1", doc="temperature factor of h and n")
    C: Any = param(1.0, bound="positive", unit="uF/cm^2", doc="membrane capacitance")
    V_th: Any = param(20.0, unit="mV", doc="spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = resting potential")

    def channels(self) -> dict:
        """The same neuron as channel pieces (for :class:`ConductanceNeuron`)."""
        from .channels import Leak

        return {"Na": INa_WB(g=self.gNa, E=self.ENa, phi=self.phi), "K": IK_WB(g=self.gK, E=self.EK, phi=self.phi),
                "L": Leak(g=self.gL, E=self.EL)}

    def _gates_inf(self, V):
        ah, bh = INa_WB.h_rates(V)
        an, bn = IK_WB.rates(V)
        return {"h": ah / (ah + bh), "n": an / (an + bn)}

    def _I_ion(self, V, h, n):
        return (self.gNa * INa_WB.m_inf(V) ** 3 * h * (V - self.ENa) + self.gK * n ** 4 * (V - self.EK)
                + self.gL * (V - self.EL))

    def steady_current(self, V):
        """Ionic current (uA/cm^2) with the gates at their steady state."""
        g = self._gates_inf(V)
        return self._I_ion(V, g["h"], g["n"])

    def resting_potential(self, I=0.0):
        """V (mV) where the steady-state current balances ``I``."""
        return _newton_rest(self, I, -65.0)

    def initial(self):
        V0 = self.resting_potential() if self.V_init is None else jnp.asarray(self.V_init)
        return {"V": V0, **self._gates_inf(V0)}

    def vector_field(self, t, y, args):
        V, h, n = y["V"], y["h"], y["n"]
        ah, bh = INa_WB.h_rates(V)
        an, bn = IK_WB.rates(V)
        return {"V": (args["I"] - self._I_ion(V, h, n)) / self.C,
                "h": self.phi * (ah * (1.0 - h) - bh * h),
                "n": self.phi * (an * (1.0 - n) - bn * n)}


class ConductanceNeuron(_Conductance):
    """A single-compartment neuron assembled from channel pieces.

    .. math::
        C \\frac{dV}{dt} = -\\sum_k I_k(V, s_k, \\text{env}) + I(t), \\qquad
        \\frac{ds_k}{dt} = f_k(V, s_k, \\text{env})

    ``channels`` maps a name to a :class:`~braindyn.neurons.channels.Channel`; the state
    variables are ``V`` and ``{name}_{gate}`` for every gate of every piece (``Na_m``,
    ``Na_h``, ``K_n``, ``Ca_c`` ...). In each evaluation the pools provide their
    concentrations (``env["Ca"]``), then every channel's current is computed and summed per
    ion (``env["I_Ca"]``), then every piece's gates advance, so calcium channels, Ih, K-A or
    calcium dynamics are added as new pieces, never by editing the neuron.

    Parameters
    ----------
    channels : dict
        ``{name: Channel}`` (names are identifiers without ``_`` or ``.``). The parameters of
        the channels are parameters of the neuron (array leaves; scalar or one per neuron).
    C : float
        Capacitance (uF/cm^2): 1.
    V_th : float
        Spike detection level (mV, upward crossing): 20.
    V_init : float or None
        Initial V (mV); None: the resting potential; gates start at their steady state.
    n, method, noise, t_ref, refractory_rule, spike_fn, detach_reset
        As for every :class:`~braindyn.core.SpikingNeuron` (keyword arguments).

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.neurons import channels as ch
    >>> hh = bd.neurons.ConductanceNeuron({"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak()})
    >>> res = bd.run(hh, duration=70.0, inputs=bd.inputs.section([0.0, 10.0, 0.0], [10.0, 50.0, 10.0]))
    >>> res.spike_count()
    4
    """

    channels: dict = None
    C: Any = param(1.0, bound="positive", unit="uF/cm^2", doc="membrane capacitance")
    V_th: Any = param(20.0, unit="mV", doc="spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = resting potential")

    def __init__(self, channels: dict, **kwargs):
        # ``channels`` is positional (the dataclass order would put it after the inherited
        # fields); every other field is a keyword with its declared default.
        self.channels = dict(channels) if isinstance(channels, dict) else channels
        fields = {f.name: f for f in dataclasses.fields(type(self)) if f.init and f.name != "channels"}
        unknown = sorted(set(kwargs) - set(fields))
        if unknown:
            raise BraindynError(f"ConductanceNeuron got unknown argument(s) {unknown}. "
                                f"Valid keywords: {sorted(fields)}.")
        for name, f in fields.items():
            if name in kwargs:
                value = kwargs[name]
            elif f.default is not dataclasses.MISSING:
                value = f.default
            else:
                value = f.default_factory()
            setattr(self, name, value)

    def __check_init__(self):
        if not isinstance(self.channels, dict) or not self.channels:
            raise BraindynError("ConductanceNeuron: 'channels' must be a non-empty dict {name: Channel}. "
                                "Fix: e.g. {'Na': INa_HH(), 'K': IK_HH(), 'L': Leak()}.")
        for name, c in self.channels.items():
            if not isinstance(c, Channel):
                raise BraindynError(f"ConductanceNeuron: channel {name!r} is a {type(c).__name__}, not a Channel.")
            if not str(name).isidentifier() or "_" in name:
                raise BraindynError(f"ConductanceNeuron: channel name {name!r} must be an identifier without '_'. "
                                    f"Fix: e.g. 'Na', 'KA', 'CaL'.")
            for f in dataclasses.fields(c):  # a channel parameter is a scalar or one per neuron
                spec = f.metadata.get("param")
                value = getattr(c, f.name)
                if spec is not None and spec.per_neuron and value is not None and \
                        tuple(jnp.shape(value)) not in ((), (self.n,)):
                    raise BraindynError(
                        f"parameter {f.name!r} of channel {name!r} ({type(c).__name__}) has shape "
                        f"{tuple(jnp.shape(value))}, but the neuron has n={self.n}. "
                        f"Fix: pass a scalar or an array of shape ({self.n},).")
        try:
            V = jnp.full((1,), -65.0)
            self.vector_field(0.0, self._state_at(V), {"I": 0.0})
        except KeyError as err:
            raise BraindynError(
                f"ConductanceNeuron: a channel needs {err} from the environment, but no piece provides it. "
                f"Fix: add the pool that provides it, e.g. channels['pool'] = CalciumPool()."
            ) from None

    @property
    def variables(self):
        return ("V",) + tuple(f"{n}_{g}" for n, c in self.channels.items() for g in c.gates)

    def _split(self, y):
        return {n: {g: y[f"{n}_{g}"] for g in c.gates} for n, c in self.channels.items()}

    def _env(self, V, parts):
        env = {}
        for n, c in self.channels.items():
            env.update(c.concentrations(parts[n]))
        currents = {n: c.current(V, parts[n], env) for n, c in self.channels.items()}
        for n, c in self.channels.items():
            if c.ion:
                key = f"I_{c.ion}"
                env[key] = env[key] + currents[n] if key in env else currents[n]
        return env, currents

    def _state_at(self, V):
        y = {"V": V}
        env = {}
        for n, c in self.channels.items():  # pools first provide their rest concentrations
            for g, v in c.gates_inf(V, env).items():
                y[f"{n}_{g}"] = v
            env.update(c.concentrations({g: y[f"{n}_{g}"] for g in c.gates}))
        for n, c in self.channels.items():
            for g, v in c.gates_inf(V, env).items():
                y[f"{n}_{g}"] = v
        return y

    def currents(self, y):
        """The current of each channel (uA/cm^2, outward positive), ``{name: I}``."""
        return self._env(y["V"], self._split(y))[1]

    def steady_current(self, V):
        """Total ionic current (uA/cm^2) with every gate and pool at its steady state."""
        return sum(self.currents(self._state_at(V)).values())

    def resting_potential(self, I=0.0):
        """V (mV) where the steady-state current balances ``I`` (Newton's method)."""
        return _newton_rest(self, I, -65.0)

    def initial(self):
        V0 = self.resting_potential() if self.V_init is None else jnp.asarray(self.V_init)
        return self._state_at(V0)

    def linear_part(self, t, y, args):
        """Declared when every piece is ohmic (:meth:`Channel.conductance`) and every gate obeys
        rate kinetics (:class:`RateChannel`): then :math:`C\\dot V = -(\\sum g_c + g_{syn}) V +
        \\sum g_c E_c + J` and :math:`\\dot x = -\\phi(\\alpha + \\beta) x + \\phi\\alpha`."""
        from .channels import RateChannel

        V = y["V"]
        parts = self._split(y)
        g_tot, gE = split_current(args["I"])
        out = {}
        for n, c in self.channels.items():
            # gates must follow the plain rate kinetics; pools or custom kinetics: no declaration
            if c.gates and not (isinstance(c, RateChannel) and type(c).derivs is RateChannel.derivs):
                return None
            g = c.conductance(V, parts[n], {})
            if g is None:
                return None
            g_tot = g_tot + g
            gE = gE + g * c.E
            for x, (a, b) in (c.gate_rates(V).items() if c.gates else ()):
                out[f"{n}_{x}"] = (-c.phi * (a + b), c.phi * a)
        out["V"] = (-g_tot / self.C, gE / self.C)
        return out

    def vector_field(self, t, y, args):
        V = y["V"]
        parts = self._split(y)
        env, currents = self._env(V, parts)
        out = {"V": (args["I"] - sum(currents.values())) / self.C}
        for n, c in self.channels.items():
            for g, d in c.derivs(V, parts[n], env).items():
                out[f"{n}_{g}"] = d
        return out
