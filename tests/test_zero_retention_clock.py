"""Retention 0 purges a dropped object at once, also under a clock that never advances
(drop and undrop at the same instant): UNDROP and SHOW ... HISTORY agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import chronolake

NOON = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)


def test_undrop_after_zero_retention_with_a_stopped_clock(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path / "lake", clock=lambda: NOON) as con:
        con.execute("CREATE TABLE t (id INT) DATA_RETENTION_TIME_IN_DAYS = 0")
        con.execute("CREATE TABLE keep (id INT)")
        con.execute("DROP TABLE t")
        con.execute("DROP TABLE keep")
        with pytest.raises(chronolake.NotFound, match=r"Table T did not exist or was purged\."):
            con.execute("UNDROP TABLE t")
        shown = con.execute("SHOW TABLES HISTORY LIKE 't'").fetchall()
        assert shown == []  # SHOW ... HISTORY agrees: the version is purged
        con.execute("UNDROP TABLE keep")  # the default retention keeps it
        assert con.execute("SELECT COUNT(*) FROM keep").fetchone() == (0,)
