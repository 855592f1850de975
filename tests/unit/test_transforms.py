from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import StructField, StructType
from pyspark.testing import assertDataFrameEqual

from glue_jobs.common.spark_types import curated_schema
from glue_jobs.curate_reports.job import merge, touched_partitions
from glue_jobs.curate_reports.transforms import deduplicate, parse_flat_file, parse_json_records, typed_value
from lake_formation import registry
from sandbox.report_types import MERCHANT_LISTINGS_HEADER

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
    assert good.buy_box_percentage == 97.5 and good.window_date == date(2026, 11, 1)
    (bad,) = batch.quarantined.collect()
    assert bad.rules == "invalid_int:units_ordered" and '"unitsOrdered":"1x"' in bad.raw_line
    # AND paths the documents do not carry are reported as missing columns
    assert "salesByDate.unitsRefunded" in batch.missing_columns


def test_a_restated_day_replaces_the_curated_rows_of_that_day_and_keeps_the_others(spark):
    # GIVEN the lake holds order lines of 1 and 2 November; Amazon restates 2 November (a line changed, one added)
    orders = registry.dataset("orders")

    def line(order_id: str, quantity: int, report_id: str, ingested: datetime) -> dict:
        return {"amazon_order_id": order_id, "sku": "SKU-1", "quantity": quantity, "report_id": report_id,
                "ingested_at": ingested, "marketplace_id": US, "window_date": date(2026, 11, 2)}  # fmt: skip

    in_lake_day_2 = curated_rows(spark, orders, line("111-2", 1, "r2", datetime(2026, 11, 3)))
    restated_at = datetime(2026, 11, 9)
    restated = curated_rows(spark, orders, line("111-2", 3, "r3", restated_at), line("111-3", 1, "r3", restated_at))
    # WHEN the job's steps find the partitions the run rewrites and merge the run's rows with what those hold
    touched = touched_partitions(restated, orders)
    merged = merge(restated, in_lake_day_2, orders)
    # THEN only 2 November is rewritten (1 November keeps its rows), and it holds the restatement
    assert touched == [{"marketplace_id": US, "window_date": "2026-11-02"}]
    assertDataFrameEqual(
        merged.rows.select("amazon_order_id", "quantity", "report_id", "window_date"),
        spark.createDataFrame(
            [("111-2", 3, "r3", date(2026, 11, 2)), ("111-3", 1, "r3", date(2026, 11, 2))],
            "amazon_order_id string, quantity int, report_id string, window_date date",
        ),
    )
    assert merged.new_rows == 2
    assert merged.rows.columns == [f.name for f in curated_schema(orders)]


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
    same = {"asin": "B000000001", "marketplace_id": "ATVPDKIKX0DER", "window_date": date(2026, 11, 20),
            "ingested_at": INGESTED}  # fmt: skip
    rows = curated_rows(
        spark, catalog, {**same, "batch_id": "aaa", "item_name": "old"}, {**same, "batch_id": "bbb", "item_name": "new"}
    )
    # WHEN deduplicated
    result = deduplicate(rows, catalog)
    # THEN the later batch id wins
    assert [(r.batch_id, r.item_name) for r in result.collect()] == [("bbb", "new")]
