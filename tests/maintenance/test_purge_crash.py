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
from purge_helpers import Clock, answers, brute_needed, build_history, catalog, referenced

import chronolake
from chronolake.maintenance import cleanup, expire

CHILD = Path(__file__).with_name("cleaner.py")


def _on_disk(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".tmp" not in p.relative_to(root).parts
    }


def test_killed_cleanup_loses_nothing_and_rerun_finishes(tmp_path: Path) -> None:
    clock = Clock()
    con = chronolake.connect(tmp_path, clock=clock)
    con.execute("CREATE TABLE many (x INT)")
    for i in range(10):
        con.execute(f"INSERT INTO many VALUES ({i})")
    con.execute("TRUNCATE TABLE many")
    build_history(con, clock)
    root = con._session.layout.tenant_root(con.tenant)
    cat = catalog(tmp_path)
    now = int(clock.now.timestamp() * 1_000_000)
    gone = referenced(cat, "default") - brute_needed(cat, "default", now)
    assert len(gone) >= 10
    before_disk = _on_disk(root)
    assert expire(con).files == len(gone)
    con.close()

    child_now = clock.now + dt.timedelta(days=1, minutes=1)
    with Child(CHILD, [str(tmp_path), child_now.isoformat()], tmp_path / "cleaner.log") as child:
        for seen in range(1, 4):
            event = child.next_event()
            assert "deleted" in event, event
            if seen < 3:
                child.resume()
        child.kill()
    after_kill = _on_disk(root)
    assert before_disk - gone <= after_kill  # nothing reachable lost
    assert len(before_disk - after_kill) == 3

    clock.now = child_now + dt.timedelta(minutes=1)
    con = chronolake.connect(tmp_path, clock=clock)
    later = int(clock.now.timestamp() * 1_000_000)
    reachable_now = answers(con, later)
    report = cleanup(con)
    # the first two deletions were recorded (a batch of two), the third was not: it is
    # deleted again (a no-op) and recorded now
    assert report.files == len(gone) - 2
    assert _on_disk(root) == before_disk - gone
    assert answers(con, later) == reachable_now
    assert cleanup(con).files == 0
    con.close()
