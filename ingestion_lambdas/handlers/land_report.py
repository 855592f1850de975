"""Lambda: land a finished report's document in the raw zone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas import aws
from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.landing import ReportLanding
from ingestion_lambdas.settings import load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
settings = load_settings()
landing = ReportLanding(
    SpApiClients.from_settings(settings), aws.client("s3"), settings.raw_bucket, settings.kms_key_id
)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    return landing.land(ReportJob.model_validate(event)).model_dump(mode="json")
