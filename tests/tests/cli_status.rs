//! `eventpipe status` through the real binary against the emulator: a
//! pipeline made by Terraform (with `on_failure`) is healthy; a trigger
//! removed and failed events left behind by the tests' own clients make it
//! degraded (exit 3) and are both named; an alarm in ALARM does too;
//! `--json` carries the same facts; `--state` with the real `terraform
//! show -json` checks the code. Bad input is one line and exit 1, and each
//! AWS call the command makes, failed once, fails the command with one line
//! while the next run succeeds.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic,
};
use aws_sdk_s3::types::NotificationConfiguration;
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::{Fault, Rule};

const NAME: &str = "stat";
const EDITED_APP_PY: &str = "import json\n\n\ndef handler(event, context):\n    \
return {\"v\": 2}\n";

/// What a run of the binary gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Exit `code`, with nothing but one line on stderr that starts
    /// `eventpipe status: ` and has `words`.
    fn assert_one_line_error(&self, code: i32, words: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {:?}", self.stderr);
        assert!(
            lines[0].starts_with("eventpipe status: ") && lines[0].contains(words),
            "{:?} must name {words:?}",
            lines[0]
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// A command with an environment that has only the test credentials (or
/// none, with `credentials = false`): no shared files, no instance metadata.
fn command(credentials: bool) -> Command {
    let mut cmd = Command::new(tests::tools::eventpipe_cli());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/eventpipe-credentials",
        )
        .env("AWS_CONFIG_FILE", "/nonexistent/eventpipe-config")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if credentials {
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
    }
    cmd
}

fn run_with(mut cmd: Command, args: &[&str]) -> Run {
    let out = cmd.args(args).output().expect("eventpipe runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `eventpipe status <args>` against `endpoint` in the tests' region.
fn status(endpoint: &str, args: &[&str]) -> Run {
    let mut all = vec![
        "status",
        "--region",
        tests::aws::REGION,
        "--endpoint-url",
        endpoint,
    ];
    all.extend_from_slice(args);
    run_with(command(true), &all)
}

fn pipeline_hcl() -> String {
    Pipeline::named(NAME)
        .extra("  on_failure {\n    maximum_retry_attempts = 0\n  }\n")
        .hcl()
}

fn applied_rig() -> Rig {
    let rig = Rig::new(&newest_cli(), None);
    rig.configure(&pipeline_hcl());
    rig.apply();
    rig
}

fn failure_queue_url(rig: &Rig) -> String {
    let q = format!("{NAME}-failed");
    rig.aws
        .block_on(rig.aws.sqs().get_queue_url().queue_name(&q).send())
        .expect("the failure queue")
        .queue_url()
        .expect("a URL")
        .to_owned()
}

/// `terraform show -json` of the rig's workspace, written to a file there.
fn show_json(rig: &Rig, file: &str) -> PathBuf {
    let json = rig.ws.show_json().expect("show -json");
    let path = rig.ws.dir().join(file);
    std::fs::write(&path, json.to_string()).expect("state file");
    path
}

fn put_alarm(rig: &Rig, kind: &str, state: StateValue) -> String {
    let name = format!("{NAME}-{kind}");
    let cw = rig.aws.cloudwatch();
    rig.aws
        .block_on(
            cw.put_metric_alarm()
                .alarm_name(&name)
                .namespace("AWS/SQS")
                .metric_name("ApproximateNumberOfMessagesVisible")
                .dimensions(
                    Dimension::builder()
                        .name("QueueName")
                        .value(format!("{NAME}-failed"))
                        .build(),
                )
                .statistic(Statistic::Maximum)
                .period(60)
                .evaluation_periods(1)
                .threshold(0.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .send(),
        )
        .expect("PutMetricAlarm");
    rig.aws
        .block_on(
            cw.set_alarm_state()
                .alarm_name(&name)
                .state_value(state)
                .state_reason("set by the test")
                .send(),
        )
        .expect("SetAlarmState");
    name
}

#[test]
fn a_healthy_pipeline_exits_0_and_a_removed_trigger_with_failed_events_exits_3() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();

    let healthy = status(&endpoint, &[NAME]);
    assert_eq!(
        healthy.code,
        Some(0),
        "{}\n{}",
        healthy.stdout,
        healthy.stderr
    );
    let text = &healthy.stdout;
    for part in [
        "pipeline stat (us-east-1): healthy",
        "stat: state Active, last update Successful",
        "not checked",
        "unreserved",
        "stat-bucket",
        "eventpipe-stat-0: s3:ObjectCreated:* prefix \"data/\" suffix \".json\" -> function arn:aws:lambda:",
        ": ok",
        "stat-failed: 0 message(s), oldest unknown",
        "event queue     none",
        "stream          none",
        "backfilled      unknown",
        "none in ALARM",
    ] {
        assert!(text.contains(part), "status must show {part:?}:\n{text}");
    }
    assert!(!text.contains("problems:"), "{text}");

    // The oldest message's age comes from CloudWatch when it has a datapoint.
    rig.aws
        .block_on(
            rig.aws
                .cloudwatch()
                .put_metric_data()
                .namespace("AWS/SQS")
                .metric_data(
                    MetricDatum::builder()
                        .metric_name("ApproximateAgeOfOldestMessage")
                        .dimensions(
                            Dimension::builder()
                                .name("QueueName")
                                .value(format!("{NAME}-failed"))
                                .build(),
                        )
                        .value(42.0)
                        .build(),
                )
                .send(),
        )
        .expect("PutMetricData");

    // Out of band: the trigger goes, two failed events arrive.
    rig.aws
        .put_notifications(
            &format!("{NAME}-bucket"),
            NotificationConfiguration::builder().build(),
        )
        .expect("remove the trigger");
    let url = failure_queue_url(&rig);
    for i in 0..2 {
        rig.aws
            .send_message(&url, &format!("{{\"failed\": {i}}}"))
            .expect("send");
    }
    let degraded = status(&endpoint, &[NAME]);
    assert_eq!(
        degraded.code,
        Some(3),
        "{}\n{}",
        degraded.stdout,
        degraded.stderr
    );
    let text = &degraded.stdout;
    for part in [
        "pipeline stat (us-east-1): degraded",
        "eventpipe-stat-0: MISSING",
        "stat-failed: 2 message(s), oldest 42 s",
        "problems:",
        "trigger eventpipe-stat-0 is missing",
        "2 failed event(s) wait in failure queue stat-failed",
    ] {
        assert!(text.contains(part), "status must show {part:?}:\n{text}");
    }
    assert_eq!(
        text.matches("\n  - ").count(),
        2,
        "exactly two problems:\n{text}"
    );

    // The same facts for scripts.
    let json = status(&endpoint, &[NAME, "--json"]);
    assert_eq!(json.code, Some(3));
    let j = json.json();
    assert_eq!(j["pipeline"], NAME);
    assert_eq!(j["healthy"], false);
    assert_eq!(j["problems"].as_array().map(Vec::len), Some(2), "{j:#}");
    assert_eq!(j["function"]["state"], "Active");
    assert_eq!(j["function"]["reserved_concurrency"], Json::Null);
    assert_eq!(j["triggers"][0]["id"], "eventpipe-stat-0");
    assert_eq!(j["triggers"][0]["status"], "missing");
    assert_eq!(j["failure_queue"]["name"], "stat-failed");
    assert_eq!(j["failure_queue"]["messages"], 2);
    assert_eq!(j["failure_queue"]["oldest_message_age_seconds"], 42.0);
    assert_eq!(j["backfilled_objects"], Json::Null);
    assert_eq!(j["code"]["check"], "not checked");
    assert_eq!(j["alarms_in_alarm"].as_array().map(Vec::len), Some(0));
}

#[test]
fn an_alarm_in_alarm_makes_it_degraded_and_state_checks_the_code() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    let state = show_json(&rig, "state.json");
    let state_arg = state.to_str().expect("utf-8");

    let checked = status(&endpoint, &[NAME, "--state", state_arg, "--json"]);
    assert_eq!(
        checked.code,
        Some(0),
        "{}\n{}",
        checked.stdout,
        checked.stderr
    );
    let j = checked.json();
    assert_eq!(j["code"]["check"], "matches", "{j:#}");
    assert_eq!(j["backfilled_objects"], 0);
    assert_eq!(j["triggers"][0]["status"], "ok");

    // An alarm of the pipeline's in ALARM: degraded, and named.
    let alarm = put_alarm(&rig, "failed-events", StateValue::Alarm);
    let firing = status(&endpoint, &[NAME]);
    assert_eq!(firing.code, Some(3), "{}\n{}", firing.stdout, firing.stderr);
    assert!(
        firing.stdout.contains(&format!("in ALARM: {alarm}"))
            && firing
                .stdout
                .contains(&format!("alarm {alarm} is in ALARM: set by the test")),
        "{}",
        firing.stdout
    );
    put_alarm(&rig, "failed-events", StateValue::Ok);
    assert_eq!(
        status(&endpoint, &[NAME]).code,
        Some(0),
        "an alarm back to OK"
    );

    // The handler changes and is applied: the old state file no longer
    // records the code deployed.
    rig.ws.write("app/app.py", EDITED_APP_PY).expect("app.py");
    rig.apply();
    let stale = status(&endpoint, &[NAME, "--state", state_arg]);
    assert_eq!(stale.code, Some(3), "{}\n{}", stale.stdout, stale.stderr);
    assert!(
        stale.stdout.contains("differs")
            && stale
                .stdout
                .contains("the deployed code is not the state's"),
        "{}",
        stale.stdout
    );
    let fresh = show_json(&rig, "state2.json");
    let fresh_run = status(
        &endpoint,
        &[NAME, "--state", fresh.to_str().expect("utf-8")],
    );
    assert_eq!(
        fresh_run.code,
        Some(0),
        "{}\n{}",
        fresh_run.stdout,
        fresh_run.stderr
    );
    assert!(
        fresh_run.stdout.contains(": matches,"),
        "{}",
        fresh_run.stdout
    );

    // The state itself (`terraform state pull`) has the CodeSha256 of the
    // last upload: code changed outside Terraform is found without a refresh.
    let pulled = rig.ws.run(&["state", "pull"]).expect("state pull");
    let pulled_path = rig
        .ws
        .write("pulled.tfstate", &pulled.stdout)
        .expect("write");
    let pulled_arg = pulled_path.to_str().expect("utf-8");
    let same = status(&endpoint, &[NAME, "--state", pulled_arg, "--json"]);
    assert_eq!(same.code, Some(0), "{}\n{}", same.stdout, same.stderr);
    assert_eq!(same.json()["code"]["check"], "matches");
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    rig.aws
        .block_on(
            rig.aws
                .lambda()
                .update_function_code()
                .function_name(NAME)
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .send(),
        )
        .expect("UpdateFunctionCode");
    let by_hand = status(&endpoint, &[NAME, "--state", pulled_arg]);
    assert_eq!(
        by_hand.code,
        Some(3),
        "{}\n{}",
        by_hand.stdout,
        by_hand.stderr
    );
    assert!(
        by_hand
            .stdout
            .contains("the code was changed outside Terraform"),
        "{}",
        by_hand.stdout
    );
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    let moto = tests::Moto::start().expect("moto");
    let endpoint = moto.endpoint();
    status(&endpoint, &["nosuch"]).assert_one_line_error(1, "no pipeline named \"nosuch\"");

    // No credentials anywhere.
    let mut args = vec!["status", "--region", tests::aws::REGION, "--endpoint-url"];
    args.push(&endpoint);
    args.push("nosuch");
    let run = run_with(command(false), &args);
    run.assert_one_line_error(1, "no AWS credentials found");

    // Nothing listens there.
    status("http://127.0.0.1:9", &["nosuch"]).assert_one_line_error(1, "lambda:GetFunction");

    // A --state file that is not one, or that lacks the pipeline.
    let dir = tempfile::tempdir().expect("dir");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json").expect("write");
    status(
        &endpoint,
        &["p", "--state", garbage.to_str().expect("utf-8")],
    )
    .assert_one_line_error(1, "not JSON");
    let missing = Path::new("/nonexistent/state.json");
    status(
        &endpoint,
        &["p", "--state", missing.to_str().expect("utf-8")],
    )
    .assert_one_line_error(1, "cannot read /nonexistent/state.json");

    // A function that is not a pipeline's.
    let aws = moto.aws().expect("aws");
    let role = aws
        .create_service_role("plain-role", "/", "lambda.amazonaws.com")
        .expect("role");
    // The smallest zip, an empty archive: moto does not look inside.
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    aws.create_function(&tests::aws::NewFunction {
        name: "plain",
        role_arn: &role,
        runtime: "python3.12",
        handler: "app.handler",
        memory_mb: 128,
        timeout_s: 3,
        zip: &zip,
    })
    .expect("function");
    status(&endpoint, &["plain"]).assert_one_line_error(1, "is not an eventpipe pipeline");
}

/// Every operation `status` calls, failed once (AccessDenied, which no
/// retry hides): the command fails with one line naming it, and the next
/// run is healthy again.
#[test]
fn each_call_failed_once_fails_the_command_and_the_next_run_succeeds() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    rig.proxy.clear_calls();
    let calibration = status(&endpoint, &[NAME]);
    assert_eq!(calibration.code, Some(0), "{}", calibration.stderr);
    let ops: BTreeSet<String> = rig.proxy.calls().iter().map(|c| c.op.clone()).collect();
    let must = [
        "lambda:GetFunction",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:ListEventSourceMappings",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "monitoring:DescribeAlarms",
        "monitoring:GetMetricData",
        "s3:GetBucketNotificationConfiguration",
    ];
    for m in must {
        assert!(
            ops.contains(m),
            "status did not call {m}; it called {ops:?}"
        );
    }
    let mut rows = Vec::new();
    for op in &ops {
        rig.proxy
            .add_rule(Rule::on(op).first(1).fail(Fault::AccessDenied));
        let failed = status(&endpoint, &[NAME]);
        failed.assert_one_line_error(1, op.split(':').nth(1).unwrap_or(op));
        assert!(
            failed.stderr.contains("AccessDenied"),
            "AWS's own error code is kept: {}",
            failed.stderr
        );
        rig.proxy.clear_rules();
        let again = status(&endpoint, &[NAME]);
        assert_eq!(again.code, Some(0), "after {op}: {}", again.stderr);
        rows.push((op.clone(), failed.stderr.trim().to_owned()));
    }
    for (op, line) in rows {
        eprintln!("{op:<45} {line}");
    }
}

fn put_metric(rig: &Rig, namespace: &str, metric: &str, dimension: (&str, &str), value: f64) {
    rig.aws
        .block_on(
            rig.aws
                .cloudwatch()
                .put_metric_data()
                .namespace(namespace)
                .metric_data(
                    MetricDatum::builder()
                        .metric_name(metric)
                        .dimensions(
                            Dimension::builder()
                                .name(dimension.0)
                                .value(dimension.1)
                                .build(),
                        )
                        .value(value)
                        .build(),
                )
                .send(),
        )
        .expect("PutMetricData");
}

/// With `delivery = "queue"` the triggers send to the event queue, whose
/// depth and age are shown; a stream pipeline shows its iterator age.
#[test]
fn queue_delivery_and_stream_pipelines_show_their_queue_and_iterator_age() {
    let rig = Rig::new(&newest_cli(), None);
    let queued = Pipeline::named("stq")
        .extra("  delivery      = \"queue\"\n  on_failure {\n    maximum_retry_attempts = 0\n  }\n")
        .hcl();
    let streaming = Pipeline::named("sts")
        .extra("  stream {\n    shard_count = 1\n  }\n")
        .hcl();
    rig.configure(&format!("{queued}{streaming}"));
    rig.apply();
    let endpoint = rig.proxy.endpoint();
    put_metric(
        &rig,
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        ("QueueName", "stq-events"),
        7.0,
    );
    put_metric(
        &rig,
        "AWS/Lambda",
        "IteratorAge",
        ("FunctionName", "sts"),
        1500.0,
    );

    let q = status(&endpoint, &["stq", "--json"]);
    let j = q.json();
    assert_eq!(q.code, Some(0), "{j:#}\n{}", q.stderr);
    assert_eq!(j["event_queue"]["name"], "stq-events");
    assert_eq!(j["event_queue"]["exists"], true);
    assert_eq!(j["event_queue"]["oldest_message_age_seconds"], 7.0);
    assert_eq!(j["failure_queue"]["name"], "stq-failed");
    let dest = j["triggers"][0]["destination"].as_str().unwrap_or_default();
    assert!(
        j["triggers"][0]["status"] == "ok"
            && dest.starts_with("queue arn:aws:sqs:")
            && dest.ends_with(":stq-events"),
        "{j:#}"
    );
    assert_eq!(j["stream"], Json::Null);

    let s = status(&endpoint, &["sts"]);
    assert_eq!(s.code, Some(0), "{}\n{}", s.stdout, s.stderr);
    assert!(
        s.stdout
            .contains("stream          sts: iterator age 1500 ms"),
        "{}",
        s.stdout
    );
    assert!(s.stdout.contains("failure queue   none"), "{}", s.stdout);

    // A trigger pointed elsewhere out of band is a changed trigger.
    let cfg = rig.aws.notifications("stq-bucket").expect("notifications");
    let mut qc = cfg.queue_configurations().to_vec();
    assert_eq!(qc.len(), 1, "{cfg:?}");
    qc[0].queue_arn = "arn:aws:sqs:us-east-1:123456789012:stq-failed".into();
    rig.aws
        .put_notifications(
            "stq-bucket",
            NotificationConfiguration::builder()
                .set_queue_configurations(Some(qc))
                .build(),
        )
        .expect("repoint the trigger");
    let changed = status(&endpoint, &["stq"]);
    assert_eq!(
        changed.code,
        Some(3),
        "{}\n{}",
        changed.stdout,
        changed.stderr
    );
    assert!(
        changed
            .stdout
            .contains("CHANGED, should send to queue arn:aws:sqs:")
            && changed
                .stdout
                .contains("trigger eventpipe-stq-0 is changed"),
        "{}",
        changed.stdout
    );
}

/// `eventpipe status` with the account given the standard way
/// (`AWS_ACCOUNT_ID`, which the SDK adds to keys from the environment).
fn status_in_account(endpoint: &str, account: &str, args: &[&str]) -> Run {
    let mut cmd = command(true);
    cmd.env("AWS_ACCOUNT_ID", account);
    let mut all = vec![
        "status",
        "--region",
        tests::aws::REGION,
        "--endpoint-url",
        endpoint,
    ];
    all.extend_from_slice(args);
    run_with(cmd, &all)
}

#[test]
fn with_the_account_known_every_call_is_made_at_once_and_a_wrong_guess_reports_the_same() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    let state = show_json(&rig, "show.json");
    let state = state.to_str().expect("a UTF-8 path");
    let account = "123456789012";

    let bare = status(&endpoint, &[NAME, "--state", state]);
    assert_eq!(bare.code, Some(0), "{}\n{}", bare.stdout, bare.stderr);

    // The account and the state's bucket name everything up front: the
    // failure queue's counts are asked at the URL SQS forms (and kept, as
    // the answer is that queue's), the event queue's too (it has none),
    // no queue URL is looked up, and the state's bucket is read once:
    // nothing is asked twice.
    rig.proxy.clear_calls();
    let known = status_in_account(&endpoint, account, &[NAME, "--state", state]);
    assert_eq!(known.code, Some(0), "{}\n{}", known.stdout, known.stderr);
    assert_eq!(known.stdout, bare.stdout);
    assert_eq!(rig.proxy.count("sqs:GetQueueAttributes"), 2);
    assert_eq!(rig.proxy.count("sqs:GetQueueUrl"), 0);
    assert_eq!(rig.proxy.count("s3:GetBucketNotificationConfiguration"), 1);
    assert_eq!(rig.proxy.count("monitoring:GetMetricData"), 1);
    assert_eq!(rig.proxy.count("lambda:GetFunction"), 1);

    // Without the state the bucket guessed is the one the pipeline would
    // derive, but this pipeline names its own: the guess is dropped and
    // the bucket its function's tag names is read. A wrong account's URLs
    // answer for no queue of this pipeline: they are asked again by the
    // URLs found. Same report either way.
    let plain = status(&endpoint, &[NAME]);
    assert_eq!(plain.code, Some(0), "{}\n{}", plain.stdout, plain.stderr);
    for acct in [account, "999999999999"] {
        rig.proxy.clear_calls();
        let run = status_in_account(&endpoint, acct, &[NAME]);
        assert_eq!(run.code, Some(0), "{acct}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, plain.stdout, "{acct}");
        assert_eq!(
            rig.proxy.count("s3:GetBucketNotificationConfiguration"),
            2,
            "{acct}: the derived bucket, then the function's"
        );
        // No queue URL is looked up: the emulator answers a formed URL by
        // the queue's name whatever its account, and the answer's ARN is
        // the one the function's on-failure destination names, so it holds
        // (an answer of another queue, or a refusal, as AWS gives for a
        // wrong account, is asked again by name: the unit tests of
        // `gather` and the fault table below).
        assert_eq!(rig.proxy.count("sqs:GetQueueUrl"), 0, "{acct}");
    }

    // Degraded: the same problems, whatever was guessed.
    rig.aws
        .put_notifications(
            &format!("{NAME}-bucket"),
            NotificationConfiguration::builder().build(),
        )
        .expect("remove the trigger");
    let url = failure_queue_url(&rig);
    for i in 0..2 {
        rig.aws
            .send_message(&url, &format!("{{\"failed\": {i}}}"))
            .expect("send");
    }
    let expected = status(&endpoint, &[NAME]);
    assert_eq!(expected.code, Some(3), "{}", expected.stdout);
    assert!(
        expected
            .stdout
            .contains("2 failed event(s) wait in failure queue stat-failed"),
        "{}",
        expected.stdout
    );
    for (acct, args) in [
        (account, vec![NAME, "--state", state]),
        (account, vec![NAME]),
        ("999999999999", vec![NAME]),
        ("999999999999", vec![NAME, "--state", state]),
    ] {
        let run = status_in_account(&endpoint, acct, &args);
        assert_eq!(run.code, Some(3), "{acct} {args:?}: {}", run.stdout);
        for part in [
            "eventpipe-stat-0: MISSING",
            "stat-failed: 2 message(s)",
            "trigger eventpipe-stat-0 is missing",
            "2 failed event(s) wait in failure queue stat-failed",
        ] {
            assert!(
                run.stdout.contains(part),
                "{acct} {args:?}: {part:?}:\n{}",
                run.stdout
            );
        }
    }
}

/// The fault table with the account known up front, where the queues'
/// counts are asked at the URLs SQS forms and a queue's URL is looked up
/// only when such an answer does not hold. Each call of the one round,
/// failed once, fails the command with one line naming it; the formed
/// URLs' counts, failed, are a guess that did not hold: the failure queue
/// is looked up by name in a second round and the report is the same. The
/// second round's calls, failed, fail the command, named.
#[test]
fn with_the_account_known_each_call_failed_once_fails_the_command_or_is_asked_again() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    let account = "123456789012";
    // With the state, its bucket is the one read in the one round (without
    // it, this pipeline's bucket is not the derived one, which is then a
    // guess that does not hold: `with_the_account_known_every_call...`).
    let state = show_json(&rig, "show.json");
    let state = state.to_str().expect("a UTF-8 path");
    let args = [NAME, "--state", state];
    let healthy = status_in_account(&endpoint, account, &args);
    assert_eq!(healthy.code, Some(0), "{}", healthy.stderr);
    rig.proxy.clear_calls();
    let calibration = status_in_account(&endpoint, account, &args);
    assert_eq!(calibration.stdout, healthy.stdout);
    let ops: BTreeSet<String> = rig.proxy.calls().iter().map(|c| c.op.clone()).collect();
    assert!(!ops.contains("sqs:GetQueueUrl"), "{ops:?}");
    assert!(ops.contains("sqs:GetQueueAttributes"), "{ops:?}");
    for op in ops.iter().filter(|o| *o != "sqs:GetQueueAttributes") {
        rig.proxy
            .add_rule(Rule::on(op).first(1).fail(Fault::AccessDenied));
        let failed = status_in_account(&endpoint, account, &args);
        failed.assert_one_line_error(1, op.split(':').nth(1).unwrap_or(op));
        assert!(failed.stderr.contains("AccessDenied"), "{}", failed.stderr);
        rig.proxy.clear_rules();
    }

    // Both formed URLs refused: the failure queue is looked up by name and
    // counted there; the event queue is no part of this pipeline.
    rig.proxy.clear_calls();
    rig.proxy.add_rule(
        Rule::on("sqs:GetQueueAttributes")
            .first(2)
            .fail(Fault::AccessDenied),
    );
    let again = status_in_account(&endpoint, account, &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(again.stdout, healthy.stdout);
    assert_eq!(rig.proxy.count("sqs:GetQueueUrl"), 1);
    assert_eq!(rig.proxy.count("sqs:GetQueueAttributes"), 3);
    rig.proxy.clear_rules();

    // The second round's GetQueueUrl failed, then its counts (the third
    // GetQueueAttributes: the first two are the formed URLs').
    let second_round = [
        (
            "GetQueueUrl",
            vec![
                Rule::on("sqs:GetQueueAttributes").first(2),
                Rule::on("sqs:GetQueueUrl").first(1),
            ],
        ),
        (
            "GetQueueAttributes",
            vec![Rule::on("sqs:GetQueueAttributes").first(3)],
        ),
    ];
    for (op, rules) in second_round {
        for rule in rules {
            rig.proxy.add_rule(rule.fail(Fault::AccessDenied));
        }
        let failed = status_in_account(&endpoint, account, &args);
        failed.assert_one_line_error(1, op);
        assert!(failed.stderr.contains("AccessDenied"), "{}", failed.stderr);
        rig.proxy.clear_rules();
        let next = status_in_account(&endpoint, account, &args);
        assert_eq!(next.code, Some(0), "after {op}: {}", next.stderr);
    }
}
