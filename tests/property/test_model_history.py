"""Model-based property test of time travel (SEMANTICS.md sections 2, 5 and 11).

Hypothesis generates short histories of INSERT / UPDATE / DELETE / MERGE statements, autocommitted
or grouped into explicit BEGIN .. COMMIT / ROLLBACK transactions over two tables. A plain Python
model (a multiset of rows per table) is kept alongside. After every committed snapshot the
expected state of each table, the query ids that resolve to it and its commit time are
recorded; at the end every snapshot is read back through each kind of point:

* ``AT(VERSION => n)``
* ``AT(STATEMENT => q)`` for the statement (or every statement of the transaction) producing n
* ``BEFORE(STATEMENT => q')`` for the statements producing n + 1 (and the BEGIN of any transaction)
* ``AT(TIMESTAMP => t)`` at the exact commit time, and half a second later
* ``BEFORE(TIMESTAMP => t)`` at the exact commit time of n + 1

Statements that committed nothing (no-op DML, rolled back transactions, BEGIN) are points in
time: AT and BEFORE both resolve to the latest snapshot before them.

A fake clock advances one second per statement, so commit times separate snapshots and equal the
clock value of the committing statement. The same histories run on a PostgreSQL catalog too
(fewer examples: each one makes a database).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lake_forms import connect_at
from services.postgres import PostgresServer
from sqlalchemy import create_engine, text

import chronolake

TABLES = ("T1", "T2")
Row = tuple[int, str | None, Decimal | None]

# ---------------------------------------------------------------------------------------------
# operations


@dataclass(frozen=True)
class Insert:
    table: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Pred:
    """``id BETWEEN lo AND hi`` or ``id % mod = rem``."""

    kind: str
    a: int
    b: int

    def sql(self) -> tuple[str, list[Any]]:
        if self.kind == "range":
            return "id BETWEEN ? AND ?", [self.a, self.b]
        return "id % ? = ?", [self.a, self.b]

    def __call__(self, row_id: int) -> bool:
        if self.kind == "range":
            return self.a <= row_id <= self.b
        return row_id % self.a == self.b


@dataclass(frozen=True)
class Update:
    table: str
    pred: Pred
    s: str | None
    delta: Decimal


@dataclass(frozen=True)
class Delete:
    table: str
    pred: Pred


@dataclass(frozen=True)
class Merge:
    table: str
    source: tuple[tuple[int, str, Decimal, str], ...]  # id (distinct), s, n, op ('D' | 'U')
    delete: bool
    update: bool
    insert: bool


@dataclass(frozen=True)
class Txn:
    ops: tuple[Any, ...]
    commit: bool


IDS = st.integers(0, 24)
STRS = st.one_of(st.none(), st.sampled_from(["a", "b", "it's", "", "Zoë", "x y", '"q"']))
NUMS = st.one_of(st.none(), st.integers(-50_000, 50_000).map(lambda c: Decimal(c).scaleb(-2)))
DELTAS = st.integers(-1000, 1000).map(lambda c: Decimal(c).scaleb(-2))
tables = st.sampled_from(TABLES)

preds = st.one_of(
    st.tuples(IDS, st.integers(0, 8)).map(lambda t: Pred("range", t[0], t[0] + t[1])),
    st.integers(2, 5).flatmap(lambda m: st.integers(0, m - 1).map(lambda r: Pred("mod", m, r))),
)

inserts = st.builds(
    Insert, tables, st.lists(st.tuples(IDS, STRS, NUMS), min_size=1, max_size=6).map(tuple)
)
updates = st.builds(Update, tables, preds, STRS, DELTAS)
deletes = st.builds(Delete, tables, preds)


@st.composite
def merges(draw: Any) -> Merge:
    ids = draw(st.lists(IDS, min_size=1, max_size=4, unique=True))
    source = tuple(
        (
            i,
            draw(st.sampled_from(["m", "it's", "N"])),
            draw(DELTAS),
            draw(st.sampled_from(["D", "U"])),
        )
        for i in ids
    )
    flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(lambda f: any(f)))
    return Merge(draw(tables), source, *flags)


dml = st.one_of(inserts, updates, deletes, merges())
txns = st.builds(Txn, st.lists(dml, min_size=1, max_size=4).map(tuple), st.booleans())
histories = st.lists(
    st.one_of(inserts, inserts, updates, deletes, merges(), txns), min_size=1, max_size=12
)

# ---------------------------------------------------------------------------------------------
# the model


def _add(n: Decimal | None, d: Decimal) -> Decimal | None:
    return None if n is None else n + d


def apply(state: dict[str, list[Row]], op: Any) -> int:
    """Apply ``op`` to ``state`` in place; return the number of rows it affected."""
    rows = state[op.table]
    if isinstance(op, Insert):
        rows.extend(op.rows)
        return len(op.rows)
    if isinstance(op, Update):
        hit = 0
        for i, (rid, _s, n) in enumerate(rows):
            if op.pred(rid):
                rows[i] = (rid, op.s, _add(n, op.delta))
                hit += 1
        return hit
    if isinstance(op, Delete):
        keep = [r for r in rows if not op.pred(r[0])]
        hit = len(rows) - len(keep)
        state[op.table] = keep
        return hit
    if isinstance(op, Merge):
        src = {sid: (s, n, o) for sid, s, n, o in op.source}
        out: list[Row] = []
        hit = 0
        matched: set[int] = set()
        for rid, s, n in rows:
            if rid not in src:
                out.append((rid, s, n))
                continue
            matched.add(rid)
            ss, sn, so = src[rid]
            if op.delete and so == "D":
                hit += 1
            elif op.update:
                out.append((rid, ss, _add(n, sn)))
                hit += 1
            else:
                out.append((rid, s, n))
        if op.insert:
            for sid, ss, sn, _o in op.source:
                if sid not in matched:
                    out.append((sid, ss, sn))
                    hit += 1
        state[op.table] = out
        return hit
    raise AssertionError(op)


def statement(op: Any) -> tuple[str, list[Any]]:
    if isinstance(op, Insert):
        values = ", ".join("(?, ?, ?)" for _ in op.rows)
        return f"INSERT INTO {op.table} (id, s, n) VALUES {values}", [
            v for row in op.rows for v in row
        ]
    if isinstance(op, Update):
        where, params = op.pred.sql()
        return f"UPDATE {op.table} SET s = ?, n = n + ? WHERE {where}", [
            op.s,
            op.delta,
            *params,
        ]
    if isinstance(op, Delete):
        where, params = op.pred.sql()
        return f"DELETE FROM {op.table} WHERE {where}", params
    if isinstance(op, Merge):
        values = ", ".join("(?, ?, CAST(? AS NUMBER(12,2)), ?)" for _ in op.source)
        clauses = []
        if op.delete:
            clauses.append("WHEN MATCHED AND src.op = 'D' THEN DELETE")
        if op.update:
            clauses.append("WHEN MATCHED THEN UPDATE SET s = src.s, n = tgt.n + src.n")
        if op.insert:
            clauses.append("WHEN NOT MATCHED THEN INSERT (id, s, n) VALUES (src.id, src.s, src.n)")
        sql = (
            f"MERGE INTO {op.table} AS tgt USING (SELECT * FROM (VALUES {values}) "
            "AS v(id, s, n, op)) AS src ON tgt.id = src.id " + " ".join(clauses)
        )
        return sql, [v for row in op.source for v in row]
    raise AssertionError(op)


# ---------------------------------------------------------------------------------------------
# running a history


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

    def tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Snap:
    state: dict[str, list[Row]]
    time: dt.datetime
    at_ids: list[str] = field(default_factory=list)  # AT(STATEMENT) of these is this snapshot
    before_ids: list[str] = field(default_factory=list)  # BEFORE(STATEMENT) is this snapshot
    point_ids: list[str] = field(default_factory=list)  # no-op statements: AT and BEFORE


def copy_state(state: dict[str, list[Row]]) -> dict[str, list[Row]]:
    return {t: list(rows) for t, rows in state.items()}


def sort_rows(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: tuple((v is None, "" if v is None else v) for v in r))


def ts_literal(t: dt.datetime) -> str:
    return f"'{t.strftime('%Y-%m-%d %H:%M:%S.%f')}'::TIMESTAMP_LTZ"


def run_history(lake: Any, history: list[Any], catalog: str | None = None) -> None:
    """Run ``history`` on a new lake (its catalog at the URL ``catalog``, else in ``lake``)."""
    clock = FakeClock()
    con = connect_at(lake, clock=clock, catalog=catalog)
    cur = con.cursor()
    state: dict[str, list[Row]] = {t: [] for t in TABLES}
    snaps: list[Snap] = []  # snaps[i] is snapshot i + 1

    def exe(sql: str, params: list[Any] | None = None) -> str:
        clock.tick()
        cur.execute(sql, params)
        assert cur.sfqid
        return str(cur.sfqid)

    def committed(ids: list[str]) -> None:
        snaps.append(Snap(copy_state(state), clock.now, at_ids=list(ids)))

    def noop(ids: list[str]) -> None:
        # a point in time: resolves to the latest snapshot before it
        snaps[-1].point_ids.extend(ids)

    def pending_before(ids: list[str]) -> None:
        # BEFORE these statements is the latest snapshot *now* (they produce the next one)
        snaps[-1].before_ids.extend(ids)

    for t in TABLES:
        qid = exe(f"CREATE TABLE {t} (id INT, s VARCHAR, n NUMBER(12,2))")
        if snaps:
            pending_before([qid])
        committed([qid])

    for op in history:
        if isinstance(op, Txn):
            begin = exe("BEGIN")
            noop([begin])  # BEGIN resolves to the snapshot before the transaction
            work = copy_state(state)
            ids, hits = [], 0
            for sub in op.ops:
                sql, params = statement(sub)
                ids.append(exe(sql, params))
                n = apply(work, sub)
                hits += n
                assert cur.rowcount == n, (sql, params, cur.rowcount, n)
            end = exe("COMMIT" if op.commit else "ROLLBACK")
            ids.append(end)
            if op.commit and hits:
                pending_before(ids)
                state = work
                committed(ids)
            else:
                noop(ids)
        else:
            sql, params = statement(op)
            qid = exe(sql, params)
            n = apply(state, op)
            assert cur.rowcount == n, (sql, params, cur.rowcount, n)
            if n:
                pending_before([qid])
                committed([qid])
            else:
                noop([qid])
        # the latest state is what a plain read sees
        for t in TABLES:
            got = exe(f"SELECT id, s, n FROM {t}")
            noop([got])
            assert sort_rows(cur.fetchall()) == sort_rows(state[t]), t

    # -- the catalog holds exactly the snapshots we counted, at the clock's times -------------
    engine = create_engine(catalog or f"sqlite:///{lake / 'catalog.sqlite'}")
    try:
        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT snapshot_id, commit_time FROM cl_snapshots "
                    "WHERE tenant_id = 'default' ORDER BY snapshot_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [r[0] for r in rows] == list(range(1, len(snaps) + 1))
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert [epoch + dt.timedelta(microseconds=r[1]) for r in rows] == [s.time for s in snaps]

    # -- every snapshot through every kind of point -------------------------------------------
    clock.tick()
    final = exe("SELECT 1")
    snaps[-1].point_ids.append(final)
    half = dt.timedelta(milliseconds=500)
    for number, snap in enumerate(snaps, start=1):
        nxt = snaps[number].time if number < len(snaps) else None
        for t in TABLES:
            created = TABLES.index(t) + 1
            if number < created:
                with pytest.raises(chronolake.TimeTravelError, match="not available for table"):
                    exe(f"SELECT * FROM {t} AT(VERSION => {number})")
                continue
            points: list[tuple[str, str, list[Any]]] = [
                ("AT(VERSION)", "AT(VERSION => ?)", [number]),
                ("AT(TIMESTAMP exact)", f"AT(TIMESTAMP => {ts_literal(snap.time)})", []),
                ("AT(TIMESTAMP +0.5s)", f"AT(TIMESTAMP => {ts_literal(snap.time + half)})", []),
            ]
            if nxt is not None:
                points.append(
                    ("BEFORE(TIMESTAMP next)", f"BEFORE(TIMESTAMP => {ts_literal(nxt)})", [])
                )
            for q in snap.at_ids:
                points.append((f"AT(STATEMENT {q})", "AT(STATEMENT => ?)", [q]))
            for q in snap.before_ids:
                points.append((f"BEFORE(STATEMENT {q})", "BEFORE(STATEMENT => ?)", [q]))
            for q in snap.point_ids:
                points.append((f"AT(STATEMENT noop {q})", "AT(STATEMENT => ?)", [q]))
                points.append((f"BEFORE(STATEMENT noop {q})", "BEFORE(STATEMENT => ?)", [q]))
            # one statement, one table reference per point (each reference has its own point)
            parts, params = [], []
            for i, (_label, clause, ps) in enumerate(points):
                parts.append(f"SELECT {i} AS k, id, s, n FROM {t} {clause}")
                params.extend(ps)
            exe(" UNION ALL ".join(parts), params)
            got: dict[int, list[Any]] = {i: [] for i in range(len(points))}
            for k, *row in cur.fetchall():
                got[k].append(tuple(row))
            expected = sort_rows(snap.state[t])
            for i, (label, _clause, _ps) in enumerate(points):
                assert sort_rows(got[i]) == expected, (
                    f"table {t}, snapshot {number}, {label}: got {sort_rows(got[i])}, "
                    f"expected {expected}"
                )
    con.close()


@settings(
    # CHRONOLAKE_PROPERTY_EXAMPLES=500 for a longer hunt
    max_examples=int(os.environ.get("CHRONOLAKE_PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories)
def test_every_snapshot_matches_the_model(
    tmp_path_factory: pytest.TempPathFactory, history: list[Any]
) -> None:
    run_history(tmp_path_factory.mktemp("lake"), history)


@settings(
    max_examples=int(os.environ.get("CHRONOLAKE_PROPERTY_EXAMPLES_PG", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories)
def test_every_snapshot_matches_the_model_on_postgres(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, history: list[Any]
) -> None:
    url = postgres_server.create_database().url
    run_history(tmp_path_factory.mktemp("lake"), history, catalog=url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fixed_history(tmp_path: Any, backend: str, request: pytest.FixtureRequest) -> None:
    """A hand-written history touching each kind of operation, as a quick regression."""
    url = request.getfixturevalue("pg_catalog") if backend == "postgresql" else None
    p = Pred
    run_history(
        tmp_path,
        [
            Insert("T1", ((1, "a", Decimal("1.50")), (2, "it's", None), (3, None, Decimal("-2")))),
            Insert("T2", ((1, "x", Decimal("0")),)),
            Update("T1", p("mod", 2, 1), "odd", Decimal("0.25")),
            Txn(
                (
                    Delete("T1", p("range", 2, 2)),
                    Merge(
                        "T2",
                        ((1, "m", Decimal("1"), "U"), (5, "N", Decimal("2"), "D")),
                        True,
                        True,
                        True,
                    ),
                    Insert("T1", ((9, "nine", Decimal("9.99")),)),
                ),
                commit=True,
            ),
            Txn((Delete("T1", p("range", 0, 24)),), commit=False),
            Update("T2", p("range", 100, 200), "none", Decimal("1")),  # no-op
            Merge(
                "T1",
                ((9, "m", Decimal("1"), "D"), (3, "it's", Decimal("1"), "U")),
                True,
                True,
                False,
            ),
            Delete("T2", p("mod", 5, 0)),
        ],
        catalog=url,
    )
