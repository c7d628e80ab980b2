"""braindyn.train core: rollout (checkpointed / truncated BPTT), train_step/fit with optax,
losses, RTRL (= BPTT), e-prop (exact without recurrence, cosine with BPTT otherwise) and
fixed-point training (implicit gradient = BPTT through a long run to convergence)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import braindyn as bd
from braindyn.synapses import Instant, SynapticProjection
from braindyn.train import eprop as ep

DT = 0.5


def rate_net(n=5, seed=1, gain=0.8):
    W = jax.random.normal(jax.random.PRNGKey(seed), (n, n)) * gain / np.sqrt(n)
    return bd.Network({"R": bd.neurons.RateUnit(n=n, f="tanh", tau=5.0)},
                      {"RR": SynapticProjection("R", "R", W, 1.0, Instant(), signal="r")})


FROZEN = ("gain", "theta", "r_max", "weight", "scale")


# ------------------------------------------------------------------ rollout
@pytest.fixture(scope="module")
def lif_case():
    lif = bd.neurons.LIF(n=3, tau=jnp.array([8.0, 10.0, 12.0]))
    return lif, lif.init_state()


@pytest.mark.parametrize("ck,tr", [(17, None), (None, 100), (20, 100)])
def test_rollout_has_the_values_of_simulate(lif_case, ck, tr):
    lif, s0 = lif_case
    f1, r1, _ = bd.simulate(lif, s0, 503, 0.2, inputs=22.0, record=["V", "spike"], key=3, t0=2.0, step0=7)
    f2, r2 = bd.train.rollout(lif, s0, 503, 0.2, inputs=22.0, record=["V", "spike"], key=3, t0=2.0, step0=7,
                              checkpoint_every=ck, truncate_every=tr)
    assert r2["V"].shape == (503, 3)
    np.testing.assert_allclose(np.asarray(r2["V"]), np.asarray(r1["V"]), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(r2["spike"]), np.asarray(r1["spike"]))
    assert float(r1["spike"].sum()) > 5
    np.testing.assert_allclose(np.asarray(f2["V"]), np.asarray(f1["V"]), atol=1e-12)


def _tau_loss(n_steps, **kw):
    def loss(tau):
        m = bd.neurons.LIF(n=2, tau=tau, V_th=1e3, V_rest=0.0)
        _, rec = bd.train.rollout(m, m.init_state(), n_steps, 0.1, inputs=jnp.array([5.0, 3.0]), record="V", **kw)
        return jnp.sum(rec["V"] ** 2) / n_steps
    return loss


def test_checkpointed_gradient_equals_plain_gradient():
    tau = jnp.array([7.0, 13.0])
    g_plain = jax.grad(_tau_loss(300))(tau)
    g_ck2 = jax.grad(_tau_loss(300, checkpoint_every=35))(tau)   # with a tail segment
    np.testing.assert_allclose(np.asarray(g_ck2), np.asarray(g_plain), rtol=1e-12)


def test_truncated_gradient_matches_windows_with_stopped_state():
    """Reference: windows run one by one with simulate, the state detached between them."""
    tau = jnp.array([7.0, 13.0])
    T, n = 50, 200

    def ref(tau):
        m = bd.neurons.LIF(n=2, tau=tau, V_th=1e3, V_rest=0.0)
        s, total = m.init_state(), 0.0
        for w in range(n // T):
            s = jax.tree.map(jax.lax.stop_gradient, s)
            s, rec, _ = bd.simulate(m, s, T, 0.1, inputs=jnp.array([5.0, 3.0]), record="V", step0=w * T)
            total = total + jnp.sum(rec["V"] ** 2)
        return total / n

    g_ref = jax.grad(ref)(tau)
    g_trck = jax.grad(_tau_loss(n, truncate_every=T, checkpoint_every=25))(tau)
    g_full = jax.grad(_tau_loss(n))(tau)
    np.testing.assert_allclose(np.asarray(g_trck), np.asarray(g_ref), rtol=1e-12)
    assert np.all(np.abs(np.asarray(g_full - g_trck)) > 1e-3 * np.abs(np.asarray(g_full)))  # truncation matters


@pytest.mark.parametrize("kw,match", [({"checkpoint_every": 0}, "checkpoint_every"),
                                      ({"truncate_every": 2.5}, "truncate_every"),
                                      ({"checkpoint_every": 20, "truncate_every": 30}, "multiple"),
                                      ({"record_every": 3}, "record_every")])
def test_rollout_bad_arguments(lif_case, kw, match):
    lif, s0 = lif_case
    with pytest.raises(bd.BraindynError, match=match):
        bd.train.rollout(lif, s0, 100, 0.1, inputs=22.0, **kw)


# ------------------------------------------------------------------ train_step / fit / losses
def test_train_step_clips_to_the_global_norm():
    loss = lambda p, x: jnp.sum(p["a"] * x) + 2.0 * p["b"]  # noqa: E731  gradient (x, 2)
    x = jnp.array([3.0, 4.0])
    step = jax.jit(bd.train.train_step(loss, optax.sgd(1.0), clip_norm=1.0))
    p = {"a": jnp.zeros(2), "b": jnp.array(0.0)}
    p1, _, L = step(p, optax.sgd(1.0).init(p), x)
    g = np.array([3.0, 4.0, 2.0])
    expect = -g / np.linalg.norm(g)
    np.testing.assert_allclose(np.r_[np.asarray(p1["a"]), float(p1["b"])], expect, rtol=1e-12)
    step_nc = bd.train.train_step(loss, optax.sgd(1.0))
    p2, _, _ = step_nc(p, optax.sgd(1.0).init(p), x)
    np.testing.assert_allclose(np.asarray(p2["a"]), -g[:2], rtol=1e-12)
    with pytest.raises(bd.BraindynError, match="clip_norm"):
        bd.train.train_step(loss, optax.sgd(1.0), clip_norm=-1.0)
    with pytest.raises(bd.BraindynError, match="optax"):
        bd.train.train_step(loss, "adam")


def test_fit_recovers_membrane_time_constants_from_a_batch_of_trials():
    """Mini-batch by vmap over trials: the subthreshold traces of LIF neurons with tau = 15 ms
    (three input amplitudes) identify tau; fit starts from 8 ms and frozen everything else."""
    true = bd.neurons.LIF(n=2, tau=jnp.array([15.0, 6.0]), V_th=1e3, V_rest=0.0, V_reset=0.0)
    amps = jnp.array([[2.0, 1.0], [4.0, 3.0], [6.0, 2.0]])

    def traces(model, I):
        _, rec = bd.train.rollout(model, model.init_state(), 200, 0.2, inputs=I, record="V", checkpoint_every=50)
        return rec["V"]

    target = jax.vmap(lambda I: traces(true, I))(amps)
    model0 = bd.neurons.LIF(n=2, tau=jnp.array([8.0, 8.0]), V_th=1e3, V_rest=0.0, V_reset=0.0)
    params, static = bd.trainable(model0, freeze=("V_rest", "V_reset", "V_th", "R", "t_ref"))

    def loss(p, I, y):
        m = bd.params.combine(p, static)
        return bd.train.mse(jax.vmap(lambda i: traces(m, i))(I), y)

    seen = []
    p, hist = bd.train.fit(loss, params, optax.adam(0.5), [(amps, target)], epochs=150, clip_norm=50.0,
                           callback=lambda e, p, h: seen.append(e) or (h["loss"][-1] < 1e-10))
    np.testing.assert_allclose(np.asarray(p.tau), [15.0, 6.0], rtol=1e-3)
    assert hist["loss"][-1] < 1e-3 * hist["loss"][0]
    assert len(hist["epoch_loss"]) == len(seen)


def test_losses_closed_forms():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4))
    lab = np.array([0, 3, 1, 1, 2, 0])
    ref = -np.mean(z[np.arange(6), lab] - np.log(np.exp(z).sum(1)))
    assert float(bd.train.cross_entropy(jnp.asarray(z), jnp.asarray(lab))) == pytest.approx(ref, rel=1e-12)
    onehot = np.eye(4)[lab]
    assert float(bd.train.cross_entropy(jnp.asarray(z), jnp.asarray(onehot))) == pytest.approx(ref, rel=1e-12)
    assert float(bd.train.accuracy(jnp.asarray(z), jnp.asarray(lab))) == pytest.approx(np.mean(z.argmax(1) == lab))
    m = np.array([1, 0, 1, 1, 0, 0.0])
    assert float(bd.train.mse(jnp.asarray(z[:, 0]), 1.0, mask=jnp.asarray(m))) == pytest.approx(
        np.sum((z[:, 0] - 1) ** 2 * m) / 3, rel=1e-12)
    spikes = np.zeros((2000, 3))
    spikes[::40, 0] = 1.0   # 50 spikes in 200 ms: 250 Hz
    spikes[::200, 1] = 1.0  # 50 Hz
    expect = np.mean((np.array([250.0, 50.0, 0.0]) - 20.0) ** 2)
    assert float(bd.train.rate_loss(jnp.asarray(spikes), 20.0, 0.1)) == pytest.approx(expect, rel=1e-12)
    with pytest.raises(bd.BraindynError, match="labels"):
        bd.train.cross_entropy(jnp.asarray(z), jnp.asarray(lab[:3]))


# ------------------------------------------------------------------ RTRL
def test_rtrl_equals_bptt_on_a_rate_network():
    net = rate_net()
    params, static = bd.trainable(net, freeze=FROZEN)
    T = 20
    xs = {"t": jnp.arange(T) * DT, "I": jnp.sin(jnp.arange(T)[:, None] * 0.3 + jnp.arange(5))}
    ys = jnp.cos(jnp.arange(T) * 0.2)

    def step(p, s, x):
        return bd.params.combine(p, static).step(s, {"R": x["I"]}, x["t"], DT)[0]

    def loss(p, s, y):
        return (s["pop"]["R"]["r"][0] - y) ** 2

    s0 = net.init_state()
    L, g, _ = jax.jit(lambda p: bd.train.rtrl(step, loss, p, s0, xs, ys))(params)

    def bptt(p):
        m = bd.params.combine(p, static)
        inp = {"R": lambda t: jnp.sin(jnp.round(t / DT) * 0.3 + jnp.arange(5))}
        _, rec = bd.train.rollout(m, s0, T, DT, inputs=inp, record="pop.R.r")
        return jnp.sum((rec["pop.R.r"][:, 0] - ys) ** 2)

    Lb, gb = jax.value_and_grad(bptt)(params)
    assert float(L) == pytest.approx(float(Lb), rel=1e-12)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(gb)):
        assert a.shape == b.shape
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5 * float(jnp.max(jnp.abs(b))))
    assert len(jax.tree.leaves(g)) == 2  # tau and the recurrent matrix


# ------------------------------------------------------------------ e-prop
N, NIN, NOUT, TE = 20, 5, 2, 150


NEURONS = {
    "LIF": lambda: bd.neurons.LIF(n=N, V_rest=0.0, V_reset=0.0, V_th=1.0, tau=20.0, t_ref=2.0,
                                  spike_fn=bd.surrogate.PiecewiseLinear(0.5)),
    # adaptive: a spike-triggered current I2 (A2 < 0, 200 ms) lowers the excitability (LSNN-like)
    "GIF": lambda: bd.neurons.GIF(n=N, V_rest=0.0, V_reset=0.0, theta_inf=1.0, theta_reset=1.0, R=1.0, tau=20.0,
                                  a=0.0, b=0.01, k1=0.2, k2=1 / 200.0, R1=0.0, R2=1.0, A1=0.0, A2=-0.3, t_ref=0.0,
                                  spike_fn=bd.surrogate.FastSigmoid(0.5)),
}


@pytest.fixture(scope="module")
def eprop_problem():
    xs = (jax.random.uniform(jax.random.PRNGKey(0), (TE, NIN)) < 0.1).astype(jnp.float64)
    ts = jnp.arange(TE)
    targets = jnp.stack([jnp.sin(2 * jnp.pi * ts / 100), jnp.cos(2 * jnp.pi * ts / 70)], 1)
    mse = lambda y, t: 0.5 * jnp.sum((y - t) ** 2)  # noqa: E731
    cache = {}

    def get(name):
        if name not in cache:
            neur = NEURONS[name]()

            @jax.jit
            def both(W):
                E, g = ep.eprop_grad(neur, W, xs, targets, 1.0, mse)
                Eb, gb = jax.value_and_grad(lambda W: ep.rsnn_loss(neur, W, xs, targets, 1.0, mse)[0])(W)
                return E, g, Eb, gb
            cache[name] = both
        return cache[name]

    return get


def _cos(a, b):
    return float(jnp.vdot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))


@pytest.mark.parametrize("neuron", ["LIF", "GIF"])
def test_eprop_is_exact_without_recurrent_weights(eprop_problem, neuron):
    W = ep.init_rsnn_weights(1, NIN, N, NOUT, scale_in=8.0, scale_rec=0.0)
    E, g, Eb, gb = eprop_problem(neuron)(W)
    assert float(E) == pytest.approx(float(Eb), rel=1e-12)
    for k in g:
        np.testing.assert_allclose(np.asarray(g[k]), np.asarray(gb[k]), rtol=1e-9,
                                   atol=1e-9 * float(jnp.max(jnp.abs(gb[k]))))
    assert float(jnp.max(jnp.abs(gb["W_rec"]))) > 0  # the recurrent weights do get a gradient


def test_eprop_gradient_points_like_bptt_with_recurrence(eprop_problem):
    W = ep.init_rsnn_weights(1, NIN, N, NOUT, scale_in=8.0, scale_rec=1.0)
    E, g, Eb, gb = eprop_problem("LIF")(W)
    assert float(E) == pytest.approx(float(Eb), rel=1e-12)
    # measured 0.991 (W_in), 0.991 (W_rec); the read-out gradients are exact
    assert _cos(g["W_in"], gb["W_in"]) > 0.9 and _cos(g["W_rec"], gb["W_rec"]) > 0.9
    assert _cos(g["W_in"], gb["W_in"]) < 1 - 1e-6   # an approximation, not the gradient
    np.testing.assert_allclose(np.asarray(g["W_out"]), np.asarray(gb["W_out"]), rtol=1e-9)


# ------------------------------------------------------------------ fixed points
@pytest.fixture(scope="module")
def fp_case():
    net = rate_net(n=6, seed=3, gain=0.9)
    params, static = bd.trainable(net, freeze=FROZEN)
    I = jnp.linspace(-0.5, 0.8, 6)
    target = jnp.linspace(0.3, -0.2, 6)
    return net, params, static, I, target


def test_implicit_gradient_equals_bptt_through_a_long_run(fp_case):
    net, params, static, I, target = fp_case
    s0 = net.init_state()

    def loss_fp(p, adjoint="solve", solver="iterate"):
        m = bd.params.combine(p, static)
        s = bd.train.equilibrium(m, s0, {"R": I}, DT, adjoint=adjoint, solver=solver)
        return jnp.sum((s["pop"]["R"]["r"] - target) ** 2)

    def loss_run(p):
        m = bd.params.combine(p, static)
        f, _ = bd.train.rollout(m, s0, 1500, DT, inputs={"R": I}, record=lambda s: {}, checkpoint_every=100)
        return jnp.sum((f["pop"]["R"]["r"] - target) ** 2)

    L, g = jax.jit(jax.value_and_grad(loss_fp))(params)
    Lr, gr = jax.jit(jax.value_and_grad(loss_run))(params)
    assert float(L) == pytest.approx(float(Lr), rel=1e-10)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(gr)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-9)
    g2 = jax.jit(jax.grad(lambda p: loss_fp(p, "gmres", "newton")))(params)
    for a, b in zip(jax.tree.leaves(g2), jax.tree.leaves(g)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-10)


def test_training_at_the_equilibrium_reduces_the_loss_of_the_resting_network(fp_case):
    net, params, static, I, target = fp_case
    s0 = net.init_state()

    def loss(p):
        s = bd.train.equilibrium(bd.params.combine(p, static), s0, {"R": I}, DT, adjoint="iterate")
        return jnp.sum((s["pop"]["R"]["r"] - target) ** 2)

    p, hist = bd.train.fit(loss, params, optax.adam(0.2), [()], epochs=40)
    assert hist["loss"][-1] < 0.15 * hist["loss"][0]   # measured 2.94 -> 0.26
    # the trained network really rests where the loss was taken: run it
    m = bd.params.combine(p, static)
    f, _, _ = bd.simulate(m, s0, 3000, DT, inputs={"R": I}, record=lambda s: {})
    assert float(jnp.sum((f["pop"]["R"]["r"] - target) ** 2)) == pytest.approx(float(loss(p)), rel=1e-6)


# ------------------------------------------------------------------ examples
def _example(name):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_examples_run_in_their_short_mode():
    out = _example("train_bptt").main(["--short"])
    for k in ("checkpointed", "truncated"):
        assert out[k]["final_loss"] < 0.1 * out[k]["first_loss"]
    assert out["lif_rates"]["final_loss"] < 0.5 * out["lif_rates"]["first_loss"]
    out = _example("train_online").main(["--short"])
    assert out["rtrl_rel_diff"] < 1e-5
    assert out["eprop_cosine"][0.0]["W_in"][1] > 1 - 1e-9
    assert out["eprop_cosine"][1.0]["W_rec"][1] > 0.9
    assert out["eprop_training"]["final_loss"] < out["eprop_training"]["first_loss"]
