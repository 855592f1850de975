"""Land a finished report document in the raw zone: stream, decompress, transcode, multipart upload, manifest."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.ledger import Status  # noqa: TC001 - a pydantic field type
from ingestion_lambdas.spapi.documents import open_report_document
from ingestion_lambdas.spapi.errors import ReportFailedError, ReportNotReadyError, UnknownReportError
from lake_formation.raw_zone import ManifestEntry, RawObject, RawZone

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import Ledger, LedgerEntry
    from ingestion_lambdas.settings import Settings

logger = logging.getLogger(__name__)


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
        logger.info(
            json.dumps(
                {
                    "event": "report_landed",
                    "report_id": report.report_id,
                    "report_type": report.report_type,
                    "marketplace_id": job.marketplace_id,
                    "rows": landed.rows,
                    "bytes": landed.bytes,
                }
            )
        )
        return landed


class LandingOutcome(BaseModel):
    """What happened to a finished report: the LandReport state machine's output."""

    report_id: str
    status: Status
    key: str | None = None
    rows: int | None = None
    sha256: str | None = None


class ReportSettlement:
    """Takes a report SP-API has finished to its terminal ledger state: LANDED (object + manifest), NO_DATA
    (CANCELLED), or FATAL with its error document (requested again after a cooldown), FAILED after the last try."""

    def __init__(
        self,
        landing: ReportLanding,
        ledger: Ledger,
        settings: Settings,
        on_landed: Callable[[LedgerEntry, ManifestEntry], None] | None = None,
    ) -> None:
        self.landing = landing
        self.ledger = ledger
        self.settings = settings
        self.on_landed = on_landed

    def settle(self, report_id: str) -> LandingOutcome:
        entry = self.ledger.by_report_id(report_id)
        if entry is None:
            raise UnknownReportError(f"report {report_id} is not in the ledger")
        if entry.terminal:  # a duplicate notification, or reconcile racing a notification: nothing to do twice
            return LandingOutcome(report_id=report_id, status=entry.status, key=entry.raw_key, rows=entry.rows)
        job = ReportJob(account_id=entry.account_id, report_type=entry.report_type,
                        marketplace_id=entry.marketplace_id, report_id=report_id)  # fmt: skip
        try:
            landed = self.landing.land(job)
        except ReportFailedError as failed:
            if failed.code == "CANCELLED":
                self.ledger.settle(entry, "NO_DATA")
                return LandingOutcome(report_id=report_id, status="NO_DATA")
            status: Status = "FATAL" if entry.attempts < self.settings.fatal_max_attempts else "FAILED"
            self.ledger.settle(entry, status, error=self._error_document(entry.account_id, report_id))
            return LandingOutcome(report_id=report_id, status=status)
        if self.on_landed is not None:
            self.on_landed(entry, landed)
        self.ledger.settle(entry, "LANDED", raw_key=landed.key, rows=landed.rows, sha256=landed.sha256)
        return LandingOutcome(report_id=report_id, status="LANDED", key=landed.key, rows=landed.rows,
                              sha256=landed.sha256)  # fmt: skip

    def _error_document(self, account_id: str, report_id: str) -> str:
        """A FATAL report's error document (small JSON), kept in the ledger for whoever looks at the failure."""
        api = self.landing.clients.reports(account_id)
        report = api.get_report(report_id)
        if report.report_document_id is None:
            return "FATAL without an error document"
        with open_report_document(api, report.report_document_id, self.landing.clients.session) as stream:
            return stream.read(4000).decode("utf-8", errors="replace")
