//! Every example applies as it is against the emulator (reached through the
//! standard AWS_ENDPOINT_URL variable), plans empty, and destroys cleanly.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use tests::{Moto, Workspace, tools};

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
