//! The provider's registry client (`eventpipe::registry`) against a real
//! registry: Debian's `docker-registry` per test on loopback (plain HTTP, or
//! TLS with the test CA), a two-platform base image the test builds and
//! pushes with skopeo, and every request counted from the registry's own
//! log. Nothing comes from the network.
//!
//! Resolving a tag costs one manifest HEAD once the cache knows the index
//! it names; a pinned digest costs nothing once cached; a registry out of
//! reach falls back to the cache with a warning; base blobs are pulled once;
//! a push uploads only what the registry lacks; and `eventpipe package
//! --image` on a registry base gives the digest of the same image built on
//! the same base as a local layout. A small registry of the test's own
//! (`token_registry`) answers only with a bearer token, which its token
//! endpoint gives anonymously, as public ECR does.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use eventpipe::pipeline::package::image::base::BaseImage as Base;
use eventpipe::registry::{self, BlobStore, Registry as Client, RegistryError};
use tests::base_image::{self, BaseImage};
use tests::registry::RequestLog;
use tests::tools::eventpipe_cli;
use tests::{Registry, Skopeo};

const REPOSITORY: &str = "lambda/python";
const TAG: &str = "3.13";

/// The test CA, trusted by every client of this binary through
/// `SSL_CERT_FILE` (set once, before any client is made).
fn certs() -> &'static tests::https::Certs {
    static CERTS: OnceLock<(tests::https::Certs, PathBuf)> = OnceLock::new();
    &CERTS
        .get_or_init(|| {
            let certs = tests::https::make_certs();
            let path = std::env::temp_dir().join(format!(
                "eventpipe-registry-client-ca-{}.pem",
                std::process::id()
            ));
            fs::write(&path, &certs.ca_pem).unwrap();
            // SAFETY: every test calls this first; the variable is set once,
            // while any other test waits here, before anything reads it.
            unsafe { std::env::set_var("SSL_CERT_FILE", &path) };
            (certs, path)
        })
        .0
}

/// A registry (TLS or not) holding the base image under `lambda/python:3.13`.
fn registry_with_base(tls: bool) -> (Registry, tempfile::TempDir, BaseImage) {
    let certs = certs();
    let registry = if tls {
        Registry::start_tls(certs).unwrap()
    } else {
        Registry::start().unwrap()
    };
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    let dest = format!("docker://{}/{REPOSITORY}:{TAG}", registry.host());
    let skopeo = match registry.cert_dir() {
        Some(dir) => Skopeo::trusting(&dir).unwrap(),
        None => Skopeo::new().unwrap(),
    };
    skopeo
        .copy_all(&image.oci_reference(), &dest)
        .unwrap_or_else(|e| panic!("{e:#}\nregistry log:\n{}", registry.log()));
    (registry, layout, image)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn tag_ref(registry: &Registry) -> String {
    format!("{}/{REPOSITORY}:{TAG}", registry.host())
}

fn resolve(
    reference: &str,
    arch: &str,
    store: &BlobStore,
) -> Result<registry::Resolved, RegistryError> {
    let parsed = registry::parse_reference(reference).unwrap();
    let client = Client::for_reference(&parsed);
    runtime().block_on(client.resolve(store, &parsed, arch))
}

/// What a stretch of the log did, as `METHOD path` lines, without the
/// `GET /v2/` version checks the client makes before a request.
fn calls(log: &RequestLog) -> Vec<String> {
    log.records
        .iter()
        .filter(|r| !(r.method == "GET" && r.path == "/v2/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn check_both_platforms(tls: bool) {
    let (registry, _layout, image) = registry_with_base(tls);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    for arch in ["amd64", "arm64"] {
        let r = resolve(&tag_ref(&registry), arch, &store).unwrap();
        assert_eq!(
            r.manifest_digest,
            image.platform(arch).unwrap().manifest_digest,
            "{arch}"
        );
        assert_eq!(r.top_digest, image.index_digest);
        assert_eq!(r.stale, None);
    }
}

#[test]
fn a_tag_resolves_to_each_platform_manifest_over_plain_http() {
    check_both_platforms(false);
}

#[test]
fn a_tag_resolves_to_each_platform_manifest_over_tls_with_the_test_ca() {
    check_both_platforms(true);
}

#[test]
fn a_warm_cache_resolves_a_tag_with_one_manifest_head() {
    let (registry, _layout, image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let first = resolve(&tag_ref(&registry), "arm64", &store).unwrap();
    let mark = registry.requests().unwrap().len();
    let second = resolve(&tag_ref(&registry), "arm64", &store).unwrap();
    assert_eq!(second, first);
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(
        calls(&since),
        [format!("HEAD /v2/{REPOSITORY}/manifests/{TAG}")],
        "{since:#?}"
    );
    // The other architecture comes from the same cached index: one HEAD too.
    let mark = registry.requests().unwrap().len();
    let amd = resolve(&tag_ref(&registry), "amd64", &store).unwrap();
    assert_eq!(
        amd.manifest_digest,
        image.platform("amd64").unwrap().manifest_digest
    );
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(calls(&since).len(), 1, "{since:#?}");
}

#[test]
fn a_tag_that_moved_resolves_to_what_it_names_now() {
    let (registry, layout, image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let before = resolve(&tag_ref(&registry), "amd64", &store).unwrap();
    assert_eq!(before.top_digest, image.index_digest);
    // The tag now names the amd64 manifest alone (skopeo without --all).
    let moved = Command::new(tests::tools::system_tool("skopeo").unwrap())
        .args([
            "--insecure-policy",
            "copy",
            "--override-arch",
            "amd64",
            "--override-os",
            "linux",
        ])
        .args(["--dest-tls-verify=false"])
        .arg(image.oci_reference())
        .arg(format!("docker://{}", tag_ref(&registry)))
        .output()
        .unwrap();
    assert!(moved.status.success(), "{moved:?}");
    let mark = registry.requests().unwrap().len();
    let after = resolve(&tag_ref(&registry), "amd64", &store).unwrap();
    let amd = &image.platform("amd64").unwrap().manifest_digest;
    assert_eq!(&after.top_digest, amd, "the tag's new digest");
    assert_eq!(&after.manifest_digest, amd);
    // The HEAD, then one GET of the document the tag names now.
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(
        calls(&since),
        [
            format!("HEAD /v2/{REPOSITORY}/manifests/{TAG}"),
            format!("GET /v2/{REPOSITORY}/manifests/{amd}")
        ]
    );
    // And the next plan is one HEAD again.
    let mark = registry.requests().unwrap().len();
    assert_eq!(
        resolve(&tag_ref(&registry), "amd64", &store).unwrap(),
        after
    );
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(calls(&since).len(), 1, "{since:#?}");
    drop(layout);
}

#[test]
fn a_registry_out_of_reach_answers_from_the_cache_with_a_warning_or_is_an_error_without_one() {
    let (registry, _layout, image) = registry_with_base(false);
    let reference = tag_ref(&registry);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let warm = resolve(&reference, "amd64", &store).unwrap();
    let host = registry.host();
    drop(registry);

    let stale = resolve(&reference, "amd64", &store).unwrap();
    assert_eq!(stale.manifest_digest, warm.manifest_digest);
    assert_eq!(
        stale.manifest_digest,
        image.platform("amd64").unwrap().manifest_digest
    );
    let warning = stale.stale.expect("a warning").to_string();
    assert!(
        warning.starts_with(&format!("the registry {host} cannot be reached (")),
        "{warning}"
    );
    assert!(
        warning.contains("using the base image's digest from the cache"),
        "{warning}"
    );

    let empty = tempfile::tempdir().unwrap();
    let err = resolve(&reference, "amd64", &BlobStore::at(empty.path())).unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("no earlier answer for {reference} is cached")),
        "{text}"
    );
}

#[test]
fn a_pinned_digest_needs_no_request_once_cached() {
    let (registry, _layout, image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let pin = format!("{}/{REPOSITORY}@{}", registry.host(), image.index_digest);
    let first = resolve(&pin, "arm64", &store).unwrap();
    assert_eq!(
        first.manifest_digest,
        image.platform("arm64").unwrap().manifest_digest
    );
    assert_eq!(first.top_digest, image.index_digest);
    let mark = registry.requests().unwrap().len();
    let again = resolve(&pin, "arm64", &store).unwrap();
    assert_eq!(again, first);
    let since = registry.requests().unwrap().since(mark);
    assert!(since.is_empty(), "no request at all: {since:#?}");
    // Nor with the registry gone: a digest is content-addressed.
    drop(registry);
    assert_eq!(resolve(&pin, "arm64", &store).unwrap(), first);
}

#[test]
fn an_index_without_the_architecture_is_an_error_naming_the_ones_it_has() {
    let (registry, _layout, _image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let err = resolve(&tag_ref(&registry), "s390x", &BlobStore::at(cache.path())).unwrap_err();
    match &err {
        RegistryError::NoPlatform {
            architecture,
            available,
            ..
        } => {
            assert_eq!(architecture, "s390x");
            assert_eq!(available, &["linux/amd64", "linux/arm64/v8"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("has no image for linux/s390x (it has: linux/amd64, linux/arm64/v8)"),
        "{err}"
    );
}

#[test]
fn a_tag_the_registry_does_not_have_is_an_error_saying_so() {
    let (registry, _layout, _image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/{REPOSITORY}:3.99", registry.host());
    let err = resolve(&reference, "amd64", &BlobStore::at(cache.path())).unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{reference}: no such image in the registry (")),
        "{err}"
    );
}

#[test]
fn a_registry_whose_certificate_is_not_trusted_is_refused_saying_so() {
    certs();
    // Its own authority, which nothing here trusts.
    let stranger = tests::https::make_certs();
    let registry = Registry::start_tls(&stranger).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = resolve(&tag_ref(&registry), "amd64", &BlobStore::at(cache.path())).unwrap_err();
    assert!(matches!(err, RegistryError::Untrusted { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "the registry {}'s TLS certificate is not trusted (",
            registry.host()
        )),
        "{text}"
    );
    assert!(
        !text.contains("HTTP request to an HTTPS server"),
        "no fall back to plain HTTP: {text}"
    );
}

#[test]
fn a_pinned_manifest_of_another_architecture_is_refused() {
    let (registry, _layout, image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let arm = &image.platform("arm64").unwrap().manifest_digest;
    let pin = format!("{}/{REPOSITORY}@{arm}", registry.host());
    let store = BlobStore::at(cache.path());
    let r = resolve(&pin, "amd64", &store).unwrap();
    assert_eq!(&r.manifest_digest, arm, "a manifest pin is its own answer");
    let err = runtime()
        .block_on(Base::from_registry(&pin, "x86_64", store))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is an image for linux/arm64, not linux/amd64 (x86_64)"),
        "{err}"
    );
}

fn pull_base(reference: &str, arch: &str, store: &BlobStore) -> Base {
    runtime()
        .block_on(Base::from_registry(reference, arch, store.clone()))
        .unwrap()
        .0
}

fn blob_gets(log: &RequestLog) -> usize {
    log.records
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
        .count()
}

#[test]
fn base_blobs_are_pulled_once_and_a_second_build_makes_no_blob_get() {
    let (registry, _layout, image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let reference = tag_ref(&registry);
    let base = pull_base(&reference, "x86_64", &store);
    let platform = image.platform("amd64").unwrap();
    assert_eq!(base.manifest_digest, platform.manifest_digest);
    for digest in platform
        .layer_digests
        .iter()
        .chain([&platform.config_digest])
    {
        let stored = fs::read(store.blob_path(digest).unwrap()).unwrap();
        assert_eq!(base_image::sha256_digest(&stored), *digest);
    }
    let log = registry.requests().unwrap();
    assert_eq!(blob_gets(&log), 2, "the config and the layer: {log:#?}");

    let mark = log.len();
    pull_base(&reference, "x86_64", &store);
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(blob_gets(&since), 0, "{since:#?}");
    assert_eq!(calls(&since).len(), 1, "one manifest HEAD: {since:#?}");
}

/// Builds the image of `src` on `base` into `out`; returns its manifest
/// digest and the code layer's digest and size.
fn build(src: &Path, base: &Base, out: &Path) -> (String, String, u64) {
    let (built, _) = common::image::build_function_image(src, base, out);
    let code = built.layers.last().unwrap();
    (
        built.manifest_digest.clone(),
        code.digest.clone(),
        code.size,
    )
}

#[test]
fn a_push_uploads_only_missing_blobs_and_a_code_edit_only_its_layer_and_config() {
    let (registry, _layout, _image) = registry_with_base(false);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let base = pull_base(&tag_ref(&registry), "x86_64", &store);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("app");
    fs::create_dir(&src).unwrap();
    fs::write(
        src.join("app.py"),
        "def handler(event, context):\n    return 1\n",
    )
    .unwrap();
    let out = work.path().join("image");
    let (digest, _, _) = build(&src, &base, &out);

    let target = registry::parse_reference(&format!("{}/fn:v1", registry.host())).unwrap();
    let client = Client::for_reference(&target);
    let push = |tag: &str, digest: &str| {
        let target = registry::parse_reference(&format!("{}/fn:{tag}", registry.host())).unwrap();
        runtime()
            .block_on(client.push(&out, digest, &target))
            .unwrap()
    };
    let mark = registry.requests().unwrap().len();
    let first = push("v1", &digest);
    let log = registry.requests().unwrap().since(mark);
    assert_eq!(first.digest, digest);
    // Into a new repository: the base layer, the code layer and the config.
    assert_eq!(first.blobs_uploaded, 3, "{log:#?}");
    assert_eq!(log.blob_uploads().len(), 3);
    assert_eq!(first.bytes_uploaded, log.bytes_uploaded());
    let head = registry.head_manifest("fn", "v1").unwrap();
    assert_eq!(head.header("Docker-Content-Digest"), Some(digest.as_str()));

    // The same image again: HEADs and the manifest, no blob.
    let mark = registry.requests().unwrap().len();
    let again = push("v1", &digest);
    let log = registry.requests().unwrap().since(mark);
    assert_eq!(again.blobs_uploaded, 0);
    assert_eq!(log.blob_uploads(), [], "{log:#?}");

    // A one-line edit: the code layer and the config, then the manifest.
    fs::write(
        src.join("app.py"),
        "def handler(event, context):\n    return 2\n",
    )
    .unwrap();
    let (edited, code_digest, code_size) = build(&src, &base, &out);
    assert_ne!(edited, digest);
    let mark = registry.requests().unwrap().len();
    let third = push("v2", &edited);
    let log = registry.requests().unwrap().since(mark);
    let uploaded: Vec<String> = log
        .blob_uploads()
        .iter()
        .map(|u| u.digest.clone())
        .collect();
    assert_eq!(uploaded.len(), 2, "{log:#?}");
    assert!(uploaded.contains(&code_digest), "{uploaded:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(base_image::blob_path(&out, &edited)).unwrap()).unwrap();
    let config_size = manifest["config"]["size"].as_u64().unwrap();
    assert!(uploaded.contains(&manifest["config"]["digest"].as_str().unwrap().to_owned()));
    let manifest_size = fs::metadata(base_image::blob_path(&out, &edited))
        .unwrap()
        .len();
    assert_eq!(
        log.bytes_uploaded(),
        code_size + config_size + manifest_size
    );
    assert_eq!(third.bytes_uploaded, log.bytes_uploaded());
    assert_eq!(third.blobs_uploaded, 2);
    // The independent client sees the pushed image by its digest.
    let pushed = Skopeo::new()
        .unwrap()
        .inspect_raw(&format!("docker://{}/fn@{edited}", registry.host()))
        .unwrap();
    assert_eq!(pushed["config"]["digest"], manifest["config"]["digest"]);
}

fn package_image(src: &Path, cache: &Path, out: &Path, base: &str) -> String {
    package_image_with_stderr(src, cache, out, base).0
}

/// The digest printed, and what was said on stderr.
fn package_image_with_stderr(src: &Path, cache: &Path, out: &Path, base: &str) -> (String, String) {
    let o = Command::new(eventpipe_cli())
        .args(["package", "--image", "--oci-layout"])
        .arg(out)
        .arg("--source-dir")
        .arg(src)
        .args(["--runtime", "python3.13", "--architecture", "arm64"])
        .args(["--base-image", base])
        .env("EVENTPIPE_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{o:?}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8(o.stdout).unwrap().trim().to_owned(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn package_image_on_a_registry_base_gives_the_digest_of_the_same_base_as_a_layout() {
    let (registry, layout, _image) = registry_with_base(false);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("app");
    fs::create_dir(&src).unwrap();
    fs::write(
        src.join("app.py"),
        "def handler(event, context):\n    return 1\n",
    )
    .unwrap();
    let cache = work.path().join("cache");
    let from_registry = package_image(&src, &cache, &work.path().join("r"), &tag_ref(&registry));
    let from_layout = package_image(
        &src,
        &work.path().join("cache2"),
        &work.path().join("l"),
        &format!("oci:{}:{TAG}", layout.path().display()),
    );
    assert!(from_registry.starts_with("sha256:"), "{from_registry}");
    assert_eq!(from_registry, from_layout);
    // skopeo reads the written layout and finds that manifest.
    let raw = Command::new(tests::tools::system_tool("skopeo").unwrap())
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}", work.path().join("r").display()))
        .output()
        .unwrap();
    assert!(raw.status.success(), "{raw:?}");
    assert_eq!(base_image::sha256_digest(&raw.stdout), from_registry);
    // A second build: no blob is fetched again.
    let mark = registry.requests().unwrap().len();
    let again = package_image(&src, &cache, &work.path().join("r2"), &tag_ref(&registry));
    assert_eq!(again, from_registry);
    let since = registry.requests().unwrap().since(mark);
    assert_eq!(blob_gets(&since), 0, "{since:#?}");
    // The registry gone: the same image from the cache, with a warning.
    let host = registry.host();
    drop(registry);
    let (offline, stderr) = package_image_with_stderr(
        &src,
        &cache,
        &work.path().join("r3"),
        &format!("{host}/{REPOSITORY}:{TAG}"),
    );
    assert_eq!(offline, from_registry);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "eventpipe package: warning: the registry {host} cannot be reached ("
        )),
        "{stderr}"
    );
}

/// A registry that, like public ECR, answers nothing without a bearer
/// token and gives one anonymously from its token endpoint (the standard
/// `WWW-Authenticate: Bearer realm=…,service=…` challenge). It serves the
/// base image's layout read-only, and notes every request.
mod token_registry {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    pub const TOKEN: &str = "anonymous-pull-token";

    /// A request: method, path with query, and its `Authorization` header.
    pub type Seen = (String, String, Option<String>);

    pub struct TokenRegistry {
        pub host: String,
        pub seen: Arc<Mutex<Vec<Seen>>>,
    }

    /// With `login` (an `Authorization` value), the token endpoint gives a
    /// token only to that login; without, only to an anonymous request.
    pub fn start(layout: PathBuf, index_digest: String, login: Option<String>) -> TokenRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (h, s) = (host.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (h, s, layout, index, login) = (
                    h.clone(),
                    s.clone(),
                    layout.clone(),
                    index_digest.clone(),
                    login.clone(),
                );
                std::thread::spawn(move || serve(conn, &h, &s, &layout, &index, login.as_deref()));
            }
        });
        TokenRegistry { host, seen }
    }

    fn serve(
        conn: TcpStream,
        host: &str,
        seen: &Mutex<Vec<Seen>>,
        layout: &std::path::Path,
        index: &str,
        login: Option<&str>,
    ) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut out = conn;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() != 3 || !parts[2].starts_with("HTTP/1") {
                // A TLS hello, or noise: not HTTP.
                let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            let (method, target) = (parts[0].to_owned(), parts[1].to_owned());
            let mut auth = None;
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    match k.to_ascii_lowercase().as_str() {
                        "authorization" => auth = Some(v.trim().to_owned()),
                        "content-length" => length = v.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push((method.clone(), target.clone(), auth.clone()));
            let (status, headers, content) = answer(
                &method,
                &target,
                auth.as_deref(),
                host,
                layout,
                index,
                login,
            );
            let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", content.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = out.write_all(head.as_bytes());
            if method != "HEAD" {
                let _ = out.write_all(&content);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        method: &str,
        target: &str,
        auth: Option<&str>,
        host: &str,
        layout: &std::path::Path,
        index: &str,
        login: Option<&str>,
    ) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
        if target.starts_with("/token?") {
            let body = if auth == login {
                format!(r#"{{"token":"{TOKEN}"}}"#).into_bytes()
            } else {
                b"{}".to_vec()
            };
            return (
                "200 OK",
                vec![("Content-Type".into(), "application/json".into())],
                body,
            );
        }
        if auth != Some(&format!("Bearer {TOKEN}")) {
            let challenge = format!(r#"Bearer realm="http://{host}/token",service="fake-ecr""#);
            return (
                "401 Unauthorized",
                vec![("WWW-Authenticate".into(), challenge)],
                b"{}".to_vec(),
            );
        }
        if target == "/v2/" {
            return ("200 OK", vec![], b"{}".to_vec());
        }
        let (kind, reference) = match target.rsplit_once("/manifests/") {
            Some((_, r)) => ("manifest", r.to_owned()),
            None => match target.rsplit_once("/blobs/") {
                Some((_, r)) => ("blob", r.to_owned()),
                None => return ("404 Not Found", vec![], Vec::new()),
            },
        };
        let digest = if reference.starts_with("sha256:") {
            reference
        } else {
            index.to_owned()
        };
        let Ok(bytes) = std::fs::read(layout.join("blobs/sha256").join(&digest[7..])) else {
            return ("404 Not Found", vec![], Vec::new());
        };
        let mut headers = vec![("Docker-Content-Digest".to_owned(), digest)];
        if kind == "manifest" {
            let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            headers.push((
                "Content-Type".into(),
                doc["mediaType"].as_str().unwrap().to_owned(),
            ));
        }
        let _ = method;
        ("200 OK", headers, bytes)
    }
}

#[test]
fn a_registry_that_wants_a_token_is_read_with_its_anonymous_bearer_token() {
    certs();
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    let fake = token_registry::start(layout.path().to_owned(), image.index_digest.clone(), None);
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::at(cache.path());
    let reference = format!("{}/{REPOSITORY}:{TAG}", fake.host);
    let base = pull_base(&reference, "arm64", &store);
    assert_eq!(
        base.manifest_digest,
        image.platform("arm64").unwrap().manifest_digest
    );
    let seen = fake.seen.lock().unwrap().clone();
    // The token was asked anonymously, for pulling this repository.
    let tokens: Vec<&Seen> = seen
        .iter()
        .filter(|(_, t, _)| t.starts_with("/token?"))
        .collect();
    assert!(!tokens.is_empty(), "{seen:#?}");
    for (_, target, auth) in &tokens {
        assert_eq!(auth, &None, "anonymous: {target}");
        assert!(
            target.contains("scope=repository%3Alambda%2Fpython%3Apull"),
            "{target}"
        );
        assert!(target.contains("service=fake-ecr"), "{target}");
    }
    // Every manifest and blob request carried it, and got an answer.
    let reads: Vec<&Seen> = seen
        .iter()
        .filter(|(_, t, _)| t.contains("/manifests/") || t.contains("/blobs/"))
        .collect();
    assert!(
        reads.len() >= 4,
        "HEAD, index, manifest, config, layer: {seen:#?}"
    );
    for (method, target, auth) in reads {
        assert_eq!(
            auth.as_deref(),
            Some(format!("Bearer {}", token_registry::TOKEN).as_str()),
            "{method} {target}"
        );
    }
}

#[test]
fn a_private_registry_is_read_with_the_login_of_a_docker_credential_helper() {
    let layout = tempfile::tempdir().unwrap();
    let image = base_image::build(layout.path(), TAG).unwrap();
    // user:pass, as HTTP basic authentication sends it.
    let login = "Basic dXNlcjpwYXNz";
    let fake = token_registry::start(
        layout.path().to_owned(),
        image.index_digest.clone(),
        Some(login.to_owned()),
    );
    let work = tempfile::tempdir().unwrap();
    // ~/.docker/config.json names a helper for the host; the helper, on
    // PATH, answers `get` with the login (the docker credential helper protocol).
    let docker = work.path().join("docker");
    let bin = work.path().join("bin");
    fs::create_dir_all(&docker).unwrap();
    fs::create_dir_all(&bin).unwrap();
    fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"credHelpers": {{"{}": "eventpipe-test"}}}}"#,
            fake.host
        ),
    )
    .unwrap();
    let helper = bin.join("docker-credential-eventpipe-test");
    fs::write(
        &helper,
        "#!/bin/sh\ncat >/dev/null\necho '{\"ServerURL\":\"x\",\"Username\":\"user\",\"Secret\":\"pass\"}'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let src = work.path().join("app");
    fs::create_dir(&src).unwrap();
    fs::write(
        src.join("app.py"),
        "def handler(event, context):\n    return 1\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(eventpipe_cli())
        .args(["package", "--image", "--oci-layout"])
        .arg(work.path().join("out"))
        .arg("--source-dir")
        .arg(&src)
        .args(["--runtime", "python3.13", "--architecture", "arm64"])
        .args(["--base-image", &format!("{}/{REPOSITORY}:{TAG}", fake.host)])
        .env("EVENTPIPE_CACHE_DIR", work.path().join("cache"))
        .env("DOCKER_CONFIG", &docker)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_layout = package_image(
        &src,
        &work.path().join("cache2"),
        &work.path().join("l"),
        &format!("oci:{}:{TAG}", layout.path().display()),
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), from_layout);
    let seen = fake.seen.lock().unwrap().clone();
    let tokens: Vec<&Seen> = seen
        .iter()
        .filter(|(_, t, _)| t.starts_with("/token?"))
        .collect();
    assert!(!tokens.is_empty(), "{seen:#?}");
    for (_, target, auth) in tokens {
        assert_eq!(auth.as_deref(), Some(login), "{target}");
    }
}

use token_registry::Seen;
