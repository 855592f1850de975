"""Land a finished report document in the raw zone: stream, decompress, transcode, multipart upload, manifest."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig

from ingestion_lambdas.spapi.documents import open_report_document
from ingestion_lambdas.spapi.errors import ReportFailedError, ReportNotReadyError
from lake_formation.raw_zone import ManifestEntry, raw_key

if TYPE_CHECKING:
    from ingestion_lambdas.events import ReportJob
    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.spapi.documents import DocumentStream

logger = logging.getLogger(__name__)
# 8 MiB parts, uploaded one at a time while the next is decoded; at most two parts held in memory (s3transfer's
# default of ten would hold 80 MiB of a non-seekable stream): memory stays flat whatever the document size.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=1)
TRANSFER.max_in_memory_upload_chunks = 2


class ReportLanding:
    def __init__(self, clients: SpApiClients, s3_client: Any, bucket: str, kms_key_id: str | None = None) -> None:
        self.clients = clients
        self.s3 = s3_client
        self.bucket = bucket
        self.kms_key_id = kms_key_id

    def _encryption(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "aws:kms"}

    def upload(self, stream: DocumentStream, key: str, report_id: str) -> None:
        """Stream a document into the raw zone as UTF-8: an S3 multipart upload of 8 MiB parts, one at a time.
        A download that fails verification raises mid-upload, and boto3 aborts the multipart upload."""
        self.s3.upload_fileobj(
            stream,
            self.bucket,
            key,
            Config=TRANSFER,
            ExtraArgs={
                **self._encryption(),
                "ContentType": "text/tab-separated-values; charset=utf-8",
                "Metadata": {"report-id": report_id, "source-charset": stream.source_charset},
            },
        )

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
        key = raw_key(
            report.report_type, job.marketplace_id, report.data_start_time or report.created_time, report.report_id
        )
        ingested_at = datetime.now(UTC)
        with open_report_document(api, report.report_document_id, self.clients.session) as stream:
            self.upload(stream, key, report.report_id)
        landed = ManifestEntry(
            report_id=report.report_id,
            report_type=report.report_type,
            account_id=job.account_id,
            marketplace_id=job.marketplace_id,
            bucket=self.bucket,
            key=key,
            source_charset=stream.source_charset,
            bytes=stream.bytes_out,
            rows=max(stream.line_count - 1, 0),
            sha256=stream.sha256,
            header=stream.first_line.split("\t"),
            ingested_at=ingested_at,
            data_start_time=report.data_start_time,
            data_end_time=report.data_end_time,
        )
        # The manifest is written last: an object without a manifest entry is not yet landed, and a retry rewrites both.
        self.s3.put_object(
            Bucket=self.bucket,
            Key=landed.manifest_key,
            Body=landed.model_dump_json().encode(),
            ContentType="application/json",
            **self._encryption(),
        )
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
