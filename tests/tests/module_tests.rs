//! The module's own tests, `modules/event-pipeline/tests/*.tftest.hcl`, run
//! with `terraform test` against the emulator: the defaults and the
//! validations in plan-only runs, the outputs after one apply.
//!
//! `terraform test` in its current form needs Terraform 1.6; older CLIs
//! (1.0.3 here, whose experimental `terraform test` is another command) are
//! skipped with a message. The module is copied into a workspace so the
//! run writes nothing into the repository, and the provider comes from the
//! harness's filesystem mirror; the emulator is given through the
//! environment (`AWS_ENDPOINT_URL`, region, credentials), which the module's
//! provider configuration falls back to.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{assert_emulator_empty, clis};
use tests::{Moto, Workspace, tools};

const MODULE: &str = "modules/event-pipeline";

/// The `.tftest.hcl` files and how many `run` blocks each holds.
fn test_files() -> Vec<(String, usize)> {
    let dir = tools::repo_root().join(MODULE).join("tests");
    let mut files: Vec<(String, usize)> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.ends_with(".tftest.hcl").then(|| {
                let text = fs::read_to_string(dir.join(&name)).unwrap();
                let runs = text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("run \""))
                    .count();
                (name, runs)
            })
        })
        .collect();
    files.sort();
    files
}

/// Copies the module (its `.tf` files and `tests/`) into `to`.
fn copy_module(to: &Path) {
    let from = tools::repo_root().join(MODULE);
    copy_tree(&from, to, &|path: &Path| {
        path.is_dir() && path.file_name().is_some_and(|n| n == "tests")
            || path
                .extension()
                .is_some_and(|e| e == "tf" || e == "hcl" || e == "py")
    });
}

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            if keep(&path) || from.file_name().is_some_and(|n| n == "tests") {
                copy_tree(&path, &target, &|_| true);
            }
        } else if keep(&path) {
            fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn the_module_s_terraform_tests_pass_against_the_emulator() {
    let files = test_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "defaults.tftest.hcl",
            "outputs.tftest.hcl",
            "validation.tftest.hcl"
        ],
        "the module's test files"
    );
    let runs: usize = files.iter().map(|(_, n)| n).sum();
    let mut ran = 0;
    for tf in clis() {
        if !tf.at_least(1, 6) {
            eprintln!(
                "SKIPPED on Terraform {}: `terraform test` needs Terraform 1.6 or later",
                tf.label
            );
            continue;
        }
        let moto = Moto::start().expect("moto");
        let mut ws = Workspace::new(&tf).expect("workspace");
        ws.envs(moto.env_vars()).timeout(Duration::from_secs(600));
        copy_module(ws.dir());
        assert!(ws.dir().join("tests/app/app.py").is_file());
        ws.init().expect("init");

        let out = ws.run(&["test"]).expect("terraform test");
        assert!(out.success(), "{}: {out}", tf.label);
        for (name, _) in &files {
            assert!(
                out.contains(&format!("tests/{name}... pass")),
                "{}: {name} should pass: {out}",
                tf.label
            );
        }
        assert!(
            out.contains(&format!("Success! {runs} passed, 0 failed.")),
            "{}: every one of the {runs} runs should pass: {out}",
            tf.label
        );
        // `terraform test` destroys what its apply made: nothing is left.
        assert_emulator_empty(&moto);
        ran += 1;
    }
    if ran == 0 {
        eprintln!("SKIPPED: no Terraform CLI under test has `terraform test` (1.6 or later)");
    }
}
