//! `make release` writes the files the Terraform registry and `terraform
//! providers mirror` expect, and the same commit gives the same bytes twice.
//!
//! The test packs the debug binaries the suite already built
//! (`make release PROFILE=debug`, see `tests/src/release.rs`): a release
//! build would add ~7 minutes to `make test`, and the layout, sums,
//! manifest and zip bytes come from the same packer whatever the profile.
//! What it cannot show is that two release *compilations* give the same
//! binary; that is the compiler's business, not the packer's.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};
use tests::mirror::PROVIDER_VERSION as V;
use tests::release::make_release;
use tests::tools;

fn provider_zip() -> String {
    format!("terraform-provider-eventpipe_{V}_linux_amd64.zip")
}
fn cli_zip() -> String {
    format!("eventpipe_{V}_linux_amd64.zip")
}
fn manifest() -> String {
    format!("terraform-provider-eventpipe_{V}_manifest.json")
}
fn sums() -> String {
    format!("terraform-provider-eventpipe_{V}_SHA256SUMS")
}

/// Every file of a folder and its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// The one entry of a release zip: its name, Unix mode, date and bytes.
fn only_entry(zip_bytes: &[u8]) -> (String, u32, zip::DateTime, Vec<u8>) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    assert_eq!(zip.len(), 1, "a release zip holds one binary");
    let mut entry = zip.by_index(0).unwrap();
    let mut body = Vec::new();
    entry.read_to_end(&mut body).unwrap();
    (
        entry.name().unwrap().into_owned(),
        entry.unix_mode().unwrap(),
        entry.last_modified().unwrap(),
        body,
    )
}

fn built(binary: &str) -> Vec<u8> {
    fs::read(tools::target_dir().join("debug").join(binary)).unwrap()
}

#[test]
fn make_release_writes_the_registry_layout_with_sums_and_manifest_reproducibly() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let log = make_release(first.path(), &[]).unwrap();
    assert!(
        log.contains("GPG_FINGERPRINT is not set"),
        "an unsigned release says so:\n{log}"
    );
    make_release(second.path(), &[]).unwrap();

    let one = files(first.path());
    let names: Vec<&str> = one.keys().map(String::as_str).collect();
    let mut expected = vec![cli_zip(), sums(), provider_zip(), manifest()];
    expected.sort();
    assert_eq!(names, expected, "the files of an unsigned release");

    // Reproducible: the second run gives the same bytes, file for file.
    let two = files(second.path());
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &one {
        assert!(bytes == &two[name], "{name} differs between two runs");
    }

    // The provider zip holds the binary under the name Terraform looks for.
    let (name, mode, date, body) = only_entry(&one[&provider_zip()]);
    assert_eq!(name, format!("terraform-provider-eventpipe_v{V}"));
    assert_eq!(mode & 0o777, 0o755, "executable");
    assert_eq!(date, zip::DateTime::default(), "a fixed date");
    assert!(
        body == built("terraform-provider-eventpipe"),
        "the zip holds the built provider"
    );
    let (name, mode, _, body) = only_entry(&one[&cli_zip()]);
    assert_eq!(name, "eventpipe");
    assert_eq!(mode & 0o777, 0o755);
    assert!(
        body == built("eventpipe"),
        "the CLI's zip holds the built CLI"
    );

    // The sums name every other file with its SHA-256, in name order.
    let text = String::from_utf8(one[&sums()].clone()).unwrap();
    let listed: Vec<(String, String)> = text
        .lines()
        .map(|line| {
            let (digest, name) = line.split_once("  ").expect("'<sha256>  <name>'");
            (name.to_string(), digest.to_string())
        })
        .collect();
    let mut want: Vec<(String, String)> = [provider_zip(), cli_zip(), manifest()]
        .into_iter()
        .map(|name| {
            let digest = hex::encode(Sha256::digest(&one[&name]));
            (name, digest)
        })
        .collect();
    want.sort();
    assert_eq!(listed, want, "SHA256SUMS:\n{text}");
    assert!(text.ends_with('\n'));

    // The manifest declares protocol 6.0 and is the registry's file at the root.
    let json: serde_json::Value = serde_json::from_slice(&one[&manifest()]).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
    let root = fs::read(tools::repo_root().join("terraform-registry-manifest.json")).unwrap();
    assert!(one[&manifest()] == root);
}

fn gpg(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .arg("--batch")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_key_in_the_environment_signs_the_sums() {
    if Command::new("gpg").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no gpg on PATH, so the signature cannot be made or checked");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let made = gpg(
        home.path(),
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            "eventpipe release test <release@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let listing = gpg(home.path(), &["--with-colons", "--list-secret-keys"]);
    let listing = String::from_utf8(listing.stdout).unwrap();
    let fingerprint = listing
        .lines()
        .find_map(|line| line.strip_prefix("fpr:"))
        .and_then(|rest| rest.trim_matches(':').rsplit(':').next())
        .expect("the new key's fingerprint")
        .to_string();

    let dist = tempfile::tempdir().unwrap();
    let log = make_release_signed(dist.path(), home.path(), &fingerprint);
    assert!(log.contains(&format!("with {fingerprint}")), "{log}");

    let signature = dist.path().join(format!("{}.sig", sums()));
    let verified = gpg(
        home.path(),
        &[
            "--verify",
            signature.to_str().unwrap(),
            dist.path().join(sums()).to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{text}");
    assert!(text.contains("Good signature"), "{text}");

    // The signature is over these sums: a changed byte fails it.
    let tampered = home.path().join("tampered");
    let mut bytes = fs::read(dist.path().join(sums())).unwrap();
    bytes[0] ^= 1;
    fs::write(&tampered, bytes).unwrap();
    let bad = gpg(
        home.path(),
        &[
            "--verify",
            signature.to_str().unwrap(),
            tampered.to_str().unwrap(),
        ],
    );
    assert!(
        !bad.status.success(),
        "a tampered sums file must not verify"
    );
}

fn make_release_signed(dist: &Path, gnupg_home: &Path, fingerprint: &str) -> String {
    let out = Command::new("make")
        .arg("-C")
        .arg(tools::repo_root())
        .arg("--no-print-directory")
        .arg("release")
        .arg("PROFILE=debug")
        .arg("NO_BUILD=1")
        .arg(format!("DIST={}", dist.display()))
        .env("GNUPGHOME", gnupg_home)
        .env("GPG_FINGERPRINT", fingerprint)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}
