"""Chapter 2: the biophysics of the membrane -- ion equilibria, the voltage clamp, and beyond.

Run ``python examples/ch2_biophysics.py [--short] [--out DIR]``. It

1. computes the Nernst potentials of K+, Na+ and Cl- of the squid giant axon and the resting
   potential of a membrane permeable to all three (the Goldman--Hodgkin--Katz voltage equation),
   and checks that the net GHK current vanishes there;
2. voltage-clamps the Hodgkin--Huxley axon: the book's step of +56 mV from rest, steps to
   several potentials, the separation of I_Na and I_K by TTX and TEA, the curves g_K(V) and
   peak g_Na(V), and the fit of the n^4 time course (gallery entry ``hh-voltage-clamp``);
3. without ``--short``: the two-compartment Pinsky--Rinzel neuron at weak and strong coupling
   and the rebound burst of the thalamocortical neuron (gallery entries ``pinsky-rinzel`` and
   ``thalamocortical``), and the passive cable and the axon when the compartmental gallery
   entries (``cable``, ``axon``) are installed.

Figures go to ``DIR`` (default ``ch2_figures``). ``--short`` (what the test suite runs) does
parts 1 and 2 in the entry's quick mode.
"""
from __future__ import annotations

import argparse
import pathlib

from braindyn import biophysics as bp
from braindyn import gallery


def ion_equilibria(T=6.3):
    """Nernst potentials (mV), the GHK resting potential (mV) and the net GHK current there."""
    E = {k: float(ion.reversal(T)) for k, ion in bp.SQUID_IONS.items()}
    V_rest = float(bp.ghk_voltage(bp.SQUID_IONS, bp.SQUID_PERMEABILITY, T))
    P_abs = {k: 1e-6 * r for k, r in bp.SQUID_PERMEABILITY.items()}  # P_K = 1e-6 cm/s
    I_rest = float(bp.ghk_net_current(V_rest, bp.SQUID_IONS, P_abs, T))
    return E, V_rest, I_rest


def _entry(name, out_dir, overrides=None):
    e = gallery.get(name)
    params = e.params(overrides or {})
    report = e.compute(params)
    fig = e.plot(report, params)
    fig.savefig(out_dir / f"{name}.png", dpi=100)
    return report.figures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="quick mode: ion equilibria and the voltage clamp only")
    ap.add_argument("--out", default="ch2_figures", help="folder for the figures")
    args = ap.parse_args(argv)
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = {}

    # 1. ion equilibria of the squid axon
    E, V_rest, I_rest = ion_equilibria()
    print("squid axon at 6.3 C: " + ", ".join(f"E_{k} = {v:.2f} mV" for k, v in E.items()))
    print(f"GHK resting potential (P_K:P_Na:P_Cl = 1:0.04:0.45): {V_rest:.2f} mV; net GHK current there "
          f"{I_rest:.2e} uA/cm2")
    out["equilibria"] = {"E": E, "V_rest": V_rest, "I_rest": I_rest}
    _entry("nernst-ghk", out_dir)

    # 2. the voltage clamp of the HH axon
    f = _entry("hh-voltage-clamp", out_dir, {"quick": args.short})
    print(f"voltage clamp {f['V_rest_mV']:.2f} -> {f['V_command_mV']:.2f} mV: g_Na peak {f['gNa_peak']:.2f} "
          f"mS/cm2 at {f['t_gNa_peak_ms']:.2f} ms, g_K steady {f['gK_steady']:.2f} mS/cm2; "
          f"fitted tau_n {f['tau_n_fit_ms']:.3f} ms (closed form {f['tau_n_ms']:.3f})")
    for V, gk, gna in zip(f["levels_mV"], f["gK_steady_vs_V"], f["gNa_peak_vs_V"]):
        print(f"  V = {V:6.1f} mV: g_K steady {gk:7.3f}, g_Na peak {gna:7.3f} mS/cm2")
    out["hh-voltage-clamp"] = f

    if not args.short:
        # 3. two-compartment and thalamocortical neurons; cable and axon when available
        for name, over in (("pinsky-rinzel", {}), ("pinsky-rinzel", {"g_c": 10.5}), ("thalamocortical", {})):
            fr = _entry(name, out_dir, over)
            print(f"{name} {over}: {fr['spike_count']} spikes, {fr.get('burst_count')} bursts, "
                  f"spike times {fr['spike_times'][:8]}")
            out[f"{name}{over}"] = fr
        for name in ("cable", "axon"):
            if name in gallery.entries():
                e = gallery.get(name)
                over = {"quick": True} if "quick" in e.defaults else {}
                out[name] = _entry(name, out_dir, over)
                print(f"{name}: {out[name]}")
    return out


if __name__ == "__main__":
    main()
