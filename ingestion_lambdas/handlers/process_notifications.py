"""Lambda: SQS batch of SP-API notifications, with partial-failure reporting (a bad record is retried, then DLQ)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from ingestion_lambdas.events import NotificationRecord
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
# Each record is validated against NotificationRecord before record_handler sees it. A record that fails (not JSON, a
# type we do not subscribe to, a field missing) or whose routing raises becomes a batchItemFailures entry, and the
# processor logs it as a warning with the error (the ValidationError names the model and the field) through the
# function's logger (the standard logger Powertools' Logger writes through, named after the service).
processor = BatchProcessor(event_type=EventType.SQS, model=NotificationRecord, logger=logging.getLogger(logger.name))
router = wiring.router()


def record_handler(record: NotificationRecord) -> str:
    return router.route(record.body)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
