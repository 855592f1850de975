"""The sandbox's world lives in time: reports show the facts as of the clock's now.

The expectations follow the timeline rules sandbox.commerce documents, checked here from each line's event times:
a line is Pending at purchase, ships 6-30 h later or (about 5% of the orders) is cancelled 1-48 h after purchase;
about 4% of the shipped lines are refunded 3-10 days after shipment. Sales & traffic of a day are restated until 7 days
after it (traffic at 80% of its final value the day after), vendor figures appear 72 h after their day starts,
settlements close every 14 days from 2024-01-01.
"""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox import truth
from sandbox.app import create_app
from sandbox.clock import ClockError, SandboxClock
from sandbox.commerce import Commerce, midnight
from sandbox.json_reports import report_period_error
from sandbox.report_content import ReportRequest
from sandbox.report_types import REPORT_TYPES, SETTLEMENT_REPORT_TYPE
from sandbox.state import Sandbox, SandboxConfig
from sandbox.world import World

SELLER, MARKET = "demo-seller-na", "ATVPDKIKX0DER"
VENDOR = "demo-vendor-na"
DAY = date(2026, 3, 3)  # a Tuesday; with seed 7 it has cancelled and refunded lines
BY_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
BY_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SHIPMENTS = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"
SALES_AND_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
VENDOR_SALES = "GET_VENDOR_SALES_REPORT"
VENDOR_OPTIONS = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}


def at(day: date, hours: float = 0) -> datetime:
    return midnight(day) + timedelta(hours=hours)


def render(world, report_type, start, end, now, account=SELLER, marketplace=MARKET, **options):
    request = ReportRequest(account, marketplace, start, end, options, now)
    return REPORT_TYPES[report_type].render(world, request)


def rows(report) -> list[dict[str, str]]:
    return [dict(zip(report.header, row, strict=True)) for row in report.rows]


def orders_of_day(world, day, now, report_type=BY_DATE) -> dict[tuple[str, str], dict[str, str]]:
    report = render(world, report_type, at(day), at(day + timedelta(days=1)), now)
    return {(row["amazon-order-id"], row["sku"]): row for row in rows(report)}


def line_key(line) -> tuple[str, str]:
    return line.order_id, line.listing.seller_sku


def iso_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7)


@pytest.fixture(scope="module")
def day_lines(world):
    return world.commerce.day_orders(SELLER, MARKET, DAY)


def test_the_clock_follows_process_time_or_starts_at_the_configured_date():
    # GIVEN a clock without a start and one starting on 2026-03-01
    follows, started = SandboxClock(), SandboxClock.starting_at(date(2026, 3, 1))
    # THEN the first is process time and the second began at that day's 00:00 UTC and runs on
    assert abs(follows.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert timedelta(0) <= started.now() - datetime(2026, 3, 1, tzinfo=UTC) < timedelta(seconds=1)
    # WHEN it is moved to a moment it shows that moment; it refuses to go back, set_now may
    started.advance_to(datetime(2026, 3, 4, 2, 30, tzinfo=UTC))
    assert timedelta(0) <= started.now() - datetime(2026, 3, 4, 2, 30, tzinfo=UTC) < timedelta(seconds=1)
    with pytest.raises(ClockError):
        started.advance_to(datetime(2026, 3, 1, tzinfo=UTC))
    started.set_now(datetime(2026, 3, 2, tzinfo=UTC))
    assert started.today() == date(2026, 3, 2)


def test_line_timelines_follow_the_documented_rules(world):
    # GIVEN two months of one marketplace's order lines
    lines = [x for n in range(60) for x in world.commerce.day_orders(SELLER, MARKET, DAY + timedelta(days=n))]
    orders = {x.order_id: x.cancels_at is not None for x in lines}
    shipped = [x for x in lines if x.ships_at is not None]
    refunded = [x for x in shipped if x.refunds_at is not None]
    # THEN each line ships 6-30 h after purchase or is cancelled 1-48 h after it, never both
    assert all((x.ships_at is None) != (x.cancels_at is None) for x in lines)
    assert all(timedelta(hours=6) <= x.ships_at - x.purchased_at < timedelta(hours=30) for x in shipped)
    cancelled = [x for x in lines if x.cancels_at is not None]
    assert all(timedelta(hours=1) <= x.cancels_at - x.purchased_at < timedelta(hours=48) for x in cancelled)
    # AND refunds post 3-10 days after shipment, only on shipped lines
    assert all(timedelta(days=3) <= x.refunds_at - x.ships_at < timedelta(days=10) for x in refunded)
    # AND about 5% of the orders are cancelled, about 4% of the shipped lines refunded
    assert 0.03 < sum(orders.values()) / len(orders) < 0.07
    assert 0.02 < len(refunded) / len(shipped) < 0.06


def test_yesterdays_pending_lines_ship_or_cancel_as_the_clock_advances(world, day_lines):
    # GIVEN the order report of DAY read at the next midnight, and two days later
    early = orders_of_day(world, DAY, at(DAY, 24))
    late = orders_of_day(world, DAY, at(DAY, 72))
    # THEN at midnight every line bought in the last hour is still Pending (nothing happens within 1 h), unpriced
    last_hour = [x for x in day_lines if x.purchased_at >= at(DAY, 23)]
    assert last_hour and all(early[line_key(x)]["order-status"] == "Pending" for x in last_hour)
    pending = [key for key, row in early.items() if row["order-status"] == "Pending"]
    assert all(early[key]["item-price"] == "" for key in pending)
    # AND two days later (48 h after the last purchase) no line is Pending: each shipped or was cancelled
    assert set(late) == set(early)
    assert {late[key]["order-status"] for key in pending} == {"Shipped", "Cancelled"}
    assert all(late[key]["order-status"] != "Pending" for key in late)
    for line in day_lines:
        row = late[line_key(line)]
        assert row["order-status"] == ("Cancelled" if line.cancels_at else "Shipped")
        if row["order-status"] == "Shipped":
            assert Decimal(row["item-price"]) == line.item_price
        else:
            assert row["quantity"] == "0"


def test_a_refund_appears_days_later_and_moves_last_updated(world, day_lines):
    # GIVEN a line of DAY that the buyer returns
    line = next(x for x in day_lines if x.refunds_at is not None)
    key = line_key(line)
    before, after = line.refunds_at - timedelta(seconds=1), line.refunds_at
    # WHEN the order report of its purchase day is read just before and at the refund
    row_before = orders_of_day(world, DAY, before)[key]
    row_after = orders_of_day(world, DAY, after)[key]
    # THEN the last update moves from the shipment to the refund; the order stays Shipped
    assert iso_utc(row_before["last-updated-date"]) == line.ships_at
    assert iso_utc(row_after["last-updated-date"]) == line.refunds_at
    assert row_before["order-status"] == row_after["order-status"] == "Shipped"
    # AND the refund is in the settlement of its 14-day period (counted from 2024-01-01) from then on, not before
    first = date(2024, 1, 1) + timedelta(days=(line.refunds_at.date() - date(2024, 1, 1)).days // 14 * 14)
    settle = (first, first + timedelta(days=14))

    def refunds(now):
        settlement = world.commerce.settlement(SELLER, MARKET, settle, now)
        return {x.line.order_item_id for x in settlement.lines if x.transaction_type == "Refund"}

    assert line.order_item_id not in refunds(before) and line.order_item_id in refunds(after)


def test_the_last_update_report_of_a_day_changes_when_its_lines_change(world, day_lines):
    # GIVEN the by-last-update report of DAY read at the next midnight and twelve days later
    early = orders_of_day(world, DAY, at(DAY, 24), BY_UPDATE)
    late = orders_of_day(world, DAY, at(DAY, 24 * 12), BY_UPDATE)
    # THEN at midnight it holds every line bought that day (the purchase is their latest event at the least)
    assert {line_key(x) for x in day_lines} <= set(early)
    # AND later the lines whose last event came after DAY have left it for the day of that event
    moved = [x for x in day_lines if (x.refunds_at or x.ships_at or x.cancels_at).date() > DAY]
    assert moved and not {line_key(x) for x in moved} & set(late)
    for line in moved:
        final = line.refunds_at or line.ships_at or line.cancels_at
        assert line_key(line) in orders_of_day(world, final.date(), at(DAY, 24 * 12), BY_UPDATE)
    # AND every line still in it had its latest event on DAY, as the last-updated column says
    assert all(iso_utc(row["last-updated-date"]).date() == DAY for row in late.values())
    assert early != late


def test_an_order_placed_after_now_is_in_no_report(world, day_lines):
    # GIVEN noon of DAY, and the lines of DAY bought in the afternoon (generated, not yet placed)
    now = at(DAY, 12)
    future = {line_key(x) for x in day_lines if x.purchased_at > now}
    placed = [x for x in day_lines if x.purchased_at <= now]
    assert future and placed
    window = (at(DAY - timedelta(days=1)), at(DAY + timedelta(days=2)))
    # THEN no order, change or shipment report shows them
    for report_type in (BY_DATE, BY_UPDATE, SHIPMENTS):
        shown = {(r["amazon-order-id"], r["sku"]) for r in rows(render(world, report_type, *window, now))}
        assert not shown & future, report_type
    # AND sales & traffic count only the lines placed by now that are not cancelled by now
    body = render(world, SALES_AND_TRAFFIC, at(DAY), at(DAY + timedelta(days=1)), now).json_body
    (record,) = body["salesAndTrafficByDate"]
    counted = [x for x in placed if x.cancels_at is None or x.cancels_at > now]
    assert record["salesByDate"]["unitsOrdered"] == sum(x.quantity for x in counted)
    assert [x["order_id"] for x in truth_lines(now)] == [x.order_id for x in placed]


def truth_lines(now):
    box = Sandbox(SandboxConfig(start=DAY))
    return truth.order_lines(box, SELLER, MARKET, DAY, now)


def test_sales_and_traffic_of_a_day_is_restated_until_seven_days_after_it(world):
    def report(now):
        return render(world, SALES_AND_TRAFFIC, at(DAY), at(DAY + timedelta(days=1)), now, asinGranularity="CHILD")

    # GIVEN the day's report read the day after, 8 days after and a month after
    next_day, eighth, month = (report(at(DAY + timedelta(days=n), 12)).json_body for n in (1, 8, 30))
    # THEN it differs between D+1 and D+8, and not after
    assert next_day != eighth
    assert eighth["salesAndTrafficByDate"] == month["salesAndTrafficByDate"]
    assert eighth["salesAndTrafficByAsin"] == month["salesAndTrafficByAsin"]
    # AND the day after, traffic is 80% of its final value (each ASIN's sessions rounded on its own)
    (early,), (final,) = next_day["salesAndTrafficByDate"], eighth["salesAndTrafficByDate"]
    asins = len(eighth["salesAndTrafficByAsin"])
    assert abs(early["trafficByDate"]["sessions"] - 0.8 * final["trafficByDate"]["sessions"]) <= asins
    assert early["trafficByDate"]["buyBoxPercentage"] < final["trafficByDate"]["buyBoxPercentage"]
    # AND units follow the lines not cancelled: final from two days on (cancellations happen within 48 h)
    assert early["salesByDate"]["unitsOrdered"] >= final["salesByDate"]["unitsOrdered"] > 0


def test_vendor_rows_of_a_day_are_absent_until_72_hours_after_it_starts(world):
    def body(now):
        report = render(world, VENDOR_SALES, at(DAY), at(DAY + timedelta(days=1)), now, VENDOR, MARKET,
                        **VENDOR_OPTIONS)  # fmt: skip
        return report.json_body

    # THEN no rows up to the last instant before D+72 h, rows from then on
    for now in (at(DAY, 24), at(DAY, 48), at(DAY, 72) - timedelta(microseconds=1)):
        assert body(now)["salesByAsin"] == [] and body(now)["salesAggregate"] == []
    third, eighth, later = body(at(DAY, 72)), body(at(DAY, 24 * 8)), body(at(DAY, 24 * 20))
    assert third["salesByAsin"] and {r["startDate"] for r in third["salesByAsin"]} == {DAY.isoformat()}
    # AND the figures are restated until D+7, final after
    assert third["salesByAsin"] != eighth["salesByAsin"] and eighth["salesByAsin"] == later["salesByAsin"]
    units = sum(r["orderedUnits"] for r in third["salesByAsin"])
    assert units < sum(r["orderedUnits"] for r in eighth["salesByAsin"])
    box = Sandbox(SandboxConfig(start=DAY))
    assert truth.vendor(box, VENDOR, MARKET, DAY, at(DAY, 48)) is None
    assert sum(int(x["orderedUnits"]) for x in truth.vendor(box, VENDOR, MARKET, DAY, at(DAY, 72)).values()) == units


def test_settlements_are_listed_only_once_their_period_has_ended():
    # GIVEN a sandbox starting 2026-03-01: periods are 14-day blocks from 2024-01-01, so 2026-02-23 to 2026-03-09
    box = Sandbox(SandboxConfig(start=date(2026, 3, 1)))
    query = {"reportTypes": [SETTLEMENT_REPORT_TYPE], "pageSize": ["100"]}

    def listed() -> set[str]:
        reports, _ = box.reports.search(SELLER, query)
        return {box.reports.as_json(r)["dataStartTime"][:10] for r in reports if r.request.marketplace_id == MARKET}

    # THEN the three periods closed before the start are listed, the open one is not
    assert listed() == {"2026-01-12", "2026-01-26", "2026-02-09"}
    box.clock.set_now(datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC))
    assert "2026-02-23" not in listed()
    # WHEN its end passes it is listed, created at the period's end, and the truth has it with its total
    box.clock.set_now(datetime(2026, 3, 9, tzinfo=UTC))
    assert "2026-02-23" in listed()
    reports, _ = box.reports.search(SELLER, query)
    report = next(
        r for r in reports
        if r.request.marketplace_id == MARKET and r.request.data_start_time == datetime(2026, 2, 23, tzinfo=UTC)
    )  # fmt: skip
    assert box.reports.as_json(report)["createdTime"] == "2026-03-09T00:00:00.000Z"
    closed = truth.settlements(box, SELLER, MARKET)
    assert [(x["start"], x["end"]) for x in closed] == [
        (date(2026, 1, 12), date(2026, 1, 26)),
        (date(2026, 1, 26), date(2026, 2, 9)),
        (date(2026, 2, 9), date(2026, 2, 23)),
        (date(2026, 2, 23), date(2026, 3, 9)),
    ]
    rendered = REPORT_TYPES[SETTLEMENT_REPORT_TYPE].render(box.world, report.request)
    summary, *lines = rows(rendered)
    assert summary["settlement-id"] == closed[-1]["settlement_id"]
    assert Decimal(summary["total-amount"]) == closed[-1]["total"] and len(lines) == closed[-1]["lines"] > 0


@pytest.mark.parametrize(
    ("start", "end", "refused"),
    [
        ("2026-03-01T00:00:00Z", "2026-03-07T23:59:59.999Z", False),  # Sunday to Saturday, inclusive end
        ("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z", False),  # the same week, exclusive midnight
        ("2026-03-02T00:00:00Z", "2026-03-08T23:59:59.999Z", True),  # Monday to Sunday
        ("2026-03-01T00:00:00Z", "2026-03-08T23:59:59.999Z", True),  # eight days
        ("2026-03-01T00:00:00Z", "2026-03-14T23:59:59.999Z", True),  # two weeks
    ],
)
def test_brand_analytics_week_windows_must_run_from_a_sunday_to_the_following_saturday(start, end, refused):
    request = ReportRequest(SELLER, MARKET, iso_utc(start), iso_utc(end), {"reportPeriod": "WEEK"})
    error = report_period_error("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", request)
    assert (error is not None) == refused
    if refused:
        assert "Sunday" in error and "Saturday" in error


def test_inclusive_and_exclusive_window_ends_select_the_same_day(world):
    now = at(DAY, 24 * 15)
    inclusive = datetime(2026, 3, 3, 23, 59, 59, 999000, tzinfo=UTC)
    for report_type in (BY_DATE, BY_UPDATE, SHIPMENTS, SALES_AND_TRAFFIC):
        exclusive_end = render(world, report_type, at(DAY), at(DAY + timedelta(days=1)), now)
        inclusive_end = render(world, report_type, at(DAY), inclusive, now)
        assert exclusive_end.rows == inclusive_end.rows and exclusive_end.json_body == inclusive_end.json_body


def test_a_window_reaching_past_now_has_data_up_to_now(world):
    now = at(DAY, 12)
    body = render(world, SALES_AND_TRAFFIC, at(DAY - timedelta(days=2)), at(DAY + timedelta(days=5)), now).json_body
    assert [r["date"] for r in body["salesAndTrafficByDate"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert body["reportSpecification"]["dataEndTime"] == "2026-03-03"
    purchases = [iso_utc(r["purchase-date"]) for r in rows(render(world, BY_DATE, at(DAY), at(DAY, 24 * 5), now))]
    assert purchases and max(purchases) <= now


def test_inventory_and_listings_snapshots_are_the_clocks_day(world):
    def snapshot(report_type, now, end):
        return render(world, report_type, end - timedelta(days=1), end, now).rows

    for report_type in ("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "GET_AFN_INVENTORY_DATA",
                        "GET_MERCHANT_LISTINGS_ALL_DATA"):  # fmt: skip
        # THEN the snapshot is today's whatever the window, and tomorrow's differs
        today = snapshot(report_type, at(DAY, 10), at(DAY, 10))
        assert snapshot(report_type, at(DAY, 10), at(DAY - timedelta(days=20))) == today
        assert snapshot(report_type, at(DAY, 20), at(DAY, 20)) == today
        assert snapshot(report_type, at(DAY, 34), at(DAY, 34)) != today


def test_the_same_clock_gives_byte_identical_reports_and_another_clock_other_ones():
    # GIVEN two worlds of the same seed whose clocks are set to the same moment
    first, second = (World(seed=7, clock=SandboxClock()) for _ in range(2))
    for world in (first, second):
        world.clock.set_now(datetime(2026, 3, 4, 2, 30, tzinfo=UTC))
    for kind in REPORT_TYPES.values():
        account = VENDOR if kind.account_kind == "vendor" else SELLER
        options = VENDOR_OPTIONS if kind.required_options else {}
        request = ReportRequest(account, MARKET, at(DAY - timedelta(days=6)), at(DAY + timedelta(days=2)), options)
        # THEN every report renders to the same bytes
        assert kind.render(first, request).encode("UTF-8") == kind.render(second, request).encode("UTF-8")
    second.clock.set_now(datetime(2026, 3, 5, 2, 30, tzinfo=UTC))
    request = ReportRequest(SELLER, MARKET, at(DAY - timedelta(days=2)), at(DAY + timedelta(days=1)), {})
    assert REPORT_TYPES[BY_UPDATE].render(first, request).rows != REPORT_TYPES[BY_UPDATE].render(second, request).rows


def test_the_truth_of_a_moment_is_what_the_reports_of_that_moment_show():
    # GIVEN a sandbox at D+2 noon and its reports of DAY rendered then
    box = Sandbox(SandboxConfig(start=DAY))
    box.clock.set_now(at(DAY, 60))
    now = box.clock.now()
    orders = rows(render(box.world, BY_DATE, at(DAY), at(DAY, 24), now))
    traffic = render(box.world, SALES_AND_TRAFFIC, at(DAY), at(DAY, 24), now, asinGranularity="CHILD").json_body
    shipped = rows(render(box.world, SHIPMENTS, at(DAY), at(DAY, 24), now))
    myi = rows(render(box.world, "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", now, now, now))
    # THEN the truth of DAY adds up to them
    (day,) = truth.daily(box, SELLER, MARKET, DAY, DAY, now)
    assert day["units_ordered"] == sum(int(r["quantity"]) for r in orders)
    units = Counter()
    for row in orders:
        units[row["asin"]] += int(row["quantity"])
    assert {a: x["units"] for a, x in day["by_asin"].items()} == {a: n for a, n in units.items() if n}
    assert day["sales_and_traffic"] == traffic["salesAndTrafficByDate"][0]
    by_asin = truth.sales_and_traffic_by_asin(box, SELLER, MARKET, DAY, DAY, now)
    assert by_asin == traffic["salesAndTrafficByAsin"]
    lines = truth.order_lines(box, SELLER, MARKET, DAY, now)
    assert [(x["order_id"], x["sku"], x["status"]) for x in lines] == [
        (r["amazon-order-id"], r["sku"], r["order-status"]) for r in orders
    ]
    assert {x["order_item_id"] for x in truth.shipments(box, SELLER, MARKET, DAY, now)} == {
        r["amazon-order-item-id"] for r in shipped
    }
    stock = truth.inventory(box, SELLER, MARKET, now)
    assert {r["sku"]: int(r["afn-fulfillable-quantity"]) for r in myi} == {
        sku: x["fulfillable"] for sku, x in stock.items() if x["fnsku"]
    }


def test_a_simulated_month_generates_each_day_once(monkeypatch):
    # GIVEN a sandbox read every day for a month, as a daily schedule would
    box = Sandbox(SandboxConfig(start=DAY))
    generated = Counter()
    original = Commerce._generate_day

    def counting(self, account_id, marketplace_id, day):
        generated[(account_id, marketplace_id, day)] += 1
        return original(self, account_id, marketplace_id, day)

    monkeypatch.setattr(Commerce, "_generate_day", counting)
    for n in range(30):
        box.clock.set_now(at(DAY + timedelta(days=n), 6))
        yesterday = DAY + timedelta(days=n - 1)
        for report_type in (BY_DATE, BY_UPDATE, SHIPMENTS, SALES_AND_TRAFFIC):
            render(box.world, report_type, at(yesterday), at(yesterday, 24), box.clock.now())
        truth.daily(box, SELLER, MARKET, yesterday - timedelta(days=7), yesterday)
    # THEN each day's orders were generated once, however often the clock moved
    assert generated and set(generated.values()) == {1}


def test_the_clock_and_truth_endpoints():
    client = create_app(Sandbox(SandboxConfig(start=date(2026, 3, 1)))).test_client()
    clock = client.get("/_sandbox/clock").get_json()
    assert clock["today"] == "2026-03-01" and clock["now"].startswith("2026-03-01T00:00")
    moved = client.post("/_sandbox/clock", json={"now": "2026-03-04T02:30:00Z"}).get_json()
    assert moved["now"].startswith("2026-03-04T02:30") and moved["today"] == "2026-03-04"
    back = client.post("/_sandbox/clock", json={"now": "2026-03-01T00:00:00Z"})
    assert back.status_code == 400 and back.get_json()["errors"][0]["code"] == "InvalidInput"
    params = {"account_id": SELLER, "marketplace_id": MARKET, "start": "2026-03-02", "end": "2026-03-05"}
    daily = client.get("/_sandbox/truth/daily", query_string=params).get_json()
    assert [d["date"] for d in daily["days"]] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert daily["days"][-1]["units_ordered"] == 0 and daily["days"][-1]["sales_and_traffic"] is None
    assert all({"order_lines", "units_ordered", "ordered_sales", "by_asin"} <= set(d) for d in daily["days"])
    assert daily["asOf"].startswith("2026-03-04T02:30")
    vendor = client.get("/_sandbox/truth/vendor", query_string={"account_id": VENDOR, "marketplace_id": MARKET,
                                                                 "date": "2026-03-02"}).get_json()  # fmt: skip
    assert vendor["available"] is False and vendor["asins"] is None
    orders = client.get("/_sandbox/truth/orders", query_string={**params, "date": "2026-03-03"}).get_json()
    assert orders["lines"] and json.dumps(orders)  # JSON all the way down
    missing = client.get("/_sandbox/truth/orders", query_string={"account_id": SELLER})
    assert missing.status_code == 400
