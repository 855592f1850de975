"""State-machine input/output models: the contract between the states of the report workflow."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ReportJob(BaseModel):
    """One report for one account and marketplace, as it moves through create → poll → land."""

    model_config = ConfigDict(extra="ignore")

    account_id: str
    report_type: str
    marketplace_id: str
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None
    report_options: dict[str, str] = {}
    poll_seconds: int = 60
    report_id: str | None = None
    processing_status: str | None = None
    report_document_id: str | None = None
    attempts: int = 1  # how many times this window has been requested (FATAL reports are requested again)

    def dump(self) -> dict[str, object]:
        return self.model_dump(mode="json")
