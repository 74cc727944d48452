"""Unit tests of the example's two handlers (kept outside the source dirs so
they are not deployed).

Run: python3 -m unittest discover -s examples/streaming/tests
"""

import base64
import importlib.util
import io
import json
import os
import unittest

HERE = os.path.dirname(__file__)


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "..", name, "app.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


summarize = load("summarize")
tally = load("tally")


class FakeS3:
    def __init__(self, objects):
        self.objects = dict(objects)

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


class FakeKinesis:
    def __init__(self):
        self.records = []

    def put_record(self, StreamName, Data, PartitionKey):
        self.records.append((StreamName, json.loads(Data), PartitionKey))
        return {"ShardId": "shardId-000000000000", "SequenceNumber": str(len(self.records))}


def s3_event(bucket, key):
    return {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


def kinesis_event(*summaries):
    return {
        "Records": [
            {"eventSource": "aws:kinesis", "kinesis": {"data": base64.b64encode(json.dumps(s).encode()).decode()}}
            for s in summaries
        ]
    }


class SummarizeTest(unittest.TestCase):
    def setUp(self):
        os.environ["STREAM_NAME"] = "uploads"

    def test_each_new_file_puts_one_summary_on_the_stream(self):
        body = json.dumps([{"id": 1, "amount": 3}, {"id": 2, "note": "x"}]).encode()
        s3, kinesis = FakeS3({("b", "data/a.json"): body}), FakeKinesis()
        out = summarize.handler(s3_event("b", "data/a.json"), None, s3=s3, kinesis=kinesis)
        self.assertEqual(out, {"summarized": ["data/a.json"]})
        [(stream, summary, partition)] = kinesis.records
        self.assertEqual((stream, partition), ("uploads", "data/a.json"))
        self.assertEqual(
            summary,
            {"bucket": "b", "key": "data/a.json", "bytes": len(body), "valid": True, "records": 2,
             "fields": ["amount", "id", "note"]},
        )

    def test_a_single_object_is_one_record_and_broken_json_is_reported(self):
        self.assertEqual(summarize.summarize("b", "k", b'{"a": 1}')["records"], 1)
        bad = summarize.summarize("b", "k", b"{nope")
        self.assertFalse(bad["valid"])
        self.assertIn("not JSON", bad["problem"])

    def test_keys_arrive_url_encoded(self):
        s3, kinesis = FakeS3({("b", "data/my file.json"): b"{}"}), FakeKinesis()
        summarize.handler(s3_event("b", "data/my+file.json"), None, s3=s3, kinesis=kinesis)
        self.assertEqual(kinesis.records[0][2], "data/my file.json")

    def test_records_read_from_the_stream_are_never_written_back(self):
        kinesis = FakeKinesis()
        out = summarize.handler(kinesis_event({"bytes": 1}, {"bytes": 2}), None, s3=FakeS3({}), kinesis=kinesis)
        self.assertEqual(out, {"summaries_seen": 2})
        self.assertEqual(kinesis.records, [])


class TallyTest(unittest.TestCase):
    def test_a_batch_from_the_stream_is_tallied(self):
        out = tally.handler(
            kinesis_event(
                {"bytes": 10, "valid": True, "records": 2},
                {"bytes": 5, "valid": False},
                {"bytes": 1, "valid": True, "records": 1},
            ),
            None,
        )
        self.assertEqual(out, {"files": 3, "bytes": 16, "records": 3, "invalid": 1})

    def test_a_replay_file_is_tallied_line_by_line(self):
        lines = b'{"bytes": 4, "valid": true, "records": 1}\n\n{"bytes": 6, "valid": true, "records": 5}\n'
        s3 = FakeS3({("t", "replay/day 1.jsonl"): lines})
        out = tally.handler(s3_event("t", "replay/day+1.jsonl"), None, s3=s3)
        self.assertEqual(out, {"files": 2, "bytes": 10, "records": 6, "invalid": 0})

    def test_what_the_first_function_puts_is_what_the_second_reads(self):
        os.environ["STREAM_NAME"] = "uploads"
        s3, kinesis = FakeS3({("b", "data/x.json"): b'[{"a": 1}]'}), FakeKinesis()
        summarize.handler(s3_event("b", "data/x.json"), None, s3=s3, kinesis=kinesis)
        put = [summary for _, summary, _ in kinesis.records]
        self.assertEqual(tally.handler(kinesis_event(*put), None)["records"], 1)


if __name__ == "__main__":
    unittest.main()
