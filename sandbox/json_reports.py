"""JSON reports (sales and traffic, vendor analytics, brand analytics), shaped by the report schemas in spapi-models.

Days are UTC days, the same days the order reports' purchase dates fall on, so that units ordered per ASIN and day
agree between GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL and GET_SALES_AND_TRAFFIC_REPORT. Every figure is
as of the moment the report is processed: no day after it, sales & traffic restated for 7 days, vendor figures from
72 h after their day (see sandbox.commerce).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.commerce import day_range, midnight, vendor_available, vendor_day_as_of, vendor_products
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_content import RenderedReport, ReportRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.commerce import OrderLine, Traffic, VendorDay
    from sandbox.world import Listing, Product, World

DEPARTMENTS = {
    "Kitchen": "Home & Kitchen",
    "Electronics": "Electronics",
    "Home": "Home & Kitchen",
    "Sports": "Sports & Outdoors",
    "Apparel": "Clothing, Shoes & Jewelry",
}
SEARCH_MODIFIERS = ("", "best ", "cheap ", " for men", " for women", " set", " large", " gift")
BRAND_ANALYTICS_SEARCH_TERMS = "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT"


def requested_days(request: ReportRequest) -> tuple[date, date]:
    """The first and last UTC day a request names (the time component is ignored): an end at 00:00 excludes that
    day, as with [start, end) windows; Amazon's inclusive end, the last instant of a day, includes it."""
    first, end = request.data_start_time.astimezone(UTC).date(), request.window_end
    last = (end - timedelta(microseconds=1)).date() if end > request.data_start_time else first
    return first, max(first, last)


def report_days(request: ReportRequest, now: datetime | None = None) -> list[date]:
    """The UTC days a request covers, up to the day of `now` when given (a window reaching past now has data up to
    now only)."""
    first, last = requested_days(request)
    if now is not None:
        last = min(last, now.astimezone(UTC).date())
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _period_last_day(first: date, period: str) -> date | None:
    """The last day of the reportPeriod that starts on `first`, or None if no such period starts on that day."""
    if period == "DAY":
        return first
    if period == "WEEK":
        return first + timedelta(days=6) if first.weekday() == 6 else None  # noqa: PLR2004 - Sunday
    months = {"MONTH": 1, "QUARTER": 3}.get(period)
    if months is None or first.day != 1 or (period == "QUARTER" and first.month % 3 != 1):
        return None
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def report_period_error(report_type: str, request: ReportRequest) -> str | None:
    """Why Amazon refuses a request's window for its reportPeriod, or None. Brand analytics (search terms) covers
    exactly one period: a WEEK from a Sunday to the following Saturday, a MONTH or QUARTER from its first day to its
    last, one DAY ("Requests cannot span multiple periods")."""
    if report_type != BRAND_ANALYTICS_SEARCH_TERMS:
        return None
    period = request.options.get("reportPeriod", "")
    if period not in ("DAY", "WEEK", "MONTH", "QUARTER"):
        return f"reportPeriod must be one of DAY, WEEK, MONTH, QUARTER, not {period!r}"
    first, last = requested_days(request)
    if _period_last_day(first, period) == last:
        return None
    if period == "WEEK":
        return (
            "For reportPeriod WEEK, dataStartTime must be a Sunday and dataEndTime the following Saturday "
            f"(got {first.isoformat()} to {last.isoformat()})"
        )
    return (
        f"For reportPeriod {period}, dataStartTime and dataEndTime must be the first and last day of one {period} "
        f"(got {first.isoformat()} to {last.isoformat()})"
    )


def periods(days: list[date], granularity: str) -> list[tuple[date, date]]:
    """Consecutive (first, last) day ranges: DAY, WEEK (Sunday to Saturday), MONTH, QUARTER or YEAR."""

    def key(day: date) -> tuple[int, ...]:
        if granularity == "WEEK":
            return (day + timedelta(days=1)).isocalendar()[:2]  # weeks start on Sunday
        if granularity == "MONTH":
            return (day.year, day.month)
        if granularity == "QUARTER":
            return (day.year, (day.month - 1) // 3)
        if granularity == "YEAR":
            return (day.year,)
        return (day.toordinal(),)

    grouped: dict[tuple[int, ...], list[date]] = {}
    for day in days:
        grouped.setdefault(key(day), []).append(day)
    return [(members[0], members[-1]) for members in grouped.values()]


def _amount(value: Decimal | float, currency: str) -> dict[str, Any]:
    return {"amount": round(float(value), 2), "currencyCode": currency}


def _specification(report_type: str, request: ReportRequest, days: list[date], **extra: Any) -> dict[str, Any]:
    first, last = (days[0], days[-1]) if days else (request.data_start_time.date(), request.data_end_time.date())
    return {
        "reportType": report_type,
        "reportOptions": dict(request.options),
        **extra,
        "dataStartTime": first.isoformat(),
        "dataEndTime": last.isoformat(),
        "marketplaceIds": [request.marketplace_id],
    }


def _json_report(body: dict[str, Any]) -> RenderedReport:
    rows = sum(len(value) for value in body.values() if isinstance(value, list))
    return RenderedReport(json_body=body, json_rows=rows)


@dataclass
class _Sales:
    """Additive sales figures of a set of order lines that count as ordered (all lines, and the business ones)."""

    units: int = 0
    units_b2b: int = 0
    items: int = 0
    items_b2b: int = 0
    sales: Decimal = Decimal(0)
    sales_b2b: Decimal = Decimal(0)

    def add(self, line: OrderLine) -> None:
        self.units += line.quantity
        self.items += 1
        self.sales += line.item_price
        if line.is_business:
            self.units_b2b += line.quantity
            self.items_b2b += 1
            self.sales_b2b += line.item_price


@dataclass
class _Traffic:
    """Additive traffic figures, with the buy-box share weighted by sessions."""

    browser: int = 0
    mobile: int = 0
    buy_box_weight: float = 0.0

    def add(self, traffic: Traffic) -> None:
        self.browser += traffic.browser_sessions
        self.mobile += traffic.mobile_sessions
        self.buy_box_weight += traffic.buy_box_percentage * traffic.sessions

    @property
    def sessions(self) -> int:
        return self.browser + self.mobile

    @property
    def buy_box(self) -> float:
        return round(self.buy_box_weight / self.sessions, 2) if self.sessions else 0.0


def _ratio(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def sales_and_traffic(  # noqa: PLR0913 - the report's own parameters
    world: World,
    account_id: str,
    marketplace_id: str,
    days: list[date],
    now: datetime,
    granularity: str = "DAY",
    asin_granularity: str = "PARENT",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(salesAndTrafficByDate, salesAndTrafficByAsin) of GET_SALES_AND_TRAFFIC_REPORT over `days`, as of `now`.

    Sales of a day are its order lines placed by now and not cancelled as of now; units refunded and shipped on a day
    are the refunds and shipments that happened on it; traffic is `Commerce.traffic` as of now."""
    currency = MARKETPLACES[marketplace_id].currency_code
    commerce = world.commerce
    listings = world.listings(account_id, marketplace_id)
    by_asin: dict[str, _Sales] = defaultdict(_Sales)
    traffic_by_asin: dict[str, _Traffic] = defaultdict(_Traffic)
    by_date = []
    for first, last in periods(days, granularity):
        sales, traffic = _Sales(), _Traffic()
        for day in day_range(midnight(first), midnight(last)):
            for line in commerce.placed(account_id, marketplace_id, day, now):
                if line.counts_as_ordered(now):
                    sales.add(line)
                    by_asin[line.listing.asin].add(line)
            for asin, figures in commerce.traffic(account_id, marketplace_id, day, now).items():
                traffic.add(figures)
                traffic_by_asin[asin].add(figures)
        start, end = midnight(first), midnight(last + timedelta(days=1))
        shipped = commerce.shipped(account_id, marketplace_id, start, end, now)
        refunded = sum(x.quantity for x in commerce.refunded(account_id, marketplace_id, start, end, now))
        by_date.append(_sales_and_traffic_by_date(first, sales, shipped, refunded, traffic, currency))
    all_sessions = sum(figures.sessions for figures in traffic_by_asin.values())
    asin_rows = [
        _sales_and_traffic_by_asin(
            listing, asin_granularity, by_asin[listing.asin], traffic_by_asin[listing.asin], all_sessions, currency
        )
        for listing in listings
        if listing.asin in traffic_by_asin
    ]
    return by_date, asin_rows


def render_sales_and_traffic(world: World, request: ReportRequest) -> RenderedReport:
    now = request.as_of or world.now()
    days = report_days(request, now)
    by_date, asin_rows = sales_and_traffic(
        world,
        request.account_id,
        request.marketplace_id,
        days,
        now,
        request.options.get("dateGranularity", "DAY"),
        request.options.get("asinGranularity", "PARENT"),
    )
    return _json_report(
        {
            "reportSpecification": _specification("GET_SALES_AND_TRAFFIC_REPORT", request, days),
            "salesAndTrafficByDate": by_date,
            "salesAndTrafficByAsin": asin_rows,
        }
    )


def _sales_and_traffic_by_date(  # noqa: PLR0913 - one argument per section of figures
    first: date, sales: _Sales, shipped: list[OrderLine], refunded: int, traffic: _Traffic, currency: str
) -> dict[str, Any]:
    sessions, browser, mobile = traffic.sessions, traffic.browser, traffic.mobile
    page_views = round(sessions * 1.6)
    return {
        "date": first.isoformat(),
        "salesByDate": {
            "orderedProductSales": _amount(sales.sales, currency),
            "orderedProductSalesB2B": _amount(sales.sales_b2b, currency),
            "unitsOrdered": sales.units,
            "unitsOrderedB2B": sales.units_b2b,
            "totalOrderItems": sales.items,
            "totalOrderItemsB2B": sales.items_b2b,
            "averageSalesPerOrderItem": _amount(sales.sales / sales.items if sales.items else 0, currency),
            "averageUnitsPerOrderItem": round(sales.units / sales.items, 2) if sales.items else 0.0,
            "averageSellingPrice": _amount(sales.sales / sales.units if sales.units else 0, currency),
            "unitsRefunded": refunded,
            "refundRate": _ratio(refunded, sales.units),
            "claimsGranted": 0,
            "claimsAmount": _amount(0, currency),
            "shippedProductSales": _amount(sum((x.item_price for x in shipped), Decimal(0)), currency),
            "unitsShipped": sum(x.quantity for x in shipped),
            "ordersShipped": len({x.order_id for x in shipped}),
        },
        "trafficByDate": {
            "browserPageViews": round(browser * 1.6),
            "mobileAppPageViews": page_views - round(browser * 1.6),
            "pageViews": page_views,
            "browserSessions": browser,
            "mobileAppSessions": mobile,
            "sessions": sessions,
            "buyBoxPercentage": traffic.buy_box,
            "orderItemSessionPercentage": _ratio(sales.items, sessions),
            "unitSessionPercentage": _ratio(sales.units, sessions),
            "averageOfferCount": 1,
            "averageParentItems": 0,
            "feedbackReceived": sales.items // 25,
            "negativeFeedbackReceived": 0,
            "receivedNegativeFeedbackRate": 0.0,
        },
    }


def _sales_and_traffic_by_asin(  # noqa: PLR0913 - one argument per section of figures
    listing: Listing, granularity: str, sales: _Sales, traffic: _Traffic, all_sessions: int, currency: str
) -> dict[str, Any]:
    browser, mobile, total = traffic.browser, traffic.mobile, traffic.sessions
    row: dict[str, Any] = {"parentAsin": listing.asin}
    if granularity in ("CHILD", "SKU"):
        row["childAsin"] = listing.asin
    if granularity == "SKU":
        row["sku"] = listing.seller_sku
    row["salesByAsin"] = {
        "unitsOrdered": sales.units,
        "unitsOrderedB2B": sales.units_b2b,
        "orderedProductSales": _amount(sales.sales, currency),
        "orderedProductSalesB2B": _amount(sales.sales_b2b, currency),
        "totalOrderItems": sales.items,
        "totalOrderItemsB2B": sales.items_b2b,
    }
    row["trafficByAsin"] = {
        "browserSessions": browser,
        "mobileAppSessions": mobile,
        "sessions": total,
        "browserSessionPercentage": _ratio(browser, all_sessions),
        "mobileAppSessionPercentage": _ratio(mobile, all_sessions),
        "sessionPercentage": _ratio(total, all_sessions),
        "browserPageViews": round(browser * 1.6),
        "mobileAppPageViews": round(mobile * 1.6),
        "pageViews": round(browser * 1.6) + round(mobile * 1.6),
        "browserPageViewsPercentage": _ratio(browser, all_sessions),
        "mobileAppPageViewsPercentage": _ratio(mobile, all_sessions),
        "pageViewsPercentage": _ratio(total, all_sessions),
        "buyBoxPercentage": traffic.buy_box,
        "unitSessionPercentage": _ratio(sales.units, total),
    }
    return row


Figures = tuple[dict[str, int], dict[str, Decimal]]  # (counts, amounts) of one ASIN over one period


def vendor_days(request: ReportRequest, now: datetime) -> list[date]:
    """The days of a vendor request Amazon has figures for at `now` (none before 72 h after the day starts)."""
    return [day for day in report_days(request, now) if vendor_available(day, now)]


def _vendor_report(
    world: World, request: ReportRequest, figures: Callable[[Product, list[VendorDay]], Figures]
) -> tuple[list[date], list[dict[str, Any]], list[dict[str, Any]]]:
    """(days, aggregate rows, by-ASIN rows) of a vendor analytics report as of now: one row per ASIN and
    reportPeriod over the days Amazon has figures for, and aggregates that are the sums of the ASIN rows."""
    currency = MARKETPLACES[request.marketplace_id].currency_code
    now = request.as_of or world.now()
    days = vendor_days(request, now)
    aggregate, by_asin = [], []
    for first, last in periods(days, request.options.get("reportPeriod", "DAY")):
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        count_totals: dict[str, int] = defaultdict(int)
        amount_totals: dict[str, Decimal] = defaultdict(Decimal)
        for product in vendor_products(world):
            counts, amounts = figures(product, vendor_facts(world, product, span, now))
            for name, count in counts.items():
                count_totals[name] += count
            for name, amount in amounts.items():
                amount_totals[name] += amount
            by_asin.append(_period_row(first, last, currency, counts, amounts, asin=product.asin))
        aggregate.append(_period_row(first, last, currency, count_totals, amount_totals))
    return days, aggregate, by_asin


def vendor_facts(world: World, product: Product, span: list[date], now: datetime) -> list[VendorDay]:
    """The reported vendor days of a span at `now` (days without figures yet are left out)."""
    facts = (vendor_day_as_of(world, product, day, now) for day in span)
    return [fact for fact in facts if fact is not None]


def _period_row(first: date, last: date, currency: str, counts: dict[str, int], amounts: dict[str, Decimal],
                **identity: str) -> dict[str, Any]:  # fmt: skip
    return {
        "startDate": first.isoformat(),
        "endDate": last.isoformat(),
        **identity,
        **counts,
        **{name: _amount(value, currency) for name, value in amounts.items()},
    }


def _vendor_specification(report_type: str, request: ReportRequest, days: list[date], now: datetime) -> dict[str, Any]:
    return _specification(report_type, request, days, lastUpdatedDate=now.astimezone(UTC).date().isoformat())


def _cost(product: Product) -> Decimal:
    """What Amazon pays the vendor per unit."""
    return (product.base_price * Decimal("0.55")).quantize(Decimal("0.01"))


def vendor_sales_figures(product: Product, facts: list[VendorDay]) -> Figures:
    ordered, shipped = sum(f.ordered_units for f in facts), sum(f.shipped_units for f in facts)
    counts = {"customerReturns": sum(f.customer_returns for f in facts), "orderedUnits": ordered,
              "shippedUnits": shipped}  # fmt: skip
    amounts = {"orderedRevenue": product.base_price * ordered, "shippedRevenue": product.base_price * shipped,
               "shippedCogs": _cost(product) * shipped}  # fmt: skip
    return counts, amounts


def vendor_traffic_figures(product: Product, facts: list[VendorDay]) -> Figures:  # noqa: ARG001 - one signature
    return {"glanceViews": sum(f.glance_views for f in facts)}, {}


def vendor_inventory_figures(product: Product, facts: list[VendorDay]) -> Figures:
    """On-hand figures are the period's last day; received units add up over the period."""
    closing = facts[-1]
    received = sum(f.net_received_units for f in facts)
    counts = {
        "netReceivedInventoryUnits": received,
        "openPurchaseOrderUnits": closing.open_purchase_order_units,
        "sellableOnHandInventoryUnits": closing.sellable_on_hand,
        "unsellableOnHandInventoryUnits": closing.unsellable_on_hand,
    }
    amounts = {
        "netReceivedInventoryCost": _cost(product) * received,
        "sellableOnHandInventoryCost": _cost(product) * closing.sellable_on_hand,
        "unsellableOnHandInventoryCost": _cost(product) * closing.unsellable_on_hand,
    }
    return counts, amounts


def _render_vendor(
    world: World, request: ReportRequest, report_type: str, figures: Callable[[Product, list[VendorDay]], Figures],
    sections: tuple[str, str],
) -> RenderedReport:  # fmt: skip
    days, aggregate, by_asin = _vendor_report(world, request, figures)
    spec = _vendor_specification(report_type, request, days, request.as_of or world.now())
    return _json_report({"reportSpecification": spec, sections[0]: aggregate, sections[1]: by_asin})


def render_vendor_sales(world: World, request: ReportRequest) -> RenderedReport:
    return _render_vendor(world, request, "GET_VENDOR_SALES_REPORT", vendor_sales_figures,
                          ("salesAggregate", "salesByAsin"))  # fmt: skip


def render_vendor_traffic(world: World, request: ReportRequest) -> RenderedReport:
    return _render_vendor(world, request, "GET_VENDOR_TRAFFIC_REPORT", vendor_traffic_figures,
                          ("trafficAggregate", "trafficByAsin"))  # fmt: skip


def render_vendor_inventory(world: World, request: ReportRequest) -> RenderedReport:
    return _render_vendor(world, request, "GET_VENDOR_INVENTORY_REPORT", vendor_inventory_figures,
                          ("inventoryAggregate", "inventoryByAsin"))  # fmt: skip


def render_brand_analytics_search_terms(world: World, request: ReportRequest) -> RenderedReport:
    """Top search terms of the period and, for each, the three most clicked ASINs with their click and conversion
    shares (the brand's own ASINs among them)."""
    days = report_days(request)
    listings = world.listings(request.account_id, request.marketplace_id)
    rows = []
    for rank, (term, department, asins) in enumerate(search_terms(world, listings), start=1):
        for click_rank, asin in enumerate(asins, start=1):
            click, conversion = search_term_shares(click_rank)
            rows.append(
                {
                    "departmentName": department,
                    "searchTerm": term,
                    "searchFrequencyRank": rank,
                    "clickedAsin": asin,
                    "clickShareRank": click_rank,
                    "clickShare": click,
                    "conversionShare": conversion,
                }
            )
    return _json_report(
        {
            "reportSpecification": _specification("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", request, days),
            "dataByDepartmentAndSearchTerm": rows,
        }
    )


def search_term_shares(click_rank: int) -> tuple[float, float]:
    """The click share and conversion share of the ASIN clicked most at a rank (1-3) of a search term."""
    click = (0.31, 0.18, 0.09)[click_rank - 1]
    return click, round(click * 0.8, 4)


def search_terms(world: World, listings: list[Listing]) -> list[tuple[str, str, list[str]]]:
    """(search term, department, the three most clicked ASINs) in search-frequency order, for a seller's listings."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for listing in listings:
        product = world.products_by_asin[listing.asin]
        name = product.title.split(",")[0].split(" ", 1)[-1].lower()
        by_name[f"{name}|{product.category}"].append(listing.asin)
    terms = []
    for key, asins in sorted(by_name.items()):
        name, category = key.split("|")
        for modifier in SEARCH_MODIFIERS:
            term = f"{modifier}{name}" if not modifier.startswith(" ") else f"{name}{modifier}"
            offset = len(term) % len(asins)
            terms.append((term, DEPARTMENTS[category], (asins[offset:] + asins[:offset])[:3]))
    return terms
