"""The insight views against the sandbox's ground truth, queried as the analyst role (through Lake Formation's
grants, local/governed.py), after every simulated day.

Each expected figure comes from sandbox/truth.py at the moment of the report that owns the day (as the table checks
in local/truth_check.py do); nothing here runs a view's SQL or computes a figure from the lake's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from local.truth_check import Context, TruthCheck, _latest_as_of, _money, compare_days
from sandbox import truth
from sandbox.truth import OrderLineTruth

if TYPE_CHECKING:
    from collections.abc import Callable

    from local.governed import Session


@dataclass
class OrderTruth:
    """Amazon's order lines of a marketplace per purchase day, at the latest order report's moment, and which ASINs
    of a day have a line still changing (its last change after the last complete day: the lake has it tomorrow)."""

    ctx: Context
    account: str
    market: str
    _days: dict[date, tuple[dict[str, list[OrderLineTruth]], set[str]]] = field(default_factory=dict)

    def day(self, day: date) -> tuple[dict[str, list[OrderLineTruth]], set[str]]:
        if day not in self._days:
            moment = max(_latest_as_of(self.ctx, t).get(self.market, self.ctx.box.clock.now())
                         for t in ("orders", "order_updates"))  # fmt: skip
            horizon = datetime(self.ctx.today.year, self.ctx.today.month, self.ctx.today.day, tzinfo=UTC)
            lines: dict[str, list[OrderLineTruth]] = {}
            in_flight: set[str] = set()
            for line in truth.order_lines(self.ctx.box, self.account, self.market, day, moment):
                lines.setdefault(line["asin"], []).append(line)
                if line["last_updated_at"] >= horizon:
                    in_flight.add(line["asin"])
            self._days[day] = (lines, in_flight)
        return self._days[day]

    def units(self, day: date) -> tuple[dict[str, int], set[str]]:
        lines, in_flight = self.day(day)
        return {asin: sum(x["quantity"] for x in items if x["status"] != "Cancelled")
                for asin, items in lines.items()}, in_flight  # fmt: skip


def check_daily_sales(ctx: Context, session: Session) -> TruthCheck:
    """Units, lines and shipped sales per ASIN × marketplace × purchase day equal Amazon's order lines at their
    latest status; refunds per ASIN × posting day equal the refunds in the settlements Amazon closed."""
    result = TruthCheck("view daily_sales")
    lake = {(r["marketplace_id"], r["day"], r["asin"]): r for r in session.rows("SELECT * FROM daily_sales")}
    for account, market in ctx.sellers:
        orders = OrderTruth(ctx, account, market)
        refunds = truth.settled_refunds(ctx.box, account, market, _latest_as_of(ctx, "settlements").get(market))
        covered = {date.fromisoformat(d) for m, d in ctx.owners("orders") if m == market}
        days = covered | {d for m, d, _ in lake if m == market} | {d for _, d in refunds}
        for day in sorted(d for d in days if d < ctx.today):
            # Before the orders' look-back the lake has only the lines the change feed brought back and the
            # refunds (settlements reach further back): only refunds are compared there.
            lines, in_flight = orders.day(day) if day in covered else ({}, set())
            for asin in sorted(set(lines) | {a for m, d, a in lake if m == market and d == day}
                               | {a for a, d in refunds if d == day}):  # fmt: skip
                if asin in in_flight:
                    result.in_flight += 1
                    continue
                counted = [x for x in lines.get(asin, []) if x["status"] != "Cancelled"]
                expected = (sum(x["quantity"] for x in counted), len(counted),
                            _money(sum((x["item_price"] for x in counted if x["status"] == "Shipped"), Decimal(0))),
                            _money(refunds.get((asin, day), Decimal(0))))  # fmt: skip
                row = lake.get((market, day, asin))
                found = (row["units_ordered"], row["order_lines"], _money(row["shipped_sales"]),
                         _money(row["refunds"])) if row else (0, 0, _money(0), _money(0))  # fmt: skip
                result.rows += 1
                if found != expected if day in covered else found[3] != expected[3]:
                    result.differ(f"{market} {day} {asin}: units, lines, shipped, refunds {found} != {expected}")
    return result


def _units_over(orders: OrderTruth, days: list[date]) -> tuple[dict[str, int], set[str]]:
    """Units per ASIN summed over days, and the ASINs with a line still changing on any of them."""
    total: dict[str, int] = {}
    changing: set[str] = set()
    for day in days:
        units, in_flight = orders.units(day)
        changing |= in_flight
        for asin, count in units.items():
            total[asin] = total.get(asin, 0) + count
    return total, changing


def check_conversion(ctx: Context, session: Session) -> TruthCheck:
    """Sessions, page views, units and the two percentages per marketplace × day equal Amazon's by-date record."""
    result, owners = TruthCheck("view conversion"), ctx.owners("sales_and_traffic_by_date")
    fields = {"sessions": ("trafficByDate", "sessions"), "page_views": ("trafficByDate", "pageViews"),
              "units_ordered": ("salesByDate", "unitsOrdered"),
              "unit_session_percentage": ("trafficByDate", "unitSessionPercentage"),
              "buy_box_percentage": ("trafficByDate", "buyBoxPercentage")}  # fmt: skip
    lake = {(r["marketplace_id"], str(r["day"])): r for r in session.rows("SELECT * FROM conversion")}
    return compare_days(ctx, result, owners, lake, fields)


def _rounded_alike(found: object, expected: Decimal | None) -> bool:
    """A view's figure rounded to one decimal, against the exact figure rounded half up: equal, or one step apart
    where the engine rounded a binary double that lies just below the half (37.85 held as 37.8499...)."""
    if found is None or expected is None:
        return found is None and expected is None
    return abs(Decimal(str(found)) - expected) <= Decimal("0.1")


def _fba_stock(ctx: Context, account: str, market: str, moment: datetime) -> dict[str, dict[str, int]]:
    """Amazon's FBA units per ASIN at a moment (merchant-fulfilled SKUs left out)."""
    stock: dict[str, dict[str, int]] = {}
    for item in truth.inventory(ctx.box, account, market, moment).values():
        if item.get("fulfillable") is None:
            continue
        figures = stock.setdefault(item["asin"], {"on_hand": 0, "inbound": 0, "unsellable": 0, "reserved": 0})
        for column, key in (("on_hand", "fulfillable"), ("inbound", "inbound"), ("unsellable", "unsellable"),
                            ("reserved", "reserved")):  # fmt: skip
            figures[column] += int(item[key] or 0)  # type: ignore[literal-required]
    return stock


def check_inventory_health(ctx: Context, session: Session) -> TruthCheck:
    """Each ASIN's FBA stock on the newest snapshot, its units sold in the seven days before, and the days of cover
    that pace gives, against Amazon's inventory and sales by ASIN."""
    result = TruthCheck("view inventory_health")
    view = session.rows("SELECT * FROM inventory_health")
    snapshots = {r["report_id"]: r for r in session.rows(
        "SELECT marketplace_id, report_id, max(ingested_at) AS at FROM fba_inventory "
        f"WHERE snapshot_date = DATE '{ctx.today.isoformat()}' GROUP BY 1, 2")}  # fmt: skip
    for account, market in ctx.sellers:
        rows = {r["asin"]: r for r in view if r["marketplace_id"] == market}
        reports = [s for s in snapshots.values() if s["marketplace_id"] == market]
        if not reports:
            continue
        latest = max(reports, key=lambda s: s["at"])
        expected = _fba_stock(ctx, account, market, ctx.as_of(latest["report_id"]))
        orders = OrderTruth(ctx, account, market)
        sold, changing = _units_over(orders, [ctx.today - timedelta(days=back) for back in range(1, 8)])
        for asin in sorted(set(expected) | set(rows)):
            row, figures = rows.get(asin), expected.get(asin)
            if asin in changing:
                result.in_flight += 1
                continue
            if row is None or figures is None:
                result.differ(f"{market} {asin}: {'missing from the view' if row is None else 'not in stock'}")
                continue
            result.rows += 1
            figures["units_sold_7d"] = sold.get(asin, 0)
            for column, value in figures.items():
                if row[column] != value:
                    result.differ(f"{market} {asin} {column}: {row[column]} != {value}")
            cover = None
            if sold.get(asin):
                cover = (Decimal(figures["on_hand"] * 7) / sold[asin]).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if not _rounded_alike(row["days_of_cover"], cover):
                result.differ(f"{market} {asin} days_of_cover: {row['days_of_cover']} != {cover}")
    return result


# The payouts view's fee columns, by the amount-description Amazon gives each fee.
FEE_COLUMNS = {"commission_fees": "Commission", "fulfillment_fees": "FBAPerUnitFulfillmentFee",
               "refund_administration_fees": "RefundCommission"}  # fmt: skip


def check_payouts(ctx: Context, session: Session) -> TruthCheck:
    """Each closed settlement's period, deposit, total, orders, refunds, fees and lines equal Amazon's."""
    result = TruthCheck("view payouts")
    lake = {r["settlement_id"]: r for r in session.rows("SELECT * FROM payouts")}
    columns = {"period_start": "start", "period_end": "end", "deposit_date": "deposit_date", "total": "total",
               "orders": "orders_total", "refunds": "refunds_total", "fees": "fees_total", "amount_lines": "lines",
               "currency": "currency"}  # fmt: skip
    for account, market in ctx.sellers:
        for settlement in truth.settlements(ctx.box, account, market):
            row = lake.get(settlement["settlement_id"])
            if row is None:
                result.differ(f"{market} settlement {settlement['settlement_id']} missing from the view")
                continue
            result.rows += 1
            for column, key in columns.items():
                found, wanted = row[column], settlement[key]  # type: ignore[literal-required]
                if isinstance(wanted, Decimal) or isinstance(found, Decimal):
                    found, wanted = _money(found), _money(wanted)
                if found != wanted:
                    result.differ(f"{market} {settlement['settlement_id']} {column}: {found} != {wanted}")
            for column, kind in FEE_COLUMNS.items():
                found, wanted = _money(row[column]), _money(settlement["fees"].get(kind, Decimal(0)))
                if found != wanted:
                    result.differ(f"{market} {settlement['settlement_id']} {column}: {found} != {wanted}")
    return result


def check_product_movers(ctx: Context, session: Session) -> TruthCheck:
    """Units per ASIN in the last seven days of data and in the seven before, and the fortnight's shipped sales,
    refunds and refund rate, against Amazon's order lines and the refunds in its settlements."""
    result = TruthCheck("view product_movers")
    view = session.rows("SELECT * FROM product_movers")
    for account, market in ctx.sellers:
        rows = {r["asin"]: r for r in view if r["marketplace_id"] == market}
        if not rows:
            continue
        last_day = next(iter(rows.values()))["last_day"]
        orders = OrderTruth(ctx, account, market)
        fortnight = [last_day - timedelta(days=back) for back in range(14)]
        recent, changing = _units_over(orders, fortnight[:7])
        prior, changing_before = _units_over(orders, fortnight[7:])
        refunds = truth.settled_refunds(ctx.box, account, market, _latest_as_of(ctx, "settlements").get(market))
        for asin in sorted(set(recent) | set(prior) | set(rows)):
            if asin in changing | changing_before:
                result.in_flight += 1
                continue
            shipped = sum((x["item_price"] for day in fortnight for x in orders.day(day)[0].get(asin, [])
                           if x["status"] == "Shipped"), Decimal(0))  # fmt: skip
            refunded = sum((refunds.get((asin, day), Decimal(0)) for day in fortnight), Decimal(0))
            rate = (-refunded * 100 / shipped).quantize(Decimal("0.1"), ROUND_HALF_UP) if shipped > 0 else None
            expected = (recent.get(asin, 0), prior.get(asin, 0), _money(shipped), _money(refunded))
            row = rows.get(asin)
            found = (row["units_7d"], row["units_prior_7d"], _money(row["shipped_sales_14d"]),
                     _money(row["refunds_14d"])) if row else (0, 0, _money(0), _money(0))  # fmt: skip
            result.rows += 1
            if found != expected or not _rounded_alike(row["refund_rate_percentage"] if row else None, rate):
                result.differ(f"{market} {asin}: units 7d, prior 7d, shipped, refunds {found} != {expected}, rate "
                              f"{row['refund_rate_percentage'] if row else None} != {rate}")  # fmt: skip
    return result


def check_search_term_share(ctx: Context, session: Session) -> TruthCheck:
    """Each week's search terms with their rank, clicked ASINs and the seller's click and conversion shares, against
    Amazon's brand analytics for the seller's listings."""
    result = TruthCheck("view search_term_share")
    view = session.rows("SELECT * FROM search_term_share")
    for account, market in ctx.sellers:
        terms = truth.brand_search_terms(ctx.box, account, market)
        ours = {listing.asin for listing in ctx.box.world.listings(account, market)}
        for week in sorted({r["week_start"] for r in view if r["marketplace_id"] == market}):
            rows = {r["search_term"]: r for r in view if r["marketplace_id"] == market and r["week_start"] == week}
            for term in sorted(set(terms) | set(rows)):
                row, expected = rows.get(term), terms.get(term)
                if row is None or expected is None:
                    result.differ(f"{market} {week} {term!r}: {'missing' if row is None else 'not a search term'}")
                    continue
                result.rows += 1
                mine = [shares for asin, shares in expected["asins"].items() if asin in ours]
                wanted = (expected["rank"], len(expected["asins"]), len(mine), round(sum(c for c, _ in mine), 4),
                          round(sum(v for _, v in mine), 4))  # fmt: skip
                found = (row["search_frequency_rank"], row["clicked_asins"], row["our_asins"],
                         round(row["our_click_share"], 4), round(row["our_conversion_share"], 4))  # fmt: skip
                if found != wanted:
                    result.differ(f"{market} {week} {term!r}: {found} != {wanted}")
    return result


def check_listing_issues(ctx: Context, session: Session) -> TruthCheck:
    """The newest snapshot's listings with an issue, and its severity, are the fetched SKUs Amazon reports one on."""
    result = TruthCheck("view listing_issues")
    view = {(r["marketplace_id"], r["sku"]): r for r in session.rows("SELECT * FROM listing_issues")}
    fetched = session.rows("""SELECT marketplace_id, sku FROM listings_items i
                                WHERE snapshot_date = (SELECT max(snapshot_date) FROM listings_items
                                                       WHERE marketplace_id = i.marketplace_id)""")  # fmt: skip
    for account, market in ctx.sellers:
        severities = truth.listing_issue_severities(ctx.box, account, market)
        for sku in sorted(r["sku"] for r in fetched if r["marketplace_id"] == market):
            result.rows += 1
            row, expected = view.get((market, sku)), severities.get(sku)
            if (row["issue_severity"] if row else None) != expected:
                result.differ(f"{market} {sku}: {row['issue_severity'] if row else 'no issue'} != {expected}")
    return result


VIEW_CHECKS: dict[str, Callable[[Context, Session], TruthCheck]] = {
    "daily_sales": check_daily_sales,
    "conversion": check_conversion,
    "inventory_health": check_inventory_health,
    "payouts": check_payouts,
    "product_movers": check_product_movers,
    "search_term_share": check_search_term_share,
    "listing_issues": check_listing_issues,
}
