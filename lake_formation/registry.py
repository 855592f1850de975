"""The schema registry: one YAML per dataset in `schemas/`, loaded into typed models. Nothing else declares a column."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

SCHEMA_DIR = Path(__file__).parent / "schemas"
TYPE_PATTERN = re.compile(r"^(string|int|bigint|double|boolean|date|timestamp|decimal\(\d+,\d+\))$")
# Values a column can take from the raw object's manifest rather than from the document's own columns.
Origin = Literal["report_id", "ingested_at", "marketplace_id", "data_date"]


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


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["report", "api"]
    report_type: str | None = None  # for api sources: the raw-zone dataset name (catalog_items, listings_items)
    format: Literal["tsv", "json", "jsonl"]
    # json: the array of the document that holds one record per row; columns' sources are paths inside a record
    # (e.g. salesByAsin.orderedProductSales.amount). jsonl: one record per line.
    record_path: str | None = None
    account_kind: Literal["seller", "vendor"] = "seller"  # which selling-partner accounts can request it


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
        missing = [n for n in self.partitions + self.dedupe_key if n not in names]
        if missing:
            raise ValueError(f"{self.table}: partitions/dedupe_key name unknown columns {missing}")
        return self

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
    datasets = {}
    for path in sorted(SCHEMA_DIR.glob("*.yaml")):
        dataset = Dataset.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if dataset.table != path.stem:
            raise ValueError(f"{path.name}: table {dataset.table!r} must match the file name")
        datasets[dataset.table] = dataset
    return datasets


def dataset(table: str) -> Dataset:
    try:
        return load_all()[table]
    except KeyError as err:
        raise KeyError(f"no dataset {table!r} in the schema registry ({sorted(load_all())})") from err
