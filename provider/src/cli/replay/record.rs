//! What a message on a failure queue is, read from its body alone (pure):
//! Lambda's on-failure record of an asynchronous invocation, a Kinesis
//! event source mapping's on-failure record, an S3 event redriven from the
//! event queue, or something else, which replay never deletes.

use serde_json::Value as Json;

/// A failure record, by shape.
#[derive(Clone, Debug, PartialEq)]
pub enum Failed {
    /// Lambda's on-failure destination record: `requestPayload` is the
    /// event the function failed on.
    Invocation {
        /// The function the record names (from `requestContext.functionArn`).
        function: String,
        payload: Json,
        /// `bucket/key` of each object the event is about.
        objects: Vec<String>,
    },
    /// A Kinesis batch the stream's mapping gave up on.
    StreamBatch(BatchInfo),
    /// An S3 event that the event queue gave up on (its dead-letter queue).
    S3Event { objects: Vec<String> },
    /// None of the above: kept, never deleted.
    Unknown(String),
}

/// `KinesisBatchInfo`: which records of which shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    pub stream_arn: String,
    pub shard_id: String,
    pub start: String,
    pub end: String,
    pub batch_size: Option<u64>,
}

/// Reads a message body.
pub fn parse(body: &str) -> Failed {
    let json: Json = match serde_json::from_str(body) {
        Ok(j) => j,
        Err(e) => return Failed::Unknown(format!("the body is not JSON ({e})")),
    };
    if !json.is_object() {
        return Failed::Unknown("the body is not a JSON object".into());
    }
    if let Some(info) = json.get("KinesisBatchInfo") {
        return batch_info(info).map_or_else(
            || {
                Failed::Unknown(
                    "KinesisBatchInfo lacks streamArn, shardId or a sequence range".into(),
                )
            },
            Failed::StreamBatch,
        );
    }
    if json.get("requestContext").is_some() || json.get("requestPayload").is_some() {
        return invocation(&json);
    }
    if let Some(objects) = s3_objects(&json) {
        return Failed::S3Event { objects };
    }
    Failed::Unknown("not an on-failure record of Lambda or Kinesis, nor an S3 event".into())
}

fn invocation(json: &Json) -> Failed {
    let Some(arn) = json["requestContext"]["functionArn"].as_str() else {
        return Failed::Unknown("requestContext.functionArn is missing".into());
    };
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    let Some(function) = arn.split(':').nth(6).filter(|f| !f.is_empty()) else {
        return Failed::Unknown(format!(
            "requestContext.functionArn {arn:?} is not a function ARN"
        ));
    };
    let payload = &json["requestPayload"];
    if !payload.is_object() {
        return Failed::Unknown("requestPayload is missing or not an event object".into());
    }
    Failed::Invocation {
        function: function.to_owned(),
        objects: s3_objects(payload).unwrap_or_default(),
        payload: payload.clone(),
    }
}

fn batch_info(info: &Json) -> Option<BatchInfo> {
    let text = |k: &str| {
        info.get(k)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let info = BatchInfo {
        stream_arn: text("streamArn")?,
        shard_id: text("shardId")?,
        start: text("startSequenceNumber")?,
        end: text("endSequenceNumber")?,
        batch_size: info.get("batchSize").and_then(Json::as_u64),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (digits(&info.start) && digits(&info.end) && !seq_after(&info.start, &info.end)).then_some(info)
}

/// `bucket/key` of each record of an S3 event, when `event` is one.
fn s3_objects(event: &Json) -> Option<Vec<String>> {
    let records = event.get("Records")?.as_array()?;
    if records.is_empty() {
        return None;
    }
    records
        .iter()
        .map(|r| {
            (r["eventSource"] == "aws:s3").then_some(())?;
            let bucket = r["s3"]["bucket"]["name"].as_str()?;
            let key = r["s3"]["object"]["key"].as_str()?;
            Some(format!("{bucket}/{}", decode_key(key)))
        })
        .collect()
}

/// An S3 event's key as the object is named (S3 encodes keys as a form
/// does: `+` for a space).
fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether sequence number `a` comes after `b` (decimal strings of any
/// length, as Kinesis writes them).
pub fn seq_after(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len() > b.len() || (a.len() == b.len() && a > b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_event(bucket: &str, key: &str) -> Json {
        serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 3}}
        }]})
    }

    #[test]
    fn a_lambda_on_failure_record_gives_its_request_payload() {
        let record = serde_json::json!({
            "version": "1.0",
            "timestamp": "2019-11-14T18:16:05.568Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": s3_event("b", "data/a+b%2Bc.json"),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "boom"}
        });
        match parse(&record.to_string()) {
            Failed::Invocation {
                function,
                payload,
                objects,
            } => {
                assert_eq!(function, "orders");
                assert_eq!(payload, s3_event("b", "data/a+b%2Bc.json"));
                assert_eq!(objects, ["b/data/a b+c.json"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_kinesis_on_failure_record_names_its_shard_range() {
        let record = serde_json::json!({
            "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:f",
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
            "KinesisBatchInfo": {
                "shardId": "shardId-000000000001",
                "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
                "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
                "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
                "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
                "batchSize": 500,
                "streamArn": "arn:aws:kinesis:us-east-1:1:stream/s"
            }
        });
        let Failed::StreamBatch(info) = parse(&record.to_string()) else {
            panic!("not a stream batch");
        };
        assert_eq!(info.shard_id, "shardId-000000000001");
        assert_eq!(info.batch_size, Some(500));
        assert_eq!(info.stream_arn, "arn:aws:kinesis:us-east-1:1:stream/s");
    }

    #[test]
    fn a_redriven_s3_event_is_one_and_anything_else_is_unknown() {
        assert_eq!(
            parse(&s3_event("b", "k.json").to_string()),
            Failed::S3Event {
                objects: vec!["b/k.json".into()]
            }
        );
        for body in [
            "not json",
            "[1,2]",
            "{}",
            r#"{"Records": []}"#,
            r#"{"Records": [{"eventSource": "aws:sqs"}]}"#,
            r#"{"requestContext": {}, "requestPayload": {}}"#,
            r#"{"requestContext": {"functionArn": "arn:aws:lambda:r:1:function:f"}}"#,
            r#"{"KinesisBatchInfo": {"shardId": "s", "streamArn": "a", "startSequenceNumber": "9", "endSequenceNumber": "1"}}"#,
            r#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#,
        ] {
            assert!(matches!(parse(body), Failed::Unknown(_)), "{body}");
        }
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(seq_after("10", "9"));
        assert!(!seq_after("9", "10"));
        assert!(!seq_after("5", "5"));
        assert!(seq_after(
            "49601189658422359378836298522902373528957594348623495186",
            "49601189658422359378836298521827638475320189012309704722"
        ));
    }
}
