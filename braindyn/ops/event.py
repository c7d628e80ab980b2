r"""Event-driven synaptic propagation.

For a presynaptic spike vector :math:`s \in \mathbb{R}^{n_\mathrm{pre}}`
(bool or float) and a weight matrix :math:`W` given by a connectivity and
its weights, :func:`event_matvec` returns

.. math:: y_i = \sum_j s_j\, W_{ji}, \qquad i = 0..n_\mathrm{post}-1 .

Kernels (``method``):

``"ffi"``
    C++ CPU kernel through the typed XLA FFI (``braindyn/ops/csrc/event_csr.cc``): walks
    the spike vector and adds the rows of the spiking neurons, cost
    :math:`O(n_\mathrm{pre} + \text{synapses of spiking rows})`. CPU only.
    Batches from ``jax.vmap`` are handled inside the kernel.
``"jax"``
    Pure JAX, event-driven: the indices of the non-zero spikes are compacted
    (``jnp.nonzero``) and processed in chunks of ``chunk`` rows by a
    ``while`` loop whose trip count is ``ceil(#spikes / chunk)``, so the work
    scales with the spikes. Runs everywhere (GPU included).
``"segment"``
    Pure JAX over all synapses (gather + scatter-add), cost :math:`O(nnz)`;
    the simplest, fully linear path.
``"expand"``
    Pure JAX, load-balanced expansion (:mod:`braindyn.ops.event_expand`): prefix sum, vectorised
    search and one scatter, static shapes, no compaction and no data-dependent loop (designed
    for GPUs; CSR only).
``"auto"`` (default)
    ``"ffi"`` on CPU if the kernel could be built, otherwise ``"jax"``
    (selected per platform at lowering time). ``BRAINDYN_EVENT_KERNEL=jax|ffi|segment``
    overrides the default.

For a *continuous* presynaptic signal (a rate, a membrane potential, a gating variable that
is non-zero almost everywhere) use :func:`matvec`: the same product over the same storages,
computed over all synapses (dense product, CSR gather + scatter-add over ``pre``/``post``
indices, or every procedural row), with no spike compaction.

Gradients: ``"ffi"`` and ``"jax"`` compute only the primal; their derivatives
(custom JVP, so forward and reverse mode, ``jax.grad`` included) are computed
by linear pure-JAX code: the ``"segment"`` path for float spikes and
per-synapse weights, and the event path on the primal spikes times the
tangent for a scalar weight. Bool spikes have no derivative.
"""
from __future__ import annotations

import functools
import math
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import BraindynError
from ..connect.csr import CSR
from ..connect.procedural import ProceduralConn
from . import _ffi

__all__ = ["event_matvec", "matvec", "ffi_available"]

_METHODS = ("auto", "ffi", "jax", "segment", "expand")
DEFAULT_CHUNK = 32


def ffi_available() -> bool:
    """True if the C++ CPU event kernel is built and registered."""
    return _ffi.available()


def _resolve_method(method):
    if method is None:
        method = os.environ.get("BRAINDYN_EVENT_KERNEL", "auto").strip().lower() or "auto"
        if method not in _METHODS:
            raise BraindynError(f"BRAINDYN_EVENT_KERNEL={method!r} is invalid: expected one of "
                             f"{_METHODS}. Fix: unset it or use 'jax' / 'ffi'.")
    elif method not in _METHODS:
        raise BraindynError(f"method={method!r} is invalid: expected one of {_METHODS}. "
                         "Fix: use 'auto' unless you need a specific kernel.")
    return method


def _prep_spikes(spikes, n_pre, dtype):
    s = jnp.asarray(spikes)
    if s.ndim != 1 or s.shape[0] != n_pre:
        raise BraindynError(f"spikes has shape {s.shape}; expected ({n_pre},) = (n_pre,). "
                         "Fix: pass one entry per presynaptic neuron (use jax.vmap for "
                         "batches).")
    if s.dtype == jnp.bool_:
        return s
    if not (jnp.issubdtype(s.dtype, jnp.floating) or jnp.issubdtype(s.dtype, jnp.integer)):
        raise BraindynError(f"spikes has dtype {s.dtype}; expected bool or float.")
    return s.astype(dtype)


def _float_dtype(*xs):
    dt = jnp.result_type(*xs)
    if not jnp.issubdtype(dt, jnp.floating):
        dt = jnp.result_type(float)
    return dt


# --------------------------------------------------------------------- CSR
def _compact(spikes, n_pre, chunk):
    """Indices of non-zero spikes, padded with ``n_pre``; number of chunks."""
    nz = spikes != 0
    idx = jnp.nonzero(nz, size=n_pre, fill_value=n_pre)[0].astype(jnp.int32)
    idx = jnp.concatenate([idx, jnp.full((chunk,), n_pre, jnp.int32)])
    n_chunks = (jnp.sum(nz, dtype=jnp.int32) + chunk - 1) // chunk
    return idx, n_chunks


def _csr_event_jax(spikes, w, indptr, indices, n_post, max_row, homo, chunk):
    n_pre = spikes.shape[0]
    dtype = w.dtype
    out0 = jnp.zeros((n_post,), dtype)
    if max_row == 0 or n_pre == 0:
        return out0
    idx, n_chunks = _compact(spikes, n_pre, chunk)
    k = jnp.arange(max_row, dtype=jnp.int32)

    def body(c, out):
        rows = lax.dynamic_slice(idx, (c * chunk,), (chunk,))
        ok = rows < n_pre
        r = jnp.where(ok, rows, 0)
        start = indptr[r]
        length = jnp.where(ok, indptr[r + 1] - start, 0)
        m = k[None, :] < length[:, None]
        syn = jnp.where(m, start[:, None] + k[None, :], 0)
        tgt = jnp.where(m, indices[syn], n_post)
        val = jnp.broadcast_to(w[0], tgt.shape) if homo else w[syn]
        if spikes.dtype != jnp.bool_:
            val = val * spikes[r][:, None]
        return out.at[tgt.reshape(-1)].add(val.reshape(-1), mode="drop")

    return lax.fori_loop(0, n_chunks, body, out0)


def _csr_rows(indptr, nnz):
    """Presynaptic index of every synapse (host numpy when ``indptr`` is concrete)."""
    if isinstance(indptr, np.ndarray):
        return jnp.asarray(np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int32),
                                     np.diff(indptr)))
    n_pre = indptr.shape[0] - 1
    return jnp.repeat(jnp.arange(n_pre, dtype=jnp.int32), jnp.diff(indptr),
                      total_repeat_length=nnz)


def _csr_segment(spikes, w, rows, indices, n_post, homo):
    nnz = indices.shape[0]
    dtype = w.dtype
    if nnz == 0:
        return jnp.zeros((n_post,), dtype)
    val = spikes.astype(dtype)[rows]
    val = val * (w[0] if homo else w)
    return jnp.zeros((n_post,), dtype).at[indices].add(val)


def _csr_ffi(spikes, w, indptr, indices, n_post, homo):
    call = jax.ffi.ffi_call(_ffi.TARGET, jax.ShapeDtypeStruct((n_post,), w.dtype),
                            vmap_method="expand_dims")
    return call(spikes, w, indptr, indices, homo=np.int32(1 if homo else 0))


def _csr_primal_impl(spikes, w, indptr, indices, rows, n_post, max_row, homo, method, chunk):
    if method == "segment":
        return _csr_segment(spikes, w, rows, indices, n_post, homo)

    def jax_path(s, w_, ip, ix):
        return _csr_event_jax(s, w_, ip, ix, n_post, max_row, homo, chunk)

    if method == "jax":
        return jax_path(spikes, w, indptr, indices)
    ffi_fn = functools.partial(_csr_ffi, n_post=n_post, homo=homo)
    if method == "ffi":
        return ffi_fn(spikes, w, indptr, indices)
    # auto: the C++ kernel where lowering for CPU, pure JAX elsewhere.
    return lax.platform_dependent(spikes, w, indptr, indices, cpu=ffi_fn, default=jax_path)


@functools.partial(jax.custom_jvp, nondiff_argnums=(5, 6, 7, 8, 9))
def _csr_primal(spikes, w, indptr, indices, rows, n_post, max_row, homo, method, chunk):
    return _csr_primal_impl(spikes, w, indptr, indices, rows, n_post, max_row, homo, method,
                            chunk)


@_csr_primal.defjvp
def _csr_primal_jvp(n_post, max_row, homo, method, chunk, primals, tangents):
    s, w, ip, ix, rows = primals
    ds, dw = tangents[:2]
    out = _csr_primal(s, w, ip, ix, rows, n_post, max_row, homo, method, chunk)
    tan = jnp.zeros_like(out)
    if s.dtype != jnp.bool_ and ds.dtype != jax.dtypes.float0:
        tan = tan + _csr_segment(ds, w, rows, ix, n_post, homo)
    if homo:
        ones = jnp.ones_like(w)
        tan = tan + dw[0] * _csr_primal(lax.stop_gradient(s), ones, ip, ix, rows, n_post,
                                        max_row, homo, method, chunk)
    else:
        tan = tan + _csr_segment(lax.stop_gradient(s), dw, rows, ix, n_post, homo)
    return out, tan


def _csr_weight(conn: CSR, weight, x):
    """``(w, homo, dtype)``: a CSR product's weight (default 1) as ``(1,)`` (scalar, ``homo``) or
    ``(nnz,)``, in the float dtype of the weight and the presynaptic values ``x``."""
    w = jnp.asarray(1.0 if weight is None else weight)
    dtype = _float_dtype(w, x)
    w = w.astype(dtype)
    if w.ndim == 0:
        return w.reshape(1), True, dtype
    if w.shape == (conn.nnz,):
        return w, False, dtype
    raise BraindynError(f"weight has shape {w.shape}; expected a scalar or (nnz,) = "
                        f"({conn.nnz},). Fix: pass one weight per synapse in CSR order "
                        "(e.g. csr.values_from_dense(W)) or a scalar.")


def _csr_matvec(conn: CSR, spikes, weight, method, chunk):
    if method == "expand":  # accelerator formulation (braindyn.ops.event_expand); plain autodiff
        from .event_expand import event_matvec_expand

        return event_matvec_expand(conn, spikes, weight)
    w, homo, dtype = _csr_weight(conn, weight, spikes)
    s = _prep_spikes(spikes, conn.n_pre, dtype)
    if method in ("auto", "ffi") and not _ffi.available():
        method = "jax"   # available() warned once about why
    if method in ("auto", "ffi") and dtype not in (jnp.float32, jnp.float64):
        method = "jax"
    rows = _csr_rows(conn.indptr, conn.nnz)
    indptr = jnp.asarray(conn.indptr, jnp.int32)
    indices = jnp.asarray(conn.indices, jnp.int32)
    return _csr_apply(s, w, indptr, indices, rows, conn.n_post, conn.max_row, homo, method,
                      chunk)


# Jitted entry point: the connectivity arrays are arguments, never constants
# that XLA would try to fold (which made eager calls compile for seconds).
_csr_apply = jax.jit(_csr_primal, static_argnums=(5, 6, 7, 8, 9))


# -------------------------------------------------------------- procedural
def _proc_with_weight(skel, weight):
    return eqx.tree_at(lambda c: c.weight, skel, weight, is_leaf=lambda x: x is None)


def _proc_scatter(pc, rows, ok, svals, out, unit=False):
    tgt, valid, w = jax.vmap(pc.row)(rows)
    m = valid & ok[:, None]
    tgt = jnp.where(m, tgt, pc.n_post)
    val = jnp.ones(w.shape, out.dtype) if unit else w.astype(out.dtype)
    if svals is not None:
        val = val * svals[:, None]
    return out.at[tgt.reshape(-1)].add(val.reshape(-1), mode="drop")


def _proc_ffi(pc, spikes, w):
    """The C++ kernel (homogeneous weight ``w``, a scalar of the output dtype). A block of the
    columns (a device's share of a sharded network: ``pc.block_offset()``, ``pc.n_full``) keeps
    the targets in ``[offset, offset + n_post)``, renumbered from 0."""
    lo = pc.block_offset() if hasattr(pc, "block_offset") else 0
    n_full = getattr(pc, "n_full", 0) or pc.n_post
    call = jax.ffi.ffi_call(_ffi.TARGET_PROCEDURAL, jax.ShapeDtypeStruct((pc.n_post,), w.dtype),
                            vmap_method="expand_dims")
    return call(spikes, w.reshape(1), jnp.asarray(pc.table()), jnp.asarray(lo, jnp.int32).reshape(1),
                seed=np.int64(pc.seed), k_max=np.int64(pc.k_max), n_cand=np.int64(pc.n_cand),
                n_full=np.int64(n_full), allow_self=np.int32(pc.allow_self),
                inv_log=np.float32(math.log1p(-pc.p)) if pc.p < 1.0 else np.float32(-1.0))


def _proc_event(pc, spikes, dtype, chunk, unit=False, method="jax"):
    n_pre = pc.n_pre
    out0 = jnp.zeros((pc.n_post,), dtype)
    if pc.k_max == 0 or n_pre == 0:
        return out0
    if method != "jax":  # "ffi" (CPU) or "auto" (the C++ kernel where lowering for the CPU)
        w = jnp.ones((), dtype) if unit else jnp.asarray(pc.weight, dtype)
        ffi_fn = lambda s, w_: _proc_ffi(pc, s, w_)  # noqa: E731
        if method == "ffi":
            return ffi_fn(spikes, w)
        jax_fn = lambda s, w_: _proc_event(pc, s, dtype, chunk, unit)  # noqa: E731
        return lax.platform_dependent(spikes, w, cpu=ffi_fn, default=jax_fn)
    idx, n_chunks = _compact(spikes, n_pre, chunk)

    def body(c, out):
        rows = lax.dynamic_slice(idx, (c * chunk,), (chunk,))
        ok = rows < n_pre
        r = jnp.where(ok, rows, 0)
        sv = None if spikes.dtype == jnp.bool_ else spikes[r]
        return _proc_scatter(pc, r, ok, sv, out, unit)

    return lax.fori_loop(0, n_chunks, body, out0)


def _proc_dense(pc, svals, dtype, chunk):
    """All rows weighted by float ``svals`` (static trip count: linear, transposable)."""
    n_pre = pc.n_pre
    out0 = jnp.zeros((pc.n_post,), dtype)
    if pc.k_max == 0 or n_pre == 0:
        return out0
    n_chunks = -(-n_pre // chunk)
    pad = jnp.concatenate([svals, jnp.zeros((n_chunks * chunk - n_pre,), svals.dtype)])

    def body(c, out):
        rows = c * chunk + jnp.arange(chunk, dtype=jnp.int32)
        ok = rows < n_pre
        sv = lax.dynamic_slice(pad, (c * chunk,), (chunk,))
        return _proc_scatter(pc, jnp.where(ok, rows, 0), ok, sv, out)

    return lax.fori_loop(0, n_chunks, body, out0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 3, 4))
def _proc_primal(skel, spikes, weight, chunk, method):
    pc = _proc_with_weight(skel, weight)
    return _proc_event(pc, spikes, weight.dtype, chunk, method=method)


@_proc_primal.defjvp
def _proc_primal_jvp(skel, chunk, method, primals, tangents):
    s, weight = primals
    ds, dweight = tangents
    out = _proc_primal(skel, s, weight, chunk, method)
    pc = _proc_with_weight(skel, weight)
    tan = jnp.zeros_like(out)
    if s.dtype != jnp.bool_ and ds.dtype != jax.dtypes.float0:
        tan = tan + _proc_dense(pc, ds, out.dtype, chunk)
    # d/dweight of sum_j s_j (weight + std z_jk) = sum_j s_j * (number of targets)
    counts = _proc_event(pc, lax.stop_gradient(s), out.dtype, chunk, unit=True, method=method)
    return out, tan + dweight * counts


_proc_apply = jax.jit(_proc_primal, static_argnums=(0, 3, 4))


def _proc_matvec(pc: ProceduralConn, spikes, weight, chunk, method="auto"):
    factor = jnp.asarray(1.0 if weight is None else weight)
    if factor.ndim != 0:
        raise BraindynError(f"weight has shape {factor.shape}; ProceduralConn takes only a "
                         "scalar weight factor. Fix: pass a scalar or set it in the conn.")
    dtype = _float_dtype(pc.weight, factor, spikes)
    w = jnp.asarray(pc.weight, dtype)
    s = _prep_spikes(spikes, pc.n_pre, dtype)
    skel = eqx.tree_at(lambda c: c.weight, pc, None)
    # the C++ kernel regenerates rows with a homogeneous weight (Gaussian weights: pure JAX)
    if (method not in ("auto", "ffi") or pc.weight_std > 0 or dtype not in (jnp.float32, jnp.float64)
            or not _ffi.available()):
        method = "jax"
    out = _proc_apply(skel, s, w, chunk, method)
    return out if weight is None else out * factor.astype(dtype)


# ------------------------------------------------------------------ public
def event_matvec(conn, spikes, weight=None, *, method=None, chunk=DEFAULT_CHUNK):
    r"""Summed synaptic input of the spiking presynaptic neurons.

    .. math:: y_i = \sum_{j} s_j\, W_{ji}

    Args:
        conn: a :class:`~braindyn.connect.CSR`, a
            :class:`~braindyn.connect.ProceduralConn` or a dense
            ``(n_pre, n_post)`` array (bool mask or weights).
        spikes: ``(n_pre,)`` bool or float (e.g. 0/1, or a surrogate value).
        weight: CSR: scalar or per-synapse ``(nnz,)`` array (default 1).
            Dense: scalar factor applied to the matrix (default 1).
            Procedural: scalar factor on the conn's own weights.
        method: ``"auto"`` | ``"ffi"`` | ``"jax"`` | ``"segment"`` | ``"expand"`` (the last
            two CSR only; see the module docs). Default: ``$BRAINDYN_EVENT_KERNEL`` or
            ``"auto"``. Procedural connectivity with a homogeneous weight also has a C++
            kernel (``"auto"``/``"ffi"`` on the CPU); ``"segment"``/``"expand"`` mean ``"jax"``
            for it.
        chunk: rows per iteration of the pure-JAX event loop.

    Returns:
        ``(n_post,)`` float array (dtype of the weights / float spikes).

    Example:
        >>> import jax.numpy as jnp, braindyn.connect as bc
        >>> from braindyn.ops import event_matvec
        >>> c = bc.from_ij([0, 0, 1], [0, 1, 1], 2, 2)
        >>> event_matvec(c, jnp.array([True, False]), 0.5).tolist()
        [0.5, 0.5]
    """
    method = _resolve_method(method)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise BraindynError(f"chunk={chunk!r} is invalid: expected an int >= 1. Fix: keep the "
                         f"default {DEFAULT_CHUNK}.")
    if isinstance(conn, CSR):
        return _csr_matvec(conn, spikes, weight, method, chunk)
    if isinstance(conn, ProceduralConn):
        return _proc_matvec(conn, spikes, weight, chunk, method)
    if isinstance(conn, (jax.Array, np.ndarray)):
        m = jnp.asarray(conn)
        if m.ndim != 2:
            raise BraindynError(f"conn has shape {m.shape}; a dense connectivity must be 2-D "
                             "(n_pre, n_post).")
        w = jnp.asarray(1.0 if weight is None else weight)
        if w.ndim != 0:
            raise BraindynError(f"weight has shape {w.shape}; for a dense matrix pass a scalar "
                             "factor (put per-synapse values in the matrix itself).")
        dtype = _float_dtype(m, w, spikes)
        s = _prep_spikes(spikes, m.shape[0], dtype).astype(dtype)
        return (s @ m.astype(dtype)) * w.astype(dtype)
    raise BraindynError(f"conn of type {type(conn).__name__} is not supported: expected CSR, "
                    "ProceduralConn or a dense (n_pre, n_post) array.")


def matvec(conn, x, weight=None, *, rows=None, chunk=DEFAULT_CHUNK):
    r"""Synaptic drive of a continuous presynaptic signal over any storage.

    .. math:: y_i = \sum_j x_j\, W_{ji}

    The same product as :func:`event_matvec`, for an ``x`` that is not sparse (a rate, a
    voltage, a gating variable): cost :math:`O(nnz)` (CSR: one gather over the presynaptic
    index of every synapse and one scatter-add over the postsynaptic one; dense:
    a matrix--vector product; procedural: every row regenerated), no spike compaction, pure
    JAX (differentiable in ``x`` and ``weight`` by ordinary autodiff).

    Args:
        conn: CSR, ProceduralConn or dense ``(n_pre, n_post)`` array.
        x: ``(n_pre,)`` float.
        weight: as for :func:`event_matvec` (CSR: scalar or ``(nnz,)``; dense and procedural:
            a scalar factor).
        rows: CSR only: the presynaptic index of every synapse (``(nnz,)`` int), if already
            at hand (otherwise computed from ``indptr``).
        chunk: rows per iteration for procedural connectivity.

    Example:
        >>> import jax.numpy as jnp, braindyn.connect as bc
        >>> from braindyn.ops.event import matvec
        >>> c = bc.from_ij([0, 0, 1], [0, 1, 1], 2, 2)
        >>> matvec(c, jnp.array([0.5, 2.0]), 2.0).tolist()
        [1.0, 5.0]
    """
    if isinstance(conn, CSR):
        w, homo, dtype = _csr_weight(conn, weight, x)
        s = _prep_spikes(x, conn.n_pre, dtype)
        r = _csr_rows(conn.indptr, conn.nnz) if rows is None else rows
        return _csr_segment(s, w, r, jnp.asarray(conn.indices, jnp.int32), conn.n_post, homo)
    if isinstance(conn, ProceduralConn):
        factor = jnp.asarray(1.0 if weight is None else weight)
        if factor.ndim != 0:
            raise BraindynError(f"weight has shape {factor.shape}; ProceduralConn takes only a "
                             "scalar weight factor.")
        dtype = _float_dtype(conn.weight, factor, x)
        s = _prep_spikes(x, conn.n_pre, dtype).astype(dtype)
        pc = _proc_with_weight(conn, jnp.asarray(conn.weight, dtype))
        out = _proc_dense(pc, s, dtype, chunk)
        return out if weight is None else out * factor.astype(dtype)
    return event_matvec(conn, x, weight)
