"""Objects that cannot be read at all, landed beside good ones and curated by the real Glue job on the offline stack:
the good ones curate, the unreadable ones are in the run report with their reasons and stay pending, and a fixed
re-landing (same natural id) is curated by the next run."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from glue_jobs.common.curated_objects import CuratedObjects
from ingestion_lambdas import aws
from lake_formation.raw_zone import RawObject, RawZone
from local.pipeline import run_curation
from local.query import catalog_views, connect_lake
from sandbox.report_types import MERCHANT_LISTINGS_HEADER

LISTINGS, SEARCH_TERMS = "GET_MERCHANT_LISTINGS_ALL_DATA", "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT"
# A marketplace no other run of the session curates (the suite's row-count band compares a marketplace's rows per day
# with its previous run's), on recent days (the suite's freshness check).
SPAIN = "A1RKKUPIHCS9HS"
HTML = b"<!DOCTYPE html>\n<html><body><h1>503 Service Unavailable</h1></body></html>\n"


def listings(*skus: str) -> bytes:
    def row(sku: str) -> str:
        cells = {"seller-sku": sku, "price": "9.99", "open-date": "2020-02-01 10:00:00 PST", "status": "Active"}
        return "\t".join(cells.get(c, "") for c in MERCHANT_LISTINGS_HEADER)

    return ("\n".join(["\t".join(MERCHANT_LISTINGS_HEADER), *(row(s) for s in skus)]) + "\n").encode()


def search_terms(*terms: str) -> bytes:
    rows = [{"departmentName": "Kitchen", "searchTerm": term, "searchFrequencyRank": "1", "clickedAsin": "B000000001",
             "clickShareRank": "1", "clickShare": "0.25", "conversionShare": "0.1"} for term in terms]  # fmt: skip
    return json.dumps(
        {"reportSpecification": {"reportType": SEARCH_TERMS}, "dataByDepartmentAndSearchTerm": rows}
    ).encode()


def land(raw: RawZone, raw_name: str, object_id: str, days_ago: int, body: bytes | None, fmt: str = "tsv") -> str:
    """A raw object and its manifest entry, as the landing writes them (None: the manifest entry alone)."""
    day = datetime.now(UTC) - timedelta(days=days_ago)
    target = RawObject(raw_name=raw_name, marketplace_id=SPAIN, day=day, object_id=object_id, format=fmt)
    if body is not None:
        raw.put_object(target, body)
    header = MERCHANT_LISTINGS_HEADER if fmt == "tsv" else ()
    raw.write_manifest(raw.manifest_entry(
        target, account_id="demo-seller-eu", source_charset="utf-8", bytes=len(body or b""), rows=0, sha256="-",
        header=list(header), ingested_at=datetime.now(UTC),
    ))  # fmt: skip
    return target.key


@pytest.fixture(scope="module")
def runs(stack):
    stack.spark()
    # whatever earlier tests landed and left pending is curated first, so the runs below see only these objects
    for dataset in ("merchant_listings", "search_terms"):
        run_curation(stack, dataset)
    raw = RawZone(aws.client("s3"), stack.resources.raw_bucket)
    keys = {
        "good": land(raw, LISTINGS, "920000000001", 1, listings("UNREAD-1", "UNREAD-2")),
        "html": land(raw, LISTINGS, "920000000002", 2, HTML),
        "gzip": land(raw, LISTINGS, "920000000003", 3, gzip.compress(listings("UNREAD-3"))),
        "missing": land(raw, LISTINGS, "920000000004", 4, None),
        "json_good": land(raw, SEARCH_TERMS, "920000000011", 1, search_terms("kettle", "teapot"), "json"),
        "json_cut": land(raw, SEARCH_TERMS, "920000000012", 2, search_terms("mug")[:40], "json"),
        "json_shape": land(raw, SEARCH_TERMS, "920000000013", 3, b'{"errors": [{"code": "InternalFailure"}]}', "json"),
    }
    first = {"merchant_listings": run_curation(stack, "merchant_listings"),
             "search_terms": run_curation(stack, "search_terms")}  # fmt: skip
    pending = {t: CuratedObjects(aws.client("s3"), stack.resources.curated_bucket, t).curated_ids() for t in first}
    # Fixed re-landings under the same natural ids (Amazon's reportId), as a retried landing writes them.
    land(raw, LISTINGS, "920000000002", 2, listings("UNREAD-4"))
    land(raw, LISTINGS, "920000000003", 3, listings("UNREAD-5"))
    land(raw, LISTINGS, "920000000004", 4, listings("UNREAD-6", "UNREAD-7"))
    land(raw, SEARCH_TERMS, "920000000012", 2, search_terms("mug"), "json")
    land(raw, SEARCH_TERMS, "920000000013", 3, search_terms("saucer"), "json")
    second = {t: run_curation(stack, t) for t in first}
    return {"first": first, "second": second, "curated_after_first": pending, "keys": keys}


def test_the_readable_objects_of_the_run_curate_and_the_others_are_reported_with_their_reasons(runs):
    listings_run, terms_run = runs["first"]["merchant_listings"], runs["first"]["search_terms"]
    keys = runs["keys"]
    assert listings_run.status == "SUCCEEDED", listings_run.validation
    assert terms_run.status == "SUCCEEDED", terms_run.validation
    assert (listings_run.raw_objects, listings_run.rows_read, listings_run.curated) == (1, 2, 2)
    assert (terms_run.raw_objects, terms_run.rows_read, terms_run.curated) == (1, 2, 2)
    assert {(u.object, u.kind) for u in listings_run.unreadable_objects} == {
        (keys["html"], "html"),
        (keys["gzip"], "gzip"),
        (keys["missing"], "missing"),
    }
    assert {(u.object, u.kind) for u in terms_run.unreadable_objects} == {
        (keys["json_cut"], "json_malformed"),
        (keys["json_shape"], "json_shape"),
    }
    assert all(u.reason for u in [*listings_run.unreadable_objects, *terms_run.unreadable_objects])


def test_unreadable_objects_are_not_marked_curated_so_they_stay_pending(runs):
    curated = runs["curated_after_first"]
    assert {"920000000001"} <= curated["merchant_listings"]
    assert not {"920000000002", "920000000003", "920000000004"} & curated["merchant_listings"]
    assert "920000000011" in curated["search_terms"]
    assert not {"920000000012", "920000000013"} & curated["search_terms"]


def test_the_run_report_beside_the_data_lists_the_unreadable_objects(runs, stack):
    run = runs["first"]["merchant_listings"]
    stored = aws.client("s3").get_object(
        Bucket=stack.resources.curated_bucket, Key=f"_runs/merchant_listings/{run.run_id}.json"
    )
    kinds = {u["kind"] for u in json.loads(stored["Body"].read())["unreadable_objects"]}
    assert kinds == {"html", "gzip", "missing"}


def test_fixed_relandings_are_curated_by_the_next_run_and_nothing_is_lost(runs, stack):
    listings_run, terms_run = runs["second"]["merchant_listings"], runs["second"]["search_terms"]
    assert listings_run.status == "SUCCEEDED" and terms_run.status == "SUCCEEDED"
    assert listings_run.unreadable_objects == [] and terms_run.unreadable_objects == []
    assert (listings_run.raw_objects, listings_run.curated) == (3, 4)
    assert (terms_run.raw_objects, terms_run.curated) == (2, 2)
    con = connect_lake(stack.aws.endpoint)
    catalog_views(con, aws.client("glue"), stack.resources.database)
    query = "SELECT seller_sku FROM spapi_lake.merchant_listings WHERE seller_sku LIKE 'UNREAD-%'"
    # UNREAD-3 was only ever in the still-gzipped object; its re-landing carries UNREAD-5.
    assert {r[0] for r in con.sql(query).fetchall()} == {f"UNREAD-{n}" for n in (1, 2, 4, 5, 6, 7)}
    terms = {r[0] for r in con.sql("SELECT search_term FROM spapi_lake.search_terms").fetchall()}
    assert {"kettle", "teapot", "mug", "saucer"} <= terms
