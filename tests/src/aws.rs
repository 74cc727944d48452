//! An AWS client independent of the provider, for checking what really
//! exists in the emulator. Synchronous: each call drives its own small tokio
//! runtime, so call it from plain `#[test]` functions (not from inside an
//! async runtime).

use std::fmt;
use std::future::Future;

use anyhow::{Context, Result, anyhow};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use tokio::runtime::Runtime;

mod sources;

pub use sources::Sources;

/// The one region the tests use.
pub const REGION: &str = "us-east-1";

/// S3, Lambda, IAM, CloudWatch Logs, Kinesis and SQS clients for one
/// endpoint.
pub struct Aws {
    runtime: Runtime,
    s3: aws_sdk_s3::Client,
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    kinesis: aws_sdk_kinesis::Client,
    sqs: aws_sdk_sqs::Client,
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
            runtime,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: aws_sdk_lambda::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            kinesis: aws_sdk_kinesis::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
        })
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
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

    /// Every bucket, role, function, log group, stream, queue and event
    /// source mapping in the region.
    pub fn list_everything(&self) -> Result<Inventory> {
        Ok(Inventory {
            buckets: self.bucket_names()?,
            roles: self.roles()?,
            functions: self.function_names()?,
            log_groups: self.log_group_names()?,
            sources: self.sources()?,
        })
    }
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

/// Parses a policy document that may be URL-encoded (as IAM returns them).
pub fn policy_json(document: &str) -> Result<serde_json::Value> {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).with_context(|| format!("policy is not JSON: {decoded}"))
}

/// Adds the operation name and the SDK's full error chain to an error.
fn sdk<T, E: std::error::Error>(operation: &str, result: Result<T, E>) -> Result<T> {
    result.map_err(|e| anyhow!("{operation} failed: {}", DisplayErrorContext(&e)))
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
    /// Kinesis streams, SQS queues and event source mappings.
    pub sources: Sources,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
            && self.roles.is_empty()
            && self.functions.is_empty()
            && self.log_groups.is_empty()
            && self.sources.is_empty()
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
        write!(f, "log groups: {:?}", self.log_groups)?;
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
