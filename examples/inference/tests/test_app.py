"""Unit tests of the inference handler (kept outside app/ so they are not deployed).

Needs numpy (the project's test venv has it: make tools).
Run: .tools/venv/bin/python -m unittest discover -s examples/inference/tests
"""

import io
import json
import os
import sys
import unittest

import numpy as np

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


def tiny_model():
    """One feature, one hidden unit, weights chosen so scores are easy to check."""
    return app.Model(
        {"features": ["x"], "mean": [1.0], "scale": [2.0], "w1": [[1.0]], "b1": [0.0], "w2": [2.0], "b2": 0.0}
    )


class ModelTest(unittest.TestCase):
    def test_scores_follow_the_network(self):
        m = tiny_model()
        # x=1 → 0 after standardising → relu 0 → sigmoid(0) = 0.5
        # x=3 → 1 → relu 1 → sigmoid(2)
        # x=-1 → -1 → relu 0 → 0.5
        got = m.scores([[1.0], [3.0], [-1.0]])
        np.testing.assert_allclose(got, [0.5, 1 / (1 + np.exp(-2.0)), 0.5])

    def test_the_shipped_model_loads_and_scores_in_range(self):
        m = app.load_model()
        self.assertEqual(m.features, ["amount", "items", "account_age_days", "hour"])
        s = m.scores([[10.0, 1, 30, 3], [400.0, 12, 2, 23]])
        self.assertEqual(s.shape, (2,))
        self.assertTrue(((s > 0) & (s < 1)).all(), s)

    def test_a_model_whose_weights_do_not_fit_is_refused(self):
        with self.assertRaisesRegex(ValueError, "do not fit 2 features"):
            app.Model({"features": ["a", "b"], "mean": [0], "scale": [1], "w1": [[1]], "b1": [0], "w2": [1], "b2": 0})


class HandlerTest(unittest.TestCase):
    def test_columns_are_taken_in_the_model_s_order_and_scores_written(self):
        csv = b"hour,x,ignored\n5,1,9\n6,3,9\n"
        s3 = FakeS3({("b", "incoming/batch-1.csv"): csv})
        out = app.handler(event("b", "incoming/batch-1.csv"), None, s3=s3, model=tiny_model())
        self.assertEqual(out, {"written": ["scores/batch-1.json"]})
        written = json.loads(s3.objects[("b", "scores/batch-1.json")])
        self.assertEqual(written["source"], "incoming/batch-1.csv")
        self.assertEqual(written["rows"], 2)
        self.assertAlmostEqual(written["scores"][0], 0.5)
        self.assertAlmostEqual(written["scores"][1], round(1 / (1 + np.exp(-2.0)), 6))

    def test_a_file_with_only_a_header_scores_nothing(self):
        s3 = FakeS3({("b", "incoming/empty.csv"): b"x\n"})
        app.handler(event("b", "incoming/empty.csv"), None, s3=s3, model=tiny_model())
        self.assertEqual(json.loads(s3.objects[("b", "scores/empty.json")])["rows"], 0)

    def test_a_missing_column_names_it(self):
        s3 = FakeS3({("b", "incoming/bad.csv"): b"y\n1\n"})
        with self.assertRaisesRegex(ValueError, "no column 'x'"):
            app.handler(event("b", "incoming/bad.csv"), None, s3=s3, model=tiny_model())


if __name__ == "__main__":
    unittest.main()
