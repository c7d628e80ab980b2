"""Parameters of the neuron library are declared array leaves: checked once with an error that
names them, reached by jax.grad through a run, and swept without recompiling."""
import jax

jax.config.update("jax_enable_x64", True)

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn import params as P
from braindyn.neurons import channels as ch
from braindyn.neurons.channels_extra import IA_CS, Ih_HM

N = bd.neurons


def _hh_parts(**leak):
    return {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(**leak)}


#: one constructor per class of the neuron library (and its channel pieces and surrogates)
MAKERS = {
    "LIF": lambda **k: N.LIF(**k),
    "QIF": lambda **k: N.QIF(**k),
    "Theta": lambda **k: N.Theta(**k),
    "ExpIF": lambda **k: N.ExpIF(**k),
    "AdEx": lambda **k: N.AdEx(**k),
    "AdQIF": lambda **k: N.AdQIF(**k),
    "GIF": lambda **k: N.GIF(**k),
    "Izhikevich": lambda **k: N.Izhikevich(**k),
    "HH": lambda **k: N.HH(**k),
    "MorrisLecar": lambda **k: N.MorrisLecar(**k),
    "WangBuzsaki": lambda **k: N.WangBuzsaki(**k),
    "ConductanceNeuron": lambda **k: N.ConductanceNeuron(_hh_parts(), **k),
    "FHN": lambda **k: N.FHN(**k),
    "HindmarshRose": lambda **k: N.HindmarshRose(**k),
    "RateUnit": lambda **k: N.RateUnit(**k),
    "ThresholdLinear": lambda **k: N.ThresholdLinear(**k),
    "WilsonCowan": lambda **k: N.WilsonCowan(**k),
}
PIECES = [ch.Leak, ch.INa_HH, ch.IK_HH, ch.INa_WB, ch.IK_WB, ch.ICa_ML, ch.IK_ML, ch.CalciumPool, ch.IK_Ca,
          IA_CS, Ih_HM, bd.surrogate.Sigmoid, bd.surrogate.FastSigmoid, bd.surrogate.Gaussian]


def _numeric_fields(obj):
    """Fields of ``obj`` that hold numbers (not structure: not static, not a sub-module)."""
    out = []
    for f in dataclasses.fields(obj):
        if f.metadata.get("static", False) or f.name in ("noise", "spike_fn", "channels"):
            continue
        out.append(f)
    return out


@pytest.mark.parametrize("name", list(MAKERS))
def test_every_numeric_field_is_a_declared_float_array(name):
    m = MAKERS[name]()
    for f in _numeric_fields(m):
        assert "param" in f.metadata, f"{name}.{f.name} is not declared with param()"
        spec = f.metadata["param"]
        assert spec.doc and spec.unit, f"{name}.{f.name} lacks a unit or a doc"
        v = getattr(m, f.name)
        assert v is None or (isinstance(v, jax.Array) and v.dtype == P.default_float()), (name, f.name, v)


@pytest.mark.parametrize("cls", PIECES, ids=lambda c: c.__name__)
def test_channel_and_surrogate_fields_are_declared(cls):
    obj = cls()
    fields = dataclasses.fields(obj)
    assert fields, cls
    for f in fields:
        assert "param" in f.metadata, f"{cls.__name__}.{f.name} is not declared with param()"
        assert isinstance(getattr(obj, f.name), jax.Array)


@pytest.mark.parametrize("name", list(MAKERS))
def test_checks_run_once_per_instance(name, monkeypatch):
    """Equinox runs every class's own __check_init__: a subclass that also called its parent's
    would check the parameters several times."""
    calls = []
    orig = P.check_params
    monkeypatch.setattr(P, "check_params", lambda obj: (calls.append(type(obj).__name__), orig(obj))[1])
    MAKERS[name]()
    assert calls.count(name) == 1, calls


# ---- bad values: the error names the parameter -------------------------------------------------
BAD = [
    ("LIF", "tau", -1.0), ("LIF", "tau", "fast"), ("LIF", "V_th", float("nan")), ("LIF", "t_ref", -0.5),
    ("LIF", "R", float("inf")), ("QIF", "a0", 0.0), ("AdEx", "tau_w", 0.0), ("AdEx", "delta_T", "2"),
    ("GIF", "k1", -0.2), ("Izhikevich", "a", float("nan")), ("HH", "gNa", -120.0), ("HH", "C", 0.0),
    ("HH", "EL", "rest"), ("MorrisLecar", "V4", 0.0), ("WangBuzsaki", "phi", -5.0),
    ("ConductanceNeuron", "C", -1.0), ("FHN", "tau", float("nan")), ("HindmarshRose", "r", 0.0),
    ("RateUnit", "tau", -10.0), ("WilsonCowan", "tau_E", 0.0), ("Theta", "eta", float("nan")),
]


@pytest.mark.parametrize("name,field,value", BAD, ids=[f"{a}.{b}={c!r}" for a, b, c in BAD])
def test_bad_value_raises_naming_the_parameter(name, field, value):
    with pytest.raises(bd.BraindynError, match=repr(field)):
        MAKERS[name](**{field: value})


@pytest.mark.parametrize("name,field", [("LIF", "tau"), ("HH", "gK"), ("AdEx", "b"), ("RateUnit", "gain"),
                                        ("ConductanceNeuron", "V_th")])
def test_wrong_per_neuron_shape_raises(name, field):
    MAKERS[name](n=3, **{field: np.full(3, 2.0)})  # one per neuron is fine
    with pytest.raises(bd.BraindynError, match=repr(field)):
        MAKERS[name](n=3, **{field: np.full(4, 2.0)})
    with pytest.raises(bd.BraindynError, match=repr(field)):
        MAKERS[name](n=3, **{field: np.full((3, 1), 2.0)})


def test_bad_values_of_pieces_and_groups():
    cases = [
        (lambda: ch.Leak(g=-0.1), "g"), (lambda: ch.INa_HH(phi=0.0), "phi"), (lambda: ch.IK_Ca(Kd="1"), "Kd"),
        (lambda: ch.CalciumPool(tau=float("nan")), "tau"), (lambda: IA_CS(g=-1.0), "g"),
        (lambda: bd.surrogate.Sigmoid(0.0), "width"), (lambda: bd.surrogate.Gaussian(float("nan")), "width"),
        (lambda: N.PoissonGroup(n=4, rate=-1.0), "rate"), (lambda: N.PoissonGroup(n=4, rate=np.ones(5)), "rate"),
        (lambda: N.SpikeTimeGroup(2, [0], [-1.0]), "times"),
        # a channel parameter per neuron must match the neuron's n
        (lambda: N.ConductanceNeuron(_hh_parts(g=np.full(4, 0.03)), n=3), "g"),
    ]
    for make, name in cases:
        with pytest.raises(bd.BraindynError, match=repr(name)):
            make()
    N.ConductanceNeuron(_hh_parts(g=np.full(3, 0.03)), n=3)  # one per neuron is fine


def test_conductance_neuron_takes_every_spiking_neuron_keyword():
    m = N.ConductanceNeuron(_hh_parts(), detach_reset=False, t_ref=1.0, refractory_rule="exact", n=2,
                            spike_fn=bd.surrogate.FastSigmoid(2.0))
    assert m.detach_reset is False and float(m.t_ref) == 1.0 and m.n == 2
    assert float(m.spike_fn.width) == 2.0
    with pytest.raises(bd.BraindynError, match="unknown argument"):
        N.ConductanceNeuron(_hh_parts(), detach=False)


# ---- gradients reach the parameters through a run ----------------------------------------------
def _run_loss(model, I, steps=400, dt=0.1, spikes=True):
    """Sum of the first variable and of the spikes over a run (own scan: the model alone)."""
    s0 = model.init_state()
    var = model.variables[0]

    def body(s, k):
        s, _ = model.step(s, {"I": I}, k * dt, dt, None)
        return s, s[var].sum() * 1e-3 + (s["spike"].sum() if spikes and "spike" in s else 0.0)

    _, out = jax.lax.scan(body, s0, jnp.arange(steps))
    return out.sum()


GRAD_CASES = {  # model, input, parameters whose gradient must be non-zero
    "LIF": (lambda: N.LIF(n=2), 25.0, ["tau", "V_th", "V_rest", "V_reset", "R"]),
    "AdEx": (lambda: N.AdEx.preset("adapting", n=2, method="rk2"), 65.0, ["tau", "tau_w", "a", "b", "V_T", "delta_T"]),
    "GIF": (lambda: N.GIF(n=2, a=0.005), 2.0, ["tau", "R", "a", "b", "theta_inf"]),
    "Izhikevich": (lambda: N.Izhikevich(n=2), 10.0, ["a", "b", "c", "d", "V_th"]),
    "HH": (lambda: N.HH(n=2), 10.0, ["gNa", "gK", "gL", "ENa", "EK", "EL", "C", "V_th"]),
    "FHN": (lambda: N.FHN(n=2, method="rk4"), 0.8, ["a", "b", "tau", "V_th"]),
    "RateUnit": (lambda: N.RateUnit(n=2), 1.0, ["tau", "gain", "theta", "r_max"]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grad_of_a_run_reaches_the_parameters(name):
    make, I, names = GRAD_CASES[name]
    model = make()
    grads = jax.grad(_run_loss)(model, jnp.asarray([I, 0.9 * I]))
    for k in names:
        g = getattr(grads, k)
        assert g is not None, (name, k)
        assert bool(jnp.all(jnp.isfinite(g))) and float(jnp.abs(g).sum()) > 0, (name, k, g)
    # every float leaf has a finite gradient (t_ref and surrogate widths: zero by design)
    for leaf in jax.tree_util.tree_leaves(grads):
        assert bool(jnp.all(jnp.isfinite(leaf))), name


def test_grad_reaches_channel_parameters():
    model = N.ConductanceNeuron({**_hh_parts(), "A": IA_CS(g=10.0)}, n=1)
    grads = jax.grad(_run_loss)(model, jnp.asarray([12.0]))
    for piece, k in [("Na", "g"), ("K", "E"), ("L", "g"), ("A", "g"), ("A", "phi")]:
        g = getattr(grads.channels[piece], k)
        assert bool(jnp.isfinite(g)) and float(g) != 0.0, (piece, k, g)


def test_grad_matches_finite_difference_for_the_time_constant():
    """Below threshold (no spike) the LIF trace is smooth in tau: the gradient is its derivative
    (the loss leaves out the spikes, whose surrogate gradient is not the derivative of 0)."""
    f = lambda tau: _run_loss(N.LIF(tau=tau, V_init=5.0), jnp.asarray(10.0), steps=200, spikes=False)
    g = float(jax.grad(f)(jnp.asarray(10.0)))
    h = 1e-4
    fd = (float(f(10.0 + h)) - float(f(10.0 - h))) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-5)


# ---- a sweep never recompiles --------------------------------------------------------------------
@pytest.mark.parametrize("name,field,values", [
    ("LIF", "tau", [5.0, 8.0, 10.0, 12.0, 20.0]),
    ("LIF", "t_ref", [0.0, 1.0, 2.0, 5.0, 7.5]),
    ("HH", "gK", [30.0, 33.0, 36.0, 40.0, 45.0]),
    ("GIF", "a", [0.0, 0.002, 0.005, 0.01, 0.02]),
])
def test_sweep_compiles_once(name, field, values):
    traces = []

    @eqx.filter_jit
    def count(model):
        traces.append(1)  # runs only while tracing
        s0 = model.init_state()

        def body(s, k):
            s, _ = model.step(s, {"I": 25.0 if name != "GIF" else 2.0}, k * 0.1, 0.1, None)
            return s, s["spike"].sum()

        return jax.lax.scan(body, s0, jnp.arange(1000))[1].sum()

    counts = [float(count(MAKERS[name](**{field: v}))) for v in values]
    assert len(traces) == 1, f"{len(traces)} compilations for {len(values)} values of {name}.{field}"
    assert len(set(counts)) > 1, counts  # the value is used


def test_sweep_is_a_vmap_over_the_constructor():
    taus = jnp.asarray([5.0, 10.0, 20.0])
    V = jax.vmap(lambda tau: _run_loss(N.LIF(tau=tau, V_init=5.0), jnp.asarray(0.0), steps=50))(taus)
    # tau dV/dt = -V: the sum of V e^{-k dt / tau} over the run grows with tau
    assert bool(jnp.all(jnp.diff(V) > 0))


def test_trainable_splits_parameters_from_structure():
    m = N.ConductanceNeuron(_hh_parts(), n=2)
    p, s = bd.params.trainable(m, freeze=("E",))
    assert p.channels["Na"].E is None and float(p.channels["Na"].g) == 120.0
    assert bd.params.combine(p, s).channels["Na"].E is not None
