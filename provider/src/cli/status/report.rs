//! What `eventpipe status` says: the facts AWS gave, compared with what the
//! pipeline should be (its naming, and with `--state` Terraform's state),
//! the problems found, and the two ways to print them (for people, and as
//! one JSON document).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::aws::s3::{Destination, Notification};
use crate::pipeline::naming;
use crate::pipeline::ownership::SOURCE_HASH_TAG;
use crate::pipeline::parts::function::CODE_DRIFT;

use super::gather::{Facts, QueueFacts};
use super::state_file::Recorded;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub pipeline: String,
    pub region: String,
    pub healthy: bool,
    /// Each problem in one sentence; empty when healthy.
    pub problems: Vec<String>,
    pub function: FunctionReport,
    pub code: CodeReport,
    pub bucket: String,
    pub triggers: Vec<TriggerReport>,
    pub failure_queue: Option<QueueReport>,
    pub event_queue: Option<QueueReport>,
    pub stream: Option<StreamReport>,
    /// `None` ("unknown") without `--state`.
    pub backfilled_objects: Option<i64>,
    pub alarms_in_alarm: Vec<AlarmReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FunctionReport {
    pub name: String,
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub last_update_reason: Option<String>,
    /// `None`: unreserved.
    pub reserved_concurrency: Option<i32>,
    pub code_sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CodeReport {
    /// `matches`, `differs` or `not checked`.
    pub check: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TriggerReport {
    pub id: String,
    /// `ok`, `missing` or `changed`.
    pub status: &'static str,
    pub events: Vec<String>,
    pub filter_prefix: Option<String>,
    pub filter_suffix: Option<String>,
    /// `function <arn>` or `queue <arn>`, as S3 has it.
    pub destination: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueReport {
    pub name: String,
    pub arn: String,
    pub exists: bool,
    /// `ApproximateNumberOfMessages`.
    pub messages: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// CloudWatch's `ApproximateAgeOfOldestMessage`; `None`: unknown.
    pub oldest_message_age_seconds: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StreamReport {
    pub name: String,
    pub arn: String,
    /// CloudWatch's `IteratorAge` (Maximum); `None`: unknown.
    pub iterator_age_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AlarmReport {
    pub name: String,
    pub reason: String,
}

fn queue_report(q: &QueueFacts) -> QueueReport {
    let d = q.depth.clone().unwrap_or_default();
    QueueReport {
        name: q.name.clone(),
        arn: q.arn.clone(),
        exists: q.depth.is_some(),
        messages: d.visible,
        in_flight: d.in_flight,
        delayed: d.delayed,
        oldest_message_age_seconds: q.oldest_age_s,
    }
}

fn describe(d: &Destination) -> String {
    match d {
        Destination::Function(a) => format!("function {a}"),
        Destination::Queue(a) => format!("queue {a}"),
        Destination::Topic(a) => format!("topic {a}"),
    }
}

fn found_trigger(n: &Notification, status: &'static str, detail: Option<String>) -> TriggerReport {
    TriggerReport {
        id: n.id.clone(),
        status,
        events: n.events.clone(),
        filter_prefix: n.prefix.clone().filter(|p| !p.is_empty()),
        filter_suffix: n.suffix.clone().filter(|s| !s.is_empty()),
        destination: Some(describe(&n.destination)),
        detail,
    }
}

fn missing_trigger(id: String, bucket: &str) -> TriggerReport {
    TriggerReport {
        id,
        status: "missing",
        events: Vec::new(),
        filter_prefix: None,
        filter_suffix: None,
        destination: None,
        detail: Some(format!(
            "not in bucket {bucket}'s notifications (removed outside Terraform?)"
        )),
    }
}

/// Where the pipeline's triggers should send events: its event queue with
/// `delivery = "queue"`, its function otherwise.
fn expected_destination(f: &Facts) -> Destination {
    match &f.event_queue {
        Some(q) => Destination::Queue(q.arn.clone()),
        None => Destination::Function(f.function.arn.clone()),
    }
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

/// How a configuration S3 has differs from the one the state records.
fn differences(
    n: &Notification,
    want: &super::state_file::StateTrigger,
    to: &Destination,
) -> Vec<String> {
    let mut d = Vec::new();
    if set(&n.events) != set(&want.events) {
        d.push(format!(
            "events {:?}, the state has {:?}",
            n.events, want.events
        ));
    }
    let norm = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
    if norm(&n.prefix) != want.prefix {
        d.push(format!(
            "prefix {:?}, the state has {:?}",
            norm(&n.prefix),
            want.prefix
        ));
    }
    if norm(&n.suffix) != want.suffix {
        d.push(format!(
            "suffix {:?}, the state has {:?}",
            norm(&n.suffix),
            want.suffix
        ));
    }
    if &n.destination != to {
        d.push(format!("sends to {}", describe(&n.destination)));
    }
    d
}

/// Each trigger as S3 has it, against the state's (with `--state`) or
/// against the pipeline's own numbering `eventpipe-<name>-<i>` (without).
fn check_triggers(f: &Facts, recorded: Option<&Recorded>) -> Vec<TriggerReport> {
    let Some(all) = &f.notifications else {
        return Vec::new();
    };
    let ids: Vec<&String> = recorded
        .map(|r| r.notification_ids.iter().collect())
        .unwrap_or_default();
    let ours: Vec<&Notification> = all
        .iter()
        .filter(|n| !matches!(n.destination, Destination::Topic(_)))
        .filter(|n| {
            naming::own_notification_index(&f.name, &n.id).is_some() || ids.contains(&&n.id)
        })
        .collect();
    let to = expected_destination(f);
    let mut out = Vec::new();
    match recorded {
        Some(r) => {
            let mut expected = Vec::new();
            for (i, t) in r.triggers.iter().enumerate() {
                let id = r
                    .notification_ids
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| naming::notification_id(&f.name, i));
                match ours.iter().find(|n| n.id == id) {
                    None => out.push(missing_trigger(id.clone(), &f.bucket)),
                    Some(n) => {
                        let d = differences(n, t, &to);
                        out.push(if d.is_empty() {
                            found_trigger(n, "ok", None)
                        } else {
                            found_trigger(n, "changed", Some(d.join("; ")))
                        });
                    }
                }
                expected.push(id);
            }
            for n in ours.iter().filter(|n| !expected.contains(&n.id)) {
                out.push(found_trigger(
                    n,
                    "changed",
                    Some("not in the state (added outside Terraform?)".into()),
                ));
            }
        }
        None => {
            let mut indexed: Vec<(usize, &Notification)> = ours
                .iter()
                .filter_map(|n| Some((naming::own_notification_index(&f.name, &n.id)?, *n)))
                .collect();
            indexed.sort_by_key(|(i, _)| *i);
            let last = indexed.last().map_or(0, |(i, _)| *i);
            for i in 0..=last {
                match indexed.iter().find(|(j, _)| *j == i) {
                    None => out.push(missing_trigger(
                        naming::notification_id(&f.name, i),
                        &f.bucket,
                    )),
                    Some((_, n)) if n.destination != to => out.push(found_trigger(
                        n,
                        "changed",
                        Some(format!("should send to {}", describe(&to))),
                    )),
                    Some((_, n)) => out.push(found_trigger(n, "ok", None)),
                }
            }
        }
    }
    out
}

fn check_code(f: &Facts, recorded: Option<&Recorded>) -> CodeReport {
    let Some(r) = recorded else {
        return CodeReport {
            check: "not checked",
            detail:
                "give --state FILE (`terraform show -json` or `terraform state pull`) to compare"
                    .into(),
        };
    };
    // A state file has the CodeSha256 of the provider's last upload: the
    // deployed code is compared byte for byte.
    if let Some(uploaded) = &r.code_sha256 {
        return if *uploaded == f.function.code_sha256 {
            CodeReport {
                check: "matches",
                detail: format!("the last upload {} records", r.address),
            }
        } else {
            CodeReport {
                check: "differs",
                detail: format!(
                    "{} records the upload {uploaded}: the code was changed outside Terraform",
                    r.address
                ),
            }
        };
    }
    // `terraform show -json` has no CodeSha256: the source hash the state
    // records is compared with the one the function was deployed from (its
    // tag), and a refresh that found other code marked the state's.
    let deployed = f
        .function
        .tags
        .get(SOURCE_HASH_TAG)
        .cloned()
        .unwrap_or_default();
    if r.source_code_hash.starts_with(CODE_DRIFT) {
        return CodeReport {
            check: "differs",
            detail: format!(
                "the last refresh found the code {} ({})",
                CODE_DRIFT, r.address
            ),
        };
    }
    if deployed == r.source_code_hash {
        CodeReport {
            check: "matches",
            detail: format!(
                "deployed from source {} as {} records",
                short(&deployed),
                r.address
            ),
        }
    } else {
        CodeReport {
            check: "differs",
            detail: format!(
                "deployed from source {}, {} records {}: apply, or the state is old",
                short(&deployed),
                r.address,
                short(&r.source_code_hash)
            ),
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn problems(r: &Report) -> Vec<String> {
    let mut p = Vec::new();
    let failed = |s: &Option<String>| s.as_deref() == Some("Failed");
    if failed(&r.function.state) || failed(&r.function.last_update_status) {
        p.push(format!(
            "function {} failed: {}",
            r.function.name,
            r.function
                .state_reason
                .clone()
                .or_else(|| r.function.last_update_reason.clone())
                .unwrap_or_default()
        ));
    }
    if r.code.check == "differs" {
        p.push(format!(
            "the deployed code is not the state's: {}",
            r.code.detail
        ));
    }
    for t in r.triggers.iter().filter(|t| t.status != "ok") {
        p.push(format!(
            "trigger {} is {}: {}",
            t.id,
            t.status,
            t.detail.clone().unwrap_or_default()
        ));
    }
    for (what, q) in [
        ("failure queue", &r.failure_queue),
        ("event queue", &r.event_queue),
    ] {
        if let Some(q) = q.as_ref().filter(|q| !q.exists) {
            p.push(format!("{what} {} does not exist", q.name));
        }
    }
    if let Some(q) = &r.failure_queue {
        let waiting = q.messages + q.in_flight + q.delayed;
        if waiting > 0 {
            p.push(format!(
                "{waiting} failed event(s) wait in failure queue {} (`eventpipe replay {}` sends them again)",
                q.name, r.pipeline
            ));
        }
    }
    for a in &r.alarms_in_alarm {
        p.push(format!("alarm {} is in ALARM: {}", a.name, a.reason));
    }
    p
}

/// The report on `facts`, compared with `recorded` when given.
pub fn build(facts: &Facts, recorded: Option<&Recorded>) -> Report {
    let f = &facts.function;
    let mut report = Report {
        pipeline: facts.name.clone(),
        region: facts.region.clone(),
        healthy: true,
        problems: Vec::new(),
        function: FunctionReport {
            name: naming::function_name(&facts.name),
            state: facts.status.state.clone(),
            state_reason: facts.status.state_reason.clone(),
            last_update_status: facts.status.last_update_status.clone(),
            last_update_reason: facts.status.last_update_reason.clone(),
            reserved_concurrency: f.reserved_concurrency,
            code_sha256: f.code_sha256.clone(),
        },
        code: check_code(facts, recorded),
        bucket: facts.bucket.clone(),
        triggers: check_triggers(facts, recorded),
        failure_queue: facts.failure_queue.as_ref().map(queue_report),
        event_queue: facts.event_queue.as_ref().map(queue_report),
        stream: facts.stream.as_ref().map(|s| StreamReport {
            name: s.name.clone(),
            arn: s.arn.clone(),
            iterator_age_ms: s.iterator_age_ms,
        }),
        backfilled_objects: recorded.map(|r| r.backfilled_objects),
        alarms_in_alarm: facts
            .alarms
            .iter()
            .filter(|a| a.state == "ALARM")
            .map(|a| AlarmReport {
                name: a.name.clone(),
                reason: a.reason.clone(),
            })
            .collect(),
    };
    if facts.notifications.is_none() {
        report
            .problems
            .push(format!("bucket {} does not exist", facts.bucket));
    }
    report.problems.extend(problems(&report));
    report.healthy = report.problems.is_empty();
    report
}

fn age(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v}{unit}"))
}

fn queue_line(q: &QueueReport) -> String {
    if !q.exists {
        return format!("{}: does not exist", q.name);
    }
    let mut s = format!("{}: {} message(s)", q.name, q.messages);
    if q.in_flight > 0 {
        let _ = write!(s, ", {} in flight", q.in_flight);
    }
    if q.delayed > 0 {
        let _ = write!(s, ", {} delayed", q.delayed);
    }
    let _ = write!(s, ", oldest {}", age(q.oldest_message_age_seconds, " s"));
    s
}

fn trigger_line(t: &TriggerReport) -> String {
    if t.status == "missing" {
        return format!(
            "{}: MISSING, {}",
            t.id,
            t.detail.clone().unwrap_or_default()
        );
    }
    let mut s = format!("{}: {}", t.id, t.events.join(","));
    if let Some(p) = &t.filter_prefix {
        let _ = write!(s, " prefix {p:?}");
    }
    if let Some(x) = &t.filter_suffix {
        let _ = write!(s, " suffix {x:?}");
    }
    if let Some(d) = &t.destination {
        let _ = write!(s, " -> {d}");
    }
    match (&t.detail, t.status) {
        (Some(d), "changed") => {
            let _ = write!(s, ": CHANGED, {d}");
        }
        _ => s.push_str(": ok"),
    }
    s
}

/// The report for people.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let health = if r.healthy { "healthy" } else { "degraded" };
    let _ = writeln!(out, "pipeline {} ({}): {health}", r.pipeline, r.region);
    let row = |out: &mut String, label: &str, text: &str| {
        let _ = writeln!(out, "  {label:<15} {text}");
    };
    let f = &r.function;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "unknown".into());
    row(
        &mut out,
        "function",
        &format!(
            "{}: state {}, last update {}",
            f.name,
            opt(&f.state),
            opt(&f.last_update_status)
        ),
    );
    row(
        &mut out,
        "code",
        &format!(
            "CodeSha256 {}: {}, {}",
            f.code_sha256, r.code.check, r.code.detail
        ),
    );
    row(
        &mut out,
        "concurrency",
        &f.reserved_concurrency
            .map_or_else(|| "unreserved".to_owned(), |n| format!("{n} reserved")),
    );
    row(&mut out, "bucket", &r.bucket);
    if r.triggers.is_empty() {
        row(&mut out, "triggers", "none found");
    }
    for t in &r.triggers {
        row(&mut out, "trigger", &trigger_line(t));
    }
    let none = || "none".to_owned();
    row(
        &mut out,
        "failure queue",
        &r.failure_queue.as_ref().map_or_else(none, queue_line),
    );
    row(
        &mut out,
        "event queue",
        &r.event_queue.as_ref().map_or_else(none, queue_line),
    );
    row(
        &mut out,
        "stream",
        &r.stream.as_ref().map_or_else(none, |s| {
            format!("{}: iterator age {}", s.name, age(s.iterator_age_ms, " ms"))
        }),
    );
    row(
        &mut out,
        "backfilled",
        &r.backfilled_objects.map_or_else(
            || "unknown (give --state FILE)".to_owned(),
            |n| format!("{n} object(s)"),
        ),
    );
    let alarms: Vec<&str> = r.alarms_in_alarm.iter().map(|a| a.name.as_str()).collect();
    row(
        &mut out,
        "alarms",
        &if alarms.is_empty() {
            "none in ALARM".to_owned()
        } else {
            format!("in ALARM: {}", alarms.join(", "))
        },
    );
    if !r.problems.is_empty() {
        out.push_str("problems:\n");
        for p in &r.problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::state_file::StateTrigger;
    use super::*;
    use crate::aws::lambda::{Function, FunctionSettings, FunctionStatus};
    use crate::aws::sqs::QueueDepth;

    const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

    fn facts(notifications: Vec<Notification>) -> Facts {
        Facts {
            name: "orders".into(),
            region: "us-east-1".into(),
            function: Function {
                arn: FUNCTION_ARN.into(),
                settings: FunctionSettings {
                    role_arn: String::new(),
                    handler: "app.handler".into(),
                    runtime: "python3.12".into(),
                    memory_mb: 128,
                    timeout_s: 3,
                    environment: BTreeMap::new(),
                    description: String::new(),
                    ephemeral_mb: 512,
                    layers: Vec::new(),
                    logging: None,
                    image: false,
                },
                architecture: "x86_64".into(),
                code_sha256: "c29tZQ==".into(),
                image_uri: None,
                tags: BTreeMap::from([(SOURCE_HASH_TAG.to_owned(), "ab12".to_owned())]),
                reserved_concurrency: Some(5),
            },
            status: FunctionStatus {
                state: Some("Active".into()),
                last_update_status: Some("Successful".into()),
                ..FunctionStatus::default()
            },
            bucket: "orders-bucket".into(),
            notifications: Some(notifications),
            failure_queue: None,
            event_queue: None,
            stream: None,
            alarms: Vec::new(),
        }
    }

    fn to_function(id: &str, prefix: &str) -> Notification {
        Notification {
            id: id.into(),
            destination: Destination::Function(FUNCTION_ARN.into()),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some(prefix.into()),
            suffix: None,
        }
    }

    fn recorded(prefixes: &[&str]) -> Recorded {
        Recorded {
            address: "eventpipe_event_pipeline.o".into(),
            source_code_hash: "ab12".into(),
            triggers: prefixes
                .iter()
                .map(|p| StateTrigger {
                    events: vec!["s3:ObjectCreated:*".into()],
                    prefix: Some((*p).into()),
                    suffix: None,
                })
                .collect(),
            notification_ids: (0..prefixes.len())
                .map(|i| format!("eventpipe-orders-{i}"))
                .collect(),
            backfilled_objects: 3,
            code_sha256: None,
            bucket: None,
            account: None,
        }
    }

    fn statuses(r: &Report) -> Vec<(&str, &str)> {
        r.triggers
            .iter()
            .map(|t| (t.id.as_str(), t.status))
            .collect()
    }

    #[test]
    fn without_state_a_gap_in_the_numbering_is_a_missing_trigger() {
        let f = facts(vec![
            to_function("eventpipe-orders-0", "a/"),
            to_function("eventpipe-orders-2", "c/"),
            // Another pipeline's and a stranger's are not ours.
            to_function("eventpipe-orders-eu-0", "x/"),
            to_function("manual", "y/"),
        ]);
        let r = build(&f, None);
        assert_eq!(
            statuses(&r),
            [
                ("eventpipe-orders-0", "ok"),
                ("eventpipe-orders-1", "missing"),
                ("eventpipe-orders-2", "ok")
            ]
        );
        assert!(!r.healthy);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.backfilled_objects, None);
        assert_eq!(r.code.check, "not checked");
        // No trigger at all: the pipeline's first is missing (a pipeline has one at least).
        let none = build(&facts(Vec::new()), None);
        assert_eq!(statuses(&none), [("eventpipe-orders-0", "missing")]);
    }

    #[test]
    fn with_state_each_trigger_is_compared_and_an_extra_one_is_changed() {
        let mut wrong_target = to_function("eventpipe-orders-1", "b/");
        wrong_target.destination = Destination::Queue("arn:aws:sqs:us-east-1:1:q".into());
        let f = facts(vec![
            to_function("eventpipe-orders-0", "other/"),
            wrong_target,
            to_function("eventpipe-orders-3", "d/"),
        ]);
        let r = build(&f, Some(&recorded(&["a/", "b/", "c/"])));
        assert_eq!(
            statuses(&r),
            [
                ("eventpipe-orders-0", "changed"),
                ("eventpipe-orders-1", "changed"),
                ("eventpipe-orders-2", "missing"),
                ("eventpipe-orders-3", "changed")
            ]
        );
        let detail = |i: usize| r.triggers[i].detail.clone().unwrap_or_default();
        assert!(
            detail(0).contains("prefix Some(\"other/\")"),
            "{}",
            detail(0)
        );
        assert!(detail(1).contains("sends to queue"), "{}", detail(1));
        assert!(detail(3).contains("not in the state"), "{}", detail(3));
        assert_eq!(r.backfilled_objects, Some(3));
        assert_eq!(r.code.check, "matches");
    }

    #[test]
    fn failed_events_alarms_and_other_code_are_problems() {
        let mut f = facts(vec![to_function("eventpipe-orders-0", "a/")]);
        assert!(build(&f, None).healthy);
        f.failure_queue = Some(QueueFacts {
            name: "orders-failed".into(),
            arn: "arn:aws:sqs:us-east-1:1:orders-failed".into(),
            depth: Some(QueueDepth {
                visible: 2,
                ..QueueDepth::default()
            }),
            oldest_age_s: None,
        });
        f.alarms.push(crate::aws::metrics::AlarmState {
            name: "orders-error-rate".into(),
            state: "ALARM".into(),
            reason: "Threshold Crossed".into(),
        });
        f.alarms.push(crate::aws::metrics::AlarmState {
            name: "orders-throttles".into(),
            state: "OK".into(),
            reason: String::new(),
        });
        let mut state = recorded(&["a/"]);
        state.code_sha256 = Some("b3RoZXI=".into());
        let r = build(&f, Some(&state));
        assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
        assert_eq!(r.alarms_in_alarm.len(), 1);
        assert_eq!(r.code.check, "differs");
        let text = render(&r);
        assert!(
            text.contains("orders-failed: 2 message(s), oldest unknown"),
            "{text}"
        );
        assert!(text.contains("in ALARM: orders-error-rate"), "{text}");
        assert!(text.contains("5 reserved"), "{text}");
    }
}
