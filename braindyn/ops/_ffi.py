"""Lazy build, cache and registration of the C++ CPU event kernel (XLA FFI).

The source ``braindyn/ops/csrc/event_csr.cc`` (shipped as package data) is compiled on first use with
``$CXX`` (default ``g++``) ``-O3 -fPIC -shared -std=c++17`` against
``jax.ffi.include_dir()`` into ``$BRAINDYN_CACHE`` (default
``~/.cache/braindyn``). The file name carries a hash of the source, the
compiler flags and the jax/jaxlib versions, so a changed source or a new jax
gets a fresh build. Concurrent processes never see a half-written library:
each compiles into a private temporary file and ``os.replace`` publishes it
atomically (two racing builds of the same source produce the same file).

If there is no compiler, no source (e.g. a stripped installation) or
the build fails, :func:`available` returns False, a warning is issued once and
callers use the pure-JAX path.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import jax

log = logging.getLogger("braindyn.ops")

TARGET = "braindyn_event_csr"
_SYMBOL = "BraindynEventCsr"
FLAGS = ("-O3", "-fPIC", "-shared", "-std=c++17", "-w")

_lock = threading.Lock()
_state: dict = {"ok": None, "error": None, "path": None}


def source_path() -> Path:
    env = os.environ.get("BRAINDYN_CSRC")
    base = Path(env) if env else Path(__file__).resolve().parent / "csrc"
    return base / "event_csr.cc"


def cache_dir() -> Path:
    env = os.environ.get("BRAINDYN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "braindyn"


def _library_path(src: bytes, cxx: str) -> Path:
    import jaxlib
    h = hashlib.sha256()
    for part in (src, cxx.encode(), " ".join(FLAGS).encode(), jax.__version__.encode(),
                 jaxlib.__version__.encode(), platform.machine().encode()):
        h.update(part)
        h.update(b"\0")
    return cache_dir() / f"event_csr_{h.hexdigest()[:20]}.so"


def build() -> Path:
    """Compile (if not cached) and return the shared library path. Raises on failure."""
    src_path = source_path()
    if not src_path.is_file():
        raise FileNotFoundError(f"kernel source {src_path} not found (set BRAINDYN_CSRC)")
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise FileNotFoundError(f"C++ compiler {cxx!r} not found (set CXX)")
    src = src_path.read_bytes()
    lib = _library_path(src, cxx)
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".build_", suffix=".so", dir=lib.parent)
    os.close(fd)
    try:
        cmd = [cxx, *FLAGS, "-I", jax.ffi.include_dir(), str(src_path), "-o", tmp]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-4000:]}")
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("built braindyn event kernel %s", lib)
    return lib


def available() -> bool:
    """True if the FFI CPU kernel is built and registered (builds it on first call)."""
    if _state["ok"] is not None:
        return _state["ok"]
    with _lock:
        if _state["ok"] is not None:
            return _state["ok"]
        try:
            path = build()
            lib = ctypes.cdll.LoadLibrary(str(path))
            jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(getattr(lib, _SYMBOL)),
                                        platform="cpu")
            _state.update(ok=True, path=path, lib=lib)
        except Exception as e:  # noqa: BLE001 - any failure means: use pure JAX
            _state.update(ok=False, error=e)
            msg = (f"braindyn: the C++ event kernel is unavailable ({type(e).__name__}: "
                   f"{str(e).splitlines()[0] if str(e) else ''}); using the pure-JAX path. "
                   "Set BRAINDYN_EVENT_KERNEL=jax to silence this.")
            log.warning(msg)
            if os.environ.get("BRAINDYN_EVENT_KERNEL", "").lower() != "jax":
                warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return _state["ok"]
