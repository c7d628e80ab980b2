"""Command line: ``braindyn list``, ``braindyn run NAME ...``, ``braindyn bench NAME ...``.

``--json`` prints exactly one JSON object on standard output (nothing else), so that
scripts can read the key figures.

Errors: a bad value (a :class:`~braindyn.BraindynError`, e.g. ``--set p=1.5``) prints one line
``braindyn: error: ...`` on standard error and exits with status 2; a diverged simulation
the same with status 3; an unexpected exception a one-line summary and a hint, status 1
(``--debug`` shows its traceback); Ctrl-C exits with status 130. The parameters and the
``--plot`` path are checked before anything is computed.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings

from ._json import jsonable

__all__ = ["main"]


_jsonable = jsonable  # one implementation: braindyn._json


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
    from ._errors import BraindynError

    out = {}
    for it in items or []:
        if "=" not in it:
            raise BraindynError(f"--set expects NAME=VALUE, got {it!r}. Fix: e.g. --set I=10.")
        k, v = it.split("=", 1)
        if not k.strip():
            raise BraindynError(f"--set {it!r} names no parameter. Fix: e.g. --set I=10.")
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
                from ._errors import BraindynError

                raise BraindynError(f"entry {entry.name!r} has no --{opt} (its parameters: "
                                    f"{', '.join(sorted(entry.defaults))})")
            overrides[opt] = v
    if args.quick:
        if "quick" in entry.defaults:
            overrides["quick"] = True
        elif not args.json:
            print(f"braindyn: entry {entry.name!r} has no quick mode (it is short already); running it as is.",
                  file=sys.stderr)
    try:
        report = gallery.run_entry(args.name, overrides, plot=args.plot)
    except Exception as err:  # the plot failed after the computation: show the figures, then the error
        if getattr(err, "report", None) is None:
            raise
        _show(args, entry, err.report)
        raise
    _show(args, entry, report)
    return 0


def _show(args, entry, report):
    figures = _jsonable(report.figures)
    if args.json:
        print(json.dumps(figures))
        if report.plot_path:
            print(f"braindyn: plot written to {report.plot_path}", file=sys.stderr)
    else:
        _print_figures(entry.name, figures)
        if report.plot_path:
            print(f"plot written to {report.plot_path}")


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


def _count(text):
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def _positive(text):
    """argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return v


def _debug(p):
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an unexpected error")


def build_parser():
    ap = argparse.ArgumentParser(prog="braindyn", description="Brain-dynamics programming on JAX.")
    ap.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="list the gallery of book models and analyses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_list)
    _debug(p)
    p = sub.add_parser("run", help="run a gallery entry on its book default")
    p.add_argument("name")
    p.add_argument("--duration", type=_positive, help="simulated time (ms)")
    p.add_argument("--dt", type=_positive, help="time step (ms)")
    p.add_argument("--method", help="integration method (e.g. exp_euler, rk4, euler)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter (repeatable)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="write the entry's figure (checked before the run; a folder: FILE is NAME.png inside it; "
                        "no extension: .png); the exact path written is printed")
    p.add_argument("--json", action="store_true", help="print one JSON object of the key figures")
    p.add_argument("--quick", action="store_true",
                   help="the entry's documented short mode (small network, short run) where it has one")
    p.set_defaults(func=_cmd_run)
    _debug(p)
    p = sub.add_parser("bench", help="build, compile and run a benchmark network (coba, cuba, cobahh), built from "
                                     "public blocks and timed through bd.simulate (or bd.run)")
    p.add_argument("name", help="coba, cuba or cobahh")
    p.add_argument("--n", type=_count, default=4000, help="number of neurons")
    p.add_argument("--duration", type=_positive, default=1000.0, help="simulated time (ms)")
    p.add_argument("--repeats", type=_count, default=3, help="timed runs after compilation")
    p.add_argument("--unroll", type=_count, default=1, help="steps per loop iteration of the compiled scan (>= 1)")
    p.add_argument("--storage", default="csr", help="connectivity: csr, procedural, csr-procedural, dense-procedural")
    p.add_argument("--via", default="simulate", choices=("simulate", "run"),
                   help="time jax.jit(bd.simulate) compiled ahead of time (default) or bd.run")
    p.add_argument("--devices", type=int, default=None,
                   help="shard the network over D devices (CPU devices are forced when the machine has fewer)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_bench)
    _debug(p)
    return ap


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _format_warning(message, category, filename, lineno, line=None):
    return f"braindyn: warning: {_one_line(message)} [{category.__name__}]\n"


def main(argv=None):
    """Entry point of the ``braindyn`` command; returns the exit status (never a raw traceback).

    Example
    -------
    >>> main(["run", "lif", "--set", "tau=-1"])
    2
    """
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from ._errors import BraindynError, SimulationDiverged

    old_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        return args.func(args)
    except BraindynError as err:
        print(f"braindyn: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except SimulationDiverged as err:
        print(f"braindyn: error: {_one_line(err)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("braindyn: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # never a raw traceback: a summary and a hint (--debug shows it)
        if args.debug:
            raise
        cmd = " ".join(str(x) for x in (args.cmd, getattr(args, "name", None)) if x)
        where = f" in 'braindyn {cmd}'" if cmd else ""
        msg = _one_line(err) or "(no message)"
        if len(msg) > 300:
            msg = msg[:297] + "..."
        print(f"braindyn: unexpected error{where}: {type(err).__name__}: {msg}\n"
              f"hint: this is likely a value braindyn does not check yet (try the entry's defaults, "
              f"'braindyn list' shows them) or a bug; rerun with --debug for the full traceback and "
              f"report it.", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = old_format


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
