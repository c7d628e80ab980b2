"""Input currents and spike trains, evaluated step by step inside the run loop.

An input is an :class:`Input` (an immutable module) with an optional state, evaluated at the
start of each step: ``value, state = inp(t, dt, key, state)``. Deterministic inputs are cheap
functions of ``t`` (no arrays of length ``duration/dt`` are built, so a 10 s run of a large
network needs no input memory); stochastic ones draw from the step's key; the
Ornstein--Uhlenbeck process carries its state. Inputs add: ``section(...) + ou(...)``.

Wherever braindyn takes ``inputs`` it also accepts a constant, a plain function ``f(t)``,
or a dict of these (one entry per input name or per population).

A step starting at ``t`` belongs to the section ``[t_k, t_{k+1})`` that contains ``t + dt/2``,
so switching times that are multiples of ``dt`` are exact whatever the rounding of ``t``.

Time: the runner hands inputs a :class:`braindyn.clock.Time` (drift-free: sections, ramps and
the phases of periodic inputs resolve ``dt`` at any ``t``, also in float32); a plain function
``f(t)`` receives the rounded float ``t``. Randomness: each input draws from its own key,
derived from its name (its path in the ``inputs`` dict), per block of neurons
(:func:`braindyn.clock.uniform`), so adding an input changes nobody else's noise. Numeric
fields are parameters (array leaves): a new rate or amplitude does not recompile a run.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import clock
from ._errors import BraindynError, check_nonnegative, check_positive
from .clock import as_time
from .params import Parametrized, param

__all__ = [
    "Input", "Constant", "Section", "section", "Ramp", "ramp", "Sinusoid", "sinusoidal", "Square", "square",
    "PoissonSpikes", "poisson", "WienerNoise", "wiener", "OUProcess", "ou", "ArrayInput", "from_array",
    "Sum", "init_states", "evaluate", "prepare", "check", "check_read", "input_names",
]


def _p(default=None, bound="finite", unit=""):
    return param(default, bound=bound, unit=unit, per_neuron=False)


class Input(Parametrized):
    """Base of all inputs. Subclasses implement :meth:`at` (deterministic) or :meth:`__call__`."""

    def init_state(self, key=None):
        return None

    def at(self, t, dt):
        raise NotImplementedError

    def __call__(self, t, dt, key=None, state=None):
        return self.at(t, dt), state

    def __add__(self, other):
        return Sum((self, _wrap(other)))

    __radd__ = __add__

    def array(self, duration: float, dt: float = 0.1, key=None):
        """Materialise the input as an array of shape ``(steps, ...)`` (for plots and checks)."""
        n = int(round(duration / dt))
        key = jax.random.PRNGKey(0) if key is None else key
        k0, k1 = jax.random.split(key)
        s0 = self.init_state(k0)

        def body(s, i):
            a, b = i // (1 << clock.STEP_BITS), i % (1 << clock.STEP_BITS)
            v, s = self(clock.step_time(None, dt, 0.0, a=a, b=b), dt, jax.random.fold_in(k1, i), s)
            return s, jnp.asarray(v)

        _, vals = jax.lax.scan(body, s0, jnp.arange(n))
        return np.asarray(vals)


def _wrap(x):
    return x if isinstance(x, Input) else Constant(x)


class Constant(Input):
    """A constant value (scalar or one per neuron).

    Example
    -------
    >>> float(Constant(3.0).at(0.0, 0.1))
    3.0
    """

    value: Any = _p()

    def at(self, t, dt):
        return jnp.asarray(self.value)


class Section(Input):
    """Piecewise-constant input: ``values[k]`` during the ``k``-th interval of ``durations`` (ms),
    zero after the last one.

    .. math:: I(t) = v_k \\quad\\text{for}\\quad \\textstyle\\sum_{j<k} d_j \\le t < \\sum_{j\\le k} d_j

    Example
    -------
    >>> inp = section([0.0, 10.0, 0.0], [10.0, 50.0, 10.0])   # the book's HH step
    >>> [float(inp.at(t, 0.1)) for t in (9.9, 10.0, 59.9, 60.0)]
    [0.0, 10.0, 10.0, 0.0]
    """

    values: Any
    bounds: Any

    def __init__(self, values: Sequence, durations: Sequence[float]):
        if len(values) != len(durations):
            raise BraindynError(
                f"section: 'values' has {len(values)} entries but 'durations' has {len(durations)}. "
                f"Fix: give one duration (ms) per value."
            )
        for d in durations:
            check_nonnegative("durations", d, "section", "ms")
        vals = [jnp.asarray(v) for v in values]
        shape = jnp.broadcast_shapes(*[v.shape for v in vals])
        self.values = jnp.stack([jnp.broadcast_to(v, shape) for v in vals] + [jnp.zeros(shape)])
        # switching times as double-floats: exact at any t in float32 too
        self.bounds = clock.Time.of_array(np.cumsum(np.asarray(durations, dtype=np.float64)))

    def at(self, t, dt):
        tm = as_time(t) + 0.5 * dt
        k = jnp.sum(tm >= self.bounds)
        return self.values[k]


def section(values, durations):
    """Piecewise-constant current (see :class:`Section`)."""
    return Section(values, durations)


class Ramp(Input):
    """Linear ramp from ``c_start`` at ``t_start`` to ``c_end`` at ``t_end`` (ms), zero outside.

    Example
    -------
    >>> float(ramp(0.0, 10.0, 0.0, 100.0).at(50.0 - 0.05, 0.1))
    5.0
    """

    c_start: Any = _p()
    c_end: Any = _p()
    t_start: Any = _p(unit="ms")
    t_end: Any = _p(unit="ms")

    def at(self, t, dt):
        tm = as_time(t) + 0.5 * dt
        frac = (tm - self.t_start) / (self.t_end - self.t_start)
        inside = (tm >= self.t_start) & (tm < self.t_end)
        return jnp.where(inside, self.c_start + frac * (self.c_end - self.c_start), 0.0)


def ramp(c_start, c_end, t_start, t_end):
    check_positive("t_end - t_start", t_end - t_start, "ramp", "ms")
    return Ramp(c_start, c_end, t_start, t_end)


class Sinusoid(Input):
    """:math:`I(t) = b + A \\sin(2\\pi f t / 1000)` on ``[t_start, t_end)``, f in Hz, t in ms.

    Example
    -------
    >>> round(float(sinusoidal(2.0, 10.0).at(25.0 - 0.05, 0.1)), 3)
    2.0
    """

    amplitude: Any = _p()
    frequency: Any = _p(bound="nonnegative", unit="Hz")
    bias: Any = _p(0.0)
    t_start: Any = _p(0.0, unit="ms")
    t_end: Any = _p(math.inf, bound="extended", unit="ms")

    def at(self, t, dt):
        tm = as_time(t) + 0.5 * dt
        v = self.bias + self.amplitude * jnp.sin(2 * jnp.pi * tm.phase(self.frequency / 1000.0, self.t_start))
        return jnp.where((tm >= self.t_start) & (tm < self.t_end), v, 0.0)


def sinusoidal(amplitude, frequency, bias=0.0, t_start=0.0, t_end=math.inf):
    check_nonnegative("frequency", frequency, "sinusoidal", "Hz")
    return Sinusoid(amplitude, frequency, bias, t_start, t_end)


class Square(Input):
    """Square wave: ``bias + amplitude`` during the first ``duty`` fraction of each period, ``bias``
    otherwise (f in Hz), on ``[t_start, t_end)``.

    Example
    -------
    >>> [float(square(1.0, 100.0).at(t, 0.1)) for t in (1.0, 6.0)]
    [1.0, 0.0]
    """

    amplitude: Any = _p()
    frequency: Any = _p(bound="positive", unit="Hz")
    duty: Any = _p(0.5, bound="probability")
    bias: Any = _p(0.0)
    t_start: Any = _p(0.0, unit="ms")
    t_end: Any = _p(math.inf, bound="extended", unit="ms")

    def at(self, t, dt):
        tm = as_time(t) + 0.5 * dt
        phase = tm.phase(self.frequency / 1000.0, self.t_start)
        v = self.bias + jnp.where(phase < self.duty, self.amplitude, 0.0)
        return jnp.where((tm >= self.t_start) & (tm < self.t_end), v, 0.0)


def square(amplitude, frequency, duty=0.5, bias=0.0, t_start=0.0, t_end=math.inf):
    check_positive("frequency", frequency, "square", "Hz")
    if not 0 <= duty <= 1:
        raise BraindynError(f"square: 'duty' must lie in [0, 1], got {duty!r}. Fix: e.g. duty=0.5.")
    return Square(amplitude, frequency, duty, bias, t_start, t_end)


class PoissonSpikes(Input):
    """Independent Poisson spike trains: each step, each of ``n`` trains emits ``weight`` with
    probability :math:`r\\,\\Delta t` (``rate`` in Hz, ``dt`` in ms).

    Example
    -------
    >>> import jax
    >>> x = poisson(100.0, n=1000).array(100.0, 0.1, jax.random.PRNGKey(1))
    >>> bool(8.0 < x.sum() / 1000 < 12.0)     # 100 Hz for 0.1 s: 10 spikes per train on average
    True
    """

    rate: Any = _p(bound="nonnegative", unit="Hz")
    n: int = eqx.field(static=True, default=1)
    weight: Any = _p(1.0)

    def __call__(self, t, dt, key=None, state=None):
        _need_key(key, self)
        p = jnp.asarray(self.rate) * dt / 1000.0
        return self.weight * (clock.uniform(key, self.n, p.dtype) < p), state


def poisson(rate, n=1, weight=1.0):
    check_nonnegative("rate", rate, "poisson", "Hz")
    return PoissonSpikes(rate, n, weight)


class WienerNoise(Input):
    """Gaussian white noise current :math:`\\sigma\\,\\xi(t)`: held over a step, its integral is a
    Wiener increment :math:`\\sigma\\sqrt{\\Delta t}\\,\\mathcal N(0,1)` (``sigma`` in unit/sqrt(ms)).

    Example
    -------
    >>> import jax
    >>> x = wiener(2.0, n=4000).array(1.0, 0.1, jax.random.PRNGKey(0))
    >>> bool(abs(x.std() * 0.1 ** 0.5 / 2.0 - 1.0) < 0.05)
    True
    """

    sigma: Any = _p(bound="nonnegative")
    n: int = eqx.field(static=True, default=1)

    def __call__(self, t, dt, key=None, state=None):
        _need_key(key, self)
        return self.sigma * clock.normal(key, self.n, jnp.result_type(self.sigma)) / math.sqrt(dt), state


def wiener(sigma, n=1):
    check_nonnegative("sigma", sigma, "wiener")
    return WienerNoise(sigma, n)


class OUProcess(Input):
    """Ornstein--Uhlenbeck current, sampled exactly at every step.

    .. math:: \\tau\\,dx = (\\mu - x)\\,dt + \\sigma\\sqrt{2\\tau}\\,dW, \\qquad
              x_{n+1} = \\mu + (x_n - \\mu)e^{-\\Delta t/\\tau} + \\sigma\\sqrt{1 - e^{-2\\Delta t/\\tau}}\\,\\mathcal N(0,1)

    ``mean`` and ``sigma`` (the stationary standard deviation) in the unit of the input,
    ``tau`` in ms. The process starts from its stationary distribution.

    Example
    -------
    >>> import jax
    >>> x = ou(1.0, 0.5, 5.0, n=2000).array(50.0, 0.1, jax.random.PRNGKey(0))
    >>> bool(abs(x.mean() - 1.0) < 0.05 and abs(x.std() - 0.5) < 0.05)
    True
    """

    mean: Any = _p()
    sigma: Any = _p(bound="nonnegative")
    tau: Any = _p(bound="positive", unit="ms")
    n: int = eqx.field(static=True, default=1)

    def init_state(self, key=None):
        _need_key(key, self)
        return self.mean + self.sigma * clock.normal(key, self.n, jnp.result_type(self.sigma))

    def __call__(self, t, dt, key=None, state=None):
        _need_key(key, self)
        a = jnp.exp(-dt / jnp.asarray(self.tau))
        xi = clock.normal(key, self.n, jnp.result_type(self.sigma))
        x = self.mean + (state - self.mean) * a + self.sigma * jnp.sqrt(1 - a * a) * xi
        return x, x


def ou(mean, sigma, tau, n=1):
    check_positive("tau", tau, "ou", "ms")
    check_nonnegative("sigma", sigma, "ou")
    return OUProcess(mean, sigma, tau, n)


class ArrayInput(Input):
    """Values given per step: row ``k`` of ``values`` is the input of the step starting at
    ``t0 + k dt``; after the last row the input is zero."""

    values: Any = _p()
    dt: float = eqx.field(static=True, default=0.1)
    t0: float = eqx.field(static=True, default=0.0)

    def at(self, t, dt):
        k = jnp.floor((as_time(t) - self.t0) / self.dt + 0.5).astype(jnp.int32)
        n = self.values.shape[0]
        ok = (k >= 0) & (k < n)
        return jnp.where(ok, self.values[jnp.clip(k, 0, n - 1)], 0.0)


def from_array(values, dt=0.1, t0=0.0):
    """Input from an array of shape ``(steps, ...)`` sampled every ``dt`` ms."""
    check_positive("dt", dt, "from_array", "ms")
    return ArrayInput(jnp.asarray(values), dt, t0)


class Sum(Input):
    """Sum of inputs (what ``a + b`` builds)."""

    parts: tuple

    def init_state(self, key=None):
        return tuple(p.init_state(clock.named_key(key, str(i))) for i, p in enumerate(self.parts))

    def __call__(self, t, dt, key=None, state=None):
        keys = [clock.named_key(key, str(i)) for i in range(len(self.parts))]
        total, new = 0.0, []
        for p, k, s in zip(self.parts, keys, state):
            v, s = p(t, dt, k, s)
            total = total + v
            new.append(s)
        return total, tuple(new)


def _need_key(key, inp):
    if key is None:
        raise BraindynError(f"{type(inp).__name__} is random but got key=None. Fix: pass key=... to "
                            f"braindyn.simulate (braindyn.run always has a key, default key=0).")


# ---- evaluation of an ``inputs`` argument (used by the runner) ---------------------------------
def _is_leaf(x):
    return isinstance(x, Input) or callable(x) and not isinstance(x, (jax.Array, np.ndarray))


def _named_leaves(inputs):
    flat, treedef = jax.tree_util.tree_flatten_with_path(inputs, is_leaf=_is_leaf)
    names = [jax.tree_util.keystr(path) or "input" for path, _ in flat]
    return names, [leaf for _, leaf in flat], treedef


def prepare(inputs):
    """``inputs`` with every number and NumPy array turned into a JAX array (traced, not static:
    a new value does not recompile a run); functions and :class:`Input` objects pass."""
    from .params import default_float

    def conv(x):
        if isinstance(x, Input) or callable(x) and not isinstance(x, (jax.Array, np.ndarray)):
            return x
        if isinstance(x, (bool, np.bool_)):
            return jnp.asarray(x)
        if isinstance(x, (int, float, np.ndarray, np.number, list)):
            a = np.asarray(x)
            if a.dtype.kind in "iuf":
                return jnp.asarray(a, default_float())
        return x

    def walk(x, name):
        if isinstance(x, dict):
            return {k: walk(v, f"{name}['{k}']") for k, v in x.items()}
        if isinstance(x, list):  # a list of numbers is one array input
            try:
                a = np.asarray(x, dtype=float)
            except (TypeError, ValueError):
                raise BraindynError(f"{_pretty(name)}: a list must hold numbers (one per neuron), got {x!r}. Fix: "
                                    f"e.g. [10.0, 12.0, 14.0], or a dict of inputs by name.") from None
            return jnp.asarray(a, default_float())
        return jax.tree.map(conv, x, is_leaf=_is_leaf)

    return walk(inputs, "")


def _pretty(name) -> str:
    """``"['E']['I']"`` -> ``"input 'E.I'"``; the bare input of a population -> ``"the input"``."""
    import re

    dotted = ".".join(re.findall(r"\[\'?([^'\]]*)\'?\]", name))
    return f"input {dotted!r}" if dotted else "the input"


def has_dynamic(inputs) -> bool:
    """Whether ``inputs`` holds anything evaluated per step (an :class:`Input` or a function)."""
    return any(isinstance(leaf, Input) or callable(leaf) for leaf in _named_leaves(inputs)[1])


def check(inputs, dt):
    """Checks before a run: constant inputs are finite; a Poisson rate with ``rate * dt > 1``
    (which cannot be represented) is refused."""
    for name, leaf in zip(*_named_leaves(inputs)[:2]):
        if not (isinstance(leaf, Input) or callable(leaf)) and not isinstance(leaf, jax.core.Tracer):
            try:
                a = np.asarray(leaf)
            except Exception:
                a = None
            if a is None or a.dtype.kind not in "biufc":
                raise BraindynError(f"{_pretty(name)} must be a number, an array, a function of t or a "
                                    f"braindyn.inputs.Input, got {leaf!r} ({type(leaf).__name__}). Fix: e.g. 22.0 "
                                    f"or braindyn.inputs.section([0.0, 10.0], [10.0, 50.0]).")
            if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
                where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0]) if a.ndim else ()
                raise BraindynError(f"{_pretty(name)}: the constant value is not finite ({a[where] if a.ndim else a} at "
                                    f"index {where}): it would drive the model to infinity, which a spike reset can "
                                    f"hide. Fix: a finite input.")
        parts = leaf.parts if isinstance(leaf, Sum) else (leaf,)
        for p in parts:
            if isinstance(p, PoissonSpikes) and not isinstance(p.rate, jax.core.Tracer):
                mx = float(np.max(np.asarray(p.rate))) * dt / 1000.0
                if mx > 1.0:
                    raise BraindynError(
                        f"{_pretty(name)}: Poisson rate {float(np.max(np.asarray(p.rate)))} Hz gives a spike probability "
                        f"rate*dt = {mx:g} > 1 per step of dt={dt} ms (the train would saturate). Fix: reduce dt "
                        f"below {1000.0 / float(np.max(np.asarray(p.rate))):g} ms or split the rate over more trains.")


def init_states(inputs, key):
    """Initial states of all :class:`Input` objects in an ``inputs`` PyTree (keys by name)."""
    names, leaves, _ = _named_leaves(inputs)
    k0 = clock.named_key(key, "init")
    return [l.init_state(clock.named_key(k0, nm)) if isinstance(l, Input) else None for nm, l in zip(names, leaves)]


def evaluate(inputs, states, t, dt, key):
    """Evaluate every input of an ``inputs`` PyTree at the step starting at ``t``.

    Returns ``(values, new_states)``. Each input gets the key ``named_key(key, its path)``;
    plain callables are called as ``f(t)`` with ``t`` as one float.
    """
    names, leaves, treedef = _named_leaves(inputs)
    vals, new = [], []
    for nm, leaf, s in zip(names, leaves, states):
        if isinstance(leaf, Input):
            v, s = leaf(t, dt, clock.named_key(key, nm), s)
        elif callable(leaf):
            v = leaf(t.value if isinstance(t, clock.Time) else t)
        else:
            v = leaf
        vals.append(v)
        new.append(s)
    return jax.tree.unflatten(treedef, vals), new


# ---- which inputs does a model read? ------------------------------------------------------------
_READ_CACHE: dict = {}


def input_names(model) -> tuple:
    """The names of the inputs ``model`` reads, for error messages.

    A model may declare them with a class attribute ``input_names`` (e.g. ``("I", "I_inh")``);
    the default is ``("I",)`` (the current of every neuron model); a :class:`~braindyn.Network`
    reads its population names and its declared signals. Whether an input is read at all is
    decided by :func:`check_read` from the model's step itself, so a model that reads other
    names without declaring them still works.
    """
    from .network import Network

    if isinstance(model, Network):
        return tuple(model.populations) + tuple(getattr(model, "signals", ()))
    declared = getattr(type(model), "input_names", None)
    return tuple(declared) if declared else ("I",)


def _dotted(path) -> str:
    return ".".join(str(getattr(p, "key", getattr(p, "idx", getattr(p, "name", p)))) for p in path)


def _owner(model, parts):
    """The component that receives the input at ``parts`` and the path inside it."""
    from .network import Network

    where = []
    while isinstance(model, Network) and parts and parts[0] in model.populations:
        where.append(parts[0])
        model, parts = model.populations[parts[0]], parts[1:]
    return model, where, parts


def _unread(model, inputs, input_states, state, dt, key, t):
    """Dotted paths of the input values the model's step never uses (``None``: cannot tell)."""
    from jax._src.interpreters import partial_eval as pe

    from .runstate import fingerprint

    try:
        vals = jax.eval_shape(lambda ist: evaluate(inputs, ist, t, dt, key)[0], input_states)
    except BraindynError:
        raise
    except Exception:
        return None
    flat, vdef = jax.tree_util.tree_flatten_with_path(vals)
    if not flat:
        return []
    specs = [jax.ShapeDtypeStruct(jnp.shape(v), jnp.result_type(v)) for _, v in flat]
    try:
        ck = (fingerprint(model, dt), str(vdef), tuple((s.shape, str(s.dtype)) for s in specs),
              str(jax.tree.structure(state)), key is None)
        hash(ck)
    except Exception:
        ck = None
    if ck is not None and ck in _READ_CACHE:
        return _READ_CACHE[ck]
    mkey = clock.named_key(key, "model")

    def f(*xs):
        return model.step(state, jax.tree.unflatten(vdef, xs), t, dt, mkey)

    try:
        closed = jax.make_jaxpr(f)(*specs)
        _, used = pe.dce_jaxpr(closed.jaxpr, [True] * len(closed.jaxpr.outvars))
    except BraindynError:
        raise
    except Exception:  # a step that cannot be traced abstractly: the run itself will say what is wrong
        return None
    out = [_dotted(path) for (path, _), u in zip(flat, used) if not u]
    if ck is not None:
        _READ_CACHE[ck] = out
    return out


def check_read(model, inputs, input_states, state, dt, key=None, t=0.0):
    """Raise a clear error if an input is never read by ``model``'s step.

    A misspelt name (``inputs={"J": 22.0}`` for a neuron that reads ``I``) would otherwise drive
    nothing, silently. The check traces one step abstractly (shapes only, nothing is computed)
    and asks which input values the step's computation depends on.

    Example
    -------
    >>> import braindyn as bd
    >>> lif = bd.neurons.LIF()
    >>> try:
    ...     bd.run(lif, 10.0, inputs={"J": 22.0})
    ... except bd.BraindynError as e:
    ...     print(str(e)[:53])
    input 'J' is never read by LIF: its step does not use
    """
    if inputs is None:
        return
    bad = _unread(model, inputs, input_states, state, dt, key, t)
    named = []
    for path in bad or ():
        comp, where, rest = _owner(model, path.split(".") if path else [])
        # A bare value is a population's default input (its current); a model without one (a
        # spike generator) may ignore it. A *name* nobody reads is the silent mistake.
        if rest:
            named.append((path, comp, where, rest))
    if not named:
        return
    path, comp, where, rest = named[0]
    name = ".".join(rest) if rest else (path or "input")
    in_pop = f" (population {'.'.join(where)!r})" if where else ""
    valid = list(input_names(comp))
    if name in valid:  # the default name, but this model ignores it (a generator, a model without current)
        valid = [v for v in valid if v != name]
        fix = "remove this input: the model does not use it"
    else:
        nest = "".join(repr(w) + ": {" for w in where)
        fix = f"name one of {valid}, e.g. inputs={{{nest}{valid[0]!r}: ...{'}' * (len(where) + 1)}"
    raise BraindynError(f"input {name!r} is never read by {type(comp).__name__}{in_pop}: its step does not use it, so "
                        f"it would drive nothing. Valid input names: {valid}. Fix: {fix}.")
