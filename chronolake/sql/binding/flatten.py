"""FLATTEN over VARIANT arrays and objects: ``LATERAL FLATTEN(input => v)`` and
``TABLE(FLATTEN(...))``, as a correlated subquery DuckDB runs as a lateral join.

Each element of an array gives a row with INDEX (from 0), PATH ``[i]`` and VALUE; each key of
an object a row with KEY, PATH (the key) and VALUE; anything else no row (one row of NULLs
with ``OUTER => TRUE``). THIS is the flattened value; SEQ is 1 (not a per-input number).
``PATH => 'a.b'`` flattens the value at that path. ``RECURSIVE`` and ``MODE`` are refused.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from chronolake.errors import NotSupportedError, SqlError

COLUMNS = ("SEQ", "KEY", "PATH", "INDEX", "VALUE", "THIS")
_INPUT = "__cl_flatten_input"

# The expansion of one input value x: array positions, then object keys.
_TEMPLATE = """
SELECT 1 AS seq, e.k AS key, COALESCE(e.k, '[' || e.i || ']') AS path, e.i AS index,
  CASE WHEN e.k IS NULL THEN json_extract(s.x, '$[' || e.i || ']')
       ELSE json_extract(s.x, '$.' || to_json(e.k)) END AS value,
  s.x AS this
FROM (SELECT __cl_flatten_input AS x) AS s,
  (SELECT CAST(NULL AS VARCHAR) AS k,
          UNNEST(generate_series(0, CASE WHEN json_type(s.x) = 'ARRAY'
            THEN CAST(json_array_length(s.x) AS BIGINT) - 1 ELSE -1 END)) AS i
   UNION ALL
   SELECT UNNEST(CASE WHEN json_type(s.x) = 'OBJECT' THEN json_keys(s.x) END),
          CAST(NULL AS BIGINT)) AS e
"""


@functools.lru_cache(maxsize=1)
def _template() -> exp.Expr:
    return sqlglot.parse_one(_TEMPLATE, read="duckdb")


def _arguments(fn: exp.Explode) -> dict[str, exp.Expr]:
    """FLATTEN's arguments by name (a positional first argument is INPUT)."""
    args: dict[str, exp.Expr] = {}
    for i, arg in enumerate([fn.this, *fn.expressions]):
        if isinstance(arg, exp.Kwarg):
            args[arg.this.name.upper()] = arg.expression
        elif i == 0:
            args["INPUT"] = arg
        else:
            raise SqlError("FLATTEN takes named arguments after INPUT: PATH => ..., OUTER => ...")
    return args


def _constant_text(value: exp.Expr, name: str) -> str:
    if not (isinstance(value, exp.Literal) and value.is_string):
        raise SqlError(f"FLATTEN's {name} must be a string constant.")
    return value.this


def _expansion(fn: exp.Explode) -> tuple[exp.Expr, bool]:
    """(the subquery that flattens ``fn``'s input, OUTER)."""
    args = _arguments(fn)
    unknown = set(args) - {"INPUT", "PATH", "OUTER", "RECURSIVE", "MODE"}
    if unknown:
        raise SqlError(f"FLATTEN has no argument {sorted(unknown)[0]}.")
    if "INPUT" not in args:
        raise SqlError("FLATTEN needs INPUT => <variant>.")
    recursive = args.get("RECURSIVE")
    if recursive is not None and not (isinstance(recursive, exp.Boolean) and not recursive.this):
        raise NotSupportedError("FLATTEN with RECURSIVE => TRUE is not supported.")
    if "MODE" in args:
        raise NotSupportedError("FLATTEN with MODE is not supported: arrays and objects both.")
    outer = args.get("OUTER")
    if outer is not None and not isinstance(outer, exp.Boolean):
        raise SqlError("FLATTEN's OUTER must be TRUE or FALSE.")
    value: exp.Expr = exp.cast(args["INPUT"].copy(), exp.DataType.build("JSON"))
    if "PATH" in args:
        path = _constant_text(args["PATH"], "PATH")
        json_path = "$" + path if path.startswith("[") else "$." + path
        value = exp.func("json_extract", value, exp.Literal.string(json_path))
    body = _template().copy()
    for col in list(body.find_all(exp.Column)):
        if col.name == _INPUT:
            col.replace(value.copy())
    return body, bool(outer is not None and outer.this)


def _alias(node: exp.Expr) -> exp.TableAlias:
    alias = node.args.get("alias")
    name = alias.this if isinstance(alias, exp.TableAlias) and alias.this else None
    given = list(alias.columns) if isinstance(alias, exp.TableAlias) else []
    if given and len(given) != len(COLUMNS):
        raise SqlError(
            f"FLATTEN returns {len(COLUMNS)} columns, but {len(given)} names were given."
        )
    columns = given or [exp.to_identifier(c, quoted=True) for c in COLUMNS]
    return exp.TableAlias(this=name or exp.to_identifier("FLATTEN"), columns=columns)


def rewrite_flatten(tree: exp.Expr) -> exp.Expr:
    """Replace every LATERAL FLATTEN / TABLE(FLATTEN(...)) of ``tree`` (in place)."""
    for fn in list(tree.find_all(exp.Explode)):
        holder = fn.parent
        if not isinstance(holder, (exp.Lateral, exp.TableFromRows)):
            continue
        body, outer = _expansion(fn)
        holder.replace(exp.Subquery(this=body, alias=_alias(holder)))
        if outer:
            _make_outer(body)
    return tree


def _make_outer(body: exp.Expr) -> None:
    """OUTER => TRUE: the join keeps input rows that expand to nothing."""
    sub = body.parent
    join = sub.parent if sub is not None else None
    if not isinstance(join, exp.Join):
        raise SqlError("FLATTEN with OUTER => TRUE must be joined to the table it reads.")
    join.set("side", "LEFT")
    join.set("kind", None)
    join.set("on", exp.true())
