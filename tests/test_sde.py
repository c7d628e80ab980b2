"""SDE solvers: strong orders against exact solutions on the same Brownian path, weak checks."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from braindyn.integrators import (  # noqa: E402
    SDE_METHODS,
    brownian_increments,
    coarsen_increments,
    get_sde,
    integrate_sde,
)

# Many independent paths at once: a state vector of P elements with diagonal noise.
P = 400
T = 1.0
N_FINE = 2**10
H_FINE = T / N_FINE
FACTORS = [4, 8, 16, 32]
MU, SIG = 1.0, 0.8


def _strong_errors(solver, f, g, y0, exact_from_fine, with_dz=False, factors=FACTORS, key=0):
    fine = brownian_increments(jax.random.PRNGKey(key), y0, 0.0, T, H_FINE, noise=solver.noise, with_dz=with_dz)
    y_exact = exact_from_fine(fine)
    errs = []
    for m in factors:
        y = integrate_sde(solver, f, g, y0, 0.0, T, H_FINE * m, increments=coarsen_increments(fine, m, H_FINE))
        errs.append(float(jnp.mean(jnp.abs(y - y_exact))))
    slope = np.polyfit(np.log(H_FINE * np.array(factors)), np.log(errs), 1)[0]
    return slope, errs


def _gbm(sigma):
    return (lambda t, y, a: MU * y), (lambda t, y, a: sigma * y)


@pytest.mark.parametrize("name", ["euler_maruyama", "milstein"])
def test_ito_strong_order_on_geometric_brownian_motion(name):
    solver = get_sde(name)
    sigma = jnp.linspace(0.4, 0.9, P)  # diagonal noise, a different sigma per path
    f, g = _gbm(sigma)

    def exact(inc):  # Ito: y0 exp((mu - sigma^2/2) T + sigma W_T)
        return jnp.exp((MU - sigma**2 / 2) * T + sigma * inc.dW.sum(0))

    slope, errs = _strong_errors(solver, f, g, jnp.ones(P), exact)
    assert abs(slope - solver.strong_order) < 0.25, (name, slope, errs)


def test_milstein_scalar_noise_shares_one_wiener_process():
    solver = get_sde("milstein", noise="scalar")
    f, g = _gbm(SIG)
    y0 = jnp.ones(3)
    inc = brownian_increments(jax.random.PRNGKey(4), y0, 0.0, T, H_FINE, noise="scalar")
    assert inc.dW.shape == (N_FINE,)
    y = integrate_sde(solver, f, g, y0, 0.0, T, H_FINE, increments=inc)
    # one Wiener process for all three: equal up to round-off (vectorised and remainder lanes may
    # round differently on another CPU); separate processes would differ by O(1)
    assert float(jnp.ptp(y)) <= 1e-12 * float(jnp.max(jnp.abs(y)))
    ex = np.exp((MU - SIG**2 / 2) * T + SIG * float(inc.dW.sum()))
    assert abs(float(y[0]) - ex) < 0.02 * ex


def test_heun_converges_to_the_stratonovich_solution_with_order_one():
    solver = get_sde("heun")
    f, g = _gbm(SIG)

    def strat(inc):  # Stratonovich: y0 exp(mu T + sigma W_T)
        return jnp.exp(MU * T + SIG * inc.dW.sum(0))

    slope, errs = _strong_errors(solver, f, g, jnp.ones(P), strat)
    assert abs(slope - 1.0) < 0.25, (slope, errs)
    # ... and not to the Ito one: the gap stays ~ y * sigma^2/2 * T as dt -> 0
    inc = brownian_increments(jax.random.PRNGKey(0), jnp.ones(P), 0.0, T, H_FINE)
    y = integrate_sde(solver, f, g, jnp.ones(P), 0.0, T, H_FINE, increments=inc)
    ito = jnp.exp((MU - SIG**2 / 2) * T + SIG * inc.dW.sum(0))
    assert float(jnp.mean(jnp.abs(y - ito))) > 0.2


TH, S0 = 1.0, 0.5


def test_sra1_strong_order_on_ornstein_uhlenbeck_exact_path_solution():
    # x(T) = e^{-th T} x0 + s0 int_0^T e^{-th (T-s)} dW(s); the stochastic integral is evaluated on the
    # fine path with the first-order Taylor expansion of the integrand inside each fine step:
    # int_{t_k}^{t_k+h} e^{-th(T-s)} dW = e^{-th(T-t_k)} [dW_k + th (h dW_k - dZ_k)] + O(h^{5/2}).
    solver = get_sde("sra1")
    f = lambda t, y, a: -TH * y  # noqa: E731
    g = lambda t, y, a: S0 * jnp.ones_like(y)  # noqa: E731
    tk = H_FINE * jnp.arange(N_FINE)[:, None]

    def exact(inc):
        w = jnp.exp(-TH * (T - tk))
        return jnp.exp(-TH * T) + S0 * jnp.sum(w * (inc.dW + TH * (H_FINE * inc.dW - inc.dZ)), 0)

    slope, errs = _strong_errors(solver, f, g, jnp.ones(P), exact, with_dz=True)
    # linear drift: the scheme is even better than 1.5 here (measured ~2.0); it must not be worse
    assert slope > 1.5 - 0.25, (slope, errs)
    # Euler--Maruyama on the same additive-noise problem: strong order 1, clearly less accurate
    slope_em, errs_em = _strong_errors(get_sde("euler_maruyama"), f, g, jnp.ones(P), exact, with_dz=True)
    assert abs(slope_em - 1.0) < 0.25
    assert errs[0] < 0.1 * errs_em[0]


def test_sra1_strong_order_one_and_a_half_on_a_nonlinear_additive_problem():
    # dy = (-sin 2y + cos t) dt + (0.7 + 0.3 sin t) dW ; reference: the same path at the fine step
    solver = get_sde("sra1")
    f = lambda t, y, a: -jnp.sin(2 * y) + jnp.cos(t)  # noqa: E731
    g = lambda t, y, a: (0.7 + 0.3 * jnp.sin(t)) * jnp.ones_like(y)  # noqa: E731
    y0 = jnp.ones(P)

    def reference(inc):
        return integrate_sde(solver, f, g, y0, 0.0, T, H_FINE, increments=inc)

    slope, errs = _strong_errors(solver, f, g, y0, reference, with_dz=True, factors=[8, 16, 32, 64, 128])
    assert abs(slope - 1.5) < 0.25, (slope, errs)


def test_paths_are_reproducible_from_the_key():
    f = lambda t, y, a: jax.tree.map(lambda v: -v, y)  # noqa: E731
    g = lambda t, y, a: jax.tree.map(lambda v: 0.3 * jnp.ones_like(v), y)  # noqa: E731
    y0 = {"v": jnp.zeros(5), "w": jnp.zeros(())}
    for name in ("euler_maruyama", "sra1"):
        s = get_sde(name)
        a = integrate_sde(s, f, g, y0, 0.0, 1.0, 0.01, key=jax.random.PRNGKey(7))
        b = integrate_sde(s, f, g, y0, 0.0, 1.0, 0.01, key=jax.random.PRNGKey(7))
        c = integrate_sde(s, f, g, y0, 0.0, 1.0, 0.01, key=jax.random.PRNGKey(8))
        inc = brownian_increments(jax.random.PRNGKey(7), y0, 0.0, 1.0, 0.01, with_dz=s.needs_dz)
        d = integrate_sde(s, f, g, y0, 0.0, 1.0, 0.01, increments=inc)
        for k in y0:
            np.testing.assert_array_equal(a[k], b[k])
            # the same arithmetic compiled two ways (keys drawn per step vs precomputed increments),
            # measured 1e-16 apart; a few ulp per step over 100 steps can reach ~1e-14 on another
            # CPU, so 1e-12; a wrong increment would differ by ~0.3 sqrt(dt) = 3e-2
            np.testing.assert_allclose(a[k], d[k], rtol=0, atol=1e-12)
            assert not np.allclose(a[k], c[k])
    # one step with a key == step_increments with draw(key)
    key = jax.random.PRNGKey(3)
    one = jax.jit(lambda k: s.step(f, g, 0.0, y0, 0.01, None, k)["v"])
    two = jax.jit(lambda k: s.step_increments(f, g, 0.0, y0, 0.01, None, s.draw(k, y0, 0.01))["v"])
    np.testing.assert_array_equal(one(key), two(key))


def test_coarsened_increments_have_the_right_moments():
    n_paths = 4000
    fine = brownian_increments(jax.random.PRNGKey(1), jnp.zeros(n_paths), 0.0, 0.8, 0.1, with_dz=True)
    c = coarsen_increments(fine, 8, 0.1)  # one step of H = 0.8
    H = 0.8
    dW, dZ = np.asarray(c.dW[0]), np.asarray(c.dZ[0])
    assert abs(dW.var() - H) < 0.1 * H
    assert abs(dZ.var() - H**3 / 3) < 0.1 * H**3 / 3
    assert abs(np.mean(dW * dZ) - H**2 / 2) < 0.1 * H**2 / 2


@pytest.mark.parametrize("name", sorted(SDE_METHODS))
def test_ornstein_uhlenbeck_stationary_mean_and_variance(name):
    # dx = th (mu - x) dt + s dW : stationary N(mu, s^2 / (2 th)); 2000 neurons, t in [0, 20]
    th, mu, s = 1.0, 2.0, 1.0
    n = 2000
    f = lambda t, x, a: th * (mu - x)  # noqa: E731
    g = lambda t, x, a: s * jnp.ones_like(x)  # noqa: E731
    x = integrate_sde(get_sde(name), f, g, jnp.zeros(n), 0.0, 20.0, 0.02, key=jax.random.PRNGKey(11))
    var = s**2 / (2 * th)
    assert abs(float(x.mean()) - mu) < 4 * np.sqrt(var / n)
    assert abs(float(x.var()) - var) < 0.1 * var


def test_save_every_returns_the_trajectory():
    ts, ys = integrate_sde("milstein", lambda t, y, a: -y, lambda t, y, a: 0.1 * y, jnp.ones(2), 0.0, 1.0, 0.01,
                           key=jax.random.PRNGKey(0), save_every=25)
    assert ts.shape == (5,) and ys.shape == (5, 2)
    np.testing.assert_allclose(ts, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(ys[0], [1.0, 1.0])


def test_integrate_sde_jits():
    f = lambda t, y, a: -a * y  # noqa: E731
    g = lambda t, y, a: 0.2 * jnp.ones_like(y)  # noqa: E731
    run = jax.jit(lambda a, key: integrate_sde("heun", f, g, jnp.zeros(3), 0.0, 1.0, 0.01, a, key))
    y1 = run(1.0, jax.random.PRNGKey(0))
    y2 = integrate_sde("heun", f, g, jnp.zeros(3), 0.0, 1.0, 0.01, 1.0, jax.random.PRNGKey(0))
    np.testing.assert_allclose(y1, y2, atol=1e-12)


def test_declared_orders():
    orders = {n: (get_sde(n).strong_order, get_sde(n).calculus) for n in SDE_METHODS}
    assert orders == {
        "euler_maruyama": (0.5, "ito"),
        "milstein": (1.0, "ito"),
        "heun": (1.0, "stratonovich"),
        "sra1": (1.5, "ito"),
    }


def test_bad_inputs_name_the_parameter():
    f = lambda t, y, a: -y  # noqa: E731
    g = lambda t, y, a: jnp.ones_like(y)  # noqa: E731
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="milstein"):
        get_sde("milstien")
    with pytest.raises(ValueError, match="noise"):
        get_sde("heun", noise="full")
    with pytest.raises(ValueError, match="'dt'"):
        integrate_sde("heun", f, g, 0.0, 0.0, 1.0, -0.1, key=key)
    with pytest.raises(ValueError, match="dt"):
        integrate_sde("heun", f, g, 0.0, 0.0, 1.0, 0.3, key=key)  # not an integer number of steps
    with pytest.raises(ValueError, match="key"):
        integrate_sde("heun", f, g, 0.0, 0.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="save_every"):
        integrate_sde("heun", f, g, 0.0, 0.0, 1.0, 0.1, key=key, save_every=3)
    inc = brownian_increments(key, 0.0, 0.0, 1.0, 0.05)
    with pytest.raises(ValueError, match="increments"):
        integrate_sde("heun", f, g, 0.0, 0.0, 1.0, 0.1, increments=inc)
    with pytest.raises(ValueError, match="dZ"):
        integrate_sde("sra1", f, g, 0.0, 0.0, 1.0, 0.05, increments=inc)
    with pytest.raises(ValueError, match="factor"):
        coarsen_increments(inc, 3, 0.05)
