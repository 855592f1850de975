"""The schema registry: one YAML per dataset in `schemas/`, loaded into typed models. Nothing else declares a column,
a report type's request rules, or which raw-zone name a dataset reads."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from lake_formation.errors import RegistryError, UnknownDatasetError

TYPE_PATTERN = re.compile(r"^(string|int|bigint|double|boolean|date|timestamp|decimal\(\d+,\d+\))$")
# Values a column can take from the raw object's manifest rather than from the document's own columns.
# object_id is the raw object's natural id: the reportId for a report, the batch id for an API batch.
Origin = Literal["object_id", "ingested_at", "marketplace_id", "data_date"]
TargetKind = Literal["SKU", "ASIN"]


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str
    description: str
    nullable: bool = True
    pii: bool = False
    source: str | None = None  # the raw report's column header
    origin: Origin | None = None
    format: str | None = None  # parsing rule for the raw text (e.g. amazon_local_datetime, y_n)

    @model_validator(mode="after")
    def _check(self) -> Column:
        if not TYPE_PATTERN.match(self.type):
            raise ValueError(f"column {self.name}: unsupported type {self.type!r}")
        if (self.source is None) == (self.origin is None):
            raise ValueError(f"column {self.name}: exactly one of source or origin is required")
        return self


class ReportRequest(BaseModel):
    """How a report type is requested: its window, how long Amazon restates it, its reportOptions. The report plan
    (cloudformation/report-plan.json, Parameter Store) is rendered from these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: int = 1  # day-aligned UTC windows of this many days
    restatement_days: int = 0  # windows ending this recently are requested again (Amazon restates them)
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


class Dataset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    description: str
    source: Source
    partitions: list[str]
    dedupe_key: list[str]
    columns: list[Column]

    @model_validator(mode="after")
    def _check(self) -> Dataset:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.table}: duplicate column names")
        missing = [n for n in self.partitions + self.dedupe_key + list(self.source.targets.values()) if n not in names]
        if missing:
            raise ValueError(f"{self.table}: partitions/dedupe_key/targets name unknown columns {missing}")
        return self

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
