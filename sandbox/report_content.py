"""What a rendered report is, and how Amazon writes its cells: flat-file times, ISO times, money, charsets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sandbox.marketplaces import MARKETPLACES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from decimal import Decimal

# Flat-file timestamps are local to the marketplace and carry the zone abbreviation, e.g. "2023-05-14 08:12:33 PDT".
REPORT_TIMEZONE = {"NA": "America/Los_Angeles", "EU": "Europe/Berlin", "FE": "Asia/Tokyo"}
# Java charset names used by Amazon's Content-Type → Python codec names.
PYTHON_CODEC = {"Cp1252": "cp1252", "windows-31j": "cp932", "UTF-8": "utf-8"}


@dataclass(frozen=True)
class ReportRequest:
    account_id: str
    marketplace_id: str
    data_start_time: datetime
    data_end_time: datetime
    options: dict[str, str]
    as_of: datetime | None = None  # when Amazon processes the request: facts as of then (None: the world's now)

    @property
    def window_end(self) -> datetime:
        """dataEndTime as an exclusive bound. Amazon's inclusive form, the last instant of a day
        (2026-03-03T23:59:59.999Z, or 23:59:59Z), means up to the following midnight; an exclusive midnight (and any
        other instant) stays as it is."""
        end = self.data_end_time.astimezone(UTC)
        if end.time() >= time(23, 59, 59):
            return datetime.combine(end.date() + timedelta(days=1), time(), UTC)
        return end


@dataclass(frozen=True)
class RenderedReport:
    """A report's content: tab-separated (header + rows) or a JSON document with its row count at the grain."""

    header: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    json_body: dict[str, Any] | None = None
    json_rows: int = 0

    @property
    def row_count(self) -> int:
        return self.json_rows if self.json_body is not None else len(self.rows)

    @property
    def charset(self) -> str | None:
        """JSON documents are UTF-8; flat files use the marketplace's charset (None here)."""
        return "UTF-8" if self.json_body is not None else None

    def encode(self, charset: str) -> bytes:
        if self.json_body is not None:
            return json.dumps(self.json_body, separators=(",", ":")).encode("utf-8")
        return encode_flat_file(self, charset)

    def column(self, name: str) -> list[str]:
        """One column of a flat file, for tests and ground truth."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]


def encode_flat_file(report: RenderedReport, charset: str) -> bytes:
    """Tab-separated, header first, one line per row, newline-terminated, in the marketplace's charset."""
    lines: Iterator[str] = ("\t".join(row) for row in (report.header, *report.rows))
    return ("\n".join(lines) + "\n").encode(PYTHON_CODEC.get(charset, charset))


def local_time(value: datetime, marketplace_id: str) -> datetime:
    return value.astimezone(ZoneInfo(REPORT_TIMEZONE[MARKETPLACES[marketplace_id].region]))


def amazon_flat_file_time(value: datetime, marketplace_id: str) -> str:
    """Listings and settlement style: "2023-05-14 08:12:33 PDT"."""
    local = local_time(value, marketplace_id)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "UTC")


def iso_time(value: datetime, marketplace_id: str | None = None) -> str:
    """Order and shipment style: ISO 8601 with the offset, "2024-01-05T12:34:56+00:00" (local when a marketplace)."""
    moment = local_time(value, marketplace_id) if marketplace_id else value
    return moment.isoformat(timespec="seconds")


def iso(value: datetime | float) -> str:
    """SP-API's JSON timestamps: UTC with milliseconds, "2024-07-17T11:43:27.250Z" (from a datetime or epoch)."""
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, float) else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def money(value: Decimal) -> str:
    """Amounts as Amazon's flat files write them: two decimals, yen included."""
    return f"{value:.2f}"


# How a marketplace's settlement reports write dates and amounts: (date pattern, decimal comma). Day-first dotted dates
# and "1.234,56" amounts in Germany, year-first slashed dates in Japan, ISO dates and "1234.56" elsewhere; times are
# UTC. The curation job reads the same (glue_jobs/curate_reports/transforms.py MARKETPLACE_STYLES, with the sources).
SETTLEMENT_STYLE = {"DE": ("%d.%m.%Y", True), "JP": ("%Y/%m/%d", False)}
ISO_SETTLEMENT_STYLE = ("%Y-%m-%d", False)


def _settlement_style(marketplace_id: str) -> tuple[str, bool]:
    return SETTLEMENT_STYLE.get(MARKETPLACES[marketplace_id].country_code, ISO_SETTLEMENT_STYLE)


def settlement_time(value: datetime, marketplace_id: str) -> str:
    """Settlement style: UTC, the date in the marketplace's order: "17.07.2024 11:43:27 UTC" in Germany."""
    return value.astimezone(UTC).strftime(f"{_settlement_style(marketplace_id)[0]} %H:%M:%S UTC")


def settlement_date(value: datetime, marketplace_id: str) -> str:
    """A settlement's posted-date: the UTC day in the marketplace's order ("17.07.2024" in Germany)."""
    return value.astimezone(UTC).strftime(_settlement_style(marketplace_id)[0])


def settlement_money(value: Decimal, marketplace_id: str) -> str:
    """A settlement amount: two decimals, "1.234,56" (grouped thousands) where the marketplace has a decimal comma."""
    if not _settlement_style(marketplace_id)[1]:
        return money(value)
    return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))
