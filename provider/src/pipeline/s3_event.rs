//! The S3 event notification for one object, as S3 sends it to Lambda
//! (event version 2.1), and which trigger of a pipeline such an event
//! would fire. The one place eventpipe builds S3 events: backfill sends
//! them, `eventpipe event s3` prints them and `eventpipe invoke` sends or
//! runs them. Pure: the caller gives the time.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::policy;
use super::state::{Known, Trigger};
use super::validate::S3_EVENTS;

/// The event name S3 gives a new object written by `PutObject`.
pub const OBJECT_CREATED_PUT: &str = "ObjectCreated:Put";

/// `x-amz-request-id` and `x-amz-id-2` of every event eventpipe builds.
/// Backfill was the first to send them; the value stays, so its events do
/// not change and one builder's events are the same wherever they are made.
pub const REQUEST_ID: &str = "eventpipe-backfill";

/// One object's event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectEvent<'a> {
    /// Without the `s3:` prefix: `ObjectCreated:Put`.
    pub event_name: &'a str,
    pub region: &'a str,
    /// The account that owns the bucket and made the request.
    pub account: &'a str,
    /// The notification configuration's id (a pipeline's are
    /// `eventpipe-<name>-<index>`).
    pub configuration_id: &'a str,
    pub bucket: &'a str,
    pub bucket_arn: &'a str,
    /// The key as it is; the event carries it form-encoded.
    pub key: &'a str,
    /// Object size in bytes (S3 sends none for removals).
    pub size: Option<i64>,
    /// The object's ETag, unquoted, when known.
    pub etag: Option<&'a str>,
    /// When it happened, since the Unix epoch; also makes the sequencer.
    pub time: Duration,
}

impl ObjectEvent<'_> {
    /// The notification, `{"Records": [one record]}`.
    pub fn to_json(&self) -> Json {
        let mut object = serde_json::Map::new();
        object.insert("key".into(), Json::String(event_key(self.key)));
        if let Some(size) = self.size {
            object.insert("size".into(), json!(size));
        }
        if let Some(etag) = self.etag {
            object.insert("eTag".into(), Json::String(etag.to_owned()));
        }
        object.insert(
            "sequencer".into(),
            Json::String(format!("{:016X}", self.time.as_nanos() as u64)),
        );
        json!({
            "Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": self.region,
                "eventTime": event_time(self.time),
                "eventName": self.event_name,
                "userIdentity": { "principalId": format!("AWS:{}", self.account) },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {
                    "x-amz-request-id": REQUEST_ID,
                    "x-amz-id-2": REQUEST_ID
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": self.configuration_id,
                    "bucket": {
                        "name": self.bucket, // AWS's key
                        "ownerIdentity": { "principalId": self.account },
                        "arn": self.bucket_arn
                    },
                    "object": object
                }
            }]
        })
    }

    /// The notification as the bytes of an `Invoke` payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }
}

/// What a function that drains the queue S3 notifies (`delivery =
/// "queue"`) is given for one notification: Lambda's SQS event, one record
/// whose body is the notification as S3 sent it to the queue.
pub fn sqs_envelope(
    notification: &Json,
    queue_arn: &str,
    region: &str,
    message_id: &str,
    time: Duration,
) -> Json {
    use md5::{Digest, Md5};
    let body = notification.to_string();
    let sent = time.as_millis().to_string();
    json!({
        "Records": [{
            "messageId": message_id,
            "receiptHandle": format!("eventpipe-invoke-{message_id}"),
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": sent,
                "SenderId": "s3.amazonaws.com",
                "ApproximateFirstReceiveTimestamp": sent
            },
            "messageAttributes": {},
            "md5OfBody": hex::encode(Md5::digest(body.as_bytes())),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region
        }]
    })
}

/// The ARN of `bucket` in `region`'s partition.
pub fn bucket_arn(region: &str, bucket: &str) -> String {
    policy::bucket_arn(policy::partition_of(region), bucket)
}

/// `ObjectCreated:Put` for `ObjectCreated:Put` or `s3:ObjectCreated:Put`,
/// when S3 sends events of that name; the reason otherwise.
pub fn event_name(given: &str) -> Result<String, String> {
    let name = given.strip_prefix("s3:").unwrap_or(given);
    let known = S3_EVENTS
        .iter()
        .any(|e| e.strip_prefix("s3:") == Some(name) && !name.ends_with('*'));
    if known && name != "TestEvent" {
        Ok(name.to_owned())
    } else {
        let names: Vec<&str> = S3_EVENTS
            .iter()
            .filter_map(|e| e.strip_prefix("s3:"))
            .filter(|e| !e.ends_with('*') && *e != "TestEvent")
            .collect();
        Err(format!(
            "unknown S3 event {given:?}; S3 sends {}",
            names.join(", ")
        ))
    }
}

/// Whether a notification for `events` (`s3:ObjectCreated:*`, …) fires for
/// an event named `event_name` (`ObjectCreated:Put`).
pub fn fires_for(events: &[String], event_name: &str) -> bool {
    events.iter().any(|e| {
        let e = e.strip_prefix("s3:").unwrap_or(e);
        e == event_name
            || e.strip_suffix('*')
                .is_some_and(|family| event_name.starts_with(family))
    })
}

/// The index of the first trigger S3 would fire for `key` and
/// `event_name`: its events include the event, the key starts with its
/// prefix and ends with its suffix (S3 matches the key as it is, not
/// encoded).
pub fn matching_trigger(triggers: &[Trigger<Known>], event_name: &str, key: &str) -> Option<usize> {
    triggers.iter().position(|t| {
        fires_for(&t.events, event_name) && key.starts_with(t.prefix()) && key.ends_with(t.suffix())
    })
}

/// A key as S3 writes it into events: form-encoded (a space is `+`), with
/// `/` left as it is.
pub fn event_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `2026-12-01T12:00:00.000Z` for a time since the epoch.
pub fn event_time(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days to a civil date (proleptic Gregorian), after H. Hinnant.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// The time now, since the epoch.
pub fn now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_writes_them_into_events() {
        assert_eq!(event_key("data/x.json"), "data/x.json");
        assert_eq!(event_key("data/my file+1.json"), "data/my+file%2B1.json");
        assert_eq!(event_key("ü"), "%C3%BC");
    }

    #[test]
    fn event_times_are_iso_8601_with_milliseconds() {
        let t = Duration::from_millis(1_795_922_659_123);
        assert_eq!(event_time(t), "2026-11-29T03:24:19.123Z");
        assert_eq!(event_time(Duration::ZERO), "1970-01-01T00:00:00.000Z");
    }

    fn sample(size: Option<i64>, etag: Option<&str>) -> Json {
        ObjectEvent {
            event_name: OBJECT_CREATED_PUT,
            region: "eu-west-1",
            account: "123456789012",
            configuration_id: "eventpipe-p-0",
            bucket: "b",
            bucket_arn: &bucket_arn("eu-west-1", "b"),
            key: "data/a b.json",
            size,
            etag,
            time: Duration::from_millis(1_795_922_659_123),
        }
        .to_json()
    }

    #[test]
    fn the_record_has_every_field_s3_sends() {
        let e = sample(Some(12), Some("abc"));
        let r = &e["Records"][0];
        assert_eq!(e["Records"].as_array().map(Vec::len), Some(1));
        assert_eq!(r["eventVersion"], "2.1");
        assert_eq!(r["eventSource"], "aws:s3");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["eventTime"], "2026-11-29T03:24:19.123Z");
        assert_eq!(r["eventName"], "ObjectCreated:Put");
        assert_eq!(r["userIdentity"]["principalId"], "AWS:123456789012");
        assert_eq!(r["responseElements"]["x-amz-request-id"], REQUEST_ID);
        assert_eq!(r["s3"]["configurationId"], "eventpipe-p-0");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
        assert_eq!(
            r["s3"]["bucket"]["ownerIdentity"]["principalId"],
            "123456789012"
        );
        let o = &r["s3"]["object"];
        assert_eq!(o["key"], "data/a+b.json");
        assert_eq!(o["size"], 12);
        assert_eq!(o["eTag"], "abc");
        assert_eq!(o["sequencer"].as_str().map(str::len), Some(16));
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["key", "size", "eTag", "sequencer"], "S3's order");
    }

    #[test]
    fn size_and_etag_are_left_out_when_unknown() {
        let e = sample(None, None);
        let o = e["Records"][0]["s3"]["object"].as_object().unwrap();
        assert!(!o.contains_key("size") && !o.contains_key("eTag"), "{o:?}");
    }

    #[test]
    fn a_queue_delivery_wraps_the_notification_in_one_sqs_record() {
        let n = sample(Some(1), None);
        let e = sqs_envelope(
            &n,
            "arn:aws:sqs:eu-west-1:1:p-events",
            "eu-west-1",
            "m-1",
            Duration::from_millis(5),
        );
        let r = &e["Records"][0];
        assert_eq!(e["Records"].as_array().map(Vec::len), Some(1));
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:eu-west-1:1:p-events");
        let body = r["body"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Json>(body).unwrap(), n);
        assert_eq!(r["attributes"]["SentTimestamp"], "5");
        assert_eq!(r["md5OfBody"].as_str().map(str::len), Some(32));
        let empty = sqs_envelope(&Json::String(String::new()), "q", "r", "m", Duration::ZERO);
        // md5("\"\"") — the body is the JSON text.
        assert_eq!(
            empty["Records"][0]["md5OfBody"],
            "9d4568c009d203ab10e33ea9953a0264"
        );
    }

    #[test]
    fn event_names_are_those_s3_sends() {
        assert_eq!(
            event_name("ObjectCreated:Put").unwrap(),
            "ObjectCreated:Put"
        );
        assert_eq!(
            event_name("s3:ObjectRemoved:Delete").unwrap(),
            "ObjectRemoved:Delete"
        );
        let e = event_name("ObjectCreated:*").unwrap_err();
        assert!(e.contains("ObjectCreated:Copy") && !e.contains('\n'), "{e}");
        assert!(event_name("Put").is_err());
        assert!(event_name("TestEvent").is_err());
    }

    fn trigger(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Trigger<Known> {
        Trigger {
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            filter_prefix: prefix.map(str::to_owned),
            filter_suffix: suffix.map(str::to_owned),
        }
    }

    #[test]
    fn a_key_matches_the_trigger_s3_would_fire() {
        let triggers = [
            trigger(&["s3:ObjectRemoved:*"], Some("data/"), None),
            trigger(&["s3:ObjectCreated:*"], Some("data/"), Some(".json")),
            trigger(&["s3:ObjectCreated:Copy"], Some("copies/"), Some("")),
        ];
        let put = OBJECT_CREATED_PUT;
        assert_eq!(matching_trigger(&triggers, put, "data/a.json"), Some(1));
        assert_eq!(
            matching_trigger(&triggers, "ObjectRemoved:Delete", "data/a.json"),
            Some(0)
        );
        assert_eq!(
            matching_trigger(&triggers, put, "data/a.csv"),
            None,
            "suffix"
        );
        assert_eq!(
            matching_trigger(&triggers, put, "other/a.json"),
            None,
            "prefix"
        );
        assert_eq!(matching_trigger(&triggers, put, "copies/x"), None, "event");
        assert_eq!(
            matching_trigger(&triggers, "ObjectCreated:Copy", "copies/x"),
            Some(2)
        );
        assert!(fires_for(&["ObjectCreated:*".into()], put), "without s3:");
    }
}
