//! `function.exclude` and the default skips, end to end with no network:
//! what stays out is neither in the deployed zip (its `CodeSha256` is that
//! of `eventpipe package`'s zip, whose entries the test reads) nor in
//! `source_files`; the next plan is empty, and a file added under an
//! excluded directory plans no change. `.venv/` is never packaged, nor the
//! source's `node_modules/` when npm installs the dependencies. A pattern
//! that leaves out the handler's file, and one that does not parse, are
//! refused at plan on their attribute paths.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use common::*;
use tests::{Moto, TerraformCli, Workspace};

/// Returns what the function's directory holds, as Lambda would show it.
const PY_APP: &str = "import os\n\n\ndef handler(event, context):\n    \
root = os.environ['LAMBDA_TASK_ROOT']\n    \
return sorted(os.path.relpath(os.path.join(d, f), root) \
for d, _, fs in os.walk(root) for f in fs)\n";

const NODE_APP: &str =
    "const tiny = require(\"tinyjs\");\n\nexports.handler = async () => tiny.greet();\n";

/// `eventpipe package` of `dir` with `extra` arguments: the zip's entries,
/// its bytes and the printed base64 SHA-256.
fn cli_package(
    dir: &Path,
    runtime: &str,
    extra: &[&str],
    env: &[(String, String)],
) -> (Vec<String>, Vec<u8>, String) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("package.zip");
    let run = Command::new(tests::tools::eventpipe_cli())
        .args(["package", "--source-dir"])
        .arg(dir)
        .args(["--runtime", runtime, "--architecture", "x86_64", "-o"])
        .arg(&out)
        .args(extra)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run eventpipe package");
    assert!(
        run.status.success(),
        "eventpipe package: {}",
        process_text(&run)
    );
    let sha = String::from_utf8(run.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let bytes = std::fs::read(&out).expect("package zip");
    let z = zip::ZipArchive::new(Cursor::new(bytes.clone())).expect("a zip");
    let names = z
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect();
    (names, bytes, sha)
}

/// An offline npm with a cache of its own, and a package cache of the
/// test's own.
fn offline_env(dir: &Path) -> Vec<(String, String)> {
    vec![
        (
            "EVENTPIPE_CACHE_DIR".to_owned(),
            dir.join("cache").display().to_string(),
        ),
        ("npm_config_offline".to_owned(), "true".to_owned()),
        (
            "npm_config_cache".to_owned(),
            dir.join("npm").display().to_string(),
        ),
    ]
}

fn npm_lock(dir: &Path, env: &[(String, String)]) {
    let out = Command::new("npm")
        .args([
            "install",
            "--package-lock-only",
            "--offline",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("npm install --package-lock-only");
    assert!(out.status.success(), "npm lock: {}", process_text(&out));
}

/// A pipeline whose source is `./<dir>`.
fn pipeline_in(pipeline: Pipeline, dir: &str) -> String {
    pipeline
        .hcl()
        .replace("${path.module}/app\"", &format!("${{path.module}}/{dir}\""))
}

/// The names `source_files` lists in the state of pipeline `name`.
fn source_files(ws: &Workspace, name: &str) -> Vec<String> {
    let attrs = state_attrs(ws, name);
    let files = attrs["source_files"].as_object().expect("source_files");
    let names: Vec<String> = files.keys().cloned().collect();
    assert_eq!(
        attrs["source_file_count"].as_i64(),
        Some(names.len() as i64),
        "source_file_count of {name}"
    );
    names
}

fn function_name(ws: &Workspace, name: &str) -> String {
    state_attrs(ws, name)["function_name"]
        .as_str()
        .expect("function_name")
        .to_owned()
}

/// Two pipelines in one workspace: `ex`, a Python function with
/// `exclude = ["notebooks/", "*.parquet"]` and a `.venv/`; `js`, a Node.js
/// function whose npm lock the provider installs, with a stale
/// `node_modules/` in its source.
fn exclude_case(tf: &TerraformCli) {
    let moto = Moto::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = offline_env(tmp.path());
    let body = format!(
        "{}\n{}",
        Pipeline::named("ex")
            .default_sizes()
            .no_filter_suffix()
            .function_lines("    exclude     = [\"notebooks/\", \"*.parquet\"]\n")
            .hcl(),
        pipeline_in(
            Pipeline::named("js")
                .runtime("nodejs24.x", "index.handler")
                .default_sizes()
                .no_filter_suffix(),
            "js"
        )
    );
    let mut ws = workspace(tf, &moto, &body);
    ws.envs(env.clone());
    ws.write("app/app.py", PY_APP).unwrap();
    ws.write("app/lib/util.py", "X = 1\n").unwrap();
    ws.write("app/notebooks/explore.ipynb", "{\"cells\": []}\n")
        .unwrap();
    ws.write("app/notebooks/scratch/more.py", "1\n").unwrap();
    ws.write("app/sample.parquet", "PAR1").unwrap();
    ws.write("app/data/deep/rows.parquet", "PAR1").unwrap();
    ws.write("app/.venv/lib/python3.12/site-packages/x.py", "x\n")
        .unwrap();
    ws.write("app/.venv/pyvenv.cfg", "home = /usr\n").unwrap();

    ws.write("js/index.js", NODE_APP).unwrap();
    let js = ws.dir().join("js");
    pack_tinyjs(&js.join("vendor"));
    ws.write(
        "js/package.json",
        r#"{"name":"fn","version":"1.0.0","dependencies":{"tinyjs":"file:vendor/tinyjs-1.0.0.tgz"}}"#,
    )
    .unwrap();
    npm_lock(&js, &env);
    // A stale install in the source: the package has npm's fresh one.
    ws.write(
        "js/node_modules/tinyjs/index.js",
        "exports.greet = () => \"stale\";\n",
    )
    .unwrap();
    ws.write("js/node_modules/leftover/index.js", "1\n")
        .unwrap();

    ws.init().unwrap();
    let plan = ws.plan(&[]).unwrap().ok().unwrap();
    let listed = planned_source_files(&flat(&plan));
    assert_eq!(
        listed,
        [
            vec!["app.py", "lib/util.py"],
            vec![
                "index.js",
                "package-lock.json",
                "package.json",
                "vendor/tinyjs-1.0.0.tgz"
            ]
        ],
        "{}: the plan's source_files",
        tf.label
    );
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 2 added"),
        "{}: {apply}",
        tf.label
    );

    // source_files in the state: only what is packaged.
    assert_eq!(source_files(&ws, "ex"), ["app.py", "lib/util.py"]);
    assert_eq!(
        source_files(&ws, "js"),
        [
            "index.js",
            "package-lock.json",
            "package.json",
            "vendor/tinyjs-1.0.0.tgz"
        ]
    );

    // The deployed zips: eventpipe package's, whose entries are these.
    let aws = moto.aws().unwrap();
    let app = ws.dir().join("app");
    let (names, _, sha) = cli_package(
        &app,
        "python3.12",
        &["--exclude", "notebooks/", "--exclude", "*.parquet"],
        &env,
    );
    assert_eq!(names, ["app.py", "lib/util.py"], "{}", tf.label);
    assert_eq!(
        aws.code_sha256(&function_name(&ws, "ex")).unwrap(),
        sha,
        "{}: the deployed CodeSha256 is that of the zip without the excluded files",
        tf.label
    );
    let (names, bytes, sha) = cli_package(&js, "nodejs24.x", &[], &env);
    assert!(
        names.contains(&"node_modules/tinyjs/index.js".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("leftover")),
        "the source's node_modules stays out: {names:?}"
    );
    assert_eq!(
        zip_entry(&bytes, "node_modules/tinyjs/index.js"),
        "exports.greet = () => \"hello from tinyjs\";\n",
        "npm's install, not the source's stale copy"
    );
    assert_eq!(
        aws.code_sha256(&function_name(&ws, "js")).unwrap(),
        sha,
        "{}",
        tf.label
    );
    assert_plan_empty(&ws, "a plan after applying with exclude");

    // `eventpipe invoke --local` runs the handlers on the packaged files.
    let show = ws.show_json().expect("show -json");
    ws.write("state.json", show.to_string()).unwrap();
    assert_eq!(
        invoke_local(ws.dir(), "ex", &env),
        serde_json::json!(["app.py", "lib/util.py"]),
        "{}",
        tf.label
    );
    assert_eq!(
        invoke_local(ws.dir(), "js", &env),
        serde_json::json!("hello from tinyjs"),
        "{}: npm's install, not the source's stale node_modules",
        tf.label
    );

    // What stays out can change without a code change.
    ws.write("app/notebooks/new.ipynb", "{}\n").unwrap();
    ws.write("app/more.parquet", "PAR1").unwrap();
    ws.write("app/.venv/lib/python3.12/site-packages/y.py", "y\n")
        .unwrap();
    ws.write("js/node_modules/leftover/more.js", "2\n").unwrap();
    assert_plan_empty(&ws, "files added under what exclude leaves out");

    // A packaged file is a code change that names it.
    ws.write("app/lib/util.py", "X = 2\n").unwrap();
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert!(text.contains("~ source_code_hash"), "{}: {text}", tf.label);
    assert!(text.contains("lib/util.py"), "{}: {text}", tf.label);
    assert!(!text.contains("notebooks/"), "{}: {text}", tf.label);
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn excluded_files_are_neither_deployed_nor_listed_and_plan_no_change() {
    exclude_case(&newest_cli());
}

#[test]
fn exclude_on_terraform_1_0() {
    let tf = clis().pop().expect("a CLI");
    assert!(
        tf.label.starts_with("1.0"),
        "the oldest CLI is 1.0.x: {}",
        tf.label
    );
    exclude_case(&tf);
}

/// One plan, three refusals: `hit` leaves out its handler's file, `bad` has
/// a pattern that does not parse, and so has `late`, whose patterns come
/// from a variable (unknown when Terraform validates the configuration, so
/// refused by the plan itself). Nothing is created.
#[test]
fn a_bad_exclude_is_refused_at_plan_on_its_attribute_path() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let late = format!(
        "{}\n{}",
        "variable \"late\" {\n  default = [\"*.csv\", \"{a,b\"]\n}\n",
        pipeline_in(
            Pipeline::named("late")
                .default_sizes()
                .no_filter_suffix()
                .function_lines("    exclude     = var.late\n"),
            "bad"
        )
    );
    let body = format!(
        "{}\n{}",
        Pipeline::named("hit")
            .default_sizes()
            .no_filter_suffix()
            .function_lines("    exclude     = [\"notebooks/\", \"*.py\", \"!test_*.py\"]\n")
            .hcl(),
        pipeline_in(
            Pipeline::named("bad")
                .default_sizes()
                .no_filter_suffix()
                .function_lines("    exclude     = [\"notebooks/\", \"data[0-9\"]\n"),
            "bad"
        )
    );
    let ws = workspace(&tf, &moto, &body);
    ws.write("app/app.py", PY_APP).unwrap();
    ws.write("app/README.md", "docs\n").unwrap();
    ws.write("bad/app.py", PY_APP).unwrap();
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(
        text.contains("Error: Exclude pattern leaves out the handler"),
        "{text}"
    );
    assert!(
        text.contains(
            "The pattern \"*.py\" leaves out app.py, the file of handler \"app.handler\""
        ),
        "{text}"
    );
    assert!(text.contains("with eventpipe_event_pipeline.hit"), "{text}");
    assert!(text.contains("Error: Invalid exclude pattern"), "{text}");
    assert!(
        text.contains("\"data[0-9\" is not a gitignore-style pattern"),
        "{text}"
    );
    assert!(text.contains("with eventpipe_event_pipeline.bad"), "{text}");
    // The attribute paths, as Terraform highlights them: the element for
    // the bad pattern, the whole list for the handler's.
    let json = ws.run(&["plan", "-json"]).unwrap();
    let highlighted = highlights(&json.stdout);
    let at = |address: &str, summary: &str, text: &str| {
        (address.to_owned(), summary.to_owned(), text.to_owned())
    };
    assert!(
        highlighted.contains(&at(
            "eventpipe_event_pipeline.hit",
            "Exclude pattern leaves out the handler",
            "[\"notebooks/\", \"*.py\", \"!test_*.py\"]"
        )),
        "{highlighted:?}"
    );
    assert!(
        highlighted.contains(&at(
            "eventpipe_event_pipeline.bad",
            "Invalid exclude pattern",
            "\"data[0-9\""
        )),
        "{highlighted:?}"
    );
    assert_eq!(highlighted.len(), 2, "{highlighted:?}");

    // Patterns unknown while Terraform validates: the plan refuses them.
    rewrite_main(&ws, &moto, &late);
    let json = ws.run(&["plan", "-json"]).unwrap();
    assert!(!json.success(), "{}", json.combined());
    let highlighted = highlights(&json.stdout);
    assert_eq!(
        highlighted,
        [at(
            "eventpipe_event_pipeline.late",
            "Invalid exclude pattern",
            "var.late"
        )],
        "{}",
        json.combined()
    );
    assert!(
        json.stdout
            .contains("\\\"{a,b\\\" is not a gitignore-style pattern"),
        "{}",
        json.stdout
    );
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a plan creates nothing"
    );
}

/// Each error diagnostic of `terraform plan -json`'s output: the resource
/// it is on, its summary and the text Terraform highlights in its snippet (the configuration of
/// the attribute path it is on).
fn highlights(json_lines: &str) -> Vec<(String, String, String)> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["type"] == "diagnostic" && m["diagnostic"]["severity"] == "error")
        .map(|m| {
            let d = &m["diagnostic"];
            let snippet = &d["snippet"];
            let code = snippet["code"].as_str().unwrap_or_default();
            let at = |k: &str| snippet[k].as_u64().unwrap_or_default() as usize;
            let text = code
                .get(at("highlight_start_offset")..at("highlight_end_offset"))
                .unwrap_or_default();
            (
                d["address"].as_str().unwrap_or_default().to_owned(),
                d["summary"].as_str().unwrap_or_default().to_owned(),
                text.to_owned(),
            )
        })
        .collect()
}

/// The names in each `source_files = { ... }` map of a plan's folded
/// text, in order.
fn planned_source_files(text: &str) -> Vec<Vec<String>> {
    text.split("+ source_files = {")
        .skip(1)
        .map(|rest| {
            let map = rest.split(" }").next().unwrap_or_default();
            map.split(" + ")
                .filter_map(|entry| entry.trim().trim_start_matches("+ ").split(" = ").next())
                .map(|name| name.trim_matches('"').to_owned())
                .filter(|name| !name.is_empty())
                .collect()
        })
        .collect()
}

/// `eventpipe invoke NAME --local --state state.json` in `dir`: the
/// handler's result.
fn invoke_local(dir: &Path, name: &str, env: &[(String, String)]) -> serde_json::Value {
    let run = Command::new(tests::tools::eventpipe_cli())
        .args(["invoke", name, "--key", "data/a.json", "--local"])
        .args(["--state", "state.json", "--json"])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", tests::aws::REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run eventpipe invoke");
    let text = process_text(&run);
    assert!(run.status.success(), "eventpipe invoke --local: {text}");
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {text}"));
    doc["result"].clone()
}
