"""The package's import graph, read from the source: imports go one way through the layers
(core -> models -> runs -> evaluation, finetuning -> sweep, report -> cli), and no two
modules import each other, even through an import inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import polytopic

PACKAGE = Path(polytopic.__file__).parent
#: The layers, lowest first: a module may import its own layer's modules and lower ones.
LAYERS = (
    ("errors", "version", "params", "persistence", "stages", "corpus", "preprocessing", "datasets", "encoders",
     "engine", "metrics"),
    ("models",),
    ("runs", "typical", "doc_topic"),
    ("evaluation", "finetuning"),
    ("sweep", "report"),
    ("cli",),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The polytopic modules ``path`` imports anywhere in it (a name imported from a package
    that is one of its modules counts as that module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name, found = _module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}
    return {_existing(target, modules) for target in found if target.startswith("polytopic")} - {name, None}


def _existing(target: str, modules: set[str]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def _layer(module: str) -> int | None:
    top = module.split(".")[1] if "." in module else None
    return next((i for i, names in enumerate(LAYERS) if top in names), None)


def test_every_module_has_a_layer():
    assert [m for m in _graph() if m != "polytopic" and _layer(m) is None] == []


def test_imports_go_down_the_layers():
    upward = [(module, target) for module, targets in _graph().items() if module != "polytopic"
              for target in targets if target != "polytopic" and _layer(target) > _layer(module)]
    assert upward == []


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    circles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph[module]:
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert circles == []
