"""Which of a table's files changed recently: compaction leaves those alone, as users are
about to touch them again."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog

CHUNK = 500  # ids per IN list


def files_changed_after(
    catalog: Catalog,
    tenant: str,
    snapshot_id: int,
    data_file_ids: Sequence[int],
    delete_file_ids: Sequence[int],
) -> tuple[set[int], set[int]]:
    """(data file ids, delete file ids) among those given whose row began after
    ``snapshot_id``."""
    out: list[set[int]] = []
    with catalog.engine.connect() as conn:
        for table, key, ids in (
            (s.data_files, "file_id", data_file_ids),
            (s.delete_files, "delete_file_id", delete_file_ids),
        ):
            col = table.c[key]
            found: set[int] = set()
            for i in range(0, len(ids), CHUNK):
                found |= {
                    int(r[0])
                    for r in conn.execute(
                        select(col).where(
                            table.c.tenant_id == tenant,
                            col.in_(list(ids[i : i + CHUNK])),
                            table.c.begin_snapshot > snapshot_id,
                        )
                    )
                }
            out.append(found)
    return out[0], out[1]
