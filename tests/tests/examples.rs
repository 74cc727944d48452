//! Every example applies as it is against the emulator (reached through the
//! standard AWS_ENDPOINT_URL variable), plans empty, and destroys cleanly.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use tests::{Aws, Moto, Workspace, tools};

/// Copies `examples/<name>` into the workspace root and the module next to
/// it, pointing the example's module source at the copy.
fn copy_example(ws: &Workspace, name: &str) {
    copy_dir(
        &repo_path("modules/event-pipeline"),
        &ws.dir().join("modules/event-pipeline"),
    );
    copy_dir(&repo_path(&format!("examples/{name}")), ws.dir());
    for entry in fs::read_dir(ws.dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let text = fs::read_to_string(&path).unwrap();
            fs::write(
                &path,
                text.replace("../../modules/event-pipeline", "./modules/event-pipeline"),
            )
            .unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".terraform" || name.ends_with(".tfstate") || name == "__pycache__" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Applies `example`, which makes `expect_added` pipelines, `queues` of them
/// with a failure queue (the module's default).
fn apply_plan_destroy(example: &str, expect_added: usize, queues: usize) {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let mut ws = Workspace::new(&tf).unwrap();
    ws.envs(moto.env_vars());
    copy_example(&ws, example);
    ws.init().unwrap();
    ws.validate().unwrap();
    let out = ws.apply_auto().unwrap();
    assert!(
        out.contains(&format!("Resources: {expect_added} added")),
        "{out}"
    );
    // Nothing lost by default: every pipeline has its log group, and the
    // module's a queue for failed events.
    let inv = moto.aws().unwrap().list_everything().unwrap();
    assert_eq!(inv.log_groups.len(), expect_added, "{inv}");
    assert_eq!(inv.queues.len(), queues, "{inv}");
    assert_plan_empty(&ws, &format!("{example}: the second plan must be empty"));
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_basic_example_applies_plans_empty_and_destroys() {
    apply_plan_destroy("basic", 1, 1);
}

#[test]
fn the_resource_example_applies_plans_empty_and_destroys() {
    apply_plan_destroy("resource", 1, 0);
}

#[test]
fn two_teams_use_the_module_side_by_side() {
    apply_plan_destroy("teams", 2, 2);
}

/// A workspace with `examples/<name>` copied in, talking to `moto`, with
/// `vars` as `TF_VAR_*` (the values a reader passes with `-var`).
fn example_workspace(moto: &Moto, example: &str, vars: &[(&str, &str)]) -> Workspace {
    let tf = newest_cli();
    let mut ws = Workspace::new(&tf).unwrap();
    ws.envs(moto.env_vars());
    for (name, value) in vars {
        ws.env(format!("TF_VAR_{name}"), *value);
    }
    copy_example(&ws, example);
    ws
}

/// Log streams moto has written for `function`: one per delivered
/// notification.
fn deliveries(aws: &Aws, function: &str) -> usize {
    aws.log_stream_names(&format!("/aws/lambda/{function}"))
        .unwrap()
        .len()
}

fn object_keys(aws: &Aws, bucket: &str) -> Vec<String> {
    let listed = aws
        .block_on(aws.s3().list_objects_v2().bucket(bucket).send())
        .expect("list objects");
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

fn bucket_tags(aws: &Aws, bucket: &str) -> Vec<(String, String)> {
    let out = aws
        .block_on(aws.s3().get_bucket_tagging().bucket(bucket).send())
        .expect("bucket tags");
    out.tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

mod existing_bucket {
    use aws_sdk_s3::types::{
        Event, NotificationConfiguration, PublicAccessBlockConfiguration, QueueConfiguration, Tag,
        Tagging,
    };

    use super::*;

    pub const BUCKET: &str = "acme-landing-zone-123456789012";
    /// The organisation's key, by the alias the bucket names it with.
    pub const KEY_ALIAS: &str = "alias/data-platform";
    pub const WAITING_ORDER: &str = "orders/incoming/order-0001.json";
    const AUDIT: &str = "platform-audit";

    /// The bucket as the platform team made it (README.md, step 1): public
    /// access blocked, tagged, SSE-KMS with the organisation's key (by
    /// alias, Bucket Keys on), an order already waiting. Their own
    /// notification to an audit queue stands for whatever else the bucket
    /// already notifies (moto does not check that the queue exists).
    /// Returns the key's ARN.
    pub fn platform_team_bucket(aws: &Aws) -> String {
        aws.create_bucket(BUCKET).unwrap();
        let (key_id, key_arn) = aws.create_kms_key().unwrap();
        aws.create_kms_alias(KEY_ALIAS, &key_id).unwrap();
        aws.put_bucket_kms_encryption(BUCKET, KEY_ALIAS, true)
            .unwrap();
        let block_all = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        let s3 = aws.s3();
        aws.block_on(
            s3.put_public_access_block()
                .bucket(BUCKET)
                .public_access_block_configuration(block_all)
                .send(),
        )
        .expect("public access block");
        let owner = Tag::builder()
            .key("owner")
            .value("data-platform")
            .build()
            .unwrap();
        let tagging = Tagging::builder().tag_set(owner).build().unwrap();
        aws.block_on(
            s3.put_bucket_tagging()
                .bucket(BUCKET)
                .tagging(tagging)
                .send(),
        )
        .expect("bucket tags");
        let audit = QueueConfiguration::builder()
            .id(AUDIT)
            .queue_arn("arn:aws:sqs:us-east-1:123456789012:landing-audit")
            .events(Event::from("s3:ObjectRemoved:*"))
            .build()
            .unwrap();
        let config = NotificationConfiguration::builder()
            .queue_configurations(audit)
            .build();
        aws.block_on(
            s3.put_bucket_notification_configuration()
                .bucket(BUCKET)
                .notification_configuration(config)
                .send(),
        )
        .expect("the platform team's notification");
        aws.put_object(
            BUCKET,
            WAITING_ORDER,
            r#"{"order_id": "0001", "items": [{"quantity": 2, "price": 9.5}]}"#,
        )
        .unwrap();
        key_arn
    }

    /// What the platform team left must be there as they left it.
    pub fn assert_left_as_made(aws: &Aws, what: &str) {
        assert_eq!(
            bucket_tags(aws, BUCKET),
            [("owner".to_owned(), "data-platform".to_owned())],
            "{what}: the bucket's tags"
        );
        assert_eq!(
            queue_notification_ids(aws, BUCKET),
            [AUDIT],
            "{what}: the platform team's notification"
        );
        assert_eq!(
            aws.bucket_default_encryption(BUCKET).unwrap(),
            Some(tests::aws::BucketEncryption {
                algorithm: "aws:kms".into(),
                kms_key: Some(KEY_ALIAS.into()),
                bucket_key_enabled: true,
            }),
            "{what}: the bucket's encryption"
        );
    }
}

#[test]
fn two_teams_pipelines_share_a_bucket_they_do_not_own_and_leave_it_as_it_was() {
    use existing_bucket::*;
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let key_arn = platform_team_bucket(&aws);
    let ws = example_workspace(&moto, "existing-bucket", &[("bucket_name", BUCKET)]);
    ws.init().unwrap();
    ws.validate().unwrap();
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("Resources: 2 added"), "{out}");

    let outputs = ws.output_json().unwrap();
    assert_eq!(
        outputs["backfilled_objects"]["value"], 1,
        "the order that was waiting is backfilled: {outputs}"
    );
    // The plan found the bucket's key (by its alias) and granted it by ARN:
    // decrypt to both, encrypt to orders, which writes results.
    assert_eq!(
        outputs["key_grants"]["value"],
        serde_json::json!({
            "orders": {"DecryptTriggeringObjects": key_arn, "EncryptResults": key_arn},
            "clicks": {"DecryptTriggeringObjects": key_arn},
        }),
        "{outputs}"
    );
    assert_eq!(
        lambda_notification_ids(&aws, BUCKET),
        ["eventpipe-clicks-ingest-0", "eventpipe-orders-ingest-0"]
    );
    assert_left_as_made(&aws, "after apply");

    // Each team's trigger delivers its own files, and only those.
    let (orders, clicks) = (
        deliveries(&aws, "orders-ingest"),
        deliveries(&aws, "clicks-ingest"),
    );
    aws.put_object(
        BUCKET,
        "clicks/raw/batch-0001.ndjson",
        "{\"page\": \"/\"}\n{\"page\": \"/cart\"}\n",
    )
    .unwrap();
    assert_eq!(deliveries(&aws, "clicks-ingest"), clicks + 1);
    assert_eq!(deliveries(&aws, "orders-ingest"), orders);
    aws.put_object(
        BUCKET,
        "orders/incoming/order-0002.json",
        r#"{"order_id": "0002", "items": [{"quantity": 1, "price": 4}]}"#,
    )
    .unwrap();
    assert_eq!(deliveries(&aws, "orders-ingest"), orders + 1);
    assert_eq!(deliveries(&aws, "clicks-ingest"), clicks + 1);

    assert_plan_empty(&ws, "existing-bucket: the second plan must be empty");
    ws.destroy_auto().unwrap();

    // The pipelines are gone; the bucket is as the platform team left it,
    // with every object.
    let inv = aws.list_everything().unwrap().without_lambda_log_groups();
    assert_eq!(inv.buckets, [BUCKET], "{inv}");
    assert!(inv.functions.is_empty() && inv.roles.is_empty(), "{inv}");
    assert!(lambda_notification_ids(&aws, BUCKET).is_empty());
    assert_left_as_made(&aws, "after destroy");
    assert_eq!(
        object_keys(&aws, BUCKET),
        [
            "clicks/raw/batch-0001.ndjson",
            WAITING_ORDER,
            "orders/incoming/order-0002.json",
        ]
    );
}

mod adopt {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
        NotificationConfigurationFilter, S3KeyFilter,
    };
    use serde_json::json;

    use super::*;

    pub const BUCKET: &str = "orders-landing-123456789012";
    pub const FUNCTION: &str = "orders-csv";
    pub const ROLE: &str = "orders-csv-exec";
    pub const READ_POLICY: &str = "read-orders-bucket";
    pub const LOGS_POLICY: &str =
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    const ACCOUNT: &str = "123456789012";

    /// `old/function.zip` as README.md has the reader build it:
    /// `python3 -m zipfile -c function.zip ../app/app.py`.
    fn hand_built_zip() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("function.zip");
        let out = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-c"])
            .arg(&zip)
            .arg(repo_path("examples/adopt/app/app.py"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", process_text(&out));
        std::fs::read(&zip).unwrap()
    }

    /// What `old/main.tf` makes, made with the tests' own client; returns
    /// the deployed `CodeSha256`.
    pub fn wire_by_hand(aws: &Aws) -> String {
        aws.create_bucket(BUCKET).unwrap();
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": "sts:AssumeRole"
            }]
        });
        let iam = aws.iam();
        let role = aws
            .block_on(
                iam.create_role()
                    .role_name(ROLE)
                    .assume_role_policy_document(trust.to_string())
                    .send(),
            )
            .expect("role");
        let role_arn = role.role().map(|r| r.arn().to_owned()).unwrap();
        aws.block_on(
            iam.attach_role_policy()
                .role_name(ROLE)
                .policy_arn(LOGS_POLICY)
                .send(),
        )
        .expect("managed policy");
        let read = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{BUCKET}/*")
            }]
        });
        aws.block_on(
            iam.put_role_policy()
                .role_name(ROLE)
                .policy_name(READ_POLICY)
                .policy_document(read.to_string())
                .send(),
        )
        .expect("inline policy");
        let function = aws
            .block_on(
                aws.lambda()
                    .create_function()
                    .function_name(FUNCTION)
                    .role(role_arn)
                    .runtime(Runtime::Python312)
                    .handler("app.handler")
                    .memory_size(256)
                    .timeout(30)
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(hand_built_zip()))
                            .build(),
                    )
                    .tags("team", "orders")
                    .send(),
            )
            .expect("function");
        let function_arn = function.function_arn().unwrap().to_owned();
        aws.block_on(
            aws.lambda()
                .add_permission()
                .function_name(FUNCTION)
                .statement_id("AllowS3Invoke")
                .action("lambda:InvokeFunction")
                .principal("s3.amazonaws.com")
                .source_arn(format!("arn:aws:s3:::{BUCKET}"))
                .send(),
        )
        .expect("invoke permission");
        let rule = |name, value| FilterRule::builder().name(name).value(value).build();
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(rule(FilterRuleName::Prefix, "incoming/"))
                    .filter_rules(rule(FilterRuleName::Suffix, ".csv"))
                    .build(),
            )
            .build();
        let trigger = LambdaFunctionConfiguration::builder()
            .id(FUNCTION)
            .lambda_function_arn(function_arn)
            .events(Event::from("s3:ObjectCreated:*"))
            .filter(filter)
            .build()
            .unwrap();
        aws.block_on(
            aws.s3()
                .put_bucket_notification_configuration()
                .bucket(BUCKET)
                .notification_configuration(
                    NotificationConfiguration::builder()
                        .lambda_function_configurations(trigger)
                        .build(),
                )
                .send(),
        )
        .expect("bucket notification");
        aws.put_object(
            BUCKET,
            "incoming/2026-11-30.csv",
            "order_id,quantity,price\n1001,2,9.5\n",
        )
        .unwrap();
        function.code_sha256().unwrap().to_owned()
    }

    pub fn code_sha256(aws: &Aws) -> String {
        let f = aws
            .block_on(aws.lambda().get_function().function_name(FUNCTION).send())
            .expect("function");
        f.configuration()
            .and_then(|c| c.code_sha256())
            .unwrap()
            .to_owned()
    }

    /// The statement ids of the function's resource policy.
    pub fn permission_sids(aws: &Aws) -> Vec<String> {
        let policy = function_policy(aws, FUNCTION);
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(s["Condition"]["StringEquals"]["AWS:SourceAccount"], ACCOUNT);
                s["Sid"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

#[test]
fn a_hand_wired_pipeline_is_adopted_in_place_and_the_plan_after_is_empty() {
    use adopt::*;
    // The hand-wired role has an AWS-managed policy attached.
    let moto = Moto::start_with_env(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]).unwrap();
    let aws = moto.aws().unwrap();
    let hand_built = wire_by_hand(&aws);
    let ws = example_workspace(
        &moto,
        "adopt",
        &[("bucket_name", BUCKET), ("require_tls", "false")],
    );
    ws.init().unwrap();
    ws.validate().unwrap();

    // README.md, step 2.
    let out = ws
        .run_ok(&[
            "import",
            "eventpipe_event_pipeline.orders",
            "adopt:orders-csv",
        ])
        .unwrap();
    let text = flat(&out);
    assert!(text.contains("Import successful"), "{text}");
    assert!(
        text.contains("Policies that are not the pipeline's stay on the role"),
        "{text}"
    );

    // Step 3: one update in place, with the adoption warning.
    let plan = ws.plan(&[]).unwrap();
    let text = flat(&plan);
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{text}"
    );
    assert!(text.contains("Adopting a pipeline wired by hand"), "{text}");

    // Step 5.
    let out = ws.apply_auto().unwrap();
    assert!(
        out.contains("Resources: 0 added, 1 changed, 0 destroyed"),
        "{out}"
    );
    assert_ne!(
        code_sha256(&aws),
        hand_built,
        "a package zipped by other tools differs from eventpipe's and is replaced once"
    );
    assert_eq!(permission_sids(&aws), ["eventpipe-s3-invoke"]);
    assert_eq!(
        lambda_notification_ids(&aws, BUCKET),
        ["eventpipe-orders-csv-0"]
    );
    let roles = aws.roles().unwrap();
    let role = roles.iter().find(|r| r.name == ROLE).expect("the role");
    assert_eq!(role.inline_policies, ["eventpipe", READ_POLICY]);
    assert_eq!(role.attached_policies, [LOGS_POLICY]);
    assert!(
        role_tags(&aws, ROLE).contains(&("eventpipe:pipeline".to_owned(), "orders-csv".to_owned()))
    );
    assert!(bucket_tags(&aws, BUCKET).contains(&("team".to_owned(), "orders".to_owned())));
    let delivered = deliveries(&aws, FUNCTION);
    aws.put_object(
        BUCKET,
        "incoming/2026-12-01.csv",
        "order_id,quantity,price\n1002,1,4\n",
    )
    .unwrap();
    assert_eq!(deliveries(&aws, FUNCTION), delivered + 1);
    assert_plan_empty(&ws, "adopt: the plan after the first apply must be empty");

    // Clean up as README.md says: empty the bucket, then destroy.
    for key in object_keys(&aws, BUCKET) {
        aws.block_on(aws.s3().delete_object().bucket(BUCKET).key(key).send())
            .expect("delete object");
    }
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_basic_handlers_own_unit_tests_pass() {
    let dir = repo_path("examples/basic/tests");
    let out = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OK"), "{text}");
}

#[test]
fn the_demo_shows_an_object_flowing_through_and_cleans_up() {
    tools::ensure_tools().unwrap();
    let bin = tests::provider_bin::provider_binary().unwrap();
    let out = std::process::Command::new(repo_path("scripts/demo.sh"))
        .env("EVENTPIPE_PROVIDER_BIN", bin)
        .env("EVENTPIPE_TOOLS_DIR", tools::tools_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let text = process_text(&out);
    assert!(out.status.success(), "{text}");
    for expected in [
        "Plan: 1 to add, 0 to change, 0 to destroy.",
        "ReadTriggeringObjects: s3:GetObject",
        "notifications delivered to orders-ingest: 2",
        "processed/order-1001.json: {\"valid\": true, \"order_id\": \"1001\", \"total\": 23.0}",
        "No changes.",
        "left in the emulator: 0",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

mod streaming {
    use serde_json::Value as Json;

    use super::*;

    /// The Kinesis statements of a role's inline policy as (sid, actions,
    /// resource).
    pub fn kinesis_statements(aws: &Aws, role: &str) -> Vec<(String, Json, Json)> {
        let policy = aws.role_inline_policy(role, "eventpipe").unwrap();
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.to_string().contains("kinesis:"))
            .map(|s| {
                (
                    s["Sid"].as_str().unwrap_or_default().to_owned(),
                    s["Action"].clone(),
                    s["Resource"].clone(),
                )
            })
            .collect()
    }

    pub fn environment(aws: &Aws, function: &str) -> std::collections::HashMap<String, String> {
        let c = aws
            .block_on(
                aws.lambda()
                    .get_function_configuration()
                    .function_name(function)
                    .send(),
            )
            .expect("function configuration");
        c.environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default()
    }
}

#[test]
fn the_streaming_example_wires_one_stream_to_two_consumers_and_destroys() {
    use streaming::*;
    let moto = Moto::start().unwrap();
    let aws = moto.aws().unwrap();
    let ws = example_workspace(&moto, "streaming", &[("require_tls", "false")]);
    ws.init().unwrap();
    ws.validate().unwrap();
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("Resources: 2 added"), "{out}");
    let outputs = ws.output_json().unwrap();
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/uploads";
    assert_eq!(outputs["stream_name"]["value"], "uploads");
    assert_eq!(outputs["stream_arn"]["value"], arn);

    // The stream the first pipeline made: encrypted, kept 48 hours.
    let summary = aws.stream_summary("uploads").unwrap();
    assert_eq!(summary.key_id(), Some("alias/aws/kinesis"));
    assert_eq!(summary.retention_period_hours(), 48);
    assert_eq!(aws.sources().unwrap().streams, ["uploads"]);

    // Both functions read it, each through one mapping; the second from
    // the oldest record, in batches of up to 500 or 5 s.
    let first = aws.event_source_mappings(Some("uploads")).unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].event_source_arn(), Some(arn));
    let second = aws.event_source_mappings(Some("uploads-tally")).unwrap();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].event_source_arn(), Some(arn));
    assert_eq!(
        second[0].starting_position().map(|p| p.as_str()),
        Some("TRIM_HORIZON")
    );
    assert_eq!(second[0].batch_size(), Some(500));
    assert_eq!(second[0].maximum_batching_window_in_seconds(), Some(5));

    // The first may put records on the stream, the second only reads it.
    let writes = |role: &str| {
        kinesis_statements(&aws, role)
            .into_iter()
            .filter(|(sid, ..)| sid == "WriteStream")
            .map(|(_, actions, resource)| (actions, resource))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        writes("uploads-role"),
        [(
            serde_json::json!(["kinesis:PutRecord", "kinesis:PutRecords"]),
            serde_json::json!(arn)
        )]
    );
    assert!(writes("uploads-tally-role").is_empty());
    for role in ["uploads-role", "uploads-tally-role"] {
        for (_, _, resource) in kinesis_statements(&aws, role) {
            assert_eq!(resource, arn, "{role}: this stream only");
        }
    }

    // Each handler finds the stream by name.
    for function in ["uploads", "uploads-tally"] {
        let env = environment(&aws, function);
        assert_eq!(
            env.get("STREAM_NAME").map(String::as_str),
            Some("uploads"),
            "{function}"
        );
    }

    assert_plan_empty(&ws, "streaming: the second plan must be empty");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_streaming_handlers_own_unit_tests_pass() {
    let dir = repo_path("examples/streaming/tests");
    let out = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OK"), "{text}");
}

mod with_dependencies {
    use super::*;

    /// Wheels of the example's requirements, repacked from the copies
    /// installed on this machine (the test builds its own: no network).
    const REPACK: &str = r#"
import sys, zipfile, importlib.metadata as md
out = sys.argv[1]
for name in sys.argv[2:]:
    d = md.distribution(name)
    norm = d.metadata["Name"].replace("-", "_")
    path = f"{out}/{norm}-{d.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for f in d.files:
            s = str(f)
            if s.startswith("..") or "__pycache__" in s or s.endswith(".pyc"):
                continue
            z.write(d.locate_file(f), s)
"#;

    #[test]
    fn the_example_installs_its_requirements_offline_and_replans_empty() {
        let wheels = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let repack = std::process::Command::new("python3")
            .args(["-c", REPACK])
            .arg(wheels.path())
            .args(["python-dateutil", "six"])
            .output()
            .unwrap();
        assert!(repack.status.success(), "{}", process_text(&repack));

        let tf = newest_cli();
        let moto = Moto::start().unwrap();
        let mut ws = Workspace::new(&tf).unwrap();
        ws.envs(moto.env_vars());
        ws.env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", wheels.path())
            .env("EVENTPIPE_CACHE_DIR", cache.path());
        copy_example(&ws, "with-dependencies");
        ws.init().unwrap();
        ws.validate().unwrap();
        let out = ws.apply_auto().unwrap();
        assert!(out.contains("Resources: 1 added"), "{out}");
        let aws = moto.aws().unwrap();
        let function = ws.output_json().unwrap()["function_name"]["value"]
            .as_str()
            .unwrap()
            .to_owned();
        // The deployed package holds the library: fetch it as Lambda has it.
        let code = aws
            .block_on(aws.lambda().get_function().function_name(&function).send())
            .unwrap();
        let size = code.configuration().map_or(0, |c| c.code_size());
        assert!(size > 100_000, "dateutil is in the package ({size} bytes)");
        assert_plan_empty(&ws, "with-dependencies: the second plan must be empty");
        destroy_and_assert_empty(&ws, &moto);
    }

    #[test]
    fn the_handlers_own_unit_tests_pass() {
        let dir = repo_path("examples/with-dependencies/tests");
        let out = std::process::Command::new("python3")
            .args(["-m", "unittest", "discover", "-s"])
            .arg(&dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("OK"), "{text}");
    }
}

mod inference {
    use super::*;

    #[test]
    fn the_inference_example_validates_with_the_module() {
        let tf = newest_cli();
        let ws = Workspace::new(&tf).unwrap();
        copy_example(&ws, "inference");
        ws.init().unwrap();
        ws.validate().unwrap();
        let main = fs::read_to_string(ws.dir().join("main.tf")).unwrap();
        assert!(main.contains("package_type = \"image\""), "{main}");
    }

    /// The handler's tests run with the test venv's Python, which has numpy.
    #[test]
    fn the_handlers_own_unit_tests_pass() {
        let python = tools::ensure_tools().unwrap().join("venv/bin/python");
        let dir = repo_path("examples/inference/tests");
        let out = std::process::Command::new(python)
            .args(["-m", "unittest", "discover", "-v", "-s"])
            .arg(&dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("Ran 6 tests") && text.contains("OK"),
            "{text}"
        );
    }
}

mod typescript {
    use super::*;

    /// The handler's own test, as `pnpm test` runs it, with the pinned
    /// tools: `tsc --noEmit` (esbuild does not type-check), the handler
    /// bundled by esbuild, then `node --test` on the bundle.
    #[test]
    fn the_handlers_own_unit_tests_pass() {
        let bin = tools::package_tools().unwrap().node_bin;
        let app = repo_path("examples/typescript/app");
        let out_dir = tempfile::tempdir().unwrap();
        let tsc = std::process::Command::new(bin.join("tsc"))
            .arg("--noEmit")
            .current_dir(&app)
            .output()
            .unwrap();
        assert!(tsc.status.success(), "tsc: {}", process_text(&tsc));
        let bundle = out_dir.path().join("index.js");
        let esbuild = std::process::Command::new(bin.join("esbuild"))
            .args([
                "src/index.ts",
                "--bundle",
                "--platform=node",
                "--target=node24",
                "--log-level=warning",
            ])
            .arg(format!("--outfile={}", bundle.display()))
            .current_dir(&app)
            .output()
            .unwrap();
        assert!(
            esbuild.status.success(),
            "esbuild: {}",
            process_text(&esbuild)
        );
        let test = std::process::Command::new("node")
            .args(["--test", "test/"])
            .env("BUNDLE", &bundle)
            .current_dir(&app)
            .output()
            .unwrap();
        let text = process_text(&test);
        assert!(test.status.success(), "{text}");
        assert!(
            text.contains("# pass 2") && text.contains("# fail 0"),
            "{text}"
        );
    }

    /// Applied with the module's `bundle = true` and the pinned esbuild in
    /// `app/node_modules/.bin`, where the project's install puts it: the
    /// function runs one bundled file; the next plan is empty.
    #[test]
    fn the_typescript_example_bundles_applies_and_replans_empty() {
        let tools = tools::package_tools().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let tf = newest_cli();
        let moto = Moto::start().unwrap();
        let mut ws = Workspace::new(&tf).unwrap();
        ws.envs(moto.env_vars());
        ws.env("PATH", tools.path())
            .env("EVENTPIPE_CACHE_DIR", cache.path())
            .env("TF_VAR_require_tls", "false");
        copy_example(&ws, "typescript");
        // The project's own esbuild, as `pnpm install` in `app/` leaves it;
        // the bundler runs it first, found through the root module's
        // relative `source_dir` ("./app").
        let bin = ws.dir().join("app/node_modules/.bin");
        fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(tools.node_bin.join("esbuild"), bin.join("esbuild")).unwrap();
        ws.init().unwrap();
        ws.validate().unwrap();
        let out = ws.apply_auto().unwrap();
        assert!(out.contains("Resources: 1 added"), "{out}");
        let aws = moto.aws().unwrap();
        let function = ws.output_json().unwrap()["function_name"]["value"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = aws
            .block_on(aws.lambda().get_function().function_name(&function).send())
            .unwrap();
        let config = code.configuration().unwrap();
        assert_eq!(config.handler(), Some("src/index.handler"));
        // The bundle and its map: a few kilobytes, no sources, no node_modules.
        assert!(config.code_size() < 10_000, "{}", config.code_size());
        assert_plan_empty(&ws, "typescript: the second plan must be empty");
        destroy_and_assert_empty(&ws, &moto);
    }
}

mod uv_project {
    use super::*;

    /// uv, offline: the example's only dependency (pluggy 1.7.0, locked
    /// from PyPI with its hash) and the build backend (hatchling) are
    /// wheels `make tools` keeps in `.tools/wheels`.
    fn uv_env(ws: &mut Workspace, scratch: &Path) {
        let tools = tools::package_tools().unwrap();
        let home = std::env::var("HOME").unwrap_or_default();
        let real = Path::new(&home).join(".pyenv/versions/3.13.0/bin/python3");
        if real.is_file() {
            ws.env("UV_PYTHON", real);
        }
        ws.env("PATH", tools.path())
            .env("UV_OFFLINE", "1")
            .env("UV_FIND_LINKS", &tools.wheels)
            .env("UV_CACHE_DIR", scratch.join("uv"))
            .env("XDG_CONFIG_HOME", scratch.join("config"))
            .env("EVENTPIPE_CACHE_DIR", scratch.join("eventpipe"));
    }

    #[test]
    fn the_uv_project_example_applies_with_its_own_package_and_plans_empty() {
        let tf = newest_cli();
        let moto = Moto::start().unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let mut ws = Workspace::new(&tf).unwrap();
        ws.envs(moto.env_vars());
        uv_env(&mut ws, scratch.path());
        copy_example(&ws, "uv-project");
        ws.init().unwrap();
        ws.validate().unwrap();
        let out = ws.apply_auto().unwrap();
        assert!(out.contains("Resources: 1 added"), "{out}");
        let function = ws.output_json().unwrap()["function_name"]["value"]
            .as_str()
            .unwrap()
            .to_owned();
        let aws = moto.aws().unwrap();
        let size = aws
            .block_on(aws.lambda().get_function().function_name(&function).send())
            .unwrap()
            .configuration()
            .map_or(0, |c| c.code_size());
        assert!(size > 10_000, "pluggy is in the package ({size} bytes)");
        assert_plan_empty(&ws, "uv-project: the second plan must be empty");
        destroy_and_assert_empty(&ws, &moto);
    }

    /// The handler's own test, with pluggy imported from its wheel.
    #[test]
    fn the_handlers_own_unit_tests_pass() {
        let tools = tools::package_tools().unwrap();
        let dir = repo_path("examples/uv-project/tests");
        let out = std::process::Command::new("python3")
            .args(["-m", "unittest", "discover", "-s"])
            .arg(&dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env(
                "PYTHONPATH",
                tools.wheels.join("pluggy-1.7.0-py3-none-any.whl"),
            )
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("Ran 2 tests") && text.contains("OK"),
            "{text}"
        );
    }
}
