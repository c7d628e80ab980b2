"""Convergence orders of every fixed-step ODE method, tableau self-checks, adaptive solves."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from braindyn.integrators import (  # noqa: E402
    EMBEDDED_TABLEAUX,
    ODE_METHODS,
    ButcherTableau,
    EmbeddedRK,
    MaxStepsReached,
    get,
    integrate,
    rk2,
    solve_adaptive,
)

# ---------------------------------------------------------------------------------------------
# Test problem: nonlinear, non-autonomous, PyTree (dict) state, exact solution.
#   r' = -2 t r^2                          r(0) = 1      ->  r = 1 / (1 + t^2)
#   x' = w(t) J x,  w(t) = 1 + t            x(0) = (1, 0) ->  x = (cos th, sin th), th = t + t^2/2
#   s' = -s + sin(3 t) * r                  (coupled to r; exact by quadrature below)
# ---------------------------------------------------------------------------------------------


def field(t, y, args):
    r, x, s = y["r"], y["x"], y["s"]
    w = 1.0 + t
    return {
        "r": -2.0 * t * r * r,
        "x": w * jnp.stack([-x[1], x[0]]),
        "s": -s + jnp.sin(3.0 * t) * r,
    }


Y0 = {"r": jnp.array(1.0), "x": jnp.array([1.0, 0.0]), "s": jnp.array(0.5)}
T1 = 1.0


def exact(t):
    th = t + t * t / 2
    # s(t) = e^{-t} [0.5 + int_0^t e^u sin(3u) / (1 + u^2) du]  (Gauss-Legendre, 200 nodes)
    u, w = np.polynomial.legendre.leggauss(200)
    uu = 0.5 * t * (u + 1)
    integral = 0.5 * t * np.sum(w * np.exp(uu) * np.sin(3 * uu) / (1 + uu**2))
    return {
        "r": 1.0 / (1.0 + t * t),
        "x": np.array([np.cos(th), np.sin(th)]),
        "s": np.exp(-t) * (0.5 + integral),
    }


EXACT = exact(T1)


def max_err(y):
    return max(float(np.max(np.abs(np.asarray(y[k]) - EXACT[k]))) for k in EXACT)


def fitted_order(solver):
    p = solver.order
    n0 = {1: 40, 2: 20, 3: 10, 4: 8, 5: 4}[p]
    ns = [n0 * 2**i for i in range(4)]
    errs = [max_err(integrate(solver, field, Y0, 0.0, T1, T1 / n)) for n in ns]
    slope = np.polyfit(np.log(T1 / np.array(ns)), np.log(errs), 1)[0]
    return slope, errs


FIXED = sorted(ODE_METHODS)


@pytest.mark.parametrize("name", FIXED)
def test_every_method_has_its_declared_order(name):
    solver = get(name)
    slope, errs = fitted_order(solver)
    assert errs[-1] < errs[0]
    assert abs(slope - solver.order) < 0.3, f"{name}: declared order {solver.order}, measured {slope:.3f} ({errs})"


def test_rk2_family_has_order_two():
    for beta in (0.5, 1.0, 0.3):
        slope, _ = fitted_order(rk2(beta))
        assert abs(slope - 2) < 0.3


def test_embedded_pairs_registered_with_their_orders():
    expected = {"heun_euler": (2, 1), "bs32": (3, 2), "rkf45": (5, 4), "cash_karp": (5, 4), "dopri5": (5, 4)}
    for name, (p, q) in expected.items():
        s = get(name)
        assert isinstance(s, EmbeddedRK)
        assert (s.order, s.err_order) == (p, q)


@pytest.mark.parametrize("name", sorted(EMBEDDED_TABLEAUX))
def test_embedded_error_estimate_has_the_embedded_order(name):
    # local error estimate e(h) = O(h^{q+1}): halving h divides it by 2^{q+1}
    s = get(name)
    es = []
    hs = [0.1, 0.05, 0.025]
    for h in hs:
        _, e = s.step_with_error(field, 0.3, exact(0.3), h, None)
        es.append(max(float(np.max(np.abs(np.asarray(v)))) for v in jax.tree.leaves(e)))
    slope = np.polyfit(np.log(hs), np.log(es), 1)[0]
    assert abs(slope - (s.err_order + 1)) < 0.35, (name, slope, es)


def _rk4_rows():
    return [[], ["1/2"], [0, "1/2"], [0, 0, 1]], ["1/6", "1/3", "1/3", "1/6"], [0, "1/2", "1/2", 1]


def test_tableau_with_a_wrong_entry_raises_at_construction():
    A, b, c = _rk4_rows()
    ButcherTableau(A, b, c, order=4)  # the correct one builds
    bad_b = ["1/6", "1/3", "1/3", "1/7"]
    with pytest.raises(ValueError, match="order condition"):
        ButcherTableau(A, bad_b, c, order=4)
    bad_A = [[], ["1/2"], [0, "0.51"], [0, 0, 1]]
    with pytest.raises(ValueError):  # row sum c_i != sum_j a_ij
        ButcherTableau(bad_A, b, c, order=4)
    bad_A2 = [[], ["1/2"], ["0.01", "0.49"], [0, 0, 1]]  # row sum fine, order-3 condition broken
    with pytest.raises(ValueError, match="order condition"):
        ButcherTableau(bad_A2, b, c, order=4)


def test_embedded_tableau_with_a_wrong_error_weight_raises():
    tab = EMBEDDED_TABLEAUX["dopri5"]
    b_err = list(tab.b_err)
    b_err[2] += 1e-3
    with pytest.raises(ValueError, match="b_err"):
        ButcherTableau([row[:i] for i, row in enumerate(tab.A.tolist())], tab.b.tolist(), tab.c.tolist(),
                       order=5, b_err=b_err, err_order=4)


def test_embedded_rk_needs_error_weights():
    A, b, c = _rk4_rows()
    with pytest.raises(ValueError, match="b_err"):
        EmbeddedRK(ButcherTableau(A, b, c, order=4))


# ------------------------------------------------------------------------------- adaptive ----


def _scalar_problem():
    f = lambda t, y, a: -y + jnp.sin(t)  # noqa: E731
    ex = lambda t: 1.5 * np.exp(-t) + 0.5 * (np.sin(t) - np.cos(t))  # noqa: E731
    return f, jnp.array(1.0), 5.0, ex


def _stiffish_problem():
    # y' = -10 (y - cos t) - sin t, y(0) = 2 -> y = cos t + e^{-10 t}
    f = lambda t, y, a: -10.0 * (y - jnp.cos(t)) - jnp.sin(t)  # noqa: E731
    ex = lambda t: np.cos(t) + np.exp(-10 * t)  # noqa: E731
    return f, jnp.array(2.0), 3.0, ex


@pytest.mark.parametrize("name", sorted(EMBEDDED_TABLEAUX))
def test_adaptive_meets_requested_tolerance(name):
    tols = [1e-4, 1e-6] if name == "heun_euler" else [1e-4, 1e-6, 1e-8]
    for f, y0, t1, ex in (_scalar_problem(), _stiffish_problem()):
        steps = []
        for rtol in tols:
            sol = solve_adaptive(name, f, y0, 0.0, t1, rtol=rtol, atol=rtol * 1e-3)
            assert float(sol.t) == pytest.approx(t1)
            assert int(sol.status) == 0
            err = abs(float(sol.y) - ex(t1))
            # error-per-step control bounds the local error, not the global one: allow a modest
            # factor (measured: <= 0.25 rtol for most pairs, up to ~12 rtol for bs32 at rtol=1e-8)
            assert err < 20 * rtol * max(1.0, abs(ex(t1))), (name, rtol, err)
            steps.append(int(sol.n_accepted))
        assert steps == sorted(steps) and steps[0] < steps[-1], steps


def test_adaptive_pytree_state_and_fewer_steps_than_fixed():
    sol = solve_adaptive("dopri5", field, Y0, 0.0, T1, rtol=1e-9, atol=1e-12)
    assert max_err(sol.y) < 1e-8
    assert int(sol.n_accepted) < 100


def test_adaptive_saveat_dense_output():
    f, y0, t1, ex = _scalar_problem()
    ts = jnp.linspace(0.0, t1, 23)
    for name in ("dopri5", "bs32", "rkf45"):
        sol = solve_adaptive(name, f, y0, 0.0, t1, rtol=1e-9, atol=1e-12, saveat=ts)
        assert sol.ys.shape == (23,)
        assert float(jnp.max(jnp.abs(sol.ys - ex(np.asarray(ts))))) < 1e-6


def test_adaptive_under_jit_and_vmap():
    f, _, t1, ex = _scalar_problem()

    @jax.jit
    def run(y0, rtol):
        sol = solve_adaptive("dopri5", f, y0, 0.0, t1, rtol=rtol, atol=1e-12)
        return sol.y, sol.n_accepted, sol.status

    y, n, status = run(jnp.array(1.0), 1e-8)
    assert abs(float(y) - ex(t1)) < 1e-7 and int(status) == 0
    _, n_loose, _ = run(jnp.array(1.0), 1e-3)
    assert int(n_loose) < int(n)
    ys, _, _ = jax.vmap(lambda y0: run(y0, 1e-8))(jnp.array([1.0, 2.0]))
    # linear problem: y(t) with y0 = 2 differs by e^{-t}
    assert abs(float(ys[1] - ys[0]) - np.exp(-t1)) < 1e-7


def test_adaptive_pi_and_i_controllers_both_work():
    f, y0, t1, ex = _stiffish_problem()
    for ctrl in ("pi", "i"):
        sol = solve_adaptive("bs32", f, y0, 0.0, t1, rtol=1e-6, atol=1e-9, controller=ctrl)
        assert abs(float(sol.y) - ex(t1)) < 1e-5


def test_adaptive_max_steps_is_a_clear_error_eagerly_and_a_status_under_jit():
    f, y0, t1, _ = _scalar_problem()
    with pytest.raises(MaxStepsReached, match="max_steps"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, rtol=1e-10, atol=1e-12, max_steps=5)
    status = jax.jit(lambda y: solve_adaptive("dopri5", f, y, 0.0, t1, rtol=1e-10, atol=1e-12, max_steps=5).status)(
        y0
    )
    assert int(status) == 1


def test_adaptive_bad_inputs_name_the_parameter():
    f, y0, t1, _ = _scalar_problem()
    with pytest.raises(ValueError, match="rtol"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, rtol=0.0)
    with pytest.raises(ValueError, match="atol"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, atol=-1.0)
    with pytest.raises(ValueError, match="t1 > t0"):
        solve_adaptive("dopri5", f, y0, 1.0, 1.0)
    with pytest.raises(ValueError, match="solver"):
        solve_adaptive("rk4", f, y0, 0.0, t1)
    with pytest.raises(ValueError, match="dopri5"):
        solve_adaptive("dopri", f, y0, 0.0, t1)
    with pytest.raises(ValueError, match="controller"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, controller="pid")
    with pytest.raises(ValueError, match="max_steps"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, max_steps=0)
    with pytest.raises(ValueError, match="dt0"):
        solve_adaptive("dopri5", f, y0, 0.0, t1, dt0=-0.1)


def test_unknown_method_suggests_close_match():
    with pytest.raises(ValueError, match="dopri5"):
        get("dopri55")
