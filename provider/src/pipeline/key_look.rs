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

    /// The service that uses the key on the role's behalf.
    fn service(self) -> &'static str {
        match self {
            Holder::Bucket => "s3",
            Holder::FailureQueue => "sqs",
            Holder::Stream => "kinesis",
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
    let encryption = match read {
        Ok(e) => e,
        Err(e) if e.is_denied() => return Err(denied(&e, Holder::Bucket, at)),
        // No bucket: the bucket check says so.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(failed(&e, Holder::Bucket, at)),
    };
    // SSE-S3, or SSE-KMS with the AWS-managed `aws/s3` key (no key named).
    let Some((key, bucket_key)) = encryption
        .filter(s3::DefaultEncryption::uses_kms)
        .and_then(|e| Some((e.kms_key?, e.bucket_key)))
    else {
        return Ok(None);
    };
    Ok(
        match describe(aws, looks, &key, Holder::Bucket, at).await? {
            Described::Key(k) if k.customer_managed => Some(BucketKey {
                arn: k.arn,
                bucket_key,
            }),
            _ => None,
        },
    )
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
    let key = match sqs::queue_kms_key(&aws.sqs, arn).await {
        Ok(k) => k,
        Err(e) if e.is_denied() => return Err(denied(&e, Holder::FailureQueue, at)),
        // A queue that is not there is the apply's error to report, as before.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(failed(&e, Holder::FailureQueue, at)),
    };
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
    let key = match kinesis::stream_kms_key(&aws.kinesis, arn).await {
        Ok(k) => k,
        Err(e) if e.is_denied() => return Err(denied(&e, Holder::Stream, at)),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(failed(&e, Holder::Stream, at)),
    };
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
    Ok(match describe(aws, looks, &key, holder, at).await? {
        Described::Key(k) if k.customer_managed => Some(k.arn),
        _ => None,
    })
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
    match read {
        Ok(Some(k)) => Ok(Described::Key(k)),
        Ok(None) => Ok(Described::Missing),
        Err(e) if e.is_denied() => Err(denied(&e, holder, at)),
        Err(e) => Err(failed(&e, holder, at)),
    }
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

/// Warnings for granted keys in another account than the role's: their
/// key policies must allow the role too, and say with which statement.
pub fn cross_account(
    grants: &KeyGrants,
    loc: &policy::Location,
    role_arn: Option<&str>,
) -> Diagnostics {
    let keys = [
        (
            grants.bucket.as_ref().map(|k| k.arn.as_str()),
            Holder::Bucket,
        ),
        (grants.failure_queue.as_deref(), Holder::FailureQueue),
        (grants.stream.as_deref(), Holder::Stream),
    ];
    let mut diags = Diagnostics::new();
    for (key, holder) in keys {
        let Some(key) = key else { continue };
        let Some(owner) = policy::location_of_arn(key) else {
            continue;
        };
        if owner.account_id == loc.account_id {
            continue;
        }
        let role = role_arn.unwrap_or("<the pipeline's role ARN>");
        let actions = match holder {
            Holder::Bucket => "\"kms:Decrypt\"".to_owned(),
            _ => "[\"kms:Decrypt\", \"kms:GenerateDataKey\"]".to_owned(),
        };
        let statement = format!(
            "{{\"Sid\": \"AllowEventpipeRole\", \"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \
             \"{role}\"}}, \"Action\": {actions}, \"Resource\": \"*\", \"Condition\": \
             {{\"StringEquals\": {{\"kms:ViaService\": \"{}.{}.amazonaws.com\"}}}}}}",
            holder.service(),
            loc.region,
        );
        diags.push(Diagnostic::warning(
            "KMS key in another account",
            format!(
                "The key that encrypts {} ({key}) belongs to account {}, not {}. policy_json \
                 grants the role {} on it, and that is not enough across accounts: the key's \
                 own policy must allow the role as well. Ask the key's owner to add: {statement}",
                holder.what(),
                owner.account_id,
                loc.account_id,
                holder.actions(),
            ),
        ));
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let role = "arn:aws:iam::111111111111:role/p-role";
        let d = cross_account(&grants, &loc(), Some(role));
        assert_eq!(d.0.len(), 1, "only the bucket's key is foreign: {d:?}");
        let text = format!("{:?}", d.0[0]);
        assert!(!d.has_errors());
        assert!(text.contains("222222222222") && text.contains(role));
        assert!(text.contains("s3.eu-west-1.amazonaws.com"));
    }
}
