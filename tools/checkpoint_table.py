"""Print the README's checkpoint table from gm_helpers/checkpoints/manifest.json.

    python tools/checkpoint_table.py          # paste the output into README.md

tests/test_repo.py fails when the README's table and the manifest disagree.
"""
from gm_helpers.train import shipped_manifest

# file -> (what it is, the paper's number and target from ../shared/reference/targets.md)
DESCRIPTIONS = {
    "fvsbn.pt": ("FVSBN, logistic autoregression", "97.45", "≈ 97.5"),
    "nade.pt": ("NADE, 500 hidden units", "88.86 / 88.33", "≤ 88.3"),
    "made_1mask.pt": ("MADE, 1 hidden layer of 500, 1 mask", "88.40", "≤ 88.4"),
    "made_32masks.pt": ("MADE, 2 hidden layers of 500, 32-mask ensemble", "86.64", "≤ 86.6"),
    "pixelcnn.pt": ("PixelCNN, 16 channels, 5 residual blocks", "81.30", "≤ 81.3"),
    "gated_pixelcnn.pt": ("Gated PixelCNN, 16 channels, 5 layers", "—", "≤ 79.2"),
    "row_lstm.pt": ("Row LSTM, h = 16, 2 layers", "80.54", "≤ 80.5"),
    "diagonal_bilstm.pt": ("Diagonal BiLSTM, h = 16, 2 layers, 5,000 training images", "79.20", "≤ 79.2"),
}


def table() -> str:
    rows = ["| checkpoint | model | test NLL (nats) | paper | target | epochs | wall time | hardware |",
            "|---|---|---|---|---|---|---|---|"]
    for name, entry in sorted(shipped_manifest().items(), key=lambda kv: list(DESCRIPTIONS).index(kv[0])):
        what, paper, target = DESCRIPTIONS[name]
        rows.append(f"| `{name}` | {what} | **{entry['test_nll']:.2f}** | {paper} | {target} | "
                    f"{entry['epochs']} | {entry['wall_time_s'] / 60:.0f} min | {entry['hardware']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
