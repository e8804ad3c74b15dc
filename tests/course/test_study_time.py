"""Study times: estimated from what a notebook holds, by the house style's reading rates."""
import nbformat
import pytest

from gm_helpers.course import study_time
from tests.helpers import REPO


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_the_estimate_counts_prose_code_figures_equations_and_exercises():
    prose = nbformat.v4.new_markdown_cell(" ".join(["word"] * 1200) + "\n$$a = b$$\n")
    code = nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(40)))
    code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "AAAA"})] * 3
    check = nbformat.v4.new_code_cell("assert x1 == 1\n" * 100)
    check.metadata = {"jupyter": {"source_hidden": True}, "tags": ["hide-input"]}
    exercise = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n")
    study = study_time.estimate(_notebook(prose, code, check, exercise))
    assert (study["words"], study["equations"], study["figures"]) == (1200, 1, 3)
    assert study["code_lines"] == 40 + 5            # the hidden check does not count
    assert (study["exercises"], study["solution_lines"]) == (1, 2)
    # 1200/120 + 45/20 + 3 + 1 = 16.25 -> 20; 5 + 2 = 7 -> 10
    assert (study["reading_min"], study["exercises_min"]) == (20, 10)


def test_the_header_line_reads_back():
    study = {"reading_min": 70, "exercises_min": 45}
    nb = _notebook(nbformat.v4.new_markdown_cell("# L\n\n" + study_time.header_line(study) + "."))
    assert study_time.stated(nb) == (70, 45)
    assert study_time.stated(_notebook(nbformat.v4.new_markdown_cell("# no header"))) is None


@pytest.mark.parametrize("minutes, rounded", [(0.1, 5), (5, 5), (5.01, 10), (61, 65)])
def test_times_round_up_to_five_minutes(minutes, rounded):
    assert study_time._round_up(minutes) == rounded


LECTURES = sorted((REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_each_lecture_states_its_study_time_and_the_readme_repeats_it(path):
    """The header's study time is the estimate from what the lecture holds now (re-run
    ``python -m gm_helpers.course study-time`` after changing a lecture), and the README's
    lecture table gives the same two numbers."""
    nb = nbformat.read(path, as_version=4)
    study = study_time.estimate(nb)
    assert study_time.stated(nb) == (study["reading_min"], study["exercises_min"]), (
        f"{path.name}: its header should say: {study_time.header_line(study)}")
    row = next(line for line in (REPO / "README.md").read_text().splitlines()
               if f"(lectures/{path.name})" in line)
    assert f"{study['reading_min']} + {study['exercises_min']} min" in row, row


def test_the_command_explains_itself_and_refuses_a_missing_notebook(capsys):
    study_time.main(["--help"])
    assert "reading and exercise minutes" in capsys.readouterr().out
    import pytest
    with pytest.raises(SystemExit, match="no such notebook: nope.ipynb"):
        study_time.main(["nope.ipynb"])
