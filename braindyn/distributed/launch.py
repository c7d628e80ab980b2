r"""Several processes (and hosts) through JAX's multi-controller runtime (``jax.distributed``).

Every process runs the same script; :func:`initialize` connects it to the others, after which
``jax.devices()`` lists the devices of *all* processes and :func:`~braindyn.distributed.run_sharded`
(with ``devices=jax.device_count()``) shards one network over them: each process steps the
blocks of its own devices, spikes travel through the CPU collectives (gloo, JAX's default CPU
implementation; MPI where jaxlib was built with it) or the accelerators' own.

On one machine::

    python -m braindyn.distributed.launch -n 2 my_script.py --my-args

starts two processes of ``my_script.py`` with ``BRAINDYN_COORDINATOR``, ``BRAINDYN_NUM_PROCESSES``
and ``BRAINDYN_PROCESS_ID`` set (``--devices-per-process K`` also forces ``K`` CPU devices in
each). On several hosts, start one process per host yourself with the same three variables
(the coordinator is ``host:port`` of process 0), or call
``jax.distributed.initialize(...)`` directly (SLURM and other schedulers are detected by JAX
when the arguments are omitted). The script:

.. code-block:: python

    import jax, numpy as np
    from braindyn.distributed import run_sharded
    # under the launcher the processes are already joined (jax.process_count() == 2)
    res = run_sharded(net, 1000.0, state0=state0, inputs=inputs, devices=jax.device_count(),
                      record=["pop.E.spike"])
    if jax.process_index() == 0:     # every process receives the whole records
        np.save("raster.npy", res.records["pop.E.spike"])

Records and the final state are gathered to every process (``process_allgather``); checkpoints
(:func:`~braindyn.distributed.save_sharded`) are written by each process for its own shards.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys

__all__ = ["initialize", "launch", "main"]

_ENV = ("BRAINDYN_COORDINATOR", "BRAINDYN_NUM_PROCESSES", "BRAINDYN_PROCESS_ID")


# The launcher starts each process with this bootstrap, which joins the processes *before* the script (and
# braindyn, whose import creates JAX arrays) initialises the XLA backend, then runs the script as __main__.
_BOOT = ("import os, runpy, sys, jax; "
         "jax.distributed.initialize(coordinator_address=os.environ['BRAINDYN_COORDINATOR'], "
         "num_processes=int(os.environ['BRAINDYN_NUM_PROCESSES']), "
         "process_id=int(os.environ['BRAINDYN_PROCESS_ID'])); "
         "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def initialize(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None):
    """Join the other processes (``jax.distributed.initialize``) from the arguments or the ``BRAINDYN_*``
    variables. Under the launcher this has already happened (returns True); a lone process returns False.
    Called by hand it must come before JAX initialises its backend, i.e. before ``import braindyn``: use
    ``jax.distributed.initialize(...)`` directly at the top of such a script."""
    import jax

    if jax.distributed.is_initialized():
        return True
    coordinator = coordinator or os.environ.get("BRAINDYN_COORDINATOR")
    num = num_processes if num_processes is not None else os.environ.get("BRAINDYN_NUM_PROCESSES")
    pid = process_id if process_id is not None else os.environ.get("BRAINDYN_PROCESS_ID")
    if coordinator is None or num is None or pid is None or int(num) <= 1:
        return False
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=int(num), process_id=int(pid))
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(n: int, argv: list, *, devices_per_process: int | None = None, timeout: float | None = None) -> int:
    """Start ``n`` local processes of ``python argv...`` connected by :func:`initialize`; wait for all.
    Returns the first non-zero exit code (0 if all succeed)."""
    if not isinstance(n, int) or n < 1:
        from .._errors import BraindynError

        raise BraindynError(f"launch: the number of processes must be a positive integer, got {n!r}. Fix: -n 2.")
    coord = f"127.0.0.1:{_free_port()}"
    procs = []
    for i in range(n):
        env = dict(os.environ, BRAINDYN_COORDINATOR=coord, BRAINDYN_NUM_PROCESSES=str(n), BRAINDYN_PROCESS_ID=str(i))
        if devices_per_process:
            flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
            env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={devices_per_process}"])
        procs.append(subprocess.Popen([sys.executable, "-c", _BOOT, *argv], env=env))
    rc = 0
    try:
        for p in procs:
            r = p.wait(timeout=timeout)
            rc = rc or r
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m braindyn.distributed.launch",
                                 description="Run a script in N local processes joined by jax.distributed.")
    ap.add_argument("-n", "--num-processes", type=int, default=2)
    ap.add_argument("--devices-per-process", type=int, default=None,
                    help="force this many CPU devices in each process")
    ap.add_argument("script", help="the Python script (every process runs it)")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    return launch(a.num_processes, [a.script, *a.args], devices_per_process=a.devices_per_process)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
