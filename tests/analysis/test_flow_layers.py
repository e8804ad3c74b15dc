"""The densities inside a flow: p_0 is the base, p_K the model, each integrates to 1."""
import pytest
import torch

from gm_helpers.analysis.flow_layers import log_density_after, samples_after
from gm_helpers.checks import InvalidArgument
from gm_helpers.models.flows import realnvp, standard_normal_log_prob
from tests.helpers import randomised


@pytest.fixture(scope="module")
def flow():
    return randomised(realnvp(2, 3, (16,)), scale=0.3, dtype=torch.float64)


def test_the_first_is_the_base_and_the_last_is_the_model(flow):
    x = torch.randn(50, 2, dtype=torch.float64)
    assert torch.allclose(log_density_after(flow, x, 0), standard_normal_log_prob(x))
    assert torch.allclose(log_density_after(flow, x, len(flow.layers)), flow.log_prob(x).detach())
    z = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(samples_after(flow, z, 0), z)
    assert torch.allclose(samples_after(flow, z, len(flow.layers)), flow.inverse(z)[0])


@pytest.mark.parametrize("j", [1, 2, 3])
def test_every_intermediate_density_integrates_to_one(flow, j):
    axis = torch.linspace(-15, 15, 601, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    mass = log_density_after(flow, grid, j).exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("j", [-1, 5, 1.0, True])
def test_steps_outside_the_flow_are_refused(flow, j):
    with pytest.raises(InvalidArgument, match="j must be an integer"):
        log_density_after(flow, torch.zeros(1, 2, dtype=torch.float64), j)
