"""Catalog Items API 2022-04-01: searchCatalogItems (identifiers in chunks of 20, or keywords) and getCatalogItem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ingestion_lambdas.spapi.models import ApiModel, csv
from ingestion_lambdas.spapi.pagination import pages
from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

SEARCH_CATALOG_ITEMS = Operation("searchCatalogItems", Quota(2.0, 2))
GET_CATALOG_ITEM = Operation("getCatalogItem", Quota(2.0, 2))
MAX_IDENTIFIERS = 20  # per searchCatalogItems call
MAX_PAGE_SIZE = 20
BASE = "/catalog/2022-04-01/items"


class ItemSummary(ApiModel):
    marketplace_id: str = Field(alias="marketplaceId")
    item_name: str | None = Field(default=None, alias="itemName")
    brand: str | None = None


class CatalogItem(ApiModel):
    asin: str
    summaries: list[ItemSummary] = Field(default_factory=list)


def chunks(values: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class CatalogItemsApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def search_by_identifiers(
        self,
        identifiers: Iterable[str],
        identifiers_type: str,
        marketplace_id: str,
        included_data: tuple[str, ...] = ("summaries",),
        seller_id: str | None = None,
    ) -> Iterator[CatalogItem]:
        """Items for any number of identifiers, 20 per call (SKU identifiers need the seller's id)."""
        for batch in chunks(dict.fromkeys(identifiers), MAX_IDENTIFIERS):
            params: dict[str, object] = {
                "identifiers": csv(batch),
                "identifiersType": identifiers_type,
                "marketplaceIds": marketplace_id,
                "includedData": csv(included_data),
                "pageSize": MAX_PAGE_SIZE,
            }
            if seller_id:
                params["sellerId"] = seller_id
            page = self.transport.call(SEARCH_CATALOG_ITEMS, "GET", BASE, params=params)
            yield from (CatalogItem.model_validate(item) for item in page.get("items", []))

    def search_by_keywords(
        self,
        keywords: list[str],
        marketplace_id: str,
        included_data: tuple[str, ...] = ("summaries",),
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[CatalogItem]:
        """Every item matching all keywords, following pagination.nextToken through pageToken."""
        params: dict[str, object] = {
            "keywords": csv(keywords),
            "marketplaceIds": marketplace_id,
            "includedData": csv(included_data),
            "pageSize": page_size,
        }
        for items in pages(self.transport, SEARCH_CATALOG_ITEMS, BASE, params):
            yield from (CatalogItem.model_validate(item) for item in items)

    def get_item(self, asin: str, marketplace_id: str, included_data: tuple[str, ...] = ("summaries",)) -> CatalogItem:
        params = {"marketplaceIds": marketplace_id, "includedData": csv(included_data)}
        return CatalogItem.model_validate(self.transport.call(GET_CATALOG_ITEM, "GET", f"{BASE}/{asin}", params=params))
