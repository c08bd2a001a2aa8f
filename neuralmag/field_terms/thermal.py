r"""Thermal fluctuations: the stochastic LLG equation (Brown's thermal field).

At temperature :math:`T` the magnetisation feels a random field :math:`\mathbf{h}_\mathrm{th}` (A/m), white in
time and independent between nodes and components, with

.. math::
    \langle h_{\mathrm{th},i}(\mathbf{x}_n, t)\, h_{\mathrm{th},j}(\mathbf{x}_{n'}, t')\rangle
        = \sigma_n^2\,\delta_{ij}\,\delta_{nn'}\,\delta(t - t'), \qquad
    \sigma_n^2 = \frac{2\alpha k_B T}{\mu_0 M_s \gamma V_n}

(SI: :math:`k_B` J/K, :math:`T` K, :math:`\mu_0 M_s` T, :math:`\gamma` m/(A s) as ``state.material.gamma``,
:math:`V_n` m³), i.e. a field of standard deviation :math:`\sigma_n/\sqrt{\Delta t}` per time step
:math:`\Delta t`. The LLG equation becomes the Stratonovich SDE

.. math::
    \mathrm{d}\mathbf{m} = \mathbf{f}(\mathbf{m})\,\mathrm{d}t
        - \frac{\gamma}{1+\alpha^2}\left[\mathbf{m}\times\sigma\,\circ\mathrm{d}\mathbf{W}
        + \alpha\,\mathbf{m}\times(\mathbf{m}\times\sigma\,\circ\mathrm{d}\mathbf{W})\right]

with the deterministic LLG right-hand side :math:`\mathbf{f}` (``state.dmdt``) and a 3-component Wiener
process :math:`\mathbf{W}_n` per node. Its stationary distribution is the Boltzmann distribution
:math:`\propto \exp(-E[\mathbf{m}]/k_B T)` of the discrete energy (fluctuation–dissipation theorem).

Nodal quantities (the discretisation is nodal, every node is a macrospin): :math:`M_s V_n` is the nodal
magnetic moment :math:`\mu_n = \sum_{C \ni n} M_s \rho |C| / 2^d` (A m², the lumped mass of the field
terms divided by :math:`\mu_0`); :math:`T_n` is the :math:`M_s\rho`-weighted average of the cell-wise
``state.material.T`` over the adjacent cells, and :math:`\alpha, \gamma` enter exactly as in the LLG kernel,
through the :math:`M_s\rho`-weighted averages :math:`K_p = \langle\gamma/(1+\alpha^2)\rangle` and
:math:`K_d = \langle\alpha\gamma/(1+\alpha^2)\rangle` of the precession and damping coefficients:

.. math::
    \sigma_n^2 = \frac{2 k_B T_n K_d}{\mu_0 \mu_n (K_p^2 + K_d^2)},

which is the formula above for uniform :math:`\alpha, \gamma` and keeps the fluctuation–dissipation theorem
exact per node at material interfaces too. Nodes without magnetic material get :math:`\sigma_n = 0`.

Usage::

    state.material.T = 300.0                      # K, cell-wise, may be dynamic (lambda t: ...)
    nm.ThermalField().register(state)             # adds state.sigma_thermal, state.noise_thermal
    llg = nm.LLGSolver(state, dt=1e-13, seed=42)  # stochastic Heun with steps of at most dt (s)
    llg.step(1e-11)

The deterministic field terms are unchanged (the thermal field is not part of ``state.h``); the
:class:`~neuralmag.LLGSolver` created after registering integrates the SDE (see there for seeding and
reproducibility).
"""

from __future__ import annotations

from neuralmag.common import named_function
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import Variable, dV
from neuralmag.functions import VectorFunction

__all__ = ["ThermalField", "K_B"]

#: Boltzmann constant (J/K)
K_B = 1.380649e-23


class ThermalField(FieldTerm):
    r"""Thermal fluctuations at temperature ``state.material.T`` (K): turns the LLG equation into the
    stochastic LLG equation integrated by :class:`~neuralmag.LLGSolver` (see the module docstring for the
    physics and the nodal discretisation).

    Args:
        T: optional temperature (K) set as ``state.material.T`` on registration (a number, a cell tensor or a
            callable of state attributes, e.g. ``lambda t: 300 + 1e12 * t``); otherwise set
            ``state.material.T`` yourself (before the solver runs).

    Registering as ``name`` (default ``"thermal"``) adds

    * ``state.sigma_<name>``: the nodal noise amplitude :math:`\sigma_n` (A s^½/m), a scalar nodal function,
    * ``state.xi_<name>``: the placeholder of the Brownian increment :math:`\Delta\mathbf{W}` (s^½, nodal
      vector) that the solver feeds in,
    * ``state.noise_<name>``: the generated kernel of the increment of :math:`\mathbf{m}` due to the field
      :math:`\sigma\,\Delta\mathbf{W}` (dimensionless), the LLG torque with :math:`\mathbf{h} \to
      \sigma\Delta\mathbf{W}`.

    Material: ``state.material.Ms``, ``alpha``, ``gamma`` (set by :class:`~neuralmag.LLGSolver` if missing)
    and ``T``. Register at most one thermal term per state, before creating the solver.
    """

    default_name = "thermal"
    field_prefix = "noise"
    quadrature_degree = "nodal"

    def __init__(self, T=None):
        self.T = T
        self.name = self.default_name

    def l_expr(self, m, v, dim):
        c, n = "c" * dim, "n" * dim
        gamma = self.coefficient("material__gamma", dim)
        alpha = self.coefficient("material__alpha", dim)
        Ms = Variable("material__Ms", c)
        sigma = Variable(f"sigma_{self.name}", n)
        dw = Variable(f"xi_{self.name}", n, (3,))
        h = sigma * dw
        torque = -gamma / (1 + alpha**2) * (m.cross(h) + alpha * m.cross(m.cross(h)))
        # weighted by μ0 Ms: the lumped-mass division gives the same nodal averages as the LLG kernel
        return MU0 * Ms * torque.dot(v) * dV(dim)

    def register(self, state, name: str | None = None) -> "ThermalField":
        self.name = name or self.default_name
        if self.T is not None:
            state.material.T = self.T
        dim, pbc = state.mesh.dim, state.mesh.pbc
        nodal_sum = state.backend.sde.nodal_sum
        self._read_coefficient_spaces(state)
        nodal = {n for n, s in self._coefficient_spaces.items() if s == "n"}
        alpha_nodal, gamma_nodal = "material__alpha" in nodal, "material__gamma" in nodal

        def sigma(Ms, alpha, gamma, T, rho, dx):
            w = Ms * rho * (dx[0] * dx[1] * dx[2] / 2**dim)  # moment per cell corner (A m²)
            mu = nodal_sum(w, pbc)
            safe = mu + (mu == 0)

            def split(value, on_nodes):
                """(cell-wise factor, node-wise factor) of a coefficient on either space."""
                return (1.0, value) if on_nodes else (value, 1.0)

            # the nodal rule's Ms-weighted average of a product: cell-wise factors are averaged over the
            # adjacent cells, node-wise ones taken as they are
            g_cell, g_node = split(gamma, gamma_nodal)
            p_cell, p_node = split(1 / (1 + alpha**2), alpha_nodal)
            d_cell, d_node = split(alpha / (1 + alpha**2), alpha_nodal)
            kp = nodal_sum(w * g_cell * p_cell, pbc) / safe * g_node * p_node
            kd = nodal_sum(w * g_cell * d_cell, pbc) / safe * g_node * d_node
            tn = nodal_sum(w * T, pbc) / safe
            den = MU0 * mu * (kp**2 + kd**2)
            return state.backend.sqrt(2 * K_B * tn * kd / (den + (den == 0)))

        params = ["material__Ms", "material__alpha", "material__gamma", "material__T", "rho", "dx"]
        func = named_function(f"sigma_{self.name}", params, sigma)
        func.nm_output = ("n" * dim, ())
        setattr(state, f"sigma_{self.name}", func)
        setattr(state, f"xi_{self.name}", VectorFunction(state))
        return super().register(state, self.name)
