"""Per-operation token buckets shared by every worker of a process.

Hand-written on purpose: the limiter must take a new rate at run time from `x-amzn-RateLimit-Limit` and be keyed by
(account, region, operation); pyrate-limiter's rates are fixed at construction. This is ~40 lines with a lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Quota:
    """A usage plan: `rate` requests per second refilled into a bucket of size `burst`."""

    rate: float
    burst: int


MAX_SLEEP_S = 0.05  # wake up this often while waiting, so a raised rate from a response takes effect at once


class TokenBucket:
    """Amazon's bucket, mirrored on the client side, one token short.

    The reserve token absorbs network jitter: Amazon counts a request when it arrives, so two requests sent 1/rate
    apart can arrive closer together. With the client's bucket one token below Amazon's, a request the client sends
    always finds a token at Amazon, at the cost of one request of the burst.
    """

    def __init__(
        self, quota: Quota, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.rate = quota.rate
        self.burst = max(1, quota.burst - 1)
        self._tokens = float(self.burst)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping until one is available. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                delay = min(MAX_SLEEP_S, (1.0 - self._tokens) / self.rate)
            self._sleep(delay)
            waited += delay

    def update_rate(self, rate: float) -> None:
        if rate > 0:
            with self._lock:
                self._refill(self._clock())
                self.rate = rate


class RateLimiter:
    """A bucket per key, created on first use from the operation's default quota."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, key: tuple[str, ...], default: Quota) -> TokenBucket:
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(default)
            return self._buckets[key]
