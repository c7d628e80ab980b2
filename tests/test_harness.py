"""The component harness over every component of the package (braindyn.testing).

Every concrete neuron, model, projection, synaptic kinetics and output, learning rule,
short-term plasticity, input and network builder is found by ``braindyn.testing.discover``
(no hand-kept list) and passes every check that applies to it in float64: jit vs eager (same
random numbers, values within 1e-12), two chunkings of ``bd.run`` bit for bit, vmap over a
parameter, gradients of every declared parameter against central finite differences (1e-3),
the one-step surrogate gradient of spiking neurons, dtype kept, and 20 new parameter and input
values compiling the run at most once. One component of each kind also passes the checks with
64-bit JAX switched off (float32). The harness itself is tested on broken components: each
check must fail on the bug it is there to catch.
"""
from typing import Any, ClassVar

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn import testing as T

IMPORT_ERRORS: list = []
COMPONENTS = T.discover(errors=IMPORT_ERRORS)
# float32 (64-bit JAX off, JAX's default): one component of each kind (every component runs in
# float64 above, and keeps a float32 state there)
FLOAT32_NAMES = ("LIF", "HH", "SynapticProjection", "Exponential", "ConductanceOutput", "STDP", "TsodyksMarkram",
                 "OUProcess", "states.ring_network")
FLOAT32 = [c for c in COMPONENTS if c.short in FLOAT32_NAMES]


def test_every_module_imports():
    assert not IMPORT_ERRORS, "modules the harness could not import: " + "; ".join(
        f"{m}: {type(e).__name__}: {e}" for m, e in IMPORT_ERRORS)


def test_discovery_finds_every_kind_and_no_abstract_base():
    names = {c.name.rsplit(".", 1)[-1] for c in COMPONENTS}
    assert {c.kind for c in COMPONENTS} == set(T.KINDS)
    assert {"LIF", "HH", "Network", "SynapticProjection", "Exponential", "ConductanceOutput", "STDP",
            "TsodyksMarkram", "PoissonSpikes", "build"} <= names
    assert not names & {"Dynamics", "ODEModel", "SpikingNeuron", "Projection", "Synapse", "TransmitterKinetics",
                        "Output", "Input", "LearningRule"}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: f"{c.kind}-{c.short}")
def test_component(component):
    T.check_component(component)


def test_float32_subset_covers_every_kind():
    assert sorted(c.short for c in FLOAT32) == sorted(FLOAT32_NAMES)
    assert {c.kind for c in FLOAT32} == set(T.KINDS)


@pytest.mark.parametrize("component", FLOAT32, ids=lambda c: f"{c.kind}-{c.short}")
def test_component_float32(component):
    T.check_component(component, float32=True)


# ---- the harness catches what it is there to catch ----------------------------------------------
class _Leaky(bd.SpikingNeuron):
    """tau dV/dt = -(V - V_rest) + I, spike above V_th, reset to V_rest (a minimal user model)."""

    variables: ClassVar = ("V",)
    V_rest: Any = bd.param(-65.0, unit="mV")
    V_th: Any = bd.param(-50.0, unit="mV")
    tau: Any = bd.param(10.0, bound="positive", unit="ms")

    def initial(self):
        return {"V": self.V_rest}

    def vector_field(self, t, y, args):
        return {"V": (-(y["V"] - self.V_rest) + args["I"]) / self.tau}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.V_rest, spike)}


@jax.custom_jvp
def _wrong_exp(x):
    return jnp.exp(x)


_wrong_exp.defjvp(lambda primals, tangents: (jnp.exp(primals[0]), 1.1 * jnp.exp(primals[0]) * tangents[0]))


class _WrongGradient(_Leaky):
    def vector_field(self, t, y, args):  # a custom derivative 10 % too large
        return {"V": (-(y["V"] - self.V_rest) + args["I"]) / self.tau + 0.01 * _wrong_exp(self.tau / 10.0)}


class _PythonFloat(_Leaky):
    gain: Any = 2.0  # not declared: a Python number, static under jit

    def vector_field(self, t, y, args):
        return {"V": (-(y["V"] - self.V_rest) + self.gain * args["I"]) / self.tau}


class _LosesDtype(_Leaky):
    def step(self, state, inputs, t, dt, key=None):
        new, out = super().step(state, inputs, t, dt, key)
        return {**new, "V": new["V"].astype(jnp.float64)}, out


class _DoubledSurrogate(bd.surrogate.Sigmoid):
    def __call__(self, x):  # the same spikes, but d/dx is 2 rho(2x/w)/w, not rho(x/w)/w
        return super().__call__(2.0 * x)


class _HostNoise(_Leaky):
    def vector_field(self, t, y, args):  # NumPy randomness: frozen into a compiled step
        return {"V": (-(y["V"] - self.V_rest) + args["I"] + np.random.normal()) / self.tau}


_TRACES = []


class _TraceDependent(_Leaky):
    def vector_field(self, t, y, args):  # a Python side effect: each compilation sees another value
        _TRACES.append(1)
        return {"V": (-(y["V"] - self.V_rest) + args["I"] + 0.1 * len(_TRACES)) / self.tau}


def test_a_correct_user_model_passes_every_check():
    report = T.check_component(_Leaky(n=2))
    assert set(report) == set(T.CHECKS) and all(v.startswith("pass") for v in report.values()), report


def test_harness_fails_a_wrong_gradient():
    with pytest.raises(T.HarnessError, match=r"grad.*tau: autodiff"):
        T.check_component(_WrongGradient(), checks=("grad",))


def test_harness_fails_python_number_parameters():
    with pytest.raises(T.HarnessError, match=r"declared.*gain = 2.0"):
        T.check_component(_PythonFloat(), checks=("declared",))
    with pytest.raises(T.HarnessError, match=r"recompile.*20 new values of gain"):
        T.check_component(_PythonFloat(), checks=("recompile",), param="gain")


def test_harness_fails_a_wrong_surrogate_gradient():
    with pytest.raises(T.HarnessError, match=r"surrogate.*closed form"):
        T.check_component(_Leaky(spike_fn=_DoubledSurrogate(1.0)), checks=("surrogate",))


def test_harness_fails_host_randomness_and_trace_dependence():
    with pytest.raises(T.HarnessError, match=r"jit_eager.*jit vs eager"):
        T.check_component(_HostNoise(), checks=("jit_eager",))
    with pytest.raises(T.HarnessError, match=r"chunking.*not bit for bit"):
        T.check_component(_TraceDependent(), checks=("chunking",))


def test_harness_fails_a_dtype_change():
    with pytest.raises(T.HarnessError, match=r"dtype.*float64 after a step from float32"):
        T.check_component(_LosesDtype(), checks=("dtype",))


def test_a_class_without_example_fails_discovery_examples():
    class NeedsArgs(bd.neurons.LIF):
        def __init__(self, size):
            self.n = size

    with pytest.raises(T.HarnessError, match="classmethod `example"):
        T.examples(NeedsArgs)
