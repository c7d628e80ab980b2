r"""Event propagation for accelerators: load-balanced expansion, no compaction, no data-dependent loop.

The pure-JAX event path (``method="jax"``) compacts the spike indices (``nonzero``) and runs a
``while`` loop whose trip count is the number of spike chunks: on a GPU every trip is a kernel
launch plus a device-to-host read of the loop condition, which dominates at the sparse activity of
cortical networks. :func:`event_matvec_expand` computes the same product

.. math:: y_i = \sum_j s_j W_{ji}

with static shapes and a fixed sequence of data-parallel operations (the load-balanced search of
GPU sparse libraries):

1. per presynaptic row :math:`c_j = [s_j \ne 0]\,(p_{j+1} - p_j)` (synapses to deliver, ``p`` the
   CSR ``indptr``), inclusive prefix sum :math:`C_j = \sum_{l \le j} c_l`, total :math:`T = C_{n-1}`;
2. for every work item :math:`k = 0, \dots, K-1` (``capacity`` :math:`K`, static), its row
   :math:`j(k) = \min\{j : C_j > k\}` (a vectorised binary search, ``searchsorted``), its synapse
   :math:`q = p_{j} + k - (C_j - c_j)`, target ``indices[q]``, value :math:`s_j w_q`; items
   :math:`k \ge T` are void;
3. one scatter-add of the :math:`K` values into :math:`y`.

Cost: :math:`O(n_\mathrm{pre})` (prefix sum) + :math:`O(K \log n_\mathrm{pre})` (search) +
:math:`O(K)` gathers and atomics, independent of the number of synapses of silent neurons. When
a step has more than :math:`K` synaptic events (a burst), the product falls back, inside the same
compiled program, to the segment product over all synapses (``lax.cond``): always correct,
:math:`O(nnz)` for that step. Gradients flow by ordinary autodiff (gathers and scatters are
linear in ``spikes`` and ``weight``).

Example
-------
>>> import jax.numpy as jnp, braindyn.connect as bc
>>> from braindyn.ops.event_expand import event_matvec_expand
>>> c = bc.from_ij([0, 0, 1, 2], [0, 1, 1, 0], 3, 2)
>>> event_matvec_expand(c, jnp.array([True, False, True]), 0.5, capacity=4).tolist()
[1.0, 0.5]
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ..connect.csr import CSR
from .event import _csr_weight

__all__ = ["event_matvec_expand", "default_capacity"]


def default_capacity(conn: CSR, active_fraction: float = 1.0 / 16) -> int:
    r"""Synaptic events per step the expansion handles without falling back:
    :math:`K = \max(\mathrm{max\_row}, \lceil f \cdot nnz \rceil)` with :math:`f` the fraction of
    active rows it is sized for (1/16 by default: a 20 Hz network at 0.1 ms has 0.2 % active rows)."""
    return int(max(conn.max_row, 1, -(-int(conn.nnz * active_fraction) // 1)))


@functools.partial(jax.jit, static_argnames=("n_post", "capacity", "homo"))
def _expand(spikes, w, indptr, indices, *, n_post, capacity, homo):
    n_pre = spikes.shape[0]
    dtype = w.dtype
    active = spikes != 0
    deg = indptr[1:] - indptr[:-1]
    cnt = jnp.where(active, deg, 0).astype(jnp.int32)
    incl = jnp.cumsum(cnt, dtype=jnp.int32)
    total = incl[-1] if n_pre else jnp.int32(0)
    nnz = indices.shape[0]

    def expand(_):
        k = jnp.arange(capacity, dtype=jnp.int32)
        j = jnp.searchsorted(incl, k, side="right", method="scan_unrolled").astype(jnp.int32)
        j = jnp.minimum(j, n_pre - 1)
        q = indptr[j] + (k - (incl[j] - cnt[j]))
        valid = k < total
        q = jnp.where(valid, q, 0)
        tgt = jnp.where(valid, indices[q], n_post)
        val = jnp.broadcast_to(w[0], (capacity,)) if homo else w[q]
        if spikes.dtype != jnp.bool_:
            val = val * spikes[j].astype(dtype)
        return jnp.zeros((n_post,), dtype).at[tgt].add(val, mode="drop")

    def segment(_):
        rows = jnp.repeat(jnp.arange(n_pre, dtype=jnp.int32), deg, total_repeat_length=nnz)
        val = jnp.broadcast_to(w[0], (nnz,)) if homo else w
        val = val * spikes[rows].astype(dtype)
        return jnp.zeros((n_post,), dtype).at[indices].add(val)

    if nnz == 0 or n_pre == 0:
        return jnp.zeros((n_post,), dtype)
    return lax.cond(total <= capacity, expand, segment, None)


def event_matvec_expand(conn: CSR, spikes, weight=None, *, capacity: int | None = None):
    r""":math:`y_i = \sum_j s_j W_{ji}` by load-balanced expansion (see the module docstring).

    Args:
        conn: a :class:`~braindyn.connect.CSR`.
        spikes: ``(n_pre,)`` bool or float.
        weight: scalar or per-synapse ``(nnz,)`` (default 1).
        capacity: synaptic events per step handled without the fallback (static; default
            :func:`default_capacity`).

    Returns:
        ``(n_post,)`` float array.
    """
    if not isinstance(conn, CSR):
        raise TypeError(f"event_matvec_expand takes a CSR, got {type(conn).__name__}. Fix: conn.to_csr() for a "
                        f"ProceduralConn.")
    w, homo, dtype = _csr_weight(conn, weight, spikes)
    s = jnp.asarray(spikes)
    if s.shape != (conn.n_pre,):
        raise ValueError(f"spikes has shape {s.shape}; expected ({conn.n_pre},) = (n_pre,).")
    cap = default_capacity(conn) if capacity is None else int(capacity)
    if cap < 1:
        raise ValueError(f"capacity={capacity!r} is invalid: expected an int >= 1 (synaptic events per step).")
    return _expand(s, w, jnp.asarray(conn.indptr, jnp.int32), jnp.asarray(conn.indices, jnp.int32),
                   n_post=conn.n_post, capacity=cap, homo=homo)
