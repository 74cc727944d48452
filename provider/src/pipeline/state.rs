//! The one typed state of a pipeline: every attribute of the schema, read
//! from a Terraform value with [`State::from_value`] and written back with
//! [`State::to_value`]. Attribute names live here ([`attr`]) and in the
//! schema declaration, which uses the same constants; nothing else in
//! `pipeline/` names an attribute.
//!
//! A state comes in two modes:
//! - [`Planning`]: a configuration or a plan, where any value may still be
//!   unknown (taken from another resource) or null (not set);
//! - [`Known`]: a prior, planned-at-apply, refreshed or imported state,
//!   where every value is known and only optional ones may be absent.
//!
//! Both are the same struct, so an attribute is added in one place.

use std::collections::BTreeMap;
use std::fmt::Debug;

use tfsdk::access::{AccessError, Field, Obj};
use tfsdk::diag::AttrPath;
use tfsdk::schema::{Attribute, Block, NestedBlock, Validator};
use tfsdk::value::{Number, Value};

use super::declare::declare_block;
use super::defaults::{
    DEFAULT_ALARM_AGE_S, DEFAULT_ARCHITECTURE, DEFAULT_EVENT, DEFAULT_HANDLER, DEFAULT_KEEP_IMAGES,
    DEFAULT_MEMORY_MB, DEFAULT_SCAN_ON_PUSH, DEFAULT_TIMEOUT_S,
};
use super::part::{Part, PartSet};
use super::{naming, rules, runtimes};

/// Attribute and block names, as users write them: the constants each
/// block's declaration makes, in one namespace. A name two blocks share
/// (`batch_size` of `stream` and `queue`, …) is the same string in both.
#[allow(unused_imports)] // Every name, whether used outside tests yet or not.
pub mod attr {
    pub use super::alarms_attr::*;
    pub use super::bucket_encryption_attr::*;
    pub use super::function_attr::*;
    pub use super::image_attr::*;
    pub use super::logs_attr::*;
    pub use super::on_failure_attr::*;
    pub use super::queue_attr::*;
    pub use super::state_attr::*;
    pub use super::stream_attr::*;
    pub use super::trigger_attr::*;
    // Names of more than one block: said which, so the globs agree.
    pub use super::stream_attr::{
        BATCH_SIZE, MAXIMUM_BATCHING_WINDOW, MAXIMUM_RETRY_ATTEMPTS, REPORT_BATCH_ITEM_FAILURES,
    };
}

/// Paths for diagnostics, built from [`attr`] names.
pub mod path {
    use tfsdk::diag::AttrPath;

    use super::attr;

    /// A top-level attribute.
    pub fn top(name: &str) -> AttrPath {
        AttrPath::attrs([name])
    }

    /// An attribute of the `function` block.
    pub fn function(name: &str) -> AttrPath {
        AttrPath::attrs([attr::FUNCTION, name])
    }

    /// An attribute of the `on_failure` block.
    pub fn on_failure(name: &str) -> AttrPath {
        AttrPath::attrs([attr::ON_FAILURE, name])
    }

    /// An attribute of the `logs` block.
    pub fn logs(name: &str) -> AttrPath {
        AttrPath::attrs([attr::LOGS, name])
    }

    /// An attribute of the `alarms` block.
    pub fn alarms(name: &str) -> AttrPath {
        AttrPath::attrs([attr::ALARMS, name])
    }

    /// An attribute of the `queue` block.
    pub fn queue(name: &str) -> AttrPath {
        AttrPath::attrs([attr::QUEUE, name])
    }

    /// An attribute of the `stream` block.
    pub fn stream(name: &str) -> AttrPath {
        AttrPath::attrs([attr::STREAM, name])
    }

    /// An attribute of the `bucket_encryption` block.
    pub fn bucket_encryption(name: &str) -> AttrPath {
        AttrPath::attrs([attr::BUCKET_ENCRYPTION, name])
    }

    /// The `trigger` block at `index`.
    pub fn trigger(index: usize) -> AttrPath {
        AttrPath::attrs([attr::TRIGGER]).index(index)
    }
}

/// The field type of a block that may be absent.
pub type SingleOptional<M, B> = <M as Mode>::Opt<B>;
/// The field type of a block that is always there.
pub type SingleRequired<M, B> = <B as OfMode<M>>::Itself;
/// The field type of a list of blocks.
pub type List<M, B> = <M as Mode>::Set<Vec<B>>;

/// `B` itself, named with the mode so the three field types take the same
/// parameters.
pub trait OfMode<M> {
    type Itself;
}

impl<M, B> OfMode<M> for B {
    type Itself = B;
}

/// Values a state attribute can hold.
pub trait Val: Clone + Debug + PartialEq + 'static {}
impl<T: Clone + Debug + PartialEq + 'static> Val for T {}

/// How a state holds its values: see the module documentation.
pub trait Mode: Clone + Debug + PartialEq + 'static {
    /// An attribute that has a value (required, defaulted or computed).
    type Set<T: Val>: Val;
    /// An attribute that may be absent (optional, no default).
    type Opt<T: Val>: Val;

    fn set<T: Val>(f: Field<T>, path: AttrPath) -> Result<Self::Set<T>, AccessError>;
    fn opt<T: Val>(f: Field<T>, path: AttrPath) -> Result<Self::Opt<T>, AccessError>;
    fn set_field<T: Val>(v: &Self::Set<T>) -> Field<&T>;
    fn opt_field<T: Val>(v: &Self::Opt<T>) -> Field<&T>;
}

/// Every value known: a state Terraform recorded or will record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known;

/// Values may be unknown or null: a configuration or a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planning;

impl Mode for Known {
    type Set<T: Val> = T;
    type Opt<T: Val> = Option<T>;

    fn set<T: Val>(f: Field<T>, path: AttrPath) -> Result<T, AccessError> {
        tfsdk::access::require(f, path)
    }

    fn opt<T: Val>(f: Field<T>, path: AttrPath) -> Result<Option<T>, AccessError> {
        match f {
            Field::Known(v) => Ok(Some(v)),
            Field::Null => Ok(None),
            Field::Unknown => Err(AccessError {
                path,
                expected: "a known value (it is still unknown)",
            }),
        }
    }

    fn set_field<T: Val>(v: &T) -> Field<&T> {
        Field::Known(v)
    }

    fn opt_field<T: Val>(v: &Option<T>) -> Field<&T> {
        v.as_ref().map_or(Field::Null, Field::Known)
    }
}

impl Mode for Planning {
    type Set<T: Val> = Field<T>;
    type Opt<T: Val> = Field<T>;

    fn set<T: Val>(f: Field<T>, _path: AttrPath) -> Result<Field<T>, AccessError> {
        Ok(f)
    }

    fn opt<T: Val>(f: Field<T>, _path: AttrPath) -> Result<Field<T>, AccessError> {
        Ok(f)
    }

    fn set_field<T: Val>(v: &Field<T>) -> Field<&T> {
        v.as_ref()
    }

    fn opt_field<T: Val>(v: &Field<T>) -> Field<&T> {
        v.as_ref()
    }
}

pub type Tags = BTreeMap<String, String>;

/// `source_files`: package path → short hash.
pub type SourceFiles = BTreeMap<String, String>;

/// Past this many files, `source_files` is empty and only
/// `source_file_count` is kept, so the state stays small.
pub const MAX_LISTED_FILES: usize = 1000;

/// `source_files` and `source_file_count` of a source's (path, short hash)
/// list.
pub fn listed_files(files: Vec<(String, String)>) -> (SourceFiles, i64) {
    let count = i64::try_from(files.len()).unwrap_or(i64::MAX);
    if files.len() > MAX_LISTED_FILES {
        (SourceFiles::new(), count)
    } else {
        (files.into_iter().collect(), count)
    }
}

/// The two ways a function is deployed (`function.package_type`).
pub const PACKAGE_ZIP: &str = "zip";
pub const PACKAGE_IMAGE: &str = "image";

/// The two ways S3 events reach the function.
pub const DELIVERY_DIRECT: &str = "direct";
pub const DELIVERY_QUEUE: &str = "queue";

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

// ---- the declaration: one row per attribute ------------------------------

declare_block! {
    /// A pipeline: every attribute of `eventpipe_event_pipeline`.
    pub struct State, constants state_attr,
    "An S3 bucket whose new objects are processed by a Lambda function: bucket, \
    IAM role with a least-privilege inline policy, function packaged from a local \
    directory, invoke permission for S3 and bucket notification, created, updated \
    and destroyed together.";
    attributes {
        ID id: Set(String)
            .computed()
            .describe("Identifier of the pipeline; equal to `name`.");
        NAME name: Set(String)
            .required()
            .describe(
                "Name of the pipeline. Names the Lambda function (`name`, unless \
                `function_name` is set), the IAM role (`name-role`, unless `role_name` is \
                set), the queues (`name-failed`, `name-events`) and the stream, and tags \
                every part. Changing it retags every part in place, unless a part the \
                pipeline has takes its name from it (the function or the role not named \
                explicitly, the queues or the stream the pipeline makes): then it replaces \
                the pipeline. The plan's warning says which.",
            )
            .validate(rules::name_validator());
        BUCKET_NAME bucket_name: Set(String)
            .optional_computed()
            .force_new()
            .describe(
                "Name of the S3 bucket to create, or with `create_bucket = false` of the \
                existing bucket to use (then required). When not set, a name is derived \
                from `name`, the account and the region, and shown in the plan. Changing \
                it replaces the pipeline.",
            )
            .validate(rules::bucket_validator());
        /// `false`: the bucket exists and belongs to someone else; the
        /// pipeline only adds its notifications to it.
        CREATE_BUCKET create_bucket: Set(bool)
            .default(Value::Bool(true))
            .describe(
                "When `true` (the default), the pipeline creates its bucket and manages it: \
                public access block, default encryption, the TLS-only policy and tags. \
                When `false`, `bucket_name` names an existing bucket that the pipeline \
                never creates, configures or deletes: it only adds its own notification \
                configurations and removes them on destroy, keeping every other \
                configuration on the bucket as it is. Changing it never replaces the \
                pipeline: `false` to `true` takes ownership of the bucket in place, \
                `true` to `false` lets go of it (its tags are removed; destroy leaves it).",
            );
        FORCE_DESTROY force_destroy: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "When `true`, destroying the pipeline first deletes every object (and \
                object version) in the bucket. When `false` (the default), destroying a \
                pipeline whose bucket still holds objects fails and deletes nothing.",
            );
        OUTPUT_PREFIX output_prefix: Opt(String)
            .optional().describe(
                "Key prefix under which the function may write its results back into the same \
                bucket (grants `s3:PutObject` on `bucket/output_prefix*` only). No trigger may \
                match keys under it — otherwise every result would invoke the function again — \
                and the plan refuses a configuration where one would.",
            );
        REQUIRE_TLS require_tls: Set(bool)
            .default(Value::Bool(true))
            .describe(
                "When `true` (the default), the bucket policy denies every request that \
                does not use TLS. Only turn this off for emulators that cannot evaluate \
                the policy's condition.",
            );
        TAGS tags: Opt(Tags)
            .optional().describe(
                "Tags for every part the pipeline creates, merged over the provider's \
                `default_tags` (these win on conflicts).",
            );
        TAGS_ALL tags_all: Set(Tags)
            .computed().describe(
                "All tags applied to the parts: the provider's `default_tags` merged with `tags`.",
            );
        /// Empty when the bucket went missing (see [`State::mark_missing`]).
        BUCKET_ARN bucket_arn: Set(String)
            .computed()
            .describe("ARN of the bucket.");
        ROLE_NAME role_name: Set(String)
            .optional_computed()
            .force_new()
            .describe(
                "Name of the function's IAM execution role. Defaults to `<name>-role` for \
                a new pipeline; an adopted pipeline (`terraform import … \
                adopt:<function-name>`) keeps its role's own name without setting this. \
                Changing it replaces the pipeline.",
            )
            .validate(rules::role_name_validator());
        /// Empty when the role went missing.
        ROLE_ARN role_arn: Set(String)
            .computed()
            .describe("ARN of the function's IAM execution role.");
        FUNCTION_NAME function_name: Set(String)
            .optional_computed()
            .force_new()
            .describe(
                "Name of the Lambda function. Defaults to `name` for a new pipeline; an \
                adopted pipeline keeps its function's own name without setting this. \
                Changing it replaces the pipeline.",
            )
            .validate(rules::function_name_validator());
        /// Empty when the function went missing.
        FUNCTION_ARN function_arn: Set(String)
            .computed()
            .describe("ARN of the Lambda function.");
        /// Empty when the invoke permission went missing.
        S3_PERMISSION_ID s3_permission_id: Set(String)
            .computed().describe(
                "Statement id of the function permission that lets S3 (only for this bucket and \
                account) invoke the function. Empty when the permission went missing.",
            );
        /// Package path → short hash of each file of the source, so a plan names
        /// the files that changed; empty past [`MAX_LISTED_FILES`] files.
        SOURCE_FILES source_files: Set(SourceFiles)
            .computed().describe(
                "The files of `function.source_dir` as packaged: each path in the package mapped \
                to the first 12 hex digits of the SHA-256 of its content, with `+x` for an \
                executable file. A plan shows which files changed. Past 1000 files the map is \
                empty and only `source_file_count` is kept, so the state stays small.",
            );
        /// How many files the source has (listed or not).
        SOURCE_FILE_COUNT source_file_count: Set(i64)
            .computed().describe(
                "How many files `function.source_dir` packages, listed in `source_files` or not.",
            );
        SOURCE_CODE_HASH source_code_hash: Set(String)
            .computed().describe(
                "SHA-256 (hex) of the packaged source: every file under `function.source_dir` \
                with its relative path and executable bit (and, with `requirements_file`, the \
                dependency inputs). For `package_type = \"image\"` it also covers the package \
                type and the base image's digest (`image_base_digest`), so a base that moved \
                is a code change. Computed at plan time, so an edited handler file shows up as \
                a change in the plan.",
            );
        /// With `package_type = "image"`: the image the function runs.
        IMAGE_URI image_uri: Opt(String)
            .computed().describe(
                "With `package_type = \"image\"`: the image the function runs, \
                `<registry>/<repository>@sha256:<digest>`. Null for a zip.",
            );
        /// The base image's digest resolved at plan time.
        IMAGE_BASE_DIGEST image_base_digest: Opt(String)
            .computed().describe(
                "With `package_type = \"image\"`: the digest (`sha256:…`) the base image \
                resolved to at plan time for `architecture`. `source_code_hash` covers it.",
            );
        /// The repository the image is pushed to.
        IMAGE_REPOSITORY_URL image_repository_url: Opt(String)
            .computed().describe(
                "With `package_type = \"image\"`: the URL of the ECR repository the image \
                is pushed to, `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`.",
            );
        /// Empty when the inline policy went missing.
        POLICY_JSON policy_json: Set(String)
            .computed().describe(
                "The exact inline IAM policy given to the function's role, shown in the plan \
                whenever the bucket name is known, so reviewers see every permission granted: \
                `s3:GetObject` on this bucket's objects (narrowed to the trigger prefixes when \
                every trigger has one), `s3:PutObject` under `output_prefix` when it is set, \
                and writing logs to the function's own log group.",
            );
        /// The ids of the bucket notification configurations the pipeline
        /// owns, one per trigger.
        NOTIFICATION_IDS notification_ids: Set(Vec<String>)
            .computed()
            .describe(
                "Ids of the bucket notification configurations the pipeline owns, one per \
                trigger (`eventpipe-<name>-<index>`). Configurations with other ids on \
                the bucket are never changed.",
            );
        /// Invoke the function for matching objects already in the bucket when
        /// the pipeline or a trigger is created.
        BACKFILL backfill: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "When `true`, creating the pipeline or adding a trigger also processes the \
                objects already in the bucket that the new trigger matches: the function \
                is invoked once per object, asynchronously, with the event S3 sends for a \
                new object (`ObjectCreated:Put`). Delivery is at least once, as S3's own; \
                an interrupted backfill resumes where it stopped on the next apply.",
            );
        BACKFILLED_OBJECTS backfilled_objects: Set(i64)
            .computed()
            .describe(
                "How many existing objects backfill has sent to the function so far.",
            );
        /// Where failed events go: the queue the function's invoke
        /// configuration names (null without `on_failure`).
        FAILURE_QUEUE_ARN failure_queue_arn: Opt(String)
            .computed().describe(
                "ARN of the SQS queue the function's failed events go to: `on_failure.queue_arn`, \
                or the queue `<name>-failed` the pipeline makes. Null without `on_failure`.",
            );
        /// The URL of the failure queue the pipeline made; empty when it went
        /// missing.
        FAILURE_QUEUE_URL failure_queue_url: Opt(String)
            .computed().describe(
                "URL of the failure queue the pipeline makes (read failed events from it). Null \
                without `on_failure` or with `on_failure.queue_arn`.",
            );
        /// The function's log group; empty when it went missing.
        LOG_GROUP_NAME log_group_name: Set(String)
            .computed().describe(
                "The function's CloudWatch Logs group, `/aws/lambda/<function_name>`. The \
                pipeline makes it before the function (so the role needs no right to create \
                it), with its retention and tags; a group of that name that exists already \
                (Lambda makes one for a function wired by hand) is adopted, not duplicated.",
            );
        /// The retention the log group has.
        LOG_GROUP_RETENTION_IN_DAYS log_group_retention_in_days: Opt(i64)
            .computed()
            .describe(
                "How many days the log group keeps events: `logs.retention_in_days`, 30 \
                without a `logs` block. A change made outside Terraform shows here.",
            );
        /// `direct` (S3 invokes the function) or `queue` (S3 notifies a queue
        /// the function drains).
        DELIVERY delivery: Set(String)
            .default(Value::String("direct".into()))
            .describe(
                "How S3 events reach the function. `direct` (the default): S3 invokes the \
                function for each object, asynchronously. `queue`: S3 notifies an SQS \
                queue `<name>-events` that the pipeline makes, and Lambda drains it in \
                batches with bounded concurrency (the `queue` block) — for bursts of \
                uploads and for downstream systems that must not be flooded. Changing \
                it re-points the triggers in place: the new path is made before the old \
                one goes.",
            )
            .validate(Validator::OneOf(&["direct", "queue"]));
        /// The stream the function reads: the one the pipeline makes, or
        /// `stream.arn`.
        STREAM_ARN stream_arn: Opt(String)
            .computed().describe(
                "ARN of the Kinesis stream the function reads (with a `stream` block).",
            );
        /// The stream's name; empty when the pipeline's stream went missing.
        STREAM_NAME stream_name: Opt(String)
            .computed().describe(
                "Name of that stream (`<name>` for the stream the pipeline makes).",
            );
        /// The event source mapping from the stream; empty when missing.
        STREAM_MAPPING_ID stream_mapping_id: Opt(String)
            .computed().describe(
                "UUID of the event source mapping from the stream to the function.",
            );
        /// The queue S3 notifies with `delivery = "queue"`.
        EVENT_QUEUE_ARN event_queue_arn: Opt(String)
            .computed().describe(
                "ARN of the queue S3 notifies with `delivery = \"queue\"`.",
            );
        /// Its URL; empty when it went missing.
        EVENT_QUEUE_URL event_queue_url: Opt(String)
            .computed().describe(
                "URL of that queue.",
            );
        /// The event source mapping from that queue; empty when missing.
        QUEUE_MAPPING_ID queue_mapping_id: Opt(String)
            .computed().describe(
                "UUID of the event source mapping from that queue to the function.",
            );
        /// Kind → ARN of each alarm the pipeline has; a kind whose alarm
        /// went missing or was edited is left out (null without `alarms`).
        ALARM_ARNS alarm_arns: Opt(Tags)
            .computed().describe(
                "With an `alarms` block: the ARN of each CloudWatch alarm the pipeline makes, by \
                kind (`failed-events`, `error-rate`, `throttles`, `queue-age`, `iterator-age`). \
                Only the kinds that fit the pipeline are there. An alarm deleted or edited \
                outside Terraform shows here as a change in the next plan.",
            );
        /// The topic the alarms notify.
        ALARM_TOPIC_ARN alarm_topic_arn: Opt(String)
            .computed().describe(
                "With an `alarms` block: the SNS topic the alarms notify, `alarms.topic_arn` or \
                the topic `<name>-alarms` the pipeline makes for `alarms.emails`.",
            );
    }
    blocks {
        ALARMS alarms: SingleOptional(AlarmsBlock);
        STREAM stream: SingleOptional(StreamBlock);
        QUEUE queue: SingleOptional(QueueBlock);
        ON_FAILURE on_failure: SingleOptional(OnFailure);
        LOGS logs: SingleOptional(Logs);
        BUCKET_ENCRYPTION bucket_encryption: SingleOptional(BucketEncryption);
        FUNCTION function: SingleRequired(Function);
        TRIGGER trigger: List(Trigger, 1, 0);
    }
}

declare_block! {
    /// The `alarms` block.
    pub struct AlarmsBlock, constants alarms_attr,
    "CloudWatch alarms on the pipeline, each a metric alarm `<name>-<kind>`, tagged, that \
    notifies an SNS topic when it goes into ALARM and when it is OK again (missing data counts \
    as OK). Only the alarms that fit the pipeline's parts are made: `failed-events` with \
    `on_failure`, `queue-age` with `delivery = \"queue\"`, `iterator-age` with a `stream`. \
    Set exactly one of `topic_arn` and `emails`.";
    attributes {
        /// A topic of the user's; the pipeline never makes or deletes it.
        TOPIC_ARN topic_arn: Opt(String)
            .optional()
            .describe(
                "An existing SNS topic the alarms notify, in the provider's region (CloudWatch \
                alarm actions must be). The pipeline never changes or deletes it.",
            )
            .validate(rules::topic_arn_validator());
        /// The pipeline makes `<name>-alarms` with these subscriptions.
        EMAILS emails: Opt(Vec<String>)
            .optional()
            .describe(
                "Email addresses to notify: the pipeline makes the topic `<name>-alarms`, \
                tagged, with one email subscription each (SNS mails each address a link to \
                confirm it). An address removed from the list is unsubscribed. Destroy \
                deletes the topic, with a warning naming the confirmed subscriptions it \
                takes with it.",
            )
            .validate(rules::emails_validator());
        FAILED_EVENTS failed_events: Set(bool)
            .default(Value::Bool(true))
            .describe(
                "With `on_failure`: alarm `failed-events` when the failure queue the pipeline \
                makes holds messages (SQS `ApproximateNumberOfMessagesVisible` > 0).",
            );
        ERROR_RATE_PERCENT error_rate_percent: Opt(f64)
            .optional()
            .describe(
                "Alarm `error-rate` when the function's errors are more than this percentage \
                of its invocations over 5 minutes (metric math, `100 * Errors / \
                Invocations`). Not set: no such alarm (the module sets 5).",
            )
            .validate(rules::percent_validator());
        THROTTLES throttles: Set(bool)
            .default(Value::Bool(true))
            .describe("Alarm `throttles` when Lambda throttles the function (`Throttles` > 0 over 5 minutes).");
        QUEUE_AGE_SECONDS queue_age_seconds: Set(i64)
            .default(int(DEFAULT_ALARM_AGE_S))
            .describe(
                "With `delivery = \"queue\"`: alarm `queue-age` when the oldest message of the \
                event queue is older than this many seconds (`ApproximateAgeOfOldestMessage`).",
            )
            .validate(Validator::IntBetween(1, 1_209_600));
        ITERATOR_AGE_SECONDS iterator_age_seconds: Set(i64)
            .default(int(DEFAULT_ALARM_AGE_S))
            .describe(
                "With a `stream`: alarm `iterator-age` when the function reads records older \
                than this many seconds (Lambda's `IteratorAge`, maximum over 5 minutes).",
            )
            .validate(Validator::IntBetween(1, 31_536_000));
    }
    blocks {
    }
}

declare_block! {
    /// The `stream` block.
    pub struct StreamBlock, constants stream_attr,
    "A Kinesis data stream the function reads in batches: the one the pipeline makes \
    (`<name>`, encrypted with the AWS-managed key, tagged), or an existing one (`arn`), \
    which the pipeline never makes or deletes. The role may read this stream only.";
    attributes {
        /// An existing stream to read; without it the pipeline makes one.
        ARN arn: Opt(String)
            .optional()
            .describe("An existing stream to read instead of making one.")
            .validate(rules::stream_arn_validator());
        SHARD_COUNT shard_count: Opt(i64)
            .optional()
            .describe("Shards of the stream the pipeline makes; not set: on-demand capacity.")
            .validate(Validator::IntBetween(1, 10_000));
        RETENTION_PERIOD retention_period: Set(i64)
            .default(int(24))
            .describe("Hours the stream the pipeline makes keeps records.")
            .validate(Validator::IntBetween(24, 8760));
        STARTING_POSITION starting_position: Set(String)
            .default(Value::String("LATEST".into()))
            .describe(
                "Where the mapping starts reading: `LATEST` or `TRIM_HORIZON`. Changing it \
                makes the mapping again, which then starts there.",
            )
            .validate(Validator::OneOf(&["LATEST", "TRIM_HORIZON"]));
        BATCH_SIZE batch_size: Set(i64)
            .default(int(100))
            .describe("Records per invocation, at most.")
            .validate(Validator::IntBetween(1, 10_000));
        MAXIMUM_BATCHING_WINDOW maximum_batching_window: Set(i64)
            .default(int(0))
            .describe("Seconds Lambda may wait to fill a batch.")
            .validate(Validator::IntBetween(0, 300));
        PARALLELIZATION_FACTOR parallelization_factor: Set(i64)
            .default(int(1))
            .describe("Batches per shard processed at once.")
            .validate(Validator::IntBetween(1, 10));
        BISECT_BATCH_ON_FUNCTION_ERROR bisect_batch_on_function_error: Set(bool)
            .default(Value::Bool(false))
            .describe("Split a failed batch in two and retry each half.");
        MAXIMUM_RETRY_ATTEMPTS maximum_retry_attempts: Set(i64)
            .default(int(-1))
            .describe("Retries of a failed batch; -1 retries until the records expire.")
            .validate(Validator::IntBetween(-1, 10_000));
        MAXIMUM_RECORD_AGE maximum_record_age: Set(i64)
            .default(int(-1))
            .describe(
                "Seconds after which a record is no longer sent (60 to 604800); -1 means no \
                limit. With `on_failure`, records of batches given up go to its queue.",
            )
            .validate(rules::record_age_validator());
        REPORT_BATCH_ITEM_FAILURES report_batch_item_failures: Set(bool)
            .default(Value::Bool(false))
            .describe("The function may report which records of a batch failed.");
        ALLOW_PUT_RECORDS allow_put_records: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "Also let the function write to the stream (`kinesis:PutRecord`, \
                `kinesis:PutRecords`, shown in `policy_json`), e.g. to publish its results \
                for real-time consumers.",
            );
    }
    blocks {
    }
}

declare_block! {
    /// The `queue` block (for `delivery = "queue"`).
    pub struct QueueBlock, constants queue_attr,
    "How the event queue of `delivery = \"queue\"` is drained. The queue is encrypted and \
    accepts messages only from this bucket in this account; with `on_failure`, a \
    message received `max_receive_count` times goes to the failure queue.";
    attributes {
        VISIBILITY_TIMEOUT visibility_timeout: Set(i64)
            .optional_computed()
            .describe(
                "Seconds a message being processed stays hidden; defaults to 6 × the \
                function's timeout, and may not be less than the timeout.",
            )
            .validate(Validator::IntBetween(0, 43_200));
        MAX_RECEIVE_COUNT max_receive_count: Set(i64)
            .default(int(5))
            .describe("Receives before a message goes to the failure queue (with `on_failure`).")
            .validate(Validator::IntBetween(1, 1000));
        BATCH_SIZE batch_size: Set(i64)
            .default(int(10))
            .describe("Messages per invocation, at most; above 10 needs `maximum_batching_window`.")
            .validate(Validator::IntBetween(1, 10_000));
        MAXIMUM_BATCHING_WINDOW maximum_batching_window: Set(i64)
            .default(int(0))
            .describe("Seconds Lambda may wait to fill a batch.")
            .validate(Validator::IntBetween(0, 300));
        MAXIMUM_CONCURRENCY maximum_concurrency: Opt(i64)
            .optional()
            .describe("Invocations draining the queue at once, at most (2 to 1000).")
            .validate(Validator::IntBetween(2, 1000));
        REPORT_BATCH_ITEM_FAILURES report_batch_item_failures: Set(bool)
            .default(Value::Bool(false))
            .describe("The function may report which messages of a batch failed.");
    }
    blocks {
    }
}

declare_block! {
    /// The `on_failure` block. The numbers are absent in a refreshed state
    /// when the function has no invoke configuration any more.
    pub struct OnFailure, constants on_failure_attr,
    "What happens to events the function fails to process. S3 invokes the function \
    asynchronously: Lambda retries a failed event, then, with this block, sends it to a \
    queue instead of dropping it.";
    attributes {
        MAXIMUM_RETRY_ATTEMPTS maximum_retry_attempts: Opt(i64)
            .default(Value::Number(Number::from(2i64)))
            .describe("How many times Lambda retries a failed event before giving it up.")
            .validate(Validator::IntBetween(0, 2));
        MAXIMUM_EVENT_AGE maximum_event_age: Opt(i64)
            .default(Value::Number(Number::from(21_600i64)))
            .describe(
                "How long, in seconds, Lambda keeps an event it could not process yet before \
                giving it up.",
            )
            .validate(Validator::IntBetween(60, 21_600));
        /// An existing queue; without it the pipeline makes `<name>-failed`.
        QUEUE_ARN queue_arn: Opt(String)
            .optional()
            .describe(
                "An existing SQS queue for the failed events. When not set, the pipeline makes \
                the queue `<name>-failed` (server-side encryption, 14 days' retention, the \
                pipeline's tags) and deletes it on destroy; a destroy refuses, deleting \
                nothing, while it holds messages, unless `force_delete` (or `force_destroy`) \
                is `true`. The role may send to this queue only (`sqs:SendMessage`, shown in \
                `policy_json`).",
            )
            .validate(rules::queue_arn_validator());
        /// The queue the pipeline made may be deleted while it holds failed
        /// events.
        FORCE_DELETE force_delete: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "When `true`, the queue `<name>-failed` the pipeline made may be deleted while \
                it holds failed events: by a destroy, a replacement, or an update that removes \
                this block or sets `queue_arn`. When `false` (the default), those refuse, \
                deleting nothing, until the queue is empty. Unlike `force_destroy`, which is \
                about the bucket's objects, it works with `create_bucket = false`. A queue of \
                yours (`queue_arn`) is never deleted.",
            );
    }
    blocks {
    }
}

declare_block! {
    /// The `logs` block.
    pub struct Logs, constants logs_attr,
    "The function's log group. Without this block the pipeline still makes the group, \
    with 30 days' retention.";
    attributes {
        RETENTION_IN_DAYS retention_in_days: Set(i64)
            .default(Value::Number(Number::from(30i64)))
            .describe("How many days the group keeps log events.")
            .validate(rules::retention_validator());
        FORMAT format: Set(String)
            .default(Value::String("Text".into()))
            .describe("How the function writes its logs: `Text` or `JSON`.")
            .validate(Validator::OneOf(&["Text", "JSON"]));
        APPLICATION_LOG_LEVEL application_log_level: Opt(String)
            .optional()
            .describe("With `format = \"JSON\"`: the lowest level of the function's own log lines that are kept.")
            .validate(Validator::OneOf(&["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]));
        SYSTEM_LOG_LEVEL system_log_level: Opt(String)
            .optional()
            .describe("With `format = \"JSON\"`: the lowest level of Lambda's own log lines that are kept.")
            .validate(Validator::OneOf(&["DEBUG", "INFO", "WARN"]));
        KEEP_ON_DESTROY keep_on_destroy: Set(bool)
            .default(Value::Bool(false))
            .describe("When `true`, destroying the pipeline leaves the log group and its logs.");
    }
    blocks {
    }
}

declare_block! {
    /// The `bucket_encryption` block: the owned bucket's SSE-KMS key.
    pub struct BucketEncryption, constants bucket_encryption_attr,
    "With `create_bucket = true`: encrypt the bucket's new objects with a customer-managed KMS \
    key (SSE-KMS, with S3 Bucket Keys on) instead of SSE-S3. The role gets `kms:Decrypt` on the \
    key for the objects its triggers read (and `kms:GenerateDataKey` for `output_prefix`), \
    shown in `policy_json`. Adding, changing or removing the block is done in place; without \
    it the bucket is SSE-S3.";
    attributes {
        KMS_KEY_ARN kms_key_arn: Set(String)
            .required()
            .describe(
                "The key: its ARN, `arn:aws:kms:<region>:<account>:key/<id>`, or an alias ARN \
                `arn:aws:kms:<region>:<account>:alias/<name>`, which the plan resolves to the \
                key's ARN with `kms:DescribeKey`.",
            )
            .validate(rules::kms_key_arn_validator());
    }
    blocks {
    }
}

declare_block! {
    /// The `function` block.
    pub struct Function, constants function_attr,
    "The Lambda function that processes each new object.";
    attributes {
        SOURCE_DIR source_dir: Set(String)
            .required().describe(
                "Local directory holding the function's code. Packaged as a deterministic zip \
                (sorted entries, fixed timestamps and permissions; `__pycache__`, `.git` and \
                similar are skipped), so the same files give the same `source_code_hash` on \
                every machine.",
            );
        HANDLER handler: Set(String)
            .default(Value::String(DEFAULT_HANDLER.into()))
            .describe("Function entry point, e.g. `app.handler` for `handler()` in `app.py`.")
            .validate(Validator::LengthBetween(1, 128));
        RUNTIME runtime: Set(String)
            .default(Value::String(runtimes::DEFAULT.into()))
            .describe("Lambda runtime identifier, e.g. `python3.13` or `nodejs22.x`.")
            .validate(runtimes::validator());
        MEMORY_SIZE memory_size: Set(i64)
            .default(Value::Number(Number::from(DEFAULT_MEMORY_MB)))
            .describe("Memory for the function, in MB.")
            .validate(Validator::IntBetween(128, 10240));
        TIMEOUT timeout: Set(i64)
            .default(Value::Number(Number::from(DEFAULT_TIMEOUT_S)))
            .describe("Maximum run time of one invocation, in seconds.")
            .validate(Validator::IntBetween(1, 900));
        ENVIRONMENT environment: Opt(Tags)
            .optional()
            .sensitive()
            .describe(
                "Environment variables for the function. Sensitive: values never appear \
                in plans or logs.",
            );
        ARCHITECTURE architecture: Set(String)
            .default(Value::String(DEFAULT_ARCHITECTURE.into()))
            .describe("Instruction set of the function.")
            .validate(Validator::OneOf(&["x86_64", "arm64"]));
        DESCRIPTION description: Opt(String)
            .optional()
            .describe("Description of the function.")
            .validate(Validator::LengthBetween(0, 256));
        RESERVED_CONCURRENCY reserved_concurrency: Opt(i64)
            .optional()
            .describe(
                "Concurrent executions reserved for the function, which also caps it: a \
                burst of uploads then cannot flood what the function calls. `0` pauses \
                the function; not set leaves it unreserved.",
            )
            .validate(Validator::IntBetween(0, 100_000));
        EPHEMERAL_STORAGE ephemeral_storage: Set(i64)
            .default(Value::Number(Number::from(512i64)))
            .describe("Size of the function's `/tmp`, in MB.")
            .validate(Validator::IntBetween(512, 10_240));
        LAYERS layers: Opt(Vec<String>)
            .optional().describe(
                "Up to five layer version ARNs \
                (`arn:aws:lambda:<region>:<account>:layer:<name>:<version>`), in order.",
            );
        REQUIREMENTS_FILE requirements_file: Opt(String)
            .optional()
            .describe(
                "Python requirements installed into the package, for a Python runtime: a \
                path relative to `source_dir`, or absolute. It may also name a lock: \
                `uv.lock` or `poetry.lock` (with the `pyproject.toml` beside it), \
                `pylock.toml` or `pylock.<name>.toml`, or `pyproject.toml` (the uv or Poetry \
                lock beside it); naming one settles a `source_dir` holding both `uv.lock` \
                and `poetry.lock`, which is otherwise refused at plan. Not set: the first \
                of `uv.lock` + `pyproject.toml`, `poetry.lock` + `pyproject.toml`, \
                `pylock.toml`, `requirements.txt` in `source_dir`. A lock is installed as \
                locked, never re-resolved, with uv (`uv export --frozen --no-dev`, then \
                `uv pip install --target --python-platform <arch>-manylinux_2_34 \
                --python-version` of `runtime`; Poetry exports with `poetry export` when \
                installed); a `pyproject.toml` with a `[build-system]` also installs the \
                project's own package (a `src/` layout works); see \
                \"Dependencies: which file is used\". For a requirements file, apply runs the machine's `python3 -m pip \
                install` (or `$EVENTPIPE_PYTHON`'s) for Lambda's platform \
                (a `--platform` for each manylinux tag the runtime's OS loads, newest \
                first: `manylinux_2_34` down to `manylinux_2_17` and `manylinux2014` for \
                python3.12 and later on Amazon Linux 2023, `manylinux_2_26` down for \
                python3.9 to 3.11 on Amazon Linux 2; `x86_64` or `aarch64` after \
                `architecture`; `--implementation cp`, `--python-version` of `runtime`, \
                `--only-binary=:all:`), honouring pip's own configuration (`PIP_INDEX_URL`, \
                `PIP_FIND_LINKS`, `PIP_NO_INDEX`, pip.conf). A Node.js runtime installs a \
                `package.json` that declares `dependencies` from its one lock file: `npm ci \
                --omit=dev` for `package-lock.json`, `pnpm install --frozen-lockfile --prod` \
                (hoisted) for `pnpm-lock.yaml`, Yarn 4 (`workspaces focus --production`, the \
                `node-modules` linker) for `yarn.lock`. `source_code_hash` then also covers the \
                requirements (or lock) file's content (with `pyproject.toml` for a uv or \
                Poetry lock), the runtime, the architecture and the installer's options, \
                not the installer's version; installed trees and built zips are cached by hash \
                in `$EVENTPIPE_CACHE_DIR` (default `~/.cache/eventpipe`). A requirement \
                without `==` or `--hash` gets a warning: builds may then differ between \
                machines.",
            )
            .validate(Validator::LengthBetween(1, 4096));
        SLIM slim: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "When `true`, the installed dependencies (never the files of `source_dir`) are \
                packaged without what a function never runs: directories named `tests` or \
                `test` (kept whole when a module that stays imports from one, as \
                `numpy.testing` does), `conftest.py`, `__pycache__`, C and C++ headers (`.h`, `.hh`, `.hpp`, `.hxx`, `.h++`, \
                `.cuh`), type stubs and Cython sources (`.pyi`, `.pyx`, `.pxd`, `.pxi`); and \
                their shared objects (`*.so`, `*.so.N`) are stripped of debug sections and \
                static symbols, as `strip --strip-unneeded` does, keeping what the dynamic \
                loader reads (a file that cannot be read as ELF is kept as it is). The slim \
                tree is made from the cached installed tree, so turning this on or off \
                installs nothing again; the 250 MB limit counts the slim size. With \
                dependencies, `source_code_hash` covers it; without, it changes nothing.",
            );
        PACKAGE_BUCKET package_bucket: Opt(String)
            .optional()
            .describe(
                "Bucket for packages over Lambda's 50 MB direct-upload limit (staged under \
                `.eventpipe/packages/<function>/` and deployed from S3). Not set: the \
                pipeline's own bucket, whose triggers may then not match \
                `.eventpipe/packages/`. Required when `create_bucket = false` and the \
                package may need staging: it has dependencies, or its source is over 45 MB \
                unzipped (the zipped size is only known at apply). The provider's \
                credentials need `s3:PutObject`, `s3:PutObjectTagging`, `s3:GetObject` and \
                `s3:DeleteObject` on it; the function's role needs nothing.",
            )
            .validate(Validator::LengthBetween(3, 63));
        PACKAGE_TYPE package_type: Set(String)
            .default(Value::String(PACKAGE_ZIP.into()))
            .describe(
                "How the function is deployed: `zip` (the default), a deterministic zip of at \
                most 250 MB unzipped with its layers; or `image`, a Lambda container image of \
                up to 10 GB, built without Docker from an AWS Lambda base image and pushed to \
                ECR (see the `image` block). Lambda cannot change a function's package type in \
                place, so changing it replaces the function alone: the bucket and its \
                objects, the queues, the stream and the log group stay.",
            )
            .validate(Validator::OneOf(&[PACKAGE_ZIP, PACKAGE_IMAGE]));
        EXCLUDE exclude: Opt(Vec<String>)
            .optional()
            .describe(
                "Files of `source_dir` left out of the package, as gitignore-style patterns \
                relative to it (`notebooks/`, `*.parquet`, `!keep.parquet`, `/top-only`, \
                `**/fixtures/`), applied before hashing and packaging, at plan and apply \
                alike: `source_files` lists only what is packaged, and a file added where \
                they leave out plans no change. Always left out: `.git/`, `__pycache__/`, \
                every `.venv/`, and the root's `node_modules/` when the provider installs \
                the dependencies. A pattern that does not parse, or that leaves out the \
                handler's file, is refused at plan.",
            );
        BUNDLE bundle: Set(bool)
            .default(Value::Bool(false))
            .describe(
                "For a Node.js runtime and a zip package: when `true`, the handler's file \
                (`handler = \"src/index.handler\"`: the first of `src/index.ts`, \
                `src/index.mts`, `src/index.js`) is bundled with esbuild (`--bundle \
                --platform=node --target=node<runtime's major> --sourcemap`, not minified) \
                into one file and its source map, and the package holds only those two: \
                `src/index.js` (CommonJS), or `src/index.mjs` (ES module) for an `.mts` \
                entry, so the handler still resolves. The AWS SDK v3 (`@aws-sdk/*`, in the \
                runtime) is left external. Dependencies the `package.json` declares are \
                installed from its lock (as without `bundle`) and bundled from that tree; \
                native addons (`.node` files) cannot be bundled. esbuild is \
                `<source_dir>/node_modules/.bin/esbuild`, else the one on `PATH` (a plan \
                error says how to install it when the bundle is not cached). \
                `source_code_hash` covers the source files (`tsconfig.json` among them; not \
                `node_modules/`), the lock, the runtime, the architecture and esbuild's \
                options, not esbuild's version; `source_files` lists the source files. \
                esbuild does not type-check, so a type error does not block a bundle: run \
                `tsc --noEmit` in your own tests.",
            );
    }
    blocks {
        IMAGE image: SingleOptional(ImageBlock);
    }
}

declare_block! {
    /// The `function` block's `image` block (with `package_type = "image"`).
    pub struct ImageBlock, constants image_attr,
    "The container image of a function with `package_type = \"image\"`: its base image \
    and the ECR repository it is pushed to. Optional: without it the base is the AWS \
    Lambda base image of `runtime` and the pipeline makes the repository.";
    attributes {
        BASE_IMAGE base_image: Opt(String)
            .optional()
            .describe(
                "The image the function's layers are appended to, e.g. \
                `public.ecr.aws/lambda/python:3.13`. Not set: the AWS Lambda base image of \
                `runtime`. Resolved at plan time to a digest for `architecture` (shown as \
                `image_base_digest`), so a base that AWS patched is a change in the plan; \
                `<ref>@sha256:<digest>` pins it. A base that moves between the plan and the \
                apply stops the apply before anything changes (Terraform reports an \
                inconsistent final plan): plan again, or pin the base.",
            )
            .validate(Validator::LengthBetween(1, 1024));
        REPOSITORY_NAME repository_name: Opt(String)
            .optional()
            .describe(
                "An existing ECR repository to push to, which the pipeline never makes or \
                deletes: destroy removes only the images it pushed. Not set: the pipeline \
                makes the repository `<name>` (in lower case), tagged, with scan on push, \
                the lifecycle policy of `keep_images` and a policy that lets Lambda pull, \
                and deletes it with its images on destroy.",
            )
            .validate(rules::repository_name_validator());
        KEEP_IMAGES keep_images: Set(i64)
            .default(int(DEFAULT_KEEP_IMAGES))
            .describe(
                "How many images the lifecycle policy of the repository the pipeline makes \
                keeps; older ones expire. The image the function runs is always among them.",
            )
            .validate(Validator::IntBetween(1, 1000));
        SCAN_ON_PUSH scan_on_push: Set(bool)
            .default(Value::Bool(DEFAULT_SCAN_ON_PUSH))
            .describe("Whether ECR scans each image pushed to the repository the pipeline makes.");
    }
    blocks {
    }
}

declare_block! {
    /// One `trigger` block.
    pub struct Trigger, constants trigger_attr,
    "A bucket notification that invokes the function. At least one is required; \
    triggers must not overlap (same event type with overlapping prefix and suffix).";
    attributes {
        EVENTS events: Set(Vec<String>)
            .default(Value::List(vec![Value::String(DEFAULT_EVENT.into())]))
            .describe("S3 event types that invoke the function.");
        FILTER_PREFIX filter_prefix: Opt(String)
            .optional()
            .describe("Only objects whose key starts with this prefix, e.g. `data/`.");
        FILTER_SUFFIX filter_suffix: Opt(String)
            .optional()
            .describe("Only objects whose key ends with this suffix, e.g. `.json`.");
    }
    blocks {
    }
}

// ---- reading and writing values ---------------------------------------------

/// A Rust type an attribute value converts to and from.
trait Attr: Val + Sized {
    /// The schema attribute of this Terraform type, before its marks.
    fn attribute(name: &'static str) -> Attribute;
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError>;
    fn write(&self) -> Value;
}

impl Attr for String {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::string(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string(name)
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Attr for bool {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::bool(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.bool(name)
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Attr for i64 {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::number(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.int(name)
    }
    fn write(&self) -> Value {
        Value::Number(Number::from(*self))
    }
}

impl Attr for f64 {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::number(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        match o.raw(name) {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            v => v
                .as_number()
                .and_then(Number::as_f64)
                .map(Field::Known)
                .ok_or(AccessError {
                    path: o.path().attr(name),
                    expected: "a number",
                }),
        }
    }
    fn write(&self) -> Value {
        Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
}

impl Attr for Tags {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::string_map(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string_map(name)
    }
    fn write(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

impl Attr for Vec<String> {
    fn attribute(name: &'static str) -> Attribute {
        Attribute::string_list(name)
    }
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string_list(name)
    }
    fn write(&self) -> Value {
        Value::List(self.iter().map(|s| Value::String(s.clone())).collect())
    }
}

fn set<M: Mode, T: Attr>(o: &Obj<'_>, name: &str) -> Result<M::Set<T>, AccessError> {
    M::set(T::read(o, name)?, o.path().attr(name))
}

fn opt<M: Mode, T: Attr>(o: &Obj<'_>, name: &str) -> Result<M::Opt<T>, AccessError> {
    M::opt(T::read(o, name)?, o.path().attr(name))
}

fn field_value<T: Attr>(f: Field<&T>) -> Value {
    match f {
        Field::Known(v) => v.write(),
        Field::Null => Value::Null,
        Field::Unknown => Value::Unknown,
    }
}

fn set_value<M: Mode, T: Attr>(v: &M::Set<T>) -> Value {
    field_value(M::set_field::<T>(v))
}

fn opt_value<M: Mode, T: Attr>(v: &M::Opt<T>) -> Value {
    field_value(M::opt_field::<T>(v))
}

/// An optional single block: absent (null), unknown, or read by `read`.
fn block<M: Mode, T: Val>(
    o: &Obj<'_>,
    name: &str,
    read: impl FnOnce(&Obj<'_>) -> Result<T, AccessError>,
) -> Result<M::Opt<T>, AccessError> {
    let field = match o.object(name)? {
        Field::Known(b) => Field::Known(read(&b)?),
        Field::Null => Field::Null,
        Field::Unknown => Field::Unknown,
    };
    M::opt(field, o.path().attr(name))
}

fn block_value<T>(f: Field<&T>, write: impl FnOnce(&T) -> Value) -> Value {
    match f {
        Field::Known(b) => write(b),
        Field::Null => Value::Null,
        Field::Unknown => Value::Unknown,
    }
}

/// A list of blocks: null (no block) read as empty, unknown, or each read by
/// `read`.
fn block_list<M: Mode, T: Val>(
    o: &Obj<'_>,
    name: &str,
    read: impl Fn(&Obj<'_>) -> Result<T, AccessError>,
) -> Result<M::Set<Vec<T>>, AccessError> {
    let field = match o.objects(name)? {
        Field::Known(list) => Field::Known(list.iter().map(read).collect::<Result<Vec<_>, _>>()?),
        Field::Null => Field::Known(Vec::new()),
        Field::Unknown => Field::Unknown,
    };
    M::set(field, o.path().attr(name))
}

fn block_list_value<T>(f: Field<&Vec<T>>, write: impl Fn(&T) -> Value) -> Value {
    match f {
        Field::Known(list) => Value::List(list.iter().map(write).collect()),
        Field::Null => Value::Null,
        Field::Unknown => Value::Unknown,
    }
}

/// A number default.
fn int(n: i64) -> Value {
    Value::Number(Number::from(n))
}

fn object<'a>(v: &'a Value, path: AttrPath, what: &'static str) -> Result<Obj<'a>, AccessError> {
    Obj::new(v, path.clone())?.ok_or(AccessError {
        path,
        expected: what,
    })
}

impl<M: Mode> State<M> {
    /// Reads a state, configuration or plan value.
    pub fn from_value(v: &Value) -> Result<State<M>, AccessError> {
        State::read(&object(v, AttrPath::root(), "a pipeline object")?)
    }

    /// The value Terraform receives: every attribute of the schema.
    pub fn to_value(&self) -> Value {
        self.write()
    }
}

impl State<Planning> {
    /// The plan as a known state, when nothing in it is unknown any more
    /// (at apply time).
    pub fn known(&self) -> Result<State<Known>, AccessError> {
        State::<Known>::from_value(&self.to_value())
    }
}

// ---- parts in the state -----------------------------------------------------

/// How a part that went missing shows in the state (and so in the next
/// plan, as a change from "" to its identifier): its identifying
/// attribute is empty. [`State::present`] reads this back.
impl State<Known> {
    /// Records that `part` does not exist.
    pub fn mark_missing(&mut self, part: Part) {
        match part {
            Part::Bucket => self.bucket_arn.clear(),
            Part::Role => self.role_arn.clear(),
            Part::Policy => self.policy_json.clear(),
            Part::Function => self.function_arn.clear(),
            Part::Permission => self.s3_permission_id.clear(),
            Part::Notification => {
                self.trigger.clear();
                self.notification_ids.clear();
            }
            Part::LogGroup => {
                self.log_group_name.clear();
                self.log_group_retention_in_days = None;
            }
            Part::FailureQueue => self.failure_queue_url = Some(String::new()),
            Part::InvokeConfig => {
                if let Some(f) = &mut self.on_failure {
                    f.maximum_retry_attempts = None;
                    f.maximum_event_age = None;
                }
            }
            Part::Stream => self.stream_name = Some(String::new()),
            Part::StreamMapping => self.stream_mapping_id = Some(String::new()),
            Part::EventQueue => self.event_queue_url = Some(String::new()),
            Part::EventQueueMapping => self.queue_mapping_id = Some(String::new()),
            Part::Repository => self.image_repository_url = Some(String::new()),
            Part::Alarms => self.alarm_arns = Some(Tags::new()),
            Part::AlarmTopic => self.alarm_topic_arn = Some(String::new()),
        }
    }

    /// The parts this state says exist.
    pub fn present(&self) -> PartSet {
        Part::ALL
            .into_iter()
            .filter(|p| match p {
                Part::Bucket => !self.bucket_arn.is_empty(),
                Part::Role => !self.role_arn.is_empty(),
                Part::Policy => !self.policy_json.is_empty(),
                Part::Function => !self.function_arn.is_empty(),
                Part::Permission => !self.s3_permission_id.is_empty(),
                Part::Notification => !self.trigger.is_empty(),
                Part::LogGroup => !self.log_group_name.is_empty(),
                Part::FailureQueue => self
                    .failure_queue_url
                    .as_deref()
                    .is_some_and(|u| !u.is_empty()),
                Part::InvokeConfig => self
                    .on_failure
                    .as_ref()
                    .is_some_and(|f| f.maximum_retry_attempts.is_some()),
                Part::Stream => filled(&self.stream_name),
                Part::StreamMapping => filled(&self.stream_mapping_id),
                Part::EventQueue => filled(&self.event_queue_url),
                Part::EventQueueMapping => filled(&self.queue_mapping_id),
                Part::Repository => filled(&self.image_repository_url),
                Part::Alarms => self.alarm_arns.as_ref().is_some_and(|arns| {
                    self.alarm_kinds()
                        .iter()
                        .all(|k| arns.get(*k).is_some_and(|a| !a.is_empty()))
                }),
                Part::AlarmTopic => self.makes_alarm_topic() && filled(&self.alarm_topic_arn),
            })
            .collect()
    }

    /// `package_type = "image"` without `image.repository_name`: the
    /// pipeline makes the image repository.
    pub fn makes_repository(&self) -> bool {
        self.function.package_type == PACKAGE_IMAGE
            && self
                .function
                .image
                .as_ref()
                .is_none_or(|i| i.repository_name.is_none())
    }

    /// `alarms.emails`: the pipeline makes the alarms' topic.
    pub fn makes_alarm_topic(&self) -> bool {
        self.alarms.as_ref().is_some_and(|a| a.emails.is_some())
    }

    /// The kinds of alarm (of [`naming::ALARM_KINDS`]) the `alarms` block
    /// asks for that fit the pipeline's parts, in that order.
    pub fn alarm_kinds(&self) -> Vec<&'static str> {
        let Some(a) = &self.alarms else {
            return Vec::new();
        };
        let [failed, errors, throttles, queue_age, iterator_age] = naming::ALARM_KINDS;
        [
            (failed, a.failed_events && self.on_failure.is_some()),
            (errors, a.error_rate_percent.is_some()),
            (throttles, a.throttles),
            (queue_age, self.queued()),
            (iterator_age, self.stream.is_some()),
        ]
        .into_iter()
        .filter_map(|(kind, fits)| fits.then_some(kind))
        .collect()
    }

    /// `delivery = "queue"`: S3 notifies the event queue.
    pub fn queued(&self) -> bool {
        self.delivery == DELIVERY_QUEUE
    }

    /// Whether the failure queue the pipeline made may be deleted while
    /// it holds failed events, by an update from `prior` that stops using
    /// it or (`prior` = `None`) by a destroy of `self`: `force_destroy`
    /// (which also empties an owned bucket), or `on_failure.force_delete`
    /// as configured, or as it was when the `on_failure` block goes.
    pub fn may_delete_failed_events(&self, prior: Option<&State<Known>>) -> bool {
        let block = self
            .on_failure
            .as_ref()
            .or_else(|| prior.and_then(|p| p.on_failure.as_ref()));
        self.force_destroy || block.is_some_and(|f| f.force_delete)
    }

    /// The parts this state's pipeline is made of.
    pub fn wanted(&self) -> PartSet {
        Part::ALL
            .into_iter()
            .filter(|p| match p {
                Part::Bucket => self.create_bucket,
                Part::FailureQueue => self
                    .on_failure
                    .as_ref()
                    .is_some_and(|f| f.queue_arn.is_none()),
                Part::InvokeConfig => self.on_failure.is_some(),
                Part::Permission => !self.queued(),
                Part::EventQueue | Part::EventQueueMapping => self.queued(),
                Part::Stream => self.stream.as_ref().is_some_and(|s| s.arn.is_none()),
                Part::StreamMapping => self.stream.is_some(),
                Part::Repository => self.makes_repository(),
                Part::Alarms => !self.alarm_kinds().is_empty(),
                Part::AlarmTopic => self.makes_alarm_topic(),
                _ => true,
            })
            .collect()
    }

    /// This state with only `parts` (of those it is made of) recorded as
    /// existing.
    pub fn with_only(&self, parts: PartSet) -> State<Known> {
        let mut s = self.clone();
        for p in self.wanted().iter() {
            if !parts.contains(p) {
                s.mark_missing(p);
            }
        }
        s
    }
}

impl Trigger<Planning> {
    /// Events, prefix and suffix when all are known (the default event
    /// filled in, "not set" and "empty" the same).
    pub fn known_filter(&self) -> Option<(Vec<String>, &str, &str)> {
        fn text(f: &Field<String>) -> Option<&str> {
            match f {
                Field::Known(s) => Some(s.as_str()),
                Field::Null => Some(""),
                Field::Unknown => None,
            }
        }
        let events = self.events.as_known()?.clone();
        Some((
            events,
            text(&self.filter_prefix)?,
            text(&self.filter_suffix)?,
        ))
    }
}

impl Trigger<Known> {
    /// The filter prefix, with "not set" and "empty" the same.
    pub fn prefix(&self) -> &str {
        self.filter_prefix.as_deref().unwrap_or("")
    }

    /// The filter suffix, with "not set" and "empty" the same.
    pub fn suffix(&self) -> &str {
        self.filter_suffix.as_deref().unwrap_or("")
    }

    /// Same events and filters, treating an empty prefix or suffix as none.
    pub fn same_as(&self, other: &Trigger<Known>) -> bool {
        self.events == other.events
            && self.prefix() == other.prefix()
            && self.suffix() == other.suffix()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::schema;

    #[test]
    fn up_to_a_thousand_files_are_listed_and_past_that_only_counted() {
        let files = |n: usize| (0..n).map(|i| (format!("f{i}"), "h".to_owned())).collect();
        let (listed, count) = listed_files(files(MAX_LISTED_FILES));
        assert_eq!((listed.len(), count), (MAX_LISTED_FILES, 1000));
        let (listed, count) = listed_files(files(MAX_LISTED_FILES + 1));
        assert_eq!((listed.len(), count), (0, 1001));
    }

    /// A stream block of the pipeline's own stream, with the schema's defaults.
    pub fn stream_block() -> StreamBlock<Known> {
        StreamBlock {
            arn: None,
            shard_count: None,
            retention_period: 24,
            starting_position: "LATEST".into(),
            batch_size: 100,
            maximum_batching_window: 0,
            parallelization_factor: 1,
            bisect_batch_on_function_error: false,
            maximum_retry_attempts: -1,
            maximum_record_age: -1,
            report_batch_item_failures: false,
            allow_put_records: false,
        }
    }

    /// A known state of pipeline `name`, as a create would record it.
    pub fn known_state(name: &str) -> State<Known> {
        State {
            id: name.into(),
            name: name.into(),
            bucket_name: format!("{name}-bucket"),
            create_bucket: true,
            force_destroy: false,
            output_prefix: Some("processed/".into()),
            require_tls: true,
            tags: Some(Tags::from([("team".into(), "data".into())])),
            tags_all: Tags::from([("team".into(), "data".into())]),
            bucket_arn: format!("arn:aws:s3:::{name}-bucket"),
            role_name: format!("{name}-role"),
            role_arn: format!("arn:aws:iam::123456789012:role/{name}-role"),
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            s3_permission_id: "eventpipe-s3-invoke".into(),
            source_code_hash: "ab".repeat(32),
            source_files: SourceFiles::from([("main.py".into(), "0123456789ab".into())]),
            source_file_count: 1,
            image_uri: None,
            image_base_digest: None,
            image_repository_url: None,
            policy_json: "{}".into(),
            notification_ids: vec![format!("eventpipe-{name}-0")],
            backfill: false,
            backfilled_objects: 0,
            failure_queue_arn: None,
            failure_queue_url: None,
            log_group_name: format!("/aws/lambda/{name}"),
            log_group_retention_in_days: Some(30),
            delivery: DELIVERY_DIRECT.into(),
            stream_arn: None,
            stream_name: None,
            stream_mapping_id: None,
            event_queue_arn: None,
            event_queue_url: None,
            queue_mapping_id: None,
            alarm_arns: None,
            alarm_topic_arn: None,
            alarms: None,
            on_failure: None,
            logs: None,
            bucket_encryption: None,
            stream: None,
            queue: None,
            function: Function {
                source_dir: "/src".into(),
                handler: "app.handler".into(),
                runtime: "python3.12".into(),
                memory_size: 512,
                timeout: 60,
                environment: None,
                architecture: "x86_64".into(),
                description: Some(String::new()),
                reserved_concurrency: None,
                ephemeral_storage: 512,
                layers: None,
                requirements_file: None,
                slim: false,
                package_bucket: None,
                package_type: PACKAGE_ZIP.into(),
                image: None,
                exclude: None,
                bundle: false,
            },
            trigger: vec![Trigger {
                events: vec!["s3:ObjectCreated:*".into()],
                filter_prefix: Some("data/".into()),
                filter_suffix: None,
            }],
        }
    }

    #[test]
    fn a_known_state_round_trips_and_matches_the_schema_type() {
        let s = known_state("orders");
        let v = s.to_value();
        let ty = schema::schema().value_type();
        assert!(tfsdk::value::encode_msgpack(&v, &ty).is_ok(), "{v:?}");
        assert_eq!(State::<Known>::from_value(&v).unwrap(), s);
        // The same value read for planning gives the same value back.
        assert_eq!(State::<Planning>::from_value(&v).unwrap().to_value(), v);
    }

    #[test]
    fn planning_keeps_unknown_and_null_values() {
        let mut v = known_state("orders").to_value();
        if let Value::Object(m) = &mut v {
            m.insert(attr::NAME.into(), Value::Unknown);
            m.insert(attr::TAGS.into(), Value::Null);
            m.insert(attr::TRIGGER.into(), Value::Unknown);
        }
        let p = State::<Planning>::from_value(&v).unwrap();
        assert!(p.name.is_unknown());
        assert!(p.tags.is_null());
        assert!(p.trigger.is_unknown());
        assert_eq!(p.to_value(), v);
        let err = State::<Known>::from_value(&v).unwrap_err();
        assert_eq!(err.path, AttrPath::attrs([attr::NAME]));
    }

    #[test]
    fn a_missing_part_shows_as_an_empty_identifier_and_reads_back() {
        let mut s = known_state("orders");
        assert_eq!(s.present(), s.wanted());
        s.mark_missing(Part::Function);
        s.mark_missing(Part::Permission);
        assert!(s.function_arn.is_empty());
        let present = s.present();
        assert!(!present.contains(Part::Function));
        assert!(!present.contains(Part::Permission));
        assert!(present.contains(Part::Bucket));
        let only = known_state("orders").with_only(PartSet::from([Part::Role]));
        assert_eq!(only.present(), PartSet::from([Part::Role]));
    }

    #[test]
    fn every_schema_attribute_has_a_place_in_the_state() {
        // A value with every attribute of the schema set survives the trip
        // through the typed state: no attribute is dropped.
        let ty = schema::schema().value_type();
        let v = known_state("orders").to_value();
        let (Value::Object(fields), tfsdk::value::Type::Object(attrs)) = (&v, &ty) else {
            panic!("objects expected");
        };
        let names: Vec<&String> = fields.keys().collect();
        let schema_names: Vec<&String> = attrs.keys().collect();
        assert_eq!(names, schema_names);
    }
}
