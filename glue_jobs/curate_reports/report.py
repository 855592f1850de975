"""The run report: what one curation run did, written beside the data as s3://<curated>/_runs/<table>/<run id>.json.

Every run accounts for its rows: rows_read = curated + quarantined + deduplicated (ARCHITECTURE.md, "Validated and
curated zones").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

RunStatus = Literal["NO_NEW_DATA", "SUCCEEDED", "VALIDATION_FAILED"]


class ValidationSummary(BaseModel):
    """The great-expectations suite's verdict on the rows about to be published."""

    model_config = ConfigDict(frozen=True)

    success: bool
    evaluated: int  # expectations run
    failed: list[str] = []  # "expect_...(column): N unexpected"


class RunReport(BaseModel):
    """One curation run of one dataset.

    Example:
        >>> report = RunReport.model_validate_json(s3_object_body)
        >>> report.rows_read == report.curated + report.quarantined + report.deduplicated
        True
    """

    model_config = ConfigDict(frozen=True)

    dataset: str
    run_id: str
    raw_objects: int  # raw objects this run curated (landed, not curated before)
    rows_read: int = 0
    curated: int = 0  # rows of this run in the curated zone after the merge
    quarantined: int = 0
    deduplicated: int = 0  # rows of this run replaced by a later ingestion of the same key (or a duplicate in it)
    partitions: int = 0  # curated partitions rewritten
    missing_columns: list[str] = []  # declared columns the raw objects lack (null in the curated rows)
    extra_columns: list[str] = []  # raw columns the registry does not declare (reported, not curated)
    quarantine_reasons: dict[str, int] = {}  # broken rule → rows
    status: RunStatus
    validation: ValidationSummary | None = None  # None when nothing was validated (NO_NEW_DATA)

    @property
    def rows_accounted(self) -> bool:
        """Every row read is curated, quarantined or deduplicated away, and no row was made up."""
        return self.deduplicated >= 0 and self.rows_read == self.curated + self.quarantined + self.deduplicated
