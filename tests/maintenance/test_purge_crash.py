"""A cleanup SIGKILLed in the middle loses nothing (ARCHITECTURE.md invariant 7): every file a
reachable point needs is still there, every query answers the same, and the next cleanup
finishes the job (deletes exactly the rest of the unreachable files).

The child (cleaner.py) reports each file it deleted and waits; the parent kills it after the
third, so exactly three files are gone and two of them recorded, whatever the machine's
speed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from child_events import Child
from lake_forms import LakeSpec
from purge_helpers import Clock, answers, brute_needed, build_history, referenced

from chronolake.maintenance import cleanup, expire

CHILD = Path(__file__).with_name("cleaner.py")


def test_killed_cleanup_loses_nothing_and_rerun_finishes(
    lake_spec: LakeSpec, tmp_path: Path
) -> None:
    clock = Clock()
    con = lake_spec.connect(clock=clock)
    con.execute("CREATE TABLE many (x INT)")
    for i in range(10):
        con.execute(f"INSERT INTO many VALUES ({i})")
    con.execute("TRUNCATE TABLE many")
    build_history(con, clock)
    cat = con.session.catalog
    now = int(clock.now.timestamp() * 1_000_000)
    gone = referenced(cat, "default") - brute_needed(cat, "default", now)
    assert len(gone) >= 10
    before_disk = set(lake_spec.list_files())
    assert expire(con).files == len(gone)
    con.close()

    child_now = clock.now + dt.timedelta(days=1, minutes=1)
    args = [lake_spec.to_arg(), child_now.isoformat()]
    with Child(CHILD, args, tmp_path / "cleaner.log") as child:
        for seen in range(1, 4):
            event = child.next_event()
            assert "deleted" in event, event
            if seen < 3:
                child.resume()
        child.kill()
    after_kill = set(lake_spec.list_files())
    assert before_disk - gone <= after_kill  # nothing reachable lost
    assert len(before_disk - after_kill) == 3

    clock.now = child_now + dt.timedelta(minutes=1)
    con = lake_spec.connect(clock=clock)
    later = int(clock.now.timestamp() * 1_000_000)
    reachable_now = answers(con, later)
    report = cleanup(con)
    # the first two deletions were recorded (a batch of two), the third was not: it is
    # deleted again (a no-op) and recorded now
    assert report.files == len(gone) - 2
    assert set(lake_spec.list_files()) == before_disk - gone
    assert answers(con, later) == reachable_now
    assert cleanup(con).files == 0
    con.close()
