"""Pure DataFrame → DataFrame transforms: parse a flat-file report by its header, type it, split off bad rows.

No reads, no writes, no session configuration here: tests build small DataFrames and call these directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

from glue_jobs.common.spark_types import spark_type
from glue_jobs.errors import MissingLineageError, UnsupportedTypeError

if TYPE_CHECKING:
    from lake_formation.registry import Column, Dataset

INTEGER_PATTERN = r"^[+-]?[0-9]+$"
DECIMAL_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
# Java reads "BST" as Bangladesh Standard Time; in Amazon's UK reports it is British Summer Time (UTC+1).
AMBIGUOUS_ZONES = {" BST$": " GMT+01:00"}
# Input columns every raw line carries, taken from the raw object's manifest entry (object_id: the reportId of a report,
# the hash of an API batch; columns of origin object_id take it).
LINE_COLUMNS = ("value", "object_id", "source_key", "marketplace_id", "data_date", "ingested_at")


@dataclass(frozen=True)
class ParsedBatch:
    valid: DataFrame
    quarantined: DataFrame
    missing_columns: list[str]
    extra_columns: list[str]


def _blank_to_null(raw: SparkColumn) -> SparkColumn:
    return F.when(F.trim(raw) == "", F.lit(None).cast("string")).otherwise(raw)


def _parse_timestamp(raw: SparkColumn, fmt: str | None) -> SparkColumn:
    """ISO 8601 with an offset (orders, shipments, JSON) unless the registry says the column is written the Amazon
    flat-file way, "2024-07-17 11:43:27 PDT". One parser per column: a failed parse is costly on millions of rows."""
    if fmt == "amazon_local_datetime":
        text = raw
        for pattern, replacement in AMBIGUOUS_ZONES.items():
            text = F.regexp_replace(text, pattern, replacement)
        return F.to_timestamp(text, "yyyy-MM-dd HH:mm:ss z")
    return F.to_timestamp(raw)  # Spark's ISO 8601 parser: offsets and fractional seconds


def typed_value(column: Column, raw: SparkColumn) -> tuple[SparkColumn, SparkColumn]:
    """(typed value, is-invalid flag) for one raw text cell; an empty cell is null and valid."""
    kind = column.type
    if kind == "string":
        return raw, F.lit(False)
    if kind in ("int", "bigint"):
        typed = F.when(raw.rlike(INTEGER_PATTERN), raw.cast(spark_type(kind)))
    elif kind.startswith("decimal"):
        typed = F.when(F.trim(raw).rlike(DECIMAL_PATTERN), F.trim(raw).cast(spark_type(kind)))
    elif kind == "double":
        typed = raw.cast("double")
    elif kind == "boolean":
        lowered = F.lower(F.trim(raw))
        typed = F.when(lowered.isin("y", "yes", "true"), F.lit(True)).when(
            lowered.isin("n", "no", "false"), F.lit(False)
        )
    elif kind == "timestamp":
        typed = _parse_timestamp(raw, column.format)
    elif kind == "date":
        typed = F.to_date(raw, "yyyy-MM-dd")
    else:
        raise UnsupportedTypeError(f"no parser for registry type {kind!r} (column {column.name})")
    return typed, raw.isNotNull() & typed.isNull()


def parse_flat_file(lines: DataFrame, header: list[str], dataset: Dataset) -> ParsedBatch:
    """Split raw TSV lines of documents sharing `header` into typed rows and quarantined rows (with rules).

    `lines` has the LINE_COLUMNS; the header line itself is skipped wherever it appears.
    """
    header_text = "\t".join(header)
    position = {name: index for index, name in enumerate(header)}
    declared = {c.source for c in dataset.source_columns}
    missing = [c.source for c in dataset.source_columns if c.source not in position and c.source is not None]
    extra = [name for name in header if name not in declared]

    text = F.regexp_replace(F.col("value"), "\r$", "")
    body = lines.withColumn("value", text).filter(F.col("value") != header_text)
    fields = F.split(F.col("value"), "\t", -1)
    line_rules = [
        F.when(F.trim(F.col("value")) == "", F.lit("blank_line")),
        F.when(
            (F.trim(F.col("value")) != "") & (F.size(fields) != len(header)),
            F.concat(F.lit(f"column_count:expected {len(header)} got "), F.size(fields).cast("string")),
        ),
    ]
    cells = {
        c.name: _blank_to_null(fields.getItem(position[c.source]))
        if c.source in position
        else F.lit(None).cast("string")
        for c in dataset.source_columns
    }
    return _split(_check(body, dataset, cells, F.col("value"), line_rules), dataset, missing, extra)


def parse_json_records(records: DataFrame, dataset: Dataset) -> ParsedBatch:
    """Type JSON records (one struct column `record`, read with every leaf as text, plus the lineage columns of
    LINE_COLUMNS but `value`) into rows, sending records that break a rule to quarantine. A path the batch's
    documents do not have is a missing column (all null), reported like a flat file's missing column."""
    available = _leaf_paths(records.schema["record"].dataType)
    missing = [c.source for c in dataset.source_columns if c.source is not None and c.source not in available]
    cells = {
        c.name: _blank_to_null(F.expr(f"record.{c.source}").cast("string"))
        if c.source in available
        else F.lit(None).cast("string")
        for c in dataset.source_columns
    }
    return _split(_check(records, dataset, cells, F.to_json("record"), []), dataset, missing, [])


def _check(
    frame: DataFrame,
    dataset: Dataset,
    cells: dict[str, SparkColumn],
    raw_line: SparkColumn,
    line_rules: list[SparkColumn],
) -> DataFrame:
    """Typed columns, lineage, raw line, one column per rule (`_rule_*`: null, or the broken rule's text) and `_ok`.

    Raw cells are a projection of their own, and rules are plain columns rather than an array filtered by a lambda:
    higher-order functions are interpreted row by row, and one projection repeating each cell's extraction in every
    check grows past what Spark's code generation compiles. Both were about 30x slower on 1M order lines.
    """
    lineage = [F.col(name).alias(f"_line_{name}") for name in LINE_COLUMNS[1:]]
    carried = [f"_line_{name}" for name in LINE_COLUMNS[1:]] + ["raw_line"]
    raw = frame.select(
        *lineage,
        raw_line.alias("raw_line"),
        *(rule.alias(f"_rule_line_{index}") for index, rule in enumerate(line_rules)),
        *(cell.alias(f"_raw_{name}") for name, cell in cells.items()),
    )
    typed, rules = [], [f"_rule_line_{index}" for index in range(len(line_rules))]
    for column in dataset.columns:
        if column.origin is not None:
            typed.append(F.col(f"_line_{column.origin}").cast(spark_type(column.type)).alias(column.name))
            continue
        value, invalid = typed_value(column, F.col(f"_raw_{column.name}"))
        typed.append(value.alias(column.name))
        typed.append(F.when(invalid, F.lit(f"invalid_{column.type}:{column.name}")).alias(f"_rule_bad_{column.name}"))
        rules.append(f"_rule_bad_{column.name}")
        if not column.nullable:
            missing = F.when(F.col(f"_raw_{column.name}").isNull(), F.lit(f"missing_required:{column.name}"))
            typed.append(missing.alias(f"_rule_missing_{column.name}"))
            rules.append(f"_rule_missing_{column.name}")
    checked = raw.select(*carried, *rules[: len(line_rules)], *typed)
    return checked.withColumn("_ok", F.coalesce(*(F.col(r) for r in rules)).isNull() if rules else F.lit(True))


def _leaf_paths(kind: object, prefix: str = "") -> set[str]:
    """Every path a record has, as Spark SQL writes it: a.b.c, and a.list[0].c for the first element of arrays."""
    from pyspark.sql.types import ArrayType, StructType  # noqa: PLC0415

    if isinstance(kind, ArrayType):
        return {prefix} | _leaf_paths(kind.elementType, f"{prefix}[0]")
    if not isinstance(kind, StructType):
        return {prefix}
    paths: set[str] = set()
    for field in kind.fields:
        paths |= _leaf_paths(field.dataType, f"{prefix}.{field.name}" if prefix else field.name)
    return paths


def _split(checked: DataFrame, dataset: Dataset, missing: list[str], extra: list[str]) -> ParsedBatch:
    """Rows without broken rules are valid (in the curated column order); the others go to quarantine with the
    rules they broke, joined by "; "."""
    ordered = [c.name for c in dataset.data_columns + dataset.partition_columns]
    rules = [F.col(name) for name in checked.columns if name.startswith("_rule_")]
    # A barrier: without it the optimizer pushes the `_ok` filter below the projections and re-extracts every cell
    # once per rule it evaluates (1M order lines: 70 s instead of a few). Computed once, on the first action.
    checked = checked.localCheckpoint(eager=False)
    valid = checked.filter("_ok").select(*ordered)
    quarantined = checked.filter(~F.col("_ok")).select(
        F.lit(dataset.table).alias("dataset"),
        *(F.col(f"_line_{name}").alias(name) for name in ("object_id", "source_key", "marketplace_id", "ingested_at")),
        F.concat_ws("; ", *rules).alias("rules"),
        "raw_line",
    )
    return ParsedBatch(valid, quarantined, missing, extra)


def lineage_column(dataset: Dataset) -> str:
    """The curated column that names the raw object a row came from (origin object_id): report_id for a report's
    datasets, batch_id for an API's."""
    for column in dataset.columns:
        if column.origin == "object_id":
            return column.name
    raise MissingLineageError(f"{dataset.table} has no column of origin object_id")


def deduplicate(rows: DataFrame, dataset: Dataset) -> DataFrame:
    """One row per registry dedupe key: the latest ingestion wins (ties broken by the later raw object id)."""
    latest_first = Window.partitionBy(*dataset.dedupe_key).orderBy(
        F.col("ingested_at").desc(), F.col(lineage_column(dataset)).desc()
    )
    return rows.withColumn("_rank", F.row_number().over(latest_first)).filter(F.col("_rank") == 1).drop("_rank")


def quarantine_reasons(quarantined: DataFrame) -> dict[str, int]:
    """How many quarantined rows broke each rule (column_count and blank_line without their details)."""
    rules = quarantined.select(F.explode(F.split("rules", "; ")).alias("rule"))
    # "column_count:expected 29 got 27" → "column_count"; "invalid_int:quantity" stays whole.
    kinds = rules.select(F.regexp_replace("rule", r"^(column_count|blank_line).*$", "$1").alias("rule"))
    return {row["rule"]: row["count"] for row in kinds.groupBy("rule").count().collect()}
