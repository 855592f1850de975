"""Errors of the Glue jobs. Every class name ends in `Error` (STYLE.md §6); a job run that raises one ends FAILED with
the class name in its error message, so a failed run says what kind of failure it was."""

from __future__ import annotations


class CurationError(Exception):
    """A curation run cannot go on without losing or inventing rows; nothing of the run is published."""


class UnknownRawNameError(CurationError):
    """No dataset of the schema registry is read from that raw name (a report type, or an API's name)."""


class UnreadableObjectError(CurationError):
    """A landed raw object, or its manifest entry, cannot be read (missing, or not what the manifest says)."""


class UnsupportedTypeError(CurationError):
    """A registry column type that no parser or Spark type is written for."""


class MissingLineageError(CurationError):
    """A dataset without a column of origin object_id: its rows could not say which raw object they came from."""


class RowAccountingError(CurationError):
    """Rows read != curated + quarantined + deduplicated: something would be lost silently."""


class CatalogRegistrationError(CurationError):
    """The Glue Data Catalog refused partitions of a curated table."""
