r"""The synaptic projection: connectivity + weights + delay + STP + kinetics + output + plasticity.

One projection interface over the three connectivity storages (dense matrix, :class:`~braindyn.connect.CSR`,
:class:`~braindyn.connect.ProceduralConn`); propagation goes through
:func:`braindyn.ops.event_matvec`, so a spike costs in proportion to its targets.

Order inside :meth:`SynapticProjection.deliver` at the step starting at :math:`t` (the network
calls it before the populations step, with the presynaptic spikes of the previous step):

1. delay (:mod:`~braindyn.synapses.delays`): the spikes sent now are buffered, those sent
   ``d`` steps ago come out;
2. short-term plasticity: each arriving spike is scaled by its efficacy :math:`u^+ x^-`;
3. kinetics: for linear kinetics (``align="post"``) the arriving spikes are propagated,
   :math:`a_i = \sum_j s_j w_{ji}` (per-synapse delays: into the postsynaptic delay buffer),
   and the postsynaptic state is advanced; for transmitter kinetics (``align="pre"``) the
   presynaptic gating :math:`s_j` is advanced and propagated, :math:`g_i = \sum_j w_{ji} s_j`;
4. output: :math:`g \mapsto` the contribution to the postsynaptic input ``target``, from the
   postsynaptic state at :math:`t` (e.g. :math:`g(E - V)`).

:meth:`~SynapticProjection.learn` (after the populations stepped) applies the long-term
plasticity rule to the weights, which then live in the projection's state (``state["w"]``).
"""
from __future__ import annotations

from typing import Any, Optional

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_positive
from ..connect import CSR, ProceduralConn
from ..network import Projection
from ..ops import event_matvec
from .delays import HeterogeneousDelay, HomogeneousDelay, delay_steps
from .kinetics import Exponential, Synapse
from .outputs import CurrentOutput, Output

__all__ = ["SynapticProjection"]

_OWNER = "SynapticProjection"


def _conn_kind(conn):
    if isinstance(conn, CSR):
        return "csr"
    if isinstance(conn, ProceduralConn):
        return "procedural"
    if isinstance(conn, (np.ndarray, jnp.ndarray)) or hasattr(conn, "__array__"):
        return "dense"
    raise BraindynError(f"{_OWNER}: conn of type {type(conn).__name__} is not a connectivity. Fix: pass a "
                        f"braindyn.connect.CSR (e.g. braindyn.connect.fixed_prob(...)), a ProceduralConn, or a "
                        f"dense (n_pre, n_post) array.")


class SynapticProjection(Projection):
    r"""Chemical synapses from population ``pre`` to population ``post``.

    Parameters
    ----------
    pre, post : str
        Names of the populations in the :class:`~braindyn.Network`.
    conn : CSR, ProceduralConn or array
        Connectivity. Dense: an ``(n_pre, n_post)`` matrix (0/1 mask or weights).
    weight : float, array or None
        Synaptic weight (the unit of :math:`g`): a scalar (every storage), one value per synapse
        ``(nnz,)`` in CSR order (CSR), or ``None`` = 1 (procedural: the conn's own weights).
        For a dense ``conn`` a scalar factor on the matrix.
    synapse : Synapse
        Kinetics (default :class:`~braindyn.synapses.Exponential` with 5 ms).
    output : Output
        Output (default :class:`~braindyn.synapses.CurrentOutput`: :math:`I = g`).
    delay : float or array
        Transmission delay (ms): a scalar, or one per synapse (``(nnz,)`` for a CSR, or
        ``(n_pre, n_post)`` for a dense conn). Must be a multiple of ``dt``.
    stp : TsodyksMarkram, optional
        Short-term plasticity (linear kinetics only).
    plasticity : STDP, TripletSTDP, optional
        Long-term plasticity (stored connectivity only: dense or CSR).
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
        Only presynaptic neurons ``start <= j < stop`` project (the spikes of the others are
        masked), e.g. the excitatory block of a population. For stored connectivity it is
        cheaper to leave the other rows empty.

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

    conn: Any
    weight: Any
    synapse: Synapse
    output: Output
    stp: Any
    plasticity: Any
    layout: Any
    conn_delayed: Any
    delay_spec: Any
    dt: float = eqx.field(static=True)
    method: Optional[str] = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    hom_delay: int = eqx.field(static=True)
    het_delay: int = eqx.field(static=True)
    pre_range: Optional[tuple] = eqx.field(static=True)
    channels: int = eqx.field(static=True)

    def __init__(self, pre, post, conn, weight=None, synapse: Synapse | None = None, output: Output | None = None,
                 delay=0.0, stp=None, plasticity=None, *, target: str = "I", dt: float = 0.1,
                 method: Optional[str] = None, pre_range: Optional[tuple] = None, channels: int = 1):
        self.pre, self.post, self.target = pre, post, target
        self.pre_range = None if pre_range is None else (int(pre_range[0]), int(pre_range[1]))
        if not isinstance(channels, int) or channels < 1:
            raise BraindynError(f"parameter 'channels' of {_OWNER} must be a positive integer, got {channels!r}.")
        self.channels = channels
        check_positive("dt", dt, _OWNER, "ms")
        self.dt = float(dt)
        self.method = method
        self.kind = _conn_kind(conn)
        synapse = Exponential(5.0) if synapse is None else synapse
        output = CurrentOutput() if output is None else output
        if not isinstance(synapse, Synapse):
            raise BraindynError(f"{_OWNER}: 'synapse' must be a braindyn.synapses kinetics (Exponential, AMPA, ...), "
                                f"got {type(synapse).__name__}.")
        if not isinstance(output, Output):
            raise BraindynError(f"{_OWNER}: 'output' must be a braindyn.synapses output (CurrentOutput, "
                                f"ConductanceOutput(E), MgBlockOutput(E, Mg)), got {type(output).__name__}.")
        self.synapse, self.output, self.stp, self.plasticity = synapse, output, stp, plasticity
        if stp is not None and synapse.align == "pre":
            raise BraindynError(f"{_OWNER}: short-term plasticity scales the arriving spikes, which transmitter "
                                f"kinetics ({type(synapse).__name__}) do not take. Fix: use linear kinetics "
                                f"(Exponential, Alpha, DualExponential) with stp, or no stp.")
        if self.kind == "dense":
            conn = jnp.asarray(conn)
            if conn.ndim != 2:
                raise BraindynError(f"{_OWNER}: a dense conn must be 2-D (n_pre, n_post), got shape {conn.shape}.")
            if conn.dtype == jnp.bool_:
                conn = conn.astype(jnp.result_type(float))
        self.conn = conn
        self.weight = self._check_weight(weight)
        # ---- delays
        d = np.asarray(delay, float)
        self.delay_spec = None
        self.conn_delayed = None
        self.hom_delay, self.het_delay = 0, 0
        if d.ndim == 0:
            self.hom_delay = int(delay_steps(d, self.dt, _OWNER))
        else:
            self._setup_het_delay(d)
        # ---- plasticity
        self.layout = None
        if plasticity is not None:
            from ..plasticity._layout import WeightLayout

            if self.kind == "procedural":
                WeightLayout.of(conn)  # raises the explanatory error
            self.layout = WeightLayout.of(np.asarray(conn) if self.kind == "dense" else conn)

    # ------------------------------------------------------------------ construction helpers
    @property
    def n_pre(self):
        return self.conn.shape[0] if self.kind == "dense" else self.conn.n_pre

    @property
    def n_post(self):
        return self.conn.shape[1] if self.kind == "dense" else self.conn.n_post

    def _check_weight(self, weight):
        if weight is None:
            return None
        w = np.asarray(weight) if not isinstance(weight, jnp.ndarray) else weight
        shape = tuple(np.shape(w))
        if shape == ():
            return weight
        if self.kind == "csr" and shape == (self.conn.nnz,):
            return jnp.asarray(w)
        allowed = {"csr": f"() or ({self.conn.nnz},) = (nnz,)", "dense": "() (put per-synapse values in the matrix)",
                   "procedural": "() (a factor on the conn's own weights)"}[self.kind]
        raise BraindynError(f"parameter 'weight' of {_OWNER} has shape {shape}, expected {allowed}. "
                            f"Fix: pass a scalar or one weight per synapse in CSR order.")

    def _setup_het_delay(self, d):
        if self.synapse.align == "pre":
            raise BraindynError(f"{_OWNER}: per-synapse delays need linear kinetics (the delayed input is summed "
                                f"on the postsynaptic side); {type(self.synapse).__name__} is a transmitter model. "
                                f"Fix: use a scalar delay, or Exponential/Alpha/DualExponential kinetics.")
        if self.kind == "procedural":
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
        idx = steps.astype(np.int64) * csr.n_post + np.asarray(csr.indices, np.int64)
        self.conn_delayed = CSR(np.asarray(csr.indptr), idx.astype(np.int32), csr.n_pre, L * csr.n_post,
                                max_row=csr.max_row, validate=False)
        self.delay_spec = None if vals is None else jnp.asarray(vals)

    # ------------------------------------------------------------------ the Projection interface
    def init_state(self, pre_model, post_model, *, key=None, dtype=None):
        from ..core import default_float

        dtype = dtype or default_float()
        n_pre, n_post = getattr(pre_model, "n", None), getattr(post_model, "n", None)
        n_post = None if n_post is None else n_post * self.channels
        if (n_pre, n_post) != (self.n_pre, self.n_post):
            raise BraindynError(f"{_OWNER} {self.pre!r} -> {self.post!r}: the connectivity is "
                                f"{self.n_pre} x {self.n_post} but the populations have {n_pre} and {n_post} "
                                f"neurons. Fix: build conn with n_pre={n_pre}, n_post={n_post}.")
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
        dtype = dtype or jnp.result_type(float)
        w = 1.0 if self.weight is None else self.weight
        if self.kind == "dense":
            return (jnp.asarray(self.conn, dtype) * jnp.asarray(w, dtype)).astype(dtype)
        return jnp.broadcast_to(jnp.asarray(w, dtype), (self.conn.nnz,)).astype(dtype)

    def _check_dt(self, dt):
        if (self.hom_delay or self.conn_delayed is not None) and isinstance(dt, (int, float)) \
                and abs(float(dt) - self.dt) > 1e-9 * self.dt:
            raise BraindynError(f"{_OWNER} {self.pre!r} -> {self.post!r} converted its delays with dt={self.dt} ms "
                                f"but runs with dt={dt} ms. Fix: pass dt={dt} to the projection.")

    def _propagate(self, x, w, dtype):
        """:math:`\\sum_j x_j w_{ji}` over the connectivity (event-driven for sparse ``x``)."""
        if self.kind == "dense":
            if self.plasticity is not None:
                return (x.astype(dtype) @ w.astype(dtype)).astype(dtype)
            y = x.astype(dtype) @ self.conn.astype(dtype)
            return (y if w is None else y * jnp.asarray(w, dtype)).astype(dtype)
        if self.kind == "procedural":
            return event_matvec(self.conn, x.astype(dtype), None if w is None else jnp.asarray(w, dtype),
                                method=self.method).astype(dtype)
        return event_matvec(self.conn, x.astype(dtype), jnp.asarray(1.0 if w is None else w, dtype),
                            method=self.method).astype(dtype)

    def _weights(self, state, dtype):
        if self.plasticity is not None:
            return state["w"]
        return self.weight

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        self._check_dt(dt)
        st = dict(state)
        spikes = pre_state["spike"]
        dtype = st["syn"][next(iter(st["syn"]))].dtype
        if self.pre_range is not None:
            j = jnp.arange(spikes.shape[0])
            spikes = jnp.where((j >= self.pre_range[0]) & (j < self.pre_range[1]), spikes, 0)
        if self.hom_delay:
            st["delay"], spikes = HomogeneousDelay(self.hom_delay)(st["delay"], spikes)
        if self.stp is not None:
            st["stp"], spikes = self.stp(st["stp"], spikes, dt)
        w = self._weights(st, dtype)
        if self.synapse.align == "post":
            if self.conn_delayed is not None:
                if self.kind == "dense":
                    ww = self.delay_spec if self.plasticity is None else None
                    if self.plasticity is not None:
                        raise BraindynError(f"{_OWNER}: plasticity with per-synapse delays needs a CSR conn. "
                                            f"Fix: pass braindyn.connect.from_matrix(W) with per-synapse weights.")
                    ww = ww * (1.0 if self.weight is None else self.weight)
                else:
                    ww = 1.0 if w is None else w
                contrib = event_matvec(self.conn_delayed, spikes.astype(dtype), jnp.asarray(ww, dtype),
                                       method=self.method)
                st["delay"], arriving = HeterogeneousDelay(self.het_delay, self.n_post)(st["delay"], contrib)
            else:
                arriving = self._propagate(spikes, w, dtype)
            st["syn"] = self.synapse.update(st["syn"], arriving, dt)
            g = self.synapse.conductance(st["syn"])
        else:
            st["syn"] = self.synapse.update(st["syn"], spikes, dt)
            g = self._propagate(self.synapse.conductance(st["syn"]), w, dtype)
        if self.channels > 1:
            post_state = {k: (jnp.tile(v, self.channels) if getattr(v, "ndim", 0) == 1 else v)
                          for k, v in post_state.items()}
        return st, self.output(g, post_state).astype(dtype)

    def learn(self, state, pre_state, post_state, t, dt, key=None):
        if self.plasticity is None:
            return state
        st = dict(state)
        pre = pre_state["spike"]
        if self.pre_range is not None:
            j = jnp.arange(pre.shape[0])
            pre = jnp.where((j >= self.pre_range[0]) & (j < self.pre_range[1]), pre, 0)
        st["plast"], st["w"] = self.plasticity.update(st["plast"], st["w"], pre, post_state["spike"], dt, self.layout)
        return st
