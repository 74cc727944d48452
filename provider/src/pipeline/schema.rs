//! The `eventpipe_event_pipeline` resource schema. Attribute names are part
//! of the provider's contract; descriptions are the registry documentation.

use tfsdk::schema::{Attribute, Block, NestedBlock, Schema, Validator};
use tfsdk::value::{Number, Value};

use super::defaults::{
    DEFAULT_ARCHITECTURE, DEFAULT_EVENT, DEFAULT_HANDLER, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S,
};
use super::state::attr;
use super::{runtimes, validate};

pub const TYPE_NAME: &str = "eventpipe_event_pipeline";

/// Schema version of the stored state; bump it with an upgrade step.
pub const SCHEMA_VERSION: i64 = 6;

pub fn schema() -> Schema {
    Schema {
        version: SCHEMA_VERSION,
        block: Block::new(
            "An S3 bucket whose new objects are processed by a Lambda function: bucket, \
             IAM role with a least-privilege inline policy, function packaged from a local \
             directory, invoke permission for S3 and bucket notification, created, updated \
             and destroyed together.",
        )
        .attr(
            Attribute::string(attr::ID)
                .computed()
                .describe("Identifier of the pipeline; equal to `name`."),
        )
        .attr(
            Attribute::string(attr::NAME)
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
                .validate(validate::name_validator()),
        )
        .attr(
            Attribute::string(attr::BUCKET_NAME)
                .optional_computed()
                .force_new()
                .describe(
                    "Name of the S3 bucket to create, or with `create_bucket = false` of the \
                     existing bucket to use (then required). When not set, a name is derived \
                     from `name`, the account and the region, and shown in the plan. Changing \
                     it replaces the pipeline.",
                )
                .validate(validate::bucket_validator()),
        )
        .attr(
            Attribute::bool(attr::CREATE_BUCKET)
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
                ),
        )
        .attr(
            Attribute::bool(attr::FORCE_DESTROY)
                .default(Value::Bool(false))
                .describe(
                    "When `true`, destroying the pipeline first deletes every object (and \
                     object version) in the bucket. When `false` (the default), destroying a \
                     pipeline whose bucket still holds objects fails and deletes nothing.",
                ),
        )
        .attr(Attribute::string(attr::OUTPUT_PREFIX).optional().describe(
            "Key prefix under which the function may write its results back into the same \
             bucket (grants `s3:PutObject` on `bucket/output_prefix*` only). No trigger may \
             match keys under it — otherwise every result would invoke the function again — \
             and the plan refuses a configuration where one would.",
        ))
        .attr(
            Attribute::bool(attr::REQUIRE_TLS)
                .default(Value::Bool(true))
                .describe(
                    "When `true` (the default), the bucket policy denies every request that \
                     does not use TLS. Only turn this off for emulators that cannot evaluate \
                     the policy's condition.",
                ),
        )
        .attr(Attribute::string_map(attr::TAGS).optional().describe(
            "Tags for every part the pipeline creates, merged over the provider's \
             `default_tags` (these win on conflicts).",
        ))
        .attr(Attribute::string_map(attr::TAGS_ALL).computed().describe(
            "All tags applied to the parts: the provider's `default_tags` merged with `tags`.",
        ))
        .attr(
            Attribute::string(attr::BUCKET_ARN)
                .computed()
                .describe("ARN of the bucket."),
        )
        .attr(
            Attribute::string(attr::ROLE_NAME)
                .optional_computed()
                .force_new()
                .describe(
                    "Name of the function's IAM execution role. Defaults to `<name>-role` for \
                     a new pipeline; an adopted pipeline (`terraform import … \
                     adopt:<function-name>`) keeps its role's own name without setting this. \
                     Changing it replaces the pipeline.",
                )
                .validate(validate::role_name_validator()),
        )
        .attr(
            Attribute::string(attr::ROLE_ARN)
                .computed()
                .describe("ARN of the function's IAM execution role."),
        )
        .attr(
            Attribute::string(attr::FUNCTION_NAME)
                .optional_computed()
                .force_new()
                .describe(
                    "Name of the Lambda function. Defaults to `name` for a new pipeline; an \
                     adopted pipeline keeps its function's own name without setting this. \
                     Changing it replaces the pipeline.",
                )
                .validate(validate::function_name_validator()),
        )
        .attr(
            Attribute::string(attr::FUNCTION_ARN)
                .computed()
                .describe("ARN of the Lambda function."),
        )
        .attr(Attribute::string(attr::S3_PERMISSION_ID).computed().describe(
            "Statement id of the function permission that lets S3 (only for this bucket and \
             account) invoke the function. Empty when the permission went missing.",
        ))
        .attr(Attribute::string_map(attr::SOURCE_FILES).computed().describe(
            "The files of `function.source_dir` as packaged: each path in the package mapped \
             to the first 12 hex digits of the SHA-256 of its content, with `+x` for an \
             executable file. A plan shows which files changed. Past 1000 files the map is \
             empty and only `source_file_count` is kept, so the state stays small.",
        ))
        .attr(Attribute::number(attr::SOURCE_FILE_COUNT).computed().describe(
            "How many files `function.source_dir` packages, listed in `source_files` or not.",
        ))
        .attr(Attribute::string(attr::SOURCE_CODE_HASH).computed().describe(
            "SHA-256 (hex) of the packaged source: every file under `function.source_dir` \
             with its relative path and executable bit. Computed at plan time, so an edited \
             handler file shows up as a change in the plan.",
        ))
        .attr(Attribute::string(attr::POLICY_JSON).computed().describe(
            "The exact inline IAM policy given to the function's role, shown in the plan \
             whenever the bucket name is known, so reviewers see every permission granted: \
             `s3:GetObject` on this bucket's objects (narrowed to the trigger prefixes when \
             every trigger has one), `s3:PutObject` under `output_prefix` when it is set, \
             and writing logs to the function's own log group.",
        ))
        .attr(
            Attribute::string_list(attr::NOTIFICATION_IDS)
                .computed()
                .describe(
                    "Ids of the bucket notification configurations the pipeline owns, one per \
                     trigger (`eventpipe-<name>-<index>`). Configurations with other ids on \
                     the bucket are never changed.",
                ),
        )
        .attr(
            Attribute::bool(attr::BACKFILL)
                .default(Value::Bool(false))
                .describe(
                    "When `true`, creating the pipeline or adding a trigger also processes the \
                     objects already in the bucket that the new trigger matches: the function \
                     is invoked once per object, asynchronously, with the event S3 sends for a \
                     new object (`ObjectCreated:Put`). Delivery is at least once, as S3's own; \
                     an interrupted backfill resumes where it stopped on the next apply.",
                ),
        )
        .attr(
            Attribute::number(attr::BACKFILLED_OBJECTS)
                .computed()
                .describe(
                    "How many existing objects backfill has sent to the function so far.",
                ),
        )
        .attr(Attribute::string(attr::FAILURE_QUEUE_ARN).computed().describe(
            "ARN of the SQS queue the function's failed events go to: `on_failure.queue_arn`, \
             or the queue `<name>-failed` the pipeline makes. Null without `on_failure`.",
        ))
        .attr(Attribute::string(attr::FAILURE_QUEUE_URL).computed().describe(
            "URL of the failure queue the pipeline makes (read failed events from it). Null \
             without `on_failure` or with `on_failure.queue_arn`.",
        ))
        .attr(Attribute::string(attr::LOG_GROUP_NAME).computed().describe(
            "The function's CloudWatch Logs group, `/aws/lambda/<function_name>`. The \
             pipeline makes it before the function (so the role needs no right to create \
             it), with its retention and tags; a group of that name that exists already \
             (Lambda makes one for a function wired by hand) is adopted, not duplicated.",
        ))
        .attr(
            Attribute::number(attr::LOG_GROUP_RETENTION_IN_DAYS)
                .computed()
                .describe(
                    "How many days the log group keeps events: `logs.retention_in_days`, 30 \
                     without a `logs` block. A change made outside Terraform shows here.",
                ),
        )
        .attr(
            Attribute::string(attr::DELIVERY)
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
                .validate(Validator::OneOf(&["direct", "queue"])),
        )
        .attr(Attribute::string(attr::STREAM_ARN).computed().describe(
            "ARN of the Kinesis stream the function reads (with a `stream` block).",
        ))
        .attr(Attribute::string(attr::STREAM_NAME).computed().describe(
            "Name of that stream (`<name>` for the stream the pipeline makes).",
        ))
        .attr(Attribute::string(attr::STREAM_MAPPING_ID).computed().describe(
            "UUID of the event source mapping from the stream to the function.",
        ))
        .attr(Attribute::string(attr::EVENT_QUEUE_ARN).computed().describe(
            "ARN of the queue S3 notifies with `delivery = \"queue\"`.",
        ))
        .attr(Attribute::string(attr::EVENT_QUEUE_URL).computed().describe(
            "URL of that queue.",
        ))
        .attr(Attribute::string(attr::QUEUE_MAPPING_ID).computed().describe(
            "UUID of the event source mapping from that queue to the function.",
        ))
        .block(NestedBlock::single_optional(attr::STREAM, stream_block()))
        .block(NestedBlock::single_optional(attr::QUEUE, queue_block()))
        .block(NestedBlock::single_optional(attr::ON_FAILURE, on_failure_block()))
        .block(NestedBlock::single_optional(attr::LOGS, logs_block()))
        .block(NestedBlock::single_required(attr::FUNCTION, function_block()))
        .block(NestedBlock::list(attr::TRIGGER, 1, 0, trigger_block())),
    }
}

fn function_block() -> Block {
    Block::new("The Lambda function that processes each new object.")
        .attr(Attribute::string(attr::SOURCE_DIR).required().describe(
            "Local directory holding the function's code. Packaged as a deterministic zip \
             (sorted entries, fixed timestamps and permissions; `__pycache__`, `.git` and \
             similar are skipped), so the same files give the same `source_code_hash` on \
             every machine.",
        ))
        .attr(
            Attribute::string(attr::HANDLER)
                .default(Value::String(DEFAULT_HANDLER.into()))
                .describe("Function entry point, e.g. `app.handler` for `handler()` in `app.py`.")
                .validate(Validator::LengthBetween(1, 128)),
        )
        .attr(
            Attribute::string(attr::RUNTIME)
                .default(Value::String(runtimes::DEFAULT.into()))
                .describe("Lambda runtime identifier, e.g. `python3.13` or `nodejs22.x`.")
                .validate(runtimes::validator()),
        )
        .attr(
            Attribute::number(attr::MEMORY_SIZE)
                .default(Value::Number(Number::from(DEFAULT_MEMORY_MB)))
                .describe("Memory for the function, in MB.")
                .validate(Validator::IntBetween(128, 10240)),
        )
        .attr(
            Attribute::number(attr::TIMEOUT)
                .default(Value::Number(Number::from(DEFAULT_TIMEOUT_S)))
                .describe("Maximum run time of one invocation, in seconds.")
                .validate(Validator::IntBetween(1, 900)),
        )
        .attr(
            Attribute::string_map(attr::ENVIRONMENT)
                .optional()
                .sensitive()
                .describe(
                    "Environment variables for the function. Sensitive: values never appear \
                     in plans or logs.",
                ),
        )
        .attr(
            Attribute::string(attr::ARCHITECTURE)
                .default(Value::String(DEFAULT_ARCHITECTURE.into()))
                .describe("Instruction set of the function.")
                .validate(Validator::OneOf(&["x86_64", "arm64"])),
        )
        .attr(
            Attribute::string(attr::DESCRIPTION)
                .optional()
                .describe("Description of the function.")
                .validate(Validator::LengthBetween(0, 256)),
        )
        .attr(
            Attribute::number(attr::RESERVED_CONCURRENCY)
                .optional()
                .describe(
                    "Concurrent executions reserved for the function, which also caps it: a \
                     burst of uploads then cannot flood what the function calls. `0` pauses \
                     the function; not set leaves it unreserved.",
                )
                .validate(Validator::IntBetween(0, 100_000)),
        )
        .attr(
            Attribute::number(attr::EPHEMERAL_STORAGE)
                .default(Value::Number(Number::from(512i64)))
                .describe("Size of the function's `/tmp`, in MB.")
                .validate(Validator::IntBetween(512, 10_240)),
        )
        .attr(Attribute::string_list(attr::LAYERS).optional().describe(
            "Up to five layer version ARNs \
                     (`arn:aws:lambda:<region>:<account>:layer:<name>:<version>`), in order.",
        ))
        .attr(
            Attribute::string(attr::REQUIREMENTS_FILE)
                .optional()
                .describe(
                    "Python requirements installed into the package, for a Python runtime: a \
                     path relative to `source_dir`, or absolute. Not set: `requirements.txt` in \
                     `source_dir` when there is one. Apply runs the machine's `python3 -m pip \
                     install` (or `$EVENTPIPE_PYTHON`'s) for Lambda's platform \
                     (`--platform manylinux2014_x86_64` or `manylinux2014_aarch64` after \
                     `architecture`, `--implementation cp`, `--python-version` of `runtime`, \
                     `--only-binary=:all:`), honouring pip's own configuration (`PIP_INDEX_URL`, \
                     `PIP_FIND_LINKS`, `PIP_NO_INDEX`, pip.conf). A Node.js runtime installs a \
                     `package.json` that declares `dependencies` with `npm ci --omit=dev`, and \
                     needs its `package-lock.json`. `source_code_hash` then also covers the \
                     requirements (or lock) file's content, the runtime, the architecture and \
                     the installer's options; installed trees and built zips are cached by hash \
                     in `$EVENTPIPE_CACHE_DIR` (default `~/.cache/eventpipe`). A requirement \
                     without `==` or `--hash` gets a warning: builds may then differ between \
                     machines.",
                )
                .validate(Validator::LengthBetween(1, 4096)),
        )
        .attr(
            Attribute::string(attr::PACKAGE_BUCKET)
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
                .validate(Validator::LengthBetween(3, 63)),
        )
}

fn on_failure_block() -> Block {
    Block::new(
        "What happens to events the function fails to process. S3 invokes the function \
         asynchronously: Lambda retries a failed event, then, with this block, sends it to a \
         queue instead of dropping it.",
    )
    .attr(
        Attribute::number(attr::MAXIMUM_RETRY_ATTEMPTS)
            .default(Value::Number(Number::from(2i64)))
            .describe("How many times Lambda retries a failed event before giving it up.")
            .validate(Validator::IntBetween(0, 2)),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_EVENT_AGE)
            .default(Value::Number(Number::from(21_600i64)))
            .describe(
                "How long, in seconds, Lambda keeps an event it could not process yet before \
                 giving it up.",
            )
            .validate(Validator::IntBetween(60, 21_600)),
    )
    .attr(
        Attribute::string(attr::QUEUE_ARN)
            .optional()
            .describe(
                "An existing SQS queue for the failed events. When not set, the pipeline makes \
                 the queue `<name>-failed` (server-side encryption, 14 days' retention, the \
                 pipeline's tags) and deletes it on destroy; a destroy refuses, deleting \
                 nothing, while it holds messages, unless `force_delete` (or `force_destroy`) \
                 is `true`. The role may send to this queue only (`sqs:SendMessage`, shown in \
                 `policy_json`).",
            )
            .validate(validate::queue_arn_validator()),
    )
    .attr(
        Attribute::bool(attr::FORCE_DELETE)
            .default(Value::Bool(false))
            .describe(
                "When `true`, the queue `<name>-failed` the pipeline made may be deleted while \
                 it holds failed events: by a destroy, a replacement, or an update that removes \
                 this block or sets `queue_arn`. When `false` (the default), those refuse, \
                 deleting nothing, until the queue is empty. Unlike `force_destroy`, which is \
                 about the bucket's objects, it works with `create_bucket = false`. A queue of \
                 yours (`queue_arn`) is never deleted.",
            ),
    )
}

fn int(n: i64) -> Value {
    Value::Number(Number::from(n))
}

fn stream_block() -> Block {
    Block::new(
        "A Kinesis data stream the function reads in batches: the one the pipeline makes \
         (`<name>`, encrypted with the AWS-managed key, tagged), or an existing one (`arn`), \
         which the pipeline never makes or deletes. The role may read this stream only.",
    )
    .attr(
        Attribute::string(attr::ARN)
            .optional()
            .describe("An existing stream to read instead of making one.")
            .validate(validate::stream_arn_validator()),
    )
    .attr(
        Attribute::number(attr::SHARD_COUNT)
            .optional()
            .describe("Shards of the stream the pipeline makes; not set: on-demand capacity.")
            .validate(Validator::IntBetween(1, 10_000)),
    )
    .attr(
        Attribute::number(attr::RETENTION_PERIOD)
            .default(int(24))
            .describe("Hours the stream the pipeline makes keeps records.")
            .validate(Validator::IntBetween(24, 8760)),
    )
    .attr(
        Attribute::string(attr::STARTING_POSITION)
            .default(Value::String("LATEST".into()))
            .describe(
                "Where the mapping starts reading: `LATEST` or `TRIM_HORIZON`. Changing it \
                 makes the mapping again, which then starts there.",
            )
            .validate(Validator::OneOf(&["LATEST", "TRIM_HORIZON"])),
    )
    .attr(
        Attribute::number(attr::BATCH_SIZE)
            .default(int(100))
            .describe("Records per invocation, at most.")
            .validate(Validator::IntBetween(1, 10_000)),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_BATCHING_WINDOW)
            .default(int(0))
            .describe("Seconds Lambda may wait to fill a batch.")
            .validate(Validator::IntBetween(0, 300)),
    )
    .attr(
        Attribute::number(attr::PARALLELIZATION_FACTOR)
            .default(int(1))
            .describe("Batches per shard processed at once.")
            .validate(Validator::IntBetween(1, 10)),
    )
    .attr(
        Attribute::bool(attr::BISECT_BATCH_ON_FUNCTION_ERROR)
            .default(Value::Bool(false))
            .describe("Split a failed batch in two and retry each half."),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_RETRY_ATTEMPTS)
            .default(int(-1))
            .describe("Retries of a failed batch; -1 retries until the records expire.")
            .validate(Validator::IntBetween(-1, 10_000)),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_RECORD_AGE)
            .default(int(-1))
            .describe(
                "Seconds after which a record is no longer sent (60 to 604800); -1 means no \
                 limit. With `on_failure`, records of batches given up go to its queue.",
            )
            .validate(validate::record_age_validator()),
    )
    .attr(
        Attribute::bool(attr::REPORT_BATCH_ITEM_FAILURES)
            .default(Value::Bool(false))
            .describe("The function may report which records of a batch failed."),
    )
    .attr(
        Attribute::bool(attr::ALLOW_PUT_RECORDS)
            .default(Value::Bool(false))
            .describe(
                "Also let the function write to the stream (`kinesis:PutRecord`, \
                 `kinesis:PutRecords`, shown in `policy_json`), e.g. to publish its results \
                 for real-time consumers.",
            ),
    )
}

fn queue_block() -> Block {
    Block::new(
        "How the event queue of `delivery = \"queue\"` is drained. The queue is encrypted and \
         accepts messages only from this bucket in this account; with `on_failure`, a \
         message received `max_receive_count` times goes to the failure queue.",
    )
    .attr(
        Attribute::number(attr::VISIBILITY_TIMEOUT)
            .optional_computed()
            .describe(
                "Seconds a message being processed stays hidden; defaults to 6 × the \
                 function's timeout, and may not be less than the timeout.",
            )
            .validate(Validator::IntBetween(0, 43_200)),
    )
    .attr(
        Attribute::number(attr::MAX_RECEIVE_COUNT)
            .default(int(5))
            .describe("Receives before a message goes to the failure queue (with `on_failure`).")
            .validate(Validator::IntBetween(1, 1000)),
    )
    .attr(
        Attribute::number(attr::BATCH_SIZE)
            .default(int(10))
            .describe("Messages per invocation, at most; above 10 needs `maximum_batching_window`.")
            .validate(Validator::IntBetween(1, 10_000)),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_BATCHING_WINDOW)
            .default(int(0))
            .describe("Seconds Lambda may wait to fill a batch.")
            .validate(Validator::IntBetween(0, 300)),
    )
    .attr(
        Attribute::number(attr::MAXIMUM_CONCURRENCY)
            .optional()
            .describe("Invocations draining the queue at once, at most (2 to 1000).")
            .validate(Validator::IntBetween(2, 1000)),
    )
    .attr(
        Attribute::bool(attr::REPORT_BATCH_ITEM_FAILURES)
            .default(Value::Bool(false))
            .describe("The function may report which messages of a batch failed."),
    )
}

fn logs_block() -> Block {
    Block::new(
        "The function's log group. Without this block the pipeline still makes the group, \
         with 30 days' retention.",
    )
    .attr(
        Attribute::number(attr::RETENTION_IN_DAYS)
            .default(Value::Number(Number::from(30i64)))
            .describe("How many days the group keeps log events.")
            .validate(validate::retention_validator()),
    )
    .attr(
        Attribute::string(attr::FORMAT)
            .default(Value::String("Text".into()))
            .describe("How the function writes its logs: `Text` or `JSON`.")
            .validate(Validator::OneOf(&["Text", "JSON"])),
    )
    .attr(
        Attribute::string(attr::APPLICATION_LOG_LEVEL)
            .optional()
            .describe("With `format = \"JSON\"`: the lowest level of the function's own log lines that are kept.")
            .validate(Validator::OneOf(&["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"])),
    )
    .attr(
        Attribute::string(attr::SYSTEM_LOG_LEVEL)
            .optional()
            .describe("With `format = \"JSON\"`: the lowest level of Lambda's own log lines that are kept.")
            .validate(Validator::OneOf(&["DEBUG", "INFO", "WARN"])),
    )
    .attr(
        Attribute::bool(attr::KEEP_ON_DESTROY)
            .default(Value::Bool(false))
            .describe("When `true`, destroying the pipeline leaves the log group and its logs."),
    )
}

fn trigger_block() -> Block {
    Block::new(
        "A bucket notification that invokes the function. At least one is required; \
         triggers must not overlap (same event type with overlapping prefix and suffix).",
    )
    .attr(
        Attribute::string_list(attr::EVENTS)
            .default(Value::List(vec![Value::String(DEFAULT_EVENT.into())]))
            .describe("S3 event types that invoke the function."),
    )
    .attr(
        Attribute::string(attr::FILTER_PREFIX)
            .optional()
            .describe("Only objects whose key starts with this prefix, e.g. `data/`."),
    )
    .attr(
        Attribute::string(attr::FILTER_SUFFIX)
            .optional()
            .describe("Only objects whose key ends with this suffix, e.g. `.json`."),
    )
}
