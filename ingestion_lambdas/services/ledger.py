"""The report ledger (DynamoDB): one item per requested report window, from request to a terminal state.

Key: the natural request (account, marketplace, report type, data window), so requesting the same window twice finds
the first request. A GSI on report_id lets a notification, which names only the report, find its entry.
States: REQUESTED → LANDED | NO_DATA (CANCELLED: no data in the window) | FATAL (retried after a cooldown) → FAILED.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ingestion_lambdas.events import ReportJob

Status = Literal["REQUESTED", "LANDED", "NO_DATA", "FATAL", "FAILED"]
# Ledger states after which the pipeline does nothing more with a request (FATAL is requested again by reconcile).
SETTLED_STATUSES: frozenset[str] = frozenset({"LANDED", "NO_DATA", "FAILED"})
REPORT_ID_INDEX = "report_id-index"


class LedgerEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    request_key: str
    account_id: str
    marketplace_id: str
    report_type: str
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None
    report_options: dict[str, str] = {}
    report_id: str | None = None
    status: Status = "REQUESTED"
    attempts: int = 1
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
        entry = LedgerEntry(
            request_key=request_key(job),
            account_id=job.account_id,
            marketplace_id=job.marketplace_id,
            report_type=job.report_type,
            data_start_time=job.data_start_time,
            data_end_time=job.data_end_time,
            report_options=job.report_options,
            report_id=report_id,
            attempts=attempts,
            requested_at=now,
            updated_at=now,
        )
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
