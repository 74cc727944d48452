//! The plugin foundation, end to end: a real Terraform CLI installs the
//! provider from a filesystem mirror, reads its schema, validates and plans.

mod common;

use common::*;
use tests::Moto;

#[test]
fn init_schema_validate_and_plan_work_on_every_supported_cli() {
    for tf in clis() {
        let moto = Moto::start().unwrap();
        let ws = workspace(&tf, &moto, &seed_resource("seed", "seed-data-bucket", ""));

        let init = ws.init().unwrap();
        assert!(init.success(), "{init}");
        assert!(
            init.contains("eventpipe/eventpipe v0.2.0"),
            "init should install our provider from the mirror:\n{init}"
        );

        // The schema Terraform sees: every attribute, described; secrets marked.
        let schema = ws.providers_schema_json().unwrap();
        let provider = &schema["provider_schemas"]["registry.terraform.io/eventpipe/eventpipe"];
        let p = &provider["provider"]["block"]["attributes"];
        for a in [
            "region",
            "profile",
            "access_key",
            "secret_key",
            "endpoint_url",
            "s3_use_path_style",
            "max_retries",
            "default_tags",
        ] {
            assert!(
                p[a]["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{} provider.{a}",
                tf.label
            );
        }
        assert_eq!(
            p["secret_key"]["sensitive"], true,
            "secret_key must be sensitive"
        );
        let endpoints =
            &provider["provider"]["block"]["block_types"]["endpoints"]["block"]["attributes"];
        for s in ["s3", "lambda", "iam", "sts", "kinesis", "logs"] {
            assert!(endpoints[s].is_object(), "endpoints.{s}");
        }
        let r = &provider["resource_schemas"]["eventpipe_event_pipeline"]["block"];
        for a in [
            "id",
            "name",
            "bucket_name",
            "force_destroy",
            "tags",
            "bucket_arn",
            "role_name",
            "role_arn",
            "function_name",
            "function_arn",
            "source_code_hash",
            "policy_json",
        ] {
            assert!(
                r["attributes"][a]["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{}: resource attribute {a} missing or undescribed",
                tf.label
            );
        }
        assert_eq!(r["attributes"]["name"]["required"], true);
        assert_eq!(r["attributes"]["bucket_name"]["optional"], true);
        assert_eq!(r["attributes"]["bucket_name"]["computed"], true);
        let f = &r["block_types"]["function"];
        assert_eq!(f["nesting_mode"], "single");
        assert_eq!(f["min_items"], 1);
        for a in [
            "source_dir",
            "handler",
            "runtime",
            "memory_size",
            "timeout",
            "environment",
            "architecture",
            "description",
        ] {
            assert!(
                f["block"]["attributes"][a]["description"].is_string(),
                "function.{a}"
            );
        }
        assert_eq!(f["block"]["attributes"]["environment"]["sensitive"], true);
        let t = &r["block_types"]["trigger"];
        assert_eq!(t["min_items"], 1);
        for a in ["events", "filter_prefix", "filter_suffix"] {
            assert!(
                t["block"]["attributes"][a]["description"].is_string(),
                "trigger.{a}"
            );
        }

        let validate = ws.validate().unwrap();
        assert!(validate.success(), "{validate}");

        let plan = ws.plan(&[]).unwrap();
        assert!(plan.success(), "{plan}");
        assert!(
            plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
            "{plan}"
        );
        // The reviewer sees the exact policy, scoped to the trigger prefix.
        assert!(plan.contains("policy_json"), "{plan}");
        assert!(plan.contains("s3:GetObject"), "{plan}");
        assert!(
            plan.contains("arn:aws:s3:::seed-data-bucket/data/*"),
            "{plan}"
        );
        assert!(plan.contains("/aws/lambda/seed"), "{plan}");
        assert!(plan.contains("source_code_hash"), "{plan}");
        assert_emulator_empty(&moto);
    }
}

#[test]
fn a_derived_bucket_name_is_shown_in_the_plan() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body = seed_resource("derived", "x", "").replace("  bucket_name   = \"x\"\n", "");
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let plan = ws.plan(&[]).unwrap();
    assert!(plan.success(), "{plan}");
    assert!(
        plan.contains("bucket_name") && plan.contains("\"derived-"),
        "the derived bucket name should be in the plan:\n{plan}"
    );
    assert_emulator_empty(&moto);
}

#[test]
fn wrong_types_and_unknown_attributes_get_terraforms_own_errors() {
    for tf in clis() {
        let moto = Moto::start().unwrap();
        let ws = workspace(
            &tf,
            &moto,
            &seed_resource("bad", "bad-bucket", "  no_such_attribute = 1\n"),
        );
        ws.init().unwrap();
        let out = ws.run(&["validate"]).unwrap();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.contains("Unsupported argument"), "{out}");
        assert!(out.contains("no_such_attribute"), "{out}");

        let body = seed_resource("bad", "bad-bucket", "")
            .replace("memory_size = 512", "memory_size = \"lots\"");
        rewrite_main(&ws, &moto, &body);
        let out = ws.run(&["validate"]).unwrap();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.contains("Incorrect attribute value type"), "{out}");
        for crash in ["panic", "Plugin did not respond", "plugin exited"] {
            assert!(!out.combined().contains(crash), "{crash} in:\n{out}");
        }
    }
}

#[test]
fn invalid_values_are_refused_at_plan_with_the_attribute_named() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let body = seed_resource("badval", "badval-bucket", "").replace(
        "runtime     = \"python3.12\"",
        "runtime     = \"python3.8\"",
    );
    let ws = workspace(&tf, &moto, &body);
    ws.init().unwrap();
    let out = ws.run(&["plan"]).unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.contains("function.runtime"), "{out}");
    assert!(out.contains("deprecated"), "{out}");
    assert!(out.contains("python3.13"), "{out}");
    assert_emulator_empty(&moto);
}

#[test]
fn running_the_binary_by_hand_explains_itself_and_exits_non_zero() {
    let bin = tests::provider_bin::provider_binary().unwrap();
    let out = std::process::Command::new(bin)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing may go to stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("plugin"), "{stderr}");
}
