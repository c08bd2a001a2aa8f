"""NeuralMag as an Ubermag calculator: ``import neuralmag.ubermag as nmc``.

Drivers ``MinDriver``, ``RelaxDriver``, ``TimeDriver`` and ``HysteresisDriver`` drive a
:class:`micromagneticmodel.System` with NeuralMag in-process and write the results back into ``system.m``
and ``system.table``; ``compute(term.energy, system)`` evaluates energies, densities and effective fields and
``delete(system)`` removes the system's output directory. :class:`Simulation` exposes the translated NeuralMag
:class:`~neuralmag.State` for gradients. Needs the optional extra ``neuralmag[ubermag]``
(micromagneticmodel, discretisedfield). See ``docs/user_guide/ubermag.md``.
"""

try:
    import discretisedfield  # noqa: F401
    import micromagneticmodel  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised without the extra
    raise ImportError("neuralmag.ubermag needs the Ubermag front end: pip install 'neuralmag[ubermag]' "
                      "(micromagneticmodel, discretisedfield).") from err

from neuralmag.ubermag._drivers import (Driver, HysteresisDriver, MinDriver, RelaxDriver, TimeDriver, compute,
                                        delete)
from neuralmag.ubermag._translate import Simulation, UnsupportedError

__all__ = ["MinDriver", "RelaxDriver", "TimeDriver", "HysteresisDriver", "Driver", "compute", "delete",
           "Simulation", "UnsupportedError"]
