"""Child process of test_purge_orphans.py: writes rows in a transaction, never commits.

Usage: python stuck_writer.py LAKE_SPEC   (a lake_forms.LakeSpec as JSON)

Reports {"written": true} once its INSERT and DELETE wrote their files, then waits for a line
on stdin (child_events.step): the parent kills it there.
"""

from __future__ import annotations

import sys

from child_events import step
from lake_forms import LakeSpec


def main() -> None:
    con = LakeSpec.from_arg(sys.argv[1]).connect(autocommit=False)
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    con.execute("DELETE FROM t WHERE x < 3")
    step({"written": True})


if __name__ == "__main__":
    main()
