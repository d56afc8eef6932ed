"""FileIO: every access to a lake's data and delete files, over one ``pyarrow.fs`` file system.

A ``FileIO`` is rooted at a prefix (a local folder, or ``bucket/prefix`` on S3) and names
files by paths relative to it; ``for_tenant`` gives a view rooted at one tenant's prefix, so
code holding it cannot name a file of another tenant. Files are written completely before
they become visible: locally under a temporary name and then renamed, on S3 by one upload
(an object appears whole or not at all). Each failure is an ``OperationalError`` naming the
file (never a credential).

The spill folder and the SQLite catalog file are local by nature and stay outside this layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from chronolake.errors import OperationalError
from chronolake.storage.layout import check_tenant

_BLOCK = 1 << 20  # bytes read at a time when streaming a file


@dataclass(frozen=True)
class FileEntry:
    """A file found by ``FileIO.list``: its path relative to the IO's root, size, mtime."""

    path: str
    size: int
    modified: dt.datetime


class FileIO:
    """Files below ``root`` on ``fs``; ``scheme`` is ``"file"`` or ``"s3"``."""

    def __init__(
        self,
        fs: pafs.FileSystem,
        root: str,
        scheme: str,
        secrets: tuple[str, ...] = (),
        duck_fs: Callable[[str], Any] | None = None,
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.scheme = scheme
        self._secrets = tuple(s for s in secrets if s)
        self._duck_fs = duck_fs

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    def __repr__(self) -> str:
        return f"FileIO({self.url})"

    @property
    def url(self) -> str:
        """The root as a URL a user would write (a plain path when local)."""
        return self.root if self.is_local else f"s3://{self.root}"

    def for_tenant(self, tenant: str) -> FileIO:
        """The view rooted at ``tenant``'s prefix (``data/<tenant>`` below this root)."""
        return self.child(f"data/{check_tenant(tenant)}")

    def child(self, rel: str) -> FileIO:
        """The view rooted at ``rel`` below this root."""
        return FileIO(self.fs, self._full(rel), self.scheme, self._secrets, self._duck_fs)

    def _full(self, rel: str) -> str:
        parts = rel.split("/")
        if not rel or any(p in ("", ".", "..") for p in parts):
            raise OperationalError(f"Invalid file path {rel!r} below {self.url}.")
        return f"{self.root}/{'/'.join(parts)}"

    def contains(self, rel: str) -> bool:
        """Whether ``rel`` names a file below this root (no ``..``, not absolute and, locally,
        no symlinked folder leading out of it)."""
        if not rel or any(p in ("", ".", "..") for p in rel.split("/")):
            return False
        if not self.is_local:
            return True
        try:
            parent = os.path.realpath(os.path.dirname(self._full(rel)))
            return os.path.commonpath([parent, os.path.realpath(self.root)]) == os.path.realpath(
                self.root
            )
        except (ValueError, OSError):
            return False

    def uri(self, rel: str) -> str:
        """Where the engine reads ``rel``: a local absolute path, or an ``s3://`` URL."""
        full = self._full(rel)
        return full if self.is_local else f"s3://{full}"

    def duck_root(self) -> str:
        """This root as the engine names it, with a trailing slash (for allowed_directories)."""
        return (self.root if self.is_local else f"s3://{self.root}") + "/"

    def duck_filesystem(self) -> Any:
        """The fsspec file system to register on DuckDB connections, serving only the files
        below this root (None when local: DuckDB reads local files itself)."""
        return None if self._duck_fs is None else self._duck_fs(self.root)

    def local_dir(self, rel: str = "") -> Path:
        """The local folder ``rel`` (created if missing) for the engine to write into
        directly (local storage only: the embedded lake keeps DuckDB's own fast COPY)."""
        if not self.is_local:
            raise OperationalError(f"{self.url} is not a local folder.")
        path = Path(self._full(rel) if rel else self.root)
        with self._errors("create", rel):
            path.mkdir(parents=True, exist_ok=True)
        return path

    def remove_empty_dir(self, rel: str) -> None:
        """Remove the local folder ``rel`` if it is empty (S3 has no folders: nothing to do)."""
        if self.is_local:
            with suppress(OSError):
                os.rmdir(self._full(rel))

    # ------------------------------------------------------------------ failures
    def _say(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    @contextmanager
    def _errors(self, what: str, rel: str) -> Iterator[None]:
        try:
            yield
        except OperationalError:
            raise
        except FileNotFoundError:
            raise OperationalError(
                f"Cannot {what} {self._url_of(rel)}: it does not exist."
            ) from None
        except (OSError, pa.ArrowException) as e:
            reason = self._say(
                str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            )
            raise OperationalError(f"Cannot {what} {self._url_of(rel)}: {reason}") from None

    def _url_of(self, rel: str) -> str:
        return f"{self.url}/{rel}" if rel else self.url

    # ------------------------------------------------------------------ writing
    def write_parquet(self, rel: str, table: pa.Table, **options: Any) -> int:
        """Write ``table`` as the Parquet file ``rel`` (made visible only once complete);
        returns its size in bytes. ``options`` go to ``pyarrow.parquet.write_table``."""

        def write(sink: Any) -> None:
            pq.write_table(table, sink, **options)

        return self.write_with(rel, write)

    def write_with(self, rel: str, write: Callable[[Any], None]) -> int:
        """Call ``write`` with a writable stream whose bytes become the file ``rel`` once it
        returns (a failure leaves no file); for small files: large ones go by ``upload``."""
        full = self._full(rel)
        with self._errors("write", rel):
            if self.is_local:
                return _write_local(full, write)
            # in memory first: a stream closed after a failure would still upload its part
            buffer = pa.BufferOutputStream()
            write(buffer)
            data = buffer.getvalue()
            with self.fs.open_output_stream(full) as out:
                out.write(data)
            self._check_written(rel, data.size)
            return data.size

    def upload(self, local_path: str, rel: str) -> int:
        """Copy the local file ``local_path`` to ``rel`` (visible once complete); its size."""
        full = self._full(rel)
        with self._errors("write", rel):
            if self.is_local:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                os.replace(local_path, full)
                return os.path.getsize(full)
            pafs.copy_files(
                local_path,
                full,
                source_filesystem=pafs.LocalFileSystem(),
                destination_filesystem=self.fs,
            )
            size = os.path.getsize(local_path)
            self._check_written(rel, size)
            return size

    def _check_written(self, rel: str, size: int) -> None:
        """The object store holds all ``size`` bytes of ``rel``: a commit may name it. (A
        failed upload must fail the statement, never leave the catalog naming a file that
        is not there.)"""
        info = self.fs.get_file_info(self._full(rel))
        if info.type != pafs.FileType.File or info.size != size:
            raise OperationalError(
                f"Cannot write {self._url_of(rel)}: the storage holds "
                f"{'no such object' if info.type != pafs.FileType.File else f'{info.size} bytes'}"
                f" after uploading {size}."
            )

    # ------------------------------------------------------------------ reading
    def read_parquet(self, rel: str, **options: Any) -> pa.Table:
        """The Parquet file ``rel`` as a table (``options`` go to ``pq.read_table``)."""
        with self._errors("read", rel):
            return pq.read_table(self._full(rel), filesystem=self.fs, **options)

    def read_metadata(self, rel: str) -> pq.FileMetaData:
        """The footer of the Parquet file ``rel``."""
        with self._errors("read", rel), self.fs.open_input_file(self._full(rel)) as f:
            return pq.read_metadata(f)

    def copy_from(self, source: FileIO, rel: str) -> tuple[int, str]:
        """Copy ``source``'s file ``rel`` to the same path here, streaming (visible once
        complete where the storage allows: locally by a rename); (bytes, SHA-256 of what was
        read)."""
        digest = hashlib.sha256()
        size = 0

        def write(sink: Any) -> None:
            nonlocal size
            with source._errors("read", rel), source.fs.open_input_stream(source._full(rel)) as f:
                while block := f.read(_BLOCK):
                    digest.update(block)
                    sink.write(block)
                    size += len(block)

        full = self._full(rel)
        with self._errors("write", rel):
            if self.is_local:
                _write_local(full, write)
            else:
                with self.fs.open_output_stream(full) as out:
                    write(out)
        return size, digest.hexdigest()

    def sha256(self, rel: str) -> str:
        """The SHA-256 of the file ``rel``."""
        digest = hashlib.sha256()
        with self._errors("read", rel), self.fs.open_input_stream(self._full(rel)) as f:
            while block := f.read(_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    # ------------------------------------------------------------------ the rest
    def delete(self, rel: str, missing_ok: bool = True) -> bool:
        """Remove the file ``rel``; False if it was already gone (and ``missing_ok``)."""
        full = self._full(rel)
        try:
            with self._errors("delete", rel):
                self.fs.delete_file(full)
        except OperationalError:
            if missing_ok and not self.exists(rel):
                return False
            raise
        if self.is_local:
            _remove_empty_parent(full)
        return True

    def exists(self, rel: str) -> bool:
        with self._errors("look up", rel):
            return self.fs.get_file_info(self._full(rel)).type != pafs.FileType.NotFound

    def size(self, rel: str) -> int:
        with self._errors("look up", rel):
            info = self.fs.get_file_info(self._full(rel))
        if info.type == pafs.FileType.NotFound:
            raise OperationalError(f"Cannot look up {self._url_of(rel)}: it does not exist.")
        return int(info.size or 0)

    def list(self, rel: str = "") -> list[FileEntry]:
        """Every file below ``rel`` (recursively), paths relative to this root."""
        base = self._full(rel) if rel else self.root
        with self._errors("list", rel):
            infos = self.fs.get_file_info(
                pafs.FileSelector(base, recursive=True, allow_not_found=True)
            )
        cut = len(self.root) + 1
        return [
            FileEntry(i.path[cut:], int(i.size or 0), _aware(i.mtime))
            for i in infos
            if i.type == pafs.FileType.File and self._plain(i.path)
        ]

    def _plain(self, full: str) -> bool:
        """Locally, a regular file reached without symlinks (never followed nor removed)."""
        return not self.is_local or (
            not os.path.islink(full) and self.contains(full[len(self.root) + 1 :])
        )


def _aware(t: dt.datetime | None) -> dt.datetime:
    if t is None:
        return dt.datetime.fromtimestamp(0, dt.UTC)
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _write_local(full: str, write: Callable[[Any], None]) -> int:
    """Write through a temporary name next to ``full``, then rename it into place."""
    tmp = f"{full}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        sink = open(tmp, "wb")  # noqa: SIM115 (closed below; the folder may need creating)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        sink = open(tmp, "wb")  # noqa: SIM115
    try:
        with sink:
            write(sink)
        os.replace(tmp, full)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return os.path.getsize(full)


def _remove_empty_parent(full: str) -> None:
    """A delete file's own folder goes with it (local folders would otherwise pile up)."""
    parent = os.path.dirname(full)
    if os.path.basename(parent).startswith("deletes-"):
        with suppress(OSError):
            os.rmdir(parent)
