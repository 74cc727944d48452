"""Scores each file of feature rows that lands in the bucket.

A file under `incoming/` holds one row of features per line (CSV, or
Parquet for `.parquet` keys). The handler standardises the rows, runs them
through a small neural network whose weights ship with the code
(`model.json`), and writes one score per row to `scores/<file>.json`.

The libraries (numpy, pandas and pyarrow) are about 280 MB installed:
more than a zip may hold, so the pipeline deploys this function as a
container image (package_type = "image").
"""

import io
import json
import os

import numpy as np

OUTPUT_PREFIX = os.environ.get("OUTPUT_PREFIX", "scores/")
MODEL_PATH = os.path.join(os.path.dirname(__file__), "model.json")


class Model:
    """A two-layer perceptron: standardise, ReLU hidden layer, sigmoid out."""

    def __init__(self, spec):
        self.features = list(spec["features"])
        self.mean = np.asarray(spec["mean"], dtype=np.float64)
        self.scale = np.asarray(spec["scale"], dtype=np.float64)
        self.w1 = np.asarray(spec["w1"], dtype=np.float64)
        self.b1 = np.asarray(spec["b1"], dtype=np.float64)
        self.w2 = np.asarray(spec["w2"], dtype=np.float64)
        self.b2 = float(spec["b2"])
        n = len(self.features)
        if self.mean.shape != (n,) or self.scale.shape != (n,) or self.w1.shape[0] != n:
            raise ValueError(f"model.json: the weights do not fit {n} features")

    def scores(self, rows):
        """One score in [0, 1] per row of `rows` (an n × features array)."""
        x = (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return 1.0 / (1.0 + np.exp(-(hidden @ self.w2 + self.b2)))


def load_model(path=MODEL_PATH):
    with open(path, encoding="utf-8") as f:
        return Model(json.load(f))


def read_rows(key, body, features):
    """The feature rows of one file, in the model's feature order."""
    if key.endswith(".parquet"):
        import pandas as pd  # only Parquet needs pandas and pyarrow

        frame = pd.read_parquet(io.BytesIO(body), columns=features)
        return frame.to_numpy(dtype=np.float64)
    text = body.decode("utf-8")
    header, _, rest = text.partition("\n")
    columns = [c.strip() for c in header.split(",")]
    missing = [f for f in features if f not in columns]
    if missing:
        raise ValueError(f"{key}: no column {missing[0]!r} (columns: {', '.join(columns)})")
    data = np.loadtxt(io.StringIO(rest), delimiter=",", ndmin=2) if rest.strip() else np.empty((0, len(columns)))
    return data[:, [columns.index(f) for f in features]]


_model = None


def handler(event, context, s3=None, model=None):
    global _model
    if model is None:
        _model = _model or load_model()
        model = _model
    if s3 is None:
        import boto3  # in the Lambda runtime; tests pass their own client

        s3 = boto3.client("s3")
    written = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        scores = model.scores(read_rows(key, body, model.features))
        name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        out = f"{OUTPUT_PREFIX}{name}.json"
        result = {"source": key, "rows": int(scores.shape[0]), "scores": [round(float(s), 6) for s in scores]}
        s3.put_object(Bucket=bucket, Key=out, Body=json.dumps(result).encode(), ContentType="application/json")
        written.append(out)
    return {"written": written}
