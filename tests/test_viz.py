"""The plots: image grids, labelled curves, learning curves from manifest entries."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gm_helpers.viz import plot_param_counts, plot_params_vs_nll, show_images


def test_show_images_shapes():
    ax = show_images(np.zeros((6, 16)), nrow=3, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1
    with pytest.raises(ValueError, match="square"):
        show_images(np.zeros((4, 10)))


def test_plot_helpers_label_every_curve():
    ax = plot_param_counts(range(1, 20), ks=(2, 4))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["full joint", "independent", "Markov", "AR(2)", "AR(4)"]
    rows = [{"name": "a", "params": 3, "train_nll": 2.0, "test_nll": 2.1},
            {"name": "b", "params": 30, "train_nll": 1.5, "test_nll": 1.9}]
    ax = plot_params_vs_nll(rows, ax=plt.subplots()[1])
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["a", "b"]


def test_plot_learning_curves_from_manifest_entries():
    """Curves at the validated epochs' wall times; entries without a history are named."""
    from gm_helpers.viz import plot_learning_curves
    entries = {"a": {"history": {"seconds": [60, 120, 180], "valid_nll": [99.0, 95.0],
                                 "valid_epoch": [2, 3]}},
               "old": {"test_nll": 90.0},
               "b": {"history": {"seconds": [30, 60], "valid_nll": [97.0, 96.0]}}}
    ax = plot_learning_curves(entries, reference=91.1)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["a"].get_xdata()) == [2.0, 3.0] and list(lines["a"].get_ydata()) == [99, 95]
    assert list(lines["b"].get_xdata()) == [0.5, 1.0]
    assert "old: no curve recorded" in lines
    plt.close(ax.figure)
    entries["a"]["history"]["train_nll"] = [120.0, 100.0, 90.0]
    ax = plot_learning_curves({"a": entries["a"]}, train=True)
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [120.0, 100.0, 90.0]
    assert list(dashed[0].get_xdata()) == [1.0, 2.0, 3.0]  # every epoch, at its minute


def test_checkpoint_curves_of_a_run_of_steps_and_of_a_flow_posterior():
    """A 2-d flow's curves are keyed by optimizer step (its entry records ``steps``, not epochs):
    plotted per step, titled in steps; an IAF posterior's loss is a bound, labelled so, with
    the kept epoch marked."""
    from gm_helpers.viz import plot_checkpoint_curves
    manifest = {
        "flow.pt": {"model": "spline_flow", "steps": 500, "wall_time_s": 90.0,
                    "history": {"step": [250, 500], "train_nll": [0.5, 0.2],
                                "valid_nll": [0.3, 0.1]}},
        "iaf.pt": {"model": "iaf_vae", "epochs": 3, "best_epoch": 2, "wall_time_s": 60.0,
                   "config": {"flow_steps": 2},
                   "history": {"train_nll": [99.0, 97.0, 96.0], "valid_nll": [99.5, 98.0, 98.2],
                               "valid_epoch": [1, 2, 3], "seconds": [20, 40, 60]}}}
    fig = plot_checkpoint_curves(["flow.pt", "iaf.pt"], manifest)
    flow, iaf = fig.axes[:2]
    lines = {line.get_label(): line for line in flow.get_lines()}
    assert list(lines["train"].get_xdata()) == [250, 500]
    assert list(lines["validation"].get_xdata()) == [250, 500] and "kept" not in lines
    assert flow.get_xlabel() == "step" and "500 steps" in flow.get_title()
    assert flow.get_ylabel() == "NLL (nats)"
    lines = {line.get_label(): line for line in iaf.get_lines()}
    assert list(lines["kept"].get_xdata()) == [2] and list(lines["kept"].get_ydata()) == [98.0]
    assert iaf.get_xlabel() == "epoch" and "3 epochs" in iaf.get_title()
    assert iaf.get_ylabel() == "loss: -bound (nats)"


@pytest.mark.parametrize("batch, channels, nrow", [(7, 1, 3), (16, 3, 16), (10, 1, 10), (5, 3, 8)])
def test_image_grid_lays_images_out_as_torchvision_does(batch, channels, nrow):
    """The course's grid (no torchvision import in the lectures) equals make_grid's layout;
    make_grid turns one channel into three, image_grid keeps one."""
    from torchvision.utils import make_grid

    from gm_helpers.viz import image_grid
    x = torch.rand(batch, channels, 6, 5, generator=torch.Generator().manual_seed(0))
    ours = image_grid(x, nrow=nrow, padding=1, pad_value=0.5)
    theirs = make_grid(x, nrow=nrow, padding=1, pad_value=0.5)
    assert torch.equal(ours.expand_as(theirs) if channels == 1 else ours, theirs)


def test_the_lectures_helpers_do_not_import_torchvision():
    """torchvision's import costs 1.6 s and about 190 MB (its model zoo, torch.compile's
    modules): gm_helpers' plots and widgets do without it."""
    import subprocess
    import sys
    code = ("import sys, gm_helpers.viz, gm_helpers.widgets, gm_helpers.analysis.sample_quality; "
            "print('torchvision' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
