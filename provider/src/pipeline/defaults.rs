//! The values the schema fills in for attributes a configuration leaves
//! unset (the runtime's is in [`super::runtimes`]).

pub const DEFAULT_HANDLER: &str = "app.handler";
pub const DEFAULT_MEMORY_MB: i64 = 128;
pub const DEFAULT_TIMEOUT_S: i64 = 3;
pub const DEFAULT_ARCHITECTURE: &str = "x86_64";
pub const DEFAULT_EVENT: &str = "s3:ObjectCreated:*";
/// Days a log group keeps events when the configuration has no `logs` block.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
/// Images the lifecycle policy of the repository the pipeline makes keeps
/// (`image.keep_images`).
pub const DEFAULT_KEEP_IMAGES: i64 = 10;
/// Whether that repository scans each pushed image (`image.scan_on_push`).
pub const DEFAULT_SCAN_ON_PUSH: bool = true;

/// The age, in seconds, past which the `queue-age` and `iterator-age`
/// alarms go off (`alarms.queue_age_seconds`, `alarms.iterator_age_seconds`).
pub const DEFAULT_ALARM_AGE_S: i64 = 300;
