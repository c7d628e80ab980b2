"""The integrate-and-fire family beyond LIF: QIF, theta, ExpIF, AdEx, adaptive QIF and GIF.

Every model is a :class:`~braindyn.core.SpikingNeuron`: its continuous part is a pure
``vector_field(t, y, args)`` (``args["I"]`` the input current), the spike is the strict
``V > V_th`` test of the book, the reset is written with :meth:`reset_to` so that surrogate
gradients flow, and refractoriness (``t_ref``), noise (``noise={"V": sigma}``) and the spike
function (``spike_fn``) are the shared pieces of the core, not variants of these classes.

All models start at ``V_reset`` (the book's initial condition) unless ``V_init`` is given.
The default ``method`` is exponential Euler (the book's ``exp_auto``) at dt = 0.1 ms.

Models with an exponential term (ExpIF, AdEx) overshoot to very large values in the step
that crosses threshold; :meth:`reset` clips ``V`` at ``V_th`` before resetting it, so the
reset is exact in floating point whatever the size of the overshoot.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Optional

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import check_choice
from ..core import SpikingNeuron
from ..params import param

__all__ = ["QIF", "Theta", "ExpIF", "AdEx", "AdQIF", "GIF", "ADEX_PATTERNS", "GIF_PATTERNS", "GIF_FEATURES"]


def _np(obj, *names):
    """Host copies (NumPy float arrays) of parameters, for the analytic helper methods."""
    return [np.asarray(getattr(obj, k), float) for k in names]


#: Largest exponent of the exponential spike term (e^80 is finite in float32).
_EXP_CAP = 80.0


def _exp_term(V, V_T, delta_T, V_th):
    """:math:`\\Delta_T e^{(V - V_T)/\\Delta_T}` with the exponent capped at its value at ``V_th``
    (and at 80): unchanged for ``V <= V_th``, finite for the overshooting stages of a
    Runge--Kutta step (which would otherwise give ``inf - inf = NaN``)."""
    x = (V - V_T) / delta_T
    cap = jnp.minimum((V_th - V_T) / delta_T, _EXP_CAP)
    return delta_T * jnp.exp(jnp.minimum(x, cap))


def _clip_reset(V, V_th, V_reset, spike):
    # Clip the overshoot of the spiking step before the reset: x + s (v - x) with a huge x
    # would lose v to cancellation. The clip selects (no product), so gradients stay finite.
    Vc = jnp.where(V > V_th, V_th, V)
    return SpikingNeuron.reset_to(Vc, V_reset, spike)


# ---------------------------------------------------------------------------------------------
class QIF(SpikingNeuron):
    """Quadratic integrate-and-fire neuron (Latham et al. 2000; the book's ``QuaIF``).

    .. math::
        \\tau \\frac{dV}{dt} = a_0 (V - V_{rest})(V - V_c) + R\\, I(t), \\qquad
        V > V_{th} \\Rightarrow V \\leftarrow V_{reset}

    For :math:`R I < I_{rh} = a_0 (V_c - V_{rest})^2 / 4` (the rheobase) there are two fixed
    points, stable :math:`V_-` and unstable :math:`V_+`,
    :math:`V_\\pm = \\tfrac{V_{rest}+V_c}{2} \\pm \\sqrt{(V_c - V_{rest})^2/4 - R I / a_0}`.
    Above the rheobase, with :math:`m = (V_{rest}+V_c)/2` and :math:`q = R I/a_0 - (V_c-V_{rest})^2/4`,
    the time from :math:`V_0` to threshold is
    :math:`T = \\frac{\\tau}{a_0\\sqrt q}\\left[\\arctan\\frac{V_{th}-m}{\\sqrt q}
    - \\arctan\\frac{V_0 - m}{\\sqrt q}\\right]` (see :meth:`period`).

    Parameters
    ----------
    V_rest, V_c : float
        Resting and critical potentials (mV): -65, -50.
    V_reset, V_th : float
        Reset (mV, -68) and spike cut-off (mV, 0 in the book's QIF chapter).
    a0 : float
        Curvature (1/mV, > 0): 0.07.
    R : float
        Membrane resistance (MOhm with I in nA; 1 for I in mV): 1.
    tau : float
        Membrane time constant (ms): 10.
    t_ref : float
        Refractory period (ms): 5.
    V_init : float or None
        Initial V (mV); None starts at ``V_reset``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.QIF(), duration=500.0, inputs=5.0)
    >>> res.spike_count()
    4
    """

    variables: ClassVar[tuple[str, ...]] = ("V",)
    t_ref: Any = param(5.0, bound="nonnegative", unit="ms", doc="absolute refractory period")
    V_rest: Any = param(-65.0, unit="mV", doc="resting potential (stable fixed point at I = 0)")
    V_c: Any = param(-50.0, unit="mV", doc="critical potential (unstable fixed point at I = 0)")
    V_reset: Any = param(-68.0, unit="mV", doc="reset potential")
    V_th: Any = param(0.0, unit="mV", doc="spike cut-off")
    a0: Any = param(0.07, bound="positive", unit="1/mV", doc="curvature")
    R: Any = param(1.0, unit="MOhm", doc="membrane resistance (1 for I in mV)")
    tau: Any = param(10.0, bound="positive", unit="ms", doc="membrane time constant")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_reset")

    def initial(self):
        return {"V": self.V_reset if self.V_init is None else self.V_init}

    def vector_field(self, t, y, args):
        V = y["V"]
        return {"V": (self.a0 * (V - self.V_rest) * (V - self.V_c) + self.R * args["I"]) / self.tau}

    def reset(self, y, spike):
        return {"V": _clip_reset(y["V"], self.V_th, self.V_reset, spike)}

    def rheobase(self):
        """Smallest constant current (units of I) that makes the neuron fire: :math:`a_0 (V_c-V_{rest})^2/(4R)`.
        (Host-side helper, NumPy; so are :meth:`fixed_points`, :meth:`time_to_threshold`, :meth:`period`.)"""
        a0, Vc, Vr, R = _np(self, "a0", "V_c", "V_rest", "R")
        return a0 * (Vc - Vr) ** 2 / (4.0 * R)

    def fixed_points(self, I=0.0):
        """``(V_-, V_+)`` (mV) below the rheobase (stable, unstable); NaN above it."""
        a0, Vc, Vr, R = _np(self, "a0", "V_c", "V_rest", "R")
        m = 0.5 * (Vr + Vc)
        d = 0.25 * (Vc - Vr) ** 2 - R * np.asarray(I, float) / a0
        s = np.sqrt(np.where(d >= 0, d, np.nan))
        return m - s, m + s

    def time_to_threshold(self, I, V0=None):
        """Analytic time (ms) from ``V0`` (default ``V_reset``) to ``V_th`` at constant ``I``."""
        a0, Vc, Vr, R, tau, Vth, Vreset = _np(self, "a0", "V_c", "V_rest", "R", "tau", "V_th", "V_reset")
        V0 = Vreset if V0 is None else np.asarray(V0, float)
        m = 0.5 * (Vr + Vc)
        q = R * np.asarray(I, float) / a0 - 0.25 * (Vc - Vr) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            sq = np.sqrt(np.where(q > 0, q, np.nan))
            T = tau / (a0 * sq) * (np.arctan((Vth - m) / sq) - np.arctan((V0 - m) / sq))
        return np.where(q > 0, T, np.inf)

    def period(self, I):
        """Analytic ISI (ms) at constant ``I``: ``t_ref`` + time from ``V_reset`` to ``V_th``."""
        return np.asarray(self.t_ref, float) + self.time_to_threshold(I)


# ---------------------------------------------------------------------------------------------
class Theta(SpikingNeuron):
    """Theta neuron (Ermentrout & Kopell 1986), the phase form of the QIF neuron.

    .. math::
        \\tau \\frac{d\\theta}{dt} = 1 - \\cos\\theta + (1 + \\cos\\theta)\\,(\\eta + R\\,I(t)),
        \\qquad \\theta > \\pi \\Rightarrow \\theta \\leftarrow \\theta - 2\\pi

    A spike is the passage of :math:`\\theta` through :math:`\\pi`. For a constant drive
    :math:`J = \\eta + R I > 0` the neuron fires periodically with period
    :math:`T = \\pi\\tau/\\sqrt{J}`; for :math:`J < 0` it rests at
    :math:`\\theta^* = -\\arccos\\frac{1 + J}{1 - J}` (see :meth:`period`).

    Parameters
    ----------
    tau : float
        Time constant (ms): 10.
    eta : float
        Excitability (dimensionless): 0.
    R : float
        Input gain (1/unit of I): 1.
    theta_init : float or None
        Initial phase (rad); None starts at :math:`-\\pi` (just after a spike).
    V_th : float
        The spike phase (rad), :math:`\\pi`; kept as a field for the shared spike test.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.Theta(method="rk4"), duration=100.0, dt=0.01, inputs=1.0)
    >>> res.spike_count()      # period pi * 10 ms = 31.4 ms
    3
    """

    variables: ClassVar[tuple[str, ...]] = ("theta",)
    spike_var: ClassVar[str] = "theta"
    refractory_vars: ClassVar[tuple[str, ...]] = ("theta",)
    tau: Any = param(10.0, bound="positive", unit="ms", doc="time constant")
    eta: Any = param(0.0, unit="1", doc="excitability (dimensionless)")
    R: Any = param(1.0, unit="1/unit of I", doc="input gain")
    V_th: Any = param(math.pi, unit="rad", doc="spike phase (pi)")
    theta_init: Optional[Any] = param(None, unit="rad", doc="initial phase; None = -pi")

    def initial(self):
        return {"theta": -math.pi if self.theta_init is None else self.theta_init}

    def vector_field(self, t, y, args):
        c = jnp.cos(y["theta"])
        return {"theta": (1.0 - c + (1.0 + c) * (self.eta + self.R * args["I"])) / self.tau}

    def spike_distance(self, y_old, y_new):
        return y_new["theta"] - self.V_th

    def reset(self, y, spike):
        return {"theta": y["theta"] - 2.0 * math.pi * spike}

    def rheobase(self):
        """Smallest constant current that makes the neuron fire: :math:`-\\eta/R` (host-side, NumPy)."""
        eta, R = _np(self, "eta", "R")
        return -eta / R

    def period(self, I):
        """Analytic period (ms) :math:`\\pi\\tau/\\sqrt{\\eta + R I}` (``inf`` at or below rheobase)."""
        eta, R, tau = _np(self, "eta", "R", "tau")
        J = eta + R * np.asarray(I, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(J > 0, math.pi * tau / np.sqrt(np.where(J > 0, J, 1.0)), np.inf)


# ---------------------------------------------------------------------------------------------
class ExpIF(SpikingNeuron):
    """Exponential integrate-and-fire neuron (Fourcaud-Trocmé et al. 2003).

    .. math::
        \\tau \\frac{dV}{dt} = -(V - V_{rest}) + \\Delta_T\\, e^{(V - V_T)/\\Delta_T} + R\\, I(t),
        \\qquad V > V_{th} \\Rightarrow V \\leftarrow V_{reset}

    The rheobase (saddle-node of the I-V curve, at :math:`V = V_T`) is
    :math:`I_{rh} = (V_T - V_{rest} - \\Delta_T)/R` (see :meth:`rheobase`).

    Parameters
    ----------
    V_rest, V_reset, V_th, V_T : float
        Resting (-65), reset (-68), cut-off (20 in the book's chapter) and soft-threshold (-60)
        potentials (mV).
    delta_T : float
        Slope factor (mV, > 0): 1.
    R : float
        Membrane resistance (MOhm with I in nA): 1.
    tau : float
        Membrane time constant (ms): 10.
    t_ref : float
        Refractory period (ms): 2.
    V_init : float or None
        Initial V (mV); None starts at ``V_reset``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.ExpIF(), duration=500.0, inputs=5.0)
    >>> res.spike_count()
    11
    """

    variables: ClassVar[tuple[str, ...]] = ("V",)
    t_ref: Any = param(2.0, bound="nonnegative", unit="ms", doc="absolute refractory period")
    V_rest: Any = param(-65.0, unit="mV", doc="resting potential")
    V_reset: Any = param(-68.0, unit="mV", doc="reset potential")
    V_th: Any = param(20.0, unit="mV", doc="spike cut-off")
    V_T: Any = param(-60.0, unit="mV", doc="soft threshold")
    delta_T: Any = param(1.0, bound="positive", unit="mV", doc="slope factor")
    R: Any = param(1.0, unit="MOhm", doc="membrane resistance")
    tau: Any = param(10.0, bound="positive", unit="ms", doc="membrane time constant")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_reset")

    def initial(self):
        return {"V": self.V_reset if self.V_init is None else self.V_init}

    def vector_field(self, t, y, args):
        V = y["V"]
        spike_term = _exp_term(V, self.V_T, self.delta_T, self.V_th)
        return {"V": (-(V - self.V_rest) + spike_term + self.R * args["I"]) / self.tau}

    def reset(self, y, spike):
        return {"V": _clip_reset(y["V"], self.V_th, self.V_reset, spike)}

    def rheobase(self):
        """:math:`(V_T - V_{rest} - \\Delta_T)/R` (units of I; host-side, NumPy)."""
        V_T, V_rest, delta_T, R = _np(self, "V_T", "V_rest", "delta_T", "R")
        return (V_T - V_rest - delta_T) / R


# ---------------------------------------------------------------------------------------------
#: The six AdEx firing patterns of the book (after Naud et al. 2008, Fig. 4 / Gerstner et al.,
#: *Neuronal Dynamics*, Table 6.1): parameters and the constant current that shows the pattern.
#: Common: R 0.5, delta_T 2, V_rest -70, V_T -50, V_th -30 (mV); start at V_reset with w = 0.
ADEX_PATTERNS = {
    "tonic": dict(a=0.0, b=60.0, tau=20.0, tau_w=30.0, V_reset=-55.0, I=65.0),
    "adapting": dict(a=0.0, b=5.0, tau=20.0, tau_w=100.0, V_reset=-55.0, I=65.0),
    "initial_burst": dict(a=0.5, b=7.0, tau=5.0, tau_w=100.0, V_reset=-51.0, I=65.0),
    "bursting": dict(a=-0.5, b=7.0, tau=5.0, tau_w=100.0, V_reset=-47.0, I=65.0),
    "transient": dict(a=1.0, b=10.0, tau=10.0, tau_w=100.0, V_reset=-60.0, I=55.0),
    "delayed": dict(a=-1.0, b=5.0, tau=5.0, tau_w=100.0, V_reset=-60.0, I=25.0),
}


class AdEx(SpikingNeuron):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    .. math::
        \\tau \\frac{dV}{dt} &= -(V - V_{rest}) + \\Delta_T e^{(V - V_T)/\\Delta_T} - R\\, w + R\\, I(t) \\\\
        \\tau_w \\frac{dw}{dt} &= a (V - V_{rest}) - w \\\\
        V > V_{th} &\\Rightarrow V \\leftarrow V_{reset},\\; w \\leftarrow w + b

    Defaults are the book's "tonic" pattern; :meth:`preset` builds the six firing patterns of
    the book (:data:`ADEX_PATTERNS`: tonic, adapting, initial_burst, bursting, transient,
    delayed), each shown by its own constant current (``ADEX_PATTERNS[name]["I"]``).

    Parameters
    ----------
    V_rest, V_reset, V_th, V_T : float
        Resting (-70), reset (-55), cut-off (-30) and soft-threshold (-50) potentials (mV).
    delta_T : float
        Slope factor (mV, > 0): 2.
    R : float
        Membrane resistance (GOhm with I in pA, w in pA): 0.5.
    tau : float
        Membrane time constant (ms): 20.
    a : float
        Subthreshold adaptation (nS = 1/GOhm with I in pA): 0.
    b : float
        Spike-triggered adaptation increment (units of I): 60.
    tau_w : float
        Adaptation time constant (ms): 30.
    t_ref : float
        Refractory period (ms): 0.
    V_init, w_init : float or None
        Initial values; None starts at ``V_reset`` with ``w = 0``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.AdEx.preset("tonic"), duration=500.0, inputs=65.0)
    >>> res.spike_count()
    9
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "w")
    V_rest: Any = param(-70.0, unit="mV", doc="resting potential")
    V_reset: Any = param(-55.0, unit="mV", doc="reset potential")
    V_th: Any = param(-30.0, unit="mV", doc="spike cut-off")
    V_T: Any = param(-50.0, unit="mV", doc="soft threshold")
    delta_T: Any = param(2.0, bound="positive", unit="mV", doc="slope factor")
    R: Any = param(0.5, unit="GOhm", doc="membrane resistance (I and w in pA)")
    tau: Any = param(20.0, bound="positive", unit="ms", doc="membrane time constant")
    a: Any = param(0.0, unit="nS", doc="subthreshold adaptation")
    b: Any = param(60.0, unit="pA", doc="spike-triggered adaptation increment (units of I)")
    tau_w: Any = param(30.0, bound="positive", unit="ms", doc="adaptation time constant")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_reset")
    w_init: Optional[Any] = param(None, unit="pA", doc="initial adaptation current; None = 0")

    @classmethod
    def preset(cls, pattern: str, **overrides):
        """The AdEx of the book's firing ``pattern`` (see :data:`ADEX_PATTERNS`), with overrides."""
        check_choice("AdEx pattern", pattern, list(ADEX_PATTERNS), "AdEx.preset")
        p = {k: v for k, v in ADEX_PATTERNS[pattern].items() if k != "I"}
        p.update(overrides)
        return cls(**p)

    def initial(self):
        return {"V": self.V_reset if self.V_init is None else self.V_init,
                "w": 0.0 if self.w_init is None else self.w_init}

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        spike_term = _exp_term(V, self.V_T, self.delta_T, self.V_th)
        return {
            "V": (-(V - self.V_rest) + spike_term - self.R * w + self.R * args["I"]) / self.tau,
            "w": (self.a * (V - self.V_rest) - w) / self.tau_w,
        }

    def reset(self, y, spike):
        return {"V": _clip_reset(y["V"], self.V_th, self.V_reset, spike), "w": y["w"] + self.b * spike}

    def rheobase(self):
        """Rheobase (units of I) of the saddle-node onset, for :math:`a \\ge 0`.

        At steady state :math:`w = a (V - V_{rest})`, so the I-V curve is
        :math:`R I = (1 + R a)(V - V_{rest}) - \\Delta_T e^{(V-V_T)/\\Delta_T}`; its minimum over
        the unstable branch is at :math:`V^* = V_T + \\Delta_T \\ln(1 + R a)`, which gives
        :math:`I_{rh} = [(1 + R a)(V^* - V_{rest} - \\Delta_T)]/R`. (For :math:`a > 0` large
        enough the onset is a Hopf bifurcation below this value.)
        """
        R, a, V_T, delta_T, V_rest = _np(self, "R", "a", "V_T", "delta_T", "V_rest")
        k = 1.0 + R * a
        Vs = V_T + delta_T * np.log(k)
        return k * (Vs - V_rest - delta_T) / R


# ---------------------------------------------------------------------------------------------
class AdQIF(SpikingNeuron):
    """Adaptive quadratic integrate-and-fire neuron (Izhikevich 2003 in QIF form; the book's ``AdQuaIF``).

    .. math::
        \\tau \\frac{dV}{dt} &= c\\,(V - V_{rest})(V - V_c) - R\\, w + R\\, I(t) \\\\
        \\tau_w \\frac{dw}{dt} &= a (V - V_{rest}) - w \\\\
        V > V_{th} &\\Rightarrow V \\leftarrow V_{reset},\\; w \\leftarrow w + b

    Parameters
    ----------
    V_rest, V_c, V_reset, V_th : float
        Resting (-65), critical (-50), reset (-68) and cut-off (-30) potentials (mV).
    c : float
        Curvature (1/mV, > 0): 0.07.
    R : float
        Input gain (MOhm with I in nA): 1.
    tau : float
        Membrane time constant (ms): 10.
    a : float
        Subthreshold adaptation (1/MOhm, i.e. units of I per mV): 1.
    b : float
        Spike-triggered adaptation increment (units of I): 0.1.
    tau_w : float
        Adaptation time constant (ms): 10.
    t_ref : float
        Refractory period (ms): 0.
    V_init, w_init : float or None
        Initial values; None starts at ``V_reset`` with ``w = 0``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.AdQIF(), duration=200.0, inputs=30.0)
    >>> res.spike_count() > 3
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "w")
    V_rest: Any = param(-65.0, unit="mV", doc="resting potential")
    V_c: Any = param(-50.0, unit="mV", doc="critical potential")
    V_reset: Any = param(-68.0, unit="mV", doc="reset potential")
    V_th: Any = param(-30.0, unit="mV", doc="spike cut-off")
    c: Any = param(0.07, bound="positive", unit="1/mV", doc="curvature")
    R: Any = param(1.0, unit="MOhm", doc="input gain")
    tau: Any = param(10.0, bound="positive", unit="ms", doc="membrane time constant")
    a: Any = param(1.0, unit="1/MOhm", doc="subthreshold adaptation (units of I per mV)")
    b: Any = param(0.1, unit="nA", doc="spike-triggered adaptation increment (units of I)")
    tau_w: Any = param(10.0, bound="positive", unit="ms", doc="adaptation time constant")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_reset")
    w_init: Optional[Any] = param(None, unit="nA", doc="initial adaptation current; None = 0")

    def initial(self):
        return {"V": self.V_reset if self.V_init is None else self.V_init,
                "w": 0.0 if self.w_init is None else self.w_init}

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        return {
            "V": (self.c * (V - self.V_rest) * (V - self.V_c) - self.R * w + self.R * args["I"]) / self.tau,
            "w": (self.a * (V - self.V_rest) - w) / self.tau_w,
        }

    def reset(self, y, spike):
        return {"V": _clip_reset(y["V"], self.V_th, self.V_reset, spike), "w": y["w"] + self.b * spike}


# ---------------------------------------------------------------------------------------------
#: GIF behaviours of Mihalas & Niebur (2009, Neural Comput 21:704, Table 1) used by the book.
#: Each entry: the parameters that differ from the defaults, and the stimulus as
#: ``(values, durations)`` of a piecewise-constant current (the table's ``I_e``).
GIF_PATTERNS = {
    "tonic_spiking": dict(params=dict(a=0.0, A1=0.0, A2=0.0), stim=([1.5], [200.0])),
    "spike_frequency_adaptation": dict(params=dict(a=0.005, A1=0.0, A2=0.0), stim=([2.0], [200.0])),
    "phasic_spiking": dict(params=dict(a=0.005, A1=0.0, A2=0.0), stim=([1.5], [500.0])),
    "tonic_bursting": dict(params=dict(a=0.005, A1=10.0, A2=-0.6), stim=([2.0], [500.0])),
    "phasic_bursting": dict(params=dict(a=0.005, A1=10.0, A2=-0.6), stim=([1.5], [500.0])),
    "mixed_mode": dict(params=dict(a=0.005, A1=5.0, A2=-0.3), stim=([2.0], [500.0])),
    "spike_latency": dict(params=dict(a=-0.08, A1=0.0, A2=0.0), stim=([0.0, 8.0, 0.0], [20.0, 2.0, 178.0])),
}

#: Further behaviours of Mihalas & Niebur (2009, Table 1), same layout as :data:`GIF_PATTERNS`
#: (parameters from the table, with ``a`` in 1/ms: the table's 5 /s is 0.005 /ms).
#:
#: * ``class_1_excitable`` (a = 0): the rheobase is :math:`I = (\Theta_\infty - V_{rest})/R = 1`
#:   and the rate falls to 0 there (the period grows as :math:`\tau \ln(\cdot)`). The table's
#:   :math:`I_e = 1 + 10^{-6}` puts the first spike at :math:`20 \ln 10^6 = 276` ms in exact
#:   arithmetic but within float32 rounding of the threshold; the preset uses 1.001.
#: * ``class_2_excitable`` (a = 0.005): the rheobase is 2 (:math:`V^* = \Theta^*`) and firing
#:   starts at a finite rate; table current :math:`2(1 + 10^{-6})`, here 2.002.
#: * ``rebound_spike`` / ``rebound_burst``: release from 500 ms of :math:`I = -3.5` (the
#:   threshold has relaxed to about -85 mV); a hyperpolarisation much shorter than the
#:   threshold's time constant :math:`1/b = 100` ms leaves it too high for a rebound.
#: * ``hyperpolarization_induced_spiking`` / ``_bursting`` (a = 0.03, :math:`I = -1`): the
#:   threshold follows V down faster than V (:math:`a/b = 3`), so inhibition makes it fire.
GIF_FEATURES = {
    "class_1_excitable": dict(params=dict(a=0.0, A1=0.0, A2=0.0), stim=([1.001], [500.0])),
    "class_2_excitable": dict(params=dict(a=0.005, A1=0.0, A2=0.0), stim=([2.002], [300.0])),
    "rebound_spike": dict(params=dict(a=0.005, A1=0.0, A2=0.0), stim=([0.0, -3.5, 0.0], [100.0, 500.0, 200.0])),
    "rebound_burst": dict(params=dict(a=0.005, A1=10.0, A2=-0.6), stim=([0.0, -3.5, 0.0], [100.0, 500.0, 200.0])),
    "hyperpolarization_induced_spiking": dict(params=dict(a=0.03, A1=0.0, A2=0.0), stim=([-1.0], [400.0])),
    "hyperpolarization_induced_bursting": dict(params=dict(a=0.03, A1=10.0, A2=-0.6), stim=([-1.0], [400.0])),
}


class GIF(SpikingNeuron):
    """Generalized integrate-and-fire neuron (Mihalas & Niebur 2009).

    .. math::
        \\frac{dI_1}{dt} &= -k_1 I_1, \\qquad \\frac{dI_2}{dt} = -k_2 I_2 \\\\
        \\tau \\frac{dV}{dt} &= -(V - V_{rest}) + R\\,(I_1 + I_2 + I(t)) \\\\
        \\frac{d\\Theta}{dt} &= a (V - V_{rest}) - b (\\Theta - \\Theta_\\infty) \\\\
        V > \\Theta &\\Rightarrow I_j \\leftarrow R_j I_j + A_j,\\; V \\leftarrow V_{reset},\\;
        \\Theta \\leftarrow \\max(\\Theta_{reset}, \\Theta)

    The threshold :math:`\\Theta` is a state variable; the spike test is the strict
    :math:`V > \\Theta` at the end of the step. Which :math:`\\Theta` is compared is a choice
    (``threshold_rule``): ``"current"`` (default) compares the new :math:`V(t+\\Delta t)` with the new
    :math:`\\Theta(t+\\Delta t)`, the condition of the continuous model at the end of the step;
    ``"previous"`` compares the new :math:`V(t+\\Delta t)` with :math:`\\Theta(t)`, the threshold of
    the previous step, as in the book's code and BrainPy's ``Gif``. Where the threshold moves
    in the step of the crossing (``a != 0``) the two rules put a spike one or more steps apart
    (the first spike of ``rebound_burst`` by 0.6 ms at dt = 0.1 ms; earlier with
    ``"previous"`` when the threshold rises, later when it falls); both converge to the same
    model as :math:`\\Delta t \\to 0`. With :math:`C = 1` the paper's :math:`G/C = 0.05` /ms is
    :math:`\\tau = 20` ms and :math:`R = 1/G = 20`. :meth:`preset` builds the behaviours of
    :data:`GIF_PATTERNS` and :data:`GIF_FEATURES` (Mihalas & Niebur 2009, Table 1: tonic and
    phasic spiking and bursting, adaptation, mixed mode, latency, class 1 and 2 excitability,
    rebound spike and burst, hyperpolarization-induced spiking and bursting).

    Parameters
    ----------
    V_rest, V_reset : float
        Resting and reset potentials (mV): -70, -70.
    theta_inf, theta_reset : float
        Asymptotic and reset thresholds (mV): -50, -60.
    R : float
        Membrane resistance (MOhm with I in nA): 20.
    tau : float
        Membrane time constant (ms): 20.
    a : float
        Threshold adaptation to V (1/ms): 0.
    b : float
        Threshold relaxation rate (1/ms, > 0): 0.01.
    k1, k2 : float
        Decay rates of the spike-induced currents (1/ms, > 0): 0.2, 0.02.
    R1, R2 : float
        Fractions of I1, I2 kept at a spike (dimensionless): 0, 1.
    A1, A2 : float
        Increments of I1, I2 at a spike (units of I): 0, 0.
    t_ref : float
        Refractory period (ms): 0.
    V_init, theta_init : float or None
        Initial V and threshold (None: ``V_rest`` and ``theta_inf``); I1, I2 start at 0.
    threshold_rule : {"current", "previous"}
        The threshold the new ``V`` is compared with (static): that of the end of the step
        (default) or that of its start (the book's and BrainPy's order).

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.GIF.preset("tonic_spiking"), duration=200.0, inputs=1.5)
    >>> res.spike_count() > 5
    True
    >>> stim = bd.inputs.section(*bd.neurons.if_family.GIF_FEATURES["rebound_burst"]["stim"])
    >>> t = bd.run(bd.neurons.GIF.preset("rebound_burst"), 800.0, inputs=stim).spike_times()
    >>> bool(len(t) >= 3 and t[0] > 600.0)     # a burst after release from inhibition
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("I1", "I2", "V", "theta")
    V_rest: Any = param(-70.0, unit="mV", doc="resting potential")
    V_reset: Any = param(-70.0, unit="mV", doc="reset potential")
    theta_inf: Any = param(-50.0, unit="mV", doc="asymptotic threshold")
    theta_reset: Any = param(-60.0, unit="mV", doc="lowest threshold after a spike")
    R: Any = param(20.0, unit="MOhm", doc="membrane resistance")
    tau: Any = param(20.0, bound="positive", unit="ms", doc="membrane time constant")
    a: Any = param(0.0, unit="1/ms", doc="threshold adaptation to V")
    b: Any = param(0.01, bound="positive", unit="1/ms", doc="threshold relaxation rate")
    k1: Any = param(0.2, bound="positive", unit="1/ms", doc="decay rate of I1")
    k2: Any = param(0.02, bound="positive", unit="1/ms", doc="decay rate of I2")
    R1: Any = param(0.0, unit="1", doc="fraction of I1 kept at a spike")
    R2: Any = param(1.0, unit="1", doc="fraction of I2 kept at a spike")
    A1: Any = param(0.0, unit="nA", doc="increment of I1 at a spike (units of I)")
    A2: Any = param(0.0, unit="nA", doc="increment of I2 at a spike (units of I)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential; None = V_rest")
    theta_init: Optional[Any] = param(None, unit="mV", doc="initial threshold; None = theta_inf")
    threshold_rule: str = eqx.field(static=True, default="current")

    def __check_init__(self):
        check_choice("threshold_rule", self.threshold_rule, ("current", "previous"), "GIF")

    @classmethod
    def preset(cls, pattern: str, **overrides):
        """The GIF of one behaviour of :data:`GIF_PATTERNS` or :data:`GIF_FEATURES`, with overrides."""
        table = {**GIF_PATTERNS, **GIF_FEATURES}
        check_choice("GIF pattern", pattern, list(table), "GIF.preset")
        p = dict(table[pattern]["params"])
        p.update(overrides)
        return cls(**p)

    def initial(self):
        return {"I1": 0.0, "I2": 0.0, "V": self.V_rest if self.V_init is None else self.V_init,
                "theta": self.theta_inf if self.theta_init is None else self.theta_init}

    def vector_field(self, t, y, args):
        V = y["V"]
        return {
            "I1": -self.k1 * y["I1"],
            "I2": -self.k2 * y["I2"],
            "V": (-(V - self.V_rest) + self.R * (y["I1"] + y["I2"] + args["I"])) / self.tau,
            "theta": self.a * (V - self.V_rest) - self.b * (y["theta"] - self.theta_inf),
        }

    def spike_distance(self, y_old, y_new):
        theta = y_old["theta"] if self.threshold_rule == "previous" else y_new["theta"]
        return y_new["V"] - theta

    def reset(self, y, spike):
        r = self.reset_to
        return {
            "I1": r(y["I1"], self.R1 * y["I1"] + self.A1, spike),
            "I2": r(y["I2"], self.R2 * y["I2"] + self.A2, spike),
            "V": r(y["V"], self.V_reset, spike),
            "theta": r(y["theta"], jnp.maximum(self.theta_reset, y["theta"]), spike),
        }
