//! The `stream` block end to end: the stream a pipeline makes (encrypted
//! with the AWS-managed key, its retention, tagged) or an existing one it
//! reads, the one event source mapping from it, a role that may read that
//! stream only, a record put on it invoking the function, drift of the
//! mapping repaired, and destroy removing what the pipeline made and
//! nothing else.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value as Json;
use tests::{Aws, Moto};

const EMPTY_PLAN: &str = "expected an empty plan";

/// The read actions the role gets on its stream, sorted.
const READ_ACTIONS: [&str; 6] = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
];
const PUT_ACTIONS: [&str; 2] = ["kinesis:PutRecord", "kinesis:PutRecords"];

fn stream_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:123456789012:stream/{name}")
}

/// A seed pipeline with `stream` as its stream block's body.
fn streaming(name: &str, stream: &str) -> String {
    Pipeline::seed(name, &format!("{name}-bucket"))
        .extra(&format!("  stream {{\n{stream}  }}\n"))
        .hcl()
}

/// Every (actions, resources) of the policy's statements that name Kinesis.
fn kinesis_grants(policy: &Json) -> Vec<(Vec<String>, Vec<String>)> {
    let strings = |v: &Json| -> Vec<String> {
        match v {
            Json::String(s) => vec![s.clone()],
            Json::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| s.to_string().contains("kinesis"))
        .map(|s| {
            let mut actions = strings(&s["Action"]);
            actions.sort();
            (actions, strings(&s["Resource"]))
        })
        .collect()
}

/// The grants a pipeline reading `arn` must have: reads, and writes only
/// with `put`, on that stream alone.
fn assert_reads_only(policy: &Json, arn: &str, put: bool, what: &str) {
    let mut want = vec![(
        READ_ACTIONS.map(str::to_owned).to_vec(),
        vec![arn.to_owned()],
    )];
    if put {
        want.push((
            PUT_ACTIONS.map(str::to_owned).to_vec(),
            vec![arn.to_owned()],
        ));
    }
    assert_eq!(kinesis_grants(policy), want, "{what}: {policy:#}");
}

fn policy_of_state(ws: &tests::Workspace, name: &str) -> Json {
    let state = state_attrs(ws, name);
    serde_json::from_str(state["policy_json"].as_str().expect("policy_json")).expect("JSON")
}

/// Log streams moto has written for `function`, waiting up to 10 s for
/// there to be more than `before`.
fn deliveries_after(aws: &Aws, function: &str, before: usize) -> usize {
    let group = format!("/aws/lambda/{function}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = aws.log_stream_names(&group).unwrap().len();
        if n > before || Instant::now() > deadline {
            return n;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_stream_pipeline_makes_an_encrypted_stream_reads_it_alone_and_destroy_removes_it() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    // A stream someone else made, which the second pipeline reads (and may
    // write to).
    let theirs = aws.create_stream("clicks", 1).unwrap();
    let body = format!(
        "{}{}",
        streaming(
            "ingest",
            "    retention_period = 48\n    batch_size       = 50\n"
        ),
        streaming(
            "reader",
            &format!(
                "    arn               = \"{theirs}\"\n    starting_position = \"TRIM_HORIZON\"\n    \
                 allow_put_records = true\n"
            )
        )
    );
    let ws = applied(&tf, &moto, &body);

    // The stream the pipeline made: on demand, encrypted with the
    // AWS-managed key, kept 48 hours, tagged as the pipeline's.
    let ours = stream_arn("ingest");
    let summary = aws.stream_summary("ingest").unwrap();
    assert_eq!(summary.stream_arn(), ours);
    assert_eq!(
        summary.encryption_type().map(|e| e.as_str()),
        Some("KMS"),
        "{summary:?}"
    );
    assert_eq!(summary.key_id(), Some("alias/aws/kinesis"));
    assert_eq!(summary.retention_period_hours(), 48);
    assert_eq!(
        summary
            .stream_mode_details()
            .map(|m| m.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    let tags = aws.stream_tags("ingest").unwrap();
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("ingest"),
        "{tags:?}"
    );
    let state = state_attrs(&ws, "ingest");
    assert_eq!(state["stream_arn"], ours.as_str());
    assert_eq!(state["stream_name"], "ingest");
    let reader = state_attrs(&ws, "reader");
    assert_eq!(reader["stream_arn"], theirs.as_str());
    assert_eq!(reader["stream_name"], "clicks");

    // One mapping per pipeline, from its stream, as configured.
    let mine = aws.event_source_mappings(Some("ingest")).unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].event_source_arn(), Some(ours.as_str()));
    assert_eq!(mine[0].batch_size(), Some(50));
    assert_eq!(
        mine[0].starting_position().map(|p| p.as_str()),
        Some("LATEST")
    );
    assert_eq!(mine[0].uuid(), state["stream_mapping_id"].as_str());
    let read = aws.event_source_mappings(Some("reader")).unwrap();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].event_source_arn(), Some(theirs.as_str()));
    assert_eq!(read[0].batch_size(), Some(100), "the default batch size");
    assert_eq!(
        read[0].starting_position().map(|p| p.as_str()),
        Some("TRIM_HORIZON")
    );
    assert_eq!(aws.event_source_mappings(None).unwrap().len(), 2);

    // The role reads its own stream only, and writes only where allowed;
    // what IAM holds is what the plan showed.
    for (name, arn, put) in [("ingest", &ours, false), ("reader", &theirs, true)] {
        let planned = policy_of_state(&ws, name);
        assert_reads_only(&planned, arn, put, &format!("{name}: policy_json"));
        let applied = aws
            .role_inline_policy(&format!("{name}-role"), "eventpipe")
            .unwrap();
        assert_eq!(applied, planned, "{name}: the role's inline policy");
    }
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Imported by name, both read back as configured.
    for name in ["ingest", "reader"] {
        let address = format!("eventpipe_event_pipeline.{name}");
        ws.run_ok(&["state", "rm", &address]).unwrap();
        ws.run_ok(&["import", &address, name]).unwrap();
    }
    assert_plan_empty(&ws, "a matching config plans no changes after import");
    assert_eq!(state_attrs(&ws, "ingest")["stream_arn"], ours.as_str());
    assert_eq!(
        state_attrs(&ws, "reader")["stream_mapping_id"].as_str(),
        read[0].uuid()
    );

    // A record put on the stream invokes the function (moto writes one log
    // stream per invocation).
    let group = "/aws/lambda/ingest";
    let before = aws.log_stream_names(group).unwrap().len();
    aws.put_record("ingest", "k1", br#"{"id":1}"#).unwrap();
    assert_eq!(
        deliveries_after(&aws, "ingest", before),
        before + 1,
        "one invocation for the record"
    );

    // The mapping's batch size changed outside Terraform shows in the plan,
    // and apply sets it back.
    let uuid = mine[0].uuid().unwrap().to_owned();
    aws.block_on(
        aws.lambda()
            .update_event_source_mapping()
            .uuid(&uuid)
            .batch_size(7)
            .send(),
    )
    .expect("update mapping");
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(plan.has_changes, "{}", plan.output);
    let text = folded(&plan.output.combined());
    assert!(text.contains("~ batch_size = 7 -> 50"), "{text}");
    assert!(text.contains("1 to change"), "{text}");
    ws.apply_auto().unwrap();
    let after = aws.event_source_mappings(Some("ingest")).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].uuid(), Some(uuid.as_str()), "updated in place");
    assert_eq!(after[0].batch_size(), Some(50));
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A mapping deleted outside Terraform is made again, once.
    aws.block_on(
        aws.lambda()
            .delete_event_source_mapping()
            .uuid(&uuid)
            .send(),
    )
    .expect("delete mapping");
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(plan.has_changes, "{}", plan.output);
    assert!(plan.output.contains("stream_mapping_id"), "{}", plan.output);
    ws.apply_auto().unwrap();
    let again = aws.event_source_mappings(Some("ingest")).unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_ne!(again[0].uuid(), Some(uuid.as_str()));
    assert_eq!(again[0].batch_size(), Some(50));
    assert_eq!(
        state_attrs(&ws, "ingest")["stream_mapping_id"].as_str(),
        again[0].uuid()
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Destroy removes the stream made and both mappings; the stream the
    // second pipeline only read stays.
    ws.destroy_auto().unwrap();
    let left = aws.sources().unwrap();
    assert_eq!(left.streams, ["clicks"], "{left}");
    assert!(left.mappings.is_empty(), "{left}");
    aws.delete_stream("clicks").unwrap();
    assert_emulator_empty(&moto);
}

#[test]
fn stream_settings_change_in_place_and_failed_batches_go_to_the_failure_queue() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let ws = applied(
        &tf,
        &moto,
        &streaming("events", "    retention_period = 72\n"),
    );
    let arn = stream_arn("events");
    assert_eq!(
        aws.stream_summary("events")
            .unwrap()
            .retention_period_hours(),
        72
    );

    // A new starting position makes the mapping again (Lambda cannot
    // change it), which then starts there.
    let before = aws.event_source_mappings(Some("events")).unwrap();
    rewrite_main(
        &ws,
        &moto,
        &streaming(
            "events",
            "    retention_period  = 72\n    starting_position = \"TRIM_HORIZON\"\n",
        ),
    );
    ws.apply_auto().unwrap();
    let after = aws.event_source_mappings(Some("events")).unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0].uuid(), before[0].uuid());
    assert_eq!(
        after[0].starting_position().map(|p| p.as_str()),
        Some("TRIM_HORIZON")
    );
    assert_eq!(
        state_attrs(&ws, "events")["stream_mapping_id"].as_str(),
        after[0].uuid()
    );
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Shorter retention, fixed shards, a bigger batch, bisecting, the
    // failure queue, writes allowed: all one in-place update.
    rewrite_main(
        &ws,
        &moto,
        &Pipeline::seed("events", "events-bucket")
            .extra(
                "  stream {\n    retention_period               = 24\n    \
                 shard_count                    = 2\n    batch_size                     = 500\n    \
                 maximum_batching_window        = 5\n    parallelization_factor         = 4\n    \
                 bisect_batch_on_function_error = true\n    maximum_retry_attempts         = 3\n    \
                 maximum_record_age             = 3600\n    allow_put_records              = true\n  \
                 }\n  on_failure {}\n",
            )
            .hcl(),
    );
    let actions = planned_actions(&ws);
    assert_eq!(
        actions.get("eventpipe_event_pipeline.events"),
        Some(&vec!["update".to_owned()]),
        "{actions:?}"
    );
    ws.apply_auto().unwrap();
    let summary = aws.stream_summary("events").unwrap();
    assert_eq!(summary.retention_period_hours(), 24);
    assert_eq!(
        summary
            .stream_mode_details()
            .map(|m| m.stream_mode().as_str()),
        Some("PROVISIONED")
    );
    assert_eq!(summary.open_shard_count(), 2);
    let m = aws.event_source_mappings(Some("events")).unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].batch_size(), Some(500));
    assert_eq!(m[0].maximum_batching_window_in_seconds(), Some(5));
    assert_eq!(m[0].parallelization_factor(), Some(4));
    assert_eq!(m[0].bisect_batch_on_function_error(), Some(true));
    assert_eq!(m[0].maximum_retry_attempts(), Some(3));
    assert_eq!(m[0].maximum_record_age_in_seconds(), Some(3600));
    let failed = "arn:aws:sqs:us-east-1:123456789012:events-failed";
    assert_eq!(
        m[0].destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(failed),
        "batches given up go to the failure queue"
    );
    let policy = policy_of_state(&ws, "events");
    assert_reads_only(&policy, &arn, true, "with allow_put_records");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Back to on-demand capacity.
    rewrite_main(&ws, &moto, &streaming("events", ""));
    ws.apply_auto().unwrap();
    let summary = aws.stream_summary("events").unwrap();
    assert_eq!(
        summary
            .stream_mode_details()
            .map(|m| m.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    assert_reads_only(
        &policy_of_state(&ws, "events"),
        &arn,
        false,
        "PutRecord goes with allow_put_records",
    );
    // Without on_failure the mapping sends failed batches nowhere (not to
    // the failure queue that is gone).
    let m = aws.event_source_mappings(Some("events")).unwrap();
    assert_eq!(
        m[0].destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        None,
        "{m:?}"
    );
    assert!(aws.sources().unwrap().queues.is_empty());
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Reading another stream instead: the mapping is made again from it,
    // and the stream the pipeline made goes.
    let theirs = aws.create_stream("audit", 1).unwrap();
    rewrite_main(
        &ws,
        &moto,
        &streaming("events", &format!("    arn = \"{theirs}\"\n")),
    );
    ws.apply_auto().unwrap();
    assert_eq!(aws.sources().unwrap().streams, ["audit"]);
    let m = aws.event_source_mappings(Some("events")).unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].event_source_arn(), Some(theirs.as_str()));
    assert_reads_only(&policy_of_state(&ws, "events"), &theirs, false, "audit");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // Dropping the stream block removes the mapping.
    rewrite_main(&ws, &moto, &Pipeline::seed("events", "events-bucket").hcl());
    ws.apply_auto().unwrap();
    let left = aws.sources().unwrap();
    assert!(
        left.streams == ["audit"] && left.mappings.is_empty(),
        "the stream only read stays: {left}"
    );
    assert!(kinesis_grants(&policy_of_state(&ws, "events")).is_empty());
    aws.delete_stream("audit").unwrap();
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_oldest_cli_applies_a_stream_pipeline_plans_empty_and_destroys() {
    let Some(tf) = clis().into_iter().find(|t| !t.at_least(1, 1)) else {
        panic!("Terraform 1.0.3 is part of the suite; run scripts/setup-tools.sh");
    };
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &streaming("old", "    batch_size = 10\n"));
    let aws = moto.aws().unwrap();
    let m = aws.event_source_mappings(Some("old")).unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].batch_size(), Some(10));
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}
