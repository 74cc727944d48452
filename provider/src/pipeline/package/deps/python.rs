//! Python requirements, installed with the machine's pip for Lambda's
//! platform (never the build machine's): manylinux2014 wheels for the
//! architecture, CPython of the runtime's version, binary wheels only.
//!
//! pip's own configuration (`PIP_INDEX_URL`, `PIP_FIND_LINKS`,
//! `PIP_NO_INDEX`, pip.conf, …) is left alone: it is how private indexes
//! and offline builds work.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DepsError, read, run};

/// The environment variable naming the Python to run pip with (default
/// `python3`).
pub const PYTHON_ENV: &str = "EVENTPIPE_PYTHON";

pub fn python() -> String {
    std::env::var(PYTHON_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// A requirements file and the target it is installed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirements {
    pub path: PathBuf,
    pub content: Vec<u8>,
    pub runtime: String,
    pub architecture: String,
}

/// `python3.12` → `3.12`.
pub fn python_version(runtime: &str) -> &str {
    runtime.strip_prefix("python").unwrap_or(runtime)
}

fn platform(architecture: &str) -> &'static str {
    if architecture == "arm64" {
        "manylinux2014_aarch64"
    } else {
        "manylinux2014_x86_64"
    }
}

impl Requirements {
    pub fn read(path: &Path, runtime: &str, architecture: &str) -> Result<Self, DepsError> {
        Ok(Requirements {
            path: path.to_owned(),
            content: read(path)?,
            runtime: runtime.to_owned(),
            architecture: architecture.to_owned(),
        })
    }

    /// pip's options, without the target directory and the file: what the
    /// cache key covers.
    pub fn options(&self) -> Vec<String> {
        [
            "install",
            "--platform",
            platform(&self.architecture),
            "--implementation",
            "cp",
            "--python-version",
            python_version(&self.runtime),
            "--only-binary=:all:",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
        ]
        .map(str::to_owned)
        .into()
    }

    pub fn install(&self, into: &Path) -> Result<(), DepsError> {
        // pip runs where the file is, so that relative paths in it (`-r
        // other.txt`, `./wheels/x.whl`) mean what they say; the paths given
        // to it are absolute.
        let file = std::path::absolute(&self.path)?;
        let into = std::path::absolute(into)?;
        let mut cmd = Command::new(python());
        cmd.args(["-m", "pip"])
            .args(self.options())
            .arg("--target")
            .arg(&into)
            .arg("-r")
            .arg(&file);
        if let Some(dir) = file.parent() {
            cmd.current_dir(dir);
        }
        run(&mut cmd, "pip install")
    }

    /// The requirements that are not pinned, as written.
    pub fn unpinned(&self) -> Vec<String> {
        unpinned(&String::from_utf8_lossy(&self.content))
    }

    pub fn unpinned_warning(&self) -> Option<String> {
        let loose = self.unpinned();
        (!loose.is_empty()).then(|| {
            format!(
                "{} names requirements without an exact version (`==`) or a `--hash`: {}. pip \
                 may then install different versions on different machines or days, and the \
                 plan does not show it. Pin them (e.g. with `pip freeze` or pip-compile).",
                self.path.display(),
                loose.join(", ")
            )
        })
    }
}

/// The requirement lines of a requirements file that pin nothing: no `==`
/// or `===`, no `--hash`, not a direct reference (`name @ url`) or a local
/// wheel. Options (`-r`, `--index-url`, …), comments and blank lines are
/// skipped; `\` continues a line.
pub fn unpinned(text: &str) -> Vec<String> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = match line.find(" #").or(line.starts_with('#').then_some(0)) {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim_end();
        if let Some(cont) = line.strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        logical.push(std::mem::take(&mut current));
    }
    logical.push(current);
    logical
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter(|l| {
            let spec = l.split(';').next().unwrap_or_default();
            !(spec.contains("==")
                || l.contains("--hash")
                || spec.contains(" @ ")
                || spec.contains("://")
                || spec.trim_end().ends_with(".whl"))
        })
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

/// Whether pip runs; the message says what to install when it does not.
pub fn pip_available() -> Result<(), String> {
    let py = python();
    let out = Command::new(&py)
        .args(["-m", "pip", "--version"])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => Err(format!(
            "`{py} -m pip` does not run: pip is not installed for {py}. Install it (e.g. \
             `apt-get install python3-pip`, or `{py} -m ensurepip`), or point {PYTHON_ENV} at a \
             Python that has pip."
        )),
        Err(e) => Err(format!(
            "cannot run {py} ({e}): installing requirements needs Python 3 with pip. Install \
             Python 3 and pip, or point {PYTHON_ENV} at a Python that has pip."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_and_unpinned_requirements() {
        let text = "\
# comment
six==1.16.0
requests>=2.0   # loose
numpy
--index-url https://example.invalid/simple
-r other.txt
pandas==2.2.2 ; python_version >= '3.9'
attrs \\
    --hash=sha256:abc
mylib @ https://example.invalid/mylib-1.0.tar.gz
./wheels/tiny-1.0-py3-none-any.whl
tokenizers~=0.15

";
        assert_eq!(
            unpinned(text),
            ["requests>=2.0", "numpy", "tokenizers~=0.15"]
        );
        assert!(unpinned("six==1.16.0\n").is_empty());
        assert!(unpinned("").is_empty());
    }

    #[test]
    fn the_target_comes_from_runtime_and_architecture() {
        let r = Requirements {
            path: "requirements.txt".into(),
            content: Vec::new(),
            runtime: "python3.12".into(),
            architecture: "arm64".into(),
        };
        let o = r.options().join(" ");
        assert!(o.contains("--platform manylinux2014_aarch64"), "{o}");
        assert!(o.contains("--python-version 3.12"), "{o}");
        assert!(o.contains("--implementation cp"), "{o}");
        assert!(o.contains("--only-binary=:all:"), "{o}");
        let x86 = Requirements {
            architecture: "x86_64".into(),
            ..r
        };
        assert!(x86.options().join(" ").contains("manylinux2014_x86_64"));
    }
}
