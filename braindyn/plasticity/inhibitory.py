r"""Inhibitory plasticity of Vogels, Sprekeler, Zenke, Clopath & Gerstner (2011).

Inhibitory synapses onto a neuron grow when it fires above a target rate :math:`\rho_0` and
shrink below it, so that inhibition balances excitation and the postsynaptic rate settles at
:math:`\rho_0`.

Rate form, for presynaptic rates :math:`x_j` and postsynaptic rates :math:`y_i`:

.. math:: \frac{dw_{ji}}{dt} = \eta\, (x_j y_i - \rho_0 x_j).

Spike form, with traces :math:`\tau \dot x_{pre} = -x_{pre}`, :math:`\tau \dot x_{post} =
-x_{post}` (+1 at each spike of their neuron, :math:`\tau` = 20 ms):

.. math::
    \text{pre spike: } \Delta w_{ji} = \eta\, (x_{post,i} - \alpha), \qquad
    \text{post spike: } \Delta w_{ji} = \eta\, x_{pre,j}, \qquad \alpha = 2 \rho_0 \tau,

so that for uncorrelated Poisson trains at rates :math:`\nu_{pre}, \nu_{post}` the mean drift is
:math:`\eta\,\nu_{pre}\, 2\tau (\nu_{post} - \rho_0)`. Weights stay in ``[w_min, w_max]``
(``w_min`` = 0: inhibitory weights are conductances, :math:`\ge 0`).
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp

from .._errors import check_choice
from ..params import param
from .rule import LearningRule
from .stdp import trace_decay

__all__ = ["InhibitorySTDP"]


class InhibitorySTDP(LearningRule):
    r"""Inhibitory plasticity of Vogels et al. (2011), spike-trace or rate form (see the module
    equations).

    Parameters
    ----------
    eta : float
        Learning rate (unit of w per unit of trace).
    rho0 : float
        Target postsynaptic rate: per ms for the spike form (5 Hz = 0.005), in the unit of the
        postsynaptic signal for the rate form.
    tau : float
        Trace time constant (ms), 20.
    form : {"spike", "rate"}
    w_min, w_max : float
        Weight bounds (0, inf).

    Order of one spike-form step (as :class:`~braindyn.plasticity.STDP`): decay the traces,
    apply the changes of this step's spikes with the traces of the earlier ones, then add this
    step's spikes to the traces.

    Example
    -------
    >>> import jax.numpy as jnp, numpy as np
    >>> from braindyn.plasticity import InhibitorySTDP, WeightLayout
    >>> rule, lay = InhibitorySTDP(eta=0.1, rho0=0.005), WeightLayout.of(np.ones((1, 1)))
    >>> st, w = rule.init_state(1, 1, jnp.float32), jnp.ones((1, 1))
    >>> st, w = rule.update(st, w, jnp.array([1.0]), jnp.array([0.0]), 0.1, lay)   # a lone pre spike
    >>> round(float(w[0, 0]), 4)                      # 1 - 0.1 * 2 * 0.005 * 20
    0.98
    """

    eta: Any = param(1e-3, per_neuron=False, unit="unit of w", doc="learning rate")
    rho0: Any = param(0.005, bound="nonnegative", per_neuron=False, unit="1/ms", doc="target postsynaptic rate")
    tau: Any = param(20.0, bound="positive", per_neuron=False, unit="ms", doc="trace time constant")
    w_min: Any = param(0.0, bound="extended", per_neuron=False, unit="unit of w", doc="lower weight bound")
    w_max: Any = param(jnp.inf, bound="extended", per_neuron=False, unit="unit of w", doc="upper weight bound")
    form: str = eqx.field(static=True, default="spike")

    def __check_init__(self):
        check_choice("form", self.form, ("spike", "rate"), "InhibitorySTDP")

    @property
    def alpha(self):
        r"""Depression offset :math:`\alpha = 2 \rho_0 \tau` of the spike form."""
        return 2.0 * self.rho0 * self.tau

    def init_state(self, n_pre, n_post, dtype):
        if self.form == "rate":
            return {}
        return {"x_pre": jnp.zeros((n_pre,), dtype), "x_post": jnp.zeros((n_post,), dtype)}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        dtype = w.dtype
        x, y = pre.astype(dtype), post.astype(dtype)
        if self.form == "rate":
            dw = self.eta * (layout.outer(x, y) - self.rho0 * layout.pre(x))
            return state, jnp.clip(w + dt * dw, self.w_min, self.w_max).astype(dtype)
        e = trace_decay(dt, self.tau, dtype)
        x_pre, x_post = state["x_pre"] * e, state["x_post"] * e
        dw = self.eta * (layout.outer(x, x_post - self.alpha) + layout.outer(x_pre, y))
        w = jnp.clip(w + dw, self.w_min, self.w_max)
        return {"x_pre": x_pre + x, "x_post": x_post + y}, w.astype(dtype)
