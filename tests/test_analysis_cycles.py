"""Limit cycles (shooting, continuation from Hopf) against independent scipy simulations."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

from braindyn import neurons
from braindyn.analysis import (continue_cycles, continue_equilibria, cycle_at, find_limit_cycle, from_model, solve_cycle,
                               vector_field)

A, B, TAU = 0.7, 0.8, 12.5
FHN = vector_field(lambda x, p: jnp.array([x[0] - x[0] ** 3 / 3 - x[1] + p["I"], (x[0] + p["a"] - p["b"] * x[1]) / p["tau"]]),
                   ["V", "w"], dict(I=0.0, a=A, b=B, tau=TAU))


def _sim_period(f, x0, t_end, t_skip):
    """Mean period from upward crossings of the mean of x[0] (scipy DOP853, event location)."""
    sol = solve_ivp(f, (0, t_skip), x0, method="DOP853", rtol=1e-11, atol=1e-12)
    xs = sol.y[:, -1]
    ev = lambda t, x: x[0] - 0.0
    ev.direction = 1
    sol = solve_ivp(f, (0, t_end), xs, method="DOP853", rtol=1e-11, atol=1e-12, events=ev)
    t = sol.t_events[0]
    return float(np.mean(np.diff(t))), sol


def test_fhn_cycle_from_hopf_period_matches_simulation():
    br = continue_equilibria(FHN, "I", [-1.2, -0.62], p_range=(0, 2))
    cb = continue_cycles(FHN, br.hopfs[0], p_range=(0, 1.0), n_mesh=800, max_steps=200)
    lc = cycle_at(FHN, cb, 0.8, n_mesh=800)
    f = lambda t, x: [x[0] - x[0] ** 3 / 3 - x[1] + 0.8, (x[0] + A - B * x[1]) / TAU]
    T_sim, sol = _sim_period(f, [0.0, 0.0], 400.0, 300.0)
    assert abs(lc.period - T_sim) / T_sim < 5e-3
    assert abs(lc.period - T_sim) < 1e-4  # in fact far tighter than 0.5 %
    assert abs(lc.period - 36.52) < 0.01 and lc.stable
    np.testing.assert_allclose([lc.x_min[0], lc.x_max[0]], [sol.y[0].min(), sol.y[0].max()], atol=2e-3)
    # the Hopf at I = 0.331 is subcritical: unstable small cycles, then a fold of cycles, then stable large ones
    assert not cb.stable[1] and cb.stable[-1]
    assert any(abs(q.value - 0.32418) < 1e-4 for q in cb.points if q.kind == "fold_cycle")
    # period at onset -> 2 pi / omega
    assert abs(cb.periods[0] - 2 * np.pi / br.hopfs[0].omega) < 0.05


def test_find_limit_cycle_hopf_normal_form():
    # dr/dt = r (mu - r^2), dtheta/dt = 1 + r^2: cycle r = sqrt(mu), period 2 pi / (1 + mu)
    mu = 0.5
    vf = vector_field(lambda x, p: jnp.array([
        p["mu"] * x[0] - x[1] * (1 + x[0] ** 2 + x[1] ** 2) - x[0] * (x[0] ** 2 + x[1] ** 2),
        p["mu"] * x[1] + x[0] * (1 + x[0] ** 2 + x[1] ** 2) - x[1] * (x[0] ** 2 + x[1] ** 2)]), ["x", "y"], {"mu": mu})
    lc = find_limit_cycle(vf, [0.1, 0.0], t_transient=60, t_window=40)
    assert abs(lc.period - 2 * np.pi / (1 + mu)) < 1e-8
    np.testing.assert_allclose(np.hypot(lc.xs[:, 0], lc.xs[:, 1]), np.sqrt(mu), atol=1e-8)
    assert lc.stable


def test_hh_hopf_onset_against_simulation():
    hh = neurons.HH(gL=0.3)
    vf = from_model(hh, params=["I"])
    br = continue_equilibria(vf, "I", np.asarray([-65.0, 0.05, 0.6, 0.32]), {"I": 0.0}, p_range=(0, 20), ds=0.5)
    I_H = br.hopfs[0].value
    assert abs(I_H - 9.78) < 0.02  # classic HH (Rinzel & Miller 1980: 9.78)

    # independent: scipy simulation of the rest state perturbed slightly, below and above I_H
    def rhs(I):
        def f(t, y):
            V, m, h, n = y
            am = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10)); bm = 4 * np.exp(-(V + 65) / 18)
            ah = 0.07 * np.exp(-(V + 65) / 20); bh = 1 / (1 + np.exp(-(V + 35) / 10))
            an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10)); bn = 0.125 * np.exp(-(V + 65) / 80)
            return [-120 * m ** 3 * h * (V - 50) - 36 * n ** 4 * (V + 77) - 0.3 * (V + 54.387) + I,
                    am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]
        return f

    def growth(I):
        k = int(np.argmin(np.abs(br.values - I)))
        y0 = br.states[k] + np.array([0.01, 0, 0, 0])
        sol = solve_ivp(rhs(I), (0, 200), y0, method="LSODA", rtol=1e-10, atol=1e-12, max_step=0.05,
                        dense_output=True)
        ts = np.linspace(100, 200, 4001)
        amp1 = np.ptp(sol.sol(np.linspace(0, 50, 2001))[0])
        amp2 = np.ptp(sol.sol(ts)[0])
        return amp2 / amp1

    assert growth(I_H - 0.3) < 1.0  # decays: rest stable
    assert growth(I_H + 0.3) > 1.0  # grows: rest unstable


def test_solve_cycle_rejects_bad_guess():
    import pytest
    from braindyn._errors import BraindynError

    with pytest.raises(BraindynError, match="period"):
        solve_cycle(FHN, [0.0, 0.0], -1.0)


def _hopf_normal_form(s, omega):
    """dr/dt = r (mu + s r^2), dtheta/dt = omega in Cartesian form; Hopf at mu = 0 with x* = 0."""
    return vector_field(lambda x, p: jnp.array([
        p["mu"] * x[0] - omega * x[1] + s * x[0] * (x[0] ** 2 + x[1] ** 2),
        omega * x[0] + p["mu"] * x[1] + s * x[1] * (x[0] ** 2 + x[1] ** 2)]), ["x", "y"], {"mu": 0.0})


def test_cycles_from_normal_form_hopf_at_origin():
    # supercritical (s = -1): cycles r = sqrt(mu) for mu > 0, period 2 pi / omega, stable
    omega = 2.0
    vf = _hopf_normal_form(-1.0, omega)
    br = continue_equilibria(vf, "mu", [0.0, 0.0], {"mu": -0.5}, p_range=(-0.5, 0.5))
    (h,) = br.hopfs
    assert abs(h.value) < 1e-10 and np.allclose(h.coords, 0.0, atol=1e-12) and abs(h.omega - omega) < 1e-10
    cb = continue_cycles(vf, h, p_range=(-0.5, 1.0), n_mesh=400, max_steps=100)
    assert len(cb.values) > 5 and cb.values.max() > 0.5
    r = np.hypot(cb.states[:, 0], cb.states[:, 1])
    np.testing.assert_allclose(r, np.sqrt(cb.values), atol=1e-4)
    np.testing.assert_allclose(cb.periods, 2 * np.pi / omega, atol=1e-4)
    assert np.all(cb.stable) and not [q for q in cb.points if q.kind == "fold_cycle"]
    lc = cycle_at(vf, cb, 0.3, n_mesh=400)
    np.testing.assert_allclose(np.hypot(lc.xs[:, 0], lc.xs[:, 1]), np.sqrt(0.3), atol=1e-4)
    assert abs(lc.period - np.pi) < 1e-4
    # Floquet multiplier across the cycle: exp(-2 mu T) (linearise dr/dt at r = sqrt(mu))
    m = sorted(np.abs(lc.multipliers))
    assert abs(m[0] - np.exp(-2 * 0.3 * np.pi)) < 1e-4 and abs(m[1] - 1) < 1e-6


def test_cycles_from_subcritical_hopf_are_unstable_and_go_backwards():
    # s = +1: unstable cycles r = sqrt(-mu) for mu < 0
    vf = _hopf_normal_form(1.0, 1.0)
    br = continue_equilibria(vf, "mu", [0.0, 0.0], {"mu": -0.5}, p_range=(-0.5, 0.5))
    cb = continue_cycles(vf, br.hopfs[0], p_range=(-0.5, 0.5), n_mesh=400, max_steps=60)
    assert cb.values.min() < -0.4 and np.all(cb.values <= 1e-9)
    np.testing.assert_allclose(np.hypot(cb.states[:, 0], cb.states[:, 1]), np.sqrt(-cb.values), atol=1e-4)
    np.testing.assert_allclose(cb.periods, 2 * np.pi, atol=1e-4)
    assert not np.any(cb.stable[1:])


def test_first_lyapunov_coefficient_normal_form_and_fhn():
    from braindyn.analysis import first_lyapunov

    # For x' = mu x - w y + s x r^2 (and y'), with |q| = 1 the complex coordinate is z = (x + i y)/sqrt 2,
    # so z' = (mu + i w) z + 2 s |z|^2 z and l1 = Re c1 / w = 2 s / w.
    for s, w in ((-1.0, 2.0), (1.0, 1.0), (-0.5, 3.0)):
        assert abs(first_lyapunov(_hopf_normal_form(s, w), [0.0, 0.0], "mu", 0.0) - 2 * s / w) < 1e-7
    br = continue_equilibria(FHN, "I", [-1.2, -0.62], p_range=(0, 2))
    assert br.criticality == ["subcritical", "subcritical"]
    assert all(h.to_dict()["criticality"] == "subcritical" for h in br.hopfs)
    # consistent with the cycle branch: unstable cycles leave I = 0.33128 towards lower I (stable rest)
    cb = continue_cycles(FHN, br.hopfs[0], p_range=(0, 1.0), n_mesh=400, max_steps=5)
    assert cb.values[1] < br.hopfs[0].value and not cb.stable[1]


def test_fhn_cycle_branch_ends_at_the_other_hopf_without_spurious_folds():
    br = continue_equilibria(FHN, "I", [-1.2, -0.62], p_range=(0, 2))
    cb = continue_cycles(FHN, br.hopfs[0], p_range=(0, 1.8), n_mesh=800, max_steps=400)
    # the field is symmetric under (V, w, I) -> (-V, 2a/b - w, 2a/b - I): LPCs at I_f and 1.75 - I_f
    lpc = sorted(q.value for q in cb.points if q.kind == "fold_cycle")
    assert len(lpc) == 2
    assert abs(lpc[0] - 0.32418) < 1e-4 and abs(lpc[0] + lpc[1] - 2 * A / B) < 2e-4
    end = cb.points[-1]
    VH = np.sqrt(1 - B / TAU)
    assert end.kind == "hopf" and abs(end.value - (VH ** 3 / 3 - VH + (VH + A) / B)) < 1e-8
    assert "Hopf" in cb.reason and abs(cb.values[-1] - end.value) < 1e-2
    # period at I = 0.8 (refcases: 36.52)
    assert abs(cycle_at(FHN, cb, 0.8, n_mesh=800).period - 36.52) / 36.52 < 5e-3
