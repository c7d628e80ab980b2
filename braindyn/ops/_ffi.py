"""Load and register the C++ CPU event kernel (XLA FFI); build it lazily only as a fallback.

The kernel (``braindyn/ops/csrc/event_csr.cc``) is compiled when braindyn is installed (see
:mod:`braindyn.ops.build`) into ``braindyn/ops/_kernel/libbraindyn_event_csr.so``, beside a
``.json`` record of the jaxlib it was built against and a ``.log`` of the compiler's output.
``$BRAINDYN_KERNEL_DIR`` names another directory to load it from.

On first use :func:`available` loads that prebuilt library if its record matches this process:
same jaxlib version (the FFI ABI), same machine, and the same kernel source (when the source is
present). Otherwise it falls back to a lazy build and says so (a ``RuntimeWarning`` and a log
line naming the library it could not use, the reason and the path it builds): the library is
compiled with the same flags into ``$BRAINDYN_CACHE`` (default ``~/.cache/braindyn``) under a
name hashing the source, compiler, flags, jax/jaxlib versions and machine, and later processes
reuse it (a log line at INFO level). ``python -m braindyn.ops.build`` (or reinstalling) replaces
the prebuilt library and ends the fallback.

If there is no compiler, no source (e.g. a stripped installation) or the build fails,
:func:`available` returns False, a warning is issued once and callers use the pure-JAX path.
:func:`info` tells which library is in use and why.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import threading
import warnings
from pathlib import Path

import jax

log = logging.getLogger("braindyn.ops")

TARGET = "braindyn_event_csr"
_SYMBOL = "BraindynEventCsr"
TARGET_PROCEDURAL = "braindyn_event_procedural"    # the same library, procedural connectivity
_SYMBOL_PROCEDURAL = "BraindynEventProcedural"

_lock = threading.Lock()
_state: dict = {"ok": None, "error": None, "path": None, "origin": None, "reason": None}


def _build_mod():
    # imported on use so that ``python -m braindyn.ops.build`` runs without a second copy
    from . import build
    return build


def kernel_dir() -> Path:
    """Directory of the prebuilt library: ``$BRAINDYN_KERNEL_DIR`` or ``braindyn/ops/_kernel``."""
    env = os.environ.get("BRAINDYN_KERNEL_DIR")
    return Path(env) if env else _build_mod().package_kernel_dir()


def cache_dir() -> Path:
    env = os.environ.get("BRAINDYN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "braindyn"


def check_prebuilt(directory: Path | None = None) -> tuple[Path | None, str]:
    """``(path, "")`` if the prebuilt library in ``directory`` fits this process, else
    ``(None, reason)``."""
    b = _build_mod()
    lib = Path(directory if directory is not None else kernel_dir()) / b.LIB_NAME
    if not lib.is_file():
        return None, f"no prebuilt library {lib}"
    rec = b.read_record(lib)
    if rec is None:
        return None, f"{lib} has no readable build record {b.info_path(lib).name}"
    import jaxlib
    if rec.get("jaxlib") != jaxlib.__version__:
        return None, (f"{lib} was built for jaxlib {rec.get('jaxlib')}, this is jaxlib "
                      f"{jaxlib.__version__}")
    if rec.get("machine") != platform.machine():
        return None, f"{lib} was built for {rec.get('machine')}, this is {platform.machine()}"
    src = b.source_path()
    if src.is_file() and rec.get("source_sha256") != b.source_digest(src):
        return None, f"{src} changed after {lib} was built"
    return lib, ""


def _cached_library_path(cxx: list[str]) -> Path:
    import jaxlib
    b = _build_mod()
    h = hashlib.sha256()
    for part in (b.source_path().read_bytes(), " ".join(cxx).encode(), " ".join(b.FLAGS).encode(),
                 jax.__version__.encode(), jaxlib.__version__.encode(),
                 platform.machine().encode()):
        h.update(part)
        h.update(b"\0")
    return cache_dir() / f"event_csr_{h.hexdigest()[:20]}.so"


def lazy_build(reason: str) -> Path:
    """The fallback: compile (unless cached) into :func:`cache_dir`, saying why. Raises on
    failure."""
    b = _build_mod()
    if not b.source_path().is_file():
        raise FileNotFoundError(f"kernel source {b.source_path()} not found (set BRAINDYN_CSRC)")
    lib = _cached_library_path(b.compiler())
    if lib.is_file():
        log.info("braindyn: using the lazily built event kernel %s (%s)", lib, reason)
        return lib
    msg = (f"braindyn: compiling the C++ event kernel now into {lib}, because {reason}. "
           "To build it once for this installation run `python -m braindyn.ops.build` "
           "(or reinstall braindyn).")
    log.warning(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=4)
    rec = b.compile_kernel(lib, origin="lazy")
    if rec["output"]:
        log.warning("braindyn: compiler output for %s:\n%s", lib, rec["output"])
    return lib


def available() -> bool:
    """True if the FFI CPU kernel is loaded and registered (loads, or builds, it on first call)."""
    if _state["ok"] is not None:
        return _state["ok"]
    with _lock:
        if _state["ok"] is not None:
            return _state["ok"]
        try:
            path, reason = check_prebuilt()
            origin = "prebuilt"
            if path is None:
                path, origin = lazy_build(reason), "lazy"
            lib = ctypes.cdll.LoadLibrary(str(path))
            jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(getattr(lib, _SYMBOL)),
                                        platform="cpu")
            jax.ffi.register_ffi_target(TARGET_PROCEDURAL, jax.ffi.pycapsule(getattr(lib, _SYMBOL_PROCEDURAL)),
                                        platform="cpu")
            _state.update(ok=True, path=path, lib=lib, origin=origin, reason=reason or None)
            log.info("braindyn: event kernel %s (%s)", path, origin)
        except Exception as e:  # noqa: BLE001 - any failure means: use pure JAX
            _state.update(ok=False, error=e)
            msg = (f"braindyn: the C++ event kernel is unavailable ({type(e).__name__}: "
                   f"{str(e).splitlines()[0] if str(e) else ''}); using the pure-JAX path. "
                   "Set BRAINDYN_EVENT_KERNEL=jax to silence this.")
            log.warning(msg)
            if os.environ.get("BRAINDYN_EVENT_KERNEL", "").lower() != "jax":
                warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return _state["ok"]


def info() -> dict:
    """Which kernel library is in use: ``available``, ``path``, ``origin`` (``"prebuilt"``: the
    installed library; ``"lazy"``: built or reused by the fallback), ``reason`` (why the
    prebuilt library was not used) and ``error`` (why none is available)."""
    ok = available()
    return {"available": ok, "path": str(_state["path"]) if _state["path"] else None,
            "origin": _state["origin"], "reason": _state["reason"],
            "error": None if _state["error"] is None else str(_state["error"])}
