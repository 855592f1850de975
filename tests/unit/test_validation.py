"""The registry renders a great-expectations suite; a curated batch that breaks it is caught, with the reasons."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pyspark.sql.types import StructField, StructType

from glue_jobs.common import validation
from glue_jobs.common.spark_types import curated_schema
from glue_jobs.common.validation import validate
from glue_jobs.curate_reports.job import ROW_COUNT, previous_reports, run_context
from glue_jobs.curate_reports.report import BatchRows, RunReport, ValidationSummary
from lake_formation import registry
from lake_formation.render import RunContext, expectations

AFN = registry.dataset("afn_inventory")
SALES = registry.dataset("sales_and_traffic_by_date")
RUN_TIME = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
US, JP = "ATVPDKIKX0DER", "A1VC38T7YXB528"


def test_the_suite_covers_every_column_the_required_ones_and_the_dedupe_key():
    suite = expectations(AFN)
    exists = {e["kwargs"]["column"] for e in suite if e["type"] == "expect_column_to_exist"}
    required = {e["kwargs"]["column"] for e in suite if e["type"] == "expect_column_values_to_not_be_null"}
    (unique,) = [e for e in suite if e["type"] == "expect_compound_columns_to_be_unique"]
    assert exists == {c.name for c in AFN.columns}
    assert required == {c.name for c in AFN.columns if not c.nullable}
    assert unique["kwargs"]["column_list"] == AFN.dedupe_key


def batch(spark, rows, dataset=AFN):
    """A batch as the job would validate it, but with nulls allowed anywhere (to build bad batches)."""
    schema = StructType([StructField(f.name, f.dataType, True) for f in curated_schema(dataset)])
    return spark.createDataFrame(rows, schema)


def row(sku, quantity=5, condition="SELLABLE", market=US, day=date(2026, 11, 20)):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    values = {"seller_sku": sku, "fulfillment_channel_sku": "X001", "asin": "B0TEST", "condition_type": "NewItem",
              "warehouse_condition_code": condition, "quantity_available": quantity, "report_id": "1",
              "ingested_at": now, "marketplace_id": market, "snapshot_date": day}  # fmt: skip
    return [values[c.name] for c in AFN.data_columns + AFN.partition_columns]


def sales_row(day, market=US, currency="USD", buy_box=97.5):
    """One day of sales and traffic; the columns not given here are null (all nullable)."""
    values = {"date": day, "ordered_product_sales": Decimal("129.90"), "currency": currency, "units_ordered": 10,
              "sessions": 120, "page_views": 192, "buy_box_percentage": buy_box, "unit_session_percentage": 8.33,
              "report_id": "1", "ingested_at": datetime(2026, 11, 30, tzinfo=UTC),
              "marketplace_id": market}  # fmt: skip
    for column in SALES.columns:  # a column derived from another (the partition's month of the day)
        if getattr(column, "month_of", None):
            values[column.name] = values[column.month_of].strftime("%Y-%m")
        elif getattr(column, "day_of", None):
            values[column.name] = values[column.day_of].date()
    return [values.get(c.name) for c in SALES.data_columns + SALES.partition_columns]


def context(rows, dataset=AFN, **kwargs):
    """The run context the job would build for these rows: the run's time, each marketplace's curation days."""
    names = [c.name for c in dataset.data_columns + dataset.partition_columns]
    market, day = names.index("marketplace_id"), names.index(dataset.curation.day)
    days: dict[str, set] = {}
    for values in rows:
        days.setdefault(values[market], set()).add(values[day])
    return RunContext(now=RUN_TIME, batch_days={m: len(d) for m, d in days.items()}, **kwargs)


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


def test_a_negative_quantity_fails_its_range_and_zero_passes(spark, tmp_path):
    broken = validate(AFN, batch(spark, [row("A", quantity=-3), row("B")]), "range-bad", tmp_path)
    fine = validate(AFN, batch(spark, [row("A", quantity=0), row("B")]), "range-ok", tmp_path)
    assert broken.failed == ["expect_column_values_to_be_between(quantity_available): 1 unexpected, e.g. [-3]"]
    assert fine.success and fine.failed == []


def test_a_percentage_above_100_fails_and_100_passes(spark, tmp_path):
    days = [date(2026, 11, 29), date(2026, 11, 30)]
    broken = validate(SALES, batch(spark, [sales_row(days[0], buy_box=100.5), sales_row(days[1])], SALES), "pct-bad",
                      tmp_path)  # fmt: skip
    fine = validate(SALES, batch(spark, [sales_row(days[0], buy_box=100.0), sales_row(days[1])], SALES), "pct-ok",
                    tmp_path)  # fmt: skip
    assert broken.failed == ["expect_column_values_to_be_between(buy_box_percentage): 1 unexpected, e.g. [100.5]"]
    assert fine.success


def test_a_status_amazon_does_not_send_fails_and_the_documented_ones_pass(spark, tmp_path):
    broken = validate(AFN, batch(spark, [row("A", condition="sellable"), row("B")]), "set-bad", tmp_path)
    fine = validate(AFN, batch(spark, [row("A", condition="UNSELLABLE"), row("B")]), "set-ok", tmp_path)
    assert broken.failed == [
        "expect_column_values_to_be_in_set(warehouse_condition_code): 1 unexpected, e.g. ['sellable']"
    ]
    assert fine.success


def test_a_currency_other_than_the_marketplaces_fails_and_a_missing_one_passes(spark, tmp_path):
    day = date(2026, 11, 30)
    broken = validate(SALES, batch(spark, [sales_row(day), sales_row(day, market=JP, currency="USD")], SALES),
                      "currency-bad", tmp_path)  # fmt: skip
    fine = validate(SALES, batch(spark, [sales_row(day, currency=None), sales_row(day, market=JP, currency="JPY")],
                                 SALES), "currency-ok", tmp_path)  # fmt: skip
    assert broken.failed == [
        f"expect_column_pair_values_to_be_in_set(marketplace_id,currency): 1 unexpected, e.g. [('{JP}', 'USD')] "
        "(currency is the currency of the row's marketplace)"
    ]
    assert fine.success


def test_a_batch_older_than_the_datasets_freshness_fails_unless_the_table_already_holds_a_fresh_day(spark, tmp_path):
    # GIVEN sales and traffic, whose newest day may be 3 days before the run (2026-12-01): 2026-11-28 at the oldest
    assert SALES.freshness_days == 3
    stale = [sales_row(date(2026, 11, 26)), sales_row(date(2026, 11, 27))]
    fresh = [sales_row(date(2026, 11, 27)), sales_row(date(2026, 11, 28))]
    # WHEN the curated table holds nothing yet, or a day as stale as the batch
    first = validate(SALES, batch(spark, stale, SALES), "fresh-first", tmp_path, context(stale, SALES))
    later = validate(SALES, batch(spark, stale, SALES), "fresh-later", tmp_path,
                     context(stale, SALES, newest_day=date(2026, 11, 27)))  # fmt: skip
    # THEN the stale batch is refused, the fresh one is not, and a backfill into a fresh table is not
    reason = ("expect_column_max_to_be_between(date): observed 2026-11-27, expected at least 2026-11-28 "
              "(the newest date may be 3 days before the run on 2026-12-01)")  # fmt: skip
    assert first.failed == [reason] and later.failed == [reason]
    assert validate(SALES, batch(spark, fresh, SALES), "fresh-ok", tmp_path, context(fresh, SALES)).success
    backfill = context(stale, SALES, newest_day=date(2026, 11, 30))
    assert validate(SALES, batch(spark, stale, SALES), "fresh-backfill", tmp_path, backfill).success


def test_a_marketplaces_rows_per_day_outside_the_band_of_the_previous_runs_fail(spark, tmp_path):
    # GIVEN a previous run with 2 rows per snapshot day in the US (4 rows over 2 days), and none in Japan; a table
    # holding yesterday's snapshot (the batch's old day is a backfill: not a freshness failure)
    previous, day = {US: (4, 2)}, date(2026, 11, 30)
    grown = [row(sku) for sku in "ABCDE"] + [row(sku, market=JP) for sku in "ABCDEFGHIJ"]
    usual = [row(sku) for sku in "ABC"] + [row(sku, market=JP) for sku in "ABCDEFGHIJ"]
    # WHEN a batch holds 5 US rows in one day (more than 200% of 2), or 3 (within 50%-200%)
    broken = validate(AFN, batch(spark, grown), "count-no", tmp_path, context(grown, previous=previous, newest_day=day))
    fine = validate(AFN, batch(spark, usual), "count-ok", tmp_path, context(usual, previous=previous, newest_day=day))
    # THEN the first is refused for the US; Japan, which the previous run did not have, is not counted
    assert broken.failed == [
        f"{ROW_COUNT}(marketplace_id={US}): observed 5, expected between 1 and 4 "
        "(50% to 200% of the previous run's 2.0 rows per day, times 1 day)"
    ]
    assert fine.success


def test_the_spark_engine_and_the_in_memory_engine_give_the_same_verdicts(spark, tmp_path, monkeypatch):
    # GIVEN batches breaking ranges, sets, nulls, keys, freshness and row counts (the in-memory engine validates them
    # unless they are larger than IN_MEMORY_ROWS)
    stale = [sales_row(date(2026, 11, 26), buy_box=100.5), sales_row(date(2026, 11, 26), market=JP, currency="USD")]
    inventory = [row("A", quantity=-3), row("A"), row(None, condition="sellable")] + [row(s) for s in "BCDEF"]
    cases = [(SALES, stale, context(stale, SALES)),
             (AFN, inventory, context(inventory, previous={US: (2, 1)}, newest_day=date(2026, 11, 30)))]  # fmt: skip

    def verdicts(name):
        return [validate(ds, batch(spark, rows, ds), f"{name}-{ds.table}", tmp_path / name, run)
                for ds, rows, run in cases]  # fmt: skip

    in_memory = verdicts("pandas")
    # WHEN the same batches are validated by great-expectations' Spark engine
    monkeypatch.setattr(validation, "IN_MEMORY_ROWS", 0)
    on_spark = verdicts("spark")
    # THEN every expectation fails or passes alike, with the same reason
    assert [sorted(v.failed) for v in on_spark] == [sorted(v.failed) for v in in_memory]
    assert [sorted(f.split("(")[0] for f in v.failed) for v in in_memory] == [
        ["expect_column_max_to_be_between", "expect_column_pair_values_to_be_in_set",
         "expect_column_values_to_be_between"],
        ["expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
         "expect_column_values_to_not_be_null", "expect_compound_columns_to_be_unique", ROW_COUNT],
    ]  # fmt: skip


def summary(failed=(), batch_rows=None, newest=None):
    return ValidationSummary(success=not failed, evaluated=10, failed=list(failed), batch=batch_rows or {},
                             newest_day=newest)  # fmt: skip


def report(run_id, validation=None):
    status = "NO_NEW_DATA" if validation is None else ("SUCCEEDED" if validation.success else "VALIDATION_FAILED")
    return RunReport(dataset="afn_inventory", run_id=run_id, raw_objects=0 if validation is None else 1,
                     status=status, validation=validation)  # fmt: skip


def test_the_baseline_is_the_latest_run_whose_row_count_was_accepted_and_runs_with_nothing_new_are_passed_over():
    # GIVEN, latest first: a run with nothing new, a run refused for its US row count, a run refused for a null
    refused_count = summary([f"{ROW_COUNT}(marketplace_id={US}): observed 50, expected between 1 and 4"],
                            {US: BatchRows(rows=50, days=1)}, newest=date(2026, 11, 29))  # fmt: skip
    refused_null = summary(["expect_column_values_to_not_be_null(seller_sku): 1 unexpected"],
                           {US: BatchRows(rows=6, days=3)}, newest=date(2026, 11, 28))  # fmt: skip
    older = summary(batch_rows={US: BatchRows(rows=9, days=9)}, newest=date(2026, 11, 20))
    reports = [report("r4"), report("r3", refused_count), report("r2", refused_null), report("r1", older)]
    # WHEN the next run builds its context
    run = run_context(iter(reports), {US: BatchRows(rows=2, days=1)}, RUN_TIME)
    # THEN the newest day is the latest validated run's, the baseline the latest run whose count was not refused
    assert run.newest_day == date(2026, 11, 29)
    assert run.previous == {US: (6, 3)} and run.batch_days == {US: 1}
    assert run_context(iter([report("r1")]), {}, RUN_TIME).previous == {}  # the first run: no baseline


class FakeS3:
    """The two S3 calls previous_reports makes, over objects held in memory (key → (last modified, body))."""

    def __init__(self, objects):
        self.objects = objects
        self.read = []

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket, Prefix):  # noqa: N803 - boto3's argument names
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        yield {"Contents": [{"Key": k, "LastModified": self.objects[k][0]} for k in keys[:2]]}
        yield {"Contents": [{"Key": k, "LastModified": self.objects[k][0]} for k in keys[2:]]}

    def get_object(self, Bucket, Key):  # noqa: N803
        self.read.append(Key)
        return {"Body": FakeBody(self.objects[Key][1])}


class FakeBody:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


def test_previous_reports_are_read_latest_first_without_validation_results_or_other_tables():
    at = [datetime(2026, 11, day, tzinfo=UTC) for day in (28, 29, 30)]
    s3 = FakeS3({
        "_runs/afn_inventory/b.json": (at[0], report("b").model_dump_json().encode()),
        "_runs/afn_inventory/a.json": (at[2], report("a").model_dump_json().encode()),
        "_runs/afn_inventory/a.validation.json": (at[2], b"{}"),
        "_runs/afn_inventory/c.json": (at[1], b"not a report"),
        "_runs/afn_inventory_v2/z.json": (at[2], report("z").model_dump_json().encode()),
    })  # fmt: skip
    assert [r.run_id for r in previous_reports(s3, "curated", "afn_inventory")] == ["a", "b"]
    assert s3.read == ["_runs/afn_inventory/a.json", "_runs/afn_inventory/c.json", "_runs/afn_inventory/b.json"]


@pytest.mark.parametrize("table", sorted(registry.load_all()))
def test_every_suite_builds_as_great_expectations_objects(table):
    from glue_jobs.common.validation import _expectation  # noqa: PLC0415

    run = RunContext(now=RUN_TIME, batch_days={US: 2}, previous={US: (10, 5)})
    built = [_expectation(config) for config in expectations(registry.dataset(table), run)]
    assert len(built) == len(expectations(registry.dataset(table), run))
