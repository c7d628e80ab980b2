"""The analysis gallery through the CLI: one JSON line, a figure, and located points checked
against independent references (closed forms, refcases, scipy)."""
import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve

from braindyn import cli

KEYS = {"fixed_points", "hopf_points", "fold_points", "limit_cycle_period"}


def _run(name, capsys, tmp_path, *sets):
    png = tmp_path / f"{name}.png"
    argv = ["run", name, "--json", "--plot", str(png)]
    for s in sets:
        argv += ["--set", s]
    assert cli.main(argv) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 1, lines  # exactly one JSON object on stdout
    figs = json.loads(lines[0])
    assert KEYS <= set(figs)
    assert png.stat().st_size > 10_000
    return figs


def _coords(fp):
    return list(fp["coords"].values())


def test_qif_phase(capsys, tmp_path):
    f = _run("qif-phase", capsys, tmp_path)
    # refcases: I = 3 fixed points; rheobase a0 (Vc - Vr)^2 / 4 at V = (Vr + Vc) / 2
    roots = -57.5 + np.array([-1, 1]) * np.sqrt(7.5 ** 2 - 3 / 0.07)  # 0.07 (V + 65)(V + 50) + 3 = 0
    np.testing.assert_allclose([_coords(fp)[0] for fp in f["fixed_points"]], roots, atol=2e-6)
    np.testing.assert_allclose(roots, [-61.15963, -53.84037], atol=1e-5)
    assert [fp["stability"] for fp in f["fixed_points"]] == ["stable node", "unstable node"]
    (fold,) = f["fold_points"]
    assert abs(fold["I"] - 0.07 * 15 ** 2 / 4) < 1e-6 and abs(fold["coords"]["V"] + 57.5) < 1e-5


def test_expif_phase(capsys, tmp_path):
    f = _run("expif-phase", capsys, tmp_path)
    np.testing.assert_allclose([_coords(fp)[0] for fp in f["fixed_points"]], [-64.99322, -58.06315], atol=1e-5)
    # fold where e^{(V - V_T)/Delta_T} = 1: V = V_T, I = (V_T - V_rest) - Delta_T = 4 (refcases rheobase)
    (fold,) = f["fold_points"]
    assert abs(fold["I"] - 4.0) < 1e-6 and abs(fold["coords"]["V"] + 60.0) < 1e-5


def test_fhn_bifurcation(capsys, tmp_path):
    f = _run("fhn-bifurcation", capsys, tmp_path)
    a, b, tau = 0.7, 0.8, 12.5
    VH = np.sqrt(1 - b / tau)  # trace J = 1 - V^2 - b / tau = 0
    I_H = sorted(v ** 3 / 3 - v + (v + a) / b for v in (-VH, VH))
    np.testing.assert_allclose([h["I"] for h in f["hopf_points"]], I_H, atol=1e-6)
    np.testing.assert_allclose([h["I"] for h in f["hopf_points"]], [0.33128, 1.41872], atol=1e-5)
    assert [h["criticality"] for h in f["hopf_points"]] == ["subcritical", "subcritical"]
    # cycle branch from 0.33128 ends at the other Hopf point; its only folds of cycles are the
    # symmetric pair I_f, 2a/b - I_f (symmetry (V, w, I) -> (-V, 2a/b - w, 2a/b - I))
    lpc = sorted(q["I"] for q in f["fold_cycle_points"])
    assert len(lpc) == 2 and abs(lpc[0] + lpc[1] - 2 * a / b) < 2e-4
    assert "Hopf" in f["cycle_branch_end"] and not f["fold_points"]
    assert abs(f["limit_cycle_period"] - 36.52) / 36.52 < 5e-3  # refcases
    (fp,) = f["fixed_points"]
    np.testing.assert_allclose(_coords(fp), [-0.272901, 0.533874], atol=1e-6)
    assert fp["stability"] == "unstable node"


def test_fhn_phase(capsys, tmp_path):
    f = _run("fhn-phase", capsys, tmp_path)
    assert abs(f["limit_cycle_period"] - 36.52) / 36.52 < 5e-3
    assert abs(f["limit_cycle"]["min"]["V"] + 1.93) < 0.01 and abs(f["limit_cycle"]["max"]["V"] - 1.91) < 0.01
    assert f["limit_cycle"]["stable"]


def test_izhikevich_bifurcation(capsys, tmp_path):
    f = _run("izhikevich-bifurcation", capsys, tmp_path)
    # SN: discriminant of 0.04 V^2 + (5 - b) V + 140 + I = 0 vanishes -> I = (5 - b)^2 / 0.16 - 140 = 4
    (sn,) = f["fold_points"]
    assert abs(sn["I"] - 4.0) < 1e-6
    (h,) = f["hopf_points"]  # refcases: Hopf at 3.7975, V = -62.25 (trace 0.08 V + 5 - a = 0)
    assert abs(h["I"] - 3.7975) < 1e-4 and abs(h["coords"]["V"] + 62.25) < 1e-5
    np.testing.assert_allclose([_coords(fp) for fp in f["fixed_points"]],
                               [[-62.7386, -12.5477], [-57.2614, -11.4523]], atol=1e-4)
    assert [fp["stability"] for fp in f["fixed_points"]] == ["stable focus", "saddle"]


def test_hr_fast_slow(capsys, tmp_path):
    f = _run("hr-fast-slow", capsys, tmp_path)
    # fast subsystem equilibria: y = 1 - 5x^2, z = I + 1 - x^3 - 2x^2; folds where dz/dx = 0:
    # x = -4/3 -> z = I + 1 - 32/27 (= 76/27 at I = 3), and x = 0 -> z = I + 1
    zs = sorted(q["z"] for q in f["fold_points"])
    np.testing.assert_allclose(zs, [76 / 27, 4.0], atol=1e-6)
    lo, hi = f["z_range_of_trajectory"]  # the burst oscillates between the folds of the fast subsystem
    assert 2.5 < lo < 76 / 27 + 0.3 and 76 / 27 < hi < 4.0
    # spiking cycle of the fast subsystem at z = 3 (continued from a simulated cycle) against an
    # independent scipy simulation (from near the unstable upper focus, which the cycle surrounds) of x' = y - x^3 + 3x^2 - z + I, y' = 1 - 5x^2 - y
    z, I = f["z_cycle"], f["I"]
    rhs = lambda t, v: [v[1] - v[0] ** 3 + 3 * v[0] ** 2 - z + I, 1 - 5 * v[0] ** 2 - v[1]]  # noqa: E731
    ev = lambda t, v: v[0]  # noqa: E731
    ev.direction = 1
    sol = solve_ivp(rhs, (0, 600), [0.5, 0.0], method="DOP853", rtol=1e-11, atol=1e-12, events=ev)
    T_sim = float(np.mean(np.diff(sol.t_events[0][-10:])))
    assert abs(f["limit_cycle_period"] - T_sim) / T_sim < 5e-3


def test_wong_wang_phase(capsys, tmp_path):
    f = _run("wong-wang-phase", capsys, tmp_path)
    np.testing.assert_allclose([_coords(fp) for fp in f["fixed_points"]],
                               [[0.04281, 0.63785], [0.22022, 0.22022], [0.63785, 0.04281]], atol=1e-5)
    assert [fp["stability"] for fp in f["fixed_points"]] == ["stable node", "saddle", "stable node"]
    # folds in coherence: an independent numpy model, F = 0 and det F_x = 0 by scipy fsolve
    JE, JI, I0, Jx, g, ts, a, b, d, mu0 = 0.2609, 0.0497, 0.3255, 5.2e-4, 6.41e-4, 100.0, 270.0, 108.0, 0.154, 20.0

    def F(s, c):
        x1 = JE * s[0] - JI * s[1] + I0 + Jx * mu0 * (1 + c / 100)
        x2 = JE * s[1] - JI * s[0] + I0 + Jx * mu0 * (1 - c / 100)
        H = lambda x: (a * x - b) / (1 - np.exp(-d * (a * x - b)))  # noqa: E731
        return np.array([-s[0] / ts + (1 - s[0]) * g * H(x1), -s[1] / ts + (1 - s[1]) * g * H(x2)])

    def ext(z):
        h = 1e-6
        J = np.column_stack([(F(z[:2] + h * e, z[2]) - F(z[:2] - h * e, z[2])) / (2 * h) for e in np.eye(2)])
        return np.concatenate([F(z[:2], z[2]), [np.linalg.det(J) * 1e4]])

    folds = sorted(f["fold_points"], key=lambda q: q["coherence"])
    assert len(folds) == 2 and abs(folds[0]["coherence"] + folds[1]["coherence"]) < 1e-4
    z = fsolve(ext, [*_coords(folds[1]), folds[1]["coherence"]], xtol=1e-13)
    assert abs(z[2] - folds[1]["coherence"]) < 1e-4

    # in mu0 at c = 0: the decision states end at a fold (same extended system, mu0 free)
    def ext_mu(z):
        s, m = z[:2], z[2]
        h = 1e-6
        G = lambda s_: F_mu(s_, m)  # noqa: E731
        J = np.column_stack([(G(s + h * e) - G(s - h * e)) / (2 * h) for e in np.eye(2)])
        return np.concatenate([G(s), [np.linalg.det(J) * 1e4]])

    def F_mu(s, m):
        x1 = JE * s[0] - JI * s[1] + I0 + Jx * m
        x2 = JE * s[1] - JI * s[0] + I0 + Jx * m
        H = lambda x: (a * x - b) / (1 - np.exp(-d * (a * x - b)))  # noqa: E731
        return np.array([-s[0] / ts + (1 - s[0]) * g * H(x1), -s[1] / ts + (1 - s[1]) * g * H(x2)])

    (fm, *_) = f["mu0_fold_points"]
    z = fsolve(ext_mu, [*_coords(fm), fm["mu0"]], xtol=1e-13)
    assert abs(z[2] - fm["mu0"]) < 1e-4 and abs(fm["mu0"] - 65.682) < 0.01
    # and the symmetric state changes stability at two pitchforks: on s1 = s2 = s, F_1 = 0 and the
    # antisymmetric eigenvalue dF_1/ds_1 - dF_1/ds_2 = 0
    def pitch(z):
        s, m = z
        h = 1e-6
        d1 = (F_mu([s + h, s], m)[0] - F_mu([s - h, s], m)[0]) / (2 * h)
        d2 = (F_mu([s, s + h], m)[0] - F_mu([s, s - h], m)[0]) / (2 * h)
        return [F_mu([s, s], m)[0], (d1 - d2) * 100]

    bps = f["mu0_branch_points"]
    assert len(bps) == 2
    for bp in bps:
        z = fsolve(pitch, [bp["coords"]["s1"], bp["mu0"]], xtol=1e-13)
        # on the symmetric state: the JSON is unrounded (two 6-decimal roundings could differ by a
        # whole 1e-6); at a pitchfork the antisymmetric direction of F_x is singular, so nothing
        # pins s1 - s2 there: round-off grows it to ~6e-8 here and up to 9e-6 when the start is
        # perturbed by 1e-16..1e-6 (200 trials); the decision states differ by > 0.5
        assert abs(z[1] - bp["mu0"]) < 1e-4 and abs(bp["coords"]["s1"] - bp["coords"]["s2"]) < 1e-4


def test_adex_phase_no_rest_above_rheobase_and_rest_below(capsys, tmp_path):
    f = _run("adex-phase", capsys, tmp_path, "duration=500")
    assert f["spike_count"] == 9 and f["fixed_points"] == []  # refcases: tonic, 9 spikes in 500 ms
    # with a = 0, w* = 0: rest solves -(V + 70) + 2 e^{(V + 50)/2} + 0.5 I = 0, no root at I = 65
    f = _run("adex-phase", capsys, tmp_path, "I=10", "duration=100")
    g = lambda V: -(V + 70) + 2 * np.exp((V + 50) / 2) + 0.5 * 10  # noqa: E731
    V_rest, V_saddle = brentq(g, -80, -50), brentq(g, -50, -30)
    np.testing.assert_allclose([_coords(fp)[0] for fp in f["fixed_points"]], [V_rest, V_saddle], atol=1e-6)
    assert f["fixed_points"][0]["stable"] and f["fixed_points"][1]["stability"] == "saddle"


@pytest.mark.parametrize("name", ["hh-bifurcation"])
def test_hh_bifurcation(name, capsys, tmp_path):
    f = _run(name, capsys, tmp_path)
    h = f["hopf_points"]
    assert abs(h[0]["I"] - 9.78) < 0.02 and h[0]["criticality"] == "subcritical"  # Rinzel & Miller 1980
    assert h[-1]["criticality"] == "supercritical"  # the upper Hopf point (I ~ 154.5) of classic HH
