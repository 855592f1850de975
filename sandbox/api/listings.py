"""Listings Items 2021-08-01 (getListingsItem, searchListingsItems) and Sellers v1 (getMarketplaceParticipations)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import (
    account_id,
    csv_arg,
    denied,
    errors,
    included_data,
    invalid,
    marketplace_and_included,
    operation,
    page_offset,
    pagination,
    sandbox,
)
from sandbox.catalog import listing_issues, listing_status, listings_item, marketplace_json
from sandbox.marketplaces import MARKETPLACES

if TYPE_CHECKING:
    from sandbox.world import Listing

blueprint = Blueprint("listings", __name__)
BASE = "/listings/2021-08-01/items"
INCLUDED_DATA = frozenset({"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                           "relationships", "productTypes"})  # fmt: skip
MAX_PAGE_SIZE = 20
SORT_KEYS = {
    "sku": lambda x: x.seller_sku,
    "createdDate": lambda x: x.opened_at,
    "lastUpdatedDate": lambda x: x.opened_at,
}


def _item(listing: Listing, included: set[str]) -> dict[str, object]:
    """A listings item as of the clock's day: FBA fulfillable units and MFN quantity are that day's, as in the
    inventory and listings reports rendered the same day."""
    box = sandbox()
    today = box.clock.today()
    fulfillable = box.world.commerce.fba_quantity(listing, today)[0]
    current = replace(listing, quantity=box.world.commerce.listing_quantity(listing, today))
    return listings_item(box.world, current, included, fulfillable)


def _seller_checked(seller_id: str) -> Response | None:
    if seller_id != sandbox().world.account(account_id()).selling_partner_id:
        return denied(f"The access token you provided does not authorize access to seller {seller_id}.")
    return None


@blueprint.get(f"{BASE}/<seller_id>/<path:sku>")
@operation("getListingsItem")
def get_listings_item(seller_id: str, sku: str) -> Response:
    checked = marketplace_and_included(INCLUDED_DATA)
    if isinstance(checked, Response):
        return checked
    marketplace_id, included = checked
    refused = _seller_checked(seller_id)
    if refused is not None:
        return refused
    listing = next((x for x in sandbox().world.listings(account_id(), marketplace_id) if x.seller_sku == sku), None)
    if listing is None:
        return errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {marketplace_id}")
    return jsonify(_item(listing, included))


@blueprint.get(f"{BASE}/<seller_id>")
@operation("searchListingsItems")
def search_listings_items(seller_id: str) -> Response:  # noqa: PLR0911 - one early return per validation rule
    marketplaces = csv_arg("marketplaceIds")
    if not marketplaces or any(m not in MARKETPLACES for m in marketplaces):
        return invalid("marketplaceIds must hold valid marketplace ids")
    included = included_data(INCLUDED_DATA)
    if isinstance(included, Response):
        return included
    identifiers, identifiers_type = set(csv_arg("identifiers")), request.args.get("identifiersType")
    if identifiers and identifiers_type not in ("SKU", "ASIN", "FNSKU"):
        return invalid("identifiersType SKU, ASIN or FNSKU is required with identifiers")
    page_size, offset = int(request.args.get("pageSize", "10")), page_offset(request.args.get("pageToken"))
    sort_by, order = request.args.get("sortBy", "lastUpdatedDate"), request.args.get("sortOrder", "DESC")
    if not 1 <= page_size <= MAX_PAGE_SIZE or offset is None or sort_by not in SORT_KEYS:
        return invalid(f"pageSize must be 1 to {MAX_PAGE_SIZE}, sortBy one of {sorted(SORT_KEYS)}, pageToken valid")
    refused = _seller_checked(seller_id)
    if refused is not None:
        return refused
    with_status, without_status = set(csv_arg("withStatus")), set(csv_arg("withoutStatus"))
    try:
        created_after = _moment(request.args.get("createdAfter"), datetime.min.replace(tzinfo=UTC))
        created_before = _moment(request.args.get("createdBefore"), datetime.max.replace(tzinfo=UTC))
    except ValueError:
        return invalid("createdAfter and createdBefore must be ISO 8601 date-times")

    def wanted(listing: Listing) -> bool:
        keys = {"SKU": listing.seller_sku, "ASIN": listing.asin, "FNSKU": listing.fnsku}
        status = set(listing_status(listing))
        return (
            (not identifiers or keys[identifiers_type or "SKU"] in identifiers)
            and created_after <= listing.opened_at <= created_before
            and with_status <= status
            and not (without_status & status)
            and (not csv_arg("withIssueSeverity") or bool(listing_issues(listing)))
        )

    found = [x for m in marketplaces for x in sandbox().world.listings(account_id(), m) if wanted(x)]
    found.sort(key=SORT_KEYS[sort_by], reverse=order == "DESC")
    page = found[offset : offset + page_size]
    return jsonify(
        {
            "numberOfResults": len(found),
            "pagination": pagination(offset, page_size, len(found)),
            "items": [_item(listing, included) for listing in page],
        }
    )


def _moment(value: str | None, default: datetime) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else default


@blueprint.get("/sellers/v1/marketplaceParticipations")
@operation("getMarketplaceParticipations")
def get_marketplace_participations() -> Response:
    account = sandbox().world.account(account_id())
    store = f"{account.account_id.split('-')[1].title()} Store {account.region}"
    return jsonify(
        {
            "payload": [
                {
                    "marketplace": marketplace_json(marketplace_id),
                    "participation": {"isParticipating": True, "hasSuspendedListings": False},
                    "storeName": store,
                }
                for marketplace_id in account.marketplace_ids
            ]
        }
    )
