//! What AWS does that moto hides, end to end: the fault proxy's fidelity
//! layer answers as AWS would where moto does not, and the provider copes.
//! - Lambda reports `LoggingConfig`, with both levels filled in for JSON
//!   logs: the plan after apply is empty whether the levels are set or not.
//! - A deleted stream stays `DELETING` and a deleted event source mapping
//!   `Deleting` for a while, and their names stay taken meanwhile: destroy
//!   waits until they are gone, so an apply right after it succeeds.
//! - S3 validates every destination of a notification document: a
//!   configuration of someone else's naming a function that is gone is
//!   named in one clear error, at once, and left on the bucket.
//!
//! (Concurrent destroys on a shared bucket against S3's check are in
//! `shared_bucket.rs`.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::{Departure, FaultProxy, Linger};
use tests::{Aws, Moto, Workspace};

const EMPTY_PLAN: &str = "expected an empty plan";

/// The seed pipeline with JSON logs and `levels` (lines inside `logs`).
fn json_logs(name: &str, levels: &str) -> String {
    Pipeline::seed(name, &format!("{name}-bucket"))
        .extra(&format!("  logs {{\n    format = \"JSON\"\n{levels}  }}\n"))
        .hcl()
}

/// The `LoggingConfig` Lambda reports for `function`, read through the
/// proxy (moto reports none).
fn reported_logging(through: &Aws, function: &str) -> Json {
    let c = through
        .block_on(
            through
                .lambda()
                .get_function_configuration()
                .function_name(function)
                .send(),
        )
        .expect("GetFunctionConfiguration");
    let l = c.logging_config().expect("LoggingConfig reported");
    serde_json::json!({
        "LogFormat": l.log_format().map(|f| f.as_str()),
        "ApplicationLogLevel": l.application_log_level().map(|a| a.as_str()),
        "SystemLogLevel": l.system_log_level().map(|s| s.as_str()),
    })
}

fn logs_block(ws: &Workspace, name: &str) -> Json {
    match &state_attrs(ws, name)["logs"] {
        Json::Array(a) => a.first().cloned().unwrap_or_default(),
        other => other.clone(),
    }
}

#[test]
fn json_logs_plan_empty_after_apply_with_the_levels_unset_or_set() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    proxy.echo_logging_config(true);
    let through = Aws::new(&proxy.endpoint()).unwrap();
    let body = |issue: &str| {
        format!(
            "{}{}{}{}",
            // The issue's case: the application level set, not the system's.
            json_logs("issue", issue),
            json_logs("unset", ""),
            json_logs("system", "    system_log_level = \"DEBUG\"\n"),
            json_logs(
                "both",
                "    application_log_level = \"DEBUG\"\n    system_log_level      = \"WARN\"\n"
            ),
        )
    };
    let ws = workspace_through(&tf, &proxy, &body("    application_log_level = \"INFO\"\n"));
    ws.apply_auto().expect("apply");

    // Lambda fills both levels in, and says so.
    for (name, app, sys) in [
        ("issue", "INFO", "INFO"),
        ("unset", "INFO", "INFO"),
        ("system", "INFO", "DEBUG"),
        ("both", "DEBUG", "WARN"),
    ] {
        assert_eq!(
            reported_logging(&through, name),
            serde_json::json!({"LogFormat": "JSON", "ApplicationLogLevel": app,
                               "SystemLogLevel": sys}),
            "{name}"
        );
    }
    assert_plan_empty(&ws, EMPTY_PLAN);
    // What is not configured reads as not set; what is, as set.
    let issue = logs_block(&ws, "issue");
    assert_eq!(issue["application_log_level"], "INFO", "{issue}");
    assert_eq!(issue["system_log_level"], Json::Null, "{issue}");
    let unset = logs_block(&ws, "unset");
    assert_eq!(unset["application_log_level"], Json::Null, "{unset}");
    assert_eq!(unset["system_log_level"], Json::Null, "{unset}");
    let system = logs_block(&ws, "system");
    assert_eq!(system["application_log_level"], Json::Null, "{system}");
    assert_eq!(system["system_log_level"], "DEBUG", "{system}");
    let both = logs_block(&ws, "both");
    assert_eq!(both["application_log_level"], "DEBUG", "{both}");
    assert_eq!(both["system_log_level"], "WARN", "{both}");

    // Setting the system level, then removing both: each an in-place
    // change that Lambda then reports, and the plan after it is empty.
    rewrite_through(
        &ws,
        &proxy,
        &body("    application_log_level = \"INFO\"\n    system_log_level      = \"WARN\"\n"),
    );
    ws.apply_auto().expect("apply: system level set");
    assert_eq!(
        reported_logging(&through, "issue")["SystemLogLevel"],
        "WARN"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);
    rewrite_through(&ws, &proxy, &body(""));
    ws.apply_auto().expect("apply: levels removed");
    // Removed: back to Lambda's default, not the level set before.
    assert_eq!(
        reported_logging(&through, "issue"),
        serde_json::json!({"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                           "SystemLogLevel": "INFO"})
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A level changed outside Terraform is drift, shown and repaired.
    through
        .block_on(
            through
                .lambda()
                .update_function_configuration()
                .function_name("unset")
                .logging_config(
                    aws_sdk_lambda::types::LoggingConfig::builder()
                        .log_format(aws_sdk_lambda::types::LogFormat::Json)
                        .system_log_level(aws_sdk_lambda::types::SystemLogLevel::Debug)
                        .build(),
                )
                .send(),
        )
        .expect("change the level by hand");
    let plan = ws.plan_detailed_exitcode().expect("plan");
    assert!(plan.has_changes, "drift shows:\n{}", plan.output);
    assert!(
        plan.output.contains("system_log_level") && plan.output.contains("\"DEBUG\" -> null"),
        "{}",
        plan.output
    );
    ws.apply_auto().expect("repair");
    assert_eq!(
        reported_logging(&through, "unset")["SystemLogLevel"],
        "INFO"
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    destroy_and_assert_empty(&ws, &moto);
}

/// The in-between states the provider met, and whether it was ever refused
/// a name still being deleted.
fn waits(proxy: &FaultProxy) -> (usize, usize, Vec<Departure>) {
    let d = proxy.departures();
    let streams = d
        .iter()
        .filter(|x| matches!(x, Departure::StreamDeleting(_)))
        .count();
    let mappings = d
        .iter()
        .filter(|x| matches!(x, Departure::MappingDeleting(_)))
        .count();
    let refused = d
        .into_iter()
        .filter(|x| {
            matches!(
                x,
                Departure::StreamNameInUse(_) | Departure::MappingConflict(..)
            )
        })
        .collect();
    (streams, mappings, refused)
}

#[test]
fn a_stream_pipeline_and_a_queue_pipeline_are_destroyed_and_applied_again_at_once() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    // SQS refuses a deleted queue's name for 60 s; 5 s here, to keep the
    // test short. S3 refuses a deleted bucket's name for a moment
    // (`OperationAborted`); 10 s here, so that the apply meets it.
    proxy.linger_deletes(Some(Linger {
        queue_name_reuse: Duration::from_secs(5),
        bucket_name_reuse: Duration::from_secs(10),
        ..Linger::AS_ON_AWS
    }));
    let stream = |name: &str, block: bool| {
        let mut p = Pipeline::seed(name, &format!("{name}-bucket"));
        if block {
            p = p.extra("  stream {\n    batch_size = 50\n  }\n");
        }
        p.hcl()
    };
    let queued = Pipeline::seed("queued", "queued-bucket")
        .extra("  delivery      = \"queue\"\n  on_failure {\n    maximum_retry_attempts = 1\n  }\n")
        .hcl();
    let both = format!("{}{queued}", stream("ingest", true));
    let ws = workspace_through(&tf, &proxy, &both);
    ws.apply_auto().expect("apply");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Destroy, and apply the same configuration at once, as CI does.
    ws.destroy_auto().expect("destroy");
    let (streams, mappings, _) = waits(&proxy);
    let started = Instant::now();
    ws.apply_auto().expect("apply right after destroy");
    let (_, _, refused) = waits(&proxy);
    assert!(
        refused.is_empty(),
        "nothing was made while its name was still being deleted: {refused:?}"
    );
    // Because destroy waited until the stream and both mappings were gone.
    assert!(streams >= 1, "{:?}", proxy.departures());
    assert!(mappings >= 2, "{:?}", proxy.departures());
    // A bucket name S3 was still settling was tried again until S3 took it.
    assert!(
        proxy
            .departures()
            .iter()
            .any(|d| matches!(d, Departure::BucketNameSettling(_))),
        "{:?}",
        proxy.departures()
    );
    // And a queue whose name SQS refused for a while (whatever one does)
    // was made again once SQS took it: the failure queue at least, made
    // first; the event queue waits for it, often past the refusal.
    let requeued: Vec<String> = proxy
        .departures()
        .into_iter()
        .filter_map(|d| match d {
            Departure::QueueDeletedRecently(q) => Some(q),
            _ => None,
        })
        .collect();
    assert!(
        requeued.iter().any(|q| q == "queued-failed")
            && requeued
                .iter()
                .all(|q| q == "queued-failed" || q == "queued-events"),
        "{requeued:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_plan_empty(&ws, EMPTY_PLAN);
    let aws = moto.aws().unwrap();
    assert_eq!(aws.event_source_mappings(None).unwrap().len(), 2);

    // An update that drops the stream waits for it (and its mapping) to
    // go: adding it back at once makes it again.
    let before = waits(&proxy);
    rewrite_through(&ws, &proxy, &format!("{}{queued}", stream("ingest", false)));
    ws.apply_auto().expect("apply: stream dropped");
    let after = waits(&proxy);
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{:?}",
        proxy.departures()
    );
    rewrite_through(&ws, &proxy, &both);
    ws.apply_auto().expect("apply: stream back at once");
    let (_, _, refused) = waits(&proxy);
    assert!(refused.is_empty(), "{refused:?}");
    assert!(aws.stream_summary("ingest").is_ok());
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Switching delivery to direct and back at once: the event queue's
    // mapping is waited for when it goes, and its queue is made again
    // once SQS takes the name.
    let direct = Pipeline::seed("queued", "queued-bucket")
        .extra("  on_failure {\n    maximum_retry_attempts = 1\n  }\n")
        .hcl();
    let before = waits(&proxy);
    rewrite_through(&ws, &proxy, &format!("{}{direct}", stream("ingest", true)));
    ws.apply_auto().expect("apply: switch to direct");
    let after = waits(&proxy);
    assert!(after.1 > before.1, "{:?}", proxy.departures());
    rewrite_through(&ws, &proxy, &both);
    ws.apply_auto().expect("apply: back to the queue at once");
    let (_, _, refused) = waits(&proxy);
    assert!(refused.is_empty(), "{refused:?}");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A mapping deleted outside Terraform, still `Deleting`: the refresh
    // counts it gone, and the apply waits for it before making another of
    // the same function and source.
    let through = Aws::new(&proxy.endpoint()).unwrap();
    let old = state_attrs(&ws, "ingest")["stream_mapping_id"]
        .as_str()
        .expect("mapping id")
        .to_owned();
    through
        .block_on(
            through
                .lambda()
                .delete_event_source_mapping()
                .uuid(&old)
                .send(),
        )
        .expect("delete the mapping by hand");
    let plan = ws.plan_detailed_exitcode().expect("plan");
    assert!(
        plan.has_changes,
        "the mapping being deleted is gone:\n{}",
        plan.output
    );
    let before = proxy.departures().len();
    ws.apply_auto().expect("apply: the mapping made again");
    let during = &proxy.departures()[before..];
    assert!(
        during.contains(&Departure::MappingDeleting(old.clone())),
        "the apply waited for the old mapping: {during:?}"
    );
    assert!(
        !during
            .iter()
            .any(|d| matches!(d, Departure::MappingConflict(..))),
        "{during:?}"
    );
    let new = state_attrs(&ws, "ingest")["stream_mapping_id"].clone();
    assert_ne!(new.as_str(), Some(old.as_str()));
    assert_plan_empty(&ws, EMPTY_PLAN);

    // The stream deleted outside Terraform, still `DELETING`: the refresh
    // counts it gone, and the apply waits for its name before making it.
    // (Four reads: the plan's refresh, the apply's, and two in the apply.)
    proxy.linger_deletes(Some(Linger {
        reads: 4,
        queue_name_reuse: Duration::from_secs(5),
        bucket_name_reuse: Duration::from_secs(10),
        ..Linger::AS_ON_AWS
    }));
    through
        .delete_stream("ingest")
        .expect("delete the stream by hand");
    let plan = ws.plan_detailed_exitcode().expect("plan");
    assert!(
        plan.has_changes,
        "the stream being deleted is gone:\n{}",
        plan.output
    );
    let before = proxy.departures().len();
    ws.apply_auto().expect("apply: the stream made again");
    let during = &proxy.departures()[before..];
    assert!(
        during.contains(&Departure::StreamNameInUse("ingest".into()))
            && during.contains(&Departure::StreamDeleting("ingest".into())),
        "refused while DELETING, then waited for: {during:?}"
    );
    assert!(aws.stream_summary("ingest").is_ok());
    assert_plan_empty(&ws, EMPTY_PLAN);

    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn a_foreign_configuration_naming_a_missing_function_is_one_clear_error_at_once() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    proxy.validate_destinations(true);
    let aws = moto.aws().unwrap();
    // Another team's bucket, whose function configuration names a function
    // that does not exist (moto took it without looking); its queue
    // configuration is sound.
    pre_existing_bucket(&aws, "theirs");
    allow_s3_to_audit_queue(&aws, "theirs");
    let before = foreign(&aws, "theirs");
    let ws = workspace_through(
        &tf,
        &proxy,
        &Pipeline::on_existing_bucket("mine", "theirs").hcl(),
    );
    let started = Instant::now();
    let out = ws
        .run(&["apply", "-auto-approve"])
        .and_then(|o| o.failed())
        .expect("apply must fail");
    let took = started.elapsed();
    let text = flat(&out);
    assert!(
        took < Duration::from_secs(60),
        "at once, not after 90 s: {took:?}"
    );
    assert!(
        text.contains(FUNCTION_ID),
        "names the configuration: {text}"
    );
    assert!(text.contains(TEAM_B_FUNCTION), "names its ARN: {text}");
    assert!(
        !text.contains(&format!("Id \"{QUEUE_ID}\"")),
        "not the sound one: {text}"
    );
    assert!(
        text.contains("drop the entry with each Id") && text.contains("then apply again"),
        "says how to remove it: {text}"
    );
    assert_eq!(
        text.matches("names a missing destination").count(),
        1,
        "one error: {text}"
    );
    // One write refused, no retries; the foreign configuration stays, and
    // the failed create left nothing of the pipeline behind.
    let refusals: Vec<Departure> = proxy
        .departures()
        .into_iter()
        .filter(|d| matches!(d, Departure::DestinationsRefused(..)))
        .collect();
    assert_eq!(
        refusals,
        [Departure::DestinationsRefused(
            "theirs".into(),
            vec![TEAM_B_FUNCTION.into()]
        )]
    );
    assert_eq!(foreign(&aws, "theirs"), before);
    assert!(ours(&aws, "theirs").is_empty());
    assert_eq!(ws.state_list().unwrap_or_default(), Vec::<String>::new());
    let left = aws.list_everything().unwrap();
    assert!(left.functions.is_empty() && left.roles.is_empty(), "{left}");
}
