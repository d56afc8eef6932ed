"""Scans: a table at a snapshot becomes a DuckDB view over exactly its visible files.

Two views per table state: the *read* view (the table's current columns, deletes applied)
and the *row* view, which adds ``__cl_file`` (data file id), ``__cl_pos`` (row position in
the file) and ``__cl_rid`` (the stable row id) for DML and change feeds.

Every value that varies (file paths, the field-id schema map, file ids, first row ids) is
passed as a bound parameter into a DuckDB variable; the view text is a fixed template over
internal names only, so no user data is ever spliced into SQL. Columns are matched by
Parquet field id, so renamed and added columns read correctly from old files.

Files with deletes are scanned apart from files without, and only they pay for the
anti-join on (file index, position); a state with no deletes is a bare ``read_parquet``.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from chronolake.catalog.model import ColumnInfo, DataFile, DeleteFile
from chronolake.engine import small_files
from chronolake.engine.small_files import split_small
from chronolake.storage.delete_files import position_array

ROW_ID_FIELD = 2_147_483_000  # Parquet field id of the explicit row id column
FILE_COL, POS_COL, RID_COL = "__cl_file", "__cl_pos", "__cl_rid"
RAW_RID = "__cl_rawrid"
_KEY_SHIFT = 1 << 40  # positions within one file stay below 2**40
# Files with deletes are read by one scan filtered by one bitmap over all their rows (a plain
# filter keeps DuckDB's scan fast: measured 1.7-1.9x faster than an anti-join); a bitmap is
# one bit per row and ``get_bit`` takes an INTEGER, so past this many rows one anti-join
# serves them instead.
_MAX_BITMAP_ROWS = 1 << 30
_OWN_SCAN_ROWS = 1 << 17
_MAX_OWN_SCANS = 8

_SCHEMA_SQL = (
    "SET VARIABLE {var} = MAP(?::INTEGER[], "
    "?::STRUCT(name VARCHAR, type VARCHAR, default_value VARCHAR)[])"
)


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

    def __init__(self, duck: duckdb.DuckDBPyConnection, root: Path, size: int = 512) -> None:
        self.duck = duck
        self.root = root
        self._ids = itertools.count(1)
        self._views: OrderedDict[Hashable, tuple[str, str]] = OrderedDict()
        self._size = size
        # views with small files' rows registered as {view}_m, and the bytes each holds
        self._memory: dict[str, int] = {}

    def views(
        self, key: Hashable, columns: Sequence[ColumnInfo], files: Sequence[DataFile]
    ) -> tuple[str, str]:
        """(read view name, row view name) for a table state identified by ``key``."""
        found = self._views.get(key)
        if found is not None:
            self._views.move_to_end(key)
            return found
        n = next(self._ids)
        names = self._create(f"__cl_v{n}", columns, files)
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
        self._set(f"{p}_f", [str(self.root / f.path) for f in files])
        self._set(f"{p}_i", [f.file_id for f in files])
        self._set(f"{p}_r", [f.first_row_id for f in files])
        empty = np.empty(0, np.int64)
        shown = [
            i * _KEY_SHIFT
            + np.setdiff1d(
                position_array(self.root, dl),
                empty if old is None else position_array(self.root, old),
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

    def _from_keys(self, var: str, keys: np.ndarray, aggregate: str) -> None:
        """Set ``var`` to ``aggregate`` over the column ``k`` of ``keys`` (passed as Arrow:
        far cheaper than a Python list of a million integers)."""
        tmp = f"{var}_keys"
        self.duck.register(tmp, pa.table({"k": keys}))
        try:
            self.duck.execute(f"SET VARIABLE {var} = (SELECT {aggregate} FROM {tmp})")
        finally:
            self.duck.unregister(tmp)

    def _set_list(self, var: str, keys: np.ndarray) -> None:
        self._from_keys(var, keys, "coalesce(list(k), []::BIGINT[])")

    def _create(
        self, p: str, columns: Sequence[ColumnInfo], files: Sequence[DataFile]
    ) -> tuple[str, str]:
        d = self.duck
        read_v, row_v = p, p + "_r"
        if not files:
            self._empty_views(read_v, row_v, columns)
            return read_v, row_v
        for var, with_rid in ((p + "_s", False), (p + "_sr", True)):
            keys, vals = _schema_values(columns, with_rid)
            d.execute(_SCHEMA_SQL.format(var=var), [keys, vals])
        small, files = split_small(files)
        read_parts: list[str] = []
        row_parts: list[str] = []
        if small:
            read_parts, row_parts = self._memory_part(p, columns, small)
        plain = [f for f in files if f.delete is None]
        deleted = [f for f in files if f.delete is not None]
        # the largest files with deletes get a scan of their own (a bitmap on the position
        # alone, no per-row offset lookup: ~30% cheaper filter); the rest share one scan
        big = sorted(
            (f for f in deleted if f.row_count >= _OWN_SCAN_ROWS),
            key=lambda f: f.row_count,
            reverse=True,
        )[:_MAX_OWN_SCANS]
        groups = [("a", plain), *((f"b{i}", [f]) for i, f in enumerate(big))]
        alone = {f.file_id for f in big}
        groups.append(("b", [f for f in deleted if f.file_id not in alone]))
        for g, gfiles in groups:
            if not gfiles:
                continue
            self._set(f"{p}_f{g}", [str(self.root / f.path) for f in gfiles])
            self._set(f"{p}_i{g}", [f.file_id for f in gfiles])
            self._set(f"{p}_r{g}", [f.first_row_id for f in gfiles])
            src = f"read_parquet(getvariable('{p}_f{g}'), schema=getvariable('{p}_s'){{extra}})"
            src_row = (
                f"read_parquet(getvariable('{p}_f{g}'), schema=getvariable('{p}_sr'), "
                "file_row_number=true)"
            )
            idx = "d.file_index::BIGINT + 1"
            row_cols = (
                f"d.* EXCLUDE ({RAW_RID}, file_row_number), "
                f"list_extract(getvariable('{p}_i{g}'), {idx}) AS {FILE_COL}, "
                f"d.file_row_number AS {POS_COL}, "
                f"coalesce(d.{RAW_RID}, list_extract(getvariable('{p}_r{g}'), {idx})"
                f" + d.file_row_number) AS {RID_COL}"
            )
            if g == "a":
                read_parts.append(f"SELECT * FROM {src.format(extra='')}")
                row_parts.append(f"SELECT {row_cols} FROM {src_row} AS d")
                continue
            src_b = src.format(extra=", file_row_number=true")
            keep = self._deleted_filter(f"{p}_{g}", gfiles)
            read_parts.append(f"SELECT d.* EXCLUDE (file_row_number) FROM {src_b} AS d {keep}")
            row_parts.append(f"SELECT {row_cols} FROM {src_row} AS d {keep}")
        d.execute(f"CREATE TEMP VIEW {read_v} AS {' UNION ALL '.join(read_parts)}")
        d.execute(f"CREATE TEMP VIEW {row_v} AS {' UNION ALL '.join(row_parts)}")
        return read_v, row_v

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
        self._set(v + "_f", [str(self.root / f.path) for f in files])
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

    def _deleted_filter(self, p: str, files: Sequence[DataFile]) -> str:
        """The clause that drops the deleted rows of ``files`` (scanned as one list, in order):
        one bitmap over all their rows, a file's rows starting at the sum of the row counts
        before it, or past ``_MAX_BITMAP_ROWS`` one anti-join on (file index, position)."""
        dels = [position_array(self.root, f.delete) for f in files]  # type: ignore[arg-type]
        total = sum(f.row_count for f in files)
        if total > _MAX_BITMAP_ROWS:
            self._set_list(
                f"{p}_k", np.concatenate([i * _KEY_SHIFT + pos for i, pos in enumerate(dels)])
            )
            return (
                f"ANTI JOIN (SELECT unnest(getvariable('{p}_k')) AS k) AS x "
                f"ON d.file_index::BIGINT * {_KEY_SHIFT} + d.file_row_number = x.k"
            )
        offsets = list(itertools.accumulate((f.row_count for f in files[:-1]), initial=0))
        bits = np.concatenate([o + pos for o, pos in zip(offsets, dels, strict=True)])
        self._from_keys(f"{p}_bm", bits, f"bitstring_agg(k::INTEGER, 0, {int(total) - 1})")
        if len(files) == 1:
            return f"WHERE get_bit(getvariable('{p}_bm'), d.file_row_number::INTEGER) = 0"
        self._set(f"{p}_o", offsets)
        return (
            f"WHERE get_bit(getvariable('{p}_bm'), (list_extract(getvariable('{p}_o'), "
            "d.file_index::BIGINT + 1) + d.file_row_number)::INTEGER) = 0"
        )

    def _typed_empty(self, columns: Sequence[ColumnInfo]) -> tuple[str, str]:
        """Read and row view bodies with the table's columns and types and no rows."""
        from sqlglot import exp

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
