"""Compressed sparse row (CSR) connectivity and its converters.

Row ``j`` of a :class:`CSR` lists the postsynaptic targets of presynaptic
neuron ``j``: ``indices[indptr[j]:indptr[j+1]]``. Per-synapse weights are kept
separately as an array of length ``nnz`` in the same (CSR) order, so the same
structure can carry several synaptic variables.
"""
from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._errors import BraindynError
from ._checks import check_size

__all__ = ["CSR", "from_matrix", "from_ij"]


class CSR(eqx.Module):
    r"""Presynaptic-major sparse connectivity.

    The connectivity matrix :math:`C \in \{0,1\}^{n_\mathrm{pre}\times n_\mathrm{post}}`
    (or its weighted version :math:`W`) is stored as

    * ``indptr`` (``n_pre + 1``, int32): row ``j`` occupies
      ``indptr[j]:indptr[j+1]``;
    * ``indices`` (``nnz``, int32): the postsynaptic index of each synapse,
      sorted within a row (multapses from :func:`from_ij` are kept).

    ``n_pre``, ``n_post`` and ``max_row`` (the largest out-degree) are static
    Python ints, so a CSR can be passed through ``jax.jit`` as an argument.

    Example:
        >>> import numpy as np, braindyn.connect as bc
        >>> c = bc.from_ij([0, 0, 2], [1, 2, 0], n_pre=3, n_post=3)
        >>> c.to_dense().astype(int).tolist()
        [[0, 1, 1], [0, 0, 0], [1, 0, 0]]
    """

    indptr: jax.Array | np.ndarray
    indices: jax.Array | np.ndarray
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    max_row: int = eqx.field(static=True)

    def __init__(self, indptr, indices, n_pre, n_post, *, max_row=None, validate=True):
        n_pre = check_size("n_pre", n_pre)
        n_post = check_size("n_post", n_post)
        if validate:
            indptr, indices = _check_arrays(indptr, indices, n_pre, n_post)
            if max_row is None:
                max_row = int(np.diff(indptr).max()) if n_pre else 0
        elif max_row is None:
            ip = np.asarray(indptr)
            max_row = int(np.diff(ip).max()) if n_pre else 0
        self.indptr = indptr
        self.indices = indices
        self.n_pre = n_pre
        self.n_post = n_post
        self.max_row = int(max_row)

    def validate(self) -> "CSR":
        """Check the arrays (as ``validate=True`` does at construction); returns ``self``.

        ``indptr`` must have ``n_pre + 1`` entries, start at 0, be non-decreasing and end at
        ``nnz``; every index must lie in ``[0, n_post)``. A CSR built with ``validate=False``
        passes through this before any projection uses it (one pass over the indices).

        Example:
            >>> import numpy as np, braindyn as bd, braindyn.connect as bc
            >>> bad = bc.CSR(np.array([0, 1]), np.array([7], np.int32), 1, 3, validate=False)
            >>> try:
            ...     bad.validate()
            ... except bd.BraindynError as e:
            ...     print(str(e)[:40])
            indices must lie in [0, n_post=3) (got r
        """
        _check_arrays(self.indptr, self.indices, self.n_pre, self.n_post)
        return self

    # ------------------------------------------------------------------ info
    @property
    def nnz(self) -> int:
        """Number of synapses."""
        return int(self.indices.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_pre, self.n_post)

    def out_degree(self) -> np.ndarray:
        """Number of targets of each presynaptic neuron, shape ``(n_pre,)``."""
        return np.diff(np.asarray(self.indptr))

    def in_degree(self) -> np.ndarray:
        """Number of sources of each postsynaptic neuron, shape ``(n_post,)``."""
        return np.bincount(np.asarray(self.indices), minlength=self.n_post)

    def __repr__(self):
        return f"CSR(n_pre={self.n_pre}, n_post={self.n_post}, nnz={self.nnz})"

    # ------------------------------------------------------------ converters
    def to_ij(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(pre, post)`` index arrays (length ``nnz``, CSR order)."""
        ip = np.asarray(self.indptr)
        pre = np.repeat(np.arange(self.n_pre, dtype=np.int32), np.diff(ip))
        return pre, np.asarray(self.indices).copy()

    def to_dense(self, weights=None, dtype=None) -> np.ndarray:
        r"""Dense ``(n_pre, n_post)`` matrix.

        Without ``weights`` the result is the boolean adjacency matrix. With a
        scalar or per-synapse ``weights`` (length ``nnz``) it is
        :math:`W_{ji} = \sum_{k:\,\mathrm{pre}_k=j,\,\mathrm{post}_k=i} w_k`
        (multapses add up).
        """
        pre, post = self.to_ij()
        if weights is None:
            out = np.zeros(self.shape, dtype=bool if dtype is None else dtype)
            out[pre, post] = True
            return out
        w = np.asarray(weights)
        if w.ndim == 0:
            w = np.full(self.nnz, w)
        if w.shape != (self.nnz,):
            raise BraindynError(f"weights has shape {w.shape}; expected () or (nnz,) = "
                             f"({self.nnz},). Fix: pass one weight per synapse in CSR order.")
        out = np.zeros(self.shape, dtype=w.dtype if dtype is None else dtype)
        np.add.at(out, (pre, post), w)
        return out

    def values_from_dense(self, mat) -> np.ndarray:
        """Pick ``mat[pre, post]`` for each synapse (CSR order): dense -> per-synapse."""
        mat = np.asarray(mat)
        if mat.shape != self.shape:
            raise BraindynError(f"mat has shape {mat.shape}; expected {self.shape} (n_pre, n_post).")
        pre, post = self.to_ij()
        return mat[pre, post]

    def transpose(self) -> tuple["CSR", np.ndarray]:
        """Postsynaptic-major view (CSC of the original), as a CSR of ``(n_post, n_pre)``.

        Returns ``(csr_t, perm)``: synapse ``k`` of ``csr_t`` is synapse
        ``perm[k]`` of ``self``, so per-synapse weights follow as ``w[perm]``.

        Example:
            >>> import braindyn.connect as bc
            >>> c = bc.from_ij([0, 1], [1, 1], n_pre=2, n_post=2)
            >>> t, perm = c.transpose()
            >>> t.to_dense().tolist() == c.to_dense().T.tolist()
            True
        """
        pre, post = self.to_ij()
        perm = np.argsort(post, kind="stable")
        t = _build(post[perm], pre[perm], self.n_post, self.n_pre, assume_sorted=True)
        return t, perm


def _check_arrays(indptr, indices, n_pre, n_post):
    """The validation of :class:`CSR` (raises :class:`BraindynError`); returns int32 NumPy copies."""
    if isinstance(indptr, jax.core.Tracer) or isinstance(indices, jax.core.Tracer):
        return indptr, indices  # inside a transformation: checked where the CSR was built
    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    for name, a in (("indptr", indptr), ("indices", indices)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise BraindynError(f"{name} has dtype {a.dtype}; expected integers. Fix: build the CSR with "
                                f"braindyn.connect.from_ij or from_matrix.")
    if indptr.ndim != 1 or indptr.shape[0] != n_pre + 1:
        raise BraindynError(
            f"indptr has shape {indptr.shape}, expected ({n_pre + 1},) = (n_pre + 1,). "
            "Fix: indptr[j]:indptr[j+1] must delimit row j for every presynaptic j.")
    if indices.ndim != 1:
        raise BraindynError(f"indices has shape {indices.shape}; expected a 1-D array.")
    if indptr[0] != 0 or indptr[-1] != indices.shape[0] or np.any(np.diff(indptr) < 0):
        raise BraindynError(
            "indptr must start at 0, be non-decreasing and end at len(indices) "
            f"(got indptr[0]={indptr[0]}, indptr[-1]={indptr[-1]}, "
            f"len(indices)={indices.shape[0]}). Fix: rebuild it with from_ij.")
    if indices.size and (indices.min() < 0 or indices.max() >= n_post):
        raise BraindynError(
            f"indices must lie in [0, n_post={n_post}) (got range "
            f"[{indices.min()}, {indices.max()}]). Fix: check n_post.")
    if indices.shape[0] >= 2**31:
        raise BraindynError(f"nnz={indices.shape[0]} exceeds the int32 limit 2**31-1. "
                            "Fix: use ProceduralConn for networks this large.")
    return indptr.astype(np.int32), indices.astype(np.int32)


def _build(pre, post, n_pre, n_post, *, assume_sorted=False):
    """Fast internal constructor from (pre, post) already validated."""
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    if not assume_sorted:
        order = np.lexsort((post, pre))
        pre, post = pre[order], post[order]
    counts = np.bincount(pre, minlength=n_pre) if pre.size else np.zeros(n_pre, np.int64)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    max_row = int(counts.max()) if n_pre else 0
    if pre.size and (pre[0] < 0 or pre[-1] >= n_pre or post.min() < 0 or post.max() >= n_post):
        raise BraindynError(f"internal error: a connectivity builder produced an index outside "
                            f"[0, {n_pre}) x [0, {n_post}). This is a bug in braindyn; please report it.")
    if pre.size >= 2**31:
        raise BraindynError(f"nnz={pre.size} exceeds the int32 limit 2**31-1. "
                            "Fix: use ProceduralConn for networks this large.")
    return CSR(indptr.astype(np.int32), post.astype(np.int32), n_pre, n_post,
               max_row=max_row, validate=False)


def from_rows(targets_per_row, n_post):
    """Build a CSR from a ``(n_pre, k)`` array of targets (fixed out-degree)."""
    t = np.asarray(targets_per_row)
    if t.ndim != 2:
        raise BraindynError(f"targets_per_row has shape {t.shape}; expected (n_pre, k).")
    n_pre, k = t.shape
    t = np.sort(t, axis=1)
    indptr = (np.arange(n_pre + 1, dtype=np.int64) * k).astype(np.int32)
    return CSR(indptr, t.reshape(-1), n_pre, n_post, max_row=k)


def from_ij(pre, post, n_pre, n_post, *, weights=None):
    r"""Connectivity from lists of (pre, post) index pairs.

    Pairs are sorted by ``pre`` (stable; within a row by ``post``); duplicate
    pairs are kept as multapses.

    Args:
        pre, post: integer sequences of equal length, ``0 <= pre < n_pre``,
            ``0 <= post < n_post``.
        n_pre, n_post: population sizes.
        weights: optional per-pair values; if given, returns ``(csr, w)`` with
            ``w`` reordered to CSR order.

    Example:
        >>> import braindyn.connect as bc
        >>> c, w = bc.from_ij([1, 0], [0, 1], 2, 2, weights=[0.5, 2.0])
        >>> w.tolist()
        [2.0, 0.5]
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    pre = np.asarray(pre)
    post = np.asarray(post)
    if pre.ndim != 1 or post.shape != pre.shape:
        raise BraindynError(f"pre and post must be 1-D of equal length (got shapes {pre.shape} "
                         f"and {post.shape}). Fix: pass matching index lists.")
    if pre.size and not (np.issubdtype(pre.dtype, np.integer)
                         and np.issubdtype(post.dtype, np.integer)):
        raise BraindynError(f"pre/post must be integer arrays (got {pre.dtype}, {post.dtype}).")
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre):
        raise BraindynError(f"pre values must lie in [0, n_pre={n_pre}) (got "
                         f"[{pre.min()}, {pre.max()}]). Fix: check n_pre or the indices.")
    if post.size and (post.min() < 0 or post.max() >= n_post):
        raise BraindynError(f"post values must lie in [0, n_post={n_post}) (got "
                         f"[{post.min()}, {post.max()}]). Fix: check n_post or the indices.")
    order = np.lexsort((post, pre))
    csr = _build(pre[order], post[order], n_pre, n_post, assume_sorted=True)
    if weights is None:
        return csr
    w = np.asarray(weights)
    if w.shape != pre.shape:
        raise BraindynError(f"weights has shape {w.shape}; expected {pre.shape} (one per pair).")
    return csr, w[order]


def from_matrix(mat):
    r"""Connectivity of the non-zero entries of a dense ``(n_pre, n_post)`` matrix.

    :math:`C_{ji} = [M_{ji} \neq 0]`. The weights, if ``mat`` holds them, follow
    with ``csr.values_from_dense(mat)``.

    Example:
        >>> import numpy as np, braindyn.connect as bc
        >>> m = np.array([[0., 2.], [3., 0.]])
        >>> c = bc.from_matrix(m); c.values_from_dense(m).tolist()
        [2.0, 3.0]
    """
    m = np.asarray(mat)
    if m.ndim != 2:
        raise BraindynError(f"mat has shape {m.shape}; expected a 2-D (n_pre, n_post) matrix.")
    pre, post = np.nonzero(m)
    return _build(pre, post, m.shape[0], m.shape[1], assume_sorted=True)
