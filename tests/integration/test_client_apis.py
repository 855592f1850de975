"""Every client operation against the sandbox, built as a Lambda builds it (account registry from Parameter Store,
credentials from Secrets Manager); every request it sends is checked against the official models."""

import json
import time
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from ingestion_lambdas import aws
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.settings import load_settings
from tests.spapi_contract import validate_request

SELLER = "demo-seller-na"
US = "ATVPDKIKX0DER"


class Recorder:
    """Keeps (method, path, query, body) of every request the client's session sends."""

    def __init__(self, clients: SpApiClients) -> None:
        self.requests: list[tuple[str, str, dict, object]] = []
        clients.session.hooks["response"].append(self._record)

    def _record(self, response, **_) -> None:
        request = response.request
        url = urlparse(request.url)
        if not url.path.startswith(("/reports", "/catalog", "/listings", "/sellers", "/notifications")):
            return  # LWA and document downloads are not SP-API operations
        body = json.loads(request.body) if request.body else None
        self.requests.append((request.method, unquote(url.path), parse_qs(url.query), body))

    def validate(self) -> set[str]:
        for method, path, query, body in self.requests:
            validate_request(method, path, query, body)
        return {f"{method} {path.split('/')[1]}" for method, path, _, _ in self.requests}


@pytest.fixture
def clients(stack):
    return SpApiClients.from_settings(load_settings())


def test_every_operation_runs_against_the_sandbox_and_its_requests_match_the_models(stack, clients):
    recorder = Recorder(clients)
    world = stack.sandbox.sandbox.world
    seller_id = clients.account(SELLER).selling_partner_id
    # Reports: create, get, list (nextToken), cancel, document
    reports = clients.reports(SELLER)
    report_id = reports.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [US])
    assert reports.get_report(report_id).report_id == report_id
    assert report_id in {r.report_id for r in reports.list_reports(["GET_MERCHANT_LISTINGS_ALL_DATA"], page_size=1)}
    # Catalog: 25 ASINs are two calls of at most 20; keywords follow pageToken; get one item
    catalog = clients.catalog(SELLER)
    asins = [product.asin for product in world.products[:25]]
    found = list(catalog.search_by_identifiers(asins, "ASIN", US, ("summaries", "identifiers")))
    assert [item.asin for item in found] == asins
    assert found[0].summaries[0].item_name == world.products[0].title
    assert "identifiers" in found[0].raw()  # unknown-to-the-model data is kept for the raw zone
    keyword_hits = list(catalog.search_by_keywords(["mat"], US, page_size=5))
    assert len(keyword_hits) == sum("mat" in f"{p.title} {p.brand}".lower() for p in world.products) > 5
    assert catalog.get_item(asins[0], US).asin == asins[0]
    # Listings: every SKU of the seller in a marketplace, then one by SKU
    listings = clients.listings(SELLER)
    items = list(listings.search_items(seller_id, US))
    assert sorted(i.sku for i in items) == sorted(x.seller_sku for x in world.listings(SELLER, US))
    one = listings.get_item(seller_id, items[0].sku, US, ("summaries", "offers"))
    assert one.summaries[0].asin == items[0].summaries[0].asin
    # Sellers
    participations = clients.sellers(SELLER).marketplace_participations()
    assert [p.marketplace.id for p in participations] == clients.account(SELLER).marketplace_ids
    # Notifications: destination (grantless), idempotent subscription (seller), cleanup
    notifications = clients.notifications(SELLER)
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName=f"client-notifications-{time.time_ns()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    destination = notifications.create_destination("client-test", arn)
    assert destination.destination_id in {d.destination_id for d in notifications.destinations()}
    stack.sandbox.sandbox.notifications.subscriptions.pop((SELLER, "LISTINGS_ITEM_STATUS_CHANGE"), None)
    subscription = notifications.ensure_subscription("LISTINGS_ITEM_STATUS_CHANGE", destination.destination_id)
    again = notifications.ensure_subscription("LISTINGS_ITEM_STATUS_CHANGE", destination.destination_id)
    assert again.subscription_id == subscription.subscription_id
    notifications.delete_subscription("LISTINGS_ITEM_STATUS_CHANGE", subscription.subscription_id)
    assert notifications.subscription("LISTINGS_ITEM_STATUS_CHANGE") is None
    notifications.delete_destination(destination.destination_id)
    # Every request matched its model
    families = recorder.validate()
    assert {"POST reports", "GET reports", "GET catalog", "GET listings", "GET sellers", "POST notifications",
            "DELETE notifications"} <= families  # fmt: skip


def test_access_tokens_are_shared_through_secrets_manager_across_invocations(stack):
    # GIVEN one invocation that called SP-API (and so exchanged a token)
    first = SpApiClients.from_settings(load_settings())
    first.reports(SELLER).list_reports(["GET_MERCHANT_LISTINGS_ALL_DATA"]).__next__()
    issued = stack.sandbox.sandbox.lwa.issued_count
    # WHEN a second, fresh invocation (a new process: nothing in memory) calls SP-API
    second = SpApiClients.from_settings(load_settings())
    second.sellers(SELLER).marketplace_participations()
    # THEN it reused the cached token: LWA issued nothing new
    assert stack.sandbox.sandbox.lwa.issued_count == issued
    assert second._token_provider().exchanges == 0
    # AND the secret holds no refresh token in its name
    names = [s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]]
    cached = [n for n in names if n.startswith("spapi-lake/access-token/")]
    assert cached and not any("Atzr" in n for n in cached)


def test_a_token_expired_mid_run_is_refreshed_once_even_when_the_cache_still_holds_it(stack):
    clients = SpApiClients.from_settings(load_settings())
    sellers = clients.sellers(SELLER)
    sellers.marketplace_participations()
    stack.sandbox.sandbox.lwa.expire_all()  # Amazon expires it early; Secrets Manager still holds it
    assert sellers.marketplace_participations()
    assert clients._token_provider().exchanges == 1
