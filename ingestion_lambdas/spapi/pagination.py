"""The pagination the 2021+ SP-API models share: `pagination.nextToken` in a page, sent back as `pageToken`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ingestion_lambdas.spapi.transport import Operation, Transport


def pages(transport: Transport, operation: Operation, path: str, params: dict[str, object]) -> Iterator[list[Any]]:
    """The `items` of every page of a GET, following the pagination tokens."""
    while True:
        page = transport.call(operation, "GET", path, params=params)
        yield list(page.get("items", []))
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            return
        params = {**params, "pageToken": token}
