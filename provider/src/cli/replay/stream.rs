//! A Kinesis batch named by an on-failure record, read again from its
//! shard while the stream still holds it, and the event Lambda's mapping
//! would have sent for it.

use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::aws::kinesis::{self, ShardRecord};
use crate::aws::{AwsClients, AwsError};

use super::record::{BatchInfo, seq_after};

/// Pages read before giving up on reaching the end of a range.
const MAX_PAGES: usize = 100;

/// What reading a range found.
#[derive(Debug)]
pub enum Range {
    /// Every record from the start of the range on (up to its end).
    Held(Vec<ShardRecord>),
    /// The stream no longer holds the start of the range.
    Lost(String),
}

/// Reads the records `info` names.
pub async fn read(aws: &AwsClients, info: &BatchInfo) -> Result<Range, AwsError> {
    let kinesis = &aws.kinesis;
    let lost = |why: &str| {
        Range::Lost(format!(
            "records {}..{} of {} are gone from the stream ({why})",
            info.start, info.end, info.shard_id
        ))
    };
    let mut iterator =
        match kinesis::iterator_at(kinesis, &info.stream_arn, &info.shard_id, &info.start).await {
            Ok(it) => it,
            Err(e) if kinesis::is_trimmed(&e) => return Ok(lost("past its retention")),
            Err(e) => return Err(e),
        };
    let limit = info
        .batch_size
        .map_or(10_000, |n| i32::try_from(n).unwrap_or(10_000));
    let mut out: Vec<ShardRecord> = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = match kinesis::records(kinesis, &info.stream_arn, &iterator, limit).await {
            Ok(p) => p,
            Err(e) if kinesis::is_trimmed(&e) => return Ok(lost("past its retention")),
            Err(e) => return Err(e),
        };
        let at_tip = page.millis_behind_latest == Some(0);
        let empty = page.records.is_empty();
        for r in page.records {
            if out.is_empty() && seq_after(&r.sequence_number, &info.start) {
                return Ok(Range::Lost(format!(
                    "records {}..{} of {} are gone from the stream (past its retention); \
                     the oldest it holds is {}",
                    info.start, info.end, info.shard_id, r.sequence_number
                )));
            }
            if seq_after(&r.sequence_number, &info.end) {
                return Ok(Range::Held(out));
            }
            out.push(r);
        }
        match page.next_iterator {
            Some(next) if !(empty && at_tip) => iterator = next,
            _ => break,
        }
    }
    if out.is_empty() {
        return Ok(lost("none of them could be read"));
    }
    Ok(Range::Held(out))
}

/// The event Lambda's Kinesis mapping sends for `records`.
pub fn event(info: &BatchInfo, records: &[ShardRecord], region: &str, role_arn: &str) -> Json {
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<Json> = records
        .iter()
        .map(|r| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": b64.encode(&r.data),
                    "approximateArrivalTimestamp": r.arrival_s,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", info.shard_id, r.sequence_number),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": info.stream_arn,
            })
        })
        .collect();
    json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_has_the_shape_lambda_sends() {
        let info = BatchInfo {
            stream_arn: "arn:aws:kinesis:us-east-1:1:stream/s".into(),
            shard_id: "shardId-000000000000".into(),
            start: "1".into(),
            end: "2".into(),
            batch_size: Some(2),
        };
        let records = [ShardRecord {
            sequence_number: "1".into(),
            partition_key: "p".into(),
            data: b"hi".to_vec(),
            arrival_s: Some(1.5),
        }];
        let e = event(&info, &records, "us-east-1", "arn:aws:iam::1:role/r");
        let r = &e["Records"][0];
        assert_eq!(r["kinesis"]["data"], "aGk=");
        assert_eq!(r["eventID"], "shardId-000000000000:1");
        assert_eq!(r["eventSourceARN"], "arn:aws:kinesis:us-east-1:1:stream/s");
        assert_eq!(r["eventName"], "aws:kinesis:record");
    }
}
