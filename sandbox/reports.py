"""Reports 2021-06-30 state: report requests moving IN_QUEUE → IN_PROGRESS → DONE / CANCELLED / FATAL on a clock."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sandbox.marketplaces import MARKETPLACES
from sandbox.report_types import REPORT_TYPES, ReportRequest, encode_flat_file

if TYPE_CHECKING:
    from sandbox.world import World

# How long Amazon typically takes, in seconds; the sandbox divides these by its time scale.
QUEUE_SECONDS = 10.0
PROCESSING_SECONDS = 30.0


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Document:
    document_id: str
    content: bytes  # as served: gzip-compressed when compression is set
    compression: str | None
    charset: str
    rows: int
    sha256_uncompressed: str


@dataclass
class Report:
    report_id: str
    report_type: str
    request: ReportRequest
    created_at: float
    ready_at: float  # IN_QUEUE until started_at, IN_PROGRESS until ready_at
    started_at: float
    status_override: str | None = None  # CANCELLED by cancelReport
    outcome: str | None = None  # DONE or CANCELLED once generated
    document_id: str | None = None
    rows: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self, now: float) -> str:
        if self.status_override:
            return self.status_override
        if now < self.started_at:
            return "IN_QUEUE"
        if now < self.ready_at:
            return "IN_PROGRESS"
        return self.outcome or "DONE"


class ReportStore:
    def __init__(self, world: World, time_scale: float = 1.0) -> None:
        self.world = world
        self.time_scale = time_scale
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, Document] = {}
        self._lock = threading.Lock()
        self._next_id = 50_000_000_000 + world.seed * 1_000_000

    def create(self, report_type: str, request: ReportRequest) -> Report:
        now = time.time()
        with self._lock:
            self._next_id += 1
            report_id = str(self._next_id)
        started = now + QUEUE_SECONDS / self.time_scale
        report = Report(report_id, report_type, request, now, started + PROCESSING_SECONDS / self.time_scale, started)
        with self._lock:
            self.reports[report_id] = report
        return report

    def get(self, report_id: str) -> Report | None:
        report = self.reports.get(report_id)
        if report is not None and report.status(time.time()) == "DONE":
            self._generate(report)
        return report

    def _generate(self, report: Report) -> None:
        """Render the document once, when the report first becomes visible as finished."""
        with report.lock:
            if report.outcome is not None:
                return
            rendered = REPORT_TYPES[report.report_type].render(self.world, report.request)
            report.rows = len(rendered.rows)
            if not rendered.rows:
                report.outcome = "CANCELLED"  # Amazon cancels reports with no data
                return
            charset = MARKETPLACES[report.request.marketplace_id].flat_file_charset
            raw = encode_flat_file(rendered, charset)
            compressed = REPORT_TYPES[report.report_type].compressed
            document_id = f"amzn1.spdoc.1.4.na.{hashlib.sha256(report.report_id.encode()).hexdigest()[:32]}"
            self.documents[document_id] = Document(
                document_id,
                gzip.compress(raw, mtime=0) if compressed else raw,
                "GZIP" if compressed else None,
                charset,
                len(rendered.rows),
                hashlib.sha256(raw).hexdigest(),
            )
            report.document_id = document_id
            report.outcome = "DONE"

    def as_json(self, report: Report) -> dict[str, object]:
        status = report.status(time.time())
        body: dict[str, object] = {
            "reportId": report.report_id,
            "reportType": report.report_type,
            "marketplaceIds": [report.request.marketplace_id],
            "dataStartTime": iso(report.request.data_start_time),
            "dataEndTime": iso(report.request.data_end_time),
            "createdTime": iso(datetime.fromtimestamp(report.created_at, UTC)),
            "processingStatus": status,
        }
        if status != "IN_QUEUE":
            body["processingStartTime"] = iso(datetime.fromtimestamp(report.started_at, UTC))
        if status in ("DONE", "CANCELLED", "FATAL") and not report.status_override:
            body["processingEndTime"] = iso(datetime.fromtimestamp(report.ready_at, UTC))
        if status == "DONE" and report.document_id:
            body["reportDocumentId"] = report.document_id
        return body
