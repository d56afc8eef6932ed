"""A throwaway PostgreSQL server for the tests, started from the machine's own binaries.

``PostgresServer.start()`` runs ``initdb`` and ``pg_ctl`` in a new temporary folder (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses to run as root), on a
free loopback port with ``fsync=off``, its unix socket in that folder. Nothing depends on a
server already running on the machine. ``create_database()`` makes a role and a database of
their own for one test or module; ``stop()`` kills the server (``pg_ctl stop -m immediate``)
and removes the folder.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"


PREFIX = "chronolake-pg-"
OWNER = "owner.pid"  # the test process that started the server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_abandoned(bindir: Path) -> None:
    """Stop and remove the servers of test processes that died without stopping them (a
    killed pytest cannot run its teardown, and pg_ctl's server outlives it)."""
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((folder / OWNER).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        run_as = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "stop", "-m", "immediate"]
        subprocess.run([*run_as, *pg_ctl], capture_output=True, check=False, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries on this machine (``make services`` installs them)."""


def find_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin): "
            "run `make services` (apt-get install -y postgresql)."
        )
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Database:
    """A database and its owner role; ``url`` is what chronolake takes as its catalog."""

    name: str
    user: str
    password: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/{self.name}"
        )


class PostgresServer:
    """One running server; use ``start()`` to make one."""

    def __init__(
        self,
        bindir: Path,
        folder: Path,
        port: int,
        run_as: list[str],
        settings: dict[str, str] | None = None,
    ) -> None:
        self.bindir, self.folder, self.port, self._run_as = bindir, folder, port, run_as
        self.settings = settings or {}
        self.data = folder / "data"
        self.host = "127.0.0.1"

    @classmethod
    def start(cls, settings: dict[str, str] | None = None) -> PostgresServer:
        """A new server; ``settings`` override the test defaults in postgresql.conf (e.g.
        ``{"synchronous_commit": "on"}`` for a test that kills the server)."""
        bindir = find_bindir()
        _stop_abandoned(bindir)
        folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        (folder / OWNER).write_text(str(os.getpid()))
        run_as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(folder, SUPERUSER, SUPERUSER)
            run_as = ["runuser", "-u", SUPERUSER, "--"]
        server = cls(bindir, folder, free_port(), run_as, settings)
        try:
            server._init()
            server._pg_ctl("start", "-w", "-t", "120", "-l", str(folder / "server.log"))
        except BaseException:
            server._remove()
            raise
        return server

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._run_as, *args], check=True, capture_output=True, text=True, cwd=self.folder
        )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def _init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'",
            # fast, and still crash-safe for a killed server (not for a lost machine); the WAL
            # of an acknowledged commit is written before the answer (synchronous_commit on)
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            **self.settings,
        }
        conf = "".join(f"{k} = {v}\n" for k, v in settings.items())
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(conf)

    def admin(self) -> psycopg.Connection:
        """A superuser connection over the unix socket (autocommit)."""
        return psycopg.connect(
            host=str(self.folder),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
        )

    def create_database(self, prefix: str = "lake") -> Database:
        """A new database owned by a new role with a random password (nothing else granted)."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        db = Database(name, f"{name}_owner", secrets.token_hex(8), self.host, self.port)
        with self.admin() as con:
            con.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(db.user), sql.Literal(db.password)
                )
            )
            con.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(db.name), sql.Identifier(db.user)
                )
            )
        return db

    def restart(self) -> None:
        """Kill the server at once and start it again on the same port and data."""
        self._pg_ctl("stop", "-m", "immediate", "-w")
        self._pg_ctl("start", "-w", "-t", "120", "-l", str(self.folder / "server.log"))

    def stop(self) -> None:
        """Kill the server at once (nothing in it is kept) and remove its folder."""
        try:
            self._pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
