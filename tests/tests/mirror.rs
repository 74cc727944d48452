//! `make mirror DIR=…` writes a static provider network mirror that any
//! HTTPS server can host. Here a small static server of the test's own
//! (`tests/src/https.rs`) serves it on loopback with a certificate the test
//! makes (given to Terraform through `SSL_CERT_FILE`), and real CLIs install from it
//! through a `network_mirror` block and lock the hashes the mirror lists.
//!
//! The mirror packs the debug provider (`PROFILE=debug`, see
//! `tests/src/release.rs`): the protocol does not care which profile built
//! the binary, and `make test` must not build a release provider.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::{clis, newest_cli, repo_file};
use tests::cli_config::render_with_network_mirror;
use tests::https::{StaticHttps, make_certs};
use tests::mirror::PROVIDER_VERSION as V;
use tests::release::{make_mirror, make_release, xtask};
use tests::{Workspace, required_providers_hcl};

const PROVIDER_DIR: &str = "registry.terraform.io/eventpipe/eventpipe";

fn zip_name() -> String {
    format!("terraform-provider-eventpipe_{V}_linux_amd64.zip")
}

/// A mirror written by `make mirror`, served over HTTPS.
struct Served {
    _dist: tempfile::TempDir,
    root: tempfile::TempDir,
    certs_dir: tempfile::TempDir,
    server: StaticHttps,
}

impl Served {
    fn new() -> Served {
        let dist = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        make_mirror(dist.path(), root.path()).unwrap();
        let certs = make_certs();
        let certs_dir = tempfile::tempdir().unwrap();
        fs::write(certs_dir.path().join("ca.pem"), &certs.ca_pem).unwrap();
        let server = StaticHttps::start(root.path().to_path_buf(), &certs);
        fs::write(
            certs_dir.path().join("terraform.tfrc"),
            render_with_network_mirror(&server.url()),
        )
        .unwrap();
        Served {
            _dist: dist,
            root,
            certs_dir,
            server,
        }
    }

    fn version_json(&self) -> serde_json::Value {
        let path = self
            .root
            .path()
            .join(PROVIDER_DIR)
            .join(format!("{V}.json"));
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The hashes `<version>.json` lists for linux_amd64.
    fn listed_hashes(&self) -> BTreeSet<String> {
        self.version_json()["archives"]["linux_amd64"]["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(|h| h.as_str().unwrap().to_string())
            .collect()
    }

    /// A workspace that installs our provider from this mirror only.
    fn workspace(&self, tf: &tests::TerraformCli) -> Workspace {
        let mut ws =
            Workspace::with_cli_config(tf, &self.certs_dir.path().join("terraform.tfrc")).unwrap();
        ws.env("SSL_CERT_FILE", self.certs_dir.path().join("ca.pem"));
        ws.write("versions.tf", required_providers_hcl()).unwrap();
        ws
    }
}

/// The `h1:`/`zh:` hashes a lock file records for our provider.
fn locked_hashes(lock: &str) -> BTreeSet<String> {
    assert!(
        lock.contains("provider \"registry.terraform.io/eventpipe/eventpipe\""),
        "{lock}"
    );
    assert!(lock.contains(&format!("version     = \"{V}\"")), "{lock}");
    lock.split('"')
        .filter(|s| s.starts_with("h1:") || s.starts_with("zh:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_mirror_follows_the_protocol_layout() {
    let dist = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    make_mirror(dist.path(), root.path()).unwrap();
    let dir = root.path().join(PROVIDER_DIR);
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index, serde_json::json!({ "versions": { V: {} } }));
    let version: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join(format!("{V}.json"))).unwrap()).unwrap();
    let archive = &version["archives"]["linux_amd64"];
    assert_eq!(archive["url"], zip_name());
    // zh: is the zip's SHA-256, the same as in the release's SHA256SUMS.
    let zip = fs::read(dir.join(zip_name())).unwrap();
    use sha2::Digest;
    let zh = format!("zh:{}", hex::encode(sha2::Sha256::digest(&zip)));
    let hashes: Vec<&str> = archive["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 2, "{hashes:?}");
    assert!(hashes[0].starts_with("h1:"), "{hashes:?}");
    assert_eq!(hashes[1], zh);
    let sums = fs::read_to_string(
        dist.path()
            .join(format!("terraform-provider-eventpipe_{V}_SHA256SUMS")),
    )
    .unwrap();
    assert!(
        sums.contains(&format!("{}  {}", &zh[3..], zip_name())),
        "{sums}"
    );
}

#[test]
fn terraform_init_installs_from_the_https_mirror_and_locks_its_hashes() {
    let served = Served::new();
    let listed = served.listed_hashes();
    for tf in clis() {
        let ws = served.workspace(&tf);
        let init = ws.init().unwrap();
        assert!(
            init.contains(&format!("Installed eventpipe/eventpipe v{V}")),
            "{}: {init}",
            tf.label
        );
        // Terraform computes h1: itself from what it unpacked: ours must agree.
        let locked = locked_hashes(&ws.read(".terraform.lock.hcl").unwrap());
        assert!(!locked.is_empty(), "{}: no hashes locked", tf.label);
        assert!(
            locked.is_subset(&listed),
            "{}: init locked {locked:?}, the mirror lists {listed:?}",
            tf.label
        );
        assert!(
            locked.iter().any(|h| h.starts_with("h1:")),
            "{}: {locked:?}",
            tf.label
        );
        let validate = ws.validate().unwrap();
        assert!(validate.success(), "{}: {validate}", tf.label);

        // `providers lock` asks the mirror again, from nothing.
        ws.remove(".terraform.lock.hcl").unwrap();
        let url = served.server.url();
        let lock = ws
            .run_ok(&[
                "providers",
                "lock",
                &format!("-net-mirror={url}"),
                "-platform=linux_amd64",
            ])
            .unwrap();
        let relocked = locked_hashes(&ws.read(".terraform.lock.hcl").unwrap());
        assert!(
            !relocked.is_empty() && relocked.is_subset(&listed),
            "{}: providers lock recorded {relocked:?}, the mirror lists {listed:?}\n{lock}",
            tf.label
        );
        eprintln!("{}: locked {relocked:?}", tf.label);
    }
    // Everything came through the server: the index, the version, the zip.
    let asked = served.server.requested();
    for path in ["index.json", &format!("{V}.json"), &zip_name()] {
        let wanted = format!("/{PROVIDER_DIR}/{path}");
        assert!(asked.contains(&wanted), "{wanted} not in {asked:?}");
    }
}

#[test]
fn a_mirror_whose_hashes_do_not_match_the_archive_is_refused() {
    let served = Served::new();
    let path = served
        .root
        .path()
        .join(PROVIDER_DIR)
        .join(format!("{V}.json"));
    let mut version = served.version_json();
    version["archives"]["linux_amd64"]["hashes"] = serde_json::json!([
        "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        format!("zh:{}", "0".repeat(64)),
    ]);
    fs::write(&path, version.to_string()).unwrap();
    let tf = newest_cli();
    let ws = served.workspace(&tf);
    let init = ws.run(&["init"]).unwrap();
    assert!(!init.success(), "{}: {init}", tf.label);
    // "provider package doesn't match the any of the expected checksums"
    assert!(
        init.contains("expected checksums"),
        "{}: the refusal should be about the hashes: {init}",
        tf.label
    );
    assert!(
        !ws.dir()
            .join(".terraform/providers")
            .join(PROVIDER_DIR)
            .exists(),
        "{}: nothing is installed",
        tf.label
    );
}

/// The platforms a release is built for (examples/ci/release.yml).
const PLATFORMS: [&str; 4] = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"];

/// A release of the four platforms, assembled and mirrored the way
/// `examples/ci/release.yml` does it, and `terraform providers lock` with
/// every `-platform`, run as `examples/ci/README.md` writes it: the lock
/// file holds each platform's hash, and `terraform init` then has nothing
/// to warn about.
///
/// This machine builds only its own platform: the other three are small
/// stand-in binaries, packed by the same `xtask release` their runners run
/// (Terraform hashes a package for a lock file; it never runs it).
#[test]
fn a_four_platform_release_locks_every_platform_through_the_mirror() {
    let workflow = repo_file("examples/ci/release.yml");
    for os_arch in PLATFORMS {
        assert!(
            workflow.contains(&format!("os_arch: {os_arch}")),
            "release.yml builds {os_arch}"
        );
    }
    let dist = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dist_arg = dist.path().to_str().unwrap();
    make_release(dist.path(), &[]).expect("make release");
    let here = tests::mirror::os_arch();
    for os_arch in PLATFORMS.iter().filter(|p| **p != here) {
        let bins = tempfile::tempdir().unwrap();
        for name in ["terraform-provider-eventpipe", "eventpipe"] {
            fs::write(
                bins.path().join(name),
                format!("#!/bin/sh\n# {name} for {os_arch}\n"),
            )
            .unwrap();
        }
        xtask(&[
            "release",
            "--version",
            V,
            "--os-arch",
            os_arch,
            "--bin-dir",
            bins.path().to_str().unwrap(),
            "--out",
            dist_arg,
        ])
        .expect("xtask release");
    }
    let assembled = xtask(&["assemble", "--version", V, "--dist", dist_arg]).expect("assemble");
    assert!(
        assembled.contains("darwin_amd64, darwin_arm64, linux_amd64, linux_arm64"),
        "{assembled}"
    );
    xtask(&[
        "mirror",
        "--version",
        V,
        "--dist",
        dist_arg,
        "--out",
        root.path().to_str().unwrap(),
    ])
    .expect("xtask mirror");
    let version: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root.path().join(PROVIDER_DIR).join(format!("{V}.json"))).unwrap(),
    )
    .unwrap();
    let h1 = |os_arch: &str| -> String {
        version["archives"][os_arch]["hashes"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{os_arch} not in {version}"))
            .to_owned()
    };
    let mut all_h1: Vec<String> = PLATFORMS.iter().map(|p| h1(p)).collect();
    all_h1.sort();
    all_h1.dedup();
    assert_eq!(all_h1.len(), 4, "four different packages: {version}");
    // Each platform's command line is in the mirror too.
    for os_arch in PLATFORMS {
        let cli = root
            .path()
            .join(format!("eventpipe/{V}/eventpipe_{V}_{os_arch}.zip"));
        assert!(cli.is_file(), "{}", cli.display());
    }

    let certs = make_certs();
    let config = tempfile::tempdir().unwrap();
    fs::write(config.path().join("ca.pem"), &certs.ca_pem).unwrap();
    let server = StaticHttps::start(root.path().to_path_buf(), &certs);
    fs::write(
        config.path().join("terraform.tfrc"),
        render_with_network_mirror(&server.url()),
    )
    .unwrap();
    let readme = repo_file("examples/ci/README.md");
    let command = readme
        .lines()
        .find(|l| l.starts_with("terraform providers lock "))
        .expect("examples/ci/README.md shows terraform providers lock")
        .replace("https://terraform-mirror.example.com/", &server.url());
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    for os_arch in PLATFORMS {
        assert!(
            args.contains(&format!("-platform={os_arch}").as_str()),
            "{command}"
        );
    }
    for tf in clis() {
        let workspace = || {
            let mut ws =
                tests::Workspace::with_cli_config(&tf, &config.path().join("terraform.tfrc"))
                    .unwrap();
            ws.env("SSL_CERT_FILE", config.path().join("ca.pem"));
            ws.write("versions.tf", required_providers_hcl()).unwrap();
            ws
        };
        // Without it, init locks this machine's hash only (and says so, on
        // the CLIs that have the warning).
        let init = workspace().init().expect("init without a lock file");
        if tf.at_least(1, 11) {
            assert!(
                init.contains("Incomplete lock file information"),
                "{}: {init}",
                tf.label
            );
        }
        let ws = workspace();
        let lock = ws.run_ok(&args).expect("providers lock");
        let locked = locked_hashes(&ws.read(".terraform.lock.hcl").unwrap());
        for os_arch in PLATFORMS {
            assert!(
                locked.contains(&h1(os_arch)),
                "{}: {os_arch}'s h1 not locked: {locked:?}\n{lock}",
                tf.label
            );
        }
        let init = ws.init().expect("init with the four-platform lock file");
        assert!(
            !init.contains("Incomplete lock file information"),
            "{}: {init}",
            tf.label
        );
        assert!(
            init.contains(&format!("eventpipe/eventpipe v{V}")),
            "{}: {init}",
            tf.label
        );
    }
}
