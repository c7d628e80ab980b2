"""Continuous (reset-free) excitable models: FitzHugh--Nagumo and Hindmarsh--Rose.

Both are :class:`~braindyn.core.SpikingNeuron` without a reset: a spike is an upward
crossing of ``V_th`` (as for Hodgkin--Huxley), so spike counts and times come with every run
and the refractory, noise and surrogate pieces of the core apply unchanged. Their
``vector_field(t, y, args)`` is what the phase-plane and bifurcation tools analyse.
"""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import check_choice
from ..core import SpikingNeuron
from ..params import param

__all__ = ["FHN", "HindmarshRose", "HR_PATTERNS"]


class _Crossing(SpikingNeuron):
    refractory_vars: ClassVar[tuple[str, ...]] = ()

    def spike_distance(self, y_old, y_new):
        # Upward crossing of V_th: only units at or below it before the step can spike.
        return jnp.where(y_old["V"] <= self.V_th, y_new["V"] - self.V_th, -1.0)


class FHN(_Crossing):
    """FitzHugh--Nagumo model (FitzHugh 1961; Nagumo et al. 1962).

    .. math::
        \\frac{dV}{dt} = V - \\frac{V^3}{3} - w + I(t), \\qquad
        \\tau \\frac{dw}{dt} = V + a - b\\, w

    Dimensionless ``V``, ``w`` and ``I``; time in ms. With the book's ``a = 0.7, b = 0.8,
    tau = 12.5`` the resting state loses stability in Hopf bifurcations at ``I = 0.33128``
    and ``1.41872``, between which the model oscillates (period 36.52 ms at ``I = 0.8``).
    A spike is an upward crossing of ``V_th`` (1.0).

    Parameters
    ----------
    a, b : float
        Recovery parameters (dimensionless): 0.7, 0.8.
    tau : float
        Recovery time constant (ms, > 0): 12.5.
    V_th : float
        Spike detection level: 1.0.
    V_init, w_init : float or None
        Initial state; None starts at the resting state for ``I = 0``.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.FHN(method="rk4"), duration=200.0, dt=0.05, inputs=0.8)
    >>> res.spike_count()
    6
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "w")
    a: Any = param(0.7, unit="1", doc="recovery offset")
    b: Any = param(0.8, bound="positive", unit="1", doc="recovery slope")
    tau: Any = param(12.5, bound="positive", unit="ms", doc="recovery time constant")
    V_th: Any = param(1.0, unit="1", doc="spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="1", doc="initial V; None = the resting state")
    w_init: Optional[Any] = param(None, unit="1", doc="initial w; None = the resting state")

    def rest_state(self, I=0.0):
        """The fixed point ``(V, w)`` for constant ``I`` as arrays (JAX: traceable, differentiable).

        With :math:`w = (V + a)/b` the fixed point solves the depressed cubic
        :math:`V^3 + p V + q = 0`, :math:`p = 3(1/b - 1)`, :math:`q = 3(a/b - I)`: Cardano's
        formula where it has one real root (always for :math:`b \\le 1`), otherwise the lowest
        of the three (trigonometric form); two Newton steps polish the root.
        """
        a, b = jnp.asarray(self.a), jnp.asarray(self.b)
        I = jnp.asarray(I, jnp.result_type(a, b, float))
        p, q = 3.0 * (1.0 / b - 1.0), 3.0 * (a / b - I)
        # the closed form gives the root; its gradient comes from the Newton steps below
        # (implicit differentiation), not from the cube and square roots
        ps, qs = jax.lax.stop_gradient(p), jax.lax.stop_gradient(q)
        D = (0.5 * qs) ** 2 + (ps / 3.0) ** 3
        sq = jnp.sqrt(jnp.where(D >= 0, D, 0.0))
        one = jnp.cbrt(-0.5 * qs + sq) + jnp.cbrt(-0.5 * qs - sq)
        pn = jnp.where(D < 0, ps, -1.0)  # the three-root case has p < 0
        r = 2.0 * jnp.sqrt(-pn / 3.0)
        phi = jnp.arccos(jnp.clip(1.5 * qs / pn * jnp.sqrt(-3.0 / pn), -1.0, 1.0)) / 3.0
        lowest = jnp.min(jnp.stack([r * jnp.cos(phi - 2.0 * jnp.pi * k / 3.0) for k in range(3)]), axis=0)
        V = jnp.where(D >= 0, one, lowest)
        for _ in range(2):
            fp = V * V + p / 3.0
            ok = fp != 0
            V = V - jnp.where(ok, (V ** 3 / 3.0 + p / 3.0 * V + q / 3.0) / jnp.where(ok, fp, 1.0), 0.0)
        return V, (V + a) / b

    def rest(self, I=0.0):
        """The fixed point ``(V, w)`` for constant ``I`` on the host (floats, or NumPy arrays for
        per-neuron parameters); see :meth:`rest_state`."""
        V, w = (np.asarray(x, float) for x in self.rest_state(I))
        return (float(V), float(w)) if V.ndim == 0 else (V, w)

    def initial(self):
        if self.V_init is None or self.w_init is None:
            V0, w0 = self.rest_state(0.0)
        return {"V": V0 if self.V_init is None else self.V_init, "w": w0 if self.w_init is None else self.w_init}

    def vector_field(self, t, y, args):
        V, w = y["V"], y["w"]
        return {"V": V - V ** 3 / 3.0 - w + args["I"], "w": (V + self.a - self.b * w) / self.tau}


#: Patterns of the Hindmarsh--Rose model (default parameters, r = 0.01, s = 4) under a
#: constant current: rest, repetitive bursts (of three spikes after a long first burst)
#: and continuous spiking; and the chaotic bursting of the slower adaptation r = 0.006 at
#: I = 3.25 (Hindmarsh & Rose 1984; the standard chaotic regime of the literature, e.g.
#: Innocenti et al. 2007, Chaos 17:043128), where the number of spikes per burst varies
#: irregularly and nearby trajectories separate exponentially. An entry's ``r`` (if any) is
#: applied by :meth:`HindmarshRose.preset`. Resolving the bursts needs a small step (rk4 at
#: 0.05 ms, or exponential Euler at 0.01 ms; exponential Euler at 0.1 ms merges them).
HR_PATTERNS = {
    "quiescent": dict(I=0.5),
    "bursting": dict(I=3.0),
    "tonic": dict(I=5.0),
    "chaotic": dict(I=3.25, r=0.006),
}


class HindmarshRose(_Crossing):
    """Hindmarsh--Rose model (Hindmarsh & Rose 1984).

    .. math::
        \\frac{dV}{dt} &= y - a V^3 + b V^2 - z + I(t) \\\\
        \\frac{dy}{dt} &= c - d V^2 - y \\\\
        \\frac{dz}{dt} &= r\\,[s (V - V_{rest}) - z]

    Dimensionless variables, time in ms. The slow variable ``z`` (rate ``r``) switches the
    fast ``(V, y)`` subsystem between rest and spiking, which gives bursting;
    :data:`HR_PATTERNS` lists the currents of the quiescent, bursting, tonic and chaotic
    regimes (:meth:`preset`). A spike is an upward crossing of ``V_th`` (1.0).

    Parameters
    ----------
    a, b, c, d : float
        Fast-subsystem constants: 1, 3, 1, 5.
    r : float
        Slow adaptation rate (1/ms, > 0): 0.01.
    s : float
        Adaptation coupling: 4.
    V_rest : float
        Reference potential of the slow variable: -1.6.
    V_th : float
        Spike detection level: 1.0.
    V_init, y_init, z_init : float or None
        Initial state; None: V = V_rest, y = c - d V^2, z = 0.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.HindmarshRose(method="rk4"), duration=1000.0, dt=0.05, inputs=3.0)
    >>> res.spike_count() > 10
    True
    >>> chaos = bd.neurons.HindmarshRose.preset("chaotic", method="rk4")   # r = 0.006
    >>> round(float(chaos.r), 6)
    0.006
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "y", "z")
    a: Any = param(1.0, unit="1", doc="cubic coefficient of the fast subsystem")
    b: Any = param(3.0, unit="1", doc="quadratic coefficient of the fast subsystem")
    c: Any = param(1.0, unit="1", doc="constant of the recovery variable y")
    d: Any = param(5.0, unit="1", doc="quadratic coefficient of y")
    r: Any = param(0.01, bound="positive", unit="1/ms", doc="slow adaptation rate")
    s: Any = param(4.0, unit="1", doc="adaptation coupling")
    V_rest: Any = param(-1.6, unit="1", doc="reference potential of the slow variable")
    V_th: Any = param(1.0, unit="1", doc="spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="1", doc="initial V; None = V_rest")
    y_init: Optional[Any] = param(None, unit="1", doc="initial y; None = c - d V^2")
    z_init: Optional[Any] = param(None, unit="1", doc="initial z; None = 0")

    @classmethod
    def preset(cls, pattern: str, **overrides):
        """The model for ``pattern`` of :data:`HR_PATTERNS` (the pattern's current is
        ``HR_PATTERNS[pattern]["I"]``; its other entries are parameters)."""
        check_choice("Hindmarsh-Rose pattern", pattern, list(HR_PATTERNS), "HindmarshRose.preset")
        kw = {k: v for k, v in HR_PATTERNS[pattern].items() if k != "I"}
        kw.update(overrides)
        return cls(**kw)

    def initial(self):
        V0 = self.V_rest if self.V_init is None else self.V_init
        return {"V": V0, "y": self.c - self.d * V0 * V0 if self.y_init is None else self.y_init,
                "z": 0.0 if self.z_init is None else self.z_init}

    def vector_field(self, t, y, args):
        V = y["V"]
        return {
            "V": y["y"] - self.a * V ** 3 + self.b * V * V - y["z"] + args["I"],
            "y": self.c - self.d * V * V - y["y"],
            "z": self.r * (self.s * (V - self.V_rest) - y["z"]),
        }
