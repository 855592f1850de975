"""Typed configuration for the ingestion Lambdas. Environment variable names appear only here."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from collections.abc import Mapping

PRODUCTION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
# Amazon's own static sandbox (replays the models' x-amzn-api-sandbox examples): for checking credentials end to end.
AMAZON_SANDBOX_ENDPOINTS = {
    region: url.replace("https://", "https://sandbox.") for region, url in PRODUCTION_ENDPOINTS.items()
}
LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"


class Settings(BaseModel):
    """Everything the ingestion code needs to know about where things are. Secrets are referenced, never held."""

    model_config = ConfigDict(frozen=True)

    lwa_endpoint: str = LWA_ENDPOINT
    spapi_endpoint_override: str | None = None  # one base URL for every region (the sandbox offline)
    app_credentials_secret_id: str = "spapi-lake/lwa-app"  # noqa: S105 - a secret name, not a secret
    accounts_parameter: str = "/spapi-lake/accounts"
    raw_bucket: str = "spapi-lake-raw"
    kms_key_id: str | None = None
    access_token_secret_prefix: str = "spapi-lake/access-token/"  # noqa: S105 - a name prefix, not a secret
    amazon_sandbox: bool = False
    ledger_table: str = "spapi-lake-report-ledger"
    targets_table: str = "spapi-lake-catalog-targets"
    report_plan_parameter: str = "/spapi-lake/report-plan"
    notifications_queue_arn: str | None = None
    land_report_state_machine_arn: str | None = None
    fatal_cooldown_s: float = 1800.0  # a FATAL report is requested again after this long...
    fatal_max_attempts: int = 3  # ...this many times in all, then recorded FAILED
    reconcile_after_s: float = 900.0  # a report with no notification for this long is looked up by reconcile

    @property
    def land_report_arn(self) -> str:
        if not self.land_report_state_machine_arn:
            raise ValueError("LAND_REPORT_STATE_MACHINE_ARN is not set")
        return self.land_report_state_machine_arn

    @property
    def queue_arn(self) -> str:
        if not self.notifications_queue_arn:
            raise ValueError("NOTIFICATIONS_QUEUE_ARN is not set")
        return self.notifications_queue_arn

    def spapi_endpoint(self, region: str) -> str:
        if self.spapi_endpoint_override:
            return self.spapi_endpoint_override
        return (AMAZON_SANDBOX_ENDPOINTS if self.amazon_sandbox else PRODUCTION_ENDPOINTS)[region]


def load_settings(env: Mapping[str, str] | None = None, **overrides: str) -> Settings:
    """Build settings from the environment; explicit keyword arguments win."""
    env = os.environ if env is None else env
    names = {
        "lwa_endpoint": "LWA_ENDPOINT",
        "spapi_endpoint_override": "SPAPI_ENDPOINT",
        "app_credentials_secret_id": "LWA_APP_SECRET_ID",
        "accounts_parameter": "ACCOUNTS_PARAMETER",
        "raw_bucket": "RAW_BUCKET",
        "kms_key_id": "RAW_KMS_KEY_ID",
        "access_token_secret_prefix": "ACCESS_TOKEN_SECRET_PREFIX",  # pragma: allowlist secret
        "amazon_sandbox": "SPAPI_AMAZON_SANDBOX",
        "ledger_table": "LEDGER_TABLE",
        "targets_table": "TARGETS_TABLE",
        "report_plan_parameter": "REPORT_PLAN_PARAMETER",
        "notifications_queue_arn": "NOTIFICATIONS_QUEUE_ARN",
        "land_report_state_machine_arn": "LAND_REPORT_STATE_MACHINE_ARN",
        "fatal_cooldown_s": "FATAL_COOLDOWN_SECONDS",
        "fatal_max_attempts": "FATAL_MAX_ATTEMPTS",
        "reconcile_after_s": "RECONCILE_AFTER_SECONDS",
    }
    values: dict[str, str] = {field: env[var] for field, var in names.items() if env.get(var)}
    values.update(overrides)
    return Settings.model_validate(values)
