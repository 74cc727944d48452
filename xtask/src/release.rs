//! `release`: the files of one release in the layout the Terraform registry
//! and `terraform providers mirror` expect, all named after the version.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::archive::{self, EXECUTABLE, Entry};
use crate::hashes;

pub const PROVIDER: &str = "terraform-provider-eventpipe";
pub const CLI: &str = "eventpipe";
/// The only protocol the provider speaks.
pub const PROTOCOL_VERSIONS: &[&str] = &["6.0"];

/// What goes into one release.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: String,
    /// Terraform's platform name, e.g. `linux_amd64`.
    pub os_arch: String,
    pub provider_bin: PathBuf,
    pub cli_bin: PathBuf,
    /// The repository's `terraform-registry-manifest.json`.
    pub registry_manifest: PathBuf,
    pub out: PathBuf,
    /// The key that signs the sums (`GPG_FINGERPRINT`), if any.
    pub gpg_key: Option<String>,
}

/// The names of a release's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub provider_zip: String,
    pub provider_entry: String,
    pub cli_zip: String,
    pub manifest: String,
    pub sums: String,
    pub signature: String,
}

impl Names {
    pub fn new(version: &str, os_arch: &str) -> Names {
        let sums = sums_name(version);
        Names {
            provider_zip: provider_zip(version, os_arch),
            provider_entry: format!("{PROVIDER}_v{version}"),
            cli_zip: format!("{CLI}_{version}_{os_arch}.zip"),
            manifest: format!("{PROVIDER}_{version}_manifest.json"),
            signature: format!("{sums}.sig"),
            sums,
        }
    }
}

/// `terraform-provider-eventpipe_<V>_SHA256SUMS`
pub fn sums_name(version: &str) -> String {
    format!("{PROVIDER}_{version}_SHA256SUMS")
}

/// `terraform-provider-eventpipe_<V>_<os_arch>.zip`
pub fn provider_zip(version: &str, os_arch: &str) -> String {
    format!("{PROVIDER}_{version}_{os_arch}.zip")
}

/// Writes the release into `release.out` and returns the files written.
pub fn run(release: &Release) -> Result<Vec<PathBuf>> {
    check_version(&release.version)?;
    check_os_arch(&release.os_arch)?;
    let names = Names::new(&release.version, &release.os_arch);
    let out = &release.out;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let manifest = fs::read(&release.registry_manifest)
        .with_context(|| format!("reading {}", release.registry_manifest.display()))?;
    check_manifest(&manifest)
        .with_context(|| format!("checking {}", release.registry_manifest.display()))?;

    let mut written = Vec::new();
    let provider_zip = out.join(&names.provider_zip);
    zip_one(&provider_zip, &names.provider_entry, &release.provider_bin)?;
    written.push(provider_zip);
    let cli_zip = out.join(&names.cli_zip);
    zip_one(&cli_zip, CLI, &release.cli_bin)?;
    written.push(cli_zip);
    let manifest_path = out.join(&names.manifest);
    write_file(&manifest_path, &manifest)?;
    written.push(manifest_path);

    let sums = write_sums(
        out,
        (&names.sums, &names.signature),
        &written,
        release.gpg_key.as_deref(),
    )?;
    written.extend(sums);
    Ok(written)
}

/// Writes `SHA256SUMS` over `files` into `out` under the names given (the
/// sums, their signature), signed with `gpg_key` when there is one, and
/// returns the files written.
fn write_sums(
    out: &Path,
    (sums_file, signature_file): (&str, &str),
    files: &[PathBuf],
    gpg_key: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let sums_path = out.join(sums_file);
    write_file(&sums_path, sums(files)?.as_bytes())?;
    let signature = out.join(signature_file);
    // A signature left by an earlier run would not match the new sums.
    remove_if_present(&signature)?;
    match gpg_key {
        Some(key) => {
            sign(&sums_path, &signature, key)?;
            eprintln!("signed {sums_file} with {key}");
            Ok(vec![sums_path, signature])
        }
        None => {
            eprintln!("GPG_FINGERPRINT is not set: {sums_file} is not signed");
            Ok(vec![sums_path])
        }
    }
}

/// Assembles one release from the archives of several platforms gathered
/// in `dist` (each built on its own machine by `make release`): writes
/// `SHA256SUMS` over every provider zip, CLI zip and the manifest of
/// `version` there, and signs it when `gpg_key` is set. Returns the
/// platforms found.
pub fn assemble(dist: &Path, version: &str, gpg_key: Option<&str>) -> Result<Vec<String>> {
    check_version(version)?;
    let manifest = dist.join(format!("{PROVIDER}_{version}_manifest.json"));
    if !manifest.is_file() {
        bail!(
            "{} is missing: gather every platform's `make release` output in {} first",
            manifest.display(),
            dist.display()
        );
    }
    let provider_prefix = format!("{PROVIDER}_{version}_");
    let cli_prefix = format!("{CLI}_{version}_");
    let mut files = vec![manifest];
    let mut provider_platforms = Vec::new();
    let mut cli_platforms = Vec::new();
    for entry in fs::read_dir(dist).with_context(|| format!("listing {}", dist.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dist.display()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let platform = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".zip"))
                .filter(|os_arch| check_os_arch(os_arch).is_ok())
                .map(str::to_owned)
        };
        if let Some(os_arch) = platform(&provider_prefix) {
            provider_platforms.push(os_arch);
        } else if let Some(os_arch) = platform(&cli_prefix) {
            cli_platforms.push(os_arch);
        } else {
            continue;
        }
        files.push(entry.path());
    }
    provider_platforms.sort();
    cli_platforms.sort();
    if provider_platforms.is_empty() {
        bail!("{} holds no provider zip of {version}", dist.display());
    }
    if provider_platforms != cli_platforms {
        bail!(
            "the provider zips ({}) and the eventpipe zips ({}) of {version} are not for the \
             same platforms",
            provider_platforms.join(", "),
            cli_platforms.join(", ")
        );
    }
    let names = Names::new(version, &provider_platforms[0]);
    write_sums(dist, (&names.sums, &names.signature), &files, gpg_key)?;
    Ok(provider_platforms)
}

/// A zip holding one executable, `name`, with the bytes of `binary`.
fn zip_one(out: &Path, name: &str, binary: &Path) -> Result<()> {
    if !binary.is_file() {
        bail!("{} is not a built binary", binary.display());
    }
    let partial = out.with_extension("zip.partial");
    archive::write(
        &partial,
        &[Entry {
            name: name.into(),
            source: binary.to_path_buf(),
            mode: EXECUTABLE,
        }],
    )?;
    fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))
}

/// `SHA256SUMS`: `"<hex>  <file name>\n"` for each file, sorted by name.
pub fn sums(files: &[PathBuf]) -> Result<String> {
    let mut entries = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no file name", file.display()))?;
        entries.push((name, hashes::sha256_file(file)?));
    }
    entries.sort();
    Ok(entries
        .iter()
        .map(|(name, digest)| format!("{digest}  {name}\n"))
        .collect())
}

/// The registry's manifest must declare exactly the protocols we speak.
pub fn check_manifest(bytes: &[u8]) -> Result<()> {
    let json: serde_json::Value = serde_json::from_slice(bytes).context("not JSON")?;
    if json.get("version").and_then(|v| v.as_u64()) != Some(1) {
        bail!("\"version\" must be 1");
    }
    let protocols: Option<Vec<&str>> = json
        .pointer("/metadata/protocol_versions")
        .and_then(|v| v.as_array())
        .and_then(|items| items.iter().map(|v| v.as_str()).collect());
    if protocols.as_deref() != Some(PROTOCOL_VERSIONS) {
        bail!("\"metadata.protocol_versions\" must be {PROTOCOL_VERSIONS:?}, got {protocols:?}");
    }
    Ok(())
}

/// A detached binary signature, as the registry wants it (`<sums>.sig`).
fn sign(sums: &Path, signature: &Path, key: &str) -> Result<()> {
    let output = Command::new("gpg")
        .args([
            "--batch",
            "--yes",
            "--local-user",
            key,
            "--detach-sign",
            "--output",
        ])
        .arg(signature)
        .arg(sums)
        .output()
        .context("running gpg (GPG_FINGERPRINT is set, so the sums must be signed)")?;
    if !output.status.success() {
        bail!(
            "gpg could not sign {} with {key} ({}):\n{}",
            sums.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `MAJOR.MINOR.PATCH`, optionally with a `-pre` suffix.
fn check_version(version: &str) -> Result<()> {
    let core = version.split_once('-').map_or(version, |(core, _)| core);
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(numeric) {
        bail!("version {version:?} is not MAJOR.MINOR.PATCH");
    }
    Ok(())
}

fn check_os_arch(os_arch: &str) -> Result<()> {
    let valid = os_arch.split_once('_').is_some_and(|(os, arch)| {
        let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        word(os) && word(arch)
    });
    if !valid {
        bail!("platform {os_arch:?} is not OS_ARCH (e.g. linux_amd64)");
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(dir: &Path) -> Release {
        let provider_bin = dir.join("provider");
        let cli_bin = dir.join("cli");
        fs::write(&provider_bin, "provider bytes").unwrap();
        fs::write(&cli_bin, "cli bytes").unwrap();
        let registry_manifest = dir.join("terraform-registry-manifest.json");
        fs::write(
            &registry_manifest,
            r#"{"version": 1, "metadata": {"protocol_versions": ["6.0"]}}"#,
        )
        .unwrap();
        Release {
            version: "1.2.3".into(),
            os_arch: "linux_amd64".into(),
            provider_bin,
            cli_bin,
            registry_manifest,
            out: dir.join("dist"),
            gpg_key: None,
        }
    }

    #[test]
    fn names_follow_the_registry_layout() {
        let names = Names::new("0.2.0", "linux_amd64");
        assert_eq!(
            names.provider_zip,
            "terraform-provider-eventpipe_0.2.0_linux_amd64.zip"
        );
        assert_eq!(names.provider_entry, "terraform-provider-eventpipe_v0.2.0");
        assert_eq!(names.cli_zip, "eventpipe_0.2.0_linux_amd64.zip");
        assert_eq!(
            names.manifest,
            "terraform-provider-eventpipe_0.2.0_manifest.json"
        );
        assert_eq!(names.sums, "terraform-provider-eventpipe_0.2.0_SHA256SUMS");
        assert_eq!(
            names.signature,
            "terraform-provider-eventpipe_0.2.0_SHA256SUMS.sig"
        );
    }

    #[test]
    fn a_release_without_a_key_has_sums_of_every_file_and_no_signature() {
        let dir = tempfile::tempdir().unwrap();
        let release = release(dir.path());
        let stale = release
            .out
            .join("terraform-provider-eventpipe_1.2.3_SHA256SUMS.sig");
        fs::create_dir_all(&release.out).unwrap();
        fs::write(&stale, "old").unwrap();
        let written = run(&release).unwrap();
        assert_eq!(written.len(), 4);
        assert!(!stale.exists(), "a stale signature is removed");
        let sums = fs::read_to_string(
            release
                .out
                .join("terraform-provider-eventpipe_1.2.3_SHA256SUMS"),
        )
        .unwrap();
        let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            names,
            [
                "eventpipe_1.2.3_linux_amd64.zip",
                "terraform-provider-eventpipe_1.2.3_linux_amd64.zip",
                "terraform-provider-eventpipe_1.2.3_manifest.json",
            ]
        );
    }

    #[test]
    fn a_manifest_must_declare_protocol_six_only() {
        assert!(
            check_manifest(br#"{"version":1,"metadata":{"protocol_versions":["6.0"]}}"#).is_ok()
        );
        let five = check_manifest(br#"{"version":1,"metadata":{"protocol_versions":["5.0"]}}"#);
        assert!(five.unwrap_err().to_string().contains("6.0"));
        assert!(check_manifest(br#"{"metadata":{"protocol_versions":["6.0"]}}"#).is_err());
        assert!(check_manifest(b"not json").is_err());
    }

    #[test]
    fn versions_and_platforms_are_checked() {
        assert!(check_version("0.2.0").is_ok());
        assert!(check_version("1.0.0-rc1").is_ok());
        assert!(check_version("0.2").is_err());
        assert!(check_version("v0.2.0").is_err());
        assert!(check_os_arch("linux_amd64").is_ok());
        assert!(check_os_arch("linux").is_err());
        assert!(check_os_arch("linux_amd64/../x").is_err());
    }

    #[test]
    fn an_assembled_release_sums_every_platform() {
        let dir = tempfile::tempdir().unwrap();
        let mut one = release(dir.path());
        run(&one).unwrap();
        one.os_arch = "darwin_arm64".into();
        run(&one).unwrap();
        // The second run's sums list only its own platform...
        let sums_path = one
            .out
            .join("terraform-provider-eventpipe_1.2.3_SHA256SUMS");
        assert!(
            !fs::read_to_string(&sums_path)
                .unwrap()
                .contains("linux_amd64")
        );
        // ...until the release is assembled.
        let platforms = assemble(&one.out, "1.2.3", None).unwrap();
        assert_eq!(platforms, ["darwin_arm64", "linux_amd64"]);
        let sums = fs::read_to_string(&sums_path).unwrap();
        let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            names,
            [
                "eventpipe_1.2.3_darwin_arm64.zip",
                "eventpipe_1.2.3_linux_amd64.zip",
                "terraform-provider-eventpipe_1.2.3_darwin_arm64.zip",
                "terraform-provider-eventpipe_1.2.3_linux_amd64.zip",
                "terraform-provider-eventpipe_1.2.3_manifest.json",
            ]
        );
        for line in sums.lines() {
            let (digest, name) = line.split_once("  ").unwrap();
            assert_eq!(hashes::sha256_file(&one.out.join(name)).unwrap(), digest);
        }
    }

    #[test]
    fn an_assembly_needs_the_manifest_and_both_zips_of_each_platform() {
        let dir = tempfile::tempdir().unwrap();
        let one = release(dir.path());
        let err = assemble(&dir.path().join("nothing"), "1.2.3", None).unwrap_err();
        assert!(
            err.to_string().contains("manifest.json is missing"),
            "{err}"
        );
        run(&one).unwrap();
        fs::remove_file(one.out.join("eventpipe_1.2.3_linux_amd64.zip")).unwrap();
        let err = assemble(&one.out, "1.2.3", None).unwrap_err();
        assert!(
            err.to_string().contains("not for the same platforms"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_binary_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut release = release(dir.path());
        release.cli_bin = dir.path().join("nowhere");
        let err = run(&release).unwrap_err();
        assert!(format!("{err:#}").contains("nowhere"), "{err:#}");
    }
}
