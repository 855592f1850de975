"""Lambda: createReport for one planned job (or adopt the one SP-API has) and record it in the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
requests_service = wiring.report_requests()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    return requests_service.request(ReportJob.model_validate(event)).model_dump(mode="json")
