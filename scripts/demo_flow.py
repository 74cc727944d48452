"""The data part of `make demo`: upload orders, show the notification firing,
and run the example handler on the exact event S3 sends.

The moto emulator delivers the notification to the function (it records one
log stream per delivery) but cannot execute the code without docker, so the
handler runs here, locally, on the same event, against the emulated bucket.
"""

import datetime
import hashlib
import importlib.util
import json
import sys
import time

import boto3

bucket, function, app_dir = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3")
logs = boto3.client("logs")
group = f"/aws/lambda/{function}"


def deliveries():
    try:
        return len(logs.describe_log_streams(logGroupName=group)["logStreams"])
    except logs.exceptions.ResourceNotFoundException:
        return 0


def s3_event(key, body):
    """An ObjectCreated:Put record shaped as S3 sends it to Lambda."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": s3.meta.region_name,
            "eventTime": now,
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "eventpipe-orders-ingest-0",
                "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                "object": {"key": key, "size": len(body), "eTag": hashlib.md5(body).hexdigest()},
            },
        }]
    }


orders = {
    "data/order-1001.json": {"order_id": "1001", "items": [{"quantity": 2, "price": 9.5}, {"quantity": 1, "price": 4}]},
    "data/order-1002.json": {"items": [{"quantity": 0, "price": 3}]},
}
before = deliveries()
for key, order in orders.items():
    body = json.dumps(order).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    print(f"  put s3://{bucket}/{key}")
s3.put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"not an order")
print(f"  put s3://{bucket}/notes/readme.txt   (no trigger matches)")
time.sleep(0.2)
print(f"  notifications delivered to {function}: {deliveries() - before} (one per matching object)")

print("  running app.handler locally on the same events (the emulator cannot run code):")
spec = importlib.util.spec_from_file_location("app", f"{app_dir}/app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
for key in orders:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    app.handler(s3_event(key, body), None, s3=s3)
for obj in s3.list_objects_v2(Bucket=bucket, Prefix="processed/").get("Contents", []):
    result = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
    print(f"  s3://{bucket}/{obj['Key']}: {result}")
