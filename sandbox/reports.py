"""Reports 2021-06-30 state: requests move IN_QUEUE → IN_PROGRESS → DONE / CANCELLED / FATAL on a scaled clock.

A background ticker (see `Sandbox`) calls `finish_due()`, which renders documents of reports whose time has come
and hands each finished report to a callback (notifications). Reads also finish a due report, so the lifecycle holds
whether or not the ticker runs.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import heapq
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sandbox.faults import Faults
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_types import PYTHON_CODEC, REPORT_TYPES, ReportRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.world import World

# How long Amazon typically takes, in seconds; the sandbox divides these by its time scale.
QUEUE_SECONDS = 10.0
PROCESSING_SECONDS = 30.0
TERMINAL = frozenset({"DONE", "CANCELLED", "FATAL"})


def iso(value: datetime | float) -> str:
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, float) else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Document:
    document_id: str
    content: bytes  # as served: gzip-compressed when compression is set
    compression: str | None
    charset: str
    rows: int
    sha256_utf8: str  # of the document's text encoded as UTF-8 (what a lake stores)


@dataclass
class Report:
    report_id: str
    report_type: str
    request: ReportRequest
    created_at: float
    started_at: float  # IN_QUEUE until then
    ready_at: float  # IN_PROGRESS until then
    cancelled: bool = False
    outcome: str | None = None  # DONE, CANCELLED or FATAL once finished
    document_id: str | None = None
    rows: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self, now: float) -> str:
        if self.cancelled:
            return "CANCELLED"
        if self.outcome is not None:
            return self.outcome
        if now < self.started_at:
            return "IN_QUEUE"
        return "IN_PROGRESS"  # until finished (by the ticker or the next read)


class ReportListError(ValueError):
    """getReports was called with parameters SP-API would refuse."""


class ReportStore:
    def __init__(
        self,
        world: World,
        time_scale: float = 1.0,
        faults: Faults | None = None,
        on_finished: Callable[[Report], None] | None = None,
    ) -> None:
        self.world = world
        self.time_scale = time_scale
        self.faults = faults or Faults()
        self.on_finished = on_finished
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, Document] = {}
        self._due: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._next_id = 50_000_000_000 + world.seed * 1_000_000

    def create(self, report_type: str, request: ReportRequest) -> Report:
        now = time.time()
        started = now + QUEUE_SECONDS / self.time_scale
        ready = started + PROCESSING_SECONDS / self.time_scale
        with self._lock:
            self._next_id += 1
            report = Report(str(self._next_id), report_type, request, now, started, ready)
            self.reports[report.report_id] = report
            heapq.heappush(self._due, (ready, report.report_id))
        return report

    def get(self, report_id: str) -> Report | None:
        report = self.reports.get(report_id)
        if report is not None and report.outcome is None and not report.cancelled and time.time() >= report.ready_at:
            self._finish(report)
        return report

    def cancel(self, report_id: str) -> bool:
        """Cancel a report still IN_QUEUE; returns False if it has started (Amazon refuses those)."""
        report = self.get(report_id)
        if report is None or report.status(time.time()) != "IN_QUEUE":
            return False
        report.cancelled = True
        return True

    def finish_due(self) -> int:
        """Finish every report whose processing time has passed. Returns how many finished."""
        finished = 0
        while True:
            with self._lock:
                if not self._due or self._due[0][0] > time.time():
                    return finished
                _, report_id = heapq.heappop(self._due)
            report = self.reports[report_id]
            if report.outcome is None and not report.cancelled:
                self._finish(report)
                finished += 1

    def _finish(self, report: Report) -> None:
        with report.lock:
            if report.outcome is not None:
                return
            if self.faults.hits("fatal_report", report.report_id):
                error = json.dumps({"errorDetails": f"Report {report.report_id} failed: internal processing error"})
                report.document_id = self._store_document(report, error.encode(), "UTF-8", 0, error.encode())
                report.outcome = "FATAL"
            else:
                rendered = REPORT_TYPES[report.report_type].render(self.world, report.request)
                report.rows = rendered.row_count
                if rendered.row_count == 0:
                    report.outcome = "CANCELLED"  # Amazon cancels reports with no data in the window
                else:
                    charset = rendered.charset or MARKETPLACES[report.request.marketplace_id].flat_file_charset
                    raw = rendered.encode(charset)
                    utf8 = raw if charset == "UTF-8" else raw.decode(PYTHON_CODEC[charset]).encode("utf-8")
                    report.document_id = self._store_document(report, raw, charset, rendered.row_count, utf8)
                    report.outcome = "DONE"
        if self.on_finished is not None:
            self.on_finished(report)

    def _store_document(self, report: Report, raw: bytes, charset: str, rows: int, utf8: bytes) -> str:
        compressed = REPORT_TYPES[report.report_type].compressed
        document_id = f"amzn1.spdoc.1.4.na.{hashlib.sha256(report.report_id.encode()).hexdigest()[:32]}"
        self.documents[document_id] = Document(
            document_id,
            gzip.compress(raw, compresslevel=6, mtime=0) if compressed else raw,
            "GZIP" if compressed else None,
            charset,
            rows,
            hashlib.sha256(utf8).hexdigest(),
        )
        return document_id

    def as_json(self, report: Report) -> dict[str, object]:
        status = report.status(time.time())
        body: dict[str, object] = {
            "reportId": report.report_id,
            "reportType": report.report_type,
            "marketplaceIds": [report.request.marketplace_id],
            "dataStartTime": iso(report.request.data_start_time),
            "dataEndTime": iso(report.request.data_end_time),
            "createdTime": iso(report.created_at),
            "processingStatus": status,
        }
        if status != "IN_QUEUE" and not report.cancelled:
            body["processingStartTime"] = iso(report.started_at)
        if status in TERMINAL and not report.cancelled:
            body["processingEndTime"] = iso(report.ready_at)
        if status in ("DONE", "FATAL") and report.document_id:
            body["reportDocumentId"] = report.document_id
        return body

    def search(self, account_id: str, query: dict[str, list[str]]) -> tuple[list[Report], str | None]:
        """getReports: filters and pagination as SP-API defines them (nextToken must come alone)."""
        if "nextToken" in query:
            if len(query) > 1:
                raise ReportListError("nextToken must be the only parameter when it is given")
            try:
                state = json.loads(base64.urlsafe_b64decode(query["nextToken"][0]))
            except ValueError as err:
                raise ReportListError("nextToken is invalid") from err
            query, offset = state["query"], state["offset"]
        else:
            offset = 0
            if "reportTypes" not in query and "nextToken" not in query:
                raise ReportListError("either reportTypes or nextToken is required")
        matches = self._matching(account_id, query)
        page_size = int(query.get("pageSize", ["10"])[0])
        if not 1 <= page_size <= 100:
            raise ReportListError("pageSize must be between 1 and 100")
        page = matches[offset : offset + page_size]
        token = None
        if offset + page_size < len(matches):
            state = {"query": query, "offset": offset + page_size}
            token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        return page, token

    def _matching(self, account_id: str, query: dict[str, list[str]]) -> list[Report]:
        def csv(name: str) -> set[str] | None:
            values = query.get(name)
            return {v for value in values for v in value.split(",") if v} if values else None

        types, statuses, markets = csv("reportTypes"), csv("processingStatuses"), csv("marketplaceIds")
        now = time.time()
        since = _epoch(query["createdSince"][0]) if "createdSince" in query else now - 90 * 86400
        until = _epoch(query["createdUntil"][0]) if "createdUntil" in query else now
        selected = [
            r
            for r in (self.get(rid) for rid in list(self.reports))
            if r is not None
            and r.request.account_id == account_id
            and since <= r.created_at <= until
            and (types is None or r.report_type in types)
            and (statuses is None or r.status(now) in statuses)
            and (markets is None or r.request.marketplace_id in markets)
        ]
        return sorted(selected, key=lambda r: r.created_at, reverse=True)


def _epoch(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as err:
        raise ReportListError(f"{value!r} is not an ISO 8601 date-time") from err
