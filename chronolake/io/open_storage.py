"""Opening a lake's storage from a URL: a local folder or ``s3://bucket/prefix``.

S3 options (each else its AWS_* environment variable): ``endpoint_url``
(``AWS_ENDPOINT_URL``), ``access_key_id`` (``AWS_ACCESS_KEY_ID``), ``secret_access_key``
(``AWS_SECRET_ACCESS_KEY``), ``region`` (``AWS_REGION`` / ``AWS_DEFAULT_REGION``). Opening
checks that the bucket answers with these credentials and creates nothing.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from typing import Any

import pyarrow.fs as pafs

from chronolake.errors import NotFound, OperationalError, ProgrammingError
from chronolake.io.duck_fs import TenantFileSystems
from chronolake.io.file_io import FileIO

S3_OPTIONS = ("endpoint_url", "access_key_id", "secret_access_key", "region")
_ENV = {
    "endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "access_key_id": ("AWS_ACCESS_KEY_ID",),
    "secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
}
_TIMEOUT_S = 10.0
# how the AWS SDK names a refusal of the credentials (its error codes, not prose)
_DENIED = ("AWS Error ACCESS_DENIED", "InvalidAccessKeyId", "SignatureDoesNotMatch")


def open_storage(
    url: str, options: Mapping[str, Any] | None = None, read_cache_bytes: int = 0
) -> FileIO:
    """The FileIO of the storage at ``url``: a local folder (``/path``, ``file:///path``) or
    ``s3://bucket/prefix``. A local folder is not created here (the first write does). On
    S3, the engine's reads go through one block cache of at most ``read_cache_bytes`` (0:
    none), shared by every tenant view of this FileIO."""
    if not isinstance(url, str) or not url.strip():
        raise ProgrammingError("The storage URL is empty: give a folder or s3://bucket/prefix.")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        if options:
            raise ProgrammingError(
                f"storage_options {sorted(options)} apply to s3:// storage only, not to {url}."
            )
        path = urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else url
        root = os.path.abspath(os.path.expanduser(path))
        return FileIO(pafs.LocalFileSystem(), root, "file")
    if parsed.scheme in ("s3", "s3a"):
        return _open_s3(parsed, dict(options or {}), read_cache_bytes)
    raise ProgrammingError(
        f"Unsupported storage URL {url!r}: use a local folder, file:///path or s3://bucket/prefix."
    )


def s3_settings(options: Mapping[str, Any]) -> dict[str, str | None]:
    """The S3 options, each from ``options`` or else from the environment."""
    unknown = sorted(set(options) - set(S3_OPTIONS))
    if unknown:
        raise ProgrammingError(
            f"Unknown storage option(s) {unknown}: the S3 options are {list(S3_OPTIONS)}."
        )
    out: dict[str, str | None] = {}
    for name in S3_OPTIONS:
        value = options.get(name)
        if value is None:
            value = next((os.environ[e] for e in _ENV[name] if os.environ.get(e)), None)
        out[name] = None if value is None else str(value)
    return out


def _open_s3(
    parsed: urllib.parse.SplitResult, options: Mapping[str, Any], read_cache_bytes: int
) -> FileIO:
    if isinstance(read_cache_bytes, bool) or not isinstance(read_cache_bytes, int):
        raise ProgrammingError(
            f"s3_read_cache_bytes must be a whole number of bytes, not {read_cache_bytes!r}."
        )
    if read_cache_bytes < 0:
        raise ProgrammingError(
            f"s3_read_cache_bytes must be 0 (no cache) or more, not {read_cache_bytes}."
        )
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    if not bucket:
        raise ProgrammingError("The storage URL names no bucket: use s3://bucket/prefix.")
    conf = s3_settings(options)
    kwargs: dict[str, Any] = {
        "access_key": conf["access_key_id"],
        "secret_key": conf["secret_access_key"],
        "region": conf["region"] or "us-east-1",
        "connect_timeout": _TIMEOUT_S,
        "request_timeout": _TIMEOUT_S,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=2),
        "allow_bucket_creation": False,
        "allow_bucket_deletion": False,
        # one PUT per small file instead of a three-request multipart upload (2x faster);
        # such a stream can drop its upload error at close, so FileIO checks each upload
        "allow_delayed_open": True,
    }
    endpoint = conf["endpoint_url"]
    if endpoint:
        ep = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs["endpoint_override"] = ep.netloc
        kwargs["scheme"] = ep.scheme
    if bool(kwargs["access_key"]) != bool(kwargs["secret_key"]):
        raise ProgrammingError(
            "Give both access_key_id and secret_access_key (or neither, to use the AWS "
            "environment), not one of them."
        )
    fs = pafs.S3FileSystem(**kwargs)
    root = f"{bucket}/{prefix}" if prefix else bucket
    secrets = (conf["secret_access_key"] or "", conf["access_key_id"] or "")
    io = FileIO(fs, root, "s3", secrets, TenantFileSystems(conf, read_cache_bytes))
    _check_bucket(io, bucket)
    return io


def _check_bucket(io: FileIO, bucket: str) -> None:
    """Fail now, clearly, if the bucket is missing, the credentials wrong or the endpoint
    unreachable: nothing is created either way."""
    try:
        info = io.fs.get_file_info(bucket)
    except OSError as e:
        text = str(e)
        if any(m in text for m in _DENIED):
            raise OperationalError(
                f"Access to s3://{bucket} was denied: check access_key_id and secret_access_key."
            ) from None
        reason = io._say(text.strip().splitlines()[0] if text.strip() else type(e).__name__)
        raise OperationalError(
            f"Cannot reach the storage s3://{bucket}: {reason}. Check endpoint_url and the network."
        ) from None
    if info.type == pafs.FileType.NotFound:
        raise NotFound(
            f"The bucket {bucket!r} does not exist at that endpoint: create it first "
            "(chronolake never creates buckets)."
        )
