r"""Sum of registered field terms."""

from __future__ import annotations

from neuralmag.common import named_function, sum_of

__all__ = ["TotalField"]


class TotalField:
    r"""Total effective field and energy of registered terms:
    :math:`\mathbf{h} = \sum_i \mathbf{h}_i`, :math:`E = \sum_i E_i`.

    ``nm.TotalField("exchange", "demag", "external").register(state)`` adds ``state.h`` and ``state.E``
    (with a name: ``h_<name>``, ``E_<name>``). Terms given only as a linear form (no energy) contribute to the
    field only.
    """

    def __init__(self, *names: str):
        if not names:
            raise ValueError("TotalField needs the names of registered terms, e.g. TotalField('exchange').")
        self.names = names

    def register(self, state, name: str = "") -> "TotalField":
        missing = [n for n in self.names if f"h_{n}" not in state]
        if missing:
            raise ValueError(f"TotalField: no registered term {missing} (state has no h_<name> for them).")
        suffix = f"_{name}" if name else ""
        h = named_function(f"h{suffix}", [f"h_{n}" for n in self.names], sum_of)
        h.nm_output = ("n" * state.mesh.dim, (3,))
        setattr(state, f"h{suffix}", h)
        energies = [f"E_{n}" for n in self.names if f"E_{n}" in state]
        if energies:
            setattr(state, f"E{suffix}", named_function(f"E{suffix}", energies, sum_of))
        return self
