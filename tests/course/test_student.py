"""Student copies keep the questions and lose the answers, and never overwrite or leak the solutions."""
import nbformat
import pytest

from gm_helpers.course.student import StudentCopyError, main, strip_solutions, student_notebook, verify_copy

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
