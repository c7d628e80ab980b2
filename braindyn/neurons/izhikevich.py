"""Izhikevich's simple model (2003) with the firing-pattern presets of the 2003 and 2004 papers."""
from __future__ import annotations

from typing import Any, ClassVar, Optional


from .._errors import check_choice, check_finite
from ..core import SpikingNeuron

__all__ = ["Izhikevich", "IZHIKEVICH_PATTERNS"]

#: Firing patterns: parameters ``(a, b, c, d)``, the stimulus as a piecewise-constant current
#: ``(values, durations)`` in the model's units, and the initial ``V`` (mV).
#: The first seven are the cortical and thalamic classes of Izhikevich (2003, IEEE TNN 14:1569,
#: Fig. 2), shown as in the book by a constant current of 10 from rest (-65 mV), except the
#: thalamo-cortical cell (a rebound burst after release from 100 ms of hyperpolarisation) and
#: the resonator (a weak sustained drive of 0.5 from 20 ms: it fires at once at a finite rate,
#: class-2 excitability). The others are features of Izhikevich (2004, IEEE TNN 15:1063,
#: Fig. 1) with the parameters and stimuli of that paper (the stimulus starts at the same time).
IZHIKEVICH_PATTERNS = {
    "regular_spiking": dict(a=0.02, b=0.2, c=-65.0, d=8.0, stim=([10.0], [200.0]), V0=-65.0),
    "intrinsically_bursting": dict(a=0.02, b=0.2, c=-55.0, d=4.0, stim=([10.0], [200.0]), V0=-65.0),
    "chattering": dict(a=0.02, b=0.2, c=-50.0, d=2.0, stim=([10.0], [200.0]), V0=-65.0),
    "fast_spiking": dict(a=0.1, b=0.2, c=-65.0, d=2.0, stim=([10.0], [200.0]), V0=-65.0),
    "low_threshold_spiking": dict(a=0.02, b=0.25, c=-65.0, d=2.0, stim=([10.0], [200.0]), V0=-65.0),
    "thalamo_cortical": dict(a=0.02, b=0.25, c=-65.0, d=0.05, stim=([-10.0, 0.0], [100.0, 100.0]), V0=-65.0),
    "resonator": dict(a=0.1, b=0.26, c=-65.0, d=2.0, stim=([0.0, 0.5], [20.0, 180.0]), V0=-65.0),
    "phasic_spiking": dict(a=0.02, b=0.25, c=-65.0, d=6.0, stim=([0.0, 0.5], [20.0, 180.0]), V0=-64.0),
    "tonic_bursting": dict(a=0.02, b=0.2, c=-50.0, d=2.0, stim=([0.0, 15.0], [22.0, 178.0]), V0=-70.0),
    "phasic_bursting": dict(a=0.02, b=0.25, c=-55.0, d=0.05, stim=([0.0, 0.6], [20.0, 180.0]), V0=-64.0),
    "mixed_mode": dict(a=0.02, b=0.2, c=-55.0, d=4.0, stim=([0.0, 10.0], [16.0, 184.0]), V0=-70.0),
    "spike_latency": dict(a=0.02, b=0.2, c=-65.0, d=6.0, stim=([0.0, 7.04, 0.0], [10.0, 3.0, 87.0]), V0=-70.0),
    "rebound_spike": dict(a=0.03, b=0.25, c=-60.0, d=4.0, stim=([0.0, -15.0, 0.0], [20.0, 5.0, 175.0]), V0=-64.0),
}


class Izhikevich(SpikingNeuron):
    """Izhikevich's simple spiking model (Izhikevich 2003).

    .. math::
        \\frac{dV}{dt} &= 0.04 V^2 + 5 V + 140 - u + I(t) \\\\
        \\frac{du}{dt} &= a (b V - u) \\\\
        V > V_{th} &\\Rightarrow V \\leftarrow c,\\; u \\leftarrow u + d

    ``V`` in mV, ``t`` in ms, ``I`` and ``u`` in mV/ms (the model's own units). Fixed points
    satisfy :math:`0.04 V^2 + (5 - b) V + 140 + I = 0`, so with ``b = 0.2`` the saddle-node
    is at :math:`I = (5-b)^2/0.16 - 140 = 4` (:meth:`saddle_node_current`).

    :meth:`preset` builds the classic patterns (:data:`IZHIKEVICH_PATTERNS`: regular_spiking,
    intrinsically_bursting, chattering, fast_spiking, low_threshold_spiking, thalamo_cortical,
    resonator, and features of the 2004 paper), each with its stimulus
    (:meth:`pattern_input`).

    Parameters
    ----------
    a : float
        Recovery rate (1/ms): 0.02.
    b : float
        Sensitivity of ``u`` to ``V`` (dimensionless): 0.2.
    c : float
        Reset potential (mV): -65.
    d : float
        Spike-triggered increment of ``u`` (mV/ms): 2 (the book's default cell).
    V_th : float
        Spike cut-off (mV): 30.
    t_ref : float
        Refractory period (ms): 0.
    V_init, u_init : float or None
        Initial values; None starts at V = -65 mV and ``u = b V``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.Izhikevich.preset("regular_spiking"), duration=200.0, inputs=10.0)
    >>> res.spike_count()
    5
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "u")
    a: Any = 0.02
    b: Any = 0.2
    c: Any = -65.0
    d: Any = 2.0
    V_th: Any = 30.0
    V_init: Optional[Any] = None
    u_init: Optional[Any] = None

    def __check_init__(self):
        SpikingNeuron.__check_init__(self)
        for name in ("a", "b", "c", "d", "V_th"):
            check_finite(name, getattr(self, name), "Izhikevich")

    @classmethod
    def preset(cls, pattern: str, **overrides):
        """The cell of firing ``pattern`` (see :data:`IZHIKEVICH_PATTERNS`), with overrides."""
        check_choice("Izhikevich pattern", pattern, list(IZHIKEVICH_PATTERNS), "Izhikevich.preset")
        p = IZHIKEVICH_PATTERNS[pattern]
        kw = dict(a=p["a"], b=p["b"], c=p["c"], d=p["d"], V_init=p["V0"])
        kw.update(overrides)
        return cls(**kw)

    @staticmethod
    def pattern_input(pattern: str, duration: Optional[float] = None):
        """The stimulus of ``pattern`` as a :func:`braindyn.inputs.section` (padded to ``duration``)."""
        from .. import inputs

        check_choice("Izhikevich pattern", pattern, list(IZHIKEVICH_PATTERNS), "Izhikevich.pattern_input")
        vals, durs = IZHIKEVICH_PATTERNS[pattern]["stim"]
        vals, durs = list(vals), list(durs)
        if duration is not None and duration > sum(durs):
            vals.append(vals[-1])
            durs.append(duration - sum(durs))
        return inputs.section(vals, durs)

    def initial(self):
        V0 = -65.0 if self.V_init is None else self.V_init
        return {"V": V0, "u": self.b * V0 if self.u_init is None else self.u_init}

    def vector_field(self, t, y, args):
        V, u = y["V"], y["u"]
        return {"V": 0.04 * V * V + 5.0 * V + 140.0 - u + args["I"], "u": self.a * (self.b * V - u)}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.c, spike), "u": y["u"] + self.d * spike}

    def saddle_node_current(self):
        """Current at which the two fixed points merge: :math:`(5 - b)^2/0.16 - 140`."""
        return (5.0 - self.b) ** 2 / 0.16 - 140.0
