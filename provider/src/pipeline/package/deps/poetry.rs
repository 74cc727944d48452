//! Poetry projects: the pinned requirements of a `poetry.lock`, from
//! `poetry export` when Poetry and its export plugin are installed, else
//! read from the lock here. Either way the lock is never re-resolved: every
//! package is pinned to its locked version (or its locked file, URL or
//! commit) with the lock's hashes.

use std::path::Path;
use std::process::Command;

use toml_edit::{Document, Item, Value};

use super::{DepsError, run};

/// The lock file's name.
pub const LOCK: &str = "poetry.lock";

/// `poetry export`'s arguments: the main group (what `--no-dev` was),
/// as requirements with hashes.
pub const EXPORT_ARGS: [&str; 5] = [
    "export",
    "--format",
    "requirements.txt",
    "--no-interaction",
    "--no-ansi",
];

/// The command that runs Poetry (`poetry` on PATH).
pub fn poetry() -> Command {
    Command::new("poetry")
}

/// Whether `poetry export` runs here (Poetry with poetry-plugin-export).
pub fn export_available() -> bool {
    poetry()
        .args(["export", "--help", "--no-ansi"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether Poetry itself runs here.
pub fn available() -> bool {
    poetry()
        .args(["--version", "--no-ansi"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `poetry export` of the project in `dir` into `out`.
pub fn export(dir: &Path, out: &Path) -> Result<(), DepsError> {
    let mut cmd = poetry();
    cmd.args(EXPORT_ARGS)
        .arg("--output")
        .arg(out)
        .current_dir(dir);
    run(&mut cmd, "poetry export")
}

/// `poetry check --lock` in `dir`: `Err` with Poetry's words when the lock
/// is out of date with `pyproject.toml`.
pub fn check_lock(dir: &Path) -> Result<(), String> {
    let mut cmd = poetry();
    cmd.args(["check", "--lock", "--no-interaction", "--no-ansi"])
        .current_dir(dir);
    run(&mut cmd, "poetry check --lock").map_err(|e| e.to_string())
}

/// The requirements (pip's format, one line each, with `--hash` options)
/// of the main group of the lock `text`, whose relative paths are relative
/// to `dir`. Packages only an extra asks for are left out.
pub fn requirements(text: &str, dir: &Path) -> Result<String, String> {
    let doc = Document::parse(text).map_err(|e| format!("poetry.lock is not valid TOML: {e}"))?;
    let Some(packages) = doc.get("package").and_then(Item::as_array_of_tables) else {
        return Ok(String::new());
    };
    let mut indexes: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for p in packages {
        let s = |k: &str| p.get(k).and_then(Item::as_str);
        let name = s("name"); // the lock's key
        let (Some(name), Some(version)) = (name, s("version")) else {
            return Err("poetry.lock has a package without a name or version".into());
        };
        if p.get("optional").and_then(Item::as_bool) == Some(true) {
            continue;
        }
        // Poetry 2 names each package's groups; older locks say `category`.
        if let Some(groups) = p.get("groups").and_then(Item::as_array) {
            if !groups.iter().any(|g| g.as_str() == Some("main")) {
                continue;
            }
        } else if s("category").is_some_and(|c| c != "main") {
            continue;
        }
        let source = p.get("source");
        let src = |k: &str| source.and_then(|t| t.get(k)).and_then(Item::as_str);
        let mut line = match (src("type"), src("url")) {
            (Some("file" | "directory"), Some(url)) => {
                let path = std::path::absolute(dir.join(url)).map_err(|e| e.to_string())?;
                format!("{name} @ file://{}", path.display())
            }
            (Some("url"), Some(url)) => format!("{name} @ {url}"),
            (Some("git"), Some(url)) => {
                let rev = src("resolved_reference")
                    .or(src("reference"))
                    .unwrap_or("HEAD");
                format!("{name} @ git+{url}@{rev}")
            }
            (Some("legacy"), Some(url)) => {
                if !indexes.iter().any(|i| i == url) {
                    indexes.push(url.to_owned());
                }
                format!("{name}=={version}")
            }
            _ => format!("{name}=={version}"),
        };
        if let Some(m) = s("markers") {
            line.push_str(&format!(" ; {m}"));
        }
        let hashes = p
            .get("files")
            .and_then(Item::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_inline_table)
            .filter_map(|f| f.get("hash").and_then(Value::as_str));
        for h in hashes {
            line.push_str(&format!(" --hash={h}"));
        }
        lines.push(line);
    }
    let mut out: Vec<String> = indexes
        .into_iter()
        .map(|i| format!("--extra-index-url {i}"))
        .collect();
    out.extend(lines);
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK_TEXT: &str = r#"
# This file is automatically @generated by Poetry 2.5.1 and should not be changed by hand.

[[package]]
name = "tinylib"
version = "1.0.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [
    {file = "tinylib-1.0.0-py3-none-any.whl", hash = "sha256:abc"},
]

[package.source]
type = "file"
url = "wheels/tinylib-1.0.0-py3-none-any.whl"

[[package]]
name = "six"
version = "1.17.0"
optional = false
python-versions = "*"
groups = ["main"]
markers = "python_version >= \"3.9\""
files = [
    {file = "six-1.17.0-py2.py3-none-any.whl", hash = "sha256:def"},
    {file = "six-1.17.0.tar.gz", hash = "sha256:ghi"},
]

[package.source]
type = "legacy"
url = "https://pypi.example.invalid/simple"
reference = "private"

[[package]]
name = "pytest"
version = "8.0.0"
optional = false
python-versions = "*"
groups = ["dev"]
files = []

[[package]]
name = "extra-only"
version = "1.0"
optional = true
python-versions = "*"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
python-versions = ">=3.12"
content-hash = "0"
"#;

    #[test]
    fn the_main_group_is_pinned_with_its_hashes() {
        let r = requirements(LOCK_TEXT, Path::new("/proj")).unwrap();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(
            lines,
            [
                "--extra-index-url https://pypi.example.invalid/simple",
                "tinylib @ file:///proj/wheels/tinylib-1.0.0-py3-none-any.whl --hash=sha256:abc",
                "six==1.17.0 ; python_version >= \"3.9\" --hash=sha256:def --hash=sha256:ghi",
            ]
        );
        assert_eq!(requirements("", Path::new("/")).unwrap(), "");
        assert!(requirements("[[package]]\nname = 1\n", Path::new("/")).is_err());
    }
}
