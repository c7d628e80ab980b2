"""Independent references for the neuron tests: scipy solve_ivp with threshold events.

The vector fields here are re-typed from the papers in NumPy (never taken from braindyn),
so a wrong sign or constant in a model fails the comparison.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

RTOL, ATOL = 1e-10, 1e-10


def spikes_ivp(f, y0, t_end, *, V_th, reset, t_ref=0.0, freeze=(0,), max_step=0.05):
    """Spike times of a reset model ``dy/dt = f(t, y)``: integrate to the threshold event
    ``y[0] = V_th`` (upward), apply ``reset(y)``, hold the ``freeze`` components for ``t_ref``.

    Returns the spike times (ms)."""
    t, y = 0.0, np.asarray(y0, float)
    out = []
    ev = lambda tt, yy: yy[0] - V_th
    ev.terminal, ev.direction = True, 1
    while t < t_end:
        sol = solve_ivp(f, (t, t_end), y, method="LSODA", rtol=RTOL, atol=ATOL, events=ev, max_step=max_step)
        if sol.status != 1:
            break
        ts = float(sol.t_events[0][0])
        out.append(ts)
        y = reset(np.array(sol.y_events[0][0]))
        t = ts
        if t_ref > 0:
            frozen = y[list(freeze)].copy()

            def g(tt, yy):
                d = np.asarray(f(tt, yy), float)
                d[list(freeze)] = 0.0
                return d

            sol = solve_ivp(g, (t, min(t + t_ref, t_end)), y, method="LSODA", rtol=RTOL, atol=ATOL, max_step=max_step)
            y = sol.y[:, -1]
            y[list(freeze)] = frozen
            t = min(t + t_ref, t_end)
    return np.array(out)


def crossings_ivp(f, y0, t_end, V_th, max_step=0.02):
    """Upward crossings of ``y[0] = V_th`` (spike times of reset-free models) and the solution."""
    ev = lambda tt, yy: yy[0] - V_th
    ev.direction = 1
    sol = solve_ivp(f, (0.0, t_end), np.asarray(y0, float), method="LSODA", rtol=RTOL, atol=ATOL, events=ev,
                    max_step=max_step, dense_output=True)
    return np.asarray(sol.t_events[0]), sol


def test_reference_helper_reproduces_lif_period():
    # the helper itself against the analytic LIF period t_ref + tau ln((RI - V_reset)/(RI - V_th))
    t = spikes_ivp(lambda tt, y: [(-y[0] + 22.0) / 10.0], [-5.0], 200.0, V_th=20.0,
                   reset=lambda y: np.array([-5.0]), t_ref=5.0)
    T = 5.0 + 10.0 * np.log(27.0 / 2.0)
    assert np.diff(t) == __import__("pytest").approx(np.full(len(t) - 1, T), abs=1e-6)


def assert_spikes_match(t, ref, dt):
    """Fixed-step spike times against an event-located reference: same count; the first spike
    is stamped at the end of the step that crosses (0 <= t - ref <= dt); every ISI within 4 dt
    (the reset is applied at the end of the crossing step, after the slow variables have
    integrated the overshoot: an O(dt) error per spike)."""
    t, ref = np.asarray(t), np.asarray(ref)
    assert len(t) == len(ref), (t, ref)
    assert -1e-6 <= t[0] - ref[0] <= dt + 1e-6, (t[0], ref[0])
    assert np.max(np.abs(np.diff(t) - np.diff(ref)), initial=0.0) <= 4 * dt + 1e-6
