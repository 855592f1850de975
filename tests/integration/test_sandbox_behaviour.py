"""The sandbox behaves like SP-API: report lifecycle, listing and cancelling, quotas, faults."""

import gzip
import json
import time
import zlib
from datetime import date, datetime

import pytest
import requests

from sandbox.faults import Faults, FaultSpecError
from tests.sandbox_caller import LISTINGS, Caller


def test_report_moves_through_in_queue_and_in_progress_to_done(sandbox_factory):
    # GIVEN a sandbox whose clock runs 40x (queue 0.25 s, processing 0.75 s)
    caller = Caller(sandbox_factory(time_scale=40.0))
    report_id = caller.create().json()["reportId"]
    seen = []
    for _ in range(300):
        status = caller.call("GET", f"/reports/2021-06-30/reports/{report_id}").json()["processingStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "DONE":
            break
        time.sleep(0.01)
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]


def test_report_times_are_the_worlds_clock_and_settlements_appear_when_it_passes_their_end(sandbox_factory):
    # GIVEN a sandbox whose world starts on 2026-03-01 (its business clock, not the process's)
    running = sandbox_factory(start=date(2026, 3, 1))
    caller = Caller(running)
    # WHEN a report is created and finishes
    report = caller.finished(caller.create().json()["reportId"])
    # THEN its times are business times, the lifecycle still ran on the scaled process clock
    assert report["createdTime"].startswith("2026-03-01T00:0") and report["processingStatus"] == "DONE"
    assert report["createdTime"] < report["processingStartTime"] < report["processingEndTime"]

    def settlements_from() -> set[str]:
        params = {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "marketplaceIds": "ATVPDKIKX0DER"}
        listed = caller.call("GET", "/reports/2021-06-30/reports", params=params).json()["reports"]
        return {r["dataStartTime"][:10] for r in listed}

    # AND the settlement period 2026-02-23 to 2026-03-09 is listed only once the clock has passed its end
    assert settlements_from() == {"2026-01-12", "2026-01-26", "2026-02-09"}
    moved = requests.post(f"{running.base_url}/_sandbox/clock", json={"now": "2026-03-09T06:00:00Z"}, timeout=5)
    assert moved.status_code == 200 and moved.json()["today"] == "2026-03-09"
    assert settlements_from() == {"2026-01-12", "2026-01-26", "2026-02-09", "2026-02-23"}


def test_cancel_works_in_queue_only(sandbox_factory):
    caller = Caller(sandbox_factory(time_scale=1.0))
    report_id = caller.create().json()["reportId"]
    assert caller.call("DELETE", f"/reports/2021-06-30/reports/{report_id}").status_code == 200
    report = caller.call("GET", f"/reports/2021-06-30/reports/{report_id}").json()
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report

    fast = Caller(sandbox_factory(time_scale=1000.0))
    done_id = fast.create().json()["reportId"]
    time.sleep(0.1)
    assert fast.call("DELETE", f"/reports/2021-06-30/reports/{done_id}").status_code == 400


def test_fatal_report_has_an_error_document(sandbox_factory):
    caller = Caller(sandbox_factory(faults=Faults.parse("fatal_report")))
    report_id = caller.create().json()["reportId"]
    time.sleep(0.1)
    report = caller.call("GET", f"/reports/2021-06-30/reports/{report_id}").json()
    assert report["processingStatus"] == "FATAL"
    document = caller.call("GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    assert "errorDetails" in json.loads(gzip.decompress(requests.get(document["url"], timeout=5).content))


def test_get_reports_filters_and_pages_with_next_token(sandbox_factory):
    # GIVEN five reports of one account
    caller = Caller(sandbox_factory(rate_limits=False))
    created = {caller.create().json()["reportId"] for _ in range(5)}
    # WHEN they are listed two per page
    first = caller.call("GET", "/reports/2021-06-30/reports", params={"reportTypes": LISTINGS, "pageSize": 2}).json()
    ids, token = [r["reportId"] for r in first["reports"]], first.get("nextToken")
    while token:
        page = caller.call("GET", "/reports/2021-06-30/reports", params={"nextToken": token}).json()
        ids += [r["reportId"] for r in page["reports"]]
        token = page.get("nextToken")
    # THEN every report comes exactly once, newest first
    assert sorted(ids) == sorted(created) and ids == sorted(ids, reverse=True)
    mixed = caller.call("GET", "/reports/2021-06-30/reports", params={"nextToken": first["nextToken"], "pageSize": 2})
    assert mixed.status_code == 400
    other_type = caller.call(
        "GET", "/reports/2021-06-30/reports", params={"reportTypes": "GET_AFN_INVENTORY_DATA"}
    ).json()
    assert other_type["reports"] == []


def test_a_burst_past_the_quota_gets_429s_without_a_rate_header(sandbox_factory):
    # GIVEN createReport's usage plan: burst 15, then about one a minute
    caller = Caller(sandbox_factory(time_scale=1.0))
    # WHEN 20 requests go out at once
    statuses = [caller.create() for _ in range(20)]
    # THEN 15 are accepted and the rest throttled, in SP-API's error shape
    assert [r.status_code for r in statuses] == [202] * 15 + [429] * 5
    throttled = statuses[-1]
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert statuses[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"


def test_a_client_at_the_allowed_rate_is_never_throttled(sandbox_factory):
    # GIVEN getReport at 2/s with burst 15, sped up 10x (20/s)
    caller = Caller(sandbox_factory(time_scale=10.0))
    report_id = caller.create().json()["reportId"]
    # WHEN the burst is spent and then calls go out at 18/s
    statuses = [caller.call("GET", f"/reports/2021-06-30/reports/{report_id}").status_code for _ in range(14)]
    for _ in range(40):
        time.sleep(1 / 18)
        statuses.append(caller.call("GET", f"/reports/2021-06-30/reports/{report_id}").status_code)
    assert 429 not in statuses


def test_grantless_and_seller_tokens_are_not_interchangeable(sandbox_factory):
    caller = Caller(sandbox_factory())
    grantless = caller.token(scope="sellingpartnerapi::notifications")
    as_seller = requests.get(
        f"{caller.running.base_url}/reports/2021-06-30/reports/1", timeout=5, headers={"x-amz-access-token": grantless}
    )
    as_app = caller.call("GET", "/notifications/v1/destinations")
    assert as_seller.status_code == 403 and as_app.status_code == 403


def test_server_error_fault_answers_5xx_in_the_error_shape(sandbox_factory):
    caller = Caller(sandbox_factory(faults=Faults.parse("server_error")))
    response = caller.create()
    assert response.status_code in (500, 503)
    assert response.json()["errors"][0]["code"] == "InternalFailure"


def test_faults_are_deterministic_under_the_seed():
    a, b, c = (
        Faults.parse("server_error=0.3", seed=1),
        Faults.parse("server_error=0.3", seed=1),
        Faults.parse("server_error=0.3", seed=2),
    )
    keys = [f"getReport#{n}" for n in range(200)]
    hits_a = [a.hits("server_error", k) for k in keys]
    assert hits_a == [b.hits("server_error", k) for k in keys]
    assert hits_a != [c.hits("server_error", k) for k in keys]
    assert 40 < sum(hits_a) < 80


def test_unknown_fault_names_are_refused():
    with pytest.raises(FaultSpecError, match="unknown fault"):
        Faults.parse("meteor_strike")


def test_early_token_expiry_fault_expires_the_token_before_expires_in(sandbox_factory):
    running = sandbox_factory(faults=Faults(rates={"token_expiry": 1.0}, early_expiry_seconds=0.2))
    caller = Caller(running)
    assert caller.create().status_code == 202
    time.sleep(0.3)
    expired = caller.create()
    assert expired.status_code == 403
    assert "expired" in expired.json()["errors"][0]["details"]


def test_a_report_schedule_creates_a_report_every_period_and_a_new_schedule_replaces_it(sandbox_factory):
    # GIVEN a sandbox whose clock runs 1000x: a PT5M schedule fires every 0.3 s
    caller = Caller(sandbox_factory(time_scale=1000.0))
    body = {"reportType": LISTINGS, "marketplaceIds": ["ATVPDKIKX0DER"], "period": "PT5M"}
    first = caller.call("POST", "/reports/2021-06-30/schedules", json=body)
    assert first.status_code == 201
    time.sleep(1.2)
    # THEN reports of that type were created on the schedule, each covering the 5 minutes before it
    listed = caller.call("GET", "/reports/2021-06-30/reports", params={"reportTypes": LISTINGS, "pageSize": 100})
    reports = listed.json()["reports"]
    assert 2 <= len(reports) <= 5
    report = reports[0]
    span = datetime.fromisoformat(report["dataEndTime"]) - datetime.fromisoformat(report["dataStartTime"])
    assert span.total_seconds() == 300
    # AND a second schedule for the same report type replaces the first, and can be cancelled
    second = caller.call("POST", "/reports/2021-06-30/schedules", json={**body, "period": "P1D"}).json()
    schedules = caller.call("GET", "/reports/2021-06-30/schedules", params={"reportTypes": LISTINGS}).json()
    assert [s["reportScheduleId"] for s in schedules["reportSchedules"]] == [second["reportScheduleId"]]
    assert caller.call("DELETE", f"/reports/2021-06-30/schedules/{second['reportScheduleId']}").status_code == 200
    assert caller.call("GET", f"/reports/2021-06-30/schedules/{second['reportScheduleId']}").status_code == 404
    bad = caller.call("POST", "/reports/2021-06-30/schedules", json={**body, "period": "PT7M"})
    assert bad.status_code == 400


def test_slow_and_timeout_faults_delay_the_answer(sandbox_factory):
    running = sandbox_factory(faults=Faults(rates={"slow": 1.0}, slow_seconds=0.4))
    caller = Caller(running)
    started = time.monotonic()
    assert caller.create().status_code == 202
    assert time.monotonic() - started >= 0.4
    running.sandbox.set_faults(Faults(rates={"timeout": 1.0}, timeout_seconds=1.5))
    with pytest.raises(requests.ReadTimeout):
        caller.http.get(f"{running.base_url}/reports/2021-06-30/reports/1", timeout=0.5)


def test_throttle_fault_answers_429_although_the_quota_allows(sandbox_factory):
    caller = Caller(sandbox_factory(rate_limits=False, faults=Faults.parse("throttle")))
    throttled = caller.create()
    assert throttled.status_code == 429 and throttled.json()["errors"][0]["code"] == "QuotaExceeded"


def test_corrupt_document_fault_damages_the_gzip_bytes(sandbox_factory):
    running = sandbox_factory(faults=Faults.parse("corrupt_document"))
    caller = Caller(running)
    report = caller.finished(caller.create().json()["reportId"])
    document = caller.call("GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    content = requests.get(document["url"], timeout=5).content
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(content)
    running.sandbox.set_faults(Faults())
    assert gzip.decompress(requests.get(document["url"], timeout=5).content).startswith(b"item-name\t")


def test_get_reports_refuses_unknown_processing_statuses(sandbox_factory):
    caller = Caller(sandbox_factory())
    refused = caller.call(
        "GET", "/reports/2021-06-30/reports", params={"reportTypes": LISTINGS, "processingStatuses": "BAD_VALUE,DONE"}
    )
    assert refused.status_code == 400 and "BAD_VALUE" in refused.json()["errors"][0]["details"]
