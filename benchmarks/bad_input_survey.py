"""Survey of bad inputs across the Python API and the CLI: does each one fail clearly?

Every case is a short piece of Python (or a ``braindyn`` command line) fed a value that is
wrong: a string for a number, NaN or inf, a negative time constant, the wrong shape, a typo
in a name, an inverted range, an invalid connectivity, a bad ``--set`` / ``--plot`` /
``--unroll`` on the command line. The cases are generated systematically (every neuron model
and synapse/plasticity component against the same kinds of value) and each one is classified:

* ``clear``: a braindyn error (:class:`braindyn.BraindynError`, or
  :class:`braindyn.SimulationDiverged`) naming the problem; on the CLI a one-line
  ``braindyn: error:`` (or an argparse usage error) and a non-zero status;
* ``correct``: a case with a documented behaviour that asserts its result (e.g. the event
  kernel on a CSR built with ``validate=False``: finite, in bounds, equal to the JAX path);
* ``warned``: a unit-sanity case (seconds for ms) that emitted :class:`braindyn.UnitWarning`,
  as expected (the value may be meant, so it is not an error);
* ``unclear``: another exception (a raw JAX/NumPy/Python error); on the CLI the one-line
  ``unexpected error`` summary (no traceback, but no braindyn check either);
* ``silent``: accepted without an error (a wrong result, or a warning case without warning);
* ``traceback``: a CLI command that let an exception escape (a raw traceback);
* ``crash``: the process died (segmentation fault, abort) while running the case.

Each group runs in its own subprocess, so a crash is caught and attributed to the case that
was running. The run-related cases (records, store, ``state0``, input names, run arguments)
are tagged ``run`` so their owner can be seen in the summary.

Usage::

    PYTHONPATH=. python benchmarks/bad_input_survey.py            # table + summary
    PYTHONPATH=. python benchmarks/bad_input_survey.py --json out.json --show unclear,silent

Runs on CPU in a few minutes (every case is tiny).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict

# ---------------------------------------------------------------------------------- the cases
# A case is (group, category, label, code, expect); ``code`` runs in a namespace with bd, bc,
# np, jnp, S (synapses), L (plasticity), N (neurons), cli(argv) and tmp (a temporary folder).
# expect: "error" (default), "warn" (a UnitWarning), "correct" (the case asserts the documented,
# correct result: a spike record that keeps every spike, the event kernel on a CSR the user left
# unchecked, a --plot folder; a failed assertion is a silent wrong result).

NEURONS = ["LIF", "QIF", "ExpIF", "AdEx", "AdQIF", "GIF", "Izhikevich", "HH", "WangBuzsaki", "MorrisLecar",
           "HindmarshRose", "FHN", "Theta", "RateUnit", "ThresholdLinear", "WilsonCowan", "PoissonGroup"]
COMPONENTS = [("S", "Exponential"), ("S", "Alpha"), ("S", "DualExponential"), ("S", "AMPA"), ("S", "GABAa"),
              ("S", "NMDA"), ("S", "GABAb"), ("S", "WangNMDA"), ("S", "ConductanceOutput"), ("S", "MgBlockOutput"),
              ("L", "TsodyksMarkram"), ("L", "TsodyksMarkramRate"), ("L", "STDP"), ("L", "TripletSTDP"),
              ("L", "InhibitorySTDP"), ("L", "Hebb"), ("L", "Oja"), ("L", "BCM")]


def _param_names(modname, clsname):
    """(first bounded parameter, first 'finite' parameter, has V_init) of a component class."""
    import braindyn as bd  # noqa: F401
    import braindyn.neurons as N
    import braindyn.plasticity as L
    import braindyn.synapses as S

    obj = {"N": N, "S": S, "L": L}[modname]
    import inspect

    cls = getattr(obj, clsname)
    m = cls()
    kw = set(inspect.signature(cls.__init__).parameters)
    ps = [p for p in bd.params.describe(m) if p.name in kw]
    bounded = [p.name for p in ps if p.bound in ("positive", "nonnegative", "probability") and p.name != "t_ref"]
    finite = [p.name for p in ps if p.bound == "finite" and p.name not in ("t_ref",)]
    names = [p.name for p in ps]
    if not bounded and not finite:  # a constructor of its own (e.g. Alpha(tau)): its first argument
        bounded = [k for k in inspect.signature(cls.__init__).parameters if k != "self"][:1]
    return (bounded[0] if bounded else None, finite[0] if finite else None,
            "V_init" in names, getattr(m, "n", None) is not None)


def build_cases():
    cases = []

    def add(group, cat, label, code, expect="error"):
        if any(c["label"] == label for c in cases):
            return
        cases.append({"group": group, "category": cat, "label": label, "code": code, "expect": expect})

    # 1. neuron constructors: every model against the same bad values
    for name in NEURONS:
        pos, fin, has_vinit, has_n = _param_names("N", name)
        g = "neurons"
        if pos:
            add(g, "negative/zero", f"{name}({pos}=-1)", f"N.{name}({pos}=-1.0)")
            add(g, "NaN/inf", f"{name}({pos}=nan)", f"N.{name}({pos}=float('nan'))")
            add(g, "string for number", f"{name}({pos}='10')", f"N.{name}({pos}='10')")
            add(g, "wrong shape", f"{name}(n=4, {pos}=<3 values>)",
                f"N.{name}(n=4, {pos}=jnp.full(3, float(getattr(N.{name}(), '{pos}'))))")
        if fin:
            add(g, "NaN/inf", f"{name}({fin}=inf)", f"N.{name}({fin}=float('inf'))")
            add(g, "wrong type", f"{name}({fin}=1j)", f"N.{name}({fin}=1j)")
        if has_vinit:
            add(g, "NaN/inf", f"{name}(n=3, V_init with a NaN)",
                f"N.{name}(n=3, V_init=np.array([-65.0, float('nan'), -65.0]))")
    for name in ("LIF", "HH", "Izhikevich", "RateUnit"):
        for bad in ("0", "-1", "'4'", "2.5"):
            add("neurons", "bad size", f"{name}(n={bad})", f"N.{name}(n={bad})")
    add("neurons", "wrong shape", "LIF(n=100, tau=jnp.full(50, 10.))", "N.LIF(n=100, tau=jnp.full(50, 10.0))")
    add("neurons", "string for number", "LIF(tau='10')", "N.LIF(tau='10')")
    add("neurons", "unknown name", "LIF(taum=10)", "N.LIF(taum=10.0)")
    add("neurons", "wrong type", "LIF(tau=[1, 'a'])", "N.LIF(n=2, tau=[1, 'a'])")
    add("neurons", "unknown name", "AdEx.preset('tonik')", "N.AdEx.preset('tonik')")
    add("neurons", "unknown name", "Izhikevich.preset('regular')", "N.Izhikevich.preset('regular')")
    add("neurons", "unknown name", "GIF.preset('tonic')", "N.GIF.preset('tonic')")

    # 2. synapse and plasticity components
    for mod, name in COMPONENTS:
        pos, fin, _, _ = _param_names(mod, name)
        g = "components"
        p = pos or fin
        add(g, "NaN/inf", f"{name}({p}=nan)", f"{mod}.{name}({p}=float('nan'))")
        add(g, "string for number", f"{name}({p}='x')", f"{mod}.{name}({p}='x')")
        if pos:
            add(g, "negative/zero", f"{name}({pos}=-1)", f"{mod}.{name}({pos}=-1.0)")
    add("components", "inverted range", "STDP(w_min=5, w_max=1)", "L.STDP(w_min=5.0, w_max=1.0)")
    add("components", "inverted range", "Hebb(w_min=5, w_max=1)", "L.Hebb(w_min=5.0, w_max=1.0)")
    add("components", "inverted range", "BCM(w_min=5, w_max=1)", "L.BCM(w_min=5.0, w_max=1.0)")
    add("components", "out of range", "TsodyksMarkram(U=1.5)", "L.TsodyksMarkram(U=1.5)")

    # 3. projections and networks
    pj = "SP = S.SynapticProjection; C = bc.fixed_prob(10, 10, 0.3, seed=0)\n"
    g = "network"
    add(g, "inverted range", "SynapticProjection(pre_range=(5, 2))", pj + "SP('E', 'E', C, 1.0, pre_range=(5, 2))")
    add(g, "out of range", "SynapticProjection(pre_range=(0, 100))", pj + "SP('E', 'E', C, 1.0, pre_range=(0, 100))")
    add(g, "NaN/inf", "SynapticProjection(weight=nan)", pj + "SP('E', 'E', C, float('nan'))")
    add(g, "NaN/inf", "SynapticProjection(weight=[.., nan])",
        pj + "w = np.ones(C.nnz); w[3] = np.nan; SP('E', 'E', C, w)")
    add(g, "wrong shape", "SynapticProjection(weight of 7 values)", pj + "SP('E', 'E', C, np.ones(7))")
    add(g, "NaN/inf", "SynapticProjection(dense conn with NaN)", "S.SynapticProjection('E', 'E', np.full((3, 3), np.nan), 1.0)")
    add(g, "wrong type", "SynapticProjection(conn='all')", "S.SynapticProjection('E', 'E', 'all', 1.0)")
    add(g, "wrong type", "SynapticProjection(synapse='exp')", pj + "SP('E', 'E', C, 1.0, 'exp')")
    add(g, "negative/zero", "SynapticProjection(delay=-1)", pj + "SP('E', 'E', C, 1.0, delay=-1.0)")
    add(g, "NaN/inf", "SynapticProjection(delay=nan)", pj + "SP('E', 'E', C, 1.0, delay=float('nan'))")
    add(g, "negative/zero", "SynapticProjection(dt=0)", pj + "SP('E', 'E', C, 1.0, dt=0.0)")
    add(g, "string for number", "SynapticProjection(weight='1')", pj + "SP('E', 'E', C, '1')")
    add(g, "invalid connectivity", "SynapticProjection(CSR validate=False, target 7 of 3)",
        "c = bc.CSR(np.array([0, 2, 3]), np.array([0, 7, 1], np.int32), 2, 3, validate=False)\n"
        "S.SynapticProjection('A', 'B', c, 1.0)")
    add(g, "wrong type", "Network({'E': 'notamodel'})", "bd.Network({'E': 'notamodel'})")
    add(g, "wrong type", "Network({1: LIF()})", "bd.Network({1: N.LIF()})")
    add(g, "bad name", "Network({'E.x': LIF()})", "bd.Network({'E.x': N.LIF()})")
    add(g, "bad name", "Network({'': LIF()})", "bd.Network({'': N.LIF()})")
    add(g, "wrong type", "Network([LIF()])", "bd.Network([N.LIF()])")
    add(g, "unknown name", "projection to unknown population", pj +
        "bd.Network({'E': N.LIF(n=10)}, {'EX': SP('E', 'X', C, 1.0)})")
    add(g, "wrong shape", "projection size != population size", pj +
        "bd.Network({'E': N.LIF(n=12)}, {'EE': SP('E', 'E', C, 1.0)}).init_state()")
    add(g, "wrong type", "Network(projections={'p': 3})", "bd.Network({'E': N.LIF()}, {'p': 3})")

    # 4. connectivity
    g = "connect"
    for bad in ("1.5", "-0.1", "float('nan')", "'0.1'", "None"):
        add(g, "out of range" if bad in ("1.5", "-0.1") else "wrong type", f"fixed_prob(p={bad})",
            f"bc.fixed_prob(10, 10, {bad}, seed=0)")
    for bad in ("-1", "None", "1.5", "'a'", "True"):
        add(g, "bad seed", f"fixed_prob(seed={bad})", f"bc.fixed_prob(10, 10, 0.1, seed={bad})")
    for bad in ("-1", "2.5", "'10'"):
        add(g, "bad size", f"fixed_prob(n_pre={bad})", f"bc.fixed_prob({bad}, 10, 0.1, seed=0)")
    add(g, "out of range", "fixed_out_degree(k > n_post)", "bc.fixed_out_degree(10, 5, 6, seed=0)")
    add(g, "negative/zero", "fixed_in_degree(k=-1)", "bc.fixed_in_degree(10, 5, -1, seed=0)")
    add(g, "out of range", "fixed_total_num(num > pairs)", "bc.fixed_total_num(3, 3, 10, seed=0)")
    for bad in ("0.0", "-1.0", "float('nan')"):
        add(g, "negative/zero", f"gaussian_prob(sigma={bad})", f"bc.gaussian_prob(4, 4, {bad}, seed=0)")
    add(g, "out of range", "small_world(k odd)", "bc.small_world(10, 3, 0.1, seed=0)")
    add(g, "out of range", "small_world(k >= n)", "bc.small_world(4, 4, 0.1, seed=0)")
    add(g, "out of range", "small_world(beta=2)", "bc.small_world(10, 2, 2.0, seed=0)")
    add(g, "out of range", "scale_free(m >= n)", "bc.scale_free(3, 3, seed=0)")
    add(g, "negative/zero", "scale_free(m=0)", "bc.scale_free(10, 0, seed=0)")
    add(g, "out of range", "from_ij(post out of range)", "bc.from_ij([0, 1], [0, 5], 2, 3)")
    add(g, "wrong shape", "from_ij(lengths differ)", "bc.from_ij([0, 1], [0], 2, 3)")
    add(g, "wrong type", "from_ij(float indices)", "bc.from_ij([0.5, 1.0], [0, 1], 2, 3)")
    add(g, "wrong shape", "from_matrix(1-D)", "bc.from_matrix(np.ones(4))")
    add(g, "wrong shape", "CSR(indptr too short)", "bc.CSR(np.array([0, 1]), np.array([0, 1]), 2, 3)")
    add(g, "out of range", "CSR(index >= n_post)", "bc.CSR(np.array([0, 1, 2]), np.array([0, 3]), 2, 3)")
    add(g, "out of range", "CSR(decreasing indptr)", "bc.CSR(np.array([0, 2, 1]), np.array([0, 1]), 2, 3)")
    add(g, "wrong type", "CSR(float indices)", "bc.CSR(np.array([0, 1, 2]), np.array([0.0, 1.5]), 2, 3)")
    add(g, "out of range", "all_to_all(allow_self=False, 3 x 4)", "bc.all_to_all(3, 4, allow_self=False)")
    add(g, "out of range", "ProceduralConn(p=2)", "bc.ProceduralConn(10, 10, 2.0, seed=0)")
    add(g, "bad seed", "ProceduralConn(seed=-1)", "bc.ProceduralConn(10, 10, 0.1, seed=-1)")
    add(g, "negative/zero", "ProceduralConn(weight_std=-1)", "bc.ProceduralConn(10, 10, 0.1, seed=0, weight_std=-1.0)")
    # the event kernel on a CSR the user explicitly left unchecked: never out of bounds, never a crash
    for method in ("ffi", "jax"):
        add(g, "invalid connectivity", f"event_matvec({method}) on CSR(validate=False) with targets 7, 2**31-1",
            "c = bc.CSR(np.array([0, 2, 4]), np.array([0, 7, 2**31 - 1, 1], np.int32), 2, 3, validate=False)\n"
            f"from braindyn.ops import event_matvec\nout = np.asarray(event_matvec(c, np.ones(2, bool), 1.0, "
            f"method='{method}'))\nassert out.shape == (3,) and np.all(np.isfinite(out)), out", expect="correct")
    add(g, "unknown name", "event_matvec(method='fast')",
        "from braindyn.ops import event_matvec\nevent_matvec(bc.one_to_one(3), np.ones(3, bool), 1.0, method='fast')")
    add(g, "wrong shape", "event_matvec(spikes of wrong length)",
        "from braindyn.ops import event_matvec\nevent_matvec(bc.one_to_one(3), np.ones(4, bool), 1.0)")

    # 5. f-I curves and analysis
    g = "analysis"
    add(g, "NaN/inf", "fi_curve(LIF(), [10, nan, 30])", "N.fi_curve(N.LIF(), [10.0, float('nan'), 30.0], duration=50.0)")
    add(g, "wrong shape", "fi_curve(LIF(n=3), ...)", "N.fi_curve(N.LIF(n=3), [10.0], duration=50.0)")
    add(g, "negative/zero", "fi_curve(duration=-1)", "N.fi_curve(N.LIF(), [10.0], duration=-1.0)")
    add(g, "string for number", "fi_curve(dt='0.1')", "N.fi_curve(N.LIF(), [10.0], duration=50.0, dt='0.1')")
    add(g, "wrong shape", "fi_curve(currents 2-D)", "N.fi_curve(N.LIF(), np.ones((2, 2)), duration=50.0)")
    add(g, "string for number", "fi_curve(currents='10')", "N.fi_curve(N.LIF(), '10', duration=50.0)")
    add(g, "inverted range", "rheobase(I_high < I_low)", "N.rheobase(N.LIF(), 30.0, 10.0, duration=50.0)")
    add(g, "unknown name", "from_model(HH(), params=['gl'])",
        "from braindyn.analysis.vector_field import from_model\nfrom_model(N.HH(), params=['gl'])")
    add(g, "unknown name", "from_model(HH(), variables=['X'])",
        "from braindyn.analysis.vector_field import from_model\nfrom_model(N.HH(), variables=['X'])")
    add(g, "unknown name", "from_model(LIF(), params=['taum'])",
        "from braindyn.analysis.vector_field import from_model\nfrom_model(N.LIF(), params=['taum'])")

    # 6. run arguments, records, state0, inputs (braindyn/run.py: the run helper's part)
    g = "run"
    for bad in ("0.0", "-0.1", "'0.1'", "float('nan')"):
        add(g, "run", f"run(dt={bad})", f"bd.run(N.LIF(), 10.0, dt={bad})")
    for bad in ("-1.0", "float('nan')", "'10'", "float('inf')"):
        add(g, "run", f"run(duration={bad})", f"bd.run(N.LIF(), {bad})")
    add(g, "run", "run(record='nope')", "bd.run(N.LIF(), 10.0, record='nope')")
    add(g, "run", "run(record_every=0)", "bd.run(N.LIF(), 10.0, record_every=0)")
    add(g, "run", "run(record_every=3.5)", "bd.run(N.LIF(), 10.0, record_every=3.5)")
    add(g, "run", "run(10.05 ms, record_every=10)", "bd.run(N.LIF(), 10.05, record='V', record_every=10)")
    add(g, "run", "spike record every 10 steps keeps every spike",
        "r = bd.run(N.LIF(), 200.0, inputs=22.0, record='spike', record_every=10)\n"
        "full = bd.run(N.LIF(), 200.0, inputs=22.0, record='spike')\n"
        "assert abs(r.rate_hz() - full.rate_hz()) < 1e-9, (r.rate_hz(), full.rate_hz())", expect="correct")
    add(g, "run", "run(inputs={'J': 22.})", "bd.run(N.LIF(), 10.0, inputs={'J': 22.0})")
    add(g, "run", "run(inputs={'I': 'x'})", "bd.run(N.LIF(), 10.0, inputs={'I': 'x'})")
    add(g, "run", "run(inputs=nan)", "bd.run(N.LIF(), 10.0, inputs=float('nan'))")
    add(g, "run", "run(state0=HH state for a LIF)", "bd.run(N.LIF(), 10.0, state0=N.HH().init_state())")
    add(g, "run", "run(state0 of 5 neurons for 3)", "bd.run(N.LIF(n=3), 10.0, state0=N.LIF(n=5).init_state())")
    add(g, "run", "run(t0=nan)", "bd.run(N.LIF(), 10.0, t0=float('nan'))")
    add(g, "run", "run(dtype=float64) without x64", "bd.run(N.LIF(), 10.0, dtype=jnp.float64)")
    add(g, "run", "run(key=None)", "bd.run(N.LIF(), 10.0, key=None)")
    add(g, "run", "run(key='a')", "bd.run(N.LIF(), 10.0, key='a')")
    add(g, "run", "run(unroll=0)", "bd.run(N.LIF(), 10.0, unroll=0)")
    add(g, "run", "run(chunk_steps=0)", "bd.run(N.LIF(), 10.0, chunk_steps=0)")
    add(g, "run", "Poisson rate * dt > 1", "bd.run(N.LIF(), 10.0, inputs=bd.inputs.poisson(20000.0))")
    add(g, "run", "simulate(dt=0)", "bd.simulate(N.LIF(), N.LIF().init_state(), 10, 0.0)")
    add(g, "run", "simulate(n_steps=-5)", "bd.simulate(N.LIF(), N.LIF().init_state(), -5, 0.1)")
    add(g, "run", "res.spike_times(neuron=99) on 1 neuron",
        "bd.run(N.LIF(), 50.0, inputs=22.0, record='spike').spike_times(neuron=99)")
    add(g, "run", "res.rate_hz('V')", "bd.run(N.LIF(), 50.0, inputs=22.0, record='V').rate_hz('V')")
    add(g, "run", "QIF with an infinite input diverges clearly",
        "bd.run(N.QIF(), 20.0, inputs=float('1e308') * 10)")
    add(g, "run", "LIF driven by 1e10: exact reset, maximal rate",
        "m = N.LIF(n=1, t_ref=1.0)\nr = bd.run(m, 10.0, inputs={'I': 1e10}, record=['V', 'spike'])\n"
        "sp = np.asarray(r['spike'].dense())[:, 0]\nassert list(np.flatnonzero(sp)) == list(range(0, 100, 11))\n"
        "assert np.all(np.asarray(r['V'])[sp > 0, 0] == np.float32(m.V_reset))", expect="correct")
    add(g, "run", "QIF, RK4, drive 1e10 (float32 overflow inside the step)",
        "bd.run(N.QIF(method='rk4'), 5.0, inputs={'I': 1e10}, dtype=jnp.float32)")
    add(g, "run", "ExpIF with an absurd input diverges clearly", "bd.run(N.ExpIF(), 20.0, inputs=1e300)")
    add(g, "run", "run(resume='no/such/file')", "bd.run(N.LIF(), 10.0, resume='/no/such/state')")
    add(g, "run", "run(HH(method='rk5'))", "bd.run(N.HH(method='rk5'), 10.0)")
    # unit sanity: seconds where ms are expected (warnings, silenceable)
    add(g, "unit warning", "run(LIF(), duration=1.0) (seconds?)", "bd.run(N.LIF(), 1.0)", expect="warn")
    add(g, "unit warning", "run(LIF(tau=0.01)) (tau in seconds?)", "bd.run(N.LIF(tau=0.01), 20.0)", expect="warn")

    # 7. the command line (in-process braindyn.cli.main; status and stderr are classified)
    g = "cli"
    cl = [
        ("connectivity", "run ei-balance --set p=1.5"), ("connectivity", "run ei-balance --set seed=-1"),
        ("connectivity", "run ei-balance --set n_e=0"), ("connectivity", "run brunel --set epsilon=2"),
        ("entry parameter", "run stdp-window --set window=-5"), ("entry parameter", "run stp --set n_spikes=-3"),
        ("entry parameter", "run stp --set U=1.5"), ("entry parameter", "run stp --set rate_hz=0"),
        ("entry parameter", "run lif --set tau=-1"), ("entry parameter", "run lif --set tau=abc"),
        ("entry parameter", "run lif --set tau=nan"), ("entry parameter", "run lif --set tau=inf"),
        ("entry parameter", "run lif --set I=1e400"), ("entry parameter", "run lif --set t_ref=-2"),
        ("entry parameter", "run lif --set refractory_rule=bookk"), ("entry parameter", "run adex --set pattern=tonik"),
        ("entry parameter", "run adex --set I=abc"), ("entry parameter", "run poisson-group --set n=0"),
        ("entry parameter", "run poisson-group --set rate=-5"), ("entry parameter", "run poisson-group --set n=abc"),
        ("entry parameter", "run poisson-group --set seed=1.5"), ("entry parameter", "run synapse-exp --set tau_decay=-5"),
        ("entry parameter", "run synapse-exp --set spike_times=-5"), ("entry parameter", "run synapse-exp --set spike_times=1,x"),
        ("entry parameter", "run hopfield --set patterns=0"), ("entry parameter", "run hopfield --set flip=2"),
        ("entry parameter", "run qif-phase --set V_min=0 --set V_max=-10"), ("entry parameter", "run lif --set nonsense=1"),
        ("entry parameter", "run lif --set I"), ("entry parameter", "run lif --set =3"),
        ("run option", "run lif --dt 0"), ("run option", "run lif --dt -1"), ("run option", "run lif --dt abc"),
        ("run option", "run lif --duration nan"), ("run option", "run lif --dt 300"), ("run option", "run lif --method rk5"),
        ("run option", "run hhh"), ("run option", "run fhn-phase --duration -10"),
        ("plot path", "run lif --plot {tmp}/no/such/dir/x.png"), ("plot path", "run lif --plot {tmp}/x.foo"),
        ("plot path", "run lif --plot ''"),
        ("bench option", "bench cuba --unroll 0"), ("bench option", "bench cuba --n 0"), ("bench option", "bench cuba --repeats 0"),
        ("bench option", "bench cuba --duration -1"), ("bench option", "bench cubaa --n 10"),
        ("bench option", "bench cuba --n 40 --duration 5 --repeats 1 --storage nope"),
        ("bench option", "bench cuba --n 40 --duration 5 --repeats 1 --via nope"),
    ]
    for cat, line in cl:
        add(g, "cli: " + cat, "braindyn " + line, f"cli({line!r})")
    # --plot into an existing folder: written inside it, under the reported name (checked)
    add(g, "cli: plot path", "braindyn run lif --plot <existing folder>",
        "rc, out, err = cli_raw('run lif --plot {tmp}')\nimport os\np = os.path.join(tmp, 'lif.png')\n"
        "assert rc == 0 and os.path.exists(p) and ('plot written to ' + p) in out, (rc, out, err)\n"
        "assert not os.path.exists(tmp.rstrip('/') + '.png')", expect="correct")
    return cases


# ---------------------------------------------------------------------------------- the worker
def _worker(path, group):
    import contextlib
    import io
    import shlex
    import tempfile
    import traceback
    import warnings

    import jax.numpy as jnp
    import numpy as np

    import braindyn as bd
    import braindyn.connect as bc
    import braindyn.neurons as N
    import braindyn.plasticity as L
    import braindyn.synapses as S
    from braindyn.cli import main

    with open(path) as f:
        cases = [c for c in json.load(f) if c["group"] == group]
    tmp = tempfile.mkdtemp(prefix="bd_survey_")

    def cli_raw(line):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(shlex.split(line.replace("{tmp}", tmp)))
            except SystemExit as e:  # argparse usage errors
                rc = e.code if isinstance(e.code, int) else 1
        return rc, out.getvalue(), err.getvalue()

    class CliOutcome(Exception):
        pass

    def cli(line):
        try:
            rc, out, err = cli_raw(line)
        except BaseException as e:  # an exception escaping main(): a raw traceback for the user
            raise CliOutcome("traceback", f"{type(e).__name__}: {e}") from None
        if rc == 0:
            raise CliOutcome("silent", (out.strip().splitlines() or [""])[-1][:200])
        last = (err.strip().splitlines() or [""])
        if "Traceback" in err:
            raise CliOutcome("traceback", last[-1][:200])
        if "unexpected error" in err:
            raise CliOutcome("unclear", " ".join(last)[:200])
        if "error" in err:
            raise CliOutcome("clear", last[-1][:200])
        raise CliOutcome("unclear", f"status {rc}: " + " ".join(last)[:200])

    ns = dict(bd=bd, bc=bc, np=np, jnp=jnp, N=N, S=S, L=L, cli=cli, cli_raw=cli_raw, tmp=tmp)
    for c in cases:
        print("START " + json.dumps(c["label"]), flush=True)
        res = {"label": c["label"]}
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                exec(c["code"].replace("{tmp}", tmp), dict(ns))
                unit = [x for x in w if issubclass(x.category, bd.UnitWarning)]
                if c["expect"] == "warn" and unit:
                    res.update(outcome="warned", message=str(unit[0].message)[:200])
                elif c["expect"] == "correct":
                    res.update(outcome="correct", message="the documented, correct result")
                else:
                    res.update(outcome="silent", message="accepted without an error")
            except AssertionError as e:
                res.update(outcome="silent", message=f"wrong result: {' '.join(str(e).split())[:180]}")
            except CliOutcome as e:
                res.update(outcome=e.args[0], message=e.args[1])
            except (bd.BraindynError, bd.SimulationDiverged) as e:
                res.update(outcome="clear", message=" ".join(str(e).split())[:200])
            except Exception as e:  # noqa: BLE001 - that is what is measured
                tb = traceback.extract_tb(e.__traceback__)
                where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
                res.update(outcome="unclear", message=f"{type(e).__name__}: {' '.join(str(e).split())[:160]} "
                                                      f"[{where}]")
        print("DONE " + json.dumps(res), flush=True)


# ---------------------------------------------------------------------------------- the driver
def survey(timeout=600, groups=None):
    cases = build_cases()
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".json", prefix="bd_cases_")
    with os.fdopen(fd, "w") as f:
        json.dump(cases, f)
    by_label = {c["label"]: c for c in cases}
    results = []
    env = dict(os.environ)
    env.setdefault("JAX_PLATFORMS", "cpu")
    for group in dict.fromkeys(c["group"] for c in cases):
        if groups and group not in groups:
            continue
        pending = [c["label"] for c in cases if c["group"] == group]
        while pending:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--worker", path, group, "--skip", json.dumps(
                [lab for lab in (c["label"] for c in cases if c["group"] == group) if lab not in pending])],
                capture_output=True, text=True, timeout=timeout, env=env)
            started, done = None, set()
            for line in proc.stdout.splitlines():
                if line.startswith("START "):
                    started = json.loads(line[6:])
                elif line.startswith("DONE "):
                    r = json.loads(line[5:])
                    r.update({k: by_label[r["label"]][k] for k in ("group", "category")})
                    results.append(r)
                    done.add(r["label"])
                    started = None
            pending = [lab for lab in pending if lab not in done]
            if proc.returncode != 0 and started is not None:  # the process died inside a case
                c = by_label[started]
                results.append({"label": started, "group": group, "category": c["category"], "outcome": "crash",
                                "message": f"process died (status {proc.returncode}): "
                                           f"{(proc.stderr.strip().splitlines() or [''])[-1][:160]}"})
                pending.remove(started)
            elif proc.returncode != 0:
                raise RuntimeError(f"survey worker for {group} failed:\n{proc.stderr[-3000:]}")
            print(f"  {group}: {len(done)} cases in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    os.unlink(path)
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", nargs=2, metavar=("CASES", "GROUP"), help=argparse.SUPPRESS)
    ap.add_argument("--skip", default="[]", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write every case's outcome to this file")
    ap.add_argument("--show", default="unclear,silent,traceback,crash",
                    help="outcomes to list case by case (comma-separated; 'all' for every case)")
    ap.add_argument("--groups", help="only these groups (comma-separated)")
    args = ap.parse_args(argv)
    if args.worker:
        skip = set(json.loads(args.skip))
        path, group = args.worker
        if skip:  # resume after a crash: drop the cases already run
            with open(path) as f:
                cases = json.load(f)
            with open(path + "." + group, "w") as f:
                json.dump([c for c in cases if c["label"] not in skip], f)
            path = path + "." + group
        _worker(path, group)
        return 0
    results = survey(groups=set(args.groups.split(",")) if args.groups else None)
    show = None if args.show == "all" else set(args.show.split(","))
    for r in results:
        if show is None or r["outcome"] in show:
            print(f"[{r['outcome']:>9}] {r['group']:<10} {r['label']}\n             {r['message']}")
    tot = Counter(r["outcome"] for r in results)
    print(f"\n{len(results)} bad inputs: " + ", ".join(f"{tot[k]} {k}" for k in
                                                  ("clear", "correct", "warned", "unclear", "silent", "traceback", "crash")))
    per = defaultdict(Counter)
    for r in results:
        per[r["group"]][r["outcome"]] += 1
    for g, c in per.items():
        print(f"  {g:<11} " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"totals": dict(tot), "per_group": {g: dict(c) for g, c in per.items()}, "cases": results},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
