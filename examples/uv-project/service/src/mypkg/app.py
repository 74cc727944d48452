"""The Lambda handler: each S3 record goes to every registered processor.

Processors are pluggy hook implementations, so new ones are added without
touching the handler. pluggy is this project's locked dependency (uv.lock);
the provider installs it, and this package, into the deployment package.
"""

import pluggy

hookspec = pluggy.HookspecMarker("mypkg")
hookimpl = pluggy.HookimplMarker("mypkg")


class Specs:
    @hookspec
    def process(self, bucket, key):
        """Handle one object; return a short description of what was done."""


class Describe:
    @hookimpl
    def process(self, bucket, key):
        return f"s3://{bucket}/{key}"


def plugins():
    pm = pluggy.PluginManager("mypkg")
    pm.add_hookspecs(Specs)
    pm.register(Describe())
    return pm


def handler(event, context):
    pm = plugins()
    done = []
    for record in event.get("Records", []):
        s3 = record["s3"]
        done.extend(pm.hook.process(bucket=s3["bucket"]["name"], key=s3["object"]["key"]))
    return {"processed": done}
