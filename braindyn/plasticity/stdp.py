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

Weight dependence: ``"additive"`` (:math:`f_\pm = 1`, then clipped to
:math:`[w_{min}, w_{max}]`) or ``"multiplicative"`` (soft bounds:
:math:`f_+ = w_{max} - w`, :math:`f_- = w - w_{min}`).

Triplet rule (Pfister & Gerstner 2006): two traces per side, :math:`r_1, r_2` (pre,
:math:`\tau_+, \tau_x`) and :math:`o_1, o_2` (post, :math:`\tau_-, \tau_y`):

.. math::
    \text{post: } \Delta w = r_1 (A_2^+ + A_3^+ o_2), \qquad
    \text{pre: } \Delta w = -o_1 (A_2^- + A_3^- r_2),

with :math:`o_2`, :math:`r_2` taken just before their own increment.

The rules act on the weights of a projection in its layout (dense matrix or CSR vector, see
:class:`~braindyn.plasticity._layout.WeightLayout`); they run in the *learn* phase of the network
step with the spikes emitted during the step (at emission time). Spikes of both sides in the
same step do not pair.
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp

from .._errors import check_choice, check_finite, check_nonnegative, check_positive

__all__ = ["STDP", "TripletSTDP"]


def _decay(dt, tau, dtype):
    return jnp.exp(-dt / jnp.asarray(tau, dtype)).astype(dtype)


class STDP(eqx.Module):
    r"""Trace-based pair STDP (see the module equations).

    Parameters
    ----------
    tau_pre, tau_post : float
        Trace time constants (ms): the potentiation and depression windows (16.8, 33.7).
    A_plus, A_minus : float
        Amplitudes of potentiation and depression (>= 0; depression is subtracted).
    pairing : {"all", "nearest"}
    weight_dependence : {"additive", "multiplicative"}
    w_min, w_max : float
        Bounds of the weights.

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

    tau_pre: Any = 16.8
    tau_post: Any = 33.7
    A_plus: Any = 0.01
    A_minus: Any = 0.0105
    pairing: str = eqx.field(static=True, default="all")
    weight_dependence: str = eqx.field(static=True, default="additive")
    w_min: Any = 0.0
    w_max: Any = 1.0

    def __check_init__(self):
        check_positive("tau_pre", self.tau_pre, "STDP", "ms")
        check_positive("tau_post", self.tau_post, "STDP", "ms")
        check_nonnegative("A_plus", self.A_plus, "STDP")
        check_nonnegative("A_minus", self.A_minus, "STDP")
        check_choice("pairing", self.pairing, ("all", "nearest"), "STDP")
        check_choice("weight_dependence", self.weight_dependence, ("additive", "multiplicative"), "STDP")
        check_finite("w_min", self.w_min, "STDP")
        check_finite("w_max", self.w_max, "STDP")

    def init_state(self, n_pre, n_post, dtype):
        return {"a_pre": jnp.zeros((n_pre,), dtype), "a_post": jnp.zeros((n_post,), dtype)}

    def _bump(self, trace, spikes):
        if self.pairing == "all":
            return trace + spikes
        return trace + spikes * (1.0 - trace)

    def update(self, state, w, pre_spike, post_spike, dt, layout):
        """One learning step: decay the traces, change ``w``, then add this step's spikes."""
        dtype = w.dtype
        a_pre = state["a_pre"] * _decay(dt, self.tau_pre, dtype)
        a_post = state["a_post"] * _decay(dt, self.tau_post, dtype)
        sp, so = pre_spike.astype(dtype), post_spike.astype(dtype)
        ltp = self.A_plus * layout.outer(a_pre, so)
        ltd = self.A_minus * layout.outer(sp, a_post)
        if self.weight_dependence == "additive":
            w = jnp.clip(w + ltp - ltd, self.w_min, self.w_max)
        else:
            w = w + ltp * (self.w_max - w) - ltd * (w - self.w_min)
        state = {"a_pre": self._bump(a_pre, sp), "a_post": self._bump(a_post, so)}
        return state, w.astype(dtype)


class TripletSTDP(eqx.Module):
    r"""Triplet STDP of Pfister & Gerstner (2006), all-to-all interactions.

    Defaults: the minimal all-to-all model fitted to visual cortex data (their Table 4):
    :math:`\tau_+` 16.8, :math:`\tau_-` 33.7, :math:`\tau_x` 101, :math:`\tau_y` 125 ms,
    :math:`A_2^+` 5e-10, :math:`A_3^+` 6.2e-3, :math:`A_2^-` 7e-3, :math:`A_3^-` 2.3e-4.
    Weights are clipped to ``[w_min, w_max]``.

    Example
    -------
    >>> TripletSTDP().tau_x
    101.0
    """

    tau_plus: Any = 16.8
    tau_minus: Any = 33.7
    tau_x: Any = 101.0
    tau_y: Any = 125.0
    A2_plus: Any = 5e-10
    A3_plus: Any = 6.2e-3
    A2_minus: Any = 7e-3
    A3_minus: Any = 2.3e-4
    w_min: Any = 0.0
    w_max: Any = 1.0

    def __check_init__(self):
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_positive(name, getattr(self, name), "TripletSTDP", "ms")
        for name in ("A2_plus", "A3_plus", "A2_minus", "A3_minus"):
            check_nonnegative(name, getattr(self, name), "TripletSTDP")

    def init_state(self, n_pre, n_post, dtype):
        zp, zo = jnp.zeros((n_pre,), dtype), jnp.zeros((n_post,), dtype)
        return {"r1": zp, "r2": zp, "o1": zo, "o2": zo}

    def update(self, state, w, pre_spike, post_spike, dt, layout):
        dtype = w.dtype
        r1 = state["r1"] * _decay(dt, self.tau_plus, dtype)
        r2 = state["r2"] * _decay(dt, self.tau_x, dtype)
        o1 = state["o1"] * _decay(dt, self.tau_minus, dtype)
        o2 = state["o2"] * _decay(dt, self.tau_y, dtype)
        sp, so = pre_spike.astype(dtype), post_spike.astype(dtype)
        ltp = layout.outer(r1, so * (self.A2_plus + self.A3_plus * o2))
        ltd = layout.outer(sp * (self.A2_minus + self.A3_minus * r2), o1)
        w = jnp.clip(w + ltp - ltd, self.w_min, self.w_max)
        state = {"r1": r1 + sp, "r2": r2 + sp, "o1": o1 + so, "o2": o2 + so}
        return state, w.astype(dtype)
