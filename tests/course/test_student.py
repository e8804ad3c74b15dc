"""Student copies keep the questions and lose the answers, and never overwrite or leak the solutions."""
import json
import os

import nbformat
import pytest

from gm_helpers.course.student import (
    StudentCopyError,
    main,
    strip_solutions,
    student_notebook,
    telling_key,
    telling_lines,
    verify_copy,
)

SOLVED = '''def full_joint_params(n, m):
    """Free parameters of a full table."""
    ### BEGIN SOLUTION
    count = m**n
    return count - 1
    ### END SOLUTION

print(full_joint_params(3, 2))'''


def test_strip_solutions_keeps_signature_and_indentation():
    assert strip_solutions(SOLVED) == '''def full_joint_params(n, m):
    """Free parameters of a full table."""
    raise NotImplementedError

print(full_joint_params(3, 2))'''


def test_source_without_markers_is_unchanged():
    assert strip_solutions("x = 1\ny = 2") == "x = 1\ny = 2"


@pytest.mark.parametrize("source, match", [
    ("### BEGIN SOLUTION\nx = 1", "without END"),
    ("x = 1\n### END SOLUTION", "without BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_unbalanced_markers_are_errors(source, match):
    with pytest.raises(ValueError, match=match):
        strip_solutions(source)


def test_nbgrader_banner_markers_are_stripped():
    banner = SOLVED.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION ###").replace(
        "### END SOLUTION", "### END SOLUTION ###")
    assert strip_solutions(banner) == strip_solutions(SOLVED)


@pytest.mark.parametrize("source, match", [
    ('text = """\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"""', "inside a string"),
    ("def f():\n    '''\n    ### BEGIN SOLUTION ###\n    '''\n    ### END SOLUTION", "inside a string"),
])
def test_what_cannot_be_stripped_is_refused_with_its_line(source, match):
    with pytest.raises(ValueError, match=match):
        strip_solutions(source)


def test_a_banner_solution_never_reaches_a_written_copy(tmp_path):
    """The whole tool on a lecture written in nbgrader's banner style, whose solution is also
    printed by another cell: the copy has neither, or the tool refuses (never exit 0 leaking)."""
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    banner = SOLVED.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION ###").replace(
        "### END SOLUTION", "### END SOLUTION ###")
    shown = nbformat.v4.new_output("stream", text="    count = m**n\n")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(banner),
        nbformat.v4.new_code_cell("print(source)", outputs=[shown], execution_count=1)])
    nbformat.write(nb, lectures / "01_banner.ipynb")
    with pytest.raises(SystemExit) as stop:
        main([str(lectures), "--out", str(tmp_path / "student")])
    assert stop.value.code != 0 and not (tmp_path / "student" / "01_banner.ipynb").exists()
    nb.cells[1].outputs = []
    nbformat.write(nb, lectures / "01_banner.ipynb")
    (written,) = main([str(lectures), "--out", str(tmp_path / "student")])
    copy = nbformat.read(written, as_version=4)
    assert "count = m**n" not in copy.cells[0].source and "NotImplementedError" in copy.cells[0].source


def _notebook():
    out = [nbformat.v4.new_output("stream", text="7\n")]
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### BEGIN SOLUTION is explained here"),
        nbformat.v4.new_code_cell("x = 1", outputs=list(out), execution_count=1),
        nbformat.v4.new_code_cell(SOLVED, outputs=list(out), execution_count=2),
        nbformat.v4.new_code_cell("check_full_joint_params(full_joint_params)",
                                  outputs=list(out), execution_count=3),
    ])


def test_student_notebook_hides_answers_and_their_outputs():
    nb = _notebook()
    student = student_notebook(nb)
    md, plain, solution, checker = student.cells
    assert md.source == nb.cells[0].source  # markdown is left alone
    assert plain.outputs and plain.execution_count == 1  # ordinary cells keep their outputs
    assert "raise NotImplementedError" in solution.source and "count = m**n" not in solution.source
    assert solution.outputs == [] and solution.execution_count is None
    assert checker.outputs == [] and checker.execution_count is None
    assert "count = m**n" in nb.cells[2].source and nb.cells[3].outputs  # input not modified


def test_main_writes_every_lecture(tmp_path, capsys):
    lectures, out = tmp_path / "lectures", tmp_path / "student"
    lectures.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nbformat.write(_notebook(), lectures / name)
    written = main([str(lectures), "--out", str(out)])
    assert [p.name for p in written] == ["01_a.ipynb", "02_b.ipynb"]
    for path in written:
        source = nbformat.read(path, as_version=4).cells[2].source
        assert "count = m**n" not in source


def test_keep_existing_writes_only_missing_copies_and_names_outdated_ones(tmp_path, capsys):
    """make lab: a student's copy (their answers in it) is never replaced, even when its lecture
    has changed since; a missing copy is written; an outdated one is named, with what to do."""
    lectures, out = tmp_path / "lectures", tmp_path / "student"
    lectures.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nbformat.write(_notebook(), lectures / name)
    main([str(lectures), "--out", str(out)])
    mine = out / "01_a.ipynb"
    mine.write_text(mine.read_text().replace("raise NotImplementedError", "return 2 ** n - 1"))
    (out / "02_b.ipynb").unlink()
    old = mine.stat().st_mtime - 60
    os.utime(mine, (old, old))  # the lecture changed after the copy was made
    capsys.readouterr()
    written = main([str(lectures), "--out", str(out), "--keep-existing"])
    assert [p.name for p in written] == ["02_b.ipynb"]
    assert "return 2 ** n - 1" in mine.read_text()
    kept = [line for line in capsys.readouterr().out.splitlines() if line.startswith("kept")]
    assert len(kept) == 1 and kept[0].startswith(f"kept {mine}:") and "rename your copy" in kept[0]
    assert main([str(lectures), "--out", str(out), "--keep-existing"]) == []
    assert "return 2 ** n - 1" in mine.read_text()
    main([str(lectures), "--out", str(out)])  # without the flag: every copy is rebuilt
    assert "return 2 ** n - 1" not in mine.read_text()


# --- the tool must never overwrite or leak the solutions -------------------------------------------
VARIANTS = ["### BEGIN SOLUTION", "###  BEGIN SOLUTION", "### begin solution", "###BEGIN SOLUTION",
            "# BEGIN SOLUTION", "## Begin  Solution  ", "#### BEGIN_SOLUTION", "# begin solution\t"]


@pytest.mark.parametrize("begin", VARIANTS)
@pytest.mark.parametrize("end", ["### END SOLUTION", "#end solution", "##  End Solution"])
def test_marker_variants_are_all_stripped(begin, end):
    source = f"def f(x):\n    {begin}\n    secret = x * 42\n    return secret\n    {end}\n"
    stripped = strip_solutions(source)
    assert "secret" not in stripped and "42" not in stripped
    assert stripped == "def f(x):\n    raise NotImplementedError"


def test_text_that_only_mentions_a_marker_is_not_a_marker():
    source = "print('### BEGIN SOLUTION')  # where the answer goes\nx = 1  # BEGIN SOLUTION below"
    assert strip_solutions(source) == source


def test_solutions_in_markdown_cells_are_stripped():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "**Question.** Why does the ELBO lower-bound log p(x)?\n\n### BEGIN SOLUTION\n"
        "Because KL(q || p) >= 0, by Jensen.\n### END SOLUTION")])
    student = student_notebook(nb, name="q.ipynb")
    assert "Jensen" not in student.cells[0].source
    assert student.cells[0].source.endswith("*Your answer here.*")
    assert student.cells[0].source.startswith("**Question.**")


def test_unbalanced_markers_name_the_notebook_and_the_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("def f():\n# begin solution\n"
                                                                   "    return 1")])
    with pytest.raises(StudentCopyError, match=r"lec\.ipynb, cell 1 \(code: 'def f\(\):'\).*"
                                                r"BEGIN SOLUTION without END"):
        student_notebook(nb, name="lec.ipynb")


def test_verify_copy_catches_a_marker_or_a_solution_line_left_behind():
    original = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOLVED)])
    good = student_notebook(original)
    verify_copy(original, good, "a.ipynb")                       # passes
    leaked = nbformat.from_dict(good)
    leaked.cells[0].source += "\n    count = m**n"                # a solution line
    with pytest.raises(StudentCopyError, match=r"a\.ipynb, cell 0.*count = m\*\*n"):
        verify_copy(original, leaked, "a.ipynb")
    marked = nbformat.from_dict(good)
    marked.cells[0].source += "\n##  end  solution"               # a marker
    with pytest.raises(StudentCopyError, match="end  solution"):
        verify_copy(original, marked, "a.ipynb")
    fewer = nbformat.v4.new_notebook(cells=[])
    with pytest.raises(StudentCopyError, match="0 cells"):
        verify_copy(original, fewer, "a.ipynb")


def _lectures(tmp_path, names=("01_a.ipynb", "02_b.ipynb")):
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    for name in names:
        nbformat.write(_notebook(), lectures / name)
    return lectures


@pytest.mark.parametrize("out", [".", "sub", "..", "../.."])
def test_an_output_that_overlaps_the_input_is_refused_and_nothing_changes(tmp_path, out, capsys):
    lectures = _lectures(tmp_path)
    before = {p: p.read_bytes() for p in lectures.rglob("*")}
    target = (lectures / out) if out != "sub" else lectures / "sub"
    with pytest.raises(SystemExit) as exit_:
        main([str(lectures), "--out", str(target)])
    assert exit_.value.code == 2
    assert "overlaps the lectures folder" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in lectures.rglob("*")} == before     # solutions intact


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing", "no such folder"),
    (lambda d: ((d / "file.ipynb").write_text("{}"), d / "file.ipynb")[1], "not a folder"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no .ipynb notebook"),
])
def test_a_bad_input_is_an_error_not_a_silent_success(tmp_path, make, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(make(tmp_path)), "--out", str(tmp_path / "student")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "student").exists() or not any((tmp_path / "student").iterdir())


def test_one_bad_notebook_writes_nothing_and_is_named(tmp_path, capsys):
    lectures = _lectures(tmp_path, names=("01_a.ipynb", "03_c.ipynb"))
    bad = _notebook()
    bad.cells.append(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 3"))
    nbformat.write(bad, lectures / "02_bad.ipynb")
    out = tmp_path / "student"
    with pytest.raises(SystemExit):
        main([str(lectures), "--out", str(out)])
    err = capsys.readouterr().err
    assert "02_bad.ipynb, cell 4" in err and "without END" in err
    assert list(out.iterdir()) == []          # not even 01_a.ipynb: all or nothing


def test_an_unreadable_notebook_is_named(tmp_path, capsys):
    lectures = _lectures(tmp_path)
    (lectures / "00_broken.ipynb").write_text("not json")
    with pytest.raises(SystemExit):
        main([str(lectures), "--out", str(tmp_path / "student")])
    assert "00_broken.ipynb: not a readable notebook" in capsys.readouterr().err


# --- no solution line may show anywhere else in the copy: not in a source, not in an output ----------
SECRET = "    return m**n - 1"


def _lecture(*extra_cells):
    """A lecture whose exercise's solution is ``return m**n - 1``, then ``extra_cells``."""
    exercise = ('def full_joint_params(n, m):\n    """Free parameters of a full table."""\n'
                f"    ### BEGIN SOLUTION\n    import numpy as np\n{SECRET}\n    ### END SOLUTION")
    checker = nbformat.v4.new_code_cell("check_full_joint_params(full_joint_params)",
                                        outputs=[nbformat.v4.new_output("stream", text="✓\n")])
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lecture"),
        nbformat.v4.new_code_cell("import numpy as np\nx = np.zeros(3)"),
        nbformat.v4.new_code_cell(exercise), checker, *extra_cells])


def _printed(output):
    return nbformat.v4.new_code_cell("print(inspect.getsource(count))", outputs=[output])


LEAKS = {
    "stream": _printed(nbformat.v4.new_output(
        "stream", text="def count(n, m):\n    return m**n - 1  # the package's code\n")),
    "text/plain": _printed(nbformat.v4.new_output(
        "execute_result", data={"text/plain": "'def count(n, m):\\n    return m ** n - 1\\n'"},
        execution_count=5)),
    "text/html": _printed(nbformat.v4.new_output(
        "display_data", data={"text/html": '<pre><span class="k">return</span> m<span>**</span>n '
                                           '<span class="o">-</span> 1</pre>'})),
    "source": nbformat.v4.new_code_cell("def count(n, m):\n    return m**n - 1"),
    "markdown": nbformat.v4.new_markdown_cell("The answer:\n\n```python\nreturn m**n - 1\n```"),
    "error": nbformat.v4.new_code_cell("count(1, 2)", outputs=[nbformat.v4.new_output(
        "error", ename="E", evalue="", traceback=["\x1b[0;31m----> 2\x1b[0m return m**n - 1"])]),
}


@pytest.mark.parametrize("where", LEAKS)
def test_a_solution_line_shown_in_another_cell_is_refused(where, tmp_path, capsys):
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    nbformat.write(_lecture(LEAKS[where]), lectures / "01_leak.ipynb")
    nbformat.write(_lecture(), lectures / "02_clean.ipynb")
    with pytest.raises(SystemExit) as exit_:
        main([str(lectures), "--out", str(tmp_path / "student")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    kind = "source" if where in ("source", "markdown") else "output"
    assert f"01_leak.ipynb, cell 4 ({LEAKS[where].cell_type}: " in err
    assert f"its {kind} shows 'return m**n - 1', a line of the solution in cell 2" in err
    assert "02_clean" not in err
    assert list((tmp_path / "student").iterdir()) == []          # nothing written


def test_a_clean_lecture_is_accepted_and_generic_lines_are_no_leak(tmp_path):
    """Lines like ``import numpy as np`` (in the solution, and elsewhere) give nothing away; the
    solution's value printed by a later cell is no line of the solution either."""
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    shown = nbformat.v4.new_code_cell("print(full_joint_params(3, 2))",
                                      outputs=[nbformat.v4.new_output("stream", text="7\n")])
    nbformat.write(_lecture(shown), lectures / "01_clean.ipynb")
    (written,) = main([str(lectures), "--out", str(tmp_path / "student")])
    copy = nbformat.read(written, as_version=4)
    assert "m**n" not in json.dumps(copy) and copy.cells[4].outputs


def test_every_leak_of_every_notebook_is_named_at_once(tmp_path, capsys):
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    nbformat.write(_lecture(LEAKS["stream"], LEAKS["source"]), lectures / "01_a.ipynb")
    nbformat.write(_lecture(LEAKS["markdown"]), lectures / "02_b.ipynb")
    with pytest.raises(SystemExit):
        main([str(lectures), "--out", str(tmp_path / "student")])
    err = capsys.readouterr().err
    assert "01_a.ipynb, cell 4" in err and "01_a.ipynb, cell 5" in err
    assert "02_b.ipynb, cell 4" in err


@pytest.mark.parametrize("line, telling", [
    ("return m**n - 1", True), ("return 3 + L", True), ("h = F.relu(h)", True),
    ("x[:, d] = u[:, d] < p  # x_d ~ Bernoulli(p)", True),
    ("# (units out, units in): hidden >=, output >", True),
    ("return x", False), ("return self.h", False), ("import torch.nn.functional as F", False),
    ("from math import log", False), ("for d in range(D):", False), ("if first:", False),
    ("else:", False), (")", False), ("B, D = u.shape", False), ("h = x", False),
    ("# (B, D)", False), ("", False),
])
def test_which_solution_lines_are_telling(line, telling):
    assert (telling_key(line) is not None) is telling


def test_a_solution_line_the_question_itself_shows_is_no_secret():
    """The question's docstring shows the formula; it is not a leak that the copy keeps it."""
    question = ('def f(x):\n    """Return x * 2 + 1.5, elementwise."""\n    ### BEGIN SOLUTION\n'
                '    y = x * 2 + 1.5\n    return y\n    ### END SOLUTION')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(question),
                                         nbformat.v4.new_code_cell("print(f(1))")])
    assert "y=x*2+1.5" in telling_lines(nb)
    nb.cells[0].source = nb.cells[0].source.replace("Return x * 2 + 1.5", "Return y = x * 2 + 1.5")
    assert "y=x*2+1.5" not in telling_lines(nb)
    verify_copy(nb, student_notebook(nb), "q.ipynb")


def test_a_cell_tagged_answer_source_becomes_a_note_in_the_copy(tmp_path):
    """The lecture may print the package's own code for an exercise after the exercise, in a
    cell tagged ``answer-source``: the copy shows a note there instead, and nothing leaks."""
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    reveal = LEAKS["stream"]
    reveal.metadata["tags"] = ["answer-source"]
    nbformat.write(_lecture(reveal), lectures / "01_reveal.ipynb")
    (written,) = main([str(lectures), "--out", str(tmp_path / "student")])
    copy = nbformat.read(written, as_version=4)
    assert copy.cells[4].cell_type == "markdown" and "solutions notebook" in copy.cells[4].source
    assert "m**n" not in json.dumps(copy) and "inspect.getsource" not in json.dumps(copy)


def test_a_student_copy_is_the_same_at_every_build():
    """The note that replaces an answer's source keeps that cell's id: two builds are identical
    (the site's downloads and a student's diff do not change for nothing)."""
    from pathlib import Path

    from gm_helpers.course.student import student_notebook
    repo = Path(__file__).resolve().parents[2]
    nb = nbformat.read(repo / "lectures" / "03_nade_fvsbn_made.ipynb", as_version=4)
    first, second = student_notebook(nb, "03"), student_notebook(nb, "03")
    assert [c.get("id") for c in first.cells] == [c.get("id") for c in second.cells]
    assert [c.get("id") for c in first.cells] == [c.get("id") for c in nb.cells]
