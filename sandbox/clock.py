"""The sandbox's business clock: what "now" is for the world (orders placed, shipped, refunded, data restated).

`now()` is the process's current time plus an offset. With offset 0 it simply follows process time, so a caller that
moves the whole process's time (the offline simulation uses `time-machine`, which makes `time.time()` and
`datetime.now()` jump) moves the world with it. A configured start date, `advance_to` or `set_now` set the offset
instead. The report lifecycle (IN_QUEUE → DONE after a scaled delay) stays on `time.time()`: it measures how long
Amazon takes, not what the world looks like; `from_process` / `to_process` convert between the two.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta


class ClockError(ValueError):
    """The clock was asked to move backwards, or given a moment without a time zone."""


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ClockError(f"{moment.isoformat()} has no time zone: give the moment in UTC")
    return moment.astimezone(UTC)


class SandboxClock:
    """Business time of one sandbox: process time plus an offset."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @classmethod
    def starting_at(cls, start: date | datetime | None) -> SandboxClock:
        """A clock whose world starts now at `start` (a date means its 00:00 UTC); None follows process time."""
        if start is None:
            return cls()
        moment = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day, tzinfo=UTC)
        return cls(_utc(moment) - datetime.now(UTC))

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        """The world's current moment (UTC)."""
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def set_now(self, moment: datetime) -> datetime:
        """Make `moment` the world's current moment (time then runs on from it). Going back is allowed: every
        business fact is a function of now, so the world shows its earlier state."""
        with self._lock:
            self._offset = _utc(moment) - datetime.now(UTC)
        return self.now()

    def advance_to(self, moment: datetime) -> datetime:
        """Move the world forward to `moment`; a moment before now is refused (ClockError)."""
        target = _utc(moment)
        with self._lock:
            current = datetime.now(UTC) + self._offset
            if target < current:
                raise ClockError(f"the clock is at {current.isoformat()}: it does not go back to {target.isoformat()}")
            self._offset = target - datetime.now(UTC)
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move the world forward by `delta`."""
        if delta < timedelta(0):
            raise ClockError("the clock does not go back")
        with self._lock:
            self._offset += delta
        return self.now()

    def from_process(self, seconds: float) -> datetime:
        """The business moment of a process timestamp (`time.time()` units), at the current offset."""
        return datetime.fromtimestamp(seconds, UTC) + self._offset

    def to_process(self, moment: datetime) -> float:
        """The process timestamp at which the world reaches `moment`, at the current offset."""
        return (_utc(moment) - self._offset).timestamp()
