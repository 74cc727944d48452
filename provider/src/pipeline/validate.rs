//! Checks that need more than one attribute or the file system: everything
//! knowable before apply that would otherwise fail half-way through it.
//! Unknown values are skipped; they are checked again when known.

use tfsdk::access::Field;
use tfsdk::diag::{AttrPath, Diagnostic, Diagnostics};
use tfsdk::schema::Validator;

use super::handler_check::{self, Language, Verdict};
use super::naming::STAGING_PREFIX;
use super::package::Build;
use super::package::cache::Cache;
use super::package::limits;
use super::source::SourceTree;
use super::state::{Function, Planning, State, Trigger, attr, path};
use super::{defaults, runtimes};

/// S3 event types Lambda notifications accept.
pub const S3_EVENTS: &[&str] = &[
    "s3:TestEvent",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

/// Environment variables Lambda sets itself and refuses in configuration.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// Lambda's limit on the total size of all environment variables.
pub const MAX_ENV_BYTES: usize = 4096;

/// The longest `name`: the role `<name>-role` must fit IAM's 64 characters.
pub const MAX_NAME_LEN: usize = 59;

/// Timeouts above this suit S3's asynchronous invocations poorly.
pub const ASYNC_TIMEOUT_WARNING_S: i64 = 300;

fn error(path: AttrPath, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).at(path)
}

/// All resource-level checks on a (possibly partly unknown) configuration,
/// with its source directory scanned once by the caller (`build`).
pub fn check(cfg: &State<Planning>, build: &Build) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Field::Known(tags) = &cfg.tags {
        for key in tags.keys() {
            if key.starts_with("eventpipe:") || key.to_ascii_lowercase().starts_with("aws:") {
                diags.push(error(
                    path::top(attr::TAGS).key(key),
                    "Reserved tag key",
                    format!(
                        "Tag keys starting with `eventpipe:` are the provider's own and `aws:` \
                         is reserved by AWS; rename {key:?}."
                    ),
                ));
            }
        }
    }
    if cfg.create_bucket == Field::Known(false) {
        if cfg.force_destroy == Field::Known(true) {
            diags.push(error(
                path::top(attr::FORCE_DESTROY),
                "force_destroy with a bucket the pipeline does not manage",
                "With create_bucket = false the bucket is not managed by the pipeline: \
                 destroying the pipeline never deletes it or its objects, so force_destroy \
                 cannot apply. Remove force_destroy, or set create_bucket = true.",
            ));
        }
        if cfg.bucket_name.is_null() {
            diags.push(error(
                path::top(attr::BUCKET_NAME),
                "Missing bucket name",
                "With create_bucket = false the pipeline uses an existing bucket: set \
                 bucket_name to its name.",
            ));
        }
    }
    if let Field::Known(logs) = &cfg.logs
        && logs.format == Field::Known("Text".to_owned())
    {
        for (name, level) in [
            (attr::APPLICATION_LOG_LEVEL, &logs.application_log_level),
            (attr::SYSTEM_LOG_LEVEL, &logs.system_log_level),
        ] {
            if let Field::Known(l) = level {
                diags.push(error(
                    path::logs(name),
                    "Log level needs JSON logs",
                    format!(
                        "Lambda filters log lines by level only for JSON logs; with format = \
                         \"Text\" the level {l:?} would be ignored. Set format = \"JSON\", or \
                         remove {name}."
                    ),
                ));
            }
        }
    }
    if let Field::Known(q) = &cfg.queue {
        if let (Field::Known(b), Field::Known(0)) = (&q.batch_size, &q.maximum_batching_window)
            && *b > 10
        {
            diags.push(error(
                path::queue(attr::BATCH_SIZE),
                "Batch size needs a batching window",
                format!(
                    "Lambda takes more than 10 messages per batch from a queue only with a \
                     batching window: batch_size {b} needs maximum_batching_window of at least 1 \
                     second."
                ),
            ));
        }
        if let (Field::Known(v), Field::Known(t)) = (&q.visibility_timeout, &cfg.function.timeout)
            && v < t
        {
            diags.push(error(
                path::queue(attr::VISIBILITY_TIMEOUT),
                "Visibility timeout below the function's timeout",
                format!(
                    "A message stays hidden for {v} s while the function may run for {t} s: it \
                     would be delivered again while still being processed. Use at least {t} \
                     (the default is 6 × the timeout, {})",
                    t * 6
                ),
            ));
        }
    }
    // Not set is `direct` too (the configuration has no defaults here).
    if let Field::Known(_) = &cfg.queue
        && (cfg.delivery.is_null() || cfg.delivery == Field::Known("direct".to_owned()))
    {
        diags.push(
            Diagnostic::warning(
                "Queue settings without queue delivery",
                "The queue block only applies with delivery = \"queue\"; with direct delivery S3 \
                 invokes the function itself.",
            )
            .at(path::top(attr::QUEUE)),
        );
    }
    check_function(&cfg.function, build, &mut diags);
    check_package(cfg, build, Cache::from_env().as_ref(), &mut diags);
    if let Field::Known(triggers) = &cfg.trigger {
        check_triggers(triggers, &cfg.output_prefix, &mut diags);
    }
    diags
}

/// Whether a trigger with this filter could match a staged package's key
/// (`.eventpipe/packages/<function>/<hex hash>.zip`).
pub fn matches_staging(prefix: Option<&str>, suffix: Option<&str>) -> bool {
    let prefix = prefix.unwrap_or_default();
    let prefix_may = STAGING_PREFIX.starts_with(prefix) || prefix.starts_with(STAGING_PREFIX);
    let suffix_may = match suffix.unwrap_or_default() {
        "" => true,
        s => {
            ".zip".ends_with(s)
                || s.strip_suffix(".zip").is_some_and(|h| {
                    h.trim_start_matches('/')
                        .chars()
                        .all(|c| c.is_ascii_hexdigit())
                })
        }
    };
    prefix_may && suffix_may
}

/// The package's checks: its dependencies (readable, installable, pinned),
/// its size with a cached dependency tree, and where it would be staged.
fn check_package(
    cfg: &State<Planning>,
    build: &Build,
    cache: Option<&Cache>,
    diags: &mut Diagnostics,
) {
    let fp = path::function;
    let deps = match build.deps() {
        None => return,
        Some(Err(e)) => {
            diags.push(error(
                fp(e.attr()),
                "Invalid function dependencies",
                e.to_string(),
            ));
            return;
        }
        Some(Ok(d)) => d,
    };
    let Some(Ok(tree)) = build.source.tree() else {
        return;
    };
    let deps_at = if cfg.function.requirements_file.is_null() {
        fp(attr::SOURCE_DIR)
    } else {
        fp(attr::REQUIREMENTS_FILE)
    };
    if let Some(d) = deps {
        for w in d.warnings() {
            diags.push(Diagnostic::warning("Unpinned requirements", w).at(deps_at.clone()));
        }
        match build.cached_deps(cache) {
            Some(_) => {
                // The size is known: source and installed tree together.
                if let Some(msg) = build.too_large(cache) {
                    diags.push(error(
                        fp(attr::SOURCE_DIR),
                        "Function package too large",
                        msg,
                    ));
                }
            }
            None => {
                if let Err(why) = d.installer_available() {
                    diags.push(error(
                        deps_at.clone(),
                        "Cannot install the dependencies",
                        why,
                    ));
                }
            }
        }
    }
    // Staging: only a package that may be over 50 MB zipped needs it.
    let may_stage = limits::may_need_staging(tree.total_size(), deps.is_some());
    if !may_stage || !cfg.function.package_bucket.is_null() {
        return;
    }
    if cfg.create_bucket == Field::Known(false) {
        diags.push(error(
            fp(attr::PACKAGE_BUCKET),
            "Missing package bucket",
            format!(
                "The package {} and may be over Lambda's 50 MB direct-upload limit once zipped \
                 (known only at apply), and then has to be staged in S3; with create_bucket = \
                 false the pipeline does not own its bucket, so set function.package_bucket to \
                 a bucket the provider's credentials may write to.",
                if deps.is_some() {
                    "has dependencies"
                } else {
                    "is over 45 MB unzipped"
                }
            ),
        ));
    } else if let Field::Known(triggers) = &cfg.trigger {
        for (i, t) in triggers.iter().enumerate() {
            let (Some(prefix), Some(suffix)) =
                (opt_known(&t.filter_prefix), opt_known(&t.filter_suffix))
            else {
                continue;
            };
            let (prefix, suffix) = (prefix.map(String::as_str), suffix.map(String::as_str));
            if matches_staging(prefix, suffix) && prefix.is_none_or(str::is_empty) {
                diags.push(error(
                    path::trigger(i),
                    "Trigger matches staged packages",
                    format!(
                        "This package may be staged in the pipeline's own bucket under \
                         `{STAGING_PREFIX}` (it may be over 50 MB zipped), and this trigger, \
                         with no filter_prefix, would invoke the function on its own package. \
                         Set a filter_prefix, or set function.package_bucket to another bucket."
                    ),
                ));
            }
        }
    }
}

/// A known optional value (`Some(None)`: null), or `None` while unknown.
fn opt_known<T>(f: &Field<T>) -> Option<Option<&T>> {
    match f {
        Field::Known(v) => Some(Some(v)),
        Field::Null => Some(None),
        Field::Unknown => None,
    }
}

/// Why `name` cannot name the function and the role, if it cannot.
pub fn name_problem(name: &str) -> Result<(), String> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
    if !name.is_empty() && name.len() <= MAX_NAME_LEN && bad.is_none() {
        return Ok(());
    }
    let why = match bad {
        Some(c) => format!("it contains {c:?}"),
        None => format!("it is {} characters long", name.len()),
    };
    Err(format!(
        "{name:?} cannot name the function and the role: {why}. Use 1 to {MAX_NAME_LEN} \
         letters, digits, `-` and `_` (the role is `<name>-role`, and IAM allows 64 characters)"
    ))
}

pub fn name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 59 letters, digits, `-` and `_` (so `<name>-role` fits IAM's 64 characters).",
        check: |v| name_problem(v.as_str().unwrap_or_default()),
    }
}

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn retention_validator() -> Validator {
    Validator::Custom {
        doc: "One of the periods CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, \
              180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653.",
        check: |v| {
            let n = v
                .as_number()
                .and_then(|n| n.as_i64())
                .ok_or("expected a whole number")?;
            if RETENTION_DAYS.contains(&n) {
                return Ok(());
            }
            let near = RETENTION_DAYS
                .iter()
                .min_by_key(|d| (**d - n).abs())
                .copied()
                .unwrap_or(30);
            Err(format!(
                "{n} days is not a retention CloudWatch Logs accepts (the nearest is {near}); \
                 use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, \
                 1827, 2192, 2557, 2922, 3288, 3653"
            ))
        },
    }
}

/// `arn:<partition>:sqs:<region>:<account>:<name>`.
fn queue_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sqs"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not an SQS queue ARN such as arn:aws:sqs:us-east-1:123456789012:failed"
        ))
    }
}

pub fn queue_arn_validator() -> Validator {
    Validator::Custom {
        doc: "An SQS queue ARN, `arn:aws:sqs:<region>:<account>:<name>`.",
        check: |v| queue_arn_problem(v.as_str().unwrap_or_default()),
    }
}

/// `arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>`.
pub fn layer_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 8
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "layer"
        && !parts[6].is_empty()
        && parts[6]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !parts[7].is_empty()
        && parts[7].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not a layer version ARN such as \
             arn:aws:lambda:us-east-1:123456789012:layer:numpy:3"
        ))
    }
}

/// `arn:<partition>:kinesis:<region>:<account>:stream/<name>`.
fn stream_arn_problem(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kinesis"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("stream/")
            .is_some_and(|n| !n.is_empty() && !n.contains('/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not a Kinesis stream ARN such as \
             arn:aws:kinesis:us-east-1:123456789012:stream/orders"
        ))
    }
}

pub fn stream_arn_validator() -> Validator {
    Validator::Custom {
        doc: "A Kinesis stream ARN, `arn:aws:kinesis:<region>:<account>:stream/<name>`.",
        check: |v| stream_arn_problem(v.as_str().unwrap_or_default()),
    }
}

pub fn record_age_validator() -> Validator {
    Validator::Custom {
        doc: "-1, or 60 to 604800 seconds.",
        check: |v| match v.as_number().and_then(|n| n.as_i64()) {
            Some(-1) => Ok(()),
            Some(n) if (60..=604_800).contains(&n) => Ok(()),
            Some(n) => Err(format!(
                "{n} is out of range: must be -1 (no limit) or between 60 and 604800 seconds"
            )),
            None => Err("must be a whole number".into()),
        },
    }
}

/// Lambda's rule for function names.
fn function_name_problem(name: &str) -> Result<(), String> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
    match bad {
        None if (1..=64).contains(&name.len()) => Ok(()),
        Some(c) => Err(format!(
            "{name:?} is not a Lambda function name: it contains {c:?}; use letters, digits, \
             `-` and `_`"
        )),
        None => Err(format!(
            "{name:?} is not a Lambda function name: use 1 to 64 characters"
        )),
    }
}

pub fn function_name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 64 letters, digits, `-` and `_`.",
        check: |v| function_name_problem(v.as_str().unwrap_or_default()),
    }
}

/// IAM's rule for role names.
fn role_name_problem(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    match name.chars().find(|c| !allowed(*c)) {
        None if (1..=64).contains(&name.len()) => Ok(()),
        Some(c) => Err(format!(
            "{name:?} is not an IAM role name: it contains {c:?}; use letters, digits and \
             `+=,.@_-`"
        )),
        None => Err(format!(
            "{name:?} is not an IAM role name: use 1 to 64 characters"
        )),
    }
}

pub fn role_name_validator() -> Validator {
    Validator::Custom {
        doc: "1 to 64 letters, digits and `+=,.@_-`.",
        check: |v| role_name_problem(v.as_str().unwrap_or_default()),
    }
}

pub fn bucket_validator() -> Validator {
    Validator::Custom {
        doc: "A valid S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`, starting \
              and ending with a letter or digit, not an IP address, no reserved prefix or suffix.",
        check: |v| {
            let name = v.as_str().unwrap_or_default();
            bucket_name_problem(name)
                .map_err(|why| format!("{name:?} is not a valid S3 bucket name: {why}"))
        },
    }
}

/// Why `name` breaks S3's bucket naming rules, if it does.
pub fn bucket_name_problem(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Err("it must be 3 to 63 characters long");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
    {
        return Err("only lowercase letters, digits, hyphens and dots are allowed");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Err("it must not contain two dots in a row");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("it must not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.starts_with("amzn-s3-demo-")
    {
        return Err("the prefixes `xn--`, `sthree-` and `amzn-s3-demo-` are reserved");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") || name.ends_with(".mrap") {
        return Err("the suffixes `-s3alias`, `--ol-s3` and `.mrap` are reserved");
    }
    Ok(())
}

fn check_function(f: &Function<Planning>, build: &Build, diags: &mut Diagnostics) {
    let fp = path::function;
    // The runtime's own validator reports bad names; check the handler only
    // for runtimes whose file layout we know.
    let tree = match build.source.tree() {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            diags.push(error(
                fp(attr::SOURCE_DIR),
                "Invalid function source",
                e.to_string(),
            ));
            None
        }
        None => None,
    };
    if let Field::Known(handler) = &f.handler {
        let runtime = f
            .runtime
            .as_known()
            .map_or(runtimes::DEFAULT, String::as_str);
        check_handler(handler, runtime, tree, diags);
    }
    if let Field::Known(env) = &f.environment {
        let mut total = 0;
        for (k, v) in env {
            total += k.len() + v.len();
            let well_formed = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !well_formed {
                diags.push(error(
                    fp(attr::ENVIRONMENT).key(k),
                    "Invalid environment variable name",
                    format!(
                        "{k:?} must start with a letter and hold only letters, digits and `_`."
                    ),
                ));
            } else if RESERVED_ENV.contains(&k.as_str()) {
                diags.push(error(
                    fp(attr::ENVIRONMENT).key(k),
                    "Reserved environment variable",
                    format!("Lambda sets {k} itself and refuses it in configuration; remove it."),
                ));
            }
        }
        if total > MAX_ENV_BYTES {
            diags.push(error(
                fp(attr::ENVIRONMENT),
                "Environment too large",
                format!(
                    "The environment variables add up to {total} bytes; Lambda allows \
                     {MAX_ENV_BYTES} bytes in all. Keep large settings in S3 or Parameter Store."
                ),
            ));
        }
    }
    if let Field::Known(layers) = &f.layers {
        if layers.len() > 5 {
            diags.push(error(
                fp(attr::LAYERS),
                "Too many layers",
                format!(
                    "A function can use at most 5 layers; {} are listed.",
                    layers.len()
                ),
            ));
        }
        for (i, l) in layers.iter().enumerate() {
            if let Err(why) = layer_arn_problem(l) {
                diags.push(error(fp(attr::LAYERS).index(i), "Invalid layer ARN", why));
            }
        }
    }
    if let Field::Known(t) = f.timeout
        && t > ASYNC_TIMEOUT_WARNING_S
    {
        diags.push(
            Diagnostic::warning(
                "Long timeout for an S3-triggered function",
                format!(
                    "S3 invokes the function asynchronously and retries failed events; with a \
                     {t} s timeout a slow event holds concurrency for long and retries pile \
                     up. Consider at most {ASYNC_TIMEOUT_WARNING_S} s, or a queue in between."
                ),
            )
            .at(fp(attr::TIMEOUT)),
        );
    }
}

/// The largest handler module the plan reads to see what it defines.
const MAX_HANDLER_MODULE_BYTES: u64 = 2 * 1024 * 1024;

/// `app.handler` → `app.py` for Python; `index.handler` → `index.js`,
/// `.mjs` or `.cjs` for Node.js, and that module defines (Python, at top
/// level) or exports (Node.js) the function. Other runtimes are not
/// checked.
fn check_handler(handler: &str, runtime: &str, tree: Option<&SourceTree>, diags: &mut Diagnostics) {
    let path = path::function(attr::HANDLER);
    let Some(lang) = Language::of_runtime(runtime) else {
        return;
    };
    let extensions = lang.extensions();
    let Some((module, func)) = handler.rsplit_once('.') else {
        diags.push(error(
            path,
            "Invalid handler",
            format!(
                "{handler:?} must be `<module>.<function>`, e.g. `app.handler` for handler() in \
                 app.{}.",
                extensions[0]
            ),
        ));
        return;
    };
    if module.is_empty() || func.is_empty() {
        diags.push(error(
            path,
            "Invalid handler",
            format!("{handler:?} must be `<module>.<function>`."),
        ));
        return;
    }
    let Some(tree) = tree else { return };
    // Python modules may be dotted packages; Node paths use `/`.
    let base = match lang {
        Language::Python => module.replace('.', "/"),
        Language::Node => module.to_owned(),
    };
    let file = extensions.iter().find_map(|ext| {
        let name = format!("{base}.{ext}");
        tree.files.iter().find(|f| f.name == name)
    });
    let Some(file) = file else {
        diags.push(error(
            path,
            "Handler file not found",
            format!(
                "Handler {handler:?} needs {base}.{} in {}, which is not there.",
                extensions[0],
                tree.root.display()
            ),
        ));
        return;
    };
    if file.size > MAX_HANDLER_MODULE_BYTES {
        return;
    }
    let scan = match std::fs::read(&file.path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => handler_check::scan(lang, &text),
            Err(_) => handler_check::Scan::Unreadable("it is not UTF-8 text".to_owned()),
        },
        Err(e) => handler_check::Scan::Unreadable(e.to_string()),
    };
    let verdict = handler_check::verdict(&scan, func);
    // `app.py`: the file's name where `<module>.<function>` belongs.
    let names_the_file = extensions.contains(&func) && verdict != Verdict::Found;
    if names_the_file {
        let (module_name, _) = file.name.rsplit_once('.').unwrap_or((&file.name, ""));
        let module_name = match lang {
            Language::Python => module_name.replace('/', "."),
            Language::Node => module_name.to_owned(),
        };
        let instead = match handler_check::likely_function(&scan) {
            Some(f) => format!("\"{module_name}.{f}\""),
            None => format!("\"{module_name}.<function>\" with the function Lambda calls"),
        };
        diags.push(error(
            path,
            "Invalid handler",
            format!(
                "{handler:?} names the file {}; a handler is `<module>.<function>`: the module \
                 without its extension, then the function. Did you mean {instead}?",
                file.name
            ),
        ));
        return;
    }
    let (lacks, defines) = match lang {
        Language::Python => (
            format!("has no top-level `{func}`"),
            "The functions it defines at top level",
        ),
        Language::Node => (
            format!("does not export `{func}`"),
            "The functions it exports",
        ),
    };
    match verdict {
        Verdict::Found => {}
        Verdict::Missing { functions, others } => {
            let listed = |names: &[String]| {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut defined = if functions.is_empty() {
                format!("{defines}: none")
            } else {
                format!("{defines}: {}", listed(&functions))
            };
            if !others.is_empty() {
                defined.push_str(&format!(" (other names: {})", listed(&others)));
            }
            diags.push(error(
                path,
                "Handler function not found",
                format!(
                    "Handler {handler:?}: {} {lacks}, so Lambda would fail on the first event. \
                     {defined}.",
                    file.name
                ),
            ));
        }
        Verdict::Unsure(why) => diags.push(
            Diagnostic::warning(
                "Handler function not checked",
                format!(
                    "Handler {handler:?}: {} {why}, so whether it defines `{func}` is known \
                     only when Lambda loads it.",
                    file.name
                ),
            )
            .at(path),
        ),
    }
}

/// A trigger whose events and filters are known.
struct Filter {
    index: usize,
    events: Vec<String>,
    prefix: String,
    suffix: String,
}

/// Two key filters can match the same key when one prefix extends the
/// other and one suffix extends the other.
/// What a trigger with these events fires for, in words ("every new
/// object", "every object removal", …).
fn what_fires(events: &[String]) -> String {
    let kind = |e: &str| {
        let family = e
            .strip_prefix("s3:")
            .and_then(|r| r.split(':').next())
            .unwrap_or(e);
        match family {
            "ObjectCreated" => "every new object",
            "ObjectRemoved" => "every object removal",
            "ObjectRestore" => "every object restore",
            "ObjectTagging" => "every change of an object's tags",
            "ObjectAcl" => "every change of an object's ACL",
            "LifecycleExpiration" => "every object expiry",
            "LifecycleTransition" => "every storage-class transition",
            "Replication" => "every replication event",
            "IntelligentTiering" => "every archive-tier move",
            _ => "every event of this kind",
        }
    };
    let mut words: Vec<&str> = events.iter().map(|e| kind(e)).collect();
    words.dedup();
    if words.is_empty() {
        return "every event".to_owned();
    }
    let last = words.pop().unwrap_or_default();
    if words.is_empty() {
        last.to_owned()
    } else {
        format!("{} and {last}", words.join(", "))
    }
}

pub fn filters_overlap(a: (&str, &str), b: (&str, &str)) -> bool {
    let prefixes = a.0.starts_with(b.0) || b.0.starts_with(a.0);
    let suffixes = a.1.ends_with(b.1) || b.1.ends_with(a.1);
    prefixes && suffixes
}

/// Event types that can fire for the same event, e.g. `s3:ObjectCreated:*`
/// and `s3:ObjectCreated:Put`.
pub fn events_overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let family = |e: &str| {
        e.rsplit_once(':')
            .map_or(e.to_owned(), |(f, _)| f.to_owned())
    };
    (a.ends_with(":*") || b.ends_with(":*")) && family(a) == family(b)
}

fn creates_objects(event: &str) -> bool {
    event.starts_with("s3:ObjectCreated:")
}

fn check_triggers(
    triggers: &[Trigger<Planning>],
    output_prefix: &Field<String>,
    diags: &mut Diagnostics,
) {
    let mut known = Vec::new();
    for (index, t) in triggers.iter().enumerate() {
        let tp = path::trigger(index);
        let events = &t.events;
        if let Field::Known(events) = events {
            if events.is_empty() {
                diags.push(error(
                    tp.attr(attr::EVENTS),
                    "No events",
                    "A trigger needs at least one S3 event type, e.g. `s3:ObjectCreated:*`.",
                ));
            }
            for (i, e) in events.iter().enumerate() {
                if !S3_EVENTS.contains(&e.as_str()) {
                    diags.push(error(
                        tp.attr(attr::EVENTS).index(i),
                        "Unknown S3 event type",
                        format!("{e:?} is not an S3 event type; for new objects use \"s3:ObjectCreated:*\"."),
                    ));
                }
            }
        }
        let (prefix, suffix) = (&t.filter_prefix, &t.filter_suffix);
        if let Field::Known(p) = prefix
            && !p.is_empty()
            && (STAGING_PREFIX.starts_with(p.as_str()) || p.starts_with(STAGING_PREFIX))
        {
            diags.push(error(
                tp.attr(attr::FILTER_PREFIX),
                "Trigger matches the reserved prefix",
                format!(
                    "filter_prefix {p:?} could match `{STAGING_PREFIX}`, where packages over \
                     50 MB are staged; the function would be invoked on its own package. Use a \
                     prefix outside `.eventpipe/`."
                ),
            ));
        }
        if prefix.is_null() && suffix.is_null() {
            let what = match events {
                Field::Known(list) => what_fires(list),
                Field::Null => what_fires(&[defaults::DEFAULT_EVENT.to_owned()]),
                Field::Unknown => "every matching event on any object".to_owned(),
            };
            diags.push(
                Diagnostic::warning(
                    "Trigger matches every object",
                    format!(
                        "This trigger has neither filter_prefix nor filter_suffix, so {what} \
                         in the bucket invokes the function."
                    ),
                )
                .at(tp.clone()),
            );
        }
        if let Field::Known(p) = prefix
            && p.starts_with('/')
        {
            diags.push(
                Diagnostic::warning(
                    "Prefix starts with a slash",
                    format!(
                        "S3 keys rarely start with `/`: a key such as `{}x.json` is written \
                         without it, so filter_prefix {p:?} would never match it. Use {:?}.",
                        p.trim_start_matches('/'),
                        p.trim_start_matches('/')
                    ),
                )
                .at(tp.attr(attr::FILTER_PREFIX)),
            );
        }
        if let Field::Known(s) = suffix
            && !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric())
        {
            diags.push(
                Diagnostic::warning(
                    "Suffix without a dot",
                    format!(
                        "filter_suffix {s:?} matches every key that ends in {s:?}: `data.{s}`, \
                         and also `…my{s}`. Did you mean `.{s}`?"
                    ),
                )
                .at(tp.attr(attr::FILTER_SUFFIX)),
            );
        }
        // Null events plan as the default event type.
        let events = match events {
            Field::Null => Field::Known(vec![defaults::DEFAULT_EVENT.to_owned()]),
            other => other.clone(),
        };
        if let (Field::Known(events), false, false) =
            (events, prefix.is_unknown(), suffix.is_unknown())
        {
            let events = if events.is_empty() {
                vec![defaults::DEFAULT_EVENT.to_owned()]
            } else {
                events
            };
            known.push(Filter {
                index,
                events,
                prefix: prefix.as_known().cloned().unwrap_or_default(),
                suffix: suffix.as_known().cloned().unwrap_or_default(),
            });
        }
    }
    for (i, a) in known.iter().enumerate() {
        for b in &known[i + 1..] {
            let shared = a
                .events
                .iter()
                .find(|e| b.events.iter().any(|f| events_overlap(e, f)));
            if let Some(event) = shared
                && filters_overlap((&a.prefix, &a.suffix), (&b.prefix, &b.suffix))
            {
                diags.push(error(
                    path::trigger(b.index),
                    "Overlapping triggers",
                    format!(
                        "trigger[{}] and trigger[{}] both fire for {event} on keys that match both \
                         filters (prefix {:?}/{:?}, suffix {:?}/{:?}); S3 refuses such a \
                         configuration as \"ambiguously defined\". Make the prefixes or suffixes \
                         disjoint, or merge the triggers.",
                        a.index, b.index, a.prefix, b.prefix, a.suffix, b.suffix
                    ),
                ));
            }
        }
    }
    if let Field::Known(out) = output_prefix {
        for t in &known {
            let loops = t.events.iter().any(|e| creates_objects(e))
                && (out.starts_with(&t.prefix) || t.prefix.starts_with(out.as_str()));
            if loops {
                diags.push(error(
                    path::top(attr::OUTPUT_PREFIX),
                    "Output would re-trigger the function",
                    format!(
                        "The function writes results under {out:?}, and trigger[{}] (prefix {:?}) \
                         fires for new objects there: every result would invoke the function \
                         again, in a loop. Use an output prefix no trigger matches, e.g. \
                         \"processed/\" with triggers on \"data/\".",
                        t.index, t.prefix
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline::source;
    use tfsdk::value::Value;

    #[test]
    fn arns_of_the_china_and_govcloud_partitions_are_accepted() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let region = match partition {
                "aws-cn" => "cn-north-1",
                "aws-us-gov" => "us-gov-west-1",
                _ => "us-east-1",
            };
            let account = "123456789012";
            assert!(
                queue_arn_problem(&format!("arn:{partition}:sqs:{region}:{account}:q")).is_ok()
            );
            assert!(
                layer_arn_problem(&format!(
                    "arn:{partition}:lambda:{region}:{account}:layer:l:1"
                ))
                .is_ok()
            );
            assert!(
                stream_arn_problem(&format!(
                    "arn:{partition}:kinesis:{region}:{account}:stream/s"
                ))
                .is_ok()
            );
        }
        assert!(queue_arn_problem("arn:gcp:sqs:us-east-1:123456789012:q").is_err());
    }

    /// The checks on a configuration value whose source is not known yet.
    fn check(v: &Value) -> Diagnostics {
        let cfg = State::<Planning>::from_value(v).expect("a configuration");
        super::check(&cfg, &Build::of(&cfg.function))
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.data", "a1b", &"a".repeat(63)] {
            assert!(bucket_name_problem(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "sthree-x",
            "under_score",
        ] {
            assert!(bucket_name_problem(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlapping_filters() {
        assert!(filters_overlap(("data/", ".json"), ("data/", ".json")));
        assert!(filters_overlap(("data/", ""), ("data/x/", ".json")));
        assert!(filters_overlap(("", ".json"), ("in/", "")));
        assert!(!filters_overlap(("data/", ".json"), ("csv/", ".json")));
        assert!(!filters_overlap(("data/", ".json"), ("data/", ".csv")));
    }

    #[test]
    fn overlapping_events() {
        assert!(events_overlap("s3:ObjectCreated:*", "s3:ObjectCreated:Put"));
        assert!(events_overlap(
            "s3:ObjectCreated:Put",
            "s3:ObjectCreated:Put"
        ));
        assert!(!events_overlap(
            "s3:ObjectCreated:Put",
            "s3:ObjectCreated:Post"
        ));
        assert!(!events_overlap("s3:ObjectCreated:*", "s3:ObjectRemoved:*"));
    }

    #[test]
    fn names_must_fit_every_derived_name() {
        assert!(name_problem(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(name_problem("Orders_ingest-2").is_ok());
        assert!(name_problem(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(name_problem("has space").unwrap_err().contains("' '"));
        assert!(name_problem("").is_err());
    }

    #[test]
    fn handlers_must_name_an_existing_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "def handler(e, c):\n    pass\n").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/mod.py"), "handler = print\n").unwrap();
        std::fs::write(dir.path().join("index.mjs"), "export const handler = 1;\n").unwrap();
        let tree = source::scan(dir.path()).unwrap();
        let run = |h: &str, rt: &str| {
            let mut d = Diagnostics::new();
            check_handler(h, rt, Some(&tree), &mut d);
            d
        };
        assert!(run("app.handler", "python3.13").is_empty());
        assert!(run("pkg.mod.handler", "python3.13").is_empty());
        assert!(run("index.handler", "nodejs22.x").is_empty());
        assert!(run("main.handler", "python3.13").has_errors());
        assert!(run(attr::HANDLER, "python3.13").has_errors());
        assert!(run("app.", "python3.13").has_errors());
        assert!(run("anything", "java21").is_empty());
        // The module must define the function, and a file name is not a
        // handler.
        let d = run("app.process", "python3.13");
        assert!(d.has_errors(), "{d:?}");
        assert!(
            d.0[0]
                .detail
                .contains("app.py has no top-level `process`, so Lambda would fail"),
            "{d:?}"
        );
        assert!(
            d.0[0]
                .detail
                .contains("The functions it defines at top level: `handler`.")
        );
        let d = run("app.py", "python3.13");
        assert!(
            d.0[0].detail.contains("Did you mean \"app.handler\"?"),
            "{d:?}"
        );
        let d = run("index.mjs", "nodejs22.x");
        assert!(
            d.0[0].detail.contains("Did you mean \"index.handler\"?"),
            "{d:?}"
        );
        let d = run("index.process", "nodejs22.x");
        assert!(
            d.0[0]
                .detail
                .contains("index.mjs does not export `process`"),
            "{d:?}"
        );
    }

    fn config(
        function: Vec<(&'static str, Value)>,
        triggers: Vec<Value>,
        extra: Vec<(&'static str, Value)>,
    ) -> Value {
        // The source is checked elsewhere; unknown skips it here.
        let mut f = vec![(attr::SOURCE_DIR, Value::Unknown)];
        f.extend(function);
        let mut top = vec![
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
            (attr::TRIGGER, Value::List(triggers)),
        ];
        top.extend(extra);
        Value::object(top)
    }

    fn trigger(prefix: &str) -> Value {
        Value::object([
            (
                attr::EVENTS,
                Value::List(vec![Value::from("s3:ObjectCreated:*")]),
            ),
            (attr::FILTER_PREFIX, Value::from(prefix)),
            (attr::FILTER_SUFFIX, Value::Null),
        ])
    }

    fn env(vars: &[(&str, String)]) -> Value {
        Value::map(vars.iter().map(|(k, v)| (*k, Value::from(v.as_str()))))
    }

    fn errors(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .filter(|d| d.is_error())
            .map(|d| d.summary.clone())
            .collect()
    }

    /// A configuration with a known source directory and `runtime`, for the
    /// package's checks (no cache: nothing installed yet).
    fn package_checks(
        dir: &std::path::Path,
        extra_fn: Vec<(&'static str, Value)>,
        top: Vec<(&'static str, Value)>,
        prefix: Option<&str>,
    ) -> Diagnostics {
        let mut f = vec![
            (attr::SOURCE_DIR, Value::from(dir.to_str().unwrap())),
            (attr::RUNTIME, Value::from("python3.12")),
            (attr::ARCHITECTURE, Value::from("x86_64")),
            (attr::HANDLER, Value::from("app.handler")),
        ];
        f.extend(extra_fn);
        let t = Value::object([
            (
                attr::EVENTS,
                Value::List(vec![Value::from("s3:ObjectCreated:*")]),
            ),
            (attr::FILTER_PREFIX, prefix.map_or(Value::Null, Value::from)),
            (attr::FILTER_SUFFIX, Value::Null),
        ]);
        let mut o = vec![
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
            (attr::TRIGGER, Value::List(vec![t])),
        ];
        o.extend(top);
        let cfg = State::<Planning>::from_value(&Value::object(o)).expect("a configuration");
        let build = Build::of(&cfg.function);
        let mut diags = Diagnostics::new();
        check_package(&cfg, &build, None, &mut diags);
        diags
    }

    #[test]
    fn the_package_checks_dependencies_and_where_it_may_be_staged() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "x").unwrap();
        // No dependencies, a small source: nothing to say.
        let none = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            None,
        );
        assert!(none.is_empty(), "{none:?}");
        std::fs::write(d.path().join("requirements.txt"), "six\n").unwrap();
        let d1 = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            Some("in/"),
        );
        let summaries: Vec<_> = d1.iter().map(|x| x.summary.as_str()).collect();
        assert!(
            summaries.contains(&"Unpinned requirements"),
            "{summaries:?}"
        );
        assert!(
            summaries.contains(&"Missing package bucket"),
            "{summaries:?}"
        );
        let bucket_set = package_checks(
            d.path(),
            vec![(attr::PACKAGE_BUCKET, Value::from("packages"))],
            vec![(attr::CREATE_BUCKET, Value::Bool(false))],
            Some("in/"),
        );
        assert!(
            !bucket_set
                .iter()
                .any(|x| x.summary == "Missing package bucket")
        );
        // Its own bucket: a trigger on every key would see the staged zip.
        let own = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(true))],
            None,
        );
        assert!(
            own.iter()
                .any(|x| x.summary == "Trigger matches staged packages"),
            "{own:?}"
        );
        let prefixed = package_checks(
            d.path(),
            vec![],
            vec![(attr::CREATE_BUCKET, Value::Bool(true))],
            Some("in/"),
        );
        assert!(
            !prefixed
                .iter()
                .any(|x| x.summary == "Trigger matches staged packages")
        );
    }

    #[test]
    fn staged_keys_and_trigger_filters() {
        assert!(matches_staging(None, None));
        assert!(matches_staging(Some(".eventpipe/"), Some(".zip")));
        assert!(matches_staging(Some(""), Some("zip")));
        assert!(!matches_staging(Some("data/"), None));
        assert!(!matches_staging(None, Some(".json")));
        let d = check(&config(
            vec![],
            vec![trigger(".eventpipe/packages/x/")],
            vec![],
        ));
        assert!(
            errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
        let d = check(&config(vec![], vec![trigger(".event")], vec![]));
        assert!(
            errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
        let d = check(&config(vec![], vec![trigger(".eventpipe-not/")], vec![]));
        assert!(
            !errors(&d).contains(&"Trigger matches the reserved prefix".to_owned()),
            "{d:?}"
        );
    }

    #[test]
    fn the_environment_may_fill_exactly_lambdas_limit() {
        // "BIG" plus the value: 4096 bytes in all is allowed, one more is not.
        let fits = env(&[("BIG", "x".repeat(MAX_ENV_BYTES - 3))]);
        let over = env(&[("BIG", "x".repeat(MAX_ENV_BYTES - 2))]);
        let ok = check(&config(
            vec![(attr::ENVIRONMENT, fits)],
            vec![trigger("in/")],
            vec![],
        ));
        assert!(errors(&ok).is_empty(), "{ok:?}");
        let bad = check(&config(
            vec![(attr::ENVIRONMENT, over)],
            vec![trigger("in/")],
            vec![],
        ));
        assert_eq!(errors(&bad), ["Environment too large"]);
    }

    #[test]
    fn reserved_and_malformed_environment_names_are_refused() {
        let vars = env(&[
            ("AWS_REGION", "x".into()),
            ("9LIVES", "x".into()),
            ("OK_NAME", "x".into()),
        ]);
        let d = check(&config(
            vec![(attr::ENVIRONMENT, vars)],
            vec![trigger("in/")],
            vec![],
        ));
        let mut e = errors(&d);
        e.sort();
        assert_eq!(
            e,
            [
                "Invalid environment variable name",
                "Reserved environment variable"
            ]
        );
    }

    #[test]
    fn an_output_prefix_a_trigger_matches_is_refused_and_a_disjoint_one_is_not() {
        let out = |p: &str| vec![(attr::OUTPUT_PREFIX, Value::from(p))];
        let looping = check(&config(
            vec![],
            vec![trigger("data/")],
            out("data/results/"),
        ));
        assert_eq!(errors(&looping), ["Output would re-trigger the function"]);
        let wider = check(&config(vec![], vec![trigger("data/in/")], out("data/")));
        assert_eq!(errors(&wider), ["Output would re-trigger the function"]);
        let fine = check(&config(vec![], vec![trigger("data/")], out("processed/")));
        assert!(errors(&fine).is_empty(), "{fine:?}");
    }

    #[test]
    fn unknown_values_are_skipped_until_known() {
        let d = check(&config(
            vec![
                (attr::ENVIRONMENT, Value::Unknown),
                (attr::HANDLER, Value::Unknown),
            ],
            vec![Value::object([
                (attr::EVENTS, Value::Unknown),
                (attr::FILTER_PREFIX, Value::Unknown),
                (attr::FILTER_SUFFIX, Value::Null),
            ])],
            vec![
                (attr::OUTPUT_PREFIX, Value::Unknown),
                (attr::TAGS, Value::Unknown),
            ],
        ));
        assert!(errors(&d).is_empty(), "{d:?}");
    }

    #[test]
    fn a_queue_block_without_queue_delivery_is_pointed_out() {
        let queue = || {
            (
                attr::QUEUE,
                Value::object([(attr::BATCH_SIZE, Value::from(5i64))]),
            )
        };
        let warned = |extra: Vec<(&'static str, Value)>| {
            check(&config(vec![], vec![trigger("in/")], extra))
                .iter()
                .any(|d| d.summary == "Queue settings without queue delivery")
        };
        // `delivery` not set is `direct`, its default.
        assert!(warned(vec![queue()]));
        assert!(warned(vec![
            queue(),
            (attr::DELIVERY, Value::from("direct"))
        ]));
        assert!(!warned(vec![
            queue(),
            (attr::DELIVERY, Value::from("queue"))
        ]));
        assert!(!warned(vec![queue(), (attr::DELIVERY, Value::Unknown)]));
        assert!(!warned(vec![(attr::DELIVERY, Value::from("direct"))]));
    }

    #[test]
    fn reserved_tag_keys_are_refused() {
        let tags = Value::map([
            ("eventpipe:x", Value::from("1")),
            ("AWS:y", Value::from("2")),
            ("team", Value::from("3")),
        ]);
        let d = check(&config(
            vec![],
            vec![trigger("in/")],
            vec![(attr::TAGS, tags)],
        ));
        assert_eq!(errors(&d), ["Reserved tag key", "Reserved tag key"]);
    }
}
