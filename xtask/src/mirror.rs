//! `mirror`: a static directory that follows Terraform's provider network
//! mirror protocol, so any static HTTPS server can host the provider:
//!
//! ```text
//! <out>/registry.terraform.io/eventpipe/eventpipe/index.json     {"versions": {"0.2.0": {}}}
//! <out>/registry.terraform.io/eventpipe/eventpipe/0.2.0.json     {"archives": {"linux_amd64": {"url": ..., "hashes": ["h1:…", "zh:…"]}}}
//! <out>/registry.terraform.io/eventpipe/eventpipe/terraform-provider-eventpipe_0.2.0_linux_amd64.zip
//! ```
//!
//! A mirror directory can hold several releases: each run adds (or
//! replaces) one version and lists every `<version>.json` there in the index.
//!
//! The `eventpipe` command line is not a provider package, so it has no
//! place in the protocol's folder (Terraform reads only the archives a
//! `<version>.json` lists, and would take any zip listed there for a
//! provider). Its zips go beside it, under the same names as the release's
//! assets, so a CI job installs the CLI from the host it already trusts for
//! the provider:
//!
//! ```text
//! <out>/eventpipe/0.2.0/eventpipe_0.2.0_linux_amd64.zip
//! <out>/eventpipe/0.2.0/terraform-provider-eventpipe_0.2.0_SHA256SUMS      (and .sig when signed)
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::hashes;
use crate::release::{self, CLI, PROVIDER};

/// Where the provider's source address resolves.
pub const HOSTNAME: &str = "registry.terraform.io";
pub const NAMESPACE: &str = "eventpipe";
pub const TYPE: &str = "eventpipe";

/// The provider's folder in a mirror rooted at `root`.
pub fn provider_dir(root: &Path) -> PathBuf {
    root.join(HOSTNAME).join(NAMESPACE).join(TYPE)
}

/// The folder of `version`'s command-line zips in a mirror rooted at
/// `root`: outside every provider's folder (a hostname always has a dot).
pub fn cli_dir(root: &Path, version: &str) -> PathBuf {
    root.join(CLI).join(version)
}

/// Adds `version`, taken from the release in `dist`, to the mirror at
/// `out`; returns the provider folder.
pub fn run(dist: &Path, version: &str, out: &Path) -> Result<PathBuf> {
    let sums_name = release::sums_name(version);
    let sums_path = dist.join(&sums_name);
    let sums = fs::read_to_string(&sums_path)
        .with_context(|| format!("reading {} (run `make release` first)", sums_path.display()))?;
    let archives = archives(&sums, PROVIDER, version);
    if archives.is_empty() {
        bail!(
            "{} lists no provider archive of {version}",
            sums_path.display()
        );
    }
    let dir = provider_dir(out);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut by_platform = serde_json::Map::new();
    for (os_arch, name, expected) in archives {
        let target = dir.join(&name);
        let actual = copy_checked(dist, &name, &expected, &sums_name, &target)?;
        let hashes = vec![hashes::h1(&target)?, hashes::zh(&actual)];
        by_platform.insert(os_arch, json!({ "url": name, "hashes": hashes }));
    }
    write_json(
        &dir.join(format!("{version}.json")),
        &json!({ "archives": by_platform }),
    )?;
    write_json(&dir.join("index.json"), &index(&dir)?)?;
    cli_downloads(dist, version, &sums, out)?;
    Ok(dir)
}

/// Copies the command line's zips of `version`, the sums and their
/// signature (when there is one) into [`cli_dir`].
fn cli_downloads(dist: &Path, version: &str, sums: &str, out: &Path) -> Result<()> {
    let sums_name = release::sums_name(version);
    let dir = cli_dir(out, version);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (_, name, expected) in archives(sums, CLI, version) {
        copy_checked(dist, &name, &expected, &sums_name, &dir.join(&name))?;
    }
    fs::write(dir.join(&sums_name), sums)
        .with_context(|| format!("writing {}", dir.join(&sums_name).display()))?;
    let signature = format!("{sums_name}.sig");
    let target = dir.join(&signature);
    if dist.join(&signature).is_file() {
        fs::copy(dist.join(&signature), &target)
            .with_context(|| format!("copying {signature} to {}", dir.display()))?;
    } else if target.exists() {
        // An earlier run's signature would not match these sums.
        fs::remove_file(&target).with_context(|| format!("removing {}", target.display()))?;
    }
    Ok(())
}

/// Copies `dist/<name>` to `target` when its SHA-256 is the one the sums
/// list; returns it.
fn copy_checked(
    dist: &Path,
    name: &str,
    expected: &str,
    sums_name: &str,
    target: &Path,
) -> Result<String> {
    let source = dist.join(name);
    let actual = hashes::sha256_file(&source)?;
    if actual != expected {
        bail!(
            "{} does not match {sums_name} (sha256 {actual}, listed {expected}): \
             run `make release` again",
            source.display()
        );
    }
    fs::copy(&source, target)
        .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
    Ok(actual)
}

/// `(os_arch, file name, sha256)` of each `<program>_<version>_<os_arch>.zip`
/// in a `SHA256SUMS` text.
fn archives(sums: &str, program: &str, version: &str) -> Vec<(String, String, String)> {
    let prefix = format!("{program}_{version}_");
    sums.lines()
        .filter_map(|line| line.split_once("  "))
        .filter_map(|(digest, name)| {
            let os_arch = name.strip_prefix(&prefix)?.strip_suffix(".zip")?;
            Some((os_arch.to_string(), name.to_string(), digest.to_string()))
        })
        .collect()
}

/// `{"versions": {...}}` for every `<version>.json` in the folder.
fn index(dir: &Path) -> Result<Value> {
    let mut versions = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if version != "index" {
            versions.insert(version.to_string(), json!({}));
        }
    }
    Ok(json!({ "versions": versions }))
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("rendering JSON")?;
    text.push('\n');
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::Release;

    fn release(dir: &Path, version: &str) -> PathBuf {
        let bin = dir.join("bin");
        fs::write(&bin, format!("provider {version}")).unwrap();
        let manifest = dir.join("manifest.json");
        fs::write(
            &manifest,
            r#"{"version":1,"metadata":{"protocol_versions":["6.0"]}}"#,
        )
        .unwrap();
        let out = dir.join("dist");
        release::run(&Release {
            version: version.into(),
            os_arch: "linux_amd64".into(),
            provider_bin: bin.clone(),
            cli_bin: bin,
            registry_manifest: manifest,
            out: out.clone(),
            gpg_key: None,
        })
        .unwrap();
        out
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_mirror_lists_each_version_with_its_archive_and_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let mirror = dir.path().join("mirror");
        let dist = release(dir.path(), "0.2.0");
        let folder = run(&dist, "0.2.0", &mirror).unwrap();
        assert_eq!(
            folder,
            mirror.join("registry.terraform.io/eventpipe/eventpipe")
        );
        let zip = "terraform-provider-eventpipe_0.2.0_linux_amd64.zip";
        let version = read_json(&folder.join("0.2.0.json"));
        let archive = &version["archives"]["linux_amd64"];
        assert_eq!(archive["url"], zip);
        let listed: Vec<&str> = archive["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        let copied = folder.join(zip);
        assert_eq!(
            listed,
            [
                hashes::h1(&copied).unwrap(),
                hashes::zh(&hashes::sha256_file(&copied).unwrap())
            ]
        );
        assert_eq!(
            fs::read(&copied).unwrap(),
            fs::read(dist.join(zip)).unwrap()
        );

        // The command line's zip and the sums that list it, beside the
        // provider's folder (Terraform never looks there).
        let cli = "eventpipe_0.2.0_linux_amd64.zip";
        let downloads = mirror.join("eventpipe/0.2.0");
        assert_eq!(
            fs::read(downloads.join(cli)).unwrap(),
            fs::read(dist.join(cli)).unwrap()
        );
        let sums_name = "terraform-provider-eventpipe_0.2.0_SHA256SUMS";
        assert_eq!(
            fs::read(downloads.join(sums_name)).unwrap(),
            fs::read(dist.join(sums_name)).unwrap()
        );
        assert!(
            !folder.join(cli).exists(),
            "no CLI in the protocol's folder"
        );
        assert!(
            !version.to_string().contains(&format!("\"{cli}\"")),
            "{version}"
        );

        // A second release joins the same mirror.
        let other = tempfile::tempdir().unwrap();
        let dist = release(other.path(), "0.3.0");
        run(&dist, "0.3.0", &mirror).unwrap();
        assert_eq!(
            read_json(&folder.join("index.json")),
            json!({"versions": {"0.2.0": {}, "0.3.0": {}}})
        );
    }

    #[test]
    fn an_archive_that_does_not_match_its_sums_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dist = release(dir.path(), "0.2.0");
        fs::write(
            dist.join("terraform-provider-eventpipe_0.2.0_linux_amd64.zip"),
            "x",
        )
        .unwrap();
        let err = run(&dist, "0.2.0", &dir.path().join("m")).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn a_missing_release_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(dir.path(), "0.2.0", &dir.path().join("m")).unwrap_err();
        assert!(err.to_string().contains("make release"), "{err}");
    }
}
