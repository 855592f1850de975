"""Each `x-amzn-api-sandbox` static example in the official models, for every operation the sandbox implements, gets
a response that validates against the model (status declared, body schema, headers).

The examples were written for Amazon's replay sandbox, so they name report ids and SKUs that do not exist in our
world; the sandbox answers them as production would (a 404, a 400, an empty list), and that answer must validate.
"""

from urllib.parse import quote

import pytest
import requests

from sandbox.api.common import IMPLEMENTED
from sandbox.app import SandboxConfig
from sandbox.server import start_in_thread
from tests.spapi_contract import MODEL_FILES, model, validate_response


def static_examples() -> list[tuple[str, str, str, str, dict]]:
    examples = []
    for name in MODEL_FILES:
        for template, item in model(name)["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or operation.get("operationId") not in IMPLEMENTED:
                    continue
                for status, response in operation["responses"].items():
                    for number, example in enumerate(response.get("x-amzn-api-sandbox", {}).get("static", [])):
                        case = f"{operation['operationId']}-{status}-{number}"
                        examples.append((case, method.upper(), template, operation["operationId"], example["request"]))
    return examples


EXAMPLES = static_examples()


@pytest.fixture(scope="module")
def running():
    server = start_in_thread(SandboxConfig(time_scale=1000.0, rate_limits=False))
    yield server
    server.stop()


def token(info: dict, account: dict | None) -> str:
    form = {"client_id": info["client_id"], "client_secret": info["client_secret"]}
    if account is None:
        form.update(grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    else:
        form.update(grant_type="refresh_token", refresh_token=account["refresh_token"])
    return requests.post(info["lwa_endpoint"], data=form, timeout=5).json()["access_token"]


def test_examples_cover_every_implemented_model_family():
    covered = {operation for _, _, _, operation, _ in EXAMPLES}
    assert {"createReport", "getReport", "getReports", "searchCatalogItems", "getListingsItem",
            "searchListingsItems", "getMarketplaceParticipations", "getDestinations"} <= covered  # fmt: skip


@pytest.mark.parametrize(("case", "method", "template", "operation", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_static_example_gets_a_response_that_validates(running, case, method, template, operation, example):
    info = running.info()
    account = next(a for a in info["accounts"] if a["account_id"] == "demo-seller-na")
    listing = running.sandbox.world.listings("demo-seller-na", "ATVPDKIKX0DER")[0]
    defaults = {
        "sellerId": account["selling_partner_id"],
        "sku": listing.seller_sku,
        "asin": listing.asin,
        "notificationType": "REPORT_PROCESSING_FINISHED",
    }
    parameters = {name: spec["value"] for name, spec in example.get("parameters", {}).items() if "value" in spec}
    path = template
    for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
        value = parameters.pop(name, defaults.get(name, "UNKNOWN-ID"))
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    body = parameters.pop("body", None)
    query = {k: ",".join(v) if isinstance(v, list) else v for k, v in parameters.items()}
    headers = {"x-amz-access-token": token(info, None if IMPLEMENTED[operation] else account)}
    response = requests.request(method, running.base_url + path, params=query, json=body, headers=headers, timeout=10)
    validate_response(response)
    assert response.status_code not in (401, 403, 429, 500, 503), f"{case}: {response.status_code} {response.text}"
