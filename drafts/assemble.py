"""Assemble lecture 08 from its fragments: head, setup, part A (sections 1-3), B (4-7), C (end).
python drafts/assemble.py OUT.py"""
import sys
from pathlib import Path

here = Path(__file__).parent
a = (here / "08_part_a.py").read_text()
a = a[a.index("# %% [markdown]"):]          # drop the fragment's import-list cell
setup = (here / "08_setup.py").read_text()
parts = [(here / "08_head.py").read_text(), setup, a, (here / "08_part_b.py").read_text(),
         (here / "08_part_c.py").read_text()]
Path(sys.argv[1]).write_text("\n\n".join(p.strip("\n") for p in parts) + "\n")
