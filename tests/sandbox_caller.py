"""A bare HTTP caller for sandbox tests: one account's token, every response checked against the models."""

from __future__ import annotations

import time

import requests

from tests.spapi_contract import validate_response

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


class Caller:
    """A bare HTTP caller holding one account's token: it sends exactly what the test says, no retries."""

    def __init__(self, running, account_id: str = "demo-seller-na") -> None:
        self.running = running
        info = running.info()
        self.account = next(a for a in info["accounts"] if a["account_id"] == account_id)
        self.info = info
        self.http = requests.Session()
        self.http.headers["x-amz-access-token"] = self.token(refresh_token=self.account["refresh_token"])

    def token(self, **grant: str) -> str:
        kind = "refresh_token" if "refresh_token" in grant else "client_credentials"
        form = {
            "grant_type": kind,
            "client_id": self.info["client_id"],
            "client_secret": self.info["client_secret"],
            **grant,
        }
        return requests.post(self.info["lwa_endpoint"], data=form, timeout=5).json()["access_token"]

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, self.running.base_url + path, timeout=10, **kwargs)
        validate_response(response)
        return response

    def create(self, report_type: str = LISTINGS) -> requests.Response:
        return self.call(
            "POST",
            "/reports/2021-06-30/reports",
            json={"reportType": report_type, "marketplaceIds": [self.account["marketplace_ids"][0]]},
        )

    def finished(self, report_id: str, timeout_s: float = 20.0) -> dict:
        """Poll getReport until the report is DONE, CANCELLED or FATAL."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            report = self.call("GET", f"/reports/2021-06-30/reports/{report_id}").json()
            if report["processingStatus"] in ("DONE", "CANCELLED", "FATAL"):
                return report
            time.sleep(0.02)
        raise AssertionError(f"report {report_id} did not finish in {timeout_s} s")
