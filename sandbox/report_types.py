"""Report types the sandbox serves: each renders the real report's header and rows from the synthetic world."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.marketplaces import MARKETPLACES
from sandbox.world import Listing, World

# Header of GET_MERCHANT_LISTINGS_ALL_DATA exactly as Amazon delivers it (tab-separated, in this order).
MERCHANT_LISTINGS_HEADER = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
)

# Flat-file timestamps are local to the marketplace and carry the zone abbreviation, e.g. "2023-05-14 08:12:33 PDT".
REPORT_TIMEZONE = {"NA": "America/Los_Angeles", "EU": "Europe/Berlin", "FE": "Asia/Tokyo"}


@dataclass(frozen=True)
class ReportRequest:
    account_id: str
    marketplace_id: str
    data_start_time: datetime
    data_end_time: datetime
    options: dict[str, str]


@dataclass(frozen=True)
class RenderedReport:
    """A report's content: tab-separated (header + rows) or a JSON document with its row count at the grain."""

    header: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    json_body: dict[str, Any] | None = None
    json_rows: int = 0

    @property
    def row_count(self) -> int:
        return self.json_rows if self.json_body is not None else len(self.rows)

    @property
    def charset(self) -> str | None:
        """JSON documents are UTF-8; flat files use the marketplace's charset (None here)."""
        return "UTF-8" if self.json_body is not None else None

    def encode(self, charset: str) -> bytes:
        if self.json_body is not None:
            return json.dumps(self.json_body, separators=(",", ":")).encode("utf-8")
        return encode_flat_file(self, charset)


class ReportOptionsError(ValueError):
    """createReport is missing a required reportOption, or the account kind cannot request this type."""


@dataclass(frozen=True)
class ReportType:
    name: str
    render: Callable[[World, ReportRequest], RenderedReport]
    compressed: bool = True
    account_kind: str = "seller"  # vendor reports are for vendor accounts only
    required_options: tuple[str, ...] = ()

    def check(self, account_kind: str, options: dict[str, str]) -> None:
        if account_kind != self.account_kind:
            raise ReportOptionsError(f"{self.name} is available to {self.account_kind} accounts only")
        missing = [name for name in self.required_options if name not in options]
        if missing:
            raise ReportOptionsError(f"{self.name} requires reportOptions {', '.join(missing)}")


def amazon_flat_file_time(value: datetime, marketplace_id: str) -> str:
    local = value.astimezone(ZoneInfo(REPORT_TIMEZONE[MARKETPLACES[marketplace_id].region]))
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "UTC")


def _listing_row(listing: Listing) -> tuple[str, ...]:
    values = {
        "item-name": listing.item_name,
        "listing-id": listing.listing_id,
        "seller-sku": listing.seller_sku,
        "price": str(listing.price),
        "quantity": "" if listing.quantity is None else str(listing.quantity),
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
    }
    return tuple(values.get(column, "") for column in MERCHANT_LISTINGS_HEADER)


def render_merchant_listings(world: World, request: ReportRequest) -> RenderedReport:
    listings = world.listings(request.account_id, request.marketplace_id)
    return RenderedReport(MERCHANT_LISTINGS_HEADER, [_listing_row(item) for item in listings])


REPORT_TYPES: dict[str, ReportType] = {
    t.name: t for t in (ReportType("GET_MERCHANT_LISTINGS_ALL_DATA", render_merchant_listings),)
}


def encode_flat_file(report: RenderedReport, charset: str) -> bytes:
    """Tab-separated, header first, one line per row, newline-terminated, in the marketplace's charset."""
    lines: Iterator[str] = ("\t".join(row) for row in (report.header, *report.rows))
    return ("\n".join(lines) + "\n").encode(PYTHON_CODEC.get(charset, charset))


# Java charset names used by Amazon's Content-Type → Python codec names.
PYTHON_CODEC = {"Cp1252": "cp1252", "windows-31j": "cp932", "UTF-8": "utf-8"}
