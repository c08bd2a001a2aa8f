"""Ubermag drivers running NeuralMag in-process, ``compute`` and ``delete``."""

from __future__ import annotations

import datetime
import math
import os
import shutil

import numpy as np

import neuralmag as nm
from neuralmag.common import named_function
from neuralmag.io.ovf import nodes_to_cells
from neuralmag.solvers.llg import registered_torques
from neuralmag.ubermag._translate import Simulation

import micromagneticmodel as mm  # noqa: E402  (the subpackage needs the Ubermag front end)
import ubermagtable as ut

__all__ = ["MinDriver", "RelaxDriver", "TimeDriver", "HysteresisDriver", "compute", "delete"]

OVF_FORMATS = ("bin8", "bin4", "txt")
_UNITS = {"t": "s", "iteration": "", "stage": "", "mx": "", "my": "", "mz": "", "max_mxHxm": "A/m",
          "max_dm/dt": "deg/ns"}


class Driver(mm.ExternalDriver):
    """Base class: the Ubermag ``drive`` protocol (``dirname/<system name>/drive-<n>/`` with ``info.json``, the
    magnetisation written back into ``system.m`` and the scalar data into ``system.table``), with the
    simulation run in-process by NeuralMag instead of an external program.

    Common attributes (keyword arguments of the constructor): ``backend`` (``"jax"``/``"torch"``, default
    ``nm.config.backend``), ``dtype`` (default ``"float64"``).
    """

    _common = ["backend", "dtype"]
    _allowed_attributes = _common

    # ---------------------------------------------------------------- Ubermag protocol
    def drive(self, system, /, dirname=".", append=True, runner=None, ovf_format="bin8", verbose=1, **kwargs):
        if ovf_format not in OVF_FORMATS:
            raise ValueError(f"ovf_format must be one of {OVF_FORMATS}, got {ovf_format!r}.")
        self._ovf_format = ovf_format
        return super().drive(system, dirname=dirname, append=append, runner=runner, ovf_format=ovf_format,
                             verbose=verbose, **kwargs)

    def schedule(self, *args, **kwargs):
        raise NotImplementedError("NeuralMag runs in-process; job scheduling is not supported (call drive()).")

    def schedule_kwargs_setup(self, schedule_kwargs):
        raise NotImplementedError("NeuralMag runs in-process; job scheduling is not supported.")

    def _schedule_commands(self, system, runner):
        raise NotImplementedError("NeuralMag runs in-process; job scheduling is not supported.")

    def drive_kwargs_setup(self, drive_kwargs):
        fixed = drive_kwargs.setdefault("fixed_subregions", None)
        if fixed is not None and (isinstance(fixed, str) or not all(isinstance(f, str) for f in fixed)):
            raise ValueError(f"fixed_subregions must be a list of subregion names, got {fixed!r}.")
        self._checkargs(drive_kwargs)

    def _checkargs(self, kwargs):
        """Nothing beyond the checks of the drivers' own ``drive`` methods."""

    def _check_system(self, system):
        if len(system.energy) == 0:
            raise RuntimeError("System's energy is not defined")
        if system.m is None:
            raise RuntimeError("System's magnetisation is not defined")

    def _write_input_files(self, system, ovf_format="bin8", **kwargs):
        system.m.to_file("m0.omf", representation=ovf_format)

    def _call(self, system, runner=None, verbose=1, **kwargs):
        start = datetime.datetime.now()
        self._rows = []
        self._sim = None
        self._run(system, **kwargs)
        if verbose >= 1:
            backend = self._sim.state.backend.name if self._sim is not None else "-"
            elapsed = (datetime.datetime.now() - start).total_seconds()
            print(f"Running NeuralMag ({backend}) [{start:%Y/%m/%d %H:%M}]... ({elapsed:.1f} s)")

    def _read_data(self, system):
        system.m.array = self._m_result
        table = _table(self._rows, self._x)
        _write_odt(f"{system.name}.odt", table)
        system.table = table

    # ---------------------------------------------------------------- helpers
    def _simulation(self, system, **kwargs) -> Simulation:
        backend = getattr(self, "backend", None)
        dtype = getattr(self, "dtype", None) or "float64"
        self._sim = Simulation(system, backend=backend, dtype=dtype, **kwargs)
        return self._sim

    def _row(self, sim, **extra) -> dict:
        state = sim.state
        cells = sim.m_result()
        row = dict(extra)
        row["mx"], row["my"], row["mz"] = (float(v) for v in sim.mean_m(cells))
        energies = {name: float(getattr(state, f"E_{name}")) for name in sim.terms if f"E_{name}" in state}
        row["E"] = float(sum(energies.values()))
        for name, value in energies.items():
            row[f"E_{name}"] = value
        for name in sim.zeeman:
            bx, by, bz = sim.applied_mT(name)
            row[f"Bx_{name}"], row[f"By_{name}"], row[f"Bz_{name}"] = float(bx), float(by), float(bz)
        return row

    @staticmethod
    def _max_torque(sim) -> float:
        """max |m x h| (A/m) over the nodes (the effective field of fixed nodes is zero)."""
        m, h = sim.state.m.numpy(), sim.state.h.numpy()
        return float(np.linalg.norm(np.cross(m, h), axis=-1).max())

    def _save_step(self, system, sim, index):
        sim.to_field(sim.m_result(), 3).to_file(f"{system.name}-{index:07d}.omf", representation=self._ovf_format)


class _Minimising(Driver):
    r"""Shared energy minimisation (projected steepest descent with Barzilai–Borwein steps,
    :class:`~neuralmag.EnergyMinimizer`), stopped on the absolute torque :math:`\max_n|\mathbf{m}_n\times
    \mathbf{h}_n|` (A/m): below ``stopping_mxHxm`` if given, else below ``tol`` times the largest
    :math:`M_s` (a relative criterion that still works where the effective field itself vanishes at the
    minimum, e.g. for cubic anisotropy or exchange alone)."""

    _allowed_attributes = Driver._common + ["stopping_mxHxm", "tol", "max_iter"]
    _chunk = 25
    _default_max_iter = 20_000

    def _threshold(self, sim) -> float:
        if getattr(self, "stopping_mxHxm", None) is not None:
            return float(self.stopping_mxHxm)
        return float(getattr(self, "tol", 1e-11)) * float(sim.Ms.max())

    def _minimise(self, sim, rows, output_step=False, **extra):
        threshold = self._threshold(sim)
        max_iter = int(getattr(self, "max_iter", self._default_max_iter))
        minimiser = nm.EnergyMinimizer(sim.state, tol=0.0, max_iter=self._chunk, check_every=self._chunk)
        total, torque = 0, self._max_torque(sim)
        if output_step:
            rows.append(self._row(sim, iteration=0, max_mxHxm=torque, **extra))
        while torque >= threshold and total < max_iter:
            total += minimiser.minimize()["iterations"]
            torque = self._max_torque(sim)
            if output_step:
                rows.append(self._row(sim, iteration=total, max_mxHxm=torque, **extra))
        if not output_step or not rows:
            rows.append(self._row(sim, iteration=total, max_mxHxm=torque, **extra))
        return total


class MinDriver(_Minimising):
    """Direct energy minimisation (``Oxs_MinDriver`` counterpart).

    Attributes: ``tol`` (stop when :math:`\\max|\\mathbf{m}\\times\\mathbf{h}|` < ``tol`` :math:`\\max M_s`,
    default 1e-11), ``stopping_mxHxm`` (A/m; replaces the threshold), ``max_iter`` (default 20000),
    ``backend``, ``dtype``.

    ``drive(system, fixed_subregions=None, output_step=False)``: ``output_step=True`` adds a table row every 25
    iterations.
    """

    @property
    def _x(self):
        return "iteration"

    def _run(self, system, fixed_subregions=None, output_step=False, **kwargs):
        sim = self._simulation(system, fixed_subregions=fixed_subregions)
        self._minimise(sim, self._rows, output_step=output_step, t=0.0)
        self._m_result = sim.m_result()
        self._save_step(system, sim, 0)


class RelaxDriver(_Minimising):
    r"""Relaxation by the damping-only LLG equation (:meth:`~neuralmag.LLGSolver.relax`, :math:`\alpha = 1`,
    no precession), mumax3's ``relax`` counterpart, stopped on the same absolute torque as :class:`MinDriver`:
    :math:`\max_n|\mathbf{m}_n\times\mathbf{h}_n|` below ``stopping_mxHxm`` (A/m) if given, else below
    ``tol`` (default 1e-11) times the largest :math:`M_s`.

    The dynamics run until the torque is below ``dynamics_tol`` (default 1e-3) times the largest field
    (:meth:`~neuralmag.LLGSolver.relax`'s measure): they choose the basin, as a physical relaxation does. Then
    the :class:`~neuralmag.EnergyMinimizer` finishes in that basin: the dynamics are limited by the stable step
    of the stiff exchange modes, so the last decades of torque take them nanoseconds (µMAG SP3 cube of 16³
    cells: about 70 s of CPU per nanosecond) and the minimiser seconds. Attributes: ``tol``,
    ``stopping_mxHxm``, ``dynamics_tol``, ``max_time`` (s of simulated relaxation, default 1e-7),
    ``max_iter`` (minimiser iterations, default 100 000), ``backend``, ``dtype``; the table row has the LLG
    steps plus the minimiser iterations as ``iteration`` and the simulated time as ``t``."""

    _allowed_attributes = _Minimising._allowed_attributes + ["dynamics_tol", "max_time"]
    _default_max_iter = 100_000

    @property
    def _x(self):
        return "iteration"

    def _run(self, system, fixed_subregions=None, **kwargs):
        sim = self._simulation(system, fixed_subregions=fixed_subregions)
        sim.state.material.alpha = 1.0
        info = nm.LLGSolver(sim.state).relax(tol=float(getattr(self, "dynamics_tol", 1e-3)), dt=1e-11,
                                             max_time=float(getattr(self, "max_time", 1e-7)))
        rows = []
        self._minimise(sim, rows, t=info["time"])
        rows[-1]["iteration"] += info["steps"]
        self._rows += rows
        self._m_result = sim.m_result()
        self._save_step(system, sim, 0)


class TimeDriver(Driver):
    """Time integration of the LLG equation with the system's dynamics (``Oxs_TimeDriver`` counterpart).

    ``drive(system, t=..., n=..., fixed_subregions=None)`` integrates from 0 to ``t`` seconds and records ``n``
    equally spaced table rows and magnetisation files. Attributes: ``rtol``, ``atol`` (adaptive Dopri5,
    default 1e-6), ``stopping_dm_dt`` (deg/ns: stop once max |dm/dt| falls below), ``thermal_dt`` (fixed step
    for ``system.T > 0``, default 1e-14 s), ``seed``, ``backend``, ``dtype``.
    """

    _allowed_attributes = Driver._common + ["rtol", "atol", "stopping_dm_dt", "thermal_dt", "seed"]

    @property
    def _x(self):
        return "t"

    def _check_system(self, system):
        if len(system.dynamics) == 0:
            raise RuntimeError("System's dynamics is not defined")
        super()._check_system(system)

    def _checkargs(self, kwargs):
        if "t" not in kwargs or "n" not in kwargs:
            raise ValueError("TimeDriver.drive needs t (s) and n (number of steps).")
        t, n = kwargs["t"], kwargs["n"]
        if not isinstance(t, (int, float)) or t <= 0:
            raise ValueError(f"Cannot drive with t={t!r}; it must be a positive number of seconds.")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"Cannot drive with n={n!r}; it must be a positive integer.")

    def _run(self, system, t, n, fixed_subregions=None, **kwargs):
        sim = self._simulation(system, fixed_subregions=fixed_subregions, dynamics=True, t_end=t,
                               temperature=system.T)
        state = sim.state
        from neuralmag.ubermag._terms import UbermagLLG

        rtol, atol = float(getattr(self, "rtol", 1e-6)), float(getattr(self, "atol", 1e-6))
        thermal = bool(system.T)
        llg = nm.LLGSolver(state, rtol=rtol, atol=atol, dt=float(getattr(self, "thermal_dt", 1e-14)) if thermal
                           else None, seed=getattr(self, "seed", None) if thermal else None)
        UbermagLLG(precession=sim.precession).register(state, "ubermag")
        dmdt = named_function("dmdt", ["dmdt_ubermag", *registered_torques(state), "ub_free"],
                              lambda *a: sum(a[:-1]) * a[-1][..., None])
        dmdt.nm_output = ("nnn", (3,))
        state.dmdt = dmdt
        state.t = 0.0
        stop = getattr(self, "stopping_dm_dt", None)
        for i in range(1, n + 1):
            llg.step(t / n)
            ti = i * t / n
            row = self._row(sim, t=ti)
            rate = float(np.linalg.norm(state.dmdt.numpy(), axis=-1).max()) * 180 / math.pi * 1e-9
            row["max_dm/dt"] = rate
            self._rows.append(row)
            self._save_step(system, sim, i)
            if stop is not None and rate < float(stop):
                break
        self._m_result = sim.m_result()


class HysteresisDriver(_Minimising):
    """Energy minimisation at a sequence of applied fields (``Oxs_MinDriver`` with a stepped ``UZeeman``).

    ``drive(system, Hmin=..., Hmax=..., n=...)`` steps from ``Hmax`` to ``Hmin`` and back to ``Hmax`` in
    ``n`` points per branch (``2n - 1`` table rows); ``drive(system, Hsteps=[(H_start, H_end, n), ...])`` runs
    the given segments (consecutive segments share their end points). The field is an additional Zeeman term
    named ``hysteresis`` (A/m); the table's ``B_hysteresis`` column is :math:`\\mu_0 \\mathbf{H}` (mT) projected
    on the direction of the first non-zero field of the sweep."""

    @property
    def _x(self):
        return "B_hysteresis"

    def _checkargs(self, kwargs):
        simple = [k for k in ("Hmin", "Hmax", "n") if k in kwargs]
        if simple and "Hsteps" in kwargs:
            raise ValueError("Cannot define both (Hmin, Hmax, n) and Hsteps.")
        if len(simple) == 3:
            segments = [(kwargs["Hmax"], kwargs["Hmin"], kwargs["n"]), (kwargs["Hmin"], kwargs["Hmax"], kwargs["n"])]
        elif "Hsteps" in kwargs:
            segments = list(kwargs["Hsteps"])
        else:
            raise ValueError("Some of the required arguments are missing. (Hmin, Hmax, n) or Hsteps must be defined.")
        for start, end, n in segments:
            for H in (start, end):
                if not isinstance(H, (list, tuple, np.ndarray)) or len(H) != 3:
                    raise ValueError("Hstart (Hmin) and Hend (Hmax) must be array_like of length 3.")
            if not isinstance(n, int) or n < 2:
                raise ValueError(f"Cannot drive with n={n!r}; each segment needs at least 2 points.")
        fields = []
        for start, end, n in segments:
            points = [np.asarray(start, float) + (np.asarray(end, float) - np.asarray(start, float)) * k / (n - 1)
                      for k in range(n)]
            fields.extend(points if not fields else points[1:])
        kwargs["fields"] = fields

    def _run(self, system, fields, fixed_subregions=None, **kwargs):
        energy = system.energy + mm.Zeeman(H=tuple(fields[0]), name="hysteresis")
        proxy = _SystemView(system, energy)
        sim = self._simulation(proxy, fixed_subregions=fixed_subregions)
        state = sim.state
        nonzero = [H for H in fields if np.linalg.norm(H) > 0]
        direction = nonzero[0] / np.linalg.norm(nonzero[0]) if nonzero else np.array([0.0, 0.0, 1.0])
        total = 0
        for H in fields:
            state.h_hysteresis_applied = nm.VectorFunction(state).fill(tuple(H))
            B = float(np.dot(H, direction)) * 4e-7 * math.pi * 1e3
            total += self._minimise(sim, self._rows, B_hysteresis=B, t=0.0)
            self._rows[-1]["iteration"] = total
        self._m_result = sim.m_result()
        self._save_step(system, sim, 0)


class _SystemView:
    """A system with another energy (the hysteresis driver adds its field term without touching the user's)."""

    def __init__(self, system, energy):
        self.m, self.energy, self.dynamics, self.T, self.name = system.m, energy, system.dynamics, system.T, system.name


# -------------------------------------------------------------------- tables
def _table(rows, x):
    import pandas as pd

    columns = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    front = list(dict.fromkeys(c for c in (x, "t", "iteration") if c in columns))
    columns = front + [c for c in columns if c not in front]
    data = pd.DataFrame([[row.get(c, np.nan) for c in columns] for row in rows], columns=columns)
    units = {c: _unit(c) for c in columns}
    return ut.Table(data=data, units=units, x=x)


def _unit(column):
    if column in _UNITS:
        return _UNITS[column]
    if column == "E" or column.startswith("E_"):
        return "J"
    if column[:2] in ("B_", "Bx", "By", "Bz"):
        return "mT"
    return ""


def _write_odt(path, table):
    """An OOMMF-style ``.odt`` table (read by ``ubermagtable.Table.fromfile`` and ``micromagneticdata``); the
    ``My_`` prefix marks user columns, which ubermagtable strips, so the columns read back under their Ubermag
    names."""
    columns = list(table.data.columns)
    lines = ["# ODT 1.0", "# Table Start", "# Title: NeuralMag (neuralmag.ubermag)",
             "# Columns: " + " ".join("{My_" + c + "}" for c in columns),
             "# Units: " + " ".join("{" + table.units.get(c, "") + "}" for c in columns)]
    for values in table.data.itertuples(index=False):
        lines.append(" ".join(repr(float(v)) for v in values))
    lines.append("# Table End")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# -------------------------------------------------------------------- compute / delete
def compute(func, system, backend=None, dtype="float64"):
    """Value of ``term.energy`` (J, a float), ``term.density`` (J/m³, cell-wise ``discretisedfield.Field``) or
    ``term.effective_field`` (A/m, cell averages of the nodal field) of an energy term or of the whole
    ``system.energy``, computed by NeuralMag for ``system.m``. Creates ``<system name>/compute-<n>/``."""
    name = getattr(func, "__name__", None)
    owner = getattr(func, "__self__", None)
    if name not in ("energy", "density", "effective_field") or not isinstance(owner, (mm.Energy, mm.EnergyTerm)):
        raise ValueError(f"Computing the value of {func} is not supported "
                         "(use term.energy, term.density or term.effective_field).")
    mm.ExternalDriver._setup_working_directory(system=system, dirname=".", mode="compute", append=True)
    system.compute_number += 1
    sim = Simulation(system, backend=backend, dtype=dtype)
    terms = sim.terms if isinstance(owner, mm.Energy) else [owner.name]
    if any(t not in sim.terms for t in terms):
        raise ValueError(f"Term {owner!r} is not part of system.energy.")
    state = sim.state
    if name == "energy":
        return float(sum(float(getattr(state, f"E_{t}")) for t in terms))
    if name == "density":
        missing = [t for t in terms if f"e_{t}" not in state]
        if missing:
            raise ValueError(f"No energy density for the terms {missing}.")
        e = sum(getattr(state, f"e_{t}").numpy() for t in terms)
        return sim.to_field(np.asarray(e), 1)
    h = sum(getattr(state, f"h_{t}").numpy() for t in terms)
    return sim.to_field(nodes_to_cells(sim.state.mesh, h), 3)


def delete(system, silent=True):
    """Delete the directory ``<system name>/`` with the system's drives (no error if it does not exist, unless
    ``silent=False``) and reset the drive and compute counters."""
    if os.path.exists(system.name):
        shutil.rmtree(system.name)
    elif not silent:
        raise FileNotFoundError(f"Directory {system.name} does not exist.")
    system.drive_number = 0
    system.compute_number = 0
