"""Graph models: Watts–Strogatz small world, Barabási–Albert scale free.

Both build undirected graphs; each undirected edge ``{a, b}`` becomes the two
synapses ``a -> b`` and ``b -> a`` (a symmetric CSR).
"""
from __future__ import annotations

import numpy as np

from .._errors import BraindynError
from ._checks import check_prob, check_seed, check_size
from .csr import _build

__all__ = ["small_world", "scale_free"]


def _symmetric(a, b, n):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    return _build(np.concatenate([a, b]), np.concatenate([b, a]), n, n)


def small_world(n, k, beta, *, seed):
    r"""Watts–Strogatz small-world graph.

    Start from a ring where each node is linked to its ``k/2`` nearest
    neighbours on each side (:math:`nk/2` undirected edges); then each edge
    :math:`(i, i+d)` is, with probability :math:`\beta`, rewired to
    :math:`(i, t)` with :math:`t` uniform among nodes that are neither
    :math:`i` nor already linked to :math:`i`. The edge count is preserved:
    the CSR always has :math:`nk` synapses. :math:`\beta=0` is the ring,
    :math:`\beta=1` a random graph.

    Args:
        n: number of neurons; k: even mean degree with ``0 <= k < n``;
        beta: rewiring probability in [0, 1]; seed: integer seed.

    Example:
        >>> import braindyn.connect as bc
        >>> bc.small_world(100, 6, 0.1, seed=0).nnz
        600
    """
    n = check_size("n", n)
    k = check_size("k", k)
    beta = check_prob("beta", beta)
    rng = check_seed(seed)
    if k % 2:
        raise BraindynError(f"k={k} is invalid: the ring lattice needs an even degree. "
                         "Fix: pass an even k (k/2 neighbours on each side).")
    if k >= n and n > 0:
        raise BraindynError(f"k={k} is invalid: it must be < n={n}. Fix: lower k.")
    half = k // 2
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % max(n, 1)
    rewire = np.nonzero(rng.random(src.shape[0]) < beta)[0]
    if rewire.size:
        adj = [set() for _ in range(n)]
        for a, b in zip(src.tolist(), dst.tolist()):
            adj[a].add(b)
            adj[b].add(a)
        for e in rewire.tolist():
            a, b = int(src[e]), int(dst[e])
            if len(adj[a]) >= n - 1:
                continue   # a already linked to everyone: nothing to rewire to
            while True:
                t = int(rng.integers(0, n))
                if t != a and t not in adj[a]:
                    break
            adj[a].discard(b)
            adj[b].discard(a)
            adj[a].add(t)
            adj[t].add(a)
            dst[e] = t
    return _symmetric(src, dst, n)


def scale_free(n, m, *, seed):
    r"""Barabási–Albert preferential-attachment graph.

    Nodes :math:`0..m-1` start unconnected; each new node :math:`v = m..n-1`
    links to :math:`m` distinct existing nodes, chosen with probability
    proportional to their current degree (the first new node links to all
    :math:`m` seeds). This gives :math:`m(n-m)` undirected edges, i.e.
    :math:`2m(n-m)` synapses, and a degree distribution
    :math:`P(k) \propto k^{-3}`.

    Example:
        >>> import braindyn.connect as bc
        >>> bc.scale_free(200, 3, seed=0).nnz == 2 * 3 * (200 - 3)
        True
    """
    n = check_size("n", n)
    m = check_size("m", m, minimum=1)
    rng = check_seed(seed)
    if m >= n:
        raise BraindynError(f"m={m} is invalid: each new node needs m distinct earlier nodes, "
                         f"so m must be < n={n}. Fix: lower m or raise n.")
    # `ends` lists every edge endpoint so far: a uniform pick from it is a
    # degree-proportional pick of a node.
    ends = np.empty(2 * m * (n - m), dtype=np.int64)
    n_ends = 0
    src = np.empty(m * (n - m), dtype=np.int64)
    dst = np.empty_like(src)
    targets = np.arange(m)
    for e0, v in enumerate(range(m, n)):
        sl = slice(e0 * m, (e0 + 1) * m)
        src[sl] = v
        dst[sl] = targets
        ends[n_ends:n_ends + m] = targets
        ends[n_ends + m:n_ends + 2 * m] = v
        n_ends += 2 * m
        if v == n - 1:
            break
        chosen = []
        seen = set()
        while len(chosen) < m:
            for t in ends[rng.integers(0, n_ends, size=2 * m)].tolist():
                if t not in seen:
                    seen.add(t)
                    chosen.append(t)
                    if len(chosen) == m:
                        break
        targets = np.array(chosen, dtype=np.int64)
    return _symmetric(src, dst, n)
