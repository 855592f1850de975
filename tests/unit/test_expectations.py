"""The value rules declared in the registry, rendered into each suite, and kept honest against Amazon's models and
the sandbox's reports; the suite's freshness and row-count expectations, rendered from a run's context."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lake_formation import registry
from lake_formation.registry import Column
from lake_formation.render import ROW_COUNT_BAND, RunContext, expectations
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_types import REPORT_TYPES, ReportRequest
from sandbox.world import World
from tests.spapi_contract import MODELS

RUN_TIME = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
US, JP = "ATVPDKIKX0DER", "A1VC38T7YXB528"
REPORTS = [t for t, d in registry.load_all().items() if d.source.kind == "report"]


def rules(dataset, column):
    """expectation type → keyword arguments, of the column's expectations (a currency's pair included)."""
    suite = expectations(dataset)
    return {e["type"]: e["kwargs"] for e in suite if column in (e["kwargs"].get("column"), e["kwargs"].get("column_B"))}


def test_each_declared_value_rule_renders_its_expectation():
    orders = registry.dataset("orders")
    assert rules(orders, "quantity")["expect_column_values_to_be_between"] == {"column": "quantity", "min_value": 0}
    assert (
        "Shipped - Delivered to Buyer"
        in rules(orders, "order_status")["expect_column_values_to_be_in_set"]["value_set"]
    )
    pairs = rules(orders, "currency")["expect_column_pair_values_to_be_in_set"]
    assert pairs["column_A"] == "marketplace_id" and pairs["ignore_row_if"] == "either_value_is_missing"
    assert {(m, c) for m, c in pairs["value_pairs_set"]} >= {(US, "USD"), (JP, "JPY"), ("A1PA6795UKMFR9", "EUR")}
    share = rules(registry.dataset("search_terms"), "click_share")["expect_column_values_to_be_between"]
    assert (share["min_value"], share["max_value"]) == (0, 1)  # a share, where Amazon's percentages go to 100
    assert rules(registry.dataset("sales_and_traffic_by_date"), "buy_box_percentage")[
        "expect_column_values_to_be_between"
    ] == {"column": "buy_box_percentage", "min_value": 0, "max_value": 100}


@pytest.mark.parametrize(
    ("table", "column"),
    [("settlements", "amount"), ("settlements", "total_amount"),  # fees and refunds; a payout can be negative
     ("vendor_sales", "ordered_revenue"), ("vendor_sales", "shipped_revenue"), ("vendor_sales", "shipped_cogs"),
     ("vendor_inventory", "net_received_inventory_units"), ("vendor_inventory", "open_purchase_order_units"),
     ("vendor_inventory", "sellable_on_hand_inventory_units"), ("vendor_inventory", "sellable_on_hand_inventory_cost"),
     ("orders", "item_promotion_discount"), ("fulfilled_shipments", "ship_promotion_discount")],
)  # fmt: skip
def test_amounts_amazon_reports_negative_declare_no_minimum(table, column):
    # Amazon's schemas say so for vendor figures ("can be negative": returns, backorders); settlements carry fees and
    # refunds as negative amounts; discounts are reported as negative in some reports.
    declared = registry.dataset(table).column(column)
    assert declared.min is None and "expect_column_values_to_be_between" not in rules(registry.dataset(table), column)


def _schema_property(schema, node, parts):
    node = schema["definitions"][node["$ref"].split("/")[-1]] if "$ref" in node else node
    if not parts:
        return node
    return _schema_property(schema, node["properties"][parts[0]], parts[1:])


@pytest.mark.parametrize("table", [t for t, d in registry.load_all().items() if d.source.format == "json"])
def test_json_report_columns_declare_every_bound_of_amazons_report_schema(table):
    dataset = registry.dataset(table)
    schema = json.loads((MODELS / f"report-schema_{dataset.source.report_type}.json").read_text())
    record = schema["properties"][dataset.source.record_path]["items"]
    for column in dataset.source_columns:
        prop = _schema_property(schema, record, column.source.split("."))
        for bound, declared in (("minimum", column.min), ("maximum", column.max)):
            if bound in prop:
                assert declared == prop[bound], f"{table}.{column.name}: Amazon's {bound} is {prop[bound]}"


def test_listings_enums_are_the_listings_items_models():
    definitions = json.loads((MODELS / "listingsItems_2021-08-01.json").read_text())["definitions"]
    listings = registry.dataset("listings_items")
    conditions = definitions["ItemSummaryByMarketplace"]["properties"]["conditionType"]["enum"]
    assert listings.column("condition_type").accepted_values == conditions
    assert listings.column("issue_severity").accepted_values == definitions["Issue"]["properties"]["severity"]["enum"]


def test_every_sandbox_marketplace_has_its_currency_in_the_registry():
    assert {m: registry.MARKETPLACE_CURRENCIES[m] for m in MARKETPLACES} == {
        m: market.currency_code for m, market in MARKETPLACES.items()
    }


def _values(dataset, report):
    """column name → every value the rendered report holds for it (text, as Amazon writes it)."""
    if report.json_body is None:
        index = {name: n for n, name in enumerate(report.header)}
        return {c.name: [row[index[c.source]] for row in report.rows] for c in dataset.source_columns}

    def at(record, parts):
        for part in parts:
            record = record.get(part) if isinstance(record, dict) else None
        return record

    records = report.json_body[dataset.source.record_path]
    return {c.name: [at(r, c.source.split(".")) for r in records] for c in dataset.source_columns}


def _broken(column, value, marketplace_id):
    """Why a value breaks the column's declared rule, or None."""
    if value in (None, ""):
        return None
    if (column.min is not None and Decimal(str(value)) < Decimal(str(column.min))) or (
        column.max is not None and Decimal(str(value)) > Decimal(str(column.max))
    ):
        return f"{value} outside {column.min}..{column.max}"
    if column.accepted_values is not None and value not in column.accepted_values:
        return f"{value!r} not accepted"
    if column.currency and value != registry.MARKETPLACE_CURRENCIES[marketplace_id]:
        return f"{value} is not the currency of {marketplace_id}"
    return None


@pytest.mark.parametrize("table", REPORTS)
def test_the_sandboxs_reports_break_no_declared_value_rule(table):
    # GIVEN every marketplace of every account that can request the report, over the last three weeks
    dataset = registry.dataset(table)
    kind = REPORT_TYPES[str(dataset.source.report_type)]
    world, end = World(), datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    checked = 0
    for account in (a for a in world.accounts if a.kind == kind.account_kind):
        for marketplace_id in account.marketplace_ids:
            options = dict(dataset.source.request.report_options) if dataset.source.request else {}
            request = ReportRequest(account.account_id, marketplace_id, end - timedelta(days=21), end, options)
            # WHEN the sandbox renders the report
            values = _values(dataset, kind.render(world, request))
            # THEN no value breaks a rule the suite checks
            for column in dataset.source_columns:
                broken = {why for v in values[column.name] if (why := _broken(column, v, marketplace_id))}
                assert not broken, f"{table}.{column.name} in {marketplace_id}: {sorted(broken)[:3]}"
                checked += len(values[column.name])
    assert checked > 0


def freshness(dataset, run):
    return [e for e in expectations(dataset, run) if e["type"] == "expect_column_max_to_be_between"]


def test_freshness_is_checked_on_the_batch_while_the_curated_table_holds_no_day_that_recent():
    vendor = registry.dataset("vendor_sales")  # vendor figures arrive 72 h late: 5 days
    batch = {US: 7}
    (first,) = freshness(vendor, RunContext(now=RUN_TIME, batch_days=batch))
    stale_table = RunContext(now=RUN_TIME, batch_days=batch, newest_day=date(2026, 11, 25))
    assert first["kwargs"] == {"column": vendor.curation.day, "min_value": date(2026, 11, 26)}
    assert freshness(vendor, stale_table) == [first]
    assert freshness(vendor, RunContext(now=RUN_TIME, batch_days=batch, newest_day=date(2026, 11, 26))) == []
    assert freshness(vendor, RunContext(now=RUN_TIME)) == []  # an empty batch changes nothing
    assert freshness(vendor, None) == []  # no run (a local file): columns only


def test_every_dataset_declares_how_fresh_its_newest_day_is():
    declared = {t: d.freshness_days for t, d in registry.load_all().items()}
    assert all(days is not None for days in declared.values()), declared
    # snapshots are taken daily; a settlement period's first day is 14 to 27 days back when its report appears
    assert {declared[t] for t, d in registry.load_all().items() if d.curation.semantics == "snapshot"} == {2}
    assert declared["settlements"] > 27


def row_counts(run, table="afn_inventory"):
    return [
        e for e in expectations(registry.dataset(table), run) if e["type"] == "expect_table_row_count_to_be_between"
    ]


def test_the_row_count_band_is_per_marketplace_and_per_day_and_skipped_without_a_baseline():
    # GIVEN a previous run with 60 US rows over 30 days (2 per day), and no Japanese rows
    run = RunContext(now=RUN_TIME, batch_days={US: 3, JP: 1}, previous={US: (60, 30)})
    # WHEN this batch spans 3 US days and 1 Japanese day
    (us,) = row_counts(run)
    # THEN the US rows must be 50%-200% of 2 per day over 3 days; Japan is not counted; the first run counts nothing
    low, high = ROW_COUNT_BAND
    assert (us["kwargs"]["min_value"], us["kwargs"]["max_value"]) == (int(low * 2 * 3), int(high * 2 * 3))
    assert us["kwargs"]["row_condition"]["parameter"] == US and us["meta"] == {"marketplace_id": US}
    assert row_counts(RunContext(now=RUN_TIME, batch_days={US: 3})) == []


def test_value_rules_must_fit_the_column_type():
    base = {"name": "x", "description": "x", "source": "x"}
    with pytest.raises(ValueError, match="numeric"):
        Column.model_validate({**base, "type": "string", "min": 0})
    with pytest.raises(ValueError, match="string"):
        Column.model_validate({**base, "type": "int", "accepted_values": ["1"]})
    with pytest.raises(ValueError, match="above max"):
        Column.model_validate({**base, "type": "double", "min": 1, "max": 0})
    assert Column.model_validate({**base, "type": "decimal(18,2)", "min": 0}).min == 0
