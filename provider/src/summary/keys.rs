//! KMS keys in a review: what each of the provider's key grants in
//! `policy_json` is for (by its statement id), and which key a pipeline's
//! bucket is encrypted with, for `--expect-kms-key`.
//!
//! The bucket's key is read from the policy, not from AWS: the plan grants
//! `kms:Decrypt` on it in the `DecryptTriggeringObjects` statement, for an
//! existing bucket (what `GetBucketEncryption` found) and an owned one
//! (`bucket_encryption`) alike. No such statement means no customer key:
//! SSE-S3, the AWS-managed `aws/s3` key, or a look the plan was denied.

use std::fmt;

use serde_json::Value as Json;

use super::iam;
use super::plan_json::{ResourceChange, marked};
use super::sections::{a, get};
use crate::pipeline::state::attr;

/// `kms:Decrypt` on the bucket's key, for the objects the triggers read.
pub const DECRYPT_TRIGGERING_OBJECTS: &str = "DecryptTriggeringObjects";
/// `kms:GenerateDataKey` on the bucket's key, for results under
/// `output_prefix`.
pub const ENCRYPT_RESULTS: &str = "EncryptResults";
/// The failure queue's key, for the failed events Lambda sends to it.
pub const ENCRYPT_FAILED_EVENTS: &str = "EncryptFailedEvents";
/// The stream's key, for the records the event source mapping reads (and,
/// with `allow_put_records`, those the function writes).
pub const DECRYPT_STREAM: &str = "DecryptStream";

/// What a key grant of the provider's is for, by its statement id.
pub fn purpose(sid: &str) -> Option<&'static str> {
    Some(match sid {
        DECRYPT_TRIGGERING_OBJECTS => "the bucket's key: objects the triggers read, via S3",
        ENCRYPT_RESULTS => "the bucket's key: results written under output_prefix, via S3",
        ENCRYPT_FAILED_EVENTS => "the failure queue's key: failed events sent to it, via SQS",
        DECRYPT_STREAM => "the stream's key: records the function reads (or writes), via Kinesis",
        _ => return None,
    })
}

/// The key a pipeline's bucket is encrypted with, as its new policy says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketKey {
    /// No `DecryptTriggeringObjects` statement.
    None,
    /// The statement's `Resource`: the key's ARN.
    Keys(Vec<String>),
    /// `policy_json` is known only after apply.
    Unknown,
    /// `policy_json` is not a policy document.
    Unreadable,
}

impl BucketKey {
    /// Whether it is one of `expected`.
    pub fn is_one_of(&self, expected: &[String]) -> bool {
        match self {
            BucketKey::Keys(keys) => keys.iter().any(|k| expected.contains(k)),
            _ => false,
        }
    }
}

impl fmt::Display for BucketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketKey::None => write!(
                f,
                "none: no customer-managed key is granted, so the bucket is SSE-S3 or under \
                 the AWS-managed aws/s3 key, or the plan could not read its encryption"
            ),
            BucketKey::Keys(keys) => write!(f, "{}", keys.join(", ")),
            BucketKey::Unknown => write!(f, "not known until apply"),
            BucketKey::Unreadable => write!(f, "policy_json cannot be read"),
        }
    }
}

/// The key of the bucket of `c`'s new pipeline (`after`).
pub fn bucket_key(c: &ResourceChange) -> BucketKey {
    let p = [a(attr::POLICY_JSON)];
    if marked(&c.after_unknown, &p) {
        return BucketKey::Unknown;
    }
    let text = get(c.after.as_ref(), &p).and_then(Json::as_str);
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return BucketKey::None;
    };
    let Ok(policy) = iam::parse(text) else {
        return BucketKey::Unreadable;
    };
    let keys: Vec<String> = policy
        .statements
        .iter()
        .filter(|s| s.allow && s.sid == DECRYPT_TRIGGERING_OBJECTS)
        .flat_map(|s| s.resources.iter().cloned())
        .collect();
    if keys.is_empty() {
        BucketKey::None
    } else {
        BucketKey::Keys(keys)
    }
}
