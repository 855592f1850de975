"""`spapi-lake status` and `spapi-lake redrive`: what an operator asks of a running deployment.

Both find everything from the entry stack's parts (deployment.stacks.stack_outputs), with the AWS credentials and
region of the environment, so they work the same on AWS and on the offline deployment in moto (boto3 honours
AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from glue_jobs.curate_reports.report import RunReport, report_keys
from ingestion_lambdas import aws
from ingestion_lambdas.services.ledger import Ledger
from lake_formation import registry


@dataclass
class CurationRun:
    run_id: str
    status: str
    at: str  # when its report was written (UTC, ISO 8601)
    failed: list[str] = field(default_factory=list)  # the suite's failed expectations, when it blocked the dataset


@dataclass
class Status:
    ledger: dict[str, int]  # report requests by ledger state
    last_landed: dict[str, str]  # report type → when its newest document landed (UTC, ISO 8601)
    last_curation: dict[str, CurationRun]  # dataset → its newest curation run
    blocked: list[str]  # datasets whose newest run's suite failed: nothing new is published until it passes
    dead_letters: int  # notifications in the dead-letter queue (redrive them with `spapi-lake redrive`)
    failed_reports: list[dict[str, str]]  # FAILED requests: what and why

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def lines(self) -> list[str]:
        out = ["ledger: " + (", ".join(f"{state} {count}" for state, count in sorted(self.ledger.items())) or "empty")]
        out += [f"  FAILED {r['report_type']} {r['marketplace_id']} {r['window']}: {r['error']}"
                for r in self.failed_reports]  # fmt: skip
        out.append("last landed:")
        landed = sorted(self.last_landed.items())
        out += [f"  {report_type:<52} {at}" for report_type, at in landed] or ["  nothing yet"]
        out.append("last curation run:")
        out += [f"  {name:<28} {run.status:<18} {run.at}  {run.run_id}"
                for name, run in sorted(self.last_curation.items())] or ["  none yet"]  # fmt: skip
        out.append("blocked by their suite: " + (", ".join(self.blocked) or "none"))
        out.append(f"dead-lettered notifications: {self.dead_letters}")
        return out


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def queue_url(sqs: Any, arn: str) -> str:
    *_, account, name = arn.split(":")
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def dead_letter_queue(sqs: Any, source_url: str) -> str:
    """The dead-letter queue the source queue's redrive policy names."""
    attributes = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    return queue_url(sqs, json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"])


def depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def status(outputs: dict[str, str]) -> Status:
    """The deployment's state from its parts' outputs (deployment.stacks.stack_outputs)."""
    states: Counter[str] = Counter()
    landed: dict[str, float] = {}
    failed = []
    for entry in Ledger(aws.resource("dynamodb"), outputs["LedgerTableName"]).entries():
        states[entry.status] += 1
        if entry.status == "LANDED":
            landed[entry.report_type] = max(landed.get(entry.report_type, 0.0), entry.updated_at)
        elif entry.status == "FAILED":
            window = f"{entry.data_start_time or '-'}..{entry.data_end_time or '-'}"
            failed.append({"report_type": entry.report_type, "marketplace_id": entry.marketplace_id,
                           "window": window, "error": entry.error or ""})  # fmt: skip
    s3, runs = aws.client("s3"), {}
    for table in registry.load_all():
        keys = report_keys(s3, outputs["CuratedBucketName"], table)
        if keys:
            written, key = keys[-1]
            body = s3.get_object(Bucket=outputs["CuratedBucketName"], Key=key)["Body"].read()
            report = RunReport.model_validate_json(body)
            failed_rules = report.validation.failed if report.validation and not report.validation.success else []
            runs[table] = CurationRun(report.run_id, report.status, written.isoformat(timespec="seconds"), failed_rules)
    sqs = aws.client("sqs")
    dead = dead_letter_queue(sqs, queue_url(sqs, outputs["NotificationsQueueArn"]))
    return Status(
        ledger=dict(states),
        last_landed={report_type: _iso(at) for report_type, at in landed.items()},
        last_curation=runs,
        blocked=sorted(name for name, run in runs.items() if run.status == "VALIDATION_FAILED"),
        dead_letters=depth(sqs, dead),
        failed_reports=sorted(failed, key=lambda r: (r["report_type"], r["window"])),
    )


def redrive(outputs: dict[str, str], max_messages: int | None = None) -> tuple[int, int]:
    """Move the dead-lettered notifications back to the notifications queue; returns how many moved, and how many
    the queue refused (they stay in the dead-letter queue, visible again after a minute).

    Each message is sent to the queue before it is deleted from the dead-letter queue, so a redrive cut short sends
    some message again rather than losing it; a notification processed twice lands its report once (the ledger is
    keyed on the report, and a landing execution is named after it). Running it again moves only what is left.
    Written with ReceiveMessage/SendMessageBatch/DeleteMessageBatch rather than SQS's StartMessageMoveTask so it
    says exactly what moved, and because moto (the offline deployment) has no message move tasks.
    """
    sqs = aws.client("sqs")
    source = queue_url(sqs, outputs["NotificationsQueueArn"])
    dead, moved = dead_letter_queue(sqs, source), 0
    while max_messages is None or moved < max_messages:
        wanted = 10 if max_messages is None else min(10, max_messages - moved)
        received = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
                                       VisibilityTimeout=60, MessageAttributeNames=["All"])  # fmt: skip
        batch = received.get("Messages", [])
        if not batch:
            return moved, 0
        entries = [{"Id": str(i), "MessageBody": m["Body"]}
                   | ({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})
                   for i, m in enumerate(batch)]  # fmt: skip
        sent = {item["Id"] for item in sqs.send_message_batch(QueueUrl=source, Entries=entries).get("Successful", [])}
        # a message that could not be sent stays in the dead-letter queue (visible again after 60 s)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch) if str(i) in sent]
        if done:
            sqs.delete_message_batch(QueueUrl=dead, Entries=done)
        moved += len(done)
        if len(done) < len(batch):
            return moved, len(batch) - len(done)
    return moved, 0
