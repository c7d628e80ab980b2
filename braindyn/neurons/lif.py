"""Leaky integrate-and-fire neuron."""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import numpy as np

from ..core import SpikingNeuron, split_current
from ..params import param

__all__ = ["LIF"]


class LIF(SpikingNeuron):
    """Leaky integrate-and-fire neuron (Lapicque; the book's chapter 3 model).

    .. math::
        \\tau \\frac{dV}{dt} = -(V - V_{rest}) + R\\, I(t), \\qquad
        V > V_{th} \\;\\Rightarrow\\; V \\leftarrow V_{reset},\\ \\text{frozen for } t_{ref}.

    For constant :math:`I` with :math:`R I > V_{th} - V_{rest}` the period from reset is
    :math:`T = t_{ref} + \\tau \\ln\\frac{R I + V_{rest} - V_{reset}}{R I + V_{rest} - V_{th}}`.
    Exponential Euler (the default ``method``) is exact for this equation between spikes.

    Parameters
    ----------
    n : int
        Number of neurons.
    V_rest, V_reset, V_th : float
        Resting, reset and threshold potentials (mV).
    R : float
        Membrane resistance (MOhm with I in nA, or 1 for I in mV).
    tau : float
        Membrane time constant (ms, > 0).
    t_ref : float
        Refractory period (ms, >= 0).
    V_init : float or None
        Initial potential (mV); ``None`` starts at ``V_reset`` as the book does.

    Book defaults: V_rest 0, V_reset -5, V_th 20 mV, R 1, tau 10 ms, t_ref 5 ms.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.LIF(), duration=200.0, inputs=22.0)
    >>> int(res.spike_count())
    6
    """

    variables: ClassVar[tuple[str, ...]] = ("V",)
    t_ref: Any = param(5.0, bound="nonnegative", unit="ms", doc="absolute refractory period")
    V_rest: Any = param(0.0, unit="mV", doc="resting potential")
    V_reset: Any = param(-5.0, unit="mV", doc="reset potential")
    V_th: Any = param(20.0, unit="mV", doc="spike threshold (strict V > V_th)")
    R: Any = param(1.0, unit="MOhm", doc="membrane resistance (1 for I in mV)")
    tau: Any = param(10.0, bound="positive", unit="ms", doc="membrane time constant")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_reset")

    def initial(self):
        return {"V": self.V_reset if self.V_init is None else self.V_init}

    def vector_field(self, t, y, args):
        return {"V": (-(y["V"] - self.V_rest) + self.R * args["I"]) / self.tau}

    def linear_part(self, t, y, args):
        # tau dV/dt = -(V - V_rest) + R (J - g V):  a = -(1 + R g)/tau,  b = (V_rest + R J)/tau
        g, J = split_current(args["I"])
        return {"V": (-(1.0 + self.R * g) / self.tau, (self.V_rest + self.R * J) / self.tau)}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.V_reset, spike)}

    def period(self, I):
        """Analytic firing period (ms) for constant current ``I`` (``inf`` below rheobase).
        A host-side helper (NumPy)."""
        p = {k: np.asarray(getattr(self, k), float) for k in ("R", "V_rest", "V_reset", "V_th", "tau", "t_ref")}
        drive = p["R"] * np.asarray(I, float) + p["V_rest"]
        with np.errstate(divide="ignore", invalid="ignore"):
            T = p["t_ref"] + p["tau"] * np.log((drive - p["V_reset"]) / (drive - p["V_th"]))
        return np.where(drive > p["V_th"], T, np.inf)
