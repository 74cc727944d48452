//! SQS: the failure queue a pipeline makes for the events its function
//! could not process.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::AwsError;
use super::error::{err, found};
use super::retry::{Backoff, until_consistent};

/// SQS refuses a queue of a name deleted less than 60 seconds ago
/// (`QueueDeletedRecently`): a destroy, then an apply, meets it.
const NAME_REUSE: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(5),
    give_up_after: Duration::from_secs(75),
};

fn deleted_recently(e: &AwsError) -> bool {
    e.code().is_some_and(|c| c.contains("QueueDeletedRecently"))
}

/// What the pipeline sets on a queue it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// Seconds a message is kept.
    pub retention_s: u32,
    /// Server-side encryption with SQS-managed keys.
    pub sse: bool,
    /// Seconds a received message stays hidden from other consumers.
    pub visibility_timeout_s: Option<u32>,
    /// The queue's access policy (JSON).
    pub policy: Option<String>,
    /// Where a message goes after this many receives (dead-letter queue ARN).
    pub redrive: Option<(String, u32)>,
}

/// A queue as SQS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    pub url: String,
    pub arn: String,
    pub settings: QueueSettings,
    /// Messages waiting, visible or in flight.
    pub messages: u64,
    pub tags: BTreeMap<String, String>,
}

fn attributes(s: &QueueSettings) -> HashMap<QueueAttributeName, String> {
    let mut a = HashMap::from([
        (
            QueueAttributeName::MessageRetentionPeriod,
            s.retention_s.to_string(),
        ),
        (QueueAttributeName::SqsManagedSseEnabled, s.sse.to_string()),
    ]);
    if let Some(v) = s.visibility_timeout_s {
        a.insert(QueueAttributeName::VisibilityTimeout, v.to_string());
    }
    if let Some(p) = &s.policy {
        a.insert(QueueAttributeName::Policy, p.clone());
    }
    if let Some((dlq, n)) = &s.redrive {
        a.insert(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({ "deadLetterTargetArn": dlq, "maxReceiveCount": n }).to_string(),
        );
    }
    a
}

/// Two policy texts with the same meaning.
fn same_json(a: &str, b: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(a).ok() == serde_json::from_str(b).ok()
}

impl QueueSettings {
    /// Whether `have` (as SQS reports it) already is this.
    pub fn matches(&self, have: &QueueSettings) -> bool {
        self.retention_s == have.retention_s
            && self.sse == have.sse
            && self.redrive == have.redrive
            && (self.visibility_timeout_s.is_none()
                || self.visibility_timeout_s == have.visibility_timeout_s)
            && match (&self.policy, &have.policy) {
                (None, _) => true,
                (Some(a), Some(b)) => same_json(a, b),
                (Some(_), None) => false,
            }
    }
}

/// Creates the queue with its settings and `tags`; returns its URL. SQS
/// answers with the existing queue's URL when one of that name has the
/// same attributes, so the caller checks ownership by the tags. A name
/// deleted less than a minute ago is tried again until SQS takes it.
pub async fn create_queue(
    sqs: &Client,
    name: &str,
    settings: &QueueSettings,
    tags: &BTreeMap<String, String>,
    stop: &CancellationToken,
) -> Result<String, AwsError> {
    let out = until_consistent(
        "sqs:CreateQueue",
        NAME_REUSE,
        stop,
        deleted_recently,
        || async {
            sqs.create_queue()
                .queue_name(name)
                .set_attributes(Some(attributes(settings)))
                .set_tags(Some(
                    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                ))
                .send()
                .await
                .map_err(err("sqs:CreateQueue"))
        },
    )
    .await?;
    out.queue_url
        .ok_or_else(|| AwsError::Unexpected("CreateQueue returned no queue URL".into()))
}

/// The queue's URL, or `None` when there is no queue of that name.
pub async fn queue_url(sqs: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let r = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(err("sqs:GetQueueUrl"));
    Ok(found(r)?.and_then(|o| o.queue_url))
}

/// The queue at `url`, or `None` when it is gone.
pub async fn queue(sqs: &Client, url: &str) -> Result<Option<Queue>, AwsError> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(err("sqs:GetQueueAttributes"));
    let Some(attrs) = found(attrs)? else {
        return Ok(None);
    };
    let a = attrs.attributes.unwrap_or_default();
    let get = |k: QueueAttributeName| a.get(&k).cloned().unwrap_or_default();
    let number = |k: QueueAttributeName| get(k).parse::<u64>().unwrap_or(0);
    let tags = found(
        sqs.list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .map_err(err("sqs:ListQueueTags")),
    )?
    .and_then(|t| t.tags)
    .map(|t| t.into_iter().collect())
    .unwrap_or_default();
    Ok(Some(Queue {
        url: url.to_owned(),
        arn: get(QueueAttributeName::QueueArn),
        settings: QueueSettings {
            retention_s: u32::try_from(number(QueueAttributeName::MessageRetentionPeriod))
                .unwrap_or(0),
            sse: get(QueueAttributeName::SqsManagedSseEnabled) == "true"
                || !get(QueueAttributeName::KmsMasterKeyId).is_empty(),
            visibility_timeout_s: u32::try_from(number(QueueAttributeName::VisibilityTimeout)).ok(),
            policy: Some(get(QueueAttributeName::Policy)).filter(|p| !p.is_empty()),
            redrive: serde_json::from_str::<serde_json::Value>(&get(
                QueueAttributeName::RedrivePolicy,
            ))
            .ok()
            .and_then(|r| {
                let dlq = r["deadLetterTargetArn"].as_str()?.to_owned();
                let n = r["maxReceiveCount"]
                    .as_u64()
                    .or_else(|| r["maxReceiveCount"].as_str()?.parse().ok())?;
                Some((dlq, u32::try_from(n).unwrap_or(u32::MAX)))
            }),
        },
        messages: number(QueueAttributeName::ApproximateNumberOfMessages)
            + number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            + number(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        tags,
    }))
}

/// Sets the queue's attributes to `settings`; no redrive removes the one
/// the queue has.
pub async fn set_settings(
    sqs: &Client,
    url: &str,
    settings: &QueueSettings,
) -> Result<(), AwsError> {
    let mut attrs = attributes(settings);
    if settings.redrive.is_none() {
        attrs.insert(QueueAttributeName::RedrivePolicy, String::new());
    }
    sqs.set_queue_attributes()
        .queue_url(url)
        .set_attributes(Some(attrs))
        .send()
        .await
        .map_err(err("sqs:SetQueueAttributes"))?;
    Ok(())
}

/// Sets the queue's tags to exactly `want`, given what it has now.
pub async fn sync_tags(
    sqs: &Client,
    url: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        sqs.untag_queue()
            .queue_url(url)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("sqs:UntagQueue"))?;
    }
    if !diff.set.is_empty() {
        sqs.tag_queue()
            .queue_url(url)
            .set_tags(Some(diff.set.into_iter().collect()))
            .send()
            .await
            .map_err(err("sqs:TagQueue"))?;
    }
    Ok(())
}

/// Deletes the queue; one already gone is fine.
pub async fn delete_queue(sqs: &Client, url: &str) -> Result<(), AwsError> {
    let r = sqs
        .delete_queue()
        .queue_url(url)
        .send()
        .await
        .map_err(err("sqs:DeleteQueue"));
    found(r).map(|_| ())
}

/// A message as received: its id, the handle that deletes it or changes
/// its visibility, and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub id: String,
    pub receipt: String,
    pub body: String,
}

/// An entry of a batch call that SQS refused, by the caller's index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFailed {
    pub index: usize,
    pub code: String,
    pub message: String,
}

/// Up to 10 messages, hidden from other consumers for `visibility_s`
/// seconds (0: left visible), waiting at most `wait_s` seconds for one.
pub async fn receive(
    sqs: &Client,
    url: &str,
    max: i32,
    visibility_s: i32,
    wait_s: i32,
) -> Result<Vec<Received>, AwsError> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10))
        .visibility_timeout(visibility_s)
        .wait_time_seconds(wait_s)
        .send()
        .await
        .map_err(err("sqs:ReceiveMessage"))?;
    Ok(out
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            Some(Received {
                id: m.message_id?,
                receipt: m.receipt_handle?,
                body: m.body.unwrap_or_default(),
            })
        })
        .collect())
}

/// Batch entries are named by their index (`m0` … `m9`).
fn entry_id(i: usize) -> String {
    format!("m{i}")
}

fn entry_failures(failed: &[aws_sdk_sqs::types::BatchResultErrorEntry]) -> Vec<EntryFailed> {
    failed
        .iter()
        .filter_map(|f| {
            Some(EntryFailed {
                index: f.id().strip_prefix('m')?.parse().ok()?,
                code: f.code().to_owned(),
                message: f.message().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Deletes up to 10 messages by receipt handle; returns the entries SQS
/// refused (a handle no longer valid, …).
pub async fn delete_batch(
    sqs: &Client,
    url: &str,
    receipts: &[&str],
) -> Result<Vec<EntryFailed>, AwsError> {
    use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
    let entries = receipts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(entry_id(i))
                .receipt_handle(*r)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = sqs
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(err("sqs:DeleteMessageBatch"))?;
    Ok(entry_failures(out.failed()))
}

/// Sends up to 10 message bodies; returns the entries SQS refused.
pub async fn send_batch(
    sqs: &Client,
    url: &str,
    bodies: &[&str],
) -> Result<Vec<EntryFailed>, AwsError> {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    let entries = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            SendMessageBatchRequestEntry::builder()
                .id(entry_id(i))
                .message_body(*b)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = sqs
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(err("sqs:SendMessageBatch"))?;
    Ok(entry_failures(out.failed()))
}

/// Sets the visibility timeout of up to 10 received messages (0: visible
/// again at once); returns the entries SQS refused.
pub async fn change_visibility_batch(
    sqs: &Client,
    url: &str,
    receipts: &[&str],
    visibility_s: i32,
) -> Result<Vec<EntryFailed>, AwsError> {
    use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
    let entries = receipts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(entry_id(i))
                .receipt_handle(*r)
                .visibility_timeout(visibility_s)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = sqs
        .change_message_visibility_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(err("sqs:ChangeMessageVisibilityBatch"))?;
    Ok(entry_failures(out.failed()))
}

/// The URL of the queue with ARN `arn` (`arn:aws:sqs:<region>:<account>:<name>`),
/// or `None` when it does not exist.
pub async fn queue_url_of_arn(sqs: &Client, arn: &str) -> Result<Option<String>, AwsError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
        return Err(AwsError::Unexpected(format!(
            "{arn:?} is not an SQS queue ARN"
        )));
    };
    let r = sqs
        .get_queue_url()
        .queue_name(*name)
        .queue_owner_aws_account_id(*account)
        .send()
        .await
        .map_err(err("sqs:GetQueueUrl"));
    Ok(found(r)?.and_then(|o| o.queue_url))
}

/// The access policy of the queue with ARN `arn` (JSON), or `None` when
/// the queue is gone or has no policy.
pub async fn policy_of_arn(sqs: &Client, arn: &str) -> Result<Option<String>, AwsError> {
    let Some(url) = queue_url_of_arn(sqs, arn).await? else {
        return Ok(None);
    };
    let r = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .map_err(err("sqs:GetQueueAttributes"));
    Ok(found(r)?
        .and_then(|o| o.attributes)
        .and_then(|mut a| a.remove(&QueueAttributeName::Policy))
        .filter(|p| !p.is_empty()))
}

/// How many messages a queue holds, as `GetQueueAttributes` counts them
/// (approximately), and where its redrive sends messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub arn: String,
    /// `ApproximateNumberOfMessages`: waiting to be received.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`: received, not yet deleted.
    pub in_flight: u64,
    /// `ApproximateNumberOfMessagesDelayed`.
    pub delayed: u64,
    /// The dead-letter queue its redrive policy names.
    pub dead_letter_arn: Option<String>,
}

/// The queue's message counts in one call, or `None` when it is gone.
pub async fn depth(sqs: &Client, url: &str) -> Result<Option<QueueDepth>, AwsError> {
    let r = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(err("sqs:GetQueueAttributes"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let a = out.attributes.unwrap_or_default();
    let number = |k: QueueAttributeName| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(Some(QueueDepth {
        arn: a
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .unwrap_or_default(),
        visible: number(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: number(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        dead_letter_arn: a
            .get(&QueueAttributeName::RedrivePolicy)
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned)),
    }))
}

/// The KMS key the queue with ARN `arn` encrypts with (`KmsMasterKeyId`:
/// an id, ARN or alias): `Ok(None)` for SSE-SQS or no encryption, and
/// `Err` with a not-found error when there is no such queue.
pub async fn queue_kms_key(sqs: &Client, arn: &str) -> Result<Option<String>, AwsError> {
    let Some(url) = queue_url_of_arn(sqs, arn).await? else {
        return Err(AwsError::Service {
            operation: "sqs:GetQueueUrl",
            code: "AWS.SimpleQueueService.NonExistentQueue".into(),
            message: format!("there is no queue {arn}"),
            status: Some(400),
        });
    };
    let out = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::KmsMasterKeyId)
        .send()
        .await
        .map_err(err("sqs:GetQueueAttributes"))?;
    Ok(out
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::KmsMasterKeyId))
        .filter(|k| !k.is_empty()))
}
