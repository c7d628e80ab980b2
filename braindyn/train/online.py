r"""Online supervised learning rules -- LMS, RLS and FORCE -- in the learning-rule slot.

The three rules are :class:`~braindyn.plasticity.LearningRule` s: a projection carrying them
(``SynapticProjection(..., plasticity=FORCE(), factor="target")``) learns inside a
:class:`~braindyn.Network` run, after the populations stepped, with the **teacher as the third
factor**: a signal of the run's inputs (``Network(..., signals=("target",))``,
``inputs={"target": f}``) or a population variable. With ``factor_is="target"`` (default) the
factor is the target :math:`f` and the rule forms the a-priori error of the readout with the
weights before the update,

.. math:: e = \hat y - f, \qquad \hat y_i = \sum_j w_{ji}\, r_j

(:math:`r` = the presynaptic signal ``pre`` after the step); with ``factor_is="error"`` the
factor *is* :math:`e` (computed elsewhere, e.g. by another population). The teacher may carry a
switch: a factor ``{"value": f, "on": g}`` teaches only while :math:`g > 1/2` (otherwise the rule
leaves its state and the weights unchanged), so one run holds a training phase and a test
phase (``inputs={"target": {"value": f, "on": lambda t: 1.0 * (t < T)}}``; run inputs must be
finite). A teacher value of ``NaN`` coming from a population also means "no teacher now".

LMS (Widrow--Hoff), with learning rate :math:`\eta` per update:

.. math:: w_{ji} \leftarrow w_{ji} - \eta\, r_j e_i .

RLS (recursive least squares), with the running inverse correlation matrix :math:`P` (the rule's
state, :math:`P_0 = I/\alpha`) and forgetting factor :math:`\lambda \in (0, 1]`:

.. math::
    k = \frac{P r}{\lambda + r^\top P r}, \qquad
    P \leftarrow \frac{P - k\,(P r)^\top}{\lambda}, \qquad
    w_{\cdot i} \leftarrow w_{\cdot i} - k\, e_i .

With :math:`\lambda = 1` and :math:`w_0 = 0` the weights after the samples :math:`r_1..r_n` are
exactly the ridge solution :math:`(\sum_k r_k r_k^\top + \alpha I)^{-1} \sum_k r_k f_k^\top`
(:math:`P^{-1} = \sum_k r_k r_k^\top + \alpha I`; tests/test_online_rules.py checks this against
:func:`braindyn.train.ridge` with :math:`\beta = \alpha`). A small :math:`\alpha` learns fast.

FORCE (Sussillo & Abbott 2009) is RLS applied to the readout :math:`z = w^\top r` of a chaotic
rate reservoir whose output is fed back into it, every ``every`` steps, from the first step on
(so the error stays small throughout and the fed-back signal is already close to the target):
:class:`FORCE` and the builder :func:`force_network`.

Example
-------
>>> import jax.numpy as jnp, numpy as np
>>> from braindyn.plasticity import WeightLayout
>>> rule, lay = RLS(alpha=1.0), WeightLayout.of(np.ones((2, 1)))
>>> st, w = rule.init_state(2, 1, jnp.float32), jnp.zeros((2, 1))
>>> st, w = rule.update(st, w, jnp.array([1.0, 0.0]), None, 1.0, lay, factor=jnp.array([2.0]))
>>> [round(float(v), 4) for v in w.ravel()]            # ridge with beta = 1: 1 * 2 / (1 + 1)
[1.0, 0.0]
"""
from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice
from ..core import Dynamics, default_float
from ..params import param
from ..plasticity.rule import LearningRule

__all__ = ["LMS", "RLS", "FORCE", "ReadoutUnit", "force_network", "sum_of_sines"]


def _teacher(rule, w, pre, factor, layout):
    """(error, valid): the error of the readout and whether a teacher is present (not NaN)."""
    if factor is None:
        raise BraindynError(f"{type(rule).__name__} needs a teacher as its third factor. Fix: "
                            f"SynapticProjection(..., plasticity={type(rule).__name__}(...), factor='target') in a "
                            f"Network(..., signals=('target',)) run with inputs={{'target': f}}.")
    on = True
    if isinstance(factor, dict):
        if "value" not in factor:
            raise BraindynError(f"{type(rule).__name__}: a teacher given as a dict needs the key 'value' (and "
                                f"optionally 'on', the switch), got keys {sorted(factor)}. Fix: "
                                f"inputs={{'target': {{'value': f, 'on': g}}}}.")
        on = jnp.asarray(factor.get("on", 1.0)) > 0.5
        factor = factor["value"]
    f = jnp.broadcast_to(jnp.asarray(factor, w.dtype), (layout.n_post,))
    valid = jnp.all(jnp.isfinite(f)) & jnp.all(on)
    f = jnp.where(jnp.isfinite(f), f, 0.0)
    if rule.factor_is == "error":
        e = f
    else:
        e = layout.apply(w, pre.astype(w.dtype)) - f
    return jnp.where(valid, e, 0.0), valid


class LMS(LearningRule):
    r"""Least-mean-squares (Widrow--Hoff, delta) rule, :math:`w_{ji} \leftarrow w_{ji} - \eta\,
    r_j e_i` with :math:`e = \hat y - f` (see the module documentation).

    The step is per update (not scaled by ``dt``): LMS is a stochastic-gradient step on
    :math:`\tfrac12\lVert e\rVert^2`, stable for :math:`0 < \eta < 2 / \lVert r\rVert^2`.
    Works on dense and CSR weights.

    Parameters
    ----------
    eta : float
        Learning rate (1 / unit of :math:`r^2`, >= 0).
    factor_is : {"target", "error"}
        What the third factor is.

    Example
    -------
    >>> import jax.numpy as jnp, numpy as np
    >>> from braindyn.plasticity import WeightLayout
    >>> rule, lay = LMS(eta=0.5), WeightLayout.of(np.ones((1, 1)))
    >>> st, w = rule.update({}, jnp.zeros((1, 1)), jnp.array([1.0]), None, 1.0, lay, factor=jnp.array([2.0]))
    >>> float(w[0, 0])                        # 0 - 0.5 * 1 * (0 - 2)
    1.0
    """

    uses_factor: ClassVar[bool] = True
    eta: Any = param(1e-3, bound="nonnegative", unit="1/unit of r^2", per_neuron=False, doc="learning rate")
    factor_is: str = eqx.field(static=True, default="target")

    def __check_init__(self):
        check_choice("factor_is", self.factor_is, ("target", "error"), type(self).__name__)

    def init_state(self, n_pre, n_post, dtype):
        return {}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        e, _ = _teacher(self, w, pre, factor, layout)
        return state, (w - self.eta * layout.outer(pre.astype(w.dtype), e)).astype(w.dtype)


class RLS(LearningRule):
    r"""Recursive least squares with a forgetting factor (see the module documentation).

    State: the inverse correlation matrix ``P`` ``(n_pre, n_pre)`` (:math:`P_0 = I/\alpha`) and
    the count of steps ``k``. One :math:`P` serves all outputs: exact RLS when every
    postsynaptic unit reads every presynaptic one (a full dense matrix, or an all-to-all CSR);
    with partial connectivity (a dense mask or a sparse CSR) the change is applied to the
    existing synapses only (absent ones stay absent) and the rule is then an approximation of
    per-unit RLS (which would need one :math:`P` per postsynaptic unit).

    Parameters
    ----------
    alpha : float
        Initial regularisation (unit of :math:`r^2`, > 0), :math:`P_0 = I/\alpha`: the weights
        after :math:`n` samples are ridge weights with :math:`\beta = \alpha` (Sussillo & Abbott's
        "learning rate": a small :math:`\alpha` learns fast).
    lam : float
        Forgetting factor :math:`\lambda \in (0, 1]` (1: none; samples :math:`m` steps old weigh
        :math:`\lambda^m`).
    every : int
        Learn at every ``every``-th step (steps ``0, every, 2 every, ...``; static).
    factor_is : {"target", "error"}
        What the third factor is.

    Example
    -------
    >>> float(RLS(alpha=2.0).alpha), RLS(every=5).every
    (2.0, 5)
    """

    uses_factor: ClassVar[bool] = True
    alpha: Any = param(1.0, bound="positive", unit="unit of r^2", per_neuron=False,
                       doc="initial P = I / alpha (ridge beta = alpha)")
    lam: Any = param(1.0, bound=(1e-6, 1.0), unit="1", per_neuron=False, doc="forgetting factor")
    every: int = eqx.field(static=True, default=1)
    factor_is: str = eqx.field(static=True, default="target")

    def __check_init__(self):
        check_choice("factor_is", self.factor_is, ("target", "error"), type(self).__name__)
        if not isinstance(self.every, (int, np.integer)) or isinstance(self.every, bool) or self.every < 1:
            raise BraindynError(f"parameter 'every' of {type(self).__name__} must be a positive integer (learn every "
                                f"n-th step), got {self.every!r}. Fix: e.g. every=2.")

    def init_state(self, n_pre, n_post, dtype):
        return {"P": jnp.eye(n_pre, dtype=dtype) / jnp.asarray(self.alpha, dtype), "k": jnp.zeros((), jnp.int32)}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        e, valid = _teacher(self, w, pre, factor, layout)
        r = pre.astype(w.dtype)
        go = valid & (state["k"] % self.every == 0)

        def learn(args):
            P, w = args
            Pr = P @ r
            c = 1.0 / (self.lam + r @ Pr)
            k = c * Pr
            P = (P - jnp.outer(k, Pr)) / self.lam
            P = 0.5 * (P + P.T)                          # keep P symmetric against round-off
            dw = layout.outer(k, e)
            return P.astype(state["P"].dtype), (w - dw).astype(w.dtype)

        P, w = jax.lax.cond(go, learn, lambda a: a, (state["P"], w))
        return {"P": P, "k": state["k"] + 1}, w


class FORCE(RLS):
    r"""FORCE learning (Sussillo & Abbott 2009): RLS on the fed-back readout of a chaotic
    reservoir, every ``every`` steps (default 2, i.e. 1 ms at ``dt = 0.5`` ms), with
    :math:`P_0 = I/\alpha` (:math:`\alpha` = 1: the paper's value for rates of order 1).

    The rule is :class:`RLS`; what makes it FORCE is the network it runs in (the readout fed back
    into the reservoir, learning from the first step): see :func:`force_network`.

    Example
    -------
    >>> FORCE().every, float(FORCE(alpha=0.5).alpha)
    (2, 0.5)
    """

    every: int = eqx.field(static=True, default=2)


class ReadoutUnit(Dynamics):
    r"""A population whose value is its summed input: :math:`z(t + \Delta t) = I(t)`.

    The linear readout of a reservoir (:math:`z = W^\top r` through a projection with
    ``synapse=Instant()``), stepped like any population. State: ``{"z": (n,)}``.

    Parameters
    ----------
    n : int
        Number of outputs.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> u = ReadoutUnit(n=2)
    >>> u.step(u.init_state(), {"I": jnp.array([1.0, -2.0])}, 0.0, 0.1)[0]["z"].tolist()
    [1.0, -2.0]
    """

    n: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        if not isinstance(self.n, (int, np.integer)) or isinstance(self.n, bool) or self.n < 1:
            raise BraindynError(f"parameter 'n' of ReadoutUnit must be a positive integer, got {self.n!r}.")

    def init_state(self, *, key=None, dtype=None, **initial):
        z = jnp.zeros((self.n,), dtype or default_float())
        if "z" in initial:
            z = jnp.broadcast_to(jnp.asarray(initial["z"], z.dtype), (self.n,))
        return {"z": z}

    def step(self, state, inputs, t, dt, key=None):
        I = inputs.get("I", 0.0) if isinstance(inputs, dict) else (0.0 if inputs is None else inputs)
        z = jnp.broadcast_to(jnp.asarray(I, state["z"].dtype), (self.n,))
        return {"z": z}, {"z": z}


def sum_of_sines(t, period: float = 240.0, amplitude: float = 1.3):
    r"""The periodic target of Sussillo & Abbott (2009, Fig. 2):

    .. math:: f(t) = \frac{A}{1.5}\sin\omega t + \frac{A}{3}\sin 2\omega t + \frac{A}{9}\sin 3\omega t
        + \frac{A}{3}\sin 4\omega t, \qquad \omega = 2\pi / T

    Parameters
    ----------
    t : float or array
        Time (ms).
    period : float
        :math:`T` (ms).
    amplitude : float
        :math:`A` (dimensionless).

    Example
    -------
    >>> round(float(sum_of_sines(0.0)), 6)
    0.0
    """
    w = 2.0 * jnp.pi / period
    t = jnp.asarray(t)
    return amplitude * (jnp.sin(w * t) / 1.5 + jnp.sin(2 * w * t) / 3.0 + jnp.sin(3 * w * t) / 9.0
                        + jnp.sin(4 * w * t) / 3.0)


def force_network(n: int = 300, *, g: float = 1.5, p: float = 0.1, tau: float = 10.0, alpha: float = 1.0,
                  every: int = 2, n_out: int = 1, feedback: float = 1.0, seed: int = 0, rule=None):
    r"""A FORCE network (Sussillo & Abbott 2009, architecture A) in rate form.

    .. math::
        \tau \frac{dr}{dt} = -r + \tanh\big(g\, J r + w_f z\big), \qquad
        z = W^\top r

    with :math:`J` sparse (connection probability :math:`p`, Gaussian weights of variance
    :math:`1/(p n)`), :math:`w_f` uniform in :math:`[-1, 1]` times ``feedback``, and :math:`W`
    (initially 0) learned by the ``rule`` (default :class:`FORCE`) with the teacher as the third
    factor. For :math:`g > 1` the reservoir is chaotic without feedback.

    Populations ``"R"`` (:class:`~braindyn.neurons.RateUnit`, ``f="tanh"``, random initial rates)
    and ``"Z"`` (:class:`ReadoutUnit`); projections ``"RR"``, ``"RZ"`` (plastic) and ``"ZR"``
    (feedback), all with :class:`~braindyn.synapses.Instant` coupling; signal ``"target"``.

    Timing: the rule at the step from :math:`t_m` fits :math:`W^\top r(t_{m+1})` to the teacher
    given at :math:`t_m`, and that product is the readout recorded at :math:`t_{m+2}`
    (``record="pop.Z.z"``), so pass the target two steps ahead, ``lambda t: f(t + 2 * dt)``,
    to have ``z(t) = f(t)``.

    Parameters
    ----------
    n : int
        Reservoir size.
    g : float
        Gain of the recurrent weights (dimensionless; chaos for g > 1).
    p : float
        Connection probability of :math:`J` (0 < p <= 1).
    tau : float
        Time constant (ms).
    alpha : float
        RLS learning rate (:math:`P_0 = I/\alpha`).
    every : int
        Learn every ``every`` steps.
    n_out : int
        Number of readouts.
    feedback : float
        Scale of the feedback weights :math:`w_f` (0: no feedback, an open-loop readout).
    seed : int
        Seed of :math:`J`, :math:`w_f` and the initial rates.
    rule : LearningRule, optional
        The readout's rule (default ``FORCE(alpha=alpha, every=every)``; e.g. :class:`LMS`).

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.train import force_network, sum_of_sines
    >>> net = force_network(50, seed=1)
    >>> res = bd.run(net, 20.0, dt=0.5, inputs={"target": lambda t: sum_of_sines(t + 1.0)}, record="pop.Z.z")
    >>> res["pop.Z.z"].shape
    (40, 1)
    """
    from ..neurons import RateUnit
    from ..network import Network
    from ..synapses import Instant, SynapticProjection

    if not isinstance(n, (int, np.integer)) or n < 2:
        raise BraindynError(f"force_network: n={n!r} must be an integer >= 2 (reservoir units).")
    if not 0.0 < p <= 1.0:
        raise BraindynError(f"force_network: p={p!r} must satisfy 0 < p <= 1 (connection probability).")
    rng = np.random.default_rng(seed)
    J = rng.normal(0.0, 1.0 / np.sqrt(p * n), size=(n, n)) * (rng.random((n, n)) < p)
    wf = feedback * rng.uniform(-1.0, 1.0, size=(n_out, n))
    r0 = rng.uniform(-0.5, 0.5, size=n)
    rule = FORCE(alpha=alpha, every=every) if rule is None else rule
    R = RateUnit(n=n, tau=tau, f="tanh", r_init=r0)
    Z = ReadoutUnit(n=n_out)
    proj = {
        "RR": SynapticProjection("R", "R", g * J, synapse=Instant(), signal="r"),
        "RZ": SynapticProjection("R", "Z", np.ones((n, n_out)), 0.0, synapse=Instant(), signal="r",
                                 plasticity=rule, learn_pre="r", learn_post="z", factor="target"),
    }
    if feedback != 0.0:
        proj["ZR"] = SynapticProjection("Z", "R", wf, synapse=Instant(), signal="z")
    return Network({"R": R, "Z": Z}, proj, signals=("target",))
