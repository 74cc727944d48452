//! Where the provider binary under test is.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::tools;

/// Overrides the binary's location.
pub const PROVIDER_BIN_ENV: &str = "EVENTPIPE_PROVIDER_BIN";

pub const BINARY_NAME: &str = "terraform-provider-eventpipe";

/// `EVENTPIPE_PROVIDER_BIN`, or the debug build in the target directory.
/// The tests never build it themselves: the Makefile does, before `cargo test`.
pub fn provider_binary() -> Result<PathBuf> {
    let path = match std::env::var_os(PROVIDER_BIN_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => tools::target_dir().join("debug").join(BINARY_NAME),
    };
    if !path.is_file() {
        bail!(
            "provider binary {} not found: run `cargo build -p {BINARY_NAME}` first \
             (or set {PROVIDER_BIN_ENV} to a built binary)",
            path.display()
        );
    }
    Ok(path)
}
