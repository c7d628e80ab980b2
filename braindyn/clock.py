r"""The clock and the random streams: integer steps, drift-free time, keys derived from names.

**Time from an integer step.** A run counts steps with an integer; the time of step
:math:`k` is :math:`t_k = t_0 + k\,\Delta t`, computed from :math:`k` (never accumulated), so a
run split into chunks, resumed from a checkpoint or sharded over devices sees exactly the same
times. The step is kept as two 32-bit words, :math:`k = a\,2^{20} + b` with
:math:`0 \le b < 2^{20}` (no overflow before :math:`2^{51}` steps: 700 years at
:math:`\Delta t` = 0.01 ms), which works without ``jax_enable_x64``.

**Time without float32 drift.** The time handed to inputs, models and vector fields is a
:class:`Time`: an unevaluated sum ``hi + lo`` of two floats of the run's dtype (a
"double-float"), so that :math:`t = 10^7` ms still resolves :math:`\Delta t` = 0.01 ms in
float32. Differences and comparisons with numbers (``t - t_on``, ``t >= t_on``) are computed
as ``(hi - x) + lo`` and keep that resolution; :meth:`Time.phase` gives the fractional part
of :math:`f\,t` exactly (for periodic inputs); anything else (``jnp.sin(t)``) sees the
rounded value ``hi + lo`` through ``__jax_array__``.

**Keys.** The key of step :math:`k` is ``fold_in(fold_in(key, a), b)``; the key of a component
inside a step is ``fold_in(step_key, stable_hash(name))`` (:func:`named_key`), never its
position in a dict, so adding a population does not change the noise of the others, and
jit and eager runs (which order dict keys differently) draw the same numbers.
:func:`normal` and :func:`uniform` draw per block of :data:`BLOCK` neurons, each block from
its own key, so a shard that holds neurons ``[start, start + n)`` draws exactly its part.

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.clock import step_time
>>> t = step_time(10**9, 0.01, t0=0.0, dtype=jnp.float32)     # t = 10^7 ms in float32
>>> float((t + 0.01) - t) > 0.0099                            # dt is still resolved
True
"""
from __future__ import annotations

import zlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Time", "step_time", "split_step", "step_key", "named_key", "stable_hash", "normal", "uniform",
           "bernoulli", "BLOCK", "as_time", "STEP_BITS"]

#: Bits of the low word of the step counter.
STEP_BITS = 20
_LOW = 1 << STEP_BITS
#: Neurons per random block (see :func:`normal`).
BLOCK = 1024


def stable_hash(name: str) -> int:
    """A 31-bit hash of ``name`` that is the same in every process (CRC-32, not ``hash``)."""
    return zlib.crc32(str(name).encode()) & 0x7FFFFFFF


def named_key(key, name: str):
    """The key of the component called ``name`` (``None`` stays ``None``)."""
    if key is None:
        return None
    return jax.random.fold_in(key, stable_hash(name))


def split_step(step: int):
    """``(a, b)`` with ``step = a * 2**20 + b`` (host integers)."""
    step = int(step)
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return step >> STEP_BITS, step & (_LOW - 1)


def _normalise(a, b):
    return a + b // _LOW, b % _LOW


def step_key(key, a, b):
    """The key of global step ``a * 2**20 + b`` (``None`` stays ``None``)."""
    if key is None:
        return None
    return jax.random.fold_in(jax.random.fold_in(key, a), b)


# ---- double-float arithmetic -------------------------------------------------------------------
def _two_sum(x, y):
    s = x + y
    z = s - x
    e = (x - (s - z)) + (y - z)
    return s, e


def _split(x):
    # Veltkamp split into two halves whose products are exact.
    c = {2: 2049.0, 4: 4097.0, 8: 134217729.0}.get(jnp.dtype(x.dtype).itemsize, 4097.0)
    t = c * x
    hi = t - (t - x)
    return hi, x - hi


def _two_prod(x, y):
    p = x * y
    xh, xl = _split(x)
    yh, yl = _split(y)
    e = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl
    return p, e


class Time(eqx.Module):
    r"""A time :math:`t = hi + lo` (ms) kept as two floats, so that it resolves small steps at large
    :math:`t` even in float32 (see the module docstring).

    Arithmetic: ``t + x`` is a :class:`Time`; ``t - x``, ``x - t`` and comparisons with numbers
    are ordinary arrays, computed as ``(hi - x) + lo`` (exact when :math:`x` is near :math:`t`);
    ``t * x`` and ``jnp`` functions see ``hi + lo``. Use :meth:`phase` for periodic functions.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> t = Time.of(1.0e7, jnp.float32) + 0.25
    >>> float(t - 1.0e7), bool(t > 1.0e7)
    (0.25, True)
    """

    hi: jax.Array
    lo: jax.Array

    @staticmethod
    def of(value, dtype=None) -> "Time":
        """A :class:`Time` from a number (split on the host in float64 when it is concrete)."""
        if isinstance(value, Time):
            return value
        dtype = dtype or jnp.result_type(float)
        if isinstance(value, (int, float, np.floating, np.integer)):
            hi = np.asarray(value, np.float64).astype(dtype)
            lo = np.asarray(float(value) - float(hi), np.float64).astype(dtype)
            return Time(jnp.asarray(hi), jnp.asarray(lo))
        v = jnp.asarray(value, dtype)
        return Time(v, jnp.zeros_like(v))

    @staticmethod
    def of_array(values, dtype=None) -> "Time":
        """A :class:`Time` holding an array of host values (each split in float64)."""
        from .params import default_float

        dtype = dtype or default_float()
        v = np.asarray(values, np.float64)
        hi = v.astype(dtype)
        return Time(jnp.asarray(hi), jnp.asarray((v - hi.astype(np.float64)).astype(dtype)))

    @property
    def dtype(self):
        return self.hi.dtype

    @property
    def value(self):
        """The time as one float (``hi + lo``, rounded)."""
        return self.hi + self.lo

    def __jax_array__(self):
        return self.hi + self.lo

    def __float__(self):
        return float(self.hi) + float(self.lo)

    def astype(self, dtype):
        return Time(self.hi.astype(dtype), self.lo.astype(dtype))

    # -- sums stay Times
    def _coerce(self, other):
        # Python numbers are split on the host, so t - 10000000.01 keeps its last digits in float32.
        if isinstance(other, (float, int, np.floating, np.integer)) and not isinstance(other, bool):
            return Time.of(other, self.hi.dtype)
        return other

    def __add__(self, other):
        other = self._coerce(other)
        if isinstance(other, Time):
            s, e = _two_sum(self.hi, other.hi)
            e = e + self.lo + other.lo
        else:
            x = jnp.asarray(other, self.hi.dtype)
            s, e = _two_sum(self.hi, x)
            e = e + self.lo
        hi, lo = _two_sum(s, e)
        return Time(hi, lo)

    __radd__ = __add__

    # -- differences are numbers
    def __sub__(self, other):
        other = self._coerce(other)
        if isinstance(other, Time):
            return (self.hi - other.hi) + (self.lo - other.lo)
        return (self.hi - jnp.asarray(other, self.hi.dtype)) + self.lo

    def __rsub__(self, other):
        other = self._coerce(other)
        if isinstance(other, Time):
            return (other.hi - self.hi) + (other.lo - self.lo)
        return (jnp.asarray(other, self.hi.dtype) - self.hi) - self.lo

    def __neg__(self):
        return -(self.hi + self.lo)

    def __mul__(self, other):
        return (self.hi + self.lo) * other

    __rmul__ = __mul__

    def __truediv__(self, other):
        return (self.hi + self.lo) / other

    def __lt__(self, other):
        return (self - other) < 0

    def __le__(self, other):
        return (self - other) <= 0

    def __gt__(self, other):
        return (self - other) > 0

    def __ge__(self, other):
        return (self - other) >= 0

    def phase(self, frequency, origin=0.0):
        r"""Fractional part of :math:`f\,(t - t_{origin})` in [0, 1) for ``frequency`` :math:`f`
        in cycles per ms, exact to the dtype's resolution at any :math:`t`."""
        f = jnp.asarray(frequency, self.hi.dtype)
        if isinstance(origin, (int, float)) and origin == 0.0:
            base = self
        else:
            base = Time(self.hi, self.lo) + (-jnp.asarray(origin, self.hi.dtype))
        p, e = _two_prod(f, jnp.broadcast_to(base.hi, jnp.shape(f)) if jnp.ndim(f) else base.hi)
        frac = p - jnp.floor(p)
        x = frac + (e + f * base.lo)
        return x - jnp.floor(x)


def as_time(t, dtype=None) -> Time:
    """``t`` as a :class:`Time` (a number or an array is wrapped, a :class:`Time` passes)."""
    if isinstance(t, Time):
        return t if dtype is None else t.astype(dtype)
    return Time.of(t, dtype)


def step_time(step, dt, t0=0.0, dtype=None, *, a=None, b=None) -> Time:
    r""":math:`t_0 + k\,\Delta t` as a :class:`Time`, computed from the step alone (the same bits for
    the same step, whatever the chunking).

    ``step`` is a host integer, or pass the traced words ``a`` and ``b`` (``k = a 2^{20} + b``).
    ``dt`` is a host number (static); ``t0`` a host number or a :class:`Time` (traced).
    """
    dtype = dtype or jnp.result_type(float)
    if a is None:
        a, b = split_step(step)
    a = jnp.asarray(a, dtype)
    b = jnp.asarray(b, dtype)
    dt_big = Time.of(float(dt) * _LOW, dtype)
    dt_t = Time.of(float(dt), dtype)
    t = as_time(t0, dtype) if isinstance(t0, Time) else Time.of(float(t0), dtype)
    p1, e1 = _two_prod(dt_big.hi, a)
    p2, e2 = _two_prod(dt_t.hi, b)
    corr = e1 + e2 + dt_big.lo * a + dt_t.lo * b
    return t + Time(p1, jnp.zeros_like(p1)) + Time(p2, corr)


# ---- random draws per block of neurons ---------------------------------------------------------
def _blocks(key, n, start, draw):
    if start % BLOCK:
        raise ValueError(f"start={start} must be a multiple of the random block size {BLOCK}")
    first = start // BLOCK
    nb = -(-n // BLOCK)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(first + jnp.arange(nb))
    vals = jax.vmap(draw)(keys)
    return vals.reshape(-1)[:n]


def normal(key, n: int, dtype=None, *, start: int = 0):
    """``n`` standard normal numbers for neurons ``start .. start + n - 1``, drawn per block of
    :data:`BLOCK` neurons (so any block-aligned slice of a population draws the same numbers)."""
    dtype = dtype or jnp.result_type(float)
    if n <= BLOCK and start == 0:
        return jax.random.normal(jax.random.fold_in(key, 0), (BLOCK,), dtype)[:n]
    return _blocks(key, n, start, lambda k: jax.random.normal(k, (BLOCK,), dtype))


def uniform(key, n: int, dtype=None, *, start: int = 0):
    """``n`` uniform numbers in [0, 1), per block of neurons like :func:`normal`."""
    dtype = dtype or jnp.result_type(float)
    if n <= BLOCK and start == 0:
        return jax.random.uniform(jax.random.fold_in(key, 0), (BLOCK,), dtype)[:n]
    return _blocks(key, n, start, lambda k: jax.random.uniform(k, (BLOCK,), dtype))


def bernoulli(key, p, n: int, *, start: int = 0):
    """``n`` Bernoulli draws with probability ``p`` (scalar or ``(n,)``), per block of neurons."""
    u = uniform(key, n, jnp.result_type(p) if hasattr(p, "dtype") else None, start=start)
    return u < p
