"""Translation of a :class:`micromagneticmodel.System` into a NeuralMag :class:`~neuralmag.State`."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

import neuralmag as nm
from neuralmag.common import named_function
from neuralmag.forms.ir import MU0
from neuralmag.ubermag import _terms
from neuralmag.io.ovf import cells_to_nodes, node_sum, nodes_to_cells
from neuralmag.ubermag._fields import cell_directions_to_nodes, magnetic_nodes

__all__ = ["Simulation", "UnsupportedError"]


class UnsupportedError(NotImplementedError):
    """A feature of the Ubermag model that the NeuralMag calculator does not translate."""


def _mm():
    import micromagneticmodel as mm

    return mm


def _df():
    import discretisedfield as df

    return df


def _is_set(term, attr) -> bool:
    """Whether a micromagneticmodel term attribute was given (unset ones read back as descriptors)."""
    import ubermagutil.typesystem as ts

    return hasattr(term, attr) and not isinstance(getattr(term, attr), ts.Descriptor)


class Simulation:
    """A NeuralMag state built from an Ubermag system, with the bookkeeping to map results back.

    Attributes:
        state: the :class:`~neuralmag.State` (3D mesh with the cells of ``system.m.mesh``).
        terms: registered energy-term names (the Ubermag term names).
        zeeman: names of registered Zeeman terms (their applied field is ``state.h_<name>_applied``).
        Ms: cell-wise saturation magnetisation (A/m), ``|system.m|``.
        magnetic: cell mask ``Ms > 0``; ``fixed``: cell mask of fixed subregions.
    """

    def __init__(self, system, *, backend=None, dtype=None, fixed_subregions=(), dynamics=False,
                 t_end=0.0, temperature=None):
        if system.m is None:
            raise RuntimeError("System's magnetisation (system.m) is not defined.")
        self.system = system
        self.dfmesh = mesh = system.m.mesh
        if len(mesh.n) != 3 or mesh.region.dims != ("x", "y", "z"):
            raise UnsupportedError("Only three-dimensional meshes with axes x, y, z are supported.")
        self.n = tuple(int(v) for v in mesh.n)
        self.cell = tuple(float(v) for v in mesh.cell)
        bc = mesh.bc if isinstance(mesh.bc, str) else ""
        if bc and not set(bc) <= set("xyz"):
            raise UnsupportedError(f"Boundary conditions {bc!r} are not supported (only periodic axes 'x', 'y', 'z').")
        self.pbc = tuple(ax in bc for ax in "xyz")
        self.t_end = float(t_end)
        m = np.asarray(system.m.array, dtype=float)
        self.Ms = np.linalg.norm(m, axis=-1)
        self.magnetic = self.Ms > 0
        if not self.magnetic.any():
            raise RuntimeError("The system has no magnetic cell (|system.m| = 0 everywhere).")
        self.m_input = m
        self.regions = self._region_masks()
        self.fixed = np.zeros(self.n, dtype=bool)
        for name in fixed_subregions or ():
            if name not in self.regions:
                raise ValueError(f"Unknown fixed subregion {name!r}; the mesh has {sorted(self.regions)}.")
            self.fixed |= self.regions[name]

        nm_mesh = nm.Mesh(self.n, self.cell, origin=tuple(float(v) for v in mesh.region.pmin), pbc=self.pbc)
        state = nm.State(nm_mesh, backend=backend, dtype=dtype or "float64")
        self.state = state
        state.rho = self.magnetic.astype(float)
        state.material.Ms = self.Ms
        state.m = cell_directions_to_nodes(nm_mesh, m, self.magnetic)
        # a node is held fixed when every magnetic cell around it is fixed
        free = magnetic_nodes(nm_mesh, self.magnetic & ~self.fixed)
        state.ub_free = free.astype(float)

        self.terms, self.zeeman, self.warned = [], [], []
        for term in system.energy:
            self._energy_term(term)
        if not self.terms:
            raise RuntimeError("System's energy is not defined.")
        nm.TotalField(*self.terms).register(state, "ubtotal")
        h = named_function("h", ["h_ubtotal", "ub_free"], lambda h, free: h * free[..., None])
        h.nm_output = ("nnn", (3,))
        state.h = h
        energies = [f"E_{n}" for n in self.terms if f"E_{n}" in state]
        state.E = named_function("E", energies, lambda *es: sum(es))
        if dynamics:
            self._dynamics(system.dynamics, temperature)

    # ------------------------------------------------------------------ parameters
    def _region_masks(self) -> dict:
        mesh = self.dfmesh
        centres = [np.asarray(mesh.region.pmin[k] + (np.arange(self.n[k]) + 0.5) * self.cell[k]) for k in range(3)]
        masks = {}
        for name, region in (mesh.subregions or {}).items():
            inside = []
            for k in range(3):
                tol = 1e-6 * self.cell[k]
                inside.append((centres[k] >= region.pmin[k] - tol) & (centres[k] <= region.pmax[k] + tol))
            masks[name] = inside[0][:, None, None] & inside[1][None, :, None] & inside[2][None, None, :]
        return masks

    def cell_values(self, value, nvdim: int, what: str, normalise: bool = False):
        """Cell array (``n`` or ``n + (3,)``) of a parameter given as a number, a vector, a dict of subregion
        values (``"default"`` for cells outside every subregion) or a ``discretisedfield.Field``."""
        df = _df()
        shape = self.n + ((nvdim,) if nvdim > 1 else ())
        if isinstance(value, df.Field):
            arr = np.asarray(value.array, dtype=float)
            if tuple(arr.shape[:3]) != self.n:
                raise ValueError(f"{what}: the field's mesh {arr.shape[:3]} differs from the magnetisation's {self.n}.")
            if arr.ndim == 3:
                arr = arr[..., None]
            if nvdim == 1:
                arr = arr[..., 0]
            elif arr.shape[-1] == 1:  # a scalar field where a vector may be given (Zhang-Li u: along x)
                arr = arr * np.array([1.0, 0.0, 0.0])
        elif isinstance(value, dict):
            arr = np.zeros(shape)
            if "default" in value:
                arr[...] = self._constant(value["default"], nvdim)
            for key, v in value.items():
                if key == "default":
                    continue
                if ":" in key:
                    if key not in self.warned:
                        warnings.warn(
                            f"{what}: the inter-region value {key!r} is ignored. NeuralMag's nodal scheme couples "
                            "neighbouring regions through their shared nodes, using the cell values on either side.",
                            UserWarning, stacklevel=4)
                        self.warned.append(key)
                    continue
                if key not in self.regions:
                    raise ValueError(f"{what}: unknown subregion {key!r}; the mesh has {sorted(self.regions)}.")
                arr[self.regions[key]] = self._constant(v, nvdim)
        else:
            arr = np.broadcast_to(self._constant(value, nvdim), shape).copy()
        if normalise and nvdim == 3:
            norm = np.linalg.norm(arr, axis=-1, keepdims=True)
            arr = np.where(norm > 0, arr / np.where(norm > 0, norm, 1.0), 0.0)
        return arr

    @staticmethod
    def _constant(v, nvdim):
        if nvdim == 1:
            if not isinstance(v, numbers.Real):
                raise TypeError(f"Expected a number, got {v!r}.")
            return float(v)
        if isinstance(v, numbers.Real):  # Zhang-Li u given as a number: current along x
            return np.array([float(v), 0.0, 0.0])
        arr = np.asarray(v, dtype=float)
        if arr.shape != (3,):
            raise ValueError(f"Expected a vector of 3 numbers, got {v!r}.")
        return arr

    def nodal(self, cell_values):
        """``Ms``-weighted nodal mean of a cell-wise vector field (exact for the Zeeman energy)."""
        return cells_to_nodes(self.state.mesh, cell_values, self.Ms)

    # ------------------------------------------------------------------ time dependence
    def time_factor(self, func, dt=None, f=None, t0=0.0, width=1):
        """A backend function ``factor(t)`` (a scalar, or ``width`` components) for Ubermag's ``func``:
        ``"sin"``: :math:`\\sin 2\\pi f (t - t_0)`, ``"sinc"``: :math:`\\sin x / x` with :math:`x = 2\\pi f (t-t_0)`,
        or a Python callable sampled every ``dt`` up to the end of the drive and interpolated linearly."""
        backend = self.state.backend
        if func in ("sin", "sinc"):
            if f is None:
                raise ValueError(f"func={func!r} needs the frequency f.")
            f, t0 = float(f), float(t0 or 0.0)
            if func == "sin":
                return lambda t: backend.sin(2 * math.pi * f * (t - t0))
            return lambda t: backend.sinc(2 * f * (t - t0))  # normalised sinc(y) = sin(pi y)/(pi y)
        if not callable(func):
            raise ValueError(f"Unsupported time dependence {func!r}.")
        if dt is None:
            raise ValueError("A callable time dependence needs dt (s).")
        dt = float(dt)
        count = max(2, int(math.ceil(self.t_end / dt - 1e-9)) + 2)
        times = np.arange(count) * dt
        samples = np.array([np.asarray(func(float(t)), dtype=float).reshape(-1) for t in times])
        if samples.shape[1] != width:
            raise ValueError(f"The time-dependence function must return {width} value(s); got {samples.shape[1]}.")
        tk = self.state.tensor(times)
        fk = self.state.tensor(samples)

        def factor(t):  # piecewise-linear interpolation: sum of hat functions (backend-neutral, differentiable)
            x = 1 - abs(t - tk) / dt
            w = (x + abs(x)) / 2
            out = (w[:, None] * fk).sum(0)
            return out[0] if width == 1 else out

        return factor

    # ------------------------------------------------------------------ energy terms
    def _energy_term(self, term):
        mm = _mm()
        state, name = self.state, term.name
        if not name.isidentifier():
            raise ValueError(f"Energy term name {name!r} is not a valid identifier.")
        if isinstance(term, mm.Exchange):
            state.material.A = self.cell_values(term.A, 1, "Exchange.A")
            nm.ExchangeField().register(state, name)
        elif isinstance(term, mm.Zeeman):
            self._zeeman(term)
        elif isinstance(term, mm.UniaxialAnisotropy):
            K1 = term.K1 if _is_set(term, "K1") else (term.K if _is_set(term, "K") else 0.0)
            state.material.Ku = self.cell_values(K1, 1, "UniaxialAnisotropy.K")
            state.material.Ku_axis = self.cell_values(term.u, 3, "UniaxialAnisotropy.u", normalise=True)
            second = _is_set(term, "K2")
            if second:
                state.material.Ku2 = self.cell_values(term.K2, 1, "UniaxialAnisotropy.K2")
            nm.UniaxialAnisotropyField(second_order=second).register(state, name)
        elif isinstance(term, mm.CubicAnisotropy):
            state.material.Kc1 = self.cell_values(term.K, 1, "CubicAnisotropy.K")
            state.material.Kc_axis1 = self.cell_values(term.u1, 3, "CubicAnisotropy.u1", normalise=True)
            state.material.Kc_axis2 = self.cell_values(term.u2, 3, "CubicAnisotropy.u2", normalise=True)
            nm.CubicAnisotropyField().register(state, name)
        elif isinstance(term, mm.DMI):
            state.material.D = self.cell_values(term.D, 1, "DMI.D")
            cc = term.crystalclass
            if cc in ("Cnv", "Cnv_x", "Cnv_y", "Cnv_z"):
                axis = "z" if cc == "Cnv" else cc[-1]
                normal = tuple(float(axis == a) for a in "xyz")
                nm.InterfaceDMIField(normal=normal).register(state, name)
            elif cc in ("T", "O"):
                nm.BulkDMIField().register(state, name)
            elif cc in ("D2d", "D2d_x", "D2d_y", "D2d_z"):
                nm.D2dDMIField("z" if cc == "D2d" else cc[-1]).register(state, name)
            else:
                raise UnsupportedError(f"DMI crystal class {cc!r} is not supported.")
        elif isinstance(term, mm.Demag):
            kwargs = {}
            if _is_set(term, "asymptotic_radius"):
                kwargs["p"] = max(float(term.asymptotic_radius), 3.0)
            nm.DemagField(**kwargs).register(state, name)
        elif isinstance(term, mm.RKKY):
            self._rkky(term)
        else:
            raise UnsupportedError(f"Energy term {type(term).__name__} is not supported by neuralmag.ubermag.")
        self.terms.append(name)

    def _zeeman(self, term):
        state, name = self.state, term.name
        if _is_set(term, "tcl_strings"):
            raise UnsupportedError("Zeeman(tcl_strings=...) is OOMMF-specific; use func= with a Python callable.")
        H0 = self.nodal(self.cell_values(term.H, 3, "Zeeman.H"))
        func = term.func if _is_set(term, "func") else (term.wave if _is_set(term, "wave") else None)
        if func is None:
            nm.ExternalField(H0).register(state, name)
        else:
            base = f"{name}_H0"
            setattr(state, base, state.tensor(H0))
            dt = term.dt if _is_set(term, "dt") else None
            f = term.f if _is_set(term, "f") else None
            t0 = term.t0 if _is_set(term, "t0") else 0.0
            if callable(func):  # a number or a 3x3 matrix (9 values) multiplying H
                width = np.asarray(func(0.0), dtype=float).size
                factor = self.time_factor(func, dt, width=width)
            else:
                width, factor = 1, self.time_factor(func, f=f, t0=t0)
            backend = state.backend
            if width == 1:
                body = lambda t, H: H * factor(t)  # noqa: E731
            elif width == 9:
                def body(t, H):
                    M = factor(t)
                    return backend.stack([M[3 * i] * H[..., 0] + M[3 * i + 1] * H[..., 1] + M[3 * i + 2] * H[..., 2]
                                          for i in range(3)], -1)
            else:
                raise ValueError("Zeeman func must return 1 or 9 values.")
            nm.ExternalField(named_function(f"{name}_applied_field", ["t", base], body)).register(state, name)
        self.zeeman.append(name)

    def _rkky(self, term):
        """RKKY between two subregions stacked along z: the facing node layers are coupled by NeuralMag's
        :class:`~neuralmag.InterlayerExchangeField` (the spacer between them must be non-magnetic or at least
        one cell thick)."""
        names = list(term.subregions)
        if len(names) != 2 or any(n not in self.regions for n in names):
            raise ValueError(f"RKKY needs two subregions of the mesh, got {names}.")
        r1, r2 = (self.dfmesh.subregions[n] for n in names)
        zmin, dz = float(self.dfmesh.region.pmin[2]), self.cell[2]
        lower, upper = (r1, r2) if r1.pmax[2] <= r2.pmin[2] + 1e-6 * dz else (r2, r1)
        if lower.pmax[2] > upper.pmin[2] + 1e-6 * dz:
            raise UnsupportedError("RKKY is supported between subregions stacked along z only "
                                   "(the two subregions must not overlap in z).")
        layer1 = int(round((lower.pmax[2] - zmin) / dz))
        layer2 = int(round((upper.pmin[2] - zmin) / dz))
        if layer1 == layer2:
            raise UnsupportedError("RKKY needs a spacer of at least one cell between the two subregions.")
        sigma = float(term.sigma) if _is_set(term, "sigma") else 0.0
        sigma2 = float(term.sigma2) if _is_set(term, "sigma2") else 0.0
        nm.InterlayerExchangeField(layer1, layer2, sigma, sigma2).register(self.state, term.name)

    # ------------------------------------------------------------------ dynamics
    def _dynamics(self, dynamics, temperature):
        mm = _mm()
        state = self.state
        precession = damping = None
        torques = []
        for term in dynamics:
            if isinstance(term, mm.Precession):
                precession = term
            elif isinstance(term, mm.Damping):
                damping = term
            elif isinstance(term, (mm.ZhangLi, mm.Slonczewski)):
                torques.append(term)
            else:
                raise UnsupportedError(f"Dynamics term {type(term).__name__} is not supported by neuralmag.ubermag.")
        gamma0 = precession.gamma0 if precession is not None else mm.consts.gamma0
        state.material.gamma = self.cell_values(gamma0, 1, "Precession.gamma0")
        alpha = damping.alpha if damping is not None else 0.0
        state.material.alpha = self.cell_values(alpha, 1, "Damping.alpha")
        for term in torques:
            if _is_set(term, "tcl_strings"):
                raise UnsupportedError(f"{type(term).__name__}(tcl_strings=...) is OOMMF-specific; use func=.")
            func = term.func if _is_set(term, "func") else None
            dt = term.dt if _is_set(term, "dt") else None
            factor = self.time_factor(func, dt) if func is not None else None
            if isinstance(term, mm.ZhangLi):
                u0 = self.cell_values(term.u, 3, "ZhangLi.u")
                state.material.zhangli_beta = self.cell_values(term.beta if _is_set(term, "beta") else 0.0, 1,
                                                               "ZhangLi.beta")
                self._maybe_timed("zhangli_u", u0, factor)
                _terms.VelocityZhangLi().register(state, "zhangli")
            else:
                state.material.slonczewski_mp = self.cell_values(term.mp, 3, "Slonczewski.mp", normalise=True)
                state.material.slonczewski_P = self.cell_values(term.P, 1, "Slonczewski.P")
                state.material.slonczewski_Lambda = self.cell_values(term.Lambda, 1, "Slonczewski.Lambda")
                eps = term.eps_prime if _is_set(term, "eps_prime") else 0.0
                state.material.slonczewski_eps_prime = self.cell_values(eps, 1, "Slonczewski.eps_prime")
                thickness = float(self.dfmesh.region.pmax[2] - self.dfmesh.region.pmin[2])
                state.material.slonczewski_t = thickness
                self._maybe_timed("slonczewski_J", self.cell_values(term.J, 1, "Slonczewski.J"), factor)
                _terms.UbermagSlonczewski().register(state, "slonczewski")
        if temperature:
            nm.ThermalField(float(temperature)).register(state)
        self.precession = precession is not None

    def _maybe_timed(self, name, value, factor):
        state = self.state
        if factor is None:
            setattr(state, name, value)
            return
        setattr(state, f"{name}0", value)
        setattr(state, name, named_function(name, ["t", f"{name}0"], lambda t, v: v * factor(t)))

    # ------------------------------------------------------------------ results
    def m_result(self) -> np.ndarray:
        """Cell magnetisation (A/m) from the nodal ``state.m``: cell averages renormalised to ``Ms``; cells of
        fixed subregions keep their initial value."""
        nodes = self.state.m.numpy()
        cells = nodes_to_cells(self.state.mesh, nodes)
        norm = np.linalg.norm(cells, axis=-1, keepdims=True)
        unit = np.where(norm > 0, cells / np.where(norm > 0, norm, 1.0), 0.0)
        m = unit * self.Ms[..., None]
        return np.where(self.fixed[..., None], self.m_input, m)

    def mean_m(self, cells: np.ndarray) -> np.ndarray:
        """Volume average of the unit magnetisation over the magnetic cells (Ubermag's mx, my, mz)."""
        unit = cells / np.where(self.Ms > 0, self.Ms, 1.0)[..., None]
        return unit[self.magnetic].mean(axis=0)

    def applied_mT(self, name: str) -> np.ndarray:
        """Mean applied field of Zeeman term ``name`` over the magnetic nodes, as B = mu0 H in mT."""
        h = getattr(self.state, f"h_{name}_applied")
        h = h.numpy() if hasattr(h, "numpy") else self.state.to_numpy(h)
        h = np.broadcast_to(h, self.state.m.numpy().shape)
        mask = magnetic_nodes(self.state.mesh, self.magnetic)
        return MU0 * 1e3 * h[mask].mean(axis=0)

    def to_field(self, cell_array: np.ndarray, nvdim: int):
        """A ``discretisedfield.Field`` on the system's mesh (subregions kept)."""
        df = _df()
        return df.Field(self.dfmesh, nvdim=nvdim, value=cell_array.reshape(self.n + (nvdim,)))
