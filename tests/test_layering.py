"""Dependencies point down: no domain package imports the web dashboard, and only ``app.py``
wires it in. A page reaches a domain through its service, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import playdeck

PACKAGE = Path(playdeck.__file__).parent
WIRING = {PACKAGE / "app.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_domain_package_imports_the_web_layer() -> None:
    web = PACKAGE / "web"
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _imports(path) if name.startswith("playdeck.web")
        )
        for path in PACKAGE.rglob("*.py")
        if web not in path.parents and path not in WIRING
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_services_repositories_kit_and_errors_import_no_web_framework() -> None:
    """FastAPI is bound in endpoints and ``dependencies`` modules; the rules they apply (services,
    repositories, ``kit``, the errors) are used without it, by the CLI and the ingest worker
    process."""
    kit = PACKAGE / "kit"
    framework_free = [
        path
        for path in PACKAGE.rglob("*.py")
        if path.name in ("service.py", "repository.py")
        or path == PACKAGE / "errors.py"
        or kit in path.parents
    ]
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _imports(path) if name.split(".")[0] == "fastapi"
        )
        for path in framework_free
    }
    assert {module: names for module, names in offenders.items() if names} == {}
