"""Add ``test_nll_subset`` (gm_helpers.train.subset_nll) to manifest entries of latent-variable
checkpoints trained before the CLI recorded it. Each entry gets a note that says so.

    python tools/add_subset_nll.py vae.pt iwae.pt ...
"""
import json
import sys

import torch

from gm_helpers.checkpoint import CHECKPOINT_DIR, load_shipped
from gm_helpers.data import load_binarized_mnist
from gm_helpers.train import subset_nll

sys.path.insert(0, str(CHECKPOINT_DIR.parent.parent / "tools"))
from checkpoint_table import eval_samples  # noqa: E402

torch.set_num_threads(2)
manifest_path = CHECKPOINT_DIR / "manifest.json"
manifest = json.loads(manifest_path.read_text())
test = load_binarized_mnist("test")
for name in sys.argv[1:]:
    model, entry = load_shipped(name)
    value = subset_nll(model, test, eval_samples(entry))
    manifest[name]["test_nll_subset"] = round(value, 4)
    manifest[name]["subset_note"] = ("test_nll_subset added after training by "
                                     "tools/add_subset_nll.py (the CLI records it since)")
    print(name, round(value, 4), "full test:", entry["test_nll"])
manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
