"""Install-time build of braindyn's C++ event kernel; all metadata lives in pyproject.toml.

``build`` gets one more sub-command, ``build_kernel``, which compiles
``braindyn/ops/csrc/event_csr.cc`` with :func:`braindyn.ops.build.compile_kernel` against the
FFI headers of the jax/jaxlib in the build environment (``[build-system] requires``) into
``braindyn/ops/_kernel/``: inside the wheel for ``pip install .``, in the source tree for
``pip install -e .`` (PEP 660 editable installs run build sub-commands with
``editable_mode = True``). It prints the compiler's output (``pip install -v`` shows it; the
``.log`` beside the library keeps it). Without a compiler, or if the build fails, the install
still succeeds with a message: braindyn then tries a lazy build at run time and otherwise uses
its pure-JAX path.
"""
import importlib.util
import sys
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
PACKAGE = "braindyn.ops"


def _kernel_build():
    """``braindyn/ops/build.py`` loaded by path (braindyn's dependencies are not installed)."""
    name = "_braindyn_kernel_build"
    spec = importlib.util.spec_from_file_location(name, HERE / "braindyn" / "ops" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class build_kernel(Command):
    description = "compile the C++ event kernel against the FFI headers of the installed jaxlib"
    user_options = []
    editable_mode = False

    def initialize_options(self):
        self.build_lib = None
        self.editable_mode = False

    def finalize_options(self):
        self.set_undefined_options("build_ext", ("build_lib", "build_lib"))

    def _names(self):
        kb = _kernel_build()
        lib = Path(kb.LIB_NAME)
        return kb.KERNEL_SUBDIR, [lib.name, lib.with_suffix(".json").name,
                                  lib.with_suffix(".log").name]

    def _dirs(self):
        sub, names = self._names()
        built = Path(self.build_lib, *PACKAGE.split("."), sub)
        in_place = Path(self.get_finalized_command("build_py").get_package_dir(PACKAGE), sub)
        return built, in_place, names

    def run(self):
        kb = _kernel_build()
        built, in_place, _ = self._dirs()
        lib = (in_place if self.editable_mode else built) / kb.LIB_NAME
        origin = "editable install" if self.editable_mode else "install"
        for name in self._names()[1]:   # nothing from an earlier build may pass for this one
            (lib.parent / name).unlink(missing_ok=True)
        print(f"braindyn: compiling the C++ event kernel into {lib}", flush=True)
        try:
            rec = kb.compile_kernel(lib, origin=origin)
        except Exception as e:  # noqa: BLE001 - the kernel is optional: never fail the install
            print(f"braindyn: WARNING: the C++ event kernel was not built: {e}. braindyn will "
                  "try to build it on first use and otherwise use its pure-JAX path "
                  "(`python -m braindyn.ops.build` retries).", file=sys.stderr, flush=True)
            return
        kb.report(rec, sys.stderr)

    def get_source_files(self):
        return [f"braindyn/ops/csrc/{_kernel_build().SOURCE_NAME}"]

    def get_outputs(self):
        built, _, names = self._dirs()
        return [str(built / n) for n in names]

    def get_output_mapping(self):
        if not self.editable_mode:
            return {}
        built, in_place, names = self._dirs()
        return {str(built / n): str(in_place / n) for n in names}


class build_with_kernel(build):
    sub_commands = build.sub_commands + [("build_kernel", None)]


class BinaryDistribution(Distribution):
    """The wheel holds a compiled library: tag it for this platform, not ``py3-none-any``."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build": build_with_kernel, "build_kernel": build_kernel},
      distclass=BinaryDistribution)
