"""Ingestion end to end, offline: the real handlers inside the real state machines on moto, fed by the sandbox's
notifications through SQS; checked against the sandbox's ground truth and under its faults."""

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from ingestion_lambdas import aws
from ingestion_lambdas.services import wiring
from lake_formation.raw_zone import RawZone
from local.pipeline import ingest, invoke, landed_manifests, run_state_machine
from sandbox.faults import Faults


def truth(stack, report_id: str) -> dict:
    return requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{report_id}", timeout=5).json()


@pytest.fixture(scope="module")
def ingested(stack):
    return ingest(stack)


def wait_for(predicate, timeout_s: float = 30.0, every_s: float = 0.3, reconcile=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if reconcile is not None:  # the stack whose reconcile function to run
            invoke(reconcile, "reconcile")
        if (value := predicate()) is not None:
            return value
        time.sleep(every_s)
    raise AssertionError("condition not met in time")


def settled(report_id: str, statuses=("LANDED", "NO_DATA", "FAILED")):
    def check():
        entry = wiring.ledger().by_report_id(report_id)
        return entry if entry is not None and entry.status in statuses else None

    return check


def request_one(stack, day: int, report_type: str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL") -> str:
    """One report outside the plan's windows (its own ledger entry), through the request_report function."""
    start = datetime(2026, 1, day, tzinfo=UTC)
    job = {"account_id": "demo-seller-na", "report_type": report_type, "marketplace_id": "ATVPDKIKX0DER",
           "data_start_time": start.isoformat(), "data_end_time": (start + timedelta(days=1)).isoformat()}  # fmt: skip
    return str(invoke(stack, "request_report", job)["report_id"])


def objects_of(stack, report_id: str) -> list[str]:
    s3 = aws.client("s3")
    return [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.resources.raw_bucket)
        for o in page.get("Contents", [])
        if report_id in o["Key"]
    ]


def test_every_ledger_entry_ends_terminal_and_every_landed_object_matches_the_ground_truth(stack, ingested):
    ledger = ingested["ledger"]
    assert ledger["pending"] == 0 and ledger["failed"] == 0
    assert ledger["requested"] == ledger["landed"] + ledger["no_data"] > 40
    manifests = {m.object_id: m for m in landed_manifests(stack)}
    raw = RawZone(aws.client("s3"), stack.resources.raw_bucket)
    report_types = set()
    for entry in wiring.ledger().entries():
        if entry.status != "LANDED":
            continue
        landed, expected = manifests[str(entry.report_id)], truth(stack, str(entry.report_id))
        body = raw.read(landed)
        assert hashlib.sha256(body).hexdigest() == landed.sha256 == expected["sha256"], entry.report_type
        if landed.key.endswith(".tsv"):
            assert landed.rows == expected["rows"], entry.report_type
        report_types.add(entry.report_type)
    # every report type the sandbox serves landed, the settlements (found by reconcile) included
    assert len(report_types) == 12


def test_running_ingestion_again_requests_nothing_new(stack, ingested):
    again = ingest(stack)
    assert again["requested"] == 0
    assert again["ledger"]["requested"] == ingested["ledger"]["requested"]


def test_a_duplicated_notification_lands_once(stack, ingested):
    box = stack.sandbox.sandbox
    box.set_faults(Faults.parse("duplicate_notification"))
    try:
        report_id = request_one(stack, 2)
        entry = wait_for(settled(report_id))
    finally:
        box.set_faults(Faults())
    finished = [m.get("payload", {}).get("reportProcessingFinishedNotification", {}) for m in box.notifications.sent]
    sent = [m for m in finished if m.get("reportId") == report_id]
    assert len(sent) == 2 and entry.status == "LANDED"
    executions = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )
    assert [e["name"] for e in executions["executions"]].count(f"land-{report_id}") == 1
    assert len(objects_of(stack, report_id)) == 2  # the document and its manifest, once


def test_a_dropped_notification_is_recovered_by_reconcile(stack, ingested):
    box = stack.sandbox.sandbox
    box.set_faults(Faults.parse("drop_notification"))
    try:
        report_id = request_one(stack, 3)
        time.sleep(3)  # the report finishes; its notification never comes
    finally:
        box.set_faults(Faults())
    assert wiring.ledger().by_report_id(report_id).status == "REQUESTED"
    entry = wait_for(settled(report_id), reconcile=stack, every_s=1.0)
    assert entry.status == "LANDED" and entry.sha256 == truth(stack, report_id)["sha256"]


def test_a_fatal_report_is_requested_again_after_its_cooldown_then_recorded_failed(stack, ingested):
    box = stack.sandbox.sandbox
    box.set_faults(Faults.parse("fatal_report"))
    try:
        first_id = request_one(stack, 4)
        first = wait_for(settled(first_id, ("FATAL",)))
        assert first.attempts == 1 and "internal processing error" in first.error
        key = first.request_key

        def failed():
            entry = wiring.ledger().get(key)
            return entry if entry.status == "FAILED" else None

        last = wait_for(failed, timeout_s=60, every_s=1.0, reconcile=stack)
    finally:
        box.set_faults(Faults())
    assert last.attempts == wiring.settings().fatal_max_attempts == 3
    assert last.report_id != first_id and "internal processing error" in last.error


def test_a_crash_between_upload_and_ledger_update_is_repaired_by_reconcile(stack, ingested, monkeypatch):
    # GIVEN the landing function dies after the document and manifest are written, before the ledger says LANDED
    ledger, real_settle, crashes = wiring.ledger(), wiring.ledger().settle, []

    def crash_once(entry, status, **fields):
        if status == "LANDED" and not crashes:
            crashes.append(entry.report_id)
            raise ConnectionError("Lambda killed after the upload")
        return real_settle(entry, status, **fields)

    monkeypatch.setattr(ledger, "settle", crash_once)
    report_id = request_one(stack, 5)
    wait_for(lambda: crashes or None)
    time.sleep(1)
    assert ledger.by_report_id(report_id).status == "REQUESTED"
    # THEN the object that is there is whole, and the next reconcile lands it again and settles the ledger
    keys = objects_of(stack, report_id)
    document = next(k for k in keys if k.endswith(".tsv"))
    body = aws.client("s3").get_object(Bucket=stack.resources.raw_bucket, Key=document)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == truth(stack, report_id)["sha256"]
    entry = wait_for(settled(report_id), reconcile=stack, every_s=1.0)
    assert entry.status == "LANDED" and objects_of(stack, report_id) == keys


def test_catalog_and_listings_land_every_sku_and_asin_of_the_listings_reports(stack, ingested):
    run_state_machine(stack, "catalog_and_listings")
    manifests = landed_manifests(stack)
    raw = RawZone(aws.client("s3"), stack.resources.raw_bucket)

    def lines(raw_name: str, skip: int = 0) -> list[tuple[str, str]]:
        found = []
        for m in (m for m in manifests if m.raw_name == raw_name):
            text = raw.read(m).decode()
            found += [(m.marketplace_id, line) for line in text.splitlines()[skip:]]
        return found

    cells = [(market, line.split("\t")) for market, line in lines("GET_MERCHANT_LISTINGS_ALL_DATA", skip=1)]
    listed = {(market, row[3], row[16]) for market, row in cells}
    items = [json.loads(line) for _, line in lines("listings_items")]
    catalog = [json.loads(line) for _, line in lines("catalog_items")]
    # one listings item per SKU and one catalog item per ASIN (each SKU lists its own ASIN in a marketplace)
    assert {(i["marketplace_id"], i["item"]["sku"]) for i in items} == {(m, sku) for m, sku, _ in listed}
    assert {(c["marketplace_id"], c["item"]["asin"]) for c in catalog} == {(m, asin) for m, _, asin in listed}
