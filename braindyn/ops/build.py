"""Compile the C++ CPU event kernel (``csrc/event_csr.cc``, XLA FFI) into a shared library.

The kernel is compiled when braindyn is installed (``pip install .`` or ``pip install -e .``:
``setup.py`` runs :func:`compile_kernel` in pip's build environment, which has ``jax`` and
``jaxlib`` as build requirements) into ``braindyn/ops/_kernel/``:

``libbraindyn_event_csr.so``
    the library, loaded at run time by :mod:`braindyn.ops._ffi`;
``libbraindyn_event_csr.json``
    how it was built: the jax/jaxlib versions whose FFI headers it was compiled against,
    the source's SHA-256, the compiler, its flags and the number of warnings;
``libbraindyn_event_csr.log``
    the compiler command and everything it printed (warnings included).

pip shows a build's output only with ``-v`` (``pip install -v -e .``); otherwise read the log
or rebuild verbosely with::

    python -m braindyn.ops.build            # into braindyn/ops/_kernel/, prints the compiler output
    python -m braindyn.ops.build --out DIR  # somewhere else (then set BRAINDYN_KERNEL_DIR=DIR)

Flags: ``-O3 -fPIC -shared -std=c++17 -Wall -Wextra``; the FFI headers are included with
``-isystem`` so that the warnings shown are those of braindyn's own code. The compiler is
``$CXX``, else the first of ``c++``, ``g++``, ``clang++`` on the ``PATH``.

This module imports only the standard library at import time (``setup.py`` loads it by its
path, before braindyn's dependencies exist); jax is imported when a build starts.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LIB_NAME = "libbraindyn_event_csr.so"
KERNEL_SUBDIR = "_kernel"     # not a Python package: module discovery never sees the library
SOURCE_NAME = "event_csr.cc"
FLAGS = ("-O3", "-fPIC", "-shared", "-std=c++17", "-Wall", "-Wextra")
SYMBOL = "BraindynEventCsr"


class BuildError(RuntimeError):
    """The kernel could not be compiled (no compiler, no jax, no source, compiler error)."""


def package_kernel_dir() -> Path:
    """Where an installation keeps its prebuilt library: ``braindyn/ops/_kernel``."""
    return Path(__file__).resolve().parent / KERNEL_SUBDIR


def source_path() -> Path:
    """The kernel source (``$BRAINDYN_CSRC/event_csr.cc`` if set)."""
    env = os.environ.get("BRAINDYN_CSRC")
    base = Path(env) if env else Path(__file__).resolve().parent / "csrc"
    return base / SOURCE_NAME


def info_path(lib: Path) -> Path:
    return Path(lib).with_suffix(".json")


def log_path(lib: Path) -> Path:
    return Path(lib).with_suffix(".log")


def source_digest(path: Path | None = None) -> str:
    return hashlib.sha256(Path(path or source_path()).read_bytes()).hexdigest()


def compiler() -> list[str]:
    """The C++ compiler command (``$CXX`` may hold a command with arguments)."""
    env = os.environ.get("CXX", "").strip()
    if env:
        cmd = shlex.split(env)
        if shutil.which(cmd[0]) is None:
            raise BuildError(f"C++ compiler CXX={env!r} not found on the PATH")
        return cmd
    for name in ("c++", "g++", "clang++"):
        if shutil.which(name):
            return [name]
    raise BuildError("no C++ compiler found (looked for $CXX, c++, g++, clang++). Install one "
                     "(e.g. apt install g++) or set CXX")


def toolchain() -> dict:
    """Versions and FFI header directory of the jax/jaxlib this process would build against."""
    try:
        import jax
        import jaxlib
        include = jax.ffi.include_dir()
    except Exception as e:  # noqa: BLE001 - ImportError, or a jax without jax.ffi
        raise BuildError(f"cannot locate the XLA FFI headers: jax.ffi.include_dir() failed "
                         f"({type(e).__name__}: {e}); jax/jaxlib >= 0.5 is needed") from e
    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "include_dir": str(include)}


def _first_line(cmd: list[str]) -> str:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (res.stdout or res.stderr).strip().splitlines()[0]
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


def _publish(data: bytes | str, dest: Path) -> None:
    """Write ``dest`` atomically (a private temporary file, then ``os.replace``), readable by
    all (an installation is shared)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_kernel(lib: Path, *, origin: str, cxx: list[str] | None = None) -> dict:
    """Compile the kernel into ``lib``; write its ``.json`` build record and ``.log`` beside it.

    ``origin`` says who built it (``"install"``, ``"editable install"``, ``"command"``,
    ``"lazy"``) and is kept in the record. Returns the record, whose ``"output"`` is the
    compiler's stdout + stderr (empty when there were no warnings). Raises :class:`BuildError`
    with a one-line reason when it cannot build (the log then holds the compiler's output).
    Concurrent builds never expose a half-written file: each compiles into a private temporary
    file and ``os.replace`` publishes it.
    """
    lib = Path(lib)
    src = source_path()
    if not src.is_file():
        raise BuildError(f"kernel source {src} not found (set BRAINDYN_CSRC to its directory)")
    cxx = list(cxx) if cxx else compiler()
    tc = toolchain()
    lib.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{lib.stem}.", suffix=".so", dir=lib.parent)
    os.close(fd)
    cmd = [*cxx, *FLAGS, "-isystem", tc["include_dir"], str(src), "-o", tmp]
    try:
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BuildError(f"running {cxx[0]} failed: {e}") from e
        output = (res.stdout + res.stderr).strip()
        log = (f"$ {shlex.join(cmd[:-1])} {shlex.quote(str(lib))}\n"
               f"{output}\nexit status {res.returncode}\n")
        _publish(log, log_path(lib))
        if res.returncode != 0:
            first = next((ln for ln in output.splitlines() if "error" in ln), "see the log")
            raise BuildError(f"{cxx[0]} failed (exit status {res.returncode}): {first.strip()} "
                             f"(full output: {log_path(lib)})")
        os.chmod(tmp, 0o755)
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    record = {
        "library": lib.name,
        "source_sha256": source_digest(src),
        "jax": tc["jax"],
        "jaxlib": tc["jaxlib"],
        "machine": platform.machine(),
        "system": platform.system(),
        "compiler": shlex.join(cxx),
        "compiler_version": _first_line([*cxx, "--version"]),
        "flags": list(FLAGS),
        "warnings": sum("warning:" in ln for ln in output.splitlines()),
        "origin": origin,
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    _publish(json.dumps(record, indent=1) + "\n", info_path(lib))
    return {**record, "output": output, "path": str(lib)}


def read_record(lib: Path) -> dict | None:
    """The ``.json`` build record beside ``lib``, or None if missing or unreadable."""
    try:
        rec = json.loads(info_path(lib).read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def report(rec: dict, out=None) -> None:
    """Print a build's outcome and the compiler's output (its warnings) to ``out``."""
    out = out or sys.stderr
    print(f"braindyn: built the C++ event kernel {rec['path']} ({rec['compiler_version']}, "
          f"FFI headers of jaxlib {rec['jaxlib']}); compiler warnings: {rec['warnings']}",
          file=out)
    if rec["output"]:
        print(rec["output"], file=out)
    print(f"braindyn: compiler log: {log_path(Path(rec['path']))}", file=out, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m braindyn.ops.build",
        description="(Re)build braindyn's C++ event kernel against the installed jax/jaxlib and "
                    "print the compiler's output.")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"directory for {LIB_NAME} (default: {package_kernel_dir()}); braindyn "
                         "loads it from there, or from $BRAINDYN_KERNEL_DIR")
    a = ap.parse_args(argv)
    lib = (a.out or package_kernel_dir()) / LIB_NAME
    try:
        rec = compile_kernel(lib, origin="command")
    except (BuildError, OSError) as e:
        hint = "" if isinstance(e, BuildError) else (
            " (a read-only installation? build elsewhere with --out DIR and set "
            "BRAINDYN_KERNEL_DIR=DIR)")
        print(f"braindyn: could not build the C++ event kernel: {e}{hint}", file=sys.stderr)
        return 1
    report(rec, sys.stdout)
    import ctypes
    getattr(ctypes.cdll.LoadLibrary(str(lib)), SYMBOL)   # loads and exports the FFI handler
    return 0


if __name__ == "__main__":
    sys.exit(main())
