"""Delay and fractional differential equations against exact solutions."""
import math

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from braindyn.integrators import (  # noqa: E402
    get,
    integrate,
    integrate_caputo,
    integrate_dde,
    integrate_gl,
    mittag_leffler,
)

HS = [0.1, 0.05, 0.025, 0.0125]


def _slope(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


# --------------------------------------------------------------------------------------- DDE --


def _method_of_steps(n_intervals=3):
    """y' = -y(t-1), y = 1 on [-1, 0]: exact piecewise polynomials on [k, k+1] (numpy, independent)."""
    Poly = np.polynomial.Polynomial
    prev, pieces, y_start = Poly([1.0]), [], 1.0
    for k in range(n_intervals):
        integrand = -prev(Poly([-1.0, 1.0]))  # -y(t - 1) on [k, k+1]
        anti = integrand.integ()
        piece = anti - anti(float(k)) + y_start
        pieces.append(piece)
        prev, y_start = piece, piece(float(k + 1))

    def y(t):
        k = np.clip(np.floor(np.asarray(t) - 1e-12), 0, n_intervals - 1).astype(int)
        return np.array([pieces[i](s) for i, s in zip(k, np.asarray(t))])

    return y


def test_linear_dde_matches_the_method_of_steps():
    exact = _method_of_steps()
    np.testing.assert_allclose(exact(np.array([1.0, 2.0, 3.0])), [0.0, -0.5, -1 / 6], atol=1e-14)
    f = lambda t, y, yd, a: -yd  # noqa: E731
    # the exact solution is a cubic on each [k, k+1] and the breaking points are on the grid:
    # rk4 with Hermite interpolation reproduces it to round-off
    ts, ys = integrate_dde(f, lambda t: jnp.ones_like(t), 0.0, 3.0, 0.1, 1.0, method="rk4")
    np.testing.assert_allclose(ys, exact(np.asarray(ts)), atol=1e-12)
    # lower-order methods converge to it at their order
    for method, order in (("euler", 1),):
        errs = []
        for h in HS:
            ts, ys = integrate_dde(f, 1.0, 0.0, 3.0, h, 1.0, method=method)  # constant history
            errs.append(np.max(np.abs(np.asarray(ys) - exact(np.asarray(ts)))))
        assert abs(_slope(HS, errs) - order) < 0.2, (method, errs)


@pytest.mark.parametrize(
    "method,interp,order,problems",
    [("rk4", "hermite", 4, (1, 2)), ("heun2", "hermite", 2, (2,)), ("rk4", "linear", 2, (2,))],
)
def test_dde_convergence_order_on_smooth_exact_solutions(method, interp, order, problems):
    # 1) y = e^{-t} with two delays: y' = -0.5 y - (0.25/e) y(t-1) - (0.25/e^2) y(t-2)
    f1 = lambda t, y, yd, a: -0.5 * y - 0.25 * np.exp(-1) * yd[0] - 0.25 * np.exp(-2) * yd[1]  # noqa: E731
    # 2) y = sin t with a delay that is not a multiple of dt: y' = y(t) - y(t - pi/2) - sin t
    f2 = lambda t, y, yd, a: y - yd - jnp.sin(t)  # noqa: E731
    for p in problems:
        errs = []
        for h in HS:
            if p == 1:
                ts, ys = integrate_dde(f1, lambda t: jnp.exp(-t), 0.0, 4.0, h, (1.0, 2.0), method=method,
                                       interp=interp)
                errs.append(np.max(np.abs(ys - np.exp(-ts))))
            else:
                ts, ys = integrate_dde(f2, jnp.sin, 0.0, 4.0, h, np.pi / 2, method=method, interp=interp)
                errs.append(np.max(np.abs(ys - np.sin(ts))))
        assert abs(_slope(HS, errs) - order) < 0.3, (p, errs)


def test_per_variable_delays_on_a_dict_state():
    taus = {"x": jnp.array([1.0, np.pi / 2]), "z": 0.5}
    coef = jnp.array([-np.exp(-1), -1.0])

    def f(t, y, yd, a):  # x0 = e^{-t}, x1 = sin t, z = e^{-2t} (z' = -2 e^{-1} z(t - 0.5))
        return {"x": coef * yd["x"], "z": -2 * np.exp(-1) * yd["z"]}

    hist = lambda t: {"x": jnp.stack([jnp.exp(-t), jnp.sin(t)]), "z": jnp.exp(-2 * t)}  # noqa: E731
    ts, ys = integrate_dde(f, hist, 0.0, 3.0, 0.02, taus, save_every=10)
    np.testing.assert_allclose(ys["x"], np.stack([np.exp(-ts), np.sin(ts)], 1), atol=1e-8)
    np.testing.assert_allclose(ys["z"], np.exp(-2 * ts), atol=1e-8)


def test_neutral_dde():
    # y'(t) = -y'(t-1), history y = t: y' = -1 on [0,1], +1 on [1,2], -1 on [2,3]
    ts, ys = integrate_dde(lambda t, y, yd, dyd, a: -dyd, lambda t: t, 0.0, 3.0, 0.1, 1.0, neutral=True)
    exact = np.where(ts <= 1, -ts, np.where(ts <= 2, ts - 2, -(ts - 2)))
    np.testing.assert_allclose(ys, exact, atol=1e-12)
    # smooth neutral problem: y = sin t solves y'(t) = -y'(t - pi)
    errs = []
    for h in HS:
        ts, ys = integrate_dde(lambda t, y, yd, dyd, a: -dyd, jnp.sin, 0.0, 4.0, h, np.pi, neutral=True)
        errs.append(np.max(np.abs(ys - np.sin(ts))))
    assert errs[-1] < 1e-6 and _slope(HS, errs) > 2.5


def test_dde_jits_and_final_value_only():
    f = lambda t, y, yd, r: r * y * (1 - yd / 10.0)  # noqa: E731  Hutchinson's equation
    run = jax.jit(lambda r: integrate_dde(f, jnp.array(1.0), 0.0, 10.0, 0.05, 1.0, r, save_every=0))
    y_jit = run(0.5)
    y = integrate_dde(f, jnp.array(1.0), 0.0, 10.0, 0.05, 1.0, 0.5, save_every=0)
    np.testing.assert_allclose(y_jit, y, rtol=1e-12)


def test_dde_bad_inputs_name_the_parameter():
    f = lambda t, y, yd, a: -yd  # noqa: E731
    with pytest.raises(ValueError, match="delays"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, -1.0)
    with pytest.raises(ValueError, match="shorter than the step dt"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, 0.05)
    with pytest.raises(ValueError, match="delays\\[1\\]"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, (1.0, 0.01))
    with pytest.raises(ValueError, match="'dt'"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="rk4"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, 1.0, method="rk5")
    with pytest.raises(ValueError, match="hermite"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, 1.0, interp="cubic")
    with pytest.raises(ValueError, match="save_every"):
        integrate_dde(f, 1.0, 0.0, 1.0, 0.1, 1.0, save_every=3)


# --------------------------------------------------------------------------------------- FDE --


def ml_series(z, alpha, terms=160):
    """E_alpha(z) = sum_k z^k / Gamma(alpha k + 1), summed directly (independent of the library)."""
    out = 0.0
    for k in range(terms):
        out += z**k / math.gamma(alpha * k + 1) if alpha * k + 1 < 170 else 0.0
    return out


def test_mittag_leffler_reference():
    assert abs(ml_series(-1.3, 1.0) - math.exp(-1.3)) < 1e-13
    # E_{1/2}(-x) = exp(x^2) erfc(x)
    assert abs(ml_series(-0.7, 0.5) - math.exp(0.49) * math.erfc(0.7)) < 1e-12
    for a in (0.5, 0.8):
        assert abs(float(mittag_leffler(-1.1, a)) - ml_series(-1.1, a)) < 1e-12


LAM = 1.5


@pytest.mark.parametrize("alpha", [0.5, 0.8])
@pytest.mark.parametrize("scheme", ["l1", "euler", "gl"])
def test_fractional_relaxation_against_mittag_leffler(alpha, scheme):
    f = lambda t, y, a: -LAM * y  # noqa: E731
    hs = [0.01, 0.005, 0.0025]
    errs_end, errs_max = [], []
    for h in hs:
        if scheme == "gl":
            ts, ys = integrate_gl(f, jnp.array(1.0), 0.0, 1.0, h, alpha)
        else:
            ts, ys = integrate_caputo(f, jnp.array(1.0), 0.0, 1.0, h, alpha, method=scheme)
        ex = np.array([ml_series(-LAM * t**alpha, alpha) for t in np.asarray(ts)])
        err = np.abs(np.asarray(ys) - ex)
        errs_end.append(err[-1])
        errs_max.append(err.max())
    # first order at a fixed time t = 1 > t0 (measured 0.98-1.02)
    assert abs(_slope(hs, errs_end) - 1.0) < 0.2, errs_end
    assert errs_end[-1] < 2e-3
    # uniformly at least O(h^alpha) near the weakly singular start (GL at alpha=0.5: loose bound)
    assert errs_max[-1] < 1.5e-2


@pytest.mark.parametrize("scheme", ["l1", "euler", "gl"])
def test_alpha_one_is_forward_euler_and_matches_exp(scheme):
    f = lambda t, y, a: -LAM * y  # noqa: E731
    if scheme == "gl":
        ts, ys = integrate_gl(f, jnp.array(1.0), 0.0, 1.0, 0.005, 1.0)
    else:
        ts, ys = integrate_caputo(f, jnp.array(1.0), 0.0, 1.0, 0.005, 1.0, method=scheme)
    euler = integrate(get("euler"), f, jnp.array(1.0), 0.0, 1.0, 0.005, save_every=1)[1]
    np.testing.assert_allclose(ys, euler, rtol=1e-12)
    ex = np.array([ml_series(-LAM * t, 1.0) for t in np.asarray(ts)])
    np.testing.assert_allclose(ex, np.exp(-LAM * np.asarray(ts)), atol=1e-12)
    assert np.max(np.abs(np.asarray(ys) - ex)) < 2e-3


def test_short_memory_gl_approaches_full_memory():
    f = lambda t, y, a: -y  # noqa: E731
    full = integrate_gl(f, jnp.array(1.0), 0.0, 4.0, 0.01, 0.6, save_every=0)
    gaps = [
        abs(float(integrate_gl(f, jnp.array(1.0), 0.0, 4.0, 0.01, 0.6, memory_length=L, save_every=0) - full))
        for L in (0.25, 0.5, 1.0, 2.0, 4.0)
    ]
    assert all(a > b for a, b in zip(gaps, gaps[1:])), gaps
    # memory covering the whole run is the full-memory scheme: the same terms summed in another
    # order (measured 1e-16); 400 steps of 400-term sums allow ~1e-14 of round-off, hence 1e-12,
    # still 10 orders below the truncation effect of L = 2 (~3e-2)
    assert gaps[-1] < 1e-12
    assert gaps[0] > 1e-2  # and truncation does matter


def test_short_memory_for_caputo_schemes_and_pytree_state():
    f = lambda t, y, a: {"v": -y["v"], "w": -2.0 * y["w"]}  # noqa: E731
    y0 = {"v": jnp.ones(3), "w": jnp.array(2.0)}
    for method in ("l1", "euler"):
        full = integrate_caputo(f, y0, 0.0, 2.0, 0.01, 0.7, method=method, save_every=0)
        gaps = [
            abs(float(integrate_caputo(f, y0, 0.0, 2.0, 0.01, 0.7, method=method, memory_length=L,
                                       save_every=0)["w"] - full["w"]))
            for L in (0.5, 1.5)
        ]
        assert full["v"].shape == (3,)
        assert gaps[0] > gaps[1] > 0, (method, gaps)
        np.testing.assert_allclose(full["v"], ml_series(-(2.0**0.7), 0.7), atol=5e-3)


def test_fde_jits():
    run = jax.jit(lambda lam: integrate_caputo(lambda t, y, a: -a * y, 1.0, 0.0, 1.0, 0.01, 0.8, lam, save_every=0))
    y = run(LAM)
    assert abs(float(y) - ml_series(-LAM, 0.8)) < 5e-3


def test_fde_bad_inputs_name_the_parameter():
    f = lambda t, y, a: -y  # noqa: E731
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="alpha"):
            integrate_caputo(f, 1.0, 0.0, 1.0, 0.1, bad)
        with pytest.raises(ValueError, match="alpha"):
            integrate_gl(f, 1.0, 0.0, 1.0, 0.1, bad)
    with pytest.raises(ValueError, match="'dt'"):
        integrate_caputo(f, 1.0, 0.0, 1.0, -0.1, 0.5)
    with pytest.raises(ValueError, match="l1"):
        integrate_caputo(f, 1.0, 0.0, 1.0, 0.1, 0.5, method="L1x")
    with pytest.raises(ValueError, match="memory_length"):
        integrate_gl(f, 1.0, 0.0, 1.0, 0.1, 0.5, memory_length=0.0)
