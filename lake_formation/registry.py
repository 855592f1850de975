"""The schema registry: one YAML per dataset in `schemas/`, loaded into typed models. Nothing else declares a column,
a report type's request rules, or which raw-zone name a dataset reads."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, NonNegativeInt, ValidationError, model_validator

from lake_formation.errors import RegistryError, UnknownDatasetError

TYPE_PATTERN = re.compile(r"^(string|int|bigint|double|boolean|date|timestamp|decimal\(\d+,\d+\))$")
# Values a column can take from the raw object's manifest rather than from the document's own columns.
# object_id is the raw object's natural id: the reportId for a report, the batch id for an API batch.
Origin = Literal["object_id", "ingested_at", "marketplace_id", "data_date"]
TargetKind = Literal["SKU", "ASIN"]
# The business area a dataset belongs to: its Lake Formation `domain` tag (lake_formation/governance.py).
Domain = Literal["orders", "inventory", "traffic", "finance", "catalog", "brand_analytics", "vendor"]
# The currency Amazon reports amounts in, per marketplace (developer-docs.amazon.com/sp-api/docs/marketplace-ids): a
# column declared `currency: marketplace` holds its row's marketplace's currency.
MARKETPLACE_CURRENCIES = {
    "A2EUQ1WTGCTBG2": "CAD", "ATVPDKIKX0DER": "USD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
    "A28R8C7NBKEWEA": "EUR", "A1RKKUPIHCS9HS": "EUR", "A1F83G8C2ARO7P": "GBP", "A13V1IB3VIYZZH": "EUR",
    "AMEN7PMS3EDWL": "EUR", "A1805IZSGTT6HS": "EUR", "A1PA6795UKMFR9": "EUR", "APJ6JRA9NG5V4": "EUR",
    "A2NODRKZP88ZB9": "SEK", "AE08WJ6YKNBMC": "ZAR", "A1C3SOZRARQ6R3": "PLN", "ARBP9OOSHTCHU": "EGP",
    "A33AVAJ2PDY3EV": "TRY", "A17E79C6D8DWNP": "SAR", "A2VIGQ35RCS4UG": "AED", "A21TJRUUN4KGV": "INR",
    "A19VAU5U5O7RUS": "SGD", "A39IBJ37TRP1C6": "AUD", "A1VC38T7YXB528": "JPY",
}  # fmt: skip
NUMERIC_TYPE = re.compile(r"^(int|bigint|double|decimal\(\d+,\d+\))$")


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str
    description: str
    nullable: bool = True
    pii: bool = False
    source: str | None = None  # the raw report's column header
    origin: Origin | None = None
    day_of: str | None = None  # a date column: the UTC day of another (timestamp) column, e.g. purchase_day
    month_of: str | None = None  # a string column: the month (yyyy-MM) of a date column, e.g. purchase_month
    format: str | None = None  # parsing rule for the raw text (e.g. amazon_local_datetime, y_n)
    # What Amazon's values can be, checked by the curated batch's suite (nulls are never counted against them).
    min: int | float | None = None  # numeric: values are at least this (amounts that can be negative declare none)
    max: int | float | None = None  # numeric: values are at most this (e.g. 100 for a percentage, 1 for a share)
    accepted_values: list[str] | None = None  # string: the closed set Amazon sends (statuses, enums)
    currency: Literal["marketplace"] | None = None  # string: an ISO currency code, the row's marketplace's

    @model_validator(mode="after")
    def _check(self) -> Column:
        if not TYPE_PATTERN.match(self.type):
            raise ValueError(f"column {self.name}: unsupported type {self.type!r}")
        if [self.source, self.origin, self.day_of, self.month_of].count(None) != 3:
            raise ValueError(f"column {self.name}: exactly one of source, origin, day_of or month_of is required")
        if (self.day_of is not None and self.type != "date") or (self.month_of is not None and self.type != "string"):
            raise ValueError(f"column {self.name}: a day_of column is a date, a month_of column a string")
        return self

    @model_validator(mode="after")
    def _check_expectations(self) -> Column:
        if (self.min is not None or self.max is not None) and not NUMERIC_TYPE.match(self.type):
            raise ValueError(f"column {self.name}: min/max apply to numeric columns, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"column {self.name}: min {self.min} is above max {self.max}")
        if (self.accepted_values is not None or self.currency is not None) and self.type != "string":
            raise ValueError(f"column {self.name}: accepted_values/currency apply to string columns")
        return self


class ReportRequest(BaseModel):
    """How a report type is requested: its window, how long Amazon restates it, its reportOptions. The report plan
    (cloudformation/report-plan.json, Parameter Store) is rendered from these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The calendar grid of the report's windows: UTC days, Sunday–Saturday weeks (Amazon's WEEK periods) or calendar
    # months. A window is the same window on every day it is planned; the current period is requested up to the
    # last complete day, so it grows by a day each day until it is whole.
    window: Literal["day", "week", "month"] = "week"
    complete_periods_only: bool = False  # reportPeriod WEEK/MONTH reports: Amazon takes whole periods only
    restatement_days: int = 0  # a window whose last day is this recent is requested again (Amazon restates it)
    snapshot: bool = False  # a point-in-time report (listings, inventory): one request per day, no window
    report_options: dict[str, str] = {}


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["report", "api"]
    report_type: str | None = None  # kind report: the SP-API report type
    api: str | None = None  # kind api: the name the API's batches land under (catalog_items, listings_items)
    format: Literal["tsv", "json", "jsonl"]
    # json: the array of the document that holds one record per row; columns' sources are paths inside a record
    # (e.g. salesByAsin.orderedProductSales.amount). jsonl: one record per line.
    record_path: str | None = None
    account_kind: Literal["seller", "vendor"] = "seller"  # which selling-partner accounts can request it
    # How the report is requested. Declared on one dataset per report type (a report read at two grains declares it
    # once); absent for reports Amazon generates on its own (generated_by_amazon) and for API sources.
    request: ReportRequest | None = None
    generated_by_amazon: bool = False  # e.g. settlements: found with getReports, never requested
    targets: dict[TargetKind, str] = {}  # curated column → catalog/listings target (SKU, ASIN) when a report lands

    @model_validator(mode="after")
    def _check(self) -> Source:
        if (self.kind == "report") != (self.report_type is not None) or (self.kind == "api") != (self.api is not None):
            raise ValueError("a report source names its report_type, an api source its api (and not the other)")
        if self.generated_by_amazon and self.request is not None:
            raise ValueError("a report Amazon generates on its own is never requested")
        return self

    @property
    def raw_name(self) -> str:
        """The name the source's objects land under in the raw zone (spapi/<raw_name>/...)."""
        return str(self.report_type or self.api)


class Curation(BaseModel):
    """How a landed object changes the curated table (ARCHITECTURE.md, "Keys and replacement").

    - window: the report is authoritative for its window; a re-landed window replaces the rows of every day it
      covers (rows Amazon no longer reports disappear), days it does not cover keep theirs;
    - change_feed: rows upsert by the dedupe key, the latest (by `latest_by`, then ingestion) winning;
    - snapshot: a point-in-time state kept per snapshot day; within a day, rows upsert by key.
    The partition beside the marketplace is the day, or its month for datasets with many small days (a month of a
    marketplace is one partition: Athena reads fewer, larger files, and a restated month rewrites one partition). A
    row's day never changes, so an upsert finds the row it replaces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    semantics: Literal["window", "change_feed", "snapshot"]
    day: str  # the date column whose value is the row's day (and partition)
    latest_by: list[str] = []  # columns ordering versions of a key before ingestion time (newest first)


class Dataset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    domain: Domain
    description: str
    source: Source
    curation: Curation
    partitions: list[str]
    dedupe_key: list[str]
    columns: list[Column]
    # The newest value of the curation day may be at most this many days before a run: a snapshot's day is the run's,
    # a window's newest day yesterday, a period's first day weeks back, vendor data 72 h late (None: not checked).
    freshness_days: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _check(self) -> Dataset:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.table}: duplicate column names")
        named = self.partitions + self.dedupe_key + list(self.source.targets.values())
        named += [self.curation.day, *self.curation.latest_by]
        named += [name for c in self.columns for name in (c.day_of, c.month_of) if name]
        missing = [n for n in named if n not in names]
        if missing:
            raise ValueError(f"{self.table}: partitions/dedupe_key/targets/curation name unknown columns {missing}")
        if self.partitions[:1] != ["marketplace_id"] or self.partitions[1:] not in ([self.curation.day],
                                                                                  [self.month_column]):  # fmt: skip
            raise ValueError(f"{self.table}: partitioned by marketplace_id, then the curation day or its month")
        if self.curation.semantics == "snapshot" and self.curation.day not in self.dedupe_key:
            raise ValueError(f"{self.table}: a snapshot's key holds its day (rows are kept per snapshot day)")
        if "window_date" in named:
            raise ValueError(f"{self.table}: keys never hold the request window")
        return self

    @property
    def month_column(self) -> str | None:
        """The column holding the month of the curation day, when the dataset is partitioned by month."""
        return next((c.name for c in self.columns if c.month_of == self.curation.day), None)

    def partition_of(self, marketplace_id: str, day: str) -> dict[str, str]:
        """The partition (name → value) that rows of a marketplace and day (yyyy-mm-dd) are in."""
        return {"marketplace_id": marketplace_id, self.partitions[1]: day[:7] if self.month_column else day}

    def column(self, name: str) -> Column:
        try:
            return next(c for c in self.columns if c.name == name)
        except StopIteration:
            raise UnknownDatasetError(f"{self.table} has no column {name!r}") from None

    @property
    def source_columns(self) -> list[Column]:
        return [c for c in self.columns if c.source is not None]

    @property
    def data_columns(self) -> list[Column]:
        """Columns stored in the Parquet files (everything but the partition keys)."""
        return [c for c in self.columns if c.name not in self.partitions]

    @property
    def partition_columns(self) -> list[Column]:
        by_name = {c.name: c for c in self.columns}
        return [by_name[name] for name in self.partitions]


@cache
def load_all() -> dict[str, Dataset]:
    """Every dataset, by table name. The YAML files are package data, read through importlib.resources so the
    registry loads the same from a source tree and from the zip Glue imports (--extra-py-files)."""
    datasets = {}
    schemas = resources.files("lake_formation").joinpath("schemas")
    for entry in sorted(schemas.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            dataset = Dataset.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
        except ValidationError as err:
            raise RegistryError(f"schemas/{entry.name}: {err}") from err
        if dataset.table != entry.name.removesuffix(".yaml"):
            raise RegistryError(f"schemas/{entry.name}: table {dataset.table!r} must match the file name")
        datasets[dataset.table] = dataset
    _check_requests(datasets)
    return datasets


def _check_requests(datasets: dict[str, Dataset]) -> None:
    """Each report type is requested once: exactly one of the datasets reading it declares its request, unless
    Amazon generates it; datasets reading one report agree on whether Amazon generates it."""
    by_type: dict[str, list[Source]] = {}
    for item in datasets.values():
        if item.source.report_type is not None:
            by_type.setdefault(item.source.report_type, []).append(item.source)
    for report_type, sources in by_type.items():
        generated = {s.generated_by_amazon for s in sources}
        requests = [s.request for s in sources if s.request is not None]
        if len(generated) != 1 or (generated == {False} and len(requests) != 1):
            raise RegistryError(f"{report_type}: declare its request on exactly one dataset, or generated_by_amazon")


def dataset(table: str) -> Dataset:
    try:
        return load_all()[table]
    except KeyError:
        raise UnknownDatasetError(f"no dataset {table!r} in the schema registry ({sorted(load_all())})") from None


def reading(raw_name: str) -> list[Dataset]:
    """The datasets curated from the raw objects landed under `raw_name` (a report type, or an API's name)."""
    return [d for d in load_all().values() if d.source.raw_name == raw_name]


def requested_reports() -> list[tuple[Source, ReportRequest]]:
    """Every report type the pipeline requests, with its request rules (one per report type)."""
    return [(d.source, d.source.request) for d in load_all().values() if d.source.request is not None]


def generated_report_types() -> list[str]:
    """Report types Amazon generates on its own (reconcile finds them with getReports)."""
    return sorted({str(d.source.report_type) for d in load_all().values() if d.source.generated_by_amazon})
