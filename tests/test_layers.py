"""The layering of the sources: imports point one way and no import cycle remains.

``generators`` <- ``labeler.engines`` <- ``labeler.data`` <- ``store`` <- ``learning`` <-
``selection`` and ``pruning`` <- ``loop`` <- the public Python API (``api``) <- ``commands``
and ``cli`` <- ``server``. Lazy imports inside functions count like the others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("generators", "labeler", "server")

# Rank of each layer: a module may import its own layer and the ones below (lower ranks).
LAYERS = {
    "generators": 0,
    "labeler.engines": 1,  # runs tasks it is handed; knows nothing of the stages above
    "labeler.data": 2,
    "labeler.store": 3,
    "labeler.learning": 4,
    "labeler.selection": 5,
    "labeler.pruning": 5,  # analyses and trims models; rounds score with its trimmed model
    "labeler.loop": 6,
    "labeler.api": 7,  # the library researchers import; the commands wrap it
    "labeler.commands": 8,
    "labeler.cli": 8,
    "labeler": 8,  # the package's own (empty) __init__
    "server": 9,
}
# The one module that may import Ray.
RAY_MODULE = "labeler.engines.ray_engine"
# Third-party packages that only the web layer may import.
WEB_ONLY = ("flask", "label_studio_sdk", "waitress")


def list_modules() -> dict[str, Path]:
    """Every source module by dotted name (a package by the name of its ``__init__``)."""
    modules = {}
    for package in SOURCE_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = list_modules()


def get_imported_names(name: str, path: Path) -> set[str]:
    """Absolute names of the modules that a module imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                # `from package import module` names the submodule; a package's __init__ that
                # runs first is not counted as an import, as for `import package.module`
                submodule = f"{module}.{alias.name}"
                names.add(submodule if submodule in MODULES else module)
    return names


def get_project_imports(name: str) -> set[str]:
    """The project modules that ``name`` imports (submodules where they exist)."""
    return {
        imported
        for imported in get_imported_names(name, MODULES[name])
        if imported in MODULES and imported != name
    }


def get_layer(name: str) -> str:
    """The longest layer prefix of a module name; unknown stages fail with a hint."""
    matches = [layer for layer in LAYERS if name == layer or name.startswith(layer + ".")]
    layer = max(matches, key=len, default=None)
    if layer is None or (layer == "labeler" and name != "labeler"):
        pytest.fail(f"{name} is in no layer: put it in a stage folder or add its stage to LAYERS")
    return layer


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_the_layers(name: str) -> None:
    layer = get_layer(name)
    upward = [
        imported
        for imported in sorted(get_project_imports(name))
        if LAYERS[get_layer(imported)] > LAYERS[layer]
    ]
    assert not upward, f"{name} ({layer}) imports a higher layer: {upward}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("server")))
def test_only_the_web_layer_imports_web_packages(name: str) -> None:
    imported = get_imported_names(name, MODULES[name])
    web = sorted(i for i in imported if i.split(".")[0] in (*WEB_ONLY, "server"))
    assert not web, f"{name} imports {web}; only server/ may"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_ray_engine_imports_ray(name: str) -> None:
    imported = get_imported_names(name, MODULES[name])
    if name != RAY_MODULE:
        assert not [i for i in imported if i.split(".")[0] == "ray"], name


def test_no_module_lies_loose_in_the_engine_package() -> None:
    loose = [p.name for p in (REPO_ROOT / "labeler").glob("*.py")]
    assert sorted(loose) == ["__init__.py", "cli.py"]


def test_every_subpackage_says_what_its_stage_does() -> None:
    for init in sorted((REPO_ROOT / "labeler").glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and 1 <= len(docstring.splitlines()) <= 2, init


def test_no_import_cycle_remains() -> None:
    graph = {name: get_project_imports(name) for name in MODULES}
    cycles = find_cycles(graph)
    assert not cycles, f"import cycles: {cycles}"


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "rounds.py"
    module.write_text("def f():\n    from labeler.commands import round\n")
    imported = get_imported_names("labeler.store.fake", module)
    assert "labeler.commands.round" in imported
    assert LAYERS[get_layer("labeler.commands.round")] > LAYERS[get_layer("labeler.store.fake")]
