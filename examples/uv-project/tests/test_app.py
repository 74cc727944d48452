"""The handler's unit test: run with `uv run --project service python -m
unittest discover -s tests` (or any Python with pluggy on its path)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "service", "src"))

from mypkg.app import handler  # noqa: E402


def s3_event(bucket, key):
    return {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


class HandlerTest(unittest.TestCase):
    def test_each_record_is_processed(self):
        result = handler(s3_event("in", "data/a.json"), None)
        self.assertEqual(result, {"processed": ["s3://in/data/a.json"]})

    def test_no_records_is_nothing_to_do(self):
        self.assertEqual(handler({"Records": []}, None), {"processed": []})


if __name__ == "__main__":
    unittest.main()
