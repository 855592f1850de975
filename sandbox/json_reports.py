"""JSON reports (sales and traffic, vendor analytics, brand analytics), shaped by the report schemas in spapi-models.

Days are UTC days, the same days the order reports' purchase dates fall on, so that units ordered per ASIN and day
agree between GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL and GET_SALES_AND_TRAFFIC_REPORT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.commerce import day_range, midnight, vendor_day, vendor_products
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_content import RenderedReport, ReportRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.commerce import OrderLine
    from sandbox.world import Listing, Product, World

DEPARTMENTS = {
    "Kitchen": "Home & Kitchen",
    "Electronics": "Electronics",
    "Home": "Home & Kitchen",
    "Sports": "Sports & Outdoors",
    "Apparel": "Clothing, Shoes & Jewelry",
}
SEARCH_MODIFIERS = ("", "best ", "cheap ", " for men", " for women", " set", " large", " gift")


def report_days(request: ReportRequest) -> list[date]:
    """The UTC days a request covers; an end at midnight excludes that day (as with [start, end) windows)."""
    end = request.data_end_time
    if end > request.data_start_time and end.astimezone(UTC).time() == datetime.min.time():
        end -= timedelta(microseconds=1)
    return list(day_range(request.data_start_time, end))


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
    """Additive sales figures of a set of order lines (all lines, and the business ones)."""

    units: int = 0
    units_b2b: int = 0
    items: int = 0
    items_b2b: int = 0
    sales: Decimal = Decimal(0)
    sales_b2b: Decimal = Decimal(0)
    refunded: int = 0

    def add(self, line: OrderLine) -> None:
        if not line.counts_as_ordered:
            return
        self.units += line.quantity
        self.items += 1
        self.sales += line.item_price
        self.refunded += line.quantity if line.refunded else 0
        if line.is_business:
            self.units_b2b += line.quantity
            self.items_b2b += 1
            self.sales_b2b += line.item_price


def _ratio(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def render_sales_and_traffic(world: World, request: ReportRequest) -> RenderedReport:
    currency = MARKETPLACES[request.marketplace_id].currency_code
    days = report_days(request)
    granularity = request.options.get("dateGranularity", "DAY")
    asin_granularity = request.options.get("asinGranularity", "PARENT")
    listings = world.listings(request.account_id, request.marketplace_id)
    by_asin: dict[str, _Sales] = defaultdict(_Sales)
    sessions_by_asin: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_date = []
    for first, last in periods(days, granularity):
        sales, browser, mobile = _Sales(), 0, 0
        shipped_units, shipped_orders, shipped_sales = 0, 0, Decimal(0)
        for day in day_range(midnight(first), midnight(last)):
            lines = world.commerce.day_orders(request.account_id, request.marketplace_id, day)
            units_by_asin: dict[str, int] = defaultdict(int)
            for line in lines:
                sales.add(line)
                by_asin[line.listing.asin].add(line)
                if line.counts_as_ordered:
                    units_by_asin[line.listing.asin] += line.quantity
                if line.shipped_at is not None:
                    shipped_units += line.quantity
                    shipped_sales += line.item_price
            shipped_orders += len({line.order_id for line in lines if line.shipped_at is not None})
            for listing in listings:
                day_browser, day_mobile = world.commerce.sessions(listing, day, units_by_asin.get(listing.asin, 0))
                browser, mobile = browser + day_browser, mobile + day_mobile
                sessions_by_asin[listing.asin][0] += day_browser
                sessions_by_asin[listing.asin][1] += day_mobile
        shipped = (shipped_units, shipped_orders, shipped_sales)
        by_date.append(_sales_and_traffic_by_date(first, sales, shipped, browser, mobile, currency))
    asin_rows = [
        _sales_and_traffic_by_asin(
            listing,
            asin_granularity,
            by_asin[listing.asin],
            sessions_by_asin[listing.asin],
            sum(map(sum, sessions_by_asin.values())),
            currency,
        )
        for listing in listings
        if listing.asin in sessions_by_asin
    ]
    return _json_report(
        {
            "reportSpecification": _specification("GET_SALES_AND_TRAFFIC_REPORT", request, days),
            "salesAndTrafficByDate": by_date,
            "salesAndTrafficByAsin": asin_rows,
        }
    )


def _sales_and_traffic_by_date(
    first: date, sales: _Sales, shipped: tuple[int, int, Decimal], browser: int, mobile: int, currency: str
) -> dict[str, Any]:
    sessions = browser + mobile
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
            "unitsRefunded": sales.refunded,
            "refundRate": _ratio(sales.refunded, sales.units),
            "claimsGranted": 0,
            "claimsAmount": _amount(0, currency),
            "shippedProductSales": _amount(shipped[2], currency),
            "unitsShipped": shipped[0],
            "ordersShipped": shipped[1],
        },
        "trafficByDate": {
            "browserPageViews": round(browser * 1.6),
            "mobileAppPageViews": page_views - round(browser * 1.6),
            "pageViews": page_views,
            "browserSessions": browser,
            "mobileAppSessions": mobile,
            "sessions": sessions,
            "buyBoxPercentage": 97.5,
            "orderItemSessionPercentage": _ratio(sales.items, sessions),
            "unitSessionPercentage": _ratio(sales.units, sessions),
            "averageOfferCount": 1,
            "averageParentItems": 0,
            "feedbackReceived": sales.items // 25,
            "negativeFeedbackReceived": 0,
            "receivedNegativeFeedbackRate": 0.0,
        },
    }


def _sales_and_traffic_by_asin(
    listing: Listing, granularity: str, sales: _Sales, sessions: list[int], all_sessions: int, currency: str
) -> dict[str, Any]:
    browser, mobile = sessions
    total = browser + mobile
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
        "buyBoxPercentage": 97.5,
        "unitSessionPercentage": _ratio(sales.units, total),
    }
    return row


Figures = tuple[dict[str, int], dict[str, Decimal]]  # (counts, amounts) of one ASIN over one period


def _vendor_report(
    world: World, request: ReportRequest, figures: Callable[[Product, list[date]], Figures]
) -> tuple[list[date], list[dict[str, Any]], list[dict[str, Any]]]:
    """(days, aggregate rows, by-ASIN rows) of a vendor analytics report: one row per ASIN and reportPeriod, and
    aggregates that are the sums of the ASIN rows."""
    currency = MARKETPLACES[request.marketplace_id].currency_code
    days = report_days(request)
    aggregate, by_asin = [], []
    for first, last in periods(days, request.options.get("reportPeriod", "DAY")):
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        count_totals: dict[str, int] = defaultdict(int)
        amount_totals: dict[str, Decimal] = defaultdict(Decimal)
        for product in vendor_products(world):
            counts, amounts = figures(product, span)
            for name, count in counts.items():
                count_totals[name] += count
            for name, amount in amounts.items():
                amount_totals[name] += amount
            by_asin.append(_period_row(first, last, currency, counts, amounts, asin=product.asin))
        aggregate.append(_period_row(first, last, currency, count_totals, amount_totals))
    return days, aggregate, by_asin


def _period_row(first: date, last: date, currency: str, counts: dict[str, int], amounts: dict[str, Decimal],
                **identity: str) -> dict[str, Any]:  # fmt: skip
    return {
        "startDate": first.isoformat(),
        "endDate": last.isoformat(),
        **identity,
        **counts,
        **{name: _amount(value, currency) for name, value in amounts.items()},
    }


def _vendor_specification(report_type: str, request: ReportRequest, days: list[date]) -> dict[str, Any]:
    return _specification(report_type, request, days, lastUpdatedDate=datetime.now(UTC).date().isoformat())


def _cost(product: Product) -> Decimal:
    """What Amazon pays the vendor per unit."""
    return (product.base_price * Decimal("0.55")).quantize(Decimal("0.01"))


def render_vendor_sales(world: World, request: ReportRequest) -> RenderedReport:
    def figures(product: Product, span: list[date]) -> Figures:
        facts = [vendor_day(world, product, day) for day in span]
        ordered, shipped = sum(f.ordered_units for f in facts), sum(f.shipped_units for f in facts)
        counts = {"customerReturns": sum(f.customer_returns for f in facts), "orderedUnits": ordered,
                  "shippedUnits": shipped}  # fmt: skip
        amounts = {"orderedRevenue": product.base_price * ordered, "shippedRevenue": product.base_price * shipped,
                   "shippedCogs": _cost(product) * shipped}  # fmt: skip
        return counts, amounts

    days, aggregate, by_asin = _vendor_report(world, request, figures)
    spec = _vendor_specification("GET_VENDOR_SALES_REPORT", request, days)
    return _json_report({"reportSpecification": spec, "salesAggregate": aggregate, "salesByAsin": by_asin})


def render_vendor_traffic(world: World, request: ReportRequest) -> RenderedReport:
    def figures(product: Product, span: list[date]) -> Figures:
        return {"glanceViews": sum(vendor_day(world, product, day).glance_views for day in span)}, {}

    days, aggregate, by_asin = _vendor_report(world, request, figures)
    spec = _vendor_specification("GET_VENDOR_TRAFFIC_REPORT", request, days)
    return _json_report({"reportSpecification": spec, "trafficAggregate": aggregate, "trafficByAsin": by_asin})


def render_vendor_inventory(world: World, request: ReportRequest) -> RenderedReport:
    """On-hand figures are the period's last day; received units add up over the period."""

    def figures(product: Product, span: list[date]) -> Figures:
        closing = vendor_day(world, product, span[-1])
        received = sum(vendor_day(world, product, day).net_received_units for day in span)
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

    days, aggregate, by_asin = _vendor_report(world, request, figures)
    spec = _vendor_specification("GET_VENDOR_INVENTORY_REPORT", request, days)
    return _json_report({"reportSpecification": spec, "inventoryAggregate": aggregate, "inventoryByAsin": by_asin})


def render_brand_analytics_search_terms(world: World, request: ReportRequest) -> RenderedReport:
    """Top search terms of the period and, for each, the three most clicked ASINs with their click and conversion
    shares (the brand's own ASINs among them)."""
    days = report_days(request)
    listings = world.listings(request.account_id, request.marketplace_id)
    rows = []
    for rank, (term, department, asins) in enumerate(_search_terms(world, listings), start=1):
        shares = (0.31, 0.18, 0.09)
        for click_rank, asin in enumerate(asins, start=1):
            rows.append(
                {
                    "departmentName": department,
                    "searchTerm": term,
                    "searchFrequencyRank": rank,
                    "clickedAsin": asin,
                    "clickShareRank": click_rank,
                    "clickShare": shares[click_rank - 1],
                    "conversionShare": round(shares[click_rank - 1] * 0.8, 4),
                }
            )
    return _json_report(
        {
            "reportSpecification": _specification("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", request, days),
            "dataByDepartmentAndSearchTerm": rows,
        }
    )


def _search_terms(world: World, listings: list[Listing]) -> list[tuple[str, str, list[str]]]:
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
