"""Lambda: take a finished report to its terminal ledger state (LandReport state machine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import LandReportInput
from ingestion_lambdas.services import wiring
from ingestion_lambdas.spapi.transport import correlated

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
settlement = wiring.settlement()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    request = LandReportInput.model_validate(event)
    with correlated(report_id=request.report_id, execution_name=request.execution_name):
        return settlement.settle(request.report_id).model_dump(mode="json")
