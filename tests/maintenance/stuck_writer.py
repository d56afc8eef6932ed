"""Child process of test_purge_orphans.py: writes rows in a transaction, never commits.

Usage: python stuck_writer.py LAKE

Prints {"written": true} (flushed) once its INSERTs wrote their files, then waits to be killed.
"""

from __future__ import annotations

import json
import sys
import time

import chronolake


def main() -> None:
    con = chronolake.connect(sys.argv[1], autocommit=False)
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    con.execute("DELETE FROM t WHERE x < 3")
    sys.stdout.write(json.dumps({"written": True}) + "\n")
    sys.stdout.flush()
    time.sleep(600)


if __name__ == "__main__":
    main()
