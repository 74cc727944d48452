"""Sums each new CSV file of orders under incoming/.

S3 invokes handler() for each new object under incoming/ ending in .csv.
Each file has a header line and one order per row: order_id, quantity,
price. The handler logs the file's total and returns it; rows that do not
parse are counted and skipped.
"""

import csv
import io
import json
import urllib.parse


def summarize(text):
    """Orders, rejected rows and the total of one CSV file."""
    orders, rejected, total = 0, 0, 0.0
    for row in csv.DictReader(io.StringIO(text)):
        try:
            quantity, price = int(row["quantity"]), float(row["price"])
        except (KeyError, TypeError, ValueError):
            rejected += 1
            continue
        orders += 1
        total += quantity * price
    return {"orders": orders, "rejected": rejected, "total": round(total, 2)}


def _s3():
    import boto3  # provided by the Lambda runtime

    return boto3.client("s3")


def handler(event, context, s3=None):
    s3 = s3 or _s3()
    files = {}
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        # S3 form-encodes keys in events (a space is "+").
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        files[key] = summarize(body)
    print(json.dumps(files))
    return files
