"""Izhikevich's simple model (2003) with the firing-pattern presets of the 2003 and 2004 papers."""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import numpy as np

from .._errors import check_choice
from ..core import SpikingNeuron
from ..params import param

__all__ = ["Izhikevich", "IZHIKEVICH_PATTERNS", "IZHIKEVICH_FEATURES"]

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


#: More neuro-computational features of Izhikevich (2004, IEEE TNN 15:1063, Fig. 1), each with
#: the parameters, initial state, stimulus and (where the figure uses it) the modified equation
#: of that figure (``k1 = 4.1, k0 = 108`` for class-1 excitability; ``du/dt = a b (V + 65)``,
#: i.e. ``V_u = -65, lambda_u = 0``, for accommodation). ``stim`` is a piecewise-constant
#: current ``(values, durations)`` plus ``ramps``, a list of linear ramps
#: ``(I_start, I_end, t_start, t_end)`` (ms) added to it; ``T`` is the duration of the figure
#: panel (ms) and ``window`` the interval ``(t_on, t_off)`` in which the response is judged.
#:
#: The figure was drawn with forward Euler at 0.1--0.5 ms (``u`` updated with the new ``V``);
#: every feature listed here is a property of the continuous model: it is the same with
#: exponential Euler at 0.1 ms and with ``rk4`` at 0.05 or 0.01 ms (``dt`` and ``method`` are
#: the recommended settings, used by the gallery). Three panels of the figure are *not*
#: listed because at a converged step they are not what the figure shows: DAP (a = 1, d = -21:
#: repetitive firing after the pulse instead of one spike; the figure relies on its 0.1 ms Euler
#: step), inhibition-induced bursting (c = -45 lies above the spike threshold of the continuous
#: model, which then fires without end), and bistability (whether the second pulse ends the
#: firing depends on its phase, which the 0.25 ms Euler step shifts).
#: The onset of tonic spiking and of adaptation starts from ``u = b V``, the rest at ``I = 0``, so
#: both begin with a short first interval (as in the figure).
IZHIKEVICH_FEATURES = {
    "tonic_spiking": dict(a=0.02, b=0.2, c=-65.0, d=6.0, V0=-70.0, stim=([0.0, 14.0], [10.0, 90.0]),
                          T=100.0, window=(10.0, 100.0)),
    "spike_frequency_adaptation": dict(a=0.01, b=0.2, c=-65.0, d=8.0, V0=-70.0, stim=([0.0, 30.0], [8.5, 76.5]),
                                       T=85.0, window=(8.5, 85.0)),
    "class_1_excitable": dict(a=0.02, b=-0.1, c=-55.0, d=6.0, k1=4.1, k0=108.0, V0=-60.0, stim=([0.0], [300.0]),
                              ramps=[(0.0, 20.25, 30.0, 300.0)], T=300.0, window=(30.0, 300.0)),
    "class_2_excitable": dict(a=0.2, b=0.26, c=-65.0, d=0.0, V0=-64.0, stim=([-0.5], [300.0]),
                              ramps=[(0.0, 4.05, 30.0, 300.0)], T=300.0, window=(30.0, 300.0)),
    "subthreshold_oscillations": dict(a=0.05, b=0.26, c=-60.0, d=0.0, V0=-62.0, stim=([0.0, 2.0, 0.0], [20.0, 5.0, 175.0]),
                                      T=200.0, window=(20.0, 200.0)),
    "integrator": dict(a=0.02, b=-0.1, c=-55.0, d=6.0, k1=4.1, k0=108.0, V0=-60.0,
                       stim=([0.0, 9.0, 0.0, 9.0, 0.0, 9.0, 0.0, 9.0, 0.0],
                             [100.0 / 11, 2.0, 3.0, 2.0, 70.0 - 100.0 / 11 - 7.0, 2.0, 8.0, 2.0, 18.0]),
                       T=100.0, window=(100.0 / 11, 100.0)),
    "rebound_burst": dict(a=0.03, b=0.25, c=-52.0, d=0.0, V0=-64.0, stim=([0.0, -15.0, 0.0], [20.0, 5.0, 175.0]),
                          T=200.0, window=(25.0, 200.0)),
    "threshold_variability": dict(a=0.03, b=0.25, c=-60.0, d=4.0, V0=-64.0,
                                  stim=([0.0, 1.0, 0.0, -6.0, 0.0, 1.0, 0.0], [10.0, 5.0, 55.0, 5.0, 5.0, 5.0, 15.0]),
                                  T=100.0, window=(0.0, 100.0)),
    "accommodation": dict(a=0.02, b=1.0, c=-55.0, d=4.0, V_u=-65.0, lambda_u=0.0, V0=-65.0, u0=-16.0,
                          stim=([0.0], [400.0]), ramps=[(0.0, 8.0, 0.0, 200.0), (0.0, 4.0, 300.0, 312.5)],
                          T=400.0, window=(0.0, 400.0)),
    "inhibition_induced_spiking": dict(a=-0.02, b=-1.0, c=-60.0, d=8.0, V0=-63.8, stim=([80.0, 75.0, 80.0], [50.0, 200.0, 100.0]),
                                       T=350.0, window=(50.0, 250.0)),
}
_FEATURE_DEFAULTS = dict(k1=5.0, k0=140.0, V_u=0.0, lambda_u=1.0, u0=None, ramps=(), dt=0.05, method="rk4")
for _f in IZHIKEVICH_FEATURES.values():
    for _k, _v in _FEATURE_DEFAULTS.items():
        _f.setdefault(_k, _v)
_ALL = {**IZHIKEVICH_PATTERNS, **IZHIKEVICH_FEATURES}


class Izhikevich(SpikingNeuron):
    """Izhikevich's simple spiking model (Izhikevich 2003).

    .. math::
        \\frac{dV}{dt} &= 0.04 V^2 + k_1 V + k_0 - u + I(t) \\\\
        \\frac{du}{dt} &= a\\,[b (V - V_u) - \\lambda_u u] \\\\
        V > V_{th} &\\Rightarrow V \\leftarrow c,\\; u \\leftarrow u + d

    ``V`` in mV, ``t`` in ms, ``I`` and ``u`` in mV/ms (the model's own units). Fixed points
    satisfy :math:`0.04 V^2 + (5 - b) V + 140 + I = 0`, so with ``b = 0.2`` the saddle-node
    is at :math:`I = (5-b)^2/0.16 - 140 = 4` (:meth:`saddle_node_current`).

    The defaults :math:`k_1 = 5, k_0 = 140, V_u = 0, \\lambda_u = 1` give the 2003 model,
    :math:`\\dot u = a (b V - u)`; a few panels of Izhikevich (2004) use other values
    (:data:`IZHIKEVICH_FEATURES`).

    :meth:`preset` builds the classic patterns (:data:`IZHIKEVICH_PATTERNS`: regular_spiking,
    intrinsically_bursting, chattering, fast_spiking, low_threshold_spiking, thalamo_cortical,
    resonator, and features of the 2004 paper) and the further 2004 features of
    :data:`IZHIKEVICH_FEATURES` (tonic_spiking, spike_frequency_adaptation, class_1_excitable,
    rebound_burst, ...), each with its stimulus (:meth:`pattern_input`).

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
    k1, k0 : float
        Linear (1/ms) and constant (mV/ms) coefficients of the V equation: 5, 140.
    V_u : float
        Potential (mV) from which ``u`` is driven: 0.
    lambda_u : float
        Relative decay of ``u`` (dimensionless; 0 makes ``u`` a pure integrator of V - V_u): 1.
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
    >>> pat = "rebound_burst"       # Izhikevich (2004), Fig. 1(N), with its own stimulus
    >>> res = bd.run(bd.neurons.Izhikevich.preset(pat), 200.0, 0.05,
    ...              inputs=bd.neurons.Izhikevich.pattern_input(pat, 200.0))
    >>> bool(res.spike_times()[0] > 25.0)  # fires only after release from inhibition (20-25 ms)
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "u")
    a: Any = param(0.02, unit="1/ms", doc="recovery rate")
    b: Any = param(0.2, unit="1", doc="sensitivity of u to V")
    c: Any = param(-65.0, unit="mV", doc="reset potential")
    d: Any = param(2.0, unit="mV/ms", doc="spike-triggered increment of u")
    V_th: Any = param(30.0, unit="mV", doc="spike cut-off")
    k1: Any = param(5.0, unit="1/ms", doc="linear coefficient of the V equation")
    k0: Any = param(140.0, unit="mV/ms", doc="constant term of the V equation")
    V_u: Any = param(0.0, unit="mV", doc="potential from which u is driven")
    lambda_u: Any = param(1.0, unit="1", doc="relative decay of u (0: pure integrator)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = -65 mV")
    u_init: Optional[Any] = param(None, unit="mV/ms", doc="initial recovery variable; None = b V_init")

    @classmethod
    def preset(cls, pattern: str, **overrides):
        """The cell of firing ``pattern`` (see :data:`IZHIKEVICH_PATTERNS`), with overrides."""
        check_choice("Izhikevich pattern", pattern, list(_ALL), "Izhikevich.preset")
        p = _ALL[pattern]
        kw = dict(a=p["a"], b=p["b"], c=p["c"], d=p["d"], V_init=p["V0"])
        if pattern in IZHIKEVICH_FEATURES:
            kw.update({k: p[k] for k in ("k1", "k0", "V_u", "lambda_u", "method")}, u_init=p["u0"])
        kw.update(overrides)
        return cls(**kw)

    @staticmethod
    def pattern_input(pattern: str, duration: Optional[float] = None):
        """The stimulus of ``pattern`` as a :func:`braindyn.inputs.section` (its last value held
        to ``duration``) plus the pattern's ramps, if any."""
        from .. import inputs

        check_choice("Izhikevich pattern", pattern, list(_ALL), "Izhikevich.pattern_input")
        vals, durs = _ALL[pattern]["stim"]
        vals, durs = list(vals), list(durs)
        if duration is not None and duration > sum(durs):
            vals.append(vals[-1])
            durs.append(duration - sum(durs))
        stim = inputs.section(vals, durs)
        for r in _ALL[pattern].get("ramps", ()):
            stim = stim + inputs.ramp(*r)
        return stim

    def initial(self):
        V0 = -65.0 if self.V_init is None else self.V_init
        return {"V": V0, "u": self.b * V0 if self.u_init is None else self.u_init}

    def vector_field(self, t, y, args):
        V, u = y["V"], y["u"]
        return {"V": 0.04 * V * V + self.k1 * V + self.k0 - u + args["I"],
                "u": self.a * (self.b * (V - self.V_u) - self.lambda_u * u)}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.c, spike), "u": y["u"] + self.d * spike}

    def saddle_node_current(self):
        """Current at which the two fixed points merge (for :math:`\\lambda_u = 1`, where
        :math:`u^* = b (V - V_u)`): :math:`(k_1 - b)^2/0.16 - k_0 - b V_u` (host-side, NumPy)."""
        k1, b, k0, V_u = (np.asarray(getattr(self, k), float) for k in ("k1", "b", "k0", "V_u"))
        return (k1 - b) ** 2 / 0.16 - k0 - b * V_u
