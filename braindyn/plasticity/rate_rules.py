r"""Rate-based learning rules: Hebb, Oja and BCM.

For presynaptic rates :math:`x_j`, postsynaptic rates :math:`y_i` and weights :math:`w_{ji}`
(dense ``(n_pre, n_post)`` or one per synapse of a CSR, through
:class:`~braindyn.plasticity._layout.WeightLayout`):

.. math::
    \text{Hebb:}\quad \frac{dw_{ji}}{dt} = \eta\, x_j y_i, \qquad
    \text{Oja:}\quad \frac{dw_{ji}}{dt} = \eta\, y_i (x_j - y_i w_{ji}),

    \text{BCM:}\quad \frac{dw_{ji}}{dt} = \eta\, x_j\, y_i (y_i - \theta_i), \qquad
    \tau_\theta \frac{d\theta_i}{dt} = y_i^2 - \theta_i .

Each rule has ``init_state(n_pre, n_post, dtype)`` and
``update(state, w, x, y, dt, layout) -> (state, w)`` (one forward-Euler step of size ``dt``;
the BCM threshold is advanced exactly for ``y`` held over the step). :math:`\eta` is per ms.

Example
-------
>>> import jax, jax.numpy as jnp, numpy as np
>>> from braindyn.plasticity import Oja, WeightLayout
>>> lay = WeightLayout.of(np.ones((2, 1)))
>>> rule, w = Oja(eta=0.01), jnp.array([[0.3], [0.1]])
>>> st = rule.init_state(2, 1, w.dtype)
>>> xs = np.random.default_rng(0).normal(size=(3000, 2)) * np.array([2.0, 0.5])
>>> upd = jax.jit(lambda st, w, x: rule.update(st, w, x, x @ w, 1.0, lay))
>>> for x in xs:
...     st, w = upd(st, w, jnp.asarray(x, jnp.float32))
>>> round(float(jnp.linalg.norm(w)), 1)     # converges to a unit vector along the first axis
1.0
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp

from .._errors import check_finite, check_positive

__all__ = ["Hebb", "Oja", "BCM"]


class Hebb(eqx.Module):
    r"""Plain Hebbian rule :math:`\dot w_{ji} = \eta x_j y_i` (unbounded growth unless
    ``w_max`` is set; weights are clipped to ``[w_min, w_max]``)."""

    eta: Any = 1e-3
    w_min: Any = -jnp.inf
    w_max: Any = jnp.inf

    def __check_init__(self):
        check_finite("eta", self.eta, "Hebb")

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, x, y, dt, layout):
        dw = self.eta * layout.outer(x.astype(w.dtype), y.astype(w.dtype))
        return state, jnp.clip(w + dt * dw, self.w_min, self.w_max).astype(w.dtype)


class Oja(eqx.Module):
    r"""Oja's rule :math:`\dot w_{ji} = \eta y_i (x_j - y_i w_{ji})`: the weight vector of each
    postsynaptic unit converges to the unit-norm principal eigenvector of the input covariance."""

    eta: Any = 1e-3

    def __check_init__(self):
        check_finite("eta", self.eta, "Oja")

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, x, y, dt, layout):
        x, y = x.astype(w.dtype), y.astype(w.dtype)
        dw = self.eta * (layout.outer(x, y) - layout.post(y * y) * w)
        return state, (w + dt * dw).astype(w.dtype)


class BCM(eqx.Module):
    r"""Bienenstock--Cooper--Munro rule with a sliding threshold
    :math:`\tau_\theta \dot\theta = y^2 - \theta`:
    :math:`\dot w_{ji} = \eta x_j y_i (y_i - \theta_i)`.

    Parameters
    ----------
    eta : float
        Learning rate (1/ms).
    tau_theta : float
        Time constant of the threshold (ms, > 0).
    theta0 : float
        Initial threshold.
    w_min, w_max : float
        Bounds of the weights.
    """

    eta: Any = 1e-3
    tau_theta: Any = 100.0
    theta0: Any = 0.0
    w_min: Any = 0.0
    w_max: Any = jnp.inf

    def __check_init__(self):
        check_finite("eta", self.eta, "BCM")
        check_positive("tau_theta", self.tau_theta, "BCM", "ms")

    def init_state(self, n_pre, n_post, dtype):
        return {"theta": jnp.full((n_post,), self.theta0, dtype)}

    def update(self, state, w, x, y, dt, layout):
        x, y = x.astype(w.dtype), y.astype(w.dtype)
        theta = state["theta"]
        dw = self.eta * layout.outer(x, y * (y - theta))
        e = jnp.exp(-dt / jnp.asarray(self.tau_theta, w.dtype))
        theta = y * y + (theta - y * y) * e
        return {"theta": theta.astype(w.dtype)}, jnp.clip(w + dt * dw, self.w_min, self.w_max).astype(w.dtype)
