"""The Colab cell: a no-op outside Colab (run in a fresh Python), the right pip call on a fake
Colab, a clear error while the repository is not configured; written into lectures without
re-executing them; and every lecture starts with it."""
import json
import re
import shutil
import subprocess
import sys
import textwrap

import jupytext
import nbformat
import pytest

from gm_helpers.course import colab, hosting
from tests.helpers import REPO

CONFIGURED = hosting.Hosting("someone/deep-generative-course", "main")
UNCONFIGURED = hosting.Hosting()
PIP_SOURCE = "gm_helpers @ git+https://github.com/someone/deep-generative-course@main"

# Imported first by the fresh Python (PYTHONPATH): "forbid" makes every way of starting a process
# raise; "record" writes each subprocess.run call to calls.json instead of running it.
SITECUSTOMIZE = '''
import json, os, subprocess, sys
MODE, LOG = os.environ["COLAB_TEST_MODE"], os.environ["COLAB_TEST_LOG"]
sys.colab_test_guard = MODE

def forbidden(*args, **kwargs):
    raise RuntimeError(f"a process was started: {args!r}")

def record(args, *rest, **kwargs):
    with open(LOG, "a") as f:
        f.write(json.dumps(list(args)) + "\\n")
    return subprocess.CompletedProcess(args, 0)

if MODE == "forbid":
    subprocess.Popen = subprocess.run = subprocess.call = subprocess.check_call = forbidden
    os.system = os.execv = os.execvp = os.spawnv = forbidden
else:
    subprocess.run = record
'''

# The fresh Python's script: optionally pretend to be Colab, run the cell as a kernel would (in
# a fresh namespace), then write what happened to result.json (stdout stays the cell's alone).
RUNNER = '''
import json, os, sys, traceback
result = {"guard": getattr(sys, "colab_test_guard", None), "error": None, "fetched": []}
if os.environ.get("COLAB_TEST_FAKE") == "1":
    import google.colab  # what Colab's kernel has imported before the first cell
    import gm_helpers.data as data  # record the data download (the real function still runs)
    real = data.fetch_all
    data.fetch_all = lambda *a, **k: result["fetched"].append(str(real(*a, progress=False, **k)))
try:
    exec(open(sys.argv[1]).read(), {"__name__": "__main__"})
except BaseException as err:
    result["error"] = f"{type(err).__name__}: {err}"
result["gm_helpers_imported"] = sorted(m for m in sys.modules if m.startswith("gm_helpers"))
with open(os.environ["COLAB_TEST_RESULT"], "w") as f:
    json.dump(result, f)
'''


def run_cell(tmp_path, source: str, mode: str, colab: bool, env_extra=None) -> dict:
    """Run ``source`` in a fresh Python with the guard ``mode``; return result, stdout, stderr, calls."""
    site = tmp_path / "site"
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    fake = tmp_path / "fake_colab"
    (fake / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s package."""\n')
    (tmp_path / "cell.py").write_text(source)
    (tmp_path / "runner.py").write_text(RUNNER)
    log, result = tmp_path / "calls.json", tmp_path / "result.json"
    log.unlink(missing_ok=True)
    paths = [str(site)] + ([str(fake)] if colab else [])
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": ":".join(paths),
           "COLAB_TEST_MODE": mode, "COLAB_TEST_LOG": str(log), "COLAB_TEST_RESULT": str(result),
           "COLAB_TEST_FAKE": "1" if colab else "0", **(env_extra or {})}
    out = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "cell.py")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {**json.loads(result.read_text()), "stdout": out.stdout, "stderr": out.stderr,
            "calls": calls}


# ----------------------------------------------------------------------------- outside Colab
@pytest.mark.parametrize("h", [CONFIGURED, UNCONFIGURED], ids=["configured", "unconfigured"])
def test_the_cell_does_nothing_outside_colab(tmp_path, h):
    """In a fresh Python with no google.colab: no output, no import of gm_helpers, no process
    started (every way to start one raises), no error."""
    got = run_cell(tmp_path, colab.cell_source(h), "forbid", colab=False)
    assert got["guard"] == "forbid"  # the guard was active
    assert got["error"] is None and got["stdout"] == "" and got["stderr"] == ""
    assert got["gm_helpers_imported"] == [] and got["calls"] == []


def test_the_guard_would_catch_a_cell_that_installs_anyway(tmp_path):
    """The no-op test can fail: a cell that calls pip (or imports the package) unconditionally
    is caught."""
    source = colab.cell_source(CONFIGURED).replace('if "google.colab" in sys.modules:', "if True:")
    got = run_cell(tmp_path, source, "forbid", colab=False)
    assert "a process was started" in got["error"]
    got = run_cell(tmp_path, "import gm_helpers.data\n", "forbid", colab=False)
    assert got["gm_helpers_imported"]


# ----------------------------------------------------------------------------- on a fake Colab
def test_on_colab_the_cell_pip_installs_the_repository_and_fetches_the_data(tmp_path, real_data_dir):
    got = run_cell(tmp_path, colab.cell_source(CONFIGURED), "record", colab=True,
                   env_extra={"GM_DATA_DIR": str(real_data_dir)})
    assert got["error"] is None, got["error"]
    assert got["calls"] == [[sys.executable, "-m", "pip", "install", "--quiet", PIP_SOURCE]]
    assert got["fetched"] == [str(real_data_dir)]  # fetch_all ran, after the install


def test_on_colab_an_unconfigured_cell_says_what_to_set_and_how_to_install(tmp_path):
    got = run_cell(tmp_path, colab.cell_source(UNCONFIGURED), "record", colab=True)
    assert got["error"].startswith("RuntimeError: This copy of the course was not published with")
    for words in ("your own machine", "README", "`repository` in course.toml", "colab-cell --write",
                  "%pip install", "gm_helpers @ git+"):
        assert words in got["error"]
    assert got["calls"] == [] and got["fetched"] == []


def test_the_cell_text_is_short_commented_and_free_of_placeholders():
    for h in (CONFIGURED, UNCONFIGURED):
        source = colab.cell_source(h)
        assert source.startswith("# On Google Colab") and len(source.splitlines()) <= 14
        assert "%pip" not in source.split("raise")[0]  # no magic in a block: plain Python
        assert hosting.find_placeholders(source) == []
        compile(source, "cell", "exec")
    assert PIP_SOURCE in colab.cell_source(CONFIGURED)


# ----------------------------------------------------------------------------- --write and --check
@pytest.fixture
def lecture_copy(tmp_path):
    """Lecture 01's pair (.py and executed .ipynb) in a temporary folder, as it was before it had
    a Colab cell: that cell removed and the execution counts after it lowered by one."""
    nb = nbformat.read(REPO / "lectures" / "01_what_is_a_generative_model.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if colab.TAG not in c.metadata.get("tags", [])]
    for cell in _code(nb):
        if cell.execution_count:
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output["execution_count"] -= 1
    nbformat.write(nb, tmp_path / "01_what_is_a_generative_model.ipynb")
    py = tmp_path / "01_what_is_a_generative_model.py"
    text = (REPO / "lectures" / py.name).read_text()
    start = text.index(f'# %% tags=["{colab.TAG}"]')
    end = text.index("# %%", start + 4)
    py.write_text(text[:start] + text[end:])
    return py


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_write_inserts_the_cell_first_without_touching_the_rest(lecture_copy):
    ipynb = lecture_copy.with_suffix(".ipynb")
    before = nbformat.read(ipynb, as_version=4)
    source = colab.cell_source(CONFIGURED)
    assert colab.problems(lecture_copy, source)  # not there yet: the check fails
    assert colab.write(lecture_copy, source) == "inserted"
    assert colab.problems(lecture_copy, source) == []
    after = nbformat.read(ipynb, as_version=4)
    first = _code(after)[0]
    assert first.source == source and first.metadata["tags"] == ["colab-setup"] and first.outputs == []
    new_at = after.cells.index(first)
    rest = after.cells[:new_at] + after.cells[new_at + 1:]
    assert len(rest) == len(before.cells)
    for old, new in zip(before.cells, rest):  # sources, outputs, metadata, ids: all kept
        if old.cell_type == "code":
            assert new.execution_count == old.execution_count + 1
            old = nbformat.from_dict({**old, "execution_count": new.execution_count,
                                      "outputs": [{**o, "execution_count": o["execution_count"] + 1}
                                                  if "execution_count" in o else o for o in old.outputs]})
        assert new == old
    counts = [c.execution_count for c in _code(after) if c.source.strip()]
    assert counts == list(range(1, len(counts) + 1))  # as a fresh top-to-bottom run numbers them
    pair = [(c.cell_type, c.source.strip()) for c in jupytext.read(lecture_copy).cells]
    assert pair == [(c.cell_type, c.source.strip()) for c in after.cells]  # .py and .ipynb agree
    assert '# %% tags=["colab-setup"]' in lecture_copy.read_text()
    assert lecture_copy.stat().st_mtime >= ipynb.stat().st_mtime  # jupytext: the text is newest


def test_write_again_is_a_no_op_and_a_new_address_updates_in_place(lecture_copy):
    colab.write(lecture_copy, colab.cell_source(UNCONFIGURED))
    text, raw = lecture_copy.read_text(), lecture_copy.with_suffix(".ipynb").read_text()
    assert colab.write(lecture_copy, colab.cell_source(UNCONFIGURED)) == ""
    assert lecture_copy.read_text() == text and lecture_copy.with_suffix(".ipynb").read_text() == raw
    assert colab.problems(lecture_copy, colab.cell_source(CONFIGURED)) == [
        f"{lecture_copy}: the Colab cell is not the one course.toml makes",
        f"{lecture_copy.with_suffix('.ipynb')}: the Colab cell is not the one course.toml makes"]
    assert colab.write(lecture_copy, colab.cell_source(CONFIGURED)) == "updated"
    nb = nbformat.read(lecture_copy.with_suffix(".ipynb"), as_version=4)
    assert sum("colab-setup" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert [c.execution_count for c in _code(nb)[:2]] == [1, 2]  # counts not shifted twice


def test_write_refuses_a_pair_that_is_out_of_step(lecture_copy):
    lecture_copy.write_text(lecture_copy.read_text() + "\n# %%\nprint('edited')\n")
    with pytest.raises(ValueError, match="jupytext --sync"):
        colab.write(lecture_copy, colab.cell_source(CONFIGURED))


def test_the_command_line_checks_and_writes(lecture_copy, capsys):
    with pytest.raises(SystemExit, match="colab-cell --write"):
        colab.main(["--check", str(lecture_copy)])
    colab.main(["--write", str(lecture_copy.with_suffix(".ipynb"))])  # either file of the pair
    assert "inserted" in capsys.readouterr().out
    colab.main(["--check", str(lecture_copy)])
    assert "1 lectures start with the current Colab cell" in capsys.readouterr().out


def test_a_written_notebook_still_passes_nbval_without_re_execution(tmp_path):
    """A small executed notebook, its Colab cell inserted afterwards: nbval runs it (the new cell
    prints nothing here) and its stored outputs still match."""
    from gm_helpers.course import notebooks
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A lecture"),
                                         nbformat.v4.new_code_cell("print(6 * 7)"),
                                         nbformat.v4.new_code_cell("6 * 7")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "01_tiny.ipynb")
    notebooks.execute_one(tmp_path / "01_tiny.ipynb", timeout=120)
    jupytext.write(nbformat.read(tmp_path / "01_tiny.ipynb", as_version=4), tmp_path / "01_tiny.py",
                   fmt="py:percent")
    shutil.copy(tmp_path / "01_tiny.ipynb", tmp_path / "02_tiny.ipynb")
    shutil.copy(tmp_path / "01_tiny.py", tmp_path / "02_tiny.py")
    assert colab.write(tmp_path / "01_tiny.py", colab.cell_source(CONFIGURED)) == "inserted"
    # the check has teeth: a first cell that printed here would not match its stored (no) output
    assert colab.write(tmp_path / "02_tiny.py", 'print("installing")') == "inserted"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                          "--nbval-current-env", "-o", "addopts=", "01_tiny.ipynb", "02_tiny.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert re.search(r"^FAILED 02_tiny\.ipynb::Cell 0\b", out.stdout, re.MULTILINE), out.stdout[-3000:]
    assert re.search(r"^1 failed, 5 passed", out.stdout, re.MULTILINE), out.stdout[-3000:]


# ----------------------------------------------------------------------------- the lectures
@pytest.mark.parametrize("py", colab.lecture_scripts(), ids=lambda p: p.name)
def test_every_lecture_starts_with_the_current_colab_cell(py):
    """Each lecture's first code cell is the one course.toml makes (after a change of course.toml:
    python -m gm_helpers.course colab-cell --write)."""
    assert colab.problems(py) == []


def test_the_cell_source_reads_course_toml(tmp_path, monkeypatch):
    settings = tmp_path / "course.toml"
    settings.write_text(textwrap.dedent("""\
        [hosting]
        repository = "someone/deep-generative-course"
        """))
    monkeypatch.setattr(hosting, "SETTINGS", settings)
    monkeypatch.setattr(hosting.load, "__defaults__", (settings,))
    assert colab.cell_source() == colab.cell_source(CONFIGURED)
