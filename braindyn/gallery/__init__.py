"""The gallery: runnable book models and analyses behind ``braindyn run NAME``.

Each module in this package defines ``ENTRIES``, a list of :class:`Entry`. An entry is a
book default (its parameters), a ``compute`` function that returns the key figures (plain,
JSON-ready names such as ``spike_count``, ``spike_times``, ``rate_hz``, ``fixed_points``) and
the data to draw, and a ``plot`` function that draws that data. Entries are discovered by
module, so adding a model to the gallery never edits a shared file.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from .._errors import BraindynError, check_choice

__all__ = ["Entry", "Report", "entries", "get", "run_entry"]


@dataclass
class Report:
    """What an entry computes: ``figures`` (JSON-ready key numbers) and ``data`` (for its plot)."""

    figures: dict
    data: Any = None


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
    """

    name: str
    summary: str
    defaults: dict
    compute: Callable[[dict], Report]
    plot: Callable[[Report, dict], Any]
    choices: dict = field(default_factory=dict)

    def params(self, overrides: dict | None = None) -> dict:
        """Defaults updated with ``overrides`` (values are converted to the defaults' types)."""
        p = dict(self.defaults)
        for k, v in (overrides or {}).items():
            if k not in p:
                raise BraindynError(
                    f"gallery entry {self.name!r} has no parameter {k!r}. "
                    f"Its parameters: {', '.join(sorted(p))}."
                )
            p[k] = _convert(k, v, p[k])
            if k in self.choices:
                check_choice(k, p[k], self.choices[k], self.name)
        return p


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
            try:
                return float(value)
            except ValueError:
                return value
    except ValueError:
        raise BraindynError(
            f"cannot read {name}={value!r}: expected a {type(default).__name__} like {default!r}."
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


def run_entry(name: str, overrides: dict | None = None, plot: str | None = None) -> Report:
    """Run a gallery entry with its defaults updated by ``overrides``; optionally save its plot."""
    e = get(name)
    params = e.params(overrides)
    report = e.compute(params)
    if plot:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = e.plot(report, params)
        fig.savefig(plot, dpi=120, bbox_inches="tight")
        plt.close(fig)
    return report
