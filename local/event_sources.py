"""What AWS does between services that moto does not: an SQS event source mapping that feeds a Lambda function.

Long-polls the queue, invokes the function with the SQS event shape, deletes the records the function did not report
as failed (`batchItemFailures`), and leaves the others to come back after the visibility timeout (then to the DLQ).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from ingestion_lambdas import aws

logger = logging.getLogger(__name__)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


class SqsEventSource:
    def __init__(self, queue_url: str, queue_arn: str, function_name: str, batch_size: int = 10) -> None:
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.function_name = function_name
        self.batch_size = batch_size
        self.delivered = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sqs = aws.client("sqs")
        self._lambda = aws.client("lambda")

    def poll_once(self, wait_s: int = 1) -> int:
        """One receive → invoke → delete round; returns how many records the function handled."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        if not messages:
            return 0
        response = self._lambda.invoke(
            FunctionName=self.function_name, Payload=json.dumps(sqs_event(messages, self.queue_arn)).encode()
        )
        result = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            logger.warning("%s failed on a batch: %s", self.function_name, result.get("errorMessage"))
            self.failed += len(messages)
            return 0
        failures = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failures]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(uuid.uuid4()), "ReceiptHandle": m["ReceiptHandle"]} for m in done],
            )
        self.delivered += len(done)
        self.failed += len(failures)
        return len(done)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.poll_once()
                except Exception:
                    logger.exception("event source %s → %s", self.queue_arn, self.function_name)
                    self._stop.wait(1.0)

        self._thread = threading.Thread(target=run, name="sqs-event-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
