"""Lecture 04's explorers: the masks drawn from causal_mask, and receptive fields with the blind spot."""
import pytest
import torch


def test_mask_table_matches_the_seed_and_colour_rules():
    from gm_helpers.widgets.pixel import mask_explorer, mask_table
    assert mask_table(5, "A", "R")["rows"] == ["11111", "11111", "11000", "00000", "00000"]
    assert mask_table(3, "A", "G")["centre_sees"] == ["R"]
    assert mask_table(3, "B", "B")["centre_sees"] == ["R", "G", "B"]
    explorer = mask_explorer()
    explorer.controls["mask_type"].value = "B"
    explorer.controls["kernel_size"].value = 3
    assert explorer.result["rows"] == ["111", "110", "000"]
    assert "centre sees: R" in explorer.figure.axes[0].get_title()


def test_receptive_field_shows_the_blind_spot_and_never_a_leak():
    from gm_helpers.widgets.pixel import receptive_field, receptive_field_explorer
    plain, gated = receptive_field("PixelCNN", 6), receptive_field("Gated PixelCNN", 6)
    assert plain["leak"] == 0 and gated["leak"] == 0
    assert plain["blind"] > 0, "six masked layers still miss part of the past"
    assert gated["blind"] == 0, "the gated stacks see every earlier pixel"
    explorer = receptive_field_explorer(size=9)
    explorer.controls["model"].value = "Gated PixelCNN"
    explorer.controls["row"].value = 0
    explorer.controls["col"].value = 0
    assert explorer.result["seen"] == 0 and explorer.result["past"] == 0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_mask_widget_draws_the_channel_connections_from_causal_mask(k):
    """The widget's kernels and centre table are causal_mask's, so A and B differ per channel."""
    from gm_helpers.models.layers import causal_mask
    from gm_helpers.widgets.pixel import draw_mask, mask_table
    for mask_type in "AB":
        mask = causal_mask(k, mask_type, 3, 3, groups=3)
        for out, channel in enumerate("RGB"):
            result = mask_table(k, mask_type, channel)
            assert torch.equal(result["kernels"], mask[out].int())
            assert torch.equal(result["centre"], mask[:, :, k // 2, k // 2].int())
        fig = draw_mask(result)
        assert len(fig.axes) == 2 and "centre sees: R+G" in fig.axes[0].get_title()
    a, b = mask_table(k, "A", "G")["kernels"], mask_table(k, "B", "G")["kernels"]
    assert a[:, k // 2, k // 2].tolist() == [1, 0, 0] and b[:, k // 2, k // 2].tolist() == [1, 1, 0]
