r"""What :func:`braindyn.run` returns: :class:`RunResult` and the bit-packed :class:`SpikeTrain`.

Spike records come in two forms:

* ``record_every=1``: a boolean raster ``(steps, neurons)``, stored bit-packed
  (:class:`SpikeTrain`, 1 bit per neuron and step);
* ``record_every=n > 1``: the **count** of spikes of each neuron in each window of ``n``
  steps, an integer array ``(windows, neurons)`` (never a sample of the last step of the
  window, which would drop the spikes of the other ``n - 1`` steps).

Rates use the counts: :math:`r_i = \sum_w c_{w,i} / T` with :math:`T` the duration of the
run in seconds. Records may be NumPy arrays (in memory) or lazily read arrays of a Zarr store
(``run(..., store=...)``); the methods read them block by block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._errors import BraindynError
from .runstate import RunState

__all__ = ["RunResult", "SpikeTrain"]

_BLOCK = 4096


class SpikeTrain:
    """A recorded boolean raster ``(records, neurons)``, stored bit-packed (1 bit per entry).

    ``np.asarray(train)`` unpacks it; :meth:`events` gives ``(times, neuron_indices)``;
    :meth:`counts` the spike count per neuron. ``packed`` may be a NumPy array or a lazily
    read on-disk array (anything sliceable along its first axis).

    Example
    -------
    >>> import numpy as np
    >>> raster = np.array([[1, 0, 0], [0, 0, 1]], bool)
    >>> tr = SpikeTrain(np.packbits(raster, axis=-1), 3, np.array([0.1, 0.2]))
    >>> tr.counts().tolist(), tr.events()[1].tolist()
    ([1, 0, 1], [0, 2])
    """

    def __init__(self, packed, n: int, ts: np.ndarray):
        self.packed = packed
        self.n = n
        self.ts = ts

    @property
    def shape(self):
        return tuple(self.packed.shape[:-1]) + (self.n,)

    def dense(self) -> np.ndarray:
        return np.unpackbits(np.asarray(self.packed[:]), axis=-1, count=self.n).astype(bool)

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    def __getitem__(self, idx):
        return self.dense()[idx]

    def events(self, block: int = _BLOCK):
        """Spike times (ms) and neuron indices, in time order (unpacked block by block)."""
        times, idx = [], []
        for s in range(0, self.packed.shape[0], block):
            r, c = np.nonzero(np.unpackbits(np.asarray(self.packed[s: s + block]), axis=-1, count=self.n))
            times.append(self.ts[s + r])
            idx.append(c)
        if not times:
            return np.zeros(0), np.zeros(0, int)
        return np.concatenate(times), np.concatenate(idx)

    def counts(self) -> np.ndarray:
        total = np.zeros(self.n, np.int64)
        for s in range(0, self.packed.shape[0], _BLOCK):
            total += np.unpackbits(np.asarray(self.packed[s: s + _BLOCK]), axis=-1, count=self.n).sum(
                axis=0, dtype=np.int64)
        return total

    def __len__(self):
        return self.packed.shape[0]

    def __repr__(self):
        return f"SpikeTrain(steps={self.packed.shape[0]}, neurons={self.n}, spikes={int(self.counts().sum())})"


def _sum_rows(arr) -> np.ndarray:
    """Sum over the first axis, block by block (bounded memory for on-disk arrays)."""
    total = None
    for s in range(0, arr.shape[0], _BLOCK):
        part = np.asarray(arr[s: s + _BLOCK]).sum(axis=0, dtype=np.int64)
        total = part if total is None else total + part
    if total is None:
        total = np.zeros(tuple(arr.shape[1:]), np.int64)
    return total


@dataclass
class RunResult:
    """What :func:`braindyn.run` returns.

    Attributes
    ----------
    ts : ndarray
        Times (ms) of the records (for a window of ``record_every`` steps: the end of the window,
        or its last step's start with ``time_label="start"``).
    records : dict
        Recorded arrays (leading axis = time): NumPy arrays in memory, or lazily read Zarr arrays
        when the run streamed to a store; boolean rasters are :class:`SpikeTrain`; spike records
        with ``record_every > 1`` hold integer counts per window.
    run_state : RunState
        Everything needed to continue: ``run(model, T, resume=result.run_state)``.
    dt, t_start, t_end : float
        Step (ms), start and end times; ``t_end = t_start + n_steps * dt`` is the time of
        ``run_state`` (also after a divergence).
    n_steps : int
        Steps taken by this call (and covered by the records and ``run_state``).
    status : str
        ``"ok"``, ``"diverged"`` on the partial result attached to a
        :class:`~braindyn.SimulationDiverged` error, or ``"interrupted"`` on the one attached to
        a ``KeyboardInterrupt``.
    record_every : int
        Steps per record.
    spike_counts : tuple
        Labels of the records that hold spike counts per window.
    store : str or None
        Path of the Zarr store the records were streamed to.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.LIF(), 100.0, inputs=22.0, record="spike", record_every=10)
    >>> res["spike"].dtype.kind, res.spike_count(), res.rate_hz()
    ('i', 3, 30.0)
    """

    ts: np.ndarray
    records: dict
    run_state: RunState
    dt: float
    t_start: float
    t_end: float
    n_steps: int
    status: str = "ok"
    record_every: int = 1
    spike_counts: tuple = ()
    store: Optional[str] = None

    @property
    def final_state(self):
        """The model state after the last step (``run_state.state``)."""
        return self.run_state.state

    @property
    def input_states(self):
        return self.run_state.input_states

    def __getitem__(self, name):
        if name not in self.records:
            raise BraindynError(f"no record named {name!r}; recorded: {list(self.records)}.")
        return self.records[name]

    def _spike_name(self, name):
        if name is not None:
            self[name]
            return name
        cands = [k for k, v in self.records.items()
                 if isinstance(v, SpikeTrain) or k in self.spike_counts or k.split(".")[-1] == "spike"]
        if len(cands) != 1:
            raise BraindynError(f"which spike record? found {cands or 'none'}. Fix: pass name=..., and record the "
                                f"spikes, e.g. record=['V', 'spike'].")
        return cands[0]

    def _not_spikes(self, name, r):
        dtype = getattr(r, "dtype", type(r).__name__)
        return BraindynError(f"record {name!r} is not a spike record (dtype {dtype}); spike counts and rates "
                             f"need a record of a 'spike' variable. Fix: e.g. record=['V', 'spike'] and "
                             f"rate_hz('spike').")

    def _raster(self, name):
        name = self._spike_name(name)
        r = self[name]
        if isinstance(r, SpikeTrain):
            return r
        if name in self.spike_counts:
            raise BraindynError(f"record {name!r} holds spike counts per window of record_every={self.record_every} "
                                f"steps: the spike times within a window are not recorded. Fix: record_every=1 "
                                f"for spike times (the raster is stored bit-packed, 1 bit per neuron and step).")
        arr = np.asarray(r)
        if arr.dtype != np.bool_:
            raise self._not_spikes(name, r)
        return SpikeTrain(np.packbits(arr, axis=-1), arr.shape[-1], self.ts)

    def spike_events(self, name=None):
        """``(times_ms, neuron_indices)`` of all spikes in the record ``name`` (``record_every=1``)."""
        return self._raster(name).events()

    def spike_times(self, name=None, neuron: Optional[int] = None):
        """Spike times (ms) of one neuron (default: neuron 0) (``record_every=1``)."""
        r = self._raster(name)
        i0 = 0 if neuron is None else neuron
        if isinstance(i0, bool) or not isinstance(i0, (int, np.integer)) or not 0 <= i0 < r.n:
            raise BraindynError(f"neuron={neuron!r} is out of range: the record has {r.n} neuron(s) "
                                f"(indices 0..{r.n - 1}). Fix: neuron=0..{r.n - 1}.")
        t, i = r.events()
        return t[i == i0]

    def neuron_counts(self, name=None) -> np.ndarray:
        """Number of spikes of each neuron over the run (from the raster or from the window counts)."""
        name = self._spike_name(name)
        r = self[name]
        if isinstance(r, SpikeTrain):
            return r.counts()
        if name in self.spike_counts:
            return _sum_rows(r)
        if np.asarray(r[:1]).dtype != np.bool_:
            raise self._not_spikes(name, r)
        return _sum_rows(r)

    def spike_count(self, name=None):
        """Total number of spikes in the record ``name`` (all neurons)."""
        return int(self.neuron_counts(name).sum())

    def rates_hz(self, name=None) -> np.ndarray:
        """Firing rate (Hz) of each neuron over the run: spikes / duration."""
        return self.neuron_counts(name) / ((self.t_end - self.t_start) / 1000.0)

    def rate_hz(self, name=None) -> float:
        """Mean firing rate (Hz) over the neurons and the run (see :meth:`rates_hz` per neuron)."""
        return float(self.rates_hz(name).mean())
