"""Print the README's checkpoint table from gm_helpers/checkpoints/manifest.json.

    python tools/checkpoint_table.py          # paste the output into README.md

tests/test_repo.py fails when the README's table and the manifest disagree.
"""
from gm_helpers.train import shipped_manifest

# file -> (what it is, filled in from the entry's config; the paper's number; the target), from
# ../shared/reference/targets.md
DESCRIPTIONS = {
    "fvsbn.pt": ("FVSBN, logistic autoregression", "97.45", "≈ 97.5"),
    "nade.pt": ("NADE, {H} hidden units", "88.86 / 88.33", "≤ 88.9"),
    "made_1mask.pt": ("MADE, 1 hidden layer of {hidden[0]}, 1 mask", "88.40", "≤ 88.4"),
    "made_2x500_1mask.pt": ("MADE, 2 hidden layers of {hidden[0]}, 1 mask", "89.59",
                            "above the mask ensemble"),
    "made_8masks.pt": ("MADE, 2 hidden layers of {hidden[0]}, {num_masks}-mask ensemble",
                       "86.64 (32 masks)", "≤ 86.6; below 1 mask"),
    "pixelcnn.pt": ("PixelCNN, {hidden} channels, {num_layers} residual blocks", "81.30", "≤ 81.3"),
    "gated_pixelcnn.pt": ("Gated PixelCNN, {hidden} channels, {num_layers} layers", "—",
                          "≤ 79.2, below PixelCNN"),
    "row_lstm.pt": ("Row LSTM, h = {hidden}, {num_layers} layers", "80.54", "≤ 80.5"),
    "diagonal_bilstm.pt": ("Diagonal BiLSTM, h = {hidden}, {num_layers} layers", "79.20", "≤ 79.2"),
}


def table() -> str:
    rows = ["| checkpoint | model | test NLL (nats) | paper | target | epochs | wall time | hardware |",
            "|---|---|---|---|---|---|---|---|"]
    for name, entry in sorted(shipped_manifest().items(), key=lambda kv: list(DESCRIPTIONS).index(kv[0])):
        what, paper, target = DESCRIPTIONS[name]
        what = what.format(**entry["config"])
        if "--limit" in entry["command"]:
            what += ", " + entry["command"].split("--limit ")[1].split()[0] + " training images"
        rows.append(f"| `{name}` | {what} | **{entry['test_nll']:.2f}** | {paper} | {target} | "
                    f"{entry['epochs']} | {entry['wall_time_s'] / 60:.0f} min | {entry['hardware']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
