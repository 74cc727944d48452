"""Tallies the summaries on the uploads stream: files, bytes and records.

The mapping invokes handler() with batches of Kinesis records, each carrying
one summary (base64-encoded JSON). A file of summaries put under replay/ in
this pipeline's own bucket, one JSON object a line, is tallied the same way.
The totals of each batch are logged and returned.
"""

import base64
import json
import urllib.parse


def tally(summaries):
    """Totals over summaries; files that were not JSON are counted apart."""
    totals = {"files": 0, "bytes": 0, "records": 0, "invalid": 0}
    for s in summaries:
        totals["files"] += 1
        totals["bytes"] += int(s.get("bytes", 0))
        if s.get("valid"):
            totals["records"] += int(s.get("records", 0))
        else:
            totals["invalid"] += 1
    return totals


def _s3():
    import boto3  # provided by the Lambda runtime; imported late so tests need no AWS

    return boto3.client("s3")


def summaries(event, s3=None):
    """Every summary an event carries, from the stream or from replay files."""
    out = []
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:kinesis":
            out.append(json.loads(base64.b64decode(record["kinesis"]["data"])))
        elif "s3" in record:
            s3 = s3 or _s3()
            bucket = record["s3"]["bucket"]["name"]
            key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            out.extend(json.loads(line) for line in body.splitlines() if line.strip())
    return out


def handler(event, context, s3=None):
    totals = tally(summaries(event, s3))
    print(json.dumps({"tally": totals}))
    return totals
