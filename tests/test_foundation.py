"""The second foundation: integer clock, drift-free time, name-derived randomness, the run state,
compile-once parameters, gradient paths, coupled vector fields."""
import os
import subprocess
import sys
import textwrap
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import braindyn as bd
from braindyn import clock
from braindyn.neurons import LIF


# ---- the clock ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("step", [0, 1, 123457, 10 ** 9, 2 ** 31 + 7, 3 * 10 ** 11])
def test_step_time_resolves_dt_at_any_time(step, dtype):
    dt = 0.01
    t = clock.step_time(step, dt, 0.0, dtype)
    t1 = clock.step_time(step + 1, dt, 0.0, dtype)
    exact = step * dt  # float64 host value, exact to ~1e-16 relative
    assert abs(float(t) - exact) <= 1e-9 * max(exact, 1.0) + 1e-12
    # consecutive times differ by dt up to the double-float resolution (~2^-46 of t in float32)
    assert abs(float(t1 - t) - dt) <= 2e-6 * dt + 3e-14 * exact
    # a comparison just past a boundary is resolved
    assert bool(t + 0.5 * dt > exact) and not bool(t + 0.5 * dt > exact + dt)


def test_time_phase_is_exact_for_periodic_inputs():
    # 10 Hz sinusoid at t = 1e7 ms + 25 ms: phase 0.25 exactly (float32 time would give garbage)
    f = jnp.float32(10.0 / 1000.0)
    t = clock.step_time(10 ** 9 + 2500, 0.01, 0.0, jnp.float32)
    ph = float(t.phase(f))
    # the only error is the float32 rounding of f itself, times f*t
    ref = (float(f) * (1e7 + 25.0)) % 1.0
    assert ph == pytest.approx(ref, abs=1e-4)


def test_refractory_period_exact_after_1e8_steps_in_float32():
    """ISIs in steps are identical at t = 0 and after 10^8 steps (t = 10^7 ms), in float32."""
    lif = LIF(n=1, t_ref=5.3)
    early = bd.run(lif, 300.0, 0.1, inputs=40.0, record="spike", dtype=jnp.float32)
    s = early.run_state
    late_state = bd.RunState(state=lif.init_state(dtype=jnp.float32), input_states=s.input_states, step=10 ** 8,
                             t0=0.0, dt=0.1, key=s.key, fingerprint=s.fingerprint)
    late = bd.run(lif, 300.0, 0.1, inputs=40.0, record="spike", resume=late_state)
    i_early = np.nonzero(np.asarray(early["spike"])[:, 0])[0]
    i_late = np.nonzero(np.asarray(late["spike"])[:, 0])[0]
    assert len(i_early) > 5
    np.testing.assert_array_equal(i_early, i_late)
    # and the absolute spike times at 1e7 ms resolve dt
    np.testing.assert_allclose(late.spike_times() - 1e7, early.spike_times(), atol=1e-6)
    # ISI = refractory steps + integration steps: the refractory part is exactly 53 steps ("book")
    assert np.all(np.diff(i_early) == np.diff(i_early)[0])


def test_section_input_switches_on_the_right_step_at_large_t():
    lif = LIF(n=1, tau=1e9, V_th=1e9, V_init=0.0, t_ref=0.0, method="euler")
    t_big = 1e7
    stim = bd.inputs.section([0.0, 1.0, 0.0], [t_big + 1.0, 2.0, 10.0])
    st0 = bd.RunState(state=lif.init_state(dtype=jnp.float32), input_states=[None], step=10 ** 8, t0=0.0, dt=0.1,
                      key=jax.random.PRNGKey(0), fingerprint="")
    res = bd.run(lif, 5.0, 0.1, inputs=stim, record="V", resume=st0)
    dv = np.diff(np.concatenate([[0.0], res["V"][:, 0]]))
    on = np.nonzero(dv > 0)[0]
    # the pulse covers the 20 steps starting at t = 1e7 + 1 ms (records 10..29)
    np.testing.assert_array_equal(on, np.arange(10, 30))


# ---- randomness ---------------------------------------------------------------------------------
def _noisy_net(order=("A", "B"), extra=False):
    pops = {"A": LIF(n=5, noise={"V": 2.0}), "B": LIF(n=3, noise={"V": 1.0})}
    if extra:
        pops["C"] = LIF(n=4, noise={"V": 1.0})
    return bd.Network({k: pops[k] for k in (list(order) + (["C"] if extra else []))})


def test_jit_and_eager_draw_the_same_numbers():
    net = _noisy_net()
    st = net.init_state(key=jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(3)
    inp = {"A": jnp.float64(21.0), "B": jnp.float64(10.0)}
    eager, _ = net.step(st, inp, 0.0, 0.1, key)
    jitted, _ = jax.jit(lambda s, k: net.step(s, inp, 0.0, 0.1, k))(st, key)
    for p in ("A", "B"):
        np.testing.assert_allclose(eager["pop"][p]["V"], jitted["pop"][p]["V"], rtol=1e-12, atol=1e-12)


def test_declaration_order_and_added_populations_do_not_change_noise():
    a = bd.run(_noisy_net(("A", "B")), 20.0, inputs={"A": 21.0, "B": 10.0}, record=["pop.A.V", "pop.B.V"], key=5)
    b = bd.run(_noisy_net(("B", "A")), 20.0, inputs={"A": 21.0, "B": 10.0}, record=["pop.A.V", "pop.B.V"], key=5)
    c = bd.run(_noisy_net(("A", "B"), extra=True), 20.0, inputs={"A": 21.0, "B": 10.0},
               record=["pop.A.V", "pop.B.V"], key=5)
    for name in ("pop.A.V", "pop.B.V"):
        np.testing.assert_array_equal(a[name], b[name])
        np.testing.assert_array_equal(a[name], c[name])


def test_stochastic_step_without_key_is_an_error():
    m = LIF(n=2, noise={"V": 1.0})
    with pytest.raises(bd.BraindynError, match="key"):
        bd.simulate(m, m.init_state(), 10, 0.1, inputs=20.0, key=None)
    with pytest.raises(bd.BraindynError, match="key"):
        bd.simulate(LIF(n=2), LIF(n=2).init_state(), 10, 0.1, inputs=bd.inputs.poisson(100.0, 2), key=None)
    with pytest.raises(bd.BraindynError, match="key"):
        _noisy_net().step(_noisy_net().init_state(), {}, 0.0, 0.1, None)
    with pytest.raises(bd.BraindynError, match="key"):
        bd.run(m, 1.0, key=None)
    # a deterministic model runs without a key
    bd.simulate(LIF(n=2), LIF(n=2).init_state(), 10, 0.1, inputs=20.0, key=None)


def test_block_random_draws_are_slice_consistent():
    k = jax.random.PRNGKey(0)
    whole = clock.normal(k, 3000, jnp.float32)
    part = clock.normal(k, 952, jnp.float32, start=2048)
    np.testing.assert_array_equal(whole[2048:], part)
    # and they are standard normal
    assert abs(float(whole.mean())) < 0.1 and abs(float(whole.std()) - 1) < 0.05


# ---- run state ----------------------------------------------------------------------------------
def test_resume_refuses_other_model_size_or_dt():
    r = bd.run(LIF(n=3), 10.0, inputs=22.0, record="V")
    with pytest.raises(bd.BraindynError, match="dt"):
        bd.run(LIF(n=3), 10.0, 0.05, inputs=22.0, resume=r.run_state)
    with pytest.raises(bd.BraindynError, match="another model"):
        bd.run(LIF(n=4), 10.0, inputs=22.0, resume=r.run_state)
    with pytest.raises(bd.BraindynError, match="another model"):
        bd.run(bd.neurons.QIF(n=3), 10.0, inputs=22.0, resume=r.run_state)
    # other parameter values of the same model continue fine
    bd.run(LIF(n=3, tau=12.0), 10.0, inputs=22.0, resume=r.run_state)


def test_run_inside_a_transformation_names_simulate():
    with pytest.raises(bd.BraindynError, match="simulate"):
        jax.jit(lambda I: bd.run(LIF(), 1.0, inputs=I).final_state["V"])(1.0)
    with pytest.raises(bd.BraindynError, match="simulate"):
        jax.grad(lambda tau: bd.run(LIF(tau=tau), 1.0).final_state["V"].sum())(10.0)


def test_spike_record_under_grad_keeps_the_surrogate_gradient():
    lif = LIF(n=1)

    def count(I):
        _, rec, _ = bd.simulate(lif, lif.init_state(), 500, 0.1, inputs=I, record="spike")
        return rec["spike"].sum()

    g = jax.grad(count)(25.0)
    assert np.isfinite(g) and g > 0


def test_new_parameter_and_input_values_do_not_recompile():
    traces = []

    class Counted(LIF):
        def vector_field(self, t, y, args):
            traces.append(1)
            return super().vector_field(t, y, args)

    bd.run(Counted(n=2, tau=10.0), 5.0, inputs=22.0, record="V")
    first = len(traces)
    for i in range(20):
        bd.run(Counted(n=2, tau=10.0 + i, V_th=20.0 - 0.1 * i), 5.0, inputs=22.0 + i, record="V")
    assert len(traces) == first


def test_gradient_reaches_every_parameter_of_a_network():
    E = LIF(n=4, V_init=jnp.linspace(0.0, 15.0, 4))
    conn = jnp.full((4, 4), 0.5)
    from braindyn.synapses import CurrentOutput, Exponential, SynapticProjection

    net = bd.Network({"E": E}, {"EE": SynapticProjection("E", "E", conn, 0.3, Exponential(5.0), CurrentOutput())})
    params, static = bd.trainable(net)

    def loss(p):
        m = bd.params.combine(p, static)
        _, rec, _ = bd.simulate(m, m.init_state(), 200, 0.1, inputs={"E": 21.0}, record="pop.E.V")
        return rec["pop.E.V"].mean()

    g = jax.grad(loss)(params)
    gl = g.populations["E"]
    for name in ("tau", "V_rest", "R"):
        assert np.isfinite(getattr(gl, name)) and getattr(gl, name) != 0, name
    pr = g.projections["EE"]
    assert np.isfinite(pr.weight) and pr.weight != 0
    assert np.isfinite(pr.synapse.tau) and pr.synapse.tau != 0


# ---- coupled vector fields and exponential Euler ---------------------------------------------------
_W = np.array([[0.0, 0.8, -0.5], [0.3, 0.0, 0.6], [-0.4, 0.2, 0.0]])


class _RateNet(bd.ODEModel):
    variables: ClassVar = ("r",)
    W: Any = bd.param(None, per_neuron=False)

    def initial(self):
        return {"r": jnp.array([0.5, -0.2, 0.1])}

    def vector_field(self, t, y, args):
        return {"r": (-y["r"] + jnp.tanh(y["r"] @ self.W) + args["I"]) / 10.0}


class _CoupledRateNet(_RateNet):
    coupled: ClassVar = True


def test_undeclared_coupled_field_is_refused_and_declared_one_is_right():
    with pytest.raises(bd.BraindynError, match="coupled = True"):
        bd.run(_RateNet(n=3, W=_W), 10.0)
    for method, tol in (("exp_euler", 2e-3), ("exp_midpoint", 2e-5)):
        res = bd.run(_CoupledRateNet(n=3, W=_W, method=method), 100.0, 0.1, record="r")
        sol = solve_ivp(lambda t, r: (-r + np.tanh(r @ _W)) / 10.0, (0, 100), [0.5, -0.2, 0.1], rtol=1e-10,
                        atol=1e-12, t_eval=res.ts)
        assert np.abs(res["r"] - sol.y.T).max() < tol, method


def test_conductance_input_is_integrated_exactly_by_exponential_euler():
    """A LIF with a constant conductance g towards E: V relaxes to (V_rest + R g E)/(1 + R g) with
    time constant tau/(1 + R g); exponential Euler is exact for it at any dt."""
    lif = LIF(n=1, V_th=1e9, V_init=0.0, t_ref=0.0)
    g, E = 0.5, 10.0

    class G(bd.inputs.Input):
        def at(self, t, dt):
            return bd.Conductance.of(jnp.asarray(g), E)

    res = bd.run(lif, 50.0, 1.0, inputs=G(), record="V")
    v_inf = (0.0 + g * E) / (1 + g)
    tau_eff = 10.0 / (1 + g)
    exact = v_inf * (1 - np.exp(-res.ts / tau_eff))
    np.testing.assert_allclose(res["V"][:, 0], exact, rtol=1e-10, atol=1e-10)


# ---- save / load in a fresh process --------------------------------------------------------------
def test_saved_run_state_resumes_bit_identically_in_a_fresh_process(tmp_path):
    script = textwrap.dedent("""
        import sys, jax, numpy as np
        jax.config.update("jax_enable_x64", True)
        import braindyn as bd
        import braindyn.connect as bc
        from braindyn.plasticity import STDP, TsodyksMarkram
        from braindyn.synapses import ConductanceOutput, Exponential, SynapticProjection

        def build():
            E = bd.neurons.LIF(n=40, V_rest=-60., V_reset=-60., V_th=-50., tau=20., V_init=-60., noise={{"V": 0.5}})
            conn = bc.fixed_prob(40, 40, 0.2, seed=1)
            p = SynapticProjection("E", "E", conn, 0.3, Exponential(5.0), ConductanceOutput(E=0.0), delay=1.0,
                                   stp=TsodyksMarkram(), plasticity=STDP(A_plus=0.01, A_minus=0.01, w_max=1.0))
            src = SynapticProjection("P", "E", bc.fixed_prob(20, 40, 0.3, seed=2), 0.5, Exponential(5.0),
                                     ConductanceOutput(E=0.0))
            return bd.Network({{"E": E, "P": bd.neurons.PoissonGroup(n=20, rate=80.0)}}, {{"EE": p, "PE": src}})

        rec = ["pop.E.spike", "pop.E.V", "proj.EE.w"]
        mode, folder = sys.argv[1:3]
        net = build()
        for name, dtype in (("f32", jax.numpy.float32), ("f64", jax.numpy.float64)):
            ckpt = f"{folder}/{name}.ckpt"
            if mode == "first":   # the uninterrupted run and the first half, which is saved
                r = bd.run(net, 60.0, inputs={"E": 12.0}, record=rec, key=7, dtype=dtype)
                np.savez(f"{folder}/{name}_whole.npz", *[np.asarray(r[k]) for k in rec])
                r = bd.run(net, 30.0, inputs={"E": 12.0}, record=rec, key=7, dtype=dtype)
                r.run_state.save(ckpt)
                np.savez(f"{folder}/{name}_first.npz", *[np.asarray(r[k]) for k in rec])
            else:                 # a fresh process: load and continue
                r = bd.run(net, 30.0, inputs={"E": 12.0}, record=rec, resume=ckpt)
                np.savez(f"{folder}/{name}_second.npz", *[np.asarray(r[k]) for k in rec])
    """).replace("{{", "{").replace("}}", "}")
    f = tmp_path / "s.py"
    f.write_text(script)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    for mode in ("first", "second"):
        subprocess.run([sys.executable, str(f), mode, str(tmp_path)], check=True, env=env)
    for dtype in ("f32", "f64"):
        whole, first, second = (np.load(tmp_path / f"{dtype}_{m}.npz") for m in ("whole", "first", "second"))
        assert whole["arr_0"].sum() > 0
        for k in ("arr_0", "arr_1", "arr_2"):
            np.testing.assert_array_equal(whole[k], np.concatenate([first[k], second[k]]))


def test_network_sweep_of_weights_time_constants_and_inputs_compiles_once():
    import braindyn.connect as bc
    from braindyn.synapses import ConductanceOutput, Exponential, SynapticProjection

    traces = []

    class Counted(LIF):
        def vector_field(self, t, y, args):
            traces.append(1)
            return super().vector_field(t, y, args)

    def net(w, tau, rate):
        E = Counted(n=30, V_rest=-60., V_reset=-60., V_th=-50., tau=tau, V_init=-60.)
        return bd.Network({"E": E, "P": bd.neurons.PoissonGroup(n=10, rate=rate)},
                          {"EE": SynapticProjection("E", "E", bc.fixed_prob(30, 30, 0.2, seed=0), w, Exponential(5.0),
                                                    ConductanceOutput(E=0.0)),
                           "PE": SynapticProjection("P", "E", bc.fixed_prob(10, 30, 0.3, seed=1), w, Exponential(5.0),
                                                    ConductanceOutput(E=0.0))})

    bd.run(net(0.3, 20.0, 50.0), 5.0, inputs={"E": 12.0}, record="pop.E.spike")
    first = len(traces)
    for i in range(20):
        bd.run(net(0.3 + 0.01 * i, 20.0 + i, 50.0 + i), 5.0, inputs={"E": 12.0 + i}, record="pop.E.spike")
    assert len(traces) == first


def test_projections_declared_in_another_order_give_identical_rasters():
    import braindyn.connect as bc
    from braindyn.synapses import ConductanceOutput, Exponential, SynapticProjection

    lif = dict(V_rest=-60.0, V_reset=-60.0, V_th=-50.0, tau=20.0, t_ref=5.0, V_init=-60.0, noise={"V": 0.5})

    def syn(pre, post, npre, npost, w, E, seed):
        return SynapticProjection(pre, post, bc.fixed_prob(npre, npost, 0.1, seed=seed), w, Exponential(5.0),
                                  ConductanceOutput(E=E))

    pops = {"E": LIF(n=80, **lif), "I": LIF(n=20, **lif), "P": bd.neurons.PoissonGroup(n=20, rate=60.0)}
    projs = {"EE": syn("E", "E", 80, 80, 0.3, 0.0, 1), "EI": syn("E", "I", 80, 20, 0.3, 0.0, 2),
             "IE": syn("I", "E", 20, 80, 1.0, -80.0, 3), "PE": syn("P", "E", 20, 80, 0.5, 0.0, 4),
             "PI": syn("P", "I", 20, 20, 0.5, 0.0, 5)}
    a = bd.Network(pops, projs)
    b = bd.Network({k: pops[k] for k in ("P", "I", "E")}, {k: projs[k] for k in ("PI", "IE", "PE", "EI", "EE")})
    rec = ["pop.E.spike", "pop.I.spike"]
    ra = bd.run(a, 100.0, inputs={"E": 12.0, "I": 12.0}, record=rec, key=3)
    rb = bd.run(b, 100.0, inputs={"I": 12.0, "E": 12.0}, record=rec, key=3)
    assert ra.spike_count("pop.E.spike") > 0
    for r in rec:
        np.testing.assert_array_equal(np.asarray(ra[r]), np.asarray(rb[r]))
