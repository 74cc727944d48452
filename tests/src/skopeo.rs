//! `skopeo`, the independent registry client (installed by `make tools`):
//! pushes test images and reads back what a registry holds. Every call talks
//! plain HTTP to loopback registries (`--tls-verify=false`) and uses its own
//! signature policy that accepts any image, so the machine's
//! `/etc/containers/policy.json` plays no part.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tempfile::NamedTempFile;

use crate::tools;

/// A configured `skopeo`.
pub struct Skopeo {
    program: PathBuf,
    policy: NamedTempFile,
}

impl Skopeo {
    /// Fails with a pointer to `make tools` when skopeo is not installed.
    pub fn new() -> Result<Skopeo> {
        let program = tools::system_tool("skopeo")?;
        let policy = NamedTempFile::with_prefix("skopeo-policy-")?;
        std::fs::write(
            policy.path(),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )?;
        Ok(Skopeo { program, policy })
    }

    /// `skopeo copy --all SOURCE DEST`, e.g. from `oci:DIR:TAG` to
    /// `docker://127.0.0.1:PORT/REPO:TAG`: every platform of an index.
    pub fn copy_all(&self, source: &str, dest: &str) -> Result<String> {
        self.run(&[
            "copy",
            "--all",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            source,
            dest,
        ])
    }

    /// `skopeo inspect --raw REF`: the manifest or index exactly as stored.
    pub fn inspect_raw(&self, reference: &str) -> Result<Value> {
        let raw = self.run(&["inspect", "--raw", "--tls-verify=false", reference])?;
        serde_json::from_str(&raw)
            .with_context(|| format!("parsing the raw manifest of {reference}"))
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(&self.program)
            .arg("--policy")
            .arg(self.policy.path())
            .args(args)
            .output()
            .with_context(|| format!("running skopeo {}", args.join(" ")))?;
        if !output.status.success() {
            bail!(
                "skopeo {} failed ({}):\n{}{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}
