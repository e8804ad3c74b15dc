"""The block diagrams: each is a Figure whose texts carry the labels the lectures rely on, and
every bad argument is refused with a message naming it."""
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

from gm_helpers.diagrams.autoregressive import multiscale_orders, nade_weight_sharing
from gm_helpers.diagrams.drawing import COLOURS
from gm_helpers.diagrams.flows import coupling_layer
from gm_helpers.diagrams.gan import gan_loop
from gm_helpers.diagrams.latent import elbo_gap, vae_diagram
from gm_helpers.diagrams.taxonomy import TAXONOMY, taxonomy


def plain(text: str) -> str:
    """Mathtext as a reader sees it: '$\\mathrm{KL}(q_\\phi(z\\,|\\,x)\\,\\|\\,p(z))$' ->
    'KL(q(z|x) || p(z))' (no dollars, braces, spacing commands or phi/theta subscripts)."""
    text = text.replace("$", "").replace("\\|", "\0").replace("\\epsilon", "ε")   # \0: '||'
    text = re.sub(r"_\\(phi|theta)", "", text)
    text = re.sub(r"\\(mathrm|mathbb|mathcal|hat)", "", text)
    text = re.sub(r"\\[,;! ]|\\quad", " ", text).replace("{", "").replace("}", "")
    text = re.sub(r"\\(log|sigma|mu|sim|odot|leq|times|in|theta|phi)\b", lambda m: m[1], text)
    text = re.sub(r"\s*\0\s*", " || ", re.sub(r"\s*\|\s*", "|", text))
    return re.sub(r"[ \t]+", " ", text)


def texts(fig: Figure) -> str:
    """Every string drawn on the figure (boxes, labels, legend, title), read as plain text."""
    return "\n".join(plain(t.get_text()) for t in fig.findobj(Text) if t.get_text())


def test_plain_reads_mathtext_as_the_brief_writes_it():
    assert plain(r"$\mathrm{KL}(q_\phi(z\,|\,x)\,\|\,p(z))$") == "KL(q(z|x) || p(z))"
    assert plain(r"$\mathbb{E}_q[\log p_\theta(x\,|\,z)]$") == "E_q[log p(x|z)]"
    assert plain(r"$z = \mu + \sigma \odot \epsilon$") == "z = mu + sigma odot ε"


@pytest.mark.parametrize("highlight", [None, 1, 3, "8", "NADE", "pixelcnn", "GAN", "gsn"])
def test_taxonomy_names_every_leaf_and_its_lecture(highlight):
    fig = taxonomy(highlight=highlight)
    assert isinstance(fig, Figure)
    drawn = texts(fig)
    for label in ("Explicit\ndensity", "Implicit\ndensity", "Tractable density",
                  "Approximate density", "Direct", "Markov chain", "FVSBN", "NADE", "MADE",
                  "PixelRNN / PixelCNN", "Normalizing flows", "VAE", "Boltzmann machines", "GAN",
                  "GSN", "Diffusion / score-based"):
        assert label in drawn, label
    tags = [t.get_text() for t in fig.axes[0].texts              # the leaves' tags, top to bottom
            if t.get_text().startswith(("lecture", "not")) and "01" not in t.get_text()]
    assert [tag.split("\n")[0] for tag in tags] == [
        "lectures 02–04", "lecture 07", "lecture 05", "lecture 08", "not in this course",
        "lecture 06", "not in this course"]
    assert len(tags) == len(TAXONOMY)
    assert ("this lecture" in drawn or "this map" in drawn) == (highlight is not None)


def test_taxonomy_highlight_marks_the_right_leaf():
    for highlight, tag in ((3, "lectures 02–04"), ("VAE", "lecture 05"), (7, "lecture 07"),
                           ("score-based", "lecture 08"), ("GAN", "lecture 06")):
        drawn = texts(taxonomy(highlight=highlight))
        assert f"{tag}\n◀ this lecture" in drawn, highlight
        plt.close("all")
    assert "lecture 01:\nthis map" in texts(taxonomy(highlight=1))


@pytest.mark.parametrize("bad", [0, 9, 4.0, True, "WaveNet", "", ["NADE"]])
def test_taxonomy_refuses_an_unknown_highlight(bad):
    with pytest.raises(ValueError, match="highlight"):
        taxonomy(highlight=bad)


def test_nade_colours_each_column_of_w_the_same_wherever_it_is_used():
    D, H = 4, 3
    fig = nade_weight_sharing(D=D, H=H)
    drawn = texts(fig)
    for d in range(1, D + 1):
        assert f"x_{d}" in drawn and f"h_{d}" in drawn
    assert "p(x_1)" in drawn and "p(x_3|x_<3)" in drawn
    assert "a_d+1 = a_d + W_:,d x_d" in drawn          # the running sum
    # the weight edges (plain lines): x_j -> every unit of every later h_d, in column j's colour
    ax = fig.axes[0]
    inputs = {int(plain(t.get_text())[2:]): t.get_position()[0] for t in ax.texts
              if re.fullmatch(r"\$x_\{\d\}\$", t.get_text())}
    assert sorted(inputs) == list(range(1, D + 1))
    colours = {}
    for p in ax.patches:
        if isinstance(p, FancyArrowPatch) and type(p.get_arrowstyle()).__name__ == "Curve":
            x0 = p.get_path().vertices[0][0]
            j = min(inputs, key=lambda i: abs(inputs[i] - x0))    # the input it starts from
            colours.setdefault(j, []).append(tuple(p.get_edgecolor()))
    assert sorted(colours) == list(range(1, D))                 # x_D feeds no hidden layer
    for j, used in colours.items():
        assert len(used) == H * (D - j) and len(set(used)) == 1, j    # one colour per column
    assert len({used[0] for used in colours.values()}) == D - 1     # distinct columns differ
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [plain(t) for t in legend] == [f"W_:,{j}" for j in range(1, D)]


@pytest.mark.parametrize("D, H", [(1, 1), (2, 1), (8, 8)])
def test_nade_draws_every_size_it_accepts(D, H):
    assert isinstance(nade_weight_sharing(D=D, H=H), Figure)


@pytest.mark.parametrize("kwargs, name", [({"D": 0}, "D"), ({"H": 0}, "H"), ({"D": 9}, "D"),
                                          ({"H": 2.5}, "H"), ({"D": "4"}, "D")])
def test_nade_refuses_bad_sizes(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        nade_weight_sharing(**kwargs)


def test_vae_shows_noise_both_elbo_terms_and_both_networks():
    fig = vae_diagram()
    assert isinstance(fig, Figure)
    drawn = texts(fig)
    for label in ("ε", "N(0, I)", "z = mu + sigma odot ε", "encoder", "decoder", "q(z|x)",
                  "p(x|z)", "KL(q(z|x) || p(z))", "E_q[log p(x|z)]", "recognition network",
                  "generation network", "logits", "gradient of the ELBO", "outside\nthe gradient"):
        assert label in drawn, label


def test_vae_draws_no_gradient_into_eps():
    """eps has one arrow, grey and out of it into z; no red (gradient) arrow touches it."""
    ax = vae_diagram().axes[0]
    centre = lambda p: (round(p.get_x() + p.get_width() / 2, 3), round(p.get_y() + p.get_height() / 2, 3))
    boxes = {plain(t.get_text()): next(p for p in ax.patches if isinstance(p, FancyBboxPatch)
                                       and centre(p) == tuple(round(v, 3) for v in t.get_position()))
             for t in ax.texts if t.get_text() in (r"$\epsilon \sim \mathcal{N}(0, I)$",
                                                   r"$z = \mu + \sigma \odot \epsilon$")}
    eps, z = boxes["ε sim N(0, I)"], boxes["z = mu + sigma odot ε"]
    touching = [p for p in ax.patches if isinstance(p, FancyArrowPatch) and eps in (p.patchA, p.patchB)]
    assert len(touching) == 1 and touching[0].patchA is eps and touching[0].patchB is z
    red = COLOURS["loss"][1]
    assert to_hex(touching[0].get_edgecolor()) != red
    gradients = [p for p in ax.patches if isinstance(p, FancyArrowPatch) and to_hex(p.get_edgecolor()) == red]
    assert len(gradients) >= 6 and all(p.patchA is not eps and p.patchB is not eps for p in gradients)


@pytest.mark.parametrize("k", [1, 5])
def test_gan_loop_shows_both_networks_and_k(k):
    fig = gan_loop(k=k)
    assert isinstance(fig, Figure)
    drawn = texts(fig)
    for label in ("G", "D", f"k = {k}", "times k", "z sim p(z)", "x sim p_data", "D(x)",
                  "D(G(z))", "log D(x) + log(1 - D(G(z)))", "descend log(1 - D(G(z)))",
                  "ascend log D(G(z))", "non-saturating", "next iteration"):
        assert label in drawn, label
    assert ("times" in drawn.split(f"k = {k} ")[1].split("\n")[0]) == (k > 1)  # 1 time, 5 times


@pytest.mark.parametrize("bad", [0, -1, 1.5, None])
def test_gan_loop_refuses_a_bad_k(bad):
    with pytest.raises(ValueError, match="^k must be"):
        gan_loop(k=bad)


def test_elbo_gap_prints_both_values_and_the_gap():
    fig = elbo_gap(-90.6, -97.1)
    assert isinstance(fig, Figure)
    drawn = texts(fig)
    assert "log p(x) = −90.6" in drawn and "ELBO = −97.1" in drawn
    assert "gap = 6.5 nats" in drawn and "KL(q(z|x) || p(z|x)) ≥ 0" in drawn
    ax = fig.axes[0]
    assert ax.get_ylim()[0] < -97.1 and ax.get_ylim()[1] > -90.6   # both marks are on the axis


def test_elbo_gap_keeps_two_digits_of_a_small_gap_and_handles_no_gap():
    assert "gap = 0.013 nats" in texts(elbo_gap(-90.6, -90.613))
    assert "gap = 0 nats" in texts(elbo_gap(-90.6, -90.6))
    fig, ax = plt.subplots()
    assert elbo_gap(np.float32(-2.0), -3.0, ax=ax) is fig       # into a given axis


@pytest.mark.parametrize("args, name", [((-97.1, -90.6), "elbo"), ((float("nan"), -90.0), "log_px"),
                                        ((-90.0, float("-inf")), "elbo"), (("a", -9.0), "log_px")])
def test_elbo_gap_refuses_an_elbo_above_log_px_and_non_numbers(args, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        elbo_gap(*args)


def test_multiscale_orders_numbers_each_pixel_by_its_pass_and_counts_the_passes():
    from gm_helpers.models.multiscale import sampling_steps
    fig = multiscale_orders(image_size=8, base_size=2)
    drawn = texts(fig)
    assert "PixelCNN: raster order\n64 passes" in drawn
    assert "4 + 64 = 68 passes" in drawn and "4 + 3 × 2 = 10 passes" in drawn
    assert "raster 784 passes, multi-scale PixelRNN 833, parallel multiscale 55" in drawn
    numbers = [int(t.get_text()) for t in fig.axes[0].texts if t.get_text().isdigit()]
    # 64 cells numbered 1..64, the small image's 4 and the next 64 cells 5..68, then 64 cells 1..10
    assert len(numbers) == 64 + 4 + 64 + 64
    assert numbers[:64] == list(range(1, 65)) and numbers[64:132] == list(range(1, 69))
    assert numbers[132:] == (sampling_steps(8, "parallel_multiscale", 2).flatten() + 1).tolist()


def test_multiscale_orders_draws_larger_images_without_numbers_and_refuses_bad_sizes():
    fig = multiscale_orders(image_size=16, base_size=4)
    assert "16 + 3 × 2 = 22 passes" in texts(fig)
    assert not [t for t in fig.axes[0].texts if t.get_text().isdigit()]
    for kwargs, name in (({"image_size": 9}, "image_size must be base_size"),
                         ({"image_size": 32}, "image_size"), ({"base_size": 8}, "base_size"),
                         ({"base_size": 0}, "base_size")):
        with pytest.raises(ValueError, match=f"^{name}"):
            multiscale_orders(**kwargs)
        plt.close("all")


@pytest.mark.parametrize("draw", [lambda ax: taxonomy(ax=ax), lambda ax: nade_weight_sharing(ax=ax),
                                  lambda ax: vae_diagram(ax=ax), lambda ax: gan_loop(ax=ax),
                                  lambda ax: multiscale_orders(ax=ax), lambda ax: coupling_layer(ax=ax)])
def test_each_diagram_draws_into_a_given_axis(draw):
    fig, (ax, other) = plt.subplots(1, 2)
    assert draw(ax) is fig and ax.patches and not other.patches


def test_coupling_layer_shows_both_halves_the_network_the_log_det_and_the_inverse():
    fig = coupling_layer()
    text = texts(fig)
    for label in ("x_a", "x_b", "z_a = x_a", "z_b = x_b odot e^s + t", "(s, t) = NN(x_a)",
                  "\\sum_d s_d", "x_b = (z_b - t) odot e^-s"):
        assert label in text, label
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 4            # x_a -> z_a, x_a -> NN, x_b -> z_b, NN -> z_b
    plt.close(fig)
