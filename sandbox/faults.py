"""Fault injection, deterministic under the seed: whether a fault hits is a hash of (seed, fault, key).

A spec is a comma-separated list of `name` (always) or `name=rate` (that fraction of the keys), e.g.
`server_error=0.05,truncated_document,fatal_report=0.2`. Keys are natural ids (a report id, a document id, an
operation's n-th call), so the same run of requests meets the same faults every time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

FAULTS = {
    "server_error": "an SP-API call answers 500 or 503",
    "slow": "an SP-API call answers after `slow_seconds`",
    "timeout": "an SP-API call answers after `timeout_seconds` (longer than a client's read timeout)",
    "throttle": "an SP-API call answers 429 although the quota allows it",
    "truncated_document": "a document download stops half way",
    "corrupt_document": "a document download has damaged gzip bytes",
    "fatal_report": "a report ends FATAL with an error document",
    "duplicate_notification": "a notification is sent twice",
    "drop_notification": "a notification is never sent",
    "delay_notification": "a notification is sent `notification_delay_seconds` late",
    "token_expiry": "an access token expires `early_expiry_seconds` after it is issued",
}


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
        rate = self.rates.get(name, 0.0)
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        digest = hashlib.sha256(f"{self.seed}|{name}|{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    def __bool__(self) -> bool:
        return any(rate > 0 for rate in self.rates.values())
