"""Ground truth as of now: what Amazon would report at the sandbox clock's moment about a day, for the simulation to
compare every curated dataset with.

Plain functions of a `Sandbox` (in-process callers) that the inspection endpoints wrap (`/_sandbox/truth/...`). Each
takes an optional `now` (default: `box.clock.now()`), so a caller can also ask what Amazon would have reported at an
earlier moment. Money is `Decimal`, moments are UTC `datetime`s, days are `date`s; the HTTP layer writes them as
strings. The figures come from the same world model the reports are rendered from (sandbox.commerce), so a curated
dataset built from the reports of a moment must equal the truth of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from sandbox.catalog import listing_issues
from sandbox.commerce import midnight, vendor_available, vendor_products
from sandbox.json_reports import (
    sales_and_traffic,
    search_term_shares,
    search_terms,
    vendor_facts,
    vendor_inventory_figures,
    vendor_sales_figures,
    vendor_traffic_figures,
)
from sandbox.marketplaces import MARKETPLACES

if TYPE_CHECKING:
    from sandbox.commerce import OrderLine
    from sandbox.state import Sandbox


class OrderLineTruth(TypedDict):
    order_id: str
    order_item_id: str
    sku: str
    asin: str
    quantity: int  # as bought (the order report shows 0 for a cancelled line)
    item_price: Decimal  # price * quantity (the order report leaves it empty unless Shipped)
    item_tax: Decimal
    currency: str
    status: str  # as of now: Pending, Shipped or Cancelled
    purchased_at: datetime
    last_updated_at: datetime  # as of now
    shipped_at: datetime | None  # by now
    cancelled_at: datetime | None
    refunded_at: datetime | None
    fulfillment_channel: str  # AFN or MFN
    is_business: bool


class AsinSales(TypedDict):
    units: int  # units ordered (lines placed by now, not cancelled as of now)
    sales: Decimal  # ordered product sales


class DayTruth(TypedDict):
    date: date
    order_lines: int  # lines placed by now and not cancelled as of now
    units_ordered: int
    ordered_sales: Decimal
    by_asin: dict[str, AsinSales]
    sales_and_traffic: dict[str, Any] | None  # the report's salesAndTrafficByDate record; None for a future day


class ShipmentTruth(TypedDict):
    order_id: str
    order_item_id: str
    sku: str
    asin: str
    quantity: int
    item_price: Decimal
    item_tax: Decimal
    currency: str
    purchased_at: datetime
    shipped_at: datetime
    fulfillment_channel: str


class InventoryTruth(TypedDict):
    asin: str
    fulfillment_channel: str  # DEFAULT (MFN) or the marketplace's AFN code
    quantity: int  # MFN: the listing's quantity; FBA: fulfillable units
    fnsku: str | None  # FBA only below
    fulfillable: int | None
    unsellable: int | None
    reserved: int | None
    inbound: int | None
    warehouse: int | None  # fulfillable + unsellable + reserved
    total: int | None  # warehouse + inbound


class SettlementTruth(TypedDict):
    settlement_id: str
    start: date  # the period is [start, end), 00:00 UTC
    end: date
    deposit_date: date
    currency: str
    total: Decimal
    lines: int  # amount lines (the report has one summary row more)
    orders_total: Decimal
    refunds_total: Decimal
    fees_total: Decimal  # the ItemFees amounts (commissions, FBA fees; a refunded commission positive)
    fees: dict[str, Decimal]  # the ItemFees amounts by amount-description (Commission, FBAPerUnitFulfillmentFee, ...)


@dataclass(frozen=True)
class ClockTruth:
    now: datetime
    today: date
    offset: timedelta


def _now(box: Sandbox, now: datetime | None) -> datetime:
    return (now or box.clock.now()).astimezone(UTC)


def clock(box: Sandbox) -> ClockTruth:
    now = box.clock.now()
    return ClockTruth(now, now.date(), box.clock.offset)


def _line(line: OrderLine, now: datetime) -> OrderLineTruth:
    return {
        "order_id": line.order_id,
        "order_item_id": line.order_item_id,
        "sku": line.listing.seller_sku,
        "asin": line.listing.asin,
        "quantity": line.quantity,
        "item_price": line.item_price,
        "item_tax": line.item_tax,
        "currency": MARKETPLACES[line.listing.marketplace_id].currency_code,
        "status": line.status_at(now),
        "purchased_at": line.purchased_at,
        "last_updated_at": line.last_updated_at(now),
        "shipped_at": line.shipped_at(now),
        "cancelled_at": line.cancelled_at(now),
        "refunded_at": line.refunded_at(now),
        "fulfillment_channel": "AFN" if line.is_fba else "MFN",
        "is_business": line.is_business,
    }


def order_lines(
    box: Sandbox, account_id: str, marketplace_id: str, day: date, now: datetime | None = None
) -> list[OrderLineTruth]:
    """Every order line purchased on a UTC day that exists at now, with its status and last update as of now
    (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL over that day)."""
    moment = _now(box, now)
    return [_line(x, moment) for x in box.world.commerce.placed(account_id, marketplace_id, day, moment)]


def order_lines_updated(
    box: Sandbox, account_id: str, marketplace_id: str, day: date, now: datetime | None = None
) -> list[OrderLineTruth]:
    """The order lines whose last update as of now falls on a UTC day (the by-last-update report over that day)."""
    moment = _now(box, now)
    start = midnight(day)
    lines = box.world.commerce.orders(account_id, marketplace_id, start, start + timedelta(days=1), moment, "update")
    return [_line(x, moment) for x in lines]


def sales_by_asin(
    box: Sandbox, account_id: str, marketplace_id: str, day: date, now: datetime | None = None
) -> dict[str, AsinSales]:
    """Units ordered and ordered product sales per ASIN of a day, as of now (ASINs with no orders left out)."""
    moment = _now(box, now)
    figures: dict[str, AsinSales] = {}
    for line in box.world.commerce.placed(account_id, marketplace_id, day, moment):
        if line.counts_as_ordered(moment):
            asin = figures.setdefault(line.listing.asin, {"units": 0, "sales": Decimal(0)})
            asin["units"] += line.quantity
            asin["sales"] += line.item_price
    return dict(sorted(figures.items()))


def daily(
    box: Sandbox, account_id: str, marketplace_id: str, first: date, last: date, now: datetime | None = None
) -> list[DayTruth]:
    """Per UTC day from `first` to `last` (inclusive): order totals, sales per ASIN, and the sales & traffic
    by-date record (DAY granularity) Amazon would report now; a day after now has no orders and no record."""
    moment = _now(box, now)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    reported = [day for day in days if day <= moment.date()]
    by_date, _ = sales_and_traffic(box.world, account_id, marketplace_id, reported, moment)
    records = dict(zip(reported, by_date, strict=True))
    result: list[DayTruth] = []
    for day in days:
        asins = sales_by_asin(box, account_id, marketplace_id, day, moment)
        lines = box.world.commerce.placed(account_id, marketplace_id, day, moment)
        counted = [x for x in lines if x.counts_as_ordered(moment)]
        result.append(
            {
                "date": day,
                "order_lines": len(counted),
                "units_ordered": sum(x.quantity for x in counted),
                "ordered_sales": sum((x.item_price for x in counted), Decimal(0)),
                "by_asin": asins,
                "sales_and_traffic": records.get(day),
            }
        )
    return result


def sales_and_traffic_by_date(
    box: Sandbox, account_id: str, marketplace_id: str, day: date, now: datetime | None = None
) -> dict[str, Any] | None:
    """The salesAndTrafficByDate record of a day as Amazon reports it now (None for a day after now)."""
    moment = _now(box, now)
    if day > moment.date():
        return None
    (record,), _ = sales_and_traffic(box.world, account_id, marketplace_id, [day], moment)
    return record


def sales_and_traffic_by_asin(  # noqa: PLR0913 - the report's own parameters
    box: Sandbox,
    account_id: str,
    marketplace_id: str,
    first: date,
    last: date,
    now: datetime | None = None,
    granularity: str = "CHILD",
) -> list[dict[str, Any]]:
    """The salesAndTrafficByAsin rows of a window of days (inclusive) as Amazon reports them now, at an
    asinGranularity (PARENT, CHILD or SKU)."""
    moment = _now(box, now)
    days = [first + timedelta(days=n) for n in range((min(last, moment.date()) - first).days + 1)]
    _, rows = sales_and_traffic(box.world, account_id, marketplace_id, days, moment, "DAY", granularity)
    return rows


def vendor(
    box: Sandbox, account_id: str, marketplace_id: str, day: date, now: datetime | None = None
) -> dict[str, dict[str, int | Decimal]] | None:
    """Per ASIN, the vendor sales, traffic and inventory figures of a day (the DAY rows of GET_VENDOR_SALES_REPORT,
    GET_VENDOR_TRAFFIC_REPORT and GET_VENDOR_INVENTORY_REPORT merged; amounts as Decimal), or None while Amazon has
    none yet (before 72 h after the day starts)."""
    moment = _now(box, now)
    account = box.world.account(account_id)
    if account.kind != "vendor" or marketplace_id not in account.marketplace_ids:
        raise ValueError(f"{account_id} is not a vendor account selling in {marketplace_id}")
    if not vendor_available(day, moment):
        return None
    result: dict[str, dict[str, int | Decimal]] = {}
    for product in vendor_products(box.world):
        facts = vendor_facts(box.world, product, [day], moment)
        merged: dict[str, int | Decimal] = {}
        for figures in (vendor_sales_figures, vendor_traffic_figures, vendor_inventory_figures):
            counts, amounts = figures(product, facts)
            merged.update(counts)
            merged.update(amounts)
        result[product.asin] = merged
    return result


def shipments(  # noqa: PLR0913 - one flag beyond the common parameters
    box: Sandbox,
    account_id: str,
    marketplace_id: str,
    day: date,
    now: datetime | None = None,
    fba_only: bool = True,
) -> list[ShipmentTruth]:
    """The order lines shipped on a UTC day by now: the FBA ones are GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL
    over that day (fba_only=False adds the merchant-fulfilled ones)."""
    moment = _now(box, now)
    start = midnight(day)
    lines = box.world.commerce.shipped(account_id, marketplace_id, start, start + timedelta(days=1), moment)
    result: list[ShipmentTruth] = []
    for line in lines:
        shipped_at = line.shipped_at(moment)
        if shipped_at is None or (fba_only and not line.is_fba):
            continue
        full = _line(line, moment)  # the order line as Amazon shows it, narrowed to a shipment's fields
        result.append(ShipmentTruth(**{key: full[key] for key in ShipmentTruth.__annotations__}))  # type: ignore[literal-required,typeddict-item]
    return result


def inventory(
    box: Sandbox, account_id: str, marketplace_id: str, now: datetime | None = None
) -> dict[str, InventoryTruth]:
    """The inventory snapshot of the clock's day per SKU: FBA SKUs as GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA and
    GET_AFN_INVENTORY_DATA show them, MFN SKUs with the quantity of GET_MERCHANT_LISTINGS_ALL_DATA."""
    today = _now(box, now).date()
    commerce = box.world.commerce
    result: dict[str, InventoryTruth] = {}
    for listing in box.world.listings(account_id, marketplace_id):
        if listing.is_fba:
            fulfillable, unsellable, reserved, inbound = commerce.fba_quantity(listing, today)
            warehouse = fulfillable + unsellable + reserved
            result[listing.seller_sku] = {
                "asin": listing.asin,
                "fulfillment_channel": listing.fulfillment_channel,
                "quantity": fulfillable,
                "fnsku": listing.fnsku,
                "fulfillable": fulfillable,
                "unsellable": unsellable,
                "reserved": reserved,
                "inbound": inbound,
                "warehouse": warehouse,
                "total": warehouse + inbound,
            }
        else:
            result[listing.seller_sku] = {
                "asin": listing.asin,
                "fulfillment_channel": listing.fulfillment_channel,
                "quantity": commerce.listing_quantity(listing, today) or 0,
                "fnsku": None,
                "fulfillable": None,
                "unsellable": None,
                "reserved": None,
                "inbound": None,
                "warehouse": None,
                "total": None,
            }
    return result


def settlements(
    box: Sandbox, account_id: str, marketplace_id: str, now: datetime | None = None
) -> list[SettlementTruth]:
    """The settlements closed by now that getReports lists (oldest first), with their totals and line counts."""
    moment = _now(box, now)
    result: list[SettlementTruth] = []
    for period in box.reports.settlement_periods(moment):
        settlement = box.world.commerce.settlement(account_id, marketplace_id, period, moment)
        kinds = {kind: sum((x.amount for x in settlement.lines if x.transaction_type == kind), Decimal(0))
                 for kind in ("Order", "Refund")}  # fmt: skip
        result.append(
            {
                "settlement_id": settlement.settlement_id,
                "start": period[0],
                "end": period[1],
                "deposit_date": settlement.deposit_date.date(),
                "currency": settlement.currency,
                "total": settlement.total,
                "lines": len(settlement.lines),
                "orders_total": kinds["Order"],
                "refunds_total": kinds["Refund"],
                "fees_total": sum((x.amount for x in settlement.lines if x.amount_type == "ItemFees"), Decimal(0)),
                "fees": {
                    kind: sum(
                        (
                            x.amount
                            for x in settlement.lines
                            if x.amount_type == "ItemFees" and x.amount_description == kind
                        ),
                        Decimal(0),
                    )
                    for kind in sorted({x.amount_description for x in settlement.lines if x.amount_type == "ItemFees"})
                },  # fmt: skip
            }
        )
    return result


def settled_refunds(
    box: Sandbox, account_id: str, marketplace_id: str, now: datetime | None = None
) -> dict[tuple[str, date], Decimal]:
    """The refunded item prices (principal and tax, negative) per ASIN and UTC posting day, in the settlements
    closed by now."""
    moment = _now(box, now)
    refunds: dict[tuple[str, date], Decimal] = {}
    for period in box.reports.settlement_periods(moment):
        for item in box.world.commerce.settlement(account_id, marketplace_id, period, moment).lines:
            if item.transaction_type == "Refund" and item.amount_type == "ItemPrice":
                key = (item.line.listing.asin, item.posted_at.astimezone(UTC).date())
                refunds[key] = refunds.get(key, Decimal(0)) + item.amount
    return refunds


def brand_search_terms(box: Sandbox, account_id: str, marketplace_id: str) -> dict[str, dict[str, Any]]:
    """Per search term of the brand analytics report: its frequency rank and the (click, conversion) shares of each
    of its most clicked ASINs."""
    listings = box.world.listings(account_id, marketplace_id)
    result: dict[str, dict[str, Any]] = {}
    for rank, (term, _, asins) in enumerate(search_terms(box.world, listings), start=1):
        result[term] = {"rank": rank, "asins": {a: search_term_shares(n) for n, a in enumerate(asins, start=1)}}
    return result


def listing_issue_severities(box: Sandbox, account_id: str, marketplace_id: str) -> dict[str, str | None]:
    """Per SKU, the severity of the first issue Amazon reports on the listing now (None: no issue)."""
    return {
        listing.seller_sku: next((issue["severity"] for issue in listing_issues(listing)), None)
        for listing in box.world.listings(account_id, marketplace_id)
    }
