"""Per-operation token buckets: in the process, and shared by every process through DynamoDB.

Amazon keeps one bucket per selling partner, application, region and operation, whoever calls. On AWS many Lambda
invocations and state machine branches call at once, so a bucket per process is not enough: every cold start would
begin with a full burst. `SharedBucket` keeps the bucket's state in one DynamoDB item per quota, as a GCRA
("generic cell rate algorithm") theoretical arrival time: each acquire is one conditional UpdateItem that reserves
the next slot (a second one only when the bucket had refilled completely), and the caller sleeps until its slot.
The process's own `TokenBucket` stays in front of it as the fast path: a process that has used its share waits
without calling DynamoDB, and it is what remains if DynamoDB cannot be reached.

Hand-written on purpose: the limiter must take a new rate at run time from `x-amzn-RateLimit-Limit` and be keyed by
(account, region, operation); pyrate-limiter's rates are fixed at construction and its DynamoDB-free backends
(Redis, SQLite, Postgres) are not what a Lambda deployment has.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


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


class Bucket(Protocol):
    def acquire(self) -> float: ...

    def update_rate(self, rate: float) -> None: ...


RETRY_SHARED_AFTER_S = 60
IDLE_TTL_S = 86_400  # a quota's item outlives its last use by a day (DynamoDB's TTL deletes it after)


@dataclass(frozen=True)
class QuotaTable:
    """Where the shared buckets live: a DynamoDB table keyed by `quota_key` (a string) with TTL on `expires_at`,
    and the application whose quotas they are (Amazon's quotas are per application and selling partner)."""

    table: Any  # a boto3 DynamoDB Table resource
    application: str


class SharedBucket:
    """One quota's bucket as a DynamoDB item every process shares (see the module's docstring).

    The item holds `tat`, the theoretical arrival time (epoch seconds) after the last reserved call, and `interval_s`,
    the seconds per call of the newest rate any process read from `x-amzn-RateLimit-Limit`. A call may start at
    max(tat, now) - tolerance, where tolerance = (burst - 1) x interval, and moves tat to max(tat, now) + interval:
    a full bucket lets `burst` calls start at once, then one per interval. The reservation adds the item's own
    interval, so a rate one process learnt paces the next call of every process. Like `TokenBucket`, it counts one
    token short of Amazon's burst.
    """

    def __init__(
        self,
        quotas: QuotaTable,
        key: str,
        quota: Quota,
        local: TokenBucket,
        clock: Callable[[], float] = time.time,  # wall time: processes on different machines share it (NTP)
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.quotas, self.key, self.local = quotas, key, local
        self.rate = quota.rate
        self.burst = max(1, quota.burst - 1)
        self._clock, self._sleep = clock, sleep
        self._shared_again_at = 0.0  # after a DynamoDB failure, the process paces itself alone until then

    def acquire(self) -> float:
        """Take one token from the process's bucket and then a slot of the shared one; returns the seconds waited."""
        waited = self.local.acquire()
        if self._clock() < self._shared_again_at:
            return waited
        try:
            start = self._reserve()
        except (ClientError, BotoCoreError) as err:  # the process's bucket goes on alone for a while, said once
            self._shared_again_at = self._clock() + RETRY_SHARED_AFTER_S
            logger.warning("shared quota %s unavailable, pacing this process alone for %d s: %s", self.key,
                           RETRY_SHARED_AFTER_S, err)  # fmt: skip
            return waited
        delay = start - self._clock()
        if delay > 0:
            self._sleep(delay)
            waited += delay
        return waited

    def _reserve(self) -> float:
        """Reserve the next slot; returns when it starts (epoch seconds)."""
        names = {"#interval": "interval_s"}
        while True:
            now = self._clock()
            values = {":now": Decimal(str(now)), ":expires": int(now) + IDLE_TTL_S}
            try:  # the common case under load: the bucket is not full, the next slot follows the last one
                item = self.quotas.table.update_item(
                    Key={"quota_key": self.key},
                    UpdateExpression="SET tat = tat + #interval, expires_at = :expires",
                    ConditionExpression="tat > :now",
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
                )["Attributes"]  # fmt: skip
                interval = self._follow(item)
                return float(item["tat"]) - interval - (self.burst - 1) * interval
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            try:  # the bucket is full (or new): this call starts now
                own = Decimal(str(round(1.0 / self.rate, 6)))
                item = self.quotas.table.update_item(
                    Key={"quota_key": self.key},
                    UpdateExpression="SET tat = :now + if_not_exists(#interval, :own), expires_at = :expires, "
                                     "#interval = if_not_exists(#interval, :own)",
                    ConditionExpression="attribute_not_exists(tat) OR tat <= :now",
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values | {":own": own},
                    ReturnValues="ALL_NEW",
                )["Attributes"]  # fmt: skip
                self._follow(item)
                return now
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            # another process took the full bucket's first slot in between: take the next one

    def _follow(self, item: dict[str, Any]) -> float:
        """The item's interval; this process takes its rate (another process may have read Amazon's header)."""
        interval = float(item["interval_s"])
        rate = round(1.0 / interval, 6)
        if rate != round(self.rate, 6):
            self.rate = rate
            self.local.update_rate(rate)
        return interval

    def update_rate(self, rate: float) -> None:
        """A response's `x-amzn-RateLimit-Limit`: this process and every other follow it."""
        if rate <= 0 or round(rate, 6) == round(self.rate, 6):
            return
        self.rate = rate
        self.local.update_rate(rate)
        if self._clock() >= self._shared_again_at:
            try:
                self._rescale(Decimal(str(round(1.0 / rate, 6))))
            except (ClientError, BotoCoreError) as err:
                logger.warning("shared quota %s: rate not shared: %s", self.key, err)

    def _rescale(self, interval: Decimal) -> None:
        """Store the new interval, and rescale the slots already reserved to it: calls reserved at the old rate are
        as many calls at the new one (a raised rate frees the queue at once, as TokenBucket's refill does). Rare
        (a rate changes once, when the first response says so), so read, then write only if nobody wrote since."""
        table, names = self.quotas.table, {"#interval": "interval_s"}
        for _ in range(5):
            item = table.get_item(Key={"quota_key": self.key}, ConsistentRead=True).get("Item")
            if item is None or "tat" not in item:
                values = {":interval": interval}
                table.update_item(Key={"quota_key": self.key}, UpdateExpression="SET #interval = :interval",
                                  ExpressionAttributeNames=names, ExpressionAttributeValues=values)  # fmt: skip
                return
            if item["interval_s"] == interval:
                return
            now = Decimal(str(self._clock()))
            queued = max(Decimal(0), item["tat"] - now)
            try:
                table.update_item(
                    Key={"quota_key": self.key},
                    UpdateExpression="SET tat = :tat, #interval = :interval",
                    ConditionExpression="tat = :seen AND #interval = :old",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":tat": now + queued * interval / item["interval_s"],
                                               ":interval": interval, ":seen": item["tat"],
                                               ":old": item["interval_s"]},
                )  # fmt: skip
                return
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise


class RateLimiter:
    """A bucket per key, created on first use from the operation's default quota; with `shared`, each also paced
    by the bucket every process shares for that quota."""

    def __init__(self, shared: QuotaTable | None = None) -> None:
        self._buckets: dict[tuple[str, ...], Bucket] = {}
        self._lock = threading.Lock()
        self.shared = shared

    def bucket(self, key: tuple[str, ...], default: Quota) -> Bucket:
        with self._lock:
            if key not in self._buckets:
                local = TokenBucket(default)
                self._buckets[key] = local
                if self.shared is not None:
                    quota_key = "|".join((self.shared.application, *key))
                    self._buckets[key] = SharedBucket(self.shared, quota_key, default, local)
            return self._buckets[key]
