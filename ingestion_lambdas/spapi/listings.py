"""Listings Items API 2021-08-01: getListingsItem and searchListingsItems."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import Field

from ingestion_lambdas.spapi.models import ApiModel, csv
from ingestion_lambdas.spapi.pagination import pages
from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

if TYPE_CHECKING:
    from collections.abc import Iterator

GET_LISTINGS_ITEM = Operation("getListingsItem", Quota(5.0, 10))
SEARCH_LISTINGS_ITEMS = Operation("searchListingsItems", Quota(5.0, 5))
MAX_PAGE_SIZE = 20
BASE = "/listings/2021-08-01/items"


class ListingSummary(ApiModel):
    marketplace_id: str = Field(alias="marketplaceId")
    asin: str | None = None
    product_type: str = Field(alias="productType")
    status: list[str]
    item_name: str | None = Field(default=None, alias="itemName")
    created_date: datetime = Field(alias="createdDate")
    last_updated_date: datetime = Field(alias="lastUpdatedDate")


class ListingsItem(ApiModel):
    sku: str
    summaries: list[ListingSummary] = Field(default_factory=list)


class ListingsItemsApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def get_item(
        self, seller_id: str, sku: str, marketplace_id: str, included_data: tuple[str, ...] = ("summaries",)
    ) -> ListingsItem:
        path = f"{BASE}/{quote(seller_id, safe='')}/{quote(sku, safe='')}"  # SKUs may hold '/', spaces, '#'
        params = {"marketplaceIds": marketplace_id, "includedData": csv(included_data)}
        return ListingsItem.model_validate(self.transport.call(GET_LISTINGS_ITEM, "GET", path, params=params))

    def search_items(
        self,
        seller_id: str,
        marketplace_id: str,
        included_data: tuple[str, ...] = ("summaries",),
        identifiers: list[str] | None = None,
        identifiers_type: str | None = None,
    ) -> Iterator[ListingsItem]:
        """Every listings item of the seller in a marketplace (or those with the identifiers), page by page."""
        params: dict[str, object] = {
            "marketplaceIds": marketplace_id,
            "includedData": csv(included_data),
            "pageSize": MAX_PAGE_SIZE,
            "sortBy": "sku",
            "sortOrder": "ASC",
        }
        if identifiers:
            params.update(identifiers=csv(identifiers), identifiersType=identifiers_type or "SKU")
        path = f"{BASE}/{quote(seller_id, safe='')}"
        for items in pages(self.transport, SEARCH_LISTINGS_ITEMS, path, params):
            yield from (ListingsItem.model_validate(item) for item in items)
