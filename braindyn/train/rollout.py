r"""Differentiable runs: :func:`rollout`, :func:`bd.simulate` with gradient checkpointing and
truncated back-propagation through time.

Back-propagation through a ``lax.scan`` of :math:`N` steps stores the residuals of every step:
memory :math:`O(N)`. With ``checkpoint_every=K`` the run is a scan over :math:`N/K` segments of
:math:`K` steps, each segment wrapped in :func:`jax.checkpoint`: the forward pass keeps only the
state at the start of each segment, and the backward pass recomputes one segment at a time,
so the memory is :math:`O(N/K + K)` states (minimal at :math:`K \approx \sqrt N`) for about
one extra forward pass of compute.

With ``truncate_every=T`` the state is passed through :func:`jax.lax.stop_gradient` every
:math:`T` steps (truncated BPTT, Williams & Peng 1990): the gradient of a loss at step
:math:`t` reaches back only to the start of its window,

.. math:: \frac{\partial L}{\partial \theta} \approx \sum_t \sum_{s = T\lfloor t/T \rfloor}^{t}
          \frac{\partial L_t}{\partial h_t}\frac{\partial h_t}{\partial h_s}
          \frac{\partial h_s}{\partial \theta}\Big|_{\text{direct}}.

The values of a rollout are those of :func:`braindyn.simulate` (same times, same random keys,
same records): only the gradient changes.
"""
from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import clock
from .._errors import BraindynError
from ..run import simulate

__all__ = ["rollout"]


def _check_int(name, v, allow_none=True):
    if v is None and allow_none:
        return
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise BraindynError(f"'{name}' must be a positive integer (steps) or None, got {v!r}. Fix: e.g. {name}=100.")


def _words(step0):
    if isinstance(step0, tuple):
        return jnp.asarray(step0[0], jnp.int32), jnp.asarray(step0[1], jnp.int32)
    a, b = clock.split_step(int(step0))
    return jnp.int32(a), jnp.int32(b)


def _advance(a, b, n):
    """Step words ``(a, b)`` moved ``n`` (traced int) steps on, normalised."""
    b = b + n
    return a + b // (1 << clock.STEP_BITS), b % (1 << clock.STEP_BITS)


def rollout(model, state, n_steps: int, dt: float, *, inputs=None, input_states=None, record=None, key=None,
            t0=0.0, step0=0, checkpoint_every=None, truncate_every=None, record_every: int = 1, unroll: int = 1):
    r"""Run ``model`` for ``n_steps`` steps of ``dt`` ms, built to be differentiated.

    The same run as :func:`braindyn.simulate` (values, times and random keys), with two
    gradient options:

    * ``checkpoint_every=K``: the run is a scan over segments of :math:`K` steps, each segment
      ``jax.checkpoint``-ed. Back-propagation memory :math:`O(N/K + K)` instead of :math:`O(N)`.
    * ``truncate_every=T``: ``stop_gradient`` on the state (and the input states) every
      :math:`T` steps (truncated BPTT). With both, ``T`` must be a multiple of ``K``.

    A tail of ``n_steps`` that is not a whole number of segments runs as one last segment.

    Parameters
    ----------
    model : Dynamics
        Anything with ``step(state, inputs, t, dt, key)`` (a population, a network).
    state : PyTree
        Initial state (``model.init_state()``).
    n_steps : int
        Number of steps (static).
    dt : float
        Time step (ms).
    inputs, input_states, record, key, t0, step0, unroll
        As in :func:`braindyn.simulate` (spike records stay floats: their surrogate gradient flows).
    checkpoint_every : int, optional
        Segment length :math:`K` (steps) of gradient checkpointing; a multiple of ``record_every``.
    truncate_every : int, optional
        Truncation window :math:`T` (steps) of truncated BPTT.
    record_every : int
        Record every this many steps.

    Returns
    -------
    ``(final_state, records)``: records have a leading time axis of ``n_steps // record_every``.

    Example
    -------
    >>> import jax, jax.numpy as jnp, braindyn as bd
    >>> lif = bd.neurons.LIF(V_th=1e3)            # subthreshold: V relaxes towards R I
    >>> def loss(tau):
    ...     m = bd.neurons.LIF(tau=tau, V_th=1e3)
    ...     _, rec = bd.train.rollout(m, m.init_state(), 400, 0.1, inputs=5.0, record="V",
    ...                               checkpoint_every=20)
    ...     return jnp.mean(rec["V"])
    >>> g = jax.grad(loss)(10.0)
    >>> bool(g < 0)                               # a slower membrane charges less in 40 ms
    True
    """
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 0:
        raise BraindynError(f"n_steps must be a non-negative integer (static), got {n_steps!r}. "
                            f"Fix: e.g. n_steps=1000.")
    _check_int("checkpoint_every", checkpoint_every)
    _check_int("truncate_every", truncate_every)
    _check_int("record_every", record_every, allow_none=False)
    if n_steps % record_every:
        raise BraindynError(f"n_steps={n_steps} is not a multiple of record_every={record_every}. "
                            f"Fix: n_steps={n_steps - n_steps % record_every or record_every}.")
    if checkpoint_every is not None and checkpoint_every % record_every:
        raise BraindynError(f"checkpoint_every={checkpoint_every} is not a multiple of record_every={record_every}. "
                            f"Fix: checkpoint_every={max(1, checkpoint_every // record_every) * record_every}.")
    if truncate_every is not None and truncate_every % record_every:
        raise BraindynError(f"truncate_every={truncate_every} is not a multiple of record_every={record_every}. "
                            f"Fix: truncate_every={max(1, truncate_every // record_every) * record_every}.")
    if checkpoint_every is not None and truncate_every is not None and truncate_every % checkpoint_every:
        fix = max(1, truncate_every // checkpoint_every) * checkpoint_every
        raise BraindynError(f"truncate_every={truncate_every} is not a multiple of checkpoint_every="
                            f"{checkpoint_every}. Fix: truncate_every={fix}.")
    from .. import inputs as _inputs
    from ..run import _to_key

    key = _to_key(key)
    if input_states is None:
        input_states = _inputs.init_states(inputs, key)
    if (checkpoint_every is None and truncate_every is None) or n_steps == 0:
        final, recs, _ = simulate(model, state, n_steps, dt, inputs=inputs, input_states=input_states, record=record,
                                  record_every=record_every, t0=t0, step0=step0, key=key, unroll=unroll)
        return final, recs

    a0, b0 = _words(step0)
    # Arrays of (model, inputs) are passed to the checkpointed function as arguments; the rest is static.
    dyn, stat = eqx.partition((model, inputs), eqx.is_array)

    def segment(n, dyn_, s, ist, a, b):
        m, inp = eqx.combine(dyn_, stat)
        f, r, ist = simulate(m, s, n, dt, inputs=inp, input_states=ist, record=record, record_every=record_every,
                             t0=t0, step0=(a, b), key=key, unroll=unroll)
        return f, ist, r

    def make_seg(n, ckpt):
        return jax.checkpoint(lambda *args: segment(n, *args), prevent_cse=False) if ckpt else \
            (lambda *args: segment(n, *args))

    def scan_segments(n_seg, seg_len, ckpt, s, ist, a, b):
        """``n_seg`` segments of ``seg_len`` steps from step words (a, b): (s, ist, a, b, recs)."""
        fn = make_seg(seg_len, ckpt)

        def body(carry, j):
            s_, ist_, = carry
            aa, bb = _advance(a, b, j * seg_len)
            s_, ist_, r = fn(dyn, s_, ist_, aa, bb)
            return (s_, ist_), r

        (s, ist), recs = jax.lax.scan(body, (s, ist), jnp.arange(n_seg, dtype=jnp.int32))
        recs = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), recs)
        a, b = _advance(a, b, n_seg * seg_len)
        return s, ist, a, b, recs

    def plain_run(n, ckpt, s, ist, a, b):
        """``n`` steps as segments of ``checkpoint_every`` (plus a tail) or one simulate call."""
        K = checkpoint_every if ckpt else n
        parts = []
        if n // K:
            s, ist, a, b, r = scan_segments(n // K, K, ckpt, s, ist, a, b)
            parts.append(r)
        if n % K:
            s, ist, r = make_seg(n % K, ckpt)(dyn, s, ist, a, b)
            a, b = _advance(a, b, n % K)
            parts.append(r)
        return s, ist, a, b, parts

    ckpt = checkpoint_every is not None
    if truncate_every is None:
        s, ist, a, b, parts = plain_run(n_steps, True, state, input_states, a0, b0)
    else:
        T = truncate_every
        n_win, tail = divmod(n_steps, T)
        s, ist, a, b, parts = state, input_states, a0, b0, []
        if n_win:
            def window(carry, w):
                s_, ist_ = _stop(carry)
                aa, bb = _advance(a0, b0, w * T)
                s_, ist_, _, _, ps = plain_run(T, ckpt, s_, ist_, aa, bb)
                return (s_, ist_), _cat(ps)

            (s, ist), r = jax.lax.scan(window, (s, ist), jnp.arange(n_win, dtype=jnp.int32))
            parts.append(jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), r))
            a, b = _advance(a0, b0, n_win * T)
        if tail:
            s, ist = _stop((s, ist)) if n_win else (s, ist)
            s, ist, a, b, ps = plain_run(tail, ckpt, s, ist, a, b)
            parts.extend(ps)
    return s, _cat(parts)


def _stop(tree):
    return jax.tree.map(lambda x: jax.lax.stop_gradient(x) if eqx.is_inexact_array(x) else x, tree)


def _cat(parts):
    if len(parts) == 1:
        return parts[0]
    return jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=0), *parts)
