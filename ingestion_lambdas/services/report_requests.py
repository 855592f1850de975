"""Request a report (or adopt one SP-API already has) and record it in the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion_lambdas.events import ReportJob
    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import Ledger


class ReportRequests:
    def __init__(self, clients: SpApiClients, ledger: Ledger | None = None) -> None:
        self.clients = clients
        self.ledger = ledger

    def request(self, job: ReportJob) -> ReportJob:
        """createReport unless the plan found a reusable report, then the ledger entry (REQUESTED)."""
        if job.report_id is None:
            job = self.create(job)
        if self.ledger is not None:
            self.ledger.record_request(job, str(job.report_id), job.attempts)
        return job

    def create(self, job: ReportJob) -> ReportJob:
        """createReport for the job's window; returns the job with its reportId."""
        report_id = self.clients.reports(job.account_id).create_report(
            job.report_type, [job.marketplace_id], job.data_start_time, job.data_end_time, job.report_options
        )
        return job.model_copy(update={"report_id": report_id, "processing_status": "IN_QUEUE"})
