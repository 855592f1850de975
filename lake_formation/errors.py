"""Errors of the schema registry and its renderers. Every class name ends in `Error` (STYLE.md §6)."""

from __future__ import annotations


class RegistryError(Exception):
    """The schema registry is inconsistent: a file that does not validate, or datasets that contradict each other."""


class UnknownDatasetError(RegistryError):
    """A dataset name the registry does not declare."""


class MissingRawObjectError(LookupError):
    """A manifest entry names a raw object that is not in the raw zone."""


class ManifestError(ValueError):
    """A raw-zone manifest entry that does not parse, where the caller needs every entry."""
