"""Hodgkin--Huxley neuron with the book's parameters."""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import jax
import jax.numpy as jnp

from ..core import SpikingNeuron, split_current
from ..integrators.exp import exprel
from ..params import param

__all__ = ["HH", "hh_rates"]


def hh_rates(V):
    """Opening and closing rates (1/ms) of the HH gates at 6.3 C, ``V`` in mV.

    .. math::
        \\alpha_m = \\frac{0.1 (V+40)}{1 - e^{-(V+40)/10}},\\;
        \\beta_m = 4 e^{-(V+65)/18},\\;
        \\alpha_h = 0.07 e^{-(V+65)/20},\\;
        \\beta_h = \\frac{1}{1 + e^{-(V+35)/10}},\\;
        \\alpha_n = \\frac{0.01 (V+55)}{1 - e^{-(V+55)/10}},\\;
        \\beta_n = 0.125 e^{-(V+65)/80}

    The removable singularities (:math:`\\alpha_m(-40) = 1`, :math:`\\alpha_n(-55) = 0.1`) are
    evaluated exactly, gradients included, through :math:`x/(1-e^{-x}) = 1/\\varphi_1(-x)`.

    Example
    -------
    >>> float(hh_rates(-40.0)["alpha_m"])
    1.0
    """
    return {
        "alpha_m": 1.0 / exprel(-(V + 40.0) / 10.0),
        "beta_m": 4.0 * jnp.exp(-(V + 65.0) / 18.0),
        "alpha_h": 0.07 * jnp.exp(-(V + 65.0) / 20.0),
        "beta_h": 1.0 / (1.0 + jnp.exp(-(V + 35.0) / 10.0)),
        "alpha_n": 0.1 / exprel(-(V + 55.0) / 10.0),
        "beta_n": 0.125 * jnp.exp(-(V + 65.0) / 80.0),
    }


@jax.jit
def _rest_voltage(gNa, gK, gL, ENa, EK, EL, I):
    # Newton iterations on the steady-state I-V curve, as one compiled loop (cheap to trace
    # under vmap/grad; differentiable in the conductances and reversal potentials). Per-neuron
    # parameters give one independent root per neuron (the derivative is taken elementwise).
    def net(V):
        g = HH.gates_inf(V)
        return (gNa * g["m"] ** 3 * g["h"] * (V - ENa) + gK * g["n"] ** 4 * (V - EK) + gL * (V - EL) - I)

    def body(_, V):
        return V - net(V) / jax.grad(lambda v: jnp.sum(net(v)))(V)

    dtype = jnp.result_type(gNa, gK, gL, ENa, EK, EL, I, float)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in (gNa, gK, gL, ENa, EK, EL, I)))
    return jax.lax.fori_loop(0, 25, body, jnp.full(shape, -65.0, dtype))


class HH(SpikingNeuron):
    """Hodgkin--Huxley neuron (Hodgkin & Huxley 1952), with the book's parameters.

    .. math::
        C \\frac{dV}{dt} &= -\\bar g_{Na} m^3 h (V - E_{Na}) - \\bar g_K n^4 (V - E_K)
                           - g_L (V - E_L) + I(t) \\\\
        \\frac{dx}{dt} &= \\phi\\,[\\alpha_x(V)(1 - x) - \\beta_x(V)\\, x], \\quad x \\in \\{m, h, n\\},
        \\qquad \\phi = Q_{10}^{(T - T_{base})/10}

    with the rates of :func:`hh_rates`. A spike is an upward crossing of ``V_th`` (there is no
    reset). The default ``method`` is exponential Euler, the book's choice at dt = 0.1 ms.

    Parameters
    ----------
    ENa, EK, EL : float
        Reversal potentials (mV): 50, -77, -54.387.
    gNa, gK, gL : float
        Maximal conductances (mS/cm^2): 120, 36, **0.03** (the book's leak; the 1952 value is 0.3).
    C : float
        Membrane capacitance (uF/cm^2), 1.
    V_th : float
        Spike detection level (mV), 20.
    T, T_base, Q10 : float
        Temperature (C), reference temperature (C, 6.3) and Q10 factor (3) of the gates.
    V_init : float or None
        Initial V (mV); ``None`` starts at the resting potential (computed by Newton's method).
        Gates start at their steady state for the initial V.

    I in uA/cm^2, t in ms.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.HH(), duration=70.0, inputs=bd.inputs.section([0.0, 10.0, 0.0], [10.0, 50.0, 10.0]))
    >>> int(res.spike_count())
    4
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "m", "h", "n")
    refractory_vars: ClassVar[tuple[str, ...]] = ()
    ENa: Any = param(50.0, unit="mV", doc="sodium reversal potential")
    EK: Any = param(-77.0, unit="mV", doc="potassium reversal potential")
    EL: Any = param(-54.387, unit="mV", doc="leak reversal potential")
    gNa: Any = param(120.0, bound="positive", unit="mS/cm^2", doc="maximal sodium conductance")
    gK: Any = param(36.0, bound="positive", unit="mS/cm^2", doc="maximal potassium conductance")
    gL: Any = param(0.03, bound="positive", unit="mS/cm^2", doc="leak conductance")
    C: Any = param(1.0, bound="positive", unit="uF/cm^2", doc="membrane capacitance")
    V_th: Any = param(20.0, unit="mV", doc="spike detection level (upward crossing)")
    T: Any = param(6.3, unit="C", doc="temperature")
    T_base: Any = param(6.3, unit="C", doc="reference temperature of the rates")
    Q10: Any = param(3.0, bound="positive", unit="1", doc="Q10 factor of the gates")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = resting potential")

    @property
    def phi(self):
        """Temperature factor :math:`Q_{10}^{(T - T_{base})/10}`."""
        return self.Q10 ** ((self.T - self.T_base) / 10.0)

    @staticmethod
    def gates_inf(V):
        """Steady states ``{m, h, n}`` of the gates at voltage ``V``."""
        r = hh_rates(V)
        return {x: r[f"alpha_{x}"] / (r[f"alpha_{x}"] + r[f"beta_{x}"]) for x in "mhn"}

    def currents(self, y):
        """Ionic currents (uA/cm^2): ``{"INa", "IK", "IL"}`` (outward positive)."""
        V = y["V"]
        return {
            "INa": self.gNa * y["m"] ** 3 * y["h"] * (V - self.ENa),
            "IK": self.gK * y["n"] ** 4 * (V - self.EK),
            "IL": self.gL * (V - self.EL),
        }

    def resting_potential(self, I=0.0):
        """Voltage (mV) where the steady-state ionic current balances ``I`` (Newton's method)."""
        return _rest_voltage(self.gNa, self.gK, self.gL, self.ENa, self.EK, self.EL, I)

    def initial(self):
        V0 = self.resting_potential() if self.V_init is None else jnp.asarray(self.V_init)
        return {"V": V0, **self.gates_inf(V0)}

    def vector_field(self, t, y, args):
        V = y["V"]
        r = hh_rates(V)
        c = self.currents(y)
        phi = self.phi
        return {
            "V": (-c["INa"] - c["IK"] - c["IL"] + args["I"]) / self.C,
            "m": phi * (r["alpha_m"] * (1 - y["m"]) - r["beta_m"] * y["m"]),
            "h": phi * (r["alpha_h"] * (1 - y["h"]) - r["beta_h"] * y["h"]),
            "n": phi * (r["alpha_n"] * (1 - y["n"]) - r["beta_n"] * y["n"]),
        }

    def linear_part(self, t, y, args):
        # V: C dV/dt = -(gNa m^3 h + gK n^4 + gL + g_syn) V + (gNa m^3 h ENa + gK n^4 EK + gL EL + J)
        # gates: dx/dt = -phi (alpha + beta) x + phi alpha
        g_syn, J = split_current(args["I"])
        r = hh_rates(y["V"])
        gna = self.gNa * y["m"] ** 3 * y["h"]
        gk = self.gK * y["n"] ** 4
        out = {"V": (-(gna + gk + self.gL + g_syn) / self.C,
                     (gna * self.ENa + gk * self.EK + self.gL * self.EL + J) / self.C)}
        phi = self.phi
        for x in "mhn":
            out[x] = (-phi * (r[f"alpha_{x}"] + r[f"beta_{x}"]), phi * r[f"alpha_{x}"])
        return out

    def spike_distance(self, y_old, y_new):
        # Upward crossing: only neurons that were at or below threshold can spike.
        return jnp.where(y_old["V"] <= self.V_th, y_new["V"] - self.V_th, -1.0)
