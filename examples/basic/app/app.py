"""Validates each new JSON order under data/ and writes a result under processed/.

S3 invokes handler() with one event per new object. The result of
data/<name>.json goes to processed/<name>.json: the order with a computed
total, or the reasons it was rejected. The output prefix comes from the
OUTPUT_PREFIX environment variable and never overlaps the trigger's prefix,
so results do not invoke the function again.
"""

import json
import os
import urllib.parse

REQUIRED_FIELDS = ("order_id", "items")


def validate(order):
    """Returns the list of problems with an order (empty when it is valid)."""
    if not isinstance(order, dict):
        return ["the document is not a JSON object"]
    problems = [f"missing field {field!r}" for field in REQUIRED_FIELDS if field not in order]
    items = order.get("items", [])
    if "items" in order and (not isinstance(items, list) or not items):
        problems.append("items must be a non-empty list")
    elif isinstance(items, list):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"item {i} is not an object")
                continue
            qty, price = item.get("quantity"), item.get("price")
            if not isinstance(qty, int) or qty <= 0:
                problems.append(f"item {i}: quantity must be a positive whole number")
            if not isinstance(price, (int, float)) or price < 0:
                problems.append(f"item {i}: price must be a non-negative number")
    return problems


def process(order):
    """The result document for one order."""
    problems = validate(order)
    if problems:
        return {"valid": False, "problems": problems}
    total = sum(item["quantity"] * item["price"] for item in order["items"])
    return {"valid": True, "order_id": order["order_id"], "total": round(total, 2)}


def result_key(key, output_prefix):
    """processed/<name>.json for data/<name>.json."""
    name = key.split("/", 1)[1] if "/" in key else key
    return f"{output_prefix}{name}"


def _s3():
    import boto3  # provided by the Lambda runtime; imported late so tests need no AWS

    return boto3.client("s3")


def handler(event, context, s3=None):
    s3 = s3 or _s3()
    output_prefix = os.environ.get("OUTPUT_PREFIX", "processed/")
    written = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if key.startswith(output_prefix):
            continue  # never process our own output
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            order = json.loads(body)
        except ValueError as e:
            result = {"valid": False, "problems": [f"not JSON: {e}"]}
        else:
            result = process(order)
        out = result_key(key, output_prefix)
        s3.put_object(Bucket=bucket, Key=out, Body=json.dumps(result).encode(), ContentType="application/json")
        written.append(out)
    return {"written": written}
