"""Cognitive tasks, the course's rate RNN and the trainable spiking networks (issue 10, items 6-7)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn.models.rnn import RateRNN, run_trials
from braindyn.models.snn import AdaptiveRSNN, LIFClassifier
from braindyn.train import tasks


# ---------------------------------------------------------------- task generators
def test_decision_stimulus_statistics():
    dt, sigma = 20.0, 1.0
    b = tasks.perceptual_decision(4000, dt=dt, sigma=sigma, coherences=[0.128], seed=1)
    a, e = b.info["epochs"]["stimulus"]
    diff = b.inputs[:, a:e, 1] - b.inputs[:, a:e, 2]
    side = np.where(b.label == 1, 1.0, -1.0)
    # mean evidence c * side, per-step noise of the difference sqrt(2) sigma / sqrt(dt)
    np.testing.assert_allclose((diff * side[:, None]).mean(), 0.128, atol=4 * np.sqrt(2 / dt) / np.sqrt(diff.size))
    resid = diff - 0.128 * side[:, None]
    assert abs(resid.std() / (np.sqrt(2.0) * sigma / np.sqrt(dt)) - 1) < 0.01
    assert abs(np.mean(b.label == 1) - 0.5) < 0.03
    # fixation cue on until the response epoch; targets: 0 before, the label during it
    r0 = b.info["epochs"]["response"][0]
    assert np.all(b.inputs[:, :r0, 0] == 1) and np.all(b.inputs[:, r0:, 0] == 0)
    assert np.all(b.target[:, :r0] == 0) and np.all(b.target[:, r0:] == b.label[:, None])
    assert np.all(b.mask[b.response] == 5.0) and np.all(b.mask[~b.response] == 1.0)
    # seeded
    b2 = tasks.perceptual_decision(4000, dt=dt, sigma=sigma, coherences=[0.128], seed=1)
    assert np.array_equal(b.inputs, b2.inputs)


def test_context_label_follows_cued_modality_only():
    b = tasks.context_decision(4000, sigma=0.0, seed=0)
    ctx = b.info["context"]
    assert np.all(b.inputs[np.arange(4000), 0, 1 + ctx] == 1) and np.all(b.inputs[np.arange(4000), 0, 2 - ctx] == 0)
    rel = np.where(ctx == 0, b.info["c_motion"], b.info["c_color"])
    irr = np.where(ctx == 0, b.info["c_color"], b.info["c_motion"])
    assert np.all((rel > 0) == (b.label == 1))
    # the irrelevant modality carries no information about the answer
    assert abs(np.corrcoef(np.sign(irr), b.label == 1)[0, 1]) < 0.05
    a = b.info["epochs"]["stimulus"][0]
    np.testing.assert_allclose(b.inputs[:, a, 3] - b.inputs[:, a, 4], b.info["c_motion"], atol=1e-12)


def test_dms_structure():
    b = tasks.delayed_match_to_sample(2000, sigma=0.0, seed=4)
    ep = b.info["epochs"]
    assert np.all(b.inputs[:, slice(*ep["delay"]), 1:] == 0)
    s = b.inputs[:, ep["sample"][0], 1:].argmax(1)
    t = b.inputs[:, ep["test"][0], 1:].argmax(1)
    assert np.array_equal(s, b.info["sample"]) and np.array_equal(t, b.info["test"])
    assert np.all((s == t) == (b.label == 1))
    assert abs(np.mean(b.label == 1) - 0.5) < 0.04
    r = tasks.delayed_match_to_sample(50, sigma=0.0, seed=4, test_in_response=True)
    a, e = r.info["epochs"]["response"]
    assert np.array_equal(r.inputs[:, a:e, 1:], r.inputs[:, a - 1: a, 1:].repeat(e - a, 1))
    assert np.all(r.inputs[:, a:, 0] == 0)


def test_task_errors():
    with pytest.raises(bd.BraindynError, match="coherences"):
        tasks.perceptual_decision(4, coherences=[12.8])
    with pytest.raises(bd.BraindynError, match="n_trials"):
        tasks.context_decision(0)
    with pytest.raises(bd.BraindynError, match="sigma"):
        tasks.delayed_match_to_sample(3, sigma=-1.0)


def test_choices_and_accuracy():
    b = tasks.perceptual_decision(6, sigma=0.0, seed=0)
    z = np.zeros(b.target.shape + (3,))
    z[np.arange(6), :, b.label] = 1.0           # always the right answer
    assert tasks.task_accuracy(z, b) == 1.0
    z2 = z[..., [0, 2, 1]]
    assert tasks.task_accuracy(z2, b) == 0.0


# ---------------------------------------------------------------- rate RNN
@pytest.fixture(scope="module")
def rnn():
    return RateRNN.init(jax.random.PRNGKey(3), n=6, n_in=2, n_out=3, sigma_rec=0.0)


def test_rnn_matches_numpy_loop(rnn):
    u = np.random.default_rng(0).normal(size=(2, 7, 2))
    x, z = run_trials(rnn, u, 20.0)
    W, Wi, b = (np.asarray(a) for a in (rnn.W_rec, rnn.W_in, rnn.b))
    al = 20.0 / 100.0
    for i in range(2):
        xi = np.zeros(6)
        for k in range(7):
            xi = (1 - al) * xi + al * (W @ np.tanh(xi) + Wi @ u[i, k] + b)
            np.testing.assert_allclose(x[i, k], xi, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z, np.tanh(x) @ np.asarray(rnn.W_out).T + np.asarray(rnn.b_out), atol=1e-12)
    # the step is Euler on the declared vector field
    s, _ = rnn.step({"x": jnp.asarray(x[0, 3])}, {"u": jnp.asarray(u[0, 4])}, 0.0, 20.0)
    F = rnn.vector_field(0.0, {"x": jnp.asarray(x[0, 3])}, {"u": jnp.asarray(u[0, 4])})["x"]
    np.testing.assert_allclose(s["x"], x[0, 3] + 20.0 * F, atol=1e-12)


def test_rnn_noise_stationary_variance():
    # W = 0: x_{k+1} = (1 - a) x_k + sqrt(2a) sigma xi  ->  Var = 2 sigma^2 / (2 - a)
    z = jnp.zeros
    m = RateRNN(n=200, n_in=1, n_out=1, W_rec=z((200, 200)), W_in=z((200, 1)), b=z(200), W_out=z((1, 200)),
                b_out=z(1), sigma_rec=0.3, tau=100.0)
    x, _ = run_trials(m, np.zeros((20, 300, 1)), 20.0, key=jax.random.PRNGKey(0))
    v = float(np.var(np.asarray(x)[:, 100:]))
    assert abs(v / (2 * 0.09 / (2 - 0.2)) - 1) < 0.03


def test_rnn_fixed_point_analysis():
    # W_rec = 0: the single fixed point is x* = W_in u + b, stable with eigenvalues -1/tau
    z = jnp.zeros
    m = RateRNN(n=3, n_in=2, n_out=1, W_rec=z((3, 3)), W_in=jnp.arange(6.0).reshape(3, 2) / 10, b=jnp.ones(3),
                W_out=z((1, 3)), b_out=z(1))
    u = np.array([1.0, -0.5])
    sp = bd.analysis.find_slow_points(m.as_vector_field(u), np.random.default_rng(0).normal(size=(5, 3)),
                                      n_iter=300)
    assert len(sp.points) == 1 and sp.is_fixed[0]
    np.testing.assert_allclose(sp.points[0], np.asarray(m.W_in) @ u + 1.0, atol=1e-8)
    np.testing.assert_allclose(sp.eigenvalues[0].real, -0.01, atol=1e-10)


def test_rnn_bad_input():
    with pytest.raises(bd.BraindynError, match="W_rec"):
        RateRNN(n=3, n_in=1, n_out=1, W_rec=jnp.zeros((2, 2)), W_in=jnp.zeros((3, 1)), b=jnp.zeros(3),
                W_out=jnp.zeros((1, 3)), b_out=jnp.zeros(1))
    with pytest.raises(bd.BraindynError, match="tau"):
        RateRNN.init(0, 3, 1, 1, tau=-1.0)
    with pytest.raises(bd.BraindynError, match="n_in"):
        run_trials(RateRNN.init(0, 3, 2, 1), np.zeros((1, 4, 3)), 20.0)


def test_rnn_learns_easy_decision():
    """BPTT with braindyn.train.train_step on high-coherence trials: held-out accuracy >= 90 %."""
    import optax

    m = RateRNN.init(jax.random.PRNGKey(0), n=16, n_in=3, n_out=3, sigma_rec=0.0)
    params, static = bd.params.trainable(m, freeze=("tau", "sigma_rec"))
    kw = dict(coherences=[0.256, 0.512], sigma=0.5, t_stimulus=200.0, t_response=100.0)

    def loss(p, u, y, w):
        _, zz = run_trials(bd.params.combine(p, static), u, 20.0)
        return bd.train.cross_entropy(zz, y, w)

    opt = optax.adam(0.03)
    step = jax.jit(bd.train.train_step(loss, opt))
    st = opt.init(params)
    rng = np.random.default_rng(0)
    for _ in range(60):
        b = tasks.perceptual_decision(32, seed=rng, **kw)
        params, st, _ = step(params, st, b.inputs, b.target, b.mask)
    test = tasks.perceptual_decision(300, seed=99, **kw)
    _, zz = run_trials(bd.params.combine(params, static), test.inputs, 20.0)
    assert tasks.task_accuracy(zz, test) >= 0.9


# ---------------------------------------------------------------- spiking networks
def test_lif_classifier_step_is_exact_lif():
    net = LIFClassifier.init(1, n_in=5, n_hidden=4, n_out=3, tau=10.0, tau_out=10.0)
    s_in = jnp.array([1.0, 0.0, 1.0, 1.0, 0.0])
    st = net.init_state()
    st["h"]["V"] = jnp.array([0.2, 0.5, 0.9, -0.1])
    new, _ = net.step(st, s_in, 0.0, 1.0)
    I = np.asarray(net.W1) @ np.asarray(s_in)
    V = I + (np.array([0.2, 0.5, 0.9, -0.1]) - I) * np.exp(-0.1)          # exact for I held over the step
    spk = (V > 1.0).astype(float)
    np.testing.assert_allclose(new["h"]["spike"], spk)
    np.testing.assert_allclose(new["h"]["V"], np.where(spk > 0, 0.0, V), atol=1e-12)
    Io = np.asarray(net.W2) @ spk
    np.testing.assert_allclose(new["o"]["V"], Io * (1 - np.exp(-0.1)), atol=1e-12)


def test_adaptive_rsnn_adaptation_current():
    net = AdaptiveRSNN.init(0, n_in=1, n=4, n_out=2, beta=0.3, tau_a=500.0, frac_adaptive=0.5)
    st = net.init_state()
    st["neurons"]["V"] = jnp.full(4, 5.0)        # every neuron spikes in the next step
    new, out = net.step(st, jnp.zeros(1), 0.0, 1.0)
    assert np.all(np.asarray(out["spike"]) == 1)
    # adaptive neurons: I2 jumps by A2 = -beta; the others keep I2 = 0; the read-out trace counts the spike
    np.testing.assert_allclose(new["neurons"]["I2"], [-0.3, -0.3, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(new["y"], 1.0)
    # between spikes I2 decays with k2 = 1/tau_a
    s2, _ = net.step({**new, "neurons": {**new["neurons"], "V": jnp.zeros(4)}}, jnp.zeros(1), 1.0, 1.0)
    np.testing.assert_allclose(s2["neurons"]["I2"][:2], -0.3 * np.exp(-1.0 / 500.0), rtol=1e-9)


def test_snn_fits_time_varying_rate():
    """Surrogate gradients through both LIF layers fit a time-varying target rate."""
    from braindyn.train.spiking import fit_rate_pattern

    t = np.arange(200.0)[:, None]
    target = 40.0 + 30.0 * np.sin(2 * np.pi * t / 100.0 + np.array([[0.0, np.pi]]))   # two outputs in antiphase
    out = fit_rate_pattern(target, n_in=30, n_hidden=32, iterations=150, seed=0)
    assert out["loss_final"] < 0.2 * out["loss_initial"]
    assert out["correlation"] > 0.7
