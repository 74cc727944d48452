//! KMS keys and what is encrypted with them: the customer-managed keys and
//! aliases a test makes, SSE-KMS bucket encryption, and queues and streams
//! encrypted with a key. Part of [`Aws`].

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_kinesis::types::{EncryptionType, StreamStatus};
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{Aws, REGION, error_code, sdk};

/// A bucket's default encryption as `GetBucketEncryption` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// `KMSMasterKeyID` as the bucket holds it (an id, key ARN, alias or
    /// alias ARN, as it was given); `None` for SSE-S3, or SSE-KMS with the
    /// AWS-managed `aws/s3` key.
    pub kms_key: Option<String>,
    pub bucket_key_enabled: bool,
}

/// A KMS key as `DescribeKey` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    pub key_id: String,
    pub arn: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
}

impl Aws {
    pub fn kms(&self) -> &aws_sdk_kms::Client {
        &self.kms
    }

    /// Makes a customer-managed symmetric key; returns its id and ARN.
    pub fn create_kms_key(&self) -> Result<(String, String)> {
        let call = self
            .kms
            .create_key()
            .description("made by an eventpipe test")
            .send();
        let out = sdk("CreateKey", self.block_on(call))?;
        let meta = out
            .key_metadata()
            .ok_or_else(|| anyhow!("CreateKey returned no key metadata"))?;
        let arn = meta
            .arn()
            .ok_or_else(|| anyhow!("CreateKey returned no ARN"))?;
        Ok((meta.key_id().to_owned(), arn.to_owned()))
    }

    /// Points alias `name` (`alias/...`) at `key_id`; returns the alias ARN.
    pub fn create_kms_alias(&self, name: &str, key_id: &str) -> Result<String> {
        let call = self
            .kms
            .create_alias()
            .alias_name(name)
            .target_key_id(key_id)
            .send();
        sdk("CreateAlias", self.block_on(call))?;
        Ok(format!("arn:aws:kms:{REGION}:123456789012:{name}"))
    }

    /// `DescribeKey` of `key` (id, ARN, alias or alias ARN), straight from
    /// the emulator.
    pub fn describe_kms_key(&self, key: &str) -> Result<KeyFacts> {
        let call = self.kms.describe_key().key_id(key).send();
        let out = sdk("DescribeKey", self.block_on(call))?;
        let meta = out
            .key_metadata()
            .ok_or_else(|| anyhow!("DescribeKey({key}) returned no key metadata"))?;
        Ok(KeyFacts {
            key_id: meta.key_id().to_owned(),
            arn: meta.arn().unwrap_or_default().to_owned(),
            key_manager: meta
                .key_manager()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        })
    }

    /// Sets the bucket's default encryption to SSE-KMS with `key` (an id,
    /// key ARN, alias or alias ARN, stored as given) and S3 Bucket Keys on
    /// or off.
    pub fn put_bucket_kms_encryption(
        &self,
        bucket: &str,
        key: &str,
        bucket_key: bool,
    ) -> Result<()> {
        self.put_bucket_default_encryption(
            bucket,
            ServerSideEncryption::AwsKms,
            Some(key),
            bucket_key,
        )
    }

    /// Sets the bucket's default encryption: `algorithm` with `key` (none:
    /// the AWS-managed key for SSE-KMS, or SSE-S3).
    pub fn put_bucket_default_encryption(
        &self,
        bucket: &str,
        algorithm: ServerSideEncryption,
        key: Option<&str>,
        bucket_key: bool,
    ) -> Result<()> {
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(algorithm)
            .set_kms_master_key_id(key.map(str::to_owned))
            .build()
            .context("building the default encryption")?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default)
            .bucket_key_enabled(bucket_key)
            .build();
        let config = ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .context("building the encryption configuration")?;
        let call = self
            .s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(config)
            .send();
        sdk("PutBucketEncryption", self.block_on(call)).map(drop)
    }

    /// The bucket's default encryption (its first rule), or `None` when
    /// it has no encryption configuration.
    pub fn bucket_default_encryption(&self, bucket: &str) -> Result<Option<BucketEncryption>> {
        let call = self.s3.get_bucket_encryption().bucket(bucket).send();
        let out = match self.block_on(call) {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                return Ok(None);
            }
            Err(e) => return sdk("GetBucketEncryption", Err(e)),
        };
        let rule = out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first());
        let Some(rule) = rule else {
            return Ok(None);
        };
        let default = rule.apply_server_side_encryption_by_default();
        Ok(Some(BucketEncryption {
            algorithm: default
                .map(|d| d.sse_algorithm().as_str().to_owned())
                .unwrap_or_default(),
            kms_key: default
                .and_then(|d| d.kms_master_key_id())
                .map(str::to_owned),
            bucket_key_enabled: rule.bucket_key_enabled().unwrap_or(false),
        }))
    }

    /// Makes queue `name` encrypted with `key` (`KmsMasterKeyId`: an id,
    /// ARN, alias or alias ARN); returns its ARN.
    pub fn create_queue_with_kms(&self, name: &str, key: &str) -> Result<String> {
        let call = self
            .sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::KmsMasterKeyId, key)
            .send();
        sdk("CreateQueue", self.block_on(call))?;
        Ok(format!("arn:aws:sqs:{REGION}:123456789012:{name}"))
    }

    /// Deletes queue `name`.
    pub fn delete_queue(&self, name: &str) -> Result<()> {
        let url = self
            .queue_url(name)?
            .ok_or_else(|| anyhow!("no queue {name}"))?;
        let call = self.sqs.delete_queue().queue_url(url).send();
        sdk("DeleteQueue", self.block_on(call)).map(drop)
    }

    /// Makes a one-shard stream encrypted with `key` (`StartStreamEncryption`
    /// with KMS) and waits until it is active; returns its ARN.
    pub fn create_stream_with_kms(&self, name: &str, key: &str) -> Result<String> {
        let arn = self.create_stream(name, 1)?;
        let call = self
            .kinesis
            .start_stream_encryption()
            .stream_name(name)
            .encryption_type(EncryptionType::Kms)
            .key_id(key)
            .send();
        sdk("StartStreamEncryption", self.block_on(call))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.stream_summary(name)?;
            if s.stream_status() == &StreamStatus::Active
                && s.encryption_type() == Some(&EncryptionType::Kms)
            {
                return Ok(arn);
            }
            if Instant::now() > deadline {
                bail!("stream {name} did not become active and encrypted");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}
