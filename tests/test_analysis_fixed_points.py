"""Fixed points, phase lines/planes and equilibrium continuation against analytic results."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import fsolve

from braindyn import neurons
from braindyn._errors import BraindynError
from braindyn.analysis import (classify, continue_equilibria, continue_fold, continue_hopf, find_fixed_points,
                               from_model, nullclines, phase_line, phase_plane, vector_field, bifurcation_grid)
from braindyn.models.decision_rate import WongWang

# FitzHugh-Nagumo written here (independent of braindyn.neurons)
FHN = vector_field(lambda x, p: jnp.array([x[0] - x[0] ** 3 / 3 - x[1] + p["I"], (x[0] + p["a"] - p["b"] * x[1]) / p["tau"]]),
                   ["V", "w"], dict(I=0.0, a=0.7, b=0.8, tau=12.5))


@pytest.mark.parametrize("A,label", [
    ([[-1, 0], [0, -2]], "stable node"), ([[1, 0], [0, 2]], "unstable node"), ([[1, 0], [0, -2]], "saddle"),
    ([[-0.1, 1], [-1, -0.1]], "stable focus"), ([[0.1, 1], [-1, 0.1]], "unstable focus"), ([[0, 1], [-1, 0]], "centre"),
    ([[-1, 0, 0], [0, 0.1, 1], [0, -1, 0.1]], "saddle-focus"), ([[-3.0]], "stable node"), ([[0.5]], "unstable node"),
])
def test_linear_systems_classified(A, label):
    A = np.array(A, float)
    b = np.arange(1.0, len(A) + 1)
    vf = vector_field(lambda x, p: jnp.asarray(A) @ x - jnp.asarray(b), len(A))
    fps = find_fixed_points(vf, bounds=[(-10, 10)] * len(A), n_guesses=50)
    assert len(fps) == 1
    np.testing.assert_allclose(fps[0].coords, np.linalg.solve(A, b), atol=1e-10)
    np.testing.assert_allclose(fps[0].jacobian, A, atol=1e-12)
    assert fps[0].stability == label
    assert classify(np.linalg.eigvals(A)) == label


def test_several_fixed_points_deduplicated():
    vf = vector_field(lambda x, p: jnp.array([jnp.sin(x[0]), -x[1]]), ["x", "y"])
    fps = find_fixed_points(vf, bounds=[(-7, 7), (-1, 1)], n_guesses=300)
    np.testing.assert_allclose([f.coords[0] for f in fps], np.pi * np.arange(-2, 3), atol=1e-10)
    assert [f.stability for f in fps] == ["saddle", "stable node", "saddle", "stable node", "saddle"]


def test_qif_phase_line_and_fold():
    vf = from_model(neurons.QIF(), params=["I"])
    pl = phase_line(vf, (-80, -30), {"I": 3.0})
    np.testing.assert_allclose([f.coords[0] for f in pl.fixed_points], [-61.15963, -53.84037], atol=1e-5)
    assert [f.stability for f in pl.fixed_points] == ["stable node", "unstable node"]
    br = continue_equilibria(vf, "I", [-65.0], {"I": 0.0}, p_range=(-1, 6))
    assert len(br.folds) == 1
    assert abs(br.folds[0].value - 0.07 * 15 ** 2 / 4) < 1e-8  # a0 (Vc - Vr)^2 / 4 = 3.9375
    assert abs(br.folds[0].coords[0] - (-57.5)) < 1e-6


def test_expif_fixed_points():
    pl = phase_line(from_model(neurons.ExpIF(), params=["I"]), (-80, -50), {"I": 0.0})
    np.testing.assert_allclose([f.coords[0] for f in pl.fixed_points], [-64.99322, -58.06315], atol=1e-5)


def test_fhn_fixed_point_and_hopf_points():
    fp = find_fixed_points(FHN, {"I": 0.8}, bounds=[(-3, 3), (-3, 3)])
    assert len(fp) == 1 and fp[0].stability == "unstable node"
    np.testing.assert_allclose(fp[0].coords, [-0.272901, 0.533874], atol=1e-6)
    br = continue_equilibria(FHN, "I", [-1.2, -0.62], p_range=(0, 2))
    # analytic: trace J = 1 - V^2 - b/tau = 0 -> V_H = +-sqrt(1 - b/tau), I = V - V^3/3 + (V + a)/b
    VH = np.sqrt(1 - 0.8 / 12.5)
    I_an = sorted(v ** 3 / 3 - v + (v + 0.7) / 0.8 for v in (-VH, VH))
    got = sorted(h.value for h in br.hopfs)
    np.testing.assert_allclose(got, I_an, atol=1e-9)
    np.testing.assert_allclose(got, [0.33128, 1.41872], atol=1e-5)
    assert not br.folds


def test_izhikevich_hopf_and_fold():
    vf = from_model(neurons.Izhikevich(), params=["I", "a", "b"])
    br = continue_equilibria(vf, "I", [-70.0, -14.0], {"I": 0.0}, p_range=(0, 6))
    assert abs(br.hopfs[0].value - 3.7975) < 1e-9 and abs(br.hopfs[0].coords[0] + 62.25) < 1e-7
    assert abs(br.folds[0].value - 4.0) < 1e-9
    # two-parameter fold curve: I_SN(b) = (5 - b)^2 / 0.16 - 140
    c = continue_fold(vf, br.folds[0], "b", {"I": 0.0}, p2_range=(0.1, 0.3))
    np.testing.assert_allclose(c.values[:, 0], (5 - c.values[:, 1]) ** 2 / 0.16 - 140, atol=1e-8)
    assert np.ptp(c.values[:, 1]) > 0.15
    # Hopf curve in (I, a): trace J = 0.08 V + 5 - a = 0 and det > 0
    h = continue_hopf(vf, br.hopfs[0], "a", {"I": 0.0}, p2_range=(0.01, 0.05))
    np.testing.assert_allclose(0.08 * h.states[:, 0] + 5 - h.values[:, 1], 0, atol=1e-8)
    fps = find_fixed_points(vf, {"I": 3.7}, bounds=[(-80, -40), (-20, 0)])
    np.testing.assert_allclose([f.coords for f in fps], [[-62.7386, -12.5477], [-57.2614, -11.4523]], atol=1e-4)
    assert [f.stability for f in fps] == ["stable focus", "saddle"]


def _ww_numpy(s, c, mu0=20.0):
    JE, JI, I0, Jx, g, ts, a, b, d = 0.2609, 0.0497, 0.3255, 5.2e-4, 6.41e-4, 100.0, 270.0, 108.0, 0.154
    x1 = JE * s[0] - JI * s[1] + I0 + Jx * mu0 * (1 + c / 100)
    x2 = JE * s[1] - JI * s[0] + I0 + Jx * mu0 * (1 - c / 100)
    H = lambda x: (a * x - b) / (1 - np.exp(-d * (a * x - b)))
    return np.array([-s[0] / ts + (1 - s[0]) * g * H(x1), -s[1] / ts + (1 - s[1]) * g * H(x2)])


def test_wong_wang_fixed_points_bistability_and_folds():
    vf = from_model(WongWang(), params=["mu0", "coherence"])
    fps = find_fixed_points(vf, {"coherence": 0.0}, bounds=[(0, 1), (0, 1)])
    np.testing.assert_allclose([f.coords for f in fps], [[0.04281, 0.63785], [0.22022, 0.22022], [0.63785, 0.04281]], atol=1e-5)
    assert [f.stability for f in fps] == ["stable node", "saddle", "stable node"]
    one = find_fixed_points(vf, {"coherence": 100.0}, bounds=[(0, 1), (0, 1)])
    assert len(one) == 1 and one[0].stable
    np.testing.assert_allclose(one[0].coords, [0.68137, 0.02532], atol=1e-5)
    br = continue_equilibria(vf, "coherence", fps[2].coords, {"coherence": 0.0}, p_range=(-100, 100))
    folds = sorted(br.folds, key=lambda q: q.value)
    assert len(folds) == 2
    # independent fold: F = 0 and det(F_x) = 0 (finite differences, numpy model, scipy fsolve)
    def ext(z):
        s, c = z[:2], z[2]
        h = 1e-6
        J = np.column_stack([(_ww_numpy(s + h * e, c) - _ww_numpy(s - h * e, c)) / (2 * h) for e in np.eye(2)])
        return np.concatenate([_ww_numpy(s, c), [np.linalg.det(J) * 1e4]])
    z = fsolve(ext, np.concatenate([folds[1].coords, [folds[1].value]]), xtol=1e-13)
    assert abs(z[2] - folds[1].value) < 1e-4
    assert abs(folds[0].value + folds[1].value) < 1e-6  # symmetry c -> -c
    # bistable just inside, monostable just outside (both by the fixed-point search)
    c_f = folds[1].value
    assert len(find_fixed_points(vf, {"coherence": c_f - 0.5}, bounds=[(0, 1), (0, 1)])) == 3
    assert len(find_fixed_points(vf, {"coherence": c_f + 0.5}, bounds=[(0, 1), (0, 1)])) == 1


def test_nullclines_horizontal_vertical_and_multiple_branches():
    # dx/dt = y (x-nullcline: the horizontal line y = 0); dy/dt = x^2 - 1 (two vertical lines x = +-1)
    vf = vector_field(lambda z, p: jnp.array([z[1], z[0] ** 2 - 1.0]), ["x", "y"])
    ncl = nullclines(vf, (-2, 2), (-2, 2), resolution=101)
    assert len(ncl["x"]) == 1 and np.allclose(ncl["x"][0][:, 1], 0, atol=1e-12)
    assert np.ptp(ncl["x"][0][:, 0]) > 3.9
    assert len(ncl["y"]) == 2
    # compared unrounded (round(x, 9) == 1.0 flips with the last bits near a rounding boundary);
    # 1e-12: the refined points themselves lie within 1e-12 of x = +-1 (checked just below)
    np.testing.assert_allclose(sorted(float(np.mean(c[:, 0])) for c in ncl["y"]), [-1.0, 1.0], rtol=0, atol=1e-12)
    for c in ncl["y"]:
        assert np.allclose(np.abs(c[:, 0]), 1.0, atol=1e-12)
    pp = phase_plane(vf, (-2, 2), (-2, 2), resolution=101)
    assert [f.stability for f in pp.fixed_points] == ["centre", "saddle"]  # x = -1, x = +1


def test_nullcline_refinement_is_exact_on_curves():
    ncl = nullclines(FHN, (-3, 3), (-2, 3), {"I": 0.5}, resolution=61)
    c = np.concatenate(ncl["V"])
    np.testing.assert_allclose(c[:, 1], c[:, 0] - c[:, 0] ** 3 / 3 + 0.5, atol=1e-10)


def test_grid_mode():
    vf = vector_field(lambda x, p: jnp.array([p["r"] + x[0] ** 2]), ["x"], {"r": 0.0})
    g = bifurcation_grid(vf, "r", np.linspace(-1, 1, 5), bounds=[(-3, 3)])
    assert len(g.values) == 5  # 2 + 2 + 1 (r = 0, non-hyperbolic) + 0 + 0
    np.testing.assert_allclose(np.sort(g.states[g.values == -1][:, 0]), [-1, 1], atol=1e-8)


def test_bad_input_errors():
    with pytest.raises(BraindynError, match="bounds"):
        find_fixed_points(FHN, bounds=[(1, 0), (0, 1)])
    with pytest.raises(BraindynError, match="parameter"):
        continue_equilibria(FHN, "gK", [0.0, 0.0], p_range=(0, 1))
    with pytest.raises(BraindynError, match="p_range"):
        continue_equilibria(FHN, "I", [0.0, 0.0], p_range=(1, 0))
    with pytest.raises(BraindynError, match="2-D"):
        phase_plane(from_model(neurons.QIF()), (0, 1), (0, 1))
    with pytest.raises(BraindynError, match="variable"):
        from_model(neurons.HH(), variables=["V", "q"])
    with pytest.raises(BraindynError, match="unknown parameter"):
        FHN(jnp.zeros(2), gNa=1.0)


@pytest.mark.parametrize("rhs", [lambda x, m: m * x - x ** 2, lambda x, m: m * x - x ** 3])
def test_branch_points_transcritical_and_pitchfork(rhs):
    # the trivial branch x = 0 meets another branch at mu = 0: det F_x = mu changes sign, mu does not turn
    vf = vector_field(lambda x, p: jnp.array([rhs(x[0], p["mu"])]), ["x"], {"mu": -1.0})
    br = continue_equilibria(vf, "mu", [0.0], p_range=(-1, 1))
    assert [q.kind for q in br.points] == ["branch_point"]
    assert abs(br.points[0].value) < 1e-10 and not br.folds
