"""Summarizes each new JSON file under data/ and puts the summary on a stream.

S3 invokes handler() with one event per new object. The summary says which
object it was, how large, and what it holds: how many records (the items of
a JSON list, else one) and which fields they have. It goes to the Kinesis
stream named by the STREAM_NAME environment variable (the module sets it),
keyed by the object's key, so summaries of one object stay in order.

The pipeline's mapping also invokes handler() with the stream's own records.
Those are counted and never written back: writing a record for each record
read would loop forever.
"""

import json
import os
import urllib.parse


def summarize(bucket, key, body):
    """The summary of one object's contents (bytes)."""
    summary = {"bucket": bucket, "key": key, "bytes": len(body)}
    try:
        doc = json.loads(body)
    except ValueError as e:
        summary.update(valid=False, problem=f"not JSON: {e}")
        return summary
    records = doc if isinstance(doc, list) else [doc]
    fields = set()
    for r in records:
        if isinstance(r, dict):
            fields.update(r)
    summary.update(valid=True, records=len(records), fields=sorted(fields))
    return summary


def _clients():
    import boto3  # provided by the Lambda runtime; imported late so tests need no AWS

    return boto3.client("s3"), boto3.client("kinesis")


def handler(event, context, s3=None, kinesis=None):
    records = event.get("Records", [])
    from_stream = [r for r in records if r.get("eventSource") == "aws:kinesis"]
    if from_stream:
        # Our own summaries, read back: count them, write nothing.
        return {"summaries_seen": len(from_stream)}
    if s3 is None or kinesis is None:
        s3, kinesis = _clients()
    stream = os.environ["STREAM_NAME"]
    sent = []
    for record in records:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        summary = summarize(bucket, key, body)
        kinesis.put_record(
            StreamName=stream,
            Data=json.dumps(summary).encode(),
            PartitionKey=key,
        )
        sent.append(key)
    return {"summarized": sent}
