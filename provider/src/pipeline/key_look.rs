//! The plan's look at the KMS keys the pipeline's data is encrypted with:
//! an existing bucket's default encryption, the key an owned bucket is
//! given, an existing failure queue's and an existing stream's key. Each
//! key is described once (`kms:DescribeKey`) for its ARN and whether the
//! customer manages it: only a customer-managed key needs a grant in
//! `policy_json`.
//!
//! A look that is denied leaves its grant out with a warning that names
//! the permission; it never fails the plan.

use tfsdk::access::Field;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};

use crate::aws::{AwsClients, AwsError, kinesis, kms, s3, sqs};

use super::policy::{self, BucketKey, KeyGrants};
use super::shared::KeyLooks;
use super::state::{Planning, State, attr, path};

/// What the looks found, and what they have to say.
#[derive(Debug, Default)]
pub struct Found {
    pub grants: KeyGrants,
    pub diags: Diagnostics,
}

/// Which part a key encrypts, for the messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holder {
    Bucket,
    FailureQueue,
    Stream,
}

impl Holder {
    fn what(self) -> &'static str {
        match self {
            Holder::Bucket => "the bucket's objects",
            Holder::FailureQueue => "the failure queue's messages",
            Holder::Stream => "the stream's records",
        }
    }

    /// What the role does with the key.
    fn actions(self) -> &'static str {
        match self {
            Holder::Bucket => "kms:Decrypt",
            Holder::FailureQueue => "kms:Decrypt and kms:GenerateDataKey",
            Holder::Stream => "kms:Decrypt",
        }
    }
}

/// Looks at every key the configuration's encrypted parts use, at the
/// same time.
pub async fn look(aws: &AwsClients, looks: &KeyLooks, cfg: &State<Planning>) -> Found {
    let (bucket, queue, stream) = tokio::join!(
        bucket_key(aws, looks, cfg),
        queue_key(aws, looks, cfg),
        stream_key(aws, looks, cfg)
    );
    let mut found = Found::default();
    match bucket {
        Ok(k) => found.grants.bucket = k,
        Err(d) => found.diags.push(d),
    }
    match queue {
        Ok(k) => found.grants.failure_queue = k,
        Err(d) => found.diags.push(d),
    }
    match stream {
        Ok(k) => found.grants.stream = k,
        Err(d) => found.diags.push(d),
    }
    found
}

/// The bucket's customer-managed key: the one `bucket_encryption` gives an
/// owned bucket, or the one an existing bucket's default encryption names.
async fn bucket_key(
    aws: &AwsClients,
    looks: &KeyLooks,
    cfg: &State<Planning>,
) -> Result<Option<BucketKey>, Diagnostic> {
    let at_block = path::top(attr::BUCKET_ENCRYPTION);
    let given = match &cfg.bucket_encryption {
        Field::Known(b) => Some(b.kms_key_arn.clone()),
        _ => None,
    };
    match (&cfg.create_bucket, given) {
        (Field::Known(false), Some(_)) => Err(Diagnostic::error(
            "bucket_encryption needs an owned bucket",
            "With create_bucket = false the bucket is not the pipeline's, and neither is its \
             encryption: remove the bucket_encryption block. The plan reads the existing \
             bucket's default encryption itself and grants its key.",
        )
        .at(at_block)),
        (_, Some(Field::Known(arn))) => {
            let at = path::bucket_encryption(attr::KMS_KEY_ARN);
            if let Some(other) = policy::location_of_arn(&arn).filter(|l| l.region != aws.region) {
                return Err(Diagnostic::error(
                    "KMS key in another region",
                    format!(
                        "The key {arn:?} is in {}, and the bucket in {}: S3 encrypts a \
                         bucket's objects only with a key of the bucket's region.",
                        other.region, aws.region
                    ),
                )
                .at(at));
            }
            // A key ARN is the key's own name; an alias ARN is resolved.
            if arn.contains(":key/") {
                return Ok(Some(BucketKey {
                    arn,
                    bucket_key: true,
                }));
            }
            match describe(aws, looks, &arn, Holder::Bucket, at.clone()).await? {
                Described::Key(k) if k.customer_managed => Ok(Some(BucketKey {
                    arn: k.arn,
                    bucket_key: true,
                })),
                Described::Key(_) => Ok(None),
                Described::Missing => Err(Diagnostic::error(
                    "No such KMS key",
                    format!("There is no KMS key {arn:?} in this account and region."),
                )
                .at(at)),
            }
        }
        (Field::Known(false), None) => existing_bucket_key(aws, looks, cfg).await,
        _ => Ok(None),
    }
}

/// The customer-managed key an existing bucket's default encryption names.
async fn existing_bucket_key(
    aws: &AwsClients,
    looks: &KeyLooks,
    cfg: &State<Planning>,
) -> Result<Option<BucketKey>, Diagnostic> {
    let Field::Known(bucket) = &cfg.bucket_name else {
        return Ok(None);
    };
    let at = path::top(attr::BUCKET_NAME);
    let read = looks
        .encryption
        .get(bucket, || s3::default_encryption(&aws.s3, bucket))
        .await;
    // No bucket: the bucket check says so.
    let encryption = settle(read, Holder::Bucket, &at)?.flatten();
    // SSE-S3, or SSE-KMS with the AWS-managed `aws/s3` key (no key named).
    let Some((key, bucket_key)) = encryption
        .filter(s3::DefaultEncryption::uses_kms)
        .and_then(|e| Some((e.kms_key?, e.bucket_key)))
    else {
        return Ok(None);
    };
    let arn = customer_key(aws, looks, Some(key), Holder::Bucket, at).await?;
    Ok(arn.map(|arn| BucketKey { arn, bucket_key }))
}

/// A part's key as its service answered: `Ok(None)` when the part is not
/// there (another check, or the apply, reports that), a warning when the
/// look was denied, an error when it failed otherwise.
fn settle<T>(
    read: Result<T, AwsError>,
    holder: Holder,
    at: &AttrPath,
) -> Result<Option<T>, Diagnostic> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_denied() => Err(denied(&e, holder, at.clone())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(failed(&e, holder, at.clone())),
    }
}

/// The customer-managed key of an existing failure queue.
async fn queue_key(
    aws: &AwsClients,
    looks: &KeyLooks,
    cfg: &State<Planning>,
) -> Result<Option<String>, Diagnostic> {
    let Field::Known(on_failure) = &cfg.on_failure else {
        return Ok(None);
    };
    let Field::Known(arn) = &on_failure.queue_arn else {
        return Ok(None);
    };
    let at = path::on_failure(attr::QUEUE_ARN);
    // A queue that is not there is the apply's error to report, as before.
    let read = sqs::queue_kms_key(&aws.sqs, arn).await;
    let key = settle(read, Holder::FailureQueue, &at)?.flatten();
    customer_key(aws, looks, key, Holder::FailureQueue, at).await
}

/// The customer-managed key of an existing stream.
async fn stream_key(
    aws: &AwsClients,
    looks: &KeyLooks,
    cfg: &State<Planning>,
) -> Result<Option<String>, Diagnostic> {
    let Field::Known(stream) = &cfg.stream else {
        return Ok(None);
    };
    let Field::Known(arn) = &stream.arn else {
        return Ok(None);
    };
    let at = path::stream(attr::ARN);
    let read = kinesis::stream_kms_key(&aws.kinesis, arn).await;
    let key = settle(read, Holder::Stream, &at)?.flatten();
    customer_key(aws, looks, key, Holder::Stream, at).await
}

/// The ARN of `key` when the customer manages it.
async fn customer_key(
    aws: &AwsClients,
    looks: &KeyLooks,
    key: Option<String>,
    holder: Holder,
    at: AttrPath,
) -> Result<Option<String>, Diagnostic> {
    let Some(key) = key else {
        return Ok(None);
    };
    match describe(aws, looks, &key, holder, at.clone()).await? {
        Described::Key(k) if k.customer_managed => Ok(Some(k.arn)),
        Described::Key(_) => Ok(None),
        Described::Missing => Err(missing(&key, holder, at)),
    }
}

/// What `kms:DescribeKey` said of a key.
enum Described {
    Key(kms::Key),
    Missing,
}

/// Describes `key` once per process. A denied look is `Err` with its
/// warning (the grant is then left out); a failed one with its error.
async fn describe(
    aws: &AwsClients,
    looks: &KeyLooks,
    key: &str,
    holder: Holder,
    at: AttrPath,
) -> Result<Described, Diagnostic> {
    let read = looks
        .keys
        .get(key, || kms::describe_key(&aws.kms, key))
        .await;
    Ok(match settle(read, holder, &at)?.flatten() {
        Some(k) => Described::Key(k),
        None => Described::Missing,
    })
}

/// The warning for a look that was denied: the grant is left out.
fn denied(e: &AwsError, holder: Holder, at: AttrPath) -> Diagnostic {
    let permission = match e {
        AwsError::Service { operation, .. } => *operation,
        _ => "the call",
    };
    Diagnostic::warning(
        "Cannot read an encryption key",
        format!(
            "{permission} was denied to the identity that runs Terraform ({}), so the plan \
             cannot tell which KMS key encrypts {}. policy_json grants no {} for it: if that is \
             a customer-managed key, the function will fail with AccessDenied. Allow \
             {permission} to this identity and plan again.",
            e.message(),
            holder.what(),
            holder.actions(),
        ),
    )
    .at(at)
}

/// The warning for a key the part names that KMS does not know.
fn missing(key: &str, holder: Holder, at: AttrPath) -> Diagnostic {
    Diagnostic::warning(
        "Encryption key not found",
        format!(
            "{} are encrypted with the KMS key {key:?}, which kms:DescribeKey does not find: \
             it was deleted, or it is in another account that does not let this identity \
             describe it. policy_json grants nothing on it, so the function will fail with \
             AccessDenied on that data until the key can be described.",
            capitalized(holder.what()),
        ),
    )
    .at(at)
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The error for a look that failed otherwise.
fn failed(e: &AwsError, holder: Holder, at: AttrPath) -> Diagnostic {
    Diagnostic::error(
        "Cannot read an encryption key",
        format!(
            "Looking up the KMS key that encrypts {} failed: {e}",
            holder.what()
        ),
    )
    .at(at)
}

/// Warnings for keys of another account than the role's that
/// `policy_json` grants: their key policies must allow the role too. Each
/// says which statement to ask for: the actions the role is granted on the
/// key, through the same service.
pub fn cross_account(
    policy_json: Option<&str>,
    loc: &policy::Location,
    role_arn: Option<&str>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(doc) = policy_json.and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
    else {
        return diags;
    };
    // Each foreign key and the service it is used through, with every
    // action granted on it that way (the bucket's key has two statements).
    let mut foreign: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        let (Some(key), Some(via)) = (
            st["Resource"].as_str(),
            st["Condition"]["StringEquals"]["kms:ViaService"].as_str(),
        ) else {
            continue;
        };
        if policy::location_of_arn(key).is_none_or(|o| o.account_id == loc.account_id) {
            continue;
        }
        let actions: Vec<&str> = match &st["Action"] {
            serde_json::Value::String(a) => vec![a.as_str()],
            serde_json::Value::Array(l) => l.iter().filter_map(|a| a.as_str()).collect(),
            _ => Vec::new(),
        };
        match foreign.iter_mut().find(|(k, v, _)| *k == key && *v == via) {
            Some((_, _, all)) => all.extend(actions),
            None => foreign.push((key, via, actions)),
        }
    }
    for (key, via, mut actions) in foreign {
        let owner = policy::location_of_arn(key)
            .map(|o| o.account_id)
            .unwrap_or_default();
        actions.sort_unstable();
        actions.dedup();
        let role = role_arn.unwrap_or("<the pipeline's role ARN>");
        let ask = serde_json::json!({
            "Sid": "AllowEventpipeRole",
            "Effect": "Allow",
            "Principal": { "AWS": role },
            "Action": actions,
            "Resource": "*",
            "Condition": { "StringEquals": { "kms:ViaService": via } },
        });
        diags.push(Diagnostic::warning(
            "KMS key in another account",
            format!(
                "The key {key} belongs to account {}, not {}. policy_json grants the role {} \
                 on it through {via}, and that is not enough across accounts: the key's own \
                 policy must allow the role as well. Ask the key's owner to add: {ask}",
                owner,
                loc.account_id,
                actions.join(" and "),
            ),
        ));
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::policy::{BucketKey, Extras, inline_policy};

    fn loc() -> policy::Location {
        policy::Location {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account_id: "111111111111".into(),
        }
    }

    #[test]
    fn a_key_of_another_account_is_a_warning_with_the_statement_to_ask_for() {
        let grants = KeyGrants {
            bucket: Some(BucketKey {
                arn: "arn:aws:kms:eu-west-1:222222222222:key/k".into(),
                bucket_key: false,
            }),
            failure_queue: Some("arn:aws:kms:eu-west-1:111111111111:key/q".into()),
            stream: None,
        };
        let doc = inline_policy(
            &loc(),
            "b",
            "f",
            &[Some("a/".into())],
            Extras {
                output_prefix: Some("out/"),
                failure_queue: Some("arn:aws:sqs:eu-west-1:111111111111:q"),
                keys: &grants,
                ..Extras::default()
            },
        );
        let role = "arn:aws:iam::111111111111:role/p-role";
        let d = cross_account(Some(&doc), &loc(), Some(role));
        assert_eq!(d.0.len(), 1, "one warning, for the bucket's key: {d:?}");
        assert!(!d.has_errors());
        let text = format!("{:?}", d.0[0]);
        assert!(text.contains("222222222222") && text.contains(role));
        assert!(text.contains("s3.eu-west-1.amazonaws.com"));
        // The statement asks for what the role is granted: reading the
        // triggers' objects and writing results.
        assert!(text.contains("kms:Decrypt") && text.contains("kms:GenerateDataKey"));
        let own = inline_policy(&loc(), "b", "f", &[None], Extras::default());
        assert!(cross_account(Some(&own), &loc(), Some(role)).0.is_empty());
    }
}
