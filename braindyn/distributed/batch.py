r"""Independent runs (sweeps, trials, training seeds) spread over many processes or machines with Dask.

A batch is a function ``task(item) -> dict`` (of numbers and arrays of fixed shapes) and a list of
items (parameter values, seeds, ...). :func:`run_batch` sends the items to the workers of a Dask
cluster (``dask.distributed``: a :class:`~distributed.LocalCluster` on one machine, or a scheduler
on many: ``Client("tcp://scheduler:8786")``, SLURM/Kubernetes through ``dask-jobqueue`` and
friends), collects the results as they finish, and gathers them into one store: every key of the
results becomes one array with the items along its first axis, written to a Zarr group (or a
``.npz`` file) together with the items themselves (``attrs["items"]``, JSON).

Within one process, a batch of runs of one model is better done as one ``jax.vmap`` (see
:func:`braindyn.simulate`); Dask is for what does not fit one process: more trials than one
machine runs in time, or heterogeneous tasks. Each task runs in a worker process with its own JAX;
give each task enough work (seconds at least) to amortise the worker's compilation, e.g. a
``vmap`` of many trials per item.

Install the optional extra: ``pip install braindyn[cluster]`` (``dask[distributed]``).

Example
-------
>>> def task(I):                                   # must be importable by the workers
...     import braindyn as bd
...     return {"count": bd.run(bd.neurons.LIF(), 100.0, inputs=I, record="spike").spike_count()}
>>> # from distributed import Client, LocalCluster
>>> # with LocalCluster(n_workers=2) as cl, Client(cl) as client:
>>> #     out = run_batch(task, [21.0, 25.0, 30.0], client=client, store="sweep.zarr")
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .._errors import BraindynError
from .._json import jsonable

__all__ = ["run_batch", "load_batch"]


def _require_dask():
    try:
        import distributed  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise BraindynError("run_batch needs Dask's distributed scheduler, which is not installed. Fix: "
                            "pip install 'braindyn[cluster]' (or pip install 'dask[distributed]').") from e


_jsonable = jsonable  # one implementation: braindyn._json


def run_batch(task: Callable[[Any], dict], items: Sequence, *, client=None, store: Optional[str] = None,
              fmt: str = "auto") -> dict:
    """Run ``task(item)`` for every item on a Dask cluster and gather the results into one store.

    Parameters
    ----------
    task : callable
        ``task(item) -> {name: number or array}``; the same names and shapes for every item. Must be
        picklable (a module-level function).
    items : sequence
        One entry per run (JSON-serialisable to be recorded in the store).
    client : distributed.Client, optional
        The cluster to use (default: the current client, ``distributed.get_client()``).
    store : str, optional
        Where to write the gathered results: a directory (Zarr group, ``fmt="zarr"``) or a ``.npz`` file.
    fmt : {"auto", "zarr", "npz"}
        ``"auto"``: ``npz`` if ``store`` ends in ``.npz``, else Zarr.

    Returns
    -------
    dict ``{name: array}`` with the items along axis 0 (in the order of ``items``).
    """
    _require_dask()
    from distributed import as_completed, get_client

    items = list(items)
    if not items:
        raise BraindynError("run_batch: no items. Fix: pass one item per run, e.g. a list of parameter values.")
    if not callable(task):
        raise BraindynError(f"run_batch: task must be a function item -> dict, got {type(task).__name__}.")
    client = get_client() if client is None else client
    futures = client.map(task, items, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(items)
    for fut, res in as_completed(futures, with_results=True):
        if not isinstance(res, dict):
            raise BraindynError(f"run_batch: task returned {type(res).__name__} for item {items[index[fut.key]]!r}; "
                                f"it must return a dict {{name: value}}.")
        results[index[fut.key]] = res
    names = list(results[0])
    out = {}
    for name in names:
        try:
            out[name] = np.stack([np.asarray(r[name]) for r in results])
        except (KeyError, ValueError) as e:
            raise BraindynError(f"run_batch: the results differ in their key {name!r} (missing or of another "
                                f"shape): {e}. Fix: return the same names and shapes for every item.") from None
    if store is not None:
        _write(store, out, items, fmt)
    return out


def _write(store, out, items, fmt):
    fmt = ("npz" if str(store).endswith(".npz") else "zarr") if fmt == "auto" else fmt
    if fmt == "npz":
        np.savez(store, **out, __items__=np.asarray(json.dumps(_jsonable(items))))
        return
    if fmt != "zarr":
        raise BraindynError(f"run_batch: fmt={fmt!r}; expected 'auto', 'zarr' or 'npz'.")
    import zarr

    g = zarr.open_group(os.fspath(store), mode="w")
    for name, arr in out.items():
        g.create_array(name, data=arr)
    g.attrs["items"] = _jsonable(items)


def load_batch(store) -> tuple:
    """``(results, items)`` from a store written by :func:`run_batch`."""
    if str(store).endswith(".npz"):
        with np.load(store) as z:
            items = json.loads(str(z["__items__"]))
            return {k: z[k] for k in z.files if k != "__items__"}, items
    import zarr

    g = zarr.open_group(os.fspath(store), mode="r")
    return {k: np.asarray(g[k][...]) for k in g.array_keys()}, list(g.attrs["items"])
