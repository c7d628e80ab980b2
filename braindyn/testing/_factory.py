"""The factory harness: a parametrised family of models ``factory(p)`` (kept for model tests that
sweep their own parameter; :func:`braindyn.testing.check_component` is the harness of the suite)."""
from __future__ import annotations

from typing import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def _loss(model, state, n_steps, dt, inputs, var):
    from ..run import simulate

    final, rec, _ = simulate(model, state, n_steps, dt, inputs=inputs, record=lambda s: s[var])
    return jnp.mean(rec[var]) if isinstance(rec, dict) and var in rec else jnp.mean(rec["value"])


def check_model(factory: Callable, values: Sequence[float], *, inputs=None, n_steps: int = 200, dt: float = 0.1,
                var: str | None = None, grad_inputs=None, fd_rtol: float = 2e-2, key=0):
    """Run the harness on the models ``factory(p)`` for each ``p`` in ``values``.

    Parameters
    ----------
    factory : callable
        ``p -> model`` (``p`` a scalar parameter; it is traced under vmap and grad).
    values : sequence of float
        At least two parameter values for the vmap check; ``values[0]`` is used for grad.
    inputs : input PyTree
        Inputs of the run (as for :func:`braindyn.simulate`).
    n_steps, dt : int, float
        Length of the runs.
    var : str
        State variable whose mean over the run is the loss (default: the model's first variable).
    grad_inputs : input PyTree, optional
        Inputs for the finite-difference comparison of the gradient (choose a regime with no
        spike so the run is smooth in the parameter); ``None`` skips the comparison but still
        checks that the gradient is finite.
    fd_rtol : float
        Relative tolerance of the gradient against the finite difference.

    Returns
    -------
    dict with the per-check outcomes (raises ``AssertionError`` on failure).
    """
    import jax.random as jr

    from ..run import simulate
    from ..surrogate import Heaviside

    values = [float(v) for v in values]
    m0 = factory(values[0])
    var = var or m0.variables[0]
    out = {}
    # 1. jit: compiled run equals the same run traced without an outer jit
    s0 = m0.init_state(key=jr.PRNGKey(key))
    run_ = lambda m, s: simulate(m, s, n_steps, dt, inputs=inputs, record=lambda st: st[var], key=key)
    f_jit = jax.jit(lambda s: run_(m0, s)[1])
    r_jit = np.asarray(f_jit(s0)["value"])
    r_eager = np.asarray(run_(m0, s0)[1]["value"])
    assert np.all(np.isfinite(r_jit)), "jit run produced non-finite values"
    np.testing.assert_allclose(r_jit, r_eager, rtol=1e-5, atol=1e-6, err_msg="jit and non-jit runs differ")
    out["jit"] = True

    # 2. vmap over parameters == separate runs
    def one(p):
        m = factory(p)
        return run_(m, m.init_state(key=jr.PRNGKey(key)))[1]["value"]

    batch = np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(values)))
    for i, p in enumerate(values):
        single = np.asarray(jax.jit(one)(jnp.asarray(p)))
        np.testing.assert_allclose(batch[i], single, rtol=1e-5, atol=1e-5,
                                   err_msg=f"vmap result for parameter {p} differs from a single run")
    out["vmap"] = True

    # 3. grad through the run (for the finite-difference check the surrogate is replaced by the
    #    exact Heaviside, whose gradient is the true derivative of a spike-free run)
    def loss(p, inp, exact=False):
        m = factory(p)
        if exact and hasattr(m, "spike_fn"):
            m = eqx.tree_at(lambda mm: mm.spike_fn, m, Heaviside())
        final, rec, _ = simulate(m, m.init_state(key=jr.PRNGKey(key)), n_steps, dt, inputs=inp,
                                 record=lambda st: st[var], key=key)
        return jnp.mean(rec["value"])

    g = float(jax.jit(jax.grad(loss))(jnp.asarray(values[0]), inputs))
    assert np.isfinite(g), f"gradient through the run is not finite: {g}"
    out["grad"] = g
    if grad_inputs is not None:
        p = values[0]
        h = 1e-4 * max(abs(p), 1.0)
        g_s = float(jax.grad(loss)(jnp.asarray(p), grad_inputs, True))
        fd = (float(loss(jnp.asarray(p + h), grad_inputs, True))
              - float(loss(jnp.asarray(p - h), grad_inputs, True))) / (2 * h)
        assert abs(g_s - fd) <= fd_rtol * max(abs(fd), 1e-8), f"grad {g_s} vs finite difference {fd}"
        out["grad_vs_fd"] = (g_s, fd)

    # 4. dtype kept
    dtypes = [jnp.float32] + ([jnp.float64] if jax.config.jax_enable_x64 else [])
    for dt_ in dtypes:
        s = m0.init_state(key=jr.PRNGKey(key), dtype=dt_)
        final, _, _ = jax.jit(lambda st: simulate(m0, st, 20, dt, inputs=inputs, record=lambda q: ()))(s)
        for k, v in final.items():
            assert v.dtype == dt_ or not jnp.issubdtype(v.dtype, jnp.floating), \
                f"state variable {k!r} changed dtype from {dt_.__name__} to {v.dtype}"
    out["dtype"] = [d.__name__ for d in dtypes]
    return out
