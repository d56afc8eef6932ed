"""Time travel in one minute: undo a bad DELETE with Snowflake SQL (``make run``).

Runs on a fresh lake in ./demo-lake with a simulated clock, so that every run prints the
same timestamps and the OFFSET and TIMESTAMP points land between known commits.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import chronolake
from chronolake.cli.output import make_console, print_cursor, print_history

LAKE = Path("demo-lake")
START = dt.datetime(2024, 6, 1, 9, 0, 0, tzinfo=dt.UTC)
console = make_console()


class SimulatedClock:
    """A clock that only moves when told to: ``clock()`` is the time, ``tick(s)`` moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def run(con: chronolake.Connection, why: str, sql: str, params: list[Any] | None = None) -> str:
    """Print why and what, run it, print the result; return the statement's query id."""
    console.print(f"\n[bold cyan]-- {why}[/]")
    console.print(f"chronolake> {sql};", markup=False)
    if params:
        console.print(f"            params: {params}", style="dim", markup=False)
    cur = con.execute(sql, params)
    print_cursor(cur, "table", console)
    return str(cur.query_id)


def main() -> None:
    """Recreate ./demo-lake and walk through AT/BEFORE on an orders table."""
    shutil.rmtree(LAKE, ignore_errors=True)
    clock = SimulatedClock(START)
    console.print(
        f"Lake: {LAKE.resolve()}  (simulated clock starts at {START:%Y-%m-%d %H:%M:%S} UTC)"
    )
    with chronolake.connect(str(LAKE), clock=clock) as con:
        run(con, "a table", "CREATE TABLE orders (id INT, customer VARCHAR, amount NUMBER(10, 2))")
        clock.tick(10)
        inserted = run(
            con,
            "three orders, at 09:00:10",
            "INSERT INTO orders VALUES (1, 'ada', 120), (2, 'grace', 75.50), (3, 'linus', 300)",
        )
        clock.tick(10)
        run(
            con,
            "a 10% discount for grace, at 09:00:20",
            "UPDATE orders SET amount = 67.95 WHERE id = 2",
        )
        clock.tick(10)
        bad = run(con, "oops: the WHERE clause was forgotten, at 09:00:30", "DELETE FROM orders")
        clock.tick(10)
        run(con, "the table is empty now, at 09:00:40", "SELECT * FROM orders")
        run(
            con,
            "the rows as they were just before the bad DELETE",
            "SELECT * FROM orders BEFORE(STATEMENT => ?) ORDER BY id",
            [bad],
        )
        run(
            con,
            "25 seconds ago (09:00:15): after the INSERT, before the discount",
            "SELECT * FROM orders AT(OFFSET => -25) ORDER BY id",
        )
        run(
            con,
            "the same point as a timestamp",
            "SELECT * FROM orders AT(TIMESTAMP => '2024-06-01 09:00:15'::TIMESTAMP) ORDER BY id",
        )
        history = con.table_history("orders")
        version = next(h["snapshot_id"] for h in history if h["query_id"] == inserted)
        run(
            con,
            f"snapshot {version} is the INSERT: read it by its number",
            "SELECT * FROM orders AT(VERSION => ?) ORDER BY id",
            [version],
        )
        clock.tick(10)
        run(
            con,
            "put the rows back",
            "INSERT INTO orders SELECT * FROM orders BEFORE(STATEMENT => ?)",
            [bad],
        )
        run(con, "all back, discount included", "SELECT * FROM orders ORDER BY id")
        console.print(
            "\n[bold cyan]-- con.table_history('orders'): every snapshot that changed it[/]"
        )
        print_history(con.table_history("orders"), "table", console)


if __name__ == "__main__":
    main()
