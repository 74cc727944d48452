//! How a bucket reaches a function eventpipe does not own: the one rule
//! that `adopt:` imports by and that the list calls adoptable.
//!
//! - **Directly**: the function's resource policy lets `s3.amazonaws.com`
//!   invoke it for a bucket (`AWS:SourceArn` = `arn:aws:s3:::<bucket>`),
//!   and that bucket has configurations that send to the function.
//! - **Through a queue**: an SQS event source mapping of the function
//!   drains a queue whose access policy lets `s3.amazonaws.com` send to it
//!   for a bucket (S3 refuses a queue configuration without it), and that
//!   bucket has configurations that send to the queue.
//!
//! The direct route is looked at first, then each queue mapping in the
//! order Lambda lists them; the first route with a configuration is the
//! wiring. A permission or a queue policy without a configuration behind
//! it wires nothing. ARNs are compared as written: a configuration or a
//! mapping of a version or an alias (`…:function:f:live`) is not the
//! function's own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::aws::{AwsClients, AwsError, lambda, mappings, s3, sqs};

/// How the bucket reaches the function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// S3 invokes the function; `sid` is the permission statement that
    /// names the bucket, `permission_sids` every S3 statement.
    Direct {
        sid: String,
        permission_sids: Vec<String>,
    },
    /// S3 notifies `queue_arn`, which `mapping` drains into the function.
    Queue {
        queue_arn: String,
        mapping: mappings::Mapping,
    },
}

/// A bucket that notifies a function, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wiring {
    pub bucket: String,
    pub route: Route,
    /// The bucket's configurations that send to the function (directly)
    /// or to the queue; never empty.
    pub notifications: Vec<s3::Notification>,
}

impl Wiring {
    /// The SQS queue S3 notifies, for the queue route.
    pub fn queue_arn(&self) -> Option<&str> {
        match &self.route {
            Route::Queue { queue_arn, .. } => Some(queue_arn),
            Route::Direct { .. } => None,
        }
    }
}

type Shared<T> = Mutex<HashMap<String, Arc<OnceCell<T>>>>;

/// What was read of buckets and queues, kept for the looks that follow: a
/// list asks about many functions and few buckets. Each bucket's
/// notifications and each queue's policy are read once, however many
/// looks ask at the same time.
#[derive(Default)]
pub struct Looks {
    /// Bucket → its configurations (`None`: no such bucket).
    buckets: Shared<Option<Arc<Vec<s3::Notification>>>>,
    /// Queue ARN → the bucket its policy lets S3 send for.
    queues: Shared<Option<String>>,
}

fn cell<T>(map: &Shared<T>, key: &str) -> Arc<OnceCell<T>> {
    // A poisoned lock only means another look panicked; the map is intact.
    let mut m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    m.entry(key.to_owned()).or_default().clone()
}

impl Looks {
    async fn notifications(
        &self,
        aws: &AwsClients,
        bucket: &str,
    ) -> Result<Option<Arc<Vec<s3::Notification>>>, AwsError> {
        cell(&self.buckets, bucket)
            .get_or_try_init(|| async {
                Ok(s3::notifications(&aws.s3, bucket).await?.map(Arc::new))
            })
            .await
            .cloned()
    }

    async fn queue_bucket(
        &self,
        aws: &AwsClients,
        queue_arn: &str,
    ) -> Result<Option<String>, AwsError> {
        cell(&self.queues, queue_arn)
            .get_or_try_init(|| async {
                let policy = sqs::policy_of_arn(&aws.sqs, queue_arn).await?;
                Ok(policy.as_deref().and_then(bucket_in_queue_policy))
            })
            .await
            .cloned()
    }
}

/// The wiring of the function `function_arn`: `statements` are its
/// resource policy's, `queue_mappings` gives its event source mappings
/// (asked for only when the direct route wires nothing). `None` when no
/// bucket notifies it.
pub async fn find<F, Fut>(
    aws: &AwsClients,
    looks: &Looks,
    function_arn: &str,
    statements: &[lambda::Statement],
    queue_mappings: F,
) -> Result<Option<Wiring>, AwsError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<mappings::Mapping>, AwsError>>,
{
    if let Some(w) = direct(aws, looks, function_arn, statements).await? {
        return Ok(Some(w));
    }
    for mapping in queue_mappings().await? {
        if !is_queue_mapping(&mapping) || mapping.function_arn != function_arn {
            continue;
        }
        let Some(bucket) = looks.queue_bucket(aws, &mapping.source_arn).await? else {
            continue;
        };
        let queue_arn = mapping.source_arn.clone();
        let target = s3::Destination::Queue(queue_arn.clone());
        if let Some(notifications) = sending_to(aws, looks, &bucket, &target).await? {
            return Ok(Some(Wiring {
                bucket,
                route: Route::Queue { queue_arn, mapping },
                notifications,
            }));
        }
    }
    Ok(None)
}

async fn direct(
    aws: &AwsClients,
    looks: &Looks,
    function_arn: &str,
    statements: &[lambda::Statement],
) -> Result<Option<Wiring>, AwsError> {
    let s3_statements: Vec<&lambda::Statement> = statements
        .iter()
        .filter(|s| s.service.as_deref() == Some(S3_SERVICE))
        .collect();
    let Some((sid, bucket)) = s3_statements.iter().find_map(|s| {
        let b = bucket_of(s.source_arn.as_deref()?)?;
        Some((s.sid.clone(), b.to_owned()))
    }) else {
        return Ok(None);
    };
    let target = s3::Destination::Function(function_arn.to_owned());
    Ok(sending_to(aws, looks, &bucket, &target)
        .await?
        .map(|notifications| Wiring {
            bucket,
            route: Route::Direct {
                sid,
                permission_sids: s3_statements.iter().map(|s| s.sid.clone()).collect(),
            },
            notifications,
        }))
}

/// The configurations of `bucket` that send to `target`; `None` when there
/// are none (or no bucket).
async fn sending_to(
    aws: &AwsClients,
    looks: &Looks,
    bucket: &str,
    target: &s3::Destination,
) -> Result<Option<Vec<s3::Notification>>, AwsError> {
    let Some(all) = looks.notifications(aws, bucket).await? else {
        return Ok(None);
    };
    let mine: Vec<s3::Notification> = all
        .iter()
        .filter(|n| n.destination == *target)
        .cloned()
        .collect();
    Ok((!mine.is_empty()).then_some(mine))
}

const S3_SERVICE: &str = "s3.amazonaws.com";

/// A live mapping from an SQS queue.
pub fn is_queue_mapping(m: &mappings::Mapping) -> bool {
    m.source_arn.starts_with("arn:") && m.source_arn.contains(":sqs:") && !m.is_deleting()
}

/// The bucket an S3 source ARN names (`arn:aws:s3:::bucket`); none for a
/// pattern or an object ARN.
pub fn bucket_of(source_arn: &str) -> Option<&str> {
    source_arn
        .split_once(":s3:::")
        .map(|(_, b)| b)
        .filter(|b| !b.is_empty() && !b.contains(['/', '*', '?']))
}

/// The bucket a queue's access policy lets S3 send for: the first
/// statement that allows `s3.amazonaws.com` with an `aws:SourceArn`
/// condition naming one bucket.
pub fn bucket_in_queue_policy(policy: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    statements.iter().find_map(|st| {
        let allows = st["Effect"].as_str() == Some("Allow");
        (allows && names_s3(&st["Principal"]["Service"])).then_some(())?;
        let conditions = st["Condition"].as_object()?;
        conditions
            .iter()
            .filter(|(op, _)| op.starts_with("Arn"))
            .flat_map(|(_, keys)| keys.as_object().into_iter().flatten())
            .filter(|(key, _)| key.eq_ignore_ascii_case("aws:SourceArn"))
            .find_map(|(_, v)| v.as_str().and_then(bucket_of).map(str::to_owned))
    })
}

fn names_s3(service: &serde_json::Value) -> bool {
    match service {
        serde_json::Value::String(s) => s == S3_SERVICE,
        serde_json::Value::Array(list) => list.iter().any(|s| s.as_str() == Some(S3_SERVICE)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_arn_names_a_bucket_only_when_it_is_one_bucket() {
        assert_eq!(bucket_of("arn:aws:s3:::orders-in"), Some("orders-in"));
        assert_eq!(bucket_of("arn:aws-cn:s3:::orders"), Some("orders"));
        assert_eq!(bucket_of("arn:aws:s3:::orders-in/*"), None);
        assert_eq!(bucket_of("arn:aws:s3:::orders-*"), None);
        assert_eq!(bucket_of("arn:aws:s3:::"), None);
        assert_eq!(bucket_of("arn:aws:sqs:eu-west-1:1:q"), None);
    }

    #[test]
    fn the_queue_policy_names_the_bucket_s3_may_send_for() {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                 "Action": "sqs:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": {"Service": "s3.amazonaws.com"},
                 "Action": "sqs:SendMessage", "Resource": "*",
                 "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::denied"}}},
                {"Effect": "Allow", "Principal": {"Service": ["s3.amazonaws.com"]},
                 "Action": "sqs:SendMessage", "Resource": "*",
                 "Condition": {"ArnEquals": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
                               "StringEquals": {"aws:SourceAccount": "1"}}}
            ]
        });
        assert_eq!(
            bucket_in_queue_policy(&policy.to_string()).as_deref(),
            Some("uploads")
        );
        let one = serde_json::json!({"Statement": {
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}}});
        assert_eq!(bucket_in_queue_policy(&one.to_string()), None);
        assert_eq!(bucket_in_queue_policy("not json"), None);
    }

    fn mapping(source: &str, state: &str) -> mappings::Mapping {
        mappings::Mapping {
            uuid: "u".into(),
            function_arn: "arn:aws:lambda:eu-west-1:1:function:f".into(),
            source_arn: source.into(),
            settings: mappings::MappingSettings::default(),
            state: state.into(),
        }
    }

    #[test]
    fn only_live_mappings_from_queues_can_wire() {
        assert!(is_queue_mapping(&mapping(
            "arn:aws:sqs:eu-west-1:1:q",
            "Enabled"
        )));
        assert!(!is_queue_mapping(&mapping(
            "arn:aws:sqs:eu-west-1:1:q",
            "Deleting"
        )));
        assert!(!is_queue_mapping(&mapping(
            "arn:aws:kinesis:eu-west-1:1:stream/s",
            "Enabled"
        )));
    }
}
