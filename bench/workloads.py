"""Deterministic data for W1, W2 and W3 (numpy ``default_rng(42)``), shared by every system.

Draw order (documented so any system can reproduce it): version 1 draws customer_id, status
and amount for all rows; then each round draws the inserted rows (customer_id, status,
amount), the updated ids (``choice`` of the live ids, without replacement) and the deleted
ids (``choice`` of the ids still live), in that order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

STATUSES = np.array(["new", "paid", "shipped", "delivered", "cancelled"])
EPOCH = np.datetime64("2024-01-01T00:00:00", "us")
# "updated_at = now" of an UPDATE: one fixed instant per round, so every system stores the same.
UPDATE_NOW = dt.datetime(2025, 1, 1)

Q1 = "SELECT status, count(*), sum(amount) FROM {t} GROUP BY status ORDER BY status"
Q2 = "SELECT count(*), sum(amount) FROM {t} WHERE customer_id = 4242"
QUERIES = {"Q1": Q1, "Q2": Q2}


@dataclass(frozen=True)
class Scale:
    name: str
    rows: int  # W1 version 1
    rounds: int  # W1 rounds of insert/update/delete
    inserts: int
    updates: int
    deletes: int
    w2_commits: int
    w3_versions: int  # small commits for W3's history-length part
    w3_rows: int  # rows for W3's data-size part
    reps: int = 5
    load_rounds: int = 3  # turns of the tenants-apart measurement (same lake / another lake)


FULL = Scale("full", 2_000_000, 30, 20_000, 2_000, 1_000, 2_000, 10_000, 20_000_000)
QUICK = Scale("quick", 50_000, 3, 500, 50, 25, 200, 100, 500_000, load_rounds=1)


def orders_rows(rng: np.random.Generator, first_id: int, n: int) -> pa.Table:
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    customer = rng.integers(0, 100_000, n, dtype=np.int64)
    # Dictionary-decoded, never a list of Python strings: 20M rows must fit in little memory.
    codes = pa.array(rng.integers(0, len(STATUSES), n).astype(np.int8))
    status = pa.DictionaryArray.from_arrays(codes, pa.array(STATUSES.tolist())).cast(pa.string())
    amount = np.round(rng.uniform(1, 1000, n), 2)
    updated = EPOCH + ids.astype("timedelta64[s]").astype("timedelta64[us]")
    return pa.table(
        {
            "id": pa.array(ids),
            "customer_id": pa.array(customer),
            "status": status,
            "amount": pa.array(amount),
            "updated_at": pa.array(updated, pa.timestamp("us")),
        }
    )


@dataclass
class Op:
    """One commit: kind is load, insert, update or delete."""

    version: int
    kind: str
    rows: pa.Table | None = None  # load / insert
    ids: pa.Table | None = None  # update / delete: one column "id"


@dataclass
class W1Data:
    ops: list[Op] = field(default_factory=list)

    @property
    def versions(self) -> int:
        return len(self.ops)


def w1(scale: Scale) -> W1Data:
    rng = np.random.default_rng(42)
    data = W1Data()
    data.ops.append(Op(1, "load", rows=orders_rows(rng, 0, scale.rows)))
    live = np.arange(scale.rows, dtype=np.int64)
    next_id = scale.rows
    for _ in range(scale.rounds):
        rows = orders_rows(rng, next_id, scale.inserts)
        live = np.concatenate([live, np.arange(next_id, next_id + scale.inserts)])
        next_id += scale.inserts
        data.ops.append(Op(len(data.ops) + 1, "insert", rows=rows))
        upd = rng.choice(live, scale.updates, replace=False)
        data.ops.append(Op(len(data.ops) + 1, "update", ids=pa.table({"id": pa.array(upd)})))
        dele = rng.choice(live, scale.deletes, replace=False)
        live = np.setdiff1d(live, dele, assume_unique=True)
        data.ops.append(Op(len(data.ops) + 1, "delete", ids=pa.table({"id": pa.array(dele)})))
    return data


def w1_query_versions(n: int) -> list[int]:
    """Version 1, the middle (46 of 91), the latest, and a few evenly spaced for the chart."""
    picks = {1, (n + 1) // 2, n}
    picks.update(int(v) for v in np.linspace(1, n, min(n, 11)).round())
    return sorted(picks)


def small_row(i: int) -> pa.Table:
    """W2/W3 single-row commits (W3 reuses the orders schema)."""
    return pa.table(
        {
            "id": pa.array([10_000_000_000 + i], pa.int64()),
            "customer_id": pa.array([i % 100_000], pa.int64()),
            "status": pa.array([STATUSES[i % 5]], pa.string()),
            "amount": pa.array([float(i % 997) + 0.25]),
            "updated_at": pa.array([EPOCH], pa.timestamp("us")),
        }
    )
