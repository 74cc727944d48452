"""Reads the timestamp of each new event file under events/ with a library
installed from requirements.txt (python-dateutil), and writes the events in
UTC under normalized/."""

import json
import os
from datetime import timezone

from dateutil import parser

OUTPUT_PREFIX = os.environ.get("OUTPUT_PREFIX", "normalized/")


def normalize(event):
    """The event with its `at` timestamp parsed (any ISO-like form) and
    given back in UTC, ISO 8601."""
    at = parser.parse(event["at"])
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return {**event, "at": at.astimezone(timezone.utc).isoformat()}


def handler(event, context, s3=None):
    if s3 is None:
        import boto3  # in the Lambda runtime

        s3 = boto3.client("s3")
    written = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
        body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        out_key = OUTPUT_PREFIX + key.rsplit("/", 1)[-1]
        s3.put_object(
            Bucket=bucket,
            Key=out_key,
            Body=json.dumps(normalize(body)).encode(),
            ContentType="application/json",
        )
        written.append(out_key)
    return {"written": written}
