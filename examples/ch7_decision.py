"""Chapter 7: perceptual decision making, the reduced rate model (Wong & Wang 2006) and the
spiking network it reduces (Wang 2002).

Run ``python examples/ch7_decision.py [--short] [--out DIR]``. It

1. finds the fixed points of the noise-free model three ways -- braindyn's phase-plane
   analysis of :class:`WongWang`, the same analysis of the noisy model with its noise off
   (:class:`WongWangOU`, four variables), and scipy on the equations written again in NumPy --
   and prints them side by side;
2. runs one noise-free trial: with the stimulus on, the state settles on the winner's
   fixed point;
3. runs the gallery entry ``decision-rate`` (``braindyn run decision-rate`` from the command
   line): 1000 noisy trials per coherence as one compiled ``jax.vmap`` of ``bd.simulate``,
   the psychometric and chronometric curves and example rate traces, written to ``DIR``
   (default ``ch7_figures``);
4. runs the spiking network of Wang (2002) (``braindyn run decision-spiking``): 2000 LIF
   neurons with AMPA, NMDA (Mg block) and GABA_A synapses, its all-to-all blocks summed once
   per presynaptic group (O(N) per step); trials at several coherences as one vmapped batch,
   the spontaneous and decision rates, and the psychometric curve.

``--short`` uses the entries' quick modes (rate model: 200 trials, four coherences; spiking
network: 500 neurons, 4 trials at 0 and 51.2 %): the suite runs it so.
"""
from __future__ import annotations

import argparse
import pathlib

import jax

import braindyn as bd
import braindyn.analysis as an
from braindyn import gallery
from braindyn.models import WongWangOU, fixed_points_scipy
from braindyn.models.decision_rate import WongWang


def fixed_points(coherence=0.0):
    """The noise-free model's fixed points ``(s1, s2, stable)``: braindyn (2-D model), braindyn
    (4-D noisy model, noise off, the OU currents at 0) and scipy."""
    pr = {"coherence": coherence}
    vf2 = an.from_model(WongWang(), params=["coherence"])
    fp2 = an.find_fixed_points(vf2, pr, bounds=[(0, 1), (0, 1)])
    vf4 = an.from_model(WongWangOU(sigma=0.0), params=["coherence"])
    fp4 = an.find_fixed_points(vf4, pr, bounds=[(0, 1), (0, 1), (-0.01, 0.01), (-0.01, 0.01)])
    as_rows = lambda fps: [(float(f.coords[0]), float(f.coords[1]), bool(f.stable)) for f in fps]
    return as_rows(fp2), as_rows(fp4), fixed_points_scipy(coherence)


def noise_free_trial(coherence=25.6, t_on=100.0, t_stim=2000.0, dt=0.1):
    """One trial without noise: the state ``(s1, s2)`` at stimulus end."""
    m = WongWangOU(coherence=coherence, sigma=0.0)
    stim = bd.inputs.section([0.0, 1.0], [t_on, t_stim])
    final, _, _ = bd.simulate(m, m.init_state(), int(round((t_on + t_stim) / dt)), dt, inputs={"stim": stim},
                              key=jax.random.PRNGKey(0), record=lambda s: {})
    return float(final["s1"][0]), float(final["s2"][0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="quick mode: 200 trials, four coherences")
    ap.add_argument("--out", default="ch7_figures", help="folder for the figures")
    args = ap.parse_args(argv)
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    # 1. fixed points, three ways
    fps = {c: fixed_points(c) for c in (0.0, 100.0)}
    for c, (b2, b4, sp) in fps.items():
        print(f"c = {c:g} %: fixed points (s1, s2, stable)")
        for name, rows in (("braindyn 2-D", b2), ("braindyn 4-D", b4), ("scipy", sp)):
            print(f"  {name:13s}", "  ".join(f"({a:.5f}, {b:.5f}, {'stable' if s else 'unstable'})"
                                             for a, b, s in rows))

    # 2. a noise-free trial ends on the stable fixed point with the stimulus on
    s_end = noise_free_trial(25.6)
    s_fp = [row for row in fixed_points_scipy(25.6) if row[2]]
    print(f"noise-free trial at c = 25.6 %: s = ({s_end[0]:.5f}, {s_end[1]:.5f}); "
          f"stable fixed points {[(round(a, 5), round(b, 5)) for a, b, _ in s_fp]}")

    # 3. the psychometric and chronometric curves (one vmapped batch of trials)
    entry = gallery.get("decision-rate")
    params = entry.params({"psychometric": True, "quick": args.short})
    report = entry.compute(params)
    f = report.figures
    print(f"{f['batch_trials']} trials in {f['batch_s']:.2f} s")
    for c, pc, rt, pu in zip(f["coherences"], f["p_correct"], f["mean_rt_ms"], f["p_undecided"]):
        print(f"  c = {c:5.1f} %: P(correct) {pc:.3f}, mean RT {rt} ms, undecided {pu:.3f}")
    fig = entry.plot(report, params)
    fig.savefig(out_dir / "decision-rate.png", dpi=100)

    # 4. the spiking network (Wang 2002): same protocol, rates in 50 ms windows
    spiking = gallery.get("decision-spiking")
    sp = spiking.params({"psychometric": True, "quick": args.short})
    rep = spiking.compute(sp)
    g = rep.figures
    print(f"spiking network, {g['n_neurons']} neurons: spontaneous rates E {g['rate_spont_hz'][0]:.2f} Hz, "
          f"I {g['rate_spont_hz'][1]:.2f} Hz; {g['batch_trials']} trials in {g['batch_s']:.1f} s")
    for c, pc, rt, w, lo in zip(g["coherences"], g["p_correct"], g["mean_rt_ms"], g["rate_winner_hz"],
                                g["rate_loser_hz"]):
        print(f"  c = {c:5.1f} %: P(correct) {pc:.2f}, mean RT {rt} ms, winner {w:.1f} Hz, loser {lo:.1f} Hz")
    spiking.plot(rep, sp).savefig(out_dir / "decision-spiking.png", dpi=100)
    return {"fixed_points": fps, "noise_free_end": s_end, "decision-rate": f, "decision-spiking": g}


if __name__ == "__main__":
    main()
