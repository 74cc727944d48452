//! `eventpipe replay` through the real binary, against pipelines made by
//! Terraform on the emulator: failure records in AWS's documented shapes
//! are put on the failure queue with the tests' own client, the command
//! runs through the recording fault proxy, and what it did is read back
//! from the proxy (the `lambda:Invoke` calls and their bodies) and from
//! the queues (the tests' own client).

mod common;

use std::process::Command;

use aws_sdk_sqs::types::QueueAttributeName;
use base64::Engine as _;
use common::rig::Rig;
use common::*;
use serde_json::{Value as Json, json};
use tests::fault_proxy::{Fault, Outcome, Rule};
use tests::{Aws, Moto};

const ACCOUNT: &str = "123456789012";

/// What one run of the command showed.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `eventpipe replay <args>` against `endpoint` with static test
/// credentials and nothing from this machine's AWS configuration.
fn replay_at(endpoint: &str, args: &[&str], credentials: bool) -> Run {
    let mut cmd = Command::new(tests::tools::eventpipe_cli());
    cmd.arg("replay")
        .args(args)
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"]);
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/eventpipe-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/eventpipe-test-creds",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if credentials {
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
    }
    let out = cmd.output().expect("eventpipe runs");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

fn replay(rig: &Rig, args: &[&str]) -> Run {
    replay_at(&rig.proxy.endpoint(), args, true)
}

/// An error run: exit 1 and one line on stderr, `eventpipe replay: …`.
fn assert_one_line_error(run: &Run, mentions: &str) {
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.starts_with("eventpipe replay: "), "{run:?}");
    assert!(run.stderr.contains(mentions), "{run:?}");
}

/// The event S3 sends for a new object.
fn s3_event(bucket: &str, key: &str) -> Json {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-12-06T12:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "eventpipe-orders-0",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                       "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": 12, "eTag": "0123456789abcdef", "sequencer": "0A1B2C3D4E5F678901"}
        }
    }]})
}

fn function_arn(function: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}")
}

/// Lambda's on-failure destination record for an asynchronous invocation
/// of `function` with `payload`, in AWS's documented shape.
fn on_failure_record(function: &str, payload: &Json) -> String {
    json!({
        "version": "1.0",
        "timestamp": "2026-12-06T12:00:05.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": format!("{}:$LATEST", function_arn(function)),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled"
        },
        "responsePayload": {"errorMessage": "division by zero", "errorType": "ZeroDivisionError"}
    })
    .to_string()
}

/// A Kinesis event source mapping's on-failure record for records
/// `start..=end` of `shard`.
fn kinesis_failure_record(
    function: &str,
    stream_arn: &str,
    shard: &str,
    start: &str,
    end: &str,
) -> String {
    json!({
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
            "functionArn": function_arn(function),
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-12-06T12:00:06.021Z",
        "KinesisBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2026-12-06T12:00:04.835Z",
            "approximateArrivalOfLastRecord": "2026-12-06T12:00:05.580Z",
            "batchSize": 2,
            "streamArn": stream_arn
        }
    })
    .to_string()
}

fn queue_url(aws: &Aws, name: &str) -> String {
    aws.block_on(aws.sqs().get_queue_url().queue_name(name).send())
        .expect("GetQueueUrl")
        .queue_url()
        .expect("a queue URL")
        .to_owned()
}

fn send(aws: &Aws, url: &str, bodies: &[String]) {
    for b in bodies {
        aws.send_message(url, b).expect("SendMessage");
    }
}

/// Messages on the queue, visible or not.
fn depth(aws: &Aws, url: &str) -> (u64, u64) {
    let out = aws
        .block_on(
            aws.sqs()
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send(),
        )
        .expect("GetQueueAttributes");
    let a = out.attributes().cloned().unwrap_or_default();
    let n = |k: QueueAttributeName| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0u64);
    (
        n(QueueAttributeName::ApproximateNumberOfMessages),
        n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Every message's body on the queue (received, then made visible again).
fn bodies(aws: &Aws, url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut receipts = Vec::new();
    loop {
        let got = aws
            .block_on(
                aws.sqs()
                    .receive_message()
                    .queue_url(url)
                    .max_number_of_messages(10)
                    .visibility_timeout(20)
                    .send(),
            )
            .expect("ReceiveMessage");
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            out.push(m.body().unwrap_or_default().to_owned());
            receipts.push(m.receipt_handle().unwrap_or_default().to_owned());
        }
    }
    for r in receipts {
        aws.block_on(
            aws.sqs()
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(r)
                .visibility_timeout(0)
                .send(),
        )
        .expect("ChangeMessageVisibility");
    }
    out
}

/// Deletes every message on the queue (one by one: SQS allows one
/// PurgeQueue a minute).
fn purge(aws: &Aws, url: &str) {
    loop {
        let got = aws
            .block_on(
                aws.sqs()
                    .receive_message()
                    .queue_url(url)
                    .max_number_of_messages(10)
                    .send(),
            )
            .expect("ReceiveMessage");
        if got.messages().is_empty() {
            return;
        }
        for m in got.messages() {
            aws.block_on(
                aws.sqs()
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send(),
            )
            .expect("DeleteMessage");
        }
    }
}

/// The payloads of the `lambda:Invoke` calls of `function` the proxy
/// forwarded (or answered with a function error), in order.
fn invoked(rig: &Rig, function: &str) -> Vec<Json> {
    rig.proxy
        .calls()
        .iter()
        .filter(|c| {
            c.op == "lambda:Invoke" && c.target.contains(&format!("/functions/{function}/"))
        })
        .filter(|c| matches!(c.outcome, Outcome::Forwarded | Outcome::Failed(200, _)))
        .filter_map(|c| serde_json::from_slice(c.body()).ok())
        .collect()
}

/// A pipeline `name` with `extra` lines, applied through the rig's proxy.
fn pipeline(name: &str, extra: &str) -> Rig {
    let rig = Rig::new(&newest_cli(), None);
    rig.configure(&Pipeline::named(name).extra(extra).hcl());
    rig.apply();
    rig
}

fn events(bucket: &str, keys: &[&str]) -> Vec<Json> {
    keys.iter().map(|k| s3_event(bucket, k)).collect()
}

#[test]
fn direct_delivery_replays_each_failed_event_once_and_keeps_what_fails() {
    let rig = pipeline("orders", "  on_failure {}\n");
    let aws = &rig.aws;
    let url = queue_url(aws, "orders-failed");
    let originals = events(
        "orders-bucket",
        &["data/a.json", "data/b c.json", "data/c.json"],
    );
    let records: Vec<String> = originals
        .iter()
        .map(|e| on_failure_record("orders", e))
        .collect();
    send(aws, &url, &records);

    // --dry-run lists each object and changes nothing.
    rig.proxy.clear_calls();
    let dry = replay(&rig, &["orders", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    for key in [
        "orders-bucket/data/a.json",
        "orders-bucket/data/b c.json",
        "orders-bucket/data/c.json",
    ] {
        assert!(
            dry.stdout
                .lines()
                .any(|l| l.contains("would invoke orders") && l.ends_with(key)),
            "{key}: {dry:?}"
        );
    }
    assert_eq!(rig.proxy.count("lambda:Invoke"), 0);
    assert_eq!(rig.proxy.count("sqs:DeleteMessageBatch"), 0);
    assert_eq!(depth(aws, &url), (3, 0), "a dry run hides nothing");

    // Replay: three invokes with the original events; the queue is empty.
    rig.proxy.clear_calls();
    let run = replay(&rig, &["orders"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("replayed 3, failed again 0, skipped 0, left 0"),
        "{run:?}"
    );
    let mut got = invoked(&rig, "orders");
    let mut want = originals.clone();
    got.sort_by_key(|j| j.to_string());
    want.sort_by_key(|j| j.to_string());
    assert_eq!(got, want);
    let async_invokes = rig
        .proxy
        .calls()
        .iter()
        .filter(|c| c.op == "lambda:Invoke")
        .count();
    assert_eq!(async_invokes, 3);
    assert_eq!(depth(aws, &url), (0, 0));
    assert_eq!(
        rig.proxy.count("sqs:DeleteMessageBatch"),
        1,
        "one batched delete"
    );

    // The second invoke refused: the first is deleted, the rest kept.
    send(aws, &url, &records);
    rig.proxy.clear_calls();
    rig.proxy
        .add_rule(Rule::on("lambda:Invoke").nth(2).fail(Fault::AccessDenied));
    let run = replay(&rig, &["orders", "--concurrency", "1"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stdout
            .contains("replayed 1, failed again 1, skipped 0, left 1"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("2 message(s) stay on orders-failed"),
        "{run:?}"
    );
    assert!(run.stdout.contains("AccessDenied"), "{run:?}");
    assert_eq!(
        depth(aws, &url),
        (2, 0),
        "the kept messages are visible again"
    );
    assert_eq!(invoked(&rig, "orders"), originals[..1].to_vec());
    // The next run sends the other two, once each.
    rig.proxy.clear_rules();
    rig.proxy.clear_calls();
    let run = replay(&rig, &["orders"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let mut got = invoked(&rig, "orders");
    got.sort_by_key(|j| j.to_string());
    let mut rest = originals[1..].to_vec();
    rest.sort_by_key(|j| j.to_string());
    assert_eq!(got, rest);
    assert_eq!(depth(aws, &url), (0, 0));

    // --sync: a handler that raises again keeps its message.
    send(aws, &url, &records[..1]);
    rig.proxy.clear_calls();
    rig.proxy
        .add_rule(Rule::on("lambda:Invoke").fail(Fault::FunctionError));
    let run = replay(&rig, &["orders", "--sync"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stdout.contains(
            "failed again: orders-bucket/data/a.json: the function failed again (Unhandled)"
        ),
        "{run:?}"
    );
    assert_eq!(depth(aws, &url), (1, 0));
    rig.proxy.clear_rules();
    let run = replay(&rig, &["orders", "--sync", "--json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let doc: Json = serde_json::from_str(&run.stdout).expect("--json prints one JSON document");
    assert_eq!(doc["replayed"], 1);
    assert_eq!(doc["records"][0]["outcome"], "replayed");
    assert_eq!(depth(aws, &url), (0, 0));

    // A malformed record is skipped with one line and kept; the good one goes.
    send(
        aws,
        &url,
        &["{\"requestContext\": 42".to_owned(), records[2].clone()],
    );
    rig.proxy.clear_calls();
    let run = replay(&rig, &["orders"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    let skipped: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("skipped: "))
        .collect();
    assert_eq!(skipped.len(), 1, "{run:?}");
    assert!(skipped[0].contains("unknown shape"), "{run:?}");
    assert_eq!(invoked(&rig, "orders"), originals[2..].to_vec());
    assert_eq!(
        bodies(aws, &url),
        vec!["{\"requestContext\": 42".to_owned()]
    );
    purge(aws, &url);

    // --max 2 stops after two records; the third stays for the next run.
    send(aws, &url, &records);
    rig.proxy.clear_calls();
    let run = replay(&rig, &["orders", "--max", "2", "--concurrency", "1"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("replayed 2, failed again 0"), "{run:?}");
    assert_eq!(invoked(&rig, "orders"), originals[..2].to_vec());
    assert_eq!(depth(aws, &url), (1, 0));
    purge(aws, &url);

    fault_rows(&rig, &url, &records, &originals);

    // A failure queue deleted out of band: one line, exit 1, nothing invoked.
    send(aws, &url, &records[..1]);
    aws.block_on(aws.sqs().delete_queue().queue_url(&url).send())
        .expect("DeleteQueue");
    rig.proxy.clear_calls();
    let run = replay(&rig, &["orders"]);
    assert_one_line_error(&run, "failure queue orders-failed does not exist");
    assert_eq!(rig.proxy.count("lambda:Invoke"), 0);
}

/// Each new SQS and Lambda call site fails: the run reports it and keeps
/// the messages; the next run converges with the queue empty, each event
/// sent at least once and at most twice (only a message whose delete
/// failed after its re-delivery goes twice).
fn fault_rows(rig: &Rig, url: &str, records: &[String], originals: &[Json]) {
    let aws = &rig.aws;
    // (operation, how many calls fail, expected exit status, what the run says)
    let rows: [(&str, u32, i32, &str); 5] = [
        ("sqs:ReceiveMessage", 1, 1, "sqs:ReceiveMessage"),
        ("lambda:Invoke", 1, 3, "lambda:Invoke"),
        // One failure is tried again by the command itself.
        ("sqs:DeleteMessageBatch", 1, 0, "replayed 3"),
        ("sqs:DeleteMessageBatch", 2, 1, "could not be deleted"),
        ("sqs:ChangeMessageVisibilityBatch", 1, 3, "skipped"),
    ];
    for (op, n, code, says) in rows {
        let mut put = records.to_vec();
        let visibility_row = op == "sqs:ChangeMessageVisibilityBatch";
        if visibility_row {
            // Something to keep, so that visibility is changed back.
            put.push("not a failure record".to_owned());
        }
        send(aws, url, &put);
        rig.proxy.clear_calls();
        rig.proxy
            .add_rule(Rule::on(op).first(n).fail(Fault::AccessDenied));
        let run = replay(rig, &["orders", "--concurrency", "1"]);
        assert_eq!(run.code, Some(code), "{op} x{n}: {run:?}");
        if code == 1 {
            assert_eq!(run.stderr.lines().count(), 1, "{op}: {run:?}");
            assert!(run.stderr.contains(says), "{op}: {run:?}");
        } else {
            assert!(run.stdout.contains(says), "{op}: {run:?}");
        }
        let (visible, hidden) = depth(aws, url);
        let first_invokes = invoked(rig, "orders");
        assert!(
            visible + hidden + first_invokes.len() as u64 >= put.len() as u64,
            "{op}: something was lost: {visible}+{hidden} on the queue, {} sent",
            first_invokes.len()
        );
        assert_eq!(hidden, 0, "{op}: kept messages must be visible again");
        rig.proxy.clear_rules();
        let second = replay(rig, &["orders"]);
        let want_second = if visibility_row { 3 } else { 0 };
        assert_eq!(second.code, Some(want_second), "{op}: {second:?}");
        let all = invoked(rig, "orders");
        for e in originals {
            let n = all.iter().filter(|j| *j == e).count();
            assert!((1..=2).contains(&n), "{op}: {e} sent {n} times");
            if op != "sqs:DeleteMessageBatch" {
                assert_eq!(n, 1, "{op}: {e} sent twice");
            }
        }
        if visibility_row {
            assert_eq!(bodies(aws, url), vec!["not a failure record".to_owned()]);
            purge(aws, url);
        }
        assert_eq!(depth(aws, url), (0, 0), "{op}: the queue must end empty");
    }
}

#[test]
fn queue_delivery_sends_redriven_events_back_to_the_event_queue() {
    let rig = pipeline("pay", "  delivery      = \"queue\"\n  on_failure {}\n");
    let aws = &rig.aws;
    // Stop the mapping (as a paused consumer would be), so what comes back
    // stays on the event queue to be read.
    let mapping = state_attrs(&rig.ws, "pay")["queue_mapping_id"]
        .as_str()
        .expect("a queue mapping")
        .to_owned();
    aws.block_on(
        aws.lambda()
            .update_event_source_mapping()
            .uuid(&mapping)
            .enabled(false)
            .send(),
    )
    .expect("UpdateEventSourceMapping");
    let dlq = queue_url(aws, "pay-failed");
    let event_queue = queue_url(aws, "pay-events");
    purge(aws, &event_queue);
    let redriven: Vec<String> = events("pay-bucket", &["data/1.json", "data/2.json"])
        .iter()
        .map(Json::to_string)
        .collect();
    send(aws, &dlq, &redriven);

    let dry = replay(&rig, &["pay", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(
        dry.stdout
            .lines()
            .filter(|l| l.starts_with("would send back"))
            .count(),
        2,
        "{dry:?}"
    );
    assert_eq!(depth(aws, &dlq), (2, 0));
    assert_eq!(depth(aws, &event_queue), (0, 0));

    // SendMessageBatch refused once: both kept, the next run moves them.
    rig.proxy.clear_calls();
    rig.proxy.add_rule(
        Rule::on("sqs:SendMessageBatch")
            .nth(1)
            .fail(Fault::AccessDenied),
    );
    let run = replay(&rig, &["pay"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stdout.contains("sqs:SendMessageBatch"), "{run:?}");
    assert_eq!(depth(aws, &dlq), (2, 0));
    rig.proxy.clear_rules();
    let run = replay(&rig, &["pay"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("replayed 2"), "{run:?}");
    assert_eq!(depth(aws, &dlq), (0, 0));
    let mut back = bodies(aws, &event_queue);
    back.sort();
    let mut want = redriven.clone();
    want.sort();
    assert_eq!(
        back, want,
        "the redriven events are back on the event queue, once"
    );
    assert_eq!(
        rig.proxy.count("sqs:SendMessageBatch"),
        2,
        "one batch per run"
    );
    assert_eq!(rig.proxy.count("lambda:Invoke"), 0);
}

#[test]
fn a_stream_range_still_held_is_read_again_and_invoked() {
    let rig = pipeline("clicks", "  stream {}\n  on_failure {}\n");
    let aws = &rig.aws;
    let stream_arn = state_attrs(&rig.ws, "clicks")["stream_arn"]
        .as_str()
        .expect("a stream ARN")
        .to_owned();
    let mut put = Vec::new();
    for data in ["one", "two", "three"] {
        let out = aws
            .block_on(
                aws.kinesis()
                    .put_record()
                    .stream_name("clicks")
                    .partition_key("user-1")
                    .data(aws_sdk_kinesis::primitives::Blob::new(data.as_bytes()))
                    .send(),
            )
            .expect("PutRecord");
        put.push((out.shard_id().to_owned(), out.sequence_number().to_owned()));
    }
    let shard = put[0].0.clone();
    let url = queue_url(aws, "clicks-failed");
    let record = kinesis_failure_record("clicks", &stream_arn, &shard, &put[0].1, &put[1].1);
    send(aws, &url, std::slice::from_ref(&record));

    let dry = replay(&rig, &["clicks", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert!(
        dry.stdout.contains(&format!(
            "{shard} records {}..{} of clicks",
            put[0].1, put[1].1
        )),
        "{dry:?}"
    );
    assert_eq!(depth(aws, &url), (1, 0));

    // Each stream call refused once: kept, then the next run converges.
    for op in ["kinesis:GetShardIterator", "kinesis:GetRecords"] {
        rig.proxy.clear_calls();
        rig.proxy
            .add_rule(Rule::on(op).nth(1).fail(Fault::AccessDenied));
        let run = replay(&rig, &["clicks"]);
        assert_eq!(run.code, Some(3), "{op}: {run:?}");
        assert!(run.stdout.contains(op), "{op}: {run:?}");
        assert_eq!(depth(aws, &url), (1, 0), "{op}");
        assert_eq!(rig.proxy.count("lambda:Invoke"), 0, "{op}");
        rig.proxy.clear_rules();
    }

    rig.proxy.clear_calls();
    let run = replay(&rig, &["clicks"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(depth(aws, &url), (0, 0));
    let sent = invoked(&rig, "clicks");
    assert_eq!(sent.len(), 1, "one invoke for the range");
    let b64 = base64::engine::general_purpose::STANDARD;
    let data: Vec<String> = sent[0]["Records"]
        .as_array()
        .expect("a Kinesis event")
        .iter()
        .map(|r| {
            assert_eq!(r["eventSource"], "aws:kinesis");
            assert_eq!(r["eventSourceARN"], stream_arn.as_str());
            String::from_utf8(b64.decode(r["kinesis"]["data"].as_str().unwrap()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(data, ["one", "two"], "exactly the range, in order");

    // A range that starts before the oldest record the stream holds was
    // lost to retention: said, kept, counted as left.
    let lost = kinesis_failure_record("clicks", &stream_arn, &shard, "0", &put[0].1);
    send(aws, &url, std::slice::from_ref(&lost));
    rig.proxy.clear_calls();
    let run = replay(&rig, &["clicks"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stdout.contains("left 1"), "{run:?}");
    assert!(run.stdout.contains("lost to retention"), "{run:?}");
    assert_eq!(rig.proxy.count("lambda:Invoke"), 0);
    assert_eq!(depth(aws, &url), (1, 0));
}

#[test]
fn bad_input_gets_one_line_and_an_exit_status() {
    let moto = Moto::start().expect("moto");
    let endpoint = moto.endpoint();
    // An unknown pipeline.
    let run = replay_at(&endpoint, &["nosuch"], true);
    assert_one_line_error(&run, "no pipeline named \"nosuch\"");
    // No credentials anywhere.
    let run = replay_at(&endpoint, &["nosuch"], false);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.to_lowercase().contains("credential"), "{run:?}");
    // Usage errors are clap's.
    let usage = replay_at(&endpoint, &["x", "--max", "0"], true);
    assert_eq!(usage.code, Some(2), "{usage:?}");
    // The help documents every exit status.
    let help = Command::new(tests::tools::eventpipe_cli())
        .args(["replay", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for want in [
        "--dry-run",
        "--max",
        "--sync",
        "--json",
        "Exit status",
        "  0  ",
        "  1  ",
        "  3  ",
    ] {
        assert!(help.contains(want), "{want}: {help}");
    }
}

#[test]
fn a_pipeline_without_on_failure_has_nothing_to_replay() {
    let rig = pipeline("plain", "");
    rig.proxy.clear_calls();
    let run = replay(&rig, &["plain"]);
    assert_one_line_error(&run, "has no failure queue (no on_failure block)");
    assert_eq!(rig.proxy.count("sqs:ReceiveMessage"), 0);
    assert_eq!(rig.proxy.count("lambda:Invoke"), 0);
}
