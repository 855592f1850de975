"""Fault injection, deterministic under the seed: whether a fault hits is a hash of (seed, fault, key).

A spec is a comma-separated list of `name` (always) or `name=rate` (that fraction of the keys), e.g.
`server_error=0.05,truncated_document,fatal_report=0.2`.

The key decides what kind of fault it is. A transient fault is decided per attempt: its key names one try (an
operation's n-th call, a document's n-th download, the n-th token issued, a report id, since a FATAL report is
requested again under a new id), so a retry meets a fresh decision and can succeed. A permanent fault is decided by
its subject alone (a document id), so every retry meets it and only a bounded number of attempts ends it. Either way
the same seed and the same run of requests meet the same faults every time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

T = TypeVar("T")
_COUNT_LOCK = threading.Lock()

FAULTS = {
    "server_error": "an SP-API call answers 500 or 503 (per call)",
    "slow": "an SP-API call answers after `slow_seconds` (per call)",
    "timeout": "an SP-API call answers after `timeout_seconds`, longer than a client's read timeout (per call)",
    "throttle": "an SP-API call answers 429 although the quota allows it (per call)",
    "truncated_document": "a document download stops half way (per download of the document)",
    "corrupt_document": "a document download has damaged gzip bytes (per download of the document)",
    "broken_document": "a document is stored broken: every download serves the same first half (permanent)",
    "fatal_report": "a report ends FATAL with an error document (per report: requested again, it can succeed)",
    "duplicate_notification": "a notification is sent twice (per notification)",
    "drop_notification": "a notification is never sent (per notification)",
    "delay_notification": "a notification is sent `notification_delay_seconds` late (per notification)",
    "token_expiry": "an access token expires `early_expiry_seconds` after it is issued (per token)",
}


def attempt_key(subject: str, attempt: int) -> str:
    """The key of the `attempt`-th try at `subject` (an operation, a document): what transient faults are decided on.

    Example:
        >>> attempt_key("getReport", 3)
        'getReport#3'
    """
    return f"{subject}#{attempt}"


class FaultSpecError(ValueError):
    """A --faults spec names an unknown fault or a rate outside [0, 1]."""


@dataclass(frozen=True)
class Faults:
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 2.0
    timeout_seconds: float = 30.0
    notification_delay_seconds: float = 5.0
    early_expiry_seconds: float = 1.0
    injected: dict[str, int] = field(default_factory=dict, compare=False)  # hits so far, per fault

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> Faults:
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, _, value = part.partition("=")
            if name not in FAULTS:
                raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
            try:
                rate = float(value) if value else 1.0
            except ValueError as err:
                raise FaultSpecError(f"fault {name}: rate {value!r} is not a number") from err
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault {name}: rate {rate} is outside [0, 1]")
            rates[name] = rate
        return cls(rates, seed)

    def hits(self, name: str, key: str) -> bool:
        """Whether fault `name` hits `key` (see the module docstring for what a key is); each hit is counted."""
        rate = self.rates.get(name, 0.0)
        hit = rate > 0.0 and (rate >= 1.0 or self._draw(name, key) < rate)
        if hit:
            with _COUNT_LOCK:
                self.injected[name] = self.injected.get(name, 0) + 1
        return hit

    def pick(self, name: str, key: str, options: Sequence[T]) -> T:
        """One of `options` for a fault that hit `key` (e.g. 500 or 503), the same one for the same seed and key."""
        return options[int(self._draw(f"{name}:pick", key) * len(options))]

    def _draw(self, name: str, key: str) -> float:
        """A number in [0, 1) fixed by (seed, name, key); never Python's `hash`, which changes between processes."""
        digest = hashlib.sha256(f"{self.seed}|{name}|{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def __bool__(self) -> bool:
        return any(rate > 0 for rate in self.rates.values())
