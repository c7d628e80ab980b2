r"""Procedural (on-the-fly) connectivity: synapses regenerated from a seed.

Row :math:`j` (the targets of presynaptic neuron :math:`j`) is a pure function
of ``(seed, j)``, computed with a counter-based integer hash inside JAX, so a
network needs no synapse memory and the same row comes out on every call, on
every backend (only integer arithmetic decides which synapses exist).

Sampling: each pair :math:`j \to i` exists independently with probability
:math:`p`. The gaps between successive targets are geometric,
:math:`P(\text{gap} > g) = (1-p)^g`; a gap is drawn by comparing a 32-bit hash
:math:`h` with the integer thresholds :math:`T_g = \lfloor (1-p)^g\, 2^{32}\rfloor`
(so :math:`P(F \ge g) = T_g / 2^{32}` for the number :math:`F` of skipped
candidates; a float guess is corrected by integer comparisons). A row holds at most ``k_max`` synapses, with ``k_max`` ten
standard deviations above the binomial mean, so truncation has probability
below :math:`10^{-20}` per row; :meth:`ProceduralConn.to_csr` applies the very
same rule, so both always describe exactly the same synapses.
"""
from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ._checks import check_prob, check_size, check_square
from .csr import CSR, _build

__all__ = ["ProceduralConn"]

_U = np.uint32
_GOLD = _U(0x9E3779B9)
_C1 = _U(0x85EBCA6B)
_C2 = _U(0xC2B2AE35)


def _mix(x):
    """32-bit integer finaliser (xorshift-multiply); wraps modulo 2**32."""
    x = x ^ (x >> _U(16))
    x = x * _U(0x7FEB352D)
    x = x ^ (x >> _U(15))
    x = x * _U(0x846CA68B)
    return x ^ (x >> _U(16))


def hash_u32(seed, row, counter, stream):
    """Counter-based hash ``(seed, row, counter) -> uint32``; ``stream`` a Python int."""
    key = _mix(_mix(seed ^ _GOLD) + row * _GOLD)
    salt = _U((int(stream) * int(_C2)) & 0xFFFFFFFF)
    return _mix(key ^ _mix(counter * _C1 + salt))


@functools.lru_cache(maxsize=64)
def _threshold_table(p, n_cand):
    """Descending uint32 thresholds ``T[g] = floor((1-p)^g 2^32)``, ``g = 0..G``.

    ``T[0]`` is a placeholder (never read); ``G <= n_cand + 1`` because a gap
    longer than the row ends it anyway.
    """
    if p >= 1.0 or n_cand == 0:
        return np.zeros(1, dtype=np.uint32)
    g_max = min(int(math.ceil(32 * math.log(2) / -math.log1p(-p))) + 1, n_cand + 1)
    g = np.arange(1, g_max + 1, dtype=np.float64)
    t = np.floor(np.exp(g * np.log1p(-p)) * 2.0 ** 32)
    t = np.clip(t, 0, 2.0 ** 32 - 1).astype(np.uint64)
    t = t[t > 0]
    return np.concatenate([[0xFFFFFFFF], t]).astype(np.uint32)


def _skips(h, table, p):
    """Number of skipped candidates ``F = #{g >= 1 : T[g] > h}`` (exact, integer).

    A float guess ``log(u) / log(1-p)`` is corrected by integer comparisons
    with the table, so the result depends only on integer arithmetic.
    """
    G = table.shape[0] - 1
    if G == 0:
        return jnp.zeros(h.shape, jnp.int32)
    # T[g] > h  <=>  (1-p)^g 2^32 >= h + 1: u = (h + 1) / 2^32 from all 32 bits (relative error
    # 2^-24 at any size), so the guess is within one of F and the two correction rounds make F
    # exact (the C++ kernel, ops/csrc/event_csr.cc, computes the same guess and relies on it)
    u = (h.astype(jnp.float32) + np.float32(1.0)) * np.float32(2.0 ** -32)
    f = jnp.floor(jnp.log(u) / np.float32(math.log1p(-p)))
    f = jnp.clip(f, 0, G).astype(jnp.int32)
    for _ in range(2):
        f = jnp.where((f < G) & (table[jnp.minimum(f + 1, G)] > h), f + 1, f)
        f = jnp.where((f >= 1) & (table[f] <= h), f - 1, f)
    return f


@eqx.filter_jit
def _rows_batch(pc, rows):
    return jax.vmap(pc._row)(rows)


@eqx.filter_jit
def _row_jit(pc, j):
    return pc._row(j)


class ProceduralConn(eqx.Module):
    r"""Random connectivity :math:`P(j \to i) = p` regenerated from ``(seed, j)``.

    Args:
        n_pre, n_post: population sizes.
        p: connection probability in [0, 1].
        seed: integer in :math:`[0, 2^{32})`.
        weight: mean synaptic weight (a float leaf: differentiable).
        weight_std: standard deviation of per-synapse Gaussian weights
            :math:`w_{jk} = \mathrm{weight} + \mathrm{weight\_std}\, z_{jk}`
            (0 gives a homogeneous weight; static).
        allow_self: if False (needs ``n_pre == n_post``) no ``j -> j`` synapse.

    Example:
        >>> import braindyn.connect as bc
        >>> pc = bc.ProceduralConn(1000, 1000, 0.05, seed=3, weight=0.5)
        >>> csr = pc.to_csr()          # the same synapses, stored
        >>> 30 < csr.nnz / 1000 < 70
        True
    """

    weight: jax.Array
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    p: float = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    weight_std: float = eqx.field(static=True)
    allow_self: bool = eqx.field(static=True)
    k_max: int = eqx.field(static=True)

    def __init__(self, n_pre, n_post, p, *, seed, weight=1.0, weight_std=0.0,
                 allow_self=True):
        self.n_pre = check_size("n_pre", n_pre)
        self.n_post = check_size("n_post", n_post)
        self.p = check_prob("p", p)
        seed = check_size("seed", seed)
        if seed >= 2 ** 32:
            raise BraindynError(f"seed={seed} is invalid: procedural seeds are 32-bit. "
                             "Fix: pass 0 <= seed < 2**32.")
        self.seed = seed
        if not allow_self:
            check_square(self.n_pre, self.n_post, "ProceduralConn")
        self.allow_self = bool(allow_self)
        ws = float(weight_std)
        if not (math.isfinite(ws) and ws >= 0):
            raise BraindynError(f"weight_std={weight_std!r} is invalid: must be finite and >= 0. "
                             "Fix: pass 0 for homogeneous weights or a positive spread.")
        self.weight_std = ws
        w = jnp.asarray(weight)
        if w.ndim != 0 or not jnp.issubdtype(w.dtype, jnp.floating):
            if w.ndim != 0:
                raise BraindynError(f"weight has shape {w.shape}; expected a scalar. Fix: use "
                                 "weight_std for per-synapse spread, or a stored CSR.")
            w = w.astype(jnp.result_type(float))
        self.weight = w
        n_cand = self.n_cand
        if self.p == 0.0 or n_cand == 0:
            self.k_max = 0
        else:
            mean = n_cand * self.p
            sd = math.sqrt(mean * (1.0 - self.p))
            self.k_max = int(min(n_cand, math.ceil(mean + 10.0 * sd + 10.0)))

    @property
    def n_cand(self) -> int:
        """Number of candidate targets per row (``n_post``, minus one without self)."""
        return self.n_post - (0 if self.allow_self else 1)

    @property
    def shape(self):
        return (self.n_pre, self.n_post)

    def table(self) -> np.ndarray:
        return _threshold_table(self.p, self.n_cand)

    def row(self, j):
        r"""Targets and weights of presynaptic neuron ``j`` (traceable; vmap over ``j``).

        Returns ``(targets, valid, weights)``, each of shape ``(k_max,)``:
        ``targets[valid]`` are the (sorted) postsynaptic indices; invalid slots
        hold ``n_post``.
        """
        return _row_jit(self, j)

    def _row(self, j):
        k_max = self.k_max
        if k_max == 0:
            z = jnp.zeros((0,), jnp.int32)
            return z, jnp.zeros((0,), bool), jnp.zeros((0,), self.weight.dtype)
        j32 = jnp.asarray(j, jnp.int32)
        ju = j32.astype(jnp.uint32)
        seed = jnp.uint32(self.seed)
        ctr = jnp.arange(k_max, dtype=jnp.uint32)
        h = hash_u32(seed, ju, ctr, 0)
        tab = jnp.asarray(self.table())
        skipped = _skips(h, tab, self.p)
        pos = jnp.cumsum(skipped + 1) - 1
        valid = pos < self.n_cand
        if not self.allow_self:
            pos = pos + (pos >= j32)
        targets = jnp.where(valid, pos, self.n_post).astype(jnp.int32)
        w = jnp.broadcast_to(self.weight, (k_max,))
        if self.weight_std > 0:
            u1 = ((hash_u32(seed, ju, ctr, 1) >> _U(8)).astype(w.dtype) + 1) * 2.0 ** -24
            u2 = (hash_u32(seed, ju, ctr, 2) >> _U(8)).astype(w.dtype) * 2.0 ** -24
            z = jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos(2.0 * np.pi * u2)
            w = w + self.weight_std * z
        return targets, valid, w

    def _rows_np(self, chunk=4096):
        ts, vs, ws = [], [], []
        chunk = min(chunk, max(self.n_pre, 1))
        for s in range(0, self.n_pre, chunk):
            n = min(chunk, self.n_pre - s)
            rows = jnp.minimum(jnp.arange(s, s + chunk, dtype=jnp.int32), self.n_pre - 1)
            t, v, w = _rows_batch(self, rows)
            ts.append(np.asarray(t)[:n])
            vs.append(np.asarray(v)[:n])
            ws.append(np.asarray(w)[:n])
        if not ts:
            return (np.zeros((0, self.k_max), np.int32), np.zeros((0, self.k_max), bool),
                    np.zeros((0, self.k_max)))
        return np.concatenate(ts), np.concatenate(vs), np.concatenate(ws)

    def to_csr(self) -> CSR:
        """The explicit CSR with exactly the synapses this object generates."""
        t, v, _ = self._rows_np()
        rows = np.nonzero(v)[0]
        return _build(rows, t[v], self.n_pre, self.n_post, assume_sorted=True)

    def csr_weights(self) -> np.ndarray:
        """Per-synapse weights in the order of :meth:`to_csr` (length ``nnz``)."""
        _, v, w = self._rows_np()
        return w[v]
