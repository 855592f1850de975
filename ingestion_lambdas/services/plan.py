"""Which reports to request: the report plan (Parameter Store) × accounts × marketplaces × windows on each report's
calendar grid, minus what the ledger already has, plus the windows Amazon may still restate, reusing reports SP-API
already has in flight."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.ledger import request_key
from lake_formation.registry import ReportRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import Ledger, LedgerEntry
    from ingestion_lambdas.settings import Settings
    from ingestion_lambdas.spapi.reports import Report

REUSABLE = frozenset({"IN_QUEUE", "IN_PROGRESS", "DONE"})


class PlannedReport(ReportRequest):
    """One report type of the plan: the registry's request rules, plus the account kind and marketplaces."""

    report_type: str
    account_kind: Literal["seller", "vendor"] = "seller"
    marketplace_ids: list[str] | None = None  # default: every marketplace of the account


class ReportPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lookback_days: int = 30
    restate_after_hours: float = 12.0  # a restated window is re-requested at most this often
    reports: list[PlannedReport]


def _period(window: str, day: date) -> tuple[date, date]:
    """The calendar period (first day, last day) of the grid that holds `day`: the day, its Sunday–Saturday week,
    or its month."""
    if window == "day":
        return day, day
    if window == "week":
        sunday = day - timedelta(days=(day.weekday() + 1) % 7)
        return sunday, sunday + timedelta(days=6)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def end_of_day(day: date) -> datetime:
    """The last instant of a UTC day, as SP-API reads dataEndTime (inclusive)."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999000, tzinfo=UTC)


def windows(planned: PlannedReport, now: datetime, lookback_days: int) -> list[tuple[datetime, datetime]]:
    """The report's windows on its calendar grid that hold any of the last `lookback_days` complete days.

    Each starts where its period starts, so a window is the same window whatever the day it is planned on; it ends
    at the last instant of its period's last day, or of yesterday for the current period (complete days only), which
    therefore grows by a day each day until it is whole. Reports that take whole periods only skip the current one.
    A snapshot is one request per day (its window is today, as Amazon takes the state at request time)."""
    today = now.astimezone(UTC).date()
    if planned.snapshot:
        midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
        return [(midnight, midnight)]
    yesterday, spans = today - timedelta(days=1), []
    day = today - timedelta(days=lookback_days)
    while day <= yesterday:
        first, last = _period(planned.window, day)
        if last <= yesterday or not planned.complete_periods_only:
            spans.append((datetime(first.year, first.month, first.day, tzinfo=UTC), end_of_day(min(last, yesterday))))
        day = last + timedelta(days=1)
    return spans


class ReportPlanner:
    def __init__(
        self, clients: SpApiClients, ledger: Ledger, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.clients = clients
        self.ledger = ledger
        self.settings = settings
        self._clock = clock

    def plan(self) -> list[ReportJob]:
        """Every report request that is due now, each with a reusable reportId where SP-API already has one."""
        plan = ReportPlan.model_validate(self.clients.parameter(self.settings.need("report_plan_parameter")))
        now = datetime.fromtimestamp(self._clock(), UTC)
        new, repeated = [], []
        for account in self.clients.accounts().values():
            for planned in plan.reports:
                if planned.account_kind != account.kind:
                    continue
                for marketplace_id in planned.marketplace_ids or account.marketplace_ids:
                    if marketplace_id not in account.marketplace_ids:
                        continue
                    for start, end in windows(planned, now, plan.lookback_days):
                        job = ReportJob(
                            account_id=account.account_id,
                            report_type=planned.report_type,
                            marketplace_id=marketplace_id,
                            data_start_time=start,
                            data_end_time=end,
                            report_options=planned.report_options,
                        )
                        entry = self.ledger.get(request_key(job))
                        if entry is None:
                            new.append(job)
                        elif (again := self._again(job, entry, planned, plan, now)) is not None:
                            repeated.append(again)
        return self._reuse_in_flight(new) + repeated

    def _again(
        self, job: ReportJob, entry: LedgerEntry, planned: PlannedReport, plan: ReportPlan, now: datetime
    ) -> ReportJob | None:
        """A window the ledger has is requested again only when Amazon restates it (FATAL reports are requested
        again by reconcile)."""
        # Amazon may change a day for `restatement_days` after it: the window is asked for again until the first day
        # its last day is final (restatement_days + 1 after it), at most once per restate_after_hours.
        oldest_open = now - timedelta(days=planned.restatement_days + 1)
        restated = job.data_end_time is not None and job.data_end_time >= oldest_open
        age_s = now.timestamp() - entry.updated_at
        if entry.terminal and planned.restatement_days and restated and age_s >= plan.restate_after_hours * 3600:
            return job
        return None

    def _reuse_in_flight(self, jobs: list[ReportJob]) -> list[ReportJob]:
        """For windows the ledger has never seen (e.g. a run that crashed after createReport), one getReports per
        (account, report type): a report SP-API has in queue, in progress or done for the very same window is reused
        instead of requested again (getReports allows one call every 45 s)."""
        found: dict[tuple[str, str], list[Report]] = {}
        reused = []
        for job in jobs:
            key = (job.account_id, job.report_type)
            if key not in found:
                since = datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=1)
                found[key] = list(
                    self.clients.reports(job.account_id).list_reports([job.report_type], created_since=since)
                )
            match = next((r for r in found[key] if _same_request(r, job)), None)
            reused.append(job.model_copy(update={"report_id": match.report_id}) if match else job)
        return reused


def _same_request(report: Report, job: ReportJob) -> bool:
    return (
        report.processing_status in REUSABLE
        and report.marketplace_ids == [job.marketplace_id]
        and report.data_start_time == job.data_start_time
        and report.data_end_time == job.data_end_time
    )
