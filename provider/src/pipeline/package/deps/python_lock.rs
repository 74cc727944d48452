//! Python projects with a lock: `uv.lock` or `poetry.lock` beside a
//! `pyproject.toml`, or a PEP 751 `pylock.toml`. The lock is the single
//! source of truth: nothing is re-resolved, every package is installed at
//! its locked version for Lambda's platform.
//!
//! How each is installed (the "why" is in the docs' decision table too):
//! - `uv.lock`: `uv export --frozen --no-dev --no-emit-project` gives the
//!   locked requirements, then `uv pip install --target` installs them for
//!   the runtime's Python version and Lambda's manylinux. uv rather than
//!   the pip path, because a first install through uv is the faster of the
//!   two (figure 15), uv is there anyway (it reads the lock), and it needs
//!   no interpreter of the runtime's version.
//! - `poetry.lock`: `poetry export` when Poetry with its export plugin is
//!   installed, else the lock read here ([`poetry::requirements`]); then
//!   uv as above, or the pip path when only Poetry is installed.
//! - `pylock.toml` (and a named `pylock.<name>.toml`): `uv pip install -r`.
//!   pip 26.3 reads a `pylock.toml` too, but refuses `--platform` and
//!   `--python-version` with one ("Platform and interpreter constraints …
//!   are not supported when selecting requirements from pylock.toml"), so
//!   it can only install for the build machine, not for Lambda: uv it is.
//!
//! A project with a build backend (`[build-system]`) also gets its own
//! package installed, built from the source at apply
//! ([`PythonLock::install_project`]); that tree is not cached (it follows
//! the source, which the package hash covers already).
//!
//! The cache key (and so `source_code_hash`) covers the lock, the
//! `pyproject.toml` beside it (uv, Poetry), the runtime, the architecture
//! and the installer's options; not the installer's version.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::pyproject::{self, PYPROJECT};
use super::{DepsError, poetry, python, read, run, uv};
use crate::temp_name::TempDir;

/// The PEP 751 lock file's name.
pub const PYLOCK: &str = "pylock.toml";

/// Which lock a project has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    Uv,
    Poetry,
    Pylock,
}

impl LockKind {
    /// The name the cache key starts with.
    pub fn name(self) -> &'static str {
        match self {
            LockKind::Uv => "uv",
            LockKind::Poetry => "poetry",
            LockKind::Pylock => "pylock",
        }
    }
}

/// A lock and the target it is installed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonLock {
    pub kind: LockKind,
    pub lock_path: PathBuf,
    pub lock: Vec<u8>,
    /// The `pyproject.toml` beside a uv or Poetry lock.
    pub pyproject: Option<Vec<u8>>,
    /// Whether the project's own package is built and installed.
    pub own_package: bool,
    pub runtime: String,
    pub architecture: String,
}

/// Whether `name` is a PEP 751 lock file's name: `pylock.toml` or
/// `pylock.<name>.toml`.
pub fn is_pylock_name(name: &str) -> bool {
    name == PYLOCK
        || name
            .strip_prefix("pylock.")
            .and_then(|n| n.strip_suffix(".toml"))
            .is_some_and(|n| !n.is_empty() && !n.contains('.'))
}

/// The lock of the Python project in `dir`, found in the documented order:
/// `uv.lock` + `pyproject.toml`, `poetry.lock` + `pyproject.toml`,
/// `pylock.toml`. Both a uv and a Poetry lock is ambiguous.
pub fn find(
    dir: &Path,
    runtime: &str,
    architecture: &str,
) -> Result<Option<PythonLock>, DepsError> {
    let has_pyproject = dir.join(PYPROJECT).is_file();
    let uv = has_pyproject && dir.join(uv::LOCK).is_file();
    let poetry = has_pyproject && dir.join(poetry::LOCK).is_file();
    let kind = match (uv, poetry) {
        (true, true) => {
            return Err(DepsError::AmbiguousLocks {
                dir: dir.to_owned(),
            });
        }
        (true, false) => LockKind::Uv,
        (false, true) => LockKind::Poetry,
        (false, false) if dir.join(PYLOCK).is_file() => LockKind::Pylock,
        _ => return Ok(None),
    };
    let file = match kind {
        LockKind::Uv => uv::LOCK,
        LockKind::Poetry => poetry::LOCK,
        LockKind::Pylock => PYLOCK,
    };
    PythonLock::read(kind, &dir.join(file), runtime, architecture).map(Some)
}

/// The lock `path` names as `function.requirements_file`: a `uv.lock` or
/// `poetry.lock` (with the `pyproject.toml` beside it), a
/// `pylock[.<name>].toml`, or a `pyproject.toml` (the lock beside it);
/// `None` for any other file, which is a pip requirements file.
pub fn named(
    path: &Path,
    runtime: &str,
    architecture: &str,
) -> Result<Option<PythonLock>, DepsError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let kind = match name {
        uv::LOCK => LockKind::Uv,
        poetry::LOCK => LockKind::Poetry,
        PYPROJECT => {
            return match find(dir, runtime, architecture)? {
                Some(l) if l.kind != LockKind::Pylock => Ok(Some(l)),
                _ => Err(DepsError::NoLockBeside {
                    path: path.to_owned(),
                }),
            };
        }
        n if is_pylock_name(n) => LockKind::Pylock,
        _ => return Ok(None),
    };
    if kind != LockKind::Pylock && !dir.join(PYPROJECT).is_file() {
        return Err(DepsError::NoPyproject {
            lock: path.to_owned(),
        });
    }
    PythonLock::read(kind, path, runtime, architecture).map(Some)
}

impl PythonLock {
    fn read(
        kind: LockKind,
        lock_path: &Path,
        runtime: &str,
        architecture: &str,
    ) -> Result<Self, DepsError> {
        let dir = lock_path.parent().unwrap_or(Path::new("."));
        let (pyproject, own_package) = match kind {
            LockKind::Pylock => (None, false),
            LockKind::Uv | LockKind::Poetry => {
                let path = dir.join(PYPROJECT);
                let bytes = read(&path)?;
                let own = pyproject::builds_own_package(&String::from_utf8_lossy(&bytes))
                    .map_err(|why| DepsError::BadPyproject { path, why })?;
                (Some(bytes), own)
            }
        };
        Ok(PythonLock {
            kind,
            lock_path: lock_path.to_owned(),
            lock: read(lock_path)?,
            pyproject,
            own_package,
            runtime: runtime.to_owned(),
            architecture: architecture.to_owned(),
        })
    }

    /// The project's directory (where the lock is).
    pub fn dir(&self) -> &Path {
        self.lock_path.parent().unwrap_or(Path::new("."))
    }

    /// The installer's options: what the cache key covers with the files.
    pub fn options(&self) -> Vec<String> {
        let mut o: Vec<String> = match self.kind {
            LockKind::Uv => uv::EXPORT_ARGS.map(str::to_owned).to_vec(),
            LockKind::Poetry => poetry::EXPORT_ARGS.map(str::to_owned).to_vec(),
            LockKind::Pylock => Vec::new(),
        };
        o.extend(uv::install_options(&self.runtime, &self.architecture));
        if self.own_package {
            o.push("+project".to_owned());
        }
        o
    }

    /// The files the cache key covers: the lock, and `pyproject.toml`.
    pub fn files(&self) -> Vec<&[u8]> {
        let mut f = vec![self.lock.as_slice()];
        if let Some(p) = &self.pyproject {
            f.push(p);
        }
        f
    }

    /// Installs the locked dependencies (not the project's own package)
    /// into the empty directory `into`.
    pub fn install(&self, into: &Path) -> Result<(), DepsError> {
        self.install_locked(into)?;
        drop_install_records(into)
    }

    fn install_locked(&self, into: &Path) -> Result<(), DepsError> {
        let into = std::path::absolute(into)?;
        let dir = std::path::absolute(self.dir())?;
        // Where the lock's requirements are exported to.
        let work = TempDir::new("eventpipe-lock")?;
        let options = uv::install_options(&self.runtime, &self.architecture);
        match self.kind {
            LockKind::Uv => {
                let reqs = work.path().join("requirements.txt");
                uv::export(&dir, &reqs)?;
                uv::install(&options, &reqs, &into, &dir)
            }
            LockKind::Poetry => {
                let reqs = work.path().join("requirements.txt");
                if poetry::export_available() {
                    poetry::export(&dir, &reqs)?;
                } else {
                    let text = poetry::requirements(&String::from_utf8_lossy(&self.lock), &dir)
                        .map_err(DepsError::Installer)?;
                    std::fs::write(&reqs, text)?;
                }
                if uv::available() {
                    uv::install(&options, &reqs, &into, &dir)
                } else {
                    python::Requirements::read(&reqs, &self.runtime, &self.architecture)?
                        .install(&into)
                }
            }
            LockKind::Pylock => {
                let lock = std::path::absolute(&self.lock_path)?;
                uv::install(&options, &lock, &into, &dir)
            }
        }
    }

    /// Installs the project's own package (built from the source now, no
    /// dependencies) into `into`; nothing when it has none.
    pub fn install_project(&self, into: &Path) -> Result<(), DepsError> {
        if !self.own_package {
            return Ok(());
        }
        let into = std::path::absolute(into)?;
        let dir = std::path::absolute(self.dir())?;
        if uv::available() {
            uv::install_project(&self.runtime, &self.architecture, &dir, &into)?;
        } else {
            pip_install_project(&dir, &into)?;
        }
        drop_install_records(&into)
    }
}

/// The files an installer writes that say where, when and from which path
/// it installed (uv's target `.lock`, `uv_cache.json` with timestamps,
/// `direct_url.json` with the project's absolute path, and the `RECORD`
/// that hashes them): left out, so the package is the same bytes on every
/// machine and every apply. Lambda reads none of them.
fn drop_install_records(into: &Path) -> Result<(), DepsError> {
    let _ = std::fs::remove_file(into.join(".lock"));
    for entry in std::fs::read_dir(into)? {
        let entry = entry?;
        let name = entry.file_name();
        if !name.to_string_lossy().ends_with(".dist-info") {
            continue;
        }
        for f in [
            "uv_cache.json",
            "direct_url.json",
            "uv_build.json",
            "RECORD",
        ] {
            let _ = std::fs::remove_file(entry.path().join(f));
        }
    }
    Ok(())
}

/// The project in `dir` installed by pip (no uv here), without its
/// dependencies.
fn pip_install_project(dir: &Path, into: &Path) -> Result<(), DepsError> {
    let mut cmd = Command::new(python::python());
    cmd.args([
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-compile",
        "--quiet",
    ])
    .args(["--disable-pip-version-check", "--target"])
    .arg(into)
    .arg(dir)
    .current_dir(dir);
    run(&mut cmd, "pip install (the project's own package)")
}

impl PythonLock {
    /// Whether the tools this lock needs run here; the message names what
    /// to install when not.
    pub fn installer_available(&self) -> Result<(), String> {
        match self.kind {
            LockKind::Uv => uv::available()
                .then_some(())
                .ok_or_else(|| uv::missing("Installing from uv.lock")),
            LockKind::Poetry => {
                if uv::available()
                    || (poetry::export_available() && python::pip_available().is_ok())
                {
                    Ok(())
                } else {
                    Err(
                        "Installing from poetry.lock needs uv (which installs the lock's pins \
                         for Lambda's platform), and neither uv nor Poetry with \
                         poetry-plugin-export is on PATH. Install uv \
                         (https://docs.astral.sh/uv/getting-started/installation/, e.g. `pipx \
                         install uv`) where Terraform runs."
                            .to_owned(),
                    )
                }
            }
            LockKind::Pylock => uv::available().then_some(()).ok_or_else(|| {
                uv::missing(&format!(
                    "Installing from {} (for Lambda's platform; pip 26 reads pylock.toml but \
                     cannot install one for another platform)",
                    self.lock_path.display()
                ))
            }),
        }
    }

    /// Whether the lock is current with `pyproject.toml`, by the tool's own
    /// check (`uv lock --check`, `poetry check --lock` when Poetry is
    /// installed); a `pylock.toml` has no project to be out of date with.
    pub fn lock_current(&self) -> Result<(), String> {
        let dir = self.dir();
        match self.kind {
            LockKind::Uv => uv::check_lock(dir),
            LockKind::Poetry if poetry::available() => poetry::check_lock(dir),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const PYPROJECT_TEXT: &str = "[project]\nname = \"p\"\nversion = \"0.1.0\"\n";

    #[test]
    fn the_lock_is_found_in_order_and_two_are_ambiguous() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        assert_eq!(find(dir, "python3.12", "x86_64").unwrap(), None);
        fs::write(dir.join(PYLOCK), "lock-version = \"1.0\"\n").unwrap();
        assert_eq!(
            find(dir, "python3.12", "x86_64").unwrap().unwrap().kind,
            LockKind::Pylock
        );
        // A lock without pyproject.toml is not a uv project.
        fs::write(dir.join(uv::LOCK), "version = 1\n").unwrap();
        assert_eq!(
            find(dir, "python3.12", "x86_64").unwrap().unwrap().kind,
            LockKind::Pylock
        );
        fs::write(dir.join(PYPROJECT), PYPROJECT_TEXT).unwrap();
        let l = find(dir, "python3.12", "x86_64").unwrap().unwrap();
        assert_eq!(l.kind, LockKind::Uv);
        assert!(!l.own_package);
        fs::write(dir.join(poetry::LOCK), "[metadata]\n").unwrap();
        let e = find(dir, "python3.12", "x86_64").unwrap_err();
        assert!(matches!(e, DepsError::AmbiguousLocks { .. }), "{e}");
        // On the attribute that settles it, saying so.
        assert_eq!(e.attr(), crate::pipeline::state::attr::REQUIREMENTS_FILE);
        assert!(
            e.to_string().contains("function.requirements_file ("),
            "{e}"
        );
        // Naming one settles it.
        for (file, kind) in [
            (poetry::LOCK, LockKind::Poetry),
            (uv::LOCK, LockKind::Uv),
            (PYLOCK, LockKind::Pylock),
        ] {
            let l = named(&dir.join(file), "python3.12", "x86_64")
                .unwrap()
                .unwrap();
            assert_eq!(l.kind, kind, "{file}");
        }
        assert!(matches!(
            named(&dir.join(PYPROJECT), "python3.12", "x86_64"),
            Err(DepsError::AmbiguousLocks { .. })
        ));
        fs::remove_file(dir.join(poetry::LOCK)).unwrap();
        assert_eq!(
            named(&dir.join(PYPROJECT), "python3.12", "x86_64")
                .unwrap()
                .unwrap()
                .kind,
            LockKind::Uv
        );
        assert_eq!(
            named(&dir.join("requirements.txt"), "python3.12", "x86_64").unwrap(),
            None
        );
    }

    #[test]
    fn pylock_names() {
        assert!(is_pylock_name("pylock.toml"));
        assert!(is_pylock_name("pylock.dev.toml"));
        assert!(!is_pylock_name("pylock..toml"));
        assert!(!is_pylock_name("pylock.a.b.toml"));
        assert!(!is_pylock_name("poetry.lock"));
    }
}
