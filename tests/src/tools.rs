//! Where the tools are: the repository, `.tools/` (installed on first use by
//! `scripts/setup-tools.sh`), the emulator and the Terraform CLIs under test.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};

/// The Terraform version shipped in `.tools/` (the oldest one we support).
pub const OLD_TERRAFORM: &str = "1.0.3";

/// Restricts [`terraform_versions`], e.g. `1.11` or `1.0.3,1.11` (`all` = no filter).
pub const VERSIONS_ENV: &str = "EVENTPIPE_TF_VERSIONS";

/// One Terraform CLI the tests run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformCli {
    /// The version it reports, e.g. `1.11.4`; used in messages.
    pub label: String,
    pub path: PathBuf,
}

impl TerraformCli {
    /// The version as numbers, e.g. `[1, 11, 4]`.
    pub fn version(&self) -> Vec<u32> {
        parse_version(&self.label)
    }

    /// True when this CLI is at least `major.minor` (e.g. `terraform_data` needs 1.4).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version().as_slice() >= [major, minor].as_slice()
    }
}

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `<repo>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// The `eventpipe` command line: `EVENTPIPE_CLI_BIN`, else the one beside
/// `EVENTPIPE_PROVIDER_BIN` (a release build tests both), else the debug
/// build; fails the test with how to build it when missing.
pub fn eventpipe_cli() -> PathBuf {
    let given = |key: &str| std::env::var_os(key).filter(|p| !p.is_empty());
    let path = match (
        given("EVENTPIPE_CLI_BIN"),
        given(crate::provider_bin::PROVIDER_BIN_ENV),
    ) {
        (Some(cli), _) => PathBuf::from(cli),
        (None, Some(provider)) => PathBuf::from(provider).with_file_name("eventpipe"),
        (None, None) => target_dir().join("debug").join("eventpipe"),
    };
    assert!(
        path.is_file(),
        "{} not found: run `cargo build -p terraform-provider-eventpipe` first",
        path.display()
    );
    path
}

/// `.tools/` (or `EVENTPIPE_TOOLS_DIR`), without installing anything.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("EVENTPIPE_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".tools"),
    }
}

/// Runs `scripts/setup-tools.sh` once per process (it returns at once when the
/// pinned tools are already there) and returns the tools directory.
pub fn ensure_tools() -> Result<PathBuf> {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY
        .get_or_init(|| run_setup_script().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn run_setup_script() -> Result<PathBuf> {
    let dir = tools_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // Parallel test binaries queue here; the first one installs, the others
    // find the stamp file and return quickly.
    let lock_path = dir.join(".harness-setup.lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("creating lock file {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let script = repo_root().join("scripts/setup-tools.sh");
    let output = Command::new("bash")
        .arg(&script)
        .env("EVENTPIPE_TOOLS_DIR", &dir)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(dir)
}

/// The moto server launcher, installing the tools if needed.
pub fn moto_server() -> Result<PathBuf> {
    Ok(ensure_tools()?.join("bin/moto_server"))
}

/// A system command `make tools` installs with apt-get (`docker-registry`,
/// `skopeo`). The harness never installs these itself (that needs root): when
/// one is missing, the error says to run `make tools`.
pub fn system_tool(name: &str) -> Result<PathBuf> {
    find_on_path(name).ok_or_else(|| {
        anyhow!(
            "`{name}` is not on PATH: run `make tools` (it installs docker-registry and skopeo \
             with apt-get; see scripts/setup-system-tools.sh)"
        )
    })
}

/// Terraform 1.0.3 from `.tools/`, installing the tools if needed.
pub fn old_terraform() -> Result<TerraformCli> {
    let path = ensure_tools()?.join(format!("bin/terraform-{OLD_TERRAFORM}"));
    let label = probe_version(&path)?;
    Ok(TerraformCli { label, path })
}

/// The `terraform` on PATH, if there is one and it is at least 1.0.
pub fn path_terraform() -> Result<Option<TerraformCli>> {
    let Some(path) = find_on_path("terraform") else {
        return Ok(None);
    };
    let label = probe_version(&path)?;
    if parse_version(&label).as_slice() < [1, 0].as_slice() {
        return Ok(None);
    }
    Ok(Some(TerraformCli { label, path }))
}

/// The CLIs to test: the PATH terraform (if ≥ 1.0) and Terraform 1.0.3, newest
/// first, filtered by `EVENTPIPE_TF_VERSIONS`. Fails if the filter leaves none.
pub fn terraform_versions() -> Result<Vec<TerraformCli>> {
    let all = available_terraforms()?;
    let filter = std::env::var(VERSIONS_ENV).unwrap_or_default();
    let chosen: Vec<_> = all
        .iter()
        .filter(|cli| version_selected(&filter, &cli.label))
        .cloned()
        .collect();
    if chosen.is_empty() {
        let labels: Vec<_> = all.iter().map(|cli| cli.label.as_str()).collect();
        bail!(
            "{VERSIONS_ENV}={filter:?} matches none of the available Terraform versions {labels:?}"
        );
    }
    Ok(chosen)
}

/// Every CLI found, probed once per process.
fn available_terraforms() -> Result<Vec<TerraformCli>> {
    static ALL: OnceLock<Result<Vec<TerraformCli>, String>> = OnceLock::new();
    ALL.get_or_init(|| find_terraforms().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn find_terraforms() -> Result<Vec<TerraformCli>> {
    let mut all = Vec::new();
    if let Some(current) = path_terraform()? {
        all.push(current);
    }
    let old = old_terraform()?;
    if !all.iter().any(|cli| cli.label == old.label) {
        all.push(old);
    }
    Ok(all)
}

/// Whether `version` passes the filter: a comma/space separated list of version
/// prefixes compared by component ("1.1" matches 1.1.9 but not 1.11.4).
pub fn version_selected(filter: &str, version: &str) -> bool {
    let wanted: Vec<&str> = filter
        .split([',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    if wanted.is_empty() || wanted.contains(&"all") {
        return true;
    }
    let have = parse_version(version);
    wanted
        .iter()
        .any(|prefix| have.starts_with(&parse_version(prefix)))
}

/// `"1.11.4"` → `[1, 11, 4]`; stops at the first part that is not a number.
pub fn parse_version(text: &str) -> Vec<u32> {
    text.trim()
        .trim_start_matches('v')
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Asks a Terraform binary for its version (`terraform version -json`).
pub fn probe_version(path: &Path) -> Result<String> {
    let output = Command::new(path)
        .args(["version", "-json"])
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .with_context(|| format!("running {} version -json", path.display()))?;
    if !output.status.success() {
        bail!(
            "{} version -json failed ({}): {}",
            path.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("parsing the output of {} version -json", path.display()))?;
    json.get("terraform_version")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} version -json has no terraform_version", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_by_component() {
        assert_eq!(parse_version("1.11.4"), [1, 11, 4]);
        assert_eq!(parse_version("v1.0.3"), [1, 0, 3]);
        assert_eq!(parse_version("1.12.0-beta1"), [1, 12]);
        assert!(parse_version("").is_empty());
    }

    #[test]
    fn the_filter_matches_whole_components() {
        assert!(version_selected("", "1.11.4"));
        assert!(version_selected("all", "1.0.3"));
        assert!(version_selected("1.11", "1.11.4"));
        assert!(!version_selected("1.1", "1.11.4"));
        assert!(version_selected("1.0.3, 1.11", "1.0.3"));
        assert!(!version_selected("1.0.3", "1.11.4"));
    }

    #[test]
    fn a_missing_system_tool_says_to_run_make_tools() {
        let error = system_tool("eventpipe-no-such-tool")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`eventpipe-no-such-tool` is not on PATH"),
            "{error}"
        );
        assert!(error.contains("run `make tools`"), "{error}");
        assert!(system_tool("sh").is_ok());
    }

    #[test]
    fn at_least_compares_major_and_minor() {
        let cli = |label: &str| TerraformCli {
            label: label.into(),
            path: PathBuf::new(),
        };
        assert!(cli("1.11.4").at_least(1, 4));
        assert!(!cli("1.0.3").at_least(1, 4));
        assert!(cli("1.4.0").at_least(1, 4));
    }
}

/// The package managers `scripts/setup-package-tools.sh` installs into
/// `.tools/`: uv, Poetry (with its export plugin) and a current pip in
/// `bin/`, build-backend wheels in `wheels/`, and pnpm, Yarn 4, esbuild and
/// `tsc` in `node/node_modules/.bin/`.
#[derive(Clone, Debug)]
pub struct PackageTools {
    /// `uv`, `poetry` and `pip-latest`.
    pub bin: PathBuf,
    /// hatchling, uv_build, setuptools and wheel (with their dependencies), as
    /// wheels: a `src/` project's build backend, offline.
    pub wheels: PathBuf,
    /// `pnpm`, `yarn`, `esbuild` and `tsc`.
    pub node_bin: PathBuf,
}

impl PackageTools {
    /// `PATH` with the package managers first, for a Terraform (and so a
    /// provider) or `eventpipe` process.
    pub fn path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.bin.clone(), self.node_bin.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).unwrap_or_default()
    }

    /// `PATH` with the package managers first but without `name`'s
    /// directory: for "the tool is not installed" cases.
    pub fn path_without(&self, name: &str) -> std::ffi::OsString {
        let dirs: Vec<PathBuf> = std::env::split_paths(&self.path())
            .filter(|d| !d.join(name).exists())
            .collect();
        std::env::join_paths(dirs).unwrap_or_default()
    }
}

/// Runs `scripts/setup-package-tools.sh` once per process (it returns at once
/// when the pinned tools are there) and says where they are.
pub fn package_tools() -> Result<PackageTools> {
    static READY: OnceLock<Result<PackageTools, String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = tools_dir();
            let script = repo_root().join("scripts/setup-package-tools.sh");
            let out = Command::new("bash")
                .arg(&script)
                .env("EVENTPIPE_TOOLS_DIR", &dir)
                .output()
                .map_err(|e| format!("running {}: {e}", script.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "{} failed ({}):\n{}{}",
                    script.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(PackageTools {
                bin: dir.join("bin"),
                wheels: dir.join("wheels"),
                node_bin: dir.join("node/node_modules/.bin"),
            })
        })
        .clone()
        .map_err(|e| anyhow!(e))
}
