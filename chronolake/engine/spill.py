"""The folder where a connection's engine spills (sorts, joins, aggregates bigger than memory).

Each connection gets its own folder outside the lake, ``<spill root>/<pid>-<session id>``,
created at open and removed at close. A folder left behind by a process that died (its pid no
longer runs) is removed by the next connection that opens under the same root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path

from chronolake.settings import Settings

DEFAULT_TEMP_CAP = 16 * 1024**3  # the default spill limit never exceeds this many bytes


def spill_root(settings: Settings) -> Path:
    """Where the connections of this user spill: ``Settings.spill_dir`` or the system temp dir."""
    if settings.spill_dir:
        return Path(settings.spill_dir)
    user = getattr(os, "getuid", lambda: "user")()
    return Path(tempfile.gettempdir()) / f"chronolake-spill-{user}"


def open_spill_dir(settings: Settings, session_id: str) -> Path:
    """A new, empty spill folder for one connection (stale ones of dead processes removed)."""
    root = spill_root(settings)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    remove_stale(root)
    folder = root / f"{os.getpid()}-{session_id}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def close_spill_dir(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it runs
        return True
    return True


def remove_stale(root: Path) -> None:
    """Remove the spill folders under ``root`` whose process no longer runs."""
    with suppress(OSError):
        for child in root.iterdir():
            pid = child.name.split("-", 1)[0]
            mine = pid.isdigit() and int(pid) == os.getpid()
            if child.is_dir() and pid.isdigit() and not mine and not _running(int(pid)):
                shutil.rmtree(child, ignore_errors=True)


def temp_limit(settings: Settings, folder: Path) -> str:
    """The engine's max_temp_directory_size: the setting, or min(16 GiB, half the free space)."""
    if settings.duckdb_temp_limit:
        return settings.duckdb_temp_limit
    free = shutil.disk_usage(folder).free
    return f"{min(DEFAULT_TEMP_CAP, free // 2)}B"
