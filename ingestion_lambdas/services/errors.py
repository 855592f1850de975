"""Errors of the ingestion services (the use cases). Every class name ends in `Error` (STYLE.md §6): a Lambda's
exception class is the error name its state machine's Retry and Catch match."""

from __future__ import annotations


class UnknownSellerError(Exception):
    """A selling-partner id that none of the configured accounts has (e.g. a listings notification for a seller this
    deployment does not serve)."""


class CredentialNotSetError(Exception):
    """A credential's secret holds no value yet (created empty by the stack, never set by the operator)."""
