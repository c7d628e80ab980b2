"""The reduced two-variable rate model of perceptual decision making (Wong & Wang 2006)."""
from __future__ import annotations

from typing import Any, ClassVar

import jax.numpy as jnp

from .._errors import check_finite, check_positive
from ..core import ODEModel

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
    J_E: Any = 0.2609
    J_I: Any = 0.0497
    I0: Any = 0.3255
    J_ext: Any = 5.2e-4
    mu0: Any = 20.0
    coherence: Any = 0.0
    gamma: Any = 6.41e-4
    tau_s: Any = 100.0
    a: Any = 270.0
    b: Any = 108.0
    d: Any = 0.154
    s1_init: Any = 0.1
    s2_init: Any = 0.1

    def __check_init__(self):
        ODEModel.__check_init__(self)
        for k in ("tau_s", "gamma", "a", "d"):
            check_positive(k, getattr(self, k), "WongWang")
        for k in ("J_E", "J_I", "I0", "J_ext", "mu0", "coherence", "b", "s1_init", "s2_init"):
            check_finite(k, getattr(self, k), "WongWang")

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
