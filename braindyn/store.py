r"""Streamed records (a chunked, compressed Zarr v3 store) and the memory estimate of a run.

``run(model, T, store="out.zarr")`` writes the records chunk by chunk to a Zarr v3 group:

* one array per record label, leading axis = time (one row per record), Zarr-chunked along
  time with the rows of one run chunk, compressed (Zstandard, Zarr's default);
  spike rasters (``record_every=1``) as **packed bits** (``uint8``, 8 neurons per byte, the
  array's attribute ``encoding="packbits"`` and ``n_neurons``; ``numpy.unpackbits(x, axis=-1,
  count=n_neurons)`` restores them), spike records over windows as integer counts
  (``encoding="counts"``), everything else as values;
* ``ts``: the time (ms) of every record, written last for each chunk;
* the group's attributes: format, model (``repr``), structure fingerprint, parameters
  (:func:`braindyn.params.describe` of every component), ``dt``, ``t0``, the global step of
  the first record window (``step_start``), ``record_every``, ``time_label``, the seed and
  the versions of braindyn, JAX, NumPy and Zarr.

Any Zarr v3 reader (zarr-python, TensorStore, xarray, zarr.js) opens it. Memory stays bounded
by one run chunk whatever the duration. Every file write of Zarr's local store is atomic
(temporary file, then rename), and a chunk's records are written before the checkpoint that
covers them, so a run killed at any moment leaves a store that holds every chunk up to its
last checkpoint; resuming truncates the store back to the checkpoint's step and appends.

Why Zarr v3 (a runtime dependency, hence Python >= 3.11): it is the format other tools read,
and several processes can write one store (one shard each), which HDF5 cannot without MPI.

Memory: :func:`available_memory` reads the memory the system can give (``MemAvailable`` of
``/proc/meminfo``, bounded by a cgroup limit if there is one); a run refuses to keep records
in memory that would need more than :data:`MEMORY_FRACTION` of it (override per run with
``run(..., memory_limit=bytes)`` or globally with the environment variable
``BRAINDYN_MEMORY_FRACTION``), and suggests ``store=``.

Example
-------
>>> import braindyn as bd, tempfile, os, zarr
>>> path = os.path.join(tempfile.mkdtemp(), "lif.zarr")
>>> res = bd.run(bd.neurons.LIF(n=3), 50.0, inputs=22.0, record=["V", "spike"], store=path)
>>> g = zarr.open_group(path, mode="r")
>>> g["V"].shape, g["spike"].attrs["encoding"], g.attrs["dt"]
((500, 3), 'packbits', 0.1)
"""
from __future__ import annotations

import math
import os
import shutil
from typing import Optional

import numpy as np

from ._errors import BraindynError

__all__ = ["RecordStore", "available_memory", "memory_limit", "MEMORY_FRACTION", "FORMAT", "open_records"]

FORMAT = "braindyn-records/1"
#: Default fraction of the available memory that in-memory records may use.
MEMORY_FRACTION = 0.5


def _zarr():
    try:
        import zarr
    except ImportError:  # pragma: no cover - zarr is a dependency
        raise BraindynError("run(..., store=...) needs the package zarr>=3 (pip install 'zarr>=3'; it needs "
                            "Python >= 3.11). Fix: install it, or run without store= (records in memory).") from None
    if int(zarr.__version__.split(".")[0]) < 3:
        raise BraindynError(f"run(..., store=...) needs zarr>=3 (Zarr format v3), found zarr {zarr.__version__}. "
                            f"Fix: pip install -U 'zarr>=3'.")
    return zarr


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (str, bool, type(None))):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else repr(f)
    try:
        a = np.asarray(x)
    except Exception:
        return repr(x)
    if a.dtype.kind in "biuf":
        if a.size <= 64:
            return _jsonable(a.tolist())
        return {"shape": list(a.shape), "dtype": str(a.dtype), "mean": float(a.mean()), "min": float(a.min()),
                "max": float(a.max())}
    return repr(x)


def describe_model(model) -> dict:
    """The declared parameters of ``model`` and of its components, as JSON-ready values."""
    import equinox as eqx

    from .params import describe

    out = {}

    def walk(obj, prefix, depth=0):
        if depth > 8:
            return
        if isinstance(obj, eqx.Module):
            try:
                for p in describe(obj):
                    out[prefix + p.name] = {"value": _jsonable(p.value), "unit": p.unit}
            except Exception:
                pass
            for name in getattr(obj, "__dataclass_fields__", {}):
                v = getattr(obj, name, None)
                if isinstance(v, (eqx.Module, dict)):
                    walk(v, f"{prefix}{name}.", depth + 1)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{prefix}{k}.", depth + 1)

    walk(model, "")
    return out


class RecordStore:
    """Records of one run (or of a run and its resumptions) in a Zarr v3 group (module docstring).

    Created by :func:`braindyn.run`; :meth:`append` writes one chunk, :meth:`truncate` cuts
    back to a number of rows, :meth:`records` opens the arrays lazily.
    """

    def __init__(self, group, path):
        self.group, self.path = group, path

    @classmethod
    def create(cls, path, rows: dict, kinds: dict, chunk_rows: int, attrs: dict) -> "RecordStore":
        """A new store at ``path`` with one empty array per label (``rows``: label -> (shape, dtype)
        of one record; ``kinds``: label -> attributes such as ``{"encoding": "packbits", ...}``)."""
        zarr = _zarr()
        path = os.fspath(path)
        if os.path.exists(path):
            raise BraindynError(f"store {path!r} exists already. Fix: choose another path, delete it, or continue "
                                f"the run that wrote it with run(..., resume=checkpoint, store={path!r}).")
        try:
            g = zarr.open_group(path, mode="w-", zarr_format=3)
        except Exception as e:
            raise BraindynError(f"cannot create the store {path!r}: {e}. Fix: a writable path.") from None
        g.attrs.update({"format": FORMAT, "records": sorted(rows), **_jsonable(attrs)})
        chunk_rows = max(int(chunk_rows), 1)
        g.create_array("ts", shape=(0,), chunks=(chunk_rows,), dtype="float64", fill_value=0.0)
        for label, (shape, dtype) in rows.items():
            if label == "ts" or "/" in label:
                raise BraindynError(f"record label {label!r} cannot be a store array name. Fix: rename the record.")
            arr = g.create_array(label, shape=(0,) + tuple(shape), chunks=(chunk_rows,) + tuple(shape),
                                 dtype=np.dtype(dtype), fill_value=0)
            arr.attrs.update(_jsonable(kinds.get(label, {"encoding": "values"})))
        return cls(g, path)

    @classmethod
    def open(cls, path, mode="r+") -> "RecordStore":
        zarr = _zarr()
        path = os.fspath(path)
        try:
            g = zarr.open_group(path, mode=mode, zarr_format=3)
        except Exception as e:
            raise BraindynError(f"cannot open the store {path!r}: {e}. Fix: the path of a store written by "
                                f"run(..., store=...).") from None
        if g.attrs.get("format") != FORMAT:
            raise BraindynError(f"{path!r} is not a braindyn record store (format {g.attrs.get('format')!r}).")
        return cls(g, path)

    @property
    def attrs(self):
        return self.group.attrs

    @property
    def labels(self):
        return list(self.attrs["records"])

    @property
    def n_rows(self) -> int:
        """Rows committed: the length of ``ts`` (written last for each chunk)."""
        return int(self.group["ts"].shape[0])

    def check_compatible(self, fingerprint: str, dt: float, record_every: int, rows: dict):
        a = self.attrs
        if a.get("fingerprint") != fingerprint or abs(float(a.get("dt")) - dt) > 1e-12 * max(dt, 1.0):
            raise BraindynError(f"store {self.path!r} holds records of another model or dt (fingerprint "
                                f"{a.get('fingerprint')}, dt={a.get('dt')}). Fix: resume into the store of that run, "
                                f"or use a new store path.")
        if int(a.get("record_every")) != record_every or sorted(rows) != sorted(a["records"]):
            raise BraindynError(f"store {self.path!r} records {a['records']} every {a.get('record_every')} steps; "
                                f"this run records {sorted(rows)} every {record_every}. Fix: resume with the same "
                                f"record= and record_every=, or use a new store path.")
        for label, (shape, dtype) in rows.items():
            arr = self.group[label]
            if tuple(arr.shape[1:]) != tuple(shape) or np.dtype(arr.dtype) != np.dtype(dtype):
                raise BraindynError(f"store {self.path!r}: record {label!r} has rows {tuple(arr.shape[1:])} "
                                    f"{arr.dtype}, this run makes {tuple(shape)} {np.dtype(dtype)}. Fix: a new store.")

    def truncate(self, n_rows: int):
        """Cut every array back to ``n_rows`` rows (resuming from a checkpoint)."""
        have = self.n_rows
        if n_rows > have:
            raise BraindynError(f"store {self.path!r} holds {have} records, but the run state continues after "
                                f"record {n_rows}: records in between are missing. Fix: resume from the checkpoint "
                                f"written with this store (run(..., checkpoint=..., store=...)).")
        for label in ["ts"] + self.labels:
            arr = self.group[label]
            if arr.shape[0] != n_rows:
                arr.resize((n_rows,) + tuple(arr.shape[1:]))

    def append(self, ts: np.ndarray, recs: dict):
        """Write one chunk of records (``ts`` last: a row counts once its time is written)."""
        n0 = self.n_rows
        k = len(ts)
        if k == 0:
            return
        for label in self.labels:
            arr = self.group[label]
            arr.resize((n0 + k,) + tuple(arr.shape[1:]))
            arr[n0: n0 + k] = np.asarray(recs[label])
        arr = self.group["ts"]
        arr.resize((n0 + k,))
        arr[n0: n0 + k] = np.asarray(ts, np.float64)

    def set_attrs(self, **kw):
        self.group.attrs.update(_jsonable(kw))

    def records(self):
        """``(ts, records)`` with the records opened lazily (spike rasters as SpikeTrain)."""
        return open_records(self.path)


def open_records(path, rows=None):
    """Open the records of a store written by ``run(..., store=path)``: ``(ts, records, attrs)``.

    ``records`` maps labels to lazily read arrays (spike rasters to :class:`~braindyn.SpikeTrain`
    over the packed bits); ``ts`` is read into memory. ``rows=(start, stop)`` opens only those
    records (default: every committed record, i.e. every row whose time is written).
    """
    from .results import SpikeTrain

    st = RecordStore.open(path, mode="r")
    n = st.n_rows
    start, stop = (0, n) if rows is None else (int(rows[0]), min(int(rows[1]), n))
    ts = np.asarray(st.group["ts"][start:stop])
    out = {}
    for label in st.labels:
        arr = st.group[label]
        enc = arr.attrs.get("encoding", "values")
        view = arr if (start, stop) == (0, arr.shape[0]) else _Rows(arr, start, stop)
        out[label] = SpikeTrain(view, int(arr.attrs["n_neurons"]), ts) if enc == "packbits" else view
    return ts, out, dict(st.attrs)


class _Rows:
    """Rows ``[start, stop)`` of an on-disk array, read lazily (slices of the first axis read only
    what they cover)."""

    def __init__(self, arr, start, stop):
        self.arr, self.start, self.stop = arr, start, stop
        self.attrs = arr.attrs
        self.dtype = arr.dtype
        self.shape = (stop - start,) + tuple(arr.shape[1:])
        self.ndim = len(self.shape)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        first, rest = (idx[0], idx[1:]) if isinstance(idx, tuple) and idx else (idx, ())
        if isinstance(first, slice) and first.step in (None, 1):
            a, b, _ = first.indices(self.shape[0])
            block = np.asarray(self.arr[self.start + a: self.start + max(a, b)])
            return block[(slice(None),) + rest] if rest else block
        return np.asarray(self.arr[self.start: self.stop])[idx]

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self.arr[self.start: self.stop])
        return a if dtype is None else a.astype(dtype)


def remove(path):
    """Delete a store directory (used by tests and benchmarks)."""
    shutil.rmtree(os.fspath(path), ignore_errors=True)


# ---- memory ----------------------------------------------------------------------------------
def available_memory() -> Optional[int]:
    """Bytes of memory available to this process now (``MemAvailable``, bounded by a cgroup
    limit), or ``None`` where it cannot be read."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            lim = fh.read().strip()
        if lim != "max":
            with open("/sys/fs/cgroup/memory.current") as fh:
                cur = int(fh.read().strip())
            room = int(lim) - cur
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def memory_limit(override=None) -> Optional[float]:
    """The byte budget of in-memory records: ``override`` if given (``math.inf``: no limit),
    else ``BRAINDYN_MEMORY_FRACTION`` (default :data:`MEMORY_FRACTION`) of :func:`available_memory`."""
    if override is not None:
        if isinstance(override, bool) or not isinstance(override, (int, float)) or not override > 0:
            raise BraindynError(f"'memory_limit' must be a positive number of bytes (math.inf: no check), got "
                                f"{override!r}. Fix: e.g. memory_limit=8e9.")
        return float(override)
    frac = os.environ.get("BRAINDYN_MEMORY_FRACTION")
    try:
        frac = MEMORY_FRACTION if frac is None else float(frac)
    except ValueError:
        raise BraindynError(f"BRAINDYN_MEMORY_FRACTION={frac!r} is not a number. Fix: e.g. 0.5.") from None
    avail = available_memory()
    return None if avail is None else frac * avail
