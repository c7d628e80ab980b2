"""Conductance-based neurons: Morris--Lecar, Wang--Buzsaki, and neurons assembled from channels.

Like :class:`~braindyn.neurons.HH` these neurons have no reset: a spike is an upward
crossing of ``V_th``. Their default ``method`` is exponential Euler at dt = 0.1 ms, the
book's choice for conductance models.
"""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import equinox as eqx
import jax
import jax.numpy as jnp

from .._errors import BraindynError, check_finite, check_positive
from ..core import SpikingNeuron
from ..surrogate import Sigmoid
from .channels import Channel, IK_ML, IK_WB, ICa_ML, INa_WB

__all__ = ["MorrisLecar", "WangBuzsaki", "ConductanceNeuron"]


@eqx.filter_jit
def _newton_jit(model, I, V0, iters):
    net = lambda V: model.steady_current(V) - I
    return jax.lax.fori_loop(0, iters, lambda _, V: V - net(V) / jax.grad(net)(V), V0)


def _newton_rest(model, I=0.0, V0=-65.0, iters=40):
    """Root of ``model.steady_current(V) - I`` by Newton's method from ``V0`` (compiled once
    per model structure)."""
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
    V_Ca: Any = 130.0
    g_Ca: Any = 4.4
    V_K: Any = -84.0
    g_K: Any = 8.0
    V_leak: Any = -60.0
    g_leak: Any = 2.0
    C: Any = 20.0
    V1: Any = -1.2
    V2: Any = 18.0
    V3: Any = 2.0
    V4: Any = 30.0
    phi: Any = 0.04
    V_th: Any = 10.0
    V_init: Optional[Any] = None

    def __check_init__(self):
        SpikingNeuron.__check_init__(self)
        for name in ("g_Ca", "g_K", "g_leak", "C", "V2", "V4", "phi"):
            check_positive(name, getattr(self, name), "MorrisLecar")
        for name in ("V_Ca", "V_K", "V_leak", "V1", "V3", "V_th"):
            check_finite(name, getattr(self, name), "MorrisLecar")

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
    ENa: Any = 55.0
    gNa: Any = 35.0
    EK: Any = -90.0
    gK: Any = 9.0
    EL: Any = -65.0
    gL: Any = 0.1
    phi: Any = 5.0
    C: Any = 1.0
    V_th: Any = 20.0
    V_init: Optional[Any] = None

    def __check_init__(self):
        SpikingNeuron.__check_init__(self)
        for name in ("gNa", "gK", "gL", "phi", "C"):
            check_positive(name, getattr(self, name), "WangBuzsaki")
        for name in ("ENa", "EK", "EL", "V_th"):
            check_finite(name, getattr(self, name), "WangBuzsaki")

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
        ``{name: Channel}`` (names are identifiers without ``_`` or ``.``).
    C : float
        Capacitance (uF/cm^2): 1.
    V_th : float
        Spike detection level (mV, upward crossing): 20.
    V_init : float or None
        Initial V (mV); None: the resting potential; gates start at their steady state.

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
    C: Any = 1.0
    V_th: Any = 20.0
    V_init: Optional[Any] = None

    def __init__(self, channels: dict, *, C=1.0, V_th=20.0, V_init=None, n: int = 1, method="exp_euler",
                 noise=None, t_ref=0.0, refractory_rule: str = "book", spike_fn=None):
        self.channels = dict(channels) if isinstance(channels, dict) else channels
        self.C, self.V_th, self.V_init = C, V_th, V_init
        self.n, self.method, self.noise = n, method, noise
        self.t_ref, self.refractory_rule = t_ref, refractory_rule
        self.spike_fn = Sigmoid(1.0) if spike_fn is None else spike_fn

    def __check_init__(self):
        SpikingNeuron.__check_init__(self)
        check_positive("C", self.C, "ConductanceNeuron", "uF/cm^2")
        check_finite("V_th", self.V_th, "ConductanceNeuron")
        if not isinstance(self.channels, dict) or not self.channels:
            raise BraindynError("ConductanceNeuron: 'channels' must be a non-empty dict {name: Channel}. "
                                "Fix: e.g. {'Na': INa_HH(), 'K': IK_HH(), 'L': Leak()}.")
        for name, c in self.channels.items():
            if not isinstance(c, Channel):
                raise BraindynError(f"ConductanceNeuron: channel {name!r} is a {type(c).__name__}, not a Channel.")
            if not str(name).isidentifier() or "_" in name:
                raise BraindynError(f"ConductanceNeuron: channel name {name!r} must be an identifier without '_'. "
                                    f"Fix: e.g. 'Na', 'KA', 'CaL'.")
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

    def vector_field(self, t, y, args):
        V = y["V"]
        parts = self._split(y)
        env, currents = self._env(V, parts)
        out = {"V": (args["I"] - sum(currents.values())) / self.C}
        for n, c in self.channels.items():
            for g, d in c.derivs(V, parts[n], env).items():
                out[f"{n}_{g}"] = d
        return out
