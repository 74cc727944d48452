"""Web team: counts the click events in each new batch, per page.

S3 invokes handler() for each new object under clicks/raw/ ending in
.ndjson: one JSON document per line, each with a "page". The counts go to
the function's log; the bucket is only read.
"""

import collections
import json
import urllib.parse


def count_pages(lines):
    """Clicks per page in the lines of one batch; lines that are not JSON
    objects with a "page" are counted as "(invalid)"."""
    counts = collections.Counter()
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            page = json.loads(line)["page"]
        except (ValueError, KeyError, TypeError):
            page = "(invalid)"
        counts[str(page)] += 1
    return dict(counts)


def _s3():
    import boto3  # provided by the Lambda runtime

    return boto3.client("s3")


def handler(event, context, s3=None):
    s3 = s3 or _s3()
    batches = {}
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        batches[key] = count_pages(body.splitlines())
    print(json.dumps({"clicks": batches}))
    return {"clicks": batches}
