"""Ion channels and concentration pools: the pieces of a conductance-based neuron.

A :class:`Channel` is an immutable module with its own gating variables (``gates``), their
steady states (:meth:`Channel.gates_inf`), their kinetics (:meth:`Channel.derivs`) and the
current it carries (:meth:`Channel.current`, outward positive, uA/cm^2). A channel names its
``ion``; the neuron sums the currents per ion and passes them, with the concentrations of
every pool, to all pieces in an environment dict ``env`` (``env["I_Ca"]``, ``env["Ca"]``), so
calcium-dependent channels and calcium dynamics plug in without changing the neuron
(:class:`braindyn.neurons.ConductanceNeuron`).

Units: V in mV, t in ms, conductances in mS/cm^2, currents in uA/cm^2, [Ca] in uM.
"""
from __future__ import annotations

from typing import Any, ClassVar

import jax.numpy as jnp

from ..integrators.exp import exprel
from ..params import Parametrized, param
from .hh import hh_rates

__all__ = [
    "Channel", "Leak", "INa_HH", "IK_HH", "INa_WB", "IK_WB", "ICa_ML", "IK_ML", "CalciumPool", "IK_Ca",
]


def _rate_lin(V, k, V0, s):
    """:math:`k (V - V_0) / (1 - e^{-(V - V_0)/s})` written as ``k s / exprel(-(V-V0)/s)``
    (exact at the removable singularity ``V = V0``)."""
    return k * s / exprel(-(V - V0) / s)


class Channel(Parametrized):
    """Base of channels and pools. Subclasses set ``gates`` and ``ion`` and override what applies.

    ``gates`` are the names of the piece's state variables; a pool also defines
    :meth:`concentrations`. The default piece has no gate and no current. Numeric fields are
    declared parameters (:func:`braindyn.params.param`: array leaves, checked once, scalar or
    one value per neuron of the neuron that holds the channel).
    """

    gates: ClassVar[tuple[str, ...]] = ()
    ion: ClassVar[str] = ""

    def gates_inf(self, V, env) -> dict:
        """Steady state of the gates at voltage ``V`` (used for the initial state)."""
        return {}

    def derivs(self, V, s, env) -> dict:
        """Time derivatives (1/ms times the unit of each gate) of the gates ``s``."""
        return {}

    def current(self, V, s, env):
        """Current through the channel (uA/cm^2, outward positive)."""
        return jnp.zeros_like(V)

    def conductance(self, V, s, env):
        """For an ohmic channel, :math:`g` (mS/cm^2) with ``current = g (V - E)``, independent of
        ``V`` given the gates; ``None`` otherwise (the default). Lets the neuron declare its
        equation's part linear in V (:meth:`braindyn.core.ODEModel.linear_part`)."""
        return None

    def concentrations(self, s) -> dict:
        """Concentrations this piece provides to the others (pools only)."""
        return {}


def _gate(alpha, beta, x, phi=1.0):
    return phi * (alpha * (1.0 - x) - beta * x)


class RateChannel(Channel):
    """A channel whose gates obey :math:`\\dot x = \\phi\\,[\\alpha_x(V)(1 - x) - \\beta_x(V)\\, x]`.

    Subclasses give :meth:`gate_rates` (``{gate: (alpha, beta)}``, 1/ms) and a field ``phi``;
    the steady states :math:`x_\\infty = \\alpha/(\\alpha + \\beta)` and the derivatives follow here.
    """

    def gate_rates(self, V) -> dict:
        raise NotImplementedError

    def gates_inf(self, V, env):
        return {x: a / (a + b) for x, (a, b) in self.gate_rates(V).items()}

    def derivs(self, V, s, env):
        return {x: _gate(a, b, s[x], self.phi) for x, (a, b) in self.gate_rates(V).items()}


class Leak(Channel):
    """Leak current :math:`I_L = g (V - E)`.

    Parameters: ``g`` (mS/cm^2, >= 0), ``E`` (mV).
    """

    ion: ClassVar[str] = "leak"
    g: Any = param(0.03, bound="nonnegative", unit="mS/cm^2", doc="leak conductance")
    E: Any = param(-54.387, unit="mV", doc="reversal potential")

    def current(self, V, s, env):
        return self.g * (V - self.E)

    def conductance(self, V, s, env):
        return self.g


class INa_HH(RateChannel):
    """Hodgkin--Huxley sodium current :math:`I_{Na} = g\\, m^3 h\\,(V - E)` with the HH rates
    (:func:`braindyn.neurons.hh_rates`) and temperature factor ``phi`` (dimensionless).

    Parameters: ``g`` 120 mS/cm^2, ``E`` 50 mV, ``phi`` 1.
    """

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    ion: ClassVar[str] = "Na"
    g: Any = param(120.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(50.0, unit="mV", doc="reversal potential")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def rates(V):
        """``(alpha_m, beta_m, alpha_h, beta_h)`` of :func:`braindyn.neurons.hh_rates`."""
        r = hh_rates(V)
        return r["alpha_m"], r["beta_m"], r["alpha_h"], r["beta_h"]

    def gate_rates(self, V):
        am, bm, ah, bh = self.rates(V)
        return {"m": (am, bm), "h": (ah, bh)}

    def current(self, V, s, env):
        return self.g * s["m"] ** 3 * s["h"] * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * s["m"] ** 3 * s["h"]


class IK_HH(RateChannel):
    """Hodgkin--Huxley delayed-rectifier potassium current :math:`I_K = g\\, n^4 (V - E)`.

    Parameters: ``g`` 36 mS/cm^2, ``E`` -77 mV, ``phi`` 1.
    """

    gates: ClassVar[tuple[str, ...]] = ("n",)
    ion: ClassVar[str] = "K"
    g: Any = param(36.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-77.0, unit="mV", doc="reversal potential")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def rates(V):
        """``(alpha_n, beta_n)`` of :func:`braindyn.neurons.hh_rates`."""
        r = hh_rates(V)
        return r["alpha_n"], r["beta_n"]

    def gate_rates(self, V):
        return {"n": self.rates(V)}

    def current(self, V, s, env):
        return self.g * s["n"] ** 4 * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * s["n"] ** 4


class INa_WB(RateChannel):
    """Wang--Buzsaki (1996) sodium current :math:`g\\, m_\\infty^3(V)\\, h\\,(V - E)`, with
    instantaneous activation and :math:`\\dot h = \\phi(\\alpha_h(1-h) - \\beta_h h)`:

    .. math::
        \\alpha_m = \\frac{0.1(V+35)}{1 - e^{-(V+35)/10}},\\; \\beta_m = 4 e^{-(V+60)/18},\\;
        \\alpha_h = 0.07 e^{-(V+58)/20},\\; \\beta_h = \\frac{1}{1 + e^{-(V+28)/10}}

    Parameters: ``g`` 35 mS/cm^2, ``E`` 55 mV, ``phi`` 5.
    """

    gates: ClassVar[tuple[str, ...]] = ("h",)
    ion: ClassVar[str] = "Na"
    g: Any = param(35.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(55.0, unit="mV", doc="reversal potential")
    phi: Any = param(5.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def m_inf(V):
        am = _rate_lin(V, 0.1, -35.0, 10.0)
        return am / (am + 4.0 * jnp.exp(-(V + 60.0) / 18.0))

    @staticmethod
    def h_rates(V):
        return 0.07 * jnp.exp(-(V + 58.0) / 20.0), 1.0 / (1.0 + jnp.exp(-(V + 28.0) / 10.0))

    def gate_rates(self, V):
        return {"h": self.h_rates(V)}

    def current(self, V, s, env):
        return self.g * self.m_inf(V) ** 3 * s["h"] * (V - self.E)


class IK_WB(RateChannel):
    """Wang--Buzsaki (1996) potassium current :math:`g\\, n^4 (V - E)`,
    :math:`\\alpha_n = \\frac{0.01(V+34)}{1 - e^{-(V+34)/10}},\\; \\beta_n = 0.125 e^{-(V+44)/80}`.

    Parameters: ``g`` 9 mS/cm^2, ``E`` -90 mV, ``phi`` 5.
    """

    gates: ClassVar[tuple[str, ...]] = ("n",)
    ion: ClassVar[str] = "K"
    g: Any = param(9.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-90.0, unit="mV", doc="reversal potential")
    phi: Any = param(5.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def rates(V):
        return _rate_lin(V, 0.01, -34.0, 10.0), 0.125 * jnp.exp(-(V + 44.0) / 80.0)

    def gate_rates(self, V):
        return {"n": self.rates(V)}

    def current(self, V, s, env):
        return self.g * s["n"] ** 4 * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * s["n"] ** 4


class ICa_ML(Channel):
    """Morris--Lecar calcium current with instantaneous activation,
    :math:`g\\, m_\\infty(V)(V - E)`, :math:`m_\\infty = \\tfrac12[1 + \\tanh((V - V_1)/V_2)]`.

    Parameters: ``g`` 4.4 mS/cm^2, ``E`` 130 mV, ``V1`` -1.2 mV, ``V2`` 18 mV.
    """

    ion: ClassVar[str] = "Ca"
    g: Any = param(4.4, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(130.0, unit="mV", doc="reversal potential")
    V1: Any = param(-1.2, unit="mV", doc="half-activation of m_inf")
    V2: Any = param(18.0, bound="positive", unit="mV", doc="slope of m_inf")

    def m_inf(self, V):
        return 0.5 * (1.0 + jnp.tanh((V - self.V1) / self.V2))

    def current(self, V, s, env):
        return self.g * self.m_inf(V) * (V - self.E)


class IK_ML(Channel):
    """Morris--Lecar potassium current :math:`g\\, w\\,(V - E)` with
    :math:`\\dot w = \\phi\\,(w_\\infty - w)/\\tau_w`, :math:`w_\\infty = \\tfrac12[1 + \\tanh((V-V_3)/V_4)]`,
    :math:`\\tau_w = 1/\\cosh((V - V_3)/(2V_4))` (ms).

    Parameters: ``g`` 8 mS/cm^2, ``E`` -84 mV, ``V3`` 2 mV, ``V4`` 30 mV, ``phi`` 0.04 /ms.
    """

    gates: ClassVar[tuple[str, ...]] = ("w",)
    ion: ClassVar[str] = "K"
    g: Any = param(8.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-84.0, unit="mV", doc="reversal potential")
    V3: Any = param(2.0, unit="mV", doc="half-activation of w_inf")
    V4: Any = param(30.0, bound="positive", unit="mV", doc="slope of w_inf")
    phi: Any = param(0.04, bound="positive", unit="1/ms", doc="rate of w")

    def gates_inf(self, V, env):
        return {"w": 0.5 * (1.0 + jnp.tanh((V - self.V3) / self.V4))}

    def derivs(self, V, s, env):
        w_inf = 0.5 * (1.0 + jnp.tanh((V - self.V3) / self.V4))
        return {"w": self.phi * (w_inf - s["w"]) * jnp.cosh((V - self.V3) / (2.0 * self.V4))}

    def current(self, V, s, env):
        return self.g * s["w"] * (V - self.E)


class CalciumPool(Channel):
    """Intracellular calcium: :math:`\\frac{d[Ca]}{dt} = -k\\, I_{Ca} - ([Ca] - [Ca]_{rest})/\\tau`.

    Reads the total calcium current ``env["I_Ca"]`` and provides ``env["Ca"]`` to the other
    pieces (e.g. :class:`IK_Ca`).

    Parameters: ``k`` (uM per ms per uA/cm^2) 0.002, ``tau`` (ms) 80, ``Ca_rest`` (uM) 0.05.
    """

    gates: ClassVar[tuple[str, ...]] = ("c",)
    k: Any = param(0.002, bound="nonnegative", unit="uM/ms per uA/cm^2", doc="calcium influx per unit current")
    tau: Any = param(80.0, bound="positive", unit="ms", doc="calcium removal time constant")
    Ca_rest: Any = param(0.05, bound="nonnegative", unit="uM", doc="resting concentration")

    def gates_inf(self, V, env):
        return {"c": jnp.full_like(V, self.Ca_rest)}

    def derivs(self, V, s, env):
        return {"c": -self.k * env.get("I_Ca", 0.0) - (s["c"] - self.Ca_rest) / self.tau}

    def concentrations(self, s):
        return {"Ca": s["c"]}


class IK_Ca(Channel):
    """Calcium-activated (AHP) potassium current :math:`g\\, \\frac{[Ca]}{[Ca] + K_d}(V - E)`.

    Needs a :class:`CalciumPool`. Parameters: ``g`` 1 mS/cm^2, ``E`` -84 mV, ``Kd`` 1 uM.
    """

    ion: ClassVar[str] = "K"
    g: Any = param(1.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-84.0, unit="mV", doc="reversal potential")
    Kd: Any = param(1.0, bound="positive", unit="uM", doc="half-activation concentration")

    def current(self, V, s, env):
        ca = env["Ca"]
        return self.g * ca / (ca + self.Kd) * (V - self.E)
