r"""The component harness: one set of checks that every braindyn component passes.

:func:`discover` finds every concrete component of the package by itself (no hand-kept list):
models (:class:`~braindyn.core.Dynamics`: neurons, rate models, networks), projections,
synaptic kinetics and outputs, learning rules, short-term plasticity, inputs and the network
builders of :mod:`braindyn.models`. :func:`check_component` puts one component in a small
*host* system (a projection between two populations, an input driving a neuron, ...) and checks

``declared``
    no numeric field is a Python number (a parameter is a declared array leaf, see
    :mod:`braindyn.params`; a Python number would be static and recompile for a new value).
``jit_eager``
    one step and a short :func:`braindyn.simulate` (with a key) give the same values with and
    without ``jax.jit``: the same random numbers, values within float tolerance (``1e-12``
    relative in float64; bit equality is not required, XLA fuses multiply-adds).
``chunking``
    two compiled :func:`braindyn.run` calls with other ``chunk_steps`` agree bit for bit.
``vmap``
    ``jax.vmap`` over three values of a parameter equals three single runs.
``grad``
    (float64) the gradient of a smooth loss (the mean of every float state variable over the
    run) with respect to every declared parameter (scalar or per neuron, along the direction
    of ones) equals a central finite difference within ``1e-3`` relative. Surrogate spikes are
    replaced by the exact Heaviside for this check, so the gradient is the true derivative of
    the piecewise-smooth run; where the run has a kink at the value itself (a ``min`` switching
    there), autodiff must equal one of the one-sided differences. Integer-step parameters
    (:data:`STEP_PARAMS`, e.g. ``t_ref``) must have a zero gradient instead.
``surrogate``
    (spiking neurons) one step from a state just below and just above the spike condition:
    ``d spike / d V`` equals the surrogate's closed form
    :math:`\rho(x/w)/w \cdot \partial x/\partial V` (``spike_fn.rho``, ``x`` the spike distance).
``dtype``
    float32 and float64 states keep their dtype through the steps (with 64-bit JAX on, the
    stricter case for float32).
``recompile``
    20 new parameter values (built through the constructor, as a user would) and 20 new input
    values through :func:`braindyn.run` compile the run at most once (compilations counted with
    ``jax.log_compiles``).

``check_component(obj, float32=True)`` runs the checks that need no float64 (all but ``grad``)
with 64-bit JAX switched off, the default setting of JAX.

**Examples of components.** The harness builds an instance with the class's ``example()``
classmethod if it has one, else its default constructor; the few classes whose constructor
needs arguments and that have no ``example`` yet are built from :data:`FALLBACK_EXAMPLES`
(required arguments only). A concrete class that cannot be built makes the harness fail, so a
new component is never skipped silently.

Example
-------
>>> import braindyn as bd
>>> from braindyn.testing import check_component
>>> report = check_component(bd.neurons.LIF(n=2, tau=12.0), checks=("jit_eager", "vmap", "dtype"))
>>> {check: result.split(" ")[0] for check, result in sorted(report.items())}
{'dtype': 'pass', 'jit_eager': 'pass', 'vmap': 'pass'}

The gradient check compares with finite differences in float64: run it with 64-bit JAX on
(``jax.config.update("jax_enable_x64", True)`` at the start of the program); in float32 it
reports ``"skip ..."``. A user model is checked the same way (``check_component(MyNeuron())``);
``discover()`` lists what the library's own suite checks (``tests/test_harness.py``).
"""
from ._checks import CHECKS, applicable_checks, check_component
from ._discovery import FALLBACK_EXAMPLES, KINDS, Component, HarnessError, discover, examples
from ._factory import check_model
from ._hosts import STEP_PARAMS, Case, case_for

__all__ = ["Component", "Case", "HarnessError", "CHECKS", "KINDS", "STEP_PARAMS", "FALLBACK_EXAMPLES", "discover",
           "examples", "case_for", "check_component", "applicable_checks", "check_model"]
