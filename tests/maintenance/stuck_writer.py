"""Child process of test_purge_orphans.py: writes rows in a transaction, never commits.

Usage: python stuck_writer.py LAKE

Reports {"written": true} once its INSERT and DELETE wrote their files, then waits for a line
on stdin (child_events.step): the parent kills it there.
"""

from __future__ import annotations

import sys

from child_events import step

import chronolake


def main() -> None:
    con = chronolake.connect(sys.argv[1], autocommit=False)
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    con.execute("DELETE FROM t WHERE x < 3")
    step({"written": True})


if __name__ == "__main__":
    main()
