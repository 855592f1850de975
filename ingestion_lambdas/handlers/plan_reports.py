"""Lambda: the report requests due now (RequestReports state machine, first state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import PlannedReports
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
planner = wiring.planner()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    return PlannedReports.of(planner.plan()).model_dump(mode="json")
