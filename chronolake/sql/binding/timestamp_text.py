"""Timestamps written as text or numbers, read as Snowflake's AUTO detection reads them.

Text: ISO dates and timestamps (``T`` or a space between date and time, optional fraction and
offset ``Z`` / ``+HH`` / ``+HH:MM`` / ``+HHMM``, with or without a space before it); RFC 2822
style (``Wed, 26 Jun 2024 09:20:00 -0700``, optionally with AM/PM); ``Wed Jun 26 09:20:00
-0700 2024``; the dates ``26-Jun-2024`` and ``06/26/2024``; and a string of digits (an epoch,
as a number). Numbers: seconds since the epoch; an integer is scaled by its magnitude to
milliseconds, microseconds or nanoseconds, as Snowflake scales integers to timestamps.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAY = r"(?:MON|TUE|WED|THU|FRI|SAT|SUN)[A-Z]*"
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*"
_TIME = r"(?P<h>\d{1,2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?"
_ZONE = r"(?P<z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"
_FORMS = [
    re.compile(
        rf"(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?:[T ]{_TIME})?\s*{_ZONE}?", re.I
    ),
    re.compile(
        rf"(?:{_DAY},?\s+)?(?P<d>\d{{1,2}})[\s-]+{_MON}[\s-]+(?P<y>\d{{4}})"
        rf"(?:\s+{_TIME}\s*(?P<ampm>AM|PM)?)?\s*{_ZONE}?",
        re.I,
    ),
    re.compile(
        rf"(?:{_DAY}\s+)?{_MON}\s+(?P<d>\d{{1,2}})\s+{_TIME}\s*(?P<ampm>AM|PM)?\s+{_ZONE}?"
        r"\s*(?P<y>\d{4})",
        re.I,
    ),
    re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?:\s+" + _TIME + r")?", re.I),
]
_DIGITS = re.compile(r"[+-]?\d+")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Snowflake's magnitudes: below 31536000000 seconds, then milliseconds, microseconds, nanoseconds
_SCALES = ((31_536_000_000, 1), (31_536_000_000_000, 1_000), (31_536_000_000_000_000, 1_000_000))


def from_epoch(value: int | decimal.Decimal | float) -> dt.datetime:
    """An aware UTC timestamp from a number since the epoch (integers scaled by magnitude)."""
    if isinstance(value, int):
        divisor = next((d for limit, d in _SCALES if abs(value) < limit), 1_000_000_000)
        seconds = decimal.Decimal(value) / divisor
    else:
        seconds = decimal.Decimal(value)
    micros = int((seconds * 1_000_000).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    try:
        return _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError(f"Timestamp {value} is out of range.") from None


def _zone(text: str | None) -> dt.tzinfo | None:
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_timestamp_text(text: str) -> dt.datetime | None:
    """The timestamp ``text`` spells (aware when it carries an offset or is an epoch), or None
    when it is in none of the accepted forms."""
    text = text.strip()
    if _DIGITS.fullmatch(text):
        return from_epoch(int(text))
    for form in _FORMS:
        m = form.fullmatch(text)
        if m is None:
            continue
        parts = m.groupdict()
        month = _MONTHS[parts["mon"][:3].upper()] if parts.get("mon") else int(parts["m"])
        hour = int(parts.get("h") or 0)
        ampm = (parts.get("ampm") or "").upper()
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "PM" else 0)
        fraction = (parts.get("f") or "").ljust(6, "0")[:6]
        try:
            return dt.datetime(
                int(parts["y"]),
                month,
                int(parts["d"]),
                hour,
                int(parts.get("mi") or 0),
                int(parts.get("s") or 0),
                int(fraction),
                tzinfo=_zone(parts.get("z")),
            )
        except ValueError:
            return None
    return None
