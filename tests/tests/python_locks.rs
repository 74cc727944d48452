//! Python projects with a lock, end to end with no network: a uv project
//! (`pyproject.toml` + `uv.lock`, its handler in its own package under
//! `src/`, built with hatchling from `.tools/wheels`), a Poetry project
//! (`poetry.lock`), a PEP 751 `pylock.toml` and, as the control, a
//! `requirements.txt`, all naming `tinylib`, a wheel the test builds. The
//! locks are made by the real tools here, offline (`UV_OFFLINE`,
//! `UV_FIND_LINKS`, a Poetry `file:` dependency).
//!
//! Four pipelines in one workspace: apply deploys each with the locked
//! version; `eventpipe package` builds the deployed bytes (its SHA-256 is
//! the deployed `CodeSha256`, read with the tests' own client, so the zip
//! read here is the deployed one); the next plan is empty; a version bump
//! in each lock is a code change. The uv project's handler is imported
//! from the unpacked package and called with `eventpipe event s3`'s event.
//! Bad input (no uv, a stale lock, two locks) is refused at plan.

mod common;

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use tests::{Moto, TerraformCli, Workspace};

/// A pure-Python wheel of `tinylib` `version` (module + dist-info).
fn write_wheel(dir: &Path, version: &str) {
    let path = dir.join(format!("tinylib-{version}-py3-none-any.whl"));
    let info = format!("tinylib-{version}.dist-info");
    let files = [
        (
            "tinylib/__init__.py".to_owned(),
            format!("VERSION = {version:?}\n"),
        ),
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: tinylib\nVersion: {version}\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: eventpipe-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_owned(),
        ),
    ];
    let mut record: String = files.iter().map(|(n, _)| format!("{n},,\n")).collect();
    record.push_str(&format!("{info}/RECORD,,\n"));
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).expect("wheel file"));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in files.iter().chain([&(format!("{info}/RECORD"), record)]) {
        z.start_file(name.as_str(), opts).expect("wheel entry");
        z.write_all(body.as_bytes()).expect("wheel body");
    }
    z.finish().expect("wheel");
}

/// A handler that says which tinylib it sees and which key it was called for.
const APP: &str = "import tinylib\n\n\ndef handler(event, context):\n    \
    key = event[\"Records\"][0][\"s3\"][\"object\"][\"key\"]\n    \
    return {\"tinylib\": tinylib.VERSION, \"key\": key}\n";

/// The test's environment: the package tools first on PATH, every tool
/// offline and pointed at the test's wheels (and the build backends'), and
/// caches and configuration of its own.
struct Env {
    _dirs: tempfile::TempDir,
    wheels: PathBuf,
    vars: Vec<(String, String)>,
}

fn offline_env() -> Env {
    let tools = tests::tools::package_tools().expect("package tools");
    let dirs = tempfile::tempdir().expect("tempdir");
    let d = |n: &str| dirs.path().join(n).display().to_string();
    let wheels = dirs.path().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for v in ["1.0.0", "1.1.0"] {
        write_wheel(&wheels, v);
    }
    // uv needs an interpreter only to build the project's package (any
    // Python 3 runs hatchling); the shims of newer versions fail here.
    let home = std::env::var("HOME").unwrap_or_default();
    let real = Path::new(&home).join(".pyenv/versions/3.13.0/bin/python3");
    let python = if real.is_file() {
        real.display().to_string()
    } else {
        "python3".to_owned()
    };
    let vars = vec![
        ("PATH", tools.path().to_string_lossy().into_owned()),
        ("UV_OFFLINE", "1".to_owned()),
        (
            "UV_FIND_LINKS",
            format!("{},{}", wheels.display(), tools.wheels.display()),
        ),
        ("UV_PYTHON", python),
        ("UV_CACHE_DIR", d("uv-cache")),
        ("UV_NO_PROGRESS", "1".to_owned()),
        ("POETRY_CACHE_DIR", d("poetry-cache")),
        ("POETRY_CONFIG_DIR", d("poetry-config")),
        ("POETRY_DATA_DIR", d("poetry-data")),
        ("POETRY_VIRTUALENVS_CREATE", "false".to_owned()),
        ("XDG_CONFIG_HOME", d("config")),
        ("XDG_DATA_HOME", d("data")),
        ("PIP_NO_INDEX", "1".to_owned()),
        ("PIP_FIND_LINKS", wheels.display().to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".to_owned()),
        ("EVENTPIPE_CACHE_DIR", d("eventpipe-cache")),
    ];
    Env {
        vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        wheels,
        _dirs: dirs,
    }
}

impl Env {
    /// `program args` in `dir` with this environment; must succeed.
    fn run(&self, dir: &Path, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            process_text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wheel(&self, version: &str) -> String {
        format!(
            "file://{}",
            self.wheels
                .join(format!("tinylib-{version}-py3-none-any.whl"))
                .display()
        )
    }
}

/// A pipeline from `./<name>`, with `handler`.
fn pipeline(name: &str, handler: &str, lines: &str) -> String {
    Pipeline::named(name)
        .runtime("python3.12", handler)
        .default_sizes()
        .no_filter_suffix()
        .function_lines(lines)
        .hcl()
        .replace(
            "${path.module}/app\"",
            &format!("${{path.module}}/{name}\""),
        )
}

fn uv_pyproject(version: &str) -> String {
    format!(
        "[project]\nname = \"mypkg\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n\
         dependencies = [\"tinylib=={version}\"]\n\n[build-system]\nrequires = [\"hatchling\"]\n\
         build-backend = \"hatchling.build\"\n"
    )
}

fn poetry_pyproject(env: &Env, version: &str) -> String {
    format!(
        "[project]\nname = \"fn\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n\
         dependencies = [\"tinylib @ {}\"]\n\n[tool.poetry]\npackage-mode = false\n",
        env.wheel(version)
    )
}

/// The uv project in `dir` at tinylib `version`, locked by uv.
fn uv_project(env: &Env, dir: &Path, version: &str) {
    std::fs::create_dir_all(dir.join("src/mypkg")).unwrap();
    std::fs::write(dir.join("src/mypkg/__init__.py"), "").unwrap();
    std::fs::write(dir.join("src/mypkg/app.py"), APP).unwrap();
    std::fs::write(dir.join("pyproject.toml"), uv_pyproject(version)).unwrap();
    env.run(dir, "uv", &["lock", "--quiet"]);
}

/// The Poetry project in `dir` at tinylib `version`, locked by Poetry.
fn poetry_project(env: &Env, dir: &Path, version: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("app.py"), APP).unwrap();
    std::fs::write(dir.join("pyproject.toml"), poetry_pyproject(env, version)).unwrap();
    env.run(dir, "poetry", &["lock", "--no-interaction", "--no-ansi"]);
}

/// `dir/pylock.toml` pinning tinylib `version`, exported by uv from a
/// scratch project (only the pylock.toml is kept).
fn pylock_project(env: &Env, dir: &Path, version: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("app.py"), APP).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(
        scratch.path().join("pyproject.toml"),
        format!(
            "[project]\nname = \"scratch\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n\
             dependencies = [\"tinylib=={version}\"]\n"
        ),
    )
    .unwrap();
    env.run(scratch.path(), "uv", &["lock", "--quiet"]);
    let lock = env.run(
        scratch.path(),
        "uv",
        &[
            "export",
            "--frozen",
            "--format",
            "pylock.toml",
            "--no-emit-project",
            "--quiet",
        ],
    );
    std::fs::write(dir.join("pylock.toml"), lock).unwrap();
}

fn requirements_project(dir: &Path, version: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("app.py"), APP).unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        format!("tinylib=={version}\n"),
    )
    .unwrap();
}

/// The four cases: pipeline name, handler, the module file in the package.
const CASES: [(&str, &str, &str); 4] = [
    ("uvp", "mypkg.app.handler", "mypkg/app.py"),
    ("poe", "app.handler", "app.py"),
    ("pyl", "app.handler", "app.py"),
    ("req", "app.handler", "app.py"),
];

/// Writes the four projects at tinylib `version`.
fn write_projects(env: &Env, ws: &Workspace, version: &str) {
    let dir = |n: &str| ws.dir().join(n);
    uv_project(env, &dir("uvp"), version);
    poetry_project(env, &dir("poe"), version);
    pylock_project(env, &dir("pyl"), version);
    requirements_project(&dir("req"), version);
}

fn workspace_of_four(tf: &TerraformCli, moto: &Moto, env: &Env) -> Workspace {
    let body: String = CASES.iter().map(|(n, h, _)| pipeline(n, h, "")).collect();
    let mut ws = workspace(tf, moto, &body);
    ws.envs(env.vars.clone());
    ws.timeout(std::time::Duration::from_secs(600));
    write_projects(env, &ws, "1.0.0");
    ws
}

/// `eventpipe package` of `dir`: the zip's bytes and its base64 SHA-256.
fn cli_package(dir: &Path, env: &Env) -> (Vec<u8>, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("package.zip");
    let run = Command::new(tests::tools::eventpipe_cli())
        .args(["package", "--source-dir"])
        .arg(dir)
        .args(["--runtime", "python3.12", "--architecture", "x86_64", "-o"])
        .arg(&out)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run eventpipe package");
    assert!(
        run.status.success(),
        "eventpipe package: {}",
        process_text(&run)
    );
    let sha = String::from_utf8_lossy(&run.stdout).trim().to_owned();
    (std::fs::read(&out).unwrap(), sha)
}

/// Every case is deployed with tinylib `version`, as `eventpipe package`
/// builds it; returns the uv project's package.
fn assert_deployed(ws: &Workspace, moto: &Moto, env: &Env, version: &str, label: &str) -> Vec<u8> {
    let aws = moto.aws().unwrap();
    let mut uv_zip = Vec::new();
    for (name, _, module) in CASES {
        let (bytes, sha) = cli_package(&ws.dir().join(name), env);
        let function = state_attrs(ws, name)["function_name"]
            .as_str()
            .expect("function_name")
            .to_owned();
        assert_eq!(
            aws.code_sha256(&function).unwrap(),
            sha,
            "{label} {name}: the deployed CodeSha256 is eventpipe package's"
        );
        assert!(zip_entry(&bytes, module).contains("def handler"), "{name}");
        assert_eq!(
            zip_entry(&bytes, "tinylib/__init__.py"),
            format!("VERSION = {version:?}\n"),
            "{label} {name}: the locked version is deployed"
        );
        if name == "uvp" {
            uv_zip = bytes;
        }
    }
    uv_zip
}

/// Unpacks `zip` and calls `mypkg.app.handler` with the S3 event
/// `eventpipe event s3` builds: what the handler returns, as JSON.
fn run_src_layout_handler(zip_bytes: &[u8], env: &Env) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    zip::ZipArchive::new(Cursor::new(zip_bytes.to_vec()))
        .unwrap()
        .extract(dir.path())
        .unwrap();
    let event = Command::new(tests::tools::eventpipe_cli())
        .args([
            "event",
            "s3",
            "--bucket",
            "uvp-bucket",
            "--key",
            "data/in.json",
        ])
        .output()
        .expect("eventpipe event s3");
    assert!(event.status.success(), "{}", process_text(&event));
    let script = "import json, sys\nsys.path.insert(0, sys.argv[1])\n\
                  from mypkg.app import handler\n\
                  print(json.dumps(handler(json.load(sys.stdin), None)))\n";
    let python = env
        .vars
        .iter()
        .find(|(k, _)| k == "UV_PYTHON")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "python3".into());
    let mut child = Command::new(python)
        .args(["-c", script])
        .arg(dir.path())
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&event.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "handler: {}", process_text(&out));
    serde_json::from_slice(&out.stdout).expect("the handler's JSON")
}

#[test]
fn uv_poetry_pylock_and_requirements_deploy_the_locked_versions() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let ws = workspace_of_four(&tf, &moto, &env);
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(apply.contains("Resources: 4 added"), "{apply}");
    let uv_zip = assert_deployed(&ws, &moto, &env, "1.0.0", &tf.label);
    assert_plan_empty(&ws, "the plan after applying the four locks");

    // Without Poetry, the provider reads poetry.lock itself (uv installs
    // it): the same package as through `poetry export`.
    let uv_only = tempfile::tempdir().unwrap();
    let tools = tests::tools::package_tools().unwrap();
    std::os::unix::fs::symlink(tools.bin.join("uv"), uv_only.path().join("uv")).unwrap();
    let mut path = std::ffi::OsString::from(uv_only.path());
    path.push(":");
    path.push(tools.path_without("poetry"));
    let no_poetry = Env {
        _dirs: tempfile::tempdir().unwrap(),
        wheels: env.wheels.clone(),
        vars: env
            .vars
            .iter()
            .map(|(k, v)| match k.as_str() {
                "PATH" => (k.clone(), path.to_string_lossy().into_owned()),
                "EVENTPIPE_CACHE_DIR" => (k.clone(), format!("{v}-no-poetry")),
                _ => (k.clone(), v.clone()),
            })
            .collect(),
    };
    let (_, sha) = cli_package(&ws.dir().join("poe"), &no_poetry);
    let poe = state_attrs(&ws, "poe")["function_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(moto.aws().unwrap().code_sha256(&poe).unwrap(), sha);

    // The project's own package (from src/) imports and runs.
    let result = run_src_layout_handler(&uv_zip, &env);
    assert_eq!(result["tinylib"], "1.0.0", "{result}");
    assert_eq!(result["key"], "data/in.json", "{result}");

    // `eventpipe invoke --local` runs it too: the source, the cached tree
    // and the project's own package on the path.
    let ran = Command::new(tests::tools::eventpipe_cli())
        .args([
            "invoke",
            "uvp",
            "--key",
            "data/in.json",
            "--local",
            "--json",
        ])
        .args(["--endpoint-url", &moto.endpoint()])
        .current_dir(ws.dir())
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .envs(moto.env_vars())
        .output()
        .expect("eventpipe invoke --local");
    assert!(ran.status.success(), "{}", process_text(&ran));
    let doc: serde_json::Value = serde_json::from_slice(&ran.stdout).expect("JSON");
    assert_eq!(
        doc["result"],
        serde_json::json!({"tinylib": "1.0.0", "key": "data/in.json"}),
        "{doc}"
    );

    // One version bump in each lock is a code change of each function.
    write_projects(&env, &ws, "1.1.0");
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert_eq!(
        text.matches("~ source_code_hash").count(),
        4,
        "every bumped lock changes its package: {text}"
    );
    assert!(text.contains("4 to change"), "{text}");
    ws.apply_auto().unwrap();
    assert_deployed(&ws, &moto, &env, "1.1.0", &tf.label);
    assert_plan_empty(&ws, "the plan after the bumped locks were applied");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn every_lock_kind_deploys_on_terraform_1_0_in_one_apply() {
    let tf = clis().pop().expect("a CLI");
    assert!(tf.label.starts_with("1.0"), "the oldest CLI: {}", tf.label);
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let ws = workspace_of_four(&tf, &moto, &env);
    ws.init().unwrap();
    ws.apply_auto().unwrap();
    assert_deployed(&ws, &moto, &env, "1.0.0", &tf.label);
    assert_plan_empty(&ws, "the plan after applying the four locks on 1.0");
    destroy_and_assert_empty(&ws, &moto);
}

/// `terraform plan` of `body` with `env` (and `PATH` replaced when given):
/// its flattened output, after checking it failed and created nothing.
fn failed_plan(
    tf: &TerraformCli,
    moto: &Moto,
    env: &Env,
    body: &str,
    path: Option<std::ffi::OsString>,
    setup: impl FnOnce(&Workspace),
) -> String {
    let mut ws = workspace(tf, moto, body);
    ws.envs(env.vars.clone());
    if let Some(p) = path {
        ws.env("PATH", p);
    }
    setup(&ws);
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a plan creates nothing"
    );
    text
}

#[test]
fn missing_uv_a_stale_lock_and_two_locks_are_refused_at_plan() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let tools = tests::tools::package_tools().unwrap();

    // No uv (nor Poetry) on PATH: each lock says what to install.
    let body = format!(
        "{}{}",
        pipeline("uvp", "mypkg.app.handler", ""),
        pipeline("poe", "app.handler", "")
    );
    let text = failed_plan(
        &tf,
        &moto,
        &env,
        &body,
        Some(tools.path_without("uv")),
        |ws| {
            uv_project(&env, &ws.dir().join("uvp"), "1.0.0");
            poetry_project(&env, &ws.dir().join("poe"), "1.0.0");
        },
    );
    assert!(text.contains("Cannot install the dependencies"), "{text}");
    assert!(
        text.contains("Installing from uv.lock needs uv, and `uv` is not on PATH. Install uv"),
        "{text}"
    );
    assert!(
        text.contains("neither uv nor Poetry with poetry-plugin-export is on PATH"),
        "{text}"
    );
    assert!(text.contains("source_dir = "), "on source_dir: {text}");

    // A lock out of date with pyproject.toml, and two locks in one project.
    let body = format!(
        "{}{}",
        pipeline("stale", "mypkg.app.handler", ""),
        pipeline("both", "app.handler", "")
    );
    let text = failed_plan(&tf, &moto, &env, &body, None, |ws| {
        let stale = ws.dir().join("stale");
        uv_project(&env, &stale, "1.0.0");
        std::fs::write(stale.join("pyproject.toml"), uv_pyproject("1.1.0")).unwrap();
        let both = ws.dir().join("both");
        poetry_project(&env, &both, "1.0.0");
        std::fs::copy(stale.join("uv.lock"), both.join("uv.lock")).unwrap();
    });
    assert!(text.contains("Lock file out of date"), "{text}");
    assert!(text.contains("uv lock --check"), "{text}");
    assert!(
        text.contains("has both uv.lock and poetry.lock")
            && text.contains("name the one to use in function.requirements_file"),
        "{text}"
    );
    assert!(text.contains("requirements_file"), "{text}");

    // Naming the lock settles the ambiguity: the plan goes through.
    let body = pipeline(
        "both",
        "app.handler",
        "    requirements_file = \"poetry.lock\"\n",
    );
    let mut ws = workspace(&tf, &moto, &body);
    ws.envs(env.vars.clone());
    let both = ws.dir().join("both");
    poetry_project(&env, &both, "1.0.0");
    uv_project(&env, &ws.dir().join("scratch"), "1.0.0");
    std::fs::copy(ws.dir().join("scratch/uv.lock"), both.join("uv.lock")).unwrap();
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    assert!(plan.success(), "{}", flat(&plan));
}
