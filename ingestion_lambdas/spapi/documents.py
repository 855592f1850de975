"""Streaming report-document download: gunzip, transcode to UTF-8, verify, all in constant memory.

`DocumentStream` is a readable binary file object, so boto3's `upload_fileobj` can feed it straight into an S3
multipart upload. Integrity is checked as the last bytes are read: a truncated body or a gzip stream without its
trailer raises before the upload completes, so nothing half-written lands.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import zlib
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from ingestion_lambdas.spapi.errors import DocumentUrlRefusedError, MalformedReportError, TruncatedDownloadError
from ingestion_lambdas.spapi.transport import log_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingestion_lambdas.spapi.reports import ReportDocument, ReportsApi

logger = logging.getLogger(__name__)
CHUNK = 256 * 1024  # network read size: a gzip chunk inflates ~10x, and each step holds a few copies
GZIP_MAGIC = b"\x1f\x8b"
# Amazon names Java charsets in Content-Type; Python's codec registry knows most under other names.
CHARSET_ALIASES = {
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "windows-31j": "cp932",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "iso-8859-1": "latin-1",
}
# When the Content-Type names no charset, SP-API documentation says flat files are UTF-8 unless the marketplace's
# legacy charset applies; we cannot know the marketplace here, so the fallback is UTF-8 and a decode error is raised
# (never silent replacement) if the bytes are not UTF-8.
DEFAULT_CHARSET = "utf-8"


def charset_from_content_type(content_type: str | None) -> str:
    if not content_type:
        return DEFAULT_CHARSET
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str):
        return DEFAULT_CHARSET
    name = charset.strip().lower()
    codec = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(codec).name
    except LookupError as err:
        raise MalformedReportError(f"unknown document charset {charset!r}") from err


class DocumentStream(io.RawIOBase):
    """UTF-8 bytes of a report document, produced while it downloads."""

    def __init__(self, response: requests.Response, compressed: bool) -> None:
        super().__init__()
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_content(CHUNK, decode_unicode=False)
        self.source_charset = charset_from_content_type(response.headers.get("Content-Type"))
        self._decoder = codecs.getincrementaldecoder(self.source_charset)(errors="strict")
        self._compressed = compressed
        self._inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, auto-detected
        self._expected_length = (
            int(response.headers["Content-Length"])
            if "Content-Length" in response.headers and "Content-Encoding" not in response.headers
            else None
        )
        self._buffer = b""
        self._offset = 0  # bytes of _buffer already read (no copying of what remains)
        self._finished = False
        self._first = True
        self.bytes_downloaded = 0
        self.bytes_out = 0
        self.lines = 0
        self._ends_with_newline = True
        self._head = b""  # bytes up to the first newline: the header of a flat file
        self._sha = hashlib.sha256()

    @classmethod
    def from_file(cls, path: Path, charset: str) -> DocumentStream:
        """A report document saved from Amazon (gzip or not: the magic bytes tell), decoded from `charset` the same
        way as a download."""
        response = requests.Response()
        response.status_code = 200
        response.raw = path.open("rb")
        response.headers["Content-Type"] = f"text/plain;charset={charset}"
        return cls(response, compressed=False)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @property
    def line_count(self) -> int:
        """Lines in the document, counting a last line without a newline."""
        return self.lines + (0 if self._ends_with_newline else 1)

    @property
    def first_line(self) -> str:
        return self._head.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")

    def readable(self) -> bool:
        return True

    def peek(self, size: int = 1) -> bytes:
        """The next bytes of output without consuming them (e.g. to tell a JSON document from a flat file)."""
        while self._offset >= len(self._buffer) and not self._finished:
            self._buffer, self._offset = self._next_output(), 0
        return self._buffer[self._offset : self._offset + size]

    def read(self, size: int | None = -1) -> bytes:
        """Exactly `size` bytes unless the document ends first. S3 multipart uploads cut parts with one read each, and
        every part but the last must be at least 5 MiB, so short reads are not allowed here."""
        if size is None or size < 0:
            return self.readall()
        parts, wanted = [], size
        while wanted > 0:
            chunk = super().read(wanted)
            if not chunk:
                break
            parts.append(chunk)
            wanted -= len(chunk)
        return b"".join(parts)

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._offset >= len(self._buffer) and not self._finished:
            self._buffer, self._offset = self._next_output(), 0
        size = min(len(target), len(self._buffer) - self._offset)
        target[:size] = memoryview(self._buffer)[self._offset : self._offset + size]
        self._offset += size
        return size

    def _next_output(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            return self._finish()
        except requests.RequestException as err:
            raise TruncatedDownloadError(f"document download interrupted after {self.bytes_downloaded} bytes") from err
        self.bytes_downloaded += len(chunk)
        if self._first:
            self._first = False
            if chunk[:2] == GZIP_MAGIC:
                self._compressed = True  # magic bytes win over a missing compressionAlgorithm
        data = chunk
        if self._compressed:
            try:
                data = self._inflater.decompress(chunk)
            except zlib.error as err:
                raise MalformedReportError(f"corrupt gzip stream: {err}") from err
            if self._inflater.unused_data:
                raise MalformedReportError("trailing bytes after the gzip stream")
        return self._emit(self._decode(data, final=False))

    def _finish(self) -> bytes:
        self._finished = True
        if self._expected_length is not None and self.bytes_downloaded != self._expected_length:
            raise TruncatedDownloadError(
                f"document ended after {self.bytes_downloaded} of {self._expected_length} bytes"
            )
        tail = b""
        if self._compressed:
            if not self._inflater.eof:
                raise TruncatedDownloadError("gzip stream ended before its trailer: the download was truncated")
            tail = self._inflater.flush()
        return self._emit(self._decode(tail, final=True))

    def _decode(self, data: bytes, final: bool) -> str:
        try:
            return self._decoder.decode(data, final=final)
        except UnicodeDecodeError as err:
            raise MalformedReportError(f"document is not valid {self.source_charset}: {err.reason}") from err

    def _emit(self, text: str) -> bytes:
        out = text.encode("utf-8")
        if not out:
            return out
        if b"\n" not in self._head and len(self._head) < 1 << 16:
            self._head += out[: 1 << 16]
        self._ends_with_newline = out.endswith(b"\n")
        self.bytes_out += len(out)
        self.lines += out.count(b"\n")
        self._sha.update(out)
        return out

    def close(self) -> None:
        self._response.close()
        super().close()


def open_document(
    document: ReportDocument, session: requests.Session | None = None, timeout_s: tuple[float, float] = (5.0, 60.0)
) -> DocumentStream:
    """Start downloading a report document. The pre-signed URL is used once and never logged: messages name its host.

    Raises:
        DocumentUrlRefusedError: the URL was refused (typically expired).
        TruncatedDownloadError: the download could not start (connection or timeout).
    """
    http = session or requests.Session()
    host = urlsplit(document.url).netloc
    try:
        response = http.get(document.url, stream=True, timeout=timeout_s)
    except requests.RequestException as err:
        # requests' message quotes the whole pre-signed URL, a credential until it expires: the cause is not chained.
        raise TruncatedDownloadError(f"document download from {host} failed: {type(err).__name__}") from None
    if response.status_code != 200:
        response.close()
        raise DocumentUrlRefusedError(
            f"document download from {host} refused with HTTP {response.status_code}", status=response.status_code
        )
    # If the server applied Content-Encoding: gzip, requests already inflates it: do not inflate twice.
    compressed = document.compression_algorithm == "GZIP" and "gzip" not in response.headers.get("Content-Encoding", "")
    return DocumentStream(response, compressed)


def open_report_document(
    api: ReportsApi, report_document_id: str, session: requests.Session | None = None, refetches: int = 1
) -> DocumentStream:
    """getReportDocument, then download. A refused URL (expired: they last five minutes, and a queued Lambda can
    start late) re-fetches the document's metadata for a fresh URL, `refetches` times at most."""
    for attempt in range(1, refetches + 1):
        document = api.get_report_document(report_document_id)
        try:
            return open_document(document, session)
        except DocumentUrlRefusedError as err:
            log_event(logger, logging.INFO, "document_url_refused", operation="downloadReportDocument",
                      document_id=report_document_id, status=err.status, attempt=attempt,
                      host=urlsplit(document.url).netloc)  # fmt: skip
    return open_document(api.get_report_document(report_document_id), session)
