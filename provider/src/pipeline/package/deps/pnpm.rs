//! pnpm: a `pnpm-lock.yaml` installed with `pnpm install --frozen-lockfile
//! --prod` in a temporary copy of the project, with the hoisted linker
//! (a flat `node_modules` of real directories, as npm makes, which Lambda
//! loads without pnpm's symbolic links), and pnpm's `--os`, `--cpu` and
//! `--libc` (its `supportedArchitectures`) set to Lambda's, so optional
//! native dependencies are the ones Lambda can load.
//!
//! pnpm's own configuration is honoured: `.npmrc` in the source directory
//! (linked into the copy), the user's `~/.npmrc`, `npm_config_*`, and
//! `pnpm-workspace.yaml` settings. The options below override theirs. The
//! store (pnpm's download cache) is `pnpm-store/` in the eventpipe cache,
//! else a temporary directory. The pnpm on PATH runs: a `packageManager`
//! pin in package.json never makes it download another pnpm (its version
//! is not part of the hash, as no installer's is).

use std::path::Path;
use std::process::Command;

use super::DepsError;
use super::node::{Lock, cpu, keep_node_modules, runs};
use crate::pipeline::package::cache::Cache;

/// What pnpm leaves in `node_modules` for itself: its state, with times
/// and this machine's store path, and the hoisted linker's lock copy.
const BOOKKEEPING: &[&str] = &[
    ".modules.yaml",
    ".pnpm-workspace-state-v1.json",
    ".pnpm-workspace-state.json",
    ".pnpm",
];

fn pnpm() -> &'static str {
    if cfg!(windows) { "pnpm.cmd" } else { "pnpm" }
}

/// pnpm's options: what the cache key covers.
pub fn options(architecture: &str) -> Vec<String> {
    [
        "install",
        "--frozen-lockfile",
        "--prod",
        "--config.node-linker=hoisted",
        "--os=linux",
        &format!("--cpu={}", cpu(architecture)),
        "--libc=glibc",
        "--config.confirm-modules-purge=false",
        "--config.manage-package-manager-versions=false",
        "--reporter=append-only",
    ]
    .map(str::to_owned)
    .into()
}

pub fn install(lock: &Lock, into: &Path) -> Result<(), DepsError> {
    let into = &std::path::absolute(into)?;
    let work = lock.work_copy(into, ".pnpm-work", &[])?;
    let store = match Cache::from_env() {
        Some(c) => c.tool_dir("pnpm-store"),
        None => into.join(".pnpm-store"),
    };
    let mut cmd = Command::new(pnpm());
    cmd.args(lock.options())
        .arg("--store-dir")
        .arg(&store)
        .current_dir(&work);
    let result = super::run(&mut cmd, "pnpm install --frozen-lockfile");
    let kept = keep_node_modules(result, &work, into, BOOKKEEPING);
    if store.starts_with(into) {
        let _ = std::fs::remove_dir_all(&store);
    }
    kept
}

/// Whether pnpm runs; the message says what to install when it does not.
pub fn available() -> Result<(), String> {
    if runs(pnpm()) {
        return Ok(());
    }
    Err(
        "source_dir has a pnpm-lock.yaml, and `pnpm --version` does not run: pnpm is not on \
         the PATH the provider runs with. Install pnpm (`npm install --global pnpm@10`, or \
         `corepack enable pnpm`) where Terraform runs, or commit a package-lock.json instead."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_target_lambda_and_keep_the_lock() {
        let o = options("arm64");
        for want in [
            "--frozen-lockfile",
            "--prod",
            "--config.node-linker=hoisted",
            "--os=linux",
            "--cpu=arm64",
            "--libc=glibc",
        ] {
            assert!(o.contains(&want.to_owned()), "{want} in {o:?}");
        }
        assert!(options("x86_64").contains(&"--cpu=x64".to_owned()));
        // No path of this machine: the key is the same everywhere.
        assert!(o.iter().all(|a| !a.contains('/')), "{o:?}");
    }
}
