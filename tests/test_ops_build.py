"""The C++ event kernel is built at install time and loaded from the package; a lazy build is
only a fallback that says what it does; every library gives the pure-JAX results."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import jax
import jaxlib
import numpy as np
import pytest

import braindyn.connect as bc
from braindyn.ops import _ffi, build, event_matvec

FT = jax.numpy.result_type(float)
TOL = dict(rtol=1e-5, atol=1e-4) if FT == jax.numpy.float32 else dict(rtol=1e-10, atol=1e-10)


def test_the_installed_library_is_loaded_without_building():
    info = _ffi.info()
    assert info["available"], info["error"]
    assert info["origin"] == "prebuilt", (
        f"the kernel was built lazily ({info['reason']}): the installation did not build it; "
        "reinstall (pip install -e .) or run python -m braindyn.ops.build")
    lib = _ffi.kernel_dir() / build.LIB_NAME
    assert info["path"] == str(lib)
    rec = build.read_record(lib)
    assert rec["jaxlib"] == jaxlib.__version__
    assert rec["origin"] in ("install", "editable install", "command")
    assert rec["flags"] == list(build.FLAGS) and "-Wall" in rec["flags"]
    assert build.log_path(lib).is_file()   # the compiler's output, warnings included
    conn = bc.fixed_prob(60, 50, 0.2, seed=1)
    w = np.random.default_rng(1).normal(size=conn.nnz).astype(FT)
    s = np.random.default_rng(2).random(60) < 0.3
    np.testing.assert_allclose(event_matvec(conn, s, w, method="ffi"),
                               event_matvec(conn, s, w, method="jax"), **TOL)


def test_why_a_prebuilt_library_is_not_used(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    path, reason = _ffi.check_prebuilt(empty)
    assert path is None and reason == f"no prebuilt library {empty / build.LIB_NAME}"

    good = _ffi.kernel_dir() / build.LIB_NAME
    rec = build.read_record(good)
    d = tmp_path / "k"
    d.mkdir()
    lib = d / build.LIB_NAME
    shutil.copy(good, lib)
    assert _ffi.check_prebuilt(d) == (None, f"{lib} has no readable build record "
                                            f"{build.LIB_NAME[:-3]}.json")
    build.info_path(lib).write_text(json.dumps(rec))
    assert _ffi.check_prebuilt(d) == (lib, "")
    build.info_path(lib).write_text(json.dumps({**rec, "jaxlib": "0.0.1"}))
    assert _ffi.check_prebuilt(d)[1] == (f"{lib} was built for jaxlib 0.0.1, this is jaxlib "
                                         f"{jaxlib.__version__}")
    build.info_path(lib).write_text(json.dumps({**rec, "source_sha256": "0" * 64}))
    assert _ffi.check_prebuilt(d)[1] == f"{build.source_path()} changed after {lib} was built"


_PROBE = textwrap.dedent("""
    import json, warnings
    import numpy as np
    import braindyn.connect as bc
    from braindyn.ops import _ffi, event_matvec
    conn = bc.fixed_prob(80, 70, 0.15, seed=5)
    w = np.random.default_rng(0).normal(size=conn.nnz).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = _ffi.available()
    res = {"info": _ffi.info(), "warnings": [str(c.message) for c in caught], "same": []}
    for seed in range(3):
        s = np.random.default_rng(seed).random(80) < 0.3
        a = event_matvec(conn, s, w, method="ffi")
        b = event_matvec(conn, s, w, method="jax")
        res["same"].append(bool(np.allclose(a, b, rtol=1e-5, atol=1e-5)))
    print(json.dumps(res))
""")


def _probe(env):
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         timeout=600, env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_without_a_prebuilt_library_the_lazy_build_says_what_it_does(tmp_path):
    empty, cache = tmp_path / "no-kernel", tmp_path / "cache"
    empty.mkdir()
    env = {"BRAINDYN_KERNEL_DIR": str(empty), "BRAINDYN_CACHE": str(cache)}
    res, stderr = _probe(env)
    info = res["info"]
    assert info["available"] and info["origin"] == "lazy"
    assert info["reason"] == f"no prebuilt library {empty / build.LIB_NAME}"
    lib = info["path"]
    assert lib.startswith(str(cache)) and os.path.isfile(lib)
    [msg] = res["warnings"]
    assert msg.startswith(f"braindyn: compiling the C++ event kernel now into {lib}, because "
                          f"no prebuilt library {empty / build.LIB_NAME}.")
    assert "python -m braindyn.ops.build" in msg
    assert build.read_record(lib)["origin"] == "lazy"
    assert build.log_path(lib).is_file()
    assert all(res["same"])
    # the next process reuses the lazy build quietly
    res2, _ = _probe(env)
    assert res2["info"]["path"] == lib and res2["info"]["origin"] == "lazy"
    assert res2["warnings"] == [] and all(res2["same"])


def test_build_command_rebuilds_verbosely(tmp_path):
    out = subprocess.run([sys.executable, "-m", "braindyn.ops.build", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lib = tmp_path / build.LIB_NAME
    assert f"built the C++ event kernel {lib}" in out.stdout
    assert "compiler warnings:" in out.stdout
    assert f"compiler log: {build.log_path(lib)}" in out.stdout
    log = build.log_path(lib).read_text()
    assert log.startswith("$ ") and "-Wall" in log and log.endswith("exit status 0\n")
    rec = build.read_record(lib)
    assert rec["origin"] == "command" and rec["jaxlib"] == jaxlib.__version__
    assert _ffi.check_prebuilt(tmp_path) == (lib, "")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary left


def test_a_failed_build_is_reported_with_its_log(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / build.SOURCE_NAME).write_text("#include <no_such_header_braindyn.h>\n")
    monkeypatch.setenv("BRAINDYN_CSRC", str(src))
    lib = tmp_path / "out" / build.LIB_NAME
    with pytest.raises(build.BuildError, match="failed .exit status") as e:
        build.compile_kernel(lib, origin="command")
    assert str(build.log_path(lib)) in str(e.value)
    assert "no_such_header_braindyn.h" in build.log_path(lib).read_text()
    assert not lib.exists() and not build.info_path(lib).exists()
    monkeypatch.setenv("CXX", "no-such-compiler-braindyn")
    with pytest.raises(build.BuildError, match="not found"):
        build.compile_kernel(lib, origin="command")
