//! `function.bundle`, end to end with no network: a TypeScript handler with
//! a `file:` dependency locked by npm, bundled by the provider with the
//! esbuild `make tools` pinned (on the provider's `PATH`). The deployed
//! code (its `CodeSha256`, read with the tests' own client) is the zip
//! `eventpipe package --bundle` builds, which holds one `.js` and its map;
//! Node runs it with an event from `eventpipe event s3`. `@aws-sdk/*` stays
//! a `require`. An edit of the `.ts` file is an update in place; the next
//! plan after apply is empty. Bad input is refused at plan on its path.

mod common;

use std::io::{Cursor, Read};
use std::path::Path;
use std::process::Command;

use common::*;
use tests::{Moto, TerraformCli, Workspace, tools};

/// The handler: imports a helper module, the locked `tinyjs` and the AWS
/// SDK's S3 client (external: in the runtime), and has a type error esbuild
/// does not care about.
const INDEX_TS: &str = r#"import { S3Client } from "@aws-sdk/client-s3";
import { greet } from "tinyjs";
import { keysOf, type S3Event } from "./keys";

// A type error: esbuild strips types without checking them.
const answer: number = "forty-two";

export const handler = async (event: S3Event) => {
  const client = new S3Client({});
  return { greeting: greet(), keys: keysOf(event), sdk: client.name, answer };
};
"#;

const KEYS_TS: &str = r#"export interface S3Event {
  Records: { s3: { bucket: { name: string }; object: { key: string } } }[];
}

export function keysOf(event: S3Event): string[] {
  return event.Records.map((r) => `${r.s3.bucket.name}/${r.s3.object.key}`);
}
"#;

const TSCONFIG: &str = r#"{
  "compilerOptions": { "target": "ES2022", "module": "ES2022", "moduleResolution": "Bundler", "strict": true, "noEmit": true, "lib": ["ES2022"], "types": [] },
  "include": ["src"]
}
"#;

/// The test's environment: the pinned package tools first on `PATH`, an
/// offline npm, and caches of its own.
struct Env {
    dirs: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

fn test_env(path: std::ffi::OsString) -> Env {
    let dirs = tempfile::tempdir().expect("tempdir");
    let vars = vec![
        ("PATH".to_owned(), path.to_string_lossy().into_owned()),
        (
            "EVENTPIPE_CACHE_DIR".to_owned(),
            dirs.path().join("cache").display().to_string(),
        ),
        ("npm_config_offline".to_owned(), "true".to_owned()),
        (
            "npm_config_cache".to_owned(),
            dirs.path().join("npm").display().to_string(),
        ),
    ];
    Env { dirs, vars }
}

fn tools_path() -> std::ffi::OsString {
    tools::package_tools().expect("package tools").path()
}

/// The TypeScript project in `ws`'s `app/`, its dependency locked by npm.
fn write_project(ws: &Workspace, env: &Env) {
    ws.remove("app/app.py").unwrap();
    ws.write("app/src/index.ts", INDEX_TS).unwrap();
    ws.write("app/src/keys.ts", KEYS_TS).unwrap();
    ws.write("app/tsconfig.json", TSCONFIG).unwrap();
    let app = ws.dir().join("app");
    pack_tinyjs(&app.join("vendor"));
    // Runtime dependencies only: the dev tools (esbuild, tsc) come from
    // PATH here, and the provider never installs devDependencies.
    ws.write(
        "app/package.json",
        r#"{"name":"fn","version":"1.0.0","dependencies":{"tinyjs":"file:vendor/tinyjs-1.0.0.tgz"}}"#,
    )
    .unwrap();
    let out = Command::new("npm")
        .args([
            "install",
            "--package-lock-only",
            "--offline",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(&app)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("npm install --package-lock-only");
    assert!(out.status.success(), "npm lock: {}", process_text(&out));
}

/// `eventpipe package --bundle` of `dir`: the zip and the printed SHA-256.
fn cli_bundle(dir: &Path, handler: &str, env: &Env) -> (Vec<u8>, String) {
    let out = env.dirs.path().join("package.zip");
    let run = Command::new(tools::eventpipe_cli())
        .args(["package", "--bundle", "--handler", handler, "--source-dir"])
        .arg(dir)
        .args(["--runtime", "nodejs24.x", "-o"])
        .arg(&out)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run eventpipe package");
    assert!(
        run.status.success(),
        "eventpipe package --bundle: {}",
        process_text(&run)
    );
    let sha = String::from_utf8(run.stdout).unwrap().trim().to_owned();
    (std::fs::read(&out).expect("the zip"), sha)
}

fn names(zip: &[u8]) -> Vec<String> {
    let z = zip::ZipArchive::new(Cursor::new(zip.to_vec())).expect("a zip");
    z.file_names().map(|n| n.unwrap().into_owned()).collect()
}

fn unzip(zip: &[u8], into: &Path) {
    let mut z = zip::ZipArchive::new(Cursor::new(zip.to_vec())).expect("a zip");
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let path = into.join(f.name().unwrap().into_owned());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut body = Vec::new();
        f.read_to_end(&mut body).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

/// The event S3 sends for `bucket`/`key`, from `eventpipe event s3`.
fn s3_event(bucket: &str, key: &str) -> String {
    let out = Command::new(tools::eventpipe_cli())
        .args(["event", "s3", "--bucket", bucket, "--key", key])
        .output()
        .expect("eventpipe event s3");
    assert!(out.status.success(), "{}", process_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the unpacked bundle's handler with Node on `event`, with a stand-in
/// `@aws-sdk/client-s3` on `NODE_PATH` (the runtime's copy, in Lambda):
/// what it prints.
fn run_with_node(unpacked: &Path, entry: &str, event: &str) -> String {
    let sdk = unpacked.join("stub/node_modules/@aws-sdk/client-s3");
    std::fs::create_dir_all(&sdk).unwrap();
    std::fs::write(
        sdk.join("index.js"),
        "exports.S3Client = class S3Client { constructor() { this.name = \"stub S3Client\"; } };\n",
    )
    .unwrap();
    let event_file = unpacked.join("event.json");
    std::fs::write(&event_file, event).unwrap();
    let script = "const [entry, file] = process.argv.slice(1);\
        const event = JSON.parse(require('fs').readFileSync(file, 'utf8'));\
        require(entry).handler(event).then((r) => console.log(JSON.stringify(r)));";
    let out = Command::new("node")
        .args(["-e", script])
        .arg(unpacked.join(entry))
        .arg(&event_file)
        .env("NODE_PATH", unpacked.join("stub/node_modules"))
        .output()
        .expect("node");
    assert!(out.status.success(), "node: {}", process_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn bundle_pipeline(name: &str) -> String {
    Pipeline::named(name)
        .runtime("nodejs24.x", "src/index.handler")
        .default_sizes()
        .no_filter_suffix()
        .function_lines("    bundle      = true\n")
        .hcl()
}

fn bundle_case(tf: &TerraformCli) {
    let moto = Moto::start().unwrap();
    let env = test_env(tools_path());
    let mut ws = workspace(tf, &moto, &bundle_pipeline("tsb"));
    ws.envs(env.vars.clone());
    write_project(&ws, &env);
    ws.init().unwrap();
    let apply = ws.apply_auto().unwrap();
    assert!(
        apply.contains("Resources: 1 added"),
        "{}: {apply}",
        tf.label
    );

    // The deployed code is eventpipe package --bundle's zip.
    let app = ws.dir().join("app");
    let (zip, sha) = cli_bundle(&app, "src/index.handler", &env);
    let aws = moto.aws().unwrap();
    let function = state_attrs(&ws, "tsb")["function_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        aws.code_sha256(&function).unwrap(),
        sha,
        "deployed CodeSha256"
    );
    // One .js and its map: no source, no node_modules.
    assert_eq!(names(&zip), ["src/index.js", "src/index.js.map"]);
    let unpacked = tempfile::tempdir().unwrap();
    unzip(&zip, unpacked.path());
    let js = std::fs::read_to_string(unpacked.path().join("src/index.js")).unwrap();
    // The AWS SDK stays a require; the locked dependency is inside.
    assert!(js.contains("require(\"@aws-sdk/client-s3\")"), "{js}");
    assert!(js.contains("hello from tinyjs"), "{js}");
    assert!(js.contains("//# sourceMappingURL=index.js.map"), "{js}");
    let map = std::fs::read_to_string(unpacked.path().join("src/index.js.map")).unwrap();
    assert!(map.contains("\"../src/index.ts\""), "{map}");
    assert!(
        !map.contains(&*app.to_string_lossy()),
        "no absolute path: {map}"
    );

    // Node runs it with the event S3 sends.
    let event = s3_event("tsb-bucket", "data/day 1.json");
    let printed = run_with_node(unpacked.path(), "src/index.js", &event);
    let result: serde_json::Value = serde_json::from_str(printed.trim()).expect(&printed);
    assert_eq!(
        result,
        serde_json::json!({
            "greeting": "hello from tinyjs",
            "keys": ["tsb-bucket/data/day+1.json"],
            "sdk": "stub S3Client",
            "answer": "forty-two"
        })
    );

    // The type error is there: tsc says so, the bundle did not care.
    let tsc = Command::new(tools::package_tools().unwrap().node_bin.join("tsc"))
        .args(["--noEmit", "-p"])
        .arg(app.join("tsconfig.json"))
        .output()
        .expect("tsc");
    assert!(!tsc.status.success());
    assert!(
        process_text(&tsc).contains("TS2322"),
        "{}",
        process_text(&tsc)
    );

    assert_plan_empty(&ws, "a plan after applying a bundled function");

    // An edit of the .ts file: a new source_code_hash, updated in place.
    let hash = state_attrs(&ws, "tsb")["source_code_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.write(
        "app/src/keys.ts",
        KEYS_TS.replace(
            "`${r.s3.bucket.name}/${r.s3.object.key}`",
            "r.s3.object.key",
        ),
    )
    .unwrap();
    let text = flat(&ws.plan(&[]).unwrap().ok().unwrap());
    assert!(text.contains("~ source_code_hash"), "{text}");
    assert!(text.contains(&hash), "{text}");
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "{text}"
    );
    destroy_and_assert_empty(&ws, &moto);
}

#[test]
fn a_typescript_handler_is_bundled_into_one_file_that_node_runs() {
    bundle_case(&newest_cli());
}

#[test]
fn a_bundle_on_terraform_1_0() {
    let tf = clis().pop().expect("a CLI");
    assert!(
        tf.label.starts_with("1.0"),
        "the oldest CLI is 1.0.x: {}",
        tf.label
    );
    bundle_case(&tf);
}

#[test]
fn bad_bundle_input_is_refused_at_plan_on_its_attribute() {
    let tf = newest_cli();
    let moto = Moto::start().unwrap();
    // esbuild is not on this PATH (and not in the projects).
    let path = tools::package_tools().unwrap().path_without("esbuild");
    let env = test_env(path);
    let python = Pipeline::named("py")
        .default_sizes()
        .function_lines("    bundle      = true\n")
        .hcl()
        .replace("${path.module}/app", "${path.module}/py");
    let missing =
        bundle_pipeline("missing").replace("${path.module}/app", "${path.module}/missing");
    let body = format!("{python}\n{missing}\n{}", bundle_pipeline("noesbuild"));
    let mut ws = workspace(&tf, &moto, &body);
    ws.envs(env.vars.clone());
    ws.write("py/app.py", "def handler(e, c):\n    return 1\n")
        .unwrap();
    ws.write(
        "missing/index.ts",
        "export const handler = async () => 1;\n",
    )
    .unwrap();
    ws.remove("app/app.py").unwrap();
    ws.write(
        "app/src/index.ts",
        "export const handler = async () => 1;\n",
    )
    .unwrap();
    ws.init().unwrap();
    let plan = ws.run(&["plan"]).unwrap();
    let text = flat(&plan);
    assert!(!plan.success(), "{text}");
    // Each error with the configuration line Terraform shows for its path.
    let errors: Vec<&str> = text.split("Error: ").skip(1).collect();
    let error = |what: &str| {
        *errors
            .iter()
            .find(|e| e.contains(what))
            .unwrap_or_else(|| panic!("no error with {what:?}: {text}"))
    };
    // Python: on function.bundle.
    let e = error("but the runtime is python3.12");
    assert!(e.contains("bundle = true"), "on function.bundle: {e}");
    // The entry: the paths tried, on function.handler.
    let e = error("src/index.ts, src/index.mts, src/index.js");
    assert!(
        e.contains("handler = \"src/index.handler\""),
        "on function.handler: {e}"
    );
    // No esbuild: how to install it, on function.bundle.
    let e = error("esbuild not found");
    assert!(e.contains("npm install --save-dev esbuild"), "{e}");
    assert!(e.contains("bundle = true"), "on function.bundle: {e}");
    assert_eq!(errors.len(), 3, "{text}");
    assert!(
        moto.aws().unwrap().list_everything().unwrap().is_empty(),
        "a refused plan creates nothing"
    );
}

/// An `.mts` entry is an ES module: it is bundled as `<module>.mjs` (so the
/// handler still resolves, and top-level `await` is kept), which Node
/// imports; the same inputs from another directory and cache give the same
/// bytes.
#[test]
fn an_mts_entry_is_bundled_as_an_es_module_with_the_same_bytes_anywhere() {
    let env = test_env(tools_path());
    let write = |dir: &Path| {
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(
            dir.join("lib/greet.mts"),
            "export const greet = (n: string): string => `hello ${n}`;\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("app.mts"),
            "import { greet } from \"./lib/greet.mjs\";\n\
             const ready: string = await Promise.resolve(\"ready\");\n\
             export const handler = async (event: { Records: unknown[] }) =>\n  \
             `${greet(ready)}: ${event.Records.length}`;\n",
        )
        .unwrap();
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path());
    write(&b.path().join("elsewhere"));
    let (zip, sha) = cli_bundle(a.path(), "app.handler", &env);
    assert_eq!(names(&zip), ["app.mjs", "app.mjs.map"]);
    let other = test_env(tools_path());
    let (_, again) = cli_bundle(&b.path().join("elsewhere"), "app.handler", &other);
    assert_eq!(sha, again, "the same inputs give the same zip");

    let unpacked = tempfile::tempdir().unwrap();
    unzip(&zip, unpacked.path());
    let module = unpacked.path().join("app.mjs");
    let script = format!(
        "const m = await import({:?}); console.log(await m.handler(JSON.parse(process.argv[1])));",
        format!("file://{}", module.display())
    );
    let out = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .arg(s3_event("b", "data/x.json"))
        .output()
        .expect("node");
    assert!(out.status.success(), "node: {}", process_text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello ready: 1"
    );
}
