//! One message's way back: what a failure record asks for in this
//! pipeline ([`decide`]) and the re-delivery itself ([`deliver`]), which
//! says whether the message may now be deleted.

use std::sync::Arc;

use crate::aws::sqs::Received;
use crate::aws::{AwsClients, lambda};

use super::record::{self, BatchInfo, Failed};
use super::stream::{self, Range};

/// What the pipeline is, as far as replay needs it.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub function: String,
    pub region: String,
    pub role_arn: String,
    pub stream_arn: Option<String>,
    pub event_queue_url: Option<String>,
    /// Invoke with RequestResponse and keep what fails again.
    pub sync: bool,
}

/// What to do with one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Invoke the function with this event again.
    Invoke { payload: Vec<u8> },
    /// Send this S3 event back to the event queue.
    SendBack { body: String },
    /// Read this range of the stream again and invoke the function with it.
    Stream(BatchInfo),
    /// Keep the message: it is nothing replay knows how to send.
    Skip(String),
}

/// A message with what to do with it, and what it is about, for people.
#[derive(Clone, Debug)]
pub struct Task {
    pub message: Received,
    pub action: Action,
    pub what: String,
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Re-delivered and accepted: the message may be deleted.
    Replayed,
    /// Re-delivery failed (`refused`: AWS refused the call, rather than
    /// the function failing again). Kept.
    FailedAgain { why: String, refused: bool },
    /// Of a shape replay does not send. Kept.
    Skipped(String),
    /// Not sent (the records are gone, or the run stopped first). Kept.
    Left(String),
}

/// The task for `message` in pipeline `p`.
pub fn decide(p: &Pipeline, message: Received) -> Task {
    let (action, what) = match record::parse(&message.body) {
        Failed::Invocation {
            function,
            payload,
            objects,
        } => {
            if function != p.function {
                let why = format!(
                    "a failure record of function {function:?}, not of this pipeline's {:?}",
                    p.function
                );
                (Action::Skip(why), format!("message {}", message.id))
            } else {
                let what = list(&objects, "an event");
                let payload = payload.to_string().into_bytes();
                (Action::Invoke { payload }, what)
            }
        }
        Failed::StreamBatch(info) => {
            let what = format!(
                "{} records {}..{} of {}",
                info.shard_id,
                info.start,
                info.end,
                info.stream_arn.rsplit('/').next().unwrap_or_default()
            );
            if p.stream_arn.as_deref() != Some(info.stream_arn.as_str()) {
                let why = format!("{what}: not the stream this pipeline reads");
                (Action::Skip(why), format!("message {}", message.id))
            } else {
                (Action::Stream(info), what)
            }
        }
        Failed::S3Event { objects } => {
            let what = list(&objects, "an S3 event");
            if p.event_queue_url.is_some() {
                let body = message.body.clone();
                (Action::SendBack { body }, what)
            } else {
                let why = format!(
                    "{what}: an S3 event, but the pipeline has no event queue to send it back to"
                );
                (Action::Skip(why), format!("message {}", message.id))
            }
        }
        Failed::Unknown(why) => (
            Action::Skip(format!("unknown shape: {why}")),
            format!("message {}", message.id),
        ),
    };
    Task {
        message,
        action,
        what,
    }
}

fn list(objects: &[String], otherwise: &str) -> String {
    if objects.is_empty() {
        otherwise.to_owned()
    } else {
        objects.join(", ")
    }
}

/// Re-delivers one task's message (not [`Action::SendBack`], which goes
/// in batches: see [`send_back`]).
pub async fn deliver(aws: Arc<AwsClients>, p: Arc<Pipeline>, action: Action) -> Outcome {
    match action {
        Action::Invoke { payload } if p.sync => invoke_sync(&aws, &p.function, payload).await,
        Action::Invoke { payload } => {
            match lambda::invoke_async(&aws.lambda, &p.function, payload).await {
                Ok(()) => Outcome::Replayed,
                Err(e) => refused(&e),
            }
        }
        Action::Stream(info) => match stream::read(&aws, &info).await {
            Err(e) => refused(&e),
            Ok(Range::Lost(why)) => Outcome::Left(format!("lost to retention: {why}")),
            Ok(Range::Held(records)) => {
                let event = stream::event(&info, &records, &p.region, &p.role_arn);
                invoke_sync(&aws, &p.function, event.to_string().into_bytes()).await
            }
        },
        Action::Skip(why) => Outcome::Skipped(why),
        Action::SendBack { .. } => Outcome::Left("internal: sent back in batches".into()),
    }
}

fn refused(e: &crate::aws::AwsError) -> Outcome {
    Outcome::FailedAgain {
        why: e.to_string(),
        refused: true,
    }
}

async fn invoke_sync(aws: &AwsClients, function: &str, payload: Vec<u8>) -> Outcome {
    match lambda::invoke_sync(&aws.lambda, function, payload, false).await {
        Err(e) => refused(&e),
        Ok(r) => match r.function_error {
            None => Outcome::Replayed,
            Some(kind) => {
                let text = String::from_utf8_lossy(&r.payload);
                let detail: String = text.chars().take(200).collect();
                Outcome::FailedAgain {
                    why: format!("the function failed again ({kind}): {detail}"),
                    refused: false,
                }
            }
        },
    }
}

/// Sends S3 events back to the event queue in one batch; the outcome of
/// each, in order.
pub async fn send_back(aws: Arc<AwsClients>, url: String, bodies: Vec<String>) -> Vec<Outcome> {
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    match crate::aws::sqs::send_batch(&aws.sqs, &url, &refs).await {
        Err(e) => bodies.iter().map(|_| refused(&e)).collect(),
        Ok(failed) => (0..bodies.len())
            .map(|i| match failed.iter().find(|f| f.index == i) {
                None => Outcome::Replayed,
                Some(f) => Outcome::FailedAgain {
                    why: format!("sqs:SendMessageBatch: {}: {}", f.code, f.message),
                    refused: true,
                },
            })
            .collect(),
    }
}
