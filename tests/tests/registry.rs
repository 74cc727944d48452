//! The image tests' registry: Debian's `docker-registry` started per test,
//! a two-platform base image built by the test and pushed with skopeo, read
//! back with skopeo and a manifest HEAD, and the uploads counted from the
//! registry's log. None of these needs the provider. When docker-registry or
//! skopeo is missing, they fail and say to run `make tools`.

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tests::base_image::{self, BaseImage, OCI_INDEX, OCI_MANIFEST};
use tests::{Registry, Skopeo};

const REPOSITORY: &str = "base";
const TAG: &str = "3.13";

fn push(image: &BaseImage, registry: &Registry) -> String {
    let dest = format!("docker://{}/{REPOSITORY}:{TAG}", registry.host());
    Skopeo::new()
        .unwrap()
        .copy_all(&image.oci_reference(), &dest)
        .unwrap_or_else(|e| panic!("{e:#}\nregistry log:\n{}", registry.log()))
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn the_registry_answers_v2_and_is_gone_after_drop() {
    let registry = Registry::start().unwrap();
    let (pid, addr) = (registry.pid(), registry.addr());
    let storage = registry.storage_dir();
    let files = storage.parent().unwrap().to_path_buf();
    assert!(files.join("config.yml").is_file());
    assert!(registry.url().starts_with("http://127.0.0.1:"));
    assert!(process_exists(pid));
    let requests = registry.requests().unwrap();
    let first = &requests.records[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str(), first.status),
        ("GET", "/v2/", 200),
        "the readiness probe is the first request: {requests:?}"
    );

    let second = Registry::start().unwrap();
    assert_ne!(second.addr(), addr, "each test gets its own registry");
    assert_ne!(second.storage_dir(), storage);
    drop(second);

    drop(registry);
    assert!(
        !process_exists(pid),
        "docker-registry {pid} outlived its Registry"
    );
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "{addr} still accepts connections"
    );
    assert!(!files.exists(), "{} was left behind", files.display());
}

#[test]
fn the_base_image_pushes_and_reads_back_with_both_platforms() {
    let registry = Registry::start().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    push(&image, &registry);

    // The independent client reads the index back as it was built.
    let skopeo = Skopeo::new().unwrap();
    let reference = format!("docker://{}/{REPOSITORY}:{TAG}", registry.host());
    let index = skopeo.inspect_raw(&reference).unwrap();
    assert_eq!(index["mediaType"], OCI_INDEX);
    let listed: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["platform"]["architecture"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                entry["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let built: Vec<(String, String)> = image
        .platforms
        .iter()
        .map(|p| (p.architecture.clone(), p.manifest_digest.clone()))
        .collect();
    assert_eq!(listed, built);
    assert_eq!(listed[0].0, "amd64");
    assert_eq!(listed[1].0, "arm64");
    assert_eq!(index["manifests"][0]["platform"]["os"], "linux");
    assert_eq!(index["manifests"][1]["platform"]["variant"], "v8");

    // Each platform's manifest, by digest, names its own config and layer.
    for platform in &image.platforms {
        let manifest: Value = skopeo
            .inspect_raw(&format!(
                "docker://{}/{REPOSITORY}@{}",
                registry.host(),
                platform.manifest_digest
            ))
            .unwrap();
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        assert_eq!(
            manifest["config"]["digest"],
            platform.config_digest.as_str()
        );
        assert_eq!(
            manifest["layers"][0]["digest"],
            platform.layer_digests[0].as_str()
        );
    }

    // One manifest HEAD resolves the tag to the index digest (what a plan does).
    let head = registry.head_manifest(REPOSITORY, TAG).unwrap();
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(
        head.header("Docker-Content-Digest"),
        Some(image.index_digest.as_str())
    );
    assert_eq!(head.header("Content-Type"), Some(OCI_INDEX));
    let arm = &image.platform("arm64").unwrap().manifest_digest;
    let head = registry.head_manifest(REPOSITORY, arm).unwrap();
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("Docker-Content-Digest"), Some(arm.as_str()));
    let missing = registry.head_manifest(REPOSITORY, "no-such-tag").unwrap();
    assert_eq!(missing.status, 404);

    // Copied back to an OCI layout, the image keeps its digests.
    let copy = tempfile::tempdir().unwrap();
    skopeo
        .copy_all(&reference, &format!("oci:{}:{TAG}", copy.path().display()))
        .unwrap();
    let layout: Value =
        serde_json::from_slice(&std::fs::read(copy.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        layout["manifests"][0]["digest"],
        image.index_digest.as_str()
    );
    for (digest, size) in image.blobs().unwrap() {
        let copied = std::fs::read(base_image::blob_path(copy.path(), &digest)).unwrap();
        assert_eq!(copied.len() as u64, size);
        assert_eq!(base_image::sha256_digest(&copied), digest);
    }
}

#[test]
fn the_log_counts_every_blob_uploaded_and_a_second_push_uploads_none() {
    let registry = Registry::start().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    push(&image, &registry);

    let requests = registry.requests().unwrap();
    let uploads = requests.blob_uploads();
    let uploaded: BTreeSet<(String, u64)> = uploads
        .iter()
        .map(|upload| (upload.digest.clone(), upload.size))
        .collect();
    let expected: BTreeSet<(String, u64)> = image.blobs().unwrap().into_iter().collect();
    assert_eq!(expected.len(), 4, "two layers and two configs");
    assert_eq!(uploaded, expected, "log:\n{}", registry.log());
    assert_eq!(uploads.len(), 4, "each blob uploaded once: {uploads:?}");
    assert!(uploads.iter().all(|upload| upload.repository == REPOSITORY));

    // The two platform manifests go by digest, the index by its tag.
    let pushes = requests.manifest_pushes();
    let references: Vec<&str> = pushes.iter().map(|p| p.reference.as_str()).collect();
    let mut expected_refs: Vec<&str> = image
        .platforms
        .iter()
        .map(|p| p.manifest_digest.as_str())
        .collect();
    expected_refs.push(TAG);
    assert_eq!(references, expected_refs);
    for push in &pushes {
        let digest = if push.reference == TAG {
            &image.index_digest
        } else {
            &push.reference
        };
        let built = std::fs::metadata(base_image::blob_path(layout.path(), digest))
            .unwrap()
            .len();
        assert_eq!(push.size, built, "{push:?}");
    }

    let blob_bytes: u64 = expected.iter().map(|(_, size)| size).sum();
    let manifest_bytes: u64 = pushes.iter().map(|p| p.size).sum();
    assert_eq!(requests.bytes_uploaded(), blob_bytes + manifest_bytes);

    // A registry that has everything gets HEADs and manifests, no blob.
    let mark = requests.len();
    push(&image, &registry);
    let again = registry.requests().unwrap().since(mark);
    assert!(!again.is_empty());
    assert_eq!(again.blob_uploads(), [], "log:\n{}", registry.log());
    let heads = again
        .records
        .iter()
        .filter(|r| r.method == "HEAD" && r.path.contains("/blobs/sha256:"))
        .count();
    assert_eq!(heads, 4, "one HEAD per blob: {again:?}");
}

#[test]
fn the_base_image_runs_a_handler_from_its_task_root() {
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    let rootfs = tempfile::tempdir().unwrap();
    let platform = image.platform("amd64").unwrap();
    for layer in &platform.layer_digests {
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(base_image::blob_path(layout.path(), layer))
            .arg("-C")
            .arg(rootfs.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let task_root = rootfs.path().join("var/task");
    std::fs::write(
        task_root.join("app.py"),
        "def handler(event, context):\n    return {'key': event['Records'][0]['s3']['object']['key']}\n",
    )
    .unwrap();
    let output = Command::new(rootfs.path().join("lambda-entrypoint.sh"))
        .arg("app.handler")
        .env("LAMBDA_TASK_ROOT", &task_root)
        .env("LAMBDA_RUNTIME_DIR", rootfs.path().join("var/runtime"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(br#"{"Records":[{"s3":{"object":{"key":"in/a.csv"}}}]}"#)?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"key\": \"in/a.csv\"}\n"
    );
    let platform_file =
        std::fs::read_to_string(rootfs.path().join("var/runtime/platform")).unwrap();
    assert_eq!(platform_file, "linux/amd64\n");
}

#[test]
fn over_tls_the_registry_is_trusted_through_the_test_ca_only() {
    let certs = tests::https::make_certs();
    let registry = Registry::start_tls(&certs).unwrap();
    assert!(registry.url().starts_with("https://127.0.0.1:"));
    let cert_dir = registry.cert_dir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    let dest = format!("docker://{}/{REPOSITORY}:{TAG}", registry.host());

    // A client that verifies TLS without the test CA is refused.
    let strict = Skopeo::trusting(layout.path()).unwrap();
    let refused = strict.copy_all(&image.oci_reference(), &dest).unwrap_err();
    assert!(
        format!("{refused:#}").contains("x509: certificate signed by unknown authority"),
        "expected a certificate error: {refused:#}"
    );

    let trusting = Skopeo::trusting(&cert_dir).unwrap();
    trusting
        .copy_all(&image.oci_reference(), &dest)
        .unwrap_or_else(|e| panic!("{e:#}\nregistry log:\n{}", registry.log()));
    let index = trusting.inspect_raw(&dest).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    let head = registry.head_manifest(REPOSITORY, TAG).unwrap();
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(
        head.header("Docker-Content-Digest"),
        Some(image.index_digest.as_str())
    );
    assert_eq!(registry.requests().unwrap().blob_uploads().len(), 4);
}
