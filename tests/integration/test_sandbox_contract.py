"""Every sandbox response validates against the official models: status, body, headers, error shape."""

import time

import pytest
import requests

from tests.spapi_contract import validate_request, validate_response


@pytest.fixture
def session_for(sandbox_factory):
    running = sandbox_factory()
    info = running.info()
    token = requests.post(
        info["lwa_endpoint"],
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": info["accounts"][0]["refresh_token"],
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
    ).json()["access_token"]
    session = requests.Session()
    session.headers["x-amz-access-token"] = token
    return running, session


def test_report_operations_validate_against_the_reports_model(session_for):
    running, http = session_for
    base = running.base_url
    body = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"]}
    validate_request("POST", "/reports/2021-06-30/reports", {}, body)
    created = http.post(f"{base}/reports/2021-06-30/reports", json=body, timeout=5)
    validate_response(created)
    assert created.status_code == 202
    report_id = created.json()["reportId"]
    seen = set()
    for _ in range(100):
        report = http.get(f"{base}/reports/2021-06-30/reports/{report_id}", timeout=5)
        validate_response(report)
        seen.add(report.json()["processingStatus"])
        if "DONE" in seen:
            break
        time.sleep(0.005)
    document_id = report.json()["reportDocumentId"]
    document = http.get(f"{base}/reports/2021-06-30/documents/{document_id}", timeout=5)
    validate_response(document)
    assert document.headers["x-amzn-RateLimit-Limit"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/reports/2021-06-30/reports/0", None, 404),
        ("GET", "/reports/2021-06-30/documents/nope", None, 404),
        (
            "POST",
            "/reports/2021-06-30/reports",
            {"reportType": "NOT_A_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]},
            400,
        ),
    ],
)
def test_errors_use_the_models_error_shape(session_for, method, path, body, status):
    running, http = session_for
    response = http.request(method, running.base_url + path, json=body, timeout=5)
    assert response.status_code == status
    validate_response(response)
    assert set(response.json()["errors"][0]) >= {"code", "message"}


def test_missing_or_bad_token_is_a_403_in_the_models_shape(session_for):
    running, http = session_for
    for headers in ({}, {"x-amz-access-token": "Atza|forged"}):
        response = requests.get(f"{running.base_url}/reports/2021-06-30/reports/1", headers=headers, timeout=5)
        assert response.status_code == 403
        validate_response(response)
