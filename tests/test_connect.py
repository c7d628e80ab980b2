"""Connectivity generators: statistics against their definitions, converters, errors."""
import numpy as np
import pytest

import braindyn.connect as bc


def _pairs(c):
    pre, post = c.to_ij()
    return set(zip(pre.tolist(), post.tolist()))


def test_fixed_prob_mean_degree_and_no_self():
    n, p = 2000, 0.03
    c = bc.fixed_prob(n, n, p, allow_self=False, seed=1)
    mean, var = n * (n - 1) * p, n * (n - 1) * p * (1 - p)
    assert abs(c.nnz - mean) < 5 * np.sqrt(var)
    pre, post = c.to_ij()
    assert not np.any(pre == post)
    # rows: binomial(n-1, p) -> variance of the out-degree
    deg = c.out_degree()
    assert abs(deg.var() / ((n - 1) * p * (1 - p)) - 1) < 0.15
    # no duplicate synapses
    assert len(_pairs(c)) == c.nnz


def test_fixed_prob_columns_uniform():
    # every target equally likely: in-degrees ~ binomial(n_pre, p)
    c = bc.fixed_prob(3000, 50, 0.1, seed=2)
    indeg = c.in_degree()
    assert abs(indeg.mean() - 300) < 5 * np.sqrt(300 * 0.9 / 50)
    assert indeg.min() > 300 - 6 * np.sqrt(270)


def test_fixed_prob_dense_regime_and_edges():
    c = bc.fixed_prob(300, 300, 0.5, allow_self=False, seed=0)
    assert abs(c.nnz - 300 * 299 * 0.5) < 5 * np.sqrt(300 * 299 * 0.25)
    assert not np.diag(c.to_dense()).any()
    assert bc.fixed_prob(10, 20, 0.0, seed=0).nnz == 0
    assert bc.fixed_prob(10, 20, 1.0, seed=0).nnz == 200
    assert bc.fixed_prob(10, 10, 1.0, allow_self=False, seed=0).nnz == 90


def test_reproducible_and_seed_dependent():
    a = bc.fixed_prob(500, 400, 0.05, seed=7)
    b = bc.fixed_prob(500, 400, 0.05, seed=7)
    d = bc.fixed_prob(500, 400, 0.05, seed=8)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not np.array_equal(a.to_dense(), d.to_dense())
    s1 = bc.small_world(100, 4, 0.3, seed=3)
    s2 = bc.small_world(100, 4, 0.3, seed=3)
    assert np.array_equal(s1.indices, s2.indices)


@pytest.mark.parametrize("allow_self", [True, False])
def test_fixed_degrees_exact(allow_self):
    out = bc.fixed_out_degree(200, 200, 15, allow_self=allow_self, seed=0)
    assert np.all(out.out_degree() == 15)
    inn = bc.fixed_in_degree(200, 200, 190, allow_self=allow_self, seed=0)
    assert np.all(inn.in_degree() == 190)
    for c in (out, inn):
        assert len(_pairs(c)) == c.nnz
        if not allow_self:
            assert not np.diag(c.to_dense()).any()
    # in-degree of a fixed out-degree graph has the right mean
    assert out.in_degree().mean() == 15


def test_fixed_total_num():
    c = bc.fixed_total_num(50, 60, 1234, seed=0)
    assert c.nnz == 1234 and len(_pairs(c)) == 1234
    full = bc.fixed_total_num(5, 5, 20, allow_self=False, seed=0)
    assert np.array_equal(full.to_dense(), ~np.eye(5, dtype=bool))


def test_all_to_all_one_to_one():
    assert np.array_equal(bc.all_to_all(3, 4).to_dense(), np.ones((3, 4), bool))
    assert np.array_equal(bc.all_to_all(4, 4, allow_self=False).to_dense(),
                          ~np.eye(4, dtype=bool))
    assert np.array_equal(bc.one_to_one(5).to_dense(), np.eye(5, dtype=bool))


def test_grids():
    g4 = bc.grid_four(4, 5)
    assert g4.nnz == 2 * (4 * 4 + 3 * 5)  # horizontal + vertical neighbour pairs, both ways
    assert np.array_equal(g4.to_dense(), g4.to_dense().T)
    assert np.all(bc.grid_four(4, 5, periodic=True).out_degree() == 4)
    g8 = bc.grid_eight(4, 4, periodic=True)
    assert np.all(g8.out_degree() == 8)
    assert np.all(bc.grid_eight(3, 3, allow_self=True).out_degree()[4] == 9)
    # (1,1) -> (0,0) is a diagonal neighbour in grid_eight, not in grid_four
    assert (5 * 1 + 1, 0) in _pairs(bc.grid_eight(4, 5))
    assert (5 * 1 + 1, 0) not in _pairs(g4)


def test_gaussian_prob_distance_profile():
    c = bc.gaussian_prob(30, 30, 2.0, p_max=0.8, periodic=True, seed=0)
    assert not np.diag(c.to_dense()).any()
    pre, post = c.to_ij()
    d = np.abs(np.divmod(pre, 30)[0] - np.divmod(post, 30)[0])
    d = np.minimum(d, 30 - d)
    e = np.abs(pre % 30 - post % 30)
    e = np.minimum(e, 30 - e)
    # neighbours at distance 1: expected fraction p_max*exp(-1/8)
    n1 = np.sum(d + e == 1)
    exp1 = 900 * 4 * 0.8 * np.exp(-1 / 8)
    assert abs(n1 - exp1) < 5 * np.sqrt(exp1)
    assert np.all(d ** 2 + e ** 2 < 15 ** 2)


def test_small_world_keeps_edges():
    ring = bc.small_world(60, 6, 0.0, seed=0)
    assert np.all(ring.out_degree() == 6)
    for beta in (0.2, 1.0):
        c = bc.small_world(200, 8, beta, seed=1)
        assert c.nnz == 200 * 8
        dense = c.to_dense()
        assert np.array_equal(dense, dense.T) and not np.diag(dense).any()
        assert len(_pairs(c)) == c.nnz
    # rewiring changes the ring
    assert not np.array_equal(bc.small_world(60, 6, 0.5, seed=0).to_dense(), ring.to_dense())


def test_scale_free_edge_count_and_hubs():
    n, m = 2000, 3
    c = bc.scale_free(n, m, seed=0)
    assert c.nnz == 2 * m * (n - m)
    dense_deg = c.out_degree()
    assert dense_deg[m:].min() >= m
    assert len(_pairs(c)) == c.nnz
    assert dense_deg.max() > 10 * dense_deg.mean()  # heavy tail: hubs


def test_from_matrix_roundtrip_and_weights():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(30, 40)) * (rng.random((30, 40)) < 0.2)
    c = bc.from_matrix(m)
    np.testing.assert_array_equal(c.to_dense(c.values_from_dense(m)), m)
    np.testing.assert_array_equal(c.to_dense(), m != 0)


def test_from_ij_multapses_and_transpose():
    c, w = bc.from_ij([2, 0, 2, 2], [1, 3, 1, 0], 3, 4, weights=[1.0, 2.0, 3.0, 4.0])
    assert c.nnz == 4
    d = c.to_dense(w)
    assert d[2, 1] == 4.0 and d[0, 3] == 2.0 and d[2, 0] == 4.0
    t, perm = c.transpose()
    np.testing.assert_array_equal(t.to_dense(w[perm]), d.T)
    pre, post = c.to_ij()
    assert np.all(np.diff(pre) >= 0)


def test_procedural_matches_to_csr_and_statistics():
    pc = bc.ProceduralConn(1500, 1500, 0.02, seed=11, allow_self=False, weight=0.5,
                           weight_std=0.1)
    c = pc.to_csr()
    n = 1500 * 1499
    assert abs(c.nnz - n * 0.02) < 5 * np.sqrt(n * 0.02 * 0.98)
    assert not np.diag(c.to_dense()).any()
    assert len(_pairs(c)) == c.nnz
    # each row regenerated independently equals the CSR row
    for j in (0, 17, 1499):
        t, v, _ = pc.row(j)
        np.testing.assert_array_equal(np.asarray(t)[np.asarray(v)],
                                      c.indices[c.indptr[j]:c.indptr[j + 1]])
    w = pc.csr_weights()
    assert abs(w.mean() - 0.5) < 0.01 and abs(w.std() - 0.1) < 0.01
    again = bc.ProceduralConn(1500, 1500, 0.02, seed=11, allow_self=False, weight=0.5,
                              weight_std=0.1)
    assert np.array_equal(again.to_csr().indices, c.indices)
    # columns are uniform too
    indeg = bc.ProceduralConn(3000, 40, 0.1, seed=1).to_csr().in_degree()
    assert np.all(np.abs(indeg - 300) < 6 * np.sqrt(270))


@pytest.mark.parametrize("call, name", [
    (lambda: bc.fixed_prob(10, 10, 1.5, seed=0), "p="),
    (lambda: bc.fixed_prob(10, 10, -0.1, seed=0), "p="),
    (lambda: bc.fixed_prob(-1, 10, 0.1, seed=0), "n_pre="),
    (lambda: bc.fixed_prob(10, 10, 0.1, seed=None), "seed="),
    (lambda: bc.fixed_prob(10, 12, 0.1, allow_self=False, seed=0), "allow_self"),
    (lambda: bc.fixed_out_degree(10, 10, -2, seed=0), "k="),
    (lambda: bc.fixed_out_degree(10, 10, 11, seed=0), "k="),
    (lambda: bc.fixed_in_degree(10, 10, 10, allow_self=False, seed=0), "k="),
    (lambda: bc.fixed_total_num(3, 3, 10, seed=0), "num="),
    (lambda: bc.gaussian_prob(5, 5, -1.0, seed=0), "sigma="),
    (lambda: bc.small_world(10, 3, 0.1, seed=0), "k="),
    (lambda: bc.small_world(10, 4, 2.0, seed=0), "beta="),
    (lambda: bc.scale_free(5, 5, seed=0), "m="),
    (lambda: bc.from_ij([0, 5], [0, 1], 3, 3), "pre"),
    (lambda: bc.from_matrix(np.ones(3)), "mat"),
    (lambda: bc.ProceduralConn(10, 10, 2.0, seed=0), "p="),
    (lambda: bc.ProceduralConn(10, 10, 0.1, seed=-1), "seed="),
    (lambda: bc.CSR([0, 1], [5], 1, 3), "indices"),
])
def test_bad_inputs_raise(call, name):
    with pytest.raises(ValueError, match=name):
        call()
