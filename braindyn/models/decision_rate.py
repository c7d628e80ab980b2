"""The reduced two-variable rate model of perceptual decision making (Wong & Wang 2006)."""
from __future__ import annotations

from typing import Any, ClassVar

import jax.numpy as jnp

from ..core import ODEModel
from ..params import param

__all__ = ["WongWang"]


class WongWang(ODEModel):
    """Wong--Wang reduced decision model: two NMDA gating variables :math:`s_1, s_2`.

    .. math::
        x_1 &= J_E s_1 - J_I s_2 + I_0 + J_{ext}\\,\\mu_0 (1 + c/100) + I_1(t) \\\\
        x_2 &= J_E s_2 - J_I s_1 + I_0 + J_{ext}\\,\\mu_0 (1 - c/100) + I_2(t) \\\\
        H(x) &= \\frac{a x - b}{1 - e^{-d (a x - b)}} \\quad (\\text{Hz}) \\\\
        \\frac{ds_i}{dt} &= -\\frac{s_i}{\\tau_s} + (1 - s_i)\\,\\gamma\\,H(x_i)

    The cross-coupling :math:`J_I` is *subtracted* (inhibition), in the equations and in the
    rates of :meth:`rates` alike (the book's code adds it when it monitors the rates: a quirk
    not copied). :math:`H` has a removable singularity at :math:`a x = b` (value :math:`1/d`),
    evaluated exactly.

    Parameters (Wong & Wang 2006, time in ms)
    -----------------------------------------
    J_E, J_I : float
        Self-excitation and cross-inhibition (nA): 0.2609, 0.0497.
    I0 : float
        Background current (nA): 0.3255.
    J_ext : float
        Stimulus coupling (nA/Hz): 5.2e-4.
    mu0 : float
        Stimulus strength (Hz): 20.
    coherence : float
        Motion coherence :math:`c` (%): 0.
    gamma : float
        Kinetic factor (1/ms per Hz): 6.41e-4 (0.641 /s).
    tau_s : float
        NMDA time constant (ms): 100.
    a, b, d : float
        Transfer function: 270 Hz/nA, 108 Hz, 0.154 s.
    s1_init, s2_init : float
        Initial gating values, 0.1.

    Inputs: ``args["I1"]``, ``args["I2"]`` (nA, e.g. Ornstein--Uhlenbeck noise from
    :func:`braindyn.inputs.ou`) add to each population; ``args["I"]`` adds to both.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> m = WongWang()
    >>> f = m.vector_field(0.0, {"s1": jnp.array(0.63785), "s2": jnp.array(0.04281)}, {"I": 0.0})
    >>> bool(abs(f["s1"]) < 1e-5 and abs(f["s2"]) < 1e-5)
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("s1", "s2")
    J_E: Any = param(0.2609, unit="nA", doc="self-excitation")
    J_I: Any = param(0.0497, unit="nA", doc="cross-inhibition")
    I0: Any = param(0.3255, unit="nA", doc="background current")
    J_ext: Any = param(5.2e-4, unit="nA/Hz", doc="stimulus coupling")
    mu0: Any = param(20.0, unit="Hz", doc="stimulus strength")
    coherence: Any = param(0.0, unit="%", doc="motion coherence")
    gamma: Any = param(6.41e-4, bound="positive", unit="1/(ms Hz)", doc="kinetic factor")
    tau_s: Any = param(100.0, bound="positive", unit="ms", doc="NMDA time constant")
    a: Any = param(270.0, bound="positive", unit="Hz/nA", doc="transfer gain")
    b: Any = param(108.0, unit="Hz", doc="transfer offset")
    d: Any = param(0.154, bound="positive", unit="s", doc="transfer curvature")
    s1_init: Any = param(0.1, doc="initial gating of population 1")
    s2_init: Any = param(0.1, doc="initial gating of population 2")

    def initial(self):
        return {"s1": self.s1_init, "s2": self.s2_init}

    def transfer(self, x):
        """Population rate :math:`H(x)` (Hz) for the input current ``x`` (nA)."""
        z = self.a * x - self.b
        dz = self.d * z
        small = jnp.abs(dz) < 1e-6
        safe = jnp.where(small, 1.0, dz)
        return jnp.where(small, (1.0 + 0.5 * dz) / self.d, z / (-jnp.expm1(-safe)))

    def currents(self, y, args):
        """Total synaptic inputs ``(x1, x2)`` (nA)."""
        common = args.get("I", 0.0)
        stim = self.J_ext * self.mu0
        x1 = self.J_E * y["s1"] - self.J_I * y["s2"] + self.I0 + stim * (1 + self.coherence / 100.0) \
            + args.get("I1", 0.0) + common
        x2 = self.J_E * y["s2"] - self.J_I * y["s1"] + self.I0 + stim * (1 - self.coherence / 100.0) \
            + args.get("I2", 0.0) + common
        return x1, x2

    def rates(self, y, args=None):
        """Firing rates ``{"r1", "r2"}`` (Hz) of the two populations."""
        x1, x2 = self.currents(y, args or {})
        return {"r1": self.transfer(x1), "r2": self.transfer(x2)}

    def vector_field(self, t, y, args):
        x1, x2 = self.currents(y, args)
        return {
            "s1": -y["s1"] / self.tau_s + (1 - y["s1"]) * self.gamma * self.transfer(x1),
            "s2": -y["s2"] / self.tau_s + (1 - y["s2"]) * self.gamma * self.transfer(x2),
        }
