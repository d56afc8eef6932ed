"""The import direction of the packages: api -> maintenance -> catalog / io, never back.

Read from the source with ``ast`` (docstring examples are text, not imports):

* catalog SQL lives in ``chronolake/catalog/`` only: no other module imports the catalog's
  table definitions, and maintenance imports no SQLAlchemy at all;
* maintenance never imports the API layer (nor the ``chronolake`` package, which is the API),
  not even for type checking: a connection reaches it through the ``HasSession`` protocol;
* maintenance touches no file itself (no pathlib, shutil or glob): every file goes through
  ``chronolake/io/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chronolake

PACKAGE = Path(chronolake.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (``from a import b`` gives a and a.b)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _modules(folder: str = "") -> dict[str, set[str]]:
    root = PACKAGE / folder
    return {p.relative_to(PACKAGE).as_posix(): _imports(p) for p in sorted(root.rglob("*.py"))}


def test_only_the_catalog_imports_its_tables() -> None:
    outside = {
        name
        for name, imports in _modules().items()
        if not name.startswith("catalog/") and "chronolake.catalog.schema" in imports
    }
    assert outside == set()


def test_maintenance_imports_neither_the_api_nor_sql_nor_files() -> None:
    modules = _modules("maintenance")
    assert "maintenance/expire.py" in modules  # the walk found the package
    forbidden = ("chronolake.api", "sqlalchemy", "pathlib", "shutil", "glob")
    found = {
        (name, imported)
        for name, imports in modules.items()
        for imported in imports
        if imported == "chronolake" or imported.startswith(forbidden)
    }
    assert found == set()


def test_the_check_sees_an_import_under_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from chronolake.api.connection import Connection\n"
        "def f() -> None:\n"
        "    import chronolake\n"
    )
    assert {"chronolake.api.connection", "chronolake"} <= _imports(source)
