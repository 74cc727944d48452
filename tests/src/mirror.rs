//! A filesystem mirror holding the provider binary under test, plus the CLI
//! configuration that makes Terraform install it from there. One per test
//! process, under `<target>/eventpipe-e2e/mirror-<pid>/`, removed at exit;
//! mirrors left by processes that died are swept on the next start.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};

use crate::cli_config;
use crate::provider_bin;
use crate::tools;

pub const PROVIDER_HOST: &str = "registry.terraform.io";
pub const PROVIDER_NAMESPACE: &str = "eventpipe";
pub const PROVIDER_TYPE: &str = "eventpipe";
/// The version the mirror offers; configurations may pin it.
pub const PROVIDER_VERSION: &str = "0.2.0";
/// The `include`/`exclude` pattern for everything in our namespace.
pub const PROVIDER_NAMESPACE_PATTERN: &str = "registry.terraform.io/eventpipe/*";

/// A mirror directory and the CLI configuration file that points at it.
#[derive(Debug)]
pub struct ProviderMirror {
    root: PathBuf,
    cli_config: PathBuf,
    /// The provider binary inside the mirror.
    package: PathBuf,
}

impl ProviderMirror {
    /// The mirror shared by every test in this process, built on first use.
    pub fn shared() -> Result<&'static ProviderMirror> {
        static SHARED: OnceLock<Result<ProviderMirror, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| build_shared().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// Builds a mirror of `binary` inside `dir` (which must exist).
    pub fn create(dir: &Path, binary: &Path) -> Result<ProviderMirror> {
        Self::create_provider(dir, binary, PROVIDER_TYPE, PROVIDER_VERSION)
    }

    /// Builds a mirror of `binary` as another provider of our namespace,
    /// `eventpipe/<provider_type>` at `version` (the bench's do-nothing
    /// provider), inside `dir` (which must exist). The CLI configuration is
    /// the same as [`Self::create`]'s.
    pub fn create_provider(
        dir: &Path,
        binary: &Path,
        provider_type: &str,
        version: &str,
    ) -> Result<ProviderMirror> {
        let root = dir.join("plugins");
        let package = root.join(package_path_of(provider_type, version));
        let package_dir = package.parent().unwrap_or(&root);
        fs::create_dir_all(package_dir)
            .with_context(|| format!("creating {}", package_dir.display()))?;
        link_or_copy(binary, &package)?;
        let cli_config = dir.join("terraform.tfrc");
        fs::write(&cli_config, cli_config::render_with_mirror(&root))
            .with_context(|| format!("writing {}", cli_config.display()))?;
        Ok(ProviderMirror {
            root,
            cli_config,
            package,
        })
    }

    /// The directory given to `filesystem_mirror { path = ... }`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file to put in `TF_CLI_CONFIG_FILE`.
    pub fn cli_config(&self) -> &Path {
        &self.cli_config
    }

    /// The provider binary in the mirror, the file Terraform hashes against
    /// the lock file on every command.
    pub fn package(&self) -> &Path {
        &self.package
    }
}

/// `registry.terraform.io/eventpipe/eventpipe/0.2.0/linux_amd64/terraform-provider-eventpipe_v0.2.0`
pub fn package_path() -> PathBuf {
    package_path_of(PROVIDER_TYPE, PROVIDER_VERSION)
}

/// [`package_path`] of `eventpipe/<provider_type>` at `version`.
pub fn package_path_of(provider_type: &str, version: &str) -> PathBuf {
    [
        PROVIDER_HOST,
        PROVIDER_NAMESPACE,
        provider_type,
        version,
        &os_arch(),
        &format!("terraform-provider-{provider_type}_v{version}"),
    ]
    .iter()
    .collect()
}

/// Terraform's platform name for this machine, e.g. `linux_amd64`.
pub fn os_arch() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// A `terraform { required_providers { ... } }` block for our provider,
/// pinned to the mirrored version.
pub fn required_providers_hcl() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    eventpipe = {{\n      \
         source  = \"{PROVIDER_NAMESPACE}/{PROVIDER_TYPE}\"\n      \
         version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n"
    )
}

fn build_shared() -> Result<ProviderMirror> {
    let binary = provider_bin::provider_binary()?;
    let base = tools::target_dir().join("eventpipe-e2e");
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    sweep_dead_mirrors(&base);
    let dir = base.join(format!("mirror-{}", std::process::id()));
    // A leftover from an earlier process with the same pid.
    remove_if_present(&dir)?;
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    remove_at_exit(dir.clone());
    ProviderMirror::create(&dir, &binary)
}

/// A hard link is instant and takes no space; across filesystems, copy.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    remove_if_present(to)?;
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn remove_if_present(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn sweep_dead_mirrors(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("mirror-"))
            .and_then(|pid| pid.parse::<libc::pid_t>().ok());
        if let Some(pid) = pid
            && !process_alive(pid)
        {
            // Best effort: another process may be sweeping the same entry.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn process_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

static EXIT_CLEANUP: OnceLock<PathBuf> = OnceLock::new();

fn remove_at_exit(dir: PathBuf) {
    extern "C" fn cleanup() {
        if let Some(dir) = EXIT_CLEANUP.get() {
            let _ = fs::remove_dir_all(dir);
        }
    }
    if EXIT_CLEANUP.set(dir).is_ok() {
        // SAFETY: registers a plain function; it only reads a static.
        unsafe {
            libc::atexit(cleanup);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_path_follows_the_unpacked_layout() {
        let path = package_path();
        let text = path.to_str().unwrap();
        assert!(
            text.starts_with("registry.terraform.io/eventpipe/eventpipe/0.2.0/"),
            "{text}"
        );
        assert!(
            text.ends_with("/terraform-provider-eventpipe_v0.2.0"),
            "{text}"
        );
    }

    #[test]
    fn the_mirrored_version_is_the_provider_crates() {
        let manifest = fs::read_to_string(tools::repo_root().join("provider/Cargo.toml")).unwrap();
        let line = format!("version = \"{PROVIDER_VERSION}\"");
        assert!(
            manifest.lines().any(|l| l == line),
            "provider/Cargo.toml should say {line}"
        );
    }

    #[test]
    fn os_arch_uses_terraform_names() {
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(os_arch(), "linux_amd64");
        }
    }

    #[test]
    fn a_mirror_holds_the_binary_and_a_config_pointing_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("fake-provider");
        fs::write(&binary, b"#!/bin/sh\n").unwrap();
        let mirror = ProviderMirror::create(dir.path(), &binary).unwrap();
        assert_eq!(
            fs::read(mirror.root().join(package_path())).unwrap(),
            b"#!/bin/sh\n"
        );
        assert_eq!(mirror.package(), mirror.root().join(package_path()));
        let config = fs::read_to_string(mirror.cli_config()).unwrap();
        assert!(config.contains(mirror.root().to_str().unwrap()), "{config}");
    }

    #[test]
    fn another_provider_of_the_namespace_gets_its_own_package_path() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("fake-provider");
        fs::write(&binary, b"#!/bin/sh\n").unwrap();
        let mirror = ProviderMirror::create_provider(dir.path(), &binary, "noop", "1.0.0").unwrap();
        let expected = mirror.root().join(format!(
            "registry.terraform.io/eventpipe/noop/1.0.0/{}/terraform-provider-noop_v1.0.0",
            os_arch()
        ));
        assert_eq!(mirror.package(), expected);
        assert_eq!(fs::read(&expected).unwrap(), b"#!/bin/sh\n");
    }
}
