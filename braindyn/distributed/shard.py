r"""One network over several devices: blocks of neurons, synapses stored with their targets.

Layout on :math:`D` devices (one mesh axis, :data:`AXIS`):

* every population of :math:`n` neurons is cut into :math:`D` blocks of
  :math:`B = \lceil n / D \rceil` neurons; device :math:`d` integrates neurons
  :math:`[dB, \min((d+1)B, n))` (the last blocks are padded with copies of the last neuron,
  whose spikes are never sent anywhere);
* every projection is cut by *target* block: device :math:`d` holds the synapses onto its own
  neurons (all presynaptic rows, its columns), so the synaptic input of its neurons is computed
  locally by the ordinary event kernel (the C++ FFI kernel on the CPU) with the local columns;
* once per step, after the populations have stepped, each population's presynaptic signal
  (``"spike"``) is exchanged: an all-gather of the spike vector (bit-packed, :math:`\lceil B/8\rceil`
  bytes per device and population, when several processes take part; as values within one
  process, where packing would cost more than it saves), after which every device holds the
  whole spike vector of the step, which its projections read in the next step (the network's
  usual convention).

Why the raster is bit-identical to the single-device run: a neuron's update is elementwise
(the same operations on the same numbers); the synaptic input of neuron :math:`i` is
:math:`\sum_j s_j w_{ji}` summed over the spiking rows :math:`j` in increasing order by the
same kernel whether the other columns are present or not; procedural connectivity draws the
same synapses for a block of targets as for the whole (:class:`BlockProceduralConn`).

Everything runs as one program (``jax.shard_map`` over the mesh): the local networks of the
devices have one structure, their arrays are stacked along a leading device axis (CSR blocks
padded to a common length with never-read entries). On one device the same code runs with
:math:`D = 1`.

Not sharded (a clear error says so): sub-networks as populations, models whose units are
coupled inside their own vector field, plasticity, per-synapse delays, procedural connectivity
with several receptor channels. Noise inside populations is drawn per block (the step key is
folded with the block index): statistically the same network, not the same bits.

Example
-------
>>> import braindyn as bd, numpy as np
>>> from braindyn.models.benchmarks import build
>>> from braindyn.distributed import shard_network
>>> b = build("coba", n=200, dtype=np.float32)
>>> sn = shard_network(b.network, devices=1)
>>> sn.devices, sn.blocks
(1, {'E': 160, 'I': 40})
"""
from __future__ import annotations

import copy
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import BraindynError
from ..connect.csr import CSR
from ..connect.procedural import ProceduralConn
from ..core import Dynamics
from ..network import Network

__all__ = ["AXIS", "block_size", "BlockPopulation", "BlockProceduralConn", "StateLayout", "ShardedNetwork", "shard_network",
           "block", "unblock"]

#: Name of the mesh axis the neurons are split over.
AXIS = "shard"


def block_size(n: int, devices: int) -> int:
    r"""Neurons per device block, :math:`B = \lceil n / D \rceil`."""
    return -(-int(n) // int(devices))


def _setattrs(obj, **fields):
    """A shallow copy of the (frozen) module ``obj`` with some fields replaced (no re-validation)."""
    new = copy.copy(obj)
    for k, v in fields.items():
        object.__setattr__(new, k, v)
    return new


# ------------------------------------------------------------------------------------------------
# blocking of per-neuron arrays
# ------------------------------------------------------------------------------------------------
def block(x, n: int, devices: int, channels: int = 1) -> np.ndarray:
    """Cut a per-neuron array of leading size ``channels * n`` into ``devices`` blocks.

    Returns an array of shape ``(devices, channels * B, ...)``: block ``d`` holds neurons
    ``[d B, (d+1) B)`` of every channel (channel-major), padded at the end of the population by
    copies of the last neuron.

    Example
    -------
    >>> block(np.arange(5), 5, 2).tolist()
    [[0, 1, 2], [3, 4, 4]]
    """
    x = np.asarray(x)
    B = block_size(n, devices)
    rest = x.shape[1:]
    x = x.reshape((channels, n) + rest)
    if devices * B > n:
        x = np.concatenate([x, np.repeat(x[:, -1:], devices * B - n, axis=1)], axis=1)
    x = x.reshape((channels, devices, B) + rest)
    return np.moveaxis(x, 1, 0).reshape((devices, channels * B) + rest)


def unblock(x, n: int, devices: int, channels: int = 1, axis: int = 0):
    """Inverse of :func:`block`: ``(..., devices, channels * B, ...)`` (device axis at ``axis``)
    -> ``(..., channels * n, ...)``, padding dropped.

    Example
    -------
    >>> unblock(block(np.arange(5), 5, 2), 5, 2).tolist()
    [0, 1, 2, 3, 4]
    """
    x = np.moveaxis(np.asarray(x), axis, 0)
    B = block_size(n, devices)
    rest = x.shape[2:]
    x = x.reshape((devices, channels, B) + rest)
    x = np.moveaxis(x, 0, 1).reshape((channels, devices * B) + rest)[:, :n]
    return np.moveaxis(x.reshape((channels * n,) + rest), 0, axis)


# ------------------------------------------------------------------------------------------------
# populations
# ------------------------------------------------------------------------------------------------
class BlockPopulation(Dynamics):
    r"""One device's block of a population, which publishes its signals to every device.

    Its state is the inner model's state for the block, except the exchanged ``signals``
    (``"spike"``), which hold the *whole* population's vector (length ``size``): the
    projections of the device read it as their presynaptic signal. One step: the block's own
    entries are taken from that vector, the inner model steps, and the new values are
    all-gathered over the mesh axis (bit-packed when ``pack``: exact for 0/1 spikes).

    Parameters
    ----------
    inner : Dynamics
        The population model restricted to the block (``n = block``).
    size : int
        Neurons of the whole population.
    devices : int
        Number of blocks (mesh size).
    signals : tuple of str
        State variables exchanged (those read by projections from this population).
    pack : bool
        Exchange spikes as bits (1/8 byte per neuron) instead of floats.
    """

    inner: Any
    size: int = eqx.field(static=True)
    devices: int = eqx.field(static=True)
    signals: tuple = eqx.field(static=True)
    pack: bool = eqx.field(static=True, default=True)
    axis: str = eqx.field(static=True, default=AXIS)

    @property
    def block(self) -> int:
        return block_size(self.size, self.devices)

    def init_state(self, *, key=None, dtype=None, **initial):
        raise BraindynError("BlockPopulation: a sharded state is made from the whole network's state. Fix: "
                            "ShardedNetwork.shard_state(network.init_state(...)).")

    def _gather(self, x, name):
        B, D = self.block, self.devices
        if self.pack and name == "spike":
            bits = jnp.packbits(x > 0)
            allbits = lax.all_gather(bits, self.axis, tiled=False).reshape(D, -1)
            full = jnp.unpackbits(allbits, axis=1, count=B).reshape(D * B).astype(x.dtype)
        else:
            full = lax.all_gather(x, self.axis, tiled=True)
        return full[: self.size]

    def step(self, state, inputs, t, dt, key=None):
        B, D = self.block, self.devices
        d = lax.axis_index(self.axis)
        local = dict(state)
        for s in self.signals:
            full = state[s]
            if D * B > self.size:
                full = jnp.concatenate([full, jnp.zeros((D * B - self.size,) + full.shape[1:], full.dtype)])
            local[s] = lax.dynamic_slice_in_dim(full, d * B, B)
        k = None if key is None else jax.random.fold_in(key, d)
        new, out = self.inner.step(local, inputs, t, dt, k)
        new = dict(new)
        for s in self.signals:
            new[s] = self._gather(new[s], s)
        return new, out


def _local_population(name, model, d, devices):
    n = getattr(model, "n", None)
    if isinstance(model, Network) or not isinstance(n, int):
        raise BraindynError(f"shard_network: population {name!r} ({type(model).__name__}) is not a flat population "
                            f"with a size n. Fix: shard networks of neuron populations (flatten sub-networks).")
    if getattr(model, "coupled", False):
        raise BraindynError(f"shard_network: population {name!r} ({type(model).__name__}) couples its units inside "
                            f"its own vector field, which a block of neurons cannot compute. Fix: express the "
                            f"coupling as a projection.")
    B = block_size(n, devices)

    def cut(x):
        if isinstance(x, (jax.Array, np.ndarray)) and np.ndim(x) >= 1 and np.shape(x)[0] == n:
            return jnp.asarray(block(np.asarray(x), n, devices)[d])
        return x

    local = jax.tree.map(cut, model)
    return _setattrs(local, n=B)


# ------------------------------------------------------------------------------------------------
# connectivity
# ------------------------------------------------------------------------------------------------
class BlockProceduralConn(ProceduralConn):
    r"""The columns of one device's block of a :class:`~braindyn.connect.ProceduralConn`.

    Row :math:`j` is generated exactly as by the whole connectivity (same seed, same hashes,
    same geometric gaps over all :math:`n_\mathrm{post}` candidates), and only its targets
    inside the block :math:`[dB, dB + B)` are kept, renumbered from 0; :math:`d` is the device's
    index on the mesh axis (``lax.axis_index``), so the devices share one program. The block
    therefore holds exactly the synapses of the whole onto its neurons. Generation costs the
    whole row on every device; the scatter only the block's targets. The C++ procedural kernel
    does the same (targets outside ``[dB, dB + B)`` skipped, the others shifted by ``dB``).
    """

    n_full: int = eqx.field(static=True, default=0)
    block: int = eqx.field(static=True, default=0)
    axis: str = eqx.field(static=True, default=AXIS)

    def __init__(self, pc: ProceduralConn, block: int, axis: str = AXIS):
        for f in ("weight", "n_pre", "p", "seed", "weight_std", "allow_self", "k_max"):
            object.__setattr__(self, f, getattr(pc, f))
        self.n_full = pc.n_post
        self.n_post = int(block)
        self.block = int(block)
        self.axis = axis

    @property
    def n_cand(self) -> int:
        return self.n_full - (0 if self.allow_self else 1)

    def block_offset(self):
        """First target of this device's block, :math:`dB` (traced: the device index)."""
        return lax.axis_index(self.axis).astype(jnp.int32) * self.block

    def _row(self, j):
        t, v, w = ProceduralConn._row(self, j)
        if self.k_max == 0:
            return t, v, w
        lo = self.block_offset()
        keep = v & (t >= lo) & (t < lo + self.block)
        return jnp.where(keep, t - lo, self.block).astype(jnp.int32), keep, w

    def to_csr(self):
        raise BraindynError("BlockProceduralConn: a device block has no host CSR of its own (its offset is the "
                            "device index). Fix: take the whole ProceduralConn's to_csr().")


def _csr_block(csr: CSR, n: int, channels: int, lo: int, B: int, weight=None):
    """Synapses of ``csr`` onto neurons ``[lo, lo + B)`` (every channel), renumbered ``c * B + i - lo``."""
    indptr = np.asarray(csr.indptr, np.int64)
    idx = np.asarray(csr.indices, np.int64)
    c, i = idx // n, idx % n
    keep = (i >= lo) & (i < lo + B)
    rows = np.repeat(np.arange(csr.n_pre), np.diff(indptr))
    new_idx = (c * B + i - lo)[keep]
    counts = np.bincount(rows[keep], minlength=csr.n_pre)
    new_ptr = np.zeros(csr.n_pre + 1, np.int64)
    np.cumsum(counts, out=new_ptr[1:])
    w = None
    if weight is not None and np.ndim(weight) == 1:
        w = np.asarray(weight)[keep]
    return new_ptr.astype(np.int32), new_idx.astype(np.int32), w


def _pad_csr(ptr, idx, n_post, nnz, max_row):
    pad = np.full(nnz - idx.shape[0], n_post, np.int32)
    return CSR(jnp.asarray(ptr), jnp.asarray(np.concatenate([idx, pad])), len(ptr) - 1, n_post, max_row=max_row,
               validate=False)


def _local_projections(name, pr, sizes, devices, axis):
    """The projection ``pr`` restricted to each device's target block: a list of ``devices`` modules with the
    same structure (CSR blocks padded to one length), and the unpadded host CSRs (for grouping)."""
    from ..synapses.fused import HostCSR
    from ..synapses.projection import SynapticProjection

    if not isinstance(pr, SynapticProjection):
        raise BraindynError(f"shard_network: projection {name!r} is a {type(pr).__name__}; only SynapticProjection "
                            f"is sharded. Fix: use braindyn.synapses.SynapticProjection.")
    if pr.plasticity is not None:
        raise BraindynError(f"shard_network: projection {name!r} is plastic; plasticity is not sharded yet (its "
                            f"weights and both spike trains would have to live with the synapses). Fix: run it on "
                            f"one device.")
    if pr.conn_delayed is not None:
        raise BraindynError(f"shard_network: projection {name!r} has per-synapse delays, which are not sharded yet. "
                            f"Fix: a scalar delay, or one device.")
    n, C = sizes[pr.post], pr.channels
    B = block_size(n, devices)

    def post_leaves(tree, d):
        """Kinetics/output parameters with one value per postsynaptic entry, cut to the block."""
        def cut(x):
            if isinstance(x, (jax.Array, np.ndarray)) and np.ndim(x) >= 1 and np.shape(x)[0] == C * n:
                return jnp.asarray(block(np.asarray(x), n, devices, C)[d])
            return x
        return jax.tree.map(cut, tree)

    out, hosts = [], []
    if pr.kind == "csr":
        parts = [_csr_block(pr.conn, n, C, d * B, B, pr.weight) for d in range(devices)]
        nnz = max(max(p[1].shape[0] for p in parts), 1)
        max_row = max(int(np.diff(p[0]).max(initial=0)) for p in parts)
        for d, (ptr, idx, w) in enumerate(parts):
            conn = _pad_csr(ptr, idx, C * B, nnz, max_row)
            fields = {"conn": conn, "host": None}
            if w is not None:
                fields["weight"] = jnp.asarray(np.concatenate([w, np.zeros(nnz - w.shape[0], w.dtype)]))
            if pr.rows is not None:
                r = np.repeat(np.arange(pr.conn.n_pre, dtype=np.int32), np.diff(ptr))
                fields["rows"] = jnp.asarray(np.concatenate([r, np.zeros(nnz - r.shape[0], np.int32)]))
            out.append(fields)
            hosts.append(HostCSR(ptr, idx, pr.conn.n_pre, C * B) if pr.host is not None else None)
    elif pr.kind == "procedural":
        if C != 1:
            raise BraindynError(f"shard_network: projection {name!r} has procedural connectivity with {C} channels; "
                                f"not sharded yet. Fix: channels=1, or a CSR (conn.to_csr()).")
        for d in range(devices):
            out.append({"conn": BlockProceduralConn(pr.conn, B, axis)})
            hosts.append(None)
    else:  # dense
        m = np.asarray(pr.conn)
        cols = block(np.arange(C * n), n, devices, C)
        for d in range(devices):
            sub = m[:, cols[d]]
            valid = np.zeros(C * B, bool)
            valid.reshape(C, B)[:, : max(0, min(B, n - d * B))] = True
            out.append({"conn": jnp.asarray(np.where(valid[None, :], sub, 0), dtype=pr.conn.dtype)})
            hosts.append(None)
    projs = []
    for d in range(devices):
        local = _setattrs(pr, **out[d])
        local = _setattrs(local, synapse=post_leaves(local.synapse, d), output=post_leaves(local.output, d))
        projs.append(local)
    return projs, hosts


# ------------------------------------------------------------------------------------------------
# the sharded network
# ------------------------------------------------------------------------------------------------
def _pad_group(g, nnz, max_row):
    csr = g.csr
    ptr, idx = np.asarray(csr.indptr), np.asarray(csr.indices)
    return eqx.tree_at(lambda x: x.csr, g, _pad_csr(ptr, idx, csr.n_post, nnz, max_row))


class StateLayout:
    """Which leaves of a network's state are cut into device blocks and which are replicated.

    A population's variables are cut into blocks, except the exchanged signals (``"spike"``:
    every device holds the whole vector); a postsynaptic kinetics state (``proj.NAME.syn``) is cut
    by the blocks of its target population (channel-major); everything else (delay buffers and
    short-term plasticity of presynaptic spikes, presynaptic gating) is replicated.

    Example
    -------
    >>> import braindyn as bd
    >>> net = bd.Network({"A": bd.neurons.LIF(n=5)}, {})
    >>> lay = StateLayout(net, 2)
    >>> st = lay.shard_state(net.init_state())
    >>> st["pop"]["A"]["V"].shape
    (2, 3)
    >>> lay.unshard_state(st)["pop"]["A"]["V"].shape
    (5,)
    """

    def __init__(self, network: Network, devices: int):
        self.network, self.devices = network, int(devices)
        sizes, signals = {}, {}
        for name, m in network.populations.items():
            n = getattr(m, "n", None)
            if isinstance(m, Network) or not isinstance(n, int):
                _local_population(name, m, 0, devices)  # raises the explanatory error
            sizes[name] = n
            signals[name] = set()
        for pr in network.projections.values():
            signals[pr.pre].add(getattr(pr, "signal", "spike"))
        self.sizes = sizes
        self.signals = {k: tuple(sorted(v)) for k, v in signals.items()}

    def leaf_rule(self, path: tuple):
        """How the state leaf at ``path`` (tuple of keys) is laid out: ``("block", n, channels)`` (cut
        into device blocks) or ``("rep",)`` (the same on every device)."""
        if len(path) >= 3 and path[0] == "pop":
            name, var = path[1], path[2]
            if var in self.signals.get(name, ()):
                return ("rep",)
            return ("block", self.sizes[name], 1)
        if len(path) >= 3 and path[0] == "proj" and path[2] == "syn":
            pr = self.network.projections[path[1]]
            if pr.synapse.align == "post":
                return ("block", self.sizes[pr.post], pr.channels)
        return ("rep",)

    def _map_state(self, fn, state):
        flat, tdef = jax.tree_util.tree_flatten_with_path(state)
        out = []
        for p, x in flat:
            keys = tuple(getattr(k, "key", getattr(k, "idx", None)) for k in p)
            out.append(fn(self.leaf_rule(keys), x))
        return jax.tree_util.tree_unflatten(tdef, out)

    def shard_state(self, state):
        """The whole network's state -> the stacked per-device state (leading axis ``D``, host arrays)."""
        D = self.devices

        def one(rule, x):
            x = np.asarray(x)
            if rule[0] == "block" and x.ndim >= 1 and x.shape[0] == rule[1] * rule[2]:
                return block(x, rule[1], D, rule[2])
            return np.broadcast_to(x[None], (D,) + x.shape).copy()

        return self._map_state(one, state)

    def unshard_state(self, stacked):
        """Inverse of :meth:`shard_state` (replicated leaves are taken from device 0)."""
        D = self.devices

        def one(rule, x):
            x = np.asarray(x)
            if rule[0] == "block" and x.ndim >= 2 and x.shape[1] == block_size(rule[1], D) * rule[2]:
                return unblock(x, rule[1], D, rule[2])
            return x[0]

        return self._map_state(one, stacked)



class ShardedNetwork:
    """A :class:`~braindyn.Network` cut into device blocks (see the module docstring).

    Attributes
    ----------
    network : Network
        The whole network.
    devices : int
        Number of blocks :math:`D`.
    blocks : dict
        Block size per population.
    local : Network
        The device-local network, every array leaf stacked along a leading axis of length ``D``
        (slice ``d`` is device ``d``'s network).
    """

    def __init__(self, network: Network, devices: int, *, pack: bool | None = None, axis: str = AXIS):
        if pack is None:  # bits only where bytes cross a network (packing costs more than it saves in memory)
            pack = jax.process_count() > 1
        if not isinstance(network, Network):
            raise BraindynError(f"shard_network: expected a braindyn.Network, got {type(network).__name__}.")
        if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
            raise BraindynError(f"shard_network: devices must be a positive integer, got {devices!r}. Fix: e.g. 2.")
        self.network, self.devices, self.axis = network, devices, axis
        self.layout = StateLayout(network, devices)
        sizes, self.sizes, self.signals = self.layout.sizes, self.layout.sizes, self.layout.signals
        self.blocks = {k: block_size(v, devices) for k, v in sizes.items()}
        pops = [{} for _ in range(devices)]
        for name in sorted(network.populations):
            for d in range(devices):
                inner = _local_population(name, network.populations[name], d, devices)
                pops[d][name] = BlockPopulation(inner, sizes[name], devices, self.signals[name], pack, axis)
        projs = [{} for _ in range(devices)]
        hosts = [{} for _ in range(devices)]
        for name in sorted(network.projections):
            ps, hs = _local_projections(name, network.projections[name], sizes, devices, axis)
            for d in range(devices):
                projs[d][name], hosts[d][name] = ps[d], hs[d]
        nets = []
        for d in range(devices):
            # groups are merged from the unpadded blocks, then every projection drops its host copy
            with_host = {k: (_setattrs(v, host=hosts[d][k]) if hosts[d][k] is not None else v)
                         for k, v in projs[d].items()}
            net = Network(pops[d], with_host, signals=network.signals)
            nets.append(_setattrs(net, projections=projs[d]))
        n_groups = len(nets[0].groups)
        if any(len(nt.groups) != n_groups for nt in nets):
            raise BraindynError("shard_network: the device blocks group their projections differently (internal).")
        groups = [list(nt.groups) for nt in nets]
        for gi in range(n_groups):
            nnz = max(max(groups[d][gi].csr.nnz for d in range(devices)), 1)
            mr = max(groups[d][gi].csr.max_row for d in range(devices))
            for d in range(devices):
                groups[d][gi] = _pad_group(groups[d][gi], nnz, mr)
        nets = [_setattrs(nt, groups=tuple(g)) for nt, g in zip(nets, groups)]
        defs = [jax.tree.structure(nt) for nt in nets]
        if any(dd != defs[0] for dd in defs[1:]):
            raise BraindynError("shard_network: the device blocks differ in structure (internal error).")
        # host (NumPy) stacks: each device receives only its slice (no whole copy on one accelerator)
        self.local = jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *nets)

    # ---- the state (see StateLayout) ---------------------------------------------------------------
    def shard_state(self, state):
        """The whole network's state -> the stacked per-device state (leading axis ``D``, host arrays)."""
        return self.layout.shard_state(state)

    def unshard_state(self, stacked):
        """Inverse of :meth:`shard_state` (replicated leaves are taken from device 0)."""
        return self.layout.unshard_state(stacked)


def shard_network(network: Network, devices: int | None = None, *, pack: bool | None = None) -> ShardedNetwork:
    """Cut ``network`` into ``devices`` blocks (default: every JAX device) -- see :class:`ShardedNetwork`.

    ``pack``: exchange spikes as bits (``True``), as the state's values (``False``), or (default
    ``None``) bits only when several processes take part. Measured at 64 000 COBA neurons on one
    machine: packing and unpacking cost ~50 % of a step (``packbits``/``unpackbits`` in XLA on
    the CPU), while the 32x smaller message matters only between hosts."""
    if devices is None:
        devices = jax.device_count()
    return ShardedNetwork(network, devices, pack=pack)
