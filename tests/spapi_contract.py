"""Check HTTP exchanges against Amazon's official SP-API models (Swagger 2.0) in contracts/spapi-models.

openapi-core does not read Swagger 2.0, so this follows ARCHITECTURE.md: paths, parameters and status codes are
looked up in the model itself, and bodies are validated with jsonschema (Draft 4) against the response's schema plus
the model's definitions.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import requests

MODELS = Path(__file__).resolve().parents[1] / "contracts" / "spapi-models"
MODEL_FILES = (
    "reports_2021-06-30.json",
    "catalogItems_2022-04-01.json",
    "listingsItems_2021-08-01.json",
    "notifications.json",
    "sellers.json",
)


@cache
def model(name: str) -> dict[str, Any]:
    return json.loads((MODELS / name).read_text(encoding="utf-8"))


def _path_regex(template: str) -> re.Pattern[str]:
    # An empty path parameter still names its operation (Amazon's sandbox examples send asin="" to get a 400).
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]*", template) + "$")


def find_operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model, operation) for an HTTP method and concrete path; fails if no model declares it."""
    for name in MODEL_FILES:
        spec = model(name)
        for template, item in spec["paths"].items():
            if _path_regex(template).match(path) and method.lower() in item:
                return spec, item[method.lower()]
    raise AssertionError(f"no official model declares {method} {path}")


def validate_response(response: requests.Response) -> None:
    """The response's status is declared for its operation, and its body matches the declared schema."""
    request = response.request
    path = requests.utils.urlparse(request.url).path
    spec, operation = find_operation(request.method or "GET", path)
    status = str(response.status_code)
    declared = operation["responses"]
    assert status in declared, f"{operation['operationId']}: status {status} is not declared ({sorted(declared)})"
    assert response.headers.get("x-amzn-RequestId"), "every SP-API response carries x-amzn-RequestId"
    if status == "429":
        assert "x-amzn-RateLimit-Limit" not in response.headers, "429s never carry the rate header"
    schema = declared[status].get("schema")
    if schema is not None:
        document = {**schema, "definitions": spec["definitions"]}
        jsonschema.Draft4Validator(document, format_checker=jsonschema.FormatChecker()).validate(response.json())


def validate_request(method: str, path: str, query: dict[str, Any], body: Any) -> None:
    """The request's required parameters are present, and its body matches the declared schema."""
    spec, operation = find_operation(method, path)
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("required"):
            assert parameter["name"] in query, f"{operation['operationId']}: missing query {parameter['name']}"
        if parameter.get("in") == "body":
            if parameter.get("required"):
                assert body is not None, f"{operation['operationId']}: body required"
            if body is not None:
                document = {**parameter["schema"], "definitions": spec["definitions"]}
                jsonschema.Draft4Validator(document).validate(body)
