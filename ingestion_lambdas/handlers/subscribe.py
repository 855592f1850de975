"""Lambda: subscribe every account to its notifications, delivered to the pipeline's queue (idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import Subscribed, SubscribeInput
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
subscriber = wiring.subscriber()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    request = SubscribeInput.model_validate(event)
    return Subscribed(subscribed=subscriber.subscribe_all(request.queue_arn)).model_dump(mode="json")
