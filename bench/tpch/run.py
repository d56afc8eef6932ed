"""Running the 22 queries on both systems at both states: answers judged, times medians."""

from __future__ import annotations

import decimal
import functools
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tpch import queries
from bench.tpch.build import Built, plain_duckdb
from bench.tpch.worker import Late, Rows, Runner


@dataclass
class Outcome:
    """One query at one state."""

    query: int
    state: str
    status: str = "ok"  # ok, wrong, error, timeout
    detail: str = ""
    plain_s: float | None = None
    chronolake_s: float | None = None
    expected: Rows | None = field(default=None, repr=False)  # plain's answer

    @property
    def ratio(self) -> float | None:
        if self.plain_s and self.chronolake_s is not None:
            return self.chronolake_s / self.plain_s
        return None


@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)
    peak_rss: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]

    def state_sensitive(self) -> list[int]:
        """The queries whose plain answers differ between the states: the old state's
        answers judge the time travel only for these."""
        by: dict[int, dict[str, Rows]] = {}
        for o in self.outcomes:
            if o.expected is not None:
                by.setdefault(o.query, {})[o.state] = o.expected
        return [
            n
            for n, a in sorted(by.items())
            if len(a) == 2 and differ(a["old"], a["latest"]) is not None
        ]

    def geomean(self, state: str) -> float | None:
        rs = [o.ratio for o in self.outcomes if o.state == state and o.ratio]
        return math.exp(statistics.mean(math.log(r) for r in rs)) if rs else None


def _same(x: Any, y: Any) -> bool:
    """Equal; numbers equal to the cent (rounded to 2 places, or less than half a cent apart
    when rounding puts two nearly equal values on either side of a half cent)."""
    nums = (decimal.Decimal, float, int)
    if isinstance(x, nums) and isinstance(y, nums) and not isinstance(x, bool):
        if isinstance(x, int) and isinstance(y, int):
            return x == y
        a, b = float(x), float(y)
        return round(a, 2) == round(b, 2) or abs(a - b) < 0.005
    return bool(x == y)


def _row_same(e: tuple[Any, ...], g: tuple[Any, ...]) -> bool:
    return len(e) == len(g) and all(_same(x, y) for x, y in zip(e, g, strict=True))


def _ties_only(expected: Rows, got: Rows, keys: list[int]) -> bool:
    """Whether ``got`` differs from ``expected`` only in the order of rows whose ORDER BY
    values (the columns ``keys``) are equal, which the query leaves free."""

    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(row[k] for k in keys)

    if not all(_row_same(key(e), key(g)) for e, g in zip(expected, got, strict=True)):
        return False
    start = 0
    for end in range(1, len(expected) + 1):
        if end < len(expected) and _row_same(key(expected[end]), key(expected[start])):
            continue
        left = list(got[start:end])
        for e in expected[start:end]:
            match = next((i for i, g in enumerate(left) if _row_same(e, g)), None)
            if match is None:
                return False
            left.pop(match)
        start = end
    return True


def differ(expected: Rows, got: Rows, keys: list[int] | None = None) -> str | None:
    """Why ``got`` is not ``expected`` (row by row, in order, except among rows tied on the
    ORDER BY columns ``keys``; numbers to the cent), or None."""
    if len(expected) != len(got):
        return f"{len(got)} rows, plain has {len(expected)}"
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        if not _row_same(e, g):
            if keys and _ties_only(expected, got, keys):
                return None
            return f"row {i}: {g} vs plain {e}"
    return None


def open_plain(files: dict[str, str], threads: int, mem: str, temp_dir: str) -> Any:
    """Child-process opener: plain DuckDB with one view per table over its Parquet file."""
    con = plain_duckdb(threads, mem, Path(temp_dir))
    for table, path in files.items():
        con.read_parquet(path).create_view(table)
    return con


def open_lake(path: str, settings: Any) -> Any:
    import chronolake

    return chronolake.connect(path, settings=settings)


@dataclass
class Plan:
    numbers: list[int]
    states: list[str]
    reps: int  # 0: answers only (no timing runs)
    timeout_s: float
    min_free_bytes: int


def run(
    built: Built, plan: Plan, settings: Any, threads: int, mem: str, tmp: Path, log: Any
) -> Results:
    """Every query of ``plan`` at each state: one run of each system judged, then ``reps``
    timed runs taking turns (plain, chronolake, ...), medians kept."""
    spill = Path(built.lake) / "data" / "default" / ".tmp"
    lake = Runner(
        functools.partial(open_lake, built.lake, settings),
        plan.timeout_s,
        tmp,
        plan.min_free_bytes,
        (spill,),
    )
    plains = {
        s: Runner(
            functools.partial(open_plain, built.plain[s], threads, mem, str(tmp / f"spill-{s}")),
            plan.timeout_s,
            tmp,
            plan.min_free_bytes,
            (tmp / f"spill-{s}",),
        )
        for s in plan.states
    }
    res = Results()
    try:
        for n in plan.numbers:
            text = queries.text(n)
            plain_sql = queries.duckdb_sql(text)
            keys = queries.order_columns(text)
            for state in plan.states:
                out = Outcome(n, state)
                res.outcomes.append(out)
                kind = None if state == "latest" else "BEFORE"
                lake_sql = queries.pinned(text, kind, built.first_refresh_qid)
                _one(out, plains[state], lake, plain_sql, lake_sql, plan.reps, keys)
                log(out)
    finally:
        lake.close()
        res.peak_rss["chronolake"] = lake.peak_rss
        for p in plains.values():
            p.close()
        res.peak_rss["plain"] = max((p.peak_rss for p in plains.values()), default=0)
    return res


def _one(
    out: Outcome,
    plain: Runner,
    lake: Runner,
    plain_sql: str,
    lake_sql: str,
    reps: int,
    keys: list[int] | None,
) -> None:
    try:
        first, expected = plain.query(plain_sql)
        out.expected = expected
    except (Late, RuntimeError) as e:
        out.status, out.detail = "plain failed", str(e)
        return
    try:
        _, got = lake.query(lake_sql)
    except (Late, RuntimeError) as e:
        out.status = "timeout" if isinstance(e, Late) else "error"
        out.detail = f"{e} (plain answered in {first * 1000:.0f} ms, one untimed run)"
        return
    why = differ(expected, got, keys)
    if why:
        out.status, out.detail = "wrong", why
        return
    if reps <= 0:
        return
    pt, lt = [], []
    try:
        for _ in range(reps):
            pt.append(plain.query(plain_sql)[0])
            lt.append(lake.query(lake_sql)[0])
    except (Late, RuntimeError) as e:
        out.status, out.detail = "timeout" if isinstance(e, Late) else "error", f"timed run: {e}"
        return
    out.plain_s, out.chronolake_s = statistics.median(pt), statistics.median(lt)
