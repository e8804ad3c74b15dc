"""The package's architecture, held by tests: dependencies point one way, no module reaches into
another's private names, there are no import cycles, and every public name has one import path.

The layers, from the bottom: ``checks`` and ``data``; ``models``; ``analysis``, ``viz``, ``diagrams``;
``training``; ``widgets`` and ``exercises``; ``course``. A module may import from its own layer
and the layers below it, never above.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gm_helpers"

LAYER = {"checks": 0, "data": 0, "models": 1, "analysis": 2, "viz": 2, "diagrams": 2, "training": 3,
         "widgets": 4, "exercises": 4, "course": 5, "train": 6}
SIBLINGS_APART = {("widgets", "exercises"), ("exercises", "widgets")}


def rel(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part(module: str) -> str:
    """The top-level part of gm_helpers a module belongs to: 'models', 'data', ..."""
    return module.split(".")[1]


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) for every ``from gm_helpers... import`` and ``import gm_helpers...``
    in a file, at any depth (an import inside a function counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gm_helpers"):
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("gm_helpers")]
    return found


def targets(module: str, names: list[str]) -> list[str]:
    """The modules an import statement loads: ``from gm_helpers.models import nade`` loads
    gm_helpers.models.nade; ``from gm_helpers.models.nade import NADE`` loads the module."""
    subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
    return subs or [module]


def defined(module: str) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments)."""
    tree = ast.parse(MODULES[module].read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def graph() -> dict[str, set[str]]:
    return {m: {t for mod, names, _ in imports(p) for t in targets(mod, names)
                if t in MODULES and t != m}
            for m, p in MODULES.items()}


def test_the_package_has_the_layout_the_instructor_guide_shows():
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == {
        "models", "analysis", "diagrams", "training", "widgets", "exercises", "course"}
    assert {part(m) for m in MODULES if m != "gm_helpers"} <= set(LAYER)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "gm_helpers"])
def test_dependencies_point_down(module):
    mine = part(module)
    for mod, names, line in imports(MODULES[module]):
        for target in targets(mod, names):
            theirs = part(target)
            assert LAYER[theirs] <= LAYER[mine] and (mine, theirs) not in SIBLINGS_APART, (
                f"{rel(MODULES[module])}:{line} imports {target}: {mine} "
                f"(layer {LAYER[mine]}) may not depend on {theirs} (layer {LAYER[theirs]})")


def test_models_import_nothing_from_training_widgets_exercises_or_course():
    for module, path in MODULES.items():
        if module.startswith("gm_helpers.models"):
            for mod, names, line in imports(path):
                for target in targets(mod, names):
                    assert part(target) in ("models", "checks", "data"), f"{path}:{line}: {target}"


def all_python_files():
    return sorted(PACKAGE.rglob("*.py")) + sorted((REPO / "tests").rglob("*.py")) + sorted(
        (REPO / "lectures").glob("*.py"))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")) + sorted((REPO / "lectures").glob("*.py")),
                         ids=rel)
def test_no_private_name_is_imported_from_another_module(path):
    """(Tests may reach into a module's private helpers to test them; the package and the
    lectures may not.)"""
    for mod, names, line in imports(path):
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{path.relative_to(REPO)}:{line} imports {private} from {mod}"


@pytest.mark.parametrize("path", all_python_files(), ids=rel)
def test_every_name_is_imported_from_the_module_that_defines_it(path):
    """One import path per public name: no module re-exports what another defines."""
    for mod, names, line in imports(path):
        if mod not in MODULES:
            assert False, f"{path.relative_to(REPO)}:{line}: no module {mod}"
        for name in names:
            ok = f"{mod}.{name}" in MODULES or name in defined(mod)
            assert ok, (f"{path.relative_to(REPO)}:{line} imports {name} from {mod}, which does "
                        "not define it: import it from where it is defined")


def test_there_are_no_import_cycles():
    edges, state, cycles = graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")),
                         ids=rel)
def test_each_init_is_a_map_that_names_every_module_and_imports_nothing(init):
    tree = ast.parse(init.read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], init
    doc = ast.get_docstring(tree) or ""
    folder = init.parent
    names = [p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")]
    names += [p.name for p in folder.iterdir() if (p / "__init__.py").exists()]
    missing = [n for n in names if n not in doc]
    assert not missing, f"{init.relative_to(REPO)} does not name {missing}"


def test_the_fake_cycle_and_the_upward_arrow_are_caught(tmp_path, monkeypatch):
    """The checks above fail on the faults they look for (not tests that cannot fail)."""
    fake = {"gm_helpers.models.a": tmp_path / "a.py", "gm_helpers.models.b": tmp_path / "b.py"}
    fake["gm_helpers.models.a"].write_text("from gm_helpers.models.b import f\n"
                                           "from gm_helpers.training.loop import fit\n")
    fake["gm_helpers.models.b"].write_text("from gm_helpers.models.a import g\n")
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {**MODULES, **fake})
    with pytest.raises(AssertionError, match="a -> gm_helpers.models.b -> gm_helpers.models.a"):
        test_there_are_no_import_cycles()
    with pytest.raises(AssertionError, match="may not depend on training"):
        test_dependencies_point_down("gm_helpers.models.a")
