r"""Rate-based learning rules: Hebb, Oja and BCM.

For presynaptic rates :math:`x_j`, postsynaptic rates :math:`y_i` and weights :math:`w_{ji}`
(dense ``(n_pre, n_post)`` or one per synapse of a CSR, through
:class:`~braindyn.plasticity.WeightLayout`):

.. math::
    \text{Hebb:}\quad \frac{dw_{ji}}{dt} = \eta\, x_j y_i, \qquad
    \text{Oja:}\quad \frac{dw_{ji}}{dt} = \eta\, y_i (x_j - y_i w_{ji}),

    \text{BCM:}\quad \frac{dw_{ji}}{dt} = \eta\, x_j\, y_i (y_i - \theta_i), \qquad
    \tau_\theta \frac{d\theta_i}{dt} = y_i^2 - \theta_i
    \;\text{ or }\; \theta_i = \langle y_i^2 \rangle_{\text{past}} .

Each rule follows :class:`~braindyn.plasticity.LearningRule`:
``init_state(n_pre, n_post, dtype)`` and ``update(state, w, x, y, dt, layout, factor=None) ->
(state, w)`` (one forward-Euler step of size ``dt``; the filtered BCM threshold is advanced
exactly for ``y`` held over the step). :math:`\eta` is per ms.

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

from .._errors import check_choice
from ..params import param
from .rule import LearningRule

__all__ = ["Hebb", "Oja", "BCM"]


def _eta(default=1e-3):
    return param(default, unit="1/ms (per unit of x y)", per_neuron=False, doc="learning rate")


def _bound(default, doc):
    return param(default, bound="extended", unit="unit of w", per_neuron=False, doc=doc)


class Hebb(LearningRule):
    r"""Plain Hebbian rule :math:`\dot w_{ji} = \eta x_j y_i` (unbounded growth unless
    ``w_max`` is set; weights are clipped to ``[w_min, w_max]``).

    Example
    -------
    >>> float(Hebb(eta=0.01, w_max=2.0).w_max)
    2.0
    """

    eta: Any = _eta()
    w_min: Any = _bound(-jnp.inf, "lower weight bound")
    w_max: Any = _bound(jnp.inf, "upper weight bound")

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        dw = self.eta * layout.outer(pre.astype(w.dtype), post.astype(w.dtype))
        return state, jnp.clip(w + dt * dw, self.w_min, self.w_max).astype(w.dtype)


class Oja(LearningRule):
    r"""Oja's rule :math:`\dot w_{ji} = \eta y_i (x_j - y_i w_{ji})`: the weight vector of each
    postsynaptic unit converges to the unit-norm principal eigenvector of the input covariance.

    Example
    -------
    >>> round(float(Oja(eta=0.005).eta), 3)
    0.005
    """

    eta: Any = _eta()

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        x, y = pre.astype(w.dtype), post.astype(w.dtype)
        dw = self.eta * (layout.outer(x, y) - layout.post(y * y) * w)
        return state, (w + dt * dw).astype(w.dtype)


class BCM(LearningRule):
    r"""Bienenstock--Cooper--Munro rule with a sliding threshold:
    :math:`\dot w_{ji} = \eta x_j y_i (y_i - \theta_i)`.

    Two thresholds (``threshold``):

    ``"filter"`` (default)
        :math:`\tau_\theta \dot\theta = y^2 - \theta` (low-pass filtered :math:`y^2`, from
        :math:`\theta_0`), advanced exactly over each step.
    ``"running_mean"``
        The book's threshold: the mean of :math:`y^2` over all past steps,
        :math:`\theta_i(t_n) = \frac{1}{n}\sum_{k=1}^{n} y_i(t_k)^2` (state: the mean and the
        number of steps; :math:`\theta_0` until the first step).

    In both, the change of step :math:`n` uses the threshold of the steps before it.

    Parameters
    ----------
    eta : float
        Learning rate (1/ms).
    tau_theta : float
        Time constant of the filtered threshold (ms, > 0).
    theta0 : float
        Initial threshold.
    threshold : {"filter", "running_mean"}
    w_min, w_max : float
        Bounds of the weights.

    Example
    -------
    >>> import jax.numpy as jnp, numpy as np
    >>> from braindyn.plasticity import WeightLayout
    >>> rule, lay = BCM(threshold="running_mean"), WeightLayout.of(np.ones((1, 1)))
    >>> st, w = rule.init_state(1, 1, jnp.float32), jnp.ones((1, 1))
    >>> for y in (1.0, 2.0, 3.0):
    ...     st, w = rule.update(st, w, jnp.array([1.0]), jnp.array([y]), 0.1, lay)
    >>> round(float(st["theta"][0]), 4)          # (1 + 4 + 9) / 3
    4.6667
    """

    eta: Any = _eta()
    tau_theta: Any = param(100.0, bound="positive", unit="ms", per_neuron=False, doc="threshold time constant")
    theta0: Any = param(0.0, unit="unit of y^2", per_neuron=False, doc="initial threshold")
    w_min: Any = _bound(0.0, "lower weight bound")
    w_max: Any = _bound(jnp.inf, "upper weight bound")
    threshold: str = eqx.field(static=True, default="filter")

    def __check_init__(self):
        check_choice("threshold", self.threshold, ("filter", "running_mean"), "BCM")

    def init_state(self, n_pre, n_post, dtype):
        st = {"theta": jnp.full((n_post,), self.theta0, dtype)}
        if self.threshold == "running_mean":
            st["n"] = jnp.zeros((), jnp.int32)
        return st

    def update(self, state, w, pre, post, dt, layout, factor=None):
        x, y = pre.astype(w.dtype), post.astype(w.dtype)
        theta = state["theta"]
        dw = self.eta * layout.outer(x, y * (y - theta))
        if self.threshold == "filter":
            e = jnp.exp(-dt / jnp.asarray(self.tau_theta, w.dtype))
            new = {"theta": (y * y + (theta - y * y) * e).astype(w.dtype)}
        else:
            n = state["n"] + 1
            theta = theta + (y * y - theta) / n.astype(w.dtype)       # = y^2 at the first step
            new = {"theta": theta.astype(w.dtype), "n": n}
        return new, jnp.clip(w + dt * dw, self.w_min, self.w_max).astype(w.dtype)
