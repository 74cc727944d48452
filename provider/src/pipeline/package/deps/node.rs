//! Node.js dependencies: a `package.json` that declares `dependencies`,
//! with the lock file of one package manager beside it, installed for
//! Linux and the function's CPU with production dependencies only:
//!
//! - `package-lock.json`: `npm ci --omit=dev` (here);
//! - `pnpm-lock.yaml`: `pnpm install --frozen-lockfile --prod` with the
//!   hoisted linker ([`super::pnpm`]);
//! - `yarn.lock` (Yarn 2 and later, "berry"): Yarn with the `node-modules`
//!   linker ([`super::yarn`]).
//!
//! Each tool's own configuration is honoured (`.npmrc`, `npm_config_*`,
//! `.yarnrc.yml`, `YARN_*`). The tool runs in a temporary copy holding
//! package.json and the lock (and links to the rest of the source
//! directory, so `file:` dependencies resolve), and only the
//! `node_modules` it makes is kept.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DepsError, pnpm, read, run, yarn};

/// The package manager a lock file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    Npm,
    Pnpm,
    Yarn,
}

impl Manager {
    pub const ALL: [Manager; 3] = [Manager::Npm, Manager::Pnpm, Manager::Yarn];

    /// The lock file it writes.
    pub fn lock_file(self) -> &'static str {
        match self {
            Manager::Npm => "package-lock.json",
            Manager::Pnpm => "pnpm-lock.yaml",
            Manager::Yarn => "yarn.lock",
        }
    }

    /// Its name, and the installer's name in the cache key (npm's is the
    /// one it always was).
    pub fn name(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Pnpm => "pnpm",
            Manager::Yarn => "yarn",
        }
    }
}

/// A package.json, its lock file, and the target they are installed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub dir: PathBuf,
    pub manager: Manager,
    pub package_json: Vec<u8>,
    pub lock: Vec<u8>,
    pub runtime: String,
    pub architecture: String,
}

/// Node's name of the function's CPU (`process.arch`).
pub(super) fn cpu(architecture: &str) -> &'static str {
    if architecture == "arm64" {
        "arm64"
    } else {
        "x64"
    }
}

impl Lock {
    /// The dependencies in `dir`: none without a package.json or when it
    /// declares no `dependencies`; an error when it does without a lock
    /// file, or with the lock files of more than one package manager.
    pub fn detect(
        dir: &Path,
        runtime: &str,
        architecture: &str,
    ) -> Result<Option<Lock>, DepsError> {
        let manifest = dir.join("package.json");
        // Read first, asked what it is only when it does not read: one
        // call for the common case of a file that is there.
        let package_json = match fs::read(&manifest) {
            Ok(bytes) => bytes,
            Err(_) if !manifest.is_file() => return Ok(None),
            Err(source) => {
                return Err(DepsError::Read {
                    path: manifest,
                    source,
                });
            }
        };
        let doc: serde_json::Value =
            serde_json::from_slice(&package_json).map_err(|e| DepsError::BadPackageJson {
                path: manifest.clone(),
                why: e.to_string(),
            })?;
        let declares = doc
            .get("dependencies") // npm's key
            .and_then(serde_json::Value::as_object)
            .is_some_and(|d| !d.is_empty());
        if !declares {
            return Ok(None);
        }
        let found: Vec<Manager> = Manager::ALL
            .into_iter()
            .filter(|m| dir.join(m.lock_file()).is_file())
            .collect();
        let manager = match found.as_slice() {
            [] => {
                return Err(DepsError::NoLockFile {
                    dir: dir.to_owned(),
                });
            }
            [one] => *one,
            several => {
                return Err(DepsError::SeveralLockFiles {
                    dir: dir.to_owned(),
                    found: several.iter().map(|m| m.lock_file()).collect(),
                });
            }
        };
        let lock_path = dir.join(manager.lock_file());
        let lock = read(&lock_path)?;
        if manager == Manager::Yarn && !yarn::is_berry_lock(&lock) {
            return Err(DepsError::YarnClassicLock { path: lock_path });
        }
        Ok(Some(Lock {
            dir: dir.to_owned(),
            manager,
            package_json,
            lock,
            runtime: runtime.to_owned(),
            architecture: architecture.to_owned(),
        }))
    }

    /// The installer's options: what the cache key covers (never a path of
    /// this machine, so the hash is the same everywhere).
    pub fn options(&self) -> Vec<String> {
        match self.manager {
            Manager::Npm => npm_options(&self.architecture),
            Manager::Pnpm => pnpm::options(&self.architecture),
            Manager::Yarn => yarn::options(&self.architecture),
        }
    }

    pub fn install(&self, into: &Path) -> Result<(), DepsError> {
        match self.manager {
            Manager::Npm => self.install_npm(into),
            Manager::Pnpm => pnpm::install(self, into),
            Manager::Yarn => yarn::install(self, into),
        }
    }

    /// Whether the package manager runs; the message says what to install
    /// when it does not.
    pub fn installer_available(&self) -> Result<(), String> {
        match self.manager {
            Manager::Npm => npm_available(),
            Manager::Pnpm => pnpm::available(),
            Manager::Yarn => yarn::available(),
        }
    }

    /// A temporary copy of the project in `into/<name>`: package.json and
    /// the lock written, every other entry of the source directory linked,
    /// except `node_modules`, the lock files and `skip`.
    pub(super) fn work_copy(
        &self,
        into: &Path,
        name: &str,
        skip: &[&str],
    ) -> Result<PathBuf, DepsError> {
        let source = std::path::absolute(&self.dir)?;
        let work = into.join(name);
        fs::create_dir(&work)?;
        fs::write(work.join("package.json"), &self.package_json)?;
        fs::write(work.join(self.manager.lock_file()), &self.lock)?;
        let mut skipped = vec!["package.json", "node_modules"];
        skipped.extend(Manager::ALL.map(Manager::lock_file));
        skipped.extend_from_slice(skip);
        for entry in fs::read_dir(&source)? {
            let entry = entry?;
            let name = entry.file_name();
            if skipped.iter().any(|n| name == *n) {
                continue;
            }
            link(&entry.path(), &work.join(&name))?;
        }
        Ok(work)
    }

    fn install_npm(&self, into: &Path) -> Result<(), DepsError> {
        let into = &std::path::absolute(into)?;
        let work = self.work_copy(into, ".npm-work", &[])?;
        let mut cmd = Command::new(npm());
        cmd.args(self.options()).current_dir(&work);
        let result = run(&mut cmd, "npm ci");
        keep_node_modules(result, &work, into, &[])
    }
}

/// npm's options (as they always were).
fn npm_options(architecture: &str) -> Vec<String> {
    [
        "ci",
        "--omit=dev",
        "--os=linux",
        &format!("--cpu={}", cpu(architecture)),
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--loglevel=error",
    ]
    .map(str::to_owned)
    .into()
}

/// After the install that gave `result` in `work`: moves its
/// `node_modules` (without the installer's own bookkeeping `drop`, which
/// holds times and this machine's paths) into `into`, and removes `work`.
pub(super) fn keep_node_modules(
    result: Result<(), DepsError>,
    work: &Path,
    into: &Path,
    drop: &[&str],
) -> Result<(), DepsError> {
    let modules = work.join("node_modules");
    if result.is_ok() && modules.is_dir() {
        for name in drop {
            let path = modules.join(name);
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else if path.is_file() {
                fs::remove_file(&path)?;
            }
        }
        fs::rename(&modules, into.join("node_modules"))?;
    }
    fs::remove_dir_all(work)?;
    result
}

/// Whether `program --version` runs (with `PATH` as the provider has it).
pub(super) fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(unix)]
pub(super) fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(not(unix))]
pub(super) fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ())
    }
}

fn npm() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

/// Whether npm runs; the message says what to install when it does not.
pub fn npm_available() -> Result<(), String> {
    if runs(npm()) {
        return Ok(());
    }
    Err(
        "`npm --version` does not run: installing a package.json's dependencies \
         needs Node.js with npm. Install Node.js (which brings npm)."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_json_without_dependencies_needs_nothing() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("package.json"), r#"{"type":"module"}"#).unwrap();
        assert_eq!(
            Lock::detect(d.path(), "nodejs20.x", "x86_64").unwrap(),
            None
        );
    }

    #[test]
    fn dependencies_without_a_lock_file_are_refused() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("package.json"),
            r#"{"dependencies":{"left-pad":"1.3.0"}}"#,
        )
        .unwrap();
        let e = Lock::detect(d.path(), "nodejs20.x", "x86_64").unwrap_err();
        assert!(e.to_string().contains("package-lock.json"), "{e}");
        fs::write(d.path().join("package-lock.json"), "{}").unwrap();
        let l = Lock::detect(d.path(), "nodejs20.x", "arm64")
            .unwrap()
            .unwrap();
        assert!(l.options().contains(&"--cpu=arm64".to_owned()));
        assert!(l.options().contains(&"--omit=dev".to_owned()));
    }

    const DEPS: &str = r#"{"dependencies":{"tinyjs":"file:vendor/tinyjs-1.0.0.tgz"}}"#;
    const BERRY: &str = "__metadata:\n  version: 10\n  cacheKey: 10c0\n";

    fn project(locks: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("package.json"), DEPS).unwrap();
        for (name, body) in locks {
            fs::write(d.path().join(name), body).unwrap();
        }
        d
    }

    #[test]
    fn the_lock_file_names_the_package_manager() {
        for (file, body, manager) in [
            ("package-lock.json", "{}", Manager::Npm),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n", Manager::Pnpm),
            ("yarn.lock", BERRY, Manager::Yarn),
        ] {
            let d = project(&[(file, body)]);
            let l = Lock::detect(d.path(), "nodejs24.x", "x86_64")
                .unwrap()
                .unwrap();
            assert_eq!(l.manager, manager, "{file}");
            assert_eq!(l.lock, body.as_bytes(), "{file}");
        }
    }

    #[test]
    fn the_error_without_a_lock_names_all_three() {
        let d = project(&[]);
        let e = Lock::detect(d.path(), "nodejs24.x", "x86_64")
            .unwrap_err()
            .to_string();
        for name in ["package-lock.json", "pnpm-lock.yaml", "yarn.lock"] {
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn several_locks_are_ambiguous_and_named() {
        let d = project(&[("package-lock.json", "{}"), ("yarn.lock", BERRY)]);
        let e = Lock::detect(d.path(), "nodejs24.x", "x86_64").unwrap_err();
        assert!(matches!(e, DepsError::SeveralLockFiles { .. }), "{e}");
        assert!(
            e.to_string().contains("(package-lock.json, yarn.lock)"),
            "{e}"
        );
        assert_eq!(e.attr(), crate::pipeline::state::attr::SOURCE_DIR);
    }

    #[test]
    fn a_yarn_1_lock_is_refused_with_what_to_do() {
        let d = project(&[("yarn.lock", "# yarn lockfile v1\n\ntinyjs@1.0.0:\n")]);
        let e = Lock::detect(d.path(), "nodejs24.x", "x86_64").unwrap_err();
        assert!(matches!(e, DepsError::YarnClassicLock { .. }), "{e}");
        assert!(e.to_string().contains("Yarn 4"), "{e}");
    }

    #[test]
    fn each_manager_keys_its_tree_apart_and_npm_keeps_its_key() {
        use sha2::{Digest, Sha256};
        let body = "{}";
        let key = |file: &str| {
            let d = project(&[(file, if file == "yarn.lock" { BERRY } else { body })]);
            super::super::detect(d.path(), "nodejs24.x", "x86_64", None)
                .unwrap()
                .unwrap()
                .key()
        };
        let npm = key("package-lock.json");
        // The key npm's trees always had (a package's hash is unchanged).
        let mut h = Sha256::new();
        h.update(b"eventpipe-deps-v1\0npm\0nodejs24.x\0x86_64\0");
        for o in npm_options("x86_64") {
            h.update(o.as_bytes());
            h.update([0]);
        }
        for f in [DEPS, body] {
            h.update((f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
        }
        assert_eq!(npm, hex::encode(h.finalize()));
        assert_eq!(
            npm_options("x86_64").join(" "),
            "ci --omit=dev --os=linux --cpu=x64 --no-audit --no-fund \
             --no-update-notifier --loglevel=error"
        );
        let pnpm = key("pnpm-lock.yaml");
        assert_ne!(npm, pnpm);
        assert_ne!(pnpm, key("yarn.lock"));
    }

    #[test]
    fn a_broken_package_json_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("package.json"), "{").unwrap();
        assert!(matches!(
            Lock::detect(d.path(), "nodejs20.x", "x86_64"),
            Err(DepsError::BadPackageJson { .. })
        ));
    }
}
