"""The arrows between the layers (docs/architecture.md, "Layers"), read from every source file's imports.

Each package of hostpanel may import only the packages its row names; the domain imports no framework; no module
package imports another; nothing but the composition root (`app.py`, `container.py`) and the CLI knows the
container. A new package must get a row here before anything may import it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src" / "hostpanel"
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "alembic", "jinja2", "typer", "rich", "uvicorn", "httpx", "redis"}
LEAVES = {"config", "keys", "tls"}  # settings and key material: usable by whoever is handed them

# What each part of hostpanel may import from hostpanel (`hostpanel` itself: the version).
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "storage": {"domain", "storage", "config"},
    "services": {"domain"},
    "functions": {"domain", "services", "functions"},
    "modules": {"domain", "functions", "modules"},  # its own package only, never another (checked below)
    "http": {"domain", "http"},
    "api": {"hostpanel", "domain", "functions", "http", "services", "api"},
    "web": {"hostpanel", "domain", "http", "services", "keys", "web"},
    # `app`: whmapi1 and uapi call functions through the composition root, which alone knows the registry and dialects
    "cli": {
        "hostpanel",
        "domain",
        "storage",
        "services",
        "container",
        "app",
        "cli",
        "nameserver",
        "webserver",
        *LEAVES,
    },
    "smtp": {"domain"},
    "keys": {"domain"},
    "config": set(),
    "tls": set(),
    "container": {"domain", "storage", "services", "smtp", "nameserver", "webserver", "acme_client", *LEAVES},
    "nameserver": {"domain", "config", "nameserver"},
    "webserver": {"domain", "config", "webserver"},
    "acme_client": {"domain", "acme_client"},  # AutoSSL's ACME client (certbot's `acme` library)
    "app": {"hostpanel", "domain", "storage", "services", "functions", "modules", "http", "api", "web", "container"}
    | LEAVES,
    "__main__": {"cli"},
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def part_of(path: Path) -> str:
    """The layer a source file belongs to: its top-level package, or its module's name."""
    relative = path.relative_to(SOURCE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def ours(name: str) -> str | None:
    """The top-level part of hostpanel an import names (`hostpanel` for the package itself), else None."""
    parts = name.split(".")
    if parts[0] != "hostpanel":
        return None
    return parts[1] if len(parts) > 1 else "hostpanel"


SOURCES = sorted(path for path in SOURCE.rglob("*.py") if path.name != "__init__.py" or path.parent != SOURCE)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(SOURCE)))
def test_each_file_imports_only_what_its_layer_may(path: Path) -> None:
    part = part_of(path)
    assert part in ALLOWED, f"{part} has no row in ALLOWED: say what it may import"
    allowed = ALLOWED[part]
    for name in imports(path):
        target = ours(name)
        assert target is None or target in allowed, f"{part} may not import {name}"


@pytest.mark.parametrize("layer", ["domain", "services", "functions", "modules", "http"])
def test_inner_layers_import_no_framework_of_storage_or_terminals(layer: str) -> None:
    """The domain and what handlers see know nothing of SQL, the terminal or (but for `http`) HTTP."""
    banned = FRAMEWORKS - ({"starlette"} if layer == "http" else set())
    paths = list((SOURCE / layer).rglob("*.py")) if (SOURCE / layer).is_dir() else [SOURCE / f"{layer}.py"]
    for path in paths:
        for name in imports(path):
            assert name.split(".")[0] not in banned, (path, name)


MODULE_PACKAGES = sorted(path.name for path in (SOURCE / "modules").iterdir() if (path / "__init__.py").exists())


@pytest.mark.parametrize("package", MODULE_PACKAGES)
def test_no_module_package_imports_another(package: str) -> None:
    """Modules meet only in the registry (`modules/__init__.py`), which the composition root serves."""
    for path in (SOURCE / "modules" / package).rglob("*.py"):
        for name in imports(path):
            if name.startswith("hostpanel.modules"):
                assert name.split(".")[2:3] == [package], (path, name)


@pytest.mark.parametrize("layer", ["modules", "web", "functions", "api", "services", "http"])
def test_handlers_and_pages_never_hold_the_container(layer: str) -> None:
    """What serves a request is handed the services of that request, never the object that builds them all."""
    for path in (SOURCE / layer).rglob("*.py") if (SOURCE / layer).is_dir() else [SOURCE / f"{layer}.py"]:
        assert "Container" not in path.read_text(), path


def test_the_arrows_are_written_where_a_newcomer_reads_them() -> None:
    text = (SOURCE.parents[1] / "docs" / "architecture.md").read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    for part in ALLOWED:
        if part != "__main__":
            assert re.search(rf"^{part}\b|`{part}`", section, re.MULTILINE), f"Layers: say where `{part}` stands"
