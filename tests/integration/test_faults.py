"""Faults that pass and faults that do not, against the offline stack: a retry meets a fresh decision and lands the
report, a document Amazon serves broken ends the report FAILED in a bounded number of attempts, the same seed meets
the same faults, and every fault shows in the structured logs without a token, a secret or a pre-signed URL."""

import gzip
import hashlib
import json
import logging
import re
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from ingestion_lambdas import aws
from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services import wiring
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.landing import DOWNLOAD_MAX_ATTEMPTS
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.settings import load_settings
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth
from ingestion_lambdas.spapi.errors import MalformedReportError
from ingestion_lambdas.spapi.rate_limit import RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport
from local.pipeline import invoke
from sandbox.faults import Faults, attempt_key
from tests.sandbox_caller import Caller

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"  # gzip-compressed: every document fault applies to it
# Notifications stay off while a test holds a report: its landing starts when the test says, not when SP-API finishes.
HELD = "drop_notification"


def truth(stack, report_id: str) -> dict:
    return requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{report_id}", timeout=5).json()


def finished_report(stack, account_id: str = "demo-seller-na", marketplace_id: str = "ATVPDKIKX0DER"):
    """A report requested through the pipeline (its own ledger entry), finished, its notification never sent (the
    sandbox is left holding notifications back: the `box` fixture clears the faults after the test)."""
    stack.sandbox.sandbox.set_faults(Faults.parse(HELD))
    clients = SpApiClients.from_settings(load_settings())
    job = ReportJob(account_id=account_id, report_type=LISTINGS, marketplace_id=marketplace_id,
                    data_start_time=datetime.now(UTC))  # fmt: skip
    report_id = str(ReportRequests(clients, wiring.ledger()).request(job).report_id)
    reports = clients.reports(account_id)
    for _ in range(100):
        if (report := reports.get_report(report_id)).processing_status == "DONE":
            return report
        time.sleep(0.1)
    raise AssertionError(f"report {report_id} did not finish")


DOCUMENT_FAULTS = ("truncated_document", "corrupt_document")  # as a client meets them: a cut body ends first


@pytest.fixture
def failed_reports(stack):
    """Report ids a test leaves FAILED: their ledger entries leave the shared ledger afterwards, since the other tests
    on this stack count any FAILED entry as a failure of the pipeline."""
    report_ids: list[str] = []
    yield report_ids
    ledger = wiring.ledger()
    for report_id in report_ids:
        if (entry := ledger.by_report_id(report_id)) is not None:
            ledger.table.delete_item(Key={"request_key": entry.request_key})


def seed_where(document_id: str, pattern: list[str | None], spec: str) -> Faults:
    """The first seed whose faults meet the document's downloads as `pattern` says (the fault of each download in
    turn, None: served whole). The sandbox decides each download by its attempt key, which is what this computes."""
    for seed in range(10_000):
        faults = Faults.parse(spec, seed=seed)
        met = [next((n for n in DOCUMENT_FAULTS if faults.hits(n, attempt_key(document_id, i))), None)
               for i in range(1, len(pattern) + 1)]  # fmt: skip
        if met == pattern:
            return Faults.parse(spec, seed=seed)  # a fresh one: the sandbox counts the hits it injects
    raise AssertionError(f"no seed meets {pattern}")


def land(stack, report_id: str) -> tuple[dict, list[dict]]:
    """Run LandReport (the real ASL on moto, the real handler) for one report: its output, and its history."""
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.resources.state_machines["land_report"],
                              name=f"test-faults-{report_id}-{int(time.time() * 1000)}",
                              input=json.dumps({"report_id": report_id}))["executionArn"]  # fmt: skip
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "LandReport still running"
        time.sleep(0.2)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    return json.loads(described["output"]), events


def invocations(events: list[dict]) -> list[str]:
    """How each Lambda invocation of an execution ended: "succeeded" or the error it raised."""
    ended = []
    for event in events:
        if event["type"] == "TaskSucceeded":
            ended.append("succeeded")
        elif event["type"] == "TaskFailed":
            ended.append(event["taskFailedEventDetails"]["error"])
    return ended


def test_a_report_lands_after_truncated_downloads_with_the_ground_truth_sha256(stack, box):
    # GIVEN a finished report whose first two downloads are cut short and whose third is whole (half of all
    # downloads are truncated; the seed is the one that meets this document so)
    report = finished_report(stack)
    box.set_faults(seed_where(report.report_document_id, ["truncated_document", "truncated_document", None],
                              f"truncated_document=0.5,{HELD}"))  # fmt: skip
    # WHEN LandReport runs
    outcome, events = land(stack, report.report_id)
    # THEN the state machine retried the two truncated downloads and the third landed the whole document
    assert invocations(events) == ["TruncatedDownloadError", "TruncatedDownloadError", "succeeded"]
    expected = truth(stack, report.report_id)["sha256"]
    assert outcome["status"] == "LANDED" and outcome["sha256"] == expected
    body = aws.client("s3").get_object(Bucket=stack.resources.raw_bucket, Key=outcome["key"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == expected
    entry = wiring.ledger().by_report_id(report.report_id)
    assert entry.status == "LANDED" and entry.download_failures == 2 and entry.error is None


def test_a_document_served_broken_ends_the_report_failed_within_the_bound(stack, box, failed_reports):
    # GIVEN a finished report whose document Amazon serves broken, the same bytes on every download
    report = finished_report(stack)
    failed_reports.append(report.report_id)
    box.set_faults(Faults.parse(f"broken_document,{HELD}"))
    # WHEN LandReport runs
    outcome, events = land(stack, report.report_id)
    # THEN it tried 4 times, the last of which recorded the report FAILED with why
    assert DOWNLOAD_MAX_ATTEMPTS == 4
    assert invocations(events) == ["TruncatedDownloadError"] * 3 + ["succeeded"]
    assert outcome["status"] == "FAILED"
    assert "4 times" in outcome["error"] and "gzip stream ended before its trailer" in outcome["error"]
    entry = wiring.ledger().by_report_id(report.report_id)
    assert entry.status == "FAILED" and entry.error == outcome["error"] and entry.download_failures == 4
    # AND the reconcile sweep leaves it alone: no further LandReport for it, ever
    invoke(stack, "reconcile")
    executions = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )["executions"]
    assert [e["name"] for e in executions if report.report_id in e["name"]] == [
        e["name"] for e in executions if e["name"].startswith(f"test-faults-{report.report_id}-")
    ]
    assert wiring.ledger().by_report_id(report.report_id).status == "FAILED"
    assert not [k for k in raw_keys(stack) if report.report_id in k]  # nothing half-written landed


def raw_keys(stack) -> list[str]:
    s3 = aws.client("s3")
    return [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.resources.raw_bucket)
            for o in page.get("Contents", [])]  # fmt: skip


def test_a_document_that_never_decodes_is_recorded_failed_by_the_landing_at_the_bound(stack, box, failed_reports):
    # GIVEN a finished report whose every download has damaged gzip bytes
    report = finished_report(stack)
    failed_reports.append(report.report_id)
    settlement = wiring.settlement()
    box.set_faults(Faults.parse(f"corrupt_document,{HELD}"))
    # WHEN the landing is retried, as LandReport retries it
    raised = []
    for _ in range(DOWNLOAD_MAX_ATTEMPTS - 1):
        with pytest.raises(MalformedReportError) as error:
            settlement.settle(report.report_id)
        raised.append(error.value)
    outcome = settlement.settle(report.report_id)
    # THEN the attempt at the bound records FAILED with the decoding error, instead of raising it again
    assert len(raised) == 3 and outcome.status == "FAILED" and "MalformedReportError" in str(outcome.error)
    assert wiring.ledger().by_report_id(report.report_id).status == "FAILED"
    assert settlement.settle(report.report_id).status == "FAILED"  # and a later start changes nothing


def served(running, faults: Faults, downloads: int = 12) -> tuple[list[int], list[str]]:
    """Under `faults`, the statuses of a run of getReportDocument calls, then how each of a run of downloads of that
    document came. The report is made with faults off, so the faulted run is the same requests every time."""
    caller = Caller(running)
    report = caller.finished(caller.create().json()["reportId"])
    path = f"/reports/2021-06-30/documents/{report['reportDocumentId']}"
    url = caller.call("GET", path).json()["url"]
    running.sandbox.set_faults(faults)
    statuses = [caller.call("GET", path).status_code for _ in range(20)]
    outcomes = []
    for _ in range(downloads):
        try:
            body = requests.get(url, timeout=5).content
        except requests.exceptions.ChunkedEncodingError:
            outcomes.append("truncated")
            continue
        try:
            gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            outcomes.append(f"undecodable {hashlib.sha256(body).hexdigest()[:12]}")
            continue
        outcomes.append("whole")
    return statuses, outcomes


def test_the_same_seed_meets_the_same_faults_and_a_retry_meets_a_fresh_decision(sandbox_factory):
    # GIVEN transient faults on SP-API calls and on downloads
    spec = "server_error=0.25,throttle=0.25,truncated_document=0.3,corrupt_document=0.3"
    # WHEN two sandboxes serve the same run of requests under the same seed, and a third under another seed
    first = served(sandbox_factory(rate_limits=False), Faults.parse(spec, seed=11))
    again = served(sandbox_factory(rate_limits=False), Faults.parse(spec, seed=11))
    other = served(sandbox_factory(rate_limits=False), Faults.parse(spec, seed=12))
    # THEN the same seed meets the same faults (down to 500 or 503), another seed others
    assert first == again and first != other
    statuses, outcomes = first
    assert {200, 429, 500, 503} <= set(statuses)
    # AND the faults are decided per call and per download: the same document comes whole on some downloads
    assert "whole" in outcomes and "truncated" in outcomes and any(o.startswith("undecodable") for o in outcomes)
    # AND a broken document is the same broken bytes on every download
    _, broken = served(sandbox_factory(rate_limits=False), Faults.parse("broken_document", seed=11), downloads=4)
    assert len(set(broken)) == 1 and broken[0].startswith("undecodable")


# The log scan ---------------------------------------------------------------------------------------------------

LIBRARY_LOGGERS = ("urllib3", "botocore", "boto3", "s3transfer", "requests", "aws_lambda_powertools")
OUR_LOGGERS = ("ingestion_lambdas", "local", "sandbox", "werkzeug", "moto")


def structured(records: list[logging.LogRecord], thread: int | None = None) -> list[dict]:
    """The JSON lines of the records (of one thread only, when given: the stack's own workers call SP-API too)."""
    lines = []
    for record in records:
        if thread is not None and record.thread != thread:
            continue
        try:
            line = json.loads(record.getMessage())
        except ValueError:
            continue
        if isinstance(line, dict) and "event" in line:
            lines.append(line)
    return lines


def fast_reports_api(stack, account_id: str) -> tuple[ReportsApi, Counter]:
    """A client with a short read timeout (the sandbox's timeout fault outlasts it) and quick backoffs, counting the
    statuses SP-API answered."""
    info = stack.sandbox.info()
    account = next(a for a in info["accounts"] if a["account_id"] == account_id)
    provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]))
    transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]), RateLimiter(),
                          (account_id, account["region"]), max_attempts=10, backoff_base_s=0.01, backoff_cap_s=0.05,
                          timeout_s=(2.0, 0.3))  # fmt: skip
    statuses: Counter = Counter()
    transport.session.hooks["response"].append(lambda response, **_: statuses.update([response.status_code]))
    return ReportsApi(transport), statuses


def test_every_fault_logs_one_structured_line_and_no_line_holds_a_secret(stack, box, caplog, capfd):
    # GIVEN every log record of every logger captured at DEBUG, the HTTP and AWS libraries' included
    caplog.set_level(logging.DEBUG)
    for name in {*LIBRARY_LOGGERS, *OUR_LOGGERS, *logging.root.manager.loggerDict}:
        caplog.set_level(logging.DEBUG, logger=name)
    started = time.time()
    report = finished_report(stack)
    # WHEN SP-API calls meet throttling, server errors, timeouts and tokens that expire early, until each was met
    box.set_faults(Faults(rates={"throttle": 0.3, "server_error": 0.3, "timeout": 0.2, "token_expiry": 1.0,
                                 HELD: 1.0}, seed=5, timeout_seconds=0.6, early_expiry_seconds=1.0))  # fmt: skip
    api, statuses = fast_reports_api(stack, "demo-seller-na")
    mine = threading.get_ident()
    for _ in range(120):
        assert api.get_report(report.report_id).processing_status == "DONE"
        timeouts = [line for line in structured(caplog.records, mine) if line.get("error") == "timeout"]
        if {429, 500, 503, 403} <= statuses.keys() and timeouts:
            break
        time.sleep(0.15)  # tokens outlive 1 s only in the provider's cache: SP-API refuses them as expired
    calls = structured(caplog.records, mine)  # this test's calls: the statuses counted are theirs
    # AND the landing meets a truncated download, then a corrupt one, then lands (tokens still expire early)
    box.set_faults(seed_where(report.report_document_id, ["truncated_document", "corrupt_document", None],
                              f"truncated_document=0.4,corrupt_document=0.4,token_expiry,{HELD}"))  # fmt: skip
    box.lwa.expire_all()  # the landing's cached token too: it exchanges anew and shares it in Secrets Manager
    outcome, _ = land(stack, report.report_id)
    box.set_faults(Faults())
    assert outcome["status"] == "LANDED"
    ended = time.time()
    lines = structured(caplog.records)
    # THEN each fault met logged one structured line with its operation, status or error kind and attempt
    retries = [line for line in calls if line["event"] in ("spapi_retry", "spapi_call_failed")]
    assert retries and all({"operation", "attempt", "host"} <= line.keys() for line in retries)
    for status in (429, 500, 503, 403):
        logged = [line for line in retries if line.get("status") == status]
        assert len(logged) == statuses[status] > 0, status
    assert [line for line in retries if line.get("error") == "timeout" and line["operation"] == "getReport"]
    assert [line for line in calls if line["event"] == "lwa_token_exchanged" and line["reason"] == "rejected"]
    downloads = [line for line in lines if line["event"] == "report_download_failed"
                 and line["report_id"] == report.report_id]  # fmt: skip
    assert [(line["error"], line["attempt"], line["outcome"]) for line in downloads] == [
        ("TruncatedDownloadError", 1, "retry"), ("MalformedReportError", 2, "retry")]  # fmt: skip
    assert {"operation", "report_type", "marketplace_id"} <= downloads[0].keys()
    # AND no captured text holds a refresh token, the client secret, an access token or the document's URL
    captured = capfd.readouterr()
    text = "\n".join([caplog.text, *(record.getMessage() for record in caplog.records), captured.out, captured.err])
    world = box.world
    with box.lwa._lock:
        access_tokens = list(box.lwa._tokens)  # every access token the sandbox issued in this run
    ttl = box.config.document_url_ttl_s
    signatures = [box.sign(report.report_document_id, expires)
                  for expires in range(int(started + ttl) - 1, int(ended + ttl) + 2)]  # fmt: skip
    secrets = {"client secret": [world.client_secret], "refresh token": [a.refresh_token for a in world.accounts],
               "access token": access_tokens, "document URL signature": signatures,
               "document URL": [f"_documents/{report.report_document_id}?X-Amz"]}  # fmt: skip
    # (the libraries did log what would leak: Secrets Manager bodies, with the access tokens it shares)
    assert any("PutSecretValue" in r.getMessage() for r in caplog.records if r.name.startswith("botocore"))
    assert {kind: [s for s in values if s in text] for kind, values in secrets.items()} == {k: [] for k in secrets}
    assert not re.search(r"X-Amz-Signature=[0-9a-f]{8}", text)
