"""Bad input fails at the boundary with a braindyn error that names the thing, the value and the fix.

One regression test per case of the bad-input survey (issue 11) outside the run loop: constructors,
projections, networks, connectivity, the event kernel, f-I curves, phase-plane models, and the
unit-sanity warnings. (Run arguments, records and stores: tests/test_run_records.py.)
"""
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
import braindyn.connect as bc
from braindyn.analysis.vector_field import from_model
from braindyn.connect.csr import from_rows
from braindyn.neurons import HH, LIF, fi_curve
from braindyn.ops import event_matvec, ffi_available
from braindyn.plasticity import STDP
from braindyn.synapses import Exponential, SynapticProjection

NAN = float("nan")


def raises(match, fn, *a, **k):
    with pytest.raises(bd.BraindynError, match=match):
        fn(*a, **k)


# --------------------------------------------------------------------- constructors and parameters
def test_inverted_and_out_of_range_bounds():
    raises(r"w_min=5\.0 > w_max=1\.0", STDP, w_min=5.0, w_max=1.0)
    C = bc.fixed_prob(10, 10, 0.3, seed=0)
    raises(r"pre_range.*\(5, 2\).*0 <= start < stop <= n_pre = 10", SynapticProjection, "E", "E", C, 1.0,
           pre_range=(5, 2))
    raises(r"pre_range", SynapticProjection, "E", "E", C, 1.0, pre_range=(0, 11))


def test_per_neuron_shape_strings_nan_and_types():
    raises(r"'tau' of LIF has shape \(50,\).*n=100.*shape \(100,\)", LIF, n=100, tau=jnp.full(50, 10.0))
    raises(r"'tau' of LIF must be a number.*'10' \(str\)", LIF, tau="10")
    raises(r"'tau' of LIF must be a number.*complex", LIF, tau=1j)
    raises(r"'tau' of LIF must be a number", LIF, n=2, tau=np.array(["1", "2"]))
    # the message points at the first non-finite entry
    raises(r"'V_init' of LIF must be finite.*nan at index 1", LIF, n=3, V_init=np.array([0.0, NAN, 0.0]))
    raises(r"'V_init' of HH must be finite", HH, V_init=float("inf"))


def test_misspelt_constructor_argument_lists_the_valid_ones():
    with pytest.raises(bd.BraindynError, match=r"LIF: got an unexpected keyword argument 'taum'\. Did you mean "
                                               r"'tau'\?.*Its arguments: .*V_rest"):
        LIF(taum=10.0)
    with pytest.raises(bd.BraindynError, match=r"Did you mean 'tau_pre'"):
        STDP(tau_pr=10.0)
    with pytest.raises(bd.BraindynError, match=r"SpikeTimeGroup: missing"):
        bd.neurons.SpikeTimeGroup()


def test_projection_weights_and_dense_conn_must_be_finite():
    C = bc.fixed_prob(10, 10, 0.3, seed=0)
    raises(r"'weight' of SynapticProjection must be finite, got nan", SynapticProjection, "E", "E", C, NAN)
    w = np.ones(C.nnz)
    w[3] = np.inf
    raises(r"'weight'.*inf at index 3", SynapticProjection, "E", "E", C, w)
    m = np.zeros((3, 4))
    m[1, 2] = NAN
    raises(r"dense conn holds a non-finite weight \(nan at \(pre, post\) = \(1, 2\)\)", SynapticProjection,
           "E", "E", m, 1.0)


def test_network_names_types_and_sizes():
    raises(r"population 'E' is a str \('notamodel'\), not a model", bd.Network, {"E": "notamodel"})
    raises(r"population name 1 must be a non-empty string", bd.Network, {1: LIF()})
    raises(r"population name 'E\.x'.*without '\.'", bd.Network, {"E.x": LIF()})
    raises(r"'populations' must be a non-empty dict", bd.Network, [LIF()])
    C = bc.fixed_prob(10, 10, 0.3, seed=0)
    # sizes are checked when the network is built (they were checked only at its first state)
    raises(r"10 x 10 but the populations have 12 and 12", bd.Network, {"E": LIF(n=12)},
           {"EE": SynapticProjection("E", "E", C, 1.0)})
    raises(r"unknown postsynaptic population of projection 'EX' 'X'.*Valid choices: 'E'", bd.Network, {"E": LIF(n=10)}, {"EX": SynapticProjection("E", "X", C, 1.0)})
    bd.Network({"E": LIF(n=10)}, {"EE": SynapticProjection("E", "E", C, 1.0)})


# ------------------------------------------------------------------------------------ connectivity
@pytest.mark.parametrize("call, match", [
    (lambda: bc.fixed_prob(10, 10, 1.5, seed=0), r"p=1\.5 is invalid: a probability must lie in \[0, 1\]"),
    (lambda: bc.fixed_prob(10, 10, NAN, seed=0), r"p=nan"),
    (lambda: bc.fixed_prob(10, 10, 0.1, seed=-1), r"seed=-1 is invalid: must be >= 0"),
    (lambda: bc.fixed_prob(10, 10, 0.1, seed=None), r"seed=None"),
    (lambda: bc.fixed_prob("10", 10, 0.1, seed=0), r"n_pre='10' is invalid"),
    (lambda: bc.small_world(10, 3, 0.1, seed=0), r"even degree"),
    (lambda: bc.from_ij([0, 1], [0, 5], 2, 3), r"post values must lie in \[0, n_post=3\)"),
    (lambda: bc.CSR(np.array([0, 1, 2]), np.array([0.0, 1.5]), 2, 3), r"indices has dtype float64"),
    (lambda: from_rows(np.array([[0, 9]]), 3), r"indices must lie in \[0, n_post=3\)"),
])
def test_connectivity_errors_are_braindyn_errors(call, match):
    with pytest.raises(bd.BraindynError, match=match):
        call()


def test_unvalidated_csr_is_checked_before_any_projection_uses_it():
    bad = bc.CSR(np.array([0, 2, 3]), np.array([0, 7, 1], np.int32), 2, 3, validate=False)
    raises(r"indices must lie in \[0, n_post=3\) \(got range \[0, 7\]\)", bad.validate)
    raises(r"indices must lie in \[0, n_post=3\)", SynapticProjection, "A", "B", bad, 1.0)
    raises(r"indptr must start at 0", bc.CSR(np.array([0, 2, 9]), np.array([0, 1, 1], np.int32), 2, 3,
                                            validate=False).validate)


def test_every_generator_builds_a_valid_csr():
    # the internal builders skip the public validation: each result must pass it
    conns = [bc.fixed_prob(30, 20, 0.1, seed=1), bc.fixed_prob(30, 30, 0.5, allow_self=False, seed=2),
             bc.fixed_out_degree(30, 20, 5, seed=3), bc.fixed_in_degree(20, 30, 4, seed=4),
             bc.fixed_total_num(10, 12, 50, seed=5), bc.gaussian_prob(5, 6, 1.5, seed=6),
             bc.small_world(20, 4, 0.3, seed=7), bc.scale_free(20, 2, seed=8), bc.one_to_one(7),
             bc.all_to_all(5, 6), bc.all_to_all(6, 6, allow_self=False), bc.grid_four(4, 5, periodic=True),
             bc.grid_eight(3, 4), bc.from_matrix(np.eye(4)), bc.ProceduralConn(20, 15, 0.2, seed=9).to_csr(),
             bc.fixed_prob(30, 20, 0.1, seed=1).transpose()[0]]
    for c in conns:
        c.validate()
        pre, post = c.to_ij()
        assert np.all((post >= 0) & (post < c.n_post)) and np.all((pre >= 0) & (pre < c.n_pre))
        assert c.max_row == (int(np.diff(np.asarray(c.indptr)).max()) if c.n_pre else 0)


def test_internal_builder_refuses_out_of_range_pairs():
    from braindyn.connect.csr import _build

    raises(r"internal error", _build, np.array([0, 1]), np.array([0, 3]), 2, 3)


@pytest.mark.parametrize("method", ["jax", "ffi"])
def test_event_kernel_never_writes_outside_its_output(method):
    if method == "ffi" and not ffi_available():
        pytest.skip("C++ event kernel not built on this machine")
    bad = bc.CSR(np.array([0, 2, 4]), np.array([0, 7, 2**31 - 1, 1], np.int32), 2, 3, validate=False)
    out = np.asarray(event_matvec(bad, np.ones(2, bool), jnp.asarray([1.0, 2.0, 3.0, 4.0]), method=method))
    # targets 7 and 2**31-1 are dropped; 0 gets 1.0, 1 gets 4.0; n_post (=3) is never written
    np.testing.assert_array_equal(out, [1.0, 4.0, 0.0])


# ------------------------------------------------------------------------- f-I curves, phase plane
def test_fi_curve_rejects_nan_and_bad_currents():
    raises(r"'currents' of fi_curve must be finite.*nan at index 1", fi_curve, LIF(), [10.0, NAN, 30.0],
           duration=20.0)
    raises(r"'currents' of fi_curve must be a number", fi_curve, LIF(), "10", duration=20.0)
    raises(r"1-D array", fi_curve, LIF(), np.ones((2, 2)), duration=20.0)
    raises(r"'dt' of fi_curve must be a number", fi_curve, LIF(), [10.0], duration=20.0, dt="0.1")


def test_from_model_unknown_parameter_lists_the_valid_names():
    with pytest.raises(bd.BraindynError, match=r"HH has no parameter or input 'gl'\. Did you mean 'gL'\?.*"
                                               r"Its parameters: .*gL.*the inputs it reads: I"):
        from_model(HH(), params=["gl"])
    vf = from_model(HH(), params=["gL", "I"])  # the real names still work
    assert set(vf.params) == {"gL", "I"}


# ------------------------------------------------------------------------------ unit sanity warnings
def test_unit_warnings_fire_for_seconds_and_are_silenceable():
    with pytest.warns(bd.UnitWarning, match=r"duration=1\.0 ms.*seconds"):
        bd._errors.warn_duration_unit(1.0, 0.1)
    with pytest.warns(bd.UnitWarning, match=r"duration=1\.0 ms.*slowest time constant \(10\.0 ms\)"):
        bd._errors.warn_duration_unit(1.0, 0.1, LIF())
    with pytest.warns(bd.UnitWarning, match=r"time constant LIF\.tau = 0\.01 ms is shorter than dt = 0\.1"):
        bd._errors.warn_time_constants(LIF(tau=0.01), 0.1)
    net = bd.Network({"E": LIF(n=2)}, {"EE": SynapticProjection("E", "E", bc.all_to_all(2, 2), 1.0,
                                                                  Exponential(0.02))})
    with pytest.warns(bd.UnitWarning, match=r"projections\.EE\.synapse\.tau = 0\.02"):
        bd._errors.warn_time_constants(net, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=bd.UnitWarning)   # the documented filter
        bd._errors.warn_duration_unit(1.0, 0.1)
        bd._errors.warn_time_constants(LIF(tau=0.01), 0.1)
        # legitimate values: no warning at all
        warnings.filterwarnings("error", category=bd.UnitWarning)
        bd._errors.warn_duration_unit(5.0, 0.1)
        bd._errors.warn_duration_unit(1.0, 0.001)
        bd._errors.warn_duration_unit(4.0, 0.1, Exponential(5.0))   # a short run of a fast model
        bd._errors.warn_duration_unit(1.0, 0.1, HH())   # no declared time constant: not judged
        bd._errors.warn_time_constants(LIF(tau=10.0), 0.1)
        bd._errors.warn_time_constants(net.populations["E"], 0.01)


def test_check_number_rejects_strings_bools_and_arrays():
    assert bd._errors.check_number("dt", np.float32(0.5)) == 0.5
    raises(r"'dt' must be a number.*'0\.1' \(str\)", bd._errors.check_number, "dt", "0.1")
    raises(r"'dt' must be a number", bd._errors.check_number, "dt", True)
    raises(r"'dt' must be a number.*array of shape \(2,\)", bd._errors.check_number, "dt", np.ones(2))
