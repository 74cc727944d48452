//! What each part should look like for a known state: the tags every part
//! carries, the function's settings and the bucket notification's
//! triggers. Pure; the steps compare these, the AWS operations apply them.

use std::collections::BTreeMap;

use crate::aws::cloudwatch::{AlarmMetric, AlarmSettings, GREATER_THAN, MetricQuery};
use crate::aws::{lambda, mappings, s3, sqs};

use super::ownership::{
    BASE_DIGEST_TAG, BASE_IMAGE_TAG, BUCKET_TAG, FAILURE_QUEUE_FORCE_DELETE_TAG, FORCE_DESTROY_TAG,
    OWNER_TAG, ROLE_TAG, RUNTIME_TAG, SOURCE_DIR_TAG, SOURCE_HASH_TAG, UNMANAGED_BUCKET_TAG,
};
use super::state::{self, Known, State};
use super::{defaults, ecr_policy, naming, policy};

/// Tags for every part: the user's tags plus the ownership tag that lets a
/// later run find (and adopt) the parts again.
pub fn part_tags(s: &State<Known>) -> BTreeMap<String, String> {
    let mut t = s.tags_all.clone();
    t.insert(OWNER_TAG.to_owned(), s.name.clone());
    t
}

/// Tags for the function, which also remembers the bucket and the source
/// so `terraform import` can rebuild the state from AWS.
pub fn function_tags(s: &State<Known>) -> BTreeMap<String, String> {
    let mut t = part_tags(s);
    t.insert(BUCKET_TAG.to_owned(), s.bucket_name.clone());
    t.insert(SOURCE_HASH_TAG.to_owned(), s.source_code_hash.clone());
    if s.function.source_dir.chars().count() <= 256 {
        t.insert(SOURCE_DIR_TAG.to_owned(), s.function.source_dir.clone());
    }
    if s.force_destroy {
        t.insert(FORCE_DESTROY_TAG.to_owned(), "true".to_owned());
    }
    if s.on_failure.as_ref().is_some_and(|f| f.force_delete) {
        t.insert(FAILURE_QUEUE_FORCE_DELETE_TAG.to_owned(), "true".to_owned());
    }
    if !s.create_bucket {
        t.insert(UNMANAGED_BUCKET_TAG.to_owned(), "true".to_owned());
    }
    if s.role_name != naming::role_name(&s.name) {
        t.insert(ROLE_TAG.to_owned(), s.role_name.clone());
    }
    if is_image(s) {
        image_tags(s, &mut t);
    }
    t
}

/// What an import cannot read back from Lambda for an image function: its
/// runtime and its base.
fn image_tags(s: &State<Known>, t: &mut BTreeMap<String, String>) {
    t.insert(RUNTIME_TAG.to_owned(), s.function.runtime.clone());
    if let Some(d) = &s.image_base_digest {
        t.insert(BASE_DIGEST_TAG.to_owned(), d.clone());
    }
    let base = s
        .function
        .image
        .as_ref()
        .and_then(|i| i.base_image.as_ref());
    if let Some(b) = base.filter(|b| b.chars().count() <= 256) {
        t.insert(BASE_IMAGE_TAG.to_owned(), b.clone());
    }
}

/// Whether the function is deployed as a container image
/// (`package_type = "image"`).
pub fn is_image(s: &State<Known>) -> bool {
    s.function.package_type == state::PACKAGE_IMAGE
}

/// The function's configuration. Numbers outside Lambda's range cannot
/// get here: the schema's validators bound them far below `i32::MAX`.
/// An image function has no runtime and no layers (the schema refuses
/// layers with an image).
pub fn function_settings(s: &State<Known>) -> lambda::FunctionSettings {
    let f = &s.function;
    let int = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let image = is_image(s);
    lambda::FunctionSettings {
        role_arn: s.role_arn.clone(),
        handler: f.handler.clone(),
        // An image brings its runtime; Lambda reports none.
        runtime: if image {
            String::new()
        } else {
            f.runtime.clone()
        },
        memory_mb: int(f.memory_size),
        timeout_s: int(f.timeout),
        environment: f.environment.clone().unwrap_or_default(),
        description: f.description.clone().unwrap_or_default(),
        ephemeral_mb: int(f.ephemeral_storage),
        layers: f.layers.clone().unwrap_or_default(),
        image,
        // Sent as Lambda keeps it: a JSON level left unset goes as the
        // default, so removing a level from the configuration resets it.
        logging: Some(logging_as_kept(&lambda::Logging {
            group: s.log_group_name.clone(),
            format: s
                .logs
                .as_ref()
                .map_or_else(|| "Text".to_owned(), |l| l.format.clone()),
            application_level: s
                .logs
                .as_ref()
                .and_then(|l| l.application_log_level.clone()),
            system_level: s.logs.as_ref().and_then(|l| l.system_log_level.clone()),
        })),
    }
}

/// The level Lambda gives a JSON-format log level left unset, application
/// and system alike, and reports back as if it had been set.
pub const DEFAULT_LOG_LEVEL: &str = "INFO";

/// A logging configuration as Lambda keeps it: with JSON logs, a level left
/// unset is [`DEFAULT_LOG_LEVEL`]; with text logs there are no levels.
pub fn logging_as_kept(l: &lambda::Logging) -> lambda::Logging {
    let json = l.format.eq_ignore_ascii_case("JSON");
    let level = |v: &Option<String>| {
        json.then(|| v.clone().unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned()))
    };
    lambda::Logging {
        group: l.group.clone(),
        format: l.format.clone(),
        application_level: level(&l.application_level),
        system_level: level(&l.system_level),
    }
}

/// A log level Lambda reported, as the configuration says it: a level the
/// configuration leaves unset stays unset while Lambda reports its default
/// (or nothing); any other level is what Lambda reports.
pub fn level_as_configured(configured: &Option<String>, read: Option<String>) -> Option<String> {
    match (configured, read) {
        (None, None) => None,
        (None, Some(r)) if r == DEFAULT_LOG_LEVEL => None,
        (_, r) => r,
    }
}

/// Settings that differ only where Lambda did not say, or said what it
/// does by default: a function whose logging configuration was not
/// reported keeps the one wanted, and a log level left unset matches
/// Lambda's default.
pub fn same_settings(have: &lambda::FunctionSettings, want: &lambda::FunctionSettings) -> bool {
    let mut have = have.clone();
    let mut want = want.clone();
    if have.logging.is_none() {
        have.logging.clone_from(&want.logging);
    }
    for s in [&mut have, &mut want] {
        s.logging = s.logging.as_ref().map(logging_as_kept);
    }
    have == want
}

/// The function's asynchronous invoke configuration, with `on_failure`.
pub fn invoke_config(s: &State<Known>) -> Option<lambda::InvokeConfig> {
    let f = s.on_failure.as_ref()?;
    let int = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    Some(lambda::InvokeConfig {
        maximum_retry_attempts: int(f.maximum_retry_attempts.unwrap_or(2)),
        maximum_event_age_s: int(f.maximum_event_age.unwrap_or(21_600)),
        on_failure: s.failure_queue_arn.clone(),
    })
}

/// The failure queue the pipeline makes: encrypted, kept 14 days.
pub const FAILURE_QUEUE: sqs::QueueSettings = sqs::QueueSettings {
    retention_s: 14 * 24 * 3600,
    sse: true,
    visibility_timeout_s: None,
    policy: None,
    redrive: None,
};

/// The function's reserved concurrency (`None`: unreserved).
pub fn concurrency(s: &State<Known>) -> Option<i32> {
    s.function
        .reserved_concurrency
        .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

/// The bucket notification configurations: one per trigger, each with an
/// id this pipeline owns.
pub fn triggers(s: &State<Known>) -> Vec<s3::Trigger> {
    s.trigger
        .iter()
        .enumerate()
        .map(|(i, t)| s3::Trigger {
            id: s
                .notification_ids
                .get(i)
                .cloned()
                .unwrap_or_else(|| naming::notification_id(&s.name, i)),
            target: if s.queued() {
                s3::Destination::Queue(s.event_queue_arn.clone().unwrap_or_default())
            } else {
                s3::Destination::Function(s.function_arn.clone())
            },
            events: t.events.clone(),
            prefix: t.filter_prefix.clone(),
            suffix: t.filter_suffix.clone(),
        })
        .collect()
}

/// The stream the pipeline makes: shards (`None`: on demand) and
/// retention in hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSettings {
    pub shards: Option<i32>,
    pub retention_hours: i32,
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn stream(s: &State<Known>) -> Option<StreamSettings> {
    let st = s.stream.as_ref().filter(|st| st.arn.is_none())?;
    Some(StreamSettings {
        shards: st.shard_count.map(int),
        retention_hours: int(st.retention_period),
    })
}

/// The image repository the pipeline makes, as it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositorySettings {
    pub name: String,
    pub scan_on_push: bool,
    /// The lifecycle policy (`ecr_policy::lifecycle_policy`).
    pub lifecycle_policy: String,
    /// The repository policy (`ecr_policy::repository_policy`).
    pub repository_policy: String,
}

/// The repository the pipeline makes, when it makes one: named after the
/// pipeline, its lifecycle policy keeping `keep_images`, its policy letting
/// Lambda pull for this function alone.
pub fn repository(s: &State<Known>) -> Option<RepositorySettings> {
    if !s.makes_repository() {
        return None;
    }
    let (keep, scan) = s.function.image.as_ref().map_or(
        (
            defaults::DEFAULT_KEEP_IMAGES,
            defaults::DEFAULT_SCAN_ON_PUSH,
        ),
        |i| (i.keep_images, i.scan_on_push),
    );
    Some(RepositorySettings {
        name: naming::repository_name(&s.name),
        scan_on_push: scan,
        lifecycle_policy: ecr_policy::lifecycle_policy(u32::try_from(keep).unwrap_or(u32::MAX)),
        repository_policy: ecr_policy::repository_policy(&s.function_arn),
    })
}

/// The repository the pipeline made that a state still records though it
/// no longer wants it: its function was switched to a zip by an apply that
/// failed before the repository went, and the refresh read the zip back.
/// Only the pipeline's own (no `image.repository_name`): a given
/// repository is never deleted.
pub fn left_repository(s: &State<Known>) -> Option<String> {
    let ours = s
        .function
        .image
        .as_ref()
        .is_none_or(|i| i.repository_name.is_none());
    let recorded = s
        .image_repository_url
        .as_deref()
        .is_some_and(|u| !u.is_empty());
    (ours && recorded && !s.makes_repository()).then(|| naming::repository_name(&s.name))
}

/// How Lambda reads the stream.
pub fn stream_mapping(s: &State<Known>) -> Option<mappings::MappingSettings> {
    let st = s.stream.as_ref()?;
    Some(mappings::MappingSettings {
        batch_size: int(st.batch_size),
        maximum_batching_window_s: int(st.maximum_batching_window),
        starting_position: Some(st.starting_position.clone()),
        parallelization_factor: Some(int(st.parallelization_factor)),
        bisect_batch_on_function_error: Some(st.bisect_batch_on_function_error),
        maximum_retry_attempts: Some(int(st.maximum_retry_attempts)),
        maximum_record_age_s: Some(int(st.maximum_record_age)),
        maximum_concurrency: None,
        report_batch_item_failures: st.report_batch_item_failures,
        // Records of batches given up go to the failure queue.
        on_failure: s.on_failure.as_ref().and(s.failure_queue_arn.clone()),
    })
}

/// The `queue` block's settings, with its defaults when there is none.
struct Queueing {
    visibility_timeout: i64,
    max_receive_count: i64,
    batch_size: i64,
    maximum_batching_window: i64,
    maximum_concurrency: Option<i64>,
    report_batch_item_failures: bool,
}

fn queueing(s: &State<Known>) -> Queueing {
    match &s.queue {
        Some(q) => Queueing {
            visibility_timeout: q.visibility_timeout,
            max_receive_count: q.max_receive_count,
            batch_size: q.batch_size,
            maximum_batching_window: q.maximum_batching_window,
            maximum_concurrency: q.maximum_concurrency,
            report_batch_item_failures: q.report_batch_item_failures,
        },
        None => Queueing {
            visibility_timeout: s.function.timeout * 6,
            max_receive_count: 5,
            batch_size: 10,
            maximum_batching_window: 0,
            maximum_concurrency: None,
            report_batch_item_failures: false,
        },
    }
}

/// How Lambda drains the event queue.
pub fn queue_mapping(s: &State<Known>) -> Option<mappings::MappingSettings> {
    if !s.queued() {
        return None;
    }
    let q = queueing(s);
    Some(mappings::MappingSettings {
        batch_size: int(q.batch_size),
        maximum_batching_window_s: int(q.maximum_batching_window),
        maximum_concurrency: q.maximum_concurrency.map(int),
        report_batch_item_failures: q.report_batch_item_failures,
        ..mappings::MappingSettings::default()
    })
}

/// The event queue: encrypted, only this bucket in this account may send,
/// messages hidden while processed, and with `on_failure` a redrive to the
/// failure queue.
pub fn event_queue(s: &State<Known>) -> Option<sqs::QueueSettings> {
    if !s.queued() {
        return None;
    }
    let q = queueing(s);
    let account = policy::account_of_arn(&s.role_arn).unwrap_or_default();
    let arn = s.event_queue_arn.clone().unwrap_or_default();
    Some(sqs::QueueSettings {
        retention_s: 4 * 24 * 3600,
        sse: true,
        visibility_timeout_s: u32::try_from(q.visibility_timeout).ok(),
        policy: Some(policy::event_queue_policy(&arn, &s.bucket_arn, account)),
        redrive: s.on_failure.as_ref().and_then(|_| {
            Some((
                s.failure_queue_arn.clone()?,
                u32::try_from(q.max_receive_count).unwrap_or(5),
            ))
        }),
    })
}

/// The period every alarm looks at, in seconds.
pub const ALARM_PERIOD_S: i32 = 300;

/// How the alarms count a period without data: as OK (an idle pipeline
/// is a healthy one).
pub const TREAT_MISSING_DATA: &str = "notBreaching";

/// The last part of an ARN (a queue's name).
fn name_in_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or_default()
}

/// `statistic` of `metric` in `namespace`, for one dimension.
fn query(namespace: &str, metric: &str, statistic: &str, dim: (&str, &str)) -> MetricQuery {
    MetricQuery {
        namespace: namespace.to_owned(),
        metric_name: metric.to_owned(),
        statistic: statistic.to_owned(),
        dimensions: BTreeMap::from([(dim.0.to_owned(), dim.1.to_owned())]),
        period: ALARM_PERIOD_S,
    }
}

/// What the alarm of `kind` watches and its threshold, for a state whose
/// `alarms` block asks for it.
fn alarm_metric(s: &State<Known>, kind: &str) -> Option<(AlarmMetric, f64, String)> {
    let a = s.alarms.as_ref()?;
    let function = ("FunctionName", s.function_name.as_str());
    let [failed, errors, throttles, queue_age, iterator_age] = naming::ALARM_KINDS;
    let lambda = "AWS/Lambda";
    Some(if kind == failed {
        let queue = name_in_arn(s.failure_queue_arn.as_deref()?);
        (
            AlarmMetric::Single(query(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "Maximum",
                ("QueueName", queue),
            )),
            0.0,
            format!("failed events are waiting in the failure queue {queue}"),
        )
    } else if kind == errors {
        let pct = a.error_rate_percent?;
        (
            AlarmMetric::Math {
                id: "rate".into(),
                expression: "100 * errors / invocations".into(),
                inputs: vec![
                    ("errors".into(), query(lambda, "Errors", "Sum", function)),
                    (
                        "invocations".into(),
                        query(lambda, "Invocations", "Sum", function),
                    ),
                ],
            },
            pct,
            format!("more than {pct}% of the invocations failed over 5 minutes"),
        )
    } else if kind == throttles {
        (
            AlarmMetric::Single(query(lambda, "Throttles", "Sum", function)),
            0.0,
            "Lambda throttled the function".to_owned(),
        )
    } else if kind == queue_age {
        let queue = naming::event_queue_name(&s.name);
        let age = a.queue_age_seconds;
        (
            AlarmMetric::Single(query(
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "Maximum",
                ("QueueName", &queue),
            )),
            age as f64,
            format!("the oldest event in {queue} waited more than {age} s"),
        )
    } else if kind == iterator_age {
        let age = a.iterator_age_seconds;
        (
            AlarmMetric::Single(query(lambda, "IteratorAge", "Maximum", function)),
            (age * 1000) as f64,
            format!("the function reads stream records more than {age} s old"),
        )
    } else {
        return None;
    })
}

/// The alarms the pipeline should have, by kind: those of
/// [`State::alarm_kinds`], each notifying `alarm_topic_arn` when it goes
/// into ALARM and when it is OK again.
pub fn alarms(s: &State<Known>) -> Vec<(&'static str, AlarmSettings)> {
    let topic = s.alarm_topic_arn.clone().unwrap_or_default();
    s.alarm_kinds()
        .into_iter()
        .filter_map(|kind| {
            let (metric, threshold, what) = alarm_metric(s, kind)?;
            Some((
                kind,
                AlarmSettings {
                    name: naming::alarm_name(&s.name, kind),
                    description: format!("eventpipe pipeline {}: {what}", s.name),
                    metric,
                    threshold,
                    comparison: GREATER_THAN.to_owned(),
                    evaluation_periods: 1,
                    alarm_actions: vec![topic.clone()],
                    ok_actions: vec![topic.clone()],
                    treat_missing_data: TREAT_MISSING_DATA.to_owned(),
                },
            ))
        })
        .collect()
}

/// Whether an alarm CloudWatch holds is the one the plan wants (its
/// threshold compared as CloudWatch stores a double).
pub fn same_alarm(have: &AlarmSettings, want: &AlarmSettings) -> bool {
    let mut h = have.clone();
    if (h.threshold - want.threshold).abs() < 1e-9 {
        h.threshold = want.threshold;
    }
    h == *want
}

/// The names of every alarm a pipeline of `name` may have, of every kind:
/// what a destroy and a switch that drops kinds look for.
pub fn every_alarm_name(name: &str) -> Vec<String> {
    naming::ALARM_KINDS
        .iter()
        .map(|k| naming::alarm_name(name, k))
        .collect()
}

/// Fills in `alarm_topic_arn` and `alarm_arns` from the configuration and
/// the function's ARN (its partition, region and account), for a plan that
/// could not know them.
pub fn fill_alarm_arns(s: &mut State<Known>) {
    let Some(a) = &s.alarms else {
        (s.alarm_arns, s.alarm_topic_arn) = (None, None);
        return;
    };
    let Some(loc) = policy::location_of_arn(&s.function_arn) else {
        return;
    };
    let topic = match &a.topic_arn {
        Some(t) => t.clone(),
        None => policy::topic_arn(&loc, &naming::alarm_topic_name(&s.name)),
    };
    s.alarm_topic_arn = Some(topic);
    s.alarm_arns = Some(
        s.alarm_kinds()
            .into_iter()
            .map(|k| {
                (
                    k.to_owned(),
                    policy::alarm_arn(&loc, &naming::alarm_name(&s.name, k)),
                )
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_functions_tags_keep_its_runtime_and_base_for_import() {
        let mut s = state::tests::known_state("orders");
        assert!(
            !function_tags(&s).contains_key(RUNTIME_TAG),
            "a zip has none"
        );
        s.function.package_type = state::PACKAGE_IMAGE.into();
        s.image_base_digest = Some("sha256:ab".into());
        s.function.image = Some(state::ImageBlock {
            base_image: Some("public.ecr.aws/lambda/python:3.13".into()),
            repository_name: None,
            keep_images: 10,
            scan_on_push: true,
        });
        let t = function_tags(&s);
        assert_eq!(t[RUNTIME_TAG], s.function.runtime);
        assert_eq!(t[BASE_DIGEST_TAG], "sha256:ab");
        assert_eq!(t[BASE_IMAGE_TAG], "public.ecr.aws/lambda/python:3.13");
        // A reference too long for a tag value is left out.
        if let Some(i) = s.function.image.as_mut() {
            i.base_image = Some(format!("r.example/{}:1", "a".repeat(300)));
        }
        assert!(!function_tags(&s).contains_key(BASE_IMAGE_TAG));
    }

    fn logging(format: &str, app: Option<&str>, sys: Option<&str>) -> lambda::Logging {
        lambda::Logging {
            group: "/aws/lambda/f".into(),
            format: format.into(),
            application_level: app.map(str::to_owned),
            system_level: sys.map(str::to_owned),
        }
    }

    #[test]
    fn json_levels_left_unset_are_lambda_s_default_and_text_logs_have_none() {
        assert_eq!(
            logging_as_kept(&logging("JSON", Some("DEBUG"), None)),
            logging("JSON", Some("DEBUG"), Some("INFO"))
        );
        assert_eq!(
            logging_as_kept(&logging("JSON", None, None)),
            logging("JSON", Some("INFO"), Some("INFO"))
        );
        assert_eq!(
            logging_as_kept(&logging("Text", Some("WARN"), None)),
            logging("Text", None, None)
        );
    }

    #[test]
    fn a_level_read_back_at_its_default_stays_unset_and_a_set_one_is_read() {
        let info = || Some("INFO".to_owned());
        assert_eq!(level_as_configured(&None, info()), None);
        assert_eq!(level_as_configured(&None, None), None);
        assert_eq!(level_as_configured(&info(), info()), info());
        // Changed outside Terraform: shown.
        assert_eq!(
            level_as_configured(&None, Some("DEBUG".into())),
            Some("DEBUG".into())
        );
        assert_eq!(level_as_configured(&Some("WARN".into()), info()), info());
    }

    #[test]
    fn settings_with_an_unset_level_match_lambda_s_default() {
        let mut want = known_state("orders");
        want.logs = Some(crate::pipeline::state::Logs {
            retention_in_days: 30,
            format: "JSON".into(),
            application_log_level: Some("INFO".into()),
            system_log_level: None,
            keep_on_destroy: false,
        });
        let sent = function_settings(&want);
        // What is sent names both levels, as Lambda keeps them.
        assert_eq!(
            sent.logging,
            Some(logging("JSON", Some("INFO"), Some("INFO"))).map(|mut l| {
                l.group = want.log_group_name.clone();
                l
            })
        );
        let mut have = sent.clone();
        assert!(same_settings(&have, &sent));
        have.logging.as_mut().expect("logging").system_level = Some("WARN".into());
        assert!(!same_settings(&have, &sent), "a changed level is a change");
        have.logging = None;
        assert!(same_settings(&have, &sent), "not reported: as wanted");
    }

    use crate::pipeline::state::tests::known_state;
}
