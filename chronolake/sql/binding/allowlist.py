"""The functions user SQL may call: DuckDB's function catalog minus the deny rules below.

The lists themselves are checked in (``function_lists/*.txt``, read by
``allowed_functions``) so that an engine upgrade cannot widen what tenants reach without a
reviewed diff. Regenerate and review them with::

    python -m chronolake.sql.binding.allowlist          # show what would change
    python -m chronolake.sql.binding.allowlist --write  # rewrite function_lists/*.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from chronolake.sql.binding.allowed_functions import LISTS

# The only table functions: pure row generators over their arguments.
TABLE_FUNCTIONS = frozenset({"generate_series", "json_each", "json_tree", "range", "unnest"})

# Scalar, aggregate, window and macro names refused, by prefix and by name, with the reason.
DENY_PREFIXES = {
    "__": "engine internals",
    "current_": "session and engine state (chronolake binds its own CURRENT_* values)",
    "duckdb_": "engine introspection",
    "has_": "engine privileges (PostgreSQL compatibility)",
    "inet_": "network addresses (PostgreSQL compatibility)",
    "json_deserialize_": "SQL text of the engine",
    "json_execute_": "runs SQL",
    "json_serialize_": "plans SQL against the engine's catalog",
    "parse_duckdb_": "engine logs",
    "pg_": "engine catalog (PostgreSQL compatibility)",
    "pragma_": "engine settings and storage",
    "read_": "reads files",
    "txid_": "engine transactions",
}
DENY_NAMES = {
    "col_description": "engine catalog",
    "currval": "engine sequences",
    "format_pg_type": "engine catalog",
    "format_type": "engine catalog",
    "get_block_size": "engine storage",
    "getvariable": "engine variables (chronolake's internal state)",
    "in_search_path": "engine catalog",
    "map_to_pg_oid": "engine catalog",
    "nextval": "engine sequences",
    "obj_description": "engine catalog",
    "session_user": "engine user",
    "setseed": "engine state",
    "setval": "engine sequences",
    "shobj_description": "engine catalog",
    "sleep_ms": "stalls the engine",
    "stats": "engine internals",
    "user": "engine user",
    "vector_type": "engine internals",
    "version": "engine version",
    "write_log": "engine logs",
}
# Clock readings named like session state: they only read the time.
KEEP = frozenset({"current_date", "current_localtime", "current_localtimestamp"})

_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_FROM = re.compile(r"\bFROM\b", re.I)
_LISTS = Path(__file__).with_name(LISTS)


def _connect() -> duckdb.DuckDBPyConnection:
    """A bare engine with the extensions chronolake's sessions have (none loaded on demand)."""
    return duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )


def catalog() -> list[tuple[str, str, str | None]]:
    """(name, type, macro body) of every function of the engine, names in lower case."""
    con = _connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT lower(function_name), function_type, macro_definition "
            "FROM duckdb_functions()"
        ).fetchall()
    finally:
        con.close()
    return [(str(n), str(t), d) for n, t, d in rows]


def denied(name: str) -> bool:
    """Whether a deny rule refuses a scalar, aggregate, window or macro name."""
    if name in KEEP:
        return False
    return name in DENY_NAMES or name.startswith(tuple(DENY_PREFIXES))


def propose(rows: Iterable[tuple[str, str, str | None]]) -> tuple[list[str], list[str]]:
    """(scalar names, table names) the deny rules leave of the engine's catalog."""
    rows = list(rows)
    table_kinds = ("table", "table_macro")
    scalars = {n for n, t, _ in rows if t not in (*table_kinds, "pragma") and not denied(n)}
    tables = {n for n, t, _ in rows if t in table_kinds and n in TABLE_FUNCTIONS}
    engine = {n for n, _, _ in rows}
    # a macro that reads a table, or calls something refused, is refused too
    bodies: dict[str, set[str]] = {}
    for name, kind, body in rows:
        if kind == "macro" and body and name in scalars:
            if _FROM.search(body):
                scalars.discard(name)
            bodies.setdefault(name, set()).update(c.lower() for c in _CALL.findall(body))
    changed = True
    while changed:
        changed = False
        for name, calls in bodies.items():
            if name in scalars and any(c in engine and c not in scalars for c in calls):
                scalars.discard(name)
                changed = True
    return sorted(scalars), sorted(tables)


def refused_names(
    rows: Iterable[tuple[str, str, str | None]], scalars: Sequence[str], tables: Sequence[str]
) -> list[str]:
    """The engine's function names that are on neither list."""
    return sorted({n for n, _, _ in rows} - set(scalars) - set(tables))


def render(names: Iterable[str]) -> str:
    """The text of one list file: a name per line, sorted."""
    return "".join(f"{n}\n" for n in sorted(names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the lists in function_lists/")
    args = parser.parse_args(argv)
    from chronolake.sql.binding import allowed_functions as current

    rows = catalog()
    scalars, tables = propose(rows)
    refused = refused_names(rows, scalars, tables)
    new = {"SCALAR": set(scalars), "TABLE": set(tables), "REFUSED": set(refused)}
    for const, names in new.items():
        old: frozenset[str] = getattr(current, const, frozenset())
        for name in sorted(names - old):
            print(f"+ {const} {name}")
        for name in sorted(old - names):
            print(f"- {const} {name}")
    changed = any(names != getattr(current, c, frozenset()) for c, names in new.items())
    if args.write:
        for const, names in new.items():
            (_LISTS / f"{const.lower()}.txt").write_text(render(names), encoding="utf-8")
        print(f"wrote {_LISTS} ({len(scalars)} scalar, {len(tables)} table functions)")
    elif changed:
        print(f"run with --write to rewrite the lists in {LISTS}/, then review the diff")
    else:
        print(f"the lists in {LISTS}/ match the engine's catalog")
    return 0


if __name__ == "__main__":
    sys.exit(main())
