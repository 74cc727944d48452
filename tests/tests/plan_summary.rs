//! `eventpipe plan-summary` on real plans, from both Terraform CLIs against
//! the emulator: the review a pull request gets. The plans are made by
//! `examples/ci/plan-review.sh`, the script the CI example runs, so the
//! commands the workflow uses are the ones tested here.
//!
//! The Markdown of each case is compared with a golden file under
//! `tests/golden/plan-summary/<cli-version>/`, reviewed by hand. Only what
//! varies per run is normalised (account ids, content hashes). Run with
//! `UPDATE_GOLDEN=1` to rewrite them, then read the diff.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value as Json;
use tests::{Aws, Moto, TerraformCli, Workspace};

/// The function's environment value, which no summary may show.
const SECRET: &str = "s3cr3t-plan-review-7f3c9a";
const MODULE_DIR: &str = "modules/review";
const ADDRESS: &str = "module.review.eventpipe_event_pipeline.this";
const EDITED_APP_PY: &str = "import json\n\n\ndef handler(event, context):\n    \
records = event.get(\"Records\", [])\n    return {\"processed\": len(records), \"v\": 2}\n";
const HELPERS_PY: &str = "def double(x):\n    return 2 * x\n";

fn script() -> PathBuf {
    repo_path("examples/ci/plan-review.sh")
}

/// The pipeline, in a module so its address has one.
fn module_hcl(name: &str, memory: u32, triggers: &[String]) -> String {
    format!(
        r#"{providers}
resource "eventpipe_event_pipeline" "this" {{
  name          = "{name}"
  bucket_name   = "review-bucket"
  force_destroy = true
  require_tls   = false

  function {{
    source_dir  = "${{path.module}}/app"
    handler     = "app.handler"
    runtime     = "python3.12"
    timeout     = 60
    memory_size = {memory}
    environment = {{
      API_KEY = "{SECRET}"
    }}
  }}

{triggers}}}
"#,
        providers = tests::mirror::required_providers_hcl(),
        triggers = triggers.join("\n"),
    )
}

fn root_hcl(moto: &Moto, with_module: bool) -> String {
    let module = if with_module {
        format!("\nmodule \"review\" {{\n  source = \"./{MODULE_DIR}\"\n}}\n")
    } else {
        String::new()
    };
    format!("{}{module}", provider_hcl(moto))
}

fn write_module(ws: &Workspace, name: &str, memory: u32, triggers: &[String]) {
    ws.write(
        &format!("{MODULE_DIR}/main.tf"),
        module_hcl(name, memory, triggers),
    )
    .expect("module main.tf");
}

struct Review {
    status: Option<i32>,
    output: String,
    markdown: String,
    plan_json: String,
    plan_log: String,
}

/// Runs the CI script in the workspace, as the workflow does (it gates on
/// iam-widening).
fn review(ws: &Workspace) -> Review {
    let out = ws
        .run_program(
            Path::new("/bin/sh"),
            &[script().to_str().unwrap(), "."],
            None,
        )
        .expect("plan-review.sh runs");
    let markdown = ws.read("plan-summary.md").unwrap_or_default();
    assert_eq!(
        out.stdout.trim_end(),
        markdown.trim_end(),
        "the script prints the summary it writes"
    );
    Review {
        status: out.code,
        output: out.to_string(),
        markdown,
        plan_json: ws.read("plan.json").expect("plan.json"),
        plan_log: ws.read("plan.log").expect("plan.log"),
    }
}

/// `eventpipe plan-summary ARGS` in the workspace.
fn summary(ws: &Workspace, args: &[&str]) -> tests::Output {
    let mut all = vec!["plan-summary"];
    all.extend_from_slice(args);
    ws.run_program(&tests::tools::eventpipe_cli(), &all, None)
        .expect("eventpipe runs")
}

/// Replaces what differs between runs with placeholders: 64-hex hashes,
/// 12-digit account ids and KMS key ids (UUIDs).
fn normalise(text: &str) -> String {
    normalise_hashes(&normalise_key_ids(text))
}

/// `8-4-4-4-12` hex digits, as KMS names its keys, become `<KEY-ID>`.
fn normalise_key_ids(text: &str) -> String {
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let end = i + 36;
        let ends = end == bytes.len() || (end < bytes.len() && !bytes[end].is_ascii_alphanumeric());
        if boundary && end <= bytes.len() && ends && is_uuid(&bytes[i..end]) {
            out.push_str("<KEY-ID>");
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn normalise_hashes(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run_end = |pred: fn(&char) -> bool| {
            let mut j = i;
            while j < chars.len() && pred(&chars[j]) {
                j += 1;
            }
            j
        };
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let hex_end = run_end(|c| c.is_ascii_hexdigit());
        let digit_end = run_end(char::is_ascii_digit);
        let ends_word = |j: usize| j == chars.len() || !chars[j].is_ascii_alphanumeric();
        if boundary && hex_end - i == 64 && ends_word(hex_end) {
            out.push_str("<HASH>");
            i = hex_end;
        } else if boundary && digit_end - i == 12 && ends_word(digit_end) {
            out.push_str("<ACCOUNT>");
            i = digit_end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn golden(tf: &TerraformCli, case: &str, markdown: &str) {
    let path = repo_path(&format!("tests/golden/plan-summary/{}/{case}.md", tf.label));
    let got = normalise(markdown);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to write it, then review it",
            path.display()
        )
    });
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "{} differs from the summary at line {}:\n  golden: {:?}\n  got:    {:?}\n\
             whole summary:\n{got}\n(UPDATE_GOLDEN=1 rewrites the golden files)",
            path.display(),
            first + 1,
            want.lines().nth(first),
            got.lines().nth(first)
        );
    }
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret:\n{text}");
}

/// `sha256sum`'s first 12 hex digits: what `source_files` should record.
fn sha256_12(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)[..12].to_owned()
}

fn pipeline_state(ws: &Workspace) -> Json {
    let show = ws.show_json().expect("show -json");
    show["values"]["root_module"]["child_modules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["resources"].as_array().cloned().unwrap_or_default())
        .find(|r| r["address"] == ADDRESS)
        .map(|r| r["values"].clone())
        .unwrap_or_else(|| panic!("{ADDRESS} not in the state: {show}"))
}

fn one_cli(tf: &TerraformCli, moto: &Moto) {
    let label = &tf.label;
    let mut ws = Workspace::new(tf).expect("workspace");
    ws.env("EVENTPIPE", tests::tools::eventpipe_cli());
    ws.write(&format!("{MODULE_DIR}/app/app.py"), APP_PY)
        .unwrap();
    ws.write(&format!("{MODULE_DIR}/app/helpers.py"), HELPERS_PY)
        .unwrap();
    ws.write("main.tf", root_hcl(moto, true)).unwrap();
    let data = trigger_hcl(&["s3:ObjectCreated:*"], Some("data/"), None);
    write_module(&ws, "review", 512, std::slice::from_ref(&data));
    ws.init().expect("init");
    ws.apply_auto().expect("apply");

    // The state lists each file by the start of its SHA-256.
    let st = pipeline_state(&ws);
    let app_dir = ws.dir().join(MODULE_DIR).join("app");
    assert_eq!(
        st["source_files"]["app.py"],
        sha256_12(&app_dir.join("app.py")),
        "{label}: {st}"
    );
    assert_eq!(
        st["source_files"]["helpers.py"],
        sha256_12(&app_dir.join("helpers.py"))
    );
    assert_eq!(st["source_file_count"], 2);

    // The change under review: more memory, one file edited, the trigger
    // moved from data/ to incoming/, and a second trigger.
    ws.write(&format!("{MODULE_DIR}/app/app.py"), EDITED_APP_PY)
        .unwrap();
    let incoming = trigger_hcl(&["s3:ObjectCreated:*"], Some("incoming/"), None);
    let reports = trigger_hcl(
        &["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"],
        Some("reports/"),
        Some(".csv"),
    );
    write_module(&ws, "review", 1024, &[incoming.clone(), reports.clone()]);
    let r = review(&ws);
    assert!(
        r.plan_json.contains(SECRET),
        "{label}: the plan holds the secret, so the summary could leak it"
    );
    assert_eq!(
        r.status,
        Some(11),
        "{label}: the moved prefix widens IAM (--fail-on iam-widening)\n{}",
        r.output
    );
    // `terraform plan` itself names the file that changed.
    assert!(
        r.plan_log.contains("source_files"),
        "{label}: {}",
        r.plan_log
    );
    assert!(r.plan_log.contains("\"app.py\""), "{label}: {}", r.plan_log);
    let md = &r.markdown;
    assert_no_secret("the Markdown summary", md);
    for want in [
        &format!("### `{ADDRESS}` (`review`): update in place"),
        "resource removed `arn:aws:s3:::review-bucket/data/*`",
        "resource added `arn:aws:s3:::review-bucket/incoming/*`",
        "| `function.memory_size` | `512` | `1024` |",
        "modified `app.py`",
        "trigger 1 changed: events `s3:ObjectCreated:*`; prefix `data/` → `incoming/`",
        "trigger 2 added: events `s3:ObjectCreated:Put`, `s3:ObjectRemoved:*`; prefix \
         `reports/`; suffix `.csv`",
    ] {
        assert!(md.contains(want), "{label}: {want:?} not in\n{md}");
    }
    assert!(
        !md.contains("helpers.py"),
        "{label}: an unchanged file is listed\n{md}"
    );
    golden(tf, "update", md);

    // --fail-on iam-change: its own status, and the summary still printed.
    let gate = summary(&ws, &["--fail-on", "iam-change", "plan.json"]);
    assert_eq!(gate.code, Some(10), "{label}: {gate}");
    assert_eq!(gate.stdout.trim_end(), md.trim_end(), "{label}");
    // The section ends with the pipeline's picture; --no-diagram leaves
    // out that and nothing else.
    let picture = md
        .find("\n```mermaid\nflowchart LR\n")
        .expect("a flowchart");
    assert!(
        md.contains("  func(\"~ function review<br/>python3.12\")\n"),
        "{label}: {md}"
    );
    let plain = summary(&ws, &["--no-diagram", "plan.json"]);
    assert_eq!(plain.code, Some(0), "{label}: {plain}");
    assert_eq!(plain.stdout.trim_end(), md[..picture].trim_end(), "{label}");
    let text = ws
        .run_program(
            &tests::tools::eventpipe_cli(),
            &["plan-summary", "--format", "text", "-"],
            Some(r.plan_json.as_bytes()),
        )
        .expect("eventpipe runs");
    assert_eq!(text.code, Some(0), "{label}: {text}");
    assert!(
        text.stdout.contains("function.memory_size: 512 → 1024"),
        "{text}"
    );
    assert_no_secret("the text summary", &text.stdout);

    // A rename updates the pipeline in place: its function and role take
    // their names from `name`, so new ones are made under the new name.
    write_module(&ws, "review-renamed", 512, std::slice::from_ref(&data));
    ws.write(&format!("{MODULE_DIR}/app/app.py"), APP_PY)
        .unwrap();
    let r = review(&ws);
    let md = &r.markdown;
    assert!(
        md.contains(&format!("### `{ADDRESS}` (`review-renamed`): update")),
        "{label}: {md}"
    );
    assert!(!md.contains("replace (forced by"), "{label}: {md}");
    assert!(
        md.contains("the function review is replaced by review-renamed")
            && md.contains("the role review-role is replaced by review-renamed-role"),
        "{label}: {md}"
    );
    assert_no_secret("the rename summary", md);
    golden(tf, "rename", md);
    let gate = summary(&ws, &["--fail-on", "replace", "plan.json"]);
    assert_eq!(gate.code, Some(0), "{label}: {gate}");

    // An import block (1.5+) of the pipeline the state forgot: an import.
    write_module(&ws, "review", 512, std::slice::from_ref(&data));
    if tf.at_least(1, 5) {
        ws.run_ok(&["state", "rm", ADDRESS]).expect("state rm");
        let import = format!("\nimport {{\n  to = {ADDRESS}\n  id = \"review\"\n}}\n");
        ws.write("main.tf", format!("{}{import}", root_hcl(moto, true)))
            .unwrap();
        let r = review(&ws);
        let md = &r.markdown;
        assert_eq!(
            r.status,
            Some(0),
            "{label}: an import widens nothing\n{}",
            r.output
        );
        assert!(
            md.contains(&format!("### `{ADDRESS}` (`review`): import `review`")),
            "{label}: {md}"
        );
        assert!(md.contains("1 to import"), "{label}: {md}");
        assert_no_secret("the import summary", md);
        golden(tf, "import", md);
        ws.apply_auto().expect("apply the import");
        ws.write("main.tf", root_hcl(moto, true)).unwrap();
        assert_plan_empty(&ws, &format!("{label}: after the import"));
    }

    // Removing the module deletes the pipeline and its bucket's objects.
    ws.write("main.tf", root_hcl(moto, false)).unwrap();
    let r = review(&ws);
    let md = &r.markdown;
    assert_eq!(r.status, Some(0), "{label}: a delete widens nothing\n{md}");
    assert!(
        md.contains(&format!("### `{ADDRESS}` (`review`): delete")),
        "{label}: {md}"
    );
    assert!(
        md.contains(
            "bucket review-bucket is deleted, and force_destroy = true deletes every object in it"
        ),
        "{label}: {md}"
    );
    golden(tf, "delete", md);
    for (kind, status) in [("delete", 13), ("risk", 14)] {
        let gate = summary(&ws, &["--fail-on", kind, "plan.json"]);
        assert_eq!(gate.code, Some(status), "{label}: --fail-on {kind}: {gate}");
        assert!(gate.stdout.contains("force_destroy = true"), "{gate}");
    }

    ws.destroy_auto().expect("destroy");
    assert_emulator_empty(moto);
}

#[test]
fn a_reviewer_sees_iam_code_trigger_and_setting_changes_replacements_and_deletes() {
    let moto = Moto::start().expect("moto");
    for tf in clis() {
        moto.reset().expect("reset");
        one_cli(&tf, &moto);
    }
}

const LAKE: &str = "review-lake";

/// A pipeline on the existing bucket [`LAKE`], in the module.
fn lake_module_hcl() -> String {
    format!(
        r#"{providers}
resource "eventpipe_event_pipeline" "this" {{
  name          = "lake"
  bucket_name   = "{LAKE}"
  create_bucket = false
  require_tls   = false

  function {{
    source_dir = "${{path.module}}/app"
    handler    = "app.handler"
    runtime    = "python3.12"
  }}

{trigger}}}
"#,
        providers = tests::mirror::required_providers_hcl(),
        trigger = trigger_hcl(&["s3:ObjectCreated:*"], Some("raw/"), None),
    )
}

/// A customer-managed KMS key made in the emulator with an independent
/// client; its ARN.
fn create_kms_key(aws: &Aws, moto: &Moto) -> String {
    use aws_config::{BehaviorVersion, Region};
    let credentials =
        aws_sdk_kms::config::Credentials::new("test", "test", None, None, "eventpipe-tests");
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(tests::aws::REGION))
        .credentials_provider(credentials)
        .endpoint_url(moto.endpoint())
        .build();
    let kms = aws_sdk_kms::Client::from_conf(config);
    let out = aws
        .block_on(kms.create_key().description("plan-summary test").send())
        .expect("CreateKey");
    out.key_metadata()
        .and_then(|m| m.arn())
        .expect("CreateKey returns the key's ARN")
        .to_owned()
}

/// The bucket's default encryption: SSE-KMS with `key`, Bucket Keys on.
fn encrypt_bucket_with(aws: &Aws, bucket: &str, key: &str) {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(key)
        .build()
        .unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default)
        .bucket_key_enabled(true)
        .build();
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap();
    aws.block_on(
        aws.s3()
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(config)
            .send(),
    )
    .expect("PutBucketEncryption");
}

fn kms_case(tf: &TerraformCli, moto: &Moto) {
    let label = &tf.label;
    let aws = moto.aws().expect("aws");
    aws.create_bucket(LAKE).expect("the data lake bucket");
    let mut ws = Workspace::new(tf).expect("workspace");
    ws.env("EVENTPIPE", tests::tools::eventpipe_cli());
    ws.write(&format!("{MODULE_DIR}/app/app.py"), APP_PY)
        .unwrap();
    ws.write(&format!("{MODULE_DIR}/main.tf"), lake_module_hcl())
        .unwrap();
    ws.write("main.tf", root_hcl(moto, true)).unwrap();
    ws.init().expect("init");
    ws.apply_auto().expect("apply on the SSE-S3 bucket");

    // The data team switches the bucket to SSE-KMS under its own key.
    let key = create_kms_key(&aws, moto);
    let other = create_kms_key(&aws, moto);
    encrypt_bucket_with(&aws, LAKE, &key);
    let r = review(&ws);
    assert_eq!(
        r.status,
        Some(11),
        "{label}: the new key grant widens IAM (--fail-on iam-widening)\n{}",
        r.output
    );
    let md = &r.markdown;
    for want in [
        format!("### `{ADDRESS}` (`lake`): update in place"),
        format!(
            "- **widening**: `kms:Decrypt` on key `{key}` (the bucket's key: objects the \
             triggers read, via S3)"
        ),
        format!("- statement `DecryptTriggeringObjects` added: Allow `kms:Decrypt` on `{key}` if"),
        "`kms:ViaService` = `s3.us-east-1.amazonaws.com`".to_owned(),
        format!(
            "`kms:EncryptionContext:aws:s3:arn` like `arn:aws:s3:::{LAKE}` or `arn:aws:s3:::{LAKE}/raw/*`"
        ),
    ] {
        assert!(md.contains(&want), "{label}: {want:?} not in\n{md}");
    }
    assert!(!md.contains(&other), "{label}: {md}");
    golden(tf, "kms-key", md);

    // --expect-kms-key: another key is the risk status, without --fail-on;
    // the bucket's own key passes.
    let gate = summary(&ws, &["--expect-kms-key", &other, "plan.json"]);
    assert_eq!(gate.code, Some(14), "{label}: {gate}");
    assert!(
        gate.stdout.contains(&format!(
            "**risk:** bucket {LAKE} is not encrypted with the expected key {other} (found: \
             {key})"
        )),
        "{label}: {gate}"
    );
    let pass = summary(&ws, &["--expect-kms-key", &key, "plan.json"]);
    assert_eq!(pass.code, Some(0), "{label}: {pass}");
    assert!(!pass.stdout.contains("not encrypted"), "{label}: {pass}");

    // Applied, the plan is empty; the gate still holds for the unchanged
    // pipeline, through the CI script as a workflow would set it.
    ws.apply_auto().expect("apply the grant");
    assert_plan_empty(&ws, &format!("{label}: after the grant"));
    ws.env("EXPECT_KMS_KEY", &other);
    let r = review(&ws);
    assert_eq!(r.status, Some(14), "{label}: {}", r.output);
    assert!(
        r.markdown.contains(&format!(
            "**Unchanged pipelines with risk flags**\n- `{ADDRESS}` (`lake`): **risk:** bucket \
             {LAKE} is not encrypted with the expected key {other} (found: {key})"
        )),
        "{label}: {}",
        r.markdown
    );
    ws.env("EXPECT_KMS_KEY", &key);
    assert_eq!(review(&ws).status, Some(0), "{label}");

    ws.destroy_auto().expect("destroy");
    aws.block_on(aws.s3().delete_bucket().bucket(LAKE).send())
        .expect("delete the data lake bucket");
    assert_emulator_empty(moto);
}

#[test]
fn a_bucket_switched_to_a_customer_key_shows_the_key_grant_and_fails_another_expected_key() {
    let moto = Moto::start().expect("moto");
    for tf in clis() {
        moto.reset().expect("reset");
        kms_case(&tf, &moto);
    }
}

#[test]
fn malformed_input_is_one_line_on_stderr_and_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 6] = [
        ("empty", b""),
        ("not-json", b"Plan: 1 to add, 0 to change, 0 to destroy.\n"),
        (
            "truncated",
            br#"{"format_version":"1.2","planned_values":{"#,
        ),
        (
            "another-tool",
            br#"{"name":"left-pad","version":"1.3.0","dependencies":{}}"#,
        ),
        (
            "a-state",
            br#"{"format_version":"1.0","terraform_version":"1.11.4","values":{"root_module":{}}}"#,
        ),
        ("binary", &[0xff, 0xfe, 0x00, 0x7b, 0x22, 0x80]),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        for from_stdin in [false, true] {
            let mut cmd = Command::new(tests::tools::eventpipe_cli());
            cmd.arg("plan-summary");
            if from_stdin {
                cmd.arg("-").stdin(std::fs::File::open(&path).unwrap());
            } else {
                cmd.arg(&path);
            }
            let out = cmd.output().expect("eventpipe runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
            assert!(out.stdout.is_empty(), "{name}: printed a summary");
            assert_eq!(stderr.lines().count(), 1, "{name}: {stderr:?}");
            assert!(
                stderr.starts_with("eventpipe plan-summary: ") && !stderr.contains("panicked"),
                "{name}: {stderr}"
            );
        }
    }
    let missing = Command::new(tests::tools::eventpipe_cli())
        .args(["plan-summary", "/nonexistent/plan.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
    // An unknown kind is a usage error, told by clap.
    let usage = Command::new(tests::tools::eventpipe_cli())
        .args(["plan-summary", "--fail-on", "everything", "x"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn the_help_documents_every_exit_status() {
    let out = Command::new(tests::tools::eventpipe_cli())
        .args(["plan-summary", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "--no-diagram",
        "--expect-kms-key",
        "iam-change",
        "iam-widening",
        "replace",
        "delete",
        "risk",
        "10",
        "11",
        "12",
        "13",
        "14",
    ] {
        assert!(help.contains(want), "{want} not in\n{help}");
    }
}

#[test]
fn the_ci_workflow_runs_the_tested_script_and_gates_on_widening() {
    let workflow = repo_file("examples/ci/github-actions.yml");
    let script = repo_file("examples/ci/plan-review.sh");
    assert!(
        workflow.contains("examples/ci/plan-review.sh"),
        "{workflow}"
    );
    assert!(workflow.contains("gh pr comment"), "{workflow}");
    for step in [
        "init -input=false",
        "plan -input=false -no-color -out=tfplan",
        "show -json tfplan",
        "plan-summary",
    ] {
        assert!(script.contains(step), "{step} not in the script");
    }
    assert!(script.contains("FAIL_ON:-iam-widening"), "{script}");
}
