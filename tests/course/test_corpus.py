"""The prose corpus of lecture 02: what the builder keeps from a markdown cell, and what it drops."""
import nbformat
import pytest

from gm_helpers.course import corpus

CELL = """# 2. A heading

The chain rule, $p(x) = \\prod_i p(x_i \\mid x_{<i})$, is **exact**:
no assumption × none.

$$p(x) = \\prod_i p(x_i)$$

| a table | row |
|---|---|

```python
print("code")
```

* a bullet — with a dash
<div>html</div>
"""


def test_prose_keeps_paragraphs_and_drops_equations_code_tables_and_marks():
    assert corpus.prose_paragraphs(CELL) == [
        "2. A heading",
        "The chain rule, $p(x) = \\prod_i p(x_i \\mid x_{<i})$, is exact: no assumption x none.",
        "a bullet - with a dash",
    ]


def test_a_heading_and_each_list_item_make_their_own_line():
    cell = "### The ordering\nLecture 2 measured it\non tables.\n\n* one\n  more\n* two\n1. three"
    assert corpus.prose_paragraphs(cell) == ["The ordering", "Lecture 2 measured it on tables.",
                                             "one more", "two", "three"]


def test_a_character_with_no_ascii_form_is_refused():
    with pytest.raises(ValueError, match="TO_ASCII"):
        corpus.prose_paragraphs("a snowman \u2603")


def test_build_corpus_reads_notebooks_in_order(tmp_path):
    paths = []
    for i in (1, 2):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"Lecture {i}.\n\nSecond paragraph."),
                    nbformat.v4.new_code_cell("x = 1")]
        paths.append(tmp_path / f"{i}.ipynb")
        nbformat.write(nb, paths[-1])
    assert corpus.build_corpus(paths) == ("Lecture 1.\nSecond paragraph.\n"
                                          "Lecture 2.\nSecond paragraph.\n")
