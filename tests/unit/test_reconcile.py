"""The reconcile sweep's decisions, one by one: what it looks up, lands, requests again and discovers.

The fakes are stores, not echoes: an SP-API that holds reports and their statuses, a ledger that holds entries,
Step Functions that records the executions started.
"""

import json
from datetime import UTC, datetime, timedelta

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.accounts import Account
from ingestion_lambdas.services.ledger import LedgerEntry, request_key
from ingestion_lambdas.services.reconcile import Reconciler
from ingestion_lambdas.settings import Settings
from ingestion_lambdas.spapi.reports import Report

NOW = 1_800_000_000.0
SETTINGS = Settings(reconcile_after_s=900, fatal_cooldown_s=1800, fatal_max_attempts=3,
                    land_report_state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:land")  # fmt: skip
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"


class FakeReportsApi:
    def __init__(self, reports: dict[str, Report]) -> None:
        self.reports = reports
        self.created: list[tuple[str, list[str]]] = []

    def get_report(self, report_id: str) -> Report:
        return self.reports[report_id]

    def create_report(self, report_type, marketplace_ids, start=None, end=None, options=None) -> str:
        report_id = f"new-{len(self.created) + 1}"
        self.created.append((report_type, marketplace_ids))
        self.reports[report_id] = report(report_id, report_type, "IN_QUEUE")
        return report_id

    def list_reports(self, report_types, processing_statuses=None, created_since=None):
        return [r for r in self.reports.values() if r.report_type in report_types
                and r.processing_status in (processing_statuses or [r.processing_status])]  # fmt: skip


class FakeClients:
    def __init__(self, api: FakeReportsApi) -> None:
        self.api = api

    def accounts(self) -> dict[str, Account]:
        seller = Account(account_id="seller", kind="seller", selling_partner_id="A1", region="NA",
                         marketplace_ids=["ATVPDKIKX0DER"], refresh_token_secret_id="s")  # fmt: skip
        return {"seller": seller}

    def reports(self, account_id: str) -> FakeReportsApi:
        return self.api


class FakeLedger:
    def __init__(self, entries: list[LedgerEntry]) -> None:
        self.items = {e.request_key: e for e in entries}

    def entries(self):
        return list(self.items.values())

    def get(self, key: str):
        return self.items.get(key)

    def record_request(self, job: ReportJob, report_id: str, attempts: int = 1) -> LedgerEntry:
        entry = LedgerEntry(request_key=request_key(job), account_id=job.account_id, report_type=job.report_type,
                            marketplace_id=job.marketplace_id, data_start_time=job.data_start_time,
                            data_end_time=job.data_end_time, report_id=report_id, attempts=attempts,
                            requested_at=NOW, updated_at=NOW)  # fmt: skip
        self.items[entry.request_key] = entry
        return entry


class FakeStepFunctions:
    def __init__(self) -> None:
        self.started: list[dict] = []

    def start_execution(self, **kwargs) -> dict:
        self.started.append(kwargs)
        return {"executionArn": f"arn:{kwargs['name']}"}


def report(report_id: str, report_type: str, status: str, day: int = 1) -> Report:
    start = datetime(2026, 11, day, tzinfo=UTC)
    return Report.model_validate({"reportId": report_id, "reportType": report_type, "processingStatus": status,
                                  "createdTime": start.isoformat(), "marketplaceIds": ["ATVPDKIKX0DER"],
                                  "dataStartTime": start.isoformat(),
                                  "dataEndTime": (start + timedelta(days=1)).isoformat()})  # fmt: skip


def entry(report_id: str, status: str, age_s: float, attempts: int = 1, day: int = 1) -> LedgerEntry:
    start = datetime(2026, 11, day, tzinfo=UTC)
    job = ReportJob(account_id="seller", report_type=ORDERS, marketplace_id="ATVPDKIKX0DER", data_start_time=start,
                    data_end_time=start + timedelta(days=1))  # fmt: skip
    return LedgerEntry(request_key=request_key(job), account_id="seller",
                       marketplace_id="ATVPDKIKX0DER", report_type=ORDERS, data_start_time=start,
                       data_end_time=start + timedelta(days=1), report_id=report_id, status=status,
                       attempts=attempts, requested_at=NOW - age_s, updated_at=NOW - age_s)  # fmt: skip


def sweep(entries: list[LedgerEntry], reports: list[Report]):
    api, ledger, sfn = FakeReportsApi({r.report_id: r for r in reports}), FakeLedger(entries), FakeStepFunctions()
    counts = Reconciler(FakeClients(api), ledger, sfn, SETTINGS, clock=lambda: NOW).sweep()  # type: ignore[arg-type]
    return counts, api, ledger, sfn


def test_a_finished_report_whose_notification_never_came_is_landed():
    counts, _, _, sfn = sweep([entry("r1", "REQUESTED", age_s=1000)], [report("r1", ORDERS, "DONE")])
    assert counts["checked"] == 1 and counts["landing_started"] == 1
    (started,) = sfn.started
    assert json.loads(started["input"]) == {"report_id": "r1", "execution_name": started["name"]}
    assert started["name"] == f"reconcile-r1-{int(NOW)}"


def test_a_report_requested_recently_is_left_to_its_notification():
    counts, _, _, sfn = sweep([entry("r1", "REQUESTED", age_s=100)], [report("r1", ORDERS, "DONE")])
    assert counts["checked"] == 0 and sfn.started == []


def test_a_report_still_in_progress_is_looked_up_but_not_landed():
    counts, _, _, sfn = sweep([entry("r1", "REQUESTED", age_s=1000)], [report("r1", ORDERS, "IN_PROGRESS")])
    assert counts["checked"] == 1 and sfn.started == []


def test_a_fatal_report_is_requested_again_only_after_its_cooldown():
    cooled, waiting = entry("r1", "FATAL", age_s=2000, attempts=2, day=1), entry("r2", "FATAL", age_s=60, day=2)
    counts, api, ledger, _ = sweep([cooled, waiting], [report("r1", ORDERS, "FATAL"), report("r2", ORDERS, "FATAL")])
    assert counts["requested_again"] == 1 and api.created == [(ORDERS, ["ATVPDKIKX0DER"])]
    again = ledger.get(cooled.request_key)
    assert again.report_id == "new-1" and again.attempts == 3 and again.status == "REQUESTED"
    assert ledger.get(waiting.request_key).status == "FATAL"


def test_settled_entries_are_left_alone():
    counts, api, _, sfn = sweep([entry("r1", "LANDED", age_s=10_000), entry("r2", "FAILED", age_s=10_000, day=2)],
                                [report("r1", ORDERS, "DONE"), report("r2", ORDERS, "FATAL")])  # fmt: skip
    assert counts == {"checked": 0, "landing_started": 0, "requested_again": 0, "discovered": 0}
    assert api.created == [] and sfn.started == []


def test_a_settlement_amazon_generated_is_discovered_once():
    reports = [report("s1", SETTLEMENT, "DONE"), report("s2", SETTLEMENT, "IN_PROGRESS", day=2)]
    counts, _, ledger, sfn = sweep([], reports)
    assert counts["discovered"] == 1 and [s["name"] for s in sfn.started] == ["land-s1"]
    assert [e.report_id for e in ledger.entries()] == ["s1"]
    # the next sweep finds it in the ledger and starts nothing
    counts_again = Reconciler(
        FakeClients(FakeReportsApi({r.report_id: r for r in reports})),
        ledger,
        FakeStepFunctions(),
        SETTINGS,
        clock=lambda: NOW,
    ).sweep()  # type: ignore[arg-type]
    assert counts_again["discovered"] == 0
