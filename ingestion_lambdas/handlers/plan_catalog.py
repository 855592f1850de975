"""Lambda: catalog and listings batches from the targets table (CatalogAndListings state machine, first state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ingestion_lambdas.events import CatalogAndListingsInput, CatalogPlan
from ingestion_lambdas.services import wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="spapi-lake")
catalog = wiring.catalog()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    request = CatalogAndListingsInput.model_validate(event)
    return CatalogPlan.of(catalog.plan(request.account_ids)).model_dump(mode="json")
