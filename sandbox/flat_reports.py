"""Tab-separated reports, with the real reports' headers (from Amazon's report documentation and public connectors)
and their cell formats: ISO times with offsets in order and shipment reports, local times with the zone abbreviation
in listings and settlements, two-decimal amounts, empty cells where Amazon leaves them empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sandbox.commerce import SALES_CHANNEL
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_content import (
    RenderedReport,
    ReportRequest,
    amazon_flat_file_time,
    iso_time,
    money,
    settlement_date,
    settlement_money,
    settlement_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.commerce import OrderLine, Settlement
    from sandbox.world import Listing, World

MERCHANT_LISTINGS_HEADER = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition", "zshop-category1",
    "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3", "will-ship-internationally",
    "expedited-shipping", "zshop-boldface", "product-id", "bid-for-featured-placement", "add-delete",
    "pending-quantity", "fulfillment-channel", "merchant-shipping-group", "status",
)  # fmt: skip
ALL_ORDERS_HEADER = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city", "ship-state",
    "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation",
)  # fmt: skip
FBA_MYI_HEADER = (
    "sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
    "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity", "afn-fulfillable-quantity",
    "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity", "per-unit-volume",
    "afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity",
)  # fmt: skip
AFN_INVENTORY_HEADER = (
    "seller-sku", "fulfillment-channel-sku", "asin", "condition-type", "Warehouse-Condition-code", "Quantity Available",
)  # fmt: skip
FULFILLED_SHIPMENTS_HEADER = (
    "amazon-order-id", "merchant-order-id", "shipment-id", "shipment-item-id", "amazon-order-item-id",
    "merchant-order-item-id", "purchase-date", "payments-date", "shipment-date", "reporting-date", "buyer-email",
    "buyer-name", "buyer-phone-number", "sku", "product-name", "quantity-shipped", "currency", "item-price", "item-tax",
    "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "ship-service-level", "recipient-name",
    "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state", "ship-postal-code",
    "ship-country", "ship-phone-number", "bill-address-1", "bill-address-2", "bill-address-3", "bill-city",
    "bill-state", "bill-postal-code", "bill-country", "item-promotion-discount", "ship-promotion-discount", "carrier",
    "tracking-number", "estimated-arrival-date", "fulfillment-center-id", "fulfillment-channel", "sales-channel",
)  # fmt: skip
SETTLEMENT_V2_HEADER = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)  # fmt: skip

# (city, state, postal code) per country: enough variety for the reports, no real people.
ADDRESSES = {
    "US": (("Seattle", "WA", "98109"), ("Austin", "TX", "78701"), ("Brooklyn", "NY", "11201")),
    "CA": (("Toronto", "ON", "M5V 2T6"), ("Vancouver", "BC", "V6B 1A1"), ("Montréal", "QC", "H2Y 1C6")),
    "DE": (("München", "Bayern", "80331"), ("Köln", "NRW", "50667"), ("Berlin", "Berlin", "10115")),
    "UK": (("London", "Greater London", "SW1A 1AA"), ("Manchester", "Lancashire", "M1 1AE"), ("Leeds", "", "LS1 4AP")),
    "JP": (("渋谷区", "東京都", "150-0002"), ("大阪市北区", "大阪府", "530-0001"), ("札幌市", "北海道", "060-0001")),
}  # fmt: skip
CARRIERS = {"US": "UPS", "CA": "Canada Post", "DE": "DHL", "UK": "Royal Mail", "JP": "YAMATO"}
ITEM_STATUS = {"Shipped": "Shipped", "Pending": "Unshipped", "Cancelled": "Cancelled"}


def _cells(header: tuple[str, ...], values: dict[str, str]) -> tuple[str, ...]:
    return tuple(values.get(column, "") for column in header)


def _shipment_id(line: OrderLine) -> str:
    """Short alphanumeric ids like Amazon's ("DHf2GPpHk"), unique per order line: base 36 of the order item id."""
    number, digits = int(line.order_item_id), ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return f"D{digits}"


def _address(line: OrderLine, country: str) -> tuple[str, str, str]:
    options = ADDRESSES[country]
    return options[int(line.order_item_id) % len(options)]


def render_merchant_listings(world: World, request: ReportRequest) -> RenderedReport:
    """A snapshot of the listings as of now: MFN quantities are the clock's day's."""
    today = (request.as_of or world.now()).astimezone(UTC).date()

    def row(listing: Listing) -> tuple[str, ...]:
        quantity = world.commerce.listing_quantity(listing, today)
        return _cells(
            MERCHANT_LISTINGS_HEADER,
            {
                "item-name": listing.item_name,
                "listing-id": listing.listing_id,
                "seller-sku": listing.seller_sku,
                "price": str(listing.price),
                "quantity": "" if quantity is None else str(quantity),
                "open-date": amazon_flat_file_time(listing.opened_at, listing.marketplace_id),
                "item-is-marketplace": "y",
                "product-id-type": "1",
                "item-condition": "11",
                "asin1": listing.asin,
                "product-id": listing.asin,
                "pending-quantity": "0",
                "fulfillment-channel": listing.fulfillment_channel,
                "merchant-shipping-group": "Migrated Template",
                "status": listing.status,
            },
        )

    listings = world.listings(request.account_id, request.marketplace_id)
    return RenderedReport(MERCHANT_LISTINGS_HEADER, [row(item) for item in listings])


def _order_row(line: OrderLine, country: str, currency: str, now: datetime) -> tuple[str, ...]:
    """A line as of `now`. Amazon leaves prices empty on pending lines and reports cancelled lines with quantity 0."""
    city, state, postal = _address(line, country)
    status = line.status_at(now)
    priced = status == "Shipped"
    return _cells(
        ALL_ORDERS_HEADER,
        {
            "amazon-order-id": line.order_id,
            "purchase-date": iso_time(line.purchased_at),
            "last-updated-date": iso_time(line.last_updated_at(now)),
            "order-status": status,
            "fulfillment-channel": "Amazon" if line.is_fba else "Merchant",
            "sales-channel": SALES_CHANNEL[country],
            "ship-service-level": "Expedited" if int(line.order_item_id) % 5 == 0 else "Standard",
            "product-name": line.listing.item_name,
            "sku": line.listing.seller_sku,
            "asin": line.listing.asin,
            "item-status": ITEM_STATUS[status],
            "quantity": "0" if status == "Cancelled" else str(line.quantity),
            "currency": currency if priced else "",
            "item-price": money(line.item_price) if priced else "",
            "item-tax": money(line.item_tax) if priced else "",
            "shipping-price": money(Decimal(0)) if priced else "",
            "shipping-tax": money(Decimal(0)) if priced else "",
            "ship-city": city,
            "ship-state": state,
            "ship-postal-code": postal,
            "ship-country": country,
            "is-business-order": "true" if line.is_business else "false",
            "price-designation": "BusinessPrice" if line.is_business else "",
        },
    )


def _orders_renderer(by: str) -> Callable[[World, ReportRequest], RenderedReport]:
    def render(world: World, request: ReportRequest) -> RenderedReport:
        """Lines purchased (or last updated) in the window, as of now: nothing purchased after now."""
        market = MARKETPLACES[request.marketplace_id]
        now = request.as_of or world.now()
        lines = world.commerce.orders(
            request.account_id, request.marketplace_id, request.data_start_time, request.window_end, now, by=by
        )
        return RenderedReport(
            ALL_ORDERS_HEADER, [_order_row(x, market.country_code, market.currency_code, now) for x in lines]
        )

    return render


render_orders_by_order_date = _orders_renderer("purchase")
render_orders_by_last_update = _orders_renderer("update")


def _fba_listings(world: World, request: ReportRequest) -> list[Listing]:
    return [x for x in world.listings(request.account_id, request.marketplace_id) if x.is_fba]


def render_fba_myi_unsuppressed(world: World, request: ReportRequest) -> RenderedReport:
    """A snapshot of the clock's day (Amazon's inventory reports are current, whatever the window): one row per FBA
    SKU."""
    day = (request.as_of or world.now()).astimezone(UTC).date()
    rows = []
    for listing in _fba_listings(world, request):
        fulfillable, unsellable, reserved, inbound = world.commerce.fba_quantity(listing, day)
        warehouse = fulfillable + unsellable + reserved
        working, shipped = inbound // 3, inbound // 3
        values = {
            "sku": listing.seller_sku,
            "fnsku": listing.fnsku,
            "asin": listing.asin,
            "product-name": listing.item_name,
            "condition": "New",
            "your-price": money(listing.price),
            "mfn-listing-exists": "No",
            "afn-listing-exists": "Yes",
            "afn-warehouse-quantity": str(warehouse),
            "afn-fulfillable-quantity": str(fulfillable),
            "afn-unsellable-quantity": str(unsellable),
            "afn-reserved-quantity": str(reserved),
            "afn-total-quantity": str(warehouse + inbound),
            "per-unit-volume": f"{0.05 + (int(listing.listing_id[:4]) % 40) / 100:.2f}",
            "afn-inbound-working-quantity": str(working),
            "afn-inbound-shipped-quantity": str(shipped),
            "afn-inbound-receiving-quantity": str(inbound - working - shipped),
        }
        rows.append(_cells(FBA_MYI_HEADER, values))
    return RenderedReport(FBA_MYI_HEADER, rows)


def render_afn_inventory(world: World, request: ReportRequest) -> RenderedReport:
    """Units per FBA SKU and warehouse condition (SELLABLE, and UNSELLABLE where there are any), on the clock's day."""
    day = (request.as_of or world.now()).astimezone(UTC).date()
    rows: list[tuple[str, ...]] = []
    for listing in _fba_listings(world, request):
        fulfillable, unsellable, _, _ = world.commerce.fba_quantity(listing, day)
        for condition, quantity in (("SELLABLE", fulfillable), ("UNSELLABLE", unsellable)):
            if condition == "SELLABLE" or quantity:
                rows.append((listing.seller_sku, listing.fnsku, listing.asin, "NewItem", condition, str(quantity)))
    return RenderedReport(AFN_INVENTORY_HEADER, rows)


def render_fulfilled_shipments(world: World, request: ReportRequest) -> RenderedReport:
    """FBA order lines shipped in the window by now; Japan's report carries one more column, points-granted."""
    market = MARKETPLACES[request.marketplace_id]
    country = market.country_code
    header = (*FULFILLED_SHIPMENTS_HEADER, "points-granted") if country == "JP" else FULFILLED_SHIPMENTS_HEADER
    now = request.as_of or world.now()
    lines = world.commerce.shipped(
        request.account_id, request.marketplace_id, request.data_start_time, request.window_end, now
    )
    rows = []
    for line in lines:
        shipped_at = line.shipped_at(now)
        if not line.is_fba or shipped_at is None:
            continue
        city, state, postal = _address(line, country)
        values = {
            "amazon-order-id": line.order_id,
            "shipment-id": _shipment_id(line),
            "shipment-item-id": _shipment_id(line) + "R",
            "amazon-order-item-id": line.order_item_id,
            "purchase-date": iso_time(line.purchased_at, request.marketplace_id),
            "payments-date": iso_time(shipped_at, request.marketplace_id),
            "shipment-date": iso_time(shipped_at, request.marketplace_id),
            "reporting-date": iso_time(shipped_at, request.marketplace_id),
            "sku": line.listing.seller_sku,
            "product-name": line.listing.item_name,
            "quantity-shipped": str(line.quantity),
            "currency": market.currency_code,
            "item-price": money(line.item_price),
            "item-tax": money(line.item_tax),
            **{
                name: money(Decimal(0))
                for name in (
                    "shipping-price",
                    "shipping-tax",
                    "gift-wrap-price",
                    "gift-wrap-tax",
                    "item-promotion-discount",
                    "ship-promotion-discount",
                )
            },
            "ship-service-level": "Expedited" if int(line.order_item_id) % 5 == 0 else "Standard",
            "ship-city": city,
            "ship-state": state,
            "ship-postal-code": postal,
            "ship-country": country,
            "carrier": CARRIERS[country],
            "tracking-number": f"{int(line.order_item_id) % 10**12:012d}",
            "fulfillment-center-id": f"{country[:1]}FC{int(line.order_item_id) % 9 + 1}",
            "fulfillment-channel": "AFN",
            "sales-channel": SALES_CHANNEL[country],
            "points-granted": "0",
        }
        rows.append(_cells(header, values))
    return RenderedReport(header, rows)


def render_settlement(world: World, request: ReportRequest) -> RenderedReport:
    """A V2 settlement flat file: a summary row (id, period, deposit date, total), then one row per amount."""
    period = (request.data_start_time.astimezone(UTC).date(), request.window_end.date())
    now = request.as_of or world.now()
    settlement = world.commerce.settlement(request.account_id, request.marketplace_id, period, now)
    return RenderedReport(SETTLEMENT_V2_HEADER, settlement_rows(settlement, request.marketplace_id))


def settlement_rows(settlement: Settlement, marketplace_id: str) -> list[tuple[str, ...]]:
    def when(moment: datetime) -> str:
        return settlement_time(moment, marketplace_id)

    def amount(value: Decimal) -> str:
        return settlement_money(value, marketplace_id)

    country = MARKETPLACES[marketplace_id].country_code
    summary = {
        "settlement-id": settlement.settlement_id,
        "settlement-start-date": when(settlement.start),
        "settlement-end-date": when(settlement.end),
        "deposit-date": when(settlement.deposit_date),
        "total-amount": amount(settlement.total),
        "currency": settlement.currency,
    }
    rows = [_cells(SETTLEMENT_V2_HEADER, summary)]
    for item in settlement.lines:
        line = item.line
        values = {
            "settlement-id": settlement.settlement_id,
            "transaction-type": item.transaction_type,
            "order-id": line.order_id,
            "adjustment-id": f"A{line.order_item_id}" if item.transaction_type == "Refund" else "",
            "shipment-id": _shipment_id(line) if item.transaction_type == "Order" else "",
            "marketplace-name": SALES_CHANNEL[country],
            "amount-type": item.amount_type,
            "amount-description": item.amount_description,
            "amount": amount(item.amount),
            "fulfillment-id": "AFN" if line.is_fba else "MFN",
            "posted-date": settlement_date(item.posted_at, marketplace_id),
            "posted-date-time": when(item.posted_at),
            "order-item-code": line.order_item_id,
            "sku": line.listing.seller_sku,
            "quantity-purchased": str(line.quantity) if item.amount_description == "Principal" else "",
        }
        rows.append(_cells(SETTLEMENT_V2_HEADER, values))
    return rows
