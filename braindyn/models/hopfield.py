r"""Hopfield networks: the Amari--Hopfield network and a modern (dense) Hopfield network.

**Amari--Hopfield** (Amari 1972; Hopfield 1982). :math:`N` binary neurons
:math:`s_i \in \{-1, +1\}`, Hebbian storage of :math:`P` patterns :math:`\xi^\mu`:

.. math::
    W_{ij} = \frac1N \sum_{\mu=1}^P \xi^\mu_i \xi^\mu_j \ (i \ne j), \quad W_{ii} = 0, \qquad
    s_i \leftarrow \operatorname{sign}\Big(\sum_j W_{ij} s_j\Big), \qquad
    E(s) = -\tfrac12 s^\top W s

with :math:`\operatorname{sign}(0)` keeping the previous :math:`s_i`. *Asynchronous* updates
(one neuron at a time, here in a random order drawn from a key, every neuron once per sweep)
never increase :math:`E`: flipping :math:`s_i` by :math:`\delta` changes it by
:math:`\Delta E = -\delta h_i - \tfrac12 W_{ii}\delta^2 \le 0` since :math:`\delta` has the sign
of :math:`h_i = (Ws)_i` and :math:`W_{ii} = 0`. *Synchronous* updates (all at once) may end
in 2-cycles, along which :math:`E` need not decrease. Recall works up to
:math:`P \approx 0.138 N` (Amit, Gutfreund & Sompolinsky 1985; :func:`ags_overlap` solves
their zero-temperature equations).

**Modern Hopfield network** (Ramsauer et al. 2020, *Hopfield networks is all you need*),
written as the two-layer network of Krotov & Hopfield (2020, *Large associative memory problem
in neurobiology and machine learning*): :math:`N` visible (feature) neurons :math:`v` and a
hidden layer of :math:`P` memory neurons with inputs :math:`h_\mu = \xi^\mu\cdot v` and
softmax outputs :math:`f_\mu = e^{\beta h_\mu}/\sum_\nu e^{\beta h_\nu}` (the Lagrangian
:math:`L_h = \beta^{-1}\log\sum_\mu e^{\beta h_\mu}`). With the hidden layer at equilibrium
and a full visible step, the visible update is Ramsauer's

.. math::
    v \leftarrow \sum_\mu \xi^\mu f_\mu = \Xi^\top \operatorname{softmax}(\beta\,\Xi v), \qquad
    E(v) = -\beta^{-1}\log\sum_\mu e^{\beta\,\xi^\mu\cdot v} + \tfrac12 v\cdot v + \beta^{-1}\log P
           + \tfrac12 M^2

(:math:`M = \max_\mu\|\xi^\mu\|`). The update is the concave--convex procedure on :math:`E`,
so :math:`E` never increases (Ramsauer et al. 2020, theorem 1); the capacity grows
exponentially with :math:`N`.

All updates are jitted JAX: a sweep is a ``lax.scan`` over a permutation drawn from the key.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice
from ..core import Dynamics
from ..params import param

__all__ = ["Hopfield", "ModernHopfield", "Recall", "random_patterns", "binarize", "corrupt", "overlap",
           "hebbian_weights", "ags_overlap", "AGS_CAPACITY"]

#: The zero-temperature storage capacity :math:`\alpha_c = P_{max}/N` of Amit, Gutfreund &
#: Sompolinsky (1985), to three digits (:func:`ags_overlap` computes it).
AGS_CAPACITY = 0.138


def random_patterns(key, p: int, n: int, dtype=None):
    """``p`` random patterns of ``n`` independent, equiprobable ±1 values, shape ``(p, n)``."""
    key = jax.random.PRNGKey(key) if isinstance(key, int) else key
    return jnp.where(jax.random.bernoulli(key, 0.5, (p, n)), 1.0, -1.0).astype(dtype or jnp.zeros(()).dtype)


def binarize(images, threshold=None):
    """Images of any shape ``(p, ...)`` to ±1 patterns ``(p, n)``: +1 where a pixel is above
    ``threshold`` (default: the mean of each image). ±1 and {0, 1} images are kept as they are."""
    x = jnp.asarray(images)
    x = x.reshape(x.shape[0], -1).astype(jnp.zeros(()).dtype)
    if threshold is None:
        threshold = jnp.mean(x, axis=1, keepdims=True)
    return jnp.where(x > threshold, 1.0, -1.0).astype(x.dtype)


def corrupt(key, patterns, flip: float):
    """Flip a fraction ``flip`` of the bits of each pattern (exactly ``round(flip * n)`` bits,
    at positions drawn from ``key``)."""
    patterns = jnp.asarray(patterns)
    n = patterns.shape[-1]
    nflip = int(round(float(flip) * n))
    if not 0 <= nflip <= n:
        raise BraindynError(f"corrupt: flip must be in [0, 1], got {flip!r}. Fix: e.g. flip=0.1.")
    lead = patterns.shape[:-1]
    keys = jax.random.split(key, int(np.prod(lead)) if lead else 1)
    masks = jax.vmap(lambda k: jnp.zeros(n).at[jax.random.permutation(k, n)[:nflip]].set(1.0))(keys)
    masks = masks.reshape(lead + (n,))
    return jnp.where(masks > 0, -patterns, patterns)


def overlap(pattern, state):
    r"""Normalised overlap :math:`\xi\cdot s/(\|\xi\|\|s\|)` (for ±1 vectors:
    :math:`m = \frac1N\sum_i \xi_i s_i`, 1 for perfect recall)."""
    pattern, state = jnp.asarray(pattern), jnp.asarray(state)
    num = jnp.sum(pattern * state, -1)
    return num / (jnp.linalg.norm(pattern, axis=-1) * jnp.linalg.norm(state, axis=-1))


def hebbian_weights(patterns):
    r""":math:`W = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top}` with a zero diagonal."""
    X = jnp.asarray(patterns)
    n = X.shape[-1]
    W = X.T @ X / n
    return W - jnp.diag(jnp.diag(W))


class Recall(NamedTuple):
    """What a recall returns.

    ``state`` (final), ``states`` (after each sweep, the first row the initial state),
    ``energy`` (after each sweep, the first the initial energy) and ``energy_updates`` (after
    every single-neuron update of an asynchronous recall, the first the initial energy;
    equal to ``energy`` for synchronous and modern recalls).
    """

    state: Any
    states: Any
    energy: Any
    energy_updates: Any


def _sign_keep(h, s):
    return jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, s)).astype(s.dtype)


class Hopfield(Dynamics):
    """The Amari--Hopfield network (see the module docstring).

    Build it with :meth:`store` (Hebbian) or from a weight matrix. ``mode`` is
    ``"async"`` (default) or ``"sync"``. As a braindyn model, one :meth:`step` is one sweep
    (``n`` single-neuron updates in a random order from the step's key, or one synchronous
    update), so ``braindyn.simulate`` runs it; :meth:`recall` is the direct route.

    Example
    -------
    >>> import jax
    >>> X = random_patterns(0, 5, 200)
    >>> net = Hopfield.store(X)
    >>> rec = net.recall(corrupt(jax.random.PRNGKey(1), X[0], 0.1), key=jax.random.PRNGKey(2), sweeps=5)
    >>> float(overlap(X[0], rec.state)), bool(jax.numpy.all(jax.numpy.diff(rec.energy_updates) <= 1e-4))
    (1.0, True)
    """

    W: Any = param(unit="", per_neuron=False, doc="symmetric weight matrix (n, n)")
    n: int = eqx.field(static=True, default=0)
    mode: str = eqx.field(static=True, default="async")

    def __post_init__(self):
        if self.n == 0 and hasattr(self.W, "shape") and len(self.W.shape) == 2:
            self.n = int(self.W.shape[0])

    def __check_init__(self):
        check_choice("mode", self.mode, ("async", "sync"), "Hopfield")
        shape = tuple(np.shape(self.W))
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] != self.n:
            raise BraindynError(f"Hopfield: W must be a square (n, n) matrix, got shape {shape}. Fix: "
                                f"Hopfield.store(patterns) builds it from patterns of shape (p, n).")

    @classmethod
    def example(cls):
        """A small network (8 neurons, two stored patterns: all +1, and alternating signs)."""
        return cls.store(jnp.asarray([[1.0] * 8, [1.0, -1.0] * 4]))

    @classmethod
    def store(cls, patterns, mode: str = "async"):
        """The network storing ``patterns`` (shape ``(p, n)``, ±1) with the Hebbian rule."""
        X = jnp.asarray(patterns)
        if X.ndim != 2:
            raise BraindynError(f"Hopfield.store: patterns must have shape (p, n), got {X.shape}. Fix: "
                                f"binarize(images) flattens images to ±1 rows.")
        return cls(hebbian_weights(X), X.shape[1], mode)

    def energy(self, s):
        r""":math:`E = -\frac12 s^\top W s`."""
        return -0.5 * jnp.einsum("...i,ij,...j->...", s, self.W, s)

    def sync_update(self, s):
        """All neurons at once: :math:`s \\leftarrow \\mathrm{sign}(Ws)` (sign(0) keeps :math:`s_i`)."""
        return _sign_keep(s @ self.W.T, s)

    def async_sweep(self, s, key):
        """One sweep of single-neuron updates in the order ``permutation(key, n)``.

        Returns ``(s, energy after each update)``; the energies are accumulated from
        :math:`E(s)` by the exact :math:`\\Delta E = -\\delta h_i - \\frac12 W_{ii}\\delta^2`.
        """
        order = jax.random.permutation(key, self.n)

        def one(carry, i):
            s, E = carry
            h = self.W[i] @ s
            new = _sign_keep(h, s[i])
            d = new - s[i]
            E = E - d * h - 0.5 * self.W[i, i] * d * d
            return (s.at[i].set(new), E), E

        (s, _), Es = jax.lax.scan(one, (s, self.energy(s)), order)
        return s, Es

    def recall(self, s0, *, key=None, sweeps: int = 10, mode: str | None = None) -> Recall:
        """Run ``sweeps`` sweeps from ``s0`` (jitted; ``key`` needed for asynchronous updates).

        ``s0`` of shape ``(b, n)`` recalls a batch (``vmap``; each row its own update order).
        """
        mode = self.mode if mode is None else mode
        check_choice("mode", mode, ("async", "sync"), "Hopfield.recall")
        if mode == "async" and key is None:
            raise BraindynError("Hopfield.recall: asynchronous updates need key=... (the random update order). "
                                "Fix: key=jax.random.PRNGKey(0), or mode='sync'.")
        s0 = jnp.asarray(s0, self.W.dtype)
        if s0.shape[-1] != self.n or s0.ndim not in (1, 2):
            raise BraindynError(f"Hopfield.recall: s0 must have shape (n,) or (b, n) with n={self.n}, got {s0.shape}.")
        if key is None:
            key = jax.random.PRNGKey(0)  # unused by synchronous updates
        if s0.ndim == 2:
            return _recall_batch(self, s0, jax.random.split(key, s0.shape[0]), int(sweeps), mode)
        return _recall(self, s0, key, int(sweeps), mode)

    # ---- the braindyn model interface -----------------------------------------------
    def init_state(self, *, key=None, dtype=None, s=None) -> dict:
        s = jnp.ones(self.n) if s is None else jnp.asarray(s)
        return {"s": jnp.broadcast_to(s, (self.n,)).astype(dtype or self.W.dtype)}

    def step(self, state, inputs, t, dt, key=None):
        if self.mode == "sync":
            return {"s": self.sync_update(state["s"])}, {}
        if key is None:
            raise BraindynError("Hopfield (mode='async') needs a key for its update order. Fix: braindyn.run passes "
                                "one; braindyn.simulate needs key=...")
        s, _ = self.async_sweep(state["s"], key)
        return {"s": s}, {}


def _recall_impl(net, s0, key, sweeps, mode):
    keys = jax.random.split(key, sweeps)

    def body(s, k):
        if mode == "async":
            s, Es = net.async_sweep(s, k)
        else:
            s = net.sync_update(s)
            Es = net.energy(s)[None]
        return s, (s, Es)

    s, (states, Es) = jax.lax.scan(body, s0, keys)
    E0 = net.energy(s0)
    energy = jnp.concatenate([E0[None], Es[:, -1]])
    return Recall(s, jnp.concatenate([s0[None], states]), energy, jnp.concatenate([E0[None], Es.reshape(-1)]))


_recall = eqx.filter_jit(_recall_impl)


@eqx.filter_jit
def _recall_batch(net, s0, keys, sweeps, mode):
    return jax.vmap(lambda s, k: _recall_impl(net, s, k, sweeps, mode))(s0, keys)


class ModernHopfield(eqx.Module):
    r"""The modern Hopfield network in Ramsauer et al.'s (2020) form, as Krotov & Hopfield's (2020)
    visible layer plus a softmax hidden layer of memory neurons (see the module docstring).

    ``patterns`` (shape ``(p, n)``) are the weights between the layers; ``beta`` the inverse
    temperature of the hidden layer (default :math:`1/\sqrt{n}`, the scaling of Ramsauer et
    al.'s attention heads, which separates a 10 %-corrupted ±1 pattern from the others by a
    factor :math:`e^{20}` at :math:`n = 784`).

    Example
    -------
    >>> import jax
    >>> X = random_patterns(0, 300, 784)                     # 300 > 0.138 * 784 = 108
    >>> net = ModernHopfield(X)
    >>> rec = net.recall(corrupt(jax.random.PRNGKey(1), X[7], 0.1), steps=3)
    >>> round(float(overlap(X[7], rec.state)), 4), bool(jax.numpy.all(jax.numpy.diff(rec.energy) <= 1e-3))
    (1.0, True)
    """

    patterns: Any = param(unit="", per_neuron=False, doc="stored patterns (p, n): the hidden-layer weights")
    beta: Any = param(None, bound="positive", unit="", per_neuron=False, doc="inverse temperature")

    def __post_init__(self):
        if self.beta is None and hasattr(self.patterns, "shape") and len(self.patterns.shape) == 2:
            self.beta = jnp.asarray(1.0 / math.sqrt(self.patterns.shape[1]), self.patterns.dtype)

    def __check_init__(self):
        from ..params import check_params

        if np.ndim(self.patterns) != 2:
            raise BraindynError(f"ModernHopfield: patterns must have shape (p, n), got {np.shape(self.patterns)}.")
        check_params(self)

    def hidden(self, v):
        r"""Outputs of the memory neurons, :math:`\operatorname{softmax}(\beta\,\Xi v)`."""
        return jax.nn.softmax(self.beta * (v @ self.patterns.T), axis=-1)

    def update(self, v):
        r""":math:`v \leftarrow \Xi^\top \operatorname{softmax}(\beta\,\Xi v)`."""
        return self.hidden(v) @ self.patterns

    def energy(self, v):
        """Ramsauer et al.'s energy (see the module docstring)."""
        p = self.patterns.shape[0]
        M2 = jnp.max(jnp.sum(self.patterns ** 2, -1))
        lse = jax.nn.logsumexp(self.beta * (v @ self.patterns.T), axis=-1) / self.beta
        return -lse + 0.5 * jnp.sum(v * v, -1) + jnp.log(p) / self.beta + 0.5 * M2

    def recall(self, v0, *, steps: int = 3) -> Recall:
        """``steps`` updates from ``v0`` (jitted)."""
        return _recall_modern(self, jnp.asarray(v0, self.patterns.dtype), int(steps))


@eqx.filter_jit
def _recall_modern(net, v0, steps):
    def body(v, _):
        v = net.update(v)
        return v, (v, net.energy(v))

    v, (states, Es) = jax.lax.scan(body, v0, None, length=steps)
    energy = jnp.concatenate([net.energy(v0)[None], Es])
    return Recall(v, jnp.concatenate([v0[None], states]), energy, energy)


def ags_overlap(alpha):
    r"""Retrieval overlap :math:`m(\alpha)` of Amit, Gutfreund & Sompolinsky (1985) at zero
    temperature, and the capacity :math:`\alpha_c`.

    Their equations :math:`m = \operatorname{erf}(y)`, :math:`y = m/\sqrt{2\alpha r}`,
    :math:`r = (1 - C)^{-2}`, :math:`C = \sqrt{2/\pi\alpha r}\,e^{-y^2}` reduce to the
    parametric curve :math:`\alpha(y) = \big[(\operatorname{erf} y - 2y e^{-y^2}/\sqrt\pi)/(\sqrt2
    y)\big]^2`, :math:`m = \operatorname{erf} y`; the retrieval branch is :math:`y > y_c` (the
    maximum of :math:`\alpha(y)`, which is :math:`\alpha_c`). Returns ``(m, alpha_c)`` with ``m``
    (NumPy array like ``alpha``) 0 where :math:`\alpha > \alpha_c` (no retrieval state).

    Example
    -------
    >>> m, ac = ags_overlap([0.05, 0.1, 0.2])
    >>> round(ac, 4), [round(float(v), 4) for v in m]
    (0.1379, [1.0, 0.998, 0.0])
    """
    from scipy.special import erf

    y = np.linspace(0.5, 8.0, 200001)
    a = ((erf(y) - 2 * y * np.exp(-y * y) / math.sqrt(math.pi)) / (math.sqrt(2) * y)) ** 2
    i = int(np.argmax(a))
    alpha_c = float(a[i])
    yb, ab = y[i:], a[i:]             # retrieval branch: alpha decreases as y grows
    alpha = np.asarray(alpha, float)
    yy = np.interp(alpha, ab[::-1], yb[::-1])
    m = np.where(alpha <= alpha_c, erf(yy), 0.0)
    return m, alpha_c
