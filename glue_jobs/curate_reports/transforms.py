"""Pure DataFrame → DataFrame transforms: parse a flat-file report by its header, type it, split off bad rows.

No reads, no writes, no session configuration here: tests build small DataFrames and call these directly.

Every cell parser here is total: whatever the text, it returns a value or null (→ the row is quarantined with the
rule), never an exception, whatever the session's `spark.sql.ansi.enabled` and `spark.sql.legacy.timeParserPolicy`.
That is why no pattern-based datetime parser is used (with timeParserPolicy EXCEPTION, Spark 3's default, a pattern the
new parser rejects but the legacy one accepts raises SparkUpgradeException and kills the job; under ANSI every failed
cast and parse raises): each cell is matched by a strict regex first, rewritten to ISO 8601, and cast with try_ or
regex-guarded casts that cannot fail. One parser per column (chosen from the registry's `format` and, for
per-marketplace formats, the batch's marketplace): a second, fallback parse per cell would cost on millions of rows.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql import types as T  # noqa: N812

from glue_jobs.common.spark_types import spark_type
from glue_jobs.errors import MissingLineageError, UnreadableKind, UnreadableObjectError, UnsupportedTypeError

if TYPE_CHECKING:
    from lake_formation.registry import Column, Dataset

# Input columns every raw line carries, taken from the raw object's manifest entry (object_id: the reportId of a report,
# the hash of an API batch; columns of origin object_id take it).
LINE_COLUMNS = ("value", "object_id", "source_key", "marketplace_id", "data_date", "ingested_at")
QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("dataset", T.StringType(), False),
        *(T.StructField(n, T.StringType(), True) for n in ("object_id", "source_key", "marketplace_id")),
        T.StructField("ingested_at", T.TimestampType(), True),
        T.StructField("rules", T.StringType(), False),
        T.StructField("raw_line", T.StringType(), True),
    ]
)


# Formats -------------------------------------------------------------------------------------------------------------
# A registry column's `format` names how its text is written; no format means the ISO form (ISO 8601 timestamps with an
# offset as in order and shipment reports and JSON, yyyy-MM-dd dates, "1234.56" decimals). The formats:
#   amazon_local_datetime  "2024-07-17 11:43:27 PDT": ISO date, time, zone abbreviation (listings' open-date)
#   marketplace_datetime   the date in the marketplace's order, time, zone: "17.07.2024 11:43:27 UTC" (settlements)
#   marketplace_date       the date alone in the marketplace's order: "17.07.2024" (settlements' posted-date)
#   marketplace_decimal    an amount with the marketplace's decimal separator: "1.234,56" in Germany (settlements)
#   y_n                    a boolean written y/n (every boolean also reads yes/no and true/false)
#   enum:A|B|C             a string that must be one of the listed values
@dataclass(frozen=True)
class MarketplaceStyle:
    """How a marketplace's reports write dates and amounts in the columns of the marketplace_* formats."""

    date_order: Literal["ymd", "dmy"] = "ymd"
    date_separator: str = "-"
    decimal_comma: bool = False  # "1.234,56": ',' separates the decimals, '.' groups thousands


ISO_STYLE = MarketplaceStyle()
# Sources (settlement flat files, GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE[_V2]):
# - ISO dates "2023-01-01 00:00:00 UTC" in amazon.com's settlement: airbytehq/airbyte
#   airbyte-integrations/connectors/source-amazon-seller-partner/unit_tests/resource/http/response/
#   GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE.csv (recorded response of the Airbyte connector's tests).
# - Day-first dotted dates in Germany and year-first slashed dates in Japan: the marketplace date orders of
#   airbytehq/airbyte airbyte-integrations/connectors/source-amazon-seller-partner/components.py
#   (SellerFeedbackReportsTypeTransformer.MARKETPLACE_DATE_FORMAT_MAP: A1PA6795UKMFR9 "%d.%m.%y", A1VC38T7YXB528
#   "%y/%m/%d", ATVPDKIKX0DER "%m/%d/%y" for feedback dates), and the settlement dates sellers see in those
#   marketplaces ("17.07.2024 11:43:27 UTC", "2024/07/17 11:43:27 UTC"; issue 11).
# - Decimal commas in EU settlement amounts ("95,00" EUR): https://apimigrationguard.com/validators/settlement-parser
#   ("locale-safe decimal parsing for EU comma formats").
# Marketplaces not listed write the ISO style; add one here when a recorded report shows another.
MARKETPLACE_STYLES: dict[str, MarketplaceStyle] = {
    "A1PA6795UKMFR9": MarketplaceStyle("dmy", ".", decimal_comma=True),  # amazon.de
    "A1VC38T7YXB528": MarketplaceStyle("ymd", "/"),  # amazon.co.jp
}
# Zone abbreviations in Amazon's flat files → UTC offsets. Java alone reads "BST" as Bangladesh, "IST" as Israel and
# "CST" as China: in Amazon's reports they are British Summer Time (amazon.co.uk), India (amazon.in) and US/Mexico
# Central time; "AST" is Arabia (amazon.sa). MEZ/MESZ are the German names of CET/CEST.
ZONE_OFFSETS = {
    "UTC": "+00:00", "GMT": "+00:00", "WET": "+00:00", "BST": "+01:00", "WEST": "+01:00", "IST": "+05:30",
    "CET": "+01:00", "MET": "+01:00", "MEZ": "+01:00", "CEST": "+02:00", "MEST": "+02:00", "MESZ": "+02:00",
    "EET": "+02:00", "EEST": "+03:00", "TRT": "+03:00", "AST": "+03:00", "GST": "+04:00", "SGT": "+08:00",
    "JST": "+09:00", "AEST": "+10:00", "AEDT": "+11:00", "BRT": "-03:00", "EST": "-05:00", "EDT": "-04:00",
    "CST": "-06:00", "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
}  # fmt: skip
MARKETPLACE_FORMATS = ("marketplace_datetime", "marketplace_date", "marketplace_decimal")
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_ISO_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DOUBLE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"
_INTEGER = r"^[+-]?[0-9]{1,18}$"  # 18 digits always fit a bigint: the cast cannot overflow (ANSI would raise)
_GROUPED_COMMA_DECIMAL = r"^[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?$"
INT_RANGE = (-(2**31), 2**31 - 1)


FORMATS = {  # registry type (decimal(p,s) as "decimal") → the formats its parser knows
    "timestamp": {"amazon_local_datetime", "marketplace_datetime"},
    "date": {"marketplace_date"},
    "decimal": {"marketplace_decimal"},
    "boolean": {"y_n"},
}


def known_format(column: Column) -> bool:
    """Whether the column's `format` is one this module parses (a registry check: an unknown one fails the job)."""
    if column.format is None:
        return True
    if column.type == "string":
        return column.format.startswith("enum:") and all(_enum_values(column.format))
    return column.format in FORMATS.get(column.type.split("(")[0], set())


def marketplace_style(marketplace_id: str | None) -> MarketplaceStyle:
    return MARKETPLACE_STYLES.get(marketplace_id or "", ISO_STYLE)


def uses_marketplace_style(dataset: Dataset) -> bool:
    """Whether the dataset's parse depends on the marketplace (a column of a marketplace_* format)."""
    return any(c.format in MARKETPLACE_FORMATS for c in dataset.source_columns)


def _date_regex(style: MarketplaceStyle) -> tuple[str, str]:
    """(regex of a date written in the style with groups, ISO replacement "$y-$m-$d")."""
    sep = re.escape(style.date_separator)
    if style.date_order == "dmy":
        return rf"([0-9]{{2}}){sep}([0-9]{{2}}){sep}([0-9]{{4}})", "$3-$2-$1"
    return rf"([0-9]{{4}}){sep}([0-9]{{2}}){sep}([0-9]{{2}})", "$1-$2-$3"


def _zoned_timestamp(raw: SparkColumn, date_regex: str, iso_date: str) -> SparkColumn:
    """'<date> HH:mm:ss ZONE' → the UTC instant; null unless the whole cell matches and the zone is known."""
    pattern = rf"^{date_regex} {_TIME} ([A-Z]{{3,4}})$"
    offsets = F.create_map(*(F.lit(x) for pair in ZONE_OFFSETS.items() for x in pair))
    offset = offsets[F.regexp_extract(raw, pattern, 7)]  # "" (no match) and unknown zones: null, nothing is parsed
    iso = F.concat(F.regexp_replace(raw, pattern, f"{iso_date}T$4:$5:$6"), offset)
    return F.try_to_timestamp(iso)  # a cast, not a pattern: independent of timeParserPolicy; Feb 30 → null


def parse_timestamp(raw: SparkColumn, fmt: str | None, style: MarketplaceStyle = ISO_STYLE) -> SparkColumn:
    """The UTC instant a timestamp cell says, or null (see the module docstring's formats)."""
    if fmt == "amazon_local_datetime":
        return _zoned_timestamp(raw, *_date_regex(ISO_STYLE))
    if fmt == "marketplace_datetime":
        return _zoned_timestamp(raw, *_date_regex(style))
    if fmt is not None:
        raise UnsupportedTypeError(f"no timestamp format {fmt!r}")
    return F.when(raw.rlike(_ISO_TIMESTAMP), F.try_to_timestamp(raw))  # offsets and fractional seconds


def parse_date(raw: SparkColumn, fmt: str | None, style: MarketplaceStyle = ISO_STYLE) -> SparkColumn:
    if fmt == "marketplace_date":
        regex, iso_date = _date_regex(style)
        return F.when(raw.rlike(f"^{regex}$"), F.to_date(F.try_to_timestamp(F.regexp_replace(raw, regex, iso_date))))
    if fmt is not None:
        raise UnsupportedTypeError(f"no date format {fmt!r}")
    return F.when(raw.rlike(_ISO_DATE), F.to_date(F.try_to_timestamp(raw)))


def parse_decimal(raw: SparkColumn, kind: str, fmt: str | None, style: MarketplaceStyle = ISO_STYLE) -> SparkColumn:
    """A decimal(p,s) cell. At most p-s integer digits and s decimals: anything else would overflow (an error under
    ANSI) or be rounded, and a rounded amount is not what Amazon paid, so it is quarantined rather than curated."""
    if fmt not in (None, "marketplace_decimal"):
        raise UnsupportedTypeError(f"no decimal format {fmt!r}")
    target = spark_type(kind)
    assert isinstance(target, T.DecimalType)  # noqa: S101 - spark_type of a decimal(p,s) registry type
    whole, scale = target.precision - target.scale, target.scale
    fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    pattern = rf"^[+-]?[0-9]{{1,{whole}}}{fraction}$"
    text = F.trim(raw)
    if fmt == "marketplace_decimal" and style.decimal_comma:
        text = F.when(text.rlike(_GROUPED_COMMA_DECIMAL), F.translate(text, ",.", "."))  # "1.234,56" → "1234.56"
    return F.when(text.rlike(pattern), text.cast(target))


def _enum_values(fmt: str) -> list[str]:
    return fmt.removeprefix("enum:").split("|")


def typed_value(
    column: Column, raw: SparkColumn, style: MarketplaceStyle = ISO_STYLE
) -> tuple[SparkColumn, SparkColumn]:
    """(typed value, is-invalid flag) for one raw text cell; an empty cell is null and valid. `style` is the batch's
    marketplace style, used by the marketplace_* formats."""
    kind, fmt = column.type, column.format
    if kind == "string":
        if fmt is not None and fmt.startswith("enum:"):
            typed = F.when(raw.isin(*_enum_values(fmt)), raw)
            return typed, raw.isNotNull() & typed.isNull()
        return raw, F.lit(False)
    if kind in ("int", "bigint"):
        typed = F.when(raw.rlike(_INTEGER), raw.cast("bigint"))
        if kind == "int":
            typed = F.when(typed.between(*INT_RANGE), typed.cast("int"))
    elif kind.startswith("decimal"):
        typed = parse_decimal(raw, kind, fmt, style)
    elif kind == "double":
        typed = F.when(F.trim(raw).rlike(_DOUBLE), F.trim(raw).cast("double"))
    elif kind == "boolean":
        lowered = F.lower(F.trim(raw))
        typed = F.when(lowered.isin("y", "yes", "true"), F.lit(True)).when(
            lowered.isin("n", "no", "false"), F.lit(False)
        )
    elif kind == "timestamp":
        typed = parse_timestamp(raw, fmt, style)
    elif kind == "date":
        typed = parse_date(raw, fmt, style)
    else:
        raise UnsupportedTypeError(f"no parser for registry type {kind!r} (column {column.name})")
    return typed, raw.isNotNull() & typed.isNull()


def invalid_rule(column: Column) -> str:
    """The quarantine rule of a cell its parser cannot read: invalid_<type>:<column> (invalid_enum for enums)."""
    kind = "enum" if column.format is not None and column.format.startswith("enum:") else column.type
    return f"invalid_{kind}:{column.name}"


# Whole objects ---------------------------------------------------------------------------------------------------
HEAD_BYTES = 64 * 1024  # what is read of an object to tell whether it is the report it claims to be
GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"


@dataclass(frozen=True)
class Unreadable:
    """A raw object no row of which can be read: the error and which object."""

    object_id: str
    key: str
    kind: UnreadableKind
    reason: str  # what is wrong, without the object's name


def clean_header(names: list[str]) -> list[str]:
    """A header as its columns are named: without a UTF-8 byte-order mark before the first and a CR after the last."""
    cleaned = list(names)
    if cleaned:
        cleaned[0] = cleaned[0].removeprefix(BOM)
        cleaned[-1] = cleaned[-1].removesuffix("\r")
    return cleaned


def read_head(head: bytes, dataset: Dataset) -> list[str]:
    """Check the first bytes of a raw object (UTF-8 by the raw zone's contract) against what its dataset reads;
    returns a flat file's header (its first line, cleaned), [] for JSON.

    Raises:
        UnreadableObjectError: empty, still gzipped, markup, a header not in UTF-8, JSON that is no object, or a
            header without the dataset's required columns (the message says which, without the object's name).
    """
    if head.startswith(GZIP_MAGIC):
        raise UnreadableObjectError("still gzip-compressed (the raw zone holds decompressed documents)", kind="gzip")
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    start = text.lstrip(BOM + " \t\r\n")
    if not start:
        raise UnreadableObjectError("empty: no report content", kind="empty")
    if start.startswith("<"):
        raise UnreadableObjectError(f"an HTML/XML page, not a report: {start[:60]!r}", kind="html")
    if dataset.source.format in ("json", "jsonl"):
        if not start.startswith("{"):
            kind: UnreadableKind = "json_shape" if start.startswith("[") else "json_malformed"
            raise UnreadableObjectError(f"not a JSON object: starts with {start[:20]!r}", kind=kind)
        return []
    if b"\n" not in head and len(head) >= HEAD_BYTES:
        raise UnreadableObjectError(f"no header line in the first {HEAD_BYTES} bytes", kind="not_the_report")
    first = head.split(b"\n", 1)[0]
    try:
        header = clean_header(first.decode("utf-8").split("\t"))
    except UnicodeDecodeError as err:
        raise UnreadableObjectError(f"the header line is not UTF-8 ({err.reason} at byte {err.start})",
                                    kind="charset") from err  # fmt: skip
    required = [c.source for c in dataset.source_columns if not c.nullable and c.source not in header]
    if required:  # every row would lack them: not the report it claims to be (another report, a different document)
        raise UnreadableObjectError(
            f"not a {dataset.source.raw_name} report: its header {first[:60]!r} lacks the required {required}",
            kind="not_the_report",
        )
    return header


@dataclass(frozen=True)
class ParsedBatch:
    valid: DataFrame
    quarantined: DataFrame
    missing_columns: list[str]
    extra_columns: list[str]
    unreadable: list[Unreadable] = dataclasses.field(default_factory=list)  # objects none of whose rows could be read


def _blank_to_null(raw: SparkColumn) -> SparkColumn:
    return F.when(F.trim(raw) == "", F.lit(None).cast("string")).otherwise(raw)


def parse_flat_file(
    lines: DataFrame, header: list[str], dataset: Dataset, style: MarketplaceStyle = ISO_STYLE
) -> ParsedBatch:
    """Split raw TSV lines of documents sharing `header` into typed rows and quarantined rows (with rules).

    `lines` has the LINE_COLUMNS; the header line itself is skipped wherever it appears (a UTF-8 byte-order mark before
    it and CRs at line ends are ignored). `style` is the documents' marketplace style (marketplace_* formats). A line
    with bytes that are not UTF-8 is quarantined whole (rule invalid_utf8): its cells cannot be trusted.
    """
    header = clean_header(header)
    header_text = "\t".join(header)
    position = {name: index for index, name in enumerate(header)}
    declared = {c.source for c in dataset.source_columns}
    missing = [c.source for c in dataset.source_columns if c.source not in position and c.source is not None]
    extra = [name for name in header if name not in declared]

    text = F.regexp_replace(F.col("value"), f"^{BOM}|\r$", "")
    body = lines.withColumn("value", text).filter(F.col("value") != header_text)
    # Spark keeps a line's bytes as they are; a regex sees them decoded, an invalid byte as U+FFFD. regexp_replace
    # re-encodes the line, so the raw line kept in quarantine is valid UTF-8 (Parquet readers reject invalid strings).
    not_utf8 = F.col("value").rlike("\ufffd")
    body = body.withColumn("value", F.when(not_utf8, F.regexp_replace("value", "\ufffd", "\ufffd")).otherwise(
        F.col("value"))).withColumn("_not_utf8", not_utf8)  # fmt: skip
    fields = F.split(F.col("value"), "\t", -1)
    line_rules = [
        F.when(F.trim(F.col("value")) == "", F.lit("blank_line")),
        F.when(
            (F.trim(F.col("value")) != "") & (F.size(fields) != len(header)),
            F.concat(F.lit(f"column_count:expected {len(header)} got "), F.size(fields).cast("string")),
        ),
        F.when(F.col("_not_utf8"), F.lit("invalid_utf8")),
    ]
    cells = {
        c.name: _blank_to_null(fields.getItem(position[c.source]))
        if c.source in position
        else F.lit(None).cast("string")
        for c in dataset.source_columns
    }
    return _split(_check(body, dataset, cells, F.col("value"), line_rules, style), dataset, missing, extra)


CORRUPT_RECORD = "_corrupt_record"  # Spark's column for a JSON line that does not parse (PERMISSIVE mode)


def parse_json_records(records: DataFrame, dataset: Dataset) -> ParsedBatch:
    """Type JSON records (one struct column `record`, read with every leaf as text, plus the lineage columns of
    LINE_COLUMNS but `value`) into rows, sending records that break a rule to quarantine. A path the batch's
    documents do not have is a missing column (all null), reported like a flat file's missing column. A JSON line
    that does not parse (its text in record._corrupt_record) is quarantined with rule invalid_json."""
    record_type = records.schema["record"].dataType
    available = _leaf_paths(record_type)
    missing = [c.source for c in dataset.source_columns if c.source is not None and c.source not in available]
    cells = {
        c.name: _blank_to_null(F.expr(f"record.{c.source}").cast("string"))
        if c.source in available
        else F.lit(None).cast("string")
        for c in dataset.source_columns
    }
    raw_line, line_rules = F.to_json("record"), []
    if isinstance(record_type, T.StructType) and CORRUPT_RECORD in record_type.fieldNames():
        corrupt = F.col(f"record.{CORRUPT_RECORD}")
        raw_line = F.coalesce(corrupt, F.to_json(F.col("record").dropFields(CORRUPT_RECORD)))
        line_rules = [F.when(corrupt.isNotNull(), F.lit("invalid_json"))]
    return _split(_check(records, dataset, cells, raw_line, line_rules), dataset, missing, [])


def _check(
    frame: DataFrame,
    dataset: Dataset,
    cells: dict[str, SparkColumn],
    raw_line: SparkColumn,
    line_rules: list[SparkColumn],
    style: MarketplaceStyle = ISO_STYLE,
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
        if column.day_of is not None or column.month_of is not None:  # computed from the typed column below
            continue
        if column.origin is not None:
            typed.append(F.col(f"_line_{column.origin}").cast(spark_type(column.type)).alias(column.name))
            continue
        value, invalid = typed_value(column, F.col(f"_raw_{column.name}"), style)
        typed.append(value.alias(column.name))
        typed.append(F.when(invalid, F.lit(invalid_rule(column))).alias(f"_rule_bad_{column.name}"))
        rules.append(f"_rule_bad_{column.name}")
        if not column.nullable:
            missing = F.when(F.col(f"_raw_{column.name}").isNull(), F.lit(f"missing_required:{column.name}"))
            typed.append(missing.alias(f"_rule_missing_{column.name}"))
            rules.append(f"_rule_missing_{column.name}")
    checked = raw.select(*carried, *rules[: len(line_rules)], *typed)
    for column in dataset.columns:
        if column.day_of is not None:  # the UTC day of a timestamp (the session's time zone is UTC)
            day = F.to_date(F.col(column.day_of))
            rule = F.when(day.isNull(), F.lit(f"missing_required:{column.name}"))
            checked = checked.withColumn(column.name, day).withColumn(f"_rule_missing_{column.name}", rule)
            rules.append(f"_rule_missing_{column.name}")
    for column in dataset.columns:
        if column.month_of is not None:
            checked = checked.withColumn(column.name, F.date_format(F.col(column.month_of), "yyyy-MM"))
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
    """One row per registry dedupe key: the latest version wins — by the dataset's `latest_by` columns (a change
    feed's last-updated time), then by ingestion, ties broken by the later raw object id."""
    order = [F.col(name).desc_nulls_last() for name in dataset.curation.latest_by]
    latest_first = Window.partitionBy(*dataset.dedupe_key).orderBy(
        *order, F.col("ingested_at").desc(), F.col(lineage_column(dataset)).desc()
    )
    return rows.withColumn("_rank", F.row_number().over(latest_first)).filter(F.col("_rank") == 1).drop("_rank")


def quarantine_reasons(quarantined: DataFrame) -> dict[str, int]:
    """How many quarantined rows broke each rule (column_count and blank_line without their details)."""
    rules = quarantined.select(F.explode(F.split("rules", "; ")).alias("rule"))
    # "column_count:expected 29 got 27" → "column_count"; "invalid_int:quantity" stays whole.
    kinds = rules.select(F.regexp_replace("rule", r"^(column_count|blank_line).*$", "$1").alias("rule"))
    return {row["rule"]: row["count"] for row in kinds.groupBy("rule").count().collect()}
