r"""Neuron morphology: unbranched sections joined into a tree, and their compartments.

A :class:`Section` is a cylinder (length :math:`L` and diameter :math:`d` in µm) cut into
``nseg`` equal compartments; it hangs on the point ``parent_x`` (0 = start, 1 = end) of its
parent section. :class:`Morphology` numbers the compartments of all sections in tree order
(parents before children, each section from its proximal to its distal end) and gives, for
each compartment :math:`i`, its membrane area :math:`A_i = \pi d\, L/n_{seg}` and the axial
resistance to its parent compartment

.. math::
    R_i = R_a\,\frac{4\,(\ell_i + \ell_{p(i)})}{\pi d^2},

with :math:`\ell` the half-lengths of the two compartments (the cable between their centres;
:math:`\ell_{p}` is left out when the child hangs on an interior point of its parent, where it
meets the parent's centre, as in NEURON). Children hanging on the *end* of a parent meet the
centre of the parent's end compartment directly (NEURON puts a zero-area node at the end; the
two agree for one child and converge together with the mesh for several).

:func:`load_swc` reads the standard SWC format (``id type x y z radius parent``, µm).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .._errors import BraindynError

__all__ = ["Section", "Morphology", "load_swc"]


@dataclass(frozen=True)
class Section:
    """One unbranched cable.

    Parameters
    ----------
    name : str
        Unique name (used to place channels and locations).
    length : float
        Length :math:`L` (µm, > 0).
    diam : float
        Diameter :math:`d` (µm, > 0).
    parent : str or None
        Name of the parent section (None for the root).
    parent_x : float
        Where on the parent it hangs, 0 (start) to 1 (end). Default 1.
    nseg : int
        Number of compartments (>= 1).

    Example
    -------
    >>> Section("dend", 200.0, 2.0, parent="soma", nseg=20).nseg
    20
    """

    name: str
    length: float
    diam: float
    parent: Optional[str] = None
    parent_x: float = 1.0
    nseg: int = 1

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise BraindynError(f"Section name {self.name!r} must be an identifier. Fix: e.g. 'soma', 'dend1'.")
        for k in ("length", "diam"):
            v = getattr(self, k)
            if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v) or v <= 0:
                raise BraindynError(f"parameter {k!r} of Section {self.name!r} must be a positive number (µm), "
                                    f"got {v!r}. Fix: e.g. {k}=10.0.")
        if not isinstance(self.nseg, (int, np.integer)) or isinstance(self.nseg, bool) or self.nseg < 1:
            raise BraindynError(f"parameter 'nseg' of Section {self.name!r} must be a positive integer, "
                                f"got {self.nseg!r}. Fix: e.g. nseg=11.")
        if not 0.0 <= float(self.parent_x) <= 1.0:
            raise BraindynError(f"parameter 'parent_x' of Section {self.name!r} must be in [0, 1], "
                                f"got {self.parent_x!r}.")


class Morphology:
    """A tree of :class:`Section` objects and its compartments (see the module docstring).

    Attributes (NumPy arrays over the N compartments, in tree order)
    ------------------------------------------------------------------
    parent : int array
        Index of the parent compartment (-1 for the root's first compartment).
    area : float array
        Membrane area (cm²).
    r_axial : float array
        Axial resistance to the parent per unit :math:`R_a` (Ω per Ω·cm, i.e. 1/cm); 0 at the root.
    x_um : float array
        Distance of each compartment centre from the start of the root section along the path (µm).
    section_of : list of str
        The section of each compartment.

    Example
    -------
    >>> m = Morphology([Section("soma", 20.0, 20.0), Section("dend", 100.0, 2.0, "soma", nseg=4)])
    >>> m.n_comp, m.index("dend", 0.9)
    (5, 4)
    """

    def __init__(self, sections):
        sections = list(sections)
        if not sections:
            raise BraindynError("Morphology needs at least one Section. Fix: Morphology([Section('soma', 20, 20)]).")
        by = {}
        for s in sections:
            if not isinstance(s, Section):
                raise BraindynError(f"Morphology takes Section objects, got {type(s).__name__}.")
            if s.name in by:
                raise BraindynError(f"Morphology: section name {s.name!r} is used twice. Fix: unique names.")
            by[s.name] = s
        roots = [s for s in sections if s.parent is None]
        if len(roots) != 1:
            raise BraindynError(f"Morphology needs exactly one root section (parent=None), got "
                                f"{[s.name for s in roots]}.")
        children = {s.name: [] for s in sections}
        for s in sections:
            if s.parent is not None:
                if s.parent not in by:
                    raise BraindynError(f"Section {s.name!r} names the parent {s.parent!r}, which is not a section. "
                                        f"Sections: {sorted(by)}.")
                children[s.parent].append(s.name)
        order, stack = [], [roots[0].name]
        while stack:  # depth-first: parents before children
            name = stack.pop()
            order.append(name)
            stack.extend(reversed(children[name]))
        if len(order) != len(sections):
            raise BraindynError("Morphology: the sections do not form one tree (a cycle?).")
        self.sections = {n: by[n] for n in order}
        self.first = {}
        parent, area, r_ax, x_um, sec_of = [], [], [], [], []
        start_um = {}
        for name in order:
            s = by[name]
            h = s.length / s.nseg  # µm
            rhalf = (0.5 * h * 1e-4) / (math.pi * (0.5 * s.diam * 1e-4) ** 2)  # 1/cm
            i0 = len(parent)
            self.first[name] = i0
            if s.parent is None:
                start_um[name] = 0.0
            else:
                ps = by[s.parent]
                start_um[name] = start_um[s.parent] + float(s.parent_x) * ps.length
            for k in range(s.nseg):
                if k > 0:
                    parent.append(i0 + k - 1)
                    r_ax.append(2 * rhalf)
                elif s.parent is None:
                    parent.append(-1)
                    r_ax.append(0.0)
                else:
                    ps = by[s.parent]
                    px = float(s.parent_x)
                    j = self.first[s.parent] + min(int(px * ps.nseg), ps.nseg - 1)
                    parent.append(j)
                    ph = ps.length / ps.nseg
                    p_rhalf = (0.5 * ph * 1e-4) / (math.pi * (0.5 * ps.diam * 1e-4) ** 2)
                    at_end = px in (0.0, 1.0)
                    r_ax.append(rhalf + (p_rhalf if at_end else 0.0))
                area.append(math.pi * s.diam * h * 1e-8)
                x_um.append(start_um[name] + (k + 0.5) * h)
                sec_of.append(name)
        self.parent = np.asarray(parent, np.int32)
        self.area = np.asarray(area)
        self.r_axial = np.asarray(r_ax)
        self.x_um = np.asarray(x_um)
        self.section_of = sec_of
        self.n_comp = len(parent)
        self.is_chain = bool(np.all(self.parent[1:] == np.arange(self.n_comp - 1)))

    def index(self, section: str, x: float = 0.5) -> int:
        """The compartment that holds the point ``x`` (0..1) of ``section``."""
        if section not in self.sections:
            raise BraindynError(f"Morphology has no section {section!r}. Sections: {list(self.sections)}.")
        if not 0.0 <= float(x) <= 1.0:
            raise BraindynError(f"location x={x!r} on section {section!r} must be in [0, 1].")
        s = self.sections[section]
        return self.first[section] + min(int(float(x) * s.nseg), s.nseg - 1)

    def indices(self, section: str) -> np.ndarray:
        """The compartments of ``section`` (proximal to distal)."""
        self.index(section)
        return self.first[section] + np.arange(self.sections[section].nseg)

    def total_area(self) -> float:
        """Membrane area of the whole tree (cm²)."""
        return float(self.area.sum())

    def __repr__(self):
        return f"Morphology({len(self.sections)} sections, {self.n_comp} compartments)"


_SWC_NAMES = {1: "soma", 2: "axon", 3: "dend", 4: "apic"}


def load_swc(path, *, max_seg_um: float = 20.0) -> Morphology:
    """Read an SWC file into a :class:`Morphology`.

    Each unbranched run of points between branch points becomes a section of the summed
    length of its point-to-point segments and the length-weighted mean diameter
    :math:`2r`; its ``nseg`` is the odd number that keeps compartments at most ``max_seg_um``
    long. The soma points (type 1) become one cylinder whose length equals its diameter
    (the area of the sphere of the soma radius); neurites leaving the soma hang on its middle
    (``parent_x`` 0.5). Sections are named ``soma``, then ``<type>_<k>`` (``dend_0``, ``axon_0``,
    ``apic_3``; other types ``sec_k``), in file order.

    Parameters
    ----------
    path : str or path
        The SWC file (columns: id, type, x, y, z, radius in µm, parent id; -1 for the root).
    max_seg_um : float
        Longest compartment (µm, > 0).

    Example
    -------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "y.swc"
    >>> _ = p.write_text("1 1 0 0 0 10 -1\\n2 3 10 0 0 1 1\\n3 3 110 0 0 1 2\\n4 3 160 50 0 0.5 3\\n"
    ...                  "5 3 160 -50 0 0.5 3\\n")
    >>> m = load_swc(p)
    >>> list(m.sections), round(m.sections["dend_0"].length, 1)
    (['soma', 'dend_0', 'dend_1', 'dend_2'], 110.0)
    """
    if not (isinstance(max_seg_um, (int, float)) and max_seg_um > 0):
        raise BraindynError(f"parameter 'max_seg_um' of load_swc must be a positive length (µm), got {max_seg_um!r}.")
    pts = {}
    order = []
    try:
        lines = open(path).read().splitlines()
    except OSError as err:
        raise BraindynError(f"load_swc: cannot read {path!s}: {err}.") from None
    for ln, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) < 7:
            raise BraindynError(f"load_swc: line {ln} of {path!s} has {len(f)} columns, SWC needs 7 "
                                f"(id type x y z radius parent).")
        i, t, par = int(f[0]), int(f[1]), int(f[6])
        x, y, z, r = map(float, f[2:6])
        if par != -1 and par not in pts:
            raise BraindynError(f"load_swc: point {i} (line {ln}) names the parent {par}, not defined before it.")
        pts[i] = (t, np.array([x, y, z]), r, par)
        order.append(i)
    if not order:
        raise BraindynError(f"load_swc: {path!s} holds no points.")
    kids = {i: [] for i in order}
    for i in order:
        if pts[i][3] != -1:
            kids[pts[i][3]].append(i)
    soma = [i for i in order if pts[i][0] == 1]
    sections, counters = [], {}
    if soma:
        r = max(pts[i][2] for i in soma)
        sections.append(Section("soma", 2 * r, 2 * r, nseg=1))
        soma_set = set(soma)
        starts = [(c, "soma", 0.5) for i in soma for c in kids[i] if c not in soma_set]
    else:
        root = order[0]
        starts = [(c, None, 1.0) for c in kids[root]]
        soma_set = {root}
    queue = list(starts)
    owner = {}
    while queue:
        start, parent_sec, px = queue.pop(0)
        t = pts[start][0]
        base = _SWC_NAMES.get(t, "sec")
        k = counters.get(base, 0)
        counters[base] = k + 1
        name = f"{base}_{k}"
        prev = pts[start][3]
        run = [start]
        while len(kids[run[-1]]) == 1:
            run.append(kids[run[-1]][0])
        L, wd = 0.0, 0.0
        prev_xyz = pts[prev][1] if prev in pts else pts[start][1]
        prev_r = pts[prev][2] if (prev in pts and prev not in soma_set) else pts[start][2]
        for i in run:
            seg = float(np.linalg.norm(pts[i][1] - prev_xyz))
            L += seg
            wd += seg * (pts[i][2] + prev_r)  # mean diameter of the frustum = r0 + r1
            prev_xyz, prev_r = pts[i][1], pts[i][2]
        if L <= 0:
            L, d = 1e-3, 2 * pts[start][2]
        else:
            d = wd / L
        nseg = int(math.ceil(L / max_seg_um))
        nseg += 1 - nseg % 2
        if parent_sec is None and not sections:
            sections.append(Section(name, L, d, None, 1.0, nseg))
        elif parent_sec is None:  # several neurites from a non-soma root point: hang on the first one's start
            sections.append(Section(name, L, d, sections[0].name, 0.0, nseg))
        else:
            sections.append(Section(name, L, d, parent_sec, px, nseg))
        owner[run[-1]] = name
        for c in kids[run[-1]]:
            queue.append((c, name, 1.0))
    return Morphology(sections)
