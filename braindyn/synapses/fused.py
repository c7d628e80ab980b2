r"""The deliver phase of a network step over all its projections (grouped where they can share work).

:func:`deliver_all` is what :class:`braindyn.Network` calls in phase 1 of its step.

**Grouped event propagation.** Projections that read the same presynaptic population, the same
signal through the same delay, and store their connectivity as CSR (e.g. the E→E and E→I
projections of an E–I network) propagate the same spike vector. Their CSRs are concatenated
column-wise, row by row,

.. math:: C = [\,C_1 \mid C_2 \mid \dots\,], \qquad
          y = \sum_j s_j C_{j\cdot} \in \mathbb{R}^{n_1 + n_2 + \dots},

so one event-kernel call (one walk over the spike vector, one pass over the rows of the
spiking neurons) serves the whole group; the result is split into the postsynaptic blocks
:math:`y^{(k)}`, each scaled by its projection's (scalar) weight and handed to its own
kinetics and output. The merged CSR is built on the host once per group (cached by the
content of the connectivities) when the step is traced, and enters the compiled step as a
constant: nothing is rebuilt per step. Results equal the ungrouped path (both sum unit
weights and scale once).

Grouped: stored (CSR) connectivity, event signal, linear kinetics, a scalar weight, no STP,
no plasticity, no per-synapse delays, same ``pre``, ``signal``, delay, ``pre_range`` and kernel
``method``. Everything else is delivered projection by projection. A :class:`~braindyn.Network`
builds its groups once, at construction (:func:`build_groups`), and holds the merged CSRs as
array leaves of the model, so they are arguments of the compiled step, not constants.

Example
-------
>>> import jax.numpy as jnp, braindyn as bd, braindyn.connect as bc
>>> from braindyn.synapses import SynapticProjection, Exponential
>>> from braindyn.synapses.fused import deliver_all, plan
>>> E, I = bd.neurons.LIF(n=40), bd.neurons.LIF(n=10)
>>> projs = {"EE": SynapticProjection("E", "E", bc.fixed_prob(40, 40, 0.2, seed=0), 0.5, Exponential(5.0)),
...          "EI": SynapticProjection("E", "I", bc.fixed_prob(40, 10, 0.2, seed=1), 0.25, Exponential(5.0))}
>>> [sorted(g) for g in plan(projs)]
[['EE', 'EI']]
>>> pops = {"E": E.init_state(), "I": I.init_state()}
>>> pops["E"]["spike"] = pops["E"]["spike"].at[:5].set(1.0)
>>> states = {k: p.init_state(E, E if p.post == "E" else I) for k, p in projs.items()}
>>> keys = {k: None for k in projs}
>>> a = deliver_all(projs, states, pops, 0.0, 0.1, keys)[1]
>>> b = deliver_all(projs, states, pops, 0.0, 0.1, keys, group=False)[1]
>>> all(bool(jnp.array_equal(a[k], b[k])) for k in projs)
True
"""
from __future__ import annotations

import functools
import hashlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["deliver_all", "plan", "HostCSR", "merge_csr", "DeliveryGroup", "build_groups"]


class HostCSR:
    """A host (NumPy) copy of a CSR's index arrays, hashable by its content.

    A :class:`~braindyn.synapses.SynapticProjection` keeps one as a *static* field, so that the
    connectivity is concrete when a step is traced (the CSR leaves themselves are traced by
    ``eqx.filter_jit``) and merged CSRs can be built on the host. Equal connectivities hash and
    compare equal (by a digest of the arrays), so rebuilding a network does not recompile it.
    """

    __slots__ = ("indptr", "indices", "n_pre", "n_post", "digest")

    def __init__(self, indptr, indices, n_pre, n_post):
        # references, not copies, when the CSR already holds NumPy arrays
        self.indptr = np.asarray(indptr)
        self.indices = np.asarray(indices)
        self.n_pre, self.n_post = int(n_pre), int(n_post)
        h = hashlib.blake2b(digest_size=16)
        h.update(np.asarray([self.n_pre, self.n_post], np.int64).tobytes())
        h.update(self.indptr.tobytes())
        h.update(self.indices.tobytes())
        self.digest = h.digest()

    @staticmethod
    def of(csr):
        """The host copy of ``csr``, or ``None`` if its arrays are not concrete (traced)."""
        if isinstance(csr.indptr, jax.core.Tracer) or isinstance(csr.indices, jax.core.Tracer):
            return None
        return HostCSR(csr.indptr, csr.indices, csr.n_pre, csr.n_post)

    def __hash__(self):
        return hash(self.digest)

    def __eq__(self, other):
        return isinstance(other, HostCSR) and self.digest == other.digest

    def __repr__(self):
        return f"HostCSR(n_pre={self.n_pre}, n_post={self.n_post}, nnz={self.indices.shape[0]})"


@functools.lru_cache(maxsize=64)
def merge_csr(hosts: tuple):
    """Column-wise concatenation of CSRs with the same rows: row ``j`` of the result lists the
    targets of row ``j`` of each CSR in turn, those of CSR ``k`` shifted by the column count of
    the CSRs before it. Returns ``(csr, offsets)`` (``offsets[k]``: first column of block ``k``).
    Cached by content."""
    from ..connect.csr import CSR

    n_pre = hosts[0].n_pre
    counts = [np.diff(h.indptr.astype(np.int64)) for h in hosts]
    total = np.sum(counts, axis=0)
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(total, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), np.int64)
    before = np.zeros(n_pre, np.int64)  # synapses of the earlier blocks in each row
    offsets, col = [], 0
    for h, c in zip(hosts, counts):
        rows = np.repeat(np.arange(n_pre), c)
        within = np.arange(h.indices.shape[0]) - h.indptr[rows].astype(np.int64)
        indices[indptr[rows] + before[rows] + within] = h.indices.astype(np.int64) + col
        before += c
        offsets.append(col)
        col += h.n_post
    max_row = int(total.max()) if n_pre else 0
    csr = CSR(indptr.astype(np.int32), indices.astype(np.int32), n_pre, col, max_row=max_row, validate=False)
    return csr, tuple(offsets)


def plan(projections: dict) -> list:
    """The groups (lists of names, in the order of ``projections``) whose event propagation
    :func:`deliver_all` merges; projections delivered alone are not listed."""
    groups = {}
    for name, pr in projections.items():
        key = pr.fuse_key() if hasattr(pr, "fuse_key") else None
        if key is not None:
            groups.setdefault(key, []).append(name)
    return [names for names in groups.values() if len(names) > 1]


class DeliveryGroup(eqx.Module):
    """Projections whose event propagation is merged, with their merged CSR (an array leaf)."""

    names: tuple = eqx.field(static=True)
    csr: object
    offsets: tuple = eqx.field(static=True)

    def __iter__(self):
        return iter((self.names, self.csr, self.offsets))

    def __getitem__(self, i):
        return (self.names, self.csr, self.offsets)[i]


def build_groups(projections: dict) -> tuple:
    """:class:`DeliveryGroup` s of ``projections`` (sorted names), merged once on the host."""
    out = []
    for names in plan(projections):
        csr, offsets = merge_csr(tuple(projections[n].host for n in names))
        out.append(DeliveryGroup(tuple(names), csr, tuple(offsets)))
    return tuple(out)


def _deliver_group(names, projections, states, pop_states, dt, merged=None):
    from ..ops import event_matvec
    from .projection import _float_of

    members = [projections[n] for n in names]
    first = members[0]
    new, xs = {}, {}
    for n, pr in zip(names, members):
        new[n], xs[n] = pr.presynaptic(states[n], pop_states[pr.pre], dt)
    x = xs[names[0]]  # the same signal through the same delay: equal for every member
    dtype = _float_of(pop_states[first.post], new[names[0]], pop_states[first.pre])
    merged, offsets = merge_csr(tuple(pr.host for pr in members)) if merged is None else merged
    if x.dtype != jnp.bool_:
        x = x.astype(dtype)
    y = event_matvec(merged, x, jnp.ones((), dtype), method=first.method)
    out = {}
    for n, pr, off in zip(names, members, offsets):
        post_state = pop_states[pr.post]
        dt_m = _float_of(post_state, new[n], pop_states[pr.pre])
        arriving = y[off:off + pr.n_post].astype(dt_m)
        if pr.weight is not None:
            arriving = arriving * jnp.asarray(pr.weight, dt_m)
        new[n], out[n] = pr.finish(new[n], arriving, post_state, dt, dt_m)
    return new, out


def deliver_all(projections: dict, states: dict, pop_states: dict, t, dt, keys: dict, *, group: bool = True,
                groups=None):
    """Deliver every projection (phase 1 of a network step).

    Parameters
    ----------
    projections : dict
        ``{name: Projection}`` in a fixed (sorted) order.
    states : dict
        ``{name: projection state}``.
    pop_states : dict
        ``{population path: state}`` for every ``pre``/``post`` path named by a projection.
    t, dt : time and step (ms).
    keys : dict
        ``{name: key or None}``.
    group : bool
        Merge the event propagation of compatible projections (see the module documentation;
        default True). False delivers each projection alone (the reference path).
    groups : sequence of ``(names, merged_csr, offsets)``, optional
        Groups with their merged connectivity built beforehand (what a :class:`~braindyn.Network`
        holds as array leaves, so the merged CSR is an argument of the compiled step rather than
        a constant); default: :func:`plan` and :func:`merge_csr` at trace time.

    Returns
    -------
    ``(new_states, contributions)``, both ``{name: ...}`` in the order of ``projections``.
    """
    new_states, contributions = {}, {}
    grouped = set()
    if group:
        todo = [(names, None) for names in plan(projections)] if groups is None else \
            [(list(g[0]), (g[1], g[2])) for g in groups]
        for names, merged in todo:
            sts, outs = _deliver_group(names, projections, states, pop_states, dt, merged)
            new_states.update(sts)
            contributions.update(outs)
            grouped.update(names)
    for name, pr in projections.items():
        if name in grouped:
            continue
        new_states[name], contributions[name] = pr.deliver(states[name], pop_states[pr.pre], pop_states[pr.post],
                                                           t, dt, keys[name])
    order = list(projections)
    return {n: new_states[n] for n in order}, {n: contributions[n] for n in order}
