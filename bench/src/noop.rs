//! The do-nothing provider (`src/bin/terraform-provider-noop/`) as figure 12
//! uses it: its binary, built beside the bench's, installed from a
//! filesystem mirror as ours is (so `terraform init` records its hashes in
//! the lock file and every command checks them), a copy padded to another
//! size, and its configurations.

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

/// A mirror of the do-nothing provider whose binary is padded at its end to
/// `size` bytes, so that Terraform's check of the package against the lock
/// file reads as much as it reads of a provider of that size. The loader
/// maps only the ELF's segments, so the padding changes nothing else: it
/// isolates what a binary's size alone costs every command. The padding is
/// written, not a hole, so reading it costs what reading a file costs.
pub fn padded_mirror(dir: &Path, size: u64) -> Result<ProviderMirror> {
    let padded = dir.join(format!("{BINARY_NAME}-padded"));
    let mut bytes = std::fs::read(binary()?).context("reading the do-nothing provider")?;
    pad(&mut bytes, size);
    std::fs::write(&padded, &bytes).with_context(|| format!("writing {}", padded.display()))?;
    let mut perms = std::fs::metadata(&padded)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&padded, perms)?;
    let sub = dir.join("padded");
    std::fs::create_dir_all(&sub)?;
    ProviderMirror::create_provider(&sub, &padded, PROVIDER_TYPE, VERSION)
}

/// Grows `bytes` to `size` with a repeating non-zero pattern (never shrinks).
fn pad(bytes: &mut Vec<u8>, size: u64) {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut next = 0x2545_f491u32;
    while bytes.len() < size {
        next ^= next << 13;
        next ^= next >> 17;
        next ^= next << 5;
        bytes.push(next as u8);
    }
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

/// `count` `noop_pipeline` resources: figure 12's pipelines (the same
/// bodies as [`crate::tf::pipelines_hcl`]) under the do-nothing provider.
pub fn pipelines_hcl(prefix: &str, count: usize, source_dir: &Path) -> String {
    let ours = crate::tf::pipelines_hcl(prefix, count, source_dir);
    let bodies = ours
        .find("\nresource ")
        .map_or("", |at| &ours[at..])
        .replace(
            "resource \"eventpipe_event_pipeline\"",
            "resource \"noop_pipeline\"",
        );
    let mut hcl = things_hcl(prefix, 0);
    hcl.push_str(&bodies);
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

    #[test]
    fn pipelines_are_the_benchs_bodies_under_the_do_nothing_provider() {
        let hcl = pipelines_hcl("fixed", 2, Path::new("/src"));
        assert!(hcl.contains("source  = \"eventpipe/noop\""), "{hcl}");
        assert!(!hcl.contains("eventpipe_event_pipeline"), "{hcl}");
        assert!(!hcl.contains("provider \"eventpipe\""), "{hcl}");
        assert_eq!(
            hcl.matches("resource \"noop_pipeline\"").count(),
            2,
            "{hcl}"
        );
        let ours = crate::tf::pipelines_hcl("fixed", 2, Path::new("/src"));
        let body = |h: &str| h[h.find("\nresource ").expect("a resource")..].to_owned();
        assert_eq!(
            body(&hcl).replace("noop_pipeline", "eventpipe_event_pipeline"),
            body(&ours)
        );
    }

    #[test]
    fn padding_grows_to_the_size_and_keeps_the_start() {
        let mut bytes = b"\x7fELF".to_vec();
        pad(&mut bytes, 4096);
        assert_eq!(bytes.len(), 4096);
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert!(
            bytes[4..].iter().filter(|b| **b == 0).count() < 64,
            "not a run of zeros"
        );
        let mut long = vec![1u8; 10];
        pad(&mut long, 4);
        assert_eq!(long.len(), 10, "never shrinks");
    }
}
