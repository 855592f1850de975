from ingestion_lambdas.spapi.rate_limit import Quota, RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_less_one_reserve_token_is_free_then_calls_are_paced_at_the_rate():
    # GIVEN getReport's plan: 2 requests/s, burst 15
    clock = FakeClock()
    bucket = TokenBucket(Quota(2.0, 15), clock=clock, sleep=clock.sleep)
    # WHEN 14 calls go out at once, then 4 more
    waits = [bucket.acquire() for _ in range(18)]
    # THEN 14 cost nothing (one token stays in reserve against jitter) and each later call waits half a second
    assert sum(waits[:14]) == 0 and waits[14] == 0.5
    assert clock.now == 2.0


def test_long_waits_wake_up_often_enough_to_take_a_raised_rate():
    clock = FakeClock()
    bucket = TokenBucket(Quota(0.0167, 1), clock=clock, sleep=clock.sleep)  # createReport: one a minute
    bucket.acquire()
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock.sleep(seconds)
        bucket.update_rate(10.0)  # a response said x-amzn-RateLimit-Limit: 10

    bucket._sleep = sleep
    bucket.acquire()
    assert max(sleeps) <= 0.05 and clock.now < 0.2


def test_rate_header_lowers_the_pace():
    clock = FakeClock()
    bucket = TokenBucket(Quota(2.0, 1), clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.update_rate(0.5)  # x-amzn-RateLimit-Limit: 0.5
    bucket.acquire()
    assert clock.now == 2.0


def test_limiter_keeps_one_bucket_per_account_and_operation():
    limiter = RateLimiter()
    a = limiter.bucket(("seller-a", "NA", "getReport"), Quota(2.0, 15))
    assert limiter.bucket(("seller-a", "NA", "getReport"), Quota(9.0, 9)) is a
    assert limiter.bucket(("seller-b", "NA", "getReport"), Quota(2.0, 15)) is not a
