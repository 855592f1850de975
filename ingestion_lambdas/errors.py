"""Errors of the ingestion package's own configuration. SP-API errors live in spapi/errors.py, the services' in
services/errors.py. Every class name ends in `Error` (STYLE.md §6)."""

from __future__ import annotations


class SettingsError(Exception):
    """A setting the function needs is missing from its environment (a deployment error, never retried)."""
