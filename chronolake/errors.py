"""The exception tree: one root, PEP 249 names, one HTTP status each.

Retry decisions use the type (``ConflictError.retryable``), never the message text.
"""

from __future__ import annotations


class Warning(Exception):
    """PEP 249 warning (unused: chronolake never warns through exceptions)."""


class Error(Exception):
    """Root of every chronolake error."""

    http_status = 500
    retryable = False


class InterfaceError(Error):
    """Misuse of the Python API (closed cursor, fetch before execute, ...)."""

    http_status = 400


class DatabaseError(Error):
    """An error reported by the database."""


class DataError(DatabaseError):
    """A value that does not fit (bad cast, overflow, division by zero)."""

    http_status = 400


class OperationalError(DatabaseError):
    """The lake could not do what was asked for reasons outside the SQL."""

    http_status = 503


class IntegrityError(DatabaseError):
    """A constraint of the catalog would be broken."""

    http_status = 409


class InternalError(DatabaseError):
    """A bug in chronolake: please report it."""


class ProgrammingError(DatabaseError):
    """A mistake in the SQL or in how it was called."""

    http_status = 400


class NotSupportedError(DatabaseError):
    """Valid SQL that chronolake does not support (yet)."""

    http_status = 501


class SqlError(ProgrammingError):
    """SQL that does not parse or does not compile; carries line and column when known."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.col = col


class CatalogError(ProgrammingError):
    """A name that does not resolve, or a catalog object in the wrong state."""


class NotFound(CatalogError):
    """An object does not exist (or is not visible to this tenant)."""

    http_status = 404


class AlreadyExists(CatalogError):
    """An object of that name already exists."""

    http_status = 409


class TimeTravelError(ProgrammingError):
    """An AT/BEFORE point that cannot be reached."""


class PermissionDenied(ProgrammingError):
    """SQL tried to reach something outside the tenant's catalog tables."""

    http_status = 403


class CatalogBusy(OperationalError):
    """The catalog stayed locked by another writer past the busy timeout; retrying may succeed."""

    retryable = True


class CatalogUnavailable(OperationalError):
    """The connection to the catalog database was lost or refused (a restart, a network
    failure); the statement committed nothing, so retrying may succeed."""

    retryable = True


class StatementCanceled(OperationalError):
    """The statement was stopped (``Connection.cancel()``, Ctrl-C) before it committed: it
    changed nothing, and the connection stays usable."""

    http_status = 408


class StatementTimeout(StatementCanceled):
    """The statement ran past STATEMENT_TIMEOUT_IN_SECONDS and was stopped; it changed nothing."""


class ReadOnlyError(PermissionDenied):
    """A write on a connection opened with ``read_only=True``."""


class ConflictError(OperationalError):
    """A concurrent commit changed what this transaction changed; retrying may succeed."""

    http_status = 409
    retryable = True

    def __init__(self, message: str, table: str | None = None, snapshot: int | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.snapshot = snapshot


class Unauthenticated(OperationalError):
    """A request to a server without a valid token (missing, malformed, unknown, revoked or
    expired): nothing ran."""

    http_status = 401


class LimitExceeded(OperationalError):
    """A server limit was hit (concurrent statements, requests per second, ...): nothing ran;
    retrying later may succeed. The message names the limit."""

    http_status = 429
    retryable = True


class RequestTooLarge(LimitExceeded):
    """A request body (statement and bindings) larger than the server accepts: nothing ran."""

    http_status = 413
    retryable = False
