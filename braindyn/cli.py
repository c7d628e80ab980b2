"""Command line: ``braindyn list``, ``braindyn run NAME ...``, ``braindyn bench NAME ...``.

``--json`` prints exactly one JSON object on standard output (nothing else), so that
scripts can read the key figures.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

__all__ = ["main"]


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:
        return _jsonable(x.item())
    return x


def _short(v):
    """Display form of a figure: floats to 6 significant digits (``--json`` keeps full precision)."""
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list):
        return [_short(x) for x in v]
    if isinstance(v, dict):
        return {k: _short(x) for k, x in v.items()}
    return v


def _print_figures(name, figures):
    print(f"{name}:")
    for k, v in figures.items():
        v = _short(v)
        if isinstance(v, list) and len(v) > 12:
            shown = ", ".join(str(x) for x in v[:12])
            print(f"  {k}: [{shown}, ... ({len(v)} values)]")
        else:
            print(f"  {k}: {v}")


def _parse_sets(items):
    out = {}
    for it in items or []:
        if "=" not in it:
            raise SystemExit(f"braindyn: --set expects NAME=VALUE, got {it!r} (e.g. --set I=10)")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _cmd_list(args):
    from . import gallery

    ents = gallery.entries()
    if args.json:
        print(json.dumps({"entries": [{"name": e.name, "summary": e.summary, "defaults": _jsonable(e.defaults)}
                                      for e in ents.values()]}))
        return 0
    width = max(len(n) for n in ents)
    for e in ents.values():
        print(f"{e.name:<{width}}  {e.summary}")
    return 0


def _cmd_run(args):
    from . import gallery

    entry = gallery.get(args.name)
    overrides = _parse_sets(args.set)
    for opt in ("duration", "dt", "method"):
        v = getattr(args, opt)
        if v is not None:
            if opt not in entry.defaults:
                raise SystemExit(f"braindyn: entry {entry.name!r} has no --{opt} (its parameters: "
                                 f"{', '.join(sorted(entry.defaults))})")
            overrides[opt] = v
    if args.quick:
        if "quick" in entry.defaults:
            overrides["quick"] = True
        elif not args.json:
            print(f"braindyn: entry {entry.name!r} has no quick mode (it is short already); running it as is.",
                  file=sys.stderr)
    report = gallery.run_entry(args.name, overrides, plot=args.plot)
    figures = _jsonable(report.figures)
    if args.json:
        print(json.dumps(figures))
    else:
        _print_figures(entry.name, figures)
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def _forced_devices_rerun(args):
    """``--devices D`` on a machine whose JAX would see fewer devices: run the same command again in a
    subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=D`` (the flag must be set before
    JAX starts). Returns the subprocess's exit code, or None when no re-run is needed."""
    import os
    import subprocess

    if args.devices is None or args.devices <= 1 or "xla_force_host_platform_device_count" in \
            os.environ.get("XLA_FLAGS", ""):
        return None
    if "jax" in sys.modules:
        import jax

        if jax.device_count() >= args.devices:
            return None
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.devices}").strip()
    return subprocess.run([sys.executable, "-m", "braindyn.cli", *args.argv], env=env).returncode


def _cmd_bench(args):
    rc = _forced_devices_rerun(args)
    if rc is not None:
        return rc
    try:
        from . import bench
    except ImportError as err:  # pragma: no cover - present once the benchmark module lands
        raise SystemExit(f"braindyn: benchmarks are not available in this installation ({err})")
    out = bench.run_benchmark(args.name, n=args.n, duration=args.duration, repeats=args.repeats, unroll=args.unroll,
                              storage=args.storage, via=args.via, devices=args.devices)
    out = _jsonable(out)
    if args.json:
        print(json.dumps(out))
    else:
        _print_figures(f"bench {args.name}", out)
    return 0


def build_parser():
    ap = argparse.ArgumentParser(prog="braindyn", description="Brain-dynamics programming on JAX.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="list the gallery of book models and analyses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("run", help="run a gallery entry on its book default")
    p.add_argument("name")
    p.add_argument("--duration", type=float, help="simulated time (ms)")
    p.add_argument("--dt", type=float, help="time step (ms)")
    p.add_argument("--method", help="integration method (e.g. exp_euler, rk4, euler)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter (repeatable)")
    p.add_argument("--plot", metavar="FILE.png", help="write the entry's figure")
    p.add_argument("--json", action="store_true", help="print one JSON object of the key figures")
    p.add_argument("--quick", action="store_true",
                   help="the entry's documented short mode (small network, short run) where it has one")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("bench", help="build, compile and run a benchmark network (coba, cuba, cobahh), built from "
                                     "public blocks and timed through bd.simulate (or bd.run)")
    p.add_argument("name", help="coba, cuba or cobahh")
    p.add_argument("--n", type=int, default=4000, help="number of neurons")
    p.add_argument("--duration", type=float, default=1000.0, help="simulated time (ms)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after compilation")
    p.add_argument("--unroll", type=int, default=2, help="steps per loop iteration of the compiled scan")
    p.add_argument("--storage", default="csr", help="connectivity: csr, procedural, csr-procedural, dense-procedural")
    p.add_argument("--via", default="simulate", choices=("simulate", "run"),
                   help="time jax.jit(bd.simulate) compiled ahead of time (default) or bd.run")
    p.add_argument("--devices", type=int, default=None,
                   help="shard the network over D devices (CPU devices are forced when the machine has fewer)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_bench)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from ._errors import BraindynError, SimulationDiverged

    try:
        return args.func(args)
    except (BraindynError, SimulationDiverged) as err:
        print(f"braindyn: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
