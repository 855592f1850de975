"""The SP-API client against the sandbox, through real HTTP."""

import time

import pytest
import requests

from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider
from ingestion_lambdas.spapi.documents import open_document
from ingestion_lambdas.spapi.errors import LwaAuthError, SpApiRequestError, TruncatedDownloadError
from ingestion_lambdas.spapi.rate_limit import RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport
from sandbox.faults import Faults


class AccountAuth:
    def __init__(self, provider: LwaTokenProvider, refresh_token: str) -> None:
        self.provider, self.refresh_token = provider, refresh_token

    def token(self) -> str:
        return self.provider.access_token(self.refresh_token)

    def invalidate(self, token: str) -> None:
        self.provider.invalidate(token)


def client_for(running, account_index: int = 0, secret: str | None = None):
    info = running.info()
    provider = LwaTokenProvider(
        info["lwa_endpoint"], LwaCredentials(info["client_id"], secret or info["client_secret"])
    )
    account = info["accounts"][account_index]
    transport = Transport(
        info["spapi_endpoint"],
        AccountAuth(provider, account["refresh_token"]),
        RateLimiter(),
        (account["account_id"], account["region"]),
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
    with pytest.raises(TruncatedDownloadError, match="403"):
        open_document(document)
