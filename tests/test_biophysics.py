"""Ion equilibria against closed forms written here in plain numpy (constants typed in from CODATA)."""
import math

import numpy as np
import pytest

import braindyn as bd
from braindyn import biophysics as bp

F, R = 96485.33212, 8.314462618


def _vt(T):
    return 1000.0 * R * (T + 273.15) / F


@pytest.mark.parametrize("z,cin,cout,T", [(1, 400.0, 20.0, 6.3), (1, 50.0, 440.0, 6.3), (-1, 52.0, 560.0, 20.0),
                                         (2, 1e-4, 2.0, 37.0)])
def test_nernst_closed_form(z, cin, cout, T):
    ref = 1000.0 * R * (T + 273.15) / (z * F) * math.log(cout / cin)
    assert float(bp.nernst(cout, cin, z, T)) == pytest.approx(ref, rel=1e-12)


def test_ghk_current_closed_form_and_reversal():
    V = np.array([-80.0, -30.0, -1e-3, 10.0, 40.0])
    P, z, cin, cout, T = 2e-6, 2, 1e-4, 2.0, 20.0
    u = z * V / _vt(T)
    ref = P * z * F * u * (cin - cout * np.exp(-u)) / (1 - np.exp(-u))
    np.testing.assert_allclose(np.asarray(bp.ghk_current(V, P, cin, cout, z, T)), ref, rtol=1e-9)
    # V = 0 exactly: the limit P z F (c_in - c_out)
    assert float(bp.ghk_current(0.0, P, cin, cout, z, T)) == pytest.approx(P * z * F * (cin - cout), rel=1e-12)
    # zero current at the Nernst potential, outward above it (for a cation)
    E = float(bp.nernst(20.0, 400.0, 1, 6.3))
    assert abs(float(bp.ghk_current(E, 1e-6, 400.0, 20.0))) < 1e-10
    assert float(bp.ghk_current(E + 5, 1e-6, 400.0, 20.0)) > 0 > float(bp.ghk_current(E - 5, 1e-6, 400.0, 20.0))


def test_resting_potential_of_K_Na_Cl_membrane_equals_ghk():
    ions = bp.SQUID_IONS
    P = {"K": 1e-6, "Na": 4e-8, "Cl": 4.5e-7}
    T = 6.3
    num = P["K"] * 20.0 + P["Na"] * 440.0 + P["Cl"] * 52.0
    den = P["K"] * 400.0 + P["Na"] * 50.0 + P["Cl"] * 560.0
    ref = _vt(T) * math.log(num / den)
    V = float(bp.ghk_voltage(ions, P, T))
    assert V == pytest.approx(ref, rel=1e-12)
    # the GHK voltage is where the net GHK current of the three ions vanishes: find that zero
    # independently (bisection on the numpy currents) and compare
    def net(v):
        tot = 0.0
        for k, (z, ci, co) in {"K": (1, 400.0, 20.0), "Na": (1, 50.0, 440.0), "Cl": (-1, 52.0, 560.0)}.items():
            u = z * v / _vt(T)
            tot += P[k] * z * F * u * (ci - co * math.exp(-u)) / (1 - math.exp(-u))
        return tot
    lo, hi = -100.0, 0.1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if net(mid) < 0 else (lo, mid)
    assert V == pytest.approx(0.5 * (lo + hi), abs=1e-9)
    assert abs(float(bp.ghk_net_current(V, ions, P, T))) < 1e-9
    # between E_K and E_Na, as it must be
    assert float(ions["K"].reversal(T)) < V < float(ions["Na"].reversal(T))
    # a membrane permeable to K only rests at E_K
    only_k = float(bp.ghk_voltage(ions, {"K": 1.0, "Na": 0.0, "Cl": 0.0}, T))
    assert only_k == pytest.approx(float(ions["K"].reversal(T)), abs=1e-10)


def test_calcium_influx_factor_feeds_the_pool():
    k = bp.calcium_influx_factor(0.5)
    assert k == pytest.approx(1e4 / (2 * F * 0.5), rel=1e-12)
    pool = bd.neurons.channels.CalciumPool(k=k, tau=5.0, Ca_rest=0.05)
    d = pool.derivs(np.array([-60.0]), {"c": np.array([0.05])}, {"I_Ca": -1.0})["c"]
    assert float(d[0]) == pytest.approx(k, rel=1e-12)


def test_bad_input_errors():
    with pytest.raises(bd.BraindynError, match="concentration"):
        bp.nernst(-1.0, 10.0)
    with pytest.raises(bd.BraindynError, match="valence"):
        bp.nernst(1.0, 10.0, z=0)
    with pytest.raises(bd.BraindynError, match="absolute zero"):
        bp.thermal_voltage(-300.0)
    with pytest.raises(bd.BraindynError, match="permeabilities"):
        bp.ghk_voltage(bp.SQUID_IONS, {"K": 1.0})
    with pytest.raises(bd.BraindynError, match="monovalent"):
        bp.ghk_voltage({"Ca": bp.Ion("Ca", 2, 1e-4, 2.0)}, {"Ca": 1.0})


def test_gallery_nernst_ghk_json_and_plot(tmp_path, capsys):
    import json

    from braindyn import cli

    png = tmp_path / "ghk.png"
    assert cli.main(["run", "nernst-ghk", "--json", "--plot", str(png)]) == 0
    figs = json.loads(capsys.readouterr().out)
    vt = _vt(6.3)
    assert figs["E_K_mV"] == pytest.approx(vt * math.log(20 / 400), abs=1e-4)
    assert figs["E_Na_mV"] == pytest.approx(vt * math.log(440 / 50), abs=1e-4)
    assert figs["E_Cl_mV"] == pytest.approx(-vt * math.log(560 / 52), abs=1e-4)
    ref = vt * math.log((20 + 0.04 * 440 + 0.45 * 52) / (400 + 0.04 * 50 + 0.45 * 560))
    assert figs["V_rest_mV"] == pytest.approx(ref, abs=1e-4)
    assert png.stat().st_size > 1000


def test_calcium_pump_pool_rest_and_kinetics():
    pool = bp.CalciumPumpPool(v_max=0.5, Km=0.2, tau=8.0, Ca_inf=0.3, k=0.4)
    # resting concentration: the zero of the no-current kinetics, found by numpy's root finder
    roots = np.roots([1.0, 0.2 - 0.3 + 0.5 * 8.0, -0.3 * 0.2])
    c0 = float(roots[roots > 0][0])
    assert float(pool.rest()) == pytest.approx(c0, rel=1e-10)
    # the derivative written out: influx -k I_Ca, pump, recovery
    c, I = np.array([0.05, 1.0, 5.0]), -2.0
    ref = -0.4 * I - 0.5 * c / (c + 0.2) + (0.3 - c) / 8.0
    got = pool.derivs(np.zeros(3), {"c": c}, {"I_Ca": I})["c"]
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12)
    # no pump: the first-order pool of braindyn.neurons.channels, resting at Ca_inf
    plain = bp.CalciumPumpPool(v_max=0.0, Ca_inf=0.3)
    assert float(plain.rest()) == pytest.approx(0.3, rel=1e-12)
    assert pool.concentrations({"c": c})["Ca"] is c
