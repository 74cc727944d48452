"""Orders team: validates each new order and writes a result beside it.

S3 invokes handler() for each new object under orders/incoming/ ending in
.json, and backfill invokes it the same way for the orders that were in the
bucket before the pipeline existed. The result of
orders/incoming/<name>.json goes to orders/processed/<name>.json (the
OUTPUT_PREFIX environment variable), which no trigger matches. Delivery is
at least once, so writing the same result twice must be harmless: it is.
"""

import json
import os
import urllib.parse


def process(order):
    """The result document for one order."""
    if not isinstance(order, dict) or "order_id" not in order:
        return {"valid": False, "problems": ["missing field 'order_id'"]}
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return {"valid": False, "problems": ["items must be a non-empty list"]}
    try:
        total = sum(item["quantity"] * item["price"] for item in items)
    except (KeyError, TypeError) as e:
        return {"valid": False, "problems": [f"bad item: {e}"]}
    return {"valid": True, "order_id": order["order_id"], "total": round(total, 2)}


def result_key(key, output_prefix):
    """orders/processed/<name>.json for orders/incoming/<name>.json."""
    return output_prefix + key.rsplit("/", 1)[-1]


def _s3():
    import boto3  # provided by the Lambda runtime

    return boto3.client("s3")


def handler(event, context, s3=None):
    s3 = s3 or _s3()
    output_prefix = os.environ.get("OUTPUT_PREFIX", "orders/processed/")
    written = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        # S3 form-encodes keys in events (a space is "+").
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if key.startswith(output_prefix):
            continue  # never process our own output
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            result = process(json.loads(body))
        except ValueError as e:
            result = {"valid": False, "problems": [f"not JSON: {e}"]}
        out = result_key(key, output_prefix)
        s3.put_object(Bucket=bucket, Key=out, Body=json.dumps(result).encode(), ContentType="application/json")
        written.append(out)
    return {"written": written}
