//! `eventpipe package --image --oci-layout DIR --base-image oci:BASE`, run as
//! a user runs it: the real binary, a base image this test writes by hand as
//! an OCI layout (nothing from the network), and the result read back by an
//! independent client, `skopeo`, then unpacked layer by layer with GNU tar
//! into a root file system where the handler runs with its dependency.
//!
//! When `skopeo` (or `tar`, or `python3`) is not installed, that part is
//! skipped and the test says so on its output; the rest still runs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eventpipe::pipeline::package::Settings;
use eventpipe::pipeline::package::cache::Cache;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const APP_PY: &str = "import six\n\ndef handler(event, context):\n    return six.X * 7\n";

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eventpipe"))
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn put(dir: &Path, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    fs::write(blobs.join(&digest[7..]), bytes).unwrap();
    digest
}

/// The base's one layer, for `arch`: a `/lambda-entrypoint.sh` naming it
/// and an empty `/var/task`. Returns the gzip'd blob and its diff_id.
fn base_layer(arch: &str) -> (Vec<u8>, String) {
    let mut b = tar::Builder::new(Vec::new());
    for dir in ["var/", "var/task/"] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, dir, std::io::empty()).unwrap();
    }
    let script = format!("#!/bin/sh\n# the test's base for {arch}\nexec \"$@\"\n");
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o755);
    h.set_size(script.len() as u64);
    b.append_data(&mut h, "lambda-entrypoint.sh", script.as_bytes())
        .unwrap();
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), sha256(&tar))
}

/// Writes a base image layout with an amd64 and an arm64 image, the way a
/// registry's multi-platform base is stored, JSON written by hand.
fn base_layout(dir: &Path) -> Vec<String> {
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let (layer, diff_id) = base_layer(arch);
        let layer_digest = put(dir, &layer);
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/bin:/bin", "LAMBDA_TASK_ROOT=/var/task"],
                "Entrypoint": ["/lambda-entrypoint.sh"],
                "WorkingDir": "/var/task",
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "the test's base"}],
        }))
        .unwrap();
        let config_digest = put(dir, &config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        }))
        .unwrap();
        let digest = put(dir, &manifest);
        entries.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": manifest.len(),
            "platform": {"architecture": arch, "os": "linux"},
        }));
    }
    let digests = entries
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect();
    let index = json!({"schemaVersion": 2, "manifests": entries});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digests
}

/// A function's source at `src` needing `six`, and a cache at `cache_dir`
/// holding `six` as pip would have installed it (no network in tests).
fn function(src: &Path, cache_dir: &Path, architecture: &str) {
    fs::write(src.join("app.py"), APP_PY).unwrap();
    fs::write(src.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let settings = Settings {
        source_dir: src.into(),
        runtime: "python3.13".into(),
        architecture: architecture.into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let key = settings.deps().unwrap().unwrap().key();
    Cache::at(cache_dir)
        .install(&key, |t| {
            fs::create_dir(t.join("six-1.16.0.dist-info"))?;
            fs::write(t.join("six-1.16.0.dist-info/RECORD"), "six.py,,\n")?;
            fs::write(t.join("six.py"), "X = 6\n")
        })
        .unwrap();
}

fn package_image(src: &Path, cache_dir: &Path, out: &Path, base: &str, arch: &str) -> Output {
    cli()
        .args(["package", "--image", "--oci-layout"])
        .arg(out)
        .args(["--base-image", base, "--source-dir"])
        .arg(src)
        .args(["--runtime", "python3.13", "--architecture", arch])
        .env("EVENTPIPE_CACHE_DIR", cache_dir)
        .output()
        .expect("run eventpipe package")
}

/// The one line the command prints: the manifest digest.
fn digest_printed(o: &Output) -> String {
    assert!(o.status.success(), "{}", text(o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let digest = out.trim_end_matches('\n');
    assert!(!digest.contains('\n'), "one line: {out}");
    assert!(
        digest.len() == 71
            && digest.starts_with("sha256:")
            && digest[7..].chars().all(|c| c.is_ascii_hexdigit()),
        "{out}"
    );
    digest.to_owned()
}

fn skopeo(args: &[&str]) -> Value {
    let o = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(o.status.success(), "skopeo {args:?}: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

/// Copies the image with skopeo (which checks every blob's digest) to a
/// `dir:` copy, and unpacks its layers in order into `rootfs` with GNU tar.
fn unpack_with_skopeo_and_tar(layout: &Path, work: &Path) -> PathBuf {
    let copy = work.join("copy");
    let o = Command::new("skopeo")
        .args(["--insecure-policy", "copy"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("dir:{}", copy.display()))
        .output()
        .expect("run skopeo copy");
    assert!(o.status.success(), "skopeo copy: {}", text(&o));
    let manifest: Value =
        serde_json::from_slice(&fs::read(copy.join("manifest.json")).unwrap()).unwrap();
    let rootfs = work.join("rootfs");
    fs::create_dir(&rootfs).unwrap();
    for layer in manifest["layers"].as_array().unwrap() {
        let digest = layer["digest"].as_str().unwrap();
        let o = Command::new("tar")
            .arg("-xzf")
            .arg(copy.join(&digest[7..]))
            .arg("-C")
            .arg(&rootfs)
            .output()
            .expect("run tar");
        assert!(o.status.success(), "tar: {}", text(&o));
    }
    rootfs
}

#[test]
fn package_image_writes_an_oci_layout_skopeo_reads_with_the_function_in_var_task() {
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base");
    fs::create_dir(&base).unwrap();
    let base_digests = base_layout(&base);
    let base_ref = format!("oci:{}", base.display());
    let (src, cache) = (work.path().join("src"), work.path().join("cache"));
    fs::create_dir_all(&src).unwrap();
    function(&src, &cache, "x86_64");
    let out = work.path().join("image");
    let digest = digest_printed(&package_image(&src, &cache, &out, &base_ref, "x86_64"));

    // The same function from another directory and another cache, into
    // another layout, at another time: the same digest, the same layout.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (src2, cache2) = (work.path().join("src2"), work.path().join("cache2"));
    fs::create_dir_all(&src2).unwrap();
    function(&src2, &cache2, "x86_64");
    let out2 = work.path().join("image2");
    let again = digest_printed(&package_image(&src2, &cache2, &out2, &base_ref, "x86_64"));
    assert_eq!(
        again, digest,
        "the same inputs give the same manifest digest"
    );
    assert_eq!(
        fs::read(out.join("index.json")).unwrap(),
        fs::read(out2.join("index.json")).unwrap()
    );

    // The layout as the OCI spec has it, by hand: the index names the
    // printed digest, and the manifest's blob hashes to it.
    let index: Value = serde_json::from_slice(&fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    let manifest_bytes = fs::read(out.join("blobs/sha256").join(&digest[7..])).unwrap();
    assert_eq!(sha256(&manifest_bytes), digest);
    assert_eq!(
        fs::read_to_string(out.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );

    if !have("skopeo") {
        println!("skopeo is not installed: skipping the check by an independent client");
        return;
    }
    let layout = format!("oci:{}", out.display());
    let inspect = skopeo(&["inspect", &layout]);
    assert_eq!(inspect["Digest"], digest.as_str(), "{inspect}");
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");
    let layers = inspect["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3, "the base's, the dependencies', the code's");
    let raw = skopeo(&["inspect", "--raw", &layout]);
    // The base's amd64 manifest, as this test wrote it.
    let base_manifest: Value = serde_json::from_slice(
        &fs::read(base.join("blobs/sha256").join(&base_digests[0][7..])).unwrap(),
    )
    .unwrap();
    let base_manifest_layers = &base_manifest["layers"];
    assert_eq!(
        raw["layers"][0], base_manifest_layers[0],
        "the base's layer first"
    );
    let config = skopeo(&["inspect", "--config", &layout]);
    assert_eq!(config["config"]["Cmd"], json!(["app.handler"]), "{config}");
    assert_eq!(
        config["config"]["Entrypoint"],
        json!(["/lambda-entrypoint.sh"])
    );
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 3);
    assert_eq!(config["history"].as_array().unwrap().len(), 3);

    if !have("tar") {
        println!("tar is not installed: skipping the unpacked image's checks");
        return;
    }
    let rootfs = unpack_with_skopeo_and_tar(&out, work.path());
    let task = rootfs.join("var/task");
    assert_eq!(fs::read_to_string(task.join("app.py")).unwrap(), APP_PY);
    assert_eq!(fs::read_to_string(task.join("six.py")).unwrap(), "X = 6\n");
    assert!(
        rootfs.join("lambda-entrypoint.sh").is_file(),
        "the base's file"
    );
    if !have("python3") {
        println!("python3 is not installed: skipping running the handler");
        return;
    }
    let run = Command::new("python3")
        .args(["-c", "import app; print(app.handler({}, None))"])
        .current_dir(&task)
        .env("PYTHONPATH", &task)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3");
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "42\n",
        "six from the dependency layer"
    );
}

#[test]
fn package_image_builds_on_the_base_for_the_architecture() {
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base");
    fs::create_dir(&base).unwrap();
    base_layout(&base);
    let (src, cache) = (work.path().join("src"), work.path().join("cache"));
    fs::create_dir_all(&src).unwrap();
    function(&src, &cache, "arm64");
    let base_ref = format!("oci:{}", base.display());
    let arm = digest_printed(&package_image(
        &src,
        &cache,
        &work.path().join("arm"),
        &base_ref,
        "arm64",
    ));
    function(&src, &cache, "x86_64");
    let amd = digest_printed(&package_image(
        &src,
        &cache,
        &work.path().join("amd"),
        &base_ref,
        "x86_64",
    ));
    assert_ne!(arm, amd);
    if have("skopeo") {
        let inspect = skopeo(&[
            "inspect",
            &format!("oci:{}", work.path().join("arm").display()),
        ]);
        assert_eq!(inspect["Architecture"], "arm64");
    } else {
        println!("skopeo is not installed: skipping the check by an independent client");
    }
}

#[test]
fn a_registry_out_of_reach_with_nothing_cached_is_one_line_and_exit_status_3() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("app.py"), "def handler(e, c):\n    return 1\n").unwrap();
    let out = work.path().join("image");
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    let o = cli()
        .args(["package", "--image", "--oci-layout"])
        .arg(&out)
        .arg("--source-dir")
        .arg(&src)
        .args(["--runtime", "python3.13"])
        .args(["--base-image", "127.0.0.1:1/lambda/python:3.13"])
        .env("EVENTPIPE_CACHE_DIR", work.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with(
            "eventpipe package: base image: the registry 127.0.0.1:1 cannot be reached ("
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("no earlier answer for 127.0.0.1:1/lambda/python:3.13 is cached"),
        "{stderr}"
    );
    assert!(o.stdout.is_empty());
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn package_image_refuses_bad_usage_and_documents_its_exit_statuses() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("app.py"), "x").unwrap();
    // --image needs --oci-layout; -o is for zips.
    let no_layout = cli()
        .args([
            "package",
            "--image",
            "--runtime",
            "python3.13",
            "--source-dir",
        ])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(no_layout.status.code(), Some(2), "{}", text(&no_layout));
    let both = cli()
        .args(["package", "--image", "--oci-layout", "x", "-o", "y.zip"])
        .args(["--runtime", "python3.13", "--source-dir"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    // A directory that holds other files is not overwritten.
    let base = work.path().join("base");
    fs::create_dir(&base).unwrap();
    base_layout(&base);
    let taken = work.path().join("taken");
    fs::create_dir(&taken).unwrap();
    fs::write(taken.join("notes.txt"), "mine").unwrap();
    let o = package_image(
        &src,
        &work.path().join("cache"),
        &taken,
        &format!("oci:{}", base.display()),
        "x86_64",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is not empty and not an OCI image layout"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(taken.join("notes.txt")).unwrap(), "mine");
    // A base layout with no image for the architecture.
    let missing = package_image(
        &src,
        &work.path().join("cache"),
        &work.path().join("new"),
        &format!("oci:{}", work.path().join("nowhere").display()),
        "x86_64",
    );
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    let help = cli().args(["package", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--oci-layout <DIR>"), "{help}");
    assert!(
        help.contains("3   --image: the base image's registry cannot be reached"),
        "{help}"
    );
}
