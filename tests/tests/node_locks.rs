//! Node.js functions locked by npm, pnpm and Yarn 4, end to end with no
//! network: each project depends on a `tinyjs` tarball the test packs
//! itself (a `file:` dependency), locked by its own package manager (the
//! pinned pnpm and Yarn of `make tools`, npm from Node.js). The three
//! pipelines are applied together; for each, the deployed `CodeSha256`
//! (read with the tests' own client) is the SHA-256 of the zip
//! `eventpipe package` builds, and that zip holds the handler and the
//! locked `tinyjs` version, in a layout Node loads; the next plan is empty,
//! also with no pnpm or Yarn on PATH (the trees are cached); a lock bumped
//! to the next version is a code change. Bad input is refused at plan.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sha2::Digest;
use tests::tools::{PackageTools, package_tools};
use tests::{Moto, TerraformCli, Workspace};

const HANDLER: &str = "const tiny = require(\"tinyjs\");\n\n\
     exports.handler = async () => `${tiny.greet()} ${require(\"tinyjs/package.json\").version}`;\n";

/// The package managers under test: the pipeline (and app directory)
/// name, and the lock file.
const KINDS: [(&str, &str); 3] = [
    ("npm", "package-lock.json"),
    ("pnpm", "pnpm-lock.yaml"),
    ("yarn", "yarn.lock"),
];

/// An offline environment of the test's own: every package manager's cache
/// and home in temporary directories, no network.
struct Env {
    dirs: tempfile::TempDir,
    tools: PackageTools,
    vars: Vec<(String, String)>,
}

fn offline_env() -> Env {
    let dirs = tempfile::tempdir().expect("tempdir");
    let tools = package_tools().expect("make tools");
    let at = |name: &str| dirs.path().join(name).display().to_string();
    let mut vars: Vec<(String, String)> = [
        ("EVENTPIPE_CACHE_DIR", at("eventpipe")),
        ("HOME", at("home")),
        ("XDG_CACHE_HOME", at("xdg-cache")),
        ("XDG_DATA_HOME", at("xdg-data")),
        ("XDG_CONFIG_HOME", at("xdg-config")),
        ("npm_config_offline", "true".to_owned()),
        ("npm_config_cache", at("npm")),
        ("npm_config_store_dir", at("pnpm-store")),
        ("npm_config_update_notifier", "false".to_owned()),
        ("YARN_ENABLE_NETWORK", "0".to_owned()),
        ("YARN_ENABLE_TELEMETRY", "0".to_owned()),
        ("YARN_CACHE_FOLDER", at("yarn-cache")),
        ("YARN_GLOBAL_FOLDER", at("yarn-global")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vars.push((
        "PATH".to_owned(),
        tools.path().to_string_lossy().into_owned(),
    ));
    Env { dirs, tools, vars }
}

impl Env {
    /// The variables with `PATH` as `path`.
    fn with_path(&self, path: std::ffi::OsString) -> Vec<(String, String)> {
        let mut vars = self.vars.clone();
        vars.retain(|(k, _)| k != "PATH");
        vars.push(("PATH".to_owned(), path.to_string_lossy().into_owned()));
        vars
    }

    /// Packs `tinyjs` 1.0.0 and 1.1.0, and `devjs` (a development
    /// dependency), once, returning the directory.
    fn vendor(&self) -> PathBuf {
        let vendor = self.dirs.path().join("vendor");
        if vendor.is_dir() {
            return vendor;
        }
        std::fs::create_dir_all(&vendor).unwrap();
        for (name, version) in [("tinyjs", "1.0.0"), ("tinyjs", "1.1.0"), ("devjs", "1.0.0")] {
            let lib = tempfile::tempdir().unwrap();
            std::fs::write(
                lib.path().join("package.json"),
                format!(r#"{{"name":"{name}","version":"{version}","main":"index.js"}}"#),
            )
            .unwrap();
            std::fs::write(
                lib.path().join("index.js"),
                "exports.greet = () => \"hello from tinyjs\";\n",
            )
            .unwrap();
            let out = Command::new("npm")
                .args(["pack", "--offline", "--silent", "--pack-destination"])
                .arg(&vendor)
                .current_dir(lib.path())
                .envs(self.vars.iter().map(|(k, v)| (k, v)))
                .output()
                .expect("npm pack");
            assert!(out.status.success(), "npm pack: {}", process_text(&out));
        }
        vendor
    }
}

/// Runs `program args` in `dir` with the test's environment.
fn tool(env: &Env, dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        process_text(&out)
    );
}

/// Writes package.json depending on `tinyjs` `version` (and, for
/// development only, on `devjs`) and locks it with `kind`'s package
/// manager.
fn lock(env: &Env, kind: &str, app: &Path, version: &str) {
    // pnpm's project pins another pnpm, as corepack users do: the pnpm on
    // PATH installs it, downloading nothing.
    let pin = if kind == "pnpm" {
        r#""packageManager":"pnpm@9.15.0","#
    } else {
        ""
    };
    std::fs::write(
        app.join("package.json"),
        format!(
            r#"{{"name":"fn-{kind}","version":"1.0.0","private":true,{pin}"dependencies":{{"tinyjs":"file:vendor/tinyjs-{version}.tgz"}},"devDependencies":{{"devjs":"file:vendor/devjs-1.0.0.tgz"}}}}"#
        ),
    )
    .unwrap();
    match kind {
        "npm" => tool(
            env,
            app,
            "npm",
            &[
                "install",
                "--package-lock-only",
                "--offline",
                "--no-audit",
                "--no-fund",
            ],
        ),
        "pnpm" => tool(
            env,
            app,
            "pnpm",
            &[
                "install",
                "--lockfile-only",
                "--offline",
                "--config.manage-package-manager-versions=false",
            ],
        ),
        "yarn" => tool(env, app, "yarn", &["install", "--mode=update-lockfile"]),
        other => panic!("no package manager {other}"),
    }
}

/// An app directory `kind/` in `ws`: the handler, the vendored tarballs,
/// the lock at tinyjs 1.0.0, and for Yarn a `.yarnrc.yml` that asks for
/// Plug'n'Play (which the provider overrides) and no network (which it
/// honours).
fn write_app(ws: &Workspace, env: &Env, kind: &str) -> PathBuf {
    let app = ws.dir().join(kind);
    std::fs::create_dir_all(app.join("vendor")).unwrap();
    std::fs::write(app.join("index.js"), HANDLER).unwrap();
    for entry in std::fs::read_dir(env.vendor()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), app.join("vendor").join(entry.file_name())).unwrap();
    }
    if kind == "yarn" {
        std::fs::write(
            app.join(".yarnrc.yml"),
            "nodeLinker: pnp\nenableNetwork: false\nenableTelemetry: false\n",
        )
        .unwrap();
    }
    lock(env, kind, &app, "1.0.0");
    assert!(app.join(lock_file(kind)).is_file(), "{kind} wrote its lock");
    app
}

fn lock_file(kind: &str) -> &'static str {
    KINDS.iter().find(|(k, _)| *k == kind).expect("a kind").1
}

fn pipeline(kind: &str) -> String {
    Pipeline::named(kind)
        .runtime("nodejs24.x", "index.handler")
        .default_sizes()
        .no_filter_suffix()
        .hcl()
        .replace(
            "${path.module}/app\"",
            &format!("${{path.module}}/{kind}\""),
        )
}

/// `eventpipe package` of `dir`: the zip and the printed base64 SHA-256.
fn cli_package(dir: &Path, env: &Env) -> (Vec<u8>, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("package.zip");
    let run = Command::new(eventpipe())
        .args(["package", "--source-dir"])
        .arg(dir)
        .args(["--runtime", "nodejs24.x", "--architecture", "x86_64", "-o"])
        .arg(&out)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("eventpipe package");
    assert!(
        run.status.success(),
        "eventpipe package: {}",
        process_text(&run)
    );
    let sha = String::from_utf8(run.stdout).unwrap().trim().to_owned();
    (std::fs::read(&out).unwrap(), sha)
}

fn base64_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Unzips `zip` and runs its handler with Node: what it returns.
fn run_handler(zip: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut z = zip::ZipArchive::new(Cursor::new(zip.to_vec())).expect("a zip");
    z.extract(dir.path()).expect("unzip");
    let out = Command::new("node")
        .args([
            "-e",
            "require('./index.js').handler({Records: []}).then(r => console.log(r))",
        ])
        .current_dir(dir.path())
        .env("NODE_PATH", "")
        .output()
        .expect("node");
    assert!(out.status.success(), "node: {}", process_text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn names(zip: &[u8]) -> Vec<String> {
    let mut z = zip::ZipArchive::new(Cursor::new(zip.to_vec())).expect("a zip");
    (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().into_owned())
        .collect()
}

/// The deployed code of each kind is the zip `eventpipe package` builds,
/// holding tinyjs `version`, which the handler loads.
fn assert_deployed(tf: &TerraformCli, ws: &Workspace, moto: &Moto, env: &Env, version: &str) {
    let aws = moto.aws().unwrap();
    for (kind, _) in KINDS {
        let (zip, printed) = cli_package(&ws.dir().join(kind), env);
        let function = state_attrs(ws, kind)["function_name"]
            .as_str()
            .expect("function_name")
            .to_owned();
        let deployed = aws.code_sha256(&function).unwrap();
        assert_eq!(
            deployed,
            base64_sha256(&zip),
            "{} {kind}: the deployed code is eventpipe package's zip",
            tf.label
        );
        assert_eq!(printed, deployed, "{} {kind}", tf.label);
        let listed = names(&zip);
        assert!(
            listed.contains(&"index.js".to_owned()),
            "{kind}: {listed:?}"
        );
        assert!(
            zip_entry(&zip, "node_modules/tinyjs/package.json")
                .contains(&format!("\"version\":\"{version}\"")),
            "{kind}: tinyjs {version} in {listed:?}"
        );
        // Production dependencies only; hoisted, real directories; none of
        // the installers' own state.
        for absent in [
            "node_modules/devjs/",
            "node_modules/.pnpm/",
            "node_modules/.modules.yaml",
            ".pnp.cjs",
        ] {
            assert!(
                !listed.iter().any(|n| n.starts_with(absent)),
                "{kind}: {absent} in {listed:?}"
            );
        }
        assert_eq!(
            run_handler(&zip),
            format!("hello from tinyjs {version}"),
            "{} {kind}: the packaged handler loads its dependency",
            tf.label
        );
    }
}

/// Apply, read back and plan the three kinds on `tf`; the bump is planned,
/// and with `full` also applied and read back (the newest CLI does it all;
/// the oldest what depends on the CLI, to keep the file's time down).
fn case(tf: &TerraformCli, full: bool) {
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let body: String = KINDS.iter().map(|(k, _)| pipeline(k)).collect();
    let mut ws = workspace(tf, &moto, &body);
    ws.envs(env.vars.clone());
    for (kind, _) in KINDS {
        write_app(&ws, &env, kind);
    }
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Apply complete! Resources: 3 added"),
        "{}: {apply}",
        tf.label
    );
    assert_deployed(tf, &ws, &moto, &env, "1.0.0");
    assert_plan_empty(&ws, "a plan after applying npm, pnpm and Yarn functions");

    if full {
        // Cached trees: the plan needs neither pnpm nor Yarn.
        ws.envs(env.with_path(env.tools.path_without("pnpm")));
        assert_plan_empty(&ws, "a plan with the trees cached and no pnpm or yarn");
        ws.envs(env.vars.clone());
    }

    // One version bump in each lock is a code change of each function.
    for (kind, _) in KINDS {
        let app = ws.dir().join(kind);
        let before = std::fs::read(app.join(lock_file(kind))).unwrap();
        lock(&env, kind, &app, "1.1.0");
        assert_ne!(
            before,
            std::fs::read(app.join(lock_file(kind))).unwrap(),
            "{kind}: the lock moved"
        );
    }
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert!(text.contains("~ source_code_hash"), "{}: {text}", tf.label);
    assert!(text.contains("3 to change"), "{}: {text}", tf.label);
    if !full {
        destroy_and_assert_empty(&ws, &moto);
        return;
    }
    ws.apply_auto().unwrap();
    assert_deployed(tf, &ws, &moto, &env, "1.1.0");
    assert_plan_empty(&ws, "a plan after the bumped locks were applied");
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn npm_pnpm_and_yarn_locks_deploy_their_locked_versions() {
    case(&newest_cli(), true);
}

#[test]
fn npm_pnpm_and_yarn_locks_on_terraform_1_0() {
    let tf = clis().pop().expect("a CLI");
    assert!(tf.label.starts_with("1.0"), "the oldest CLI: {}", tf.label);
    case(&tf, false);
}

#[test]
fn missing_package_managers_and_ambiguous_locks_are_refused_at_plan() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    let env = offline_env();
    let body: String = ["pnpm", "yarn", "both"].map(pipeline).concat();
    let mut ws = workspace(&tf, &moto, &body);
    ws.envs(env.vars.clone());
    write_app(&ws, &env, "pnpm");
    write_app(&ws, &env, "yarn");
    let both = write_app(&ws, &env, "npm");
    std::fs::rename(&both, ws.dir().join("both")).unwrap();
    std::fs::copy(
        ws.dir().join("pnpm/pnpm-lock.yaml"),
        ws.dir().join("both/pnpm-lock.yaml"),
    )
    .unwrap();
    // Not the test's own tools: no pnpm nor Yarn (they share a directory).
    ws.envs(env.with_path(env.tools.path_without("pnpm")));
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a plan creates nothing"
    );
    let diags = diagnostics(&text);
    let of = |name: &str| -> &str {
        diags
            .iter()
            .find(|d| d.contains(&format!("eventpipe_event_pipeline.{name}")))
            .unwrap_or_else(|| panic!("a diagnostic on {name}: {text}"))
    };
    let pnpm = of("pnpm");
    assert!(pnpm.contains("Cannot install the dependencies"), "{pnpm}");
    assert!(pnpm.contains("pnpm-lock.yaml"), "{pnpm}");
    assert!(pnpm.contains("Install pnpm"), "{pnpm}");
    assert!(pnpm.contains("source_dir = "), "on source_dir: {pnpm}");
    let yarn = of("yarn");
    assert!(yarn.contains("Install Yarn 4"), "{yarn}");
    assert!(yarn.contains("source_dir = "), "on source_dir: {yarn}");
    let both = of("both");
    assert!(both.contains("Invalid function dependencies"), "{both}");
    assert!(
        both.contains("package-lock.json, pnpm-lock.yaml"),
        "names the locks found: {both}"
    );
    assert!(both.contains("source_dir = "), "on source_dir: {both}");
}

#[test]
fn a_lock_out_of_date_with_package_json_is_not_installed() {
    // The lock is the single source of truth: package.json moved on
    // without it, and each installer refuses rather than resolving again
    // (an apply fails the same way; the source directory is left as it was).
    let env = offline_env();
    let ws = Workspace::new(&newest_cli()).unwrap();
    for (kind, file) in &KINDS[1..] {
        let app = write_app(&ws, &env, kind);
        let manifest = std::fs::read_to_string(app.join("package.json")).unwrap();
        std::fs::write(
            app.join("package.json"),
            manifest.replace("tinyjs-1.0.0.tgz", "tinyjs-1.1.0.tgz"),
        )
        .unwrap();
        let listing = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let before = listing(&app);
        let lock_before = std::fs::read(app.join(file)).unwrap();
        let out = Command::new(eventpipe())
            .args(["package", "--source-dir"])
            .arg(&app)
            .args(["--runtime", "nodejs24.x", "-o"])
            .arg(env.dirs.path().join(format!("{kind}.zip")))
            .envs(env.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let text = process_text(&out);
        assert!(!out.status.success(), "{kind}: {text}");
        let why = if *kind == "pnpm" {
            "ERR_PNPM_OUTDATED_LOCKFILE"
        } else {
            "The lockfile would have been modified"
        };
        assert!(text.contains(why), "{kind}: {text}");
        assert_eq!(listing(&app), before, "{kind}: the source is untouched");
        assert_eq!(
            std::fs::read(app.join(file)).unwrap(),
            lock_before,
            "{kind}"
        );
    }
}

fn eventpipe() -> PathBuf {
    tests::provider_bin::provider_binary()
        .expect("provider binary")
        .with_file_name("eventpipe")
}

/// The plan's error diagnostics, each from its `Error:` to the next.
fn diagnostics(text: &str) -> Vec<String> {
    text.split("Error: ")
        .skip(1)
        .map(|d| format!("Error: {d}"))
        .collect()
}
