"""Report windows on a fixed calendar grid: the same window whatever day it is planned, complete days only, each
report type's period and restatement rules. Expected windows are written out by hand from the calendar."""

from datetime import UTC, date, datetime, timedelta

import pytest

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.ledger import LedgerEntry, request_key
from ingestion_lambdas.services.plan import PlannedReport, ReportPlan, ReportPlanner, windows

# 2026-12-01 is a Tuesday; 2026-11-29 a Sunday, 2026-11-28 a Saturday.
TUESDAY = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)


def spans(planned: PlannedReport, now: datetime = TUESDAY, lookback: int = 30) -> list[tuple[str, str]]:
    return [(s.isoformat(), e.isoformat()) for s, e in windows(planned, now, lookback)]


def test_month_windows_start_on_the_first_and_end_at_the_last_instant_of_a_complete_day():
    assert spans(PlannedReport(report_type="X", window="month")) == [
        ("2026-11-01T00:00:00+00:00", "2026-11-30T23:59:59.999000+00:00")
    ]
    # two days later the same November window is planned, and December's grows from its first complete day
    assert spans(PlannedReport(report_type="X", window="month"), TUESDAY + timedelta(days=2)) == [
        ("2026-11-01T00:00:00+00:00", "2026-11-30T23:59:59.999000+00:00"),
        ("2026-12-01T00:00:00+00:00", "2026-12-02T23:59:59.999000+00:00"),
    ]


def test_week_windows_run_sunday_to_saturday_and_whole_weeks_only_when_the_report_needs_them():
    weekly = PlannedReport(report_type="X", window="week", complete_periods_only=True)
    assert spans(weekly, lookback=10) == [
        ("2026-11-15T00:00:00+00:00", "2026-11-21T23:59:59.999000+00:00"),
        ("2026-11-22T00:00:00+00:00", "2026-11-28T23:59:59.999000+00:00"),
    ]
    growing = PlannedReport(report_type="X", window="week")
    assert spans(growing, lookback=3)[-1] == ("2026-11-29T00:00:00+00:00", "2026-11-30T23:59:59.999000+00:00")
    for start, end in windows(weekly, TUESDAY, 60):
        assert start.weekday() == 6 and end.weekday() == 5  # Sunday .. Saturday


@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_a_window_is_the_same_window_on_every_day_it_is_planned(window):
    planned = PlannedReport(report_type="X", window=window)
    seen: dict[datetime, set[datetime]] = {}
    for day in range(20):
        for start, end in windows(planned, TUESDAY + timedelta(days=day), 30):
            seen.setdefault(start, set()).add(end)
            assert end.date() < (TUESDAY + timedelta(days=day)).date()  # never today's incomplete day
    # every window starts where its period starts; one start's ends are its period growing a day at a time
    starts = {"day": lambda d: True, "week": lambda d: d.weekday() == 6, "month": lambda d: d.day == 1}
    for start, ends in seen.items():
        assert starts[window](start.date())
        days = sorted(e.date() for e in ends)
        assert days == [days[0] + timedelta(days=n) for n in range(len(days))]


def test_a_snapshot_is_one_request_for_today():
    assert spans(PlannedReport(report_type="X", snapshot=True)) == [
        ("2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
    ]


class FakeReports:
    def list_reports(self, report_types, created_since=None):
        return []


class FakeClients:
    def __init__(self, plan: ReportPlan) -> None:
        self.plan = plan

    def parameter(self, name):
        return self.plan.model_dump()

    def accounts(self):
        from ingestion_lambdas.services.accounts import Account  # noqa: PLC0415

        return {"s": Account(account_id="s", kind="seller", selling_partner_id="A", region="NA",
                             marketplace_ids=["ATVPDKIKX0DER"], refresh_token_secret_id="x")}  # fmt: skip

    def reports(self, account_id):
        return FakeReports()


class FakeLedger:
    def __init__(self) -> None:
        self.items: dict[str, LedgerEntry] = {}

    def get(self, key):
        return self.items.get(key)

    def land(self, job: ReportJob, at: float) -> None:
        self.items[request_key(job)] = LedgerEntry(
            request_key=request_key(job), account_id=job.account_id, marketplace_id=job.marketplace_id,
            report_type=job.report_type, data_start_time=job.data_start_time, data_end_time=job.data_end_time,
            report_options=job.report_options, report_id="r", status="LANDED", requested_at=at, updated_at=at,
        )  # fmt: skip


def planned_each_day(planned: PlannedReport, days: int) -> list[list[tuple[date, date]]]:
    """What the planner asks for on each of `days` mornings, landing all of it each time."""
    from ingestion_lambdas.settings import Settings  # noqa: PLC0415

    plan, ledger, asked = ReportPlan(lookback_days=30, reports=[planned]), FakeLedger(), []
    for day in range(days):
        now = TUESDAY + timedelta(days=day)
        planner = ReportPlanner(FakeClients(plan), ledger, Settings(report_plan_parameter="p"),  # type: ignore[arg-type]
                                clock=now.timestamp)  # fmt: skip
        jobs = planner.plan()
        asked.append([(j.data_start_time.date(), j.data_end_time.date()) for j in jobs])
        for job in jobs:
            ledger.land(job, now.timestamp())
    return asked


def test_day_after_day_only_the_growing_window_is_requested_again():
    asked = planned_each_day(PlannedReport(report_type="X", window="month"), 4)
    assert asked == [
        [(date(2026, 11, 1), date(2026, 11, 30))],
        [(date(2026, 12, 1), date(2026, 12, 1))],
        [(date(2026, 12, 1), date(2026, 12, 2))],
        [(date(2026, 12, 1), date(2026, 12, 3))],
    ]


def test_windows_amazon_restates_are_requested_again_until_their_last_day_is_old_enough():
    asked = planned_each_day(PlannedReport(report_type="X", window="month", restatement_days=7), 10)
    november = (date(2026, 11, 1), date(2026, 11, 30))
    assert [november in day for day in asked] == [True] * 8 + [False] * 2  # Nov 30 + 7 days, then final
    assert all(len(day) <= 2 for day in asked)  # the restated month and the growing one, never more
