"""Scans: a table at a snapshot becomes a DuckDB view over exactly its visible files.

Two views per table state: the *read* view (the table's current columns, deletes applied)
and the *row* view, which adds ``__cl_file`` (data file id), ``__cl_pos`` (row position in
the file) and ``__cl_rid`` (the stable row id) for DML and change feeds.

Every value that varies (file paths, file ids, first row ids, deleted positions) is passed
as a bound parameter into a DuckDB variable; the view text is a template over internal names,
with the table's column names, types and defaults written by sqlglot (quoted, never pasted).

Files are read by their physical column names (``c<column id>``, see ``file_columns``), one
scan per set of columns the files hold and per size class (``_similar``): renamed columns
keep their physical name, a column added after a file was written reads as its default, and
the engine keeps its own row-count estimates (reading through a field-id ``schema=`` map
makes it guess one row per scan, and plan joins blind). A scan holding files with deletes
drops their rows by a filter on one bitmap over its rows, placed where DuckDB neither
pushes it into the scan nor counts it in its estimate; a state with no deletes is a bare
``read_parquet``.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.model import ColumnInfo, DataFile, DeleteFile
from chronolake.engine import small_files
from chronolake.engine.file_columns import (
    RID_PHYSICAL,
    ROW_ID_FIELD,
    FileColumns,
    engine_type,
    file_columns,
    physical_name,
    written_by_name,
)
from chronolake.engine.small_files import split_small
from chronolake.io.file_io import FileIO
from chronolake.storage.delete_files import position_array

FILE_COL, POS_COL, RID_COL = "__cl_file", "__cl_pos", "__cl_rid"
RAW_RID = "__cl_rawrid"
_KEY_SHIFT = 1 << 40  # positions within one file stay below 2**40
_ESTIMATE_SLACK = 1.5
# A scan drops its deleted rows by a bitmap when it has at most this many rows (DuckDB copies
# the bitmap for every 2,048 rows it filters, so its cost grows with the square of the rows)
# and at least one deleted row in _BITMAP_SHARE (the positions' hash table, which the other
# way probes for every row, then outgrows the caches); otherwise by joining the positions.
_BITMAP_ROWS = 4 * 1024 * 1024
_BITMAP_SHARE = 64
_SOLO_PUSHED = True

_SCHEMA_SQL = (
    "SET VARIABLE {var} = MAP(?::INTEGER[], "
    "?::STRUCT(name VARCHAR, type VARCHAR, default_value VARCHAR)[])"
)


def _similar(files: Sequence[DataFile]) -> list[list[DataFile]]:
    """``files`` split into as few scans as keep the engine's row estimate of each within
    ``_ESTIMATE_SLACK`` of its real row count, the largest file first in each.

    The engine estimates a scan of several files as the first file's rows times the number
    of files: one 6M-row file with three 6k-row ones reads as 24M rows, which planned TPC-H
    Q9 as a 400M-row cross product (6.4 s; 0.38 s with the small files in a scan of their
    own). Files with and without deletes share a scan: splitting them measured slower."""
    parts: list[list[DataFile]] = []
    for f in sorted(files, key=lambda f: f.row_count, reverse=True):
        part = parts[-1] if parts else None
        if part is not None:
            rows = sum(x.row_count for x in part) + f.row_count
            if part[0].row_count * (len(part) + 1) <= _ESTIMATE_SLACK * rows:
                part.append(f)
                continue
        parts.append([f])
    return parts


def _schema_values(
    columns: Sequence[ColumnInfo], with_rid: bool
) -> tuple[list[int], list[dict[str, str | None]]]:
    keys = [c.column_id for c in columns]
    vals: list[dict[str, str | None]] = [
        {"name": c.name, "type": c.type, "default_value": c.default_value_text()} for c in columns
    ]
    if with_rid:
        keys.append(ROW_ID_FIELD)
        vals.append({"name": RAW_RID, "type": "BIGINT", "default_value": None})
    return keys, vals


class ScanViews:
    """Creates and caches the views of one DuckDB connection."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, io: FileIO, size: int = 512) -> None:
        self.duck = duck
        self.io = io
        self._ids = itertools.count(1)
        self._views: OrderedDict[Hashable, tuple[str, str]] = OrderedDict()
        self._size = size
        # views with small files' rows registered as {view}_m, and the bytes each holds
        self._memory: dict[str, int] = {}

    def views(
        self,
        key: Hashable,
        columns: Sequence[ColumnInfo],
        files: Sequence[DataFile],
        solo: bool = False,
    ) -> tuple[str, str]:
        """(read view name, row view name) for a table state identified by ``key``.

        ``solo``: the statement reads no other table, so no join is planned on the scan's
        row estimate, and deleted rows may go by the cheapest filter (see ``_without_deleted``).
        """
        key = (key, "solo") if solo else key
        found = self._views.get(key)
        if found is not None:
            self._views.move_to_end(key)
            return found
        n = next(self._ids)
        names = self._create(f"__cl_v{n}", columns, files, solo)
        self._views[key] = names
        while len(self._views) > self._size:
            _, old = self._views.popitem(last=False)
            self._drop(old)
        return names

    def trim(self) -> None:
        """Between statements: drop the least recently used views while the small-file rows
        the views hold in memory pass ``small_files.VIEW_BYTES``."""
        while self._views and sum(self._memory.values()) > small_files.VIEW_BYTES:
            _, old = self._views.popitem(last=False)
            self._drop(old)

    def _drop(self, names: tuple[str, str]) -> None:
        for v in names:
            self.duck.execute(f"DROP VIEW IF EXISTS {v}")
        if self._memory.pop(names[0], None) is not None:
            self.duck.unregister(names[0] + "_m")

    def position_rows(
        self,
        key: Hashable,
        columns: Sequence[ColumnInfo],
        files: Sequence[DataFile],
        include: Sequence[DeleteFile | None],
        exclude: Sequence[DeleteFile | None],
    ) -> str:
        """A row view of the rows of ``files[i]`` at positions in ``include[i]`` but not in
        ``exclude[i]``: the rows one delete file state hides and another shows. Change feeds
        read exactly these, never the unchanged rest of the file."""
        found = self._views.get(key)
        if found is not None:
            self._views.move_to_end(key)
            return found[1]
        p = f"__cl_v{next(self._ids)}"
        row_v = p + "_r"
        keep = [i for i, dl in enumerate(include) if dl is not None]
        if not keep:
            self._empty_views(p, row_v, columns)
        else:
            self._position_view(p, columns, files, include, exclude)
            self.duck.execute(f"CREATE TEMP VIEW {p} AS SELECT 1 AS x WHERE false")
        self._views[key] = (p, row_v)
        return row_v

    def _position_view(
        self,
        p: str,
        columns: Sequence[ColumnInfo],
        files: Sequence[DataFile],
        include: Sequence[DeleteFile | None],
        exclude: Sequence[DeleteFile | None],
    ) -> None:
        keys, vals = _schema_values(columns, True)
        self.duck.execute(_SCHEMA_SQL.format(var=p + "_sr"), [keys, vals])
        self._set(f"{p}_f", [self.io.uri(f.path) for f in files])
        self._set(f"{p}_i", [f.file_id for f in files])
        self._set(f"{p}_r", [f.first_row_id for f in files])
        empty = np.empty(0, np.int64)
        shown = [
            i * _KEY_SHIFT
            + np.setdiff1d(
                position_array(self.io, dl),
                empty if old is None else position_array(self.io, old),
                assume_unique=True,
            )
            for i, (dl, old) in enumerate(zip(include, exclude, strict=True))
            if dl is not None
        ]
        self._set_list(f"{p}_k", np.concatenate(shown))
        idx = "d.file_index::BIGINT + 1"
        self.duck.execute(
            f"CREATE TEMP VIEW {p}_r AS SELECT d.* EXCLUDE ({RAW_RID}, file_row_number), "
            f"list_extract(getvariable('{p}_i'), {idx}) AS {FILE_COL}, "
            f"d.file_row_number AS {POS_COL}, "
            f"coalesce(d.{RAW_RID}, list_extract(getvariable('{p}_r'), {idx}) + d.file_row_number)"
            f" AS {RID_COL} "
            f"FROM read_parquet(getvariable('{p}_f'), schema=getvariable('{p}_sr'), "
            "file_row_number=true) AS d "
            f"SEMI JOIN (SELECT unnest(getvariable('{p}_k')) AS k) AS x "
            f"ON d.file_index::BIGINT * {_KEY_SHIFT} + d.file_row_number = x.k"
        )

    def forget(self, key: Hashable) -> None:
        names = self._views.pop(key, None)
        if names:
            self._drop(names)

    def _set(self, var: str, value: object) -> None:
        self.duck.execute(f"SET VARIABLE {var} = ?", [value])

    def _set_list(self, var: str, keys: np.ndarray) -> None:
        """Set ``var`` to the list of ``keys`` (passed as Arrow: far cheaper than a Python
        list of a million integers)."""
        tmp = f"{var}_keys"
        self.duck.register(tmp, pa.table({"k": keys}))
        try:
            self.duck.execute(
                f"SET VARIABLE {var} = (SELECT coalesce(list(k), []::BIGINT[]) FROM {tmp})"
            )
        finally:
            self.duck.unregister(tmp)

    def _create(
        self, p: str, columns: Sequence[ColumnInfo], files: Sequence[DataFile], solo: bool
    ) -> tuple[str, str]:
        read_v, row_v = p, p + "_r"
        if not files:
            self._empty_views(read_v, row_v, columns)
            return read_v, row_v
        small, files = split_small(files)
        read_parts: list[str] = []
        row_parts: list[str] = []
        if small:
            read_parts, row_parts = self._memory_part(p, columns, small)
        for n, (layout, gfiles) in enumerate(self._by_layout(files)):
            read, row = self._file_part(f"{p}_{n}", columns, layout, gfiles, solo)
            read_parts.append(read)
            row_parts.append(row)
        self.duck.execute(f"CREATE TEMP VIEW {read_v} AS {' UNION ALL '.join(read_parts)}")
        self.duck.execute(f"CREATE TEMP VIEW {row_v} AS {' UNION ALL '.join(row_parts)}")
        return read_v, row_v

    def _by_layout(
        self, files: Sequence[DataFile]
    ) -> list[tuple[FileColumns | None, list[DataFile]]]:
        """``files`` grouped by the columns they hold (None: not written by name, read by
        field id), each group split into files of similar row counts (``_similar``)."""
        groups: dict[FileColumns | None, list[DataFile]] = {}
        for f in files:
            found = file_columns(self.duck, self.io.uri(f.path))
            groups.setdefault(found if written_by_name(found) else None, []).append(f)
        return [(layout, part) for layout, g in groups.items() for part in _similar(g)]

    def _file_part(
        self,
        g: str,
        columns: Sequence[ColumnInfo],
        layout: FileColumns | None,
        files: Sequence[DataFile],
        solo: bool = False,
    ) -> tuple[str, str]:
        """Read and row view parts over ``files``, which all hold the columns ``layout``.

        Columns are read by their physical names, renamed, cast where the file's type differs
        and filled with their default where the file lacks them: unlike reading through a
        field-id schema, this keeps the engine's row-count estimates, so joins are planned as
        over plain Parquet. Deleted rows go as ``_without_deleted`` says."""
        self._set(f"{g}_f", [self.io.uri(f.path) for f in files])
        self._set(f"{g}_i", [f.file_id for f in files])
        self._set(f"{g}_r", [f.first_row_id for f in files])
        if layout is None:
            keys, vals = _schema_values(columns, True)
            self.duck.execute(_SCHEMA_SQL.format(var=g + "_s"), [keys, vals])
            src = f"read_parquet(getvariable('{g}_f'), schema=getvariable('{g}_s'){{rn}})"
            cols = ", ".join(exp.to_identifier(c.name, quoted=True).sql("duckdb") for c in columns)
            raw_rid = f"d.{RAW_RID}"
        else:
            src = f"read_parquet(getvariable('{g}_f'){{rn}})"
            cols = self._projection(columns, layout)
            has_rid = any(name == RID_PHYSICAL for name, _ in layout)
            raw_rid = f"d.{RID_PHYSICAL}" if has_rid else "NULL"
        deleted = any(f.delete is not None for f in files)
        fi = "d.__cl_fi" if deleted else "d.file_index"
        idx = f"{fi}::BIGINT + 1"
        row_cols = (
            f"{cols}, list_extract(getvariable('{g}_i'), {idx}) AS {FILE_COL}, "
            f"d.file_row_number AS {POS_COL}, "
            f"coalesce({raw_rid}, list_extract(getvariable('{g}_r'), {idx}) + d.file_row_number)"
            f" AS {RID_COL}"
        )
        numbered = src.format(rn=", file_row_number=true")
        if deleted:
            rows_from = read_from = self._without_deleted(g, files, numbered, solo)
        else:
            rows_from, read_from = f"{numbered} AS d", f"{src.format(rn='')} AS d"
        return f"SELECT {cols} FROM {read_from}", f"SELECT {row_cols} FROM {rows_from}"

    def _projection(self, columns: Sequence[ColumnInfo], layout: FileColumns) -> str:
        """The select list giving ``columns`` from a file holding ``layout``."""
        held = dict(layout)
        out = []
        for c in columns:
            type_ = exp.DataType.build(c.type, dialect="duckdb")
            name = physical_name(c.column_id)
            value: exp.Expr
            if name not in held:
                default = exp.null() if c.default_sql is None else exp.Literal.string(c.default_sql)
                value = exp.cast(default, type_)
            elif held[name] != engine_type(self.duck, c.type):
                value = exp.cast(exp.column(name, table="d"), type_)
            else:
                value = exp.column(name, table="d")
            out.append(value.as_(exp.to_identifier(c.name, quoted=True)).sql("duckdb"))
        return ", ".join(out)

    def _memory_part(
        self, p: str, columns: Sequence[ColumnInfo], files: Sequence[DataFile]
    ) -> tuple[list[str], list[str]]:
        """Read and row view parts serving ``files`` from the small-file cache: their rows are
        registered as one Arrow table, after a typed empty part that fixes the column types
        (Arrow has no JSON type)."""
        shape = tuple((c.column_id, c.name, c.type, c.default_value_text()) for c in columns)
        tables = small_files.CACHE.tables(files, shape, lambda fs: self._load_small(columns, fs))
        rows = pa.concat_tables(tables).combine_chunks()
        self.duck.register(p + "_m", rows)
        self._memory[p] = rows.nbytes
        empty_read, empty_row = self._typed_empty(columns)
        internal = f"{FILE_COL}, {POS_COL}, {RID_COL}"
        return (
            [empty_read, f"SELECT * EXCLUDE ({internal}) FROM {p}_m"],
            [empty_row, f"SELECT * FROM {p}_m"],
        )

    def _load_small(
        self, columns: Sequence[ColumnInfo], files: Sequence[DataFile]
    ) -> list[pa.Table]:
        """The row-view rows of each of ``files``, read by one scan with the table's mapping."""
        v = "__cl_sf"
        keys, vals = _schema_values(columns, True)
        self.duck.execute(_SCHEMA_SQL.format(var=v + "_s"), [keys, vals])
        self._set(v + "_f", [self.io.uri(f.path) for f in files])
        self._set(v + "_i", [f.file_id for f in files])
        self._set(v + "_r", [f.first_row_id for f in files])
        idx = "d.file_index::BIGINT + 1"
        rows = self.duck.sql(
            f"SELECT d.* EXCLUDE ({RAW_RID}, file_row_number), "
            f"list_extract(getvariable('{v}_i'), {idx}) AS {FILE_COL}, "
            f"d.file_row_number AS {POS_COL}, "
            f"coalesce(d.{RAW_RID}, list_extract(getvariable('{v}_r'), {idx}) + d.file_row_number)"
            f" AS {RID_COL} FROM read_parquet(getvariable('{v}_f'), schema=getvariable('{v}_s'), "
            "file_row_number=true) AS d ORDER BY d.file_index, d.file_row_number"
        ).to_arrow_table()
        offsets = itertools.accumulate((f.row_count for f in files), initial=0)
        return [rows.slice(o, f.row_count) for o, f in zip(offsets, files, strict=False)]

    def _without_deleted(
        self, g: str, files: Sequence[DataFile], src: str, solo: bool = False
    ) -> str:
        """A FROM clause (aliased ``d``, with ``__cl_fi`` the file index) over ``src``, the
        scan of ``files`` in order, without their deleted rows.

        A scan of many deleted rows among not too many (see ``_BITMAP_ROWS``) marks them in
        one bitmap over its rows (a file's rows start at the sum of the row counts before it)
        and drops them by a filter on the bit. The filter sits above a left join with an empty
        relation and reads the join's (always NULL) column: DuckDB then neither pushes it into
        the Parquet scan, whose estimate it would cut to one row, nor counts it as a filter
        keeping a fifth of the rows, so a table with deletes is planned at its real size. Any
        other scan left-joins its deleted positions (``_joined_out``). In a statement reading
        no other table (``solo``) the estimate plans no join, and the bitmap filter goes
        straight into the scan, the cheapest way for any share of deleted rows."""
        empty = np.empty(0, np.int64)
        dels = [empty if f.delete is None else position_array(self.io, f.delete) for f in files]
        rows = sum(f.row_count for f in files)
        few = sum(len(d) for d in dels) * _BITMAP_SHARE < rows
        if rows > _BITMAP_ROWS or (few and not (solo and _SOLO_PUSHED)):
            return self._joined_out(g, dels, src)
        starts = np.fromiter(
            itertools.accumulate((f.row_count for f in files), initial=0), np.int64, len(files) + 1
        )
        marked = np.concatenate([starts[i] + pos for i, pos in enumerate(dels)])
        bits = np.zeros(rows, np.bool_)
        bits[marked] = True
        # bit i of the BIT is row i (packbits puts the first row in the high bit of byte 0)
        self.duck.execute(f"SET VARIABLE {g}_bm = ?::BLOB::BIT", [np.packbits(bits).tobytes()])
        if len(files) == 1:
            bit = "d.file_row_number"
        else:
            self._set(f"{g}_o", starts[:-1].tolist())
            bit = f"list_extract(getvariable('{g}_o'), d.__cl_fi::BIGINT + 1) + d.file_row_number"
        if solo and _SOLO_PUSHED:  # no alias of the select list is visible in its WHERE
            bit = bit.replace("d.__cl_fi", "d.file_index")
            return (
                f"(SELECT d.*, d.file_index AS __cl_fi FROM {src} AS d "
                f"WHERE get_bit(getvariable('{g}_bm'), ({bit})::INTEGER) = 0) AS d"
            )
        return (
            f"(SELECT d.*, d.file_index AS __cl_fi, x.k AS __cl_none FROM {src} AS d "
            "LEFT JOIN (SELECT NULL::BIGINT AS k WHERE false) AS x ON d.file_row_number = x.k) "
            f"AS d WHERE coalesce(d.__cl_none, get_bit(getvariable('{g}_bm'), ({bit})::INTEGER))"
            " = 0"
        )

    def _joined_out(self, g: str, dels: Sequence[np.ndarray], src: str) -> str:
        """``_without_deleted`` for a scan too large for a bitmap: the deleted positions (the
        position alone for one file, else file index * 2^40 + position) are left-joined and
        rows whose position matched are filtered out by the joined flag (an anti-join would
        be counted as a filter keeping a fifth of the rows, like the bitmap's filter alone)."""
        if len(dels) == 1:
            self._set_list(f"{g}_k", dels[0])
            on = "d.file_row_number"
        else:
            self._set_list(
                f"{g}_k", np.concatenate([i * _KEY_SHIFT + pos for i, pos in enumerate(dels)])
            )
            on = f"d.file_index::BIGINT * {_KEY_SHIFT} + d.file_row_number"
        return (
            f"(SELECT d.*, d.file_index AS __cl_fi, x.k IS NULL AS __cl_keep FROM {src} AS d "
            f"LEFT JOIN (SELECT unnest(getvariable('{g}_k')) AS k) AS x ON {on} = x.k) AS d "
            "WHERE d.__cl_keep"
        )

    def _typed_empty(self, columns: Sequence[ColumnInfo]) -> tuple[str, str]:
        """Read and row view bodies with the table's columns and types and no rows."""
        sel = exp.select(
            *(
                exp.cast(exp.null(), exp.DataType.build(c.type, dialect="duckdb")).as_(
                    exp.to_identifier(c.name, quoted=True)
                )
                for c in columns
            )
        ).where(exp.false())
        row = sel.select(
            exp.cast(exp.null(), "BIGINT").as_(FILE_COL),
            exp.cast(exp.null(), "BIGINT").as_(POS_COL),
            exp.cast(exp.null(), "BIGINT").as_(RID_COL),
        )
        return sel.sql("duckdb"), row.sql("duckdb")

    def _empty_views(self, read_v: str, row_v: str, columns: Sequence[ColumnInfo]) -> None:
        body, row = self._typed_empty(columns)
        self.duck.execute(f"CREATE TEMP VIEW {read_v} AS {body}")
        self.duck.execute(f"CREATE TEMP VIEW {row_v} AS {row}")
