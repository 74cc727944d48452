//! The resource's error types, and the one place they become diagnostics.

use tfsdk::access::AccessError;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use thiserror::Error;

use crate::aws::AwsError;
use crate::registry::RegistryError;

use super::package::PackageError;
use super::source::SourceError;
use super::state::{attr, path};

/// Why creating, updating or deleting a pipeline stopped.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// An AWS call failed; `step` says which part of the pipeline.
    #[error("{step} failed: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: AwsError,
    },
    /// A part with our name exists but belongs to something else.
    #[error("{what} already exists and is not managed by pipeline {pipeline:?}{owner}")]
    NotOurs {
        what: String,
        pipeline: String,
        owner: String,
    },
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error(
        "the files in {dir} changed between plan and apply (planned hash {planned}, now {now}); \
         run terraform plan again"
    )]
    SourceChanged {
        dir: String,
        planned: String,
        now: String,
    },
    #[error(
        "bucket {bucket} still holds objects; empty it first, or set force_destroy = true to \
         delete them with the pipeline. Nothing was deleted."
    )]
    BucketNotEmpty { bucket: String },
    #[error(
        "the {} {queue} still holds {messages} {}; process or purge them first{}. Nothing was \
         deleted.",
        kind.queue(),
        kind.messages(),
        kind.switch(*bucket_owned)
    )]
    QueueNotEmpty {
        kind: QueueKind,
        queue: String,
        messages: u64,
        /// The pipeline manages its bucket: `force_destroy` is allowed.
        bucket_owned: bool,
    },
    /// Lambda refused a reservation that would leave the account fewer
    /// unreserved concurrent executions than it keeps for every other
    /// function.
    #[error(
        "reserved_concurrency = {wanted} would leave the account fewer than {} unreserved \
         concurrent executions, the minimum Lambda keeps for functions without a reservation. \
         Lower reserved_concurrency (or remove it), free some from other functions, or ask AWS \
         for a higher concurrency quota. ({source})",
        minimum.map_or_else(|| "the minimum number of".to_owned(), |m| m.to_string())
    )]
    ConcurrencyLimit {
        wanted: i64,
        /// The minimum as AWS's message gives it.
        minimum: Option<u32>,
        source: AwsError,
    },
    #[error(
        "the notifications of bucket {bucket} kept changing while this pipeline wrote its own \
         ({attempts} attempts): another writer changes them at the same time. Apply again."
    )]
    NotificationsContended { bucket: String, attempts: u32 },
    /// Someone else's configurations on the bucket send to destinations S3
    /// cannot validate, so S3 refuses every write of the document.
    #[error(
        "bucket {bucket} has notification configurations that are not this pipeline's and send \
         events to a destination S3 cannot validate (gone, or not allowing S3 to send to it): \
         {}. While they are there S3 refuses every change to the bucket's notifications. Remove \
         them (read the document with `aws s3api get-bucket-notification-configuration --bucket \
         {bucket}`, drop the entry with each Id above, and write the rest back with `aws s3api \
         put-bucket-notification-configuration`) or restore what they name, then apply again. \
         S3 applied nothing of the refused write. (S3: {reason})",
        configurations.iter().map(|(id, arn)| format!("Id {id:?} to {arn}")).collect::<Vec<_>>().join(", ")
    )]
    DanglingNotification {
        bucket: String,
        /// Id and destination ARN of each.
        configurations: Vec<(String, String)>,
        reason: String,
    },
    #[error(
        "ECR repository {name:?} does not exist in the provider's account and region: \
         create it first, or leave it out and the pipeline makes its own"
    )]
    NoRepository { name: String },
    #[error("{0}")]
    Publish(#[from] PublishError),
    #[error("stopped by Terraform (interrupt) before the step: {before}")]
    Cancelled { before: String },
    /// The planned or prior state Terraform sent lacks something apply needs.
    #[error("the planned state is incomplete: {0}")]
    BadPlan(String),
    /// A failure inside the provider, not caused by the input or by AWS.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why the function's image could not be published to, or removed from,
/// the pipeline's ECR repository.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error(
        "cannot log in to the image registry ({0}); the provider's credentials need \
         ecr:GetAuthorizationToken"
    )]
    Login(#[source] AwsError),
    #[error(
        "endpoints.ecr_registry {value:?} is not a registry URL ({reason}): write \
         https://host[:port], or http://host:port for a registry on this machine"
    )]
    RegistrySetting { value: String, reason: String },
    #[error("source_code_hash {0:?} does not start with 12 hex digits, the image's tag")]
    BadHash(String),
    #[error("cannot push the function's image to repository {repository}: {source}")]
    Push {
        repository: String,
        #[source]
        source: RegistryError,
    },
    #[error("cannot remove the pipeline's images from repository {repository} ({source})")]
    Remove {
        repository: String,
        #[source]
        source: AwsError,
    },
    #[error("cannot build the function's image: {0}")]
    Build(#[source] super::package::image::ImageError),
    #[error(
        "ECR repository {0:?} does not exist: image.repository_name names a repository the \
         pipeline pushes to but never makes"
    )]
    NoRepository(String),
    #[error("cannot read ECR repository {repository} ({source})")]
    Repository {
        repository: String,
        #[source]
        source: AwsError,
    },
}

/// Which of the pipeline's queues a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// `<name>-failed`, for `on_failure`.
    Failure,
    /// `<name>-events`, for `delivery = "queue"`.
    Events,
}

impl QueueKind {
    fn queue(self) -> &'static str {
        match self {
            QueueKind::Failure => "failure queue",
            QueueKind::Events => "event queue",
        }
    }

    fn messages(self) -> &'static str {
        match self {
            QueueKind::Failure => "failed event(s)",
            QueueKind::Events => "message(s) not yet processed",
        }
    }

    /// The switch that lets the queue go with what it holds, as the end of
    /// the advice; none that the configuration could not take.
    fn switch(self, bucket_owned: bool) -> &'static str {
        match (self, bucket_owned) {
            (QueueKind::Failure, false) => {
                ", or set on_failure { force_delete = true } to delete them with the queue"
            }
            (QueueKind::Failure, true) => {
                ", or set on_failure { force_delete = true } to delete them with the queue (or \
                 force_destroy = true, which also deletes the bucket's objects)"
            }
            (QueueKind::Events, true) => {
                ", or set force_destroy = true to delete them with the queue"
            }
            // force_destroy is refused on a bucket the pipeline does not own.
            (QueueKind::Events, false) => "",
        }
    }
}

impl ApplyError {
    pub fn aws(step: &'static str) -> impl FnOnce(AwsError) -> ApplyError {
        move |source| ApplyError::Aws { step, source }
    }

    /// A failed `PutFunctionConcurrency` for `wanted`: the account's
    /// unreserved minimum, named, when that is why; else a failed `step`.
    pub fn concurrency(step: &'static str, wanted: i64) -> impl FnOnce(AwsError) -> ApplyError {
        move |source| match &source {
            AwsError::Service { message, .. }
                if message.contains("UnreservedConcurrentExecution") =>
            {
                ApplyError::ConcurrencyLimit {
                    wanted,
                    minimum: bracketed_number(message),
                    source,
                }
            }
            _ => ApplyError::Aws { step, source },
        }
    }
}

/// The number AWS writes in brackets ("… minimum value of [100].").
fn bracketed_number(message: &str) -> Option<u32> {
    let (_, rest) = message.split_once('[')?;
    let (n, _) = rest.split_once(']')?;
    n.trim().parse().ok()
}

impl From<AccessError> for ApplyError {
    fn from(e: AccessError) -> Self {
        ApplyError::BadPlan(e.to_string())
    }
}

/// Why a refresh could not read the pipeline.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct RefreshError(#[from] pub AwsError);

/// Why `terraform import` could not rebuild a pipeline.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("No Lambda function named {name:?} exists in {region}.")]
    NotFound { name: String, region: String },
    #[error(
        "Lambda function {0:?} exists but is not managed by eventpipe (no matching ownership \
         tag); to take over a pipeline wired by hand, import it with the id adopt:{0}"
    )]
    NotOurs(String),
    #[error(
        "no bucket notifies Lambda function {0:?}, so there is nothing to adopt with it: \
         adoption needs an S3 invoke permission naming a bucket (SourceArn \
         arn:aws:s3:::…) whose notifications send to the function, or an SQS event source \
         mapping of the function from a queue whose policy lets S3 send for a bucket whose \
         notifications send to that queue"
    )]
    NotWired(String),
    #[error("the function lacks the {0} tag that eventpipe sets; it cannot be imported")]
    MissingTag(&'static str),
    #[error("{0}")]
    Identity(#[from] super::identity::IdentityError),
}

/// Why a list stopped (`terraform query`): the one error event it ends
/// with.
#[derive(Debug, Error)]
pub enum ListError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// The resource object of a result could not be built.
    #[error("reading {function:?} as import does: {source}")]
    Import {
        function: String,
        #[source]
        source: ImportError,
    },
}

/// Why planning could not start.
#[derive(Debug, Error)]
pub enum PlanError {
    #[error(
        "The plan needs the account id to write the role's policy and ARNs; asking STS failed: \
         {0}"
    )]
    Account(AwsError),
}

/// Why a plan cannot resolve an image's base to a digest.
#[derive(Debug, Error)]
pub enum BaseImageError {
    #[error("base image {reference}: {source}")]
    Registry {
        reference: String,
        #[source]
        source: crate::registry::RegistryError,
    },
    #[error("base image {reference}: {message}")]
    Layout { reference: String, message: String },
    #[error(
        "base image {reference}: no cache directory for the registry's answers; set \
         EVENTPIPE_CACHE_DIR (or HOME)"
    )]
    NoCache { reference: String },
}

impl BaseImageError {
    /// Whether the index has no image for the function's architecture.
    pub fn no_platform(&self) -> bool {
        matches!(
            self,
            BaseImageError::Registry {
                source: crate::registry::RegistryError::NoPlatform { .. },
                ..
            }
        )
    }
}

impl From<&BaseImageError> for Diagnostic {
    fn from(e: &BaseImageError) -> Self {
        use crate::registry::RegistryError as R;
        let summary = match e {
            BaseImageError::Registry { source, .. } => match source {
                R::NoPlatform { .. } => "Base image has no image for the architecture",
                R::Unreachable { .. } => "Base image registry unreachable",
                R::NotFound { .. } => "Base image not found",
                R::Denied { .. } => "Base image access denied",
                _ => "Cannot resolve the base image",
            },
            _ => "Cannot resolve the base image",
        };
        Diagnostic::error(summary, e.to_string())
    }
}

/// The least unreserved concurrency Lambda keeps in an account.
pub const MIN_UNRESERVED_CONCURRENCY: i64 = 100;

/// A plan-time look that the apply cannot start after.
#[derive(Debug, Error)]
pub enum TakenError {
    #[error(
        "ECR repository {name:?} does not exist in the provider's account and region: \
         create it first, or leave it out and the pipeline makes its own"
    )]
    NoRepository { name: String },
    #[error(
        "Bucket {bucket:?} exists: owned by another account (S3 answers 403 Forbidden when \
         asked for it). Bucket names are global across all accounts: choose another \
         bucket_name. (Should it be in this account, the provider's credentials lack \
         s3:ListBucket on it.)"
    )]
    BucketForeign { bucket: String },
    #[error(
        "Bucket {bucket:?} exists in this account{owner}: set `create_bucket = false` to attach \
         to it, or import it (`terraform import <address> adopt:<function-name>` takes over a \
         pipeline wired by hand), or choose another bucket_name."
    )]
    BucketInAccount { bucket: String, owner: String },
    #[error(
        "Bucket {bucket:?} exists in {region}, and this provider works in {here}: a bucket of \
         that name cannot be created here. Choose another bucket_name."
    )]
    BucketElsewhere {
        bucket: String,
        region: String,
        here: String,
    },
    #[error(
        "Lambda function {function:?} already exists and belongs to pipeline {owner:?} (its \
         eventpipe:pipeline tag); choose another function_name."
    )]
    FunctionOfAnother { function: String, owner: String },
    #[error(
        "Lambda function {function:?} already exists and is not managed by eventpipe (it has no \
         eventpipe:pipeline tag). To take over a pipeline wired by hand, import it: `terraform \
         import <address> adopt:{function}`; otherwise choose another function_name."
    )]
    FunctionByHand { function: String },
    #[error("{}", concurrency_words(*wanted, *unreserved))]
    ConcurrencyOverLimit { wanted: i64, unreserved: i64 },
}

/// Why `wanted` cannot be reserved in an account with `unreserved`
/// concurrent executions not reserved, and what can be.
fn concurrency_words(wanted: i64, unreserved: i64) -> String {
    let left = if wanted > unreserved {
        format!("asks for more than the account's {unreserved} unreserved concurrent executions")
    } else {
        format!(
            "would leave the account {} unreserved concurrent executions (it has {unreserved} \
             unreserved now)",
            unreserved - wanted
        )
    };
    let can = unreserved - MIN_UNRESERVED_CONCURRENCY;
    let advice = if can > 0 {
        format!(
            "At most {can} can be reserved now: lower reserved_concurrency, free some from \
             other functions, or ask AWS for a higher concurrency quota."
        )
    } else {
        "Nothing can be reserved now: remove reserved_concurrency, free some from other \
         functions, or ask AWS for a higher concurrency quota."
            .to_owned()
    };
    format!(
        "reserved_concurrency = {wanted} {left}, and Lambda keeps at least \
         {MIN_UNRESERVED_CONCURRENCY} for functions without a reservation \
         (UnreservedConcurrentExecutions, from GetAccountSettings). {advice}"
    )
}

/// A plan-time look that could not be made: the plan goes on, with a
/// warning.
#[derive(Debug, Error)]
#[error("{}", self.describe())]
pub struct NotChecked {
    pub look: Look,
    pub source: AwsError,
}

/// What a plan-time look checks, for [`NotChecked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    /// HeadBucket: whether the bucket's name is free.
    BucketName,
    /// GetBucketTagging: whether an existing bucket is this pipeline's.
    BucketOwner,
    /// GetFunction: whether the function's name is free.
    FunctionName,
    /// GetAccountSettings: the account's unreserved concurrency.
    Concurrency,
    /// DescribeRepositories: whether a given `image.repository_name` exists.
    Repository,
}

impl Look {
    /// The IAM permission the look needs.
    pub fn permission(self) -> &'static str {
        match self {
            Look::BucketName => "s3:ListBucket",
            Look::BucketOwner => "s3:GetBucketTagging",
            Look::FunctionName => "lambda:GetFunction",
            Look::Concurrency => "lambda:GetAccountSettings",
            Look::Repository => "ecr:DescribeRepositories",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Look::BucketName => "whether the bucket's name is free",
            Look::BucketOwner => "whose the existing bucket is",
            Look::FunctionName => "whether the function's name is free",
            Look::Concurrency => {
                "reserved_concurrency against the account's unreserved concurrency"
            }
            Look::Repository => "whether the image repository exists",
        }
    }
}

impl NotChecked {
    /// Whether AWS refused the look for want of a permission.
    pub fn denied(&self) -> bool {
        self.source.status() == Some(403)
            || self
                .source
                .code()
                .is_some_and(|c| c.contains("AccessDenied") || c == "Forbidden")
    }

    fn describe(&self) -> String {
        let what = self.look.what();
        let permission = self.look.permission();
        if self.denied() {
            format!(
                "The plan could not check {what}: the provider's credentials lack {permission} \
                 ({}). The apply still checks it; allow {permission} to have it checked at plan.",
                self.source
            )
        } else {
            format!(
                "The plan could not check {what} ({}); the apply still checks it.",
                self.source
            )
        }
    }
}

impl From<&TakenError> for Diagnostic {
    fn from(e: &TakenError) -> Self {
        let (summary, at) = match e {
            TakenError::BucketForeign { .. }
            | TakenError::BucketInAccount { .. }
            | TakenError::BucketElsewhere { .. } => {
                ("Bucket already exists", path::top(attr::BUCKET_NAME))
            }
            TakenError::FunctionOfAnother { .. } | TakenError::FunctionByHand { .. } => {
                ("Function already exists", path::top(attr::FUNCTION_NAME))
            }
            TakenError::ConcurrencyOverLimit { .. } => (
                "Reserved concurrency above the account's limit",
                path::function(attr::RESERVED_CONCURRENCY),
            ),
            TakenError::NoRepository { .. } => (
                "The image repository does not exist",
                repository_name_path(),
            ),
        };
        Diagnostic::error(summary, e.to_string()).at(at)
    }
}

/// `function.image.repository_name`.
fn repository_name_path() -> AttrPath {
    AttrPath::attrs([attr::FUNCTION, attr::IMAGE, attr::REPOSITORY_NAME])
}

impl From<&NotChecked> for Diagnostic {
    fn from(e: &NotChecked) -> Self {
        let at = match e.look {
            Look::BucketName | Look::BucketOwner => path::top(attr::BUCKET_NAME),
            Look::FunctionName => path::top(attr::FUNCTION_NAME),
            Look::Concurrency => path::function(attr::RESERVED_CONCURRENCY),
            Look::Repository => repository_name_path(),
        };
        let summary = if e.denied() {
            format!("Could not check at plan: {} denied", e.look.permission())
        } else {
            format!("Could not check at plan: {}", e.look.permission())
        };
        Diagnostic::warning(summary, e.to_string()).at(at)
    }
}

impl From<&ApplyError> for Diagnostic {
    fn from(e: &ApplyError) -> Self {
        let summary = match e {
            ApplyError::Aws { step, .. } => format!("Pipeline step failed: {step}"),
            ApplyError::NotOurs { .. } => "Name already taken".to_owned(),
            ApplyError::Source(_) | ApplyError::SourceChanged { .. } => {
                "Cannot package the function's source".to_owned()
            }
            ApplyError::Package(PackageError::TooLargeUnzipped(_)) => {
                "Function package too large".to_owned()
            }
            ApplyError::Package(_) => "Cannot package the function".to_owned(),
            ApplyError::BucketNotEmpty { .. } => "Bucket is not empty".to_owned(),
            ApplyError::QueueNotEmpty {
                kind: QueueKind::Failure,
                ..
            } => "Failure queue is not empty".to_owned(),
            ApplyError::QueueNotEmpty { .. } => "Event queue is not empty".to_owned(),
            ApplyError::ConcurrencyLimit { .. } => {
                "Reserved concurrency above the account's limit".to_owned()
            }
            ApplyError::NoRepository { .. } => "The image repository does not exist".to_owned(),
            ApplyError::NotificationsContended { .. } => {
                "Bucket notifications changed concurrently".to_owned()
            }
            ApplyError::DanglingNotification { .. } => {
                "A notification on the bucket names a missing destination".to_owned()
            }
            ApplyError::Publish(PublishError::Remove { .. }) => {
                "Cannot remove the pipeline's images".to_owned()
            }
            ApplyError::Publish(_) => "Cannot publish the function's image".to_owned(),
            ApplyError::Cancelled { .. } => "Operation interrupted".to_owned(),
            ApplyError::BadPlan(_) => "Invalid planned state".to_owned(),
            ApplyError::Internal(_) => "Internal error in the eventpipe provider".to_owned(),
        };
        let d = Diagnostic::error(summary, e.to_string());
        match e {
            ApplyError::Source(_) | ApplyError::SourceChanged { .. } | ApplyError::Package(_) => {
                d.at(path::function(attr::SOURCE_DIR))
            }
            ApplyError::QueueNotEmpty {
                kind: QueueKind::Failure,
                ..
            } => d.at(path::on_failure(attr::FORCE_DELETE)),
            // No attribute lets it go: force_destroy needs an owned bucket.
            ApplyError::QueueNotEmpty {
                bucket_owned: false,
                ..
            } => d,
            ApplyError::BucketNotEmpty { .. } | ApplyError::QueueNotEmpty { .. } => {
                d.at(path::top(attr::FORCE_DESTROY))
            }
            ApplyError::ConcurrencyLimit { .. } => d.at(path::function(attr::RESERVED_CONCURRENCY)),
            ApplyError::NoRepository { .. } => d.at(repository_name_path()),
            _ => d,
        }
    }
}

impl From<&RefreshError> for Diagnostic {
    fn from(e: &RefreshError) -> Self {
        Diagnostic::error("Cannot refresh the pipeline", e.to_string())
    }
}

impl From<&ImportError> for Diagnostic {
    fn from(e: &ImportError) -> Self {
        let summary = match e {
            ImportError::NotFound { .. } => "Cannot import non-existent pipeline",
            _ => "Cannot import the pipeline",
        };
        Diagnostic::error(summary, e.to_string())
    }
}

impl From<&ListError> for Diagnostic {
    fn from(e: &ListError) -> Self {
        Diagnostic::error(
            "Cannot list pipelines",
            format!(
                "{e}. The pipelines found before this were listed; list again to get them all."
            ),
        )
    }
}

impl From<&super::identity::IdentityError> for Diagnostic {
    fn from(e: &super::identity::IdentityError) -> Self {
        Diagnostic::error("Invalid resource identity", e.to_string())
    }
}

impl From<&PlanError> for Diagnostic {
    fn from(e: &PlanError) -> Self {
        match e {
            PlanError::Account(_) => {
                Diagnostic::error("Cannot determine the AWS account", e.to_string())
            }
        }
    }
}

/// What the provider knows of the setting an error happened in, beyond
/// the error itself: what lets a diagnostic say why AWS answered so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Setting {
    /// S3 is reached over plain HTTP (`http://`, an emulator).
    pub s3_plain_http: bool,
    /// The pipeline's `require_tls`.
    pub require_tls: bool,
}

/// The hint for a bare S3 403 over plain HTTP while the bucket's policy
/// denies requests without TLS.
const TLS_HINT: &str = "S3 answered 403 with no details, over plain HTTP, and require_tls is on: \
                        the bucket's TLS-only policy denies every request that does not use \
                        TLS, so an http:// endpoint (an emulator such as moto) is refused. Set \
                        require_tls = false when S3 is an emulator reached over http://, or \
                        use an https:// endpoint.";

impl Setting {
    /// `d` for an error whose AWS cause is `source`, with the hint that
    /// explains it when it is a TLS-only policy refusing plain HTTP.
    pub fn explain(self, mut d: Diagnostic, source: Option<&AwsError>) -> Diagnostic {
        let tls_refusal = self.s3_plain_http
            && self.require_tls
            && source.is_some_and(AwsError::is_bare_s3_forbidden);
        if tls_refusal {
            d.detail = format!("{} {TLS_HINT}", d.detail);
            if d.path.is_none() {
                d = d.at(path::top(attr::REQUIRE_TLS));
            }
        }
        d
    }

    /// Diagnostics for the errors of an apply in this setting.
    pub fn diagnostics(self, errors: &[ApplyError]) -> Diagnostics {
        Diagnostics(
            errors
                .iter()
                .map(|e| self.explain(Diagnostic::from(e), e.aws_source()))
                .collect(),
        )
    }
}

impl ApplyError {
    /// The AWS error behind this one, when there is one.
    pub fn aws_source(&self) -> Option<&AwsError> {
        match self {
            ApplyError::Aws { source, .. } | ApplyError::ConcurrencyLimit { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_error(status: u16, code: &str, message: &str) -> AwsError {
        AwsError::Service {
            operation: "s3:PutObject",
            code: code.into(),
            message: message.into(),
            status: Some(status),
        }
    }

    #[test]
    fn a_publish_error_is_one_diagnostic_naming_the_call_and_the_repository() {
        let denied = |operation| AwsError::Service {
            operation,
            code: "AccessDeniedException".into(),
            message: "not authorized".into(),
            status: Some(400),
        };
        let d = Diagnostic::from(&ApplyError::from(PublishError::Login(denied(
            "ecr:GetAuthorizationToken",
        ))));
        assert_eq!(d.summary, "Cannot publish the function's image");
        assert!(
            d.detail.contains("ecr:GetAuthorizationToken") && d.detail.contains("not authorized"),
            "{}",
            d.detail
        );
        assert_eq!(d.path, None);
        let d = Diagnostic::from(&ApplyError::from(PublishError::Remove {
            repository: "team/app".into(),
            source: denied("ecr:BatchDeleteImage"),
        }));
        assert_eq!(d.summary, "Cannot remove the pipeline's images");
        assert!(
            d.detail.contains("team/app") && d.detail.contains("ecr:BatchDeleteImage"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_queue_refusal_advises_only_switches_the_configuration_accepts() {
        let refusal = |kind, bucket_owned| {
            let e = ApplyError::QueueNotEmpty {
                kind,
                queue: "arn:aws:sqs:us-east-1:123456789012:q".into(),
                messages: 2,
                bucket_owned,
            };
            let d = Diagnostic::from(&e);
            (d.summary, d.detail, d.path)
        };
        let (summary, detail, at) = refusal(QueueKind::Failure, false);
        assert_eq!(summary, "Failure queue is not empty");
        assert!(
            detail.contains("still holds 2 failed event(s)")
                && detail.contains("on_failure { force_delete = true }")
                && !detail.contains(attr::FORCE_DESTROY)
                && detail.ends_with("Nothing was deleted."),
            "{detail}"
        );
        assert_eq!(at, Some(path::on_failure(attr::FORCE_DELETE)));
        let (_, detail, _) = refusal(QueueKind::Failure, true);
        assert!(
            detail.contains("on_failure { force_delete = true }")
                && detail.contains("force_destroy = true, which also deletes the bucket's objects"),
            "{detail}"
        );
        let (summary, detail, at) = refusal(QueueKind::Events, true);
        assert_eq!(summary, "Event queue is not empty");
        assert!(detail.contains("set force_destroy = true"), "{detail}");
        assert_eq!(at, Some(path::top(attr::FORCE_DESTROY)));
        let (_, detail, at) = refusal(QueueKind::Events, false);
        assert_eq!(at, None);
        assert!(
            detail.contains("process or purge them first. Nothing was deleted.")
                && !detail.contains(attr::FORCE_DESTROY),
            "{detail}"
        );
    }

    #[test]
    fn a_bare_s3_403_over_http_with_require_tls_says_to_turn_require_tls_off() {
        let bare = ApplyError::aws("staging the package")(s3_error(
            403,
            "Forbidden",
            "HTTP 403, with no error details",
        ));
        let emulator = Setting {
            s3_plain_http: true,
            require_tls: true,
        };
        let d = &emulator.diagnostics(std::slice::from_ref(&bare)).0[0];
        assert!(
            d.detail.contains("staging the package failed")
                && d.detail.contains("TLS-only policy")
                && d.detail.contains("require_tls = false"),
            "{}",
            d.detail
        );
        assert_eq!(d.path, Some(path::top(attr::REQUIRE_TLS)));
        // Not over https, not without require_tls, not with an error document,
        // not another status, not another service: no hint.
        let hinted = |setting: Setting, e: &ApplyError| {
            setting.diagnostics(std::slice::from_ref(e)).0[0]
                .detail
                .contains("TLS-only")
        };
        for setting in [
            Setting {
                s3_plain_http: false,
                require_tls: true,
            },
            Setting {
                s3_plain_http: true,
                require_tls: false,
            },
        ] {
            assert!(!hinted(setting, &bare), "{setting:?}");
        }
        let other = [
            s3_error(403, "AccessDenied", "Access Denied"),
            s3_error(404, "NotFound", "HTTP 404, with no error details"),
            AwsError::Service {
                operation: "lambda:GetFunction",
                code: "Forbidden".into(),
                message: "HTTP 403, with no error details".into(),
                status: Some(403),
            },
        ];
        for e in other {
            assert!(!hinted(emulator, &ApplyError::aws("step")(e)));
        }
    }

    fn refused(message: &str) -> AwsError {
        AwsError::Service {
            operation: "lambda:PutFunctionConcurrency",
            code: "InvalidParameterValueException".into(),
            message: message.into(),
            status: Some(400),
        }
    }

    #[test]
    fn a_taken_name_is_an_error_on_its_attribute_and_a_look_not_made_a_warning() {
        let d = Diagnostic::from(&TakenError::FunctionByHand {
            function: "legacy-fn".into(),
        });
        assert!(d.is_error());
        assert_eq!(d.path, Some(path::top(attr::FUNCTION_NAME)));
        assert!(
            d.detail
                .contains("`terraform import <address> adopt:legacy-fn`")
        );
        let d = Diagnostic::from(&TakenError::ConcurrencyOverLimit {
            wanted: 5000,
            unreserved: 1000,
        });
        assert_eq!(d.path, Some(path::function(attr::RESERVED_CONCURRENCY)));
        assert!(
            d.detail.contains(
                "reserved_concurrency = 5000 asks for more than the account's 1000 unreserved"
            ),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("At most 900 can be reserved now"),
            "{}",
            d.detail
        );
        let d = Diagnostic::from(&TakenError::ConcurrencyOverLimit {
            wanted: 10,
            unreserved: 100,
        });
        assert!(
            d.detail.contains("Nothing can be reserved now"),
            "{}",
            d.detail
        );
        let denied = NotChecked {
            look: Look::FunctionName,
            source: AwsError::Service {
                operation: "lambda:GetFunction",
                code: "AccessDeniedException".into(),
                message: "not authorized to perform: lambda:GetFunction".into(),
                status: Some(403),
            },
        };
        let d = Diagnostic::from(&denied);
        assert!(!d.is_error());
        assert_eq!(
            d.summary,
            "Could not check at plan: lambda:GetFunction denied"
        );
        assert!(d.detail.contains("credentials lack lambda:GetFunction"));
        let unanswered = NotChecked {
            look: Look::Concurrency,
            source: AwsError::Service {
                operation: "lambda:GetAccountSettings",
                code: "404".into(),
                message: "Not Found".into(),
                status: Some(404),
            },
        };
        let d = Diagnostic::from(&unanswered);
        assert_eq!(
            d.summary,
            "Could not check at plan: lambda:GetAccountSettings"
        );
        assert!(d.detail.contains("the apply still checks it"));
    }

    #[test]
    fn a_reservation_past_the_unreserved_minimum_names_the_limit_and_the_attribute() {
        let e = ApplyError::concurrency("setting", 950)(refused(
            "Specified ReservedConcurrentExecutions for function decreases account's \
             UnreservedConcurrentExecution below its minimum value of [100].",
        ));
        let d = Diagnostic::from(&e);
        assert_eq!(d.path, Some(path::function(attr::RESERVED_CONCURRENCY)));
        assert!(
            d.detail.contains("reserved_concurrency = 950")
                && d.detail.contains("fewer than 100 unreserved")
                && d.detail.contains("lambda:PutFunctionConcurrency"),
            "{}",
            d.detail
        );
        // Without a number in brackets, the message still reads.
        let e = ApplyError::concurrency("setting", 5)(refused(
            "decreases account's UnreservedConcurrentExecution below its minimum value",
        ));
        assert!(
            e.to_string().contains("fewer than the minimum number of"),
            "{e}"
        );
        // Any other refusal is the step's, in AWS's words.
        let e = ApplyError::concurrency("setting", 5)(refused("Access denied"));
        assert!(
            matches!(
                e,
                ApplyError::Aws {
                    step: "setting",
                    ..
                }
            ),
            "{e}"
        );
    }
}
