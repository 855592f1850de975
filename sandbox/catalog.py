"""Catalog items and listings items of the synthetic world, as the Catalog Items 2022-04-01 and Listings Items
2021-08-01 APIs return them. Every listing in a listings report is a listings item here, and its ASIN a catalog item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.marketplaces import MARKETPLACES
from sandbox.report_content import iso
from sandbox.world import Listing, stable_int

if TYPE_CHECKING:
    from sandbox.world import Product, World

PRODUCT_TYPES = {"Kitchen": "KITCHEN", "Electronics": "CHARGING_PAD", "Home": "HOME", "Sports": "YOGA_MAT",
                 "Apparel": "SOCKS"}  # fmt: skip
CLASSIFICATIONS = {"Kitchen": ("284507", "Kitchen & Dining"), "Electronics": ("172282", "Electronics"),
                   "Home": ("1055398", "Home & Kitchen"), "Sports": ("3375251", "Sports & Outdoors"),
                   "Apparel": ("7141123011", "Clothing, Shoes & Jewelry")}  # fmt: skip
LANGUAGE = {"US": "en_US", "CA": "en_CA", "DE": "de_DE", "UK": "en_GB", "JP": "ja_JP"}
DOMAIN = {"US": "www.amazon.com", "CA": "www.amazon.ca", "DE": "www.amazon.de", "UK": "www.amazon.co.uk",
          "JP": "www.amazon.co.jp"}  # fmt: skip
ISSUE_ENFORCEMENT = "SEARCH_SUPPRESSED"


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits), start=1))
    return str((10 - total % 10) % 10)


def identifiers(world: World, product: Product) -> dict[str, str]:
    """EAN-13 and UPC-12 with valid check digits, derived from the ASIN."""
    body = f"{stable_int(world.seed, 'gtin', product.asin) % 10**11:011d}"
    return {"UPC": body + _check_digit(body), "EAN": "0" + body + _check_digit("0" + body)}


def catalog_item(world: World, product: Product, marketplace_id: str, included: set[str]) -> dict[str, Any]:
    """An Item of Catalog Items 2022-04-01 with the requested includedData sets."""
    market = MARKETPLACES[marketplace_id]
    classification_id, classification = CLASSIFICATIONS[product.category]
    rank = 1 + stable_int(world.seed, "rank", product.asin, marketplace_id) % 250_000
    codes = identifiers(world, product)
    sets: dict[str, Any] = {
        "attributes": {
            "item_name": [{"value": product.title, "language_tag": LANGUAGE[market.country_code],
                           "marketplace_id": marketplace_id}],
            "brand": [{"value": product.brand, "marketplace_id": marketplace_id}],
        },
        "classifications": [{"marketplaceId": marketplace_id, "classifications": [
            {"displayName": classification, "classificationId": classification_id}]}],
        "dimensions": [{"marketplaceId": marketplace_id, "item": {
            "height": {"unit": "inches", "value": 3.1}, "length": {"unit": "inches", "value": 9.8},
            "weight": {"unit": "pounds", "value": 1.2}, "width": {"unit": "inches", "value": 4.4}}}],
        "identifiers": [{"marketplaceId": marketplace_id, "identifiers": [
            {"identifierType": kind, "identifier": value} for kind, value in sorted(codes.items())]}],
        "images": [{"marketplaceId": marketplace_id, "images": [
            {"variant": "MAIN", "link": f"https://m.media-amazon.com/images/I/{product.asin}.jpg",
             "height": 500, "width": 500}]}],
        "productTypes": [{"marketplaceId": marketplace_id, "productType": PRODUCT_TYPES[product.category]}],
        "relationships": [{"marketplaceId": marketplace_id, "relationships": []}],
        "salesRanks": [{"marketplaceId": marketplace_id, "classificationRanks": [
            {"classificationId": classification_id, "title": classification, "rank": rank}]}],
        "summaries": [{
            "marketplaceId": marketplace_id,
            "brand": product.brand,
            "browseClassification": {"displayName": classification, "classificationId": classification_id},
            "itemClassification": "BASE_PRODUCT",
            "itemName": product.title,
            "manufacturer": product.brand,
            "packageQuantity": 1,
        }],
        "vendorDetails": [{"marketplaceId": marketplace_id, "brandCode": product.brand[:4].upper(),
                           "productGroup": classification, "replenishmentCategory": "BASIC_REPLENISHMENT"}],
    }  # fmt: skip
    return {"asin": product.asin, **{name: value for name, value in sets.items() if name in included}}


@dataclass(frozen=True)
class CatalogQuery:
    marketplace_id: str
    identifiers: tuple[str, ...] = ()
    identifiers_type: str | None = None
    keywords: tuple[str, ...] = ()
    brand_names: tuple[str, ...] = ()
    seller_listings: tuple[Listing, ...] = ()  # for identifiersType=SKU: the seller's listings


def search_catalog(world: World, query: CatalogQuery) -> list[Product]:
    """Products matching identifiers (in the order asked) or all keywords (title or brand), in a marketplace."""
    if query.identifiers:
        by_identifier: dict[str, Product] = {}
        for product in world.products:
            if query.identifiers_type == "ASIN":
                by_identifier[product.asin] = product
            elif query.identifiers_type in ("EAN", "UPC", "GTIN"):
                codes = identifiers(world, product)
                for value in codes.values() if query.identifiers_type == "GTIN" else [codes[query.identifiers_type]]:
                    by_identifier[value] = product
        if query.identifiers_type == "SKU":
            by_identifier = {x.seller_sku: world.products_by_asin[x.asin] for x in query.seller_listings}
        found = [by_identifier[value] for value in query.identifiers if value in by_identifier]
        return list(dict.fromkeys(found))
    words = [word.lower() for keyword in query.keywords for word in keyword.split()]
    brands = {brand.lower() for brand in query.brand_names}
    return [
        product
        for product in world.products
        if all(word in f"{product.title} {product.brand}".lower() for word in words)
        and (not brands or product.brand.lower() in brands)
    ]


def refinements(products: list[Product]) -> dict[str, Any]:
    brands: dict[str, int] = {}
    classes: dict[str, int] = {}
    for product in products:
        brands[product.brand] = brands.get(product.brand, 0) + 1
        classes[product.category] = classes.get(product.category, 0) + 1
    return {
        "brands": [{"brandName": name, "numberOfResults": n} for name, n in sorted(brands.items())],
        "classifications": [
            {"displayName": CLASSIFICATIONS[c][1], "classificationId": CLASSIFICATIONS[c][0], "numberOfResults": n}
            for c, n in sorted(classes.items())
        ],
    }


def marketplace_json(marketplace_id: str) -> dict[str, str]:
    market = MARKETPLACES[marketplace_id]
    return {
        "id": marketplace_id,
        "name": DOMAIN[market.country_code].removeprefix("www.").capitalize(),
        "countryCode": "GB" if market.country_code == "UK" else market.country_code,
        "defaultCurrencyCode": market.currency_code,
        "defaultLanguageCode": LANGUAGE[market.country_code],
        "domainName": DOMAIN[market.country_code],
    }


def listing_status(listing: Listing) -> list[str]:
    return ["BUYABLE", "DISCOVERABLE"] if listing.status == "Active" else ["DISCOVERABLE"]


def listing_issues(listing: Listing) -> list[dict[str, Any]]:
    """Inactive listings carry the issue that suppressed them."""
    if listing.status == "Active":
        return []
    return [{
        "code": "90220",
        "message": "'item_type_keyword' is required but not supplied.",
        "severity": "ERROR",
        "attributeNames": ["item_type_keyword"],
        "categories": ["MISSING_ATTRIBUTE"],
        "enforcements": {"actions": [{"action": ISSUE_ENFORCEMENT}], "exemption": {"status": "NOT_EXEMPT"}},
        "marketplaceIds": [listing.marketplace_id],
    }]  # fmt: skip


def listings_item(world: World, listing: Listing, included: set[str], fulfillable: int | None) -> dict[str, Any]:
    """An Item of Listings Items 2021-08-01 with the requested includedData sets."""
    market = MARKETPLACES[listing.marketplace_id]
    product = world.products_by_asin[listing.asin]
    sets: dict[str, Any] = {
        "summaries": [{
            "marketplaceId": listing.marketplace_id,
            "asin": listing.asin,
            "productType": PRODUCT_TYPES[product.category],
            "conditionType": "new_new",
            "status": listing_status(listing),
            **({"fnSku": listing.fnsku} if listing.is_fba else {}),
            "itemName": listing.item_name,
            "createdDate": iso(listing.opened_at),
            "lastUpdatedDate": iso(listing.opened_at),
            "mainImage": {"link": f"https://m.media-amazon.com/images/I/{listing.asin}.jpg", "height": 500,
                          "width": 500},
        }],
        "attributes": {
            "item_name": [{"value": listing.item_name, "marketplace_id": listing.marketplace_id}],
            "brand": [{"value": product.brand, "marketplace_id": listing.marketplace_id}],
            "purchasable_offer": [{"currency": market.currency_code, "marketplace_id": listing.marketplace_id,
                                   "our_price": [{"schedule": [{"value_with_tax": float(listing.price)}]}]}],
        },
        "issues": listing_issues(listing),
        "offers": [{"marketplaceId": listing.marketplace_id, "offerType": "B2C",
                    "price": {"currencyCode": market.currency_code, "amount": f"{listing.price}"}}],
        "fulfillmentAvailability": [{
            "fulfillmentChannelCode": listing.fulfillment_channel,
            "quantity": fulfillable if listing.is_fba else listing.quantity,
        }],
        "procurement": [],
        "relationships": [{"marketplaceId": listing.marketplace_id, "relationships": []}],
        "productTypes": [{"marketplaceId": listing.marketplace_id, "productType": PRODUCT_TYPES[product.category]}],
    }  # fmt: skip
    return {"sku": listing.seller_sku, **{name: value for name, value in sets.items() if name in included}}
