//! The baselines that call AWS directly with the same Rust SDK the provider
//! uses: a script making the minimal calls one after another, each timed;
//! and the provider's own create of one pipeline, driven in-process through
//! the same entry points the gRPC service calls (configure, plan, apply).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use eventpipe::pipeline::{package, source};
use eventpipe::provider::{self, EventpipeProvider as Provider};
use tfsdk::Provider as _;
use tfsdk::value::{Number, Value};
use tokio_util::sync::CancellationToken;

pub const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// SDK clients for one endpoint, configured like the provider's.
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    pub fn new(endpoint: &str) -> Clients {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "bench",
            )))
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
        }
    }
}

/// Latency of each call of one sequence, in order.
#[derive(Debug, Default)]
pub struct CallTimes(pub Vec<(&'static str, Duration)>);

impl CallTimes {
    pub fn total(&self) -> Duration {
        self.0.iter().map(|(_, d)| *d).sum()
    }

    pub fn sum_of(&self, ops: &[&str]) -> Duration {
        self.0
            .iter()
            .filter(|(op, _)| ops.contains(op))
            .map(|(_, d)| *d)
            .sum()
    }
}

/// What a refresh minimally needs to see of one pipeline, read one call
/// after another: one call for each part or setting the pipeline manages
/// and can drift: bucket tags, bucket policy, bucket encryption,
/// notifications, role, the role's inline policy, the function
/// (configuration and tags in one call), its resource policy, and its log
/// group (retention) with the group's tags, which `DescribeLogGroups` does
/// not return. Missing parts (e.g. no bucket policy) are answers, not
/// failures.
pub async fn read_pipeline(c: &Clients, name: &str, bucket: &str) -> Result<usize> {
    let role = format!("{name}-role");
    let group = format!("/aws/lambda/{name}");
    let _ = c.s3.get_bucket_tagging().bucket(bucket).send().await;
    let _ = c.s3.get_bucket_policy().bucket(bucket).send().await;
    let _ = c.s3.get_bucket_encryption().bucket(bucket).send().await;
    c.s3.get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .context("GetBucketNotificationConfiguration")?;
    c.iam
        .get_role()
        .role_name(&role)
        .send()
        .await
        .context("GetRole")?;
    c.iam
        .get_role_policy()
        .role_name(&role)
        .policy_name("eventpipe")
        .send()
        .await
        .context("GetRolePolicy")?;
    c.lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .context("GetFunction")?;
    c.lambda
        .get_policy()
        .function_name(name)
        .send()
        .await
        .context("GetPolicy")?;
    // DescribeLogGroups, then ListTagsForResource on the group it found:
    // the provider's own wrapper makes exactly those two calls.
    eventpipe::aws::logs::log_group(&c.logs, &group)
        .await
        .context("the log group")?
        .with_context(|| format!("no log group {group}"))?;
    Ok(10)
}

/// One call (or the packaging) of a create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    CreateBucket,
    TagBucket,
    BlockPublicAccess,
    EncryptBucket,
    CreateRole,
    PutRolePolicy,
    Package,
    CreateFunction,
    AddPermission,
    PutNotification,
}

impl Step {
    /// Every step of a create, in an order that respects the dependencies.
    pub const ALL: [Step; 10] = [
        Step::CreateBucket,
        Step::TagBucket,
        Step::BlockPublicAccess,
        Step::EncryptBucket,
        Step::CreateRole,
        Step::PutRolePolicy,
        Step::Package,
        Step::CreateFunction,
        Step::AddPermission,
        Step::PutNotification,
    ];

    pub fn op(self) -> &'static str {
        match self {
            Step::CreateBucket => "s3:CreateBucket",
            Step::TagBucket => "s3:PutBucketTagging",
            Step::BlockPublicAccess => "s3:PutPublicAccessBlock",
            Step::EncryptBucket => "s3:PutBucketEncryption",
            Step::CreateRole => "iam:CreateRole",
            Step::PutRolePolicy => "iam:PutRolePolicy",
            Step::Package => "zip (scan + build)",
            Step::CreateFunction => "lambda:CreateFunction",
            Step::AddPermission => "lambda:AddPermission",
            Step::PutNotification => "s3:PutBucketNotificationConfiguration",
        }
    }
}

impl CallTimes {
    fn of(&self, step: Step) -> Duration {
        self.sum_of(&[step.op()])
    }
}

/// The lower bound of one create from its call latencies, following the
/// dependencies: the bucket settings need the bucket, and one after another
/// (S3 refuses concurrent configuration changes of one bucket with
/// `OperationAborted`); the function needs the role and the package; the
/// permission needs the function; the notification needs the bucket and
/// the permission (S3 checks it may invoke the function); the role's
/// policy needs the role.
pub fn critical_path(t: &CallTimes) -> Duration {
    use Step::*;
    let bucket =
        t.of(CreateBucket) + t.of(TagBucket) + t.of(BlockPublicAccess) + t.of(EncryptBucket);
    let permission =
        t.of(CreateRole).max(t.of(Package)) + t.of(CreateFunction) + t.of(AddPermission);
    let policy = t.of(CreateRole) + t.of(PutRolePolicy);
    (bucket.max(permission) + t.of(PutNotification)).max(policy)
}

/// Creates one pipeline with the minimal calls, one after another, as a
/// careful script would: the same parts and settings as the provider makes
/// for the bench configuration (no TLS-only policy), including packaging.
pub async fn create_pipeline(c: &Clients, name: &str, source_dir: &Path) -> Result<CallTimes> {
    let mut t = CallTimes::default();
    for s in Step::ALL {
        let took = step(c, name, source_dir, s).await?;
        t.0.push((s.op(), took));
    }
    Ok(t)
}

/// The same calls, each as soon as what it needs exists: the schedule
/// whose length is [`critical_path`], as far as the emulator allows.
pub async fn create_pipeline_parallel(c: &Clients, name: &str, source_dir: &Path) -> Result<()> {
    use Step::*;
    let run = |s| step(c, name, source_dir, s);
    let bucket = async {
        for s in [CreateBucket, TagBucket, BlockPublicAccess, EncryptBucket] {
            run(s).await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let role = async {
        tokio::try_join!(run(CreateRole), run(Package))?;
        let function = async {
            run(CreateFunction).await?;
            run(AddPermission).await
        };
        tokio::try_join!(run(PutRolePolicy), function)?;
        Ok(())
    };
    tokio::try_join!(bucket, role)?;
    run(PutNotification).await?;
    Ok(())
}

fn bucket_of(name: &str) -> String {
    format!("{name}-direct")
}

async fn sent<T, E: std::fmt::Debug>(
    op: &'static str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<()> {
    fut.await
        .map(drop)
        .map_err(|e| anyhow::anyhow!("{op}: {e:?}"))
}

/// Runs one step and returns how long it took.
async fn step(c: &Clients, name: &str, source_dir: &Path, s: Step) -> Result<Duration> {
    let bucket = bucket_of(name);
    let role = format!("{name}-role");
    let op = s.op();
    let start = Instant::now();
    match s {
        Step::CreateBucket => sent(op, c.s3.create_bucket().bucket(&bucket).send()).await?,
        Step::TagBucket => {
            let tag = aws_sdk_s3::types::Tag::builder()
                .key("eventpipe:pipeline")
                .value(name)
                .build()?;
            let tagging = aws_sdk_s3::types::Tagging::builder().tag_set(tag).build()?;
            sent(
                op,
                c.s3.put_bucket_tagging()
                    .bucket(&bucket)
                    .tagging(tagging)
                    .send(),
            )
            .await?
        }
        Step::BlockPublicAccess => {
            let config = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build();
            sent(
                op,
                c.s3.put_public_access_block()
                    .bucket(&bucket)
                    .public_access_block_configuration(config)
                    .send(),
            )
            .await?
        }
        Step::EncryptBucket => {
            let rule = aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256)
                        .build()?,
                )
                .build();
            let config = aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?;
            sent(
                op,
                c.s3.put_bucket_encryption()
                    .bucket(&bucket)
                    .server_side_encryption_configuration(config)
                    .send(),
            )
            .await?
        }
        Step::CreateRole => {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key("eventpipe:pipeline")
                .value(name)
                .build()?;
            sent(
                op,
                c.iam
                    .create_role()
                    .role_name(&role)
                    .assume_role_policy_document(TRUST)
                    .tags(tag)
                    .send(),
            )
            .await?
        }
        Step::PutRolePolicy => {
            let policy = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/in/*"}},{{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}:*"}}]}}"#
            );
            sent(
                op,
                c.iam
                    .put_role_policy()
                    .role_name(&role)
                    .policy_name("eventpipe")
                    .policy_document(policy)
                    .send(),
            )
            .await?
        }
        Step::Package => {
            package::build(&source::scan(source_dir)?)?;
        }
        Step::CreateFunction => {
            let pkg = package::build(&source::scan(source_dir)?)?;
            // Only the call is timed, not this second packaging.
            let start = Instant::now();
            sent(
                op,
                c.lambda
                    .create_function()
                    .function_name(name)
                    .role(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
                    .handler("app.handler")
                    .runtime(aws_sdk_lambda::types::Runtime::Python313)
                    .memory_size(128)
                    .timeout(10)
                    .code(
                        aws_sdk_lambda::types::FunctionCode::builder()
                            .zip_file(aws_sdk_lambda::primitives::Blob::new(pkg.zip))
                            .build(),
                    )
                    .tags("eventpipe:pipeline", name)
                    .send(),
            )
            .await?;
            return Ok(start.elapsed());
        }
        Step::AddPermission => {
            sent(
                op,
                c.lambda
                    .add_permission()
                    .function_name(name)
                    .statement_id("eventpipe-s3-invoke")
                    .action("lambda:InvokeFunction")
                    .principal("s3.amazonaws.com")
                    .source_arn(format!("arn:aws:s3:::{bucket}"))
                    .source_account(ACCOUNT)
                    .send(),
            )
            .await?
        }
        Step::PutNotification => {
            let rule = |n, v: &str| {
                aws_sdk_s3::types::FilterRule::builder()
                    .name(n)
                    .value(v)
                    .build()
            };
            let filter = aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                .key(
                    aws_sdk_s3::types::S3KeyFilter::builder()
                        .filter_rules(rule(aws_sdk_s3::types::FilterRuleName::Prefix, "in/"))
                        .filter_rules(rule(aws_sdk_s3::types::FilterRuleName::Suffix, ".json"))
                        .build(),
                )
                .build();
            let lambda = aws_sdk_s3::types::LambdaFunctionConfiguration::builder()
                .id(format!("eventpipe-{name}-0"))
                .lambda_function_arn(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"))
                .events(aws_sdk_s3::types::Event::from("s3:ObjectCreated:*"))
                .filter(filter)
                .build()?;
            // A bucket made by this create has no notifications to keep, so
            // the configuration is written without reading it first.
            sent(
                op,
                c.s3.put_bucket_notification_configuration()
                    .bucket(&bucket)
                    .notification_configuration(
                        aws_sdk_s3::types::NotificationConfiguration::builder()
                            .lambda_function_configurations(lambda)
                            .build(),
                    )
                    .send(),
            )
            .await?
        }
    }
    Ok(start.elapsed())
}

/// The provider itself, configured against `endpoint`, in this process.
pub struct InProcess {
    provider: Provider,
}

const TYPE: &str = "eventpipe_event_pipeline";

impl InProcess {
    pub async fn new(endpoint: &str) -> Result<InProcess> {
        let provider = Provider::new(CancellationToken::new());
        let ty = provider::schemas().provider.block.implied_type();
        let mut cfg = Value::null_object(&ty).context("provider schema is an object")?;
        set(&mut cfg, "region", Value::from(REGION));
        set(&mut cfg, "access_key", Value::from("test"));
        set(&mut cfg, "secret_key", Value::from("test"));
        set(&mut cfg, "endpoint_url", Value::from(endpoint));
        let diags = provider.configure("1.11.4", &cfg).await;
        if diags.has_errors() {
            bail!("configuring the provider: {diags:?}");
        }
        Ok(InProcess { provider })
    }

    /// Plans the bench pipeline `name` (untimed), then creates it and
    /// returns how long the create (ApplyResourceChange) took.
    pub async fn create(&self, name: &str, source_dir: &Path) -> Result<Duration> {
        self.create_with(name, source_dir, false).await
    }

    /// [`InProcess::create`], with an `on_failure {}` block (the failure
    /// queue and the invoke configuration) when `on_failure` is set.
    pub async fn create_with(
        &self,
        name: &str,
        source_dir: &Path,
        on_failure: bool,
    ) -> Result<Duration> {
        let schema = provider::schemas()
            .resource(TYPE)
            .context("resource schema")?;
        let ty = schema.block.implied_type();
        let mut cfg = Value::null_object(&ty).context("resource schema is an object")?;
        set(&mut cfg, "name", Value::from(name));
        set(&mut cfg, "force_destroy", Value::from(true));
        set(&mut cfg, "require_tls", Value::from(false));
        set(
            &mut cfg,
            "tags",
            Value::Map(BTreeMap::from([("bench".to_owned(), Value::from("true"))])),
        );
        let function_ty = ty.attribute_type("function").context("function block")?;
        let mut function = Value::null_object(function_ty).context("function object")?;
        set(
            &mut function,
            "source_dir",
            Value::from(source_dir.display().to_string()),
        );
        set(&mut function, "handler", Value::from("app.handler"));
        set(
            &mut function,
            "memory_size",
            Value::Number(Number::from(128i64)),
        );
        set(&mut function, "timeout", Value::Number(Number::from(10i64)));
        set(&mut cfg, "function", function);
        let trigger_ty = ty
            .attribute_type("trigger")
            .and_then(|t| t.element_type())
            .context("trigger block")?;
        let mut trigger = Value::null_object(trigger_ty).context("trigger object")?;
        set(&mut trigger, "filter_prefix", Value::from("in/"));
        set(&mut trigger, "filter_suffix", Value::from(".json"));
        set(&mut cfg, "trigger", Value::List(vec![trigger]));
        if on_failure {
            let block_ty = ty
                .attribute_type("on_failure")
                .context("on_failure block")?;
            let block = Value::null_object(block_ty).context("on_failure object")?;
            set(&mut cfg, "on_failure", block);
        }

        let planned = self
            .provider
            .plan_resource_change(TYPE, &Value::Null, &cfg, &cfg, &[])
            .await;
        if planned.diags.has_errors() {
            bail!("plan of {name}: {:?}", planned.diags);
        }
        let start = Instant::now();
        let tfsdk::provider::Applied(applied) = self
            .provider
            .apply_resource_change(TYPE, &Value::Null, &planned.state, &cfg, &[])
            .await;
        let took = start.elapsed();
        if applied.diags.has_errors() {
            bail!("apply of {name}: {:?}", applied.diags);
        }
        Ok(took)
    }
}

fn set(obj: &mut Value, key: &str, v: Value) {
    if let Some(slot) = obj.get_attr_mut(key) {
        *slot = v;
    }
}
