//! The user's `uv`: what it is asked to do and for which platform.
//!
//! Installs run `uv pip install --target` with the runtime's Python
//! version and Lambda's platform given explicitly (`--python-version`,
//! `--python-platform <arch>-manylinux_2_<glibc>`), binary wheels only, no
//! dependency resolution (`--no-deps`: the lock already names every
//! package): no interpreter of the runtime's version is needed on the
//! build machine. uv's own configuration (`UV_INDEX_URL`, `UV_FIND_LINKS`,
//! `UV_OFFLINE`, `uv.toml`, `[tool.uv]` in `pyproject.toml`) is honoured,
//! never overridden.

use std::path::Path;
use std::process::Command;

use super::{DepsError, run};
use crate::pipeline::runtimes;

/// The lock file's name.
pub const LOCK: &str = "uv.lock";

/// `uv export`'s arguments: the locked packages of the default groups
/// without the development ones and without the project itself, as
/// requirements with hashes, from the lock as it is (`--frozen`: never
/// re-locked).
pub const EXPORT_ARGS: [&str; 7] = [
    "export",
    "--frozen",
    "--no-dev",
    "--no-emit-project",
    "--no-header",
    "--no-annotate",
    "--quiet",
];

/// The command that runs uv (`uv` on PATH).
pub fn uv() -> Command {
    Command::new("uv")
}

/// Whether uv runs here.
pub fn available() -> bool {
    uv().arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What to install when uv is missing.
pub fn missing(what: &str) -> String {
    format!(
        "{what} needs uv, and `uv` is not on PATH. Install uv \
         (https://docs.astral.sh/uv/getting-started/installation/, e.g. `pipx install uv` or \
         `curl -LsSf https://astral.sh/uv/install.sh | sh`) where Terraform runs."
    )
}

/// uv's `--python-platform` for Lambda's `runtime` on `architecture`: the
/// manylinux of the runtime's glibc (2.34 on Amazon Linux 2023); for Amazon
/// Linux 2 (glibc 2.26, which uv has no name for) the next lower one uv
/// knows, 2.17, so no wheel needing a newer glibc is chosen.
pub fn python_platform(runtime: &str, architecture: &str) -> String {
    let arch = if architecture == "arm64" {
        "aarch64"
    } else {
        "x86_64"
    };
    let (_, minor) = runtimes::python_os(runtime)
        .unwrap_or(runtimes::AMAZON_LINUX_2023)
        .glibc;
    let minor = if minor >= 34 { 34 } else { 17 };
    format!("{arch}-manylinux_2_{minor}")
}

/// The options of `uv pip install` for `runtime` on `architecture`,
/// without the target and the requirements: what the cache key covers.
pub fn install_options(runtime: &str, architecture: &str) -> Vec<String> {
    [
        "pip",
        "install",
        "--python-platform",
        &python_platform(runtime, architecture),
        "--python-version",
        super::python::python_version(runtime),
        "--only-binary",
        ":all:",
        "--no-deps",
        "--no-compile",
        "--quiet",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `uv export` of the project in `dir` into `out`.
pub fn export(dir: &Path, out: &Path) -> Result<(), DepsError> {
    let mut cmd = uv();
    cmd.args(EXPORT_ARGS)
        .arg("--output-file")
        .arg(out)
        .current_dir(dir);
    run(&mut cmd, "uv export")
}

/// `uv pip install` of `requirements` (a requirements file or a
/// `pylock.toml`) into `into`, run in `cwd` (the project's directory, which
/// relative paths in the requirements are relative to).
pub fn install(
    options: &[String],
    requirements: &Path,
    into: &Path,
    cwd: &Path,
) -> Result<(), DepsError> {
    let mut cmd = uv();
    cmd.args(options)
        .arg("--target")
        .arg(into)
        .arg("-r")
        .arg(requirements)
        .current_dir(cwd);
    run(&mut cmd, "uv pip install")
}

/// `uv pip install` of the project in `dir` alone (built with its build
/// backend, which uv installs from the user's index configuration) into
/// `into`.
pub fn install_project(
    runtime: &str,
    architecture: &str,
    dir: &Path,
    into: &Path,
) -> Result<(), DepsError> {
    let mut cmd = uv();
    cmd.args([
        "pip",
        "install",
        "--python-platform",
        &python_platform(runtime, architecture),
        "--python-version",
        super::python::python_version(runtime),
        "--no-deps",
        "--no-compile",
        "--quiet",
        "--target",
    ])
    .arg(into)
    .arg(dir)
    .current_dir(dir);
    run(&mut cmd, "uv pip install (the project's own package)")
}

/// `uv lock --check` in `dir`: `Err` with uv's words when `uv.lock` is out
/// of date with `pyproject.toml`.
pub fn check_lock(dir: &Path) -> Result<(), String> {
    let mut cmd = uv();
    cmd.args(["lock", "--check", "--quiet"]).current_dir(dir);
    run(&mut cmd, "uv lock --check").map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_follows_the_runtime_os_and_architecture() {
        assert_eq!(
            python_platform("python3.12", "x86_64"),
            "x86_64-manylinux_2_34"
        );
        assert_eq!(
            python_platform("python3.13", "arm64"),
            "aarch64-manylinux_2_34"
        );
        assert_eq!(
            python_platform("python3.11", "x86_64"),
            "x86_64-manylinux_2_17"
        );
        let o = install_options("python3.12", "arm64").join(" ");
        assert!(
            o.contains("--python-platform aarch64-manylinux_2_34"),
            "{o}"
        );
        assert!(o.contains("--python-version 3.12"), "{o}");
        assert!(o.contains("--no-deps"), "{o}");
    }
}
