"""Where the warehouse load's statements run, chosen by configuration (the job's --warehouse URL):

- `redshift-data://<workgroup>/<database>[?secret_arn=<arn>]`: Redshift Serverless through the Redshift Data API,
  as the database user of the secret (the namespace's admin secret Redshift manages; without one, the caller's IAM
  identity, which Redshift maps to a user with PUBLIC's rights only). A transaction is one Data API session: BEGIN
  opens it (SessionKeepAliveSeconds), every statement runs in it (SessionId), COMMIT ends it; on any failure
  ROLLBACK. A statement still running at the timeout is cancelled.
- `duckdb:///<path>`: a DuckDB file (offline). Each statement is read as Redshift SQL and written as DuckDB's by
  sqlglot, as the Athena views are; Redshift's `COPY … FORMAT AS PARQUET MANIFEST`, which DuckDB has no form of, is
  performed by reading the manifest's files from S3 (httpfs) into the named table.

Both receive the same statement text (statements.py) and keep it in `sent`, in order.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlparse

from botocore.exceptions import ClientError

from glue_jobs.errors import WarehouseLoadError

if TYPE_CHECKING:
    import duckdb

Row = tuple[Any, ...]
COPY = re.compile(
    r"\ACOPY (?P<table>\S+) FROM '(?P<manifest>s3://[^']+)' IAM_ROLE '[^']*' FORMAT AS PARQUET MANIFEST\Z"
)
logger = logging.getLogger(__name__)


class Executor(Protocol):
    sent: list[str]

    def query(self, sql: str) -> list[Row]: ...

    def transaction(self, statements: list[str]) -> None: ...

    def close(self) -> None: ...


class RedshiftDataExecutor:
    """Statements through the Redshift Data API to a Redshift Serverless workgroup (IAM credentials of the caller)."""

    FINISHED, FAILED = "FINISHED", ("FAILED", "ABORTED")

    def __init__(  # noqa: PLR0913 - the Data API's target and the polling settings
        self,
        client: Any,
        workgroup: str,
        database: str,
        secret_arn: str | None = None,
        poll_s: float = 0.5,
        timeout_s: float = 1800,
        keep_alive_s: int = 120,  # idle seconds between statements; a load that died leaves no session for long
    ) -> None:
        self.client, self.workgroup, self.database, self.secret_arn = client, workgroup, database, secret_arn
        self.poll_s, self.timeout_s, self.keep_alive_s = poll_s, timeout_s, keep_alive_s
        self.sent: list[str] = []

    def _execute(self, sql: str, session: str | None = None, keep_alive: bool = False) -> dict[str, Any]:
        target = {"SessionId": session} if session else {"WorkgroupName": self.workgroup, "Database": self.database}
        if not session and self.secret_arn:
            target["SecretArn"] = self.secret_arn
        extra = {"SessionKeepAliveSeconds": self.keep_alive_s} if keep_alive else {}
        self.sent.append(sql)
        started = self.client.execute_statement(Sql=sql, **target, **extra)
        deadline = time.monotonic() + self.timeout_s
        while (described := self.client.describe_statement(Id=started["Id"]))["Status"] != self.FINISHED:
            if described["Status"] in self.FAILED:
                raise WarehouseLoadError(f"statement {len(self.sent)} ended {described['Status']}: "
                                         f"{described.get('Error', '')} ({sql[:120]}...)")  # fmt: skip
            if time.monotonic() > deadline:
                try:
                    self.client.cancel_statement(Id=started["Id"])
                except ClientError:  # it ended meanwhile
                    pass
                raise WarehouseLoadError(f"statement {len(self.sent)} still running after {self.timeout_s}s")
            time.sleep(self.poll_s)
        return dict(started)

    def query(self, sql: str) -> list[Row]:
        statement = self._execute(sql)
        rows: list[Row] = []
        token: dict[str, str] = {}
        while True:
            result = self.client.get_statement_result(Id=statement["Id"], **token)
            rows += [tuple(_field_value(f) for f in record) for record in result.get("Records", [])]
            if not result.get("NextToken"):
                return rows
            token = {"NextToken": result["NextToken"]}

    def transaction(self, statements: list[str]) -> None:
        session = str(self._execute("BEGIN", keep_alive=True)["SessionId"])
        try:
            for sql in statements:
                self._execute(sql, session)
            self._execute("COMMIT", session)
        except Exception:
            try:
                self._execute("ROLLBACK", session)
            except (WarehouseLoadError, ClientError):  # the session is gone: Redshift rolls the transaction back
                logger.warning(json.dumps({"event": "rollback_failed", "workgroup": self.workgroup}))
            raise

    def close(self) -> None:
        return None


def _field_value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    return next(iter(field.values()))  # stringValue, longValue, doubleValue, booleanValue, ...


class DuckDBExecutor:
    """The same statements on a DuckDB file. S3 is read with the credentials and endpoint boto3 would use."""

    def __init__(self, path: str, session: Any) -> None:
        import duckdb  # noqa: PLC0415 - offline only: Glue never loads into DuckDB

        self.s3 = session.client("s3")
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(path)
        read_s3(self.con, session)
        self.sent: list[str] = []

    def _run(self, sql: str) -> duckdb.DuckDBPyConnection:
        import sqlglot  # noqa: PLC0415 - offline only, as duckdb
        from sqlglot.errors import ErrorLevel  # noqa: PLC0415

        self.sent.append(sql)
        if (copy := COPY.match(sql)) is not None:
            return self._copy(copy["table"], copy["manifest"])
        # Redshift's DISTKEY/SORTKEY mean nothing to DuckDB: dropped, quietly.
        translated = sqlglot.transpile(sql, read="redshift", write="duckdb", unsupported_level=ErrorLevel.IGNORE)[0]
        return self.con.execute(translated)

    def _copy(self, table: str, manifest: str) -> duckdb.DuckDBPyConnection:
        bucket, _, key = manifest.removeprefix("s3://").partition("/")
        entries = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())["entries"]
        if not entries:  # Redshift copies nothing from an empty manifest
            return self.con
        files = ", ".join("'" + entry["url"].replace("'", "''") + "'" for entry in entries)
        # By position, as Redshift's COPY from Parquet; the partition folders in the paths are not columns.
        return self.con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet([{files}], hive_partitioning = false)")

    def query(self, sql: str) -> list[Row]:
        return [tuple(row) for row in self._run(sql).fetchall()]

    def transaction(self, statements: list[str]) -> None:
        self.con.execute("BEGIN TRANSACTION")
        try:
            for sql in statements:
                self._run(sql)
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()


def read_s3(con: duckdb.DuckDBPyConnection, session: Any, endpoint_url: str | None = None) -> None:
    """Let a DuckDB connection read s3:// as a boto3 session's S3 client does (its endpoint, or `endpoint_url`; its
    region and credentials), through httpfs from its offline wheel."""
    from duckdb_extensions import import_extension  # noqa: PLC0415 - offline only, as duckdb

    import_extension("httpfs", con=con)
    con.execute("LOAD httpfs")
    s3 = session.client("s3", endpoint_url=endpoint_url)
    endpoint = urlparse(s3.meta.endpoint_url)
    settings = {"TYPE": "s3", "REGION": s3.meta.region_name or "us-east-1"}
    if (found := session.get_credentials()) is not None:
        credentials = found.get_frozen_credentials()
        settings |= {"KEY_ID": credentials.access_key, "SECRET": credentials.secret_key}
        if credentials.token:
            settings["SESSION_TOKEN"] = credentials.token
    if endpoint.netloc and not endpoint.netloc.endswith("amazonaws.com"):
        settings |= {"ENDPOINT": endpoint.netloc, "URL_STYLE": "path"}
        settings["USE_SSL"] = str(endpoint.scheme == "https").lower()
    body = ", ".join(f"{k} {v}" if k in ("TYPE", "USE_SSL") else f"{k} '{v}'" for k, v in settings.items())
    con.execute(f"CREATE OR REPLACE SECRET lake ({body})")


def executor_for(url: str, session: Any) -> Executor:
    """The executor a --warehouse URL names (see the module's docstring)."""
    parsed = urlparse(url)
    if parsed.scheme == "redshift-data" and parsed.netloc and parsed.path.strip("/"):
        secret = parse_qs(parsed.query).get("secret_arn", [None])[0]
        return RedshiftDataExecutor(session.client("redshift-data"), parsed.netloc, parsed.path.strip("/"), secret)
    if parsed.scheme == "duckdb" and parsed.path:
        Path(parsed.path).parent.mkdir(parents=True, exist_ok=True)
        return DuckDBExecutor(parsed.path, session)
    raise WarehouseLoadError(f"--warehouse {url!r}: expected redshift-data://<workgroup>/<database>[?secret_arn=...] "
                             "or duckdb:///<path>")  # fmt: skip
