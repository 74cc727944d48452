//! `eventpipe event s3` and `eventpipe invoke`, through the real binary,
//! against pipelines applied to the emulator.
//!
//! moto (run without docker, as the harness does) runs no function code:
//! a synchronous `Invoke` answers with what the test queued through
//! `/moto-api/static/lambda-simple/response` (or echoes the event), and
//! never with a log tail or a function error. The deployed path is tested
//! against moto for the call and its payload, and with the fault proxy
//! answering as Lambda does for the log tail and a failed function.

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::rig::Rig;
use common::*;
use serde_json::Value as Json;
use tests::fault_proxy::{Call, Fault, Outcome, Rule};
use tests::tools::eventpipe_cli;
use tests::{Aws, tools};

/// What one run of the command line did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Ran {
    /// The one line a failed command prints, checked to be one line.
    fn one_line(&self) -> &str {
        let line = self.stderr.trim_end();
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "one line on stderr: {self}"
        );
        assert!(line.starts_with("eventpipe "), "{self}");
        line
    }
}

/// Runs `eventpipe args` in `dir` with no AWS settings of this machine's
/// (no profile, no credentials files), then `env`. The handler's Python is
/// the emulator's own, which has boto3 as Lambda's Python does.
fn cli_in(dir: &Path, args: &[&str], env: &[(String, String)]) -> Ran {
    let mut cmd = Command::new(eventpipe_cli());
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "EVENTPIPE_PYTHON" {
            cmd.env_remove(k);
        }
    }
    let nowhere = dir.join("no-aws-config");
    cmd.env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "EVENTPIPE_PYTHON",
            tools::tools_dir().join("venv/bin/python"),
        )
        .envs(env.iter().cloned());
    let out = cmd.output().expect("eventpipe runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Test credentials and region, as a user's environment has them.
fn credentials() -> Vec<(String, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_REGION".into(), tests::aws::REGION.into()),
    ]
}

/// The handler of `examples/basic`, as it is.
fn basic_handler() -> String {
    repo_file("examples/basic/app/app.py")
}

/// A pipeline `name` running examples/basic's handler: new JSON under
/// data/ is validated, the result written under processed/.
fn basic_pipeline(name: &str, bucket: &str) -> String {
    Pipeline::seed(name, bucket)
        .extra("  output_prefix = \"processed/\"\n")
        .function_lines("    environment = { OUTPUT_PREFIX = \"processed/\" }\n")
        .hcl()
}

const ORDER: &str =
    r#"{"order_id": "A1", "items": [{"quantity": 2, "price": 2.5}, {"quantity": 1, "price": 10}]}"#;

fn get_object(aws: &Aws, bucket: &str, key: &str) -> Option<Json> {
    let out = aws
        .block_on(aws.s3().get_object().bucket(bucket).key(key).send())
        .ok()?;
    let bytes = aws.block_on(out.body.collect()).ok()?.into_bytes();
    serde_json::from_slice(&bytes).ok()
}

/// A rig whose workspace has applied examples/basic's handler as pipeline
/// `name` on bucket `bucket`, with one order under data/.
fn basic_rig(name: &str, bucket: &str) -> Rig {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    rig.ws.write("app/app.py", basic_handler()).expect("app.py");
    rig.configure(&basic_pipeline(name, bucket));
    rig.apply();
    rig.aws
        .put_object(bucket, "data/a1.json", ORDER)
        .expect("put the order");
    rig
}

fn invokes(calls: &[Call], function: &str) -> Vec<Call> {
    let path = format!("/functions/{function}/invocations");
    calls
        .iter()
        .filter(|c| c.op == "lambda:Invoke" && c.target.contains(&path))
        .cloned()
        .collect()
}

#[test]
fn invoke_local_runs_the_basic_examples_handler_and_prints_its_result() {
    let rig = basic_rig("inv", "inv-data");
    let dir = rig.ws.dir();
    let endpoint = rig.proxy.endpoint();
    let env = credentials();

    // From AWS: the pipeline found by its name, its source_dir as its tag
    // records it (relative to the configuration, where this runs).
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "inv",
            "--key",
            "data/a1.json",
            "--local",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(
        ran.stdout.contains("ran app.handler (python3.12, ")
            && ran
                .stdout
                .contains("with ObjectCreated:Put of s3://inv-data/data/a1.json (trigger 0)"),
        "{ran}"
    );
    assert!(
        ran.stdout
            .contains("result:\n{\n  \"written\": [\n    \"processed/a1.json\"\n  ]\n}"),
        "the handler's return value: {ran}"
    );
    // The handler really ran, here, against the emulator.
    let result = get_object(&rig.aws, "inv-data", "processed/a1.json").expect("the result");
    assert_eq!(
        result,
        serde_json::json!({"valid": true, "order_id": "A1", "total": 15.0})
    );
    assert!(
        invokes(&rig.proxy.calls(), "inv").is_empty(),
        "nothing invoked in AWS"
    );

    // From a state file alone (no AWS call by the command itself), with
    // extra environment from a var file over the configuration's, as JSON.
    let show = rig.ws.show_json().expect("show -json");
    rig.ws
        .write("state.json", show.to_string())
        .expect("state.json");
    rig.ws
        .write(
            "local.vars",
            "# for a dry run\nOUTPUT_PREFIX = \"trial/\"\n",
        )
        .expect("vars");
    rig.proxy.clear_calls();
    let mut env_with_endpoint = env.clone();
    env_with_endpoint.push(("AWS_ENDPOINT_URL".into(), endpoint.clone()));
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "inv",
            "--key",
            "data/a1.json",
            "--local",
            "--state",
            "state.json",
            "--var-file",
            "local.vars",
            "--json",
        ],
        &env_with_endpoint,
    );
    assert_eq!(ran.code, 0, "{ran}");
    let doc: Json = serde_json::from_str(&ran.stdout).expect("one JSON document");
    assert_eq!(
        doc["result"],
        serde_json::json!({"written": ["trial/a1.json"]}),
        "{doc}"
    );
    assert_eq!(doc["local"], true);
    assert_eq!(
        doc["event"]["Records"][0]["s3"]["configurationId"],
        "eventpipe-inv-0"
    );
    let command_calls: Vec<String> = rig
        .proxy
        .calls()
        .iter()
        .filter(|c| c.op.starts_with("lambda:") || c.op.starts_with("iam:"))
        .map(ToString::to_string)
        .collect();
    assert!(
        command_calls.is_empty(),
        "the state file is enough: {command_calls:?}"
    );
    assert!(get_object(&rig.aws, "inv-data", "trial/a1.json").is_some());

    // A key no trigger fires for is refused, before anything runs.
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "inv",
            "--key",
            "other/a1.json",
            "--local",
            "--state",
            "state.json",
        ],
        &env_with_endpoint,
    );
    assert_eq!(ran.code, 2, "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: no trigger of pipeline \"inv\" fires for ObjectCreated:Put of \
         \"other/a1.json\" (its triggers: s3:ObjectCreated:* data/*.json)"
    );
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "inv",
            "--key",
            "data/a1.json",
            "--event",
            "ObjectRemoved:Delete",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(
        ran.code, 2,
        "a removal fires no ObjectCreated trigger: {ran}"
    );
    assert!(ran.one_line().contains("no trigger of pipeline"), "{ran}");
    assert!(
        invokes(&rig.proxy.calls(), "inv").is_empty(),
        "nothing sent"
    );

    // The handler's failure (an order that is not there): its traceback
    // as its log, exit 3.
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "inv",
            "--key",
            "data/none.json",
            "--local",
            "--state",
            "state.json",
        ],
        &env_with_endpoint,
    );
    assert_eq!(ran.code, 3, "{ran}");
    assert!(
        ran.stdout.contains("Traceback (most recent call last):"),
        "{ran}"
    );
    assert!(
        ran.stdout.contains("error:\n{\n  \"errorMessage\": "),
        "{ran}"
    );
    assert!(
        ran.one_line()
            .starts_with("eventpipe invoke: the handler failed: NoSuchKey: "),
        "{ran}"
    );
}

#[test]
fn invoke_sends_the_event_to_the_deployed_function_and_prints_its_answer() {
    let rig = basic_rig("dep", "dep-data");
    let dir = rig.ws.dir();
    let endpoint = rig.proxy.endpoint();
    let env = credentials();

    // moto answers with what the function would return.
    rig.moto
        .queue_invoke_results(&[r#"{"written": ["processed/a1.json"]}"#])
        .expect("queue a result");
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "dep",
            "--key",
            "data/a1.json",
            "--size",
            "42",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(
        ran.stdout.starts_with(
            "invoked dep with ObjectCreated:Put of s3://dep-data/data/a1.json (trigger 0)\n"
        ),
        "{ran}"
    );
    assert!(
        ran.stdout
            .contains("result:\n{\n  \"written\": [\n    \"processed/a1.json\"\n  ]\n}"),
        "{ran}"
    );
    let calls = invokes(&rig.proxy.calls(), "dep");
    assert_eq!(calls.len(), 1, "one invocation");
    let sent: Json = serde_json::from_slice(calls[0].body()).expect("the event");
    let r = &sent["Records"][0];
    assert_eq!(r["s3"]["object"]["key"], "data/a1.json");
    assert_eq!(r["s3"]["object"]["size"], 42);
    assert_eq!(r["s3"]["configurationId"], "eventpipe-dep-0");
    assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::dep-data");
    assert_eq!(r["userIdentity"]["principalId"], "AWS:123456789012");

    // Lambda's own answer for a run that logged and one that failed, as
    // the proxy gives it (moto never runs the code).
    let log = "START RequestId: 1 Version: $LATEST\nprocessing data/a1.json\nEND RequestId: 1\n";
    let tail = base64::engine::general_purpose::STANDARD.encode(log);
    rig.proxy.add_rule(Rule::on("lambda:Invoke").nth(1).answer(
        200,
        &[
            ("Content-Type", "application/json"),
            ("X-Amz-Log-Result", &tail),
        ],
        br#"{"written": []}"#,
    ));
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "dep",
            "--key",
            "data/a1.json",
            "--json",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran}");
    let doc: Json = serde_json::from_str(&ran.stdout).expect("one JSON document");
    assert_eq!(doc["status"], 200, "RequestResponse answers 200: {doc}");
    assert_eq!(doc["result"], serde_json::json!({"written": []}));
    assert_eq!(doc["log"], log, "the tail, decoded");
    assert_eq!(doc["function_error"], Json::Null);

    let error = r#"{"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}"#;
    let tail = base64::engine::general_purpose::STANDARD.encode("Traceback: ValueError: boom\n");
    rig.proxy.add_rule(Rule::on("lambda:Invoke").nth(1).answer(
        200,
        &[
            ("Content-Type", "application/json"),
            ("X-Amz-Function-Error", "Unhandled"),
            ("X-Amz-Log-Result", &tail),
        ],
        error.as_bytes(),
    ));
    let ran = cli_in(
        dir,
        &[
            "invoke",
            "dep",
            "--key",
            "data/a1.json",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(ran.code, 3, "{ran}");
    assert!(
        ran.stdout
            .contains("error:\n{\n  \"errorMessage\": \"boom\""),
        "{ran}"
    );
    assert!(
        ran.stdout
            .contains("log tail:\nTraceback: ValueError: boom"),
        "{ran}"
    );
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: the function failed (Unhandled): ValueError: boom"
    );
}

/// The fault row of the one new call site, `lambda:Invoke` with
/// `RequestResponse`: refused once, the command fails with one line and
/// sends nothing else; run again, it succeeds. A throttled call is retried
/// by the SDK and the command succeeds at once.
#[test]
fn a_failed_synchronous_invoke_is_one_line_and_a_rerun_succeeds() {
    let rig = basic_rig("flt", "flt-data");
    let dir = rig.ws.dir();
    let endpoint = rig.proxy.endpoint();
    let env = credentials();
    let args = [
        "invoke",
        "flt",
        "--key",
        "data/a1.json",
        "--endpoint-url",
        &endpoint,
    ];

    rig.proxy
        .add_rule(Rule::on("lambda:Invoke").nth(1).fail(Fault::AccessDenied));
    let ran = cli_in(dir, &args, &env);
    assert_eq!(ran.code, 1, "{ran}");
    let line = ran.one_line();
    assert!(
        line.starts_with("eventpipe invoke: lambda:Invoke: AccessDeniedException"),
        "{ran}"
    );
    let calls = invokes(&rig.proxy.calls(), "flt");
    assert_eq!(calls.len(), 1, "not retried");
    assert!(matches!(calls[0].outcome, Outcome::Failed(403, _)));

    rig.proxy.clear_calls();
    let ran = cli_in(dir, &args, &env);
    assert_eq!(ran.code, 0, "the re-run succeeds: {ran}");
    assert_eq!(invokes(&rig.proxy.calls(), "flt").len(), 1);

    rig.proxy.clear_calls();
    rig.proxy
        .add_rule(Rule::on("lambda:Invoke").nth(1).fail(Fault::Throttling));
    let ran = cli_in(dir, &args, &env);
    assert_eq!(ran.code, 0, "a throttled call is retried: {ran}");
    let outcomes: Vec<Outcome> = invokes(&rig.proxy.calls(), "flt")
        .into_iter()
        .map(|c| c.outcome)
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes[1], Outcome::Forwarded);
}

#[test]
fn event_s3_prints_the_event_backfill_sends_for_the_same_object() {
    let tf = newest_cli();
    let rig = Rig::new(&tf, Some(0));
    rig.aws.create_bucket("evt-data").expect("bucket");
    let key = "data/2026/my order+1.json";
    rig.aws.put_object("evt-data", key, ORDER).expect("object");
    rig.configure(
        &Pipeline::seed("evt", "evt-data")
            .force_destroy(false)
            .extra("  create_bucket = false\n  backfill      = true\n")
            .hcl(),
    );
    rig.apply();
    let calls = invokes(&rig.proxy.calls(), "evt");
    assert_eq!(calls.len(), 1, "backfill sent the one object");
    let mut sent: Json = serde_json::from_slice(calls[0].body()).expect("backfill's event");

    let listed = rig
        .aws
        .block_on(
            rig.aws
                .s3()
                .head_object()
                .bucket("evt-data")
                .key(key)
                .send(),
        )
        .expect("head");
    let size = listed.content_length().unwrap_or_default().to_string();
    let etag = listed
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned();
    let ran = cli_in(
        rig.ws.dir(),
        &[
            "event",
            "s3",
            "--bucket",
            "evt-data",
            "--key",
            key,
            "--size",
            &size,
            "--etag",
            &etag,
            "--region",
            "us-east-1",
            "--account",
            "123456789012",
            "--configuration-id",
            "eventpipe-evt-0",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran}");
    let mut printed: Json = serde_json::from_str(&ran.stdout).expect("JSON");
    // The time of sending, and the sequencer made from it, are per event.
    for e in [&mut sent, &mut printed] {
        let r = &mut e["Records"][0];
        assert!(
            r["eventTime"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{r}"
        );
        assert_eq!(
            r["s3"]["object"]["sequencer"].as_str().map(str::len),
            Some(16)
        );
        r["eventTime"] = Json::Null;
        r["s3"]["object"]["sequencer"] = Json::Null;
    }
    assert_eq!(printed, sent, "the same event, field for field");
    assert_eq!(
        sent["Records"][0]["s3"]["object"]["key"],
        "data/2026/my+order%2B1.json"
    );
}

#[test]
fn bad_input_is_one_line_with_its_exit_status() {
    let moto = tests::Moto::start().expect("moto");
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint = moto.endpoint();
    let env = credentials();

    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "nope",
            "--key",
            "data/a.json",
            "--endpoint-url",
            &endpoint,
        ],
        &env,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: no pipeline named \"nope\" in us-east-1: no Lambda function by that name"
    );

    let no_credentials = [("AWS_REGION".to_owned(), "us-east-1".to_owned())];
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "nope",
            "--key",
            "data/a.json",
            "--endpoint-url",
            &endpoint,
        ],
        &no_credentials,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert!(ran.one_line().contains("credentials"), "{ran}");

    let ran = cli_in(dir.path(), &["invoke", "nope", "--local"], &env);
    assert_eq!(ran.code, 2, "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: --key K is required: the key of the object the event is for"
    );

    // A state file that is not one, one without the pipeline, a var file
    // that does not read, no Python to run the handler with.
    std::fs::write(dir.path().join("bad.json"), "not json").unwrap();
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "p",
            "--key",
            "data/a.json",
            "--local",
            "--state",
            "bad.json",
        ],
        &env,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert!(ran.one_line().contains("bad.json is not JSON"), "{ran}");
    let state = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
      {"mode":"managed","type":"eventpipe_event_pipeline","name":"p","values":{
       "name":"p","function_name":"p","bucket_name":"b","bucket_arn":"arn:aws:s3:::b",
       "function_arn":"arn:aws:lambda:us-east-1:123456789012:function:p",
       "notification_ids":["eventpipe-p-0"],
       "function":[{"source_dir":"app","handler":"app.handler","runtime":"python3.12",
         "architecture":"x86_64","memory_size":128,"timeout":5,"environment":null}],
       "trigger":[{"events":["s3:ObjectCreated:*"],"filter_prefix":"data/","filter_suffix":null}]}}]}}}"#;
    std::fs::write(dir.path().join("state.json"), state).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "q",
            "--key",
            "data/a.json",
            "--local",
            "--state",
            "state.json",
        ],
        &env,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert!(
        ran.one_line()
            .ends_with("has no eventpipe_event_pipeline named \"q\" (it has: p)"),
        "{ran}"
    );
    std::fs::write(dir.path().join("bad.vars"), "OK = 1\nnot a pair\n").unwrap();
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "p",
            "--key",
            "data/a.json",
            "--local",
            "--state",
            "state.json",
            "--var-file",
            "bad.vars",
        ],
        &env,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: bad.vars: line 2: expected NAME = \"value\""
    );
    let mut no_python = env.clone();
    no_python.push((
        "PATH".into(),
        dir.path().join("empty").display().to_string(),
    ));
    no_python.push(("EVENTPIPE_PYTHON".into(), String::new()));
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "p",
            "--key",
            "data/a.json",
            "--local",
            "--state",
            "state.json",
        ],
        &no_python,
    );
    assert_eq!(ran.code, 1, "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: no Python to run a python3.12 handler: neither python3.12 nor \
         python3 runs; install Python 3.12 (or set EVENTPIPE_PYTHON)"
    );
    // And with Python there, the same state file runs.
    let ran = cli_in(
        dir.path(),
        &[
            "invoke",
            "p",
            "--key",
            "data/a.json",
            "--local",
            "--state",
            "state.json",
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(ran.stdout.ends_with("result:\n1\n"), "{ran}");

    let ran = cli_in(
        dir.path(),
        &[
            "event", "s3", "--bucket", "b", "--key", "k", "--event", "Put",
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{ran}");
    assert!(
        ran.one_line()
            .starts_with("eventpipe event s3: unknown S3 event \"Put\""),
        "{ran}"
    );
}

/// A `terraform show -json` state of one pipeline `p` whose function is
/// `handler` in `runtime` from `source_dir`, with `environment`.
fn state_of(source_dir: &str, handler: &str, runtime: &str, environment: &str) -> String {
    format!(
        r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":[
      {{"mode":"managed","type":"eventpipe_event_pipeline","name":"p","values":{{
       "name":"p","function_name":"p-fn","bucket_name":"b","bucket_arn":"arn:aws:s3:::b",
       "function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:p-fn",
       "notification_ids":["eventpipe-p-0"],
       "function":[{{"source_dir":"{source_dir}","handler":"{handler}","runtime":"{runtime}",
         "architecture":"x86_64","memory_size":256,"timeout":10,"environment":{environment}}}],
       "trigger":[{{"events":["s3:ObjectCreated:*"],"filter_prefix":"in/","filter_suffix":null}}]}}}}]}}}}}}"#
    )
}

#[test]
fn invoke_local_uses_the_package_caches_dependencies_and_runs_node_handlers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let wheels = root.join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    wheels::data_wheel(&wheels, "tinydata", "1.0.0", 1000);
    std::fs::create_dir_all(root.join("py")).unwrap();
    std::fs::write(
        root.join("py/app.py"),
        "import os\nimport tinydata\n\n\ndef handler(event, context):\n    \
         print('request', context.aws_request_id)\n    \
         return {'size': tinydata.size(), 'region': os.environ['AWS_REGION'], \
         'function': os.environ['AWS_LAMBDA_FUNCTION_NAME'], \
         'left': context.get_remaining_time_in_millis() > 0}\n",
    )
    .unwrap();
    std::fs::write(root.join("py/requirements.txt"), "tinydata==1.0.0\n").unwrap();
    std::fs::write(
        root.join("py.json"),
        state_of("py", "app.handler", "python3.12", "null"),
    )
    .unwrap();
    let cache = root.join("cache");
    let offline = |links: &Path| {
        vec![
            ("PIP_NO_INDEX".to_owned(), "1".to_owned()),
            ("PIP_FIND_LINKS".to_owned(), links.display().to_string()),
            ("PIP_DISABLE_PIP_VERSION_CHECK".to_owned(), "1".to_owned()),
            (
                "EVENTPIPE_CACHE_DIR".to_owned(),
                cache.display().to_string(),
            ),
        ]
    };
    let args = [
        "invoke", "p", "--key", "in/x", "--local", "--state", "py.json", "--json",
    ];
    let ran = cli_in(root, &args, &offline(&wheels));
    assert_eq!(ran.code, 0, "{ran}");
    let doc: Json = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(
        doc["result"],
        serde_json::json!({"size": 1000, "region": "eu-west-1", "function": "p-fn", "left": true}),
        "{doc}"
    );
    assert!(
        doc["log"]
            .as_str()
            .is_some_and(|l| l.starts_with("request ")),
        "{doc}"
    );
    let installed = std::fs::read_dir(cache.join("deps"))
        .expect("the cache has the tree")
        .count();
    assert!(installed > 0);
    // Run again where pip could find nothing: the cached tree is used.
    let empty = root.join("no-wheels");
    std::fs::create_dir_all(&empty).unwrap();
    let ran = cli_in(root, &args, &offline(&empty));
    assert_eq!(ran.code, 0, "the cache's tree, no install: {ran}");

    // Node.js: an async handler with the configuration's environment, and
    // one that throws (exit 3, its stack as its log).
    std::fs::create_dir_all(root.join("js")).unwrap();
    std::fs::write(
        root.join("js/index.js"),
        "exports.handler = async (event, context) => {\n  console.log('key', \
         event.Records[0].s3.object.key);\n  if (event.Records[0].s3.object.key.endsWith('bad')) \
         throw new TypeError('not this one');\n  return { greeting: process.env.GREETING, name: \
         context.functionName, left: context.getRemainingTimeInMillis() > 0 };\n};\n",
    )
    .unwrap();
    std::fs::write(
        root.join("js.json"),
        state_of("js", "index.handler", "nodejs22.x", r#"{"GREETING":"hi"}"#),
    )
    .unwrap();
    let ran = cli_in(
        root,
        &[
            "invoke", "p", "--key", "in/a b", "--local", "--state", "js.json",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(
        ran.stdout.contains("log:\nkey in/a+b\n"),
        "the key as S3 encodes it: {ran}"
    );
    assert!(
        ran.stdout.contains(
            "result:\n{\n  \"greeting\": \"hi\",\n  \"name\": \"p-fn\",\n  \"left\": true\n}"
        ),
        "{ran}"
    );
    let ran = cli_in(
        root,
        &[
            "invoke", "p", "--key", "in/bad", "--local", "--state", "js.json",
        ],
        &[],
    );
    assert_eq!(ran.code, 3, "{ran}");
    assert!(
        ran.stdout.contains("TypeError: not this one\n    at "),
        "{ran}"
    );
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: the handler failed: TypeError: not this one"
    );
}

#[test]
fn invoke_local_runs_es_module_handlers_and_stops_one_past_its_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("esm")).unwrap();
    std::fs::write(root.join("esm/package.json"), r#"{"type": "module"}"#).unwrap();
    std::fs::write(
        root.join("esm/index.js"),
        "export const handler = async (event) => ({ esm: event.Records[0].s3.object.key });\n",
    )
    .unwrap();
    std::fs::write(
        root.join("esm.json"),
        state_of("esm", "index.handler", "nodejs22.x", "null"),
    )
    .unwrap();
    let ran = cli_in(
        root,
        &[
            "invoke", "p", "--key", "in/e", "--local", "--state", "esm.json", "--json",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran}");
    let doc: Json = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(doc["result"], serde_json::json!({"esm": "in/e"}), "{doc}");

    // A handler still running at the function's timeout is stopped, as
    // Lambda stops it.
    std::fs::create_dir_all(root.join("slow")).unwrap();
    std::fs::write(
        root.join("slow/app.py"),
        "import time\n\n\ndef handler(event, context):\n    print('started')\n    time.sleep(30)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("slow.json"),
        state_of("slow", "app.handler", "python3.12", "null")
            .replace("\"timeout\":10", "\"timeout\":1"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let ran = cli_in(
        root,
        &[
            "invoke",
            "p",
            "--key",
            "in/s",
            "--local",
            "--state",
            "slow.json",
        ],
        &[],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "stopped: {ran}"
    );
    assert_eq!(ran.code, 3, "{ran}");
    assert!(ran.stdout.contains("log:\nstarted"), "{ran}");
    assert_eq!(
        ran.one_line(),
        "eventpipe invoke: the handler failed: Sandbox.Timedout: Task timed out after 1.00 seconds"
    );
}

#[test]
fn with_queue_delivery_the_handler_gets_the_event_in_an_sqs_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("q")).unwrap();
    std::fs::write(
        root.join("q/app.py"),
        "import json\n\n\ndef handler(event, context):\n    r = event['Records'][0]\n    \
         s3 = json.loads(r['body'])['Records'][0]['s3']\n    \
         return [r['eventSource'], r['eventSourceARN'], s3['object']['key']]\n",
    )
    .unwrap();
    let queue = "arn:aws:sqs:eu-west-1:123456789012:p-events";
    let state = state_of("q", "app.handler", "python3.12", "null").replace(
        "\"notification_ids\"",
        &format!("\"delivery\":\"queue\",\"event_queue_arn\":\"{queue}\",\"notification_ids\""),
    );
    std::fs::write(root.join("q.json"), state).unwrap();
    let ran = cli_in(
        root,
        &[
            "invoke", "p", "--key", "in/q 1", "--local", "--state", "q.json", "--json",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran}");
    let doc: Json = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(
        doc["result"],
        serde_json::json!(["aws:sqs", queue, "in/q+1"]),
        "{doc}"
    );
}
