"""Catalog Items 2022-04-01: searchCatalogItems and getCatalogItem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import (
    account_id,
    csv_arg,
    errors,
    invalid,
    marketplace_and_included,
    operation,
    page_offset,
    pagination,
    sandbox,
)
from sandbox.catalog import CatalogQuery, catalog_item, refinements, search_catalog

if TYPE_CHECKING:
    from sandbox.world import Listing

blueprint = Blueprint("catalog", __name__)
BASE = "/catalog/2022-04-01"
INCLUDED_DATA = frozenset({"attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                           "relationships", "salesRanks", "summaries", "vendorDetails"})  # fmt: skip
IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})
MAX_IDENTIFIERS = 20
MAX_PAGE_SIZE = 20


@blueprint.get(f"{BASE}/items")
@operation("searchCatalogItems")
def search_catalog_items() -> Response:  # noqa: PLR0911 - one early return per validation rule
    checked = marketplace_and_included(INCLUDED_DATA)
    if isinstance(checked, Response):
        return checked
    marketplace_id, included = checked
    identifiers, keywords = csv_arg("identifiers"), csv_arg("keywords")
    if bool(identifiers) == bool(keywords):
        return invalid("exactly one of identifiers or keywords is required")
    if len(identifiers) > MAX_IDENTIFIERS or len(keywords) > MAX_IDENTIFIERS:
        return invalid(f"at most {MAX_IDENTIFIERS} identifiers or keywords")
    identifiers_type = request.args.get("identifiersType")
    if identifiers and identifiers_type not in IDENTIFIER_TYPES:
        return invalid("identifiersType is required with identifiers")
    listings: tuple[Listing, ...] = ()
    if identifiers_type == "SKU":
        account = sandbox().world.account(account_id())
        if request.args.get("sellerId") != account.selling_partner_id:
            return invalid("sellerId of the authorized seller is required when identifiersType is SKU")
        listings = tuple(sandbox().world.listings(account.account_id, marketplace_id))
    page_size, offset = int(request.args.get("pageSize", "10")), page_offset(request.args.get("pageToken"))
    if not 1 <= page_size <= MAX_PAGE_SIZE or offset is None:
        return invalid(f"pageSize must be 1 to {MAX_PAGE_SIZE}, and pageToken one this API returned")
    query = CatalogQuery(marketplace_id, tuple(identifiers), identifiers_type, tuple(keywords),
                         tuple(csv_arg("brandNames")), listings)  # fmt: skip
    found = search_catalog(sandbox().world, query)
    if identifiers:  # identifier searches return every match on one page
        page_size, offset = max(len(found), 1), 0
    page = found[offset : offset + page_size]
    return jsonify(
        {
            "numberOfResults": len(found),
            "items": [catalog_item(sandbox().world, product, marketplace_id, included) for product in page],
            "pagination": pagination(offset, page_size, len(found)),
            "refinements": refinements(found),
        }
    )


@blueprint.get(f"{BASE}/items/")
@operation("getCatalogItem")
def get_catalog_item_without_asin() -> Response:
    return invalid("asin is required")


@blueprint.get(f"{BASE}/items/<asin>")
@operation("getCatalogItem")
def get_catalog_item(asin: str) -> Response:
    checked = marketplace_and_included(INCLUDED_DATA)
    if isinstance(checked, Response):
        return checked
    marketplace_id, included = checked
    product = sandbox().world.products_by_asin.get(asin)
    if product is None:
        return errors(404, "NotFound", f"Requested item '{asin}' not found in marketplace(s) '{marketplace_id}'.")
    return jsonify(catalog_item(sandbox().world, product, marketplace_id, included))
