"""Errors of the Glue jobs. Every class name ends in `Error` (STYLE.md §6); a job run that raises one ends FAILED with
the class name in its error message, so a failed run says what kind of failure it was."""

from __future__ import annotations

from typing import Literal


class CurationError(Exception):
    """A curation run cannot go on without losing or inventing rows; nothing of the run is published."""


class UnknownRawNameError(CurationError):
    """No dataset of the schema registry is read from that raw name (a report type, or an API's name)."""


UnreadableKind = Literal[
    "missing",  # the manifest entry's object is not there
    "empty",  # no bytes, or only whitespace
    "gzip",  # still gzip-compressed (the raw zone holds decompressed documents), or a corrupt gzip stream
    "truncated",  # cut short (a gzip stream without its trailer)
    "charset",  # not text in the declared charset
    "html",  # markup (an HTML error page saved as the document), not a report
    "not_the_report",  # a header that shares no column with the report it claims to be
    "json_malformed",  # JSON that does not parse (cut short, or not JSON at all)
    "json_shape",  # JSON of the wrong shape (no array at the dataset's record path)
    "unreadable",  # anything else
]


class UnreadableObjectError(CurationError):
    """A landed raw object, or its manifest entry, cannot be read (missing, or not what the manifest says).

    A run reports such an object (its key, `kind` and the reason) and curates the others; the object stays pending,
    so a fixed re-landing (same natural id) is curated by the next run.
    """

    def __init__(self, message: str, *, kind: UnreadableKind = "unreadable", key: str | None = None) -> None:
        super().__init__(message)
        self.kind: UnreadableKind = kind
        self.key = key


class UnsupportedTypeError(CurationError):
    """A registry column type that no parser or Spark type is written for."""


class MissingLineageError(CurationError):
    """A dataset without a column of origin object_id: its rows could not say which raw object they came from."""


class RowAccountingError(CurationError):
    """Rows read != curated + quarantined + deduplicated: something would be lost silently."""


class CatalogRegistrationError(CurationError):
    """The Glue Data Catalog refused partitions of a curated table."""


class WarehouseLoadError(Exception):
    """A warehouse load cannot be done as asked (a statement failed, an unknown --warehouse); the load's transaction
    is rolled back, its runs stay out of the ledger, and the next load takes them again."""
