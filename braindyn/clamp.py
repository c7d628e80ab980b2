"""Voltage and current clamp of conductance-based neurons, and channel block.

An *ideal voltage clamp* imposes the membrane potential :math:`V(t) = V_{cmd}(t)` (a step, a
ramp, any waveform of :mod:`braindyn.inputs` or an array); only the gating variables (and
pools) evolve. The amplifier supplies the current that keeps :math:`V` on the command:

.. math::
    I_{clamp}(t) = C \\frac{dV_{cmd}}{dt} + \\sum_k I_k(V_{cmd}, s_k), \\qquad
    \\frac{ds_k}{dt} = f_k(V_{cmd}(t), s_k)

reported with every channel current :math:`I_k` and, for ohmic channels, its conductance
:math:`g_k = I_k/(V - E_k)` (mS/cm^2), by channel name. The command is held constant within a
step (its value at the step's start, the rule of :mod:`braindyn.inputs`), so for gates with rate
kinetics the exponential update is exact: a clamp at ``dt`` reproduces
:math:`x(t) = x_\\infty - (x_\\infty - x_0) e^{-t/\\tau_x}` at every step boundary.
The capacitive term is the discrete derivative of the command (a one-step transient at a
voltage step).

*Current clamp* (:func:`current_clamp`) is an ordinary run of the neuron with an injected
current, reported the same way.

Any conductance model works that is a :class:`~braindyn.neurons.ConductanceNeuron` or converts
to one (:func:`as_channels`): :class:`~braindyn.neurons.HH` and every neuron with a
``channels()`` method (Morris--Lecar, Wang--Buzsaki). Channels are blocked by name or by drug:
``"TTX"`` blocks every sodium channel, ``"TEA"`` every potassium channel (their maximal
conductance set to zero, :func:`block`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import inputs as _inputs
from . import integrators
from ._errors import BraindynError
from .neurons.conductance import ConductanceNeuron
from .params import default_float

__all__ = ["ClampResult", "as_channels", "block", "voltage_clamp", "current_clamp", "DRUGS"]

#: Blockers and the ion of the channels they block.
DRUGS = {"TTX": "Na", "TEA": "K"}


def as_channels(model) -> ConductanceNeuron:
    """``model`` as a :class:`~braindyn.neurons.ConductanceNeuron` with named channels.

    :class:`~braindyn.neurons.HH` becomes ``{"Na": INa_HH, "K": IK_HH, "L": Leak}`` (same
    parameters, the temperature factor included); a model with a ``channels()`` method is
    assembled from it; a ``ConductanceNeuron`` is returned unchanged.

    Example
    -------
    >>> import braindyn as bd
    >>> sorted(bd.clamp.as_channels(bd.neurons.HH()).channels)
    ['K', 'L', 'Na']
    """
    from .neurons import HH
    from .neurons.channels import IK_HH, INa_HH, Leak

    if isinstance(model, ConductanceNeuron):
        return model
    if isinstance(model, HH):
        ch = {"Na": INa_HH(g=model.gNa, E=model.ENa, phi=model.phi), "K": IK_HH(g=model.gK, E=model.EK, phi=model.phi),
              "L": Leak(g=model.gL, E=model.EL)}
        return ConductanceNeuron(ch, C=model.C, n=model.n, V_th=model.V_th)
    if hasattr(model, "channels") and callable(model.channels):
        return ConductanceNeuron(model.channels(), C=model.C, n=model.n, V_th=model.V_th)
    raise BraindynError(
        f"clamp: {type(model).__name__} is not a conductance model with named channels. Fix: pass a "
        f"ConductanceNeuron, an HH, or a model with a channels() method (MorrisLecar, WangBuzsaki).")


def block(model, *names) -> ConductanceNeuron:
    """The neuron with the named channels blocked (maximal conductance ``g`` set to 0).

    ``names`` are channel names (``"Na"``, ``"K"``) or drugs of :data:`DRUGS` (``"TTX"`` blocks
    every channel whose ion is Na, ``"TEA"`` every K channel).

    Example
    -------
    >>> import braindyn as bd
    >>> float(bd.clamp.block(bd.neurons.HH(), "TTX").channels["Na"].g)
    0.0
    """
    cell = as_channels(model)
    targets = []
    for nm in names:
        if nm in DRUGS:
            hit = [k for k, c in cell.channels.items() if c.ion == DRUGS[nm]]
        elif nm in cell.channels:
            hit = [nm]
        else:
            raise BraindynError(
                f"block: unknown channel or drug {nm!r}. Channels of this neuron: {sorted(cell.channels)}; "
                f"drugs: {sorted(DRUGS)}.")
        for k in hit:
            if not hasattr(cell.channels[k], "g"):
                raise BraindynError(f"block: channel {k!r} ({type(cell.channels[k]).__name__}) has no conductance 'g'.")
        targets += hit
    for k in targets:
        cell = eqx.tree_at(lambda m: m.channels[k].g, cell, jnp.zeros_like(jnp.asarray(cell.channels[k].g)))
    return cell


_block = block  # the functions below take an argument called ``block``


@dataclass
class ClampResult:
    """Records of a clamp experiment (NumPy arrays, time along axis 0).

    Attributes
    ----------
    ts : array
        Times (ms) of the records (step starts).
    V : array
        Membrane potential (mV): the command under voltage clamp.
    I_clamp : array
        Current supplied by the amplifier (uA/cm^2): :math:`C\\,dV/dt + \\sum_k I_k` under voltage
        clamp, the injected current under current clamp.
    currents : dict
        ``{channel: I_k}`` (uA/cm^2, outward positive).
    conductances : dict
        ``{channel: g_k}`` (mS/cm^2) for ohmic channels.
    states : dict
        Every gating variable and pool, ``{"Na_m": ..., ...}``.
    """

    ts: np.ndarray
    V: np.ndarray
    I_clamp: np.ndarray
    currents: dict = field(default_factory=dict)
    conductances: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)

    @property
    def I_ion(self):
        """Total ionic current (uA/cm^2)."""
        return sum(self.currents.values())


def _as_command(command, dt):
    """An :class:`~braindyn.inputs.Input` (a traced PyTree: new values do not recompile) or a
    plain function of ``t``."""
    if isinstance(command, _inputs.Input) or callable(command):
        return command
    a = np.asarray(command, dtype=float)
    if a.ndim == 0:
        return _inputs.Constant(jnp.asarray(a, default_float()))
    return _inputs.from_array(jnp.asarray(a, default_float()), dt)


def _eval(command, t, dt):
    return command.at(t, dt) if isinstance(command, _inputs.Input) else command(t)


class _GateField:
    """The neuron's vector field restricted to the gates, with V supplied as an argument."""

    def __init__(self, cell):
        self.cell = cell

    def __call__(self, t, y, args):
        f = self.cell.vector_field(t, {**y, "V": args["V"]}, {"I": 0.0})
        return {k: f[k] for k in y}

    def linear_part(self, t, y, args):
        lin = self.cell.linear_part(t, {**y, "V": args["V"]}, {"I": 0.0})
        return None if lin is None else {k: lin[k] for k in y}


def _observe(cell, V, s):
    y = {**s, "V": V}
    parts = cell._split(y)
    env, currents = cell._env(V, parts)
    cond = {}
    for n, c in cell.channels.items():
        g = c.conductance(V, parts[n], env)
        if g is not None:
            cond[n] = jnp.broadcast_to(g, jnp.shape(V))
    return currents, cond


@eqx.filter_jit
def _vclamp(cell, command, s0, V0, n_steps, dt, method):
    solver = integrators.get(method)
    field_ = _GateField(cell)

    def body(carry, i):
        s, V_prev = carry
        t = i * dt
        V = jnp.broadcast_to(jnp.asarray(_eval(command, t, dt), V0.dtype), V0.shape)
        currents, cond = _observe(cell, V, s)
        I_cap = cell.C * (V - V_prev) / dt
        rec = (V, I_cap + sum(currents.values()), currents, cond, s)
        s_new = solver(field_, t, s, dt, {"V": V})
        return (s_new, V), rec

    _, recs = jax.lax.scan(body, (s0, V0), jnp.arange(n_steps, dtype=V0.dtype))
    return recs


def voltage_clamp(model, command, duration: float, dt: float = 0.01, *, block=(), method: str = "exp_euler",
                  V_hold=None) -> ClampResult:
    """Ideal voltage clamp of a conductance neuron on the waveform ``command`` (mV).

    .. math::
        V(t) = V_{cmd}(t), \\quad \\dot s_k = f_k(V_{cmd}, s_k), \\quad
        I_{clamp} = C\\,\\dot V_{cmd} + \\sum_k I_k(V_{cmd}, s_k)

    Parameters
    ----------
    model : conductance model
        :class:`~braindyn.neurons.ConductanceNeuron`, :class:`~braindyn.neurons.HH`, or a model
        with ``channels()`` (see :func:`as_channels`).
    command : Input, float, array or callable
        The command potential (mV): an :class:`~braindyn.inputs.Input` (``section`` for steps,
        ``ramp``), a constant, an array sampled every ``dt`` (shape ``(steps,)`` or
        ``(steps, k)`` for ``k`` clamps at once), or a function ``f(t)``. Array-valued
        commands clamp several cells at once (e.g. one step level per cell).
    duration : float
        Length of the experiment (ms).
    dt : float
        Time step (ms), 0.01 by default.
    block : tuple of str
        Channels or drugs to block (see :func:`block`).
    method : str
        Solver of the gates (``"exp_euler"``: exact for rate-kinetics gates at fixed V).
    V_hold : float, optional
        Potential (mV) at which the gates start at their steady state; default the command at
        ``t = 0``.

    Returns
    -------
    ClampResult

    Example
    -------
    >>> import braindyn as bd
    >>> hh = bd.neurons.HH()
    >>> step = bd.inputs.section([-70.0, -14.0], [5.0, 20.0])
    >>> res = bd.clamp.voltage_clamp(hh, step, 25.0)
    >>> bool(res.conductances["Na"].max() > 20.0), bool(abs(res.conductances["K"][-1] - 20.0) < 1.0)
    (True, True)
    >>> res_ttx = bd.clamp.voltage_clamp(hh, step, 25.0, block=("TTX",))
    >>> float(abs(res_ttx.currents["Na"]).max())
    0.0
    """
    if not (float(duration) > 0) or not (float(dt) > 0):
        raise BraindynError(f"voltage_clamp: duration={duration!r} and dt={dt!r} (ms) must be > 0. "
                            f"Fix: e.g. duration=25.0, dt=0.01.")
    cell = _block(model, *block) if block else as_channels(model)
    n_steps = int(round(duration / dt))
    cmd = _as_command(command, dt)
    dtype = default_float()
    c0 = _eval(cmd, 0.0, dt)
    V0 = jnp.asarray(c0 if V_hold is None else V_hold, dtype)
    V0 = jnp.broadcast_to(V0, jnp.broadcast_shapes(jnp.shape(V0), jnp.shape(c0)))
    if not bool(jnp.all(jnp.isfinite(V0))):
        raise BraindynError(f"voltage_clamp: the holding potential {V0} is not finite. Fix: check the command.")
    y0 = cell._state_at(V0)
    s0 = {k: jnp.asarray(v, dtype) for k, v in y0.items() if k != "V"}
    V, I_clamp, currents, cond, states = _vclamp(cell, cmd, s0, V0, n_steps, jnp.asarray(dt, dtype), method)
    host = lambda d: {k: np.asarray(v) for k, v in d.items()}
    return ClampResult(np.arange(n_steps) * dt, np.asarray(V), np.asarray(I_clamp), host(currents), host(cond),
                       host(states))


def current_clamp(model, current, duration: float, dt: float = 0.01, *, block=(), method: str = "exp_euler"
                  ) -> ClampResult:
    """Current clamp: inject ``current`` (uA/cm^2; any ``inputs`` of :func:`braindyn.run`) and
    record V with every channel current and conductance.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.clamp.current_clamp(bd.neurons.HH(), bd.inputs.section([0.0, 10.0], [5.0, 20.0]), 25.0)
    >>> bool(res.V.max() > 20.0), bool(res.currents["Na"].min() < -100.0)
    (True, True)
    """
    from .run import run

    cell = _block(model, *block) if block else as_channels(model)
    if method != cell.method:
        cell = ConductanceNeuron(cell.channels, C=cell.C, n=cell.n, V_th=cell.V_th, V_init=cell.V_init, method=method)
    res = run(cell, duration, dt, inputs=current, record=list(cell.variables))
    y = {k: jnp.asarray(res[k][:, 0]) for k in cell.variables}
    s = {k: v for k, v in y.items() if k != "V"}
    currents, cond = _observe(cell, y["V"], s)
    I = _inputs.prepare(current)
    if isinstance(I, _inputs.Input):
        I_inj = np.asarray(I.array(duration, dt)).reshape(len(res.ts), -1)[:, 0]
    elif callable(I):
        I_inj = np.asarray([float(I(t)) for t in res.ts])
    else:
        I_inj = np.broadcast_to(np.asarray(I, float).ravel()[0], res.ts.shape).copy()
    host = lambda d: {k: np.asarray(v) for k, v in d.items()}
    return ClampResult(np.asarray(res.ts), np.asarray(y["V"]), I_inj, host(currents), host(cond),
                       {k: np.asarray(v) for k, v in s.items()})
