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
use tfsdk::value::{Number, Value};

use super::parts::{Part, PartSet};

/// Attribute and block names, as users write them.
pub mod attr {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const BUCKET_NAME: &str = "bucket_name";
    pub const FORCE_DESTROY: &str = "force_destroy";
    pub const OUTPUT_PREFIX: &str = "output_prefix";
    pub const REQUIRE_TLS: &str = "require_tls";
    pub const TAGS: &str = "tags";
    pub const TAGS_ALL: &str = "tags_all";
    pub const BUCKET_ARN: &str = "bucket_arn";
    pub const ROLE_NAME: &str = "role_name";
    pub const ROLE_ARN: &str = "role_arn";
    pub const FUNCTION_NAME: &str = "function_name";
    pub const FUNCTION_ARN: &str = "function_arn";
    pub const S3_PERMISSION_ID: &str = "s3_permission_id";
    pub const SOURCE_CODE_HASH: &str = "source_code_hash";
    pub const SOURCE_FILES: &str = "source_files";
    pub const SOURCE_FILE_COUNT: &str = "source_file_count";
    pub const POLICY_JSON: &str = "policy_json";
    pub const CREATE_BUCKET: &str = "create_bucket";
    pub const NOTIFICATION_IDS: &str = "notification_ids";
    pub const BACKFILL: &str = "backfill";
    pub const BACKFILLED_OBJECTS: &str = "backfilled_objects";
    pub const FAILURE_QUEUE_ARN: &str = "failure_queue_arn";
    pub const FAILURE_QUEUE_URL: &str = "failure_queue_url";
    pub const LOG_GROUP_NAME: &str = "log_group_name";
    pub const LOG_GROUP_RETENTION_IN_DAYS: &str = "log_group_retention_in_days";

    pub const DELIVERY: &str = "delivery";
    pub const STREAM_ARN: &str = "stream_arn";
    pub const STREAM_NAME: &str = "stream_name";
    pub const STREAM_MAPPING_ID: &str = "stream_mapping_id";
    pub const EVENT_QUEUE_ARN: &str = "event_queue_arn";
    pub const EVENT_QUEUE_URL: &str = "event_queue_url";
    pub const QUEUE_MAPPING_ID: &str = "queue_mapping_id";

    /// The `stream` block.
    pub const STREAM: &str = "stream";
    pub const ARN: &str = "arn";
    pub const SHARD_COUNT: &str = "shard_count";
    pub const RETENTION_PERIOD: &str = "retention_period";
    pub const STARTING_POSITION: &str = "starting_position";
    pub const BATCH_SIZE: &str = "batch_size";
    pub const MAXIMUM_BATCHING_WINDOW: &str = "maximum_batching_window";
    pub const PARALLELIZATION_FACTOR: &str = "parallelization_factor";
    pub const BISECT_BATCH_ON_FUNCTION_ERROR: &str = "bisect_batch_on_function_error";
    pub const MAXIMUM_RECORD_AGE: &str = "maximum_record_age";
    pub const REPORT_BATCH_ITEM_FAILURES: &str = "report_batch_item_failures";
    pub const ALLOW_PUT_RECORDS: &str = "allow_put_records";

    /// The `queue` block.
    pub const QUEUE: &str = "queue";
    pub const VISIBILITY_TIMEOUT: &str = "visibility_timeout";
    pub const MAX_RECEIVE_COUNT: &str = "max_receive_count";
    pub const MAXIMUM_CONCURRENCY: &str = "maximum_concurrency";

    /// The `on_failure` block.
    pub const ON_FAILURE: &str = "on_failure";
    pub const MAXIMUM_RETRY_ATTEMPTS: &str = "maximum_retry_attempts";
    pub const MAXIMUM_EVENT_AGE: &str = "maximum_event_age";
    pub const QUEUE_ARN: &str = "queue_arn";
    pub const FORCE_DELETE: &str = "force_delete";

    /// The `logs` block.
    pub const LOGS: &str = "logs";
    pub const RETENTION_IN_DAYS: &str = "retention_in_days";
    pub const FORMAT: &str = "format";
    pub const APPLICATION_LOG_LEVEL: &str = "application_log_level";
    pub const SYSTEM_LOG_LEVEL: &str = "system_log_level";
    pub const KEEP_ON_DESTROY: &str = "keep_on_destroy";

    /// The `function` block and its attributes.
    pub const FUNCTION: &str = "function";
    pub const SOURCE_DIR: &str = "source_dir";
    pub const HANDLER: &str = "handler";
    pub const RUNTIME: &str = "runtime";
    pub const MEMORY_SIZE: &str = "memory_size";
    pub const TIMEOUT: &str = "timeout";
    pub const ENVIRONMENT: &str = "environment";
    pub const ARCHITECTURE: &str = "architecture";
    pub const DESCRIPTION: &str = "description";
    pub const RESERVED_CONCURRENCY: &str = "reserved_concurrency";
    pub const EPHEMERAL_STORAGE: &str = "ephemeral_storage";
    pub const LAYERS: &str = "layers";
    pub const REQUIREMENTS_FILE: &str = "requirements_file";
    pub const PACKAGE_BUCKET: &str = "package_bucket";

    /// The `trigger` blocks and their attributes.
    pub const TRIGGER: &str = "trigger";
    pub const EVENTS: &str = "events";
    pub const FILTER_PREFIX: &str = "filter_prefix";
    pub const FILTER_SUFFIX: &str = "filter_suffix";
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

    /// An attribute of the `queue` block.
    pub fn queue(name: &str) -> AttrPath {
        AttrPath::attrs([attr::QUEUE, name])
    }

    /// The `trigger` block at `index`.
    pub fn trigger(index: usize) -> AttrPath {
        AttrPath::attrs([attr::TRIGGER]).index(index)
    }
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

/// The two ways S3 events reach the function.
pub const DELIVERY_DIRECT: &str = "direct";
pub const DELIVERY_QUEUE: &str = "queue";

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

/// A pipeline: every attribute of `eventpipe_event_pipeline`.
#[derive(Clone, Debug, PartialEq)]
pub struct State<M: Mode> {
    pub id: M::Set<String>,
    pub name: M::Set<String>,
    pub bucket_name: M::Set<String>,
    /// `false`: the bucket exists and belongs to someone else; the
    /// pipeline only adds its notifications to it.
    pub create_bucket: M::Set<bool>,
    pub force_destroy: M::Set<bool>,
    pub output_prefix: M::Opt<String>,
    pub require_tls: M::Set<bool>,
    pub tags: M::Opt<Tags>,
    pub tags_all: M::Set<Tags>,
    /// Empty when the bucket went missing (see [`State::mark_missing`]).
    pub bucket_arn: M::Set<String>,
    pub role_name: M::Set<String>,
    /// Empty when the role went missing.
    pub role_arn: M::Set<String>,
    pub function_name: M::Set<String>,
    /// Empty when the function went missing.
    pub function_arn: M::Set<String>,
    /// Empty when the invoke permission went missing.
    pub s3_permission_id: M::Set<String>,
    pub source_code_hash: M::Set<String>,
    /// Package path → short hash of each file of the source, so a plan names
    /// the files that changed; empty past [`MAX_LISTED_FILES`] files.
    pub source_files: M::Set<SourceFiles>,
    /// How many files the source has (listed or not).
    pub source_file_count: M::Set<i64>,
    /// Empty when the inline policy went missing.
    pub policy_json: M::Set<String>,
    /// The ids of the bucket notification configurations the pipeline
    /// owns, one per trigger.
    pub notification_ids: M::Set<Vec<String>>,
    /// Invoke the function for matching objects already in the bucket when
    /// the pipeline or a trigger is created.
    pub backfill: M::Set<bool>,
    pub backfilled_objects: M::Set<i64>,
    /// Where failed events go: the queue the function's invoke
    /// configuration names (null without `on_failure`).
    pub failure_queue_arn: M::Opt<String>,
    /// The URL of the failure queue the pipeline made; empty when it went
    /// missing.
    pub failure_queue_url: M::Opt<String>,
    /// The function's log group; empty when it went missing.
    pub log_group_name: M::Set<String>,
    /// The retention the log group has.
    pub log_group_retention_in_days: M::Opt<i64>,
    /// `direct` (S3 invokes the function) or `queue` (S3 notifies a queue
    /// the function drains).
    pub delivery: M::Set<String>,
    /// The stream the function reads: the one the pipeline makes, or
    /// `stream.arn`.
    pub stream_arn: M::Opt<String>,
    /// The stream's name; empty when the pipeline's stream went missing.
    pub stream_name: M::Opt<String>,
    /// The event source mapping from the stream; empty when missing.
    pub stream_mapping_id: M::Opt<String>,
    /// The queue S3 notifies with `delivery = "queue"`.
    pub event_queue_arn: M::Opt<String>,
    /// Its URL; empty when it went missing.
    pub event_queue_url: M::Opt<String>,
    /// The event source mapping from that queue; empty when missing.
    pub queue_mapping_id: M::Opt<String>,
    pub on_failure: M::Opt<OnFailure<M>>,
    pub logs: M::Opt<Logs<M>>,
    pub stream: M::Opt<StreamBlock<M>>,
    pub queue: M::Opt<QueueBlock<M>>,
    pub function: Function<M>,
    pub trigger: M::Set<Vec<Trigger<M>>>,
}

/// The `stream` block.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamBlock<M: Mode> {
    /// An existing stream to read; without it the pipeline makes one.
    pub arn: M::Opt<String>,
    pub shard_count: M::Opt<i64>,
    pub retention_period: M::Set<i64>,
    pub starting_position: M::Set<String>,
    pub batch_size: M::Set<i64>,
    pub maximum_batching_window: M::Set<i64>,
    pub parallelization_factor: M::Set<i64>,
    pub bisect_batch_on_function_error: M::Set<bool>,
    pub maximum_retry_attempts: M::Set<i64>,
    pub maximum_record_age: M::Set<i64>,
    pub report_batch_item_failures: M::Set<bool>,
    pub allow_put_records: M::Set<bool>,
}

/// The `queue` block (for `delivery = "queue"`).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueBlock<M: Mode> {
    pub visibility_timeout: M::Set<i64>,
    pub max_receive_count: M::Set<i64>,
    pub batch_size: M::Set<i64>,
    pub maximum_batching_window: M::Set<i64>,
    pub maximum_concurrency: M::Opt<i64>,
    pub report_batch_item_failures: M::Set<bool>,
}

/// The `on_failure` block. The numbers are absent in a refreshed state
/// when the function has no invoke configuration any more.
#[derive(Clone, Debug, PartialEq)]
pub struct OnFailure<M: Mode> {
    pub maximum_retry_attempts: M::Opt<i64>,
    pub maximum_event_age: M::Opt<i64>,
    /// An existing queue; without it the pipeline makes `<name>-failed`.
    pub queue_arn: M::Opt<String>,
    /// The queue the pipeline made may be deleted while it holds failed
    /// events.
    pub force_delete: M::Set<bool>,
}

/// The `logs` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Logs<M: Mode> {
    pub retention_in_days: M::Set<i64>,
    pub format: M::Set<String>,
    pub application_log_level: M::Opt<String>,
    pub system_log_level: M::Opt<String>,
    pub keep_on_destroy: M::Set<bool>,
}

/// The `function` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Function<M: Mode> {
    pub source_dir: M::Set<String>,
    pub handler: M::Set<String>,
    pub runtime: M::Set<String>,
    pub memory_size: M::Set<i64>,
    pub timeout: M::Set<i64>,
    pub environment: M::Opt<Tags>,
    pub architecture: M::Set<String>,
    pub description: M::Opt<String>,
    pub reserved_concurrency: M::Opt<i64>,
    pub ephemeral_storage: M::Set<i64>,
    pub layers: M::Opt<Vec<String>>,
    pub requirements_file: M::Opt<String>,
    pub package_bucket: M::Opt<String>,
}

/// One `trigger` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger<M: Mode> {
    pub events: M::Set<Vec<String>>,
    pub filter_prefix: M::Opt<String>,
    pub filter_suffix: M::Opt<String>,
}

// ---- reading and writing values ---------------------------------------------

/// A Rust type an attribute value converts to and from.
trait Attr: Val + Sized {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError>;
    fn write(&self) -> Value;
}

impl Attr for String {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.string(name)
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Attr for bool {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.bool(name)
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Attr for i64 {
    fn read(o: &Obj<'_>, name: &str) -> Result<Field<Self>, AccessError> {
        o.int(name)
    }
    fn write(&self) -> Value {
        Value::Number(Number::from(*self))
    }
}

impl Attr for Tags {
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

fn object<'a>(v: &'a Value, path: AttrPath, what: &'static str) -> Result<Obj<'a>, AccessError> {
    Obj::new(v, path.clone())?.ok_or(AccessError {
        path,
        expected: what,
    })
}

impl<M: Mode> State<M> {
    /// Reads a state, configuration or plan value.
    pub fn from_value(v: &Value) -> Result<State<M>, AccessError> {
        let o = object(v, AttrPath::root(), "a pipeline object")?;
        let f = object(
            o.raw(attr::FUNCTION),
            o.path().attr(attr::FUNCTION),
            "the function block",
        )?;
        let function = Function {
            source_dir: set::<M, _>(&f, attr::SOURCE_DIR)?,
            handler: set::<M, _>(&f, attr::HANDLER)?,
            runtime: set::<M, _>(&f, attr::RUNTIME)?,
            memory_size: set::<M, _>(&f, attr::MEMORY_SIZE)?,
            timeout: set::<M, _>(&f, attr::TIMEOUT)?,
            environment: opt::<M, _>(&f, attr::ENVIRONMENT)?,
            architecture: set::<M, _>(&f, attr::ARCHITECTURE)?,
            description: opt::<M, _>(&f, attr::DESCRIPTION)?,
            reserved_concurrency: opt::<M, _>(&f, attr::RESERVED_CONCURRENCY)?,
            ephemeral_storage: set::<M, _>(&f, attr::EPHEMERAL_STORAGE)?,
            layers: opt::<M, _>(&f, attr::LAYERS)?,
            requirements_file: opt::<M, _>(&f, attr::REQUIREMENTS_FILE)?,
            package_bucket: opt::<M, _>(&f, attr::PACKAGE_BUCKET)?,
        };
        let on_failure = block::<M, _>(&o, attr::ON_FAILURE, |b| {
            Ok(OnFailure {
                maximum_retry_attempts: opt::<M, _>(b, attr::MAXIMUM_RETRY_ATTEMPTS)?,
                maximum_event_age: opt::<M, _>(b, attr::MAXIMUM_EVENT_AGE)?,
                queue_arn: opt::<M, _>(b, attr::QUEUE_ARN)?,
                force_delete: set::<M, _>(b, attr::FORCE_DELETE)?,
            })
        })?;
        let stream = block::<M, _>(&o, attr::STREAM, |b| {
            Ok(StreamBlock {
                arn: opt::<M, _>(b, attr::ARN)?,
                shard_count: opt::<M, _>(b, attr::SHARD_COUNT)?,
                retention_period: set::<M, _>(b, attr::RETENTION_PERIOD)?,
                starting_position: set::<M, _>(b, attr::STARTING_POSITION)?,
                batch_size: set::<M, _>(b, attr::BATCH_SIZE)?,
                maximum_batching_window: set::<M, _>(b, attr::MAXIMUM_BATCHING_WINDOW)?,
                parallelization_factor: set::<M, _>(b, attr::PARALLELIZATION_FACTOR)?,
                bisect_batch_on_function_error: set::<M, _>(
                    b,
                    attr::BISECT_BATCH_ON_FUNCTION_ERROR,
                )?,
                maximum_retry_attempts: set::<M, _>(b, attr::MAXIMUM_RETRY_ATTEMPTS)?,
                maximum_record_age: set::<M, _>(b, attr::MAXIMUM_RECORD_AGE)?,
                report_batch_item_failures: set::<M, _>(b, attr::REPORT_BATCH_ITEM_FAILURES)?,
                allow_put_records: set::<M, _>(b, attr::ALLOW_PUT_RECORDS)?,
            })
        })?;
        let queue = block::<M, _>(&o, attr::QUEUE, |b| {
            Ok(QueueBlock {
                visibility_timeout: set::<M, _>(b, attr::VISIBILITY_TIMEOUT)?,
                max_receive_count: set::<M, _>(b, attr::MAX_RECEIVE_COUNT)?,
                batch_size: set::<M, _>(b, attr::BATCH_SIZE)?,
                maximum_batching_window: set::<M, _>(b, attr::MAXIMUM_BATCHING_WINDOW)?,
                maximum_concurrency: opt::<M, _>(b, attr::MAXIMUM_CONCURRENCY)?,
                report_batch_item_failures: set::<M, _>(b, attr::REPORT_BATCH_ITEM_FAILURES)?,
            })
        })?;
        let logs = block::<M, _>(&o, attr::LOGS, |b| {
            Ok(Logs {
                retention_in_days: set::<M, _>(b, attr::RETENTION_IN_DAYS)?,
                format: set::<M, _>(b, attr::FORMAT)?,
                application_log_level: opt::<M, _>(b, attr::APPLICATION_LOG_LEVEL)?,
                system_log_level: opt::<M, _>(b, attr::SYSTEM_LOG_LEVEL)?,
                keep_on_destroy: set::<M, _>(b, attr::KEEP_ON_DESTROY)?,
            })
        })?;
        let triggers = o.objects(attr::TRIGGER)?.map(|list| {
            list.iter()
                .map(|t| {
                    Ok(Trigger {
                        events: set::<M, _>(t, attr::EVENTS)?,
                        filter_prefix: opt::<M, _>(t, attr::FILTER_PREFIX)?,
                        filter_suffix: opt::<M, _>(t, attr::FILTER_SUFFIX)?,
                    })
                })
                .collect::<Result<Vec<_>, AccessError>>()
        });
        let triggers = match triggers {
            Field::Known(r) => Field::Known(r?),
            Field::Null => Field::Known(Vec::new()),
            Field::Unknown => Field::Unknown,
        };
        Ok(State {
            id: set::<M, _>(&o, attr::ID)?,
            name: set::<M, _>(&o, attr::NAME)?,
            bucket_name: set::<M, _>(&o, attr::BUCKET_NAME)?,
            create_bucket: set::<M, _>(&o, attr::CREATE_BUCKET)?,
            force_destroy: set::<M, _>(&o, attr::FORCE_DESTROY)?,
            output_prefix: opt::<M, _>(&o, attr::OUTPUT_PREFIX)?,
            require_tls: set::<M, _>(&o, attr::REQUIRE_TLS)?,
            tags: opt::<M, _>(&o, attr::TAGS)?,
            tags_all: set::<M, _>(&o, attr::TAGS_ALL)?,
            bucket_arn: set::<M, _>(&o, attr::BUCKET_ARN)?,
            role_name: set::<M, _>(&o, attr::ROLE_NAME)?,
            role_arn: set::<M, _>(&o, attr::ROLE_ARN)?,
            function_name: set::<M, _>(&o, attr::FUNCTION_NAME)?,
            function_arn: set::<M, _>(&o, attr::FUNCTION_ARN)?,
            s3_permission_id: set::<M, _>(&o, attr::S3_PERMISSION_ID)?,
            source_code_hash: set::<M, _>(&o, attr::SOURCE_CODE_HASH)?,
            source_files: set::<M, _>(&o, attr::SOURCE_FILES)?,
            source_file_count: set::<M, _>(&o, attr::SOURCE_FILE_COUNT)?,
            policy_json: set::<M, _>(&o, attr::POLICY_JSON)?,
            notification_ids: set::<M, _>(&o, attr::NOTIFICATION_IDS)?,
            backfill: set::<M, _>(&o, attr::BACKFILL)?,
            backfilled_objects: set::<M, _>(&o, attr::BACKFILLED_OBJECTS)?,
            failure_queue_arn: opt::<M, _>(&o, attr::FAILURE_QUEUE_ARN)?,
            failure_queue_url: opt::<M, _>(&o, attr::FAILURE_QUEUE_URL)?,
            log_group_name: set::<M, _>(&o, attr::LOG_GROUP_NAME)?,
            log_group_retention_in_days: opt::<M, _>(&o, attr::LOG_GROUP_RETENTION_IN_DAYS)?,
            delivery: set::<M, _>(&o, attr::DELIVERY)?,
            stream_arn: opt::<M, _>(&o, attr::STREAM_ARN)?,
            stream_name: opt::<M, _>(&o, attr::STREAM_NAME)?,
            stream_mapping_id: opt::<M, _>(&o, attr::STREAM_MAPPING_ID)?,
            event_queue_arn: opt::<M, _>(&o, attr::EVENT_QUEUE_ARN)?,
            event_queue_url: opt::<M, _>(&o, attr::EVENT_QUEUE_URL)?,
            queue_mapping_id: opt::<M, _>(&o, attr::QUEUE_MAPPING_ID)?,
            on_failure,
            logs,
            stream,
            queue,
            function,
            trigger: M::set(triggers, o.path().attr(attr::TRIGGER))?,
        })
    }

    /// The value Terraform receives: every attribute of the schema.
    pub fn to_value(&self) -> Value {
        let f = &self.function;
        let function = Value::object([
            (attr::SOURCE_DIR, set_value::<M, String>(&f.source_dir)),
            (attr::HANDLER, set_value::<M, String>(&f.handler)),
            (attr::RUNTIME, set_value::<M, String>(&f.runtime)),
            (attr::MEMORY_SIZE, set_value::<M, i64>(&f.memory_size)),
            (attr::TIMEOUT, set_value::<M, i64>(&f.timeout)),
            (attr::ENVIRONMENT, opt_value::<M, Tags>(&f.environment)),
            (attr::ARCHITECTURE, set_value::<M, String>(&f.architecture)),
            (attr::DESCRIPTION, opt_value::<M, String>(&f.description)),
            (
                attr::RESERVED_CONCURRENCY,
                opt_value::<M, i64>(&f.reserved_concurrency),
            ),
            (
                attr::EPHEMERAL_STORAGE,
                set_value::<M, i64>(&f.ephemeral_storage),
            ),
            (attr::LAYERS, opt_value::<M, Vec<String>>(&f.layers)),
            (
                attr::REQUIREMENTS_FILE,
                opt_value::<M, String>(&f.requirements_file),
            ),
            (
                attr::PACKAGE_BUCKET,
                opt_value::<M, String>(&f.package_bucket),
            ),
        ]);
        let on_failure = block_value(M::opt_field::<OnFailure<M>>(&self.on_failure), |b| {
            Value::object([
                (
                    attr::MAXIMUM_RETRY_ATTEMPTS,
                    opt_value::<M, i64>(&b.maximum_retry_attempts),
                ),
                (
                    attr::MAXIMUM_EVENT_AGE,
                    opt_value::<M, i64>(&b.maximum_event_age),
                ),
                (attr::QUEUE_ARN, opt_value::<M, String>(&b.queue_arn)),
                (attr::FORCE_DELETE, set_value::<M, bool>(&b.force_delete)),
            ])
        });
        let stream = block_value(M::opt_field::<StreamBlock<M>>(&self.stream), |b| {
            Value::object([
                (attr::ARN, opt_value::<M, String>(&b.arn)),
                (attr::SHARD_COUNT, opt_value::<M, i64>(&b.shard_count)),
                (
                    attr::RETENTION_PERIOD,
                    set_value::<M, i64>(&b.retention_period),
                ),
                (
                    attr::STARTING_POSITION,
                    set_value::<M, String>(&b.starting_position),
                ),
                (attr::BATCH_SIZE, set_value::<M, i64>(&b.batch_size)),
                (
                    attr::MAXIMUM_BATCHING_WINDOW,
                    set_value::<M, i64>(&b.maximum_batching_window),
                ),
                (
                    attr::PARALLELIZATION_FACTOR,
                    set_value::<M, i64>(&b.parallelization_factor),
                ),
                (
                    attr::BISECT_BATCH_ON_FUNCTION_ERROR,
                    set_value::<M, bool>(&b.bisect_batch_on_function_error),
                ),
                (
                    attr::MAXIMUM_RETRY_ATTEMPTS,
                    set_value::<M, i64>(&b.maximum_retry_attempts),
                ),
                (
                    attr::MAXIMUM_RECORD_AGE,
                    set_value::<M, i64>(&b.maximum_record_age),
                ),
                (
                    attr::REPORT_BATCH_ITEM_FAILURES,
                    set_value::<M, bool>(&b.report_batch_item_failures),
                ),
                (
                    attr::ALLOW_PUT_RECORDS,
                    set_value::<M, bool>(&b.allow_put_records),
                ),
            ])
        });
        let queue = block_value(M::opt_field::<QueueBlock<M>>(&self.queue), |b| {
            Value::object([
                (
                    attr::VISIBILITY_TIMEOUT,
                    set_value::<M, i64>(&b.visibility_timeout),
                ),
                (
                    attr::MAX_RECEIVE_COUNT,
                    set_value::<M, i64>(&b.max_receive_count),
                ),
                (attr::BATCH_SIZE, set_value::<M, i64>(&b.batch_size)),
                (
                    attr::MAXIMUM_BATCHING_WINDOW,
                    set_value::<M, i64>(&b.maximum_batching_window),
                ),
                (
                    attr::MAXIMUM_CONCURRENCY,
                    opt_value::<M, i64>(&b.maximum_concurrency),
                ),
                (
                    attr::REPORT_BATCH_ITEM_FAILURES,
                    set_value::<M, bool>(&b.report_batch_item_failures),
                ),
            ])
        });
        let logs = block_value(M::opt_field::<Logs<M>>(&self.logs), |b| {
            Value::object([
                (
                    attr::RETENTION_IN_DAYS,
                    set_value::<M, i64>(&b.retention_in_days),
                ),
                (attr::FORMAT, set_value::<M, String>(&b.format)),
                (
                    attr::APPLICATION_LOG_LEVEL,
                    opt_value::<M, String>(&b.application_log_level),
                ),
                (
                    attr::SYSTEM_LOG_LEVEL,
                    opt_value::<M, String>(&b.system_log_level),
                ),
                (
                    attr::KEEP_ON_DESTROY,
                    set_value::<M, bool>(&b.keep_on_destroy),
                ),
            ])
        });
        let trigger = match M::set_field::<Vec<Trigger<M>>>(&self.trigger) {
            Field::Known(list) => Value::List(
                list.iter()
                    .map(|t| {
                        Value::object([
                            (attr::EVENTS, set_value::<M, Vec<String>>(&t.events)),
                            (
                                attr::FILTER_PREFIX,
                                opt_value::<M, String>(&t.filter_prefix),
                            ),
                            (
                                attr::FILTER_SUFFIX,
                                opt_value::<M, String>(&t.filter_suffix),
                            ),
                        ])
                    })
                    .collect(),
            ),
            Field::Null => Value::Null,
            Field::Unknown => Value::Unknown,
        };
        Value::object([
            (attr::ID, set_value::<M, String>(&self.id)),
            (attr::NAME, set_value::<M, String>(&self.name)),
            (attr::BUCKET_NAME, set_value::<M, String>(&self.bucket_name)),
            (
                attr::CREATE_BUCKET,
                set_value::<M, bool>(&self.create_bucket),
            ),
            (
                attr::FORCE_DESTROY,
                set_value::<M, bool>(&self.force_destroy),
            ),
            (
                attr::OUTPUT_PREFIX,
                opt_value::<M, String>(&self.output_prefix),
            ),
            (attr::REQUIRE_TLS, set_value::<M, bool>(&self.require_tls)),
            (attr::TAGS, opt_value::<M, Tags>(&self.tags)),
            (attr::TAGS_ALL, set_value::<M, Tags>(&self.tags_all)),
            (attr::BUCKET_ARN, set_value::<M, String>(&self.bucket_arn)),
            (attr::ROLE_NAME, set_value::<M, String>(&self.role_name)),
            (attr::ROLE_ARN, set_value::<M, String>(&self.role_arn)),
            (
                attr::FUNCTION_NAME,
                set_value::<M, String>(&self.function_name),
            ),
            (
                attr::FUNCTION_ARN,
                set_value::<M, String>(&self.function_arn),
            ),
            (
                attr::S3_PERMISSION_ID,
                set_value::<M, String>(&self.s3_permission_id),
            ),
            (
                attr::SOURCE_CODE_HASH,
                set_value::<M, String>(&self.source_code_hash),
            ),
            (
                attr::SOURCE_FILES,
                set_value::<M, SourceFiles>(&self.source_files),
            ),
            (
                attr::SOURCE_FILE_COUNT,
                set_value::<M, i64>(&self.source_file_count),
            ),
            (attr::POLICY_JSON, set_value::<M, String>(&self.policy_json)),
            (
                attr::NOTIFICATION_IDS,
                set_value::<M, Vec<String>>(&self.notification_ids),
            ),
            (attr::BACKFILL, set_value::<M, bool>(&self.backfill)),
            (
                attr::BACKFILLED_OBJECTS,
                set_value::<M, i64>(&self.backfilled_objects),
            ),
            (
                attr::FAILURE_QUEUE_ARN,
                opt_value::<M, String>(&self.failure_queue_arn),
            ),
            (
                attr::FAILURE_QUEUE_URL,
                opt_value::<M, String>(&self.failure_queue_url),
            ),
            (
                attr::LOG_GROUP_NAME,
                set_value::<M, String>(&self.log_group_name),
            ),
            (
                attr::LOG_GROUP_RETENTION_IN_DAYS,
                opt_value::<M, i64>(&self.log_group_retention_in_days),
            ),
            (attr::DELIVERY, set_value::<M, String>(&self.delivery)),
            (attr::STREAM_ARN, opt_value::<M, String>(&self.stream_arn)),
            (attr::STREAM_NAME, opt_value::<M, String>(&self.stream_name)),
            (
                attr::STREAM_MAPPING_ID,
                opt_value::<M, String>(&self.stream_mapping_id),
            ),
            (
                attr::EVENT_QUEUE_ARN,
                opt_value::<M, String>(&self.event_queue_arn),
            ),
            (
                attr::EVENT_QUEUE_URL,
                opt_value::<M, String>(&self.event_queue_url),
            ),
            (
                attr::QUEUE_MAPPING_ID,
                opt_value::<M, String>(&self.queue_mapping_id),
            ),
            (attr::ON_FAILURE, on_failure),
            (attr::LOGS, logs),
            (attr::STREAM, stream),
            (attr::QUEUE, queue),
            (attr::FUNCTION, function),
            (attr::TRIGGER, trigger),
        ])
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
            })
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
            on_failure: None,
            logs: None,
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
                package_bucket: None,
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
