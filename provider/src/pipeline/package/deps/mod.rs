//! A function's dependencies: which installer (pip for a `requirements.txt`,
//! uv or Poetry for a Python project's lock ([`python_lock`]); npm, pnpm or
//! Yarn for a `package.json` with its lock file), what it is given, and the
//! key its installed tree is cached under.
//!
//! The key covers everything that decides what gets installed and that the
//! provider controls: the requirement or lock files' contents, the runtime,
//! the architecture and the installer's options. pip's and npm's own
//! configuration (indexes, mirrors) is honoured but not hashed.

pub mod node;
pub mod pnpm;
pub mod poetry;
pub mod pyproject;
pub mod python;
pub mod python_lock;
pub mod uv;
pub mod yarn;

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::pipeline::state::attr;

/// What a function's dependencies are installed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deps {
    Python(python::Requirements),
    Node(node::Lock),
    /// A Python project's lock: `uv.lock`, `poetry.lock` or `pylock.toml`.
    PythonLock(python_lock::PythonLock),
}

/// Why the dependencies cannot be read or installed; each names what to
/// change.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    #[error("the requirements file {path} does not exist")]
    NoRequirementsFile { path: PathBuf },
    #[error(
        "function.requirements_file is set but the runtime {runtime} is not a Python runtime; \
         remove it"
    )]
    RequirementsNotPython { runtime: String },
    #[error(
        "{dir} has a package.json that declares dependencies but no package-lock.json, \
         pnpm-lock.yaml or yarn.lock: the build would not be reproducible. Lock them with \
         your package manager (`npm install --package-lock-only`, `pnpm install \
         --lockfile-only` or `yarn install --mode=update-lockfile`) and commit the lock file"
    )]
    NoLockFile { dir: PathBuf },
    #[error("{path} is not valid JSON: {why}")]
    BadPackageJson { path: PathBuf, why: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Installer(String),
    #[error("installing the dependencies failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "{dir} has the lock files of more than one package manager ({}), so which one \
         installs the dependencies is ambiguous. Keep the lock file of the manager you use \
         and delete the others",
        found.join(", ")
    )]
    SeveralLockFiles {
        dir: PathBuf,
        found: Vec<&'static str>,
    },
    #[error(
        "{path} is a Yarn 1 (classic) lock file; the provider installs Yarn 2 and later \
         (berry) locks. Move the project to Yarn 4 (`yarn set version stable && yarn \
         install`) or to npm (`npm install --package-lock-only`, then delete yarn.lock)"
    )]
    YarnClassicLock { path: PathBuf },
    #[error(
        "{dir} has both uv.lock and poetry.lock (each beside pyproject.toml), so which one \
         installs the dependencies is ambiguous: name the one to use in \
         function.requirements_file (requirements_file = \"uv.lock\" or \"poetry.lock\"), or \
         delete the other"
    )]
    AmbiguousLocks { dir: PathBuf },
    #[error(
        "{lock} is named as the requirements file, but there is no pyproject.toml beside it: \
         a uv or Poetry lock is installed with its project"
    )]
    NoPyproject { lock: PathBuf },
    #[error(
        "{path} is named as the requirements file, but there is no uv.lock or poetry.lock \
         beside it: lock the project (`uv lock` or `poetry lock`) and commit the lock"
    )]
    NoLockBeside { path: PathBuf },
    #[error("{path} is not valid TOML: {why}")]
    BadPyproject { path: PathBuf, why: String },
}

impl DepsError {
    /// The attribute of the `function` block a diagnostic points at.
    pub fn attr(&self) -> &'static str {
        match self {
            DepsError::NoRequirementsFile { .. }
            | DepsError::RequirementsNotPython { .. }
            | DepsError::AmbiguousLocks { .. }
            | DepsError::NoPyproject { .. }
            | DepsError::NoLockBeside { .. } => attr::REQUIREMENTS_FILE,
            _ => attr::SOURCE_DIR,
        }
    }
}

/// [`Deps::tree_key`] from the installed tree's `key` ([`Deps::key`]),
/// for a caller that keeps the key.
pub fn tree_key_of(key: String, slim: bool) -> String {
    if slim {
        format!("{key}-{}", super::slim::RULES)
    } else {
        key
    }
}

/// [`Deps::package_hash`] from the packaged tree's key
/// ([`Deps::tree_key`]), for a caller that keeps the key.
pub fn package_hash_of(tree_hash: &str, tree_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"eventpipe-package-v2\0");
    h.update(tree_hash.as_bytes());
    h.update([0]);
    h.update(tree_key.as_bytes());
    hex::encode(h.finalize())
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, DepsError> {
    fs::read(path).map_err(|source| DepsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The dependencies of a function with source `dir`, `runtime` and
/// `requirements_file` (as configured), or `None` when it has none.
///
/// - Python runtimes: `requirements_file` (relative to `dir` or absolute;
///   a `uv.lock`, `poetry.lock`, `pylock[.<name>].toml` or `pyproject.toml`
///   is that project's lock, any other file pip requirements), else, in
///   this order, `uv.lock` + `pyproject.toml`, `poetry.lock` +
///   `pyproject.toml`, `pylock.toml`, `requirements.txt`
///   ([`python_lock::find`]; a uv and a Poetry lock together are
///   ambiguous).
/// - Node.js runtimes: `dir/package.json` when it declares `dependencies`;
///   then exactly one of `package-lock.json` (npm), `pnpm-lock.yaml` (pnpm)
///   and `yarn.lock` (Yarn 2+) beside it ([`node::Lock::detect`]).
pub fn detect(
    dir: &Path,
    runtime: &str,
    architecture: &str,
    requirements_file: Option<&str>,
) -> Result<Option<Deps>, DepsError> {
    let python = runtime.starts_with("python");
    if let Some(file) = requirements_file {
        if !python {
            return Err(DepsError::RequirementsNotPython {
                runtime: runtime.to_owned(),
            });
        }
        let path = dir.join(file);
        if !path.is_file() {
            return Err(DepsError::NoRequirementsFile { path });
        }
        if let Some(lock) = python_lock::named(&path, runtime, architecture)? {
            return Ok(Some(Deps::PythonLock(lock)));
        }
        return python::Requirements::read(&path, runtime, architecture)
            .map(|r| Some(Deps::Python(r)));
    }
    if python {
        if let Some(lock) = python_lock::find(dir, runtime, architecture)? {
            return Ok(Some(Deps::PythonLock(lock)));
        }
        let path = dir.join("requirements.txt");
        if path.is_file() {
            return python::Requirements::read(&path, runtime, architecture)
                .map(|r| Some(Deps::Python(r)));
        }
        return Ok(None);
    }
    if runtime.starts_with("nodejs") {
        return node::Lock::detect(dir, runtime, architecture).map(|l| l.map(Deps::Node));
    }
    Ok(None)
}

impl Deps {
    /// The cache key of the installed tree (hex SHA-256).
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"eventpipe-deps-v1\0");
        let (kind, runtime, arch, options, files): (&str, _, _, Vec<String>, Vec<&[u8]>) =
            match self {
                Deps::Python(r) => (
                    "pip",
                    &r.runtime,
                    &r.architecture,
                    r.options(),
                    vec![r.content.as_slice()],
                ),
                Deps::Node(l) => (
                    l.manager.name(),
                    &l.runtime,
                    &l.architecture,
                    l.options(),
                    vec![l.package_json.as_slice(), l.lock.as_slice()],
                ),
                Deps::PythonLock(l) => (
                    l.kind.name(),
                    &l.runtime,
                    &l.architecture,
                    l.options(),
                    l.files(),
                ),
            };
        for part in [kind, runtime.as_str(), arch.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for o in &options {
            h.update(o.as_bytes());
            h.update([0]);
        }
        for f in files {
            h.update((f.len() as u64).to_le_bytes());
            h.update(f);
        }
        hex::encode(h.finalize())
    }

    /// The cache key of the tree that is packaged: the installed tree's
    /// ([`Self::key`]), or with `slim` its slim copy's, which also names
    /// the slimming rules.
    pub fn tree_key(&self, slim: bool) -> String {
        tree_key_of(self.key(), slim)
    }

    /// The package's hash: the source tree's hash bound to the key of the
    /// packaged dependency tree, so `slim` changes it. (Without
    /// dependencies the tree's hash is the package's, as it always was;
    /// without `slim` the hash is the one 0.4 computed.)
    pub fn package_hash(&self, tree_hash: &str, slim: bool) -> String {
        package_hash_of(tree_hash, &self.tree_key(slim))
    }

    /// Installs into the empty directory `into`, whose files then go into
    /// the package's root.
    pub fn install(&self, into: &Path) -> Result<(), DepsError> {
        match self {
            Deps::Python(r) => r.install(into),
            Deps::Node(l) => l.install(into),
            Deps::PythonLock(l) => l.install(into),
        }
    }

    /// Installs what is built from the source itself into the empty
    /// directory `into` (a Python project's own package); not cached, as
    /// it follows the source, which the package hash covers.
    pub fn install_own(&self, into: &Path) -> Result<(), DepsError> {
        match self {
            Deps::PythonLock(l) => l.install_project(into),
            _ => Ok(()),
        }
    }

    /// Whether there is anything for [`Self::install_own`] to install.
    pub fn has_own(&self) -> bool {
        matches!(self, Deps::PythonLock(l) if l.own_package)
    }

    /// Whether the lock is current with its project, by the tool's own
    /// check (run at plan only when the installed tree is not cached).
    pub fn lock_current(&self) -> Result<(), String> {
        match self {
            Deps::PythonLock(l) => l.lock_current(),
            _ => Ok(()),
        }
    }

    /// Whether the installer this needs can run; the message says what to
    /// install when not.
    pub fn installer_available(&self) -> Result<(), String> {
        match self {
            Deps::Python(_) => python::pip_available(),
            Deps::Node(l) => l.installer_available(),
            Deps::PythonLock(l) => l.installer_available(),
        }
    }

    /// Warnings on what was read (unpinned requirements).
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Deps::Python(r) => r.unpinned_warning().into_iter().collect(),
            Deps::Node(_) | Deps::PythonLock(_) => Vec::new(),
        }
    }
}

/// Runs `cmd`, turning a failure into a message with its output's tail.
pub(crate) fn run(cmd: &mut std::process::Command, what: &str) -> Result<(), DepsError> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| DepsError::Installer(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(DepsError::Installer(format!(
        "{what} failed ({}):\n{}",
        out.status,
        tail.join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_follows_the_runtime_and_the_files() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            detect(d.path(), "python3.12", "x86_64", None).unwrap(),
            None
        );
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        assert!(matches!(
            detect(d.path(), "python3.12", "x86_64", None).unwrap(),
            Some(Deps::Python(_))
        ));
        // A Node function ignores a requirements.txt.
        assert_eq!(
            detect(d.path(), "nodejs20.x", "x86_64", None).unwrap(),
            None
        );
        assert!(matches!(
            detect(d.path(), "nodejs20.x", "x86_64", Some("requirements.txt")),
            Err(DepsError::RequirementsNotPython { .. })
        ));
        assert!(matches!(
            detect(d.path(), "python3.12", "x86_64", Some("deps/missing.txt")),
            Err(DepsError::NoRequirementsFile { .. })
        ));
    }

    #[test]
    fn the_key_changes_with_content_runtime_and_architecture() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let key = |rt: &str, arch: &str| detect(d.path(), rt, arch, None).unwrap().unwrap().key();
        let base = key("python3.12", "x86_64");
        assert_eq!(base, key("python3.12", "x86_64"));
        assert_ne!(base, key("python3.13", "x86_64"));
        assert_ne!(base, key("python3.12", "arm64"));
        fs::write(d.path().join("requirements.txt"), "six==1.17.0\n").unwrap();
        assert_ne!(base, key("python3.12", "x86_64"));
    }

    /// A `requirements.txt` project's key and hash are the ones computed
    /// before Python locks were supported: upgrading shows no diff.
    #[test]
    fn a_requirements_txt_key_and_hash_are_unchanged_by_python_locks() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let deps = detect(d.path(), "python3.12", "x86_64", None)
            .unwrap()
            .unwrap();
        assert_eq!(
            deps.key(),
            "5ee299ae8d5c39c0ef725c7b4654e828c2077bba9d7872e3092fdcbf61aabe5f"
        );
        assert_eq!(
            deps.package_hash("aa", false),
            "608440578162588b7259ee5627fba11e6921951add6732251d1019f1a4cf098e"
        );
    }

    #[test]
    fn the_package_hash_binds_source_and_dependencies() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let deps = detect(d.path(), "python3.12", "x86_64", None)
            .unwrap()
            .unwrap();
        let a = deps.package_hash("aa", false);
        assert_eq!(a.len(), 64);
        assert_ne!(a, "aa");
        assert_ne!(a, deps.package_hash("ab", false));
    }

    #[test]
    fn slim_changes_the_package_hash_and_leaves_the_plain_one_as_it_was() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let deps = detect(d.path(), "python3.12", "x86_64", None)
            .unwrap()
            .unwrap();
        // The hash states written before `slim` existed hold.
        let mut h = Sha256::new();
        h.update(b"eventpipe-package-v2\0aa\0");
        h.update(deps.key().as_bytes());
        assert_eq!(deps.package_hash("aa", false), hex::encode(h.finalize()));
        assert_ne!(
            deps.package_hash("aa", true),
            deps.package_hash("aa", false)
        );
        assert_ne!(deps.tree_key(true), deps.key());
        assert_eq!(deps.tree_key(false), deps.key());
    }
}
