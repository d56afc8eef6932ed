"""Points written the short way (``version:3``, ``statement:<id>``, ...) for the API and CLI."""

from __future__ import annotations

from typing import Any

from chronolake.errors import ProgrammingError

_KINDS = {
    "version": ("AT", "VERSION"),
    "statement": ("AT", "STATEMENT"),
    "before-statement": ("BEFORE", "STATEMENT"),
    "timestamp": ("AT", "TIMESTAMP"),
    "before-timestamp": ("BEFORE", "TIMESTAMP"),
    "offset": ("AT", "OFFSET"),
}


def parse_point(text: str) -> tuple[str, str, Any]:
    """``'version:3'`` -> ``('AT', 'VERSION', 3)``; a bare number is a version."""
    if not isinstance(text, str):
        raise ProgrammingError(
            "A point must be a string such as 'version:3' or 'offset:-60', not "
            f"{type(text).__name__}."
        )
    if text.strip().lstrip("-").isdigit() and not text.strip().startswith("-"):
        return "AT", "VERSION", int(text)
    kind, sep, value = text.partition(":")
    found = _KINDS.get(kind.strip().lower())
    if not sep or found is None or not value:
        raise ProgrammingError(
            f"Invalid point {text!r}: use version:N, statement:<query id>, "
            "before-statement:<query id>, timestamp:<ISO time>, before-timestamp:<ISO time> "
            "or offset:-<seconds>."
        )
    value = value.strip()
    typed: Any = value
    try:
        if found[1] == "VERSION":
            typed = int(value)
        elif found[1] == "OFFSET":
            typed = float(value)
    except ValueError:
        number = "a whole number" if found[1] == "VERSION" else "a number of seconds"
        raise ProgrammingError(f"Invalid point {text!r}: {kind.strip()} takes {number}.") from None
    return found[0], found[1], typed


def clause(point: tuple[str, str, Any], word: str | None = None) -> str:
    """The SQL clause of a point with its value as a ``?`` parameter."""
    at, kind, _ = point
    if kind == "TIMESTAMP":
        return f"{word or at}(TIMESTAMP => CAST(? AS TIMESTAMP_TZ))"
    return f"{word or at}({kind} => ?)"
