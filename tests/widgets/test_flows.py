"""Lecture 07's explorer: the slider spans the chosen flow's layers; each setting redraws."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from gm_helpers.checks import InvalidArgument  # noqa: E402
from gm_helpers.models.flows import realnvp  # noqa: E402
from gm_helpers.widgets.flows import flow_layers_explorer, layers_result  # noqa: E402
from tests.helpers import randomised  # noqa: E402


@pytest.fixture(scope="module")
def flows():
    return {"ring": randomised(realnvp(2, 2, (8,)), seed=1, scale=0.3),
            "grid": randomised(realnvp(2, 4, (8,)), seed=2, scale=0.3)}


def test_the_result_has_the_density_on_a_grid_and_the_samples(flows):
    result = layers_result(flows, "grid", 2, res=40, num_samples=100)
    assert result["density"].shape == (40, 40) and result["samples"].shape == (100, 2)
    assert result["num_layers"] == 5 and (result["density"] >= 0).all()
    with pytest.raises(InvalidArgument, match="data must be one of"):
        layers_result(flows, "moons", 0)


def test_the_slider_follows_the_flow_and_every_change_redraws(flows):
    explorer = flow_layers_explorer(flows)
    assert explorer.controls["layers"].max == 3 and explorer.result["layers"] == 3
    first = explorer.figure
    explorer.controls["data"].value = "grid"
    assert explorer.controls["layers"].max == 5 and explorer.figure is not first
    explorer.controls["layers"].value = 0
    base = explorer.result["density"]
    assert explorer.result["layers"] == 0 and explorer.error is None
    # the base is N(0, I): its peak, 1 / (2 pi), at the centre of the grid
    row, col = divmod(base.argmax().item(), base.shape[1])
    assert abs(row - base.shape[0] / 2) <= 1 and abs(col - base.shape[1] / 2) <= 1
    assert base.max().item() == pytest.approx(1 / (2 * torch.pi), rel=0.01)


def test_the_square_fits_the_samples_unless_given(flows):
    fitted = layers_result(flows, "ring", 0, res=20, num_samples=2000)
    assert 2.5 < fitted["lim"] < 4.5                  # N(0, I): 99.5 % of max|z_i| below ~3.0
    assert layers_result(flows, "ring", 0, lim=2.0, res=20)["lim"] == 2.0


def test_the_strip_draws_a_column_per_setting_and_refuses_none(flows):
    import matplotlib.pyplot as plt

    from gm_helpers.widgets.flows import draw_layer_strip
    results = [layers_result(flows, "grid", j, res=20, num_samples=50) for j in (0, 2, 5)]
    fig = draw_layer_strip(results)
    assert len(fig.axes) == 6 and "after 5 of 5 layers" in fig.axes[2].get_title()
    plt.close(fig)
    with pytest.raises(InvalidArgument, match="at least one"):
        draw_layer_strip([])
