//! An AWS client independent of the provider, for checking what really
//! exists in the emulator. Synchronous: each call drives its own small tokio
//! runtime, so call it from plain `#[test]` functions (not from inside an
//! async runtime).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CreateBucketConfiguration, NotificationConfiguration, PublicAccessBlockConfiguration, Tag,
};
use tokio::runtime::Runtime;

mod keys;
mod sources;

pub use keys::{BucketEncryption, KeyFacts};
pub use sources::Sources;

/// The one region the tests use.
pub const REGION: &str = "us-east-1";

/// S3, Lambda, IAM, CloudWatch Logs, Kinesis, SQS, ECR, CloudWatch, SNS and
/// KMS clients for one endpoint.
pub struct Aws {
    endpoint: String,
    runtime: Runtime,
    s3: aws_sdk_s3::Client,
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    kinesis: aws_sdk_kinesis::Client,
    sqs: aws_sdk_sqs::Client,
    ecr: aws_sdk_ecr::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    kms: aws_sdk_kms::Client,
}

impl Aws {
    /// Clients for `endpoint` with static test credentials, region
    /// us-east-1 and path-style S3. Reads nothing from the environment.
    pub fn new(endpoint: &str) -> Result<Aws> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the tokio runtime for the AWS client")?;
        let config = sdk_config(endpoint);
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Ok(Aws {
            endpoint: endpoint.to_owned(),
            runtime,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: aws_sdk_lambda::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            kinesis: aws_sdk_kinesis::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
        })
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// CloudWatch metrics and alarms.
    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cloudwatch
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.lambda
    }

    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    pub fn logs(&self) -> &aws_sdk_cloudwatchlogs::Client {
        &self.logs
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    pub fn ecr(&self) -> &aws_sdk_ecr::Client {
        &self.ecr
    }

    /// Runs any SDK future, e.g. `aws.block_on(aws.lambda().get_function().function_name("f").send())`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn bucket_names(&self) -> Result<Vec<String>> {
        let answer = sdk("ListBuckets", self.block_on(self.s3.list_buckets().send()))?;
        let mut names: Vec<String> = answer
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn create_bucket(&self, name: &str) -> Result<()> {
        let call = self.s3.create_bucket().bucket(name).send();
        sdk("CreateBucket", self.block_on(call)).map(drop)
    }

    /// Creates a bucket with `tags` in the same request
    /// (`CreateBucketConfiguration.Tags`), as S3 allows.
    pub fn create_bucket_tagged(&self, name: &str, tags: &[(&str, &str)]) -> Result<()> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
            .collect::<Result<Vec<_>, _>>()?;
        let call = self
            .s3
            .create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .set_tags(Some(tags))
                    .build(),
            )
            .send();
        sdk("CreateBucket", self.block_on(call)).map(drop)
    }

    /// Creates a bucket, then tags it (`PutBucketTagging`): a bucket whose
    /// tags moto keeps (it drops `CreateBucketConfiguration.Tags`).
    pub fn create_bucket_then_tag(&self, name: &str, tags: &[(&str, &str)]) -> Result<()> {
        self.create_bucket(name)?;
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
            .collect::<Result<Vec<_>, _>>()?;
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(tags))
            .build()?;
        let call = self
            .s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(tagging)
            .send();
        sdk("PutBucketTagging", self.block_on(call)).map(drop)
    }

    /// The bucket's tags (none when it has no tag set).
    pub fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>> {
        match self.block_on(self.s3.get_bucket_tagging().bucket(bucket).send()) {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e) if error_code(&e) == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
            Err(e) => sdk("GetBucketTagging", Err(e)),
        }
    }

    /// The bucket's public access block, if it has one.
    pub fn public_access_block(
        &self,
        bucket: &str,
    ) -> Result<Option<PublicAccessBlockConfiguration>> {
        let call = self.s3.get_public_access_block().bucket(bucket).send();
        match self.block_on(call) {
            Ok(out) => Ok(out.public_access_block_configuration().cloned()),
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
            Err(e) => sdk("GetPublicAccessBlock", Err(e)),
        }
    }

    /// The bucket's default encryption algorithms (none when it has no
    /// encryption configuration); [`Aws::bucket_default_encryption`] tells
    /// the key and Bucket Keys too.
    pub fn bucket_encryption(&self, bucket: &str) -> Result<Vec<String>> {
        let call = self.s3.get_bucket_encryption().bucket(bucket).send();
        match self.block_on(call) {
            Ok(out) => Ok(out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_owned())
                .collect()),
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                Ok(Vec::new())
            }
            Err(e) => sdk("GetBucketEncryption", Err(e)),
        }
    }

    /// The bucket policy, if it has one.
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>> {
        match self.block_on(self.s3.get_bucket_policy().bucket(bucket).send()) {
            Ok(out) => Ok(out.policy().map(str::to_owned)),
            Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
            Err(e) => sdk("GetBucketPolicy", Err(e)),
        }
    }

    /// Every object key in the bucket, sorted.
    pub fn object_keys(&self, bucket: &str) -> Result<Vec<String>> {
        let pages = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>();
        let pages = sdk("ListObjectsV2", self.block_on(pages))?;
        let mut keys: Vec<String> = pages
            .iter()
            .flat_map(|p| p.contents())
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// The bucket's whole notification configuration (functions, queues,
    /// topics). moto answers a bucket without any with an empty document
    /// the SDK cannot read; that is an empty configuration.
    pub fn notifications(&self, bucket: &str) -> Result<NotificationConfiguration> {
        let call = self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send();
        match self.block_on(call) {
            Ok(out) => Ok(NotificationConfiguration::builder()
                .set_lambda_function_configurations(out.lambda_function_configurations)
                .set_queue_configurations(out.queue_configurations)
                .set_topic_configurations(out.topic_configurations)
                .set_event_bridge_configuration(out.event_bridge_configuration)
                .build()),
            Err(e) if is_empty_document(&e) => Ok(NotificationConfiguration::builder().build()),
            Err(e) => sdk("GetBucketNotificationConfiguration", Err(e)),
        }
    }

    /// Replaces the bucket's whole notification configuration.
    pub fn put_notifications(&self, bucket: &str, cfg: NotificationConfiguration) -> Result<()> {
        let call = self
            .s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(cfg)
            .send();
        sdk("PutBucketNotificationConfiguration", self.block_on(call)).map(drop)
    }

    /// Creates an SQS queue (through SQS's query API: the tests need too
    /// few queues to carry an SQS client) and returns its ARN.
    pub fn create_queue(&self, name: &str) -> Result<String> {
        let addr: SocketAddr = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("{} is not http://IP:PORT", self.endpoint))?;
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20250101/{REGION}/sqs/aws4_request, \
             SignedHeaders=host, Signature=00"
        );
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let body = format!("Action=CreateQueue&QueueName={name}&Version=2012-11-05");
        let answer = crate::http::request_with(
            addr,
            "POST",
            "/",
            &headers,
            Some(&body),
            Duration::from_secs(10),
        )?;
        if answer.status != 200 || !answer.body.contains("<QueueUrl>") {
            return Err(anyhow!(
                "CreateQueue {name} answered {}: {}",
                answer.status,
                answer.body
            ));
        }
        Ok(format!("arn:aws:sqs:{REGION}:123456789012:{name}"))
    }

    /// Sends one message to the queue at `url`, as a failed event or a
    /// producer would leave it there.
    pub fn send_message(&self, url: &str, body: &str) -> Result<()> {
        sdk(
            "SendMessage",
            self.block_on(
                self.sqs
                    .send_message()
                    .queue_url(url)
                    .message_body(body)
                    .send(),
            ),
        )?;
        Ok(())
    }

    pub fn put_object(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> Result<()> {
        let call = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.into()))
            .send();
        sdk("PutObject", self.block_on(call)).map(drop)
    }

    /// Makes a role `name` under `path` (e.g. `/` or `/service-role/`) that
    /// `service` (e.g. `lambda.amazonaws.com`) may assume; returns its ARN.
    pub fn create_service_role(&self, name: &str, path: &str, service: &str) -> Result<String> {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole"
            }]
        });
        let call = self
            .iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust.to_string())
            .send();
        let out = sdk("CreateRole", self.block_on(call))?;
        let arn = out.role().map(|r| r.arn().to_string());
        arn.ok_or_else(|| anyhow!("CreateRole({name}) returned no role"))
    }

    pub fn put_role_policy(&self, role: &str, policy: &str, document: &str) -> Result<()> {
        let call = self
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(policy)
            .policy_document(document)
            .send();
        sdk("PutRolePolicy", self.block_on(call)).map(drop)
    }

    /// Makes a customer-managed policy and attaches it to `role`; returns
    /// its ARN.
    pub fn attach_new_policy(&self, role: &str, name: &str, document: &str) -> Result<String> {
        let call = self
            .iam
            .create_policy()
            .policy_name(name)
            .policy_document(document)
            .send();
        let out = sdk("CreatePolicy", self.block_on(call))?;
        let arn = out
            .policy()
            .and_then(|p| p.arn())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("CreatePolicy({name}) returned no ARN"))?;
        let call = self
            .iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(&arn)
            .send();
        sdk("AttachRolePolicy", self.block_on(call))?;
        Ok(arn)
    }

    /// Makes a function from a zip; returns its ARN and `CodeSha256`.
    pub fn create_function(&self, f: &NewFunction<'_>) -> Result<(String, String)> {
        use aws_sdk_lambda::primitives::Blob;
        use aws_sdk_lambda::types::{FunctionCode, Runtime};
        let call = self
            .lambda
            .create_function()
            .function_name(f.name)
            .role(f.role_arn)
            .runtime(Runtime::from(f.runtime))
            .handler(f.handler)
            .memory_size(f.memory_mb)
            .timeout(f.timeout_s)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(f.zip.to_vec()))
                    .build(),
            )
            .send();
        let out = sdk("CreateFunction", self.block_on(call))?;
        Ok((
            out.function_arn().unwrap_or_default().to_string(),
            out.code_sha256().unwrap_or_default().to_string(),
        ))
    }

    /// The function's deployed `CodeSha256`.
    pub fn code_sha256(&self, function: &str) -> Result<String> {
        let call = self.lambda.get_function().function_name(function).send();
        let out = sdk("GetFunction", self.block_on(call))?;
        out.configuration()
            .and_then(|c| c.code_sha256())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("GetFunction({function}) returned no CodeSha256"))
    }

    /// Lets S3 invoke `function` for events from `source_arn`, as
    /// `aws lambda add-permission` does (no SourceAccount).
    pub fn add_s3_invoke_permission(
        &self,
        function: &str,
        sid: &str,
        source_arn: &str,
    ) -> Result<()> {
        let call = self
            .lambda
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal("s3.amazonaws.com")
            .source_arn(source_arn)
            .send();
        sdk("AddPermission", self.block_on(call)).map(drop)
    }

    /// Sets the bucket's whole notification configuration to one
    /// configuration `id`, to `target`, for `events` under `prefix` and
    /// `suffix`.
    pub fn put_notification(
        &self,
        bucket: &str,
        id: &str,
        target: Notify<'_>,
        events: &[&str],
        prefix: &str,
        suffix: &str,
    ) -> Result<()> {
        use aws_sdk_s3::types::{
            Event, LambdaFunctionConfiguration, NotificationConfiguration, QueueConfiguration,
        };
        let events: Vec<Event> = events.iter().map(|e| Event::from(*e)).collect();
        let config = NotificationConfiguration::builder();
        let config = match target {
            Notify::Function(arn) => config.lambda_function_configurations(
                LambdaFunctionConfiguration::builder()
                    .id(id)
                    .lambda_function_arn(arn)
                    .set_events(Some(events))
                    .filter(key_filter(prefix, suffix))
                    .build()
                    .context("building the notification configuration")?,
            ),
            Notify::Queue(arn) => config.queue_configurations(
                QueueConfiguration::builder()
                    .id(id)
                    .queue_arn(arn)
                    .set_events(Some(events))
                    .filter(key_filter(prefix, suffix))
                    .build()
                    .context("building the notification configuration")?,
            ),
        };
        self.put_notifications(bucket, config.build())
    }

    /// Sets the access policy of queue `name`.
    pub fn set_queue_policy(&self, name: &str, policy: &str) -> Result<()> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let url = sdk(
            "GetQueueUrl",
            self.block_on(self.sqs.get_queue_url().queue_name(name).send()),
        )?
        .queue_url
        .ok_or_else(|| anyhow!("GetQueueUrl({name}) gave no URL"))?;
        let call = self
            .sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::Policy, policy)
            .send();
        sdk("SetQueueAttributes", self.block_on(call)).map(drop)
    }

    /// Maps the queue `queue_arn` to `function` in batches of `batch`;
    /// returns the mapping's UUID.
    pub fn create_queue_mapping(
        &self,
        queue_arn: &str,
        function: &str,
        batch: i32,
    ) -> Result<String> {
        let call = self
            .lambda
            .create_event_source_mapping()
            .event_source_arn(queue_arn)
            .function_name(function)
            .batch_size(batch)
            .send();
        let out = sdk("CreateEventSourceMapping", self.block_on(call))?;
        out.uuid
            .ok_or_else(|| anyhow!("CreateEventSourceMapping gave no UUID"))
    }

    pub fn function_names(&self) -> Result<Vec<String>> {
        let pages = self.lambda.list_functions().into_paginator().items().send();
        let functions = sdk(
            "ListFunctions",
            self.block_on(pages.collect::<Result<Vec<_>, _>>()),
        )?;
        let mut names: Vec<String> = functions
            .iter()
            .filter_map(|f| f.function_name().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn roles(&self) -> Result<Vec<RoleSummary>> {
        let pages = self.iam.list_roles().into_paginator().items().send();
        let roles = sdk(
            "ListRoles",
            self.block_on(pages.collect::<Result<Vec<_>, _>>()),
        )?;
        let mut summaries = roles
            .iter()
            .map(|role| self.role_summary(role.role_name()))
            .collect::<Result<Vec<_>>>()?;
        summaries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(summaries)
    }

    fn role_summary(&self, name: &str) -> Result<RoleSummary> {
        let inline = self.iam.list_role_policies().role_name(name);
        let inline = inline.into_paginator().items().send();
        let mut inline_policies = sdk(
            "ListRolePolicies",
            self.block_on(inline.collect::<Result<Vec<_>, _>>()),
        )?;
        inline_policies.sort();
        let attached = self.iam.list_attached_role_policies().role_name(name);
        let attached = attached.into_paginator().items().send();
        let attached = sdk(
            "ListAttachedRolePolicies",
            self.block_on(attached.collect::<Result<Vec<_>, _>>()),
        )?;
        let mut attached_policies: Vec<String> = attached
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect();
        attached_policies.sort();
        Ok(RoleSummary {
            name: name.to_string(),
            inline_policies,
            attached_policies,
        })
    }

    /// The role's trust policy as JSON (IAM returns it URL-encoded).
    pub fn role_trust_policy(&self, role: &str) -> Result<serde_json::Value> {
        let answer = sdk(
            "GetRole",
            self.block_on(self.iam.get_role().role_name(role).send()),
        )?;
        let document = answer
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .ok_or_else(|| anyhow!("role {role} has no trust policy"))?;
        policy_json(document)
    }

    /// One inline policy of a role as JSON.
    pub fn role_inline_policy(&self, role: &str, policy: &str) -> Result<serde_json::Value> {
        let call = self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy);
        let answer = sdk("GetRolePolicy", self.block_on(call.send()))?;
        policy_json(answer.policy_document())
    }

    pub fn log_group_names(&self) -> Result<Vec<String>> {
        let pages = self
            .logs
            .describe_log_groups()
            .into_paginator()
            .items()
            .send();
        let groups = sdk(
            "DescribeLogGroups",
            self.block_on(pages.collect::<Result<Vec<_>, _>>()),
        )?;
        let mut names: Vec<String> = groups
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Log streams in a group; moto writes one per delivered S3 notification.
    /// A group that does not exist has none.
    pub fn log_stream_names(&self, group: &str) -> Result<Vec<String>> {
        if !self.log_group_names()?.iter().any(|g| g == group) {
            return Ok(Vec::new());
        }
        let call = self.logs.describe_log_streams().log_group_name(group);
        match self.block_on(call.send()) {
            Ok(out) => Ok(out
                .log_streams()
                .iter()
                .filter_map(|s| s.log_stream_name().map(str::to_string))
                .collect()),
            // moto writes event timestamps as JSON floats, which the SDK
            // refuses to read as the longs the API defines; read the names
            // from the answer's body instead.
            Err(e) => {
                let body = e
                    .raw_response()
                    .filter(|r| r.status().as_u16() == 200)
                    .and_then(|r| r.body().bytes())
                    .map(<[u8]>::to_vec);
                let Some(body) = body else {
                    return sdk("DescribeLogStreams", Err(e));
                };
                let doc: serde_json::Value =
                    serde_json::from_slice(&body).context("DescribeLogStreams body")?;
                Ok(doc["logStreams"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s["logStreamName"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default())
            }
        }
    }

    /// The URLs of every SQS queue, sorted.
    pub fn queue_urls(&self) -> Result<Vec<String>> {
        let pages = self.sqs.list_queues().into_paginator().items().send();
        let mut urls = sdk(
            "ListQueues",
            self.block_on(pages.collect::<Result<Vec<_>, _>>()),
        )?;
        urls.sort();
        Ok(urls)
    }

    /// The names of every SQS queue (the last part of each URL), sorted.
    pub fn queue_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .queue_urls()?
            .iter()
            .map(|u| u.rsplit('/').next().unwrap_or(u).to_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every bucket, role, function, log group, stream, queue, event
    /// source mapping and ECR repository in the region.
    pub fn list_everything(&self) -> Result<Inventory> {
        Ok(Inventory {
            buckets: self.bucket_names()?,
            roles: self.roles()?,
            functions: self.function_names()?,
            log_groups: self.log_group_names()?,
            queues: self.queue_names()?,
            sources: self.sources()?,
            repositories: self.repository_names()?,
            alarms: self.alarm_names()?,
            topics: self.topic_arns()?,
        })
    }
}

/// CloudWatch alarms and SNS topics, read back.
impl Aws {
    /// The names of every metric alarm, sorted.
    pub fn alarm_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .metric_alarms()?
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every metric alarm, as CloudWatch describes it.
    pub fn metric_alarms(&self) -> Result<Vec<aws_sdk_cloudwatch::types::MetricAlarm>> {
        let call = self.cloudwatch.describe_alarms().max_records(100).send();
        Ok(sdk("DescribeAlarms", self.block_on(call))?
            .metric_alarms()
            .to_vec())
    }

    /// The metric alarm `name`, or `None`.
    pub fn metric_alarm(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_cloudwatch::types::MetricAlarm>> {
        let call = self.cloudwatch.describe_alarms().alarm_names(name).send();
        Ok(sdk("DescribeAlarms", self.block_on(call))?
            .metric_alarms()
            .first()
            .cloned())
    }

    /// The tags of a CloudWatch resource.
    pub fn alarm_tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        let call = self
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(arn)
            .send();
        Ok(sdk("ListTagsForResource", self.block_on(call))?
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// The ARNs of every SNS topic, sorted.
    pub fn topic_arns(&self) -> Result<Vec<String>> {
        let call = self.sns.list_topics().send();
        let mut arns: Vec<String> = sdk("ListTopics", self.block_on(call))?
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn().map(str::to_owned))
            .collect();
        arns.sort();
        Ok(arns)
    }

    /// The tags of an SNS topic.
    pub fn topic_tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        let call = self.sns.list_tags_for_resource().resource_arn(arn).send();
        Ok(sdk("ListTagsForResource", self.block_on(call))?
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect())
    }

    /// A topic's subscriptions as (protocol, endpoint, subscription ARN).
    pub fn topic_subscriptions(&self, arn: &str) -> Result<Vec<(String, String, String)>> {
        let call = self.sns.list_subscriptions_by_topic().topic_arn(arn).send();
        Ok(sdk("ListSubscriptionsByTopic", self.block_on(call))?
            .subscriptions()
            .iter()
            .map(|s| {
                (
                    s.protocol().unwrap_or_default().to_owned(),
                    s.endpoint().unwrap_or_default().to_owned(),
                    s.subscription_arn().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }
}

/// ECR, read back: repositories, their documents and images.
impl Aws {
    /// The names of every repository in the registry, sorted.
    pub fn repository_names(&self) -> Result<Vec<String>> {
        let call = self.ecr.describe_repositories().send();
        let out = sdk("DescribeRepositories", self.block_on(call))?;
        let mut names: Vec<String> = out
            .repositories()
            .iter()
            .filter_map(|r| r.repository_name().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The repository `name` as ECR describes it, or `None`.
    pub fn repository(&self, name: &str) -> Result<Option<RepositoryFacts>> {
        let call = self
            .ecr
            .describe_repositories()
            .repository_names(name)
            .send();
        let out = match self.block_on(call) {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => return Ok(None),
            Err(e) => return sdk("DescribeRepositories", Err(e)),
        };
        let Some(r) = out.repositories().first() else {
            return Ok(None);
        };
        let arn = r.repository_arn().unwrap_or_default().to_owned();
        let tags = sdk(
            "ListTagsForResource",
            self.block_on(self.ecr.list_tags_for_resource().resource_arn(&arn).send()),
        )?
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
        Ok(Some(RepositoryFacts {
            arn,
            uri: r.repository_uri().unwrap_or_default().to_owned(),
            scan_on_push: r
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push()),
            tags,
        }))
    }

    /// The repository's lifecycle policy text, or `None` when it has none.
    pub fn lifecycle_policy(&self, repository: &str) -> Result<Option<String>> {
        let call = self
            .ecr
            .get_lifecycle_policy()
            .repository_name(repository)
            .send();
        match self.block_on(call) {
            Ok(out) => Ok(out.lifecycle_policy_text().map(str::to_owned)),
            Err(e) if error_code(&e) == Some("LifecyclePolicyNotFoundException") => Ok(None),
            Err(e) => sdk("GetLifecyclePolicy", Err(e)),
        }
    }

    /// The repository's policy text, or `None` when it has none.
    pub fn repository_policy(&self, repository: &str) -> Result<Option<String>> {
        let call = self
            .ecr
            .get_repository_policy()
            .repository_name(repository)
            .send();
        match self.block_on(call) {
            Ok(out) => Ok(out.policy_text().map(str::to_owned)),
            Err(e) if error_code(&e) == Some("RepositoryPolicyNotFoundException") => Ok(None),
            Err(e) => sdk("GetRepositoryPolicy", Err(e)),
        }
    }

    /// Stores an image manifest in the repository with `tag` (ECR's
    /// `PutImage`; moto keeps the manifest, it has no blobs); returns the
    /// digest ECR gives it.
    pub fn put_image(&self, repository: &str, manifest: &str, tag: &str) -> Result<String> {
        let call = self
            .ecr
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest)
            .image_tag(tag)
            .send();
        let out = sdk("PutImage", self.block_on(call))?;
        out.image()
            .and_then(|i| i.image_id())
            .and_then(|id| id.image_digest())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("PutImage({repository}) returned no digest"))
    }

    /// The repository's images as (digest, tag) pairs, sorted.
    pub fn images(&self, repository: &str) -> Result<Vec<(String, Option<String>)>> {
        let call = self.ecr.list_images().repository_name(repository).send();
        let out = sdk("ListImages", self.block_on(call))?;
        let mut images: Vec<(String, Option<String>)> = out
            .image_ids()
            .iter()
            .map(|i| {
                (
                    i.image_digest().unwrap_or_default().to_owned(),
                    i.image_tag().map(str::to_owned),
                )
            })
            .collect();
        images.sort();
        Ok(images)
    }

    /// What `GetFunction` says of a function's code.
    pub fn function_code(&self, function: &str) -> Result<FunctionCodeFacts> {
        let call = self.lambda.get_function().function_name(function).send();
        let out = sdk("GetFunction", self.block_on(call))?;
        let config = out
            .configuration()
            .ok_or_else(|| anyhow!("GetFunction({function}) returned no configuration"))?;
        let code = out.code();
        Ok(FunctionCodeFacts {
            package_type: config
                .package_type()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            repository_type: code.and_then(|c| c.repository_type()).map(str::to_owned),
            image_uri: code.and_then(|c| c.image_uri()).map(str::to_owned),
            resolved_image_uri: code.and_then(|c| c.resolved_image_uri()).map(str::to_owned),
            code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
            image_command: config
                .image_config_response()
                .and_then(|r| r.image_config())
                .map(|c| c.command().to_vec())
                .unwrap_or_default(),
        })
    }
}

/// A repository as the independent client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryFacts {
    pub arn: String,
    pub uri: String,
    pub scan_on_push: bool,
    pub tags: BTreeMap<String, String>,
}

/// A function's code as `GetFunction` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCodeFacts {
    /// `Zip` or `Image`.
    pub package_type: String,
    /// `Code.RepositoryType`: `S3` for a zip, `ECR` for an image.
    pub repository_type: Option<String>,
    pub image_uri: Option<String>,
    pub resolved_image_uri: Option<String>,
    pub code_sha256: String,
    pub image_command: Vec<String>,
}

fn sdk_config(endpoint: &str) -> SdkConfig {
    let credentials = Credentials::new("test", "test", None, None, "eventpipe-tests");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .build()
}

/// Where a bucket notification sends its events.
#[derive(Clone, Copy, Debug)]
pub enum Notify<'a> {
    /// A Lambda function, by ARN.
    Function(&'a str),
    /// An SQS queue, by ARN.
    Queue(&'a str),
}

/// A notification's key filter on `prefix` and `suffix`.
fn key_filter(prefix: &str, suffix: &str) -> aws_sdk_s3::types::NotificationConfigurationFilter {
    use aws_sdk_s3::types::{
        FilterRule, FilterRuleName, NotificationConfigurationFilter, S3KeyFilter,
    };
    let rule =
        |name: FilterRuleName, value: &str| FilterRule::builder().name(name).value(value).build();
    NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(rule(FilterRuleName::Prefix, prefix))
                .filter_rules(rule(FilterRuleName::Suffix, suffix))
                .build(),
        )
        .build()
}

/// Parses a policy document that may be URL-encoded (as IAM returns them).
pub fn policy_json(document: &str) -> Result<serde_json::Value> {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).with_context(|| format!("policy is not JSON: {decoded}"))
}

/// The AWS error code of a failed call, if the service sent one.
fn error_code<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<&str> {
    e.code()
}

/// A 200 answer whose body is one empty element: moto's way of saying a
/// bucket has no notification configuration.
fn is_empty_document<E>(e: &SdkError<E, HttpResponse>) -> bool {
    let Some(raw) = e.raw_response() else {
        return false;
    };
    let body = raw
        .body()
        .bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default();
    let body = body.trim();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim(),
        None => body,
    };
    raw.status().as_u16() == 200
        && body.starts_with('<')
        && body.ends_with("/>")
        && body.matches('<').count() == 1
}

/// Adds the operation name and the SDK's full error chain to an error.
fn sdk<T, E: std::error::Error>(operation: &str, result: Result<T, E>) -> Result<T> {
    result.map_err(|e| anyhow!("{operation} failed: {}", DisplayErrorContext(&e)))
}

/// What [`Aws::create_function`] makes.
#[derive(Clone, Copy, Debug)]
pub struct NewFunction<'a> {
    pub name: &'a str,
    pub role_arn: &'a str,
    pub runtime: &'a str,
    pub handler: &'a str,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub zip: &'a [u8],
}

/// An IAM role with the names of its inline policies and the ARNs of its
/// attached policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSummary {
    pub name: String,
    pub inline_policies: Vec<String>,
    pub attached_policies: Vec<String>,
}

/// What exists in the emulator, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub buckets: Vec<String>,
    pub roles: Vec<RoleSummary>,
    pub functions: Vec<String>,
    pub log_groups: Vec<String>,
    /// SQS queue names.
    pub queues: Vec<String>,
    /// Kinesis streams, SQS queues and event source mappings.
    pub sources: Sources,
    /// ECR repository names.
    pub repositories: Vec<String>,
    /// CloudWatch metric alarm names.
    pub alarms: Vec<String>,
    /// SNS topic ARNs.
    pub topics: Vec<String>,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
            && self.roles.is_empty()
            && self.functions.is_empty()
            && self.log_groups.is_empty()
            && self.queues.is_empty()
            && self.sources.is_empty()
            && self.repositories.is_empty()
            && self.alarms.is_empty()
            && self.topics.is_empty()
    }

    /// Drops the `/aws/lambda/<function>` log groups that moto itself creates
    /// when it delivers a notification to a function.
    pub fn without_lambda_log_groups(mut self) -> Inventory {
        self.log_groups.retain(|g| !g.starts_with("/aws/lambda/"));
        self
    }
}

impl fmt::Display for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "(nothing)");
        }
        writeln!(f, "buckets: {:?}", self.buckets)?;
        writeln!(f, "roles:")?;
        for role in &self.roles {
            writeln!(
                f,
                "  {} inline={:?} attached={:?}",
                role.name, role.inline_policies, role.attached_policies
            )?;
        }
        writeln!(f, "functions: {:?}", self.functions)?;
        writeln!(f, "log groups: {:?}", self.log_groups)?;
        write!(f, "queues: {:?}", self.queues)?;
        if !self.repositories.is_empty() {
            write!(f, "\nrepositories: {:?}", self.repositories)?;
        }
        if !self.alarms.is_empty() {
            write!(f, "\nalarms: {:?}", self.alarms)?;
        }
        if !self.topics.is_empty() {
            write!(f, "\ntopics: {:?}", self.topics)?;
        }
        if !self.sources.is_empty() {
            write!(f, "\n{}", self.sources)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decode_whether_or_not_url_encoded() {
        let plain = r#"{"Version":"2012-10-17"}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(policy_json(plain).unwrap()["Version"], "2012-10-17");
        assert_eq!(policy_json(encoded).unwrap()["Version"], "2012-10-17");
    }

    #[test]
    fn the_inventory_can_ignore_moto_s_lambda_log_groups() {
        let inventory = Inventory {
            log_groups: vec!["/aws/lambda/f".into()],
            ..Inventory::default()
        };
        assert!(!inventory.is_empty());
        assert!(inventory.without_lambda_log_groups().is_empty());
    }
}
