"""Land a finished report document in the raw zone: stream, decompress, transcode, multipart upload, manifest."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ingestion_lambdas import metrics
from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.ledger import Status  # noqa: TC001 - a pydantic field type
from ingestion_lambdas.spapi.documents import open_report_document
from ingestion_lambdas.spapi.errors import (
    MalformedReportError,
    ReportFailedError,
    ReportNotReadyError,
    TruncatedDownloadError,
    UnknownReportError,
)
from ingestion_lambdas.spapi.transport import log_event
from lake_formation.raw_zone import ManifestEntry, RawObject, RawZone

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import Ledger, LedgerEntry
    from ingestion_lambdas.settings import Settings

logger = logging.getLogger(__name__)
# Downloads of one report's document that may fail (truncated or undecodable) before its ledger entry is FAILED: a
# transient fault passes in a retry or two, a document Amazon serves broken fails every time. LandReport's Retry on
# these errors allows one execution to reach the bound (tests/unit/test_state_machines.py ties the two). The default
# and the ceiling of the setting `download_max_attempts` (ingestion.yaml DownloadMaxAttempts).
DOWNLOAD_MAX_ATTEMPTS = 4
DOWNLOAD_ERRORS = (TruncatedDownloadError, MalformedReportError)


class ReportLanding:
    def __init__(self, clients: SpApiClients, s3_client: Any, bucket: str, kms_key_id: str | None = None) -> None:
        self.clients = clients
        self.raw = RawZone(s3_client, bucket, kms_key_id)

    def land(self, job: ReportJob) -> ManifestEntry:
        """Download the job's report document into the raw zone and write its manifest entry.

        Raises:
            ReportNotReadyError: the report is still being processed.
            ReportFailedError: the report ended CANCELLED or FATAL.
            TruncatedDownloadError, MalformedReportError: the download was incomplete or undecodable; nothing landed.
        """
        if job.report_id is None:
            raise ValueError("the job has no report_id")
        api = self.clients.reports(job.account_id)
        report = api.get_report(job.report_id)
        if report.processing_status in ("IN_QUEUE", "IN_PROGRESS"):
            raise ReportNotReadyError(f"report {report.report_id} is {report.processing_status}")
        if report.processing_status != "DONE" or report.report_document_id is None:
            raise ReportFailedError(
                f"report {report.report_id} ended {report.processing_status}", code=report.processing_status
            )
        ingested_at = datetime.now(UTC)
        with open_report_document(api, report.report_document_id, self.clients.session) as stream:
            is_json = stream.peek(1) == b"{"
            target = RawObject(
                raw_name=report.report_type,
                marketplace_id=job.marketplace_id,
                day=report.data_start_time or report.created_time,
                object_id=report.report_id,
                format="json" if is_json else "tsv",
            )
            self.raw.upload_stream(target, stream, stream.source_charset)
        landed = self.raw.manifest_entry(
            target,
            account_id=job.account_id,
            source_charset=stream.source_charset,
            bytes=stream.bytes_out,
            rows=0 if is_json else max(stream.line_count - 1, 0),  # JSON documents: counted at curation
            sha256=stream.sha256,
            header=[] if is_json else stream.first_line.split("\t"),
            ingested_at=ingested_at,
            data_start_time=report.data_start_time,
            data_end_time=report.data_end_time,
        )
        # The manifest is written last: an object without a manifest entry is not yet landed, and a retry rewrites both.
        self.raw.write_manifest(landed)
        log_event(logger, logging.INFO, "report_landed", report_id=report.report_id, report_type=report.report_type,
                  marketplace_id=job.marketplace_id, rows=landed.rows, bytes=landed.bytes)  # fmt: skip
        return landed


class LandingOutcome(BaseModel):
    """What happened to a finished report: the LandReport state machine's output."""

    report_id: str
    status: Status
    key: str | None = None
    rows: int | None = None
    sha256: str | None = None
    error: str | None = None  # why the report FAILED (or is FATAL)


class ReportSettlement:
    """Takes a report SP-API has finished to its terminal ledger state: LANDED (object + manifest), NO_DATA
    (CANCELLED), or FATAL with its error document (requested again after a cooldown), FAILED after the last try.

    A truncated or undecodable download is raised for LandReport to retry, and counted in the ledger entry; the
    `download_max_attempts`-th failure records FAILED with its reason instead, so a document Amazon serves broken
    ends the report in a bounded number of attempts and reconcile never starts it again.
    """

    def __init__(
        self,
        landing: ReportLanding,
        ledger: Ledger,
        settings: Settings,
        on_landed: Callable[[LedgerEntry, ManifestEntry], None] | None = None,
        download_max_attempts: int = DOWNLOAD_MAX_ATTEMPTS,
    ) -> None:
        self.landing = landing
        self.ledger = ledger
        self.settings = settings
        self.on_landed = on_landed
        self.download_max_attempts = download_max_attempts

    def settle(self, report_id: str) -> LandingOutcome:
        """Land a finished report, or record why it cannot be.

        Raises:
            UnknownReportError: the report is not in the ledger.
            ReportNotReadyError: the report is still being processed.
            TruncatedDownloadError, MalformedReportError: the download failed, fewer than `download_max_attempts`
                times so far: retry.
        """
        entry = self.ledger.by_report_id(report_id)
        if entry is None:
            raise UnknownReportError(f"report {report_id} is not in the ledger")
        if entry.terminal:  # a duplicate notification, or reconcile racing a notification: nothing to do twice
            return LandingOutcome(report_id=report_id, status=entry.status, key=entry.raw_key, rows=entry.rows,
                                  error=entry.error)  # fmt: skip
        try:
            return self._land(entry, report_id)
        except DOWNLOAD_ERRORS as err:
            if (failed := self._download_failed(entry, err)) is None:
                raise
            return failed

    def _land(self, entry: LedgerEntry, report_id: str) -> LandingOutcome:
        job = ReportJob(account_id=entry.account_id, report_type=entry.report_type,
                        marketplace_id=entry.marketplace_id, report_id=report_id)  # fmt: skip
        try:
            landed = self.landing.land(job)
        except ReportFailedError as failed:
            if failed.code == "CANCELLED":
                log_event(logger, logging.INFO, "report_no_data", **_context(entry), status="CANCELLED")
                self.ledger.settle(entry, "NO_DATA")
                metrics.emit(metrics.REPORTS_NO_DATA, 1, _ids(entry), ReportType=entry.report_type)
                return LandingOutcome(report_id=report_id, status="NO_DATA")
            status: Status = "FATAL" if entry.attempts < self.settings.fatal_max_attempts else "FAILED"
            error = self._error_document(entry.account_id, report_id)
            log_event(logger, logging.WARNING, "report_fatal", operation="getReport", **_context(entry),
                      status=failed.code, attempt=entry.attempts, max_attempts=self.settings.fatal_max_attempts,
                      outcome=status)  # fmt: skip
            self.ledger.settle(entry, status, error=error)
            _count_failed(entry, status)
            return LandingOutcome(report_id=report_id, status=status, error=error)
        if self.on_landed is not None:
            self.on_landed(entry, landed)
        self.ledger.settle(entry, "LANDED", raw_key=landed.key, rows=landed.rows, sha256=landed.sha256, error=None)
        metrics.emit(metrics.REPORTS_LANDED, 1, _ids(entry), ReportType=entry.report_type)
        return LandingOutcome(report_id=report_id, status="LANDED", key=landed.key, rows=landed.rows,
                              sha256=landed.sha256)  # fmt: skip

    def _download_failed(self, entry: LedgerEntry, err: Exception) -> LandingOutcome | None:
        """Count a failed download; at the bound, record FAILED and return its outcome. None: raise to retry."""
        error = f"{type(err).__name__}: {err}"
        counted = self.ledger.record_download_failure(entry, error)
        if counted is None:  # another landing moved the entry on; the retry finds out what became of it
            return None
        attempt, give_up = counted.download_failures, counted.download_failures >= self.download_max_attempts
        log_event(logger, logging.WARNING, "report_download_failed", operation="downloadReportDocument",
                  **_context(entry), error=type(err).__name__, reason=str(err), attempt=attempt,
                  max_attempts=self.download_max_attempts, outcome="FAILED" if give_up else "retry")  # fmt: skip
        if not give_up:
            return None
        reason = f"the report document failed to download {attempt} times; the last time: {error}"
        self.ledger.settle(counted, "FAILED", error=reason)
        _count_failed(entry, "FAILED")
        return LandingOutcome(report_id=str(entry.report_id), status="FAILED", error=reason)

    def _error_document(self, account_id: str, report_id: str) -> str:
        """A FATAL report's error document (small JSON), kept in the ledger for whoever looks at the failure. It
        only explains the failure: if it cannot be downloaded, that is said instead, and the report stays FATAL."""
        api = self.landing.clients.reports(account_id)
        report = api.get_report(report_id)
        if report.report_document_id is None:
            return "FATAL without an error document"
        try:
            with open_report_document(api, report.report_document_id, self.landing.clients.session) as stream:
                return stream.read(4000).decode("utf-8", errors="replace")
        except DOWNLOAD_ERRORS as err:
            return f"FATAL; its error document could not be downloaded ({type(err).__name__}: {err})"


def _count_failed(entry: LedgerEntry, status: Status) -> None:
    """The ReportsFailed metric for a report settled FATAL or FAILED (after its ledger entry: a metric never counts a
    state the ledger does not hold)."""
    metrics.emit(metrics.REPORTS_FAILED, 1, _ids(entry), ReportType=entry.report_type, Status=status)


def _ids(entry: LedgerEntry) -> dict[str, object]:
    """What a metric line carries to find its report (metadata, not dimensions)."""
    return {"report_id": entry.report_id, "account_id": entry.account_id, "marketplace_id": entry.marketplace_id}


def _context(entry: LedgerEntry) -> dict[str, object]:
    """What names a report's unit of work in a log line."""
    return {"report_id": entry.report_id, "report_type": entry.report_type, "marketplace_id": entry.marketplace_id,
            "account_id": entry.account_id}  # fmt: skip
