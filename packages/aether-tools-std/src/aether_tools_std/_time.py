"""``get_current_time``: the current date and time in an IANA time zone.

Models have no clock; this gives them one. Unknown zone names are answered with a message
the model can act on, with the closest known names when there are some.
"""

from __future__ import annotations

import difflib
import functools
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aether.errors import ToolExecutionError

__all__ = ["current_time", "utc_now"]


def utc_now() -> datetime:
    """The current UTC time (tests replace this function to freeze the clock)."""
    return datetime.now(timezone.utc)


def current_time(zone_name: str) -> str:
    """``2025-03-01T14:05:09+01:00 (Europe/Paris, CET, UTC+01:00, Saturday)``.

    Raises:
        ToolExecutionError: ``zone_name`` is not an IANA time zone.
    """
    zone = _zone(zone_name.strip())
    now = utc_now().astimezone(zone)
    offset = now.strftime("%z")
    utc_offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return (
        f"{now.isoformat(timespec='seconds')} ({zone.key}, {now.tzname()}, {utc_offset}, "
        f"{now.strftime('%A')})"
    )


def _zone(name: str) -> ZoneInfo:
    if name.upper() in {"UTC", "Z", "GMT"}:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass  # not a zone key as written; try the case-insensitive spelling below
    known = _known_zones()
    exact = known.get(name.lower())
    if exact is not None:
        return ZoneInfo(exact)
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(known[c]) for c in close)}?" if close else ""
    raise ToolExecutionError(
        f"Unknown time zone {name!r}.{hint} Use an IANA time zone name such as 'UTC', "
        f"'Europe/Paris' or 'America/New_York'."
    )


@functools.lru_cache(maxsize=1)
def _known_zones() -> dict[str, str]:
    return {key.lower(): key for key in available_timezones()}
