"""Every report type, Catalog Items, Listings Items and Sellers over real HTTP, against the models and the world."""

import gzip
import json
from datetime import date

import pytest
import requests

from sandbox.app import SandboxConfig
from sandbox.report_content import PYTHON_CODEC
from sandbox.report_types import REPORT_TYPES
from sandbox.server import start_in_thread
from tests.sandbox_caller import Caller

VENDOR_OPTIONS = {"reportPeriod": "WEEK", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}
WINDOW = {"dataStartTime": "2026-11-01T00:00:00Z", "dataEndTime": "2026-11-15T00:00:00Z"}
# Brand analytics covers exactly one period: a Sunday-to-Saturday week, here with Amazon's inclusive end.
ONE_WEEK = {"dataStartTime": "2026-11-08T00:00:00Z", "dataEndTime": "2026-11-14T23:59:59.999Z"}
START = date(2026, 12, 1)  # the world's clock starts here: the windows above are complete, final days


@pytest.fixture(scope="module")
def running():
    server = start_in_thread(SandboxConfig(time_scale=1000.0, rate_limits=False, start=START))
    yield server
    server.stop()


def download(caller: Caller, report: dict) -> tuple[str, bytes]:
    document = caller.call("GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    response = requests.get(document["url"], timeout=10)
    assert response.status_code == 200
    content = gzip.decompress(response.content) if document.get("compressionAlgorithm") == "GZIP" else response.content
    return response.headers["Content-Type"], content


@pytest.mark.parametrize("report_type", sorted(t for t, kind in REPORT_TYPES.items() if kind.requestable))
def test_every_requestable_report_type_goes_from_create_report_to_a_document(running, report_type):
    kind = REPORT_TYPES[report_type]
    account, marketplace = (
        ("demo-vendor-na", "ATVPDKIKX0DER") if kind.account_kind == "vendor" else ("demo-seller-eu", "A1PA6795UKMFR9")
    )
    caller = Caller(running, account)
    window = ONE_WEEK if report_type == "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT" else WINDOW
    body = {"reportType": report_type, "marketplaceIds": [marketplace], **window}
    if kind.required_options:
        body["reportOptions"] = VENDOR_OPTIONS
    created = caller.call("POST", "/reports/2021-06-30/reports", json=body)
    assert created.status_code == 202
    report = caller.finished(created.json()["reportId"])
    assert report["processingStatus"] == "DONE"
    content_type, content = download(caller, report)
    truth = requests.get(f"{running.base_url}/_sandbox/reports/{report['reportId']}", timeout=5).json()
    charset = content_type.split("charset=")[1]
    text = content.decode(PYTHON_CODEC[charset])
    if kind.account_kind == "vendor" or report_type.endswith("_REPORT"):
        assert charset == "UTF-8" and json.loads(text)["reportSpecification"]["reportType"] == report_type
    else:
        assert charset == "Cp1252"  # German flat files arrive in Windows-1252 and say so
        assert len(text.splitlines()) == truth["rows"] + 1


def test_reports_amazon_would_refuse_get_400(running):
    seller, vendor = Caller(running, "demo-seller-na"), Caller(running, "demo-vendor-na")
    refused = [
        (vendor, {"reportType": "GET_VENDOR_SALES_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]}),
        (
            seller,
            {
                "reportType": "GET_VENDOR_TRAFFIC_REPORT",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "reportOptions": {"reportPeriod": "DAY"},
            },
        ),
        (seller, {"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "marketplaceIds": ["ATVPDKIKX0DER"]}),
        (  # WEEK windows run from a Sunday to the following Saturday: two weeks are refused
            seller,
            {"reportType": "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"],
             "reportOptions": {"reportPeriod": "WEEK"}, **WINDOW},
        ),
    ]  # fmt: skip
    for caller, body in refused:
        response = caller.call("POST", "/reports/2021-06-30/reports", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_settlement_reports_are_listed_by_get_reports_and_downloadable(running):
    caller = Caller(running, "demo-seller-na")
    listed = caller.call(
        "GET",
        "/reports/2021-06-30/reports",
        params={"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "processingStatuses": "DONE"},
    ).json()["reports"]
    assert len(listed) == 6  # the last three 14-day periods of each of its two marketplaces
    content_type, content = download(caller, listed[0])
    header, summary, *lines = content.decode("utf-8").splitlines()
    assert header.startswith("settlement-id\tsettlement-start-date") and lines
    assert "gzip" not in content_type


def test_catalog_search_by_identifiers_keywords_and_sku(running):
    caller = Caller(running, "demo-seller-na")
    world = running.sandbox.world
    asins = [product.asin for product in world.products[:20]]
    found = caller.call(
        "GET",
        "/catalog/2022-04-01/items",
        params={
            "identifiers": ",".join(asins),
            "identifiersType": "ASIN",
            "marketplaceIds": "ATVPDKIKX0DER",
            "includedData": "summaries,identifiers,salesRanks",
        },
    ).json()
    assert [item["asin"] for item in found["items"]] == asins and found["numberOfResults"] == 20
    ean = next(
        i["identifier"] for i in found["items"][0]["identifiers"][0]["identifiers"] if i["identifierType"] == "EAN"
    )
    by_ean = caller.call(
        "GET",
        "/catalog/2022-04-01/items",
        params={"identifiers": ean, "identifiersType": "EAN", "marketplaceIds": "ATVPDKIKX0DER"},
    ).json()
    assert [item["asin"] for item in by_ean["items"]] == [asins[0]]
    too_many = caller.call(
        "GET",
        "/catalog/2022-04-01/items",
        params={"identifiers": ",".join(asins + ["B0X"]), "identifiersType": "ASIN", "marketplaceIds": "ATVPDKIKX0DER"},
    )
    assert too_many.status_code == 400
    listing = world.listings("demo-seller-na", "ATVPDKIKX0DER")[0]
    by_sku = caller.call(
        "GET",
        "/catalog/2022-04-01/items",
        params={
            "identifiers": listing.seller_sku,
            "identifiersType": "SKU",
            "sellerId": caller.account["selling_partner_id"],
            "marketplaceIds": "ATVPDKIKX0DER",
        },
    ).json()
    assert [item["asin"] for item in by_sku["items"]] == [listing.asin]
    # Keyword pages, followed through pageToken, return every match exactly once.
    seen, token = [], None
    while True:
        params = {
            "keywords": "kitchen,mat",
            "marketplaceIds": "ATVPDKIKX0DER",
            "pageSize": 3,
            **({"pageToken": token} if token else {}),
        }
        page = caller.call("GET", "/catalog/2022-04-01/items", params=params).json()
        seen += [item["asin"] for item in page["items"]]
        token = page["pagination"].get("nextToken")
        if not token:
            break
    expected = [
        p.asin for p in world.products if "mat" in p.title.lower() and "kitchen" in f"{p.title} {p.brand}".lower()
    ]
    assert seen == expected
    missing = caller.call("GET", "/catalog/2022-04-01/items/B000000000", params={"marketplaceIds": "ATVPDKIKX0DER"})
    assert missing.status_code == 404


def test_every_sku_of_the_listings_report_is_a_listings_item_and_a_catalog_item(running):
    caller = Caller(running, "demo-seller-na")
    seller_id, marketplace = caller.account["selling_partner_id"], "A2EUQ1WTGCTBG2"
    created = caller.call(
        "POST",
        "/reports/2021-06-30/reports",
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [marketplace]},
    )
    _, content = download(caller, caller.finished(created.json()["reportId"]))
    header, *rows = [line.split("\t") for line in content.decode("utf-8").splitlines()]
    report = {row[header.index("seller-sku")]: row for row in rows}
    searched, token = {}, None
    while True:
        params = {
            "marketplaceIds": marketplace,
            "includedData": "summaries,offers,fulfillmentAvailability,issues",
            "pageSize": 20,
            "sortBy": "sku",
            **({"pageToken": token} if token else {}),
        }
        page = caller.call("GET", f"/listings/2021-08-01/items/{seller_id}", params=params).json()
        searched.update({item["sku"]: item for item in page["items"]})
        token = page["pagination"].get("nextToken")
        if not token:
            break
    assert set(searched) == set(report) and page["numberOfResults"] == len(report)
    for sku, row in list(report.items())[:10]:
        item = caller.call(
            "GET",
            f"/listings/2021-08-01/items/{seller_id}/{sku}",
            params={"marketplaceIds": marketplace, "includedData": "summaries,offers,issues"},
        ).json()
        (summary,) = item["summaries"]
        assert summary["asin"] == row[header.index("asin1")]
        assert ("BUYABLE" in summary["status"]) == (row[header.index("status")] == "Active")
        assert item["offers"][0]["price"]["amount"] == row[header.index("price")]
        assert bool(item["issues"]) == (row[header.index("status")] == "Inactive")
        catalog = caller.call(
            "GET", f"/catalog/2022-04-01/items/{summary['asin']}", params={"marketplaceIds": marketplace}
        )
        assert catalog.status_code == 200
    other_seller = caller.call(
        "GET", "/listings/2021-08-01/items/A000000000000/X", params={"marketplaceIds": marketplace}
    )
    assert other_seller.status_code == 403
    unknown = caller.call("GET", f"/listings/2021-08-01/items/{seller_id}/NOPE", params={"marketplaceIds": marketplace})
    assert unknown.status_code == 404


def test_marketplace_participations_are_the_accounts_marketplaces(running):
    for account in ("demo-seller-na", "demo-seller-eu", "demo-seller-fe"):
        caller = Caller(running, account)
        payload = caller.call("GET", "/sellers/v1/marketplaceParticipations").json()["payload"]
        assert [p["marketplace"]["id"] for p in payload] == caller.account["marketplace_ids"]


def test_the_order_report_adds_up_to_the_ground_truth_per_day(running):
    caller = Caller(running, "demo-seller-fe")
    body = {
        "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "marketplaceIds": ["A1VC38T7YXB528"],
        "dataStartTime": "2026-11-10T00:00:00Z",
        "dataEndTime": "2026-11-12T00:00:00Z",
    }
    report = caller.finished(caller.call("POST", "/reports/2021-06-30/reports", json=body).json()["reportId"])
    content_type, content = download(caller, report)
    assert content_type.endswith("charset=windows-31j")
    header, *rows = [line.split("\t") for line in content.decode("cp932").splitlines()]
    units: dict[str, int] = {}
    for row in rows:
        day = row[header.index("purchase-date")][:10]
        units[day] = units.get(day, 0) + int(row[header.index("quantity")])
    truth = requests.get(
        f"{running.base_url}/_sandbox/truth/daily",
        params={
            "account_id": "demo-seller-fe",
            "marketplace_id": "A1VC38T7YXB528",
            "start": "2026-11-10",
            "end": "2026-11-11",
        },
        timeout=5,
    ).json()
    assert units == {d["date"]: d["units_ordered"] for d in truth["days"]}
