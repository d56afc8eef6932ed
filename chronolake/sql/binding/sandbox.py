"""The first line of tenant isolation: SQL may only reach the tenant's catalog tables.

Every table reference is later replaced by a view the binder builds (or refused as unknown),
so here we refuse what could reach anything else: file-reading and engine-introspection
functions, wherever they are nested and however they are quoted or cased.
"""

from __future__ import annotations

from sqlglot import exp

from chronolake.errors import PermissionDenied

_FORBIDDEN_PREFIXES = (
    "read_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "duckdb_",
    "pragma_",
    "csv_",
    "json_execute",
    "arrow_",
    "pandas_",
    "python_",
    "st_read",
    "ducklake_",
)
_FORBIDDEN = {
    "glob",
    "sniff_csv",
    "current_setting",
    "getenv",
    "getvariable",
    "set_variable",
    "query",
    "query_table",
    "load_aws_credentials",
    "which_secret",
    "checkpoint",
    "force_checkpoint",
    "enable_profiling",
    "disable_profiling",
    "scan_arrow_ipc",
    "to_arrow_ipc",
    "list_files",
    "read",
}
_TABLE_FUNCTIONS_ALLOWED = {
    "range",
    "generate_series",
    "generator",
    "unnest",
    "flatten",
    "explode",
}


def function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def forbidden_function(name: str) -> bool:
    return name in _FORBIDDEN or name.startswith(_FORBIDDEN_PREFIXES)


def deny_function(name: str) -> PermissionDenied:
    return PermissionDenied(
        f"Function {name.upper()} is not allowed: SQL can only read the tables of this lake."
    )


def check(tree: exp.Expr) -> None:
    """Raise PermissionDenied if the statement reaches outside the tenant's tables."""
    for node in tree.walk():
        if isinstance(node, (exp.Copy, exp.Pragma, exp.Command)):
            kind = node.key.upper() if not isinstance(node, exp.Command) else node.name.upper()
            raise PermissionDenied(
                f"{kind} is not allowed: SQL can only read and change the tables of this lake."
            )
        if isinstance(node, (exp.Func, exp.Anonymous)):
            name = function_name(node)
            if forbidden_function(name):
                raise deny_function(name)
            for cls_name in type(node).sql_names() if isinstance(node, exp.Func) else ():
                if forbidden_function(cls_name.lower()):
                    raise deny_function(cls_name.lower())
        if isinstance(node, exp.Table) and isinstance(node.this, (exp.Func, exp.Anonymous)):
            name = function_name(node.this)
            if name not in _TABLE_FUNCTIONS_ALLOWED:
                raise PermissionDenied(
                    f"Table function {name.upper()} is not allowed: SQL can only read the "
                    "tables of this lake."
                )
        if isinstance(node, exp.TableFromRows):
            inner = node.this
            if isinstance(inner, exp.Dot) and inner.this.name.upper() == "INFORMATION_SCHEMA":
                continue
            name = function_name(inner) if inner is not None else ""
            if name not in _TABLE_FUNCTIONS_ALLOWED:
                raise PermissionDenied(
                    f"Table function {name.upper()} is not allowed: SQL can only read the "
                    "tables of this lake."
                )
