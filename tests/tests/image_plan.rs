//! `package_type = "image"` at plan time, through `terraform plan` with no
//! apply: the base image (a two-platform index the test builds and pushes
//! with skopeo to Debian's `docker-registry` on loopback) is resolved to
//! the digest of its platform manifest, shown as `image_base_digest` and
//! covered by `source_code_hash`; a base that moved is a change in the
//! plan (on Terraform 1.11 and 1.0.3); an unreachable registry is a warning
//! with the cached digest, or an error naming it with nothing cached; a pin
//! the cache holds needs no registry; a missing platform is refused
//! listing the ones there are; a base that is not AWS's gets a warning.
//! Limits: an image over 10 GB unzipped is refused with its size, a zip
//! over 250 MB names `package_type = "image"`, and an image over 250 MB is
//! not refused. Fault rows: each registry call the plan makes, failed
//! through the fault proxy, gives a clear error or the stale warning, and
//! the next plan succeeds.

mod common;

use std::fs;
use std::path::Path;

use serde_json::{Value as Json, json};

use common::*;
use tests::base_image::{self, BaseImage};
use tests::fault_proxy::{Fault, FaultProxy, Rule};
use tests::{Moto, Output, Registry, Skopeo, Workspace};

const REPOSITORY: &str = "lambda/python";
const TAG: &str = "3.12";

/// Rewrites the layout's image as a new revision: only the platforms in
/// `keep`, each manifest annotated with `rev` (so each revision has other
/// manifest digests, as a patched base does). Returns each kept platform's
/// manifest digest, by OCI architecture, and the index's digest.
fn revise(base: &BaseImage, keep: &[&str], rev: &str) -> (Vec<(String, String)>, String) {
    let read = |d: &str| -> Json {
        serde_json::from_slice(&fs::read(base_image::blob_path(&base.dir, d)).unwrap()).unwrap()
    };
    let write = |doc: &Json| -> (String, u64) {
        let bytes = serde_json::to_vec(doc).unwrap();
        let digest = base_image::sha256_digest(&bytes);
        fs::write(base_image::blob_path(&base.dir, &digest), &bytes).unwrap();
        (digest, bytes.len() as u64)
    };
    let index = read(&base.index_digest);
    let mut entries = Vec::new();
    let mut digests = Vec::new();
    for e in index["manifests"].as_array().unwrap() {
        let arch = e["platform"]["architecture"].as_str().unwrap().to_owned();
        if !keep.contains(&arch.as_str()) {
            continue;
        }
        let mut manifest = read(e["digest"].as_str().unwrap());
        manifest["annotations"] = json!({"test.revision": rev});
        let (digest, size) = write(&manifest);
        let mut entry = e.clone();
        entry["digest"] = json!(digest);
        entry["size"] = json!(size);
        entries.push(entry);
        digests.push((arch, digest));
    }
    let mut new_index = index.clone();
    new_index["manifests"] = json!(entries);
    let (digest, size) = write(&new_index);
    let layout = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": size,
            "annotations": {"org.opencontainers.image.ref.name": base.tag},
        }],
    });
    fs::write(base.dir.join("index.json"), layout.to_string()).unwrap();
    (digests, digest)
}

fn digest_of(digests: &[(String, String)], arch: &str) -> String {
    digests.iter().find(|(a, _)| a == arch).unwrap().1.clone()
}

/// A base image layout, pushed as revision `rev` (platforms `keep`) to
/// `host`'s `lambda/python:3.12`.
struct Base {
    dir: tempfile::TempDir,
    image: BaseImage,
}

impl Base {
    fn new() -> Base {
        let dir = tempfile::tempdir().unwrap();
        let image = base_image::build(dir.path(), TAG).unwrap();
        Base { dir, image }
    }

    fn push(&self, host: &str, keep: &[&str], rev: &str) -> (Vec<(String, String)>, String) {
        let pushed = revise(&self.image, keep, rev);
        Skopeo::new()
            .unwrap()
            .copy_all(
                &self.image.oci_reference(),
                &format!("docker://{host}/{REPOSITORY}:{TAG}"),
            )
            .unwrap();
        pushed
    }
}

/// The pipeline `name` as an image on `base` (an image reference),
/// with `function_extra` lines in its function block.
fn image_hcl(name: &str, base: &str, function_extra: &str) -> String {
    Pipeline::seed(name, &format!("{name}-bucket"))
        .function_lines(&format!(
            "    package_type = \"image\"\n{function_extra}    image {{\n      base_image = \"{base}\"\n    }}\n"
        ))
        .hcl()
}

/// A workspace for `body` with the image cache in `cache`, initialised.
fn ws_for(moto: &Moto, body: &str, cache: &Path) -> Workspace {
    let mut ws = workspace(&newest_cli(), moto, body);
    ws.env("EVENTPIPE_CACHE_DIR", cache.as_os_str());
    ws.init().unwrap();
    ws
}

/// `terraform plan -out`, and the planned values of `name` when it
/// succeeded.
fn plan(ws: &Workspace, name: &str) -> (Output, Option<Json>) {
    let out = ws.run(&["plan", "-out=tfplan", "-no-color"]).unwrap();
    if !out.success() {
        return (out, None);
    }
    let shown = ws.run(&["show", "-json", "tfplan"]).unwrap().ok().unwrap();
    let doc: Json = serde_json::from_str(&shown.stdout).unwrap();
    let values = doc["planned_values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .map(|r| r["values"].clone());
    (out, values)
}

fn planned(ws: &Workspace, name: &str) -> (String, Json) {
    let (out, values) = plan(ws, name);
    let values = values.unwrap_or_else(|| panic!("the plan failed:\n{}", flat(&out)));
    (flat(&out), values)
}

#[test]
fn the_plan_resolves_the_base_shows_a_move_and_uses_the_cache_when_the_registry_is_gone() {
    let moto = Moto::start().unwrap();
    let registry = Registry::start().unwrap();
    let base = Base::new();
    let cache = tempfile::tempdir().unwrap();
    let (first, _) = base.push(&registry.host(), &["amd64", "arm64"], "1");
    let reference = format!("{}/{REPOSITORY}:{TAG}", registry.host());
    let ws = ws_for(&moto, &image_hcl("imgplan", &reference, ""), cache.path());

    let (text, v) = planned(&ws, "imgplan");
    // x86_64 is linux/amd64's manifest: the digest the plan shows.
    assert_eq!(
        v["image_base_digest"],
        json!(digest_of(&first, "amd64")),
        "{text}"
    );
    let hash = v["source_code_hash"]
        .as_str()
        .expect("a known hash")
        .to_owned();
    assert_eq!(hash.len(), 64, "{hash}");
    // The test's base is not AWS's: a warning, the plan goes on.
    assert!(
        text.contains("Base image is not an AWS Lambda base image"),
        "{text}"
    );
    assert!(text.contains("runtime interface client"), "{text}");
    // The same base again: the same plan.
    let (_, again) = planned(&ws, "imgplan");
    assert_eq!(again["image_base_digest"], v["image_base_digest"]);
    assert_eq!(again["source_code_hash"], json!(hash));

    // The base moved: the tag names another index; the plan shows it.
    let (second, second_index) = base.push(&registry.host(), &["amd64", "arm64"], "2");
    assert_ne!(digest_of(&first, "amd64"), digest_of(&second, "amd64"));
    let (_, moved) = planned(&ws, "imgplan");
    assert_eq!(
        moved["image_base_digest"],
        json!(digest_of(&second, "amd64"))
    );
    assert_ne!(moved["source_code_hash"], json!(hash));

    // arm64 picks linux/arm64's manifest.
    let arm = ws_for(
        &moto,
        &image_hcl("imgplan", &reference, "    architecture = \"arm64\"\n"),
        cache.path(),
    );
    let (_, on_arm) = planned(&arm, "imgplan");
    assert_eq!(
        on_arm["image_base_digest"],
        json!(digest_of(&second, "arm64"))
    );

    // The registry stops: the cached answer, with a warning naming it.
    let host = registry.host();
    drop(registry);
    let (text, stale) = planned(&ws, "imgplan");
    assert_eq!(
        stale["image_base_digest"],
        json!(digest_of(&second, "amd64"))
    );
    assert_eq!(stale["source_code_hash"], moved["source_code_hash"]);
    assert!(text.contains("Base image digest from the cache"), "{text}");
    assert!(text.contains(&host), "{text}");

    // A pin the cache holds needs no registry, and warns of nothing stale.
    let pinned = format!("{host}/{REPOSITORY}@{second_index}");
    let pin = ws_for(&moto, &image_hcl("imgplan", &pinned, ""), cache.path());
    let (text, v) = planned(&pin, "imgplan");
    assert_eq!(
        v["image_base_digest"],
        json!(digest_of(&second, "amd64")),
        "{text}"
    );
    assert!(!text.contains("from the cache"), "{text}");

    // Nothing cached and the registry gone: an error naming it.
    let empty = tempfile::tempdir().unwrap();
    let cold = ws_for(&moto, &image_hcl("imgplan", &reference, ""), empty.path());
    let (out, none) = plan(&cold, "imgplan");
    let text = flat(&out);
    assert!(none.is_none() && !out.success(), "{text}");
    assert!(text.contains("Base image registry unreachable"), "{text}");
    assert!(text.contains(&host), "{text}");
    assert!(text.contains("base_image"), "{text}");
    assert!(moto.aws().unwrap().list_everything().unwrap().is_empty());
}

#[test]
fn the_plan_of_an_image_shows_its_base_digest_on_every_terraform() {
    let moto = Moto::start().unwrap();
    let base = Base::new();
    let (digests, _) = revise(&base.image, &["amd64", "arm64"], "1");
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("oci:{}:{TAG}", base.dir.path().display());
    for tf in clis() {
        let mut ws = workspace(&tf, &moto, &image_hcl("imgtf", &reference, ""));
        ws.env("EVENTPIPE_CACHE_DIR", cache.path().as_os_str());
        ws.init().unwrap();
        let (text, v) = planned(&ws, "imgtf");
        assert_eq!(
            v["image_base_digest"],
            json!(digest_of(&digests, "amd64")),
            "{text}"
        );
        assert_eq!(v["source_code_hash"].as_str().map(str::len), Some(64));
    }
}

#[test]
fn a_base_without_the_architecture_is_refused_listing_its_platforms() {
    let moto = Moto::start().unwrap();
    let registry = Registry::start().unwrap();
    let base = Base::new();
    let cache = tempfile::tempdir().unwrap();
    base.push(&registry.host(), &["amd64"], "amd64-only");
    let reference = format!("{}/{REPOSITORY}:{TAG}", registry.host());
    let ws = ws_for(
        &moto,
        &image_hcl("noarm", &reference, "    architecture = \"arm64\"\n"),
        cache.path(),
    );
    let (out, values) = plan(&ws, "noarm");
    let text = flat(&out);
    assert!(values.is_none() && !out.success(), "{text}");
    assert!(
        text.contains("Base image has no image for the architecture"),
        "{text}"
    );
    assert!(text.contains("linux/arm64"), "{text}");
    assert!(text.contains("(it has: linux/amd64)"), "{text}");
    assert!(text.contains("architecture"), "{text}");
}

/// A workspace whose image base is an OCI layout on disk (no registry):
/// what the size checks need.
fn layout_ws(moto: &Moto, name: &str, package_type: &str, base: &Base, cache: &Path) -> Workspace {
    let body = Pipeline::seed(name, &format!("{name}-bucket"))
        .function_lines(&format!("    package_type = \"{package_type}\"\n"))
        .hcl();
    let body = if package_type == "image" {
        body.replace(
            "    package_type = \"image\"\n",
            &format!(
                "    package_type = \"image\"\n    image {{\n      base_image = \"oci:{}:{TAG}\"\n    }}\n",
                base.dir.path().display()
            ),
        )
    } else {
        body
    };
    ws_for(moto, &body, cache)
}

fn sparse(ws: &Workspace, bytes: u64) {
    let f = fs::File::create(ws.dir().join("app/model.bin")).unwrap();
    f.set_len(bytes).unwrap();
}

#[test]
fn an_image_may_pass_250_mb_but_not_10_gb_and_a_zip_over_250_mb_names_image() {
    let moto = Moto::start().unwrap();
    let base = Base::new();
    let cache = tempfile::tempdir().unwrap();
    // 260 MB: too large for a zip, which points at an image.
    let zip = layout_ws(&moto, "bigzip", "zip", &base, cache.path());
    sparse(&zip, 260 * 1024 * 1024);
    let (out, _) = plan(&zip, "bigzip");
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("260.0 MB"), "{text}");
    assert!(text.contains("package_type = \"image\""), "{text}");
    // The same as an image: no limit of a zip, and no staging in S3.
    let image = layout_ws(&moto, "bigimg", "image", &base, cache.path());
    sparse(&image, 260 * 1024 * 1024);
    let (text, v) = planned(&image, "bigimg");
    assert!(!text.contains("too large"), "{text}");
    assert!(
        v["image_base_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // Over 10 GB (a sparse file: nothing on disk): refused with its size.
    sparse(&image, 10 * 1024 * 1024 * 1024 + 1);
    let (out, _) = plan(&image, "bigimg");
    let text = flat(&out);
    assert!(!out.success(), "{text}");
    assert!(text.contains("10240.0 MB"), "{text}");
    assert!(text.contains("a container image"), "{text}");
    assert!(text.contains("model.bin"), "{text}");
    assert!(text.contains("source_dir"), "{text}");
    assert!(moto.aws().unwrap().list_everything().unwrap().is_empty());
}

/// The fault rows: each registry call a plan makes (calibrated from a
/// plan through the proxy with an empty cache), failed on its attempt and
/// its one retry, as a 500 and as a dropped connection. The plan fails
/// with an error naming the base, or (a tag's HEAD, with an answer cached)
/// warns and uses the cache; the next plan, with no fault, succeeds and
/// shows the base's digest.
#[test]
fn each_registry_call_of_a_plan_failing_is_reported_and_the_next_plan_succeeds() {
    let moto = Moto::start().unwrap();
    let registry = Registry::start().unwrap();
    let proxy = FaultProxy::start(&registry.url()).unwrap();
    // A bearer token to ask for first, as public ECR wants.
    proxy.registry_tokens(true);
    let base = Base::new();
    let (pushed, _) = base.push(&registry.host(), &["amd64", "arm64"], "1");
    let want = json!(digest_of(&pushed, "amd64"));
    let reference = format!("{}/{REPOSITORY}:{TAG}", proxy.addr());
    let body = image_hcl("imgfault", &reference, "");

    let calibration = tempfile::tempdir().unwrap();
    let ws = ws_for(&moto, &body, calibration.path());
    proxy.clear_calls();
    let (_, v) = planned(&ws, "imgfault");
    assert_eq!(v["image_base_digest"], want);
    let mut ops: Vec<String> = proxy
        .calls()
        .into_iter()
        .map(|c| c.op)
        .filter(|op| op.starts_with("registry:"))
        .collect();
    ops.sort();
    ops.dedup();
    for must in [
        "registry:Ping",
        "registry:GetToken",
        "registry:HeadManifest",
        "registry:GetManifest",
    ] {
        assert!(ops.iter().any(|o| o == must), "calibration saw {ops:?}");
    }

    let mut table = Vec::new();
    for op in &ops {
        for fault in ["500", "dropped connection"] {
            let rule = || match fault {
                "500" => Rule::on(op).fail(Fault::InternalError),
                _ => Rule::on(op).drop_connection(),
            };
            let arm = |rule: Rule| {
                proxy.clear_rules();
                proxy.clear_calls();
                proxy.add_rule(rule);
            };
            // Once: the client's one retry absorbs it (a cache of its own,
            // so every call of a cold plan is made).
            let cache = tempfile::tempdir().unwrap();
            let ws = ws_for(&moto, &body, cache.path());
            arm(rule().first(1));
            let (text, v) = planned(&ws, "imgfault");
            assert!(proxy.calls().iter().any(|c| &c.op == op), "{op} not called");
            assert_eq!(v["image_base_digest"], want, "{op} {fault} once: {text}");
            assert!(
                !text.contains("from the cache"),
                "{op} {fault} once: {text}"
            );
            // Every time: a clear error naming the base and where it was set
            // (a failed token request or `GET /v2/` leaves the request
            // unauthenticated, which the registry refuses).
            let cache = tempfile::tempdir().unwrap();
            let ws = ws_for(&moto, &body, cache.path());
            arm(rule());
            let (out, values) = plan(&ws, "imgfault");
            let text = flat(&out);
            let every = match values {
                None => {
                    assert!(text.contains(&reference), "{op} {fault}: {text}");
                    assert!(text.contains("base_image"), "{op} {fault}: {text}");
                    let summary = [
                        "Base image registry unreachable",
                        "Base image access denied",
                        "Cannot resolve the base image",
                    ]
                    .into_iter()
                    .find(|s| text.contains(s))
                    .unwrap_or_else(|| panic!("{op} {fault}: no clear error: {text}"));
                    format!("error \"{summary}\" on base_image")
                }
                // A manifest HEAD answered with a 500 is followed by a GET
                // of the same manifest (oci-client's own fallback).
                Some(v) if op == "registry:HeadManifest" && fault == "500" => {
                    assert_eq!(v["image_base_digest"], want);
                    "none: the GET fallback answers".to_owned()
                }
                Some(_) => panic!("{op} {fault}: a failing call went unnoticed: {text}"),
            };
            // The next plan, with no fault, resolves the base.
            proxy.clear_rules();
            let (_, v) = planned(&ws, "imgfault");
            assert_eq!(v["image_base_digest"], want, "{op} {fault}: the next plan");
            table.push(format!(
                "| {op} | {fault} | retried, plan succeeded | {every} | next plan resolves {} |",
                &want.as_str().unwrap()[..19]
            ));
        }
    }
    // With the calibration's answer cached, the tag's HEAD failing every
    // time is the stale warning on the cached digest; then a clean plan.
    proxy.clear_rules();
    proxy.add_rule(Rule::on("registry:HeadManifest").drop_connection());
    let (text, v) = planned(&ws, "imgfault");
    assert_eq!(v["image_base_digest"], want, "{text}");
    assert!(text.contains("Base image digest from the cache"), "{text}");
    proxy.clear_rules();
    let (text, v) = planned(&ws, "imgfault");
    assert_eq!(v["image_base_digest"], want);
    assert!(!text.contains("from the cache"), "{text}");
    table.push(
        "| registry:HeadManifest (answer cached) | dropped connection | - | stale warning, \
         cached digest | next plan resolves |"
            .to_owned(),
    );
    println!(
        "| site | fault | failed once | failing every time | converged |\n|---|---|---|---|---|\n{}",
        table.join("\n")
    );
    assert!(moto.aws().unwrap().list_everything().unwrap().is_empty());
}
