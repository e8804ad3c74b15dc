"""Copy a finished run's checkpoint runs/NAME into gm_helpers/checkpoints/ with its manifest
entry (the same file, the same sha256): python runs/ship.py NAME [SHIPPED_NAME]
(a long run kept beside the shipped model, e.g. runs/nade_long.pt shipped as nade.pt)"""
import json
import shutil
import sys
from pathlib import Path

name = sys.argv[1]
shipped = sys.argv[2] if len(sys.argv) > 2 else name
src, dst = Path("runs") / name, Path("gm_helpers/checkpoints") / shipped
entry = json.loads(Path("runs/manifest.json").read_text())[name]
shutil.copyfile(src, dst)
manifest_path = dst.parent / "manifest.json"
manifest = json.loads(manifest_path.read_text())
manifest[shipped] = entry
manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
print(f"shipped {name} as {shipped}: sha256 {entry['sha256']}")
