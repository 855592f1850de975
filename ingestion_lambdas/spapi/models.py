"""Shared pydantic base for SP-API payloads: aliases as the API spells them, and unknown fields kept, so what lands
in the raw zone is what Amazon sent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="allow")

    def raw(self) -> dict[str, object]:
        """The payload as SP-API sent it (aliases, unknown fields included)."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


def csv(values: list[str] | tuple[str, ...]) -> str:
    """SP-API's array query parameters are comma-separated (collectionFormat csv)."""
    return ",".join(values)
