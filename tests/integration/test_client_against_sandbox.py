"""The SP-API client against the sandbox, through real HTTP."""

import time
from collections import Counter

import pytest
import requests

from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth
from ingestion_lambdas.spapi.documents import open_document, open_report_document
from ingestion_lambdas.spapi.errors import (
    DocumentUrlRefusedError,
    LwaAuthError,
    MalformedReportError,
    SpApiRequestError,
    SpApiThrottledError,
    TruncatedDownloadError,
)
from ingestion_lambdas.spapi.rate_limit import RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport
from sandbox.faults import Faults


def client_for(running, account_index: int = 0, secret: str | None = None, **transport):
    info = running.info()
    provider = LwaTokenProvider(
        info["lwa_endpoint"], LwaCredentials(info["client_id"], secret or info["client_secret"])
    )
    account = info["accounts"][account_index]
    transport = Transport(
        info["spapi_endpoint"],
        RefreshTokenAuth(provider, account["refresh_token"]),
        RateLimiter(),
        (account["account_id"], account["region"]),
        **{"backoff_base_s": 0.01, "backoff_cap_s": 0.1, **transport},
    )
    return ReportsApi(transport), provider, account


def wait_done(api: ReportsApi, report_id: str):
    for _ in range(200):
        report = api.get_report(report_id)
        if report.processing_status in ("DONE", "CANCELLED", "FATAL"):
            return report
        time.sleep(0.02)
    raise AssertionError("report never finished")


def test_report_lifecycle_and_document_match_the_sandbox_ground_truth(sandbox_factory):
    # GIVEN a sandbox and a client pointed at it
    running = sandbox_factory()
    api, _, account = client_for(running)
    # WHEN a listings report is requested, followed to DONE and its document downloaded
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    report = wait_done(api, report_id)
    document = api.get_report_document(report.report_document_id)
    with open_document(document) as stream:
        text = stream.read().decode("utf-8")
    # THEN it has the real header and as many rows as the sandbox generated
    truth = requests.get(f"{running.base_url}/_sandbox/reports/{report_id}", timeout=5).json()
    assert report.processing_status == "DONE"
    assert document.compression_algorithm == "GZIP"
    assert text.splitlines()[0].startswith("item-name\titem-description\tlisting-id\tseller-sku\tprice")
    assert len(text.splitlines()) - 1 == truth["rows"] > 0


def test_access_token_is_reused_until_it_expires(sandbox_factory):
    running = sandbox_factory()
    api, provider, account = client_for(running)
    first = provider.access_token(account["refresh_token"])
    api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    assert provider.access_token(account["refresh_token"]) == first
    assert running.sandbox.lwa.issued_count == 1


def test_expired_token_is_refreshed_once_and_the_call_succeeds(sandbox_factory):
    # GIVEN a client holding a token the sandbox has since expired
    running = sandbox_factory()
    api, provider, account = client_for(running)
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    stale = provider.access_token(account["refresh_token"])
    running.sandbox.lwa.expire_all()
    # WHEN it calls again
    report = api.get_report(report_id)
    # THEN it exchanged a new token and the call went through
    assert report.report_id == report_id
    assert provider.access_token(account["refresh_token"]) != stale


def test_wrong_client_secret_is_an_lwa_error_without_the_secret_in_it(sandbox_factory):
    running = sandbox_factory()
    api, _, account = client_for(running, secret="wrong-secret-value")
    with pytest.raises(LwaAuthError, match="invalid_client") as raised:
        api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    assert "wrong-secret-value" not in str(raised.value)


def test_unknown_report_is_a_request_error_with_code_and_request_id(sandbox_factory):
    api, _, _ = client_for(sandbox_factory())
    with pytest.raises(SpApiRequestError) as raised:
        api.get_report("999")
    assert raised.value.status == 404
    assert raised.value.code == "NotFound"
    assert raised.value.request_id


def test_truncated_document_download_raises_instead_of_returning_part(sandbox_factory):
    running = sandbox_factory(faults=Faults.parse("truncated_document"))
    api, _, account = client_for(running)
    report = wait_done(api, api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]]))
    document = api.get_report_document(report.report_document_id)
    with pytest.raises(TruncatedDownloadError), open_document(document) as stream:
        stream.read()


def test_expired_document_url_is_refused(sandbox_factory):
    running = sandbox_factory(document_url_ttl_s=-1)
    api, _, account = client_for(running)
    report = wait_done(api, api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]]))
    document = api.get_report_document(report.report_document_id)
    with pytest.raises(DocumentUrlRefusedError, match="403"):
        open_document(document)
    with pytest.raises(DocumentUrlRefusedError):  # every fresh URL is expired too: the refetch gives up
        open_report_document(api, report.report_document_id)


class LateStart:
    """The real API, except that the first getReportDocument answer is one fetched earlier, whose URL has expired
    since (a Lambda that started late)."""

    def __init__(self, api: ReportsApi, stale) -> None:
        self.api, self.stale, self.calls = api, stale, 0

    def get_report_document(self, document_id: str):
        self.calls += 1
        return self.stale if self.calls == 1 else self.api.get_report_document(document_id)


def test_an_expired_document_url_is_fetched_anew_and_the_download_succeeds(sandbox_factory):
    running = sandbox_factory(document_url_ttl_s=1.0)
    api, _, account = client_for(running)
    report = wait_done(api, api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]]))
    stale = api.get_report_document(report.report_document_id)
    time.sleep(2.1)
    late = LateStart(api, stale)
    with open_report_document(late, report.report_document_id) as stream:
        lines = stream.read().decode("utf-8").splitlines()
    assert late.calls == 2 and lines[0].startswith("item-name\t")


def test_corrupt_gzip_is_a_malformed_report_error(sandbox_factory):
    running = sandbox_factory(faults=Faults.parse("corrupt_document"))
    api, _, account = client_for(running)
    report = wait_done(api, api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]]))
    with pytest.raises(MalformedReportError), open_report_document(api, report.report_document_id) as stream:
        stream.read()


def count_responses(api: ReportsApi) -> Counter:
    statuses: Counter = Counter()
    api.transport.session.hooks["response"].append(lambda response, **_: statuses.update([response.status_code]))
    return statuses


def test_429s_and_5xx_are_retried_until_every_call_succeeds(sandbox_factory):
    running = sandbox_factory(faults=Faults.parse("throttle=0.3,server_error=0.2", seed=3))
    api, _, account = client_for(running, max_attempts=8)
    statuses = count_responses(api)
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    reports = [api.get_report(report_id) for _ in range(30)]
    assert all(r.report_id == report_id for r in reports)
    assert statuses[429] > 0 and statuses[500] + statuses[503] > 0  # faults were met, and outlived


def test_persistent_throttling_ends_in_a_typed_error_after_bounded_attempts(sandbox_factory):
    running = sandbox_factory(faults=Faults.parse("throttle"))
    api, _, account = client_for(running, max_attempts=3)
    statuses = count_responses(api)
    with pytest.raises(SpApiThrottledError) as raised:
        api.get_report("1")
    assert statuses[429] == 3 and raised.value.request_id and raised.value.code == "QuotaExceeded"


def test_timeouts_are_retried_and_end_in_success(sandbox_factory):
    running = sandbox_factory(faults=Faults(rates={"timeout": 0.4}, seed=5, timeout_seconds=1.0))
    api, _, account = client_for(running, timeout_s=(2.0, 0.3), max_attempts=8)
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]])
    assert [api.get_report(report_id).report_id for _ in range(5)] == [report_id] * 5


def test_list_and_cancel_reports(sandbox_factory):
    running = sandbox_factory(time_scale=1.0)  # reports stay IN_QUEUE for 10 s: cancellable
    api, _, account = client_for(running)
    ids = [api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [account["marketplace_ids"][0]]) for _ in range(3)]
    api.cancel_report(ids[0])
    listed = list(api.list_reports(["GET_MERCHANT_LISTINGS_ALL_DATA"], page_size=2))
    assert [r.report_id for r in listed] == ids[::-1]  # newest first, across pages
    assert listed[-1].processing_status == "CANCELLED"
    with pytest.raises(SpApiRequestError):
        api.cancel_report(ids[0])
