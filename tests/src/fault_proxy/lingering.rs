//! Emulator fidelity: deletes that take a while, as Kinesis streams and
//! Lambda event source mappings do on AWS. moto deletes at once.
//!
//! On AWS a deleted stream stays `DELETING` and a deleted mapping
//! `Deleting` for a while; meanwhile a stream of the same name cannot be
//! made (`ResourceInUseException`), nor a mapping of the same function and
//! source (`ResourceConflictException`). Here the proxy keeps what it saw
//! deleted and reports it in that state for the next `reads` reads of it,
//! or until `at_most` has passed, whichever comes first; meanwhile it
//! refuses a create of the same name, as AWS does. Only reads count: a
//! client that never looks is refused until `at_most` has passed.
//!
//! SQS has a rule of its own: a queue's name cannot be used again for 60
//! seconds after it is deleted (`QueueDeletedRecently`), however soon it is
//! gone; the proxy refuses it for `queue_name_reuse`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a delete lingers: for `reads` reads of the deleted thing, or
/// `at_most`, whichever ends first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linger {
    pub reads: u32,
    pub at_most: Duration,
    /// How long a deleted queue's name is refused (AWS: 60 s).
    pub queue_name_reuse: Duration,
    /// How long a deleted bucket's name is refused (`OperationAborted`;
    /// on AWS a few seconds, longer across regions).
    pub bucket_name_reuse: Duration,
}

impl Linger {
    /// Two reads or 30 s: a client that waits sees the in-between state
    /// once or twice; one that does not is refused.
    pub const AS_ON_AWS: Linger = Linger {
        reads: 2,
        at_most: Duration::from_secs(30),
        queue_name_reuse: Duration::from_secs(60),
        bucket_name_reuse: Duration::from_secs(3),
    };
}

/// A thing deleted but still there.
#[derive(Clone, Debug)]
struct Deleting {
    /// What a read of it answers.
    body: Value,
    reads_left: u32,
    until: Instant,
}

impl Deleting {
    fn new(body: Value, linger: Linger) -> Deleting {
        Deleting {
            body,
            reads_left: linger.reads,
            until: Instant::now() + linger.at_most,
        }
    }

    fn alive(&self) -> bool {
        self.reads_left > 0 && Instant::now() < self.until
    }
}

/// What is being deleted: streams by name, mappings by UUID.
#[derive(Debug, Default)]
pub(super) struct Lingering {
    streams: HashMap<String, Deleting>,
    mappings: HashMap<String, Deleting>,
    /// Deleted queues' names, and until when they are refused.
    queues: HashMap<String, Instant>,
    /// Deleted buckets' names, and until when they are refused.
    buckets: HashMap<String, Instant>,
}

/// Takes a read of `key` in `map`: its body while it lingers (one read
/// fewer left), `None` once it has gone.
fn read(map: &mut HashMap<String, Deleting>, key: &str) -> Option<Value> {
    let d = map.get_mut(key)?;
    if d.alive() {
        d.reads_left -= 1;
        Some(d.body.clone())
    } else {
        map.remove(key);
        None
    }
}

impl Lingering {
    /// Stream `name` was deleted; `summary` is its `DescribeStreamSummary`
    /// answer from before.
    pub(super) fn stream_deleted(&mut self, name: &str, mut summary: Value, linger: Linger) {
        if let Some(s) = summary.get_mut("StreamDescriptionSummary") {
            s["StreamStatus"] = "DELETING".into();
        }
        self.streams
            .insert(name.to_owned(), Deleting::new(summary, linger));
    }

    /// A `DescribeStreamSummary` of `name`: the summary while it lingers.
    pub(super) fn read_stream(&mut self, name: &str) -> Option<Value> {
        read(&mut self.streams, name)
    }

    /// Whether stream `name` is still being deleted (not counted as a read).
    pub(super) fn stream_deleting(&mut self, name: &str) -> bool {
        match self.streams.get(name) {
            Some(d) if d.alive() => true,
            Some(_) => {
                self.streams.remove(name);
                false
            }
            None => false,
        }
    }

    /// Queue `name` was deleted: its name is refused for a while.
    pub(super) fn queue_deleted(&mut self, name: &str, linger: Linger) {
        self.queues
            .insert(name.to_owned(), Instant::now() + linger.queue_name_reuse);
    }

    /// Whether a queue called `name` was deleted too recently to make one.
    pub(super) fn queue_deleted_recently(&mut self, name: &str) -> bool {
        self.queues.retain(|_, until| Instant::now() < *until);
        self.queues.contains_key(name)
    }

    /// Bucket `name` was deleted: its name settles for a while.
    pub(super) fn bucket_deleted(&mut self, name: &str, linger: Linger) {
        self.buckets
            .insert(name.to_owned(), Instant::now() + linger.bucket_name_reuse);
    }

    /// Whether a bucket called `name` was deleted too recently to make one.
    pub(super) fn bucket_deleted_recently(&mut self, name: &str) -> bool {
        self.buckets.retain(|_, until| Instant::now() < *until);
        self.buckets.contains_key(name)
    }

    /// Mapping `uuid` was deleted; `body` is the delete's answer (state
    /// `Deleting`).
    pub(super) fn mapping_deleted(&mut self, uuid: &str, mut body: Value, linger: Linger) {
        body["State"] = "Deleting".into();
        self.mappings
            .insert(uuid.to_owned(), Deleting::new(body, linger));
    }

    /// A `GetEventSourceMapping` of `uuid`: the mapping while it lingers.
    pub(super) fn read_mapping(&mut self, uuid: &str) -> Option<Value> {
        read(&mut self.mappings, uuid)
    }

    /// Whether mapping `uuid` is still being deleted (not counted as a read).
    pub(super) fn mapping_deleting(&mut self, uuid: &str) -> bool {
        self.mappings.retain(|_, d| d.alive());
        self.mappings.contains_key(uuid)
    }

    /// The lingering mappings of `function` (a name) from `source` (an
    /// ARN; any source when `None`), not counted as reads.
    pub(super) fn mappings_of(&mut self, function: &str, source: Option<&str>) -> Vec<Value> {
        self.mappings.retain(|_, d| d.alive());
        let mut out: Vec<Value> = self
            .mappings
            .values()
            .filter(|d| {
                let f = d.body["FunctionArn"].as_str().unwrap_or_default();
                let s = d.body["EventSourceArn"].as_str().unwrap_or_default();
                super::logging_config::name_of(f) == function && source.is_none_or(|x| x == s)
            })
            .map(|d| d.body.clone())
            .collect();
        out.sort_by_key(|b| b["UUID"].as_str().unwrap_or_default().to_owned());
        out
    }
}

/// The stream a Kinesis JSON request names, by name (`StreamName`, or the
/// end of `StreamARN`).
pub(super) fn stream_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(n) = v["StreamName"].as_str() {
        return Some(n.to_owned());
    }
    v["StreamARN"]
        .as_str()
        .and_then(|a| a.rsplit_once(":stream/"))
        .map(|(_, n)| n.to_owned())
}

/// The UUID a mapping path names (`/2015-03-31/event-source-mappings/<uuid>`).
pub(super) fn mapping_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [_, "event-source-mappings", uuid] => Some((*uuid).to_owned()),
        _ => None,
    }
}

/// The queue a JSON-protocol SQS request names: `QueueName`, or the last
/// part of `QueueUrl`.
pub(super) fn queue_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(n) = v["QueueName"].as_str() {
        return Some(n.to_owned());
    }
    v["QueueUrl"]
        .as_str()
        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TWO: Linger = Linger {
        reads: 2,
        at_most: Duration::from_secs(60),
        queue_name_reuse: Duration::from_millis(50),
        bucket_name_reuse: Duration::from_millis(50),
    };

    #[test]
    fn a_deleted_stream_is_deleting_for_its_reads_and_blocks_its_name_meanwhile() {
        let mut l = Lingering::default();
        let summary = json!({"StreamDescriptionSummary": {"StreamName": "s",
                             "StreamStatus": "ACTIVE"}});
        l.stream_deleted("s", summary, TWO);
        assert!(l.stream_deleting("s"), "a create is refused");
        assert!(l.stream_deleting("s"), "not a read: still refused");
        let first = l.read_stream("s").expect("first read");
        assert_eq!(
            first["StreamDescriptionSummary"]["StreamStatus"],
            "DELETING"
        );
        assert!(l.read_stream("s").is_some(), "second read");
        assert_eq!(l.read_stream("s"), None, "gone after two reads");
        assert!(!l.stream_deleting("s"));
        assert_eq!(l.read_stream("other"), None);

        // Bounded in time too.
        let brief = Linger {
            reads: 100,
            at_most: Duration::from_millis(1),
            ..TWO
        };
        l.stream_deleted("t", json!({}), brief);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!l.stream_deleting("t"));
    }

    #[test]
    fn a_deleted_mapping_is_listed_and_read_as_deleting_until_it_is_gone() {
        let mut l = Lingering::default();
        let body = json!({"UUID": "u1", "State": "Enabled",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"});
        l.mapping_deleted("u1", body, TWO);
        let source = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
        assert_eq!(l.mappings_of("f", Some(source)).len(), 1);
        assert_eq!(l.mappings_of("f", None).len(), 1);
        assert!(l.mappings_of("g", None).is_empty());
        assert!(l.mappings_of("f", Some("arn:other")).is_empty());
        assert!(l.mapping_deleting("u1"));
        assert_eq!(l.read_mapping("u1").expect("read")["State"], "Deleting");
        assert!(l.read_mapping("u1").is_some());
        assert_eq!(l.read_mapping("u1"), None);
        assert!(l.mappings_of("f", None).is_empty());
    }

    #[test]
    fn a_deleted_queue_s_or_bucket_s_name_is_refused_for_a_while() {
        let mut l = Lingering::default();
        l.queue_deleted("q-events", TWO);
        l.bucket_deleted("b", TWO);
        assert!(l.queue_deleted_recently("q-events"));
        assert!(!l.queue_deleted_recently("other"));
        assert!(l.bucket_deleted_recently("b"));
        assert!(!l.bucket_deleted_recently("q-events"));
        std::thread::sleep(Duration::from_millis(80));
        assert!(!l.queue_deleted_recently("q-events"));
        assert!(!l.bucket_deleted_recently("b"));
    }

    #[test]
    fn requests_name_their_stream_or_mapping() {
        assert_eq!(stream_of(br#"{"StreamName":"s"}"#).as_deref(), Some("s"));
        assert_eq!(
            stream_of(br#"{"StreamARN":"arn:aws:kinesis:us-east-1:1:stream/t"}"#).as_deref(),
            Some("t")
        );
        assert_eq!(stream_of(b"{}"), None);
        assert_eq!(
            queue_of(br#"{"QueueName":"q-events"}"#).as_deref(),
            Some("q-events")
        );
        assert_eq!(
            queue_of(br#"{"QueueUrl":"http://127.0.0.1:1/123456789012/q-failed"}"#).as_deref(),
            Some("q-failed")
        );
        assert_eq!(
            mapping_of("/2015-03-31/event-source-mappings/abc").as_deref(),
            Some("abc")
        );
        assert_eq!(mapping_of("/2015-03-31/event-source-mappings/"), None);
    }
}
