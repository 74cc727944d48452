//! The pipeline resource end to end on the emulator: what `apply` creates is
//! read back with an independent AWS client, and every later plan is checked
//! the way a reviewer would read it.

mod common;

use common::*;
use serde_json::Value as Json;
use tests::Moto;

const EMPTY_PLAN: &str = "expected an empty plan";

#[test]
fn the_seed_pipeline_applies_as_specified_and_replans_empty() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, &seed_resource("seed", "seed-bucket", ""));
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 1 added"),
        "{apply}"
    );
    let state = state_attrs(&ws, "seed");
    let aws = moto.aws().unwrap();

    // Bucket: encrypted, public access blocked.
    let enc = aws
        .block_on(
            aws.s3()
                .get_bucket_encryption()
                .bucket("seed-bucket")
                .send(),
        )
        .expect("bucket encryption");
    let rules = enc.server_side_encryption_configuration().unwrap().rules();
    assert!(!rules.is_empty());
    let pab = aws
        .block_on(
            aws.s3()
                .get_public_access_block()
                .bucket("seed-bucket")
                .send(),
        )
        .expect("public access block");
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(pab.block_public_acls(), Some(true));
    assert_eq!(pab.restrict_public_buckets(), Some(true));

    // Role trusting Lambda, with exactly the planned inline policy.
    let role = aws
        .block_on(aws.iam().get_role().role_name("seed-role").send())
        .unwrap();
    let trust = role
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap_or_default();
    let trust = percent_decode(trust);
    assert!(trust.contains("lambda.amazonaws.com"), "{trust}");
    let policy = aws
        .block_on(
            aws.iam()
                .get_role_policy()
                .role_name("seed-role")
                .policy_name("eventpipe")
                .send(),
        )
        .unwrap();
    let applied = percent_decode(policy.policy_document());
    assert_eq!(
        applied,
        state["policy_json"].as_str().unwrap(),
        "policy applied byte for byte"
    );
    let doc: Json = serde_json::from_str(&applied).unwrap();
    let read = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == "s3:GetObject")
        .unwrap();
    assert_eq!(
        read["Resource"],
        serde_json::json!(["arn:aws:s3:::seed-bucket/data/*"])
    );

    // Function with exactly the configured settings.
    let f = aws
        .block_on(aws.lambda().get_function().function_name("seed").send())
        .unwrap();
    let c = f.configuration().unwrap();
    assert_eq!(c.handler(), Some("app.handler"));
    assert_eq!(c.runtime().map(|r| r.as_str()), Some("python3.12"));
    assert_eq!(c.timeout(), Some(60));
    assert_eq!(c.memory_size(), Some(512));
    assert_eq!(c.role(), state["role_arn"].as_str());

    // A permission for S3, scoped to this bucket and account.
    let p = function_policy(&aws, "seed");
    let st = &p["Statement"][0];
    assert_eq!(st["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(st["Action"], "lambda:InvokeFunction");
    let cond = st["Condition"].to_string();
    assert!(cond.contains("arn:aws:s3:::seed-bucket"), "{cond}");
    assert!(cond.contains("123456789012"), "{cond}");

    // A notification with exactly that filter, pointing at the function.
    let lambdas = lambda_notifications(&aws, "seed-bucket");
    assert_eq!(lambdas.len(), 1);
    assert_eq!(
        lambdas[0].lambda_function_arn(),
        state["function_arn"].as_str().unwrap()
    );
    assert_eq!(lambdas[0].events()[0].as_str(), "s3:ObjectCreated:*");
    let rules = filter_rules(&lambdas[0]);
    assert!(
        rules.contains(&("prefix".into(), "data/".into())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("suffix".into(), ".json".into())),
        "{rules:?}"
    );

    assert_plan_empty(&ws, EMPTY_PLAN);

    // An object under data/ reaches the function (moto logs each delivery).
    aws.put_object("seed-bucket", "data/one.json", r#"{"id":1}"#)
        .unwrap();
    aws.put_object("seed-bucket", "other/two.json", r#"{"id":2}"#)
        .unwrap();
    let streams = aws.log_stream_names("/aws/lambda/seed").unwrap();
    assert_eq!(
        streams.len(),
        1,
        "exactly the matching object is delivered: {streams:?}"
    );

    let destroy = ws.destroy_auto().unwrap();
    assert!(destroy.contains("Resources: 1 destroyed"), "{destroy}");
    assert_emulator_empty(&moto);
}

#[test]
fn memory_and_handler_edits_update_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("upd", "upd-bucket", ""));
    let aws = moto.aws().unwrap();
    let before = aws
        .block_on(aws.lambda().get_function().function_name("upd").send())
        .unwrap();
    let sha_before = before
        .configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_owned();

    rewrite_main(
        &ws,
        &moto,
        &seed_resource("upd", "upd-bucket", "").replace("memory_size = 512", "memory_size = 1024"),
    );
    ws.write("app/app.py", format!("{APP_PY}\n# v2\n")).unwrap();
    let plan = ws.plan(&[]).unwrap();
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    assert!(
        plan.contains("memory_size") && plan.contains("source_code_hash"),
        "{plan}"
    );
    assert!(!plan.contains("forces replacement"), "{plan}");
    ws.apply_auto().unwrap();

    let after = aws
        .block_on(aws.lambda().get_function().function_name("upd").send())
        .unwrap();
    let c = after.configuration().unwrap();
    assert_eq!(c.memory_size(), Some(1024));
    assert_ne!(c.code_sha256().unwrap(), sha_before, "the code must change");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn renaming_the_pipeline_plans_a_replacement() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("ren", "ren-bucket", ""));
    rewrite_main(&ws, &moto, &seed_resource("ren", "ren-bucket-2", ""));
    let plan = ws.plan(&[]).unwrap();
    assert!(plan.contains("must be replaced"), "{plan}");
    assert!(plan.contains("forces replacement"), "{plan}");
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{plan}"
    );
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn out_of_band_changes_show_in_the_plan_and_apply_repairs_them() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("drift", "drift-bucket", ""));
    let aws = moto.aws().unwrap();

    // 1. The notification is removed.
    aws.block_on(
        aws.s3()
            .put_bucket_notification_configuration()
            .bucket("drift-bucket")
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder().build(),
            )
            .send(),
    )
    .unwrap();
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(plan.has_changes, "{}", plan.output);
    assert!(plan.output.contains("trigger"), "{}", plan.output);
    assert!(plan.output.contains("1 to change"), "{}", plan.output);
    ws.apply_auto().unwrap();
    assert_eq!(lambda_notifications(&aws, "drift-bucket").len(), 1);
    assert_plan_empty(&ws, EMPTY_PLAN);

    // 2. Memory is changed by hand.
    aws.block_on(
        aws.lambda()
            .update_function_configuration()
            .function_name("drift")
            .memory_size(256)
            .send(),
    )
    .unwrap();
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(
        plan.has_changes && plan.output.contains("memory_size"),
        "{}",
        plan.output
    );
    assert!(
        plan.output.contains("256") && plan.output.contains("512"),
        "{}",
        plan.output
    );
    ws.apply_auto().unwrap();
    let f = aws
        .block_on(aws.lambda().get_function().function_name("drift").send())
        .unwrap();
    assert_eq!(f.configuration().unwrap().memory_size(), Some(512));
    assert_plan_empty(&ws, EMPTY_PLAN);

    // 3. The invoke permission is removed.
    aws.block_on(
        aws.lambda()
            .remove_permission()
            .function_name("drift")
            .statement_id("eventpipe-s3-invoke")
            .send(),
    )
    .unwrap();
    let plan = ws.plan_detailed_exitcode().unwrap();
    assert!(
        plan.has_changes && plan.output.contains("s3_permission_id"),
        "{}",
        plan.output
    );
    ws.apply_auto().unwrap();
    let p = function_policy(&aws, "drift");
    assert!(p.to_string().contains("eventpipe-s3-invoke"));
    assert_plan_empty(&ws, EMPTY_PLAN);

    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn a_deleted_function_is_recreated_without_replacing_the_pipeline() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("gone", "gone-bucket", ""));
    let aws = moto.aws().unwrap();
    aws.put_object("gone-bucket", "keep/me.txt", "precious")
        .unwrap();
    aws.block_on(aws.lambda().delete_function().function_name("gone").send())
        .unwrap();
    let plan = ws.plan(&[]).unwrap();
    assert!(plan.contains("1 to change"), "{plan}");
    ws.apply_auto().unwrap();
    assert!(aws.function_names().unwrap().contains(&"gone".to_owned()));
    // The bucket (and its data) survived the repair.
    let obj = aws.block_on(
        aws.s3()
            .head_object()
            .bucket("gone-bucket")
            .key("keep/me.txt")
            .send(),
    );
    assert!(obj.is_ok(), "the bucket's objects must survive");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn import_by_name_then_plan_is_empty() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let extra = "  output_prefix = \"results/\"\n  tags          = { team = \"imports\" }\n";
    let ws = applied(&tf, &moto, &seed_resource("imp", "imp-bucket", extra));
    let before = state_attrs(&ws, "imp");
    ws.run_ok(&["state", "rm", "eventpipe_event_pipeline.imp"])
        .unwrap();
    let out = ws
        .run_ok(&["import", "eventpipe_event_pipeline.imp", "imp"])
        .unwrap();
    assert!(out.contains("Import successful"), "{out}");
    assert_plan_empty(&ws, "a matching config must plan no changes after import");
    let after = state_attrs(&ws, "imp");
    for attr in [
        "bucket_name",
        "policy_json",
        "function_arn",
        "role_arn",
        "force_destroy",
        "output_prefix",
        "source_code_hash",
    ] {
        assert_eq!(before[attr], after[attr], "{attr} differs after import");
    }
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn importing_a_name_with_no_pipeline_fails_clearly() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, &seed_resource("ghost", "ghost-bucket", ""));
    ws.init().unwrap();
    let out = ws
        .run(&["import", "eventpipe_event_pipeline.ghost", "ghost"])
        .unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.contains("Cannot import non-existent pipeline"), "{out}");
}

#[test]
fn destroy_refuses_a_non_empty_bucket_without_force_destroy() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body = seed_resource("keep", "keep-bucket", "")
        .replace("force_destroy = true", "force_destroy = false");
    let ws = applied(&tf, &moto, &body);
    let aws = moto.aws().unwrap();
    aws.put_object("keep-bucket", "report.csv", "a,b").unwrap();
    let out = ws.run(&["destroy", "-auto-approve"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.contains("still holds objects") && out.contains("force_destroy"),
        "{out}"
    );
    // Nothing else was deleted first.
    assert!(aws.function_names().unwrap().contains(&"keep".to_owned()));
    assert!(
        aws.bucket_names()
            .unwrap()
            .contains(&"keep-bucket".to_owned())
    );
    assert_eq!(aws.roles().unwrap().len(), 1);

    // With force_destroy the objects go with it.
    rewrite_main(&ws, &moto, &seed_resource("keep", "keep-bucket", ""));
    ws.apply_auto().unwrap();
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn ten_pipelines_apply_and_destroy_in_parallel() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body: String = (0..10)
        .map(|i| seed_resource(&format!("p{i}"), &format!("p{i}-bucket"), ""))
        .collect();
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("Resources: 10 added"), "{out}");
    let aws = moto.aws().unwrap();
    assert_eq!(aws.function_names().unwrap().len(), 10);
    assert_eq!(aws.bucket_names().unwrap().len(), 10);
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn the_oldest_supported_cli_creates_plans_empty_and_destroys() {
    let Some(tf) = clis().into_iter().find(|t| !t.at_least(1, 1)) else {
        panic!("Terraform 1.0.3 is part of the suite; run scripts/setup-tools.sh");
    };
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, &seed_resource("old", "old-bucket", ""));
    ws.init().unwrap();
    let out = ws.apply_auto().unwrap();
    assert!(out.contains("Resources: 1 added"), "{out}");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

fn role_tag(aws: &tests::Aws, role: &str, key: &str) -> Option<String> {
    role_tags(aws, role)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn default_tags_merge_under_resource_tags_and_changes_apply_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let provider = ProviderBlock::new(&moto.endpoint())
        .setting("default_tags = { team = \"platform\", env = \"dev\" }")
        .hcl();
    let body = seed_resource("tagged", "tagged-bucket", "  tags = { env = \"prod\" }\n");
    let ws = workspace_with(&tf, &format!("{provider}{body}"));
    ws.init().unwrap();
    ws.apply_auto().unwrap();
    let aws = moto.aws().unwrap();
    let tags = function_tags(&aws, "tagged");
    assert_eq!(tags.get("team").map(String::as_str), Some("platform"));
    assert_eq!(
        tags.get("env").map(String::as_str),
        Some("prod"),
        "resource tags win"
    );
    assert_eq!(
        tags.get("eventpipe:pipeline").map(String::as_str),
        Some("tagged")
    );
    assert_eq!(
        role_tag(&aws, "tagged-role", "team").as_deref(),
        Some("platform")
    );
    let bucket = aws
        .block_on(aws.s3().get_bucket_tagging().bucket("tagged-bucket").send())
        .unwrap();
    assert!(
        bucket
            .tag_set()
            .iter()
            .any(|t| t.key() == "env" && t.value() == "prod")
    );
    let state = state_attrs(&ws, "tagged");
    assert_eq!(state["tags_all"]["team"], "platform");
    assert_plan_empty(&ws, EMPTY_PLAN);

    // A new default tag is an in-place change that reaches every part.
    ws.write(
        "main.tf",
        format!(
            "{}{body}",
            provider.replace("env = \"dev\"", "env = \"dev\", owner = \"data\"")
        ),
    )
    .unwrap();
    let plan = ws.plan(&[]).unwrap();
    assert!(
        plan.contains("1 to change") && plan.contains("owner"),
        "{plan}"
    );
    ws.apply_auto().unwrap();
    assert_eq!(
        function_tags(&aws, "tagged")
            .get("owner")
            .map(String::as_str),
        Some("data")
    );
    assert_eq!(
        role_tag(&aws, "tagged-role", "owner").as_deref(),
        Some("data")
    );
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn trigger_changes_update_the_notification_and_the_policy_in_place() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("trig", "trig-bucket", ""));
    let aws = moto.aws().unwrap();
    // Someone else's notification on the same bucket must survive our updates.
    let others = aws_sdk_s3::types::QueueConfiguration::builder()
        .id("someone-elses-queue")
        .queue_arn("arn:aws:sqs:us-east-1:123456789012:audit")
        .events(aws_sdk_s3::types::Event::from("s3:ObjectRemoved:*"))
        .build()
        .unwrap();
    let current = lambda_notifications(&aws, "trig-bucket");
    let _ = aws.block_on(
        aws.s3()
            .put_bucket_notification_configuration()
            .bucket("trig-bucket")
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder()
                    .set_lambda_function_configurations(Some(current))
                    .queue_configurations(others)
                    .build(),
            )
            .send(),
    );
    let body = seed_resource("trig", "trig-bucket", "")
        .replace("filter_prefix = \"data/\"", "filter_prefix = \"incoming/\"");
    rewrite_main(&ws, &moto, &body);
    let plan = ws.plan(&[]).unwrap();
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    assert!(
        plan.contains("arn:aws:s3:::trig-bucket/incoming/*"),
        "the new policy is shown:\n{plan}"
    );
    ws.apply_auto().unwrap();
    let rule = lambda_notifications(&aws, "trig-bucket")[0]
        .filter()
        .unwrap()
        .key()
        .unwrap()
        .filter_rules()
        .to_vec();
    assert!(
        rule.iter().any(|r| r.value() == Some("incoming/")),
        "{rule:?}"
    );
    let doc = aws.role_inline_policy("trig-role", "eventpipe").unwrap();
    assert!(doc.to_string().contains("trig-bucket/incoming/*"), "{doc}");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn values_known_only_after_apply_plan_as_unknown_then_apply() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body = format!(
        "resource \"terraform_data\" \"suffix\" {{\n  input = \"late\"\n}}\n{}",
        seed_resource("late", "x", "").replace(
            "bucket_name   = \"x\"",
            "bucket_name   = \"late-${terraform_data.suffix.output}-bucket\""
        )
    );
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let plan = ws.plan(&[]).unwrap();
    // Terraform aligns the `=` of a block's attributes; compare words only.
    let words = plan
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(words.contains("bucket_arn = (known after apply)"), "{plan}");
    assert!(
        words.contains("policy_json = (known after apply)"),
        "{plan}"
    );
    ws.apply_auto().unwrap();
    assert!(
        moto.aws()
            .unwrap()
            .bucket_names()
            .unwrap()
            .contains(&"late-late-bucket".to_owned())
    );
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn a_pipeline_deleted_outside_terraform_leaves_the_state_and_is_planned_again() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = applied(&tf, &moto, &seed_resource("vanish", "vanish-bucket", ""));
    moto.reset().unwrap();
    let plan = ws.plan(&[]).unwrap();
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    ws.apply_auto().unwrap();
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn outside_us_east_1_the_bucket_gets_its_region_and_a_foreign_bucket_is_refused() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let provider = ProviderBlock::new(&moto.endpoint())
        .region("eu-west-1")
        .hcl();
    let ws = workspace_with(
        &tf,
        &format!("{provider}{}", seed_resource("euro", "euro-bucket", "")),
    );
    ws.init().unwrap();
    ws.apply_auto().unwrap();
    let aws = moto.aws().unwrap();
    let loc = aws
        .block_on(aws.s3().get_bucket_location().bucket("euro-bucket").send())
        .unwrap();
    assert_eq!(
        loc.location_constraint().map(|c| c.as_str()),
        Some("eu-west-1")
    );
    let state = state_attrs(&ws, "euro");
    assert!(
        state["function_arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:lambda:eu-west-1:")
    );
    assert_plan_empty(&ws, EMPTY_PLAN);
    ws.destroy_auto().unwrap();

    // A bucket that is not ours is refused, and left alone. (A name never
    // used before: moto hands a deleted bucket's tags to a new bucket of the
    // same name.)
    let conf = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    aws.block_on(
        aws.s3()
            .create_bucket()
            .bucket("euro-foreign")
            .create_bucket_configuration(conf)
            .send(),
    )
    .unwrap();
    let body = seed_resource("euro", "euro-foreign", "");
    ws.write("main.tf", format!("{provider}{body}")).unwrap();
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    // Refused at plan, before anything is made.
    assert!(
        out.contains("Bucket \"euro-foreign\" exists in this account"),
        "{out}"
    );
    assert_eq!(
        aws.bucket_names().unwrap(),
        ["euro-foreign"],
        "the foreign bucket stays, alone"
    );
    assert!(
        aws.function_names().unwrap().is_empty(),
        "none of our parts were made"
    );
}

/// The seed pipeline with a failure queue, its function and role named
/// after `name` (neither is set), at the resource address `rn`; no
/// force_destroy, so the failure queue's refusal rules apply.
fn derived_names(name: &str) -> String {
    derived_names_with(name, "  on_failure {}\n")
}

fn derived_names_with(name: &str, lines: &str) -> String {
    Pipeline::seed("rn", "rn-bucket")
        .force_destroy(false)
        .extra(lines)
        .hcl()
        .replace(
            "name          = \"rn\"",
            &format!("name          = \"{name}\""),
        )
}

/// The pipeline tag `part` carries, from a tag list.
fn owner(tags: &std::collections::HashMap<String, String>) -> Option<&str> {
    tags.get("eventpipe:pipeline").map(String::as_str)
}

#[test]
fn a_new_name_replaces_only_the_parts_named_after_it() {
    for tf in clis() {
        renames_only_the_parts_named_after_it(&tf);
    }
}

fn renames_only_the_parts_named_after_it(tf: &tests::TerraformCli) {
    let moto = Moto::start().unwrap();
    let ws = applied(tf, &moto, &derived_names("orders"));
    let aws = moto.aws().unwrap();
    // An object the rename must not touch (no trigger matches it).
    aws.put_object("rn-bucket", "keep/report.txt", "kept")
        .unwrap();
    let before = aws.list_everything().unwrap();
    assert_eq!(before.functions, ["orders"]);
    assert_eq!(before.queues, ["orders-failed"]);

    // A failed event waits in the failure queue: the rename refuses
    // before it changes anything, and names the switch that allows it.
    let old_queue = aws
        .block_on(aws.sqs().get_queue_url().queue_name("orders-failed").send())
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    aws.send_message(&old_queue, "{\"failed\": true}").unwrap();
    rewrite_main(&ws, &moto, &derived_names("sales"));
    let refused = ws.run(&["apply", "-auto-approve"]).unwrap();
    let text = flat(&refused);
    assert!(!refused.success(), "{refused}");
    assert!(
        text.contains("Failure queue is not empty")
            && text.contains("on_failure { force_delete = true }"),
        "{text}"
    );
    assert_eq!(
        aws.list_everything().unwrap(),
        before,
        "a refused rename changes nothing"
    );
    // on_failure.force_delete lets the old queue go with its message.
    rewrite_main(
        &ws,
        &moto,
        &derived_names_with("sales", "  on_failure {\n    force_delete = true\n  }\n"),
    );

    // The plan: an update in place, which says what is made anew.
    let actions = planned_actions(&ws);
    assert_eq!(
        actions
            .get("eventpipe_event_pipeline.rn")
            .map(Vec::as_slice),
        Some(&["update".to_owned()][..]),
        "{actions:?}"
    );
    let plan = flat(&ws.plan(&[]).unwrap());
    assert!(!plan.contains("must be replaced"), "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    assert!(
        plan.contains("Renaming the pipeline replaces the parts named after it")
            && plan.contains(r#"the function "orders" (new: "sales")"#)
            && plan.contains(r#"the role "orders-role" (new: "sales-role")"#)
            && plan.contains(r#"the failure queue "orders-failed" (new: "sales-failed")"#)
            && plan.contains(r#"retags the bucket "rn-bucket""#)
            && plan.contains("The old failure queue is deleted with any failed events it holds"),
        "{plan}"
    );

    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.combined().contains("0 added, 1 changed, 0 destroyed"),
        "{apply}"
    );
    // Read back with the tests' own client: the new parts under the new
    // name, the old ones gone, the bucket kept with its object.
    let after = aws.list_everything().unwrap();
    assert_eq!(after.functions, ["sales"]);
    assert_eq!(
        after
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["sales-role"]
    );
    assert_eq!(after.queues, ["sales-failed"]);
    assert!(
        after.log_groups.contains(&"/aws/lambda/sales".to_owned())
            && !after.log_groups.contains(&"/aws/lambda/orders".to_owned()),
        "{:?}",
        after.log_groups
    );
    assert_eq!(after.buckets, ["rn-bucket"]);
    assert_eq!(aws.object_keys("rn-bucket").unwrap(), ["keep/report.txt"]);
    assert_eq!(owner(&function_tags(&aws, "sales")), Some("sales"));
    assert!(role_tags(&aws, "sales-role").contains(&("eventpipe:pipeline".into(), "sales".into())));
    assert_eq!(
        aws.bucket_tags("rn-bucket")
            .unwrap()
            .get("eventpipe:pipeline")
            .map(String::as_str),
        Some("sales")
    );
    let new_queue = aws
        .block_on(aws.sqs().get_queue_url().queue_name("sales-failed").send())
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_tags = aws
        .block_on(aws.sqs().list_queue_tags().queue_url(&new_queue).send())
        .unwrap();
    assert_eq!(
        queue_tags
            .tags()
            .and_then(|t| t.get("eventpipe:pipeline"))
            .map(String::as_str),
        Some("sales")
    );
    // S3 invokes the new function, which may be invoked by it and sends its
    // failed events to the new queue.
    let notes = lambda_notifications(&aws, "rn-bucket");
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].lambda_function_arn().ends_with(":function:sales"),
        "{notes:?}"
    );
    assert_eq!(notes[0].id(), Some("eventpipe-sales-0"));
    let statements = function_policy(&aws, "sales")["Statement"].clone();
    assert_eq!(statements.as_array().map(Vec::len), Some(1), "{statements}");
    let invoke = aws
        .block_on(
            aws.lambda()
                .get_function_event_invoke_config()
                .function_name("sales")
                .send(),
        )
        .unwrap();
    let destination = invoke
        .destination_config()
        .and_then(|d| d.on_failure())
        .and_then(|d| d.destination())
        .unwrap_or_default();
    assert!(destination.ends_with(":sales-failed"), "{destination}");
    let state = state_attrs(&ws, "rn");
    assert_eq!(state["function_name"], "sales");
    assert_eq!(state["role_name"], "sales-role");
    assert_eq!(state["failure_queue_url"], new_queue.as_str());
    assert_plan_empty(&ws, EMPTY_PLAN);
    aws.block_on(
        aws.s3()
            .delete_object()
            .bucket("rn-bucket")
            .key("keep/report.txt")
            .send(),
    )
    .unwrap();
    destroy_and_assert_empty(&ws, &moto);
}

/// The pipeline at address `label` named `name`, with `lines` added.
fn labelled(label: &str, name: &str, lines: &str) -> String {
    Pipeline::seed(label, &format!("{label}-bucket"))
        .extra(lines)
        .hcl()
        .replace(
            &format!("name          = \"{label}\""),
            &format!("name          = \"{name}\""),
        )
}

#[test]
fn a_new_name_moves_the_stream_and_the_event_queue_the_pipeline_makes() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let stream = "  stream {}\n";
    let queued = "  delivery      = \"queue\"\n";
    let both = |st: &str, qd: &str| {
        format!(
            "{}{}",
            labelled("st", st, stream),
            labelled("qd", qd, queued)
        )
    };
    let ws = applied(&tf, &moto, &both("st", "qd"));
    let aws = moto.aws().unwrap();
    let before = aws.sources().unwrap();
    assert_eq!(before.streams, ["st"]);
    assert_eq!(before.queues, ["qd-events"]);

    rewrite_main(&ws, &moto, &both("st2", "qd2"));
    let actions = planned_actions(&ws);
    for address in ["eventpipe_event_pipeline.st", "eventpipe_event_pipeline.qd"] {
        assert_eq!(
            actions.get(address).map(Vec::as_slice),
            Some(&["update".to_owned()][..]),
            "{actions:?}"
        );
    }
    let plan = flat(&ws.plan(&[]).unwrap());
    // (Terraform shows the first of two similar warnings in full.)
    assert!(
        plan.contains(r#"the stream "st" (new: "st2")"#)
            && plan.contains(
                r#"event_queue_arn = "arn:aws:sqs:us-east-1:123456789012:qd-events" -> "arn:aws:sqs:us-east-1:123456789012:qd2-events""#
            )
            && plan.contains("stream_mapping_id = ")
            && plan.contains("0 to add, 2 to change, 0 to destroy"),
        "{plan}"
    );
    ws.apply_auto().unwrap();

    // The new stream and queue, each read by the new function; nothing
    // left under the old names.
    let after = aws.sources().unwrap();
    assert_eq!(after.streams, ["st2"]);
    assert_eq!(after.queues, ["qd2-events"]);
    let mut read: Vec<(String, String)> = after
        .mappings
        .iter()
        .map(|m| {
            let (source, function) = m.split_once(" -> ").unwrap();
            let source = source.rsplit([':', '/']).next().unwrap().to_owned();
            let function = function.rsplit(':').next().unwrap().to_owned();
            (source, function)
        })
        .collect();
    read.sort();
    assert_eq!(
        read,
        [
            ("qd2-events".to_owned(), "qd2".to_owned()),
            ("st2".to_owned(), "st2".to_owned())
        ],
        "{}",
        after
    );
    let inv = aws.list_everything().unwrap();
    assert_eq!(inv.functions, ["qd2", "st2"]);
    // S3 notifies the new queue.
    let notes = aws.notifications("qd-bucket").unwrap();
    let targets: Vec<&str> = notes
        .queue_configurations()
        .iter()
        .map(|q| q.queue_arn())
        .collect();
    assert_eq!(targets.len(), 1, "{notes:?}");
    assert!(targets[0].ends_with(":qd2-events"), "{targets:?}");
    assert_plan_empty(&ws, EMPTY_PLAN);
    destroy_and_assert_empty(&ws, &moto);
}
