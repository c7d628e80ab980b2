r"""Reservoir computing (the book's chapter 9): the echo state network, a liquid state machine,
and the data of its tasks generated with braindyn's own integrators.

**Echo state network** (Jaeger 2001), a leaky tanh reservoir driven by an input :math:`u(n)`,
one step per sample:

.. math::
    x(n+1) = (1 - a)\, x(n) + a \tanh\!\big(W_{in} u(n+1) + W x(n) + b\big),

with leaking rate :math:`a \in (0, 1]`, a sparse random :math:`W` rescaled to a chosen spectral
radius :math:`\rho(W) = |\lambda_{max}(W)|`, input weights scaled by the *input scaling*, and a
linear readout :math:`\hat y = W_{out}^\top x + b_{out}` fitted offline
(:func:`braindyn.train.ridge`) on the states after a washout.

The echo-state property (the state forgets its initial condition, so it is a function of the
input history): :math:`\sigma_{max}(W) < 1` is **sufficient** (tanh is 1-Lipschitz, so the map
contracts, for any input; with leaking, :math:`(1-a) + a\,\sigma_{max} < 1`); a spectral radius
:math:`\rho(W) > 1` **breaks** it for zero input (the origin is unstable: nearby states
separate). In between (:math:`\rho < 1 \le \sigma_{max}`) is the usual practical regime.
:func:`spectral_radius` and :func:`sigma_max` report both for a reservoir.

**Liquid state machine** (Maass, Natschläger & Markram 2002): a recurrent spiking network of
LIF neurons (80 % excitatory, 20 % inhibitory, sparse random connectivity, exponential
current synapses) driven by Poisson input spike trains, read out linearly from spike counts
(:func:`liquid_state_machine`, :func:`lsm_features`).

**Data** (:func:`lorenz`, :func:`mackey_glass`, :func:`sine_power`): the Lorenz system
integrated by braindyn's Runge--Kutta solvers, the Mackey--Glass delay equation by its DDE
solver (:func:`braindyn.integrators.integrate_dde`), and Jaeger's sine-power task.

Example
-------
>>> from braindyn.models import ESN, sine_power, spectral_radius
>>> from braindyn.train import ridge, nrmse
>>> u, y = sine_power(400)
>>> esn = ESN.random(100, 1, spectral_radius=0.8, seed=0)
>>> X = esn.run(u[:, None])
>>> ro = ridge(X[100:300], y[100:300], 1e-6)
>>> round(float(spectral_radius(esn)), 3), nrmse(y[300:], ro(X[300:])) < 0.05
(0.8, True)
"""
from __future__ import annotations

from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..core import Dynamics, default_float
from ..params import param

__all__ = ["ESN", "spectral_radius", "sigma_max", "lorenz", "mackey_glass", "sine_power", "liquid_state_machine",
           "pattern_rates", "lsm_features"]


def _matrix(W):
    W = W.W if isinstance(W, ESN) else W
    W = np.asarray(W, float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise BraindynError(f"expected a square recurrent matrix (or an ESN), got shape {W.shape}.")
    return W


def spectral_radius(W) -> float:
    r"""Spectral radius :math:`\rho(W) = \max_k |\lambda_k(W)|` of a square matrix or of an
    :class:`ESN`'s recurrent weights (:math:`\rho > 1` breaks the echo-state property).

    Example
    -------
    >>> import numpy as np
    >>> round(spectral_radius(np.array([[0.0, 2.0], [-2.0, 0.0]])), 12)        # eigenvalues +-2i
    2.0
    """
    return float(np.max(np.abs(np.linalg.eigvals(_matrix(W)))))


def sigma_max(W) -> float:
    r"""Largest singular value :math:`\sigma_{max}(W) = \lVert W\rVert_2` (:math:`< 1` is sufficient
    for the echo-state property; :math:`\rho(W) \le \sigma_{max}(W)` always).

    Example
    -------
    >>> import numpy as np
    >>> sigma_max(np.array([[0.0, 3.0], [0.5, 0.0]]))
    3.0
    """
    return float(np.linalg.norm(_matrix(W), 2))


class ESN(Dynamics):
    r"""Echo state network: a leaky tanh reservoir (see the module documentation).

    .. math:: x \leftarrow (1 - a)\, x + a \tanh(W_{in} u + W x + b)

    One step is one sample (``dt`` is not used). Build a random one with :meth:`random`; drive
    it with :meth:`run` (a ``lax.scan`` over the inputs, returning the states) or, as a braindyn
    model, with :func:`braindyn.simulate` (``inputs`` = :math:`u`, shape ``(n_in,)``).

    Parameters
    ----------
    W_in : array ``(n, n_in)``
        Input weights (1 / unit of u).
    W : array ``(n, n)``
        Recurrent weights (dimensionless).
    b : array ``(n,)``
        Bias.
    leak : float
        Leaking rate :math:`a \in (0, 1]` (1: no leak; small: slow reservoir).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> esn = ESN(jnp.ones((2, 1)), jnp.zeros((2, 2)), jnp.zeros(2), leak=0.5)
    >>> [round(float(v), 4) for v in esn.run(jnp.array([[1.0], [1.0]]))[:, 0]]   # 0.5 tanh 1, then 0.75 tanh 1
    [0.3808, 0.5712]
    """

    W_in: Any = param(None, unit="1/unit of u", per_neuron=False, doc="input weights (n, n_in)")
    W: Any = param(None, unit="1", per_neuron=False, doc="recurrent weights (n, n)")
    b: Any = param(None, unit="1", per_neuron=False, doc="bias (n,)")
    leak: Any = param(1.0, bound=(1e-9, 1.0), unit="1", per_neuron=False, doc="leaking rate a")
    n: int = eqx.field(static=True, default=0)
    n_in: int = eqx.field(static=True, default=0)

    def __init__(self, W_in, W, b=None, leak=1.0):
        W_in, W = np.asarray(W_in) if not isinstance(W_in, jax.Array) else W_in, \
            np.asarray(W) if not isinstance(W, jax.Array) else W
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise BraindynError(f"ESN: W must be a square (n, n) matrix, got shape {W.shape}. Fix: ESN.random(n, "
                                f"n_in, spectral_radius=0.9) builds one.")
        n = W.shape[0]
        if W_in.ndim != 2 or W_in.shape[0] != n:
            raise BraindynError(f"ESN: W_in must have shape (n, n_in) = ({n}, n_in), got {W_in.shape}.")
        b = np.zeros(n) if b is None else b
        if tuple(np.shape(b)) not in ((), (n,)):
            raise BraindynError(f"ESN: b must be a scalar or have shape ({n},), got {np.shape(b)}.")
        self.W_in, self.W, self.b, self.leak = W_in, W, jnp.broadcast_to(jnp.asarray(b), (n,)), leak
        self.n, self.n_in = int(n), int(W_in.shape[1])

    @classmethod
    def example(cls) -> "ESN":
        """A small reservoir (10 units, 2 inputs, leak 0.5) for the component harness."""
        return cls.random(10, 2, spectral_radius=0.9, leak=0.5, density=0.5, bias_scaling=0.1, seed=0)

    @classmethod
    def random(cls, n: int, n_in: int = 1, *, spectral_radius: float = 0.9, input_scaling: float = 1.0,
               leak: float = 1.0, density: float = 0.1, bias_scaling: float = 0.0, seed: int = 0) -> "ESN":
        r"""A random reservoir: :math:`W` with a fraction ``density`` of non-zero entries uniform in
        :math:`[-1, 1]`, rescaled to spectral radius ``spectral_radius``; :math:`W_{in}` and
        :math:`b` uniform in :math:`[-1, 1]` times ``input_scaling`` and ``bias_scaling``.

        Example
        -------
        >>> esn = ESN.random(50, 2, spectral_radius=1.2, seed=3)
        >>> esn.W_in.shape, round(spectral_radius(esn), 6)
        ((50, 2), 1.2)
        """
        if not isinstance(n, (int, np.integer)) or n < 1 or not isinstance(n_in, (int, np.integer)) or n_in < 1:
            raise BraindynError(f"ESN.random: n={n!r} and n_in={n_in!r} must be positive integers.")
        if not 0.0 < density <= 1.0:
            raise BraindynError(f"ESN.random: density={density!r} must satisfy 0 < density <= 1 (fraction of "
                                f"non-zero recurrent weights). Fix: e.g. density=0.1.")
        if not np.isfinite(spectral_radius) or spectral_radius < 0:
            raise BraindynError(f"ESN.random: spectral_radius={spectral_radius!r} must be a finite number >= 0. "
                                f"Fix: e.g. spectral_radius=0.9 (below 1 for the echo-state property).")
        rng = np.random.default_rng(seed)
        W = rng.uniform(-1.0, 1.0, (n, n)) * (rng.random((n, n)) < density)
        rho = np.max(np.abs(np.linalg.eigvals(W))) if n > 0 else 0.0
        W = W * (spectral_radius / rho) if rho > 0 else W
        W_in = input_scaling * rng.uniform(-1.0, 1.0, (n, n_in))
        b = bias_scaling * rng.uniform(-1.0, 1.0, n)
        dt = default_float()
        return cls(jnp.asarray(W_in, dt), jnp.asarray(W, dt), jnp.asarray(b, dt), leak)

    def update(self, x, u):
        """One reservoir step from state ``x`` with input ``u`` ``(n_in,)``."""
        pre = self.W_in @ u + self.W @ x + self.b
        return ((1.0 - self.leak) * x + self.leak * jnp.tanh(pre)).astype(x.dtype)

    def run(self, U, x0=None):
        r"""States :math:`x(1..T)` ``(T, n)`` for the inputs ``U`` ``(T, n_in)``, from ``x0``
        (default 0); ``U`` and ``x0`` may carry leading batch axes of the same shape."""
        U = jnp.asarray(U)
        if U.ndim == 1 and self.n_in == 1:
            U = U[:, None]
        if U.ndim < 2 or U.shape[-1] != self.n_in:
            raise BraindynError(f"ESN.run: inputs U must have shape (T, n_in) = (T, {self.n_in}), got {U.shape}.")
        dtype = jnp.result_type(U.dtype, self.W.dtype)
        x0 = jnp.zeros(U.shape[:-2] + (self.n,), dtype) if x0 is None else jnp.asarray(x0, dtype)
        return _esn_run(self, U.astype(dtype), x0)

    def init_state(self, *, key=None, dtype=None, x=None, **initial):
        x0 = jnp.zeros((self.n,), dtype or default_float()) if x is None else jnp.asarray(x, dtype)
        return {"x": jnp.broadcast_to(x0, (self.n,))}

    def step(self, state, inputs, t, dt, key=None):
        u = inputs.get("u", inputs.get("I", 0.0)) if isinstance(inputs, dict) else inputs
        u = jnp.broadcast_to(jnp.asarray(0.0 if u is None else u, state["x"].dtype), (self.n_in,))
        x = self.update(state["x"], u)
        return {"x": x}, {"x": x}


@eqx.filter_jit
def _esn_run(esn, U, x0):
    def one(x, u):
        x = esn.update(x, u)
        return x, x

    if U.ndim == 2:
        return jax.lax.scan(one, x0, U)[1]
    flat_U = U.reshape((-1,) + U.shape[-2:])
    flat_x = x0.reshape((-1, esn.n))
    out = jax.vmap(lambda u, x: jax.lax.scan(one, x, u)[1])(flat_U, flat_x)
    return out.reshape(U.shape[:-1] + (esn.n,))


# ------------------------------------------------------------------------------------------ data
def lorenz(n_samples: int, *, h: float = 0.01, sample_every: int = 2, sigma: float = 10.0, rho: float = 28.0,
           beta: float = 8.0 / 3.0, x0=(1.0, 1.0, 1.0), transient: float = 20.0, method: str = "rk4"):
    r"""A Lorenz trajectory integrated with a braindyn Runge--Kutta solver.

    .. math:: \dot x = \sigma (y - x),\quad \dot y = x(\rho - z) - y,\quad \dot z = x y - \beta z

    Parameters
    ----------
    n_samples : int
        Number of samples returned.
    h : float
        Integration step (time units of the Lorenz system).
    sample_every : int
        Samples every ``sample_every`` steps (sampling interval ``h * sample_every``).
    sigma, rho, beta : float
        Parameters (the classical 10, 28, 8/3: chaotic).
    x0 : (float, float, float)
        Initial state, integrated for ``transient`` time units before the first sample.
    method : str
        Solver name of :func:`braindyn.integrators.get` (``"rk4"`` default).

    Returns
    -------
    ts : array ``(n_samples,)`` (from 0), X : array ``(n_samples, 3)``

    Example
    -------
    >>> ts, X = lorenz(100)
    >>> X.shape, round(float(ts[1] - ts[0]), 6)
    ((100, 3), 0.02)
    """
    from ..integrators import get, integrate

    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise BraindynError(f"lorenz: n_samples={n_samples!r} must be a positive integer.")
    if not isinstance(sample_every, (int, np.integer)) or sample_every < 1:
        raise BraindynError(f"lorenz: sample_every={sample_every!r} must be a positive integer.")

    def f(t, y, args):
        x, yy, z = y[0], y[1], y[2]
        return jnp.stack([sigma * (yy - x), x * (rho - z) - yy, x * yy - beta * z])

    solver = get(method)
    y0 = jnp.asarray(x0, default_float())
    n_tr = int(round(transient / h))
    if n_tr:
        y0 = integrate(solver, f, y0, 0.0, n_tr * h, h)
    n_steps = (n_samples - 1) * sample_every
    if n_steps == 0:
        return np.zeros(1), np.asarray(y0)[None]
    ts, ys = integrate(solver, f, y0, 0.0, n_steps * h, h, save_every=int(sample_every))
    return np.asarray(ts) - float(ts[0]), np.asarray(ys)


def mackey_glass(n_samples: int, *, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1, power: float = 10.0,
                 h: float = 0.1, sample: float = 1.0, x0: float = 1.2, transient: float = 500.0,
                 method: str = "rk4"):
    r"""A Mackey--Glass series integrated with braindyn's DDE solver
    (:func:`braindyn.integrators.integrate_dde`, Hermite interpolation of the delayed value).

    .. math:: \dot x(t) = \beta \frac{x(t - \tau)}{1 + x(t-\tau)^{p}} - \gamma\, x(t),
        \qquad x(t) = x_0 \ (t \le 0)

    :math:`\tau = 17` (the default) gives the classical mildly chaotic series.

    Parameters
    ----------
    n_samples : int
        Number of samples returned (after ``transient``).
    tau, beta, gamma, power : float
        Delay (time units), production and decay rates, exponent :math:`p`.
    h : float
        Integration step (<= tau).
    sample : float
        Sampling interval (a multiple of ``h``).
    x0 : float
        Constant history.
    transient : float
        Time integrated and discarded before the first sample (a multiple of ``sample``).
    method : str
        Runge--Kutta tableau of the DDE step.

    Returns
    -------
    ts : array ``(n_samples,)`` (from 0), x : array ``(n_samples,)``

    Example
    -------
    >>> ts, x = mackey_glass(200)
    >>> x.shape, bool(0.2 < x.min() and x.max() < 1.5)
    ((200,), True)
    """
    from ..integrators import integrate_dde

    every = int(round(sample / h))
    if every < 1 or abs(every * h - sample) > 1e-9 * sample:
        raise BraindynError(f"mackey_glass: sample={sample!r} must be a positive multiple of h={h!r}.")
    n_skip = int(round(transient / sample))
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise BraindynError(f"mackey_glass: n_samples={n_samples!r} must be a positive integer.")
    n_total = n_skip + n_samples - 1

    def f(t, x, xd, args):
        return beta * xd / (1.0 + xd ** power) - gamma * x

    t1 = n_total * every * h
    ts, xs = integrate_dde(f, jnp.asarray(x0, default_float()), 0.0, t1, h, tau, method=method, save_every=every)
    ts, xs = np.asarray(ts)[n_skip:], np.asarray(xs)[n_skip:]
    return ts - ts[0], xs


def sine_power(n_samples: int, *, k: int = 7, omega: float = 0.2, amplitude: float = 0.5):
    r"""Jaeger's (2001) sine-power task: input :math:`u(n) = \sin(\omega n)`, target
    :math:`y(n) = A \sin^k(\omega n)` (default :math:`\omega = 1/5`, :math:`k = 7`,
    :math:`A = 1/2`, as in Jaeger's tutorial example).

    The target is a static odd nonlinearity of the present input; with ``k = 7`` it is sharply
    peaked, so a linear readout of the input alone fails (NRMSE about 0.4) and the reservoir
    has to supply the harmonics :math:`\sin 3\omega n, \sin 5\omega n, \sin 7\omega n`.

    Returns
    -------
    u, y : arrays ``(n_samples,)``

    Example
    -------
    >>> u, y = sine_power(3, k=3, omega=1.0, amplitude=1.0)
    >>> [round(float(v), 4) for v in y]             # sin(n)^3 for n = 0, 1, 2
    [0.0, 0.5958, 0.7518]
    """
    n = np.arange(int(n_samples), dtype=float)
    u = np.sin(omega * n)
    return u, amplitude * u ** int(k)


# ------------------------------------------------------------------------------------------ LSM
def pattern_rates(templates, labels, window: float):
    r"""A rate function ``rate(t)`` (Hz, shape ``(n_in,)``) presenting spatio-temporal rate
    patterns one after another: trial :math:`m` (``window`` ms long) shows
    ``templates[labels[m]]``, an array ``(n_bins, n_in)`` of rates held for ``window / n_bins`` ms
    each. For :class:`~braindyn.neurons.PoissonGroup` (``rate=pattern_rates(...)``); after the
    last trial the rates are 0.

    Example
    -------
    >>> import numpy as np
    >>> f = pattern_rates(np.array([[[10.0], [20.0]], [[30.0], [40.0]]]), [1, 0], window=100.0)
    >>> [float(f(t)[0]) for t in (10.0, 60.0, 110.0, 160.0, 250.0)]
    [30.0, 40.0, 10.0, 20.0, 0.0]
    """
    T = jnp.asarray(np.asarray(templates, float))
    if T.ndim != 3:
        raise BraindynError(f"pattern_rates: templates must have shape (n_classes, n_bins, n_in), got {T.shape}.")
    lab = jnp.asarray(np.asarray(labels, int))
    n_bins, n_trials = T.shape[1], lab.shape[0]
    window = float(window)

    def rate(t):
        t = jnp.asarray(getattr(t, "value", t), T.dtype)
        m = jnp.floor(t / window).astype(jnp.int32)
        k = jnp.clip(jnp.floor((t - m * window) / (window / n_bins)).astype(jnp.int32), 0, n_bins - 1)
        r = T[lab[jnp.clip(m, 0, n_trials - 1)], k]
        return jnp.where((m >= 0) & (m < n_trials), r, 0.0)

    return rate


def liquid_state_machine(rate: Callable, n_in: int, *, n: int = 200, frac_exc: float = 0.8, p_in: float = 0.2,
                         p_rec: float = 0.1, w_in: float = 8.0, w_exc: float = 1.0, w_inh: float = -4.0,
                         tau_exc: float = 3.0, tau_inh: float = 6.0, dt: float = 0.1, seed: int = 0):
    r"""A liquid state machine: Poisson input ``"In"`` -> a recurrent LIF network ``"L"``.

    .. math::
        \tau_m \frac{dV_i}{dt} = -V_i + I_b + \sum_{s} g_{s,i}, \qquad
        \tau_s \frac{dg_{s,i}}{dt} = -g_{s,i} + \tau_s\sum_{j} w_{s,ji} \sum_k \delta(t - t_j^k)

    with :math:`\tau_m` = 30 ms, threshold 15 mV, reset 13.5 mV, refractory 2 ms (Maass et al.
    2002); the first ``frac_exc * n`` neurons are excitatory (weight ``w_exc``, synaptic time
    constant ``tau_exc``), the rest inhibitory (``w_inh < 0``, ``tau_inh``), each pair connected
    with probability ``p_rec``; input channels reach each neuron with probability ``p_in``
    (weight ``w_in``). Weights are the jump of :math:`g` per spike (mV). The background drive
    :math:`I_b` is the run's input of ``"L"`` (``inputs={"L": 13.5}``: just below the 15 mV
    threshold). A linear readout of
    spike counts (:func:`lsm_features`, :func:`braindyn.train.logistic` or
    :func:`braindyn.train.ridge`) completes the machine.

    Parameters
    ----------
    rate : callable
        Input rates ``rate(t)`` (Hz, ``(n_in,)``), e.g. :func:`pattern_rates`.
    n_in, n : int
        Input channels and liquid neurons.
    frac_exc : float
        Fraction of excitatory neurons.
    p_in, p_rec : float
        Connection probabilities.
    w_in, w_exc, w_inh : float
        Synaptic weights (mV per spike).
    tau_exc, tau_inh : float
        Synaptic time constants (ms).
    dt : float
        Time step of the run (ms; the projections' delay grid).
    seed : int
        Seed of the connectivity and of the initial potentials.

    Example
    -------
    >>> import braindyn as bd, numpy as np
    >>> net = liquid_state_machine(lambda t: 40.0 * np.ones(10), 10, n=50)
    >>> res = bd.run(net, 100.0, inputs={"L": 13.5}, record="pop.L.spike", key=1)
    >>> res.spike_count("pop.L.spike") > 0
    True
    """
    from .. import connect as bc
    from ..network import Network
    from ..neurons import LIF, PoissonGroup
    from ..synapses import Exponential, SynapticProjection

    n_exc = int(round(frac_exc * n))
    if not 0 < n_exc < n:
        raise BraindynError(f"liquid_state_machine: frac_exc={frac_exc!r} with n={n!r} leaves no excitatory or no "
                            f"inhibitory neuron. Fix: e.g. n=200, frac_exc=0.8.")
    rng = np.random.default_rng(seed)
    L = LIF(n=n, V_rest=0.0, V_reset=13.5, V_th=15.0, tau=30.0, t_ref=2.0,
            V_init=jnp.asarray(rng.uniform(13.5, 15.0, n), default_float()))
    inp = PoissonGroup(n=n_in, rate=rate)
    proj = {
        "In": SynapticProjection("In", "L", bc.fixed_prob(n_in, n, p_in, seed=int(rng.integers(2**31))), w_in,
                                 Exponential(tau_exc), dt=dt),
        "E": SynapticProjection("L", "L", bc.fixed_prob(n, n, p_rec, allow_self=False,
                                                        seed=int(rng.integers(2**31))), w_exc,
                                Exponential(tau_exc), pre_range=(0, n_exc), dt=dt),
        "I": SynapticProjection("L", "L", bc.fixed_prob(n, n, p_rec, allow_self=False,
                                                        seed=int(rng.integers(2**31))), w_inh,
                                Exponential(tau_inh), pre_range=(n_exc, n), dt=dt),
    }
    return Network({"In": inp, "L": L}, proj)


def lsm_features(spikes, n_trials: int, window: float, n_bins: int = 4, t0: float = 0.0):
    r"""Readout features of a liquid: the spike count of every neuron in each of ``n_bins``
    equal bins of every trial window, ``(n_trials, n_bins * n)``.

    ``spikes`` is a spike record of a run (``res["pop.L.spike"]``, a
    :class:`~braindyn.run.SpikeTrain`) or a ``(times, indices, n)`` triple; trial :math:`m` is
    :math:`[t_0 + m\,T_w, t_0 + (m+1) T_w)`.

    Example
    -------
    >>> import numpy as np
    >>> lsm_features((np.array([5.0, 30.0, 60.0]), np.array([0, 1, 0]), 2), 2, 50.0, n_bins=2).tolist()
    [[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]
    """
    if isinstance(spikes, tuple):
        times, idx, n = spikes
    else:
        times, idx = spikes.events()
        n = spikes.n
    times, idx = np.asarray(times, float) - t0, np.asarray(idx, int)
    binw = window / n_bins
    b = np.floor(times / binw + 1e-9).astype(int)
    keep = (b >= 0) & (b < n_trials * n_bins)
    F = np.zeros((n_trials * n_bins, n))
    np.add.at(F, (b[keep], idx[keep]), 1.0)
    return F.reshape(n_trials, n_bins * n)
