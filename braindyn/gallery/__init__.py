"""The gallery: runnable book models and analyses behind ``braindyn run NAME``.

Each module in this package defines ``ENTRIES``, a list of :class:`Entry`. An entry is a
book default (its parameters), a ``compute`` function that returns the key figures (plain,
JSON-ready names such as ``spike_count``, ``spike_times``, ``rate_hz``, ``fixed_points``) and
the data to draw, and a ``plot`` function that draws that data. Entries are discovered by
module, so adding a model to the gallery never edits a shared file.

Parameter values are checked before anything is computed (:meth:`Entry.params`): every number
must be finite, and each parameter has a *bound*, declared by the entry (``Entry.bounds``) or
otherwise inferred from its name and default by the conventions of :data:`NAME_BOUNDS`
(``duration``, ``dt`` and every ``tau*`` > 0; counts (integer defaults) >= 1; ``seed`` >= 0;
``p``, ``flip``, ``U`` in [0, 1]; times ``t_*`` >= 0; ``X_min < X_max``; ``dt <= duration``).
A bad value is a :class:`~braindyn.BraindynError` naming the entry, the parameter, the value
and the fix.
"""
from __future__ import annotations

import importlib
import math
import numbers
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from .._errors import BraindynError, check_choice

__all__ = ["Entry", "Report", "entries", "get", "run_entry", "resolve_plot_path", "NAME_BOUNDS", "check_bound"]


@dataclass
class Report:
    """What an entry computes: ``figures`` (JSON-ready key numbers) and ``data`` (for its plot).

    ``plot_path`` is the exact file the figure was written to (set by :func:`run_entry`).
    """

    figures: dict
    data: Any = None
    plot_path: Any = None


#: Bounds of gallery parameters by name, used where an entry declares none (first match wins).
#: A key ending in ``*`` is a prefix. Bounds: ``"positive"``, ``"nonnegative"``,
#: ``"probability"``, ``"finite"``, ``"count"`` (an integer >= 1), ``"index"`` (an integer >= 0),
#: or None (not checked beyond its type).
NAME_BOUNDS = {
    "seed": "index", "probe": "index", "indices": "index",
    "duration": "positive", "dt": "positive", "window": "positive", "step": "positive", "bin": "positive",
    "record_ms": "positive", "rate_hz": "positive", "rate": "positive", "rate_*": "positive",
    "delta_T": "positive", "alphas": "positive",
    "tau_rise": "nonnegative", "tau_decay": "nonnegative", "tau*": "positive",
    "transient": "nonnegative", "t_*": "nonnegative", "spike_times": "nonnegative", "times": "nonnegative",
    "noise": "nonnegative", "sigma": "nonnegative", "D": "nonnegative", "nu_ext": "nonnegative",
    "g_*": "nonnegative", "gL": "nonnegative", "k": "nonnegative",
    "p": "probability", "p_max": "probability", "flip": "probability", "U": "probability",
    "epsilon": "probability",
}

_BOUND_TEXT = {"positive": "> 0", "nonnegative": ">= 0", "probability": "in [0, 1]", "finite": "finite",
               "count": "an integer >= 1", "index": "an integer >= 0"}


def _bound_for(name, default, declared):
    if name in declared:
        return declared[name]
    for key, b in NAME_BOUNDS.items():
        if key == name or (key.endswith("*") and name.startswith(key[:-1])):
            return b
    if isinstance(default, bool):
        return None
    if isinstance(default, int):
        return "count"
    return "finite"


def check_bound(entry_name, name, value, bound, default=None):
    """Check one gallery parameter value (a number or a list of numbers) against ``bound``."""
    eg = default if default is not None and not isinstance(default, (list, tuple)) else None
    eg = f" (the default is {eg})" if eg is not None else ""
    if value is None or isinstance(value, (bool, str)) or bound is None:
        return
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise BraindynError(f"gallery entry {entry_name!r}: {name}={value!r} must be numeric. Fix: e.g. "
                                f"--set {name}=1.")
        where = f"{name}={value!r}" if len(values) == 1 else f"{name} (entry {v!r})"
        if not math.isfinite(v):
            raise BraindynError(f"gallery entry {entry_name!r}: {where} must be finite. Fix: pass a finite number.")
        if isinstance(bound, tuple):
            lo, hi = bound
            ok = (lo is None or v >= lo) and (hi is None or v <= hi)
            rule = f"in [{lo}, {hi}]"
        else:
            rule = _BOUND_TEXT[bound]
            ok = {"positive": v > 0, "nonnegative": v >= 0, "probability": 0 <= v <= 1, "finite": True,
                  "count": float(v).is_integer() and v >= 1, "index": float(v).is_integer() and v >= 0}[bound]
        if not ok:
            raise BraindynError(f"gallery entry {entry_name!r}: {where} must be {rule}. Fix: pass "
                                f"{'a value ' + rule if rule[0] in '<>i' and not rule.startswith('an') else rule}"
                                f"{eg}.")


@dataclass(frozen=True)
class Entry:
    """A gallery entry.

    Attributes
    ----------
    name : str
        CLI name (``braindyn run NAME``).
    summary : str
        One line for ``braindyn list``.
    defaults : dict
        Every parameter with its book default (``duration``, ``dt``, ``method`` where they apply).
    compute : callable
        ``compute(params) -> Report``.
    plot : callable
        ``plot(report, params) -> matplotlib.figure.Figure``.
    choices : dict
        Allowed values of string parameters (e.g. ``{"pattern": [...]}``).
    bounds : dict
        Bounds of numeric parameters that the name conventions of :data:`NAME_BOUNDS` do not
        give (``{"I": "finite", "window": (0, 500)}``; None: unchecked).
    """

    name: str
    summary: str
    defaults: dict
    compute: Callable[[dict], Report]
    plot: Callable[[Report, dict], Any]
    choices: dict = field(default_factory=dict)
    bounds: dict = field(default_factory=dict)

    def bound(self, name):
        """The bound checked for parameter ``name`` (declared, else by name, else by type)."""
        return _bound_for(name, self.defaults.get(name), self.bounds)

    def params(self, overrides: dict | None = None) -> dict:
        """Defaults updated with ``overrides`` (values converted to the defaults' types and checked).

        Raises :class:`~braindyn.BraindynError` for an unknown name, an unreadable value, a
        value outside its choices or its bound, ``dt > duration`` or ``X_min >= X_max``.
        """
        p = dict(self.defaults)
        for k, v in (overrides or {}).items():
            if not isinstance(k, str) or k not in p:
                import difflib

                close = difflib.get_close_matches(str(k), list(p), n=3)
                hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise BraindynError(
                    f"gallery entry {self.name!r} has no parameter {k!r}.{hint} "
                    f"Its parameters: {', '.join(sorted(p))}."
                )
            p[k] = _convert(k, v, p[k])
            if k in self.choices:
                check_choice(k, p[k], self.choices[k], self.name)
        for k in (overrides or {}):
            if self.defaults[k] is None and isinstance(p[k], str) and k not in self.choices and k != "method":
                raise BraindynError(f"cannot read {k}={p[k]!r} for gallery entry {self.name!r}: expected a number "
                                    f"(or 'none' for the entry's automatic value). Fix: e.g. --set {k}=1.0.")
            check_bound(self.name, k, p[k], self.bound(k), self.defaults[k])
        self._check_pairs(p)
        return p

    def _check_pairs(self, p):
        num = lambda x: isinstance(x, numbers.Real) and not isinstance(x, bool)  # noqa: E731
        if num(p.get("dt")) and num(p.get("duration")) and p["dt"] > p["duration"]:
            raise BraindynError(f"gallery entry {self.name!r}: dt={p['dt']} ms is longer than duration="
                                f"{p['duration']} ms. Fix: a smaller dt or a longer duration.")
        if num(p.get("transient")) and num(p.get("duration")) and p["transient"] >= p["duration"]:
            raise BraindynError(f"gallery entry {self.name!r}: transient={p['transient']} ms must be shorter than "
                                f"duration={p['duration']} ms. Fix: a longer duration or a shorter transient.")
        for k in p:
            if k.endswith("_min") and (k[:-4] + "_max") in p:
                hi = k[:-4] + "_max"
                if num(p[k]) and num(p[hi]) and not p[k] < p[hi]:
                    raise BraindynError(f"gallery entry {self.name!r}: {k}={p[k]} must be below {hi}={p[hi]}. "
                                        f"Fix: swap them or widen the range.")


def _convert(name, value, default):
    if not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            low = value.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (list, tuple)):
            return [_convert(name, v, default[0] if default else 0.0) for v in value.split(",")]
        if default is None:
            if value.lower() in ("none", "auto", "default"):
                return None
            try:
                return float(value)
            except ValueError:
                if name in NAME_BOUNDS or any(k.endswith("*") and name.startswith(k[:-1]) for k in NAME_BOUNDS):
                    raise
                return value
    except ValueError:
        what = "a number" if default is None else f"a {type(default).__name__} like {default!r}"
        raise BraindynError(
            f"cannot read {name}={value!r}: expected {what}. Fix: e.g. --set {name}="
            f"{default if default is not None else 1.0}."
        ) from None
    return value


_CACHE: dict | None = None


def entries() -> dict:
    """All gallery entries, ``{name: Entry}``, discovered from the modules of this package."""
    global _CACHE
    if _CACHE is None:
        found = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            mod = importlib.import_module(f"{__name__}.{info.name}")
            for e in getattr(mod, "ENTRIES", []):
                if e.name in found:
                    raise RuntimeError(f"gallery entry {e.name!r} defined twice")
                found[e.name] = e
        _CACHE = dict(sorted(found.items()))
    return _CACHE


def get(name: str) -> Entry:
    """The entry called ``name`` (clear error with close matches otherwise)."""
    all_ = entries()
    check_choice("gallery entry", name, list(all_))
    return all_[name]


def resolve_plot_path(path, name: str = "figure") -> str:
    """The exact file a figure will be written to, checked before anything is computed.

    * an existing directory: ``<dir>/<name>.png`` inside it;
    * a name without an extension: ``.png`` is appended (as matplotlib does);
    * otherwise the extension must be a format matplotlib writes (png, pdf, svg, ...), the
      folder must exist and be writable, and the path must not be a directory.

    Raises :class:`~braindyn.BraindynError` with the fix otherwise.

    Example
    -------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> resolve_plot_path(d, "lif") == os.path.join(d, "lif.png")
    True
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise BraindynError(f"plot path {path!r} is not a file name. Fix: e.g. --plot out.png.")
    path = os.path.expanduser(os.fspath(path))
    if os.path.isdir(path):
        path = os.path.join(path, f"{name}.png")
    root, ext = os.path.splitext(path)
    if not ext:
        path, ext = path + ".png", ".png"
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if ext[1:].lower() not in formats:
        raise BraindynError(f"cannot write a figure as {ext!r} ({path}): matplotlib writes "
                            f"{', '.join('.' + f for f in sorted(formats))}. Fix: e.g. --plot {root}.png.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise BraindynError(f"cannot write the figure to {path}: the folder {folder} does not exist. "
                            f"Fix: create it first (mkdir -p {folder}) or choose another path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BraindynError(f"cannot write the figure to {path}: the folder {folder} is not writable. "
                            f"Fix: choose a folder you can write to.")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise BraindynError(f"cannot write the figure to {path}: the file exists and is read-only. "
                            f"Fix: choose another name or make it writable.")
    return path


def run_entry(name: str, overrides: dict | None = None, plot: str | None = None) -> Report:
    """Run a gallery entry with its defaults updated by ``overrides``; optionally save its plot.

    The parameters and the plot path (see :func:`resolve_plot_path`) are checked before the
    computation; ``report.plot_path`` is the exact file written. If writing the figure fails
    anyway, the :class:`~braindyn.BraindynError` carries the computed report as ``err.report``.
    """
    e = get(name)
    params = e.params(overrides)
    path = resolve_plot_path(plot, e.name) if plot is not None else None
    report = e.compute(params)
    if path:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = e.plot(report, params)
        try:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        except OSError as err:
            exc = BraindynError(f"the figures were computed but the plot could not be written to {path}: {err}. "
                                f"Fix: check the disk space and permissions, or choose another path.")
            exc.report = report
            raise exc from None
        finally:
            plt.close(fig)
        report.plot_path = path
    return report
