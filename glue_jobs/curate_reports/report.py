"""The run report: what one curation run did, written beside the data as s3://<curated>/_runs/<table>/<run id>.json.

Every run accounts for its rows: rows_read = curated + quarantined + deduplicated (ARCHITECTURE.md, "Validated and
curated zones").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from glue_jobs.errors import UnreadableKind
else:  # pydantic resolves the field's type at runtime
    from glue_jobs.errors import UnreadableKind  # noqa: TC001

RunStatus = Literal["NO_NEW_DATA", "SUCCEEDED", "VALIDATION_FAILED"]


class BatchRows(BaseModel):
    """One marketplace's rows in a validated batch and the curation days they span: the next run's row-count
    baseline is their rows per day."""

    model_config = ConfigDict(frozen=True)

    rows: int
    days: int


class ValidationSummary(BaseModel):
    """The great-expectations suite's verdict on the rows about to be published, and what the next run's suite
    compares with."""

    model_config = ConfigDict(frozen=True)

    success: bool
    evaluated: int  # expectations run
    # One per failed expectation, "expect_...(column): reason", e.g. "expect_column_values_to_be_in_set(order_status):
    # 2 unexpected, e.g. ['Shiped']" or "expect_table_row_count_to_be_between(marketplace_id=ATVPDKIKX0DER): observed
    # 12, expected between 30 and 120 (50% to 200% of the previous run's 20.0 rows per day, over 3 days)".
    failed: list[str] = []
    batch: dict[str, BatchRows] = {}  # marketplace_id → the rows the suite ran on (empty in reports before it existed)
    # The newest curation day in the curated table once the run is done: this batch's newest if it was published, or
    # the previous run's value (None: the table holds nothing yet, or the run predates the field).
    newest_day: date | None = None


class UnreadableObject(BaseModel):
    """A raw object the run could not read at all: not curated, not marked, so it stays pending for a re-landing."""

    model_config = ConfigDict(frozen=True)

    object: str  # the raw object's key (spapi/<raw name>/.../<object id>.<ext>)
    object_id: str
    kind: UnreadableKind  # what was wrong, for alerting and counting (glue_jobs.errors.UnreadableKind)
    reason: str  # one line for a person


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
    raw_objects: int  # raw objects this run curated (landed, not curated before, readable)
    rows_read: int = 0
    curated: int = 0  # rows of this run in the curated zone after the merge
    quarantined: int = 0
    deduplicated: int = 0  # rows of this run replaced by a later ingestion of the same key (or a duplicate in it)
    partitions: int = 0  # curated partitions rewritten
    # Which they are (name → value as text), emptied ones included: what the warehouse loader copies again.
    partition_values: list[dict[str, str]] = []
    replaced: int = 0  # curated rows of earlier runs that a re-landed window replaced (Amazon restated or dropped them)
    missing_columns: list[str] = []  # declared columns the raw objects lack (null in the curated rows)
    extra_columns: list[str] = []  # raw columns the registry does not declare (reported, not curated)
    quarantine_reasons: dict[str, int] = {}  # broken rule → rows
    status: RunStatus
    validation: ValidationSummary | None = None  # None when nothing was validated (NO_NEW_DATA)
    # Pending objects that could not be read at all (HTML error page, still gzipped, empty, JSON cut short, ...): the
    # run curates the others and leaves these pending. Written only when there are some, so a report of a run without
    # any reads the same as before the field existed.
    unreadable_objects: list[UnreadableObject] = []

    @model_serializer(mode="wrap")
    def _omit_when_none_unreadable(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.unreadable_objects:
            data.pop("unreadable_objects", None)
        return data

    @property
    def rows_accounted(self) -> bool:
        """Every row read is curated, quarantined or deduplicated away, and no row was made up."""
        return self.deduplicated >= 0 and self.rows_read == self.curated + self.quarantined + self.deduplicated


def report_key(table: str, run_id: str) -> str:
    """Where a run's report is in the curated bucket."""
    return f"_runs/{table}/{run_id}.json"


def report_keys(s3: Any, bucket: str, table: str) -> list[tuple[datetime, str]]:
    """Every run report of a table (last modified, key), oldest first; the suites' results beside them left out."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"_runs/{table}/"):
        keys += [(item["LastModified"], item["Key"]) for item in page.get("Contents", [])
                 if item["Key"].endswith(".json") and not item["Key"].endswith(".validation.json")]  # fmt: skip
    return sorted(keys)
