r"""Oersted field of a cell-wise current density, by FFT convolution with the analytic cuboid kernel.

Biot–Savart, :math:`\mathbf{h}(\mathbf{r}) = \frac{1}{4\pi}\int \mathbf{j}(\mathbf{r}') \times
\frac{\mathbf{r} - \mathbf{r}'}{|\mathbf{r} - \mathbf{r}'|^3}\,\mathrm{d}V'`, averaged over each cell for a
current density that is constant in each cell:

.. math::
    \mathbf{h}_c = \sum_{c'} \mathbf{j}_{c'} \times \mathbf{G}(\mathbf{r}_c - \mathbf{r}_{c'}), \qquad
    \mathbf{G}(\mathbf{R}) = \frac{1}{V} \int_{C}\int_{C'} \frac{\mathbf{r} - \mathbf{r}'}
    {4\pi |\mathbf{r} - \mathbf{r}'|^3}\,\mathrm{d}V'\,\mathrm{d}V.

Like the Newell tensor, :math:`G_x = -\frac{1}{4\pi V}\Delta_x^2\Delta_y^2\Delta_z^2 F(x, y, z)` is a sixth-order
difference (second difference with the cell size along each axis) of one function, here
:math:`F = \int f\,\mathrm{d}x`, the antiderivative in x of Newell's :math:`f` (derived by integration by
parts; checked symbolically, :math:`\partial_x F = f`). :math:`G_y, G_z` follow by permuting the arguments.
The far field integrates :math:`V \mathbf{r}/(4\pi r^3)` against the tent weight by Gauss quadrature, as for
the demagnetisation kernel (:mod:`neuralmag.field_terms.newell`), with the same near/far switch.

Each component is odd along its own axis and even along the others, so its DFT is purely imaginary: the
imaginary parts are stored (``<name>_kernel``, ``(3,) + spectral shape``) and
:math:`\hat{\mathbf{h}} = i\,\hat{\mathbf{j}} \times \mathrm{Im}\,\hat{\mathbf{G}}`.

Nodes: the cell field is carried to the nodes like every field that acts on ``m`` (mass-lumped transpose of
the nodal→cell average, weights :math:`M_s\rho|C|/2^d`), so :math:`\mathbf{h}_n = -\frac{1}{\mu_0 M_n}
\partial E/\partial\mathbf{m}_n` for the Zeeman energy :math:`E = -\mu_0\int M_s\rho\,\mathbf{m}\cdot
\mathbf{h}\,\mathrm{d}V` of the magnetisation in this field.
"""

from __future__ import annotations

import math

import numpy as np

from neuralmag.field_terms import newell
from neuralmag.field_terms.demag import FFTConvolution
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0

__all__ = ["OerstedField", "oersted_F", "oersted_exact", "oersted_far", "oersted_octant",
           "oersted_real_space_kernel", "oersted_kernel_spectrum"]

#: G_x is odd in x, G_y in y, G_z in z
ODD_AXES = ((0,), (1,), (2,))
_safe = newell._safe


def oersted_F(x, y, z):
    r""":math:`F(x, y, z) = \int_0^x f(t, y, z)\,\mathrm{d}t` (odd in x, even in y and z)."""
    y, z = np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    asinh_x = np.arcsinh(x / _safe(np.sqrt(y2 + z2)))
    asinh_y = np.arcsinh(y / _safe(np.sqrt(x2 + z2)))
    asinh_z = np.arcsinh(z / _safe(np.sqrt(x2 + y2)))
    result = x * (x2 / 12.0 - (y2 + z2) / 8.0) * r
    result = result + x * y * (0.5 * z2 - x2 / 6.0) * asinh_y
    result = result + x * z * (0.5 * y2 - x2 / 6.0) * asinh_z
    result = result + (0.25 * y2 * z2 - (y2 * y2 + z2 * z2) / 24.0) * asinh_x
    result = result - 0.5 * x2 * y * z * np.arctan(y * z / _safe(x * r))
    result = result - y * y2 * z / 6.0 * np.arctan(x * z / _safe(y * r))
    result = result - y * z * z2 / 6.0 * np.arctan(x * y / _safe(z * r))
    return result


def oersted_exact(counts, dx):
    """Exact cell-averaged kernel on the offsets ``(i dx, j dy, k dz)``, ``0 <= i < counts[0]`` etc.:
    shape ``(3,) + counts``."""
    dx = np.asarray(dx, dtype=np.float64)
    axes = [np.arange(-1, c + 1, dtype=np.float64) * d for c, d in zip(counts, dx)]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    scale = -1.0 / (4.0 * math.pi * float(np.prod(dx)))
    out = np.empty((3,) + tuple(counts))
    out[0] = newell._second_differences(oersted_F(x, y, z)) * scale
    out[1] = newell._second_differences(oersted_F(y, x, z)) * scale
    out[2] = newell._second_differences(oersted_F(z, x, y)) * scale
    return out


def oersted_far(x, y, z, dx, q=3):
    r"""Far-field kernel at offsets ``(x, y, z)``: :math:`V \int \mathrm{tent}(\mathbf{s})\,
    \frac{\mathbf{r}}{4\pi r^3}\big|_{\mathbf{r}=\mathbf{R}+\mathbf{s}}\,\mathrm{d}\mathbf{s}` by a ``q``-point
    Gauss rule per axis. Returns ``(3,) + shape``."""
    dx = [float(d) for d in dx]
    x, y, z = (np.asarray(v, dtype=np.float64) for v in (x, y, z))
    nodes, weights = newell._TENT_RULES[int(q)]
    out = np.zeros((3,) + np.broadcast_shapes(x.shape, y.shape, z.shape))
    prefactor = float(np.prod(dx)) / (4.0 * math.pi)
    for tx, wx in zip(nodes, weights):
        rx = x + tx * dx[0]
        for ty, wy in zip(nodes, weights):
            ry = y + ty * dx[1]
            rxy2 = rx * rx + ry * ry
            for tz, wz in zip(nodes, weights):
                rz = z + tz * dx[2]
                inv_r2 = 1.0 / (rxy2 + rz * rz)
                a = (prefactor * wx * wy * wz) * inv_r2 * np.sqrt(inv_r2)
                out[0] += a * rx
                out[1] += a * ry
                out[2] += a * rz
    return out


def oersted_octant(counts, dx, p=6.0):
    """The kernel on the non-negative offsets (``(3,) + counts``), exact near, quadrature far."""
    return newell.near_far_octant(counts, dx, newell.switch_radius(dx, p), oersted_exact, oersted_far, ODD_AXES)


def oersted_real_space_kernel(n, dx, pbc=None, p=6.0, images=None):
    """The kernel on the FFT grid of a mesh (``(3,) + padded_shape``); see
    :func:`neuralmag.field_terms.newell.real_space_kernel` for the layout and the periodic images."""
    n = tuple(int(c) for c in n)
    pbc = tuple(bool(b) for b in pbc) if pbc is not None else (False,) * len(n)
    images = newell.check_images(pbc, images)
    return newell.assemble(oersted_octant(newell.octant_counts(n, pbc, images), dx, p), n, pbc, ODD_AXES)


def oersted_kernel_spectrum(n, dx, pbc=None, p=6.0, images=None):
    """Imaginary part of the real DFT of :func:`oersted_real_space_kernel` (the real part vanishes)."""
    return newell.real_spectrum(oersted_real_space_kernel(n, dx, pbc, p, images), imaginary=True)


class OerstedField(FieldTerm):
    r"""Oersted field of a cell-wise current density, by FFT convolution with the analytic cuboid kernel.

    .. math::
        \mathbf{h}(\mathbf{r}) = \frac{1}{4\pi}\int \mathbf{j}(\mathbf{r}') \times
        \frac{\mathbf{r} - \mathbf{r}'}{|\mathbf{r} - \mathbf{r}'|^3}\,\mathrm{d}V', \qquad
        E = -\mu_0 \int_\Omega M_s \rho\, \mathbf{m}\cdot\mathbf{h}\,\mathrm{d}V

    (cell averages of :math:`\mathbf{h}`, see :mod:`neuralmag.field_terms.oersted`). The current density is the
    state attribute ``current`` (default ``"j"``, A/m²): a cell-wise vector (``nm.VectorFunction(state,
    "c" * dim)``) or a dynamic attribute returning one (e.g. a pulse ``lambda t: ...``). It flows where it is
    set, independently of ``rho``. Material: ``state.material.Ms`` (A/m), used for the nodal weights and the
    energy. Periodic mesh axes sum ``pbc_images`` images on each side; ``p`` is the near/far switch of the
    kernel (as for :class:`~neuralmag.field_terms.demag.DemagField`).

    Registering under ``name`` (default ``"oersted"``) adds ``h_<name>`` (A/m, nodal), ``E_<name>`` (J),
    ``e_<name>`` (J/m³, cell-wise) and the kernel ``<name>_kernel``.
    """

    default_name = "oersted"

    def __init__(self, current: str = "j", p: float = 6.0, pbc_images=None):
        if not str(current).isidentifier():
            raise ValueError(f"current must name a state attribute; got {current!r}.")
        self.current = str(current)
        self.p = float(p)
        self.pbc_images = pbc_images

    def kernel(self, state):
        """Imaginary part of the kernel spectrum for the mesh of ``state`` (float64, ``(3,) + spectral``)."""
        mesh = state.mesh
        return oersted_kernel_spectrum(mesh.n, mesh.dx, mesh.pbc, self.p, self.pbc_images)

    def register(self, state, name: str | None = None) -> "OerstedField":
        name = name or self.default_name
        dim = state.mesh.dim
        kernel_name = f"{name}_kernel"
        conv = FFTConvolution(state)
        setattr(state, kernel_name, state.tensor(conv.spectral_layout(self.kernel(state))))
        volume = conv.cell_volume

        def cell_field(j, kernel, value_first=False):
            J = conv.forward(j)
            X, Y, Z = J[0], J[1], J[2]
            gx, gy, gz = kernel[0], kernel[1], kernel[2]
            H = conv.backend.stack([Y * gz - Z * gy, Z * gx - X * gz, X * gy - Y * gx], 0) * 1j
            return conv.inverse(H, value_first)

        def field(Ms, rho, j, kernel):
            return conv.cells_to_nodes(cell_field(j, kernel, value_first=True), Ms * rho)

        def energy(m, Ms, rho, j, kernel):
            M = (Ms * rho)[..., None] * conv.cell_average(m)
            return (-MU0 * volume) * conv.total(M * cell_field(j, kernel))

        def energy_density(m, Ms, rho, j, kernel):
            M = (Ms * rho)[..., None] * conv.cell_average(m)
            return -MU0 * conv.backend.sum(M * cell_field(j, kernel), [dim])

        params = ["m", "material__Ms", "rho", self.current, kernel_name]
        self._set_functions(state, name, params[1:], [("h", field, "Oersted field (A/m) at the nodes.")])
        self._set_functions(state, name, params, (
            ("E", energy, "Zeeman energy of m in the Oersted field (J)."),
            ("e", energy_density, "Zeeman energy density in the Oersted field (J/m^3)."),
        ))
        return self
