"""Typed configuration for the ingestion Lambdas. Environment variable names appear only here.

The values come from the functions' environment, which the CloudFormation template sets (cloudformation/
ingestion.yaml); the names of resources are the template's, never defaults here, so a function missing a variable
fails with the variable's name instead of writing to a bucket of another deployment.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ingestion_lambdas.errors import SettingsError

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

# Each setting and the environment variable it is read from; the template sets each of them (a test checks both ways).
ENVIRONMENT = {
    "lwa_endpoint": "LWA_ENDPOINT",
    "spapi_endpoint_override": "SPAPI_ENDPOINT",
    "amazon_sandbox": "SPAPI_AMAZON_SANDBOX",
    "app_credentials_secret_id": "LWA_APP_SECRET_ID",
    "accounts_parameter": "ACCOUNTS_PARAMETER",
    "access_token_secret_prefix": "ACCESS_TOKEN_SECRET_PREFIX",  # pragma: allowlist secret
    "raw_bucket": "RAW_BUCKET",
    "kms_key_id": "RAW_KMS_KEY_ID",
    "ledger_table": "LEDGER_TABLE",
    "targets_table": "TARGETS_TABLE",
    "report_plan_parameter": "REPORT_PLAN_PARAMETER",
    "notifications_queue_arn": "NOTIFICATIONS_QUEUE_ARN",
    "land_report_state_machine_arn": "LAND_REPORT_STATE_MACHINE_ARN",
    "fatal_cooldown_s": "FATAL_COOLDOWN_SECONDS",
    "fatal_max_attempts": "FATAL_MAX_ATTEMPTS",
    "download_max_attempts": "DOWNLOAD_MAX_ATTEMPTS",
    "reconcile_after_s": "RECONCILE_AFTER_SECONDS",
    "read_timeout_s": "SPAPI_READ_TIMEOUT_SECONDS",
    "quota_table": "QUOTA_TABLE",
}


class Settings(BaseModel):
    """Everything the ingestion code needs to know about where things are. Secrets are referenced, never held."""

    model_config = ConfigDict(frozen=True)

    lwa_endpoint: str = LWA_ENDPOINT
    spapi_endpoint_override: str | None = None  # one base URL for every region (the sandbox offline)
    amazon_sandbox: bool = False
    # Names of the deployment's resources (each function gets those it uses).
    app_credentials_secret_id: str | None = None
    accounts_parameter: str | None = None
    access_token_secret_prefix: str | None = None
    raw_bucket: str | None = None
    kms_key_id: str | None = None
    ledger_table: str | None = None
    targets_table: str | None = None
    quota_table: str | None = None  # the quotas every process shares (none: each process paces itself)
    report_plan_parameter: str | None = None
    notifications_queue_arn: str | None = None
    land_report_state_machine_arn: str | None = None
    fatal_cooldown_s: float = 1800.0  # a FATAL report is requested again after this long...
    fatal_max_attempts: int = 3  # ...this many times in all, then recorded FAILED
    download_max_attempts: int = 4  # a document that fails to download this often: FAILED, never retried
    reconcile_after_s: float = 900.0  # a report with no notification for this long is looked up by reconcile
    read_timeout_s: float = 30.0  # an SP-API call that sends nothing for this long is retried

    def need(self, name: str) -> str:
        """A resource name this function needs; a clear error naming the variable when the deployment left it out."""
        value = getattr(self, name)
        if not value:
            raise SettingsError(f"{ENVIRONMENT[name]} is not set (the setting {name})")
        return str(value)

    @property
    def land_report_arn(self) -> str:
        return self.need("land_report_state_machine_arn")

    @property
    def queue_arn(self) -> str:
        return self.need("notifications_queue_arn")

    def spapi_endpoint(self, region: str) -> str:
        if self.spapi_endpoint_override:
            return self.spapi_endpoint_override
        return (AMAZON_SANDBOX_ENDPOINTS if self.amazon_sandbox else PRODUCTION_ENDPOINTS)[region]


def load_settings(env: Mapping[str, str] | None = None, **overrides: str) -> Settings:
    """Build settings from the environment; explicit keyword arguments win. Empty variables count as unset."""
    env = os.environ if env is None else env
    values: dict[str, str] = {field: env[var] for field, var in ENVIRONMENT.items() if env.get(var)}
    values.update(overrides)
    return Settings.model_validate(values)
