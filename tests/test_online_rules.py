"""Online learning rules in the learning-rule slot: RLS is recursive ridge (closed form), LMS
converges to the least-squares weights, FORCE learns a periodic target in a chaotic reservoir
and keeps it after learning stops."""
import importlib.util
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import braindyn as bd  # noqa: E402
import braindyn.connect as bc  # noqa: E402
from braindyn import BraindynError  # noqa: E402
from braindyn.plasticity import WeightLayout  # noqa: E402
from braindyn.train import FORCE, LMS, RLS, force_network, ridge  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _stream(n=60, p=5, q=2, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, p))
    F = R @ rng.normal(size=(p, q)) + noise * rng.normal(size=(n, q))
    return R, F


def _apply(rule, R, F, w0=None, layout=None):
    p, q = R.shape[1], F.shape[1]
    layout = WeightLayout.of(np.ones((p, q))) if layout is None else layout
    w0 = jnp.zeros(layout.shape) if w0 is None else w0

    def body(c, xs):
        st, w = rule.update(c[0], c[1], xs[0], None, 0.1, layout, factor=xs[1])
        return (st, w), None

    (st, w), _ = jax.lax.scan(body, (rule.init_state(p, q, jnp.float64), w0), (jnp.asarray(R), jnp.asarray(F)))
    return st, w


def test_rls_is_recursive_ridge():
    R, F = _stream()
    alpha = 0.7
    _, w = _apply(RLS(alpha=alpha), R, F)
    ref = np.asarray(ridge(R, F, alpha, bias=False).W)
    np.testing.assert_allclose(np.asarray(w), ref, rtol=1e-9, atol=1e-10)
    # the same readout stored as an all-to-all CSR (one weight per synapse)
    pre, post = np.repeat(np.arange(5), 2), np.tile(np.arange(2), 5)
    csr = bc.from_ij(pre, post, 5, 2)
    _, wc = _apply(RLS(alpha=alpha), R, F, w0=jnp.zeros(csr.nnz), layout=WeightLayout.of(csr))
    i, j = (np.asarray(a) for a in csr.to_ij())
    np.testing.assert_allclose(np.asarray(wc), ref[i, j], rtol=1e-9, atol=1e-10)


def test_rls_forgetting_is_exponentially_weighted_ridge():
    R, F = _stream(n=40)
    alpha, lam = 2.0, 0.95
    st, w = _apply(RLS(alpha=alpha, lam=lam), R, F)
    n = len(R)
    c = lam ** (n - 1 - np.arange(n))                          # weight of sample k after n samples
    A = (R * c[:, None]).T @ R + lam ** n * alpha * np.eye(R.shape[1])
    np.testing.assert_allclose(np.asarray(w), np.linalg.solve(A, (R * c[:, None]).T @ F), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.asarray(st["P"]), np.linalg.inv(A), rtol=1e-7, atol=1e-10)


def test_rls_every_and_missing_teacher():
    R, F = _stream(n=30)
    # learning every 3rd step == ridge on steps 0, 3, 6, ...
    _, w = _apply(RLS(alpha=1.0, every=3), R, F)
    np.testing.assert_allclose(np.asarray(w), np.asarray(ridge(R[::3], F[::3], 1.0, bias=False).W), rtol=1e-9)
    # a NaN teacher leaves state and weights alone
    Fn = F.copy()
    Fn[10:] = np.nan
    _, w = _apply(RLS(alpha=1.0), R, Fn)
    np.testing.assert_allclose(np.asarray(w), np.asarray(ridge(R[:10], F[:10], 1.0, bias=False).W), rtol=1e-9)
    # the factor may be the error itself: same result as the target form on one step
    lay = WeightLayout.of(np.ones((5, 2)))
    w0 = jnp.asarray(np.random.default_rng(1).normal(size=(5, 2)))
    r, f = jnp.asarray(R[0]), jnp.asarray(F[0])
    rule_t, rule_e = RLS(alpha=1.0), RLS(alpha=1.0, factor_is="error")
    _, w_t = rule_t.update(rule_t.init_state(5, 2, jnp.float64), w0, r, None, 0.1, lay, factor=f)
    _, w_e = rule_e.update(rule_e.init_state(5, 2, jnp.float64), w0, r, None, 0.1, lay, factor=r @ w0 - f)
    np.testing.assert_allclose(np.asarray(w_t), np.asarray(w_e), rtol=1e-12)


def test_lms_converges_to_least_squares_dense_and_csr():
    rng = np.random.default_rng(2)
    p, q, n = 4, 2, 4000
    W_true = rng.normal(size=(p, q))
    R = rng.normal(size=(n, p))
    F = R @ W_true                                               # consistent: LMS reaches W_true
    _, w = _apply(LMS(eta=0.05), R, F)
    np.testing.assert_allclose(np.asarray(w), W_true, atol=1e-8)
    # a sparse readout: each output reads two of the inputs; LMS reaches the least-squares weights
    pre, post = [0, 1, 2, 3], [0, 0, 1, 1]
    lay = WeightLayout.of(bc.from_ij(pre, post, p, q))
    F2 = np.stack([R[:, :2] @ W_true[:2, 0], R[:, 2:] @ W_true[2:, 1]], 1) + 0.1 * rng.normal(size=(n, q))
    _, w2 = _apply(LMS(eta=0.002), R, F2, w0=jnp.zeros(4), layout=lay)
    ls0 = np.linalg.lstsq(R[:, :2], F2[:, 0], rcond=None)[0]
    ls1 = np.linalg.lstsq(R[:, 2:], F2[:, 1], rcond=None)[0]
    np.testing.assert_allclose(np.asarray(w2), np.concatenate([ls0, ls1]), atol=0.01)


def _load_example():
    spec = importlib.util.spec_from_file_location("train_force", ROOT / "examples" / "train_force.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_force_learns_a_sum_of_sines_and_keeps_it(tmp_path):
    # examples/train_force.py --short: 250 rate units (g = 1.5), FORCE for 6 s, then 2 s
    # (8 periods) with the teacher withdrawn; the same network with LMS for comparison
    out = _load_example().main(["--short", "--plot", str(tmp_path / "force.png")])
    assert out["force"]["train_end"] < 0.05
    assert out["force"]["test"] < 0.05                      # kept after learning stopped
    assert out["lms"]["test"] > 4 * out["force"]["test"]     # LMS does not (Sussillo & Abbott)
    assert (tmp_path / "force.png").stat().st_size > 0


def test_online_rules_bad_inputs():
    with pytest.raises(BraindynError, match="teacher"):
        LMS().update({}, jnp.zeros((2, 1)), jnp.ones(2), None, 0.1, WeightLayout.of(np.ones((2, 1))))
    with pytest.raises(BraindynError, match="every"):
        FORCE(every=0)
    with pytest.raises(BraindynError, match="factor_is"):
        LMS(factor_is="reward")
    with pytest.raises(BraindynError):
        RLS(alpha=-1.0)
    with pytest.raises(BraindynError, match="signal"):
        bd.run(force_network(10), 1.0, dt=0.5, inputs={})
