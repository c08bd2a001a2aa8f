r"""Demagnetisation (stray field) by FFT convolution with the Newell tensor.

The scheme, for nodal :math:`\mathbf{m}` and cell-wise :math:`M_s` and :math:`\rho`:

1. nodes to cells: :math:`\mathbf{M}_c = M_{s,c}\,\rho_c\,\bar{\mathbf{m}}_c`, with :math:`\bar{\mathbf{m}}_c`
   the mean of the :math:`2^d` corner values (the cell average of the multilinear interpolant);
2. cell field :math:`\mathbf{h}_c = -\sum_{c'} N(\mathbf{r}_c - \mathbf{r}_{c'})\,\mathbf{M}_{c'}` with the
   cell-averaged Newell tensor (:mod:`neuralmag.field_terms.newell`), by a zero-padded real FFT (padding
   only along non-periodic axes); missing axes of 1D/2D meshes are one cell of the given thickness;
3. cells to nodes, the transpose of step 1 weighted with the lumped mass:
   :math:`\mathbf{h}_n = \sum_{c \ni n} M_{s,c}\rho_c \mathbf{h}_c / \sum_{c \ni n} M_{s,c}\rho_c`
   (zero where the denominator vanishes).

The energy :math:`E = -\frac{\mu_0}{2}\sum_c |C|\,\mathbf{M}_c\cdot\mathbf{h}_c` is then exactly
:math:`-\frac{\mu_0}{2}\int M_s\,\mathbf{m}\cdot\mathbf{h}\,\mathrm{d}V` with the lumped nodal mass, and the
nodal field is exactly :math:`\mathbf{h}_n = -\frac{1}{\mu_0 M_n}\frac{\partial E}{\partial \mathbf{m}_n}`
(:math:`M_n = \sum_{c\ni n} M_{s,c}\rho_c|C|/2^d`), as every other NeuralMag field term.

The kernel spectrum is computed once, in float64 NumPy, when the term is registered and stored as the state
attribute ``<name>_kernel`` (cast to the state's dtype); resolved functions take it as a constant leaf. All
runtime operations are differentiable with respect to ``m``, ``material.Ms`` and ``rho``.
"""

from __future__ import annotations

from neuralmag.common import named_function
from neuralmag.field_terms import newell
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0

__all__ = ["DemagField", "FFTConvolution"]


class FFTConvolution:
    """Backend-neutral pieces shared by the FFT field terms: node/cell transfer and the FFT convolution.

    Built for one mesh and backend; uses only ``state.backend.fft`` (``rfftn``, ``irfftn``, ``roll``,
    ``pad``), ``state.backend.stack``/``sum`` and tensor arithmetic, so it runs (and differentiates) on both
    backends.
    """

    def __init__(self, state):
        mesh = state.mesh
        self.dim, self.n, self.pbc = mesh.dim, tuple(mesh.n), tuple(mesh.pbc)
        self.shape = newell.padded_shape(self.n, self.pbc)
        self.axes = newell.fft_axes(self.shape)
        self.cell_volume = mesh.cell_volume
        self.backend = state.backend
        self.fft = state.backend.fft

    # ------------------------------------------------------------------ nodes <-> cells
    def cell_average(self, x):
        """Mean of the ``2^dim`` corner values of each cell (nodal ``x`` with trailing value axes)."""
        for axis in range(self.dim):
            if self.pbc[axis]:
                x = 0.5 * (x + self.fft.roll(x, -1, axis))
            else:
                x = 0.5 * (x[(slice(None),) * axis + (slice(None, -1),)] + x[(slice(None),) * axis + (slice(1, None),)])
        return x

    def node_sum(self, y):
        """Sum over the cells adjacent to each node (``2^dim`` times the transpose of :meth:`cell_average`)."""
        for axis in range(self.dim):
            if self.pbc[axis]:
                y = y + self.fft.roll(y, 1, axis)
            else:
                y = self.fft.pad(y, axis, 0, 1) + self.fft.pad(y, axis, 1, 0)
        return y

    def cells_to_nodes(self, h, weight):
        r"""Weighted transpose of :meth:`cell_average`: :math:`\sum_{c\ni n} w_c h_c / \sum_{c\ni n} w_c`
        (zero where the weights vanish); ``h`` has a trailing vector axis of 3, ``weight`` is a cell scalar."""
        summed = self.node_sum(self.backend.stack([weight * h[..., 0], weight * h[..., 1], weight * h[..., 2],
                                                   weight], -1))
        denominator = summed[..., 3:]
        return summed[..., :3] / (denominator + (denominator == 0))

    # ------------------------------------------------------------------ convolution
    def forward(self, x):
        """Spectrum of the cell array ``x`` (trailing value axis kept), zero-padded to the FFT grid."""
        if not self.axes:
            return x
        return self.fft.rfftn(x, [self.shape[a] for a in self.axes], self.axes)

    def inverse(self, x):
        """Cell array from a spectrum (the zero padding cut off)."""
        if not self.axes:
            return x
        x = self.fft.irfftn(x, [self.shape[a] for a in self.axes], self.axes)
        return x[tuple(slice(0, c) for c in self.n)]

    def tensor_product(self, kernel, x):
        r"""Spectrum of :math:`N * \mathbf{x}` for a symmetric tensor kernel (6 real spectra
        ``xx, yy, zz, xy, xz, yz`` along the first axis) and the spectrum ``x`` of a vector field."""
        X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
        kxx, kyy, kzz, kxy, kxz, kyz = (kernel[i] for i in range(6))
        return self.backend.stack([kxx * X + kxy * Y + kxz * Z,
                                   kxy * X + kyy * Y + kyz * Z,
                                   kxz * X + kyz * Y + kzz * Z], -1)

    def total(self, x):
        return self.backend.sum(x, range(len(x.shape)))


class DemagField(FieldTerm):
    r"""Demagnetisation field by FFT convolution with the Newell tensor.

    .. math::
        E = -\frac{\mu_0}{2} \int_\Omega M_s \rho\, \mathbf{m} \cdot \mathbf{h}\, \mathrm{d}V, \qquad
        \mathbf{h}_c = -\sum_{c'} N(\mathbf{r}_c - \mathbf{r}_{c'})\, M_{s,c'} \rho_{c'}\, \bar{\mathbf{m}}_{c'}

    (see :mod:`neuralmag.field_terms.demag` for the discretisation). Material: ``state.material.Ms`` (A/m,
    cell-wise); the region density ``state.rho`` weights the magnetisation. Works on 1D (wire of
    cross-section ``dx[1] * dx[2]``), 2D (film of thickness ``dx[2]``) and 3D meshes, with periodic boundary
    conditions along the periodic axes of the mesh.

    Args:
        p: distance beyond which the kernel uses the far-field approximation, in geometric-mean cell sizes
            :math:`(\Delta x \Delta y \Delta z)^{1/3}` (at least 3 of the largest cell size). The default
            balances the rounding of the exact Newell formula against the error of the far field; the
            kernel is then accurate to ~5e-11 relative (see :mod:`neuralmag.field_terms.newell`).
        pbc_images: number ``K`` of periodic images on each side along periodic mesh axes (a number or one
            per mesh axis; default 10): the kernel sums :math:`N(\mathbf{r} + i L)` for :math:`|i| \le K`.

    Registering under ``name`` (default ``"demag"``) adds ``h_<name>`` (A/m, nodal), ``E_<name>`` (J),
    ``e_<name>`` (J/m³, cell-wise) and the kernel spectrum ``<name>_kernel`` (a constant tensor).
    The kernel is computed for the mesh at registration; register again after changing the mesh.
    """

    default_name = "demag"

    def __init__(self, p: float = 6.0, pbc_images=None):
        if not p >= 0:
            raise ValueError(f"p must be a non-negative distance (in cells); got {p}.")
        self.p = float(p)
        self.pbc_images = pbc_images

    def kernel(self, state):
        """The kernel spectrum for the mesh of ``state`` (float64 NumPy, ``(6,) + spectral shape``)."""
        mesh = state.mesh
        return newell.kernel_spectrum(mesh.n, mesh.dx, mesh.pbc, self.p, self.pbc_images)

    def register(self, state, name: str | None = None) -> "DemagField":
        name = name or self.default_name
        dim = state.mesh.dim
        kernel_name = f"{name}_kernel"
        setattr(state, kernel_name, state.tensor(self.kernel(state)))
        conv = FFTConvolution(state)
        volume = conv.cell_volume

        def magnetisation(m, Ms, rho):
            return (Ms * rho)[..., None] * conv.cell_average(m)

        def cell_field(M, kernel):
            return -conv.inverse(conv.tensor_product(kernel, conv.forward(M)))

        def field(m, Ms, rho, kernel):
            M = magnetisation(m, Ms, rho)
            return conv.cells_to_nodes(cell_field(M, kernel), Ms * rho)

        def energy(m, Ms, rho, kernel):
            M = magnetisation(m, Ms, rho)
            return (-0.5 * MU0 * volume) * conv.total(M * cell_field(M, kernel))

        def energy_density(m, Ms, rho, kernel):
            M = magnetisation(m, Ms, rho)
            return (-0.5 * MU0) * conv.backend.sum(M * cell_field(M, kernel), [dim])

        params = ["m", "material__Ms", "rho", kernel_name]
        for kind, impl, output, doc in (
            ("h", field, ("n" * dim, (3,)), "Demagnetisation field (A/m) at the nodes."),
            ("E", energy, None, "Demagnetisation energy (J)."),
            ("e", energy_density, ("c" * dim, ()), "Demagnetisation energy density (J/m^3) per cell."),
        ):
            func = named_function(f"{kind}_{name}", params, impl)
            func.__doc__, func.nm_output = doc, output
            setattr(state, f"{kind}_{name}", func)
        return self

