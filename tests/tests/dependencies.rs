//! Functions with dependencies, end to end with no network: a
//! `requirements.txt` naming a wheel the test builds itself (served to pip
//! with `PIP_NO_INDEX` and `PIP_FIND_LINKS`), a `package.json` with a
//! `file:` dependency and its lock file. Apply installs them into the
//! package; `eventpipe package` builds the same bytes (its base64 SHA-256
//! is the deployed `CodeSha256`, read with the tests' own client); the next
//! plan is empty; an edit of the requirements shows as a code change. Bad
//! input is refused at plan.

mod common;

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::wheels::incompressible;
use common::*;
use tests::{Moto, Output, TerraformCli, Workspace};

/// A pure-Python wheel of `tinylib` `version`, written by hand: the module
/// and its `dist-info` (METADATA, WHEEL, RECORD), tagged py3-none-any.
fn write_wheel(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join(format!("tinylib-{version}-py3-none-any.whl"));
    let info = format!("tinylib-{version}.dist-info");
    let files = [
        (
            "tinylib/__init__.py".to_owned(),
            format!("VERSION = {version:?}\n\n\ndef greet():\n    return 'hello from tinylib'\n"),
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
    path
}

const PY_APP: &str =
    "import tinylib\n\n\ndef handler(event, context):\n    return tinylib.greet()\n";

const NODE_APP: &str =
    "const tiny = require(\"tinyjs\");\n\nexports.handler = async () => tiny.greet();\n";

/// `eventpipe package` of `dir` with the test's environment: the zip's
/// entries and the printed base64 SHA-256.
fn cli_package(
    dir: &Path,
    runtime: &str,
    env: &[(String, String)],
) -> (Vec<String>, Vec<u8>, String) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("package.zip");
    let run = Command::new(tests::tools::eventpipe_cli())
        .args(["package", "--source-dir"])
        .arg(dir)
        .args(["--runtime", runtime, "--architecture", "x86_64", "-o"])
        .arg(&out)
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
    let mut z = zip::ZipArchive::new(Cursor::new(bytes.clone())).expect("a zip");
    let names = (0..z.len())
        .map(|i| {
            z.by_index(i)
                .expect("entry")
                .name()
                .expect("name")
                .into_owned()
        })
        .collect();
    (names, bytes, sha)
}

/// The environment of a test: an offline pip that finds the test's wheels,
/// and a cache of its own.
struct Env {
    _dirs: tempfile::TempDir,
    wheels: PathBuf,
    vars: Vec<(String, String)>,
}

fn offline_env() -> Env {
    let dirs = tempfile::tempdir().expect("tempdir");
    let wheels = dirs.path().join("wheels");
    let cache = dirs.path().join("cache");
    std::fs::create_dir_all(&wheels).expect("wheels dir");
    let vars = vec![
        ("PIP_NO_INDEX".to_owned(), "1".to_owned()),
        ("PIP_FIND_LINKS".to_owned(), wheels.display().to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK".to_owned(), "1".to_owned()),
        (
            "EVENTPIPE_CACHE_DIR".to_owned(),
            cache.display().to_string(),
        ),
        ("npm_config_offline".to_owned(), "true".to_owned()),
        (
            "npm_config_cache".to_owned(),
            dirs.path().join("npm").display().to_string(),
        ),
    ];
    Env {
        _dirs: dirs,
        wheels,
        vars,
    }
}

fn ws_with_env(tf: &TerraformCli, moto: &Moto, body: &str, env: &Env) -> Workspace {
    let mut ws = workspace(tf, moto, body);
    ws.envs(env.vars.clone());
    ws
}

fn function_name(ws: &Workspace, name: &str) -> String {
    state_attrs(ws, name)["function_name"]
        .as_str()
        .expect("function_name")
        .to_owned()
}

fn python_case(tf: &TerraformCli) {
    let moto = Moto::start().unwrap();
    let env = offline_env();
    write_wheel(&env.wheels, "1.0.0");
    write_wheel(&env.wheels, "1.1.0");
    let ws = ws_with_env(
        tf,
        &moto,
        &Pipeline::named("py")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
        &env,
    );
    ws.write("app/app.py", PY_APP).unwrap();
    ws.write("app/requirements.txt", "tinylib==1.0.0\n")
        .unwrap();
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 1 added"),
        "{}: {apply}",
        tf.label
    );

    let app = ws.dir().join("app");
    let (names, bytes, sha) = cli_package(&app, "python3.12", &env.vars);
    assert!(names.contains(&"app.py".to_owned()), "{names:?}");
    assert!(
        names.contains(&"tinylib/__init__.py".to_owned()),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("tinylib-1.0.0.dist-info/")),
        "{names:?}"
    );
    assert!(zip_entry(&bytes, "tinylib/__init__.py").contains("VERSION = \"1.0.0\""));
    let aws = moto.aws().unwrap();
    let function = function_name(&ws, "py");
    assert_eq!(
        aws.code_sha256(&function).unwrap(),
        sha,
        "{}: the deployed CodeSha256 is eventpipe package's",
        tf.label
    );
    assert_plan_empty(&ws, "a plan after applying a function with dependencies");

    // A new pin is a code change.
    ws.write("app/requirements.txt", "tinylib==1.1.0\n")
        .unwrap();
    let plan = ws.plan(&[]).unwrap().ok().unwrap();
    let text = flat(&plan);
    assert!(text.contains("~ source_code_hash"), "{}: {text}", tf.label);
    assert!(text.contains("1 to change"), "{}: {text}", tf.label);
    ws.apply_auto().unwrap();
    let (_, bytes, sha) = cli_package(&app, "python3.12", &env.vars);
    assert!(zip_entry(&bytes, "tinylib/__init__.py").contains("VERSION = \"1.1.0\""));
    assert_eq!(aws.code_sha256(&function).unwrap(), sha, "{}", tf.label);
    assert_plan_empty(&ws, "a plan after the new pin was applied");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn python_requirements_are_installed_and_match_eventpipe_package() {
    python_case(&newest_cli());
}

#[test]
fn python_requirements_on_terraform_1_0() {
    let tf = clis().pop().expect("a CLI");
    assert!(
        tf.label.starts_with("1.0"),
        "the oldest CLI is 1.0.x: {}",
        tf.label
    );
    python_case(&tf);
}

fn npm_lock(dir: &Path, env: &Env) {
    let out = Command::new("npm")
        .args([
            "install",
            "--package-lock-only",
            "--offline",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(dir)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("npm install --package-lock-only");
    assert!(out.status.success(), "npm lock: {}", process_text(&out));
}

#[test]
fn node_dependencies_are_installed_from_the_lock_file() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let ws = ws_with_env(
        &tf,
        &moto,
        &Pipeline::named("js")
            .runtime("nodejs24.x", "index.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
        &env,
    );
    ws.remove("app/app.py").unwrap();
    ws.write("app/index.js", NODE_APP).unwrap();
    let app = ws.dir().join("app");
    pack_tinyjs(&app.join("vendor"));
    ws.write(
        "app/package.json",
        r#"{"name":"fn","version":"1.0.0","dependencies":{"tinyjs":"file:vendor/tinyjs-1.0.0.tgz"},"devDependencies":{}}"#,
    )
    .unwrap();
    npm_lock(&app, &env);
    ws.init().unwrap();
    ws.apply_auto().unwrap();

    let (names, bytes, sha) = cli_package(&app, "nodejs24.x", &env.vars);
    assert!(names.contains(&"index.js".to_owned()), "{names:?}");
    assert!(
        names.contains(&"node_modules/tinyjs/index.js".to_owned()),
        "{names:?}"
    );
    assert!(zip_entry(&bytes, "node_modules/tinyjs/index.js").contains("hello from tinyjs"));
    let aws = moto.aws().unwrap();
    assert_eq!(aws.code_sha256(&function_name(&ws, "js")).unwrap(), sha);
    assert_plan_empty(
        &ws,
        "a plan after applying a Node.js function with dependencies",
    );

    // An edit of the lock file is a code change.
    let lock = ws.read("app/package-lock.json").unwrap();
    ws.write("app/package-lock.json", format!("{lock}\n"))
        .unwrap();
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert!(text.contains("~ source_code_hash"), "{text}");
    destroy_and_assert_empty(&ws, &moto);
}

/// `terraform plan` of `body` with `files` in the workspace and extra
/// environment: its output.
fn plan_of(body: &str, files: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Output {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let mut ws = ws_with_env(&tf, &moto, body, &env);
    ws.envs(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    for (path, body) in files {
        ws.write(path, body).unwrap();
    }
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a plan creates nothing"
    );
    plan
}

#[test]
fn bad_dependency_input_is_refused_at_plan() {
    // Unpinned: a warning, the plan goes on.
    let plan = plan_of(
        &Pipeline::named("loose")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
        &[("app/requirements.txt", "tinylib>=1.0\nsix==1.16.0\n")],
        &[],
    );
    let text = flat(&plan);
    assert!(plan.success(), "{text}");
    assert!(text.contains("Warning: Unpinned requirements"), "{text}");
    assert!(text.contains("tinylib>=1.0"), "{text}");
    assert!(!text.contains("six"), "six is pinned: {text}");

    // A package.json with dependencies and no lock file.
    let plan = plan_of(
        &Pipeline::named("nolock")
            .runtime("nodejs24.x", "index.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
        &[
            ("app/index.js", NODE_APP),
            ("app/package.json", r#"{"dependencies":{"tinyjs":"1.0.0"}}"#),
        ],
        &[],
    );
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(text.contains("no package-lock.json"), "{text}");
    assert!(
        text.contains("source_dir = "),
        "the diagnostic points at source_dir: {text}"
    );

    // No pip: says what to install.
    let plan = plan_of(
        &Pipeline::named("nopip")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
        &[("app/requirements.txt", "tinylib==1.0.0\n")],
        &[("EVENTPIPE_PYTHON", "/nonexistent/python3")],
    );
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(text.contains("Cannot install the dependencies"), "{text}");
    assert!(text.contains("Install Python 3 and pip"), "{text}");

    // A requirements_file that is not there.
    let plan = plan_of(
        &Pipeline::named("nofile")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .function_lines("    requirements_file = \"deps/requirements.txt\"\n")
            .no_filter_suffix()
            .hcl(),
        &[],
        &[],
    );
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(
        text.contains("requirements_file = "),
        "the diagnostic points at it: {text}"
    );
    assert!(text.contains("does not exist"), "{text}");

    // Dependencies on a bucket the pipeline does not own: no package_bucket.
    let body = Pipeline::on_existing_bucket("shared", "someone-elses-bucket").hcl();
    let plan = plan_of(&body, &[("app/requirements.txt", "tinylib==1.0.0\n")], &[]);
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(text.contains("Missing package bucket"), "{text}");
    assert!(text.contains("function.package_bucket"), "{text}");

    // A trigger matching the reserved prefix.
    let body = Pipeline::seed("reserved", "reserved-bucket")
        .filter_prefix(".eventpipe/")
        .hcl();
    let plan = plan_of(&body, &[], &[]);
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(
        text.contains("Trigger matches the reserved prefix"),
        "{text}"
    );
    assert!(text.contains("filter_prefix"), "{text}");
}

#[test]
fn a_package_over_250_mb_unzipped_is_refused_at_plan_with_its_size() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let ws = workspace(&tf, &moto, &seed_resource("huge", "huge-bucket", ""));
    // A sparse file: 260 MB by its size, nothing on disk.
    let f = std::fs::File::create(ws.dir().join("app/model.bin")).unwrap();
    f.set_len(260 * 1024 * 1024).unwrap();
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(text.contains("260.0 MB"), "{text}");
    assert!(text.contains("model.bin"), "{text}");
    assert!(
        text.contains("Set function.package_type = \"image\""),
        "{text}"
    );
    assert!(moto.aws().unwrap().list_everything().unwrap().is_empty());
}

#[test]
fn a_package_over_50_mb_deploys_through_s3_and_goes_with_the_pipeline() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    // Without force_destroy: the staged package must not count as the
    // user's objects when the pipeline is destroyed.
    let body = Pipeline::seed("big", "big-bucket")
        .force_destroy(false)
        .hcl();
    let ws = ws_with_env(&tf, &moto, &body, &env);
    ws.write("app/model.bin", incompressible(60 * 1024 * 1024))
        .unwrap();
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 1 added"),
        "{apply}"
    );

    let (names, bytes, sha) = cli_package(&ws.dir().join("app"), "python3.12", &env.vars);
    assert_eq!(names, ["app.py", "model.bin"]);
    assert!(bytes.len() > 50 * 1024 * 1024, "{} bytes", bytes.len());
    let aws = moto.aws().unwrap();
    let state = state_attrs(&ws, "big");
    let function = function_name(&ws, "big");
    let hash = state["source_code_hash"].as_str().unwrap();
    let key = format!(".eventpipe/packages/{function}/{hash}.zip");
    assert_eq!(
        aws.object_keys("big-bucket").unwrap(),
        std::slice::from_ref(&key)
    );
    let staged = aws
        .block_on(aws.s3().get_object().bucket("big-bucket").key(&key).send())
        .expect("the staged package");
    let staged_tags = aws
        .block_on(
            aws.s3()
                .get_object_tagging()
                .bucket("big-bucket")
                .key(&key)
                .send(),
        )
        .expect("its tags");
    assert!(
        staged_tags
            .tag_set()
            .iter()
            .any(|t| t.key() == "eventpipe:pipeline" && t.value() == "big"),
        "{staged_tags:?}"
    );
    let body = aws
        .block_on(staged.body.collect())
        .expect("the staged bytes")
        .into_bytes();
    assert!(
        body.as_ref() == bytes.as_slice(),
        "the staged object is the package"
    );
    assert_eq!(aws.code_sha256(&function).unwrap(), sha);
    assert_plan_empty(&ws, "a plan after deploying through S3");

    // A code change stages the new package and drops the old one.
    ws.write("app/app.py", format!("{APP_PY}\n# v2\n")).unwrap();
    ws.apply_auto().unwrap();
    let hash2 = state_attrs(&ws, "big")["source_code_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(hash2, hash);
    assert_eq!(
        aws.object_keys("big-bucket").unwrap(),
        [format!(".eventpipe/packages/{function}/{hash2}.zip")]
    );
    let (_, _, sha2) = cli_package(&ws.dir().join("app"), "python3.12", &env.vars);
    assert_eq!(aws.code_sha256(&function).unwrap(), sha2);
    destroy_and_assert_empty(&ws, &moto);
}

/// The staging calls are call sites like any other: a denied PutObject of
/// the package rolls the create back (nothing left, no state), and a
/// denied delete of the staged package fails the destroy, keeps the state,
/// and the next destroy leaves nothing. (The calibrated fault tables of
/// faults_*.rs use small packages, so these sites are armed here.)
#[test]
fn a_failure_at_a_staging_call_rolls_back_or_keeps_the_state() {
    use tests::fault_proxy::{Fault, FaultProxy, Rule};
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint()).unwrap();
    let env = offline_env();
    let mut ws = Workspace::new(&tf).unwrap();
    ws.envs(env.vars.clone());
    ws.timeout(std::time::Duration::from_secs(600));
    let provider = ProviderBlock::new(&proxy.endpoint())
        .setting("max_retries  = 1")
        .hcl();
    let body = Pipeline::seed("stf", "stf-bucket")
        .force_destroy(false)
        .hcl();
    ws.write("main.tf", format!("{provider}{body}")).unwrap();
    ws.write("app/app.py", APP_PY).unwrap();
    ws.write("app/model.bin", incompressible(52 * 1024 * 1024))
        .unwrap();
    ws.init().unwrap();

    proxy.add_rule(
        Rule::on("s3:PutObject")
            .containing(".eventpipe")
            .fail(Fault::AccessDenied),
    );
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("staging the package in S3"), "{text}");
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(ws.state_list().unwrap().is_empty(), "rolled back: no state");
    assert_emulator_empty(&moto);

    proxy.clear_rules();
    ws.apply_auto().unwrap();
    assert_plan_empty(&ws, "the apply after the failed one converges");
    let aws = moto.aws().unwrap();
    assert_eq!(aws.object_keys("stf-bucket").unwrap().len(), 1);

    proxy.add_rule(Rule::on("s3:DeleteObjects").fail(Fault::AccessDenied));
    let out = ws.run(&["destroy", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("deleting the staged packages"), "{text}");
    assert!(!ws.state_list().unwrap().is_empty(), "the state is kept");
    proxy.clear_rules();
    destroy_and_assert_empty(&ws, &moto);
}

/// moto, like S3, applies the bucket's TLS-only Deny to object requests
/// made over plain HTTP, and answers them 403 with no error document: the
/// first staged package of a pipeline with `require_tls = true` is refused
/// so. The diagnostic says why and what to set, the create rolls back.
#[test]
fn a_staged_package_refused_by_the_tls_only_policy_over_http_says_to_turn_require_tls_off() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let body = Pipeline::seed("tls", "tls-bucket")
        .force_destroy(false)
        .require_tls(true)
        .hcl();
    let ws = ws_with_env(&tf, &moto, &body, &env);
    ws.write("app/model.bin", incompressible(60 * 1024 * 1024))
        .unwrap();
    ws.init().unwrap();
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        text.contains("staging the package in S3")
            && text.contains("s3:PutObject")
            && text.contains("HTTP 403")
            && text.contains("TLS-only policy denies every request that does not use TLS")
            && text.contains("require_tls = false"),
        "{out}"
    );
    // The hint points at the attribute.
    assert!(text.contains("require_tls"), "{out}");
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "the create rolled back"
    );
}

// ---------------------------------------------------------------------------
// function.slim: a wheel with an unstripped shared object built here with
// the machine's C compiler, tests, a header and type stubs.
// ---------------------------------------------------------------------------

/// The machine's C compiler (scripts/setup-system-tools.sh installs gcc).
fn cc() -> &'static str {
    let ok = Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "no C compiler `cc`: run scripts/setup-system-tools.sh (it installs gcc)"
    );
    "cc"
}

/// An unstripped shared object with debug information that exports
/// `slim_add`, built with `cc -g`.
fn build_native(dir: &Path) -> Vec<u8> {
    let c = dir.join("native.c");
    std::fs::write(
        &c,
        "static int twice(int x) { return 2 * x; }\n\
         int slim_add(int a, int b) { return twice(a) / 2 + b; }\n",
    )
    .unwrap();
    let so = dir.join("native.so");
    let out = Command::new(cc())
        .args(["-shared", "-fPIC", "-g", "-O0", "-o"])
        .arg(&so)
        .arg(&c)
        .output()
        .expect("run cc");
    assert!(out.status.success(), "cc: {}", process_text(&out));
    std::fs::read(&so).unwrap()
}

/// A wheel of `slimlib` 1.0.0 holding `native` as `slimlib/_native.so`,
/// with what `slim` drops: `tests/`, a header, a type stub and a Cython
/// declaration.
fn write_native_wheel(dir: &Path, native: &[u8]) {
    let info = "slimlib-1.0.0.dist-info";
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "slimlib/__init__.py".into(),
            b"import ctypes, os\nLIB = ctypes.CDLL(os.path.join(os.path.dirname(__file__), '_native.so'))\n"
                .to_vec(),
        ),
        ("slimlib/_native.so".into(), native.to_vec()),
        ("slimlib/__init__.pyi".into(), b"LIB: object\n".to_vec()),
        ("slimlib/_native.pxd".into(), b"cdef int slim_add(int a, int b)\n".to_vec()),
        ("slimlib/include/slimlib.h".into(), b"int slim_add(int a, int b);\n".to_vec()),
        ("slimlib/tests/__init__.py".into(), Vec::new()),
        ("slimlib/tests/test_native.py".into(), b"def test_add():\n    pass\n".to_vec()),
        (
            format!("{info}/METADATA"),
            b"Metadata-Version: 2.1\nName: slimlib\nVersion: 1.0.0\n".to_vec(),
        ),
        (
            format!("{info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: eventpipe-tests\nRoot-Is-Purelib: false\nTag: py3-none-any\n"
                .to_vec(),
        ),
    ];
    let mut record: String = files.iter().map(|(n, _)| format!("{n},,\n")).collect();
    record.push_str(&format!("{info}/RECORD,,\n"));
    let path = dir.join("slimlib-1.0.0-py3-none-any.whl");
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).expect("wheel file"));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in files
        .iter()
        .chain([&(format!("{info}/RECORD"), record.into_bytes())])
    {
        z.start_file(name.as_str(), opts).expect("wheel entry");
        z.write_all(body).expect("wheel body");
    }
    z.finish().expect("wheel");
}

/// What python3 reads in a package zip: its entry names, the size of
/// `slimlib/_native.so`, and `slim_add(20, 22)` called through ctypes from
/// the extracted package.
#[derive(Debug, serde::Deserialize)]
struct Unpacked {
    names: Vec<String>,
    so_size: u64,
    sum: i64,
}

fn python_unpacks(zip: &[u8]) -> Unpacked {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("package.zip");
    std::fs::write(&path, zip).unwrap();
    let script = r#"
import ctypes, json, os, sys, tempfile, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = tempfile.mkdtemp(dir=os.path.dirname(sys.argv[1]))
z.extractall(out)
so = os.path.join(out, "slimlib", "_native.so")
lib = ctypes.CDLL(so)
print(json.dumps({"names": z.namelist(), "so_size": os.path.getsize(so), "sum": lib.slim_add(20, 22)}))
"#;
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("run python3");
    assert!(run.status.success(), "python3: {}", process_text(&run));
    serde_json::from_slice(&run.stdout).expect("the script's JSON")
}

/// `eventpipe package` of `dir` for python3.12 with `extra` arguments: the
/// zip and the printed base64 SHA-256.
fn cli_package_with(dir: &Path, extra: &[&str], env: &[(String, String)]) -> (Vec<u8>, String) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("package.zip");
    let run = Command::new(tests::tools::eventpipe_cli())
        .args(["package", "--source-dir"])
        .arg(dir)
        .args(["--runtime", "python3.12", "-o"])
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
    (std::fs::read(&out).expect("package zip"), sha)
}

/// The function's source for the slim tests, with its own tests and stubs,
/// which `slim` never touches.
fn slim_app(app: &Path) {
    std::fs::create_dir_all(app.join("tests")).unwrap();
    std::fs::write(
        app.join("app.py"),
        "import slimlib\n\n\ndef handler(event, context):\n    return slimlib.LIB.slim_add(20, 22)\n",
    )
    .unwrap();
    std::fs::write(
        app.join("app.pyi"),
        "def handler(event, context) -> int: ...\n",
    )
    .unwrap();
    std::fs::write(app.join("tests/test_app.py"), "def test_app():\n    pass\n").unwrap();
    std::fs::write(app.join("requirements.txt"), "slimlib==1.0.0\n").unwrap();
}

#[test]
fn slim_drops_tests_headers_and_stubs_and_strips_a_shared_object_that_still_loads() {
    let env = offline_env();
    let build = tempfile::tempdir().unwrap();
    let native = build_native(build.path());
    write_native_wheel(&env.wheels, &native);
    let src = tempfile::tempdir().unwrap();
    slim_app(src.path());

    let (full_zip, full_sha) = cli_package_with(src.path(), &[], &env.vars);
    // From here pip can find nothing: the slim package comes from the tree
    // installed once, not from a new install.
    std::fs::remove_dir_all(&env.wheels).unwrap();
    std::fs::create_dir_all(&env.wheels).unwrap();
    let (slim_zip, slim_sha) = cli_package_with(src.path(), &["--slim"], &env.vars);
    assert_ne!(full_sha, slim_sha, "slim is another package");

    let full = python_unpacks(&full_zip);
    let slim = python_unpacks(&slim_zip);
    for dropped in [
        "slimlib/tests/test_native.py",
        "slimlib/tests/__init__.py",
        "slimlib/include/slimlib.h",
        "slimlib/__init__.pyi",
        "slimlib/_native.pxd",
    ] {
        assert!(
            full.names.contains(&dropped.to_owned()),
            "{dropped} in the full package"
        );
        assert!(
            !slim.names.contains(&dropped.to_owned()),
            "{dropped} dropped: {:?}",
            slim.names
        );
    }
    for kept in [
        "app.py",
        "app.pyi",
        "tests/test_app.py",
        "requirements.txt",
        "slimlib/__init__.py",
        "slimlib/_native.so",
        "slimlib-1.0.0.dist-info/METADATA",
    ] {
        assert!(
            slim.names.contains(&kept.to_owned()),
            "{kept} kept: {:?}",
            slim.names
        );
    }
    assert_eq!(
        full.so_size,
        native.len() as u64,
        "the full package has the library as built"
    );
    assert!(
        slim.so_size < full.so_size,
        "stripped: {} < {}",
        slim.so_size,
        full.so_size
    );
    assert_eq!(
        (full.sum, slim.sum),
        (42, 42),
        "both libraries load and run"
    );
}

#[test]
fn toggling_slim_changes_the_source_code_hash_in_the_plan_and_deploys_the_slim_package() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let build = tempfile::tempdir().unwrap();
    write_native_wheel(&env.wheels, &build_native(build.path()));
    let body = |slim: bool| {
        Pipeline::named("slim")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .no_filter_suffix()
            .function_lines(&format!("    slim = {slim}\n"))
            .hcl()
    };
    let ws = ws_with_env(&tf, &moto, &body(false), &env);
    let app = ws.dir().join("app");
    ws.remove("app/app.py").unwrap();
    slim_app(&app);
    ws.init().unwrap();
    ws.apply_auto().unwrap();
    let before = state_attrs(&ws, "slim")["source_code_hash"]
        .as_str()
        .expect("source_code_hash")
        .to_owned();

    rewrite_main(&ws, &moto, &body(true));
    let plan = ws.plan(&[]).unwrap().ok().unwrap();
    let text = flat(&plan);
    assert!(text.contains("~ slim = false -> true"), "{text}");
    assert!(
        text.contains(&format!("~ source_code_hash = \"{before}\" -> ")),
        "{text}"
    );
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    ws.apply_auto().unwrap();
    let after = state_attrs(&ws, "slim")["source_code_hash"]
        .as_str()
        .expect("source_code_hash")
        .to_owned();
    assert_ne!(before, after);
    let (_, sha) = cli_package_with(&app, &["--slim"], &env.vars);
    let aws = moto.aws().unwrap();
    assert_eq!(
        aws.code_sha256(&function_name(&ws, "slim")).unwrap(),
        sha,
        "the deployed CodeSha256 is eventpipe package --slim's"
    );
    assert_plan_empty(&ws, "a plan after applying slim");

    // And back: the full package again, with its first hash.
    rewrite_main(&ws, &moto, &body(false));
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert!(
        text.contains(&format!("~ source_code_hash = \"{after}\" -> \"{before}\"")),
        "{text}"
    );
    destroy_and_assert_empty(&ws, &moto);
}

/// A wheel of `fatlib` 1.0.0 with a (stand-in) native part, tagged for one
/// platform only (`py3-none-<platform>`), as numpy 2.3 and onnxruntime
/// publish theirs for `manylinux_2_28`.
fn write_platform_wheel(dir: &Path, platform: &str) -> PathBuf {
    let path = dir.join(format!("fatlib-1.0.0-py3-none-{platform}.whl"));
    let info = "fatlib-1.0.0.dist-info";
    let files = [
        (
            "fatlib/__init__.py".to_owned(),
            format!("PLATFORM = {platform:?}\n"),
        ),
        (
            format!("{info}/METADATA"),
            "Metadata-Version: 2.1\nName: fatlib\nVersion: 1.0.0\n".to_owned(),
        ),
        (
            format!("{info}/WHEEL"),
            format!(
                "Wheel-Version: 1.0\nGenerator: eventpipe-tests\nRoot-Is-Purelib: false\n\
                 Tag: py3-none-{platform}\n"
            ),
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
    path
}

fn glibc_pipeline(runtime: &str) -> String {
    Pipeline::named("glibc")
        .runtime(runtime, "app.handler")
        .default_sizes()
        .no_filter_suffix()
        .hcl()
}

#[test]
fn a_manylinux_2_28_wheel_installs_on_amazon_linux_2023_runtimes_and_is_refused_on_amazon_linux_2()
{
    let tf = newest_cli();
    let env = offline_env();
    write_platform_wheel(&env.wheels, "manylinux_2_28_x86_64");

    // python3.12 (Amazon Linux 2023, glibc 2.34): installed and deployed.
    let moto = Moto::start().unwrap();
    let ws = ws_with_env(&tf, &moto, &glibc_pipeline("python3.12"), &env);
    ws.write(
        "app/app.py",
        "import fatlib\n\n\ndef handler(e, c):\n    return 1\n",
    )
    .unwrap();
    ws.write("app/requirements.txt", "fatlib==1.0.0\n").unwrap();
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 1 added"),
        "{apply}"
    );
    let app = ws.dir().join("app");
    let (names, bytes, sha) = cli_package(&app, "python3.12", &env.vars);
    assert!(
        names.contains(&"fatlib/__init__.py".to_owned()),
        "{names:?}"
    );
    assert!(zip_entry(&bytes, "fatlib/__init__.py").contains("manylinux_2_28_x86_64"));
    let aws = moto.aws().unwrap();
    assert_eq!(aws.code_sha256(&function_name(&ws, "glibc")).unwrap(), sha);
    assert_plan_empty(&ws, "a plan after installing a manylinux_2_28 wheel");

    // python3.13: the same wheel goes into its package.
    let (names, _, _) = cli_package(&app, "python3.13", &env.vars);
    assert!(
        names.contains(&"fatlib/__init__.py".to_owned()),
        "{names:?}"
    );
    destroy_and_assert_empty(&ws, &moto);

    // python3.11 (Amazon Linux 2, glibc 2.26): refused at apply, naming the
    // requirement and the platform, and nothing is left behind.
    let moto = Moto::start().unwrap();
    let ws = ws_with_env(&tf, &moto, &glibc_pipeline("python3.11"), &env);
    ws.write("app/app.py", PY_APP).unwrap();
    ws.write("app/requirements.txt", "fatlib==1.0.0\n").unwrap();
    ws.init().unwrap();
    let out = ws.run(&["apply", "-auto-approve"]).unwrap();
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(
        text.contains("No wheel of fatlib==1.0.0 fits Lambda's platform"),
        "{text}"
    );
    assert!(
        text.contains("python3.11 on x86_64 runs on Amazon Linux 2 (glibc 2.26)"),
        "{text}"
    );
    assert!(
        text.contains("manylinux_2_26_x86_64 down to manylinux2014_x86_64"),
        "{text}"
    );
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a refused package leaves nothing behind"
    );
}

/// A state whose `source_code_hash` was computed with other pip options
/// (as a provider that asked only for `manylinux2014` wrote it) for a
/// requirement pip resolves to the same wheel: the plan shows the new hash
/// once, the apply records it without uploading the same code again, and
/// the next plan is empty. A real change still uploads.
#[test]
fn a_hash_from_older_installer_options_moves_without_uploading_the_same_code() {
    let tf = newest_cli();
    let env = offline_env();
    write_wheel(&env.wheels, "1.0.0");
    write_wheel(&env.wheels, "1.1.0");
    let mut rig = common::rig::Rig::new(&tf, None);
    rig.ws.envs(env.vars.clone());
    rig.ws.write("app/app.py", PY_APP).unwrap();
    rig.ws
        .write("app/requirements.txt", "tinylib==1.0.0\n")
        .unwrap();
    rig.configure(
        &Pipeline::named("up")
            .runtime("python3.12", "app.handler")
            .default_sizes()
            .no_filter_suffix()
            .hcl(),
    );
    rig.apply();
    let function = function_name(&rig.ws, "up");
    let deployed = rig.aws.code_sha256(&function).unwrap();
    let uploads = rig.proxy.count("lambda:UpdateFunctionCode");
    let hash = state_attrs(&rig.ws, "up")["source_code_hash"]
        .as_str()
        .unwrap()
        .to_owned();

    let state_file = rig.ws.dir().join("terraform.tfstate");
    let state = std::fs::read_to_string(&state_file).unwrap();
    assert!(state.contains(&hash));
    let older = "0".repeat(64);
    std::fs::write(&state_file, state.replace(&hash, &older)).unwrap();

    let text = flat(&rig.ws.plan(&[]).unwrap().ok().unwrap());
    assert!(text.contains("~ source_code_hash"), "{text}");
    assert!(text.contains(&older), "{text}");
    assert!(text.contains("1 to change"), "{text}");
    rig.apply();
    assert_eq!(
        rig.proxy.count("lambda:UpdateFunctionCode"),
        uploads,
        "the same zip is not uploaded again"
    );
    assert_eq!(rig.aws.code_sha256(&function).unwrap(), deployed);
    assert_eq!(state_attrs(&rig.ws, "up")["source_code_hash"], hash);
    rig.assert_plan_empty();

    // What gets installed changes: the code is uploaded.
    rig.ws
        .write("app/requirements.txt", "tinylib==1.1.0\n")
        .unwrap();
    rig.apply();
    assert_eq!(rig.proxy.count("lambda:UpdateFunctionCode"), uploads + 1);
    assert_ne!(rig.aws.code_sha256(&function).unwrap(), deployed);
    rig.assert_plan_empty();
    rig.destroy_and_assert_empty();
}
