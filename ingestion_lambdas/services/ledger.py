"""The report ledger (DynamoDB): one item per requested report window, from request to a terminal state.

Key: the natural request (account, marketplace, report type, data window), so requesting the same window twice finds
the first request. A GSI on report_id lets a notification, which names only the report, find its entry.
States: REQUESTED → LANDED | NO_DATA (CANCELLED: no data in the window) | FATAL (retried after a cooldown) → FAILED.
A REQUESTED entry also counts the failed downloads of its report's document: after a bound, landing records FAILED.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ingestion_lambdas.events import ReportWindow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ingestion_lambdas.events import ReportJob

Status = Literal["REQUESTED", "LANDED", "NO_DATA", "FATAL", "FAILED"]
# Ledger states after which the pipeline does nothing more with a request (FATAL is requested again by reconcile).
SETTLED_STATUSES: frozenset[str] = frozenset({"LANDED", "NO_DATA", "FAILED"})
REPORT_ID_INDEX = "report_id-index"


class LedgerEntry(ReportWindow):
    """One item of the report ledger: a requested window and where it is on its way to a settled state."""

    request_key: str
    status: Status = "REQUESTED"
    attempts: int = 1
    download_failures: int = 0  # truncated or undecodable downloads of this report's document
    requested_at: float
    updated_at: float
    raw_key: str | None = None
    rows: int | None = None
    sha256: str | None = None
    error: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in SETTLED_STATUSES


def request_key(job: ReportJob) -> str:
    """The natural id of a request: the same window of the same report for the same account and marketplace."""
    window = "|".join(t.isoformat() if t else "-" for t in (job.data_start_time, job.data_end_time))
    options = ",".join(f"{k}={v}" for k, v in sorted(job.report_options.items()))
    return f"{job.account_id}|{job.marketplace_id}|{job.report_type}|{window}|{options}"


def _from_item(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry.model_validate({k: float(v) if isinstance(v, Decimal) else v for k, v in item.items()})


def _to_item(entry: LedgerEntry) -> dict[str, Any]:
    """DynamoDB takes numbers as Decimal, never float."""
    return dict(json.loads(entry.model_dump_json(exclude_none=True), parse_float=Decimal))


class Ledger:
    def __init__(self, dynamodb_resource: Any, table: str, clock: Any = time.time) -> None:
        self.table = dynamodb_resource.Table(table)
        self._clock = clock

    def get(self, key: str) -> LedgerEntry | None:
        item = self.table.get_item(Key={"request_key": key}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def by_report_id(self, report_id: str) -> LedgerEntry | None:
        items = self.table.query(IndexName=REPORT_ID_INDEX, KeyConditionExpression=Key("report_id").eq(report_id))
        return _from_item(items["Items"][0]) if items["Items"] else None

    def record_request(self, job: ReportJob, report_id: str, attempts: int = 1) -> LedgerEntry:
        now = self._clock()
        window = job.model_dump(include=set(ReportWindow.model_fields)) | {"report_id": report_id}
        entry = LedgerEntry(**window, request_key=request_key(job), attempts=attempts, requested_at=now, updated_at=now)
        self.table.put_item(Item=_to_item(entry))
        return entry

    def settle(self, entry: LedgerEntry, status: Status, **fields: object) -> LedgerEntry:
        """Move an entry to a new state. Only the report the entry currently tracks may settle it."""
        updated = entry.model_copy(update={"status": status, "updated_at": self._clock(), **fields})
        self.table.put_item(
            Item=_to_item(updated),
            ConditionExpression=Attr("report_id").eq(entry.report_id),
        )
        return updated

    def record_download_failure(self, entry: LedgerEntry, error: str) -> LedgerEntry | None:
        """Count one failed download of the entry's report document, atomically (two landings of one report may
        overlap), and keep its error.

        Returns:
            The entry as stored after the count; None if it no longer tracks this report as REQUESTED (another
            landing settled it, or reconcile requested it again), and nothing was counted.
        """
        values = {":one": 1, ":error": error, ":now": Decimal(str(self._clock())), ":report_id": entry.report_id,
                  ":requested": "REQUESTED"}  # fmt: skip
        try:
            updated = self.table.update_item(
                Key={"request_key": entry.request_key},
                UpdateExpression="ADD download_failures :one SET #error = :error, updated_at = :now",
                ConditionExpression="report_id = :report_id AND #status = :requested",
                ExpressionAttributeNames={"#error": "error", "#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None
        return _from_item(updated["Attributes"])

    def entries(self) -> Iterator[LedgerEntry]:
        kwargs: dict[str, Any] = {"ConsistentRead": True}
        while True:
            page = self.table.scan(**kwargs)
            yield from (_from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def summary(self) -> dict[str, int]:
        """requested (every entry), landed, no_data, failed, and pending (not yet in a terminal state)."""
        counts = {"requested": 0, "landed": 0, "no_data": 0, "failed": 0, "pending": 0}
        for entry in self.entries():
            counts["requested"] += 1
            counts[entry.status.lower() if entry.terminal else "pending"] += 1
        return counts
