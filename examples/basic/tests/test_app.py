"""Unit tests of the example handler (kept outside app/ so they are not deployed).

Run: python3 -m unittest discover -s examples/basic/tests
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
    def setUp(self):
        os.environ["OUTPUT_PREFIX"] = "processed/"

    def test_a_valid_order_gets_its_total(self):
        order = {"order_id": "A1", "items": [{"quantity": 2, "price": 2.5}, {"quantity": 1, "price": 10}]}
        s3 = FakeS3({("b", "data/a1.json"): json.dumps(order).encode()})
        out = app.handler(event("b", "data/a1.json"), None, s3=s3)
        self.assertEqual(out, {"written": ["processed/a1.json"]})
        result = json.loads(s3.objects[("b", "processed/a1.json")])
        self.assertEqual(result, {"valid": True, "order_id": "A1", "total": 15.0})

    def test_an_invalid_order_lists_its_problems(self):
        s3 = FakeS3({("b", "data/bad.json"): b'{"items": [{"quantity": 0, "price": -1}]}'})
        app.handler(event("b", "data/bad.json"), None, s3=s3)
        result = json.loads(s3.objects[("b", "processed/bad.json")])
        self.assertFalse(result["valid"])
        self.assertIn("missing field 'order_id'", result["problems"])
        self.assertEqual(len(result["problems"]), 3)

    def test_broken_json_is_reported_not_raised(self):
        s3 = FakeS3({("b", "data/x.json"): b"{not json"})
        app.handler(event("b", "data/x.json"), None, s3=s3)
        self.assertFalse(json.loads(s3.objects[("b", "processed/x.json")])["valid"])

    def test_keys_arrive_url_encoded(self):
        s3 = FakeS3({("b", "data/my order.json"): b'{"order_id": 1, "items": [{"quantity": 1, "price": 1}]}'})
        out = app.handler(event("b", "data/my+order.json"), None, s3=s3)
        self.assertEqual(out["written"], ["processed/my order.json"])

    def test_own_output_is_never_processed(self):
        s3 = FakeS3({})
        self.assertEqual(app.handler(event("b", "processed/a.json"), None, s3=s3), {"written": []})


if __name__ == "__main__":
    unittest.main()
