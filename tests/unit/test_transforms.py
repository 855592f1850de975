from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import StructField, StructType
from pyspark.testing import assertDataFrameEqual

from glue_jobs.common.spark_types import curated_schema
from glue_jobs.curate_reports.job import merge, touched_partitions, window_owners
from glue_jobs.curate_reports.transforms import (
    deduplicate,
    marketplace_style,
    parse_flat_file,
    parse_json_records,
    read_head,
    typed_value,
)
from glue_jobs.errors import UnreadableObjectError
from lake_formation import registry
from lake_formation.raw_zone import ManifestEntry
from sandbox.report_content import ReportRequest
from sandbox.report_types import MERCHANT_LISTINGS_HEADER, REPORT_TYPES, SETTLEMENT_REPORT_TYPE
from sandbox.world import World

LISTINGS = registry.dataset("merchant_listings")
HEADER = list(MERCHANT_LISTINGS_HEADER)
INGESTED = datetime(2026, 11, 20, 6, 0, 0)
US = "ATVPDKIKX0DER"


def listing_line(**cells: str) -> str:
    values = {
        "seller-sku": "SKU-1",
        "asin1": "B000000001",
        "price": "19.99",
        "quantity": "5",
        "open-date": "2024-07-17 11:43:27 PDT",
        "item-is-marketplace": "y",
        "status": "Active",
        **cells,
    }
    return "\t".join(values.get(column, "") for column in HEADER)


def lines_df(
    spark,
    lines: list[str],
    object_id: str = "r1",
    ingested_at: datetime = INGESTED,
    marketplace_id: str = "ATVPDKIKX0DER",
    day: date = date(2026, 11, 20),
):
    rows = [(line, object_id, f"raw/{object_id}.tsv", marketplace_id, day, ingested_at) for line in lines]
    return spark.createDataFrame(
        rows,
        "value string, object_id string, source_key string, marketplace_id string, "
        "data_date date, ingested_at timestamp",
    )


def curated_rows(spark, dataset, *rows: dict):
    """Curated rows of a dataset in its curated column order and types; columns not given are null (allowed here,
    so a test states only the columns it is about)."""
    schema = StructType([StructField(f.name, f.dataType, True) for f in curated_schema(dataset)])
    return spark.createDataFrame([tuple(row.get(f.name) for f in schema.fields) for row in rows], schema)


def test_valid_rows_are_typed_by_the_registry(spark):
    # GIVEN the header and one listing as Amazon writes them
    batch = parse_flat_file(lines_df(spark, ["\t".join(HEADER), listing_line()]), HEADER, LISTINGS)
    # THEN the row is typed, timestamps in UTC, and nothing is quarantined
    row = batch.valid.collect()[0]
    assert (row.seller_sku, row.price, row.quantity, row.is_marketplace) == ("SKU-1", Decimal("19.99"), 5, True)
    assert row.opened_at == datetime(2024, 7, 17, 18, 43, 27)  # 11:43:27 PDT
    assert (row.marketplace_id, row.snapshot_date, row.report_id) == ("ATVPDKIKX0DER", date(2026, 11, 20), "r1")
    assert batch.quarantined.count() == 0
    assert [(f.name, f.dataType) for f in batch.valid.schema] == [
        (f.name, f.dataType) for f in curated_schema(LISTINGS)
    ]


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2024-01-17 11:43:27 PST", datetime(2024, 1, 17, 19, 43, 27)),
        ("2024-07-17 11:43:27 CEST", datetime(2024, 7, 17, 9, 43, 27)),
        ("2024-07-17 11:43:27 BST", datetime(2024, 7, 17, 10, 43, 27)),  # British Summer Time, not Bangladesh
        ("2024-07-17 11:43:27 JST", datetime(2024, 7, 17, 2, 43, 27)),
    ],
)
def test_marketplace_local_timestamps_become_utc(spark, stamp, utc):
    batch = parse_flat_file(lines_df(spark, [listing_line(**{"open-date": stamp})]), HEADER, LISTINGS)
    assert batch.valid.collect()[0].opened_at == utc


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2024-07-17T11:43:27+00:00", datetime(2024, 7, 17, 11, 43, 27)),
        ("2024-07-17T20:43:27+09:00", datetime(2024, 7, 17, 11, 43, 27)),  # fulfilled shipments in Japan
        ("2024-07-17T11:43:27.250000+00:00", datetime(2024, 7, 17, 11, 43, 27, 250000)),
    ],
)
def test_iso_timestamps_with_offsets_become_utc(spark, stamp, utc):
    column = next(c for c in registry.dataset("orders").columns if c.name == "purchase_date")
    (row,) = (
        spark.createDataFrame([(stamp,)], "raw string")
        .select(typed_value(column, F.col("raw"))[0].alias("t"))
        .collect()
    )
    assert row.t == utc


def test_bad_lines_are_quarantined_with_their_rules_and_raw_text(spark):
    # GIVEN one good line and three bad ones
    bad_price = listing_line(price="19,99x")
    short = "\t".join(listing_line().split("\t")[:10])
    no_sku = listing_line(**{"seller-sku": ""})
    batch = parse_flat_file(lines_df(spark, [listing_line(), bad_price, short, no_sku]), HEADER, LISTINGS)
    # THEN the good line is curated and each bad line is kept, with why
    assert batch.valid.count() == 1
    expected = spark.createDataFrame(
        [
            Row(rules="invalid_decimal(18,2):price", raw_line=bad_price),
            Row(rules="column_count:expected 29 got 10", raw_line=short),
            Row(rules="missing_required:seller_sku", raw_line=no_sku),
        ]
    )
    assertDataFrameEqual(batch.quarantined.select("rules", "raw_line"), expected)


def test_integer_cells_with_decimals_are_not_truncated(spark):
    batch = parse_flat_file(lines_df(spark, [listing_line(quantity="12.5")]), HEADER, LISTINGS)
    assert batch.valid.count() == 0
    assert batch.quarantined.collect()[0].rules == "invalid_int:quantity"


def test_missing_optional_and_extra_columns_are_reported_not_fatal(spark):
    header = [c for c in HEADER if c != "item-note"] + ["new-column"]
    line = "\t".join({"seller-sku": "SKU-9", "status": "Active", "new-column": "x"}.get(c, "") for c in header)
    batch = parse_flat_file(lines_df(spark, [line]), header, LISTINGS)
    assert batch.valid.collect()[0].seller_sku == "SKU-9"
    assert batch.missing_columns == ["item-note"]
    assert batch.extra_columns == ["new-column"]


def test_dedupe_keeps_the_latest_ingestion(spark):
    # GIVEN the same SKU and day from two ingestions
    first = parse_flat_file(
        lines_df(spark, [listing_line(price="10.00")], "r1", datetime(2026, 11, 20, 6)), HEADER, LISTINGS
    ).valid
    second = parse_flat_file(
        lines_df(spark, [listing_line(price="12.00")], "r2", datetime(2026, 11, 20, 18)), HEADER, LISTINGS
    ).valid
    # WHEN deduplicated on the registry key
    result = deduplicate(first.unionByName(second), LISTINGS)
    # THEN the later report's row wins
    assertDataFrameEqual(
        result.select("seller_sku", "price", "report_id"),
        spark.createDataFrame(
            [Row(seller_sku="SKU-1", price=Decimal("12.00"), report_id="r2")],
            "seller_sku string, price decimal(18,2), report_id string",
        ),
    )


def test_json_records_are_flattened_typed_and_bad_ones_quarantined(spark):
    # GIVEN sales-and-traffic records as read from the document (every leaf as text), one with a broken number
    dataset = registry.dataset("sales_and_traffic_by_date")
    records = spark.createDataFrame(
        [
            ({"date": "2026-11-01", "salesByDate": {"unitsOrdered": "12", "orderedProductSales": {"amount": "219670.5",
              "currencyCode": "JPY"}}, "trafficByDate": {"sessions": "140", "buyBoxPercentage": "97.5"}},),
            ({"date": "2026-11-02", "salesByDate": {"unitsOrdered": "1x", "orderedProductSales": {"amount": "1",
              "currencyCode": "JPY"}}, "trafficByDate": {"sessions": "3", "buyBoxPercentage": "90"}},),
        ],
        "record struct<date:string, salesByDate:struct<unitsOrdered:string, orderedProductSales:struct<amount:string,"
        " currencyCode:string>>, trafficByDate:struct<sessions:string, buyBoxPercentage:string>>",
    ).select(
        "record", F.lit("r1").alias("object_id"), F.lit("k").alias("source_key"),
        F.lit("A1VC38T7YXB528").alias("marketplace_id"), F.to_date(F.lit("2026-11-01")).alias("data_date"),
        F.current_timestamp().alias("ingested_at"),
    )  # fmt: skip
    # WHEN they are parsed by the registry
    batch = parse_json_records(records, dataset)
    # THEN the good record is typed (no float rounding of a large yen amount), the bad one quarantined with its rule
    (good,) = batch.valid.collect()
    assert (good.date, good.units_ordered, good.ordered_product_sales) == (date(2026, 11, 1), 12, Decimal("219670.50"))
    assert good.buy_box_percentage == 97.5 and good.month == "2026-11"
    (bad,) = batch.quarantined.collect()
    assert bad.rules == "invalid_int:units_ordered" and '"unitsOrdered":"1x"' in bad.raw_line
    # AND paths the documents do not carry are reported as missing columns
    assert "salesByDate.unitsRefunded" in batch.missing_columns


def test_a_restated_day_replaces_the_curated_rows_of_that_day_and_keeps_the_others(spark):
    # GIVEN the lake holds order lines of 1 and 2 November from one report; Amazon's report of 2 November, asked for
    # again, has one line changed, one line added, and no longer the line 111-4
    orders = registry.dataset("orders")

    def line(order_id: str, day: int, quantity: int, report_id: str, ingested: datetime) -> dict:
        return {"amazon_order_id": order_id, "sku": "SKU-1", "quantity": quantity, "report_id": report_id,
                "ingested_at": ingested, "marketplace_id": US, "purchase_day": date(2026, 11, day),
                "purchase_month": "2026-11"}  # fmt: skip

    first = datetime(2026, 11, 3)
    in_lake = curated_rows(spark, orders, line("111-1", 1, 1, "r1", first), line("111-2", 2, 1, "r1", first),
                           line("111-4", 2, 2, "r1", first))  # fmt: skip
    restated_at = datetime(2026, 11, 9)
    restated = curated_rows(spark, orders, line("111-2", 2, 3, "r3", restated_at),
                            line("111-3", 2, 1, "r3", restated_at))  # fmt: skip
    window = manifest("r3", restated_at, datetime(2026, 11, 2), datetime(2026, 11, 2, 23, 59, 59, 999000))
    # WHEN the job's own steps decide which report owns which day, what the run rewrites, and merge
    owners = window_owners([window], orders)
    touched = touched_partitions(restated, orders, owners)
    merged = merge(restated, in_lake, orders, owners, touched)
    # THEN 2 November holds exactly the restated report's lines; 1 November keeps its line
    assert owners == {(US, "2026-11-02"): "r3"}
    assert touched == [{"marketplace_id": US, "purchase_month": "2026-11"}]
    assertDataFrameEqual(
        merged.rows.select("amazon_order_id", "quantity", "report_id", "purchase_day"),
        spark.createDataFrame(
            [
                ("111-1", 1, "r1", date(2026, 11, 1)),
                ("111-2", 3, "r3", date(2026, 11, 2)),
                ("111-3", 1, "r3", date(2026, 11, 2)),
            ],
            "amazon_order_id string, quantity int, report_id string, purchase_day date",
        ),  # fmt: skip
    )
    assert (merged.new_rows, merged.replaced, merged.emptied) == (2, 2, [])
    assert merged.rows.columns == [f.name for f in curated_schema(orders)]


def test_a_restated_day_amazon_reports_nothing_for_empties_its_partition(spark):
    # GIVEN the lake holds one line of 2 December; the restated window of December has no line any more
    orders = registry.dataset("orders")
    row = {"amazon_order_id": "111-9", "sku": "SKU-1", "quantity": 1, "report_id": "r1",
           "ingested_at": datetime(2026, 12, 3), "marketplace_id": US, "purchase_day": date(2026, 12, 2),
           "purchase_month": "2026-12"}  # fmt: skip
    in_lake = curated_rows(spark, orders, row)
    nothing = curated_rows(spark, orders)
    window = manifest("r2", datetime(2026, 12, 4), datetime(2026, 12, 1), datetime(2026, 12, 3, 23, 59, 59, 999000))
    owners = window_owners([window], orders)
    touched = touched_partitions(nothing, orders, owners)
    # WHEN merged
    merged = merge(nothing, in_lake, orders, owners, touched)
    # THEN December's partition is left empty (the job deletes it) and the line is counted as replaced
    assert merged.rows.count() == 0 and merged.replaced == 1
    assert merged.emptied == [{"marketplace_id": US, "purchase_month": "2026-12"}]


def manifest(object_id: str, ingested: datetime, start: datetime, end: datetime) -> ManifestEntry:
    return ManifestEntry(object_id=object_id, raw_name="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
                         account_id="a", marketplace_id=US, bucket="b",
                         key=f"spapi/x/marketplace_id={US}/dt={start.date()}/{object_id}.tsv", source_charset="utf-8",
                         bytes=1, rows=1, sha256="-", header=[], ingested_at=ingested.replace(tzinfo=UTC),
                         data_start_time=start.replace(tzinfo=UTC), data_end_time=end.replace(tzinfo=UTC))  # fmt: skip


def test_a_row_already_in_the_lake_that_the_run_brings_again_is_not_counted_as_new(spark):
    # GIVEN a listing the lake holds, landed again later with the same content
    listings = registry.dataset("merchant_listings")
    row = {"seller_sku": "SKU-1", "marketplace_id": "ATVPDKIKX0DER", "snapshot_date": date(2026, 11, 20)}
    in_lake = curated_rows(spark, listings, {**row, "report_id": "r1", "ingested_at": datetime(2026, 11, 20, 6)})
    again = curated_rows(spark, listings, {**row, "report_id": "r2", "ingested_at": datetime(2026, 11, 20, 18)})
    # WHEN merged
    merged = merge(again, in_lake, listings)
    # THEN the later ingestion is the one row, and it is this run's
    assert [(r.seller_sku, r.report_id) for r in merged.rows.collect()] == [("SKU-1", "r2")]
    assert merged.new_rows == 1


def test_dedupe_ties_are_broken_by_the_later_raw_object_for_api_batches_too(spark):
    # GIVEN one ASIN of one day in two catalog batches ingested at the same instant (lineage column batch_id)
    catalog = registry.dataset("catalog_items")
    same = {"asin": "B000000001", "marketplace_id": "ATVPDKIKX0DER", "snapshot_date": date(2026, 11, 20),
            "ingested_at": INGESTED}  # fmt: skip
    rows = curated_rows(
        spark, catalog, {**same, "batch_id": "aaa", "item_name": "old"}, {**same, "batch_id": "bbb", "item_name": "new"}
    )
    # WHEN deduplicated
    result = deduplicate(rows, catalog)
    # THEN the later batch id wins
    assert [(r.batch_id, r.item_name) for r in result.collect()] == [("bbb", "new")]


SETTLEMENTS = registry.dataset("settlements")


@pytest.mark.parametrize(
    ("account", "marketplace", "written"),
    [
        ("demo-seller-na", "ATVPDKIKX0DER", "2026-10-19 00:00:00 UTC"),
        ("demo-seller-eu", "A1PA6795UKMFR9", "19.10.2026 00:00:00 UTC"),
        ("demo-seller-fe", "A1VC38T7YXB528", "2026/10/19 00:00:00 UTC"),
    ],
)
def test_a_settlement_is_read_in_the_form_its_marketplace_writes_it(spark, account, marketplace, written):
    # GIVEN a settlement as the sandbox writes it for the marketplace (dates in its order, decimal commas in Germany)
    start, end = datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    report = REPORT_TYPES[SETTLEMENT_REPORT_TYPE].render(World(), ReportRequest(account, marketplace, start, end, {}))
    lines = ["\t".join(report.header), *("\t".join(row) for row in report.rows)]
    assert report.column("settlement-start-date")[0] == written
    # WHEN parsed with the marketplace's style
    batch = parse_flat_file(lines_df(spark, lines, marketplace_id=marketplace), list(report.header), SETTLEMENTS,
                            marketplace_style(marketplace))  # fmt: skip
    # THEN every row is typed: the period starts at midnight UTC and the amounts add up to the payout
    assert batch.quarantined.count() == 0
    rows = batch.valid.collect()
    (summary,) = [r for r in rows if r.transaction_type is None]
    assert summary.settlement_start_date == datetime(2026, 10, 19)
    assert summary.total_amount == sum(r.amount for r in rows if r.amount is not None) != 0
    assert all(r.posted_date is not None and r.posted_date_time is not None for r in rows if r.amount is not None)


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("deposit_date", "17.07.2024 11:43:27 UTC", datetime(2024, 7, 17, 11, 43, 27)),
        ("deposit_date", "2024-07-17 11:43:27 UTC", None),  # the ISO form is not Germany's
        ("deposit_date", "30.02.2026 11:43:27 UTC", None),
        ("posted_date", "17.07.2024", date(2024, 7, 17)),
        ("posted_date", "17.07.2024 11:43:27 UTC", None),
        ("amount", "1.234,56", Decimal("1234.56")),
        ("amount", "-3,22", Decimal("-3.22")),
        ("amount", "1234,5", Decimal("1234.50")),
        ("amount", "12.34", None),  # a decimal point is not Germany's: ambiguous with a thousands group
        ("amount", "1,234", None),  # more decimals than the column keeps: not rounded silently
    ],
)
def test_german_settlement_cells_are_read_the_german_way_or_not_at_all(spark, column, text, expected):
    (row,) = (
        spark.createDataFrame([(text,)], "raw string")
        .select(typed_value(SETTLEMENTS.column(column), F.col("raw"), marketplace_style("A1PA6795UKMFR9"))[0])
        .collect()
    )
    assert row[0] == expected


ODD_CELLS = {
    "open-date": "2024-07-17 11:43:27 UTC+99", "price": "9" * 40, "quantity": "99999999999999999999",
    "item-is-marketplace": "perhaps", "product-id-type": "１", "pending-quantity": "-",
}  # fmt: skip


@pytest.mark.parametrize("policy", ["EXCEPTION", "CORRECTED", "LEGACY"])
@pytest.mark.parametrize("ansi", ["true", "false"])
def test_no_cell_raises_whatever_the_sessions_ansi_and_time_parser_settings(spark, policy, ansi):
    # GIVEN a session in any of the modes Spark and Glue can run in (EXCEPTION is Spark 3's default, ANSI Spark 4's)
    saved = {k: spark.conf.get(k, None) for k in ("spark.sql.legacy.timeParserPolicy", "spark.sql.ansi.enabled")}
    spark.conf.set("spark.sql.legacy.timeParserPolicy", policy)
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        # WHEN cells no parser can read are typed (each alone in its row) next to a good row
        lines = [
            listing_line(),
            *(listing_line(**{name: text, "seller-sku": name}) for name, text in ODD_CELLS.items()),
        ]
        batch = parse_flat_file(lines_df(spark, lines), HEADER, LISTINGS)
        # THEN the good row is curated and every other one quarantined with its rule: nothing raised
        assert batch.valid.count() == 1
        assert sorted(r.rules for r in batch.quarantined.collect()) == sorted(
            ["invalid_timestamp:opened_at", "invalid_decimal(18,2):price", "invalid_int:quantity",
             "invalid_boolean:is_marketplace", "invalid_int:product_id_type", "invalid_int:pending_quantity"]
        )  # fmt: skip
    finally:
        for key, value in saved.items():
            spark.conf.unset(key) if value is None else spark.conf.set(key, value)


def test_a_line_with_bytes_that_are_not_utf8_is_quarantined_whole_with_its_text_kept(spark, tmp_path):
    # GIVEN a raw object with one line whose bytes are cp1252, not UTF-8 (Spark's text reader keeps bytes as they are)
    good, bad = listing_line(), listing_line(**{"item-name": "Kaffeem\u00fchle", "seller-sku": "SKU-2"})
    path = tmp_path / "raw.tsv"
    path.write_bytes("\n".join(["\t".join(HEADER), good]).encode() + b"\n" + bad.encode("cp1252") + b"\n")
    lines = spark.read.text(str(path)).select(
        "value", F.lit("r1").alias("object_id"), F.lit("k").alias("source_key"), F.lit(US).alias("marketplace_id"),
        F.to_date(F.lit("2026-11-20")).alias("data_date"), F.current_timestamp().alias("ingested_at"),
    )  # fmt: skip
    # WHEN parsed
    batch = parse_flat_file(lines, HEADER, LISTINGS)
    # THEN the good line is curated, the other quarantined with invalid_utf8 and its text (U+FFFD for the bad byte)
    assert [r.seller_sku for r in batch.valid.collect()] == ["SKU-1"]
    (quarantined,) = batch.quarantined.collect()
    assert quarantined.rules == "invalid_utf8" and "Kaffeem\ufffdhle" in quarantined.raw_line


@pytest.mark.parametrize(
    ("dataset", "head", "kind"),
    [
        ("merchant_listings", b"", "empty"),
        ("merchant_listings", b"\n \r\n", "empty"),
        ("merchant_listings", b"\x1f\x8b\x08\x00\x00\x00", "gzip"),
        ("merchant_listings", b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "html"),
        ("merchant_listings", b"\xef\xbb\xbf  <?xml version='1.0'?><Error/>", "html"),
        ("merchant_listings", b"amazon-order-id\tsku\tquantity\n111\tSKU-1\t1\n", "not_the_report"),
        ("merchant_listings", b"item-name\tseller-sku\xe4\n", "charset"),
        ("sales_and_traffic_by_date", b'[{"salesAndTrafficByDate": []}]', "json_shape"),
        ("sales_and_traffic_by_date", b"salesAndTrafficByDate", "json_malformed"),
    ],
)
def test_an_object_that_is_not_its_report_is_refused_from_its_first_bytes(dataset, head, kind):
    with pytest.raises(UnreadableObjectError) as refused:
        read_head(head, registry.dataset(dataset))
    assert refused.value.kind == kind


def test_a_flat_files_header_is_read_from_its_first_line_without_bom_or_cr():
    head = ("\ufeff" + "\t".join(HEADER) + "\r\n" + listing_line() + "\r\n").encode()
    assert read_head(head, LISTINGS) == HEADER
