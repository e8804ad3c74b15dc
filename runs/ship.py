"""Copy a finished run's checkpoint runs/NAME into gm_helpers/checkpoints/ with its manifest
entry (the same file, the same sha256): python runs/ship.py NAME"""
import json
import shutil
import sys
from pathlib import Path

name = sys.argv[1]
src, dst = Path("runs") / name, Path("gm_helpers/checkpoints") / name
entry = json.loads(Path("runs/manifest.json").read_text())[name]
shutil.copyfile(src, dst)
manifest_path = dst.parent / "manifest.json"
manifest = json.loads(manifest_path.read_text())
manifest[name] = entry
manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
print(f"shipped {name}: sha256 {entry['sha256']}")
