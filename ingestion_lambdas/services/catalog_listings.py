"""Catalog items and listings items into the raw zone, as JSON lines.

Targets (ASINs and SKUs per account and marketplace) live in DynamoDB; landing a report whose dataset declares
targets in the registry (`Source.targets`: a listings report's SKUs and ASINs) registers them there. Batches are
planned from the targets: ASINs 20 per searchCatalogItems call, SKUs one getListingsItem each. Objects are keyed by
a hash of the batch, so a retry overwrites rather than duplicates.
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

from ingestion_lambdas.events import Batch
from ingestion_lambdas.services.errors import UnknownSellerError
from lake_formation import registry
from lake_formation.errors import RegistryError
from lake_formation.raw_zone import ManifestEntry, RawObject, RawZone

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.ledger import LedgerEntry
    from lake_formation.registry import TargetKind

CATALOG_INCLUDED = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                    "salesRanks", "summaries")  # fmt: skip
LISTINGS_INCLUDED = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability")
ASIN_BATCH = 20  # searchCatalogItems takes 20 identifiers
SKU_BATCH = 25  # getListingsItem is one SKU per call; a batch is one Lambda invocation's work


class CatalogAndListings:
    def __init__(
        self, clients: SpApiClients, dynamodb: Any, targets_table: str, s3: Any, bucket: str,
        kms_key_id: str | None = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.clients = clients
        self.targets = dynamodb.Table(targets_table)
        self.raw = RawZone(s3, bucket, kms_key_id)
        self._clock = clock

    # Targets -------------------------------------------------------------------------------------------------
    def register_targets(self, entry: LedgerEntry, landed: ManifestEntry) -> None:
        """After a report lands: the target columns its datasets declare (a listings report's SKUs and ASINs) are
        registered; most reports declare none."""
        headers = target_headers(landed.raw_name)
        if headers:
            self.register_from_report(entry.account_id, entry.marketplace_id, landed, headers)

    def register_from_report(
        self, account_id: str, marketplace_id: str, landed: ManifestEntry, headers: list[tuple[TargetKind, str]]
    ) -> int:
        """Every value of the landed flat file's target columns (kind, raw header) becomes a target."""
        body = self.raw.stream(landed)
        rows = csv.DictReader(io.TextIOWrapper(body, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE)
        count = 0
        with self.targets.batch_writer(overwrite_by_pkeys=["scope", "target"]) as writer:
            for row in rows:
                for kind, header in headers:
                    if value := row.get(header):
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
        """A listings notification: fetch that one SKU again.

        Raises:
            UnknownSellerError: no configured account has that selling-partner id.
        """
        account = next((a for a in self.clients.accounts().values() if a.selling_partner_id == seller_id), None)
        if account is None:
            raise UnknownSellerError(f"no configured account has the selling-partner id {seller_id!r}")
        return self.fetch(Batch(account_id=account.account_id, marketplace_id=marketplace_id, kind="SKU", ids=[sku]))

    def _write(self, dataset: str, batch: Batch, items: list[dict[str, Any]]) -> ManifestEntry:
        now = datetime.fromtimestamp(self._clock(), UTC)
        natural = hashlib.sha256("|".join([batch.account_id, batch.marketplace_id, *batch.ids,
                                           now.date().isoformat()]).encode()).hexdigest()[:24]  # fmt: skip
        fetched_at = now.isoformat()
        body = "".join(json.dumps({"fetched_at": fetched_at, "account_id": batch.account_id,
                                   "marketplace_id": batch.marketplace_id, "item": item}) + "\n"
                       for item in items).encode()  # fmt: skip
        target = RawObject(raw_name=dataset, marketplace_id=batch.marketplace_id, day=now, object_id=natural,
                           format="jsonl")  # fmt: skip
        self.raw.put_object(target, body)
        entry = self.raw.manifest_entry(
            target, account_id=batch.account_id, source_charset="utf-8", bytes=len(body), rows=len(items),
            sha256=hashlib.sha256(body).hexdigest(), header=[], ingested_at=now,
        )  # fmt: skip
        self.raw.write_manifest(entry)  # last: the batch is landed once its manifest entry is there
        return entry


def target_headers(raw_name: str) -> list[tuple[TargetKind, str]]:
    """(target kind, raw column header) of every target column the datasets read from `raw_name` declare, e.g.
    [("SKU", "seller-sku"), ("ASIN", "asin1")] for GET_MERCHANT_LISTINGS_ALL_DATA; empty for most reports.

    Raises:
        RegistryError: a target column that is not a column of a flat file.
    """
    headers: list[tuple[TargetKind, str]] = []
    for dataset in registry.reading(raw_name):
        for kind, name in dataset.source.targets.items():
            header = dataset.column(name).source
            if dataset.source.format != "tsv" or header is None:
                raise RegistryError(f"{dataset.table}: target {kind} must be a column of the flat file, not {name!r}")
            if (kind, header) not in headers:
                headers.append((kind, header))
    return headers
