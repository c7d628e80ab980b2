r"""Spike-timing-dependent plasticity with synaptic traces (pair and triplet rules).

Pair rule (Song, Miller & Abbott 2000; Morrison, Diesmann & Gerstner 2008). Each presynaptic
neuron has a trace :math:`a_{pre}` (time constant :math:`\tau_{pre}`), each postsynaptic
neuron a trace :math:`a_{post}` (:math:`\tau_{post}`):

.. math::
    \frac{da_{pre}}{dt} = -\frac{a_{pre}}{\tau_{pre}}, \quad
    \frac{da_{post}}{dt} = -\frac{a_{post}}{\tau_{post}},

    \text{post spike: } \Delta w_{ji} = +A_+\, f_+(w)\, a_{pre,j}, \qquad
    \text{pre spike: } \Delta w_{ji} = -A_-\, f_-(w)\, a_{post,i},

then the traces of the spiking neurons are incremented by 1 (``pairing="all"``: every pair of
spikes counts) or set to 1 (``pairing="nearest"``: a spike pairs only with the most recent spike
of the other side). A single pair with :math:`\Delta t = t_{post} - t_{pre}` gives the
exponential window

.. math::
    \Delta w = A_+ e^{-\Delta t/\tau_{pre}} \;(\Delta t > 0), \qquad
    \Delta w = -A_- e^{\Delta t/\tau_{post}} \;(\Delta t < 0).

Weight dependence: ``"additive"`` (hard bounds: :math:`f_\pm = 1`, then clipped to
:math:`[w_{min}, w_{max}]`) or ``"multiplicative"`` (soft bounds:
:math:`f_+ = w_{max} - w`, :math:`f_- = w - w_{min}`, van Rossum, Bi & Turrigiano 2000).

Triplet rule (Pfister & Gerstner 2006): two traces per side, :math:`r_1, r_2` (pre,
:math:`\tau_+, \tau_x`) and :math:`o_1, o_2` (post, :math:`\tau_-, \tau_y`):

.. math::
    \text{post: } \Delta w = r_1 (A_2^+ + A_3^+ o_2), \qquad
    \text{pre: } \Delta w = -o_1 (A_2^- + A_3^- r_2),

with :math:`o_2`, :math:`r_2` taken just before their own increment.

The rules act on the weights of a projection in its layout (dense matrix or CSR vector, see
:class:`~braindyn.plasticity.WeightLayout`) through the interface of
:class:`~braindyn.plasticity.LearningRule`; they run in the *learn* phase of the network step
with the spikes emitted during the step (at emission time). Spikes of both sides in the same
step do not pair. Every amplitude, time constant and bound is a declared parameter.
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice
from ..params import param
from .rule import LearningRule

__all__ = ["STDP", "TripletSTDP", "trace_decay"]


def trace_decay(dt, tau, dtype):
    """Factor :math:`e^{-\\Delta t/\\tau}` of a trace over one step."""
    return jnp.exp(-dt / jnp.asarray(tau, dtype)).astype(dtype)


def _tau(default, doc):
    return param(default, bound="positive", unit="ms", per_neuron=False, doc=doc)


def _amp(default, doc):
    return param(default, bound="nonnegative", per_neuron=False, doc=doc)


def _bound(default, doc):
    return param(default, bound="extended", unit="unit of w", per_neuron=False, doc=doc)


class STDP(LearningRule):
    r"""Trace-based pair STDP (see the module equations), additive or soft-bounded.

    .. math::
        \Delta w_{ji} = A_+ f_+(w_{ji})\, a_{pre,j}\, S_{post,i} - A_- f_-(w_{ji})\, S_{pre,j}\, a_{post,i}

    Parameters
    ----------
    tau_pre, tau_post : float
        Trace time constants (ms): the potentiation and depression windows (16.8, 33.7).
    A_plus, A_minus : float
        Amplitudes of potentiation and depression (>= 0; depression is subtracted).
    pairing : {"all", "nearest"}
    weight_dependence : {"additive", "multiplicative"}
        Hard bounds (clip) or soft bounds (:math:`f_+ = w_{max} - w`, :math:`f_- = w - w_{min}`;
        finite bounds needed).
    w_min, w_max : float
        Bounds of the weights (``w_min <= w_max``).

    Example
    -------
    >>> import jax.numpy as jnp, numpy as np
    >>> from braindyn.plasticity import STDP, WeightLayout
    >>> rule = STDP(tau_pre=16.8, tau_post=33.7, A_plus=0.96, A_minus=0.53, w_min=-10, w_max=10)
    >>> lay = WeightLayout.of(np.ones((1, 1)))
    >>> st, w = rule.init_state(1, 1, jnp.float32), jnp.zeros((1, 1), jnp.float32)
    >>> st, w = rule.update(st, w, jnp.array([1.0]), jnp.array([0.0]), 0.1, lay)   # pre
    >>> for _ in range(49):
    ...     st, w = rule.update(st, w, jnp.array([0.0]), jnp.array([0.0]), 0.1, lay)
    >>> st, w = rule.update(st, w, jnp.array([0.0]), jnp.array([1.0]), 0.1, lay)   # post 5 ms later
    >>> round(float(w[0, 0]), 4)
    0.7129
    """

    tau_pre: Any = _tau(16.8, "presynaptic trace time constant (potentiation window)")
    tau_post: Any = _tau(33.7, "postsynaptic trace time constant (depression window)")
    A_plus: Any = _amp(0.01, "potentiation amplitude")
    A_minus: Any = _amp(0.0105, "depression amplitude")
    pairing: str = eqx.field(static=True, default="all")
    weight_dependence: str = eqx.field(static=True, default="additive")
    w_min: Any = _bound(0.0, "lower weight bound")
    w_max: Any = _bound(1.0, "upper weight bound")

    def __check_init__(self):
        check_choice("pairing", self.pairing, ("all", "nearest"), "STDP")
        check_choice("weight_dependence", self.weight_dependence, ("additive", "multiplicative"), "STDP")
        if self.weight_dependence == "multiplicative" and not any(
                isinstance(b, jax.core.Tracer) for b in (self.w_min, self.w_max)):
            if not (np.all(np.isfinite(np.asarray(self.w_min))) and np.all(np.isfinite(np.asarray(self.w_max)))):
                raise BraindynError("STDP: soft bounds (weight_dependence='multiplicative') scale the changes by "
                                    "w_max - w and w - w_min, which need finite bounds. Fix: pass finite w_min "
                                    "and w_max.")

    def init_state(self, n_pre, n_post, dtype):
        return {"a_pre": jnp.zeros((n_pre,), dtype), "a_post": jnp.zeros((n_post,), dtype)}

    def _bump(self, trace, spikes):
        if self.pairing == "all":
            return trace + spikes
        return trace + spikes * (1.0 - trace)

    def update(self, state, w, pre, post, dt, layout, factor=None):
        """One learning step: decay the traces, change ``w``, then add this step's spikes."""
        dtype = w.dtype
        a_pre = state["a_pre"] * trace_decay(dt, self.tau_pre, dtype)
        a_post = state["a_post"] * trace_decay(dt, self.tau_post, dtype)
        sp, so = pre.astype(dtype), post.astype(dtype)
        ltp = self.A_plus * layout.outer(a_pre, so)
        ltd = self.A_minus * layout.outer(sp, a_post)
        if self.weight_dependence == "additive":
            w = jnp.clip(w + ltp - ltd, self.w_min, self.w_max)
        else:
            w = w + ltp * (self.w_max - w) - ltd * (w - self.w_min)
        state = {"a_pre": self._bump(a_pre, sp), "a_post": self._bump(a_post, so)}
        return state, w.astype(dtype)


class TripletSTDP(LearningRule):
    r"""Triplet STDP of Pfister & Gerstner (2006), all-to-all interactions.

    .. math::
        \Delta w_{ji} = r_{1,j} (A_2^+ + A_3^+ o_{2,i}) S_{post,i} - o_{1,i} (A_2^- + A_3^- r_{2,j}) S_{pre,j}

    Defaults: the minimal all-to-all model fitted to visual cortex data (their Table 4):
    :math:`\tau_+` 16.8, :math:`\tau_-` 33.7, :math:`\tau_x` 101, :math:`\tau_y` 125 ms,
    :math:`A_2^+` 5e-10, :math:`A_3^+` 6.2e-3, :math:`A_2^-` 7e-3, :math:`A_3^-` 2.3e-4.
    Weights are clipped to ``[w_min, w_max]``.

    Example
    -------
    >>> float(TripletSTDP().tau_x)
    101.0
    """

    tau_plus: Any = _tau(16.8, "fast presynaptic trace r1")
    tau_minus: Any = _tau(33.7, "fast postsynaptic trace o1")
    tau_x: Any = _tau(101.0, "slow presynaptic trace r2")
    tau_y: Any = _tau(125.0, "slow postsynaptic trace o2")
    A2_plus: Any = _amp(5e-10, "pair potentiation")
    A3_plus: Any = _amp(6.2e-3, "triplet potentiation")
    A2_minus: Any = _amp(7e-3, "pair depression")
    A3_minus: Any = _amp(2.3e-4, "triplet depression")
    w_min: Any = _bound(0.0, "lower weight bound")
    w_max: Any = _bound(1.0, "upper weight bound")

    def init_state(self, n_pre, n_post, dtype):
        zp, zo = jnp.zeros((n_pre,), dtype), jnp.zeros((n_post,), dtype)
        return {"r1": zp, "r2": zp, "o1": zo, "o2": zo}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        dtype = w.dtype
        r1 = state["r1"] * trace_decay(dt, self.tau_plus, dtype)
        r2 = state["r2"] * trace_decay(dt, self.tau_x, dtype)
        o1 = state["o1"] * trace_decay(dt, self.tau_minus, dtype)
        o2 = state["o2"] * trace_decay(dt, self.tau_y, dtype)
        sp, so = pre.astype(dtype), post.astype(dtype)
        ltp = layout.outer(r1, so * (self.A2_plus + self.A3_plus * o2))
        ltd = layout.outer(sp * (self.A2_minus + self.A3_minus * r2), o1)
        w = jnp.clip(w + ltp - ltd, self.w_min, self.w_max)
        state = {"r1": r1 + sp, "r2": r2 + sp, "o1": o1 + so, "o2": o2 + so}
        return state, w.astype(dtype)
