"""The taxonomy of generative models by how they treat the likelihood, with each lecture's place."""
from __future__ import annotations

from numbers import Integral

from gm_helpers.checks import InvalidArgument
from gm_helpers.diagrams.drawing import HIGHLIGHT, INK, add_arrow, add_box, canvas, centre_of

# ----------------------------------------------------------------------------- the taxonomy
# (branch, kind of density, leaf, its line of detail, the lectures that teach it: () = none,
#  the names ``highlight`` accepts besides the lecture numbers)
TAXONOMY = [
    ("explicit", "tractable", "Autoregressive", "FVSBN, NADE, MADE,\nPixelRNN / PixelCNN", (2, 3, 4),
     ("autoregressive", "FVSBN", "NADE", "MADE", "PixelRNN", "PixelCNN")),
    ("explicit", "tractable", "Normalizing flows", "change of variables", (7,), ("flows", "flow")),
    ("explicit", "approximate", "Variational", "VAE", (5,), ("VAE",)),
    ("explicit", "approximate", "Diffusion / score-based", "denoising, a variational bound", (8,),
     ("diffusion", "score-based", "DDPM")),
    ("explicit", "approximate", "Markov chain", "Boltzmann machines", (),
     ("Boltzmann machines", "Boltzmann machine", "RBM")),
    ("implicit", "direct", "GAN", "generative adversarial networks", (6,), ("GAN", "GANs")),
    ("implicit", "Markov chain", "GSN", "generative stochastic networks", (), ("GSN",)),
]
KIND_LABELS = {"tractable": "Tractable density", "approximate": "Approximate density",
               "direct": "Direct", "Markov chain": "Markov chain"}


def _lectures(numbers) -> str:
    if not numbers:
        return "not in this course"
    if len(numbers) == 1:
        return f"lecture {numbers[0]:02d}"
    return f"lectures {numbers[0]:02d}–{numbers[-1]:02d}"


def _find_leaf(highlight):
    """The leaf (index) a lecture number or a name points to; -1 for lecture 01, the root."""
    if isinstance(highlight, str) and highlight.strip().isdigit():
        highlight = int(highlight)
    if isinstance(highlight, Integral) and not isinstance(highlight, bool):
        if highlight == 1:
            return -1
        for i, leaf in enumerate(TAXONOMY):
            if highlight in leaf[4]:
                return i
    elif isinstance(highlight, str):
        for i, (_, _, title, _, _, names) in enumerate(TAXONOMY):
            if highlight.strip().casefold() in {n.casefold() for n in (title, *names)}:
                return i
    raise InvalidArgument("highlight must be a lecture number from 1 to 8 or a leaf's name (e.g. "
                          f"'NADE', 'VAE', 'GAN', 'Normalizing flows'), got {highlight!r}")


def taxonomy(highlight=None, ax=None):
    """The taxonomy of generative models by how they handle the likelihood (after Goodfellow's
    NIPS 2016 tutorial on GANs), a tree from left to right; each leaf names its lecture.
    ``highlight``: a lecture number (1-8; 1 is the root) or a leaf's name, e.g. ``"NADE"``,
    drawn in gold with its path from the root."""
    hot = None if highlight is None else _find_leaf(highlight)
    ax = canvas(ax, (-0.2, 13.4), (-0.6, 7.6))
    leaf_y = {i: 6.9 - i * 1.05 for i in range(len(TAXONOMY))}
    kinds = list(dict.fromkeys((b, k) for b, k, *_ in TAXONOMY))
    kind_y = {bk: sum(leaf_y[i] for i, t in enumerate(TAXONOMY) if t[:2] == bk) /
              sum(t[:2] == bk for t in TAXONOMY) for bk in kinds}
    branch_y = {b: sum(y for (bb, _), y in kind_y.items() if bb == b) /
                sum(bb == b for bb, _ in kind_y) for b in ("explicit", "implicit")}
    on_path = set() if hot is None or hot < 0 else {TAXONOMY[hot][0], TAXONOMY[hot][:2]}
    gold = {"edge": HIGHLIGHT, "lw": 3.0}

    root = add_box(ax, 0.8, sum(branch_y.values()) / 2, "Generative\nmodels", "plain", 1.45, 0.9,
                fontweight="bold", **(gold if hot == -1 else {}))
    if hot == -1:
        ax.text(0.8, centre_of(root)[1] - 0.62, "lecture 01:\nthis map", ha="center", va="top",
                fontsize=9, fontweight="bold", color=INK)
    branches = {b: add_box(ax, 2.85, y, f"{b.capitalize()}\ndensity", "plain", 1.45, 0.8,
                        **(gold if b in on_path else {})) for b, y in branch_y.items()}
    kind_boxes = {bk: add_box(ax, 5.05, y, KIND_LABELS[bk[1]], "plain", 2.15, 0.55, size=9.5,
                           **(gold if bk in on_path else {})) for bk, y in kind_y.items()}
    leaves = []
    for i, (_, _, title, detail, numbers, _) in enumerate(TAXONOMY):
        y, off = leaf_y[i], 0.11 * detail.count("\n")  # centre title and detail together
        leaves.append(add_box(ax, 8.45, y, "", "network" if numbers else "noise", 3.6, 0.88,
                           dashed=not numbers, **(gold if i == hot else {})))
        ax.text(8.45, y + off + 0.01, title, ha="center", va="bottom", fontsize=9.5,
                fontweight="bold", color=INK, zorder=3)
        ax.text(8.45, y + off - 0.02, detail, ha="center", va="top", fontsize=9, color=INK,
                zorder=3, linespacing=1.1)
        tag = _lectures(numbers) + ("\n◀ this lecture" if i == hot else "")
        ax.text(10.45, y, tag, va="center", fontsize=9.5, color=INK if numbers else "#718096",
                fontweight="bold" if i == hot else "normal", fontstyle="normal" if numbers else "italic")

    def connect(parent, children, keys):
        """An elbow from the parent's right edge to a bus, then one arrow into each child."""
        py, right = centre_of(parent)[1], parent.get_x() + parent.get_width()
        bus = (right + min(c.get_x() for c in children)) / 2
        ys = [centre_of(c)[1] for c in children] + [py]
        ax.plot([right, bus], [py, py], color=INK, lw=1.2, zorder=1)
        ax.plot([bus, bus], [min(ys), max(ys)], color=INK, lw=1.2, zorder=1)
        for child, key in zip(children, keys):
            cy = centre_of(child)[1]
            warm = key in on_path or key == hot
            if warm:
                ax.plot([right, bus, bus], [py, py, cy], color=HIGHLIGHT, lw=2.6, zorder=1.5)
            add_arrow(ax, (bus, cy), (child.get_x(), cy), color=HIGHLIGHT if warm else INK,
                   lw=2.6 if warm else 1.2, zorder=1.5 if warm else 1)

    connect(root, list(branches.values()), list(branches))
    for b, box in branches.items():
        keys = [bk for bk in kinds if bk[0] == b]
        connect(box, [kind_boxes[k] for k in keys], keys)
    for bk, box in kind_boxes.items():
        idx = [i for i, t in enumerate(TAXONOMY) if t[:2] == bk]
        connect(box, [leaves[i] for i in idx], idx)
    ax.text(0.1, 7.35, "How a model handles the likelihood $p_\\theta(x)$", fontsize=11,
            fontweight="bold", va="center", ha="left", color=INK)
    ax.text(0.1, -0.35, "after the taxonomy in Goodfellow's NIPS 2016 tutorial on GANs "
            "(arXiv:1701.00160)", fontsize=8, color="#718096", va="center")
    return ax.figure
