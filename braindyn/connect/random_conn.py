"""Random connectivity: fixed probability, fixed degrees, fixed total, Gaussian.

All generators are vectorised numpy on the host and never build an
``n_pre x n_post`` matrix in the sparse regime: row counts are drawn first
(e.g. binomial), then each row's targets as a uniform random subset.
"""
from __future__ import annotations

import numpy as np

from .._errors import BraindynError
from ._checks import (check_positive, check_prob, check_seed, check_size, check_square)
from .csr import CSR, _build

__all__ = ["fixed_prob", "fixed_out_degree", "fixed_in_degree", "fixed_total_num",
           "gaussian_prob"]

_DENSE_FRACTION = 0.2   # above this mean fill, random keys per row beat rejection
_CHUNK_ELEMS = 1 << 22  # elements per chunk in the dense regime (~32 MB of float64)


def _subsets(rng, counts, n_cand, exclude_diag):
    """For each row j draw ``counts[j]`` distinct values uniformly from ``n_cand``.

    With ``exclude_diag`` the candidates are ``n_cand + 1`` values minus ``j``
    (drawn from ``n_cand`` and shifted past ``j``). Returns ``(rows, vals)``
    sorted by row then value. Permutation-equivariant rejection of duplicates
    keeps every subset of a given size equally likely.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows = counts.shape[0]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if n_cand and total / (n_rows * n_cand) > _DENSE_FRACTION:
        rows_out, vals_out = [], []
        chunk = max(1, _CHUNK_ELEMS // n_cand)
        for s in range(0, n_rows, chunk):
            c = counts[s:s + chunk]
            ranks = np.argsort(rng.random((c.shape[0], n_cand)), axis=1)
            take = np.arange(n_cand)[None, :] < c[:, None]
            r, col = np.nonzero(take)
            rows_out.append(r + s)
            vals_out.append(ranks[r, col])
        rows, vals = np.concatenate(rows_out), np.concatenate(vals_out)
    else:
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), counts)
        key = rows * n_cand + rng.integers(0, n_cand, size=total)
        while True:
            key.sort()
            dup = np.zeros(total, dtype=bool)
            dup[1:] = key[1:] == key[:-1]
            nd = int(dup.sum())
            if nd == 0:
                break
            key[dup] = rows[dup] * n_cand + rng.integers(0, n_cand, size=nd)
        vals = key - rows * n_cand
    if exclude_diag:
        vals = vals + (vals >= rows)
    order = np.lexsort((vals, rows))
    return rows[order], vals[order]


def fixed_prob(n_pre, n_post, p, *, allow_self=True, seed):
    r"""Erdős–Rényi connectivity: every pair connected independently.

    .. math:: P(j \to i) = p \quad \text{independently for all } (j, i)
       \;(\text{and } j \neq i \text{ if } \texttt{allow\_self=False}).

    Row sizes are drawn as :math:`\mathrm{Binomial}(n, p)` and each row's
    targets as a uniform subset, so no dense matrix is built.

    Args:
        n_pre, n_post: number of presynaptic / postsynaptic neurons.
        p: connection probability in [0, 1].
        allow_self: if False (needs ``n_pre == n_post``), no ``j -> j`` synapse.
        seed: integer seed (or ``numpy.random.Generator``).

    Example:
        >>> import braindyn.connect as bc
        >>> c = bc.fixed_prob(4000, 4000, 0.02, allow_self=False, seed=0)
        >>> 75 < c.nnz / 4000 < 85
        True
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    p = check_prob("p", p)
    rng = check_seed(seed)
    if not allow_self:
        check_square(n_pre, n_post, "fixed_prob")
    n_cand = n_post - (0 if allow_self else 1)
    if p > _DENSE_FRACTION:   # dense regime: one Bernoulli draw per pair, in row chunks
        rows_out, vals_out = [], []
        chunk = max(1, _CHUNK_ELEMS // max(n_post, 1))
        for s in range(0, n_pre, chunk):
            take = rng.random((min(chunk, n_pre - s), n_post)) < p
            if not allow_self:
                i = np.arange(take.shape[0])
                take[i, i + s] = False
            r, c = np.nonzero(take)
            rows_out.append(r + s)
            vals_out.append(c)
        return _build(np.concatenate(rows_out), np.concatenate(vals_out), n_pre, n_post,
                      assume_sorted=True)
    counts = rng.binomial(n_cand, p, size=n_pre) if n_cand > 0 else np.zeros(n_pre, np.int64)
    rows, vals = _subsets(rng, counts, n_cand, not allow_self)
    return _build(rows, vals, n_pre, n_post, assume_sorted=True)


def _check_degree(name, k, n_cand, other):
    k = check_size(name, k)
    if k > n_cand:
        raise BraindynError(
            f"{name}={k} is invalid: it exceeds the {n_cand} available {other} neurons "
            "(synapses are drawn without replacement). Fix: lower the degree, or allow "
            "self connections / enlarge the population.")
    return k


def fixed_out_degree(n_pre, n_post, k, *, allow_self=True, seed):
    r"""Each presynaptic neuron projects to exactly ``k`` distinct targets.

    Targets of row :math:`j` are a uniform random ``k``-subset of
    :math:`\{0..n_\mathrm{post}-1\}` (minus :math:`j` if ``allow_self=False``).

    Example:
        >>> import braindyn.connect as bc
        >>> bc.fixed_out_degree(100, 50, 10, seed=1).out_degree().tolist() == [10] * 100
        True
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    rng = check_seed(seed)
    if not allow_self:
        check_square(n_pre, n_post, "fixed_out_degree")
    n_cand = n_post - (0 if allow_self else 1)
    k = _check_degree("k", k, n_cand, "postsynaptic")
    rows, vals = _subsets(rng, np.full(n_pre, k), n_cand, not allow_self)
    return _build(rows, vals, n_pre, n_post, assume_sorted=True)


def fixed_in_degree(n_pre, n_post, k, *, allow_self=True, seed):
    r"""Each postsynaptic neuron receives exactly ``k`` distinct sources.

    Sources of column :math:`i` are a uniform random ``k``-subset of the
    presynaptic neurons (minus :math:`i` if ``allow_self=False``).

    Example:
        >>> import braindyn.connect as bc
        >>> bc.fixed_in_degree(50, 100, 10, seed=1).in_degree().tolist() == [10] * 100
        True
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    rng = check_seed(seed)
    if not allow_self:
        check_square(n_pre, n_post, "fixed_in_degree")
    n_cand = n_pre - (0 if allow_self else 1)
    k = _check_degree("k", k, n_cand, "presynaptic")
    posts, pres = _subsets(rng, np.full(n_post, k), n_cand, not allow_self)
    return _build(pres, posts, n_pre, n_post)


def fixed_total_num(n_pre, n_post, num, *, allow_self=True, seed):
    r"""Exactly ``num`` distinct synapses, a uniform random subset of all pairs.

    Example:
        >>> import braindyn.connect as bc
        >>> bc.fixed_total_num(100, 100, 500, allow_self=False, seed=0).nnz
        500
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    rng = check_seed(seed)
    if not allow_self:
        check_square(n_pre, n_post, "fixed_total_num")
    per_row = n_post - (0 if allow_self else 1)
    total = n_pre * per_row
    num = check_size("num", num)
    if num > total:
        raise BraindynError(f"num={num} is invalid: only {total} distinct pairs exist. "
                         "Fix: lower num (synapses are drawn without replacement).")
    flat = np.sort(rng.choice(total, size=num, replace=False)) if num else np.zeros(0, np.int64)
    rows, vals = flat // max(per_row, 1), flat % max(per_row, 1)
    if not allow_self:
        vals = vals + (vals >= rows)
    return _build(rows, vals, n_pre, n_post, assume_sorted=True)


def grid_coords(height, width):
    """Row-major ``(n, 2)`` integer coordinates ``(row, col)`` of a 2-D grid."""
    r, c = np.divmod(np.arange(height * width), width)
    return np.stack([r, c], axis=1)


def gaussian_prob(height, width, sigma, *, p_max=1.0, periodic=False, allow_self=False,
                  seed):
    r"""Distance-dependent random connectivity on a 2-D grid.

    Neurons sit on a ``height x width`` grid (index ``r * width + c``, spacing 1)
    and project onto the same grid with

    .. math:: P(j \to i) = p_\max \exp\!\left(-\frac{d_{ji}^2}{2\sigma^2}\right),

    where :math:`d_{ji}` is the Euclidean distance in grid units (the shortest
    distance on the torus if ``periodic``), independently for each pair.

    Example:
        >>> import braindyn.connect as bc
        >>> c = bc.gaussian_prob(20, 20, sigma=2.0, seed=0)
        >>> c.n_pre, c.n_post
        (400, 400)
    """
    height = check_size("height", height, minimum=1)
    width = check_size("width", width, minimum=1)
    sigma = check_positive("sigma", sigma)
    p_max = check_prob("p_max", p_max)
    rng = check_seed(seed)
    n = height * width
    xy = grid_coords(height, width).astype(np.float64)
    chunk = max(1, _CHUNK_ELEMS // n)
    rows_out, vals_out = [], []
    for s in range(0, n, chunk):
        d = np.abs(xy[s:s + chunk, None, :] - xy[None, :, :])
        if periodic:
            d = np.minimum(d, np.array([height, width], dtype=np.float64) - d)
        prob = p_max * np.exp(-(d ** 2).sum(-1) / (2.0 * sigma ** 2))
        if not allow_self:
            idx = np.arange(s, min(s + chunk, n))
            prob[idx - s, idx] = 0.0
        r, c = np.nonzero(rng.random(prob.shape) < prob)
        rows_out.append(r + s)
        vals_out.append(c)
    return _build(np.concatenate(rows_out), np.concatenate(vals_out), n, n, assume_sorted=True)
