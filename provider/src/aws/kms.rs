//! KMS: what a key id, alias or ARN names, and who manages that key.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::KeyManagerType;

use super::AwsError;
use super::error::{err, found};

/// A key as `DescribeKey` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key's own ARN (`…:key/<id>`), whatever named it.
    pub arn: String,
    /// A customer-managed key; an AWS-managed one (`aws/s3`, …) is `false`.
    pub customer_managed: bool,
}

/// The key `key_id` names (a key id, key ARN, alias name or alias ARN), or
/// `None` when there is no such key.
pub async fn describe_key(kms: &Client, key_id: &str) -> Result<Option<Key>, AwsError> {
    let r = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(err("kms:DescribeKey"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let meta = out.key_metadata().ok_or_else(|| {
        AwsError::Unexpected(format!("DescribeKey({key_id}) returned no key metadata"))
    })?;
    let arn = meta.arn().ok_or_else(|| {
        AwsError::Unexpected(format!("DescribeKey({key_id}) returned no key ARN"))
    })?;
    Ok(Some(Key {
        arn: arn.to_owned(),
        customer_managed: meta.key_manager() != Some(&KeyManagerType::Aws),
    }))
}
