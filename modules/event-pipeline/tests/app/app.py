"""The handler the module's tests package (it is deployed, never run)."""


def handler(event, context):
    return {"records": len(event.get("Records", []))}
