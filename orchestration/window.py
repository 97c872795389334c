"""The run window: hour-aligned, UTC, half-open [start, end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


class WindowError(ValueError):
    """A window that is not hour-aligned, reversed or unreadable; the message says which."""


def to_utc_naive(value: datetime | str, name: str = "time") -> datetime:
    """Parse an ISO time (naive means UTC) into a naive UTC datetime."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise WindowError(f"{name} {value!r} is not an ISO 8601 time such as 2026-11-25T10:00") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def resolve_window(
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    reference: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Return (start, end) as naive UTC datetimes.

    Neither given: the previous complete hour before `reference` (a scheduled run's scheduled start time,
    else now). One given: the one hour it starts or ends.
    """
    if start is None and end is None:
        ref = to_utc_naive(reference or datetime.now(UTC))
        end_t = floor_hour(ref)
        return end_t - HOUR, end_t
    start_t = to_utc_naive(start, "start") if start is not None else None
    end_t = to_utc_naive(end, "end") if end is not None else None
    for name, value in (("start", start_t), ("end", end_t)):
        if value is not None and value != floor_hour(value):
            raise WindowError(f"{name} {value.isoformat()} is not on a whole UTC hour (minutes and seconds must be 0)")
    if start_t is None:
        start_t = end_t - HOUR
    if end_t is None:
        end_t = start_t + HOUR
    if start_t >= end_t:
        raise WindowError(f"start {start_t.isoformat()} must be before end {end_t.isoformat()}")
    return start_t, end_t


def hours_in(start: datetime, end: datetime) -> int:
    return int((end - start) / HOUR)
