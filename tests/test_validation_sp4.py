"""µMAG standard problem 4 against the OOMMF reference curve (../shared/reference/sp4_field1_oommf_my.csv).

Default suite: the 2D film at 5 nm, S-state by energy minimisation and the first 50 ps of field 1, both
backends: the S-state's ⟨m_y⟩ and the early dynamics follow OOMMF closely (measured max deviation 0.0009 over
the 50 ps; the cell-average demag grid, ``DemagField(grid="cell")``, is 0.0020 off by then and 0.064 by 1 ns).
Slow (``python -m pytest -m slow tests/test_validation_sp4.py``): the full nanosecond in 2D and 3D, where the
issue's goal is max |⟨m_y⟩ − OOMMF| ≤ 0.02, plus Ubermag's eye-norm (0.7 < max⟨m_y⟩ < 0.8, −0.5 < min < −0.4).
"""

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import load_demo

sp4 = load_demo("sp4")
pytestmark = pytest.mark.skipif(not sp4.REFERENCE.exists(), reason="needs ../shared/reference (OOMMF curve)")


def deviation(t, my):
    return sp4.compare_with_oommf(t, my)[0]


def test_sp4_s_state_and_first_50ps(backend, float64):
    t, m, info = sp4.run(dim=2, field=1, t_end=5e-11, dt=1e-11)
    assert info["minimizer_iterations"] < 2000
    ref = np.loadtxt(sp4.REFERENCE, delimiter=",", skiprows=1)
    assert m[0, 1] == pytest.approx(ref[0, 1], abs=3e-3)  # S-state <m_y> = 0.1260 (OOMMF)
    assert m[0, 0] == pytest.approx(0.967, abs=3e-3)
    assert abs(m[0, 2]) < 1e-6  # in plane by symmetry
    assert m[-1, 1] > 0.3  # the field has turned m towards +y (OOMMF: 0.325 at 50 ps)
    assert deviation(t, m[:, 1]) < 1.5e-3


@pytest.mark.slow
@pytest.mark.parametrize("dim", [2, 3])
def test_sp4_field1_one_nanosecond(backend, float64, dim):
    t, m, info = sp4.run(dim=dim, field=1, t_end=1e-9)
    assert deviation(t, m[:, 1]) <= 0.02
    assert 0.7 < m[:, 1].max() < 0.8
    assert -0.5 < m[:, 1].min() < -0.4
