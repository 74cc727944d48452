"""Unit tests of the example handler (kept outside app/ so they are not deployed).

Needs the requirements on the machine: python3 -m pip install -r examples/with-dependencies/app/requirements.txt
Run: python3 -m unittest discover -s examples/with-dependencies/tests
"""

import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "app"))

import app  # noqa: E402


class FakeS3:
    def __init__(self, objects):
        self.objects = dict(objects)

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def put_object(self, Bucket, Key, Body, ContentType=None):
        self.objects[(Bucket, Key)] = Body


def event(bucket, key):
    return {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


class HandlerTest(unittest.TestCase):
    def test_timestamps_come_out_in_utc(self):
        self.assertEqual(
            app.normalize({"id": 1, "at": "2026-12-01T10:30:00+02:00"})["at"],
            "2026-12-01T08:30:00+00:00",
        )
        self.assertEqual(
            app.normalize({"at": "1 Dec 2026 08:30"})["at"], "2026-12-01T08:30:00+00:00"
        )

    def test_each_event_file_is_written_normalized(self):
        s3 = FakeS3({("b", "events/e1.json"): json.dumps({"at": "2026-12-01 09:00Z"}).encode()})
        out = app.handler(event("b", "events/e1.json"), None, s3=s3)
        self.assertEqual(out, {"written": ["normalized/e1.json"]})
        written = json.loads(s3.objects[("b", "normalized/e1.json")])
        self.assertEqual(written["at"], "2026-12-01T09:00:00+00:00")


if __name__ == "__main__":
    unittest.main()
