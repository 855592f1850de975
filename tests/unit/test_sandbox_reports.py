"""Every report the sandbox serves has the real layout, and the reports agree with each other (one world, as of one
moment: every render here is as of NOW, well after the windows, so their days are final)."""

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import jsonschema
import pytest

from sandbox.flat_reports import ALL_ORDERS_HEADER, FULFILLED_SHIPMENTS_HEADER, SETTLEMENT_V2_HEADER
from sandbox.report_content import ReportRequest
from sandbox.report_types import REPORT_TYPES, ReportOptionsError
from sandbox.world import World
from tests.spapi_contract import MODELS

WORLD = World(seed=7)
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=7)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
VENDOR_OPTIONS = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}


def render(report_type, account="demo-seller-eu", marketplace="A1PA6795UKMFR9", start=START, end=END, **options):
    return REPORT_TYPES[report_type].render(WORLD, ReportRequest(account, marketplace, start, end, options, NOW))


def as_dicts(report):
    return [dict(zip(report.header, row, strict=True)) for row in report.rows]


def settlement_amount(text: str) -> Decimal:
    """A settlement amount as the marketplace writes it: "1.234,56" in Germany, "1234.56" elsewhere."""
    return Decimal(text.replace(".", "").replace(",", ".") if "," in text else text)


@pytest.mark.parametrize("report_type", sorted(REPORT_TYPES))
def test_every_report_type_renders_rows_in_its_real_layout(report_type):
    kind = REPORT_TYPES[report_type]
    account, market = (
        ("demo-vendor-na", "ATVPDKIKX0DER") if kind.account_kind == "vendor" else ("demo-seller-na", "ATVPDKIKX0DER")
    )
    report = render(report_type, account, market, **(VENDOR_OPTIONS if kind.required_options else {}))
    assert report.row_count > 0
    if report.json_body is not None:
        schema = json.loads((MODELS / f"report-schema_{report_type}.json").read_text())
        jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report.json_body)
    else:
        assert len(set(report.header)) == len(report.header)
        assert all(len(row) == len(report.header) for row in report.rows)
        assert not any("\t" in cell or "\n" in cell for row in report.rows for cell in row)


def test_same_seed_renders_byte_identical_reports():
    report_type = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
    first = REPORT_TYPES[report_type].render(
        World(seed=7), ReportRequest("demo-seller-na", "ATVPDKIKX0DER", START, END, {}, NOW)
    )
    again = REPORT_TYPES[report_type].render(
        World(seed=7), ReportRequest("demo-seller-na", "ATVPDKIKX0DER", START, END, {}, NOW)
    )
    other = REPORT_TYPES[report_type].render(
        World(seed=8), ReportRequest("demo-seller-na", "ATVPDKIKX0DER", START, END, {}, NOW)
    )
    assert first.encode("UTF-8") == again.encode("UTF-8") != other.encode("UTF-8")


def test_order_report_has_amazon_cell_formats():
    rows = as_dicts(render("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"))
    assert rows and tuple(rows[0]) == ALL_ORDERS_HEADER
    for row in rows:
        assert datetime.fromisoformat(row["purchase-date"]).utcoffset() == timedelta(0)
        assert START <= datetime.fromisoformat(row["purchase-date"]) < END
        if row["order-status"] == "Shipped":
            assert row["currency"] == "EUR" and Decimal(row["item-price"]).as_tuple().exponent == -2
        if row["order-status"] == "Pending":
            assert row["item-price"] == ""  # Amazon leaves pending prices empty
        if row["order-status"] == "Cancelled":
            assert row["quantity"] == "0"
    assert {r["order-status"] for r in rows} >= {"Shipped", "Cancelled"}


def test_last_update_report_selects_by_last_updated_date():
    rows = as_dicts(render("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"))
    assert rows
    assert all(START <= datetime.fromisoformat(r["last-updated-date"]) < END for r in rows)
    assert any(datetime.fromisoformat(r["purchase-date"]) < START for r in rows)  # bought earlier, updated inside


@pytest.mark.parametrize("day", [date(2026, 11, 14), date(2026, 11, 17), date(2026, 7, 15)])
def test_units_ordered_per_asin_and_day_agree_between_orders_and_sales_and_traffic(day):
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    orders = as_dicts(
        render("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", start=start, end=start + timedelta(days=1))
    )
    from_orders = Counter()
    for row in orders:
        from_orders[row["asin"]] += int(row["quantity"])
    traffic = render(
        "GET_SALES_AND_TRAFFIC_REPORT", start=start, end=start + timedelta(days=1), asinGranularity="CHILD"
    ).json_body
    from_traffic = {r["childAsin"]: r["salesByAsin"]["unitsOrdered"] for r in traffic["salesAndTrafficByAsin"]}
    assert {a: n for a, n in from_traffic.items() if n} == {a: n for a, n in from_orders.items() if n}
    (by_date,) = traffic["salesAndTrafficByDate"]
    assert by_date["date"] == day.isoformat()
    assert by_date["salesByDate"]["unitsOrdered"] == sum(from_orders.values()) > 0


def test_prime_day_outsells_an_ordinary_july_day():
    def units(day):
        start = datetime(2026, 7, day, tzinfo=UTC)
        body = render("GET_SALES_AND_TRAFFIC_REPORT", start=start, end=start + timedelta(days=1)).json_body
        return body["salesAndTrafficByDate"][0]["salesByDate"]["unitsOrdered"]

    assert units(15) > 1.8 * units(8)


def test_settlement_adds_up_and_pays_out_the_orders_shipped_in_its_period():
    period_start, period_end = datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    report = render("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", start=period_start, end=period_end)
    assert report.header == SETTLEMENT_V2_HEADER
    summary, *lines = as_dicts(report)
    assert summary["total-amount"] and summary["transaction-type"] == ""
    assert settlement_amount(summary["total-amount"]) == sum(settlement_amount(line["amount"]) for line in lines)
    # The principal of each settled order line is the item price the shipment report shows for it.
    shipped = as_dicts(render("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", start=period_start, end=period_end))
    settled = {
        line["order-item-code"]: settlement_amount(line["amount"])
        for line in lines
        if line["transaction-type"] == "Order"
        and line["amount-description"] == "Principal"
        and line["fulfillment-id"] == "AFN"
    }
    assert settled == {row["amazon-order-item-id"]: Decimal(row["item-price"]) for row in shipped}
    assert {line["transaction-type"] for line in lines} == {"Order", "Refund"}


def test_fba_inventory_reports_agree_with_each_other_and_with_listings():
    myi = as_dicts(render("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))
    afn = as_dicts(render("GET_AFN_INVENTORY_DATA"))
    listings = as_dicts(render("GET_MERCHANT_LISTINGS_ALL_DATA"))
    fba_skus = {row["seller-sku"] for row in listings if row["fulfillment-channel"] != "DEFAULT"}
    assert {row["sku"] for row in myi} == fba_skus
    sellable = {
        row["seller-sku"]: int(row["Quantity Available"])
        for row in afn
        if row["Warehouse-Condition-code"] == "SELLABLE"
    }
    assert sellable == {row["sku"]: int(row["afn-fulfillable-quantity"]) for row in myi}
    for row in myi:
        parts = ("afn-fulfillable-quantity", "afn-unsellable-quantity", "afn-reserved-quantity")
        assert int(row["afn-warehouse-quantity"]) == sum(int(row[p]) for p in parts)


def test_shipments_are_shipped_fba_lines_of_the_order_report():
    shipped = as_dicts(render("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"))
    # A line ships up to 30 h after its purchase: the shipments of the window were bought from two days before it.
    orders = as_dicts(render("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", start=START - timedelta(days=2)))
    fba_shipped = {
        (r["amazon-order-id"], r["sku"])
        for r in orders
        if r["order-status"] == "Shipped" and r["fulfillment-channel"] == "Amazon"
    }
    assert shipped and {(r["amazon-order-id"], r["sku"]) for r in shipped} <= fba_shipped
    assert tuple(shipped[0]) == FULFILLED_SHIPMENTS_HEADER
    assert datetime.fromisoformat(shipped[0]["shipment-date"]).utcoffset() != timedelta(0)  # local time, Germany


def test_japanese_shipments_carry_points_granted():
    report = render("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", "demo-seller-fe", "A1VC38T7YXB528")
    assert report.header[-1] == "points-granted" and report.header[:-1] == FULFILLED_SHIPMENTS_HEADER


def test_vendor_aggregates_are_the_sum_of_their_asins():
    body = render(
        "GET_VENDOR_SALES_REPORT", "demo-vendor-na", "ATVPDKIKX0DER", **{**VENDOR_OPTIONS, "reportPeriod": "WEEK"}
    ).json_body
    units = defaultdict(int)
    for row in body["salesByAsin"]:
        units[row["startDate"]] += row["shippedUnits"]
    assert units == {row["startDate"]: row["shippedUnits"] for row in body["salesAggregate"]}
    assert all(
        date.fromisoformat(r["startDate"]).weekday() == 6
        or r["startDate"] == body["reportSpecification"]["dataStartTime"]
        for r in body["salesAggregate"]
    )


@pytest.mark.parametrize(
    ("report_type", "kind", "options", "message"),
    [
        ("GET_VENDOR_SALES_REPORT", "vendor", {"reportPeriod": "DAY"}, "requires reportOptions"),
        ("GET_VENDOR_SALES_REPORT", "seller", VENDOR_OPTIONS, "vendor accounts only"),
        ("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", "seller", {}, "reportPeriod"),
        ("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "seller", {}, "cannot be requested"),
    ],
)
def test_report_requests_amazon_would_refuse_are_refused(report_type, kind, options, message):
    with pytest.raises(ReportOptionsError, match=message):
        REPORT_TYPES[report_type].check(kind, options)
