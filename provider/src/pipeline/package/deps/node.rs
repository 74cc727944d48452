//! Node.js dependencies: a `package.json` that declares `dependencies`,
//! with its `package-lock.json`, installed with `npm ci --omit=dev` for
//! Linux and the function's CPU. npm's own configuration (`.npmrc`,
//! `npm_config_*`) is honoured.
//!
//! npm runs in a temporary copy holding the two files (and links to the
//! rest of the source directory, so `file:` dependencies resolve), and only
//! the `node_modules` it makes is kept.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DepsError, read, run};

/// A package.json, its lock file, and the target they are installed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub dir: PathBuf,
    pub package_json: Vec<u8>,
    pub lock: Vec<u8>,
    pub runtime: String,
    pub architecture: String,
}

fn cpu(architecture: &str) -> &'static str {
    if architecture == "arm64" {
        "arm64"
    } else {
        "x64"
    }
}

impl Lock {
    /// The dependencies in `dir`: none without a package.json or when it
    /// declares no `dependencies`; an error when it does without a lock.
    pub fn detect(
        dir: &Path,
        runtime: &str,
        architecture: &str,
    ) -> Result<Option<Lock>, DepsError> {
        let manifest = dir.join("package.json");
        if !manifest.is_file() {
            return Ok(None);
        }
        let package_json = read(&manifest)?;
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
        let lock_path = dir.join("package-lock.json");
        if !lock_path.is_file() {
            return Err(DepsError::NoLockFile {
                dir: dir.to_owned(),
            });
        }
        Ok(Some(Lock {
            dir: dir.to_owned(),
            package_json,
            lock: read(&lock_path)?,
            runtime: runtime.to_owned(),
            architecture: architecture.to_owned(),
        }))
    }

    /// npm's options: what the cache key covers.
    pub fn options(&self) -> Vec<String> {
        [
            "ci",
            "--omit=dev",
            "--os=linux",
            &format!("--cpu={}", cpu(&self.architecture)),
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--loglevel=error",
        ]
        .map(str::to_owned)
        .into()
    }

    pub fn install(&self, into: &Path) -> Result<(), DepsError> {
        let into = &std::path::absolute(into)?;
        let source = std::path::absolute(&self.dir)?;
        let work = into.join(".npm-work");
        fs::create_dir(&work)?;
        fs::write(work.join("package.json"), &self.package_json)?;
        fs::write(work.join("package-lock.json"), &self.lock)?;
        for entry in fs::read_dir(&source)? {
            let entry = entry?;
            let name = entry.file_name();
            if ["package.json", "package-lock.json", "node_modules"]
                .iter()
                .any(|n| name == *n)
            {
                continue;
            }
            link(&entry.path(), &work.join(&name))?;
        }
        let mut cmd = Command::new(npm());
        cmd.args(self.options()).current_dir(&work);
        let result = run(&mut cmd, "npm ci");
        if result.is_ok() && work.join("node_modules").is_dir() {
            fs::rename(work.join("node_modules"), into.join("node_modules"))?;
        }
        fs::remove_dir_all(&work)?;
        result
    }
}

#[cfg(unix)]
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(not(unix))]
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
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
    match Command::new(npm())
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(
            "`npm --version` does not run: installing a package.json's dependencies \
                  needs Node.js with npm. Install Node.js (which brings npm)."
                .into(),
        ),
    }
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
