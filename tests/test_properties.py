"""Property-based bad-input tests (Hypothesis): any input either works, giving a finite result of the
right shape, or raises braindyn's own error. Never a raw exception, never a crash.

Bounded (a few dozen examples per property, ``derandomize=True`` so CI sees the same examples);
the values are drawn from the kinds that broke things in the survey of issue 11: NaN, inf, signs,
huge and tiny magnitudes, strings, None, complex numbers, arrays of the wrong length.
"""
import contextlib
import io
import json
import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

hyp = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import braindyn as bd  # noqa: E402
import braindyn.connect as bc  # noqa: E402
from braindyn.cli import main  # noqa: E402
from braindyn.ops import event_matvec, ffi_available  # noqa: E402

OURS = (bd.BraindynError, bd.SimulationDiverged)


def bounded(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, -1.0, 1e-12, 1e300, -1e300, 0.05, 10.0]),
                    st.integers(-10**6, 10**6))
junk = st.one_of(st.none(), st.text(max_size=4), st.booleans(), st.complex_numbers(max_magnitude=10),
                 st.lists(st.floats(-100, 100), max_size=5))
values = st.one_of(numbers, junk, st.integers(0, 6).flatmap(
    lambda k: st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=k, max_size=k)
    .map(np.asarray)))

MODELS = ["LIF", "QIF", "ExpIF", "AdEx", "Izhikevich", "HH", "RateUnit", "FHN", "PoissonGroup"]


def _kwargs_of(model):
    return [p.name for p in bd.params.describe(getattr(bd.neurons, model)())]


# ------------------------------------------------------------------------------------ constructors
@bounded(40)
@given(data=st.data(), model=st.sampled_from(MODELS), n=st.one_of(st.integers(-2, 5), junk))
def test_constructors_build_a_checked_model_or_raise_ours(data, model, n):
    names = _kwargs_of(model)
    kw = {name: data.draw(values, label=name) for name in data.draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="params")}
    cls = getattr(bd.neurons, model)
    try:
        m = cls(n=n, **kw)
    except OURS:
        return
    # built: n is a positive int and every declared parameter is a finite scalar or one per neuron
    assert isinstance(m.n, int) and m.n >= 1
    for p in bd.params.describe(m):
        if p.value is None:
            continue
        assert np.shape(p.value) in ((), (m.n,)), (p.name, np.shape(p.value))
        if p.bound != "extended":
            assert np.all(np.isfinite(np.asarray(p.value, float))), p.name
    state = m.init_state()
    for leaf in jax.tree.leaves(state):
        assert np.all(np.isfinite(np.asarray(leaf, float)))


@pytest.mark.filterwarnings("ignore::braindyn.UnitWarning")   # odd time constants are drawn on purpose
@bounded(25)
@given(tau=numbers, V_th=numbers, I=numbers, V_init=numbers)
def test_lif_runs_to_finite_records_or_raises_ours(tau, V_th, I, V_init):
    try:
        model = bd.neurons.LIF(n=3, tau=tau, V_th=V_th, V_init=V_init)
        res = bd.run(model, 5.0, inputs=I, record="V", progress=False)
    except OURS:
        return
    V = np.asarray(res["V"])
    assert V.shape == (50, 3) and np.all(np.isfinite(V))


# ------------------------------------------------------------------------------------ connectivity
# valid values three times out of four, so that the valid branch is exercised as well
sizes = st.one_of(st.integers(1, 25), st.integers(0, 25), st.integers(2, 12),
                  st.one_of(st.integers(-2, -1), st.sampled_from([2.5, "10", None, True])))
probs = st.one_of(st.floats(0, 1), st.floats(0, 0.3), st.sampled_from([0.0, 1.0, 0.5]),
                  st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.sampled_from(["0.1", None])))
seeds = st.one_of(st.integers(0, 2**40), st.integers(0, 10), st.integers(0, 3),
                  st.one_of(st.integers(-3, -1), st.sampled_from([None, 1.5, "a", True])))


def _valid(c):
    assert isinstance(c, bc.CSR)
    c.validate()
    pre, post = c.to_ij()
    assert np.all((post >= 0) & (post < c.n_post)) and np.all((pre >= 0) & (pre < c.n_pre))


@bounded(60)
@given(gen=st.sampled_from(["fixed_prob", "fixed_out_degree", "fixed_in_degree", "fixed_total_num",
                            "small_world", "scale_free", "gaussian_prob", "all_to_all", "from_ij"]),
       a=sizes, b=sizes, p=probs, k=st.one_of(st.integers(0, 8), st.integers(0, 30), st.integers(-2, 30), st.sampled_from([1.5, None])), seed=seeds,
       allow_self=st.booleans(), data=st.data())
def test_connectivity_generators_give_valid_csr_or_raise_ours(gen, a, b, p, k, seed, allow_self, data):
    calls = {
        "fixed_prob": lambda: bc.fixed_prob(a, b, p, allow_self=allow_self, seed=seed),
        "fixed_out_degree": lambda: bc.fixed_out_degree(a, b, k, allow_self=allow_self, seed=seed),
        "fixed_in_degree": lambda: bc.fixed_in_degree(a, b, k, allow_self=allow_self, seed=seed),
        "fixed_total_num": lambda: bc.fixed_total_num(a, b, k, allow_self=allow_self, seed=seed),
        "small_world": lambda: bc.small_world(a, k, p, seed=seed),
        "scale_free": lambda: bc.scale_free(a, k, seed=seed),
        "gaussian_prob": lambda: bc.gaussian_prob(a, b, p * 5 if isinstance(p, float) else p, seed=seed),
        "all_to_all": lambda: bc.all_to_all(a, b, allow_self=allow_self),
        "from_ij": lambda: bc.from_ij(*data.draw(st.tuples(
            st.lists(st.integers(-3, 30), max_size=8), st.lists(st.integers(-3, 30), max_size=8)), label="ij"), a, b),
    }
    try:
        c = calls[gen]()
    except OURS:
        return
    _valid(c)


@bounded(15)
@given(data=st.data())
def test_event_kernel_on_unchecked_csr_stays_in_bounds(data):
    """A CSR built with validate=False and arbitrary int32 targets: every kernel returns a finite
    (n_post,) vector equal to the pure-JAX path, and never touches memory outside its buffers."""
    n_pre, n_post, nnz = 4, 3, 8   # fixed sizes: one compilation per kernel
    cuts = sorted(data.draw(st.lists(st.integers(0, nnz), min_size=n_pre - 1, max_size=n_pre - 1), label="cuts"))
    indptr = np.asarray([0, *cuts, nnz], np.int32)
    indices = np.asarray(data.draw(st.lists(st.one_of(st.integers(-2**31, 2**31 - 1), st.integers(-4, 6)),
                                            min_size=nnz, max_size=nnz), label="indices"), np.int32)
    c = bc.CSR(indptr, indices, n_pre, n_post, max_row=nnz, validate=False)
    spikes = np.asarray(data.draw(st.lists(st.booleans(), min_size=n_pre, max_size=n_pre), label="spikes"), bool)
    w = jnp.arange(1.0, nnz + 1.0)
    ref = np.asarray(event_matvec(c, spikes, w, method="jax"))
    assert ref.shape == (n_post,) and np.all(np.isfinite(ref))
    for method in (["ffi"] if ffi_available() else []) + ["segment"]:
        got = np.asarray(event_matvec(c, spikes, w, method=method))
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------- the CLI
ENTRIES = {"stp": ["U", "tau_f", "tau_d", "rate_hz", "n_spikes"], "lif": ["tau", "I", "V_th", "t_ref", "duration"],
           "poisson-group": ["n", "rate", "seed", "duration"]}
cli_values = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e400", "abc", "", "1,2", "1e-9",
                                        "none", "true"]),
                       st.floats(-1e3, 1e3).map(lambda x: f"{x:.3g}"), st.integers(-5, 40).map(str))


@bounded(25)
@given(entry=st.sampled_from(sorted(ENTRIES)), data=st.data(), value=cli_values)
def test_cli_set_never_shows_a_traceback(entry, data, value):
    name = data.draw(st.sampled_from(ENTRIES[entry]), label="name")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["run", entry, "--json", "--set", f"{name}={value}"])
    cap = types.SimpleNamespace(out=out.getvalue(), err=err.getvalue())
    assert "Traceback" not in cap.err
    assert rc in (0, 2, 3), (rc, cap.err)
    if rc == 0:
        figures = json.loads(cap.out)
        for v in figures.values():  # JSON figures: finite numbers (non-finite ones are written as null)
            if isinstance(v, float):
                assert math.isfinite(v)
    else:
        assert cap.out == "" and cap.err.startswith("braindyn: error: ") and len(cap.err.splitlines()) == 1
