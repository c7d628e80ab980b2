"""More channel pieces for :class:`braindyn.neurons.ConductanceNeuron`: the A-type potassium
current and the hyperpolarisation-activated cation current Ih.

Both follow the interface of :mod:`braindyn.neurons.channels` (``gates``, ``gates_inf``,
``derivs``, ``current``) and plug into a neuron next to the pieces there. Each gate relaxes as
:math:`\\dot x = \\phi\\,(x_\\infty(V) - x)/\\tau_x(V)`, which is linear in :math:`x` at fixed
:math:`V`, so the default exponential-Euler step of the neuron is exact for the gates.

Units: V in mV, t in ms, conductances in mS/cm^2, currents in uA/cm^2 (outward positive).
"""
from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..params import param
from .channels import Channel

__all__ = ["IA_CS", "Ih_HM"]


class IA_CS(Channel):
    """A-type (transient) potassium current of the Connor--Stevens model,
    :math:`I_A = g_A\\, a^3 b\\,(V - E_A)`.

    Source: J. A. Connor & C. F. Stevens (1971), J Physiol 213:31--53, in the form given by
    P. Dayan & L. F. Abbott, *Theoretical Neuroscience* (MIT Press 2001), ch. 6.2
    (Connor--Stevens model), with V in mV and :math:`\\tau` in ms:

    .. math::
        a_\\infty &= \\left(\\frac{0.0761\\, e^{0.0314 (V + 94.22)}}{1 + e^{0.0346 (V + 1.17)}}\\right)^{1/3},
        \\qquad \\tau_a = 0.3632 + \\frac{1.158}{1 + e^{0.0497 (V + 55.96)}} \\\\
        b_\\infty &= \\left(\\frac{1}{1 + e^{0.0688 (V + 53.3)}}\\right)^{4},
        \\qquad \\tau_b = 1.24 + \\frac{2.678}{1 + e^{0.0624 (V + 50)}} \\\\
        \\frac{da}{dt} &= \\phi\\,\\frac{a_\\infty - a}{\\tau_a}, \\qquad
        \\frac{db}{dt} = \\phi\\,\\frac{b_\\infty - b}{\\tau_b}

    The current activates quickly on depolarisation from rest and inactivates more slowly: it
    delays the first spike after a step and lowers the firing rate (it makes the Connor--Stevens
    neuron fire at arbitrarily low rates).

    Parameters: ``g`` maximal conductance (mS/cm^2, >= 0) 47.7 (Dayan & Abbott's 0.477 mS/mm^2),
    ``E`` reversal potential (mV) -75, ``phi`` temperature factor of both gates
    (dimensionless, > 0) 1. Gates: ``a`` (activation), ``b`` (inactivation).

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.neurons import channels as ch
    >>> from braindyn.neurons.channels_extra import IA_CS
    >>> parts = {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3)}
    >>> plain = bd.neurons.ConductanceNeuron(parts)
    >>> with_a = bd.neurons.ConductanceNeuron({**parts, "A": IA_CS(g=10.0)})
    >>> with_a.variables
    ('V', 'Na_m', 'Na_h', 'K_n', 'A_a', 'A_b')
    >>> n0 = bd.run(plain, duration=200.0, inputs=15.0).spike_count()
    >>> n1 = bd.run(with_a, duration=200.0, inputs=15.0).spike_count()
    >>> bool(0 < n1 < n0)
    True
    """

    gates: ClassVar[tuple[str, ...]] = ("a", "b")
    ion: ClassVar[str] = "K"
    g: Any = param(47.7, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-75.0, unit="mV", doc="reversal potential")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def a_inf(V):
        """Steady-state activation (dimensionless)."""
        # cube root taken in log space: log(0.0761) + 0.0314 (V + 94.22) - log(1 + e^{0.0346 (V + 1.17)})
        log_a3 = jnp.log(0.0761) + 0.0314 * (V + 94.22) - jnp.logaddexp(0.0, 0.0346 * (V + 1.17))
        return jnp.exp(log_a3 / 3.0)

    @staticmethod
    def tau_a(V):
        """Activation time constant (ms)."""
        return 0.3632 + 1.158 * jax.nn.sigmoid(-0.0497 * (V + 55.96))

    @staticmethod
    def b_inf(V):
        """Steady-state inactivation (dimensionless)."""
        return jax.nn.sigmoid(-0.0688 * (V + 53.3)) ** 4

    @staticmethod
    def tau_b(V):
        """Inactivation time constant (ms)."""
        return 1.24 + 2.678 * jax.nn.sigmoid(-0.0624 * (V + 50.0))

    def gates_inf(self, V, env):
        return {"a": self.a_inf(V), "b": self.b_inf(V)}

    def derivs(self, V, s, env):
        return {"a": self.phi * (self.a_inf(V) - s["a"]) / self.tau_a(V),
                "b": self.phi * (self.b_inf(V) - s["b"]) / self.tau_b(V)}

    def current(self, V, s, env):
        return self.g * s["a"] ** 3 * s["b"] * (V - self.E)


class Ih_HM(Channel):
    """Hyperpolarisation-activated cation current (Ih) of thalamocortical relay neurons,
    :math:`I_h = g_h\\, m\\,(V - E_h)`.

    Source: J. R. Huguenard & D. A. McCormick (1992), J Neurophysiol 68:1373--1383 and
    D. A. McCormick & J. R. Huguenard (1992), J Neurophysiol 68:1384--1400 (activation from
    McCormick & Pape 1990, J Physiol 431:291--318; the same kinetics as the Ih of Destexhe
    et al. 1993 without its calcium modulation), V in mV, :math:`\\tau_m` in ms:

    .. math::
        m_\\infty = \\frac{1}{1 + e^{(V + 75)/5.5}}, \\qquad
        \\tau_m = \\frac{1}{e^{-14.59 - 0.086 V} + e^{-1.87 + 0.0701 V}}, \\qquad
        \\frac{dm}{dt} = \\phi\\,\\frac{m_\\infty - m}{\\tau_m}

    The gate opens with hyperpolarisation, slowly (:math:`\\tau_m` peaks near 1 s around
    -80 mV), and the current is inward below :math:`E_h`: a hyperpolarising step gives a
    voltage sag back toward rest and, on release, a rebound depolarisation.

    Parameters: ``g`` maximal conductance (mS/cm^2, >= 0) 0.02, ``E`` reversal potential
    (mV) -43, ``phi`` temperature factor (dimensionless, > 0) 1 (the published rates).
    Gate: ``m``. The current is non-specific (``ion = "h"``, summed into ``env["I_h"]``).

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.neurons import channels as ch
    >>> from braindyn.neurons.channels_extra import Ih_HM
    >>> float(Ih_HM.m_inf(-75.0))
    0.5
    >>> cell = bd.neurons.ConductanceNeuron({"L": ch.Leak(g=0.1, E=-65.0), "h": Ih_HM(g=0.1)})
    >>> step = bd.inputs.section([0.0, -2.0], [200.0, 1500.0])
    >>> V = bd.run(cell, duration=1700.0, inputs=step, record="V")["V"][:, 0]
    >>> bool(V.min() < V[-1] - 2.0)   # the sag: V recovers by more than 2 mV from its minimum
    True
    """

    gates: ClassVar[tuple[str, ...]] = ("m",)
    ion: ClassVar[str] = "h"
    g: Any = param(0.02, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-43.0, unit="mV", doc="reversal potential")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    @staticmethod
    def m_inf(V):
        """Steady-state activation (dimensionless)."""
        return jax.nn.sigmoid(-(V + 75.0) / 5.5)

    @staticmethod
    def tau_m(V):
        """Activation time constant (ms)."""
        return 1.0 / (jnp.exp(-14.59 - 0.086 * V) + jnp.exp(-1.87 + 0.0701 * V))

    def gates_inf(self, V, env):
        return {"m": self.m_inf(V)}

    def derivs(self, V, s, env):
        return {"m": self.phi * (self.m_inf(V) - s["m"]) / self.tau_m(V)}

    def current(self, V, s, env):
        return self.g * s["m"] * (V - self.E)
