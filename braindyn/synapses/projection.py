r"""The synaptic projection: connectivity + weights + delay + STP + kinetics + output + plasticity.

One projection interface over the three connectivity storages (dense matrix, :class:`~braindyn.connect.CSR`,
:class:`~braindyn.connect.ProceduralConn`), carrying any presynaptic *signal*: spikes (the
event path, :func:`braindyn.ops.event_matvec`: a spike costs in proportion to its targets) or a
continuous variable such as a rate or a membrane potential (a matrix--vector product over the
same storage, :func:`braindyn.ops.event.matvec`).

Order inside :meth:`SynapticProjection.deliver` at the step starting at :math:`t` (the network
calls it before the populations step, with the presynaptic state of the previous step):

1. signal: :math:`x_j` = ``pre_state[signal]`` (masked to ``pre_range``);
2. delay (:mod:`~braindyn.synapses.delays`): the values sent now are buffered, those sent
   ``d`` steps ago come out;
3. short-term plasticity: each arriving spike is scaled by its efficacy :math:`u^+ x^-`
   (a rate by the transmitted fraction, :class:`~braindyn.plasticity.TsodyksMarkramRate`);
4. kinetics: for linear kinetics (``align="post"``) the arriving signal is propagated,
   :math:`a_i = \sum_j x_j w_{ji}` (per-synapse delays: into the postsynaptic delay buffer),
   and the postsynaptic state is advanced; for saturating kinetics (``align="pre"``) the
   presynaptic gating :math:`s_j` is advanced and propagated, :math:`g_i = \sum_j w_{ji} s_j`
   (a continuous product: :math:`s_j` is non-zero almost everywhere);
5. output: :math:`g \mapsto` the contribution to the postsynaptic input ``target`` (a current,
   or a :class:`~braindyn.core.Conductance` that the neuron resolves at its own :math:`V`).

:meth:`~SynapticProjection.learn` (after the populations stepped) applies the long-term
plasticity rule to the weights, which then live in the projection's state (``state["w"]``); it
reads ``pre_state[learn_pre]`` and ``post_state[learn_post]`` and the third factor that the
network resolved from ``factor``.
"""
from __future__ import annotations

from typing import Any, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_positive
from ..connect import CSR, Full, ProceduralConn
from ..core import Conductance
from ..network import Projection
from ..ops import event_matvec
from ..ops.event import matvec
from ..params import Parametrized, default_float, param
from .delays import HeterogeneousDelay, HomogeneousDelay, delay_steps
from .fused import HostCSR
from .kinetics import Exponential, Synapse
from .outputs import CurrentOutput, Output

__all__ = ["SynapticProjection"]

_OWNER = "SynapticProjection"


def _conn_kind(conn):
    if isinstance(conn, CSR):
        return "csr"
    if isinstance(conn, ProceduralConn):
        return "procedural"
    if isinstance(conn, Full):
        return "full"
    if isinstance(conn, (np.ndarray, jnp.ndarray)) or hasattr(conn, "__array__"):
        return "dense"
    raise BraindynError(f"{_OWNER}: conn of type {type(conn).__name__} is not a connectivity. Fix: pass a "
                        f"braindyn.connect.CSR (e.g. braindyn.connect.fixed_prob(...)), a ProceduralConn, a "
                        f"braindyn.connect.full(n_pre, n_post), or a dense (n_pre, n_post) array.")


def _float_of(*trees):
    """The first floating dtype among the leaves of ``trees`` (else JAX's default float)."""
    for tree in trees:
        for leaf in jax.tree.leaves(tree):
            dt = getattr(leaf, "dtype", None)
            if dt is not None and jnp.issubdtype(dt, jnp.floating):
                return dt
    return default_float()


def cast(contribution, dtype):
    """``contribution`` (an array or a :class:`~braindyn.core.Conductance`) in ``dtype``."""
    if isinstance(contribution, Conductance):
        return Conductance(jnp.asarray(contribution.g).astype(dtype), jnp.asarray(contribution.gE).astype(dtype))
    return jnp.asarray(contribution).astype(dtype)


class SynapticProjection(Projection, Parametrized):
    r"""Chemical synapses from population ``pre`` to population ``post``.

    .. math::
        a_i(t) = \sum_j w_{ji}\, x_j(t - d), \qquad g = \text{kinetics}(a), \qquad
        I_i = \text{output}(g_i, V_i)

    with :math:`x_j` the presynaptic ``signal`` (spikes, or a continuous variable), :math:`d`
    the delay, and the output a current (:class:`~braindyn.synapses.CurrentOutput`) or a
    conductance :math:`g (E - V)` (:class:`~braindyn.synapses.ConductanceOutput`).

    Parameters
    ----------
    pre, post : str
        Names of the populations in the :class:`~braindyn.Network`.
    conn : CSR, ProceduralConn, Full or array
        Connectivity (structure). Dense: an ``(n_pre, n_post)`` matrix (0/1 mask or weights),
        kept as a float array leaf (trainable); a CSR's index arrays are integers (frozen);
        :func:`~braindyn.connect.full`: uniform all-to-all with a scalar weight, propagated as
        :math:`w \sum_j x_j` in O(n) (no stored synapses: no plasticity, no per-synapse delays).
    weight : float, array or None
        Synaptic weight (the unit of :math:`g`), a parameter: a scalar (every storage), one
        value per synapse ``(nnz,)`` in CSR order (CSR), or ``None`` = 1 (procedural: the conn's
        own weights). For a dense ``conn`` a scalar factor on the matrix.
    synapse : Synapse
        Kinetics (default :class:`~braindyn.synapses.Exponential` with 5 ms;
        :class:`~braindyn.synapses.Instant` for the coupling of rate networks).
    output : Output
        Output (default :class:`~braindyn.synapses.CurrentOutput`: :math:`I = g`).
    delay : float or array
        Transmission delay (ms): a scalar, or one per synapse (``(nnz,)`` for a CSR, or
        ``(n_pre, n_post)`` for a dense conn). Must be a multiple of ``dt``.
    stp : TsodyksMarkram or TsodyksMarkramRate, optional
        Short-term plasticity (linear kinetics only; the rate model for a continuous signal).
    plasticity : LearningRule, optional
        Long-term plasticity (:mod:`braindyn.plasticity`; stored connectivity only: dense or CSR).
    target : str
        Input of the postsynaptic model receiving the contribution (``"I"``; ``"ge"`` etc. for
        neurons that take conductances).
    dt : float
        Time step (ms) used to convert the delays; a run with another dt raises an error.
    method : str, optional
        Kernel of :func:`~braindyn.ops.event_matvec` (default: automatic).
    channels : int
        Number of receptor channels stacked in the connectivity's columns: column
        ``c * n + i`` is channel ``c`` of postsynaptic neuron ``i`` (so ``conn`` is
        ``n_pre x channels * n``), and the contribution has shape ``(channels * n,)``; the
        postsynaptic model must accept such a stacked input (e.g. the benchmark neurons' ``g``).
        One event-kernel call then serves several synapse types; kinetics parameters may be
        per channel entry (e.g. ``Exponential(tau=array of channels * n)``). Default 1.
    pre_range : (int, int), optional
        Only presynaptic neurons ``start <= j < stop`` project (the signal of the others is
        masked), e.g. the excitatory block of a population. For stored connectivity it is
        cheaper to leave the other rows empty.
    signal : str
        The presynaptic state variable carried (``"spike"``; ``"r"`` for a rate unit, ``"V"``
        for graded synapses).
    event : bool or None
        Propagation path: True: events (cost in proportion to the non-zero entries); False: a
        matrix--vector product over every synapse. None (default): events for ``"spike"`` and
        for a boolean variable, the product otherwise.
    learn_pre, learn_post : str
        The pre- and postsynaptic state variables fed to the plasticity rule (``"spike"``).
    factor : str, optional
        Where the rule's third factor (reward, teacher, error) comes from; the network resolves
        it and passes the value to :meth:`learn`.

    Example
    -------
    >>> import braindyn as bd, braindyn.connect as bc
    >>> from braindyn.synapses import SynapticProjection, Exponential, ConductanceOutput
    >>> E = bd.neurons.LIF(n=100, V_rest=-60., V_reset=-60., V_th=-50., tau=20., V_init=-60.)
    >>> proj = SynapticProjection("E", "E", bc.fixed_prob(100, 100, 0.1, seed=0), 0.5,
    ...                           Exponential(5.0), ConductanceOutput(E=0.0), delay=1.0)
    >>> net = bd.Network({"E": E}, {"EE": proj})
    >>> res = bd.run(net, 100.0, inputs={"E": 12.0}, record="pop.E.spike")
    >>> res.spike_count() > 0
    True
    """

    conn: Any = None
    weight: Any = param(None, optional=True, per_neuron=False, unit="unit of g", doc="synaptic weight")
    synapse: Synapse = None
    output: Output = None
    stp: Any = None
    plasticity: Any = None
    layout: Any = None
    rows: Any = None
    conn_delayed: Any = None
    delay_spec: Any = None
    host: Optional[HostCSR] = eqx.field(static=True, default=None)
    dt: float = eqx.field(static=True, default=0.1)
    method: Optional[str] = eqx.field(static=True, default=None)
    kind: str = eqx.field(static=True, default="dense")
    hom_delay: int = eqx.field(static=True, default=0)
    het_delay: int = eqx.field(static=True, default=0)
    pre_range: Optional[tuple] = eqx.field(static=True, default=None)
    channels: int = eqx.field(static=True, default=1)
    signal: str = eqx.field(static=True, default="spike")
    event: Optional[bool] = eqx.field(static=True, default=None)
    learn_pre: str = eqx.field(static=True, default="spike")
    learn_post: str = eqx.field(static=True, default="spike")
    factor: Optional[str] = eqx.field(static=True, default=None)

    def __init__(self, pre, post, conn, weight=None, synapse: Synapse | None = None, output: Output | None = None,
                 delay=0.0, stp=None, plasticity=None, *, target: str = "I", dt: float = 0.1,
                 method: Optional[str] = None, pre_range: Optional[tuple] = None, channels: int = 1,
                 signal: str = "spike", event: Optional[bool] = None, learn_pre: str = "spike",
                 learn_post: str = "spike", factor: Optional[str] = None):
        self.pre, self.post, self.target = pre, post, target
        # every field is assigned here (equinox flattens the instance's fields, not class defaults)
        self.layout = self.rows = self.conn_delayed = self.delay_spec = self.host = None
        if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
            raise BraindynError(f"parameter 'channels' of {_OWNER} must be a positive integer, got {channels!r}.")
        self.channels = channels
        check_positive("dt", dt, _OWNER, "ms")
        self.dt = float(dt)
        self.method = method
        for name, v in (("signal", signal), ("learn_pre", learn_pre), ("learn_post", learn_post)):
            if not isinstance(v, str) or not v:
                raise BraindynError(f"parameter {name!r} of {_OWNER} must name a state variable of the population "
                                    f"(e.g. 'spike', 'r', 'V'), got {v!r}.")
        if event not in (None, True, False):
            raise BraindynError(f"parameter 'event' of {_OWNER} must be None (automatic), True or False, got {event!r}.")
        if factor is not None and not isinstance(factor, str):
            raise BraindynError(f"parameter 'factor' of {_OWNER} names where the third factor comes from (a string "
                                f"the network resolves), got {type(factor).__name__}. Fix: e.g. factor='reward'.")
        self.signal, self.event, self.learn_pre, self.learn_post, self.factor = signal, event, learn_pre, learn_post, \
            factor
        self.kind = _conn_kind(conn)
        synapse = Exponential(5.0) if synapse is None else synapse
        output = CurrentOutput() if output is None else output
        if not isinstance(synapse, Synapse):
            raise BraindynError(f"{_OWNER}: 'synapse' must be a braindyn.synapses kinetics (Exponential, AMPA, "
                                f"Instant, ...), got {type(synapse).__name__}.")
        if not isinstance(output, Output):
            raise BraindynError(f"{_OWNER}: 'output' must be a braindyn.synapses output (CurrentOutput, "
                                f"ConductanceOutput(E), MgBlockOutput(E, Mg)), got {type(output).__name__}.")
        self.synapse, self.output, self.stp, self.plasticity = synapse, output, stp, plasticity
        if stp is not None and synapse.align == "pre":
            raise BraindynError(f"{_OWNER}: short-term plasticity scales the arriving spikes, which transmitter "
                                f"kinetics ({type(synapse).__name__}) do not take. Fix: use linear kinetics "
                                f"(Exponential, Alpha, DualExponential) with stp, or no stp.")
        if self.kind == "dense":
            conn = np.asarray(conn) if not isinstance(conn, jax.Array) else conn
            if conn.ndim != 2:
                raise BraindynError(f"{_OWNER}: a dense conn must be 2-D (n_pre, n_post), got shape {conn.shape}.")
            if not np.issubdtype(np.asarray(conn).dtype, np.number) or np.iscomplexobj(conn):
                raise BraindynError(f"{_OWNER}: a dense conn must hold real numbers, got dtype "
                                    f"{np.asarray(conn).dtype}. Fix: a 0/1 mask or a matrix of weights.")
            if not isinstance(conn, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(conn, float))):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(np.asarray(conn, float)))[0])
                raise BraindynError(f"{_OWNER}: the dense conn holds a non-finite weight "
                                    f"({np.asarray(conn)[bad].item()!r} at (pre, post) = {bad}). Fix: pass finite "
                                    f"weights (0 for no synapse).")
            conn = jnp.asarray(conn, default_float())
        elif self.kind == "csr":
            conn.validate()  # a CSR built with validate=False is checked once here, before any kernel sees it
        self.conn = conn
        self.pre_range = self._check_range(pre_range)
        self.weight = self._check_weight(weight)
        # ---- delays
        d = np.asarray(delay, float)
        self.hom_delay, self.het_delay = 0, 0
        if d.ndim == 0:
            self.hom_delay = int(delay_steps(d, self.dt, _OWNER))
        else:
            self._setup_het_delay(d)
        # ---- plasticity and continuous propagation over a CSR (both need each synapse's pre index)
        if factor is not None and (plasticity is None or not getattr(plasticity, "uses_factor", True)):
            what = "no plasticity rule" if plasticity is None else f"the rule {type(plasticity).__name__}"
            raise BraindynError(f"{_OWNER}: factor={factor!r} names a third factor, but {what} does not read one "
                                f"(uses_factor is False). Fix: drop factor=, or use a rule that takes a third "
                                f"factor (reward, teacher, error).")
        if plasticity is not None:
            from ..plasticity._layout import WeightLayout

            if self.kind in ("procedural", "full"):
                if self.kind == "full":
                    raise BraindynError(f"{_OWNER}: plasticity needs stored synapses, and connect.full stores "
                                        f"none. Fix: conn=braindyn.connect.all_to_all(n_pre, n_post) (a CSR).")
                WeightLayout.of(conn)  # raises the explanatory error
            self.layout = WeightLayout.of(np.asarray(conn) if self.kind == "dense" else conn)
        if self.kind == "csr":
            continuous = synapse.align == "pre" or (signal != "spike" and event is not True)
            if continuous:
                self.rows = (self.layout.pre_idx if self.layout is not None
                             else jnp.asarray(conn.to_ij()[0], jnp.int32))
            groupable = (synapse.align == "post" and stp is None and plasticity is None and np.ndim(delay) == 0
                         and np.ndim(self.weight if self.weight is not None else 0.0) == 0 and event is not False
                         and (signal == "spike" or event is True))
            if groupable:  # a host copy for deliver_all to merge CSRs (see braindyn.synapses.fused)
                self.host = HostCSR.of(conn)

    # ------------------------------------------------------------------ construction helpers
    @property
    def n_pre(self):
        return self.conn.shape[0] if self.kind == "dense" else self.conn.n_pre

    @property
    def n_post(self):
        return self.conn.shape[1] if self.kind == "dense" else self.conn.n_post

    def _check_range(self, pre_range):
        if pre_range is None:
            return None
        try:
            start, stop = (int(pre_range[0]), int(pre_range[1]))
        except (TypeError, ValueError, IndexError):
            raise BraindynError(f"parameter 'pre_range' of {_OWNER} must be a pair (start, stop) of integers, got "
                                f"{pre_range!r}. Fix: e.g. pre_range=(0, 800).") from None
        if not 0 <= start < stop <= self.n_pre:
            raise BraindynError(f"parameter 'pre_range' of {_OWNER} is {pre_range!r}: it must satisfy "
                                f"0 <= start < stop <= n_pre = {self.n_pre} (a non-empty block of presynaptic "
                                f"neurons). Fix: e.g. pre_range=(0, {self.n_pre}).")
        return start, stop

    def _check_weight(self, weight):
        if weight is None:
            return None
        shape = tuple(np.shape(weight))
        if shape == ():
            return weight
        if self.kind == "csr" and shape == (self.conn.nnz,):
            return weight
        allowed = {"csr": f"() or ({self.conn.nnz},) = (nnz,)", "dense": "() (put per-synapse values in the matrix)",
                   "procedural": "() (a factor on the conn's own weights)",
                   "full": "() (one weight for the whole block; use connect.all_to_all for per-synapse weights)"
                   }[self.kind]
        raise BraindynError(f"parameter 'weight' of {_OWNER} has shape {shape}, expected {allowed}. "
                            f"Fix: pass a scalar or one weight per synapse in CSR order.")

    def _setup_het_delay(self, d):
        if self.synapse.align == "pre":
            raise BraindynError(f"{_OWNER}: per-synapse delays need linear kinetics (the delayed input is summed "
                                f"on the postsynaptic side); {type(self.synapse).__name__} is a transmitter model. "
                                f"Fix: use a scalar delay, or Exponential/Alpha/DualExponential kinetics.")
        if self.kind in ("procedural", "full"):
            raise BraindynError(f"{_OWNER}: per-synapse delays need stored connectivity. Fix: conn.to_csr().")
        if self.kind == "dense":
            if d.shape != tuple(self.conn.shape):
                raise BraindynError(f"parameter 'delay' of {_OWNER} has shape {d.shape}; for a dense conn expected "
                                    f"() or {tuple(self.conn.shape)}.")
            from ..connect import from_matrix

            m = np.asarray(self.conn)
            csr = from_matrix(m)
            vals = csr.values_from_dense(m)
            dd = csr.values_from_dense(d)
        else:
            csr = self.conn
            if d.shape != (csr.nnz,):
                raise BraindynError(f"parameter 'delay' of {_OWNER} has shape {d.shape}; for a CSR expected () or "
                                    f"({csr.nnz},) = (nnz,), one delay per synapse in CSR order.")
            vals, dd = None, d
        steps = delay_steps(dd, self.dt, _OWNER)
        D = int(steps.max(initial=0))
        self.het_delay = max(D, 1)
        L = self.het_delay + 1
        if L * csr.n_post >= 2**31:
            raise BraindynError(f"{_OWNER}: per-synapse delays of up to {D} steps over {csr.n_post} postsynaptic "
                                f"neurons need a delay buffer of {L * csr.n_post} entries, over the int32 index "
                                f"limit. Fix: shorter delays, a coarser dt, or a scalar delay.")
        idx = steps.astype(np.int64) * csr.n_post + np.asarray(csr.indices, np.int64)
        self.conn_delayed = CSR(np.asarray(csr.indptr), idx.astype(np.int32), csr.n_pre, L * csr.n_post,
                                max_row=csr.max_row, validate=False)
        self.delay_spec = None if vals is None else jnp.asarray(vals, default_float())

    # ------------------------------------------------------------------ the Projection interface
    def check_sizes(self, pre_model, post_model, *, known_only=False):
        """Raise :class:`BraindynError` unless the connectivity is ``n_pre x (channels * n_post)``
        for the two populations (called by :class:`~braindyn.Network` at construction, with
        ``known_only=True``: a population without a size ``n``, e.g. a device block, is not checked)."""
        n_pre, n_post = getattr(pre_model, "n", None), getattr(post_model, "n", None)
        n_post = None if n_post is None else n_post * self.channels
        if known_only and not (isinstance(n_pre, int) and isinstance(n_post, int)):
            return n_pre, n_post
        if (n_pre, n_post) != (self.n_pre, self.n_post):
            raise BraindynError(f"{_OWNER} {self.pre!r} -> {self.post!r}: the connectivity is "
                                f"{self.n_pre} x {self.n_post} but the populations have {n_pre} and {n_post} "
                                f"neurons. Fix: build conn with n_pre={n_pre}, n_post={n_post}.")
        return n_pre, n_post

    def init_state(self, pre_model, post_model, *, key=None, dtype=None):
        dtype = dtype or default_float()
        n_pre, n_post = self.check_sizes(pre_model, post_model)
        n_syn = n_pre if self.synapse.align == "pre" else n_post
        st = {"syn": self.synapse.init_state(n_syn, dtype)}
        if self.hom_delay:
            st["delay"] = HomogeneousDelay(self.hom_delay).init_state(n_pre, dtype)
        if self.conn_delayed is not None:
            st["delay"] = HeterogeneousDelay(self.het_delay, n_post).init_state(n_post, dtype)
        if self.stp is not None:
            st["stp"] = self.stp.init_state(n_pre, dtype)
        if self.plasticity is not None:
            st["w"] = self.initial_weights(dtype)
            st["plast"] = self.plasticity.init_state(n_pre, n_post, dtype)
        return st

    def initial_weights(self, dtype=None):
        """The weights in the layout of the plasticity rule (dense matrix or ``(nnz,)``)."""
        dtype = dtype or default_float()
        w = 1.0 if self.weight is None else self.weight
        if self.kind == "dense":
            return (jnp.asarray(self.conn, dtype) * jnp.asarray(w, dtype)).astype(dtype)
        return jnp.broadcast_to(jnp.asarray(w, dtype), (self.conn.nnz,)).astype(dtype)

    def _check_dt(self, dt):
        if (self.hom_delay or self.conn_delayed is not None) and isinstance(dt, (int, float)) \
                and abs(float(dt) - self.dt) > 1e-9 * self.dt:
            raise BraindynError(f"{_OWNER} {self.pre!r} -> {self.post!r} converted its delays with dt={self.dt} ms "
                                f"but runs with dt={dt} ms. Fix: pass dt={dt} to the projection.")

    def _mask(self, x):
        if self.pre_range is None:
            return x
        j = jnp.arange(x.shape[0])
        return jnp.where((j >= self.pre_range[0]) & (j < self.pre_range[1]), x, jnp.zeros_like(x))

    def _signal(self, pop_state, name, pop=None):
        if name not in pop_state:
            pop = self.pre if pop is None else pop
            raise BraindynError(f"{_OWNER} {self.pre!r} -> {self.post!r} reads the variable {name!r}, which is not "
                                f"in the state of {pop!r} (it has {sorted(pop_state)}). Fix: pass signal= (or "
                                f"learn_pre=/learn_post=) naming one of them, e.g. signal='r' for a rate unit.")
        return pop_state[name]

    def is_event(self, x) -> bool:
        """Whether the signal ``x`` takes the event path (static: decided from names and dtype)."""
        if self.event is not None:
            return self.event
        return self.signal == "spike" or x.dtype == jnp.bool_

    def presynaptic(self, state, pre_state, dt):
        """Steps 1-3 of :meth:`deliver`: ``(state, x)`` with ``x`` the signal arriving now."""
        self._check_dt(dt)
        st = dict(state)
        x = self._mask(self._signal(pre_state, self.signal))
        if self.hom_delay:
            st["delay"], x = HomogeneousDelay(self.hom_delay)(st["delay"], x)
        if self.stp is not None:
            if self.is_event(x):
                st["stp"], x = self.stp(st["stp"], x, dt)
            else:
                if not hasattr(self.stp, "step"):
                    raise BraindynError(f"{_OWNER}: {type(self.stp).__name__} scales spikes, but the signal "
                                        f"{self.signal!r} is continuous. Fix: use TsodyksMarkramRate for rates.")
                st["stp"], x = self.stp.step(st["stp"], x, dt)
        return st, x

    def _weights(self, state):
        return state["w"] if self.plasticity is not None else self.weight

    def _propagate(self, x, w, dtype, event):
        r""":math:`\sum_j x_j w_{ji}` over the connectivity (event-driven or continuous)."""
        if x.dtype != jnp.bool_ or not event:
            x = x.astype(dtype)
        if self.kind == "full":  # uniform all-to-all: the presynaptic signal summed once, O(n)
            x = x.astype(dtype)
            total = jnp.broadcast_to(jnp.sum(x), (self.n_post,))
            if not self.conn.allow_self:
                total = total - x
            return total if w is None else total * jnp.asarray(w, dtype)
        if self.kind == "dense":
            if self.plasticity is not None:
                return x @ w.astype(dtype)
            y = x @ self.conn.astype(dtype)
            return y if w is None else y * jnp.asarray(w, dtype)
        scalar = w is None or jnp.ndim(w) == 0
        if not event:
            y = matvec(self.conn, x, None if scalar else jnp.asarray(w, dtype), rows=self.rows)
        elif self.kind == "procedural" or scalar:
            y = event_matvec(self.conn, x, None if self.kind == "procedural" else jnp.ones((), dtype),
                             method=self.method)
        else:
            y = event_matvec(self.conn, x, jnp.asarray(w, dtype), method=self.method)
        y = y.astype(dtype)
        return y * jnp.asarray(w, dtype) if (scalar and w is not None) else y

    def transmit(self, st, x, dtype):
        """Step 4 for linear kinetics: ``(state, arriving)`` with the summed drive per postsynaptic
        unit (through the per-synapse delay buffer if any)."""
        w = self._weights(st)
        event = self.is_event(x)
        if self.conn_delayed is None:
            return st, self._propagate(x, w, dtype, event)
        if self.kind == "dense":
            if self.plasticity is not None:
                raise BraindynError(f"{_OWNER}: plasticity with per-synapse delays needs a CSR conn. "
                                    f"Fix: pass braindyn.connect.from_matrix(W) with per-synapse weights.")
            ww, scale = jnp.asarray(self.delay_spec, dtype), self.weight
        else:
            scalar = w is None or jnp.ndim(w) == 0
            ww, scale = (None, w) if scalar else (jnp.asarray(w, dtype), None)
        if event:
            contrib = event_matvec(self.conn_delayed, x if x.dtype == jnp.bool_ else x.astype(dtype),
                                   jnp.ones((), dtype) if ww is None else ww, method=self.method)
        else:
            contrib = matvec(self.conn_delayed, x.astype(dtype), ww, rows=self.rows)
        contrib = contrib.astype(dtype)
        if scale is not None:
            contrib = contrib * jnp.asarray(scale, dtype)
        st["delay"], arriving = HeterogeneousDelay(self.het_delay, self.n_post)(st["delay"], contrib)
        return st, arriving

    def finish(self, st, arriving, post_state, dt, dtype):
        """Kinetics and output of linear kinetics, from the arriving drive: ``(state, contribution)``."""
        st["syn"], g = self.synapse.step(st["syn"], arriving, dt)
        return st, self._output(g, post_state, dtype)

    def _output(self, g, post_state, dtype):
        if self.channels > 1:
            post_state = {k: (jnp.tile(v, self.channels) if getattr(v, "ndim", 0) == 1 else v)
                          for k, v in post_state.items()}
        return cast(self.output(jnp.asarray(g).astype(dtype), post_state), dtype)

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        st, x = self.presynaptic(state, pre_state, dt)
        dtype = _float_of(post_state, st, pre_state)
        if self.synapse.align == "post":
            st, arriving = self.transmit(st, x, dtype)
            return self.finish(st, arriving, post_state, dt, dtype)
        st["syn"], s = self.synapse.step(st["syn"], x, dt)
        g = self._propagate(jnp.asarray(s), self._weights(st), dtype, event=False)
        return st, self._output(g, post_state, dtype)

    def fuse_key(self):
        """Key under which :func:`braindyn.synapses.fused.deliver_all` may merge this projection's
        event propagation with others' (``None``: deliver it alone)."""
        if (self.kind != "csr" or self.host is None or self.synapse.align != "post" or self.stp is not None
                or self.plasticity is not None or self.conn_delayed is not None or self.event is False
                or (self.event is None and self.signal != "spike")
                or (self.weight is not None and jnp.ndim(self.weight) != 0)):
            return None
        return ("csr", self.pre, self.signal, self.hom_delay, self.pre_range, self.method)

    def learn(self, state, pre_state, post_state, t, dt, key=None, factor=None):
        """Long-term plasticity after the populations stepped: the rule sees its state, the weights,
        ``pre_state[learn_pre]``, ``post_state[learn_post]``, dt and the third ``factor``."""
        if self.plasticity is None:
            return state
        st = dict(state)
        pre = self._mask(self._signal(pre_state, self.learn_pre))
        post = self._signal(post_state, self.learn_post, self.post)
        st["plast"], st["w"] = self.plasticity.update(st["plast"], st["w"], pre, post, dt, self.layout,
                                                      factor=factor)
        return st
