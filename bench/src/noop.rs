//! The do-nothing provider (`src/bin/terraform-provider-noop/`) as figure 12
//! uses it: its binary, built beside the bench's, installed from a
//! filesystem mirror as ours is (so `terraform init` records its hashes in
//! the lock file and every command checks them), and its configurations.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tests::ProviderMirror;

/// The provider's type in our namespace, `eventpipe/noop`.
pub const PROVIDER_TYPE: &str = "noop";
/// The version the mirror offers it as (the binary says the same).
pub const VERSION: &str = "1.0.0";
pub const BINARY_NAME: &str = "terraform-provider-noop";

/// `terraform-provider-noop` beside the running bench binary: `cargo build
/// -p bench` builds both into the same directory.
pub fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the bench binary")?;
    let bin = exe.with_file_name(BINARY_NAME);
    if !bin.is_file() {
        bail!(
            "the do-nothing provider {} is not built: `cargo build --release -p bench` \
             builds it beside the bench (make bench does)",
            bin.display()
        );
    }
    Ok(bin)
}

/// A mirror of the do-nothing provider inside `dir`.
pub fn mirror(dir: &Path) -> Result<ProviderMirror> {
    ProviderMirror::create_provider(dir, &binary()?, PROVIDER_TYPE, VERSION)
}

/// `count` `noop_thing` resources named `<prefix>-<i>`.
pub fn things_hcl(prefix: &str, count: usize) -> String {
    let mut hcl = format!(
        "terraform {{\n  required_providers {{\n    noop = {{\n      \
         source  = \"eventpipe/{PROVIDER_TYPE}\"\n      version = \"{VERSION}\"\n    }}\n  }}\n}}\n\n\
         provider \"noop\" {{}}\n"
    );
    for i in 0..count {
        let _ = write!(
            hcl,
            "\nresource \"noop_thing\" \"t{i}\" {{\n  name = \"{prefix}-{i}\"\n}}\n"
        );
    }
    hcl
}

#[cfg(test)]
mod things {
    use super::*;

    #[test]
    fn things_name_the_provider_and_one_block_each() {
        let hcl = things_hcl("fixed", 2);
        assert!(hcl.contains("source  = \"eventpipe/noop\""), "{hcl}");
        assert!(hcl.contains("version = \"1.0.0\""), "{hcl}");
        assert_eq!(hcl.matches("resource \"noop_thing\"").count(), 2, "{hcl}");
        assert!(hcl.contains("name = \"fixed-1\""), "{hcl}");
    }
}
