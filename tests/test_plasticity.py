"""Plasticity: Tsodyks-Markram STP (closed-form steady states), STDP windows, triplet STDP, Hebb/Oja/BCM."""
import math

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import braindyn.connect as bc  # noqa: E402
from braindyn import BraindynError  # noqa: E402
from braindyn.plasticity import (BCM, STDP, Hebb, InhibitorySTDP, Oja, TripletSTDP,  # noqa: E402
                                 TsodyksMarkram, TsodyksMarkramRate, WeightLayout)

F64 = jnp.float64


# ------------------------------------------------------------------------------------------ STP
def train_efficacies(stp, interval_ms, n_spikes, dt=0.1):
    every = int(round(interval_ms / dt))
    n_steps = every * (n_spikes - 1) + 1
    spikes = (np.arange(n_steps) % every == 0).astype(float)

    def body(st, s):
        st, eff = stp(st, s[None], dt)
        return st, eff[0]

    _, eff = jax.lax.scan(body, stp.init_state(1, F64), jnp.asarray(spikes))
    return np.asarray(eff)[spikes > 0]


@pytest.mark.parametrize("tau_f, tau_d, ratio", [(10.0, 500.0, 0.6909), (500.0, 10.0, 2.7518)])
def test_stp_fifth_epsc_and_steady_state(tau_f, tau_d, ratio):
    stp = TsodyksMarkram(U=0.15, tau_f=tau_f, tau_d=tau_d)
    A = train_efficacies(stp, 100.0, 150)
    assert A[0] == pytest.approx(0.15)
    assert A[4] / A[0] == pytest.approx(ratio, abs=1e-4)
    # steady state against the closed form of refcases
    D, U = 100.0, 0.15
    u_m = U * math.exp(-D / tau_f) / (1 - (1 - U) * math.exp(-D / tau_f))
    u_p = u_m + U * (1 - u_m)
    x_m = (1 - math.exp(-D / tau_d)) / (1 - (1 - u_p) * math.exp(-D / tau_d))
    assert A[-1] == pytest.approx(u_p * x_m, rel=1e-9)
    assert float(stp.steady_state(D)[2]) == pytest.approx(u_p * x_m, rel=1e-12)


def test_stp_pure_depression():
    stp = TsodyksMarkram(U=0.4, tau_f=0.0, tau_d=200.0)
    A = train_efficacies(stp, 25.0, 80)
    e = math.exp(-25.0 / 200.0)
    assert A[-1] == pytest.approx(0.4 * (1 - e) / (1 - 0.6 * e), rel=1e-9)


def test_stp_rate_model_fixed_point():
    m = TsodyksMarkramRate(U=0.2, tau_f=300.0, tau_d=150.0)

    def body(st, _):
        st, out = m.step(st, jnp.array([15.0]), 0.5)
        return st, out[0]

    st, out = jax.lax.scan(body, m.init_state(1, F64), None, length=20000)
    u, x, rate = map(float, m.steady_state(15.0))
    assert float(st["u"][0]) == pytest.approx(u, rel=1e-6)
    assert float(st["x"][0]) == pytest.approx(x, rel=1e-6)
    assert float(out[-1]) == pytest.approx(rate, rel=1e-6)


# ----------------------------------------------------------------------------------------- STDP
REF = STDP(tau_pre=16.8, tau_post=33.7, A_plus=0.96, A_minus=0.53, w_min=-100.0, w_max=100.0)


def pair_dw(rule, spikes_pre, spikes_post, n_steps, layout_kind="dense", w0=0.0):
    """Run a rule on one synapse with spikes at the given step indices; returns the final weight."""
    if layout_kind == "dense":
        lay, w = WeightLayout.of(np.ones((1, 1))), jnp.full((1, 1), w0, F64)
    else:
        lay, w = WeightLayout.of(bc.from_ij([0], [0], 1, 1)), jnp.full((1,), w0, F64)
    pre = np.zeros(n_steps)
    post = np.zeros(n_steps)
    pre[list(spikes_pre)] = 1
    post[list(spikes_post)] = 1

    def body(c, sp):
        st, w = c
        st, w = rule.update(st, w, sp[0][None], sp[1][None], 0.1, lay)
        return (st, w), None

    (st, w), _ = jax.lax.scan(body, (rule.init_state(1, 1, F64), w), jnp.asarray(np.stack([pre, post], 1)))
    return float(np.asarray(w).ravel()[0]) - w0


@pytest.mark.parametrize("delta_t, expected", [(5.0, 0.7129), (15.0, 0.3931), (-3.0, -0.4849), (-15.0, -0.3396)])
def test_stdp_refcase_values(delta_t, expected):
    k = int(round(abs(delta_t) / 0.1))
    pre, post = ([10], [10 + k]) if delta_t > 0 else ([10 + k], [10])
    assert pair_dw(REF, pre, post, 10 + k + 2) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_stdp_window_is_exponential(layout):
    for dt_ms in (-40.0, -20.0, -7.5, -1.0, 0.5, 2.0, 10.0, 25.0, 60.0):
        k = int(round(abs(dt_ms) / 0.1))
        pre, post = ([5], [5 + k]) if dt_ms > 0 else ([5 + k], [5])
        dw = pair_dw(REF, pre, post, 5 + k + 2, layout)
        ref = 0.96 * math.exp(-dt_ms / 16.8) if dt_ms > 0 else -0.53 * math.exp(dt_ms / 33.7)
        assert dw == pytest.approx(ref, rel=1e-9)


def test_stdp_all_to_all_versus_nearest():
    pre, post = [10, 30, 50], [100]
    kw = dict(tau_pre=20.0, tau_post=20.0, A_plus=1.0, A_minus=1.0, w_min=-100.0, w_max=100.0)
    all_ = pair_dw(STDP(pairing="all", **kw), pre, post, 102)
    near = pair_dw(STDP(pairing="nearest", **kw), pre, post, 102)
    assert all_ == pytest.approx(sum(math.exp(-(100 - p) * 0.1 / 20) for p in pre), rel=1e-9)
    assert near == pytest.approx(math.exp(-50 * 0.1 / 20), rel=1e-9)


def test_stdp_multiplicative_soft_bounds():
    kw = dict(tau_pre=20.0, tau_post=20.0, A_plus=0.5, A_minus=0.5, w_min=0.0, w_max=2.0,
              weight_dependence="multiplicative")
    dw = pair_dw(STDP(**kw), [10], [60], 62, w0=0.5)
    assert dw == pytest.approx(0.5 * math.exp(-5 / 20) * (2.0 - 0.5), rel=1e-9)
    dw = pair_dw(STDP(**kw), [60], [10], 62, w0=0.5)
    assert dw == pytest.approx(-0.5 * math.exp(-5 / 20) * 0.5, rel=1e-9)
    # additive clipping
    assert pair_dw(STDP(tau_pre=20.0, A_plus=5.0, w_max=1.0), [10], [11], 13, w0=0.5) == pytest.approx(0.5)


def test_triplet_stdp_pair_and_triplet_terms():
    rule = TripletSTDP(A2_plus=0.1, A3_plus=0.2, A2_minus=0.3, A3_minus=0.4, w_min=-10, w_max=10)
    # pre then post (no earlier post): only the pair term A2+ e^{-dt/tau+}
    assert pair_dw(rule, [10], [60], 62) == pytest.approx(0.1 * math.exp(-5 / 16.8), rel=1e-9)
    # post, pre, post: the second post gets the triplet term with o2 from the first post
    pre, post = [50], [10, 100]
    o1_at_pre = math.exp(-4 / 33.7)
    ltd = -0.3 * o1_at_pre  # r2 = 0 before the first pre
    ltp = math.exp(-5 / 16.8) * (0.1 + 0.2 * math.exp(-9 / 125.0))
    assert pair_dw(rule, pre, post, 102) == pytest.approx(ltd + ltp, rel=1e-9)


def test_stdp_dense_and_csr_layouts_agree_on_random_spikes():
    rng = np.random.default_rng(1)
    m = (rng.random((6, 5)) < 0.5).astype(float)
    csr = bc.from_matrix(m)
    rule = STDP(A_plus=0.05, A_minus=0.05, w_min=0.0, w_max=1.0)
    pre = (rng.random((300, 6)) < 0.05).astype(float)
    post = (rng.random((300, 5)) < 0.05).astype(float)
    outs = []
    for lay, w in ((WeightLayout.of(m), jnp.asarray(m * 0.5)), (WeightLayout.of(csr), jnp.full(csr.nnz, 0.5))):
        def body(c, ab, lay=lay):
            return rule.update(c[0], c[1], ab[0], ab[1], 0.1, lay), None

        (st, w), _ = jax.lax.scan(body, (rule.init_state(6, 5, F64), w), (jnp.asarray(pre), jnp.asarray(post)))
        outs.append(np.asarray(w))
    np.testing.assert_allclose(csr.values_from_dense(outs[0]), outs[1], rtol=1e-12)
    assert np.all(outs[0][m == 0] == 0)


# ---------------------------------------------------------------------------------- rate rules
def test_hebb_linear_growth():
    lay = WeightLayout.of(np.ones((2, 3)))
    rule = Hebb(eta=0.01)
    x, y = jnp.array([1.0, 2.0]), jnp.array([0.5, 1.0, 0.0])
    w = jnp.zeros((2, 3))
    st = rule.init_state(2, 3, F64)
    (st, w), _ = jax.lax.scan(lambda c, _: (rule.update(c[0], c[1], x, y, 0.5, lay), None), (st, w), None, length=100)
    np.testing.assert_allclose(w, 0.01 * 50.0 * np.outer(x, y), rtol=1e-12)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_oja_finds_principal_component(kind):
    rng = np.random.default_rng(0)
    C = np.array([[3.0, 1.0], [1.0, 1.0]])
    xs = rng.multivariate_normal([0, 0], C, size=6000)
    conn = np.ones((2, 1)) if kind == "dense" else bc.from_ij([0, 1], [0, 0], 2, 1)
    lay = WeightLayout.of(conn)
    w = jnp.array([[0.2], [-0.4]]) if kind == "dense" else jnp.array([0.2, -0.4])
    rule = Oja(eta=0.005)

    def body(c, x):
        st, w = c
        y = lay.apply(w, x)
        return rule.update(st, w, x, y, 1.0, lay), None

    (st, w), _ = jax.lax.scan(body, ({}, w), jnp.asarray(xs))
    v = np.linalg.eigh(C)[1][:, -1]
    w = np.asarray(w).ravel()
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.03)
    assert abs(abs(w @ v) - 1.0) < 0.01


def test_bcm_threshold_tracks_activity_and_weight_settles():
    lay = WeightLayout.of(np.ones((1, 1)))
    rule = BCM(eta=0.01, tau_theta=20.0, theta0=0.0)
    w, x = jnp.array([[0.3]]), jnp.array([1.0])

    def body(c, _):
        st, w = c
        y = lay.apply(w, x)
        return rule.update(st, w, x, y, 0.1, lay), None

    (st, w), _ = jax.lax.scan(body, (rule.init_state(1, 1, F64), w), None, length=200000)
    # fixed point: y = theta = y^2  ->  y = 1
    assert float(w[0, 0]) == pytest.approx(1.0, abs=1e-3)
    assert float(st["theta"][0]) == pytest.approx(1.0, abs=1e-3)


def test_bad_plasticity_parameters():
    with pytest.raises(BraindynError, match="U"):
        TsodyksMarkram(U=1.5)
    with pytest.raises(BraindynError, match="tau_d"):
        TsodyksMarkram(tau_d=0.0)
    with pytest.raises(BraindynError, match="pairing"):
        STDP(pairing="closest")
    with pytest.raises(BraindynError, match="tau_pre"):
        STDP(tau_pre=-1.0)
    with pytest.raises(BraindynError, match="tau_theta"):
        BCM(tau_theta=0.0)
    with pytest.raises(BraindynError, match="procedural"):
        WeightLayout.of(bc.ProceduralConn(3, 3, 0.5, seed=0))
    with pytest.raises(BraindynError, match="threshold"):
        BCM(threshold="mean")
    with pytest.raises(BraindynError, match="form"):
        InhibitorySTDP(form="trace")
    with pytest.raises(BraindynError, match="rho0"):
        InhibitorySTDP(rho0=-1.0)
    with pytest.raises(BraindynError, match="finite bounds"):
        STDP(weight_dependence="multiplicative", w_max=float("inf"))
    with pytest.raises(BraindynError, match="A_plus"):
        STDP(A_plus="0.1")


@pytest.mark.parametrize("make", [
    lambda: STDP(w_min=5, w_max=1),
    lambda: STDP(weight_dependence="multiplicative", w_min=5, w_max=1),
    lambda: TripletSTDP(w_min=5, w_max=1),
    lambda: Hebb(w_min=5, w_max=1),
    lambda: BCM(w_min=5, w_max=1),
    lambda: InhibitorySTDP(w_min=5, w_max=1),
    lambda: InhibitorySTDP(form="rate", w_min=5, w_max=1),
])
def test_inverted_weight_bounds_raise(make):
    with pytest.raises(BraindynError, match="w_min <= w_max"):
        make()


def test_stp_tau_f_zero_is_pure_depression_in_the_rate_model():
    m = TsodyksMarkramRate(U=0.3, tau_f=0.0, tau_d=100.0)
    st, out = m.step(m.init_state(1, F64), jnp.array([20.0]), 0.5)
    assert float(st["u"][0]) == 0.0 and np.isfinite(float(out[0]))
    u, x, rate = map(float, m.steady_state(20.0))
    assert u == 0.0 and x == pytest.approx(1.0 / (1.0 + 0.3 * 0.02 * 100.0))


def test_bcm_running_mean_threshold_is_the_mean_of_past_squares():
    lay = WeightLayout.of(np.ones((1, 2)))
    rule = BCM(eta=0.01, threshold="running_mean", theta0=0.7)
    ys = np.random.default_rng(0).uniform(0, 2, size=(50, 2))
    st, w = rule.init_state(1, 2, F64), jnp.full((1, 2), 0.5, F64)
    w_ref = np.full(2, 0.5)
    theta_ref = np.full(2, 0.7)
    for k, y in enumerate(ys):
        st, w = rule.update(st, w, jnp.array([1.0]), jnp.asarray(y), 0.1, lay)
        w_ref = np.clip(w_ref + 0.1 * 0.01 * y * (y - theta_ref), 0.0, np.inf)
        theta_ref = np.mean(ys[:k + 1] ** 2, axis=0)
        np.testing.assert_allclose(st["theta"], theta_ref, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(w)[0], w_ref, rtol=1e-12)


def test_inhibitory_stdp_pair_rule_and_drift():
    """Spike form: a pre spike depresses by eta (x_post - alpha), a post spike potentiates by eta x_pre;
    for Poisson trains the mean drift is eta nu_pre 2 tau (nu_post - rho0)."""
    rule = InhibitorySTDP(eta=0.01, rho0=0.01, tau=20.0, w_min=-1e9)
    alpha = 2 * 0.01 * 20.0
    # pre at 1 ms, post at 6 ms: -eta alpha then + eta e^{-5/20}
    assert pair_dw(rule, [10], [60], 62) == pytest.approx(0.01 * (-alpha + math.exp(-5 / 20)), rel=1e-9)
    # post at 1 ms, pre at 6 ms: + 0 (no earlier pre) then eta (e^{-5/20} - alpha)
    assert pair_dw(rule, [60], [10], 62) == pytest.approx(0.01 * (math.exp(-5 / 20) - alpha), rel=1e-9)
    # mean drift of independent Poisson trains (nu in 1/ms), many synapses in parallel
    rng = np.random.default_rng(3)
    n, steps, dt = 400, 20000, 0.1
    for nu_post in (0.005, 0.02):
        lay = WeightLayout.of(bc.from_ij(np.arange(n), np.arange(n), n, n))
        pre = jnp.asarray(rng.random((steps, n)) < 0.01 * dt, F64)
        post = jnp.asarray(rng.random((steps, n)) < nu_post * dt, F64)

        def body(c, ab):
            return rule.update(c[0], c[1], ab[0], ab[1], dt, lay), None

        (st, w), _ = jax.lax.scan(body, (rule.init_state(n, n, F64), jnp.zeros(n, F64)), (pre, post))
        drift = float(np.mean(w)) / (steps * dt)
        expected = 0.01 * 0.01 * 2 * 20.0 * (nu_post - 0.01)
        assert drift == pytest.approx(expected, rel=0.15, abs=3e-7), (nu_post, drift, expected)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_inhibitory_rate_form(kind):
    conn = np.ones((2, 3)) if kind == "dense" else bc.from_matrix(np.ones((2, 3)))
    lay = WeightLayout.of(conn)
    rule = InhibitorySTDP(eta=0.1, rho0=2.0, form="rate")
    x, y = jnp.array([1.0, 3.0]), jnp.array([1.0, 2.0, 4.0])
    w0 = jnp.ones((2, 3)) if kind == "dense" else jnp.ones(6)
    st, w = rule.update(rule.init_state(2, 3, F64), w0, x, y, 0.5, lay)
    ref = np.clip(1.0 + 0.5 * 0.1 * (np.outer(x, y) - 2.0 * np.asarray(x)[:, None]), 0.0, np.inf)
    np.testing.assert_allclose(np.asarray(w).reshape(2, 3), ref, rtol=1e-12)
