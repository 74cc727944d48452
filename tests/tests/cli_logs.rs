//! `eventpipe logs` through the real binary against the emulator, on a
//! pipeline made by Terraform: events put with `PutLogEvents` into two
//! streams out of order come out in time order; `--filter` narrows them
//! (the emulator applies plain-term patterns itself, as CloudWatch does);
//! lines in Lambda's JSON log format show as time, level, request id and
//! message; `--since` leaves older events out; `--follow` prints new events
//! once each and stops on Ctrl-C. Bad input is one line with its exit
//! status, and each AWS call, failed once, fails the command while the
//! next run succeeds.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::{Fault, Rule};

const NAME: &str = "logp";
const GROUP: &str = "/aws/lambda/logp";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
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
            lines[0].starts_with("eventpipe logs: ") && lines[0].contains(words),
            "{:?} must name {words:?}",
            lines[0]
        );
    }

    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

fn command(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(tests::tools::eventpipe_cli());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/eventpipe-credentials",
        )
        .env("AWS_CONFIG_FILE", "/nonexistent/eventpipe-config")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .args([
            "logs",
            "--region",
            tests::aws::REGION,
            "--endpoint-url",
            endpoint,
        ])
        .args(args);
    cmd
}

fn logs(endpoint: &str, args: &[&str]) -> Run {
    let out = command(endpoint, args).output().expect("eventpipe runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

fn put(rig: &Rig, stream: &str, events: &[(i64, &str)]) {
    let l = rig.aws.logs();
    // A stream that exists already is fine.
    let _ = rig.aws.block_on(
        l.create_log_stream()
            .log_group_name(GROUP)
            .log_stream_name(stream)
            .send(),
    );
    let mut req = l
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream);
    for (ts, message) in events {
        req = req.log_events(
            InputLogEvent::builder()
                .timestamp(*ts)
                .message(*message)
                .build()
                .expect("event"),
        );
    }
    rig.aws.block_on(req.send()).expect("PutLogEvents");
}

fn applied_rig() -> Rig {
    let rig = Rig::new(&newest_cli(), None);
    rig.configure(&Pipeline::named(NAME).hcl());
    rig.apply();
    rig
}

#[test]
fn events_of_two_streams_come_in_time_order_filtered_and_json_lines_readable() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    let t = now_ms() - 10 * 60 * 1000;
    let min = 60 * 1000;
    // Two streams, each written out of the other's order; one event 45
    // minutes old.
    put(
        &rig,
        "2026/12/06/[$LATEST]aaaa",
        &[
            (t - 35 * min, "old event ERROR long ago"),
            (t + 1000, "second line"),
            (t + 3000, "fourth ERROR line"),
        ],
    );
    put(
        &rig,
        "2026/12/06/[$LATEST]bbbb",
        &[
            (t, "first line"),
            (
                t + 2000,
                r#"{"timestamp":"2026-12-06T10:00:02.000Z","level":"ERROR","requestId":"req-7","message":"third, as JSON","extra":{"k":1}}"#,
            ),
        ],
    );

    let all = logs(&endpoint, &[NAME]);
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    assert_eq!(
        all.lines(),
        [
            "old event ERROR long ago",
            "first line",
            "second line",
            "2026-12-06T10:00:02.000Z ERROR req-7 third, as JSON",
            "fourth ERROR line",
        ],
        "time order across streams, JSON shown as time level requestId message"
    );

    let recent = logs(&endpoint, &[NAME, "--since", "30m"]);
    assert_eq!(recent.code, Some(0), "{}", recent.stderr);
    assert_eq!(recent.lines().len(), 4, "{}", recent.stdout);
    assert!(!recent.stdout.contains("long ago"), "{}", recent.stdout);

    let errors = logs(&endpoint, &[NAME, "--since", "2h", "--filter", "ERROR"]);
    assert_eq!(errors.code, Some(0), "{}", errors.stderr);
    assert_eq!(
        errors.lines(),
        [
            "old event ERROR long ago",
            "2026-12-06T10:00:02.000Z ERROR req-7 third, as JSON",
            "fourth ERROR line",
        ]
    );

    // An RFC 3339 time works like a duration.
    let at = aws_smithy_types::DateTime::from_millis(t - 60 * 1000)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("time");
    let since_time = logs(&endpoint, &[NAME, "--since", &at]);
    assert_eq!(since_time.lines(), recent.lines());

    let json = logs(&endpoint, &[NAME, "--json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let j: Json = serde_json::from_str(&json.stdout).expect("one JSON document");
    let events = j.as_array().expect("an array");
    assert_eq!(events.len(), 5);
    assert_eq!(events[3]["level"], "ERROR");
    assert_eq!(events[3]["request_id"], "req-7");
    assert_eq!(events[3]["message"], "third, as JSON");
    assert_eq!(events[1]["log_stream"], "2026/12/06/[$LATEST]bbbb");
    assert_eq!(events[1]["message"], "first line");
}

#[test]
fn follow_prints_new_events_once_and_stops_on_ctrl_c() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    let t = now_ms() - 5000;
    put(&rig, "s1", &[(t, "before follow")]);
    let mut child = command(&endpoint, &[NAME, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eventpipe logs --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a line in time")
    };
    assert_eq!(next(), "before follow");
    put(&rig, "s2", &[(now_ms(), "while following")]);
    assert_eq!(next(), "while following");
    // Several polls later nothing came twice.
    std::thread::sleep(Duration::from_secs(5));
    put(&rig, "s1", &[(now_ms(), "last one")]);
    assert_eq!(next(), "last one");
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(i32::try_from(child.id()).expect("pid"), libc::SIGINT);
    }
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "Ctrl-C stops it cleanly");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.is_empty(), "no event printed twice: {rest:?}");
}

#[test]
fn bad_input_is_one_line_and_each_call_failed_once_fails_the_command() {
    let rig = applied_rig();
    let endpoint = rig.proxy.endpoint();
    logs(&endpoint, &[NAME, "--since", "yesterday"])
        .assert_one_line_error(2, "--since \"yesterday\"");
    logs(&endpoint, &["nosuch"]).assert_one_line_error(1, "no pipeline named \"nosuch\"");
    logs("http://127.0.0.1:9", &[NAME]).assert_one_line_error(1, "lambda:GetFunction");
    put(&rig, "s", &[(now_ms(), "hello")]);
    for op in ["lambda:GetFunction", "logs:FilterLogEvents"] {
        rig.proxy
            .add_rule(Rule::on(op).first(1).fail(Fault::AccessDenied));
        let failed = logs(&endpoint, &[NAME]);
        failed.assert_one_line_error(1, op);
        assert!(failed.stderr.contains("AccessDenied"), "{}", failed.stderr);
        rig.proxy.clear_rules();
        let again = logs(&endpoint, &[NAME]);
        assert_eq!(again.code, Some(0), "after {op}: {}", again.stderr);
        assert_eq!(again.lines(), ["hello"]);
    }
}
