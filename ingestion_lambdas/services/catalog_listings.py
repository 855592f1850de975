"""Catalog items and listings items into the raw zone, as JSON lines.

Targets (ASINs and SKUs per account and marketplace) live in DynamoDB; landing a listings report registers its SKUs
and ASINs there. Batches are planned from the targets: ASINs 20 per searchCatalogItems call, SKUs one
getListingsItem each. Objects are keyed by a hash of the batch, so a retry overwrites rather than duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from pydantic import BaseModel

from lake_formation.raw_zone import ManifestEntry, raw_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import LedgerEntry

CATALOG_INCLUDED = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                    "salesRanks", "summaries")  # fmt: skip
LISTINGS_INCLUDED = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability")
ASIN_BATCH = 20  # searchCatalogItems takes 20 identifiers
SKU_BATCH = 25  # getListingsItem is one SKU per call; a batch is one Lambda invocation's work
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"


class Batch(BaseModel):
    """One unit of catalog or listings work: the CatalogAndListings state machine maps over these."""

    account_id: str
    marketplace_id: str
    kind: str  # "ASIN" or "SKU"
    ids: list[str]


class CatalogAndListings:
    def __init__(
        self, clients: SpApiClients, dynamodb: Any, targets_table: str, s3: Any, bucket: str,
        kms_key_id: str | None = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.clients = clients
        self.targets = dynamodb.Table(targets_table)
        self.s3 = s3
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self._clock = clock

    # Targets -------------------------------------------------------------------------------------------------
    def register_targets(self, entry: LedgerEntry, landed: ManifestEntry) -> None:
        """After a report lands: a listings report's SKUs and ASINs become targets; other reports name none."""
        if entry.report_type == LISTINGS_REPORT:
            self.register_from_listings_report(entry.account_id, entry.marketplace_id, landed.key)

    def register_from_listings_report(self, account_id: str, marketplace_id: str, key: str) -> int:
        """Every SKU and ASIN of a landed GET_MERCHANT_LISTINGS_ALL_DATA object becomes a target."""
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        rows = csv.DictReader(io.TextIOWrapper(body, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE)
        count = 0
        with self.targets.batch_writer(overwrite_by_pkeys=["scope", "target"]) as writer:
            for row in rows:
                for kind, value in (("SKU", row.get("seller-sku")), ("ASIN", row.get("asin1"))):
                    if value:
                        writer.put_item(Item={"scope": f"{account_id}|{marketplace_id}", "target": f"{kind}|{value}",
                                              "account_id": account_id, "marketplace_id": marketplace_id,
                                              "kind": kind, "id": value})  # fmt: skip
                        count += 1
        return count

    def plan(self, account_ids: list[str] | None = None) -> list[Batch]:
        """Batches for the given accounts (default: every seller account; vendors have no listings)."""
        if not account_ids:
            account_ids = [a.account_id for a in self.clients.accounts().values() if a.kind == "seller"]
        batches: list[Batch] = []
        for account_id in account_ids:
            for marketplace_id in self.clients.account(account_id).marketplace_ids:
                items = self.targets.query(KeyConditionExpression=Key("scope").eq(f"{account_id}|{marketplace_id}"))
                found: dict[str, list[str]] = {"ASIN": [], "SKU": []}
                for item in items["Items"]:
                    found[str(item["kind"])].append(str(item["id"]))
                for kind, size in (("ASIN", ASIN_BATCH), ("SKU", SKU_BATCH)):
                    ids = sorted(set(found[kind]))
                    batches += [Batch(account_id=account_id, marketplace_id=marketplace_id, kind=kind,
                                      ids=ids[i : i + size]) for i in range(0, len(ids), size)]  # fmt: skip
        return batches

    # Fetching --------------------------------------------------------------------------------------------------
    def fetch(self, batch: Batch) -> ManifestEntry:
        if batch.kind == "ASIN":
            catalog = self.clients.catalog(batch.account_id)
            items = [i.raw() for i in catalog.search_by_identifiers(batch.ids, "ASIN", batch.marketplace_id,
                                                                     CATALOG_INCLUDED)]  # fmt: skip
            return self._write("catalog_items", batch, items)
        account = self.clients.account(batch.account_id)
        listings = self.clients.listings(batch.account_id)
        items = [
            listings.get_item(account.selling_partner_id, sku, batch.marketplace_id, LISTINGS_INCLUDED).raw()
            for sku in batch.ids
        ]
        return self._write("listings_items", batch, items)

    def refresh_listing(self, seller_id: str, sku: str, marketplace_id: str) -> ManifestEntry:
        """A listings notification: fetch that one SKU again."""
        account = next(a for a in self.clients.accounts().values() if a.selling_partner_id == seller_id)
        return self.fetch(Batch(account_id=account.account_id, marketplace_id=marketplace_id, kind="SKU", ids=[sku]))

    def _write(self, dataset: str, batch: Batch, items: list[dict[str, Any]]) -> ManifestEntry:
        now = datetime.fromtimestamp(self._clock(), UTC)
        natural = hashlib.sha256("|".join([batch.account_id, batch.marketplace_id, *batch.ids,
                                           now.date().isoformat()]).encode()).hexdigest()[:24]  # fmt: skip
        fetched_at = now.isoformat()
        body = "".join(json.dumps({"fetched_at": fetched_at, "account_id": batch.account_id,
                                   "marketplace_id": batch.marketplace_id, "item": item}) + "\n"
                       for item in items).encode()  # fmt: skip
        key = raw_key(dataset, batch.marketplace_id, now, natural, "jsonl")
        encryption = {
            "ServerSideEncryption": "aws:kms",
            **({"SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}),
        }
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson", **encryption)
        entry = ManifestEntry(
            report_id=natural, report_type=dataset, account_id=batch.account_id, marketplace_id=batch.marketplace_id,
            bucket=self.bucket, key=key, source_charset="utf-8", bytes=len(body), rows=len(items),
            sha256=hashlib.sha256(body).hexdigest(), header=[], ingested_at=now,
        )  # fmt: skip
        self.s3.put_object(Bucket=self.bucket, Key=entry.manifest_key, Body=entry.model_dump_json().encode(),
                           ContentType="application/json", **encryption)  # fmt: skip
        return entry
