"""The registry renders a great-expectations suite; a curated batch that breaks it is caught, with the reasons."""

from datetime import UTC, date, datetime

from pyspark.sql.types import StructField, StructType

from glue_jobs.common.spark_types import curated_schema
from glue_jobs.common.validation import validate
from lake_formation import registry
from lake_formation.render import expectations

AFN = registry.dataset("afn_inventory")


def test_the_suite_covers_every_column_the_required_ones_and_the_dedupe_key():
    suite = expectations(AFN)
    exists = {e["kwargs"]["column"] for e in suite if e["type"] == "expect_column_to_exist"}
    required = {e["kwargs"]["column"] for e in suite if e["type"] == "expect_column_values_to_not_be_null"}
    (unique,) = [e for e in suite if e["type"] == "expect_compound_columns_to_be_unique"]
    assert exists == {c.name for c in AFN.columns}
    assert required == {c.name for c in AFN.columns if not c.nullable}
    assert unique["kwargs"]["column_list"] == AFN.dedupe_key


def batch(spark, rows):
    """A batch as the job would validate it, but with nulls allowed anywhere (to build bad batches)."""
    schema = StructType([StructField(f.name, f.dataType, True) for f in curated_schema(AFN)])
    return spark.createDataFrame(rows, schema)


def row(sku, quantity=5, condition="SELLABLE"):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    values = {"seller_sku": sku, "fulfillment_channel_sku": "X001", "asin": "B0TEST", "condition_type": "NewItem",
              "warehouse_condition_code": condition, "quantity_available": quantity, "report_id": "1",
              "ingested_at": now, "marketplace_id": "ATVPDKIKX0DER", "snapshot_date": date(2026, 11, 20)}  # fmt: skip
    return [values[c.name] for c in AFN.data_columns + AFN.partition_columns]


def test_a_clean_batch_passes(spark, tmp_path):
    outcome = validate(AFN, batch(spark, [row("A"), row("B"), row("A", condition="UNSELLABLE")]), "t1", tmp_path)
    assert outcome.success and outcome.failed == [] and outcome.evaluated == len(expectations(AFN))
    assert (outcome.docs_dir / "index.html").exists()  # Data Docs, browsable


def test_a_null_required_value_and_a_duplicate_key_fail_with_their_reasons(spark, tmp_path):
    outcome = validate(AFN, batch(spark, [row("A"), row("A"), row(None)]), "t2", tmp_path)
    assert not outcome.success
    assert "expect_column_values_to_not_be_null(seller_sku): 1 unexpected" in outcome.failed
    assert any(f.startswith("expect_compound_columns_to_be_unique(") for f in outcome.failed)
    assert outcome.results["success"] is False
