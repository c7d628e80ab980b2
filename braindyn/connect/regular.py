"""Deterministic connectivity: one-to-one, all-to-all, grid neighbourhoods."""
from __future__ import annotations

import numpy as np

from ._checks import check_size, check_square
from .csr import CSR, _build
from .random_conn import grid_coords

__all__ = ["one_to_one", "all_to_all", "grid_four", "grid_eight"]


def one_to_one(n):
    r"""Neuron :math:`j` projects only onto neuron :math:`j`: :math:`C = I_n`.

    Example:
        >>> import braindyn.connect as bc
        >>> bc.one_to_one(3).to_dense().astype(int).tolist()
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    n = check_size("n", n)
    return CSR(np.arange(n + 1, dtype=np.int32), np.arange(n, dtype=np.int32), n, n,
               max_row=1 if n else 0, validate=False)


def all_to_all(n_pre, n_post, *, allow_self=True):
    r"""Every presynaptic neuron projects to every postsynaptic neuron.

    :math:`C_{ji} = 1` for all pairs (except :math:`j = i` if
    ``allow_self=False``, which needs ``n_pre == n_post``).

    Example:
        >>> import braindyn.connect as bc
        >>> bc.all_to_all(3, 3, allow_self=False).nnz
        6
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    if not allow_self:
        check_square(n_pre, n_post, "all_to_all")
        k = n_post - 1 if n_post else 0
        cols = np.arange(k)[None, :] + (np.arange(k)[None, :] >= np.arange(n_pre)[:, None])
    else:
        k = n_post
        cols = np.broadcast_to(np.arange(k), (n_pre, k))
    indptr = np.arange(n_pre + 1, dtype=np.int64) * k
    return CSR(indptr.astype(np.int32), cols.reshape(-1).astype(np.int32), n_pre, n_post,
               max_row=k, validate=False)


def _grid(height, width, offsets, periodic, allow_self):
    height = check_size("height", height, minimum=1)
    width = check_size("width", width, minimum=1)
    rc = grid_coords(height, width)
    n = height * width
    pre, post = [], []
    offs = list(offsets) + ([(0, 0)] if allow_self else [])
    for dr, dc in offs:
        r, c = rc[:, 0] + dr, rc[:, 1] + dc
        if periodic:
            r, c = r % height, c % width
            ok = np.ones(n, dtype=bool)
        else:
            ok = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        tgt = r * width + c
        keep = ok & ((tgt != np.arange(n)) | (dr == 0 and dc == 0))
        pre.append(np.arange(n)[keep])
        post.append(tgt[keep])
    pairs = np.unique(np.stack([np.concatenate(pre), np.concatenate(post)], 1), axis=0)
    return _build(pairs[:, 0], pairs[:, 1], n, n, assume_sorted=True)


def grid_four(height, width, *, periodic=False, allow_self=False):
    r"""Von Neumann neighbourhood on a ``height x width`` grid (index ``r*width+c``).

    Neuron :math:`(r, c)` projects to :math:`(r\pm1, c)` and :math:`(r, c\pm1)`
    (wrapped around if ``periodic``, dropped at the border otherwise; duplicate
    targets on tiny periodic grids are merged).

    Example:
        >>> import braindyn.connect as bc
        >>> bc.grid_four(3, 3).out_degree().tolist()
        [2, 3, 2, 3, 4, 3, 2, 3, 2]
    """
    return _grid(height, width, [(-1, 0), (1, 0), (0, -1), (0, 1)], periodic, allow_self)


def grid_eight(height, width, *, periodic=False, allow_self=False):
    r"""Moore neighbourhood: the 8 grid neighbours (including diagonals).

    Example:
        >>> import braindyn.connect as bc
        >>> int(bc.grid_eight(5, 5, periodic=True).out_degree().min())
        8
    """
    offs = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
    return _grid(height, width, offs, periodic, allow_self)
