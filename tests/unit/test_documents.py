import gzip
import io
import logging
import random
import traceback

import pytest
import requests

from ingestion_lambdas.spapi.documents import DocumentStream, charset_from_content_type, open_document
from ingestion_lambdas.spapi.errors import MalformedReportError, TruncatedDownloadError
from ingestion_lambdas.spapi.reports import ReportDocument

TEXT = "item-name\tprice\nCrème brûlée set\t19.99\nGröße M Socken\t7.50\n"


def response_of(body: bytes, content_type: str, content_length: int | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(body)
    response.headers["Content-Type"] = content_type
    if content_length is not None:
        response.headers["Content-Length"] = str(content_length)
    return response


def drain(stream: DocumentStream, block: int = 7) -> bytes:
    out = b""
    while chunk := stream.read(block):
        out += chunk
    return out


def test_gzip_cp1252_document_is_stored_as_utf8_with_counts():
    # GIVEN a German flat file, gzip-compressed, in Cp1252 as Amazon delivers it
    body = gzip.compress(TEXT.encode("cp1252"))
    stream = DocumentStream(response_of(body, "text/plain;charset=Cp1252", len(body)), compressed=True)
    # WHEN it is read in small blocks
    out = drain(stream)
    # THEN the bytes are the UTF-8 text, and the counts describe them
    assert out == TEXT.encode("utf-8")
    assert stream.source_charset == "cp1252"
    assert stream.line_count == 3
    assert stream.first_line == "item-name\tprice"


def test_gzip_detected_from_magic_bytes_without_compression_algorithm():
    body = gzip.compress(TEXT.encode())
    out = drain(DocumentStream(response_of(body, "text/plain;charset=UTF-8"), compressed=False))
    assert out == TEXT.encode()


def test_gzip_without_trailer_is_a_truncated_download():
    body = gzip.compress(TEXT.encode() * 50)[:-6]
    with pytest.raises(TruncatedDownloadError, match="trailer"):
        drain(DocumentStream(response_of(body, "text/plain"), compressed=True))


def test_body_shorter_than_content_length_is_a_truncated_download():
    body = TEXT.encode()
    with pytest.raises(TruncatedDownloadError, match="of"):
        drain(DocumentStream(response_of(body[:20], "text/plain", len(body)), compressed=False))


def test_corrupt_gzip_is_malformed():
    body = bytearray(gzip.compress(TEXT.encode() * 50))
    body[30:40] = b"\xff" * 10
    with pytest.raises((MalformedReportError, TruncatedDownloadError)):
        drain(DocumentStream(response_of(bytes(body), "text/plain"), compressed=True))


def test_bytes_that_are_not_the_declared_charset_are_malformed_not_replaced():
    body = "Größe".encode("cp1252")
    with pytest.raises(MalformedReportError, match="utf-8"):
        drain(DocumentStream(response_of(body, "text/plain;charset=UTF-8"), compressed=False))


@pytest.mark.parametrize(
    ("header", "codec"),
    [
        ("text/plain;charset=windows-31j", "cp932"),
        ("text/plain; charset=Cp1252", "cp1252"),
        ("text/plain", "utf-8"),
        (None, "utf-8"),
    ],
)
def test_charset_from_content_type(header, codec):
    assert charset_from_content_type(header) == codec


def test_reads_return_the_full_size_asked_for_so_multipart_parts_are_never_short():
    # GIVEN a document whose gzip stream arrives in several network chunks (random text barely compresses)
    noise = random.Random(1).randbytes(1_500_000).hex()  # noqa: S311 - test data
    text = "".join(f"{noise[i : i + 60]}\n" for i in range(0, len(noise), 60)).encode()
    stream = DocumentStream(response_of(gzip.compress(text), "text/plain;charset=UTF-8"), compressed=True)
    # WHEN it is read in fixed-size parts, as s3transfer cuts a multipart upload
    parts = iter(lambda: stream.read(65_536), b"")
    sizes = [len(part) for part in parts]
    # THEN every part but the last is full
    assert all(size == 65_536 for size in sizes[:-1]) and sum(sizes) == len(text)


PRESIGNED = (
    "https://tortuga-prod-na.s3-external-1.amazonaws.com/doc?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=5ec4e7"
)


class UnreachableSession:
    """A session whose connection fails the way requests reports it: quoting the whole URL."""

    def get(self, url: str, **_: object) -> requests.Response:
        raise requests.ConnectionError(f"HTTPSConnectionPool: Max retries exceeded with url: {url}")


def test_a_download_that_cannot_start_is_truncated_and_its_error_names_the_host_only():
    document = ReportDocument(reportDocumentId="amzn1.spdoc.1", url=PRESIGNED, compressionAlgorithm="GZIP")
    with pytest.raises(TruncatedDownloadError) as raised:
        open_document(document, UnreachableSession())  # type: ignore[arg-type]
    shown = "".join(traceback.format_exception(raised.value))  # what a logged traceback would print
    assert "tortuga-prod-na.s3-external-1.amazonaws.com" in str(raised.value) and "X-Amz" not in shown


def test_the_http_library_logs_a_presigned_url_without_its_query(caplog):
    # GIVEN urllib3's DEBUG line for a download (importing the SP-API client installs the redaction)
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    path = PRESIGNED.split(".com", 1)[1]
    # WHEN urllib3 logs the request as it does for each one
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "tortuga-prod-na.s3-external-1.amazonaws.com", 443, "GET", path,
        "HTTP/1.1", 200, 1024,
    )  # fmt: skip
    # THEN the line keeps the host and path, not the signature or the credential
    assert '"GET /doc?*** HTTP/1.1" 200' in caplog.text and "X-Amz" not in caplog.text
