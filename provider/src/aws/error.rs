//! One error type for every AWS call, keeping the service's own words.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AwsError {
    #[error(
        "no AWS region is configured: set `region` in the provider block or the AWS_REGION \
         environment variable"
    )]
    NoRegion,
    /// The service answered with an error.
    #[error("{operation}: {code}: {message}")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
        status: Option<u16>,
    },
    /// The call never got an answer (connection, timeout, credentials).
    #[error("{operation}: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    #[error("unexpected answer from AWS: {0}")]
    Unexpected(String),
}

impl AwsError {
    /// Wraps an SDK error, keeping the service's code and message.
    pub fn from_sdk<E, R>(
        operation: &'static str,
        err: aws_smithy_runtime_api::client::result::SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + HasStatus,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                let status = se.raw().status_code();
                let (code, message) = match e.code() {
                    Some(code) => (
                        code.to_owned(),
                        e.message().map_or_else(|| e.to_string(), str::to_owned),
                    ),
                    None => without_code(operation, status),
                };
                AwsError::Service {
                    operation,
                    code,
                    message,
                    status: Some(status),
                }
            }
            _ => AwsError::Transport {
                operation,
                message: describe_chain(&err),
            },
        }
    }

    /// The AWS error code, when the service gave one.
    /// A failure that may pass by itself: throttling, a 5xx answer, or no
    /// answer at all. The SDK retries these, except where it is told not to.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Service { code, status, .. } => {
                matches!(status, Some(429 | 500..=599))
                    || matches!(
                        code.as_str(),
                        "SlowDown"
                            | "Throttling"
                            | "ThrottlingException"
                            | "RequestLimitExceeded"
                            | "TooManyRequestsException"
                            | "RequestTimeout"
                    )
            }
            AwsError::Transport { .. } => true,
            AwsError::NoRegion | AwsError::Unexpected(_) => false,
        }
    }

    /// An S3 answer of 403 with no error document (no code, no message):
    /// what a bucket policy's explicit Deny looks like to some endpoints.
    pub fn is_bare_s3_forbidden(&self) -> bool {
        matches!(
            self,
            AwsError::Service { operation, code, message, status: Some(403) }
                if operation.starts_with("s3:")
                    && code == "Forbidden"
                    && message.starts_with(NO_DETAILS_403)
        )
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How the message of a 403 without an error document starts
/// ([`without_code`]).
const NO_DETAILS_403: &str = "HTTP 403, with no error details";

/// Code and message for an error answer that has no error code: S3
/// answers a HEAD request (HeadBucket) with the status alone, and the SDK
/// can then only say "unhandled error". The status is all there is.
fn without_code(operation: &str, status: u16) -> (String, String) {
    let code = match status {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        _ => "Unknown",
    };
    let mut message = if operation.starts_with("s3:Head") {
        format!("HTTP {status}, with no error details (S3 sends none for a HEAD request)")
    } else {
        format!("HTTP {status}, with no error details")
    };
    if operation == "s3:HeadBucket" && status == 403 {
        message.push_str("; access denied: looking a bucket up needs s3:ListBucket on it");
    }
    (code.to_owned(), message)
}

/// The error and its sources on one line.
fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut src = err.source();
    while let Some(e) = src {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        src = e.source();
    }
    out
}

/// The HTTP status of a raw response.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl From<aws_smithy_types::error::operation::BuildError> for AwsError {
    fn from(e: aws_smithy_types::error::operation::BuildError) -> Self {
        AwsError::Unexpected(format!("invalid request: {e}"))
    }
}

impl AwsError {
    /// The service said the thing does not exist (HTTP 404 or a
    /// `NoSuch…`/`…NotFound…` code).
    pub fn is_not_found(&self) -> bool {
        match self {
            AwsError::Service { code, status, .. } => {
                *status == Some(404)
                    || code.starts_with("NoSuch")
                    || code.contains("NotFound")
                    || code.contains("NonExistentQueue")
                    || code.contains("QueueDoesNotExist")
            }
            _ => false,
        }
    }

    /// The caller may not make the call (HTTP 403, or an access-denied
    /// code).
    pub fn is_denied(&self) -> bool {
        match self {
            AwsError::Service { code, status, .. } => {
                *status == Some(403)
                    || code.starts_with("AccessDenied")
                    || code == "AuthorizationError"
                    || code == "UnauthorizedOperation"
            }
            _ => false,
        }
    }

    /// The answer came from the service (as opposed to no answer at all).
    pub fn status(&self) -> Option<u16> {
        match self {
            AwsError::Service { status, .. } => *status,
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AwsError::Service { message, .. } | AwsError::Transport { message, .. } => {
                message.clone()
            }
            other => other.to_string(),
        }
    }
}

/// `Ok(None)` for "not found", the value otherwise.
pub fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Maps an SDK error of operation `op` (e.g. `"s3:CreateBucket"`) to [`AwsError`];
/// for use with `map_err`.
pub(crate) fn err<E, R>(
    op: &'static str,
) -> impl FnOnce(aws_smithy_runtime_api::client::result::SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus,
{
    move |e| AwsError::from_sdk(op, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_without_a_code_is_named_by_its_status() {
        let (code, message) = without_code("s3:HeadBucket", 403);
        assert_eq!(code, "Forbidden");
        assert!(
            message.starts_with("HTTP 403, with no error details"),
            "{message}"
        );
        assert!(message.contains("needs s3:ListBucket"), "{message}");
        let (code, message) = without_code("s3:HeadBucket", 404);
        assert_eq!(code, "NotFound");
        assert!(!message.contains("ListBucket"), "{message}");
        let not_found = AwsError::Service {
            operation: "s3:HeadBucket",
            code,
            message,
            status: Some(404),
        };
        assert!(not_found.is_not_found());
        assert_eq!(without_code("s3:GetObject", 500).0, "Unknown");
        let (_, message) = without_code("iam:CreateRole", 500);
        assert_eq!(message, "HTTP 500, with no error details");
        // SQS names a missing queue its own way, with HTTP 400.
        for code in [
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ] {
            let gone = AwsError::Service {
                operation: "sqs:GetQueueUrl",
                code: code.to_owned(),
                message: "The specified queue does not exist.".to_owned(),
                status: Some(400),
            };
            assert!(gone.is_not_found(), "{code}");
        }
    }
}
