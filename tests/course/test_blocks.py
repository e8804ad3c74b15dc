"""Generated blocks: replaced between their markers, nothing else touched; a broken file is named."""
from __future__ import annotations

import pytest

from gm_helpers.course import blocks

BLOCK = "<!-- t: cmd -->\nnew 1\nnew 2\n<!-- end of t -->"


def test_the_block_is_replaced_and_the_rest_kept():
    text = "# Title\n\nbefore\n<!-- t: cmd -->\nold\n<!-- end of t -->\nafter\n"
    assert blocks.replace(text, BLOCK) == "# Title\n\nbefore\n" + BLOCK + "\nafter\n"
    assert blocks.replace(blocks.replace(text, BLOCK), BLOCK) == blocks.replace(text, BLOCK)


@pytest.mark.parametrize("text, message", [
    ("no markers at all\n", "0 copies of the marker '<!-- t: cmd -->'"),
    ("<!-- t: cmd -->\nold\n", "0 copies of the marker '<!-- end of t -->'"),
    # a block pasted twice (the README once held two ends of its claims table)
    ("<!-- t: cmd -->\nold\n<!-- end of t -->\n<!-- end of t -->\n", "2 copies"),
    ("<!-- end of t -->\nold\n<!-- t: cmd -->\n", "comes before"),
])
def test_a_file_whose_markers_are_missing_doubled_or_swapped_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        blocks.replace(text, BLOCK, "X.md")


def test_write_and_is_current(tmp_path):
    path = tmp_path / "X.md"
    path.write_text("a\n<!-- t: cmd -->\nold\n<!-- end of t -->\nb\n")
    assert not blocks.is_current(path, BLOCK)
    assert blocks.write(path, BLOCK) is True
    assert blocks.is_current(path, BLOCK) and path.read_text().startswith("a\n<!-- t: cmd -->\nnew 1")
    assert blocks.write(path, BLOCK) is False


def test_the_command_prints_or_writes(tmp_path, capsys):
    path = tmp_path / "X.md"
    path.write_text("<!-- t: cmd -->\n<!-- end of t -->\n")
    blocks.command(lambda: BLOCK, path, [])
    assert capsys.readouterr().out == BLOCK + "\n" and "new 1" not in path.read_text()
    blocks.command(lambda: BLOCK, path, ["--write"])
    assert "updated" in capsys.readouterr().out and blocks.is_current(path, BLOCK)
    with pytest.raises(SystemExit, match="only option is --write"):
        blocks.command(lambda: BLOCK, path, ["--wirte"])
    path.write_text("nothing here\n")
    with pytest.raises(SystemExit, match="0 copies"):
        blocks.command(lambda: BLOCK, path, ["--write"])
