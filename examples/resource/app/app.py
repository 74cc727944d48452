"""Logs each new object's key; the smallest useful handler."""


def handler(event, context):
    keys = [r["s3"]["object"]["key"] for r in event.get("Records", [])]
    print({"received": keys})
    return {"received": keys}
