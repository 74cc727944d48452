//! Thin wrappers over the AWS SDK: building the clients from provider
//! settings, retries, waiters and mapping "not found" answers. AWS types stay
//! in here; the rest of the provider sees plain Rust types and [`AwsError`].

mod config;
pub(crate) mod error;

pub use config::{AwsClients, AwsSettings, ServiceEndpoints};
pub use error::AwsError;

pub mod cloudwatch;
pub mod ecr;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod mappings;
pub mod metrics;
pub mod retry;
pub mod s3;
pub mod sns;
pub mod sqs;
mod tags;

/// The AWS SDK's tracing targets. At TRACE the SDK logs whole requests, and
/// request bodies can carry secrets (function environment values), so the
/// transport caps these at INFO whatever level is asked for.
pub const LOG_TARGETS: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_smithy_types",
    "aws_sdk_s3",
    "aws_sdk_lambda",
    "aws_sdk_iam",
    "aws_sdk_sts",
    "aws_sdk_sqs",
    "aws_sdk_kinesis",
    "aws_sdk_ecr",
    "aws_sdk_cloudwatchlogs",
    "aws_sdk_cloudwatch",
    "aws_sdk_sns",
    "aws_sdk_kms",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
];
