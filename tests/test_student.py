"""gm_helpers.student: student copies keep the questions and lose the answers."""
import nbformat
import pytest

from gm_helpers.student import main, strip_solutions, student_notebook

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
