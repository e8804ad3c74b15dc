"""Add ``test_nll_quarter`` to manifest entries: the exact test NLL on every 4th test image
(2,500 images, the same for every model), so that ``tests/test_repo.py`` can re-measure the
slow checkpoints (the PixelRNNs, NADE, the PixelCNNs: 45-100 s each on the full test set on two
CPU cores) in a quarter of the time. The CLI records it for new runs.

    python tools/add_quarter_nll.py diagonal_bilstm.pt nade.pt ...
"""
import json
import sys

import torch

from gm_helpers.checkpoint import CHECKPOINT_DIR, load_shipped
from gm_helpers.cli import load_training_data
from gm_helpers.train import evaluate_nll

torch.set_num_threads(2)
manifest_path = CHECKPOINT_DIR / "manifest.json"
manifest = json.loads(manifest_path.read_text())
for name in sys.argv[1:]:
    model, entry = load_shipped(name)
    test = load_training_data(entry.get("data", "binarized"), None, getattr(model, "levels", 2))[2]
    value = evaluate_nll(model, test[::4], batch_size=100)
    manifest[name]["test_nll_quarter"] = round(value, 4)
    print(name, round(value, 4), "full test:", entry["test_nll"])
manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
