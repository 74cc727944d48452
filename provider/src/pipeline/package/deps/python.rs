//! Python requirements, installed with the machine's pip for Lambda's
//! platform (never the build machine's): the manylinux wheels the
//! runtime's OS can load for the architecture (every `manylinux_2_N` from
//! its glibc down to `manylinux_2_17`/`manylinux2014`, newest first, see
//! [`platforms`]), CPython of the runtime's version, binary wheels only.
//!
//! pip's own configuration (`PIP_INDEX_URL`, `PIP_FIND_LINKS`,
//! `PIP_NO_INDEX`, pip.conf, …) is left alone: it is how private indexes
//! and offline builds work.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DepsError, read, run};
use crate::pipeline::runtimes::{self, Os};

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

/// The wheel architecture of a Lambda `architecture`.
fn wheel_arch(architecture: &str) -> &'static str {
    if architecture == "arm64" {
        "aarch64"
    } else {
        "x86_64"
    }
}

/// The OS whose glibc the runtime's wheels must load on: the runtime's,
/// or Amazon Linux 2023's for a runtime the table does not know.
fn os(runtime: &str) -> Os {
    runtimes::python_os(runtime).unwrap_or(runtimes::AMAZON_LINUX_2023)
}

/// pip's `--platform` values for `runtime` on `architecture`, most
/// preferred first: `manylinux_2_<glibc>` down to `manylinux_2_17`, then
/// `manylinux2014` (the same platform under its older name, which also
/// brings in `manylinux2010`/`manylinux1` for x86_64). pip prefers a
/// wheel for an earlier platform in this list, and refuses a wheel for a
/// newer glibc than the OS has.
pub fn platforms(runtime: &str, architecture: &str) -> Vec<String> {
    let arch = wheel_arch(architecture);
    let (major, minor) = os(runtime).glibc;
    let mut out: Vec<String> = (17..=minor)
        .rev()
        .map(|m| format!("manylinux_{major}_{m}_{arch}"))
        .collect();
    out.push(format!("manylinux2014_{arch}"));
    out
}

/// What a user reads when no wheel fits: the runtime's OS and the tags.
pub fn platform_summary(runtime: &str, architecture: &str) -> String {
    let os = os(runtime);
    let tags = platforms(runtime, architecture);
    format!(
        "{runtime} on {architecture} runs on {} (glibc {}.{}), which loads wheels tagged {} down \
         to {}",
        os.name,
        os.glibc.0,
        os.glibc.1,
        tags.first().map_or("", String::as_str),
        tags.last().map_or("", String::as_str),
    )
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
        let mut o = vec!["install".to_owned()];
        for p in platforms(&self.runtime, &self.architecture) {
            o.push("--platform".to_owned());
            o.push(p);
        }
        o.extend(
            [
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
            .map(str::to_owned),
        );
        o
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
        run(&mut cmd, "pip install").map_err(|e| match e {
            DepsError::Installer(text) => {
                DepsError::Installer(explain_no_wheel(&text, &self.runtime, &self.architecture))
            }
            e => e,
        })
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

/// pip's failure `text`, with, when pip found no wheel for a requirement,
/// which requirements and why: the platform the runtime loads and what to
/// do.
fn explain_no_wheel(text: &str, runtime: &str, architecture: &str) -> String {
    const MARK: &str = "No matching distribution found for ";
    let missing: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(MARK).map(|(_, r)| r.trim()))
        .collect();
    if missing.is_empty() {
        return text.to_owned();
    }
    format!(
        "{text}\nNo wheel of {} fits Lambda's platform: {}, for CPython {}. A wheel built for \
         a newer glibc (a higher manylinux_2_N) does not load there: pin a version that \
         publishes a wheel for this platform, or use a runtime on a newer OS (python3.12 and \
         later run on Amazon Linux 2023, glibc 2.34).",
        missing.join(", "),
        platform_summary(runtime, architecture),
        python_version(runtime),
    )
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
        assert!(
            o.starts_with(
                "install --platform manylinux_2_34_aarch64 --platform manylinux_2_33_aarch64"
            ),
            "{o}"
        );
        assert!(o.contains("--platform manylinux2014_aarch64"), "{o}");
        assert!(o.contains("--python-version 3.12"), "{o}");
        assert!(o.contains("--implementation cp"), "{o}");
        assert!(o.contains("--only-binary=:all:"), "{o}");
        let x86 = Requirements {
            architecture: "x86_64".into(),
            ..r
        };
        assert!(x86.options().join(" ").contains("manylinux2014_x86_64"));
        assert!(!x86.options().join(" ").contains("aarch64"));
    }

    fn tags(runtime: &str, architecture: &str) -> Vec<String> {
        platforms(runtime, architecture)
    }

    #[test]
    fn amazon_linux_2023_runtimes_take_manylinux_2_34_down_to_2014() {
        for rt in ["python3.12", "python3.13", "python3.14"] {
            for (arch, wheel) in [("x86_64", "x86_64"), ("arm64", "aarch64")] {
                let t = tags(rt, arch);
                let want: Vec<String> = (17..=34)
                    .rev()
                    .map(|m| format!("manylinux_2_{m}_{wheel}"))
                    .chain([format!("manylinux2014_{wheel}")])
                    .collect();
                assert_eq!(t, want, "{rt} {arch}");
                assert!(t.contains(&format!("manylinux_2_28_{wheel}")));
            }
        }
    }

    #[test]
    fn amazon_linux_2_runtimes_stop_at_glibc_2_26() {
        for rt in ["python3.9", "python3.10", "python3.11"] {
            for (arch, wheel) in [("x86_64", "x86_64"), ("arm64", "aarch64")] {
                let t = tags(rt, arch);
                assert_eq!(t.first().unwrap(), &format!("manylinux_2_26_{wheel}"));
                assert_eq!(t.last().unwrap(), &format!("manylinux2014_{wheel}"));
                assert_eq!(t.len(), 26 - 17 + 1 + 1, "{rt} {arch}: {t:?}");
                assert!(!t.contains(&format!("manylinux_2_27_{wheel}")), "{t:?}");
                assert!(!t.contains(&format!("manylinux_2_28_{wheel}")), "{t:?}");
            }
        }
    }

    #[test]
    fn each_tag_is_one_platform_flag_in_order() {
        let r = Requirements {
            path: "requirements.txt".into(),
            content: Vec::new(),
            runtime: "python3.11".into(),
            architecture: "x86_64".into(),
        };
        let o = r.options();
        let flags: Vec<&str> = o
            .windows(2)
            .filter(|w| w[0] == "--platform")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(flags, tags("python3.11", "x86_64"));
        assert!(o.contains(&"--python-version".to_owned()));
        assert!(o.contains(&"3.11".to_owned()));
    }

    #[test]
    fn a_missing_wheel_names_the_requirement_and_the_platform() {
        let pip = "pip install failed (exit status: 1):\nERROR: Could not find a version that \
                   satisfies the requirement fatlib==1.0 (from versions: none)\nERROR: No \
                   matching distribution found for fatlib==1.0";
        let m = explain_no_wheel(pip, "python3.11", "x86_64");
        assert!(m.starts_with(pip), "{m}");
        assert!(m.contains("No wheel of fatlib==1.0 fits"), "{m}");
        assert!(m.contains("Amazon Linux 2 (glibc 2.26)"), "{m}");
        assert!(
            m.contains("manylinux_2_26_x86_64 down to manylinux2014_x86_64"),
            "{m}"
        );
        assert!(m.contains("CPython 3.11"), "{m}");
        // Other failures are left as pip said them.
        assert_eq!(explain_no_wheel("boom", "python3.11", "x86_64"), "boom");
    }
}
