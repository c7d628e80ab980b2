"""Event propagation: FFI kernel == pure JAX == dense reference; jit/scan/vmap/grad."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn.connect as bc
from braindyn.ops import event_matvec, ffi_available

METHODS = ["jax", "segment", "auto"] + (["ffi"] if ffi_available() else [])
FT = jnp.result_type(float)   # float32, or float64 under jax_enable_x64
TOL = dict(rtol=1e-5, atol=1e-4) if FT == jnp.float32 else dict(rtol=1e-10, atol=1e-10)

rng = np.random.default_rng(0)
CONN = bc.fixed_prob(120, 90, 0.15, seed=3)
W = rng.normal(size=CONN.nnz).astype(FT)
DENSE_W = CONN.to_dense(W)
DENSE_1 = CONN.to_dense(np.ones(CONN.nnz, FT))

SPIKES = {
    "random": rng.random(120) < 0.2,
    "zero": np.zeros(120, bool),
    "all": np.ones(120, bool),
}


def test_ffi_kernel_builds_on_this_machine():
    # the CPU kernel is the default on CPU: make a broken build visible
    assert ffi_available()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", list(SPIKES))
@pytest.mark.parametrize("as_float", [False, True])
def test_csr_matches_dense(method, kind, as_float):
    s = SPIKES[kind]
    sv = s.astype(FT) * (1.5 if as_float else 1.0) if as_float else s
    ref_w = np.asarray(sv, np.float64) @ DENSE_W
    ref_1 = np.asarray(sv, np.float64) @ DENSE_1
    np.testing.assert_allclose(event_matvec(CONN, sv, W, method=method), ref_w, **TOL)
    np.testing.assert_allclose(event_matvec(CONN, sv, 0.7, method=method), 0.7 * ref_1, **TOL)
    np.testing.assert_allclose(event_matvec(jnp.asarray(DENSE_W), sv), ref_w, **TOL)


@pytest.mark.parametrize("method", METHODS)
def test_float_spike_values_and_dtype(method):
    s = (rng.random(120) * (rng.random(120) < 0.3)).astype(FT)
    out = event_matvec(CONN, s, W, method=method)
    assert out.dtype == FT and out.shape == (90,)
    np.testing.assert_allclose(out, s @ DENSE_W, **TOL)
    out32 = event_matvec(CONN, s.astype(np.float32), W.astype(np.float32), method=method)
    assert out32.dtype == jnp.float32


@pytest.mark.parametrize("method", [m for m in METHODS if m != "auto"])
def test_inside_jit_scan_and_vmap(method):
    bank = jnp.asarray(rng.random((25, 120)) < 0.1)

    @jax.jit
    def run(w):
        def step(acc, s):
            y = event_matvec(CONN, s, w, method=method)
            return acc + y, y
        return jax.lax.scan(step, jnp.zeros(90, FT), bank)

    acc, ys = run(jnp.asarray(W))
    ref = np.asarray(bank, FT) @ DENSE_W
    np.testing.assert_allclose(ys, ref, **TOL)
    np.testing.assert_allclose(acc, ref.sum(0), rtol=1e-4, atol=1e-3)
    vm = jax.vmap(lambda s: event_matvec(CONN, s, W, method=method))(bank)
    np.testing.assert_allclose(vm, ref, **TOL)
    # batched weights too
    ws = jnp.stack([jnp.asarray(W), 2 * jnp.asarray(W)])
    vw = jax.vmap(lambda w: event_matvec(CONN, bank[0], w, method=method))(ws)
    np.testing.assert_allclose(vw[1], 2 * ref[0], **TOL)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "auto"])
def test_gradients(method):
    s = jnp.asarray((rng.random(120) < 0.3).astype(FT))
    c = jnp.asarray(rng.normal(size=90).astype(FT))
    gw, gs = jax.grad(lambda w, s: event_matvec(CONN, s, w, method=method) @ c,
                      argnums=(0, 1))(jnp.asarray(W), s)
    pre, post = CONN.to_ij()
    np.testing.assert_allclose(gw, np.asarray(s)[pre] * np.asarray(c)[post], **TOL)
    np.testing.assert_allclose(gs, DENSE_W @ np.asarray(c), **TOL)
    g0 = jax.grad(lambda a: event_matvec(CONN, s > 0, a, method=method) @ c)(jnp.asarray(0.5, FT))
    np.testing.assert_allclose(g0, np.asarray(s) @ DENSE_1 @ np.asarray(c), **TOL)
    # forward mode agrees
    _, jv = jax.jvp(lambda w: event_matvec(CONN, s, w, method=method), (jnp.asarray(W),),
                    (jnp.asarray(W),))
    np.testing.assert_allclose(jv, np.asarray(s) @ DENSE_W, **TOL)


# A CSR built with validate=False may hold column indices outside [0, n_post): the extremes of
# int32 made the C++ kernel write far outside its output (a segfault). Every method now treats
# them as the pure-JAX event path does: a negative index counts from the end once, the rest of
# the out-of-range ones are dropped.
BAD_INDICES = np.array([0, 7, -1, 2**31 - 1, 1, -2**31, 2, -3, 3, -4], np.int32)
BAD_CSR = bc.CSR(np.array([0, 4, 4, 7, 10]), BAD_INDICES, 4, 3, validate=False)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "jax"])
def test_out_of_range_column_indices_are_never_written(method):
    w = jnp.asarray(np.arange(1, 11), FT)
    spike_sets = [np.ones(4, bool), np.array([1, 0, 1, 1], bool),
                  np.array([0.5, 0.0, 2.0, -1.0], FT)]
    # by hand: -1 -> 2, -3 -> 0; 7, 2**31-1, -2**31, 3 and -4 (= -1 - n_post) dropped
    kept = {0: 0, 2: 2, 4: 1, 6: 2, 7: 0}
    for s in spike_sets:
        row = np.repeat(np.arange(4), [4, 0, 3, 3])
        ref_w, ref_1 = np.zeros(3), np.zeros(3)
        for k, t in kept.items():
            ref_w[t] += float(s[row[k]]) * float(w[k])
            ref_1[t] += float(s[row[k]])
        for weight, ref in ((w, ref_w), (0.5, 0.5 * ref_1)):
            got = event_matvec(BAD_CSR, s, weight, method=method)
            np.testing.assert_allclose(got, ref, **TOL)
            np.testing.assert_allclose(got, event_matvec(BAD_CSR, s, weight, method="jax"), **TOL)
    bank = jnp.asarray(rng.random((6, 4)) < 0.5)
    vm = jax.vmap(lambda s: event_matvec(BAD_CSR, s, w, method=method))(bank)
    ref = jax.vmap(lambda s: event_matvec(BAD_CSR, s, w, method="jax"))(bank)
    np.testing.assert_allclose(vm, ref, **TOL)


@pytest.mark.skipif("ffi" not in METHODS, reason="C++ kernel unavailable")
def test_ffi_clamps_row_bounds_to_the_synapses():
    # indptr past nnz (validate=False): the kernel reads only the synapses that exist
    bad = bc.CSR(np.array([0, 2, 40]), np.array([0, 1, 1, 2], np.int32), 2, 3, validate=False)
    good = bc.CSR(np.array([0, 2, 4]), np.array([0, 1, 1, 2], np.int32), 2, 3)
    w = jnp.asarray([1.0, 2.0, 3.0, 4.0], FT)
    np.testing.assert_allclose(event_matvec(bad, np.ones(2, bool), w, method="ffi"),
                               event_matvec(good, np.ones(2, bool), w, method="ffi"), **TOL)


def test_procedural_equals_its_csr():
    pc = bc.ProceduralConn(150, 110, 0.1, seed=4, weight=0.3, weight_std=0.05)
    csr, w = pc.to_csr(), pc.csr_weights()
    for kind in ("random", "zero", "all"):
        s = np.resize(SPIKES[kind], 150)
        np.testing.assert_allclose(event_matvec(pc, s), event_matvec(csr, s, w, method="jax"),
                                   **TOL)
    s = jnp.asarray(rng.random(150).astype(FT))
    np.testing.assert_allclose(event_matvec(pc, s), s @ csr.to_dense(w), **TOL)
    g = jax.grad(lambda s: event_matvec(pc, s).sum())(s)
    np.testing.assert_allclose(g, csr.to_dense(w).sum(1), **TOL)
    gp = jax.grad(lambda pc: event_matvec(pc, s > 0.5).sum())(pc)
    np.testing.assert_allclose(gp.weight, (np.asarray(s) > 0.5) @ csr.to_dense(1.0).sum(1),
                               **TOL)


@pytest.mark.skipif(not ffi_available(), reason="no C++ kernel")
@pytest.mark.parametrize("dtype", [jnp.bool_, FT])
def test_ffi_skips_silent_blocks_of_eight_exactly(dtype):
    """The kernel tests 8 spike entries at a time: lone spikes at block edges, a tail shorter
    than 8, and -0.0 (silent) must give the dense product exactly."""
    c = bc.fixed_prob(13, 9, 0.6, seed=5)
    dense = c.to_dense(np.ones(c.nnz, FT))
    for on in ([7], [8], [12], [0, 15 - 3], [], list(range(13))):
        s = np.zeros(13, FT)
        s[on] = 1.0
        if dtype != jnp.bool_:
            s[s == 0] = -0.0
        x = jnp.asarray(s > 0) if dtype == jnp.bool_ else jnp.asarray(s, FT)
        np.testing.assert_array_equal(event_matvec(c, x, 1.0, method="ffi"), (s > 0).astype(FT) @ dense)


PROC_CASES = [(300, 500, 0.05, True), (400, 400, 0.02, False), (2000, 3000, 0.004, True), (60, 60, 0.9, False),
              (20, 30, 1.0, True)]


@pytest.mark.skipif(not ffi_available(), reason="no C++ kernel")
@pytest.mark.parametrize("npre, npost, p, allow_self", PROC_CASES)
def test_procedural_cpp_kernel_adds_to_exactly_the_same_synapses(npre, npost, p, allow_self):
    """The C++ procedural kernel regenerates the rows bit for bit: equal to the pure-JAX path and
    to the product with the conn's own CSR (to_csr), for bool and float spikes, under jit,
    vmap and grad (weight)."""
    pc = bc.ProceduralConn(npre, npost, p, seed=int(rng.integers(2 ** 32)), weight=0.37, allow_self=allow_self)
    dense = pc.to_csr().to_dense(np.ones(pc.to_csr().nnz, FT))
    bank = rng.random((4, npre)) < 0.1
    for s in (jnp.asarray(bank[0]), jnp.asarray(bank[1] * rng.random(npre), FT)):
        a = event_matvec(pc, s, method="ffi")
        if s.dtype == jnp.bool_:   # sums of one value: the same synapses give the same bits
            np.testing.assert_array_equal(a, event_matvec(pc, s, method="jax"))
        else:                      # the order of the additions is the kernels' own
            np.testing.assert_allclose(a, event_matvec(pc, s, method="jax"), rtol=1e-6 if FT == jnp.float32 else 1e-13)
        np.testing.assert_allclose(a, 0.37 * (np.asarray(s, FT) @ dense), **TOL)
    vm = jax.jit(jax.vmap(lambda s: event_matvec(pc, s, method="ffi")))(jnp.asarray(bank))   # bool spikes
    np.testing.assert_array_equal(vm, jax.vmap(lambda s: event_matvec(pc, s, method="jax"))(jnp.asarray(bank)))
    g = jax.grad(lambda pc: event_matvec(pc, jnp.asarray(bank[2]), method="ffi").sum())(pc)
    np.testing.assert_allclose(g.weight, bank[2] @ dense.sum(1), **TOL)


def test_procedural_gap_count_is_exact():
    """_skips returns F = #{g >= 1: T[g] > h} for every h, also for tiny u where a 24-bit guess
    was off by hundreds (checked against a NumPy search of the table)."""
    from braindyn.connect.procedural import _skips, _threshold_table
    for p in (8e-5, 0.004, 0.3):
        tab = _threshold_table(p, 10 ** 6)
        h = np.concatenate([rng.integers(0, 2 ** 32, 20000, dtype=np.uint64),
                            rng.integers(0, 2 ** 12, 2000, dtype=np.uint64), [0, 1, 2 ** 32 - 1]]).astype(np.uint32)
        ref = np.searchsorted(-tab[1:].astype(np.int64), -h.astype(np.int64), side="left")
        np.testing.assert_array_equal(np.asarray(_skips(jnp.asarray(h), jnp.asarray(tab), p)), ref)


@pytest.mark.parametrize("call, name", [
    (lambda: event_matvec(CONN, np.zeros(7, bool)), "spikes"),
    (lambda: event_matvec(CONN, SPIKES["random"], np.ones(3)), "weight"),
    (lambda: event_matvec(CONN, SPIKES["random"], method="cuda"), "method"),
    (lambda: event_matvec(CONN, SPIKES["random"], chunk=0), "chunk"),
    (lambda: event_matvec(np.ones(4), np.ones(4, bool)), "conn"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
