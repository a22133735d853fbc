import numpy as np
import pytest

import landscapes as ls


def test_surface_layout_matches_pointwise_evaluation():
    surface = ls.loss_surface("pascanu", (30, 20), T=20)
    assert surface.loss.shape == surface.grad_norm.shape == (20, 30)
    assert surface.x[0] == 3.5 and surface.x[-1] == 6.5 and surface.y[0] == -4.0
    j, i = 7, 11
    run = ls.simulate("pascanu", (surface.x[i], surface.y[j]), lr=0.1, steps=1, T=20)
    assert surface.loss[j, i] == pytest.approx(run.loss[0], rel=1e-12)
    assert surface.grad_norm[j, i] == pytest.approx(run.grad_norm[0], rel=1e-12)


def test_custom_window_and_validation():
    surface = ls.loss_surface("ravine", 5, window=((0, 1), (2, 3)))
    np.testing.assert_allclose(surface.x, np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="resolution"):
        ls.loss_surface("ravine", 1)
    with pytest.raises(ValueError, match="window"):
        ls.loss_surface("ravine", 5, window=((1, 0), (2, 3)))
    with pytest.raises(ValueError, match="steepness must lie in"):
        ls.loss_surface("ravine", 5, steepness=0.5)
