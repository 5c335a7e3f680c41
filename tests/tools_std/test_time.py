"""``get_current_time``: IANA zones, a frozen clock, clear errors for unknown zones."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aether.errors import ToolExecutionError
from aether_tools_std import StdTools, _time

FROZEN = datetime(2025, 1, 15, 12, 0, 5, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_time, "utc_now", lambda: FROZEN)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "2025-01-15T12:00:05+00:00 (UTC, UTC, UTC+00:00, Wednesday)"),
        ("Europe/Paris", "2025-01-15T13:00:05+01:00 (Europe/Paris, CET, UTC+01:00, Wednesday)"),
        ("europe/paris", "2025-01-15T13:00:05+01:00 (Europe/Paris, CET, UTC+01:00, Wednesday)"),
        ("Asia/Kolkata", "2025-01-15T17:30:05+05:30 (Asia/Kolkata, IST, UTC+05:30, Wednesday)"),
        (
            "America/New_York",
            "2025-01-15T07:00:05-05:00 (America/New_York, EST, UTC-05:00, Wednesday)",
        ),
        (
            "Pacific/Auckland",
            "2025-01-16T01:00:05+13:00 (Pacific/Auckland, NZDT, UTC+13:00, Thursday)",
        ),
    ],
)
def test_current_time_in_a_zone(zone: str, expected: str) -> None:
    assert StdTools().get_current_time(zone) == expected


def test_the_default_zone_is_utc() -> None:
    assert StdTools().get_current_time().startswith("2025-01-15T12:00:05+00:00 (UTC")


def test_an_unknown_zone_names_close_matches() -> None:
    with pytest.raises(ToolExecutionError, match="Unknown time zone 'Europe/Pariss'") as caught:
        StdTools().get_current_time("Europe/Pariss")
    assert "Did you mean 'Europe/Paris'" in str(caught.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", ""])
def test_nonsense_zones_are_clear_errors(zone: str) -> None:
    with pytest.raises(ToolExecutionError, match="Use an IANA time zone name"):
        StdTools().get_current_time(zone)
