//! `skopeo`, the independent registry client (installed by `make tools`):
//! pushes test images and reads back what a registry holds. It talks plain
//! HTTP to a loopback registry (`--tls-verify=false`), or verifies TLS
//! against the test CA in a certificate directory ([`Skopeo::trusting`]).
//! Every call uses its own signature policy that accepts any image, so the
//! machine's `/etc/containers/policy.json` plays no part.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tempfile::NamedTempFile;

use crate::tools;

/// A configured `skopeo`.
pub struct Skopeo {
    program: PathBuf,
    policy: NamedTempFile,
    /// With TLS: the directory holding the CA (`ca.crt`).
    cert_dir: Option<PathBuf>,
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
        Ok(Skopeo {
            program,
            policy,
            cert_dir: None,
        })
    }

    /// A skopeo that verifies registries over TLS against the authorities
    /// in `cert_dir` (`*.crt`, e.g. [`crate::Registry::cert_dir`]).
    pub fn trusting(cert_dir: &Path) -> Result<Skopeo> {
        let mut skopeo = Skopeo::new()?;
        skopeo.cert_dir = Some(cert_dir.to_path_buf());
        Ok(skopeo)
    }

    /// `skopeo copy --all SOURCE DEST`, e.g. from `oci:DIR:TAG` to
    /// `docker://127.0.0.1:PORT/REPO:TAG`: every platform of an index.
    pub fn copy_all(&self, source: &str, dest: &str) -> Result<String> {
        let mut args = vec!["copy".to_string(), "--all".to_string()];
        args.extend(self.tls_args("--src-"));
        args.extend(self.tls_args("--dest-"));
        args.extend([source.to_string(), dest.to_string()]);
        self.run(&args)
    }

    /// `skopeo inspect --raw REF`: the manifest or index exactly as stored.
    pub fn inspect_raw(&self, reference: &str) -> Result<Value> {
        let mut args = vec!["inspect".to_string(), "--raw".to_string()];
        args.extend(self.tls_args("--"));
        args.push(reference.to_string());
        let raw = self.run(&args)?;
        serde_json::from_str(&raw)
            .with_context(|| format!("parsing the raw manifest of {reference}"))
    }

    /// `--tls-verify=false`, or `--tls-verify=true --cert-dir DIR`, with
    /// `prefix` (`--`, `--src-` or `--dest-`).
    fn tls_args(&self, prefix: &str) -> Vec<String> {
        match &self.cert_dir {
            None => vec![format!("{prefix}tls-verify=false")],
            Some(dir) => vec![
                format!("{prefix}tls-verify=true"),
                format!("{prefix}cert-dir={}", dir.display()),
            ],
        }
    }

    fn run(&self, args: &[String]) -> Result<String> {
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
