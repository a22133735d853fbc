"""The package's layers, enforced: core < views < lessons < figures; reference sees only the core;
nothing in ``landscapes`` imports Streamlit."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "landscapes"
#: What each layer may import from the package (besides itself).
ALLOWED = {
    "core": set(),
    "views": {"core"},
    "lessons": {"core", "views"},
    "figures": {"core", "views", "lessons"},
    "reference": {"core"},
}


def imports_of(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
                if node.module is None:
                    names += [f"{module}.{alias.name}" for alias in node.names]
                else:
                    names.append(module)
            else:
                names.append(node.module or "")
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_streamlit_in_the_package(path):
    assert not [name for name in imports_of(path) if name.split(".")[0] == "streamlit"]


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.parent != PACKAGE], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_each_layer_imports_only_downward(path):
    layer = path.relative_to(PACKAGE).parts[0]
    used = {
        name.split(".")[1]
        for name in imports_of(path)
        if name.startswith("landscapes.") and name.count(".") >= 1
    }
    assert used - {layer} <= ALLOWED[layer], f"{layer} may import only {sorted(ALLOWED[layer])}"


def test_the_tree_has_the_layers():
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")} >= set(ALLOWED)
    assert [p.name for p in PACKAGE.glob("*.py")] == ["__init__.py"]  # every module lives in a layer


def test_the_import_reader_resolves_relative_imports():
    """The import reader resolves relative imports (so the test above can fail)."""
    core = PACKAGE / "core" / "engine.py"
    assert "landscapes.core.clipping" in imports_of(core)
    figures = PACKAGE / "figures" / "palette.py"
    assert "landscapes.core.clipping" in imports_of(figures)
