"""The reconciliation sweep (scheduled): what notifications should have done and did not.

- A REQUESTED report with no notification for `reconcile_after_s` is looked up with getReport; if SP-API has
  finished it, LandReport starts. A lost notification, or a landing that crashed before the ledger was updated,
  is repaired here.
- A FATAL report is requested again once its cooldown has passed (the ledger entry then tracks the new report);
  after `fatal_max_attempts` tries, landing records it FAILED.
- Reports Amazon generates on its own (generated_by_amazon in the registry: settlements) are found with getReports
  and landed: there is no notification for a report nobody requested.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.ledger import request_key
from ingestion_lambdas.services.notifications import start_landing
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.spapi.reports import FINISHED_PROCESSING_STATUSES
from ingestion_lambdas.spapi.transport import correlated
from lake_formation import registry

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import Ledger, LedgerEntry
    from ingestion_lambdas.settings import Settings


class Reconciler:
    def __init__(
        self,
        clients: SpApiClients,
        ledger: Ledger,
        sfn: Any,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = clients
        self.requests = ReportRequests(clients, ledger)
        self.ledger = ledger
        self.sfn = sfn
        self.settings = settings
        self._clock = clock

    def sweep(self, discover_days: int = 90) -> dict[str, int]:  # getReports lists 90 days back
        now = self._clock()
        counts = {"checked": 0, "landing_started": 0, "requested_again": 0, "discovered": 0}
        for entry in self.ledger.entries():
            with correlated(report_id=entry.report_id, account_id=entry.account_id):  # its SP-API calls' log lines
                self._reconcile(entry, now, counts)
        counts["discovered"] = self._discover(datetime.fromtimestamp(now, UTC) - timedelta(days=discover_days))
        return counts

    def _reconcile(self, entry: LedgerEntry, now: float, counts: dict[str, int]) -> None:
        """One ledger entry: a FATAL one past its cooldown is requested again, a REQUESTED one left without a
        notification is looked up and, when SP-API has finished it, landed."""
        if entry.status == "FATAL" and now - entry.updated_at >= self.settings.fatal_cooldown_s:
            job = ReportJob(
                account_id=entry.account_id, report_type=entry.report_type, marketplace_id=entry.marketplace_id,
                data_start_time=entry.data_start_time, data_end_time=entry.data_end_time,
                report_options=entry.report_options, attempts=entry.attempts + 1,
            )  # fmt: skip
            self.requests.request(job)
            counts["requested_again"] += 1
            return
        if entry.status != "REQUESTED" or now - entry.updated_at < self.settings.reconcile_after_s:
            return
        counts["checked"] += 1
        report = self.clients.reports(entry.account_id).get_report(str(entry.report_id))
        if report.processing_status in FINISHED_PROCESSING_STATUSES:
            name = f"reconcile-{entry.report_id}-{int(now)}"
            counts["landing_started"] += (
                start_landing(self.sfn, self.settings.land_report_arn, name, str(entry.report_id)) != "duplicate"
            )

    def _discover(self, since: datetime) -> int:
        discovered = 0
        for account in self.clients.accounts().values():
            if account.kind != "seller":
                continue
            reports = self.clients.reports(account.account_id).list_reports(
                registry.generated_report_types(), processing_statuses=["DONE"], created_since=since
            )
            for report in reports:
                job = ReportJob(
                    account_id=account.account_id,
                    report_type=report.report_type,
                    marketplace_id=report.marketplace_ids[0],
                    data_start_time=report.data_start_time,
                    data_end_time=report.data_end_time,
                    report_id=report.report_id,
                )
                if self.ledger.get(request_key(job)) is None:
                    self.ledger.record_request(job, report.report_id)
                    start_landing(self.sfn, self.settings.land_report_arn, f"land-{report.report_id}", report.report_id)
                    discovered += 1
        return discovered
