"""What maintenance runs on: a session (``chronolake.sql.session.Session``), or anything that
has one as its ``session`` property, such as a ``chronolake.Connection``.

Maintenance never imports the API layer: a connection is accepted through the ``HasSession``
protocol, so the import direction stays api -> maintenance -> catalog / io.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from chronolake.errors import ProgrammingError
from chronolake.sql.session import Session


@runtime_checkable
class HasSession(Protocol):
    """An object with a session on one tenant of a lake (a ``chronolake.Connection``)."""

    @property
    def session(self) -> Session: ...


Target = Session | HasSession


def session_of(target: Target) -> Session:
    """The session of ``target``; a clear error for anything else."""
    if isinstance(target, Session):
        return target
    if isinstance(target, HasSession):
        return target.session
    raise ProgrammingError(
        f"Maintenance runs on a connection (chronolake.connect(...) or lake.connect(...)), "
        f"not on {type(target).__name__}."
    )
