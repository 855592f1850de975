"""Lambda: getReport for a ReportJob; returns it with the current processingStatus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.settings import load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
requests_service = ReportRequests(SpApiClients.from_settings(load_settings()))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    return requests_service.refresh_status(ReportJob.model_validate(event)).dump()
