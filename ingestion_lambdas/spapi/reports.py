"""Reports API 2021-06-30: createReport, getReport, getReports, cancelReport, getReportDocument."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ingestion_lambdas.spapi.models import ApiModel
from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

if TYPE_CHECKING:
    from collections.abc import Iterator

CREATE_REPORT = Operation("createReport", Quota(0.0167, 15))
GET_REPORT = Operation("getReport", Quota(2.0, 15))
GET_REPORT_DOCUMENT = Operation("getReportDocument", Quota(0.0167, 15))
GET_REPORTS = Operation("getReports", Quota(0.0222, 10))
CANCEL_REPORT = Operation("cancelReport", Quota(0.0222, 10))
MAX_PAGE_SIZE = 100

ProcessingStatus = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL"]
# processingStatus values after which SP-API does nothing more with a report (it can be landed or settled).
FINISHED_PROCESSING_STATUSES = frozenset({"DONE", "CANCELLED", "FATAL"})


class Report(ApiModel):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    created_time: datetime = Field(alias="createdTime")
    marketplace_ids: list[str] = Field(default_factory=list, alias="marketplaceIds")
    data_start_time: datetime | None = Field(default=None, alias="dataStartTime")
    data_end_time: datetime | None = Field(default=None, alias="dataEndTime")
    processing_start_time: datetime | None = Field(default=None, alias="processingStartTime")
    processing_end_time: datetime | None = Field(default=None, alias="processingEndTime")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")


class ReportDocument(ApiModel):
    report_document_id: str = Field(alias="reportDocumentId")
    url: str = Field(repr=False)  # pre-signed: never printed
    compression_algorithm: Literal["GZIP"] | None = Field(default=None, alias="compressionAlgorithm")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class ReportsApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create_report(
        self,
        report_type: str,
        marketplace_ids: list[str],
        start: datetime | None = None,
        end: datetime | None = None,
        options: dict[str, str] | None = None,
    ) -> str:
        """Request a report; returns its reportId."""
        body: dict[str, object] = {"reportType": report_type, "marketplaceIds": marketplace_ids}
        if start is not None:
            body["dataStartTime"] = _iso(start)
        if end is not None:
            body["dataEndTime"] = _iso(end)
        if options:
            body["reportOptions"] = options
        return str(self.transport.call(CREATE_REPORT, "POST", "/reports/2021-06-30/reports", json=body)["reportId"])

    def get_report(self, report_id: str) -> Report:
        return Report.model_validate(self.transport.call(GET_REPORT, "GET", f"/reports/2021-06-30/reports/{report_id}"))

    def list_reports(
        self,
        report_types: list[str],
        processing_statuses: list[str] | None = None,
        marketplace_ids: list[str] | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Report]:
        """getReports, following nextToken (which SP-API wants alone on the next call), newest first."""
        params: dict[str, object] = {"reportTypes": ",".join(report_types), "pageSize": page_size}
        if processing_statuses:
            params["processingStatuses"] = ",".join(processing_statuses)
        if marketplace_ids:
            params["marketplaceIds"] = ",".join(marketplace_ids)
        if created_since is not None:
            params["createdSince"] = _iso(created_since)
        if created_until is not None:
            params["createdUntil"] = _iso(created_until)
        while True:
            page = self.transport.call(GET_REPORTS, "GET", "/reports/2021-06-30/reports", params=params)
            yield from (Report.model_validate(item) for item in page.get("reports", []))
            if not page.get("nextToken"):
                return
            params = {"nextToken": page["nextToken"]}

    def cancel_report(self, report_id: str) -> None:
        """Cancel a report that is still IN_QUEUE (SP-API refuses the others with a 400)."""
        self.transport.call(CANCEL_REPORT, "DELETE", f"/reports/2021-06-30/reports/{report_id}")

    def get_report_document(self, report_document_id: str) -> ReportDocument:
        payload = self.transport.call(GET_REPORT_DOCUMENT, "GET", f"/reports/2021-06-30/documents/{report_document_id}")
        return ReportDocument.model_validate(payload)
