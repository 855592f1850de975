"""Reports API 2021-06-30: createReport, getReport, getReportDocument."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

CREATE_REPORT = Operation("createReport", Quota(0.0167, 15))
GET_REPORT = Operation("getReport", Quota(2.0, 15))
GET_REPORT_DOCUMENT = Operation("getReportDocument", Quota(0.0167, 15))

ProcessingStatus = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL"]
TERMINAL_STATUSES = frozenset({"DONE", "CANCELLED", "FATAL"})


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)


class Report(_Model):
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


class ReportDocument(_Model):
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

    def get_report_document(self, report_document_id: str) -> ReportDocument:
        payload = self.transport.call(GET_REPORT_DOCUMENT, "GET", f"/reports/2021-06-30/documents/{report_document_id}")
        return ReportDocument.model_validate(payload)
