//! The registry client's call sites in the fault table: every request the
//! client (`eventpipe::registry`) makes to resolve a base, pull it, and push
//! a built image, failed through the fault proxy in front of a real registry
//! (Debian's `docker-registry` on loopback), with the proxy asking for a
//! bearer token as public ECR does (so the token request is a call site).
//!
//! Each site is failed two ways, a 500 in the registry's error format and a
//! connection dropped without an answer (and the GETs of a manifest or a
//! blob a third: the answer cut off halfway through its body), and twice
//! per way:
//! - once: the client's one retry absorbs it; the run succeeds, and the
//!   failed call was made again;
//! - every time: the run fails with a typed [`RegistryError`]; it leaves
//!   no partial or corrupt blob in the cache and no half-pushed image the
//!   registry would serve; the next run, with no fault, converges: a pull
//!   fetches only what the cache lacks, a push uploads only what the
//!   registry lacks, and the manifest names only blobs the registry holds.
//!
//! The table printed at the end has one row per site and fault.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use eventpipe::pipeline::package::image::base::BaseImage as Base;
use eventpipe::registry::{self, BlobStore, Credentials, Registry as Client, RegistryError};
use tests::base_image;
use tests::fault_proxy::{Fault, FaultProxy, Outcome, Rule};
use tests::{Registry, Skopeo};

const REPOSITORY: &str = "lambda/python";
const TAG: &str = "3.13";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The two faults of each site.
#[derive(Clone, Copy, Debug)]
enum Kind {
    ServerError,
    Dropped,
    /// The answer cut off halfway through its body.
    Cut,
}

impl Kind {
    fn rule(self, op: &str) -> Rule {
        match self {
            Kind::ServerError => Rule::on(op).fail(Fault::InternalError),
            Kind::Dropped => Rule::on(op).drop_connection(),
            Kind::Cut => Rule::on(op).cut_answer(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::ServerError => "500",
            Kind::Dropped => "dropped connection",
            Kind::Cut => "answer cut halfway",
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Kind::ServerError => Outcome::Failed(500, "UNKNOWN".into()),
            Kind::Dropped => Outcome::Dropped,
            Kind::Cut => Outcome::Cut,
        }
    }
}

/// A registry holding the two-platform base, and the proxy in front of it,
/// asking for a bearer token.
struct Setup {
    registry: Registry,
    proxy: FaultProxy,
    _base: tempfile::TempDir,
}

fn setup() -> Setup {
    let registry = Registry::start().unwrap();
    let base = tempfile::tempdir().unwrap();
    let image = base_image::build(base.path(), TAG).unwrap();
    Skopeo::new()
        .unwrap()
        .copy_all(
            &image.oci_reference(),
            &format!("docker://{}/{REPOSITORY}:{TAG}", registry.host()),
        )
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).unwrap();
    proxy.registry_tokens(true);
    Setup {
        registry,
        proxy,
        _base: base,
    }
}

impl Setup {
    /// A new client through the proxy, as a new run of the provider makes.
    fn client(&self) -> Client {
        Client::with_credentials(self.proxy.addr().to_string(), &Credentials::Anonymous)
    }

    fn reference(&self, path: &str) -> registry::ImageRef {
        registry::parse_reference(&format!("{}/{path}", self.proxy.addr())).unwrap()
    }

    /// Arms `kind` at the first `times` calls of `op` from now on, or at
    /// every one.
    fn arm(&self, op: &str, kind: Kind, times: Option<u32>) {
        self.proxy.clear_rules();
        self.proxy.clear_calls();
        let rule = kind.rule(op);
        self.proxy.add_rule(match times {
            Some(n) => rule.first(n),
            None => rule,
        });
    }

    /// How often `op` was failed as `kind`, and called in all.
    fn seen(&self, op: &str, kind: Kind) -> (usize, usize) {
        let calls: Vec<_> = self
            .proxy
            .calls()
            .into_iter()
            .filter(|c| c.op == op)
            .collect();
        let failed = calls.iter().filter(|c| c.outcome == kind.outcome()).count();
        (failed, calls.len())
    }

    /// `HEAD /v2/<repository>/blobs/<digest>` straight to the registry.
    fn has_blob(&self, repository: &str, digest: &str) -> bool {
        tests::http::head(
            self.registry.addr(),
            &format!("/v2/{repository}/blobs/{digest}"),
            &[],
            None,
            Duration::from_secs(10),
        )
        .unwrap()
        .status
            == 200
    }
}

/// The resolve and pull of the amd64 base through `client` into `store`.
fn resolve_and_pull(
    setup: &Setup,
    store: &BlobStore,
) -> Result<(registry::Resolved, registry::Pulled), RegistryError> {
    let client = setup.client();
    let reference = setup.reference(&format!("{REPOSITORY}:{TAG}"));
    runtime().block_on(async {
        let resolved = client.resolve(store, &reference, "amd64").await?;
        let pulled = client
            .pull(store, &reference, &resolved.manifest_digest)
            .await?;
        Ok((resolved, pulled))
    })
}

/// Every file under the store's blobs is whole: named by the digest of its
/// bytes, with no temporary file left. Returns how many blobs it holds.
fn assert_store_whole(store: &BlobStore) -> usize {
    let dir = store.root().join("blobs").join("sha256");
    let Ok(entries) = fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".tmp"), "a partial blob is left: {name}");
        let bytes = fs::read(e.path()).unwrap();
        assert_eq!(
            base_image::sha256_digest(&bytes),
            format!("sha256:{name}"),
            "a stored blob does not match its name"
        );
        n += 1;
    }
    n
}

/// The typed error a twice-failed call gives: the registry cannot be
/// reached, naming the proxy's host; a failed token request (or the
/// `GET /v2/` that finds where to ask for one) leaves the request
/// unauthenticated, which the registry refuses: `Denied`, naming the host;
/// a blob cut off every time is `Corrupt`, naming the image.
fn assert_typed(op: &str, err: &RegistryError, host: &str) {
    let text = err.to_string();
    match (op, err) {
        ("registry:GetToken" | "registry:Ping", RegistryError::Denied { .. }) => {}
        // A blob cut off on the way: what arrived does not match the digest.
        ("registry:GetBlob", RegistryError::Corrupt { .. }) => {}
        (_, RegistryError::Unreachable { registry, .. }) => assert_eq!(registry, host),
        _ => panic!("{op}: not the error expected: {err:?}"),
    }
    assert!(text.contains(host), "{text}");
}

const PULL_SITES: [&str; 5] = [
    "registry:GetToken",
    "registry:HeadManifest",
    "registry:GetManifest",
    "registry:GetBlob",
    "registry:Ping",
];

#[test]
fn every_pull_and_resolve_call_fails_once_then_converges() {
    let setup = setup();
    let host = setup.proxy.addr().to_string();
    let clean = tempfile::tempdir().unwrap();
    let clean_store = BlobStore::at(clean.path());
    let (want, _) = resolve_and_pull(&setup, &clean_store).unwrap();
    assert_eq!(assert_store_whole(&clean_store), 4);
    let layer_and_config: Vec<String> = fs::read_dir(clean.path().join("blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| format!("sha256:{}", e.file_name().to_string_lossy()))
        .filter(|d| *d != want.top_digest && *d != want.manifest_digest)
        .collect();
    assert_eq!(layer_and_config.len(), 2);
    let mut rows = Vec::new();
    for op in PULL_SITES {
        let cut = matches!(op, "registry:GetManifest" | "registry:GetBlob");
        let kinds = if cut {
            &[Kind::ServerError, Kind::Dropped, Kind::Cut][..]
        } else {
            &[Kind::ServerError, Kind::Dropped][..]
        };
        for &kind in kinds {
            // Once: the retry absorbs it.
            let cache = tempfile::tempdir().unwrap();
            let store = BlobStore::at(cache.path());
            setup.arm(op, kind, Some(1));
            let (resolved, pulled) = resolve_and_pull(&setup, &store)
                .unwrap_or_else(|e| panic!("{op} {}: one failure not absorbed: {e}", kind.name()));
            let (failed, made) = setup.seen(op, kind);
            assert_eq!(failed, 1, "{op} {}: the fault never fired", kind.name());
            // A manifest HEAD answered without a digest (a 500) is followed
            // by a GET of the same manifest (oci-client's own fallback).
            assert!(
                made >= 2 || (op == "registry:HeadManifest" && matches!(kind, Kind::ServerError)),
                "{op}: the failed call was not made again"
            );
            assert_eq!(resolved.manifest_digest, want.manifest_digest);
            assert_eq!(pulled.blobs_fetched, 2, "the config and the layer");
            assert_store_whole(&store);

            // Every time: a typed error, nothing half-written.
            let cache = tempfile::tempdir().unwrap();
            let store = BlobStore::at(cache.path());
            setup.arm(op, kind, None);
            let twice = match resolve_and_pull(&setup, &store) {
                Err(err) => {
                    assert!(setup.seen(op, kind).0 >= 2, "{op}: not retried");
                    assert_typed(op, &err, &host);
                    short(&err)
                }
                Ok(_) if op == "registry:HeadManifest" && matches!(kind, Kind::ServerError) => {
                    "none: the GET fallback answers".to_owned()
                }
                Ok(r) => panic!("{op} {}: a failing call went unnoticed: {r:?}", kind.name()),
            };
            assert_store_whole(&store);
            let kept: Vec<&String> = layer_and_config.iter().filter(|d| store.has(d)).collect();

            // The next run converges, fetching only what is missing.
            setup.proxy.clear_rules();
            let (resolved, pulled) = resolve_and_pull(&setup, &store).unwrap();
            assert_eq!(resolved.manifest_digest, want.manifest_digest);
            assert_eq!(resolved.stale, None);
            // The index, the manifest, the config and the layer.
            assert_eq!(assert_store_whole(&store), 4, "{op}");
            assert_eq!(
                pulled.blobs_fetched,
                layer_and_config.len() - kept.len(),
                "{op}: only the missing blobs are fetched"
            );
            rows.push(Row {
                site: format!("pull/resolve {op}"),
                fault: kind.name(),
                once: "retried, run succeeded".into(),
                twice,
                converged: format!(
                    "yes: {} of {} blobs fetched",
                    pulled.blobs_fetched,
                    layer_and_config.len()
                ),
                orphans: 0,
            });
        }
    }
    print_rows("Registry faults: resolve and pull", &rows);
}

/// Builds the image of a one-file function on `base` into `out`; returns
/// its manifest digest.
fn build(src: &Path, base: &Base, out: &Path) -> String {
    common::image::build_function_image(src, base, out)
        .0
        .manifest_digest
}

/// The config and layers a manifest in the layout `out` names.
fn blobs_named(out: &Path, digest: &str) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(base_image::blob_path(out, digest)).unwrap()).unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap().to_owned()];
    for l in manifest["layers"].as_array().unwrap() {
        blobs.push(l["digest"].as_str().unwrap().to_owned());
    }
    blobs
}

/// Upload sessions the registry holds open in `repository` (a dropped
/// upload leaves one; a registry purges them after a week by default,
/// which the test registry's configuration turns off).
fn open_uploads(registry: &Registry, repository: &str) -> usize {
    let dir = registry
        .storage_dir()
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_uploads");
    fs::read_dir(dir).map_or(0, |d| d.count())
}

const PUSH_SITES: [&str; 5] = [
    "registry:GetToken",
    "registry:HeadBlob",
    "registry:StartUpload",
    "registry:CompleteUpload",
    "registry:PutManifest",
];

#[test]
fn every_push_call_fails_once_then_converges_uploading_only_what_is_missing() {
    let setup = setup();
    let host = setup.proxy.addr().to_string();
    let work = tempfile::tempdir().unwrap();
    let store = BlobStore::at(work.path().join("cache"));
    let base = runtime()
        .block_on(Base::from_registry(
            &format!("{}/{REPOSITORY}:{TAG}", setup.registry.host()),
            "x86_64",
            store,
        ))
        .unwrap()
        .0;
    let src = work.path().join("app");
    fs::create_dir(&src).unwrap();
    fs::write(
        src.join("app.py"),
        "def handler(event, context):\n    return 1\n",
    )
    .unwrap();
    let out = work.path().join("image");
    let digest = build(&src, &base, &out);
    let blobs = blobs_named(&out, &digest);
    let push = |repository: &str| {
        let target = setup.reference(&format!("{repository}:v1"));
        runtime().block_on(setup.client().push(&out, &digest, &target))
    };
    let mut rows = Vec::new();
    let mut n = 0;
    for op in PUSH_SITES {
        for kind in [Kind::ServerError, Kind::Dropped] {
            // Once: the retry absorbs it.
            n += 1;
            let repository = format!("fn{n:02}");
            setup.arm(op, kind, Some(1));
            let pushed = push(&repository)
                .unwrap_or_else(|e| panic!("{op} {}: one failure not absorbed: {e}", kind.name()));
            let (failed, made) = setup.seen(op, kind);
            assert_eq!(failed, 1, "{op} {}: the fault never fired", kind.name());
            assert!(made >= 2, "{op}: the failed call was not made again");
            assert_eq!(pushed.blobs_uploaded, blobs.len());
            let head = setup.registry.head_manifest(&repository, "v1").unwrap();
            assert_eq!(head.header("Docker-Content-Digest"), Some(digest.as_str()));

            // Every time: a typed error.
            n += 1;
            let repository = format!("fn{n:02}");
            setup.arm(op, kind, None);
            let err = push(&repository).unwrap_err();
            assert!(setup.seen(op, kind).0 >= 2, "{op}: not retried");
            assert_typed(op, &err, &host);
            // Nothing half-pushed: no tag unless every blob is there.
            let present: Vec<&String> = blobs
                .iter()
                .filter(|b| setup.has_blob(&repository, b))
                .collect();
            let tagged = setup
                .registry
                .head_manifest(&repository, "v1")
                .unwrap()
                .status
                == 200;
            assert!(
                !tagged || present.len() == blobs.len(),
                "{op}: a tag names blobs the registry lacks"
            );

            // The next run uploads only what is missing.
            setup.proxy.clear_rules();
            let again = push(&repository).unwrap();
            assert_eq!(
                again.blobs_uploaded,
                blobs.len() - present.len(),
                "{op}: the retried push uploads only the missing blobs"
            );
            let head = setup.registry.head_manifest(&repository, "v1").unwrap();
            assert_eq!(head.header("Docker-Content-Digest"), Some(digest.as_str()));
            for b in &blobs {
                assert!(setup.has_blob(&repository, b), "{op}: {b} missing");
            }
            rows.push(Row {
                site: format!("push {op}"),
                fault: kind.name(),
                once: "retried, run succeeded".into(),
                twice: short(&err),
                converged: format!(
                    "yes: {} of {} blobs uploaded",
                    again.blobs_uploaded,
                    blobs.len()
                ),
                orphans: open_uploads(&setup.registry, &repository),
            });
        }
    }
    print_rows("Registry faults: push", &rows);
}

struct Row {
    site: String,
    fault: &'static str,
    once: String,
    twice: String,
    converged: String,
    /// Abandoned upload sessions in the registry (no blob is left half-written).
    orphans: usize,
}

fn short(err: &RegistryError) -> String {
    let kind = format!("{err:?}");
    kind.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn print_rows(title: &str, rows: &[Row]) {
    eprintln!("\n{title}");
    eprintln!(
        "| site | fault | failed once | failing every time (typed error) | converged | orphans (open upload sessions; partial blobs: 0) |"
    );
    eprintln!("|---|---|---|---|---|---|");
    for r in rows {
        eprintln!(
            "| {} | {} | {} | {} | {} | {} |",
            r.site, r.fault, r.once, r.twice, r.converged, r.orphans
        );
    }
}
