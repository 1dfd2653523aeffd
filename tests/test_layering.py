"""The domain imports no framework; only the composition root and the CLI know every layer."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "hostpanel"
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "alembic", "jinja2", "typer", "rich", "uvicorn", "httpx"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_domain_imports_no_framework_and_no_outer_layer() -> None:
    for path in (SOURCE / "domain").rglob("*.py"):
        for name in imports(path):
            assert name.split(".")[0] not in FRAMEWORKS, (path, name)
            assert not name.startswith(("hostpanel.api", "hostpanel.storage", "hostpanel.cli", "hostpanel.app")), (
                path,
                name,
            )


def test_storage_does_not_know_the_interfaces() -> None:
    for path in (SOURCE / "storage").rglob("*.py"):
        for name in imports(path):
            assert not name.startswith(("hostpanel.api", "hostpanel.cli", "hostpanel.modules")), (path, name)
