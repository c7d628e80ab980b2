"""Kill -9 at random moments, resume from the last checkpoint, compare bit for bit.

Each trial starts a run of a small noisy E/I network in a child process, streaming its records
to a Zarr store with a checkpoint after every chunk, kills it with SIGKILL at a random moment
(uniform over the child's run, which includes store writes and checkpoint saves), then

1. checks that the store holds every record up to the checkpoint's step, identical to the
   uninterrupted run (no chunk before the last checkpoint lost);
2. resumes from the checkpoint into the same store and checks that the whole store and the final
   state are bit-identical to the uninterrupted run.

Run:  python benchmarks/kill_resume.py [--trials 20] [--seed 0]
Prints one JSON line: trials, identical resumes, kills that landed mid-run, checkpoint steps.
The suite runs 3 trials (tests/test_checkpoint.py).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

DURATION = 60.0     # ms: 600 steps
CHUNK = 20          # steps per chunk: 30 chunks, a checkpoint after each
REC = ["pop.E.V", "pop.E.spike", "pop.I.spike"]
CACHE = None        # a directory for JAX's persistent compilation cache of the children (optional)


def build():
    """The network and the run arguments shared by the child, the resume and the reference."""
    import jax.numpy as jnp

    import braindyn as bd
    from braindyn.neurons import LIF

    net = bd.Network({"E": LIF(n=6, noise={"V": 2.0}), "I": LIF(n=3, noise={"V": 2.0})})
    kw = dict(inputs={"E": jnp.linspace(18.0, 40.0, 6), "I": 30.0}, record=REC, chunk_steps=CHUNK)
    return net, kw


def child(store, ck):
    import jax

    jax.config.update("jax_enable_x64", True)
    import braindyn as bd

    net, kw = build()
    with open(os.path.join(os.path.dirname(store), "started"), "w") as fh:
        fh.write(str(time.time()))
    bd.run(net, DURATION, key=3, store=store, checkpoint=ck, checkpoint_every=1, progress=False, **kw)
    with open(os.path.join(os.path.dirname(store), "finished"), "w") as fh:
        fh.write("1")


def reference():
    import braindyn as bd

    net, kw = build()
    return bd.run(net, DURATION, key=3, **kw)


def _env():
    import braindyn as bd

    root = os.path.dirname(os.path.dirname(os.path.abspath(bd.__file__)))
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    if CACHE:  # children after the first load their compiled chunks from JAX's persistent cache
        env.update(JAX_COMPILATION_CACHE_DIR=CACHE, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return env


def start(folder):
    """Start the child run of a trial in ``folder`` (several trials may start at once)."""
    store, ck = os.path.join(folder, "run.zarr"), os.path.join(folder, "ck")
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", store, ck], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def trial(folder, rng, ref, run_time=None, proc=None):
    """One kill-and-resume trial in ``folder`` (its child started by :func:`start`, or now);
    returns a dict of what it saw."""
    import numpy as np

    import braindyn as bd

    store, ck = os.path.join(folder, "run.zarr"), os.path.join(folder, "ck")
    proc = proc or start(folder)
    # wait for the first checkpoint, then kill at a random moment of the rest of the run
    t_end = time.time() + 300
    while not os.path.exists(os.path.join(ck, "meta.json")):
        if proc.poll() is not None:
            raise RuntimeError("child ended early: " + proc.stderr.read().decode()[-2000:])
        if time.time() > t_end:
            proc.kill()
            raise RuntimeError("no checkpoint after 300 s")
        time.sleep(0.005)
    t_first = time.time()
    delay = rng.uniform(0.0, run_time if run_time else 1.0)
    time.sleep(delay)
    mid_run = proc.poll() is None
    if mid_run:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = bd.RunState.load(ck)
    step = state.step
    # 1. nothing before the checkpoint is lost
    ts, recs, _ = bd.store.open_records(store)
    rows = step  # record_every = 1
    assert len(ts) >= rows, (len(ts), rows)
    for k in REC:
        np.testing.assert_array_equal(np.asarray(recs[k])[:rows], np.asarray(ref[k])[:rows])
    # 2. resume into the same store: bit-identical to the uninterrupted run
    net, kw = build()
    remaining = round(DURATION - step * 0.1, 6)
    if remaining > 0:
        res = bd.run(net, remaining, resume=ck, store=store, checkpoint=ck, progress=False, **kw)
        final = res.final_state
    else:
        final = state.state
    ts, recs, _ = bd.store.open_records(store)
    np.testing.assert_array_equal(ts, ref.ts)
    for k in REC:
        np.testing.assert_array_equal(np.asarray(recs[k]), np.asarray(ref[k]))
    import jax

    for a, b in zip(jax.tree.leaves(final), jax.tree.leaves(ref.final_state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    return {"killed_mid_run": mid_run, "checkpoint_step": step, "delay_s": round(delay, 3),
            "since_first_checkpoint_s": round(time.time() - t_first, 3)}


def measure_run_time(folder):
    """Seconds the child spends between its first checkpoint and its end (to spread the kills)."""
    store, ck = os.path.join(folder, "run.zarr"), os.path.join(folder, "ck")
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", store, ck],
                            env=_env())
    while not os.path.exists(os.path.join(ck, "meta.json")) and proc.poll() is None:
        time.sleep(0.005)
    t0 = time.time()
    proc.wait()
    return time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    global CACHE
    rng = np.random.default_rng(args.seed)
    ref = reference()
    cache = tempfile.TemporaryDirectory()
    CACHE = cache.name
    with tempfile.TemporaryDirectory() as d:
        run_time = measure_run_time(d)
    out = []
    for i in range(args.trials):
        with tempfile.TemporaryDirectory() as d:
            out.append(trial(d, rng, ref, run_time))
    print(json.dumps({"trials": len(out), "identical_resumes": len(out),
                      "killed_mid_run": sum(o["killed_mid_run"] for o in out),
                      "child_run_time_s": round(run_time, 2),
                      "checkpoint_steps": [o["checkpoint_step"] for o in out]}))


if __name__ == "__main__":
    main()
