"""Lambda: one catalog (20 ASINs) or listings (SKUs) batch into the raw zone as JSON lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import Batch, FetchedBatch
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
catalog = wiring.catalog()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    landed = catalog.fetch(Batch.model_validate(event))
    return FetchedBatch(key=landed.key, rows=landed.rows).model_dump(mode="json")
