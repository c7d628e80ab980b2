"""Gallery entries of trained networks (the courses' training days, issue 10).

Rate RNNs (:class:`braindyn.models.rnn.RateRNN`, tanh units, tau 100 ms, dt 20 ms so
alpha = 0.2, recurrent noise sigma_rec 0.05, input noise sigma 1 sqrt(ms), NeuroGym's default)
trained with BPTT (Adam, :func:`braindyn.train.train_step`, cross-entropy on every step with the
response epoch weighted 5) on the tasks of :mod:`braindyn.train.tasks`; a fresh batch of trials
every iteration (seed ``seed``), the held-out trials from another seed (``seed + 1000``), run
with the same noise.

* ``rnn-decision``: perceptual decision making; ``rnn-context``: context-dependent integration
  (Mante et al. 2013); ``rnn-working-memory``: delayed match-to-sample.
  ``--json``: ``accuracy`` (held-out; for the two decision tasks over the trials with
  coherence >= 12.8 %), ``accuracy_by_coherence``, ``loss`` (final training loss, mean of the
  last 10 iterations), ``n_fixed_points`` and ``n_slow_points`` of the trained network at the
  input of the integration (or delay) epoch, found with
  :func:`braindyn.analysis.find_slow_points` from states the held-out trials visit
  (Sussillo & Barak 2013); ``train_s``. ``--plot``: held-out trajectories in the plane of
  their first two principal components, with the slow points (filled: fixed).
* ``snn-working-memory``: the delayed match-to-sample task (dt 2 ms, sample 200 ms, delay
  ``delay`` = 500 ms, test 200 ms, response 100 ms, input noise sigma 1) with an adaptive spiking
  network (:class:`braindyn.models.snn.AdaptiveRSNN`: GIF units, half of them with a slow
  spike-triggered adaptation current, tau_a 1 s; Bellec et al. 2018's LSNN idea) trained with
  surrogate gradients (BPTT, gradient through the reset and the adaptation jump); the loss is the
  cross-entropy of the response epoch only. ``accuracy`` (held-out), ``loss``, ``rate_hz``,
  ``train_s``.
* ``snn-digits``: the three-layer LIF network (:class:`braindyn.models.snn.LIFClassifier`) on
  scikit-learn's 8x8 digits, Poisson-encoded: ``test_accuracy``, ``epochs``, ``train_s``.

Every entry has ``quick`` (tests: a small network and a few iterations, seconds; the figures
are then not meant to meet the accuracy targets).
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from . import Entry, Report

_TASKS = {"rnn-decision": "perceptual_decision", "rnn-context": "context_decision",
          "rnn-working-memory": "delayed_match_to_sample"}


def _task_batch(name, n, p, seed, quick):
    from ..train import tasks

    fn = getattr(tasks, _TASKS[name])
    kw = dict(dt=p["dt"], sigma=p["sigma"], seed=seed)
    if name == "rnn-working-memory":
        kw["t_delay"] = p["delay"]
    if quick:
        kw.update(t_stimulus=200.0) if name != "rnn-working-memory" else kw.update(t_delay=200.0, t_sample=200.0,
                                                                                  t_test=200.0, t_fixation=100.0)
    return fn(n, **kw)


def _analysis_input(name):
    """The constant input of the epoch whose dynamics is analysed."""
    if name == "rnn-decision":
        return np.array([1.0, 0.5, 0.5])            # stimulus epoch at zero coherence
    if name == "rnn-context":
        return np.array([1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5])  # motion context, zero coherences
    return np.array([1.0, 0.0, 0.0])                 # delay epoch


def _epoch_steps(name, batch):
    """Steps of the analysed epoch (the delay, or the second half of the stimulus)."""
    if name == "rnn-working-memory":
        return np.arange(*batch.info["epochs"]["delay"])
    a, b = batch.info["epochs"]["stimulus"]
    return np.arange((a + b) // 2, b)


def _train_rnn(name, p):
    import optax

    from ..models.rnn import RateRNN, run_trials
    from ..params import combine, trainable
    from ..train import cross_entropy, train_step
    from ..train.tasks import task_accuracy

    quick = bool(p["quick"])
    n, iters, batch = (12, 5, 8) if quick else (int(p["n"]), int(p["iterations"]), int(p["batch"]))
    dtype = jnp.float32
    rnn = RateRNN.init(jax.random.PRNGKey(int(p["seed"])), n=n, n_in=_analysis_input(name).size, n_out=3,
                       g=p["g"], tau=p["tau"], sigma_rec=p["sigma_rec"])
    rnn = jax.tree.map(lambda a: a.astype(dtype) if isinstance(a, jax.Array) else a, rnn)
    params, static = trainable(rnn, freeze=("tau", "sigma_rec"))
    dt = float(p["dt"])

    def loss_fn(pr, u, target, mask, key):
        m = combine(pr, static)
        x, z = run_trials(m, u, dt, key=key)
        rates = m.rate(x)
        return cross_entropy(z, target, mask) + p["rate_l2"] * jnp.mean(rates ** 2)

    opt = optax.adam(float(p["lr"]))
    step = jax.jit(train_step(loss_fn, opt, clip_norm=1.0))
    opt_state = opt.init(params)
    key = jax.random.PRNGKey(int(p["seed"]) + 1)
    rng = np.random.default_rng(int(p["seed"]))
    losses = []
    t0 = time.perf_counter()
    for it in range(iters):
        b = _task_batch(name, batch, p, rng, quick)
        params, opt_state, loss = step(params, opt_state, jnp.asarray(b.inputs, dtype), jnp.asarray(b.target),
                                       jnp.asarray(b.mask, dtype), jax.random.fold_in(key, it))
        losses.append(float(loss))
    train_s = time.perf_counter() - t0
    model = combine(params, static)
    test = _task_batch(name, 32 if quick else int(p["test_trials"]), p, int(p["seed"]) + 1000, quick)
    x, z = jax.jit(lambda m, u, k: run_trials(m, u, dt, key=k))(model, jnp.asarray(test.inputs, dtype),
                                                                  jax.random.PRNGKey(int(p["seed"]) + 2))
    x, z = np.asarray(x), np.asarray(z)
    figs = {}
    if name == "rnn-working-memory":
        figs["accuracy"] = round(task_accuracy(z, test), 4)
        figs["accuracy_by_coherence"] = None
    else:
        from ..train.tasks import choices

        ok = choices(z, test) == test.label
        coh = np.round(test.info["coherence"], 4)
        figs["accuracy"] = round(float(ok[coh >= 0.128 - 1e-9].mean()), 4)
        figs["accuracy_by_coherence"] = {f"{100 * c:g}": round(float(ok[coh == c].mean()), 4) for c in np.unique(coh)}
    figs["loss"] = round(float(np.mean(losses[-10:])), 5)
    figs["iterations"] = iters
    figs["train_s"] = round(train_s, 2)
    # slow and fixed points at the input of the analysed epoch, from visited states
    from ..analysis import find_slow_points

    steps = _epoch_steps(name, test)
    visited = x[:, steps].reshape(-1, n)
    rs = np.random.default_rng(0)
    starts = visited[rs.choice(len(visited), 8 if quick else int(p["fp_starts"]), replace=False)]
    starts = starts + 0.01 * rs.standard_normal(starts.shape)
    u_fp = _analysis_input(name)
    sp = find_slow_points(model.as_vector_field(u_fp), starts, n_iter=50 if quick else 3000, lr=0.01,
                          slow_tol=float(p["slow_tol"]), dedup_tol=0.05)
    figs["n_fixed_points"] = int(sp.is_fixed.sum())
    figs["n_slow_points"] = int(len(sp.points))
    figs["stable_fixed_points"] = int(sum(1 for s, f in zip(sp.stability, sp.is_fixed) if f and "stable" in s
                                          and "unstable" not in s))
    data = {"x": x, "label": test.label, "points": sp.points, "is_fixed": sp.is_fixed, "losses": losses,
            "info": test.info}
    return Report(figs, data)


def _plot_rnn(report, params):
    import matplotlib.pyplot as plt

    d = report.data
    X = d["x"].reshape(-1, d["x"].shape[-1])
    mu = X.mean(0)
    _, _, Vt = np.linalg.svd(X - mu, full_matrices=False)
    pc = Vt[:2].T
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for i in range(min(40, len(d["x"]))):
        y = (d["x"][i] - mu) @ pc
        ax.plot(y[:, 0], y[:, 1], color="C0" if d["label"][i] == 1 else "C3", lw=0.6, alpha=0.6)
    if len(d["points"]):
        P = (d["points"] - mu) @ pc
        f = d["is_fixed"]
        ax.plot(P[f, 0], P[f, 1], "ko", ms=5, label="fixed points")
        ax.plot(P[~f, 0], P[~f, 1], "o", mfc="none", mec="k", ms=5, label="slow points")
        ax.legend(fontsize=8)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"held-out trials (blue: choice 1, red: choice 2); accuracy {report.figures['accuracy']}",
                 fontsize=9)
    ax2.semilogy(d["losses"])
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("training loss")
    return fig


def _rnn_entry(name, summary, **extra):
    defaults = dict(n=64, iterations=600, batch=64, lr=0.01, g=0.9, tau=100.0, dt=20.0, sigma=1.0,
                    sigma_rec=0.05, rate_l2=1e-4, test_trials=1000, fp_starts=128, slow_tol=1e-6, seed=0,
                    quick=False)
    defaults.update(extra)
    return Entry(name=name, summary=summary, defaults=defaults, compute=lambda p: _train_rnn(name, p),
                 plot=_plot_rnn)


def _snn_wm(p):
    import optax

    from ..models.snn import AdaptiveRSNN, run_batch
    from ..params import combine, trainable
    from ..train import cross_entropy, train_step
    from ..train.tasks import delayed_match_to_sample, task_accuracy

    quick = bool(p["quick"])
    n, iters, batch = (10, 3, 4) if quick else (int(p["n"]), int(p["iterations"]), int(p["batch"]))
    dt = float(p["dt"])
    times = dict(t_fixation=50.0, t_sample=100.0, t_delay=100.0, t_test=100.0, t_response=50.0) if quick else \
        dict(t_fixation=100.0, t_sample=200.0, t_delay=float(p["delay"]), t_test=200.0, t_response=100.0)
    times["test_in_response"] = bool(p["test_in_response"])
    dtype = jnp.float32
    net = AdaptiveRSNN.init(jax.random.PRNGKey(int(p["seed"])), 3, n, 3, tau_a=p["tau_a"], beta=p["beta"],
                            frac_adaptive=p["frac_adaptive"], scale_in=p["scale_in"], scale_rec=p["scale_rec"],
                            tau_out=p["tau_out"], detach_reset=False)
    net = jax.tree.map(lambda a: a.astype(dtype) if isinstance(a, jax.Array) and a.dtype.kind == "f" else a, net)
    params, static = trainable(net, freeze=("neurons", "tau_out"))

    def outputs(pr, u):
        m = combine(pr, static)
        rec = run_batch(m, u, dt, lambda s: {"y": s["y"], "spike": s["neurons"]["spike"]})
        return rec["y"] @ m.W_out.T + m.b_out, rec["spike"]

    def loss_fn(pr, u, target, mask):
        z, spk = outputs(pr, u)
        rate = spk.mean() * 1000.0 / dt
        return cross_entropy(z, target, mask) + p["rate_reg"] * (rate - p["target_rate"]) ** 2

    # the read-out learns faster (lr_out) than the spiking weights (lr), which the surrogate gradient trains
    labels = jax.tree_util.tree_map_with_path(
        lambda path, _: "out" if any(getattr(k, "name", None) in ("W_out", "b_out") for k in path) else "net", params)
    opt = optax.multi_transform({"net": optax.adam(float(p["lr"])), "out": optax.adam(float(p["lr_out"]))}, labels)
    step = jax.jit(train_step(loss_fn, opt, clip_norm=1.0))
    opt_state = opt.init(params)
    rng = np.random.default_rng(int(p["seed"]))
    losses = []
    t0 = time.perf_counter()
    for _ in range(iters):
        b = delayed_match_to_sample(batch, dt=dt, sigma=p["sigma"], seed=rng, **times)
        # the loss scores the response epoch only (a linear read-out of filtered spikes cannot also
        # hold "fixate" through the test epoch, whose activity the response epoch inherits)
        params, opt_state, loss = step(params, opt_state, jnp.asarray(b.inputs, dtype), jnp.asarray(b.target),
                                       jnp.asarray(b.response, dtype))
        losses.append(float(loss))
        if not np.isfinite(losses[-1]):
            break
    train_s = time.perf_counter() - t0
    test = delayed_match_to_sample(8 if quick else int(p["test_trials"]), dt=dt, sigma=p["sigma"],
                                   seed=int(p["seed"]) + 1000, **times)
    z, spk = jax.jit(outputs)(params, jnp.asarray(test.inputs, dtype))
    figs = {"accuracy": round(task_accuracy(np.asarray(z), test), 4), "loss": round(float(np.mean(losses[-10:])), 5),
            "rate_hz": round(float(np.asarray(spk).mean() * 1000.0 / dt), 2), "iterations": iters,
            "delay_ms": times["t_delay"], "train_s": round(train_s, 2), "iterations_done": len(losses)}
    return Report(figs, {"spikes": np.asarray(spk[0]), "z": np.asarray(z[0]), "dt": dt, "losses": losses,
                         "label": int(test.label[0])})


def _plot_snn_wm(report, params):
    import matplotlib.pyplot as plt

    d = report.data
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=(7, 7), layout="constrained")
    t, i = np.nonzero(d["spikes"])
    a1.plot(t * d["dt"], i, "k|", ms=3)
    a1.set_ylabel("neuron")
    a1.set_title(f"one held-out trial (correct: {'match' if d['label'] == 1 else 'non-match'})", fontsize=9)
    ts = np.arange(len(d["z"])) * d["dt"]
    for k, lab in enumerate(("fixate", "match", "non-match")):
        a2.plot(ts, d["z"][:, k], label=lab)
    a2.set_xlabel("t (ms)")
    a2.set_ylabel("read-out")
    a2.legend(fontsize=8)
    a3.semilogy(d["losses"])
    a3.set_xlabel("iteration")
    a3.set_ylabel("training loss")
    return fig


def _snn_digits(p):
    from ..train.spiking import train_digits

    quick = bool(p["quick"])
    r = train_digits(n_hidden=16 if quick else int(p["n_hidden"]), n_steps=5 if quick else int(p["n_steps"]),
                     epochs=1 if quick else int(p["epochs"]), batch=int(p["batch"]), lr=float(p["lr"]),
                     max_rate=float(p["max_rate"]), seed=int(p["seed"]), n_train=128 if quick else None)
    figs = {"test_accuracy": round(r["test_accuracy"], 4), "train_accuracy": round(r["train_accuracy"], 4),
            "epochs": r["epochs"], "train_s": round(r["train_s"], 2), "n_test": r["n_test"]}
    return Report(figs, {"losses": r["losses"]})


def _plot_snn_digits(report, params):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.plot(np.arange(1, len(report.data["losses"]) + 1), report.data["losses"], "o-")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"test accuracy {report.figures['test_accuracy']}", fontsize=9)
    return fig


ENTRIES = [
    _rnn_entry("rnn-decision", "rate RNN trained (BPTT) on perceptual decision making; accuracy, fixed points, "
                               "PCA trajectories"),
    _rnn_entry("rnn-context", "rate RNN trained on context-dependent integration (Mante et al. 2013); accuracy, "
                              "fixed points", iterations=1500, n=128),
    _rnn_entry("rnn-working-memory", "rate RNN trained on delayed match-to-sample (working memory); accuracy, "
                                     "fixed points", delay=1000.0),
    Entry(name="snn-working-memory",
          summary="adaptive spiking (GIF) network trained with surrogate gradients on delayed match-to-sample",
          defaults=dict(n=100, iterations=600, batch=32, lr=0.005, lr_out=0.005, dt=2.0, delay=500.0, sigma=1.0,
                        tau_a=1000.0, beta=0.2, frac_adaptive=0.5, scale_in=3.0, scale_rec=1.0, tau_out=100.0,
                        test_in_response=True, rate_reg=0.0, target_rate=10.0, test_trials=500, seed=0,
                        quick=False),
          compute=_snn_wm, plot=_plot_snn_wm),
    Entry(name="snn-digits",
          summary="three-layer LIF network trained with surrogate gradients on scikit-learn's 8x8 digits",
          defaults=dict(n_hidden=256, n_steps=20, epochs=60, batch=64, lr=0.005, max_rate=500.0, seed=0,
                        quick=False),
          compute=_snn_digits, plot=_plot_snn_digits),
]
