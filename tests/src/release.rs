//! Runs `make release` and `make mirror` the way a maintainer does, on the
//! debug binaries the suite has already built.
//!
//! `PROFILE=debug` is deliberate: a release build of the provider costs
//! ~7 minutes on 2 cores, and `make test` must not pay it. The packing,
//! hashing and layout are the same code whichever profile built the
//! binaries (only the packer, xtask, is built with `--release`, once).
//! `NO_BUILD=1` packs the binaries as the suite built them: a build from
//! here could relink the provider other end-to-end tests are running.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::tools;

/// `make release PROFILE=debug DIST=<dist>` with extra environment; returns
/// stdout and stderr together.
pub fn make_release(dist: &Path, envs: &[(&str, &Path)]) -> Result<String> {
    let mut cmd = make();
    cmd.arg("release")
        .arg("PROFILE=debug")
        .arg("NO_BUILD=1")
        .arg(format!("DIST={}", dist.display()))
        .env_remove("GPG_FINGERPRINT");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    run(cmd)
}

/// `make mirror PROFILE=debug DIST=<dist> DIR=<dir>`.
pub fn make_mirror(dist: &Path, dir: &Path) -> Result<String> {
    let mut cmd = make();
    cmd.arg("mirror")
        .arg("PROFILE=debug")
        .arg("NO_BUILD=1")
        .arg(format!("DIST={}", dist.display()))
        .arg(format!("DIR={}", dir.display()))
        .env_remove("GPG_FINGERPRINT");
    run(cmd)
}

/// `xtask ARGS` as the release workflow runs it
/// (`cargo run -q --release -p xtask -- ARGS` in the repository).
pub fn xtask(args: &[&str]) -> Result<String> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(tools::repo_root())
        .args(["run", "-q", "--release", "-p", "xtask", "--"])
        .args(args)
        .env_remove("GPG_FINGERPRINT");
    run(cmd)
}

/// The repository's `make`, quiet about directories.
fn make() -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(tools::repo_root())
        .arg("--no-print-directory");
    cmd
}

fn run(mut cmd: Command) -> Result<String> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("{cmd:?} failed ({}):\n{text}", output.status);
    }
    Ok(text)
}
