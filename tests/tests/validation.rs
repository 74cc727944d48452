//! Mistakes a reviewer would only see after a failed apply are refused at
//! plan time: `terraform plan` exits 1 with a message naming the attribute
//! and the reason, and nothing is created.

mod common;

use std::process::Command;

use common::*;
use tests::fault_proxy::{AccountLimits, Fault, FaultProxy, Rule};
use tests::hand_wired::HandWired;
use tests::{Moto, Output};

/// One bad configuration: how to break the seed config, and what the user
/// must be told (the attribute and a phrase of the reason).
struct Case {
    what: &'static str,
    edit: fn(String) -> String,
    attribute: &'static str,
    reason: &'static str,
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(String) -> String {
    move |s: String| {
        assert!(s.contains(from), "case edit {from:?} does not apply");
        s.replace(from, to)
    }
}

macro_rules! case {
    ($what:expr, $from:expr => $to:expr, $attr:expr, $reason:expr) => {
        Case {
            what: $what,
            edit: |s| replace($from, $to)(s),
            attribute: $attr,
            reason: $reason,
        }
    };
}

const EXTRA: &str = "  # extra\n";

fn cases() -> Vec<Case> {
    vec![
        case!("name with a space", "name          = \"seed\"" => "name          = \"has space\"", "name", "cannot name the function"),
        case!("name too long", "name          = \"seed\"" => "name          = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "name", "60 characters long"),
        case!("bucket with capitals", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"Seed-Bucket\"", "bucket_name", "only lowercase letters"),
        case!("bucket like an IP", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"192.168.10.20\"", "bucket_name", "IP address"),
        case!("bucket with xn-- prefix", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"xn--seed\"", "bucket_name", "reserved"),
        case!("bucket too short", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"ab\"", "bucket_name", "3 to 63 characters"),
        case!("bucket with two dots", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"seed..bucket\"", "bucket_name", "two dots"),
        case!("bucket with -s3alias suffix", "bucket_name   = \"seed-bucket\"" => "bucket_name   = \"seed-s3alias\"", "bucket_name", "reserved"),
        case!("deprecated runtime", "runtime     = \"python3.12\"" => "runtime     = \"python3.8\"", "runtime", "use \"python3.13\" instead"),
        case!("unknown runtime", "runtime     = \"python3.12\"" => "runtime     = \"cobol85\"", "runtime", "not a Lambda runtime"),
        case!("handler file missing", "handler     = \"app.handler\"" => "handler     = \"main.handler\"", "handler", "main.py"),
        case!("handler without function", "handler     = \"app.handler\"" => "handler     = \"handler\"", "handler", "<module>.<function>"),
        case!("handler function the module does not define", "handler     = \"app.handler\"" => "handler     = \"app.process\"", "handler", "app.py has no top-level `process`, so Lambda would fail on the first event. The functions it defines at top level: `handler` (other names: `json`)."),
        case!("handler written as the file name", "handler     = \"app.handler\"" => "handler     = \"app.py\"", "handler", "names the file app.py; a handler is `<module>.<function>`: the module without its extension, then the function. Did you mean \"app.handler\"?"),
        case!("source dir missing", "source_dir  = \"${path.module}/app\"" => "source_dir  = \"${path.module}/nope\"", "source_dir", "does not exist"),
        case!("source dir is a file", "source_dir  = \"${path.module}/app\"" => "source_dir  = \"${path.module}/app/app.py\"", "source_dir", "not a directory"),
        case!("source dir empty", "source_dir  = \"${path.module}/app\"" => "source_dir  = \"${path.module}/empty\"", "source_dir", "no files"),
        case!("memory too small", "memory_size = 512" => "memory_size = 64", "memory_size", "between 128 and 10240"),
        case!("memory too large", "memory_size = 512" => "memory_size = 10241", "memory_size", "between 128 and 10240"),
        case!("timeout zero", "timeout     = 60" => "timeout     = 0", "timeout", "between 1 and 900"),
        case!("timeout too long", "timeout     = 60" => "timeout     = 901", "timeout", "between 1 and 900"),
        case!("unknown architecture", "memory_size = 512" => "memory_size = 512\n    architecture = \"arm\"", "architecture", "not one of"),
        case!("reserved environment variable", "memory_size = 512" => "memory_size = 512\n    environment = { AWS_REGION = \"eu-west-1\" }", "environment", "Lambda sets AWS_REGION itself"),
        case!("malformed environment name", "memory_size = 512" => "memory_size = 512\n    environment = { \"1BAD\" = \"x\" }", "environment", "must start with a letter"),
        case!("environment too large", "memory_size = 512" => "memory_size = 512\n    environment = { BIG = join(\"\", [for i in range(1000) : \"xxxxx\"]) }", "environment", "4096 bytes"),
        case!("unknown event type", "events        = [\"s3:ObjectCreated:*\"]" => "events        = [\"s3:ObjectMade:*\"]", "events", "not an S3 event type"),
        case!("no events", "events        = [\"s3:ObjectCreated:*\"]" => "events        = []", "events", "at least one S3 event type"),
        case!("overlapping triggers", EXTRA => "  trigger {\n    filter_prefix = \"data/in/\"\n    filter_suffix = \".json\"\n  }\n", "trigger", "ambiguously defined"),
        case!("output re-triggers the function", EXTRA => "  output_prefix = \"data/results/\"\n", "output_prefix", "in a loop"),
        case!("reserved tag key", EXTRA => "  tags = { \"eventpipe:owner\" = \"me\" }\n", "tags", "provider's own"),
        case!("description too long", "memory_size = 512" => "memory_size = 512\n    description = join(\"\", [for i in range(300) : \"d\"])", "description", "between 0 and 256"),
        case!("retention CloudWatch does not accept", EXTRA => "  logs {\n    retention_in_days = 8\n  }\n", "retention_in_days", "not a retention CloudWatch Logs accepts"),
        case!("log level with text logs", EXTRA => "  logs {\n    format                = \"Text\"\n    application_log_level = \"INFO\"\n  }\n", "application_log_level", "only for JSON logs"),
        case!("system log level with text logs", EXTRA => "  logs {\n    system_log_level = \"WARN\"\n  }\n", "system_log_level", "only for JSON logs"),
        case!("unknown log format", EXTRA => "  logs {\n    format = \"XML\"\n  }\n", "format", "not one of"),
        case!("three retries", EXTRA => "  on_failure {\n    maximum_retry_attempts = 3\n  }\n", "maximum_retry_attempts", "between 0 and 2"),
        case!("event age too short", EXTRA => "  on_failure {\n    maximum_event_age = 59\n  }\n", "maximum_event_age", "between 60 and 21600"),
        case!("event age too long", EXTRA => "  on_failure {\n    maximum_event_age = 21601\n  }\n", "maximum_event_age", "between 60 and 21600"),
        case!("malformed failure queue ARN", EXTRA => "  on_failure {\n    queue_arn = \"arn:aws:sns:us-east-1:123456789012:topic\"\n  }\n", "queue_arn", "not an SQS queue ARN"),
        case!("malformed layer ARN", "memory_size = 512" => "memory_size = 512\n    layers = [\"arn:aws:lambda:us-east-1:123456789012:function:deps\"]", "layers", "not a layer version ARN"),
        case!("six layers", "memory_size = 512" => "memory_size = 512\n    layers = [for i in range(6) : \"arn:aws:lambda:us-east-1:123456789012:layer:l${i}:1\"]", "layers", "at most 5 layers"),
        case!("ephemeral storage too small", "memory_size = 512" => "memory_size = 512\n    ephemeral_storage = 256", "ephemeral_storage", "between 512 and 10240"),
        case!("negative reserved concurrency", "memory_size = 512" => "memory_size = 512\n    reserved_concurrency = -1", "reserved_concurrency", "between 0 and 100000"),
        // Streams and queue delivery.
        case!("queue batch size zero", EXTRA => "  delivery = \"queue\"\n  queue {\n    batch_size = 0\n  }\n", "queue.batch_size", "between 1 and 10000"),
        case!("queue batch size too large", EXTRA => "  delivery = \"queue\"\n  queue {\n    batch_size              = 10001\n    maximum_batching_window = 5\n  }\n", "queue.batch_size", "between 1 and 10000"),
        case!("stream batch size too large", EXTRA => "  stream {\n    batch_size = 10001\n  }\n", "stream.batch_size", "between 1 and 10000"),
        case!("queue batch above 10 without a window", EXTRA => "  delivery = \"queue\"\n  queue {\n    batch_size = 11\n  }\n", "batch_size", "needs maximum_batching_window of at least 1 second"),
        case!("visibility timeout below the function timeout", EXTRA => "  delivery = \"queue\"\n  queue {\n    visibility_timeout = 30\n  }\n", "visibility_timeout", "delivered again while still being processed"),
        case!("parallelization factor of 11", EXTRA => "  stream {\n    parallelization_factor = 11\n  }\n", "stream.parallelization_factor", "between 1 and 10"),
        case!("stream arn of a queue", EXTRA => "  stream {\n    arn = \"arn:aws:sqs:us-east-1:123456789012:q\"\n  }\n", "stream.arn", "not a Kinesis stream ARN"),
        case!("stream arn malformed", EXTRA => "  stream {\n    arn = \"clicks\"\n  }\n", "stream.arn", "not a Kinesis stream ARN"),
        case!("stream retention too short", EXTRA => "  stream {\n    retention_period = 23\n  }\n", "stream.retention_period", "between 24 and 8760"),
        case!("stream record age too short", EXTRA => "  stream {\n    maximum_record_age = 30\n  }\n", "stream.maximum_record_age", "between 60 and 604800"),
        case!("stream retries too many", EXTRA => "  stream {\n    maximum_retry_attempts = 10001\n  }\n", "stream.maximum_retry_attempts", "between -1 and 10000"),
        case!("unknown starting position", EXTRA => "  stream {\n    starting_position = \"AT_TIMESTAMP\"\n  }\n", "stream.starting_position", "not one of"),
        case!("queue concurrency of 1", EXTRA => "  delivery = \"queue\"\n  queue {\n    maximum_concurrency = 1\n  }\n", "queue.maximum_concurrency", "between 2 and 1000"),
        case!("unknown delivery", EXTRA => "  delivery = \"sqs\"\n", "delivery", "not one of"),
        case!("overlapping triggers with queue delivery", EXTRA => "  delivery = \"queue\"\n  trigger {\n    filter_prefix = \"data/in/\"\n    filter_suffix = \".json\"\n  }\n", "trigger", "ambiguously defined"),
        case!("output re-triggers with queue delivery", EXTRA => "  delivery = \"queue\"\n  output_prefix = \"data/results/\"\n", "output_prefix", "in a loop"),
        case!("provider region malformed", "region       = \"us-east-1\"" => "region       = \"Europe\"", "region", "not a region name"),
        case!("provider endpoint without scheme", "endpoint_url = \"http://" => "endpoint_url = \"", "endpoint_url", "not an http:// or https:// URL"),
        case!("provider registry over plain HTTP off loopback", "  secret_key   = \"test\"\n" => "  secret_key   = \"test\"\n  endpoints {\n    ecr_registry = \"http://registry.example.com:5000\"\n  }\n", "ecr_registry", "not a loopback address; use https://"),
        case!("provider registry with a path", "  secret_key   = \"test\"\n" => "  secret_key   = \"test\"\n  endpoints {\n    ecr_registry = \"https://registry.example.com/v2/app\"\n  }\n", "ecr_registry", "has a path"),
        case!("provider key without secret", "  secret_key   = \"test\"\n" => "", "secret_key", "must be set together"),
    ]
}

#[test]
fn each_mistake_is_refused_at_plan_naming_the_attribute_and_nothing_is_created() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let good = format!(
        "{}{}",
        provider_hcl(&moto),
        seed_resource("seed", "seed-bucket", EXTRA)
    );
    let ws = workspace_with(&tf, &good);
    ws.write("empty/.keep-dir", "").unwrap();
    ws.remove("empty/.keep-dir").unwrap();
    ws.init().unwrap();
    // The unedited configuration plans cleanly, so every failure below is
    // the edit's doing.
    ws.plan(&[]).unwrap();

    let cases = cases();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for case in &cases {
        ws.write("main.tf", (case.edit)(good.clone())).unwrap();
        let out = ws.run(&["plan"]).unwrap();
        // Terraform wraps long messages; compare with whitespace folded.
        let text = folded(&out.combined());
        let ok = out.code == Some(1)
            && text.contains(case.attribute)
            && text.contains(&folded(case.reason))
            && !text.contains("panic")
            && !text.contains("Plugin did not respond");
        if !ok {
            failures.push(format!(
                "--- {} (want {:?} and {:?}):\n{out}",
                case.what, case.attribute, case.reason
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_emulator_empty(&moto);
}

#[test]
fn warnings_do_not_block_the_plan() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body = seed_resource("warn", "warn-bucket", "")
        .replace(
            "    filter_prefix = \"data/\"\n    filter_suffix = \".json\"\n",
            "",
        )
        .replace("timeout     = 60", "timeout     = 600");
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.plan(&[]).unwrap();
    assert_eq!(
        out.combined()
            .matches("Trigger matches every object")
            .count(),
        1,
        "the warning is shown once:\n{out}"
    );
    assert!(out.contains("Long timeout"), "{out}");
    assert!(out.contains("Plan: 1 to add"), "{out}");
}

#[test]
fn secrets_never_reach_logs_or_errors_even_at_trace() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    // An apply that fails half-way: the role's name is taken by a role that
    // is not ours.
    let aws = moto.aws().unwrap();
    aws.block_on(
        aws.iam()
            .create_role()
            .role_name("sec-role")
            .assume_role_policy_document("{}")
            .send(),
    )
    .unwrap();
    let body = seed_resource("sec", "sec-bucket", "").replace(
        "memory_size = 512",
        "memory_size = 512\n    environment = { API_TOKEN = \"tok-4b1d-very-secret\" }",
    );
    let provider = provider_hcl(&moto).replace(
        "secret_key   = \"test\"",
        "secret_key   = \"sk-9f8e-also-secret\"",
    );
    let mut ws = workspace_with(&tf, &format!("{provider}{body}"));
    ws.env("TF_LOG", "trace");
    ws.init().unwrap();
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.contains("not managed by pipeline"), "{out}");
    let text = out.combined();
    assert!(
        text.contains("provider.terraform-provider-eventpipe"),
        "provider logs were captured"
    );
    for secret in ["tok-4b1d-very-secret", "sk-9f8e-also-secret"] {
        assert!(!text.contains(secret), "{secret} leaked into the output");
    }
}

#[test]
fn a_queue_block_without_queue_delivery_is_pointed_out_but_not_refused() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    // `delivery` not set: direct, its default.
    let body = seed_resource(
        "warnq",
        "warnq-bucket",
        "  queue {\n    batch_size = 5\n  }\n",
    );
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.validate().unwrap();
    assert!(
        out.contains("Queue settings without queue delivery"),
        "{out}"
    );
    let out = ws.plan(&[]).unwrap();
    assert!(out.contains("Plan: 1 to add"), "{out}");
}

/// One diagnostic of `terraform plan -json`: its severity, summary, detail,
/// the resource it is about and the configuration line it points at (the
/// attribute's line, when the provider named an attribute).
#[derive(Debug)]
struct JsonDiag {
    severity: String,
    summary: String,
    detail: String,
    address: String,
    code: String,
}

fn json_diags(out: &Output) -> Vec<JsonDiag> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["type"] == "diagnostic")
        .map(|m| {
            let d = &m["diagnostic"];
            let s = |v: &serde_json::Value| folded(v.as_str().unwrap_or(""));
            JsonDiag {
                severity: s(&d["severity"]),
                summary: s(&d["summary"]),
                detail: s(&d["detail"]),
                address: s(&d["address"]),
                code: s(&d["snippet"]["code"]),
            }
        })
        .collect()
}

/// The diagnostics of `severity` about `eventpipe_event_pipeline.<name>`.
fn diags_of<'a>(all: &'a [JsonDiag], severity: &str, name: &str) -> Vec<&'a JsonDiag> {
    let address = format!("eventpipe_event_pipeline.{name}");
    all.iter()
        .filter(|d| d.severity == severity && d.address == address)
        .collect()
}

/// Exactly one diagnostic of `severity` about `name`; its detail holds
/// `words` and it points at the configuration line of `attribute`.
fn assert_one(all: &[JsonDiag], severity: &str, name: &str, attribute: &str, words: &str) {
    let mine = diags_of(all, severity, name);
    assert_eq!(mine.len(), 1, "{name}: one {severity} expected: {all:#?}");
    let d = mine[0];
    assert!(
        d.detail.contains(&folded(words)),
        "{name}: {words:?} expected in {d:#?}"
    );
    assert!(
        d.code.trim_start().starts_with(attribute),
        "{name}: the {severity} should point at {attribute}: {d:#?}"
    );
}

#[test]
fn trigger_filter_warnings_are_shown_once_per_trigger() {
    for tf in clis() {
        trigger_filter_warnings_once(&tf);
    }
}

fn trigger_filter_warnings_once(tf: &tests::TerraformCli) {
    let moto = Moto::start().unwrap();
    let body = Pipeline::seed("filt", "filt-bucket")
        .triggers(&[
            trigger_hcl(&["s3:ObjectCreated:*"], Some("/data/"), Some("json")),
            trigger_hcl(&["s3:ObjectCreated:*"], Some("/logs/"), Some(".log")),
        ])
        .hcl();
    let ws = workspace(tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    let all = json_diags(&out);
    let slash: Vec<&JsonDiag> = all
        .iter()
        .filter(|d| d.summary == "Prefix starts with a slash")
        .collect();
    assert_eq!(slash.len(), 2, "once per trigger: {all:#?}");
    assert!(slash[0].detail.contains("\"/data/\"") != slash[1].detail.contains("\"/data/\""));
    for d in &slash {
        assert!(d.code.contains("filter_prefix"), "{d:#?}");
    }
    let dot: Vec<&JsonDiag> = all
        .iter()
        .filter(|d| d.summary == "Suffix without a dot")
        .collect();
    assert_eq!(dot.len(), 1, "only the suffix without a dot: {all:#?}");
    assert!(
        dot[0]
            .detail
            .contains("also `…myjson`. Did you mean `.json`?"),
        "{:#?}",
        dot[0]
    );
    assert!(
        dot[0].code.contains("filter_suffix = \"json\""),
        "{:#?}",
        dot[0]
    );
    // The human output too, where Terraform folds warnings with the same
    // summary: the slash's two (one per trigger) and nothing more.
    let out = ws.plan(&[]).unwrap();
    let text = folded(&out.combined());
    assert_eq!(text.matches("Suffix without a dot").count(), 1, "{out}");
    assert_eq!(
        text.matches("more similar warning").count(),
        1,
        "only the slash's second warning is folded: {out}"
    );
    assert!(
        text.contains("(and one more similar warning elsewhere)"),
        "{out}"
    );
    assert!(out.contains("Plan: 1 to add"), "{out}");
    // `apply` validates and plans in three walks: still once per trigger.
    let out = ws.run(&["apply", "-auto-approve", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    let all = json_diags(&out);
    let count = |summary: &str| all.iter().filter(|d| d.summary == summary).count();
    assert_eq!(count("Prefix starts with a slash"), 2, "{all:#?}");
    assert_eq!(count("Suffix without a dot"), 1, "{all:#?}");
    destroy_and_assert_empty(&ws, &moto);
}

/// The smallest zip: an empty archive (for functions made by hand).
fn empty_zip() -> Vec<u8> {
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    zip
}

#[test]
fn names_already_taken_are_refused_at_plan_and_nothing_is_created() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    let aws = moto.aws().unwrap();
    // In this account: a bucket made by hand, and one of another pipeline.
    aws.create_bucket("tk-here").unwrap();
    aws.create_bucket_then_tag("tk-theirs", &[("eventpipe:pipeline", "someone-else")])
        .unwrap();
    // Another account's bucket: S3 answers HeadBucket with 403.
    proxy.add_rule(
        Rule::on("s3:HeadBucket")
            .containing("tk-foreign")
            .fail(Fault::AccessDenied),
    );
    // A function made by hand.
    let hw = HandWired::named("tkhw");
    hw.wire(&aws, &empty_zip()).unwrap();
    // Left by an interrupted apply of tk5: its own bucket, tagged as its.
    aws.create_bucket_then_tag("tk5-bkt", &[("eventpipe:pipeline", "tk5")])
        .unwrap();
    let before = aws.list_everything().unwrap();

    let provider = ProviderBlock::new(&proxy.endpoint()).hcl();
    let taken = [
        Pipeline::seed("tk1", "tk-here").hcl(),
        Pipeline::seed("tk2", "tk-foreign").hcl(),
        Pipeline::seed("tk3", "tk3-bkt")
            .extra(&format!("  function_name = \"{}\"\n", hw.function))
            .hcl(),
        Pipeline::seed("tk4", "tk-theirs").hcl(),
    ]
    .concat();
    let ws = workspace_with(&tf, &format!("{provider}{taken}"));
    ws.init().unwrap();
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    let all = json_diags(&out);
    assert_one(
        &all,
        "error",
        "tk1",
        "bucket_name",
        "Bucket \"tk-here\" exists in this account (it has no eventpipe:pipeline tag): set \
         `create_bucket = false` to attach to it, or import it",
    );
    assert_one(
        &all,
        "error",
        "tk2",
        "bucket_name",
        "Bucket \"tk-foreign\" exists: owned by another account",
    );
    assert_one(
        &all,
        "error",
        "tk3",
        "function_name",
        &format!(
            "Lambda function \"{0}\" already exists and is not managed by eventpipe (it has no \
             eventpipe:pipeline tag). To take over a pipeline wired by hand, import it: \
             `terraform import <address> adopt:{0}`",
            hw.function
        ),
    );
    assert_one(
        &all,
        "error",
        "tk4",
        "bucket_name",
        "Bucket \"tk-theirs\" exists in this account (its eventpipe:pipeline tag names \
         pipeline \"someone-else\")",
    );
    // The same in the human output, with the resource named.
    let out = ws.run(&["plan"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.contains("Error: Function already exists"), "{out}");
    assert_eq!(
        aws.list_everything().unwrap(),
        before,
        "nothing was created and the existing parts are as they were"
    );

    // A bucket and a function tagged as this pipeline's (left by an
    // interrupted apply) are adopted, as before.
    let own = Pipeline::seed("tk5", "tk5-bkt").hcl();
    ws.write("main.tf", format!("{provider}{own}")).unwrap();
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    assert!(diags_of(&json_diags(&out), "error", "tk5").is_empty());
    ws.apply_auto().unwrap();
    assert_eq!(
        aws.bucket_tags("tk5-bkt")
            .unwrap()
            .get("eventpipe:pipeline"),
        Some(&"tk5".to_owned())
    );
    assert!(aws.function_names().unwrap().contains(&"tk5".to_owned()));
    ws.destroy_auto().unwrap();
    assert!(!aws.bucket_names().unwrap().contains(&"tk5-bkt".to_owned()));
}

#[test]
fn reserved_concurrency_is_checked_against_the_account_at_plan() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    let provider = ProviderBlock::new(&proxy.endpoint()).hcl();
    let with = |n: u32| {
        let body = Pipeline::seed("rc", "rc-bucket").hcl().replace(
            "memory_size = 512",
            &format!("memory_size = 512\n    reserved_concurrency = {n}"),
        );
        format!("{provider}{body}")
    };
    let ws = workspace_with(&tf, &with(850));
    ws.init().unwrap();
    // An account of 1000 with 900 unreserved, as Lambda answers it.
    proxy.answer_account_settings(Some(AccountLimits {
        concurrent_executions: 1000,
        unreserved_concurrent_executions: 900,
    }));
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    let all = json_diags(&out);
    assert_one(
        &all,
        "error",
        "rc",
        "reserved_concurrency",
        "reserved_concurrency = 850 would leave the account 50 unreserved concurrent executions \
         (it has 900 unreserved now), and Lambda keeps at least 100 for functions without a \
         reservation (UnreservedConcurrentExecutions, from GetAccountSettings). At most 800 can \
         be reserved now",
    );
    assert!(proxy.count("lambda:GetAccountSettings") >= 1);

    // 800 leaves exactly 100.
    ws.write("main.tf", with(800)).unwrap();
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        diags_of(&json_diags(&out), "warning", "rc").is_empty(),
        "{out}"
    );

    // moto answers GetAccountSettings with 404: not checked, a warning.
    proxy.answer_account_settings(None);
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    let all = json_diags(&out);
    assert_one(
        &all,
        "warning",
        "rc",
        "reserved_concurrency",
        "The plan could not check reserved_concurrency against the account's unreserved \
         concurrency (lambda:GetAccountSettings:",
    );

    // Denied: a warning that names the permission; the plan succeeds.
    proxy.add_rule(Rule::on("lambda:GetAccountSettings").fail(Fault::AccessDenied));
    let out = ws.run(&["plan", "-json"]).unwrap();
    assert_eq!(out.code, Some(0), "{out}");
    let all = json_diags(&out);
    assert_one(
        &all,
        "warning",
        "rc",
        "reserved_concurrency",
        "the provider's credentials lack lambda:GetAccountSettings",
    );
    assert!(
        diags_of(&all, "warning", "rc")[0].summary
            == "Could not check at plan: lambda:GetAccountSettings denied"
    );
    assert_emulator_empty(&moto);
}

#[test]
fn eventpipe_package_refuses_an_unknown_runtime_in_one_line() {
    let bin = tests::provider_bin::provider_binary().expect("provider binary");
    let cli = bin.with_file_name("eventpipe");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), APP_PY).unwrap();
    let zip = dir.path().join("out.zip");
    let run = Command::new(&cli)
        .args(["package", "--source-dir"])
        .arg(dir.path())
        .args(["--runtime", "python9", "-o"])
        .arg(&zip)
        .output()
        .expect("run eventpipe package");
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with(
            "eventpipe package: unknown runtime \"python9\"; the runtimes it knows are python3.14, \
             python3.13,"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("nodejs22.x") && stderr.contains("python2.7"),
        "{stderr}"
    );
    assert!(run.stdout.is_empty());
    assert!(!zip.exists(), "nothing is written");
    // The help documents the exit status.
    let help = Command::new(&cli)
        .args(["package", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("2   usage error, among them a --runtime"),
        "{help}"
    );
}
