//! S3: the pipeline's bucket, its security settings, tags and the
//! notification configuration shared with whoever else uses the bucket.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, Event, FilterRule, FilterRuleName,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
    ObjectIdentifier, PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging,
};

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::AwsError;
use super::error::{err, found};
use super::retry::{Backoff, until_consistent};

/// One of a pipeline's configurations in a bucket's notification
/// document: to its function, or to its event queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub id: String,
    /// A function or a queue (topics are never a pipeline's).
    pub target: Destination,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// Whether `create_bucket` made the bucket or found it already ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    New,
    AlreadyOwned,
}

fn tag_set(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
    Ok(tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()?)
}

/// S3 answers `OperationAborted` ("A conflicting conditional operation is
/// currently in progress") to a bucket made again soon after one of its
/// name was deleted, until the delete has gone everywhere.
const NAME_SETTLING: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(5),
    give_up_after: Duration::from_secs(120),
};

/// Creates the bucket with `tags` in the same request, so it is never
/// without its ownership tag (this needs `s3:TagResource`).
pub async fn create_bucket(
    s3: &Client,
    bucket: &str,
    region: &str,
    tags: &BTreeMap<String, String>,
    stop: &CancellationToken,
) -> Result<Created, AwsError> {
    let mut cfg = CreateBucketConfiguration::builder().set_tags(Some(tag_set(tags)?));
    if region != "us-east-1" {
        cfg = cfg.location_constraint(BucketLocationConstraint::from(region));
    }
    let cfg = cfg.build();
    let aborted = |e: &AwsError| e.code() == Some("OperationAborted");
    let made = until_consistent("s3:CreateBucket", NAME_SETTLING, stop, aborted, || async {
        s3.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(cfg.clone())
            .send()
            .await
            .map_err(err("s3:CreateBucket"))
    })
    .await;
    match made {
        Ok(_) => Ok(Created::New),
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(Created::AlreadyOwned),
        Err(e) => Err(e),
    }
}

/// Blocks all public access and turns on default encryption: SSE-KMS with
/// `kms_key` and S3 Bucket Keys, or SSE-S3 without a key.
pub async fn secure_bucket(
    s3: &Client,
    bucket: &str,
    kms_key: Option<&str>,
) -> Result<(), AwsError> {
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(err("s3:PutPublicAccessBlock"))?;
    put_default_encryption(s3, bucket, kms_key).await
}

/// Sets the bucket's default encryption: SSE-KMS with `kms_key` and S3
/// Bucket Keys on, or SSE-S3 (`AES256`) without a key.
pub async fn put_default_encryption(
    s3: &Client,
    bucket: &str,
    kms_key: Option<&str>,
) -> Result<(), AwsError> {
    let default = match kms_key {
        Some(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
        None => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default.build()?)
        .set_bucket_key_enabled(kms_key.map(|_| true))
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .map_err(err("s3:PutBucketEncryption"))?;
    Ok(())
}

/// A bucket's default encryption, as `GetBucketEncryption` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// The key as the bucket names it (id, ARN or alias); `None` with
    /// SSE-KMS means the AWS-managed `aws/s3` key.
    pub kms_key: Option<String>,
    /// S3 Bucket Keys: objects' data keys come from a bucket-level key,
    /// and KMS sees the bucket's ARN as the encryption context.
    pub bucket_key: bool,
}

impl DefaultEncryption {
    /// Encrypted under a KMS key (SSE-KMS or DSSE-KMS).
    pub fn uses_kms(&self) -> bool {
        self.algorithm.starts_with("aws:kms")
    }
}

/// The bucket's default encryption; `None` when it has no configuration
/// (or there is no such bucket).
pub async fn default_encryption(
    s3: &Client,
    bucket: &str,
) -> Result<Option<DefaultEncryption>, AwsError> {
    let r = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .map_err(err("s3:GetBucketEncryption"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let rule = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first());
    Ok(rule.and_then(|r| {
        let d = r.apply_server_side_encryption_by_default()?;
        Some(DefaultEncryption {
            algorithm: d.sse_algorithm().as_str().to_owned(),
            kms_key: d
                .kms_master_key_id()
                .filter(|k| !k.is_empty())
                .map(str::to_owned),
            bucket_key: r.bucket_key_enabled() == Some(true),
        })
    }))
}

pub async fn put_bucket_policy(s3: &Client, bucket: &str, policy: &str) -> Result<(), AwsError> {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .map_err(err("s3:PutBucketPolicy"))?;
    Ok(())
}

/// Removes the bucket policy; a bucket without one is fine.
pub async fn delete_bucket_policy(s3: &Client, bucket: &str) -> Result<(), AwsError> {
    let r = s3
        .delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map_err(err("s3:DeleteBucketPolicy"));
    found(r).map(|_| ())
}

/// The bucket policy text; `None` when the bucket has none.
pub async fn bucket_policy(s3: &Client, bucket: &str) -> Result<Option<String>, AwsError> {
    let r = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map_err(err("s3:GetBucketPolicy"));
    match r {
        Ok(out) => Ok(out.policy),
        // No policy, or no bucket at all: either way there is no policy.
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn put_bucket_tags(
    s3: &Client,
    bucket: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    if tags.is_empty() {
        let r = s3
            .delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(err("s3:DeleteBucketTagging"));
        return found(r).map(|_| ());
    }
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(tag_set(tags)?))
                .build()?,
        )
        .send()
        .await
        .map_err(err("s3:PutBucketTagging"))?;
    Ok(())
}

/// Sets the tags of a bucket the pipeline shares with others: the keys
/// `drop` lists go, `set` is added, every other tag stays. Writes nothing
/// when that changes nothing.
pub async fn merge_bucket_tags(
    s3: &Client,
    bucket: &str,
    drop: &BTreeMap<String, String>,
    set: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let current = bucket_tags(s3, bucket).await?.unwrap_or_default();
    let mut next: BTreeMap<String, String> = current
        .iter()
        .filter(|(k, _)| !drop.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    next.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
    if next == current {
        return Ok(());
    }
    put_bucket_tags(s3, bucket, &next).await
}

/// The bucket's tags, or `None` when the bucket does not exist.
pub async fn bucket_tags(
    s3: &Client,
    bucket: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let r = s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .map_err(err("s3:GetBucketTagging"));
    match r {
        Ok(out) => Ok(Some(
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        )),
        Err(e) if e.code() == Some("NoSuchTagSet") || e.code() == Some("NoSuchTagSetError") => {
            Ok(Some(BTreeMap::new()))
        }
        Err(e) => found(Err(e)),
    }
}

/// The region a bucket is in, or `None` when there is no such bucket.
pub async fn bucket_region(s3: &Client, bucket: &str) -> Result<Option<String>, AwsError> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Some(
            out.bucket_region()
                .map_or_else(|| "us-east-1".to_owned(), str::to_owned),
        )),
        Err(e) => {
            // A bucket in another region answers with a redirect that
            // names its region.
            let elsewhere = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match elsewhere {
                Some(region) => Ok(Some(region)),
                None => found(Err(err("s3:HeadBucket")(e))),
            }
        }
    }
}

/// Where a notification configuration sends its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Function(String),
    Queue(String),
    Topic(String),
}

/// One notification configuration of a bucket, of any destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub destination: Destination,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

fn filter_of(f: Option<&NotificationConfigurationFilter>) -> (Option<String>, Option<String>) {
    let mut prefix = None;
    let mut suffix = None;
    if let Some(rules) = f.and_then(|f| f.key()).map(|k| k.filter_rules()) {
        for r in rules {
            let value = r.value().map(str::to_owned);
            match r.name().map(|n| n.as_str().to_ascii_lowercase()) {
                Some(n) if n == "prefix" => prefix = value,
                Some(n) if n == "suffix" => suffix = value,
                _ => {}
            }
        }
    }
    (prefix, suffix)
}

/// Every notification configuration on the bucket (functions, queues and
/// topics), or `None` when there is no such bucket.
pub async fn notifications(
    s3: &Client,
    bucket: &str,
) -> Result<Option<Vec<Notification>>, AwsError> {
    let Some(cfg) = found(notification_config(s3, bucket).await)? else {
        return Ok(None);
    };
    let events = |e: &[Event]| e.iter().map(|e| e.as_str().to_owned()).collect();
    let mut out = Vec::new();
    for c in cfg.lambda_function_configurations() {
        let (prefix, suffix) = filter_of(c.filter());
        out.push(Notification {
            id: c.id().unwrap_or_default().to_owned(),
            destination: Destination::Function(c.lambda_function_arn().to_owned()),
            events: events(c.events()),
            prefix,
            suffix,
        });
    }
    for c in cfg.queue_configurations() {
        let (prefix, suffix) = filter_of(c.filter());
        out.push(Notification {
            id: c.id().unwrap_or_default().to_owned(),
            destination: Destination::Queue(c.queue_arn().to_owned()),
            events: events(c.events()),
            prefix,
            suffix,
        });
    }
    for c in cfg.topic_configurations() {
        let (prefix, suffix) = filter_of(c.filter());
        out.push(Notification {
            id: c.id().unwrap_or_default().to_owned(),
            destination: Destination::Topic(c.topic_arn().to_owned()),
            events: events(c.events()),
            prefix,
            suffix,
        });
    }
    Ok(Some(out))
}

async fn notification_config(
    s3: &Client,
    bucket: &str,
) -> Result<NotificationConfiguration, AwsError> {
    let out = match s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_empty_notification_document(&e) => {
            return Ok(NotificationConfiguration::builder().build());
        }
        Err(e) => return Err(err("s3:GetBucketNotificationConfiguration")(e)),
    };
    Ok(NotificationConfiguration::builder()
        .set_lambda_function_configurations(out.lambda_function_configurations)
        .set_queue_configurations(out.queue_configurations)
        .set_topic_configurations(out.topic_configurations)
        .set_event_bridge_configuration(out.event_bridge_configuration)
        .build())
}

/// Some S3 implementations (the moto emulator among them) answer a bucket
/// without notifications with an empty `<GetBucketNotificationResponse/>`
/// document, which the SDK cannot read as a `NotificationConfiguration`.
/// A 200 answer whose body is a single empty element means "no
/// notifications"; anything else stays an error.
fn is_empty_notification_document<E>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    let Some(raw) = e.raw_response() else {
        return false;
    };
    if raw.status().as_u16() != 200 {
        return false;
    }
    let Some(body) = raw.body().bytes().and_then(|b| std::str::from_utf8(b).ok()) else {
        return false;
    };
    let body = body.trim();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim(),
        None => body,
    };
    body.starts_with('<') && body.ends_with("/>") && body.matches('<').count() == 1
}

fn key_filter(t: &Trigger) -> Option<NotificationConfigurationFilter> {
    let mut rules = Vec::new();
    if let Some(p) = t.prefix.as_deref().filter(|p| !p.is_empty()) {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Prefix)
                .value(p)
                .build(),
        );
    }
    if let Some(s) = t.suffix.as_deref().filter(|s| !s.is_empty()) {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Suffix)
                .value(s)
                .build(),
        );
    }
    (!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    })
}

fn events_of(t: &Trigger) -> Option<Vec<Event>> {
    Some(t.events.iter().map(|e| Event::from(e.as_str())).collect())
}

/// The document's function and queue configurations for `triggers`, added
/// to `lambdas` and `queues`.
fn add_configs(
    triggers: &[Trigger],
    lambdas: &mut Vec<LambdaFunctionConfiguration>,
    queues: &mut Vec<QueueConfiguration>,
) -> Result<(), AwsError> {
    for t in triggers {
        match &t.target {
            Destination::Function(arn) => lambdas.push(
                LambdaFunctionConfiguration::builder()
                    .id(&t.id)
                    .lambda_function_arn(arn)
                    .set_events(events_of(t))
                    .set_filter(key_filter(t))
                    .build()?,
            ),
            Destination::Queue(arn) => queues.push(
                QueueConfiguration::builder()
                    .id(&t.id)
                    .queue_arn(arn)
                    .set_events(events_of(t))
                    .set_filter(key_filter(t))
                    .build()?,
            ),
            Destination::Topic(_) => {
                return Err(AwsError::Unexpected(
                    "a pipeline never notifies a topic".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The bucket's function and queue configurations that `select` picks by
/// id; `None` when the bucket does not exist.
pub async fn triggers(
    s3: &Client,
    bucket: &str,
    select: impl Fn(&str) -> bool,
) -> Result<Option<Vec<Trigger>>, AwsError> {
    let Some(all) = notifications(s3, bucket).await? else {
        return Ok(None);
    };
    Ok(Some(
        all.into_iter()
            .filter(|n| select(&n.id) && !matches!(n.destination, Destination::Topic(_)))
            .map(|n| Trigger {
                id: n.id,
                target: n.destination,
                events: n.events,
                prefix: n.prefix,
                suffix: n.suffix,
            })
            .collect(),
    ))
}

/// Replaces the configurations (to functions or queues) that `replaced`
/// picks by id with `triggers`, in one write, keeping every other
/// notification (other queues, topics, EventBridge, other functions')
/// exactly as it was.
pub async fn replace_triggers(
    s3: &Client,
    bucket: &str,
    replaced: impl Fn(&str) -> bool,
    triggers: &[Trigger],
) -> Result<(), AwsError> {
    let current = notification_config(s3, bucket).await?;
    let mut lambdas: Vec<LambdaFunctionConfiguration> = current
        .lambda_function_configurations()
        .iter()
        .filter(|c| !replaced(c.id().unwrap_or_default()))
        .cloned()
        .collect();
    let mut queues: Vec<QueueConfiguration> = current
        .queue_configurations()
        .iter()
        .filter(|c| !replaced(c.id().unwrap_or_default()))
        .cloned()
        .collect();
    add_configs(triggers, &mut lambdas, &mut queues)?;
    let cfg = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambdas))
        .set_queue_configurations(Some(queues))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    // Not retried by the SDK: a retry would send the document read before
    // the backoff, and could undo another writer's change made meanwhile.
    // The caller reads again and writes again instead.
    put_notification_config(s3, bucket, cfg, false).await
}

/// Sets `triggers` as the bucket's whole notification configuration,
/// without reading it first: only for a bucket that has nothing else to
/// keep (one this apply just made).
pub async fn put_triggers(s3: &Client, bucket: &str, triggers: &[Trigger]) -> Result<(), AwsError> {
    let (mut lambdas, mut queues) = (Vec::new(), Vec::new());
    add_configs(triggers, &mut lambdas, &mut queues)?;
    let cfg = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambdas))
        .set_queue_configurations(Some(queues))
        .build();
    put_notification_config(s3, bucket, cfg, true).await
}

async fn put_notification_config(
    s3: &Client,
    bucket: &str,
    cfg: NotificationConfiguration,
    sdk_retries: bool,
) -> Result<(), AwsError> {
    let put = s3
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(cfg);
    if sdk_retries {
        put.send().await
    } else {
        put.customize()
            .config_override(
                aws_sdk_s3::config::Builder::new().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
    }
    .map_err(|e| {
        let detail = e
            .raw_response()
            .and_then(|r| r.body().bytes())
            .map(unvalidated_detail)
            .unwrap_or_default();
        let mut e = err("s3:PutBucketNotificationConfiguration")(e);
        if let AwsError::Service { message, .. } = &mut e
            && !detail.is_empty()
        {
            message.push_str(": ");
            message.push_str(&detail);
        }
        e
    })?;
    Ok(())
}

/// What S3 says when a destination of a notification document does not
/// exist or does not allow the bucket to send to it. S3 checks every
/// destination in the document on every write.
pub const UNVALIDATED: &str = "Unable to validate the following destination configurations";

/// The destinations an `InvalidArgument` error body names, as
/// `ARN (reason)` joined with `; `: S3 lists each in `ArgumentName<n>` (the
/// ARN) and `ArgumentValue<n>` (why), beside the message that names none.
fn unvalidated_detail(body: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(body) else {
        return String::new();
    };
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(xml_unescape(text[start..end].trim()))
    };
    (1..=100)
        .map_while(|n| {
            let arn = element(&format!("ArgumentName{n}"))?;
            Some(match element(&format!("ArgumentValue{n}")) {
                Some(why) if !why.is_empty() => format!("{arn} ({why})"),
                _ => arn,
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The ARNs of the destinations S3 could not validate, when `e` is that
/// refusal (an empty list when S3 did not name them); `None` for any other
/// error.
pub fn unvalidated_destinations(e: &AwsError) -> Option<Vec<String>> {
    if e.code() != Some("InvalidArgument") {
        return None;
    }
    let message = e.message();
    let (_, detail) = message.split_once(UNVALIDATED)?;
    let mut arns: Vec<String> = Vec::new();
    for word in detail.split(|c: char| c.is_whitespace() || "[]();,".contains(c)) {
        if word.starts_with("arn:") && !arns.iter().any(|a| a == word) {
            arns.push(word.to_owned());
        }
    }
    Some(arns)
}

/// Whether the bucket holds any object, object version or delete marker
/// with a key outside `ignored` (the pipeline's staged packages, which go
/// with it). A first page of only ignored keys with more after it counts
/// as holding objects.
pub async fn has_objects(s3: &Client, bucket: &str, ignored: &str) -> Result<bool, AwsError> {
    let out = s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1000)
        .send()
        .await
        .map_err(err("s3:ListObjectVersions"))?;
    let other = |k: Option<&str>| !k.is_some_and(|k| k.starts_with(ignored));
    Ok(out.versions().iter().any(|v| other(v.key()))
        || out.delete_markers().iter().any(|m| other(m.key()))
        || out.is_truncated() == Some(true))
}

/// Puts an object with `tags` in the same request.
pub async fn put_object_tagged(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let tagging = tags
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .tagging(tagging)
        .send()
        .await
        .map_err(err("s3:PutObject"))?;
    Ok(())
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Deletes every object (and version) under `prefix` but the key `keep`;
/// returns how many. A bucket already gone holds nothing.
pub async fn delete_under(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    keep: Option<&str>,
) -> Result<u64, AwsError> {
    let mut deleted = 0u64;
    loop {
        let r = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(1000)
            .send()
            .await
            .map_err(err("s3:ListObjectVersions"));
        let Some(out) = found(r)? else {
            return Ok(deleted);
        };
        let ids = identifiers(&out, keep)?;
        if ids.is_empty() {
            return Ok(deleted);
        }
        deleted += ids.len() as u64;
        delete_objects(s3, bucket, ids).await?;
    }
}

/// Deletes every object version and delete marker; returns how many.
pub async fn empty_bucket(s3: &Client, bucket: &str) -> Result<u64, AwsError> {
    let mut deleted = 0u64;
    loop {
        let out = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .map_err(err("s3:ListObjectVersions"))?;
        let ids = identifiers(&out, None)?;
        if ids.is_empty() {
            return Ok(deleted);
        }
        deleted += ids.len() as u64;
        delete_objects(s3, bucket, ids).await?;
    }
}

/// Every object version and delete marker of one listing page, but the key
/// `keep`.
fn identifiers(
    out: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput,
    keep: Option<&str>,
) -> Result<Vec<ObjectIdentifier>, AwsError> {
    let listed = out
        .versions()
        .iter()
        .map(|v| (v.key(), v.version_id()))
        .chain(
            out.delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id())),
        );
    let mut ids = Vec::new();
    for (key, version) in listed {
        if let Some(key) = key.filter(|k| Some(*k) != keep) {
            ids.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(str::to_owned))
                    .build()?,
            );
        }
    }
    Ok(ids)
}

/// One `DeleteObjects` of up to 1000 identifiers; the first key S3 could
/// not delete is the error.
async fn delete_objects(
    s3: &Client,
    bucket: &str,
    ids: Vec<ObjectIdentifier>,
) -> Result<(), AwsError> {
    let res = s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()?,
        )
        .send()
        .await
        .map_err(err("s3:DeleteObjects"))?;
    match res.errors().first() {
        Some(e) => Err(AwsError::Service {
            operation: "s3:DeleteObjects",
            code: e.code().unwrap_or("Unknown").to_owned(),
            message: format!(
                "could not delete {}: {}",
                e.key().unwrap_or("?"),
                e.message().unwrap_or("no reason given")
            ),
            status: None,
        }),
        None => Ok(()),
    }
}

/// Deletes the bucket; one that is already gone is fine.
pub async fn delete_bucket(s3: &Client, bucket: &str) -> Result<(), AwsError> {
    let r = s3
        .delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(err("s3:DeleteBucket"));
    found(r).map(|_| ())
}

/// An object as a listing reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: i64,
    pub etag: String,
}

/// One page of the objects under `prefix`, in key order, after the key
/// `after` (exclusive); an empty page means there are no more.
pub async fn list_objects(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    after: Option<&str>,
    page: i32,
) -> Result<Vec<Object>, AwsError> {
    let mut req = s3.list_objects_v2().bucket(bucket).max_keys(page);
    if !prefix.is_empty() {
        req = req.prefix(prefix);
    }
    if let Some(after) = after {
        req = req.start_after(after);
    }
    let out = req.send().await.map_err(err("s3:ListObjectsV2"))?;
    Ok(out
        .contents()
        .iter()
        .filter_map(|o| {
            Some(Object {
                key: o.key()?.to_owned(),
                size: o.size().unwrap_or(0),
                etag: o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// S3's answer when a document names a function it may not invoke, as
    /// S3 sends it.
    const REFUSED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
        <Message>Unable to validate the following destination configurations</Message>\
        <ArgumentName1>arn:aws:lambda:us-east-1:123456789012:function:gone</ArgumentName1>\
        <ArgumentValue1>Not authorized to invoke function [arn:aws:lambda:us-east-1:123456789012:function:gone]</ArgumentValue1>\
        <ArgumentName2>arn:aws:sqs:us-east-1:123456789012:q&amp;1</ArgumentName2>\
        <ArgumentValue2>Permissions on the destination queue do not allow S3 to publish notifications from this bucket</ArgumentValue2>\
        <RequestId>R</RequestId><HostId>H</HostId></Error>";

    #[test]
    fn the_destinations_s3_could_not_validate_are_named_by_their_arns() {
        let detail = unvalidated_detail(REFUSED.as_bytes());
        assert_eq!(
            detail,
            "arn:aws:lambda:us-east-1:123456789012:function:gone (Not authorized to invoke \
             function [arn:aws:lambda:us-east-1:123456789012:function:gone]); \
             arn:aws:sqs:us-east-1:123456789012:q&1 (Permissions on the destination queue do \
             not allow S3 to publish notifications from this bucket)"
        );
        let e = AwsError::Service {
            operation: "s3:PutBucketNotificationConfiguration",
            code: "InvalidArgument".into(),
            message: format!("{UNVALIDATED}: {detail} (still failing after 9 attempts)"),
            status: Some(400),
        };
        assert_eq!(
            unvalidated_destinations(&e),
            Some(vec![
                "arn:aws:lambda:us-east-1:123456789012:function:gone".to_owned(),
                "arn:aws:sqs:us-east-1:123456789012:q&1".to_owned(),
            ])
        );
        // Named by the message alone: the refusal, with no ARN known.
        let bare = AwsError::Service {
            operation: "s3:PutBucketNotificationConfiguration",
            code: "InvalidArgument".into(),
            message: UNVALIDATED.into(),
            status: Some(400),
        };
        assert_eq!(unvalidated_destinations(&bare), Some(Vec::new()));
        // Any other error is not this refusal.
        let other = AwsError::Service {
            operation: "s3:PutBucketNotificationConfiguration",
            code: "InvalidArgument".into(),
            message: "Configurations overlap.".into(),
            status: Some(400),
        };
        assert_eq!(unvalidated_destinations(&other), None);
        assert_eq!(unvalidated_detail(b"<Error><Code>X</Code></Error>"), "");
    }
}
