"""The deliver phase of a network step over all its projections (grouped where they can share work).

:func:`deliver_all` is what :class:`braindyn.Network` calls in phase 1 of its step.
"""
from __future__ import annotations

__all__ = ["deliver_all"]


def deliver_all(projections: dict, states: dict, pop_states: dict, t, dt, keys: dict):
    """Deliver every projection.

    Parameters
    ----------
    projections : dict
        ``{name: Projection}`` in a fixed (sorted) order.
    states : dict
        ``{name: projection state}``.
    pop_states : dict
        ``{population path: state}`` for every ``pre``/``post`` path named by a projection.
    t, dt : time and step (ms).
    keys : dict
        ``{name: key or None}``.

    Returns
    -------
    ``(new_states, contributions)``, both ``{name: ...}``.
    """
    new_states, contributions = {}, {}
    for name, pr in projections.items():
        new_states[name], contributions[name] = pr.deliver(states[name], pop_states[pr.pre], pop_states[pr.post],
                                                           t, dt, keys[name])
    return new_states, contributions
