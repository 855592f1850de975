"""The quota every process shares (a GCRA over one DynamoDB item): together, callers never exceed Amazon's bucket,
whichever process they run in, and a rate one of them reads from Amazon's header paces the others."""

import logging

import boto3
import pytest
from moto import mock_aws

from ingestion_lambdas.spapi.rate_limit import Quota, QuotaTable, RateLimiter, SharedBucket, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def quotas():
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        table = dynamodb.create_table(
            TableName="quotas", KeySchema=[{"AttributeName": "quota_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "quota_key", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
        yield QuotaTable(table, "amzn1.application-oa2-client.test")


def process_bucket(quotas: QuotaTable, clock: FakeClock, quota: Quota) -> SharedBucket:
    """What one process (a Lambda invocation, a worker) holds: its own bucket in front of the shared one."""
    local = TokenBucket(quota, clock=clock, sleep=clock.sleep)
    return SharedBucket(quotas, "seller|NA|getReport", quota, local, clock=clock, sleep=clock.sleep)


def starts(buckets: list[SharedBucket], clock: FakeClock, calls: int) -> list[float]:
    """Each bucket in turn acquires, `calls` times in all; when each call could be sent."""
    sent = []
    for i in range(calls):
        buckets[i % len(buckets)].acquire()
        sent.append(clock.now)
    return sent


def test_three_processes_together_get_one_burst_then_the_rate(quotas):
    # GIVEN getReport's plan (2/s, burst 15) and three processes that start at once, each with a full bucket of its own
    clock = FakeClock()
    quota = Quota(2.0, 15)
    buckets = [process_bucket(quotas, clock, quota) for _ in range(3)]
    t0 = clock.now
    # WHEN they make 30 calls between them
    sent = [t - t0 for t in starts(buckets, clock, 30)]
    # THEN 14 go at once (Amazon's burst, one token kept in reserve) and the others one per half second: what one
    # bucket allows, not three bursts
    assert sent[:14] == [0.0] * 14
    assert sent[14:] == pytest.approx([0.5 * n for n in range(1, 17)], abs=1e-3)
    # AND in no window did they send more than Amazon's bucket allows (burst + rate x window)
    for i, first in enumerate(sent):
        for j in range(i, len(sent)):
            assert j - i + 1 <= 15 + 2.0 * (sent[j] - first) + 1e-6


def test_a_new_process_starts_from_the_shared_state_not_a_full_burst(quotas):
    clock = FakeClock()
    quota = Quota(2.0, 15)
    starts([process_bucket(quotas, clock, quota)], clock, 14)  # the burst is spent
    t0 = clock.now
    # WHEN a cold start calls
    cold = process_bucket(quotas, clock, quota)
    waited = cold.acquire()
    # THEN it waits for the next slot like everyone else
    assert waited == pytest.approx(0.5, abs=1e-3) and clock.now - t0 == pytest.approx(0.5, abs=1e-3)


def test_a_rate_from_amazons_header_paces_every_process(quotas):
    clock = FakeClock()
    quota = Quota(2.0, 1)
    a, b = process_bucket(quotas, clock, quota), process_bucket(quotas, clock, quota)
    a.acquire()
    a.update_rate(0.5)  # a response to process a said x-amzn-RateLimit-Limit: 0.5
    b.acquire()  # b learns it from the item as it reserves...
    t0 = clock.now
    b.acquire()  # ...and paces its next call by it
    assert clock.now - t0 == pytest.approx(2.0, abs=1e-3)
    assert b.rate == 0.5


def test_without_dynamodb_each_process_paces_itself_and_says_so(caplog):
    with mock_aws():
        table = boto3.resource("dynamodb", region_name="us-east-1").Table("no-such-table")
        limiter = RateLimiter(QuotaTable(table, "app"))
        bucket = limiter.bucket(("seller", "NA", "getReport"), Quota(2.0, 15))
        with caplog.at_level(logging.WARNING):
            waits = [bucket.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert sum("pacing this process alone" in r.getMessage() for r in caplog.records) == 1
    assert limiter.bucket(("seller", "NA", "getReport"), Quota(9.0, 9)) is bucket
