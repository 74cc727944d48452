//! A tiny Lambda-like base image, built by the test itself as an OCI image
//! layout: nothing comes from the network. One image index holds a
//! linux/amd64 and a linux/arm64 manifest; each has one layer with a Python
//! entry point laid out as in AWS's base images (`/lambda-entrypoint.sh`
//! and `/var/runtime/bootstrap.py`) and a config whose `Entrypoint`, `Env`
//! (`LAMBDA_TASK_ROOT=/var/task`) and `WorkingDir` match theirs. The layers
//! differ per platform (`/var/runtime/platform`), so each platform has its
//! own blobs, as AWS's do.
//!
//! The bootstrap is a small but working runtime: `python3 bootstrap.py
//! MODULE.FUNCTION` imports the handler from `$LAMBDA_TASK_ROOT`, calls it
//! with the JSON event read from stdin and prints the JSON result, so a test
//! can unpack an image into a directory and run its function there.
//!
//! Layers are written by GNU `tar` (sorted names, mtime 0, uid/gid 0) and
//! `gzip -n`, so the same call gives the same digests.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// What AWS's Python base images run, in the same places.
pub const ENTRYPOINT: &str = "#!/bin/sh\n\
# The entry point of the test base image: runs the handler given as the\n\
# first argument (the image's Cmd) with the bootstrap below.\n\
exec python3 \"${LAMBDA_RUNTIME_DIR:-/var/runtime}/bootstrap.py\" \"$@\"\n";

pub const BOOTSTRAP: &str = r#""""The test base image's runtime: MODULE.FUNCTION from $LAMBDA_TASK_ROOT,
called with the JSON event on stdin; the JSON result goes to stdout."""
import importlib
import json
import os
import sys


def main():
    if len(sys.argv) != 2 or "." not in sys.argv[1]:
        sys.exit("usage: bootstrap.py MODULE.FUNCTION < event.json")
    module_name, function_name = sys.argv[1].rsplit(".", 1)
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    handler = getattr(importlib.import_module(module_name), function_name)
    event = json.load(sys.stdin)
    json.dump(handler(event, None), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
"#;

/// One platform's image in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformImage {
    /// `amd64` or `arm64`.
    pub architecture: String,
    /// `sha256:<hex>` of its manifest.
    pub manifest_digest: String,
    pub config_digest: String,
    /// Compressed layer digests, in order.
    pub layer_digests: Vec<String>,
}

/// A base image written as an OCI layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The layout directory (`oci:<dir>:<tag>` for skopeo).
    pub dir: PathBuf,
    pub tag: String,
    /// `sha256:<hex>` of the image index.
    pub index_digest: String,
    pub platforms: Vec<PlatformImage>,
}

impl BaseImage {
    /// `oci:<dir>:<tag>`, the layout as skopeo names it.
    pub fn oci_reference(&self) -> String {
        format!("oci:{}:{}", self.dir.display(), self.tag)
    }

    /// Every blob digest (layers and configs) with its size, for checks.
    pub fn blobs(&self) -> Result<Vec<(String, u64)>> {
        let mut digests = Vec::new();
        for platform in &self.platforms {
            digests.extend(platform.layer_digests.iter().cloned());
            digests.push(platform.config_digest.clone());
        }
        digests
            .into_iter()
            .map(|digest| {
                let size = fs::metadata(blob_path(&self.dir, &digest))?.len();
                Ok((digest, size))
            })
            .collect()
    }

    pub fn platform(&self, architecture: &str) -> Option<&PlatformImage> {
        self.platforms
            .iter()
            .find(|platform| platform.architecture == architecture)
    }
}

/// The platforms the base image has, as (OCI architecture, variant).
pub const PLATFORMS: [(&str, Option<&str>); 2] = [("amd64", None), ("arm64", Some("v8"))];

/// Writes a two-platform base image as an OCI layout in `dir` (created if
/// needed), its index tagged `tag` (`org.opencontainers.image.ref.name`).
pub fn build(dir: &Path, tag: &str) -> Result<BaseImage> {
    fs::create_dir_all(dir.join("blobs/sha256"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let mut platforms = Vec::new();
    let mut descriptors = Vec::new();
    for (architecture, variant) in PLATFORMS {
        let (image, descriptor) = platform_image(dir, architecture, variant)?;
        platforms.push(image);
        descriptors.push(descriptor);
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": descriptors,
    });
    let (index_digest, index_size) = write_json_blob(dir, &index)?;
    let layout_index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_INDEX,
            "digest": index_digest,
            "size": index_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    fs::write(dir.join("index.json"), layout_index.to_string())?;
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(BaseImage {
        dir: dir.to_path_buf(),
        tag: tag.to_string(),
        index_digest,
        platforms,
    })
}

/// One platform's layer, config and manifest; returns its index descriptor.
fn platform_image(
    dir: &Path,
    architecture: &str,
    variant: Option<&str>,
) -> Result<(PlatformImage, Value)> {
    let rootfs = tempfile::tempdir().context("creating a rootfs directory")?;
    write_rootfs(rootfs.path(), architecture)?;
    let layer = layer_blob(dir, rootfs.path())?;
    let mut platform = json!({"architecture": architecture, "os": "linux"});
    if let Some(variant) = variant {
        platform["variant"] = json!(variant);
    }
    let mut config = json!({
        "architecture": architecture,
        "os": "linux",
        "config": {
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=en_US.UTF-8",
                "LAMBDA_TASK_ROOT=/var/task",
                "LAMBDA_RUNTIME_DIR=/var/runtime",
            ],
            "Entrypoint": ["/lambda-entrypoint.sh"],
            "WorkingDir": "/var/task",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created_by": "eventpipe tests: base image rootfs"}],
    });
    if let Some(variant) = variant {
        config["variant"] = json!(variant);
    }
    let (config_digest, config_size) = write_json_blob(dir, &config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer.digest, "size": layer.size}],
    });
    let (manifest_digest, manifest_size) = write_json_blob(dir, &manifest)?;
    let descriptor = json!({
        "mediaType": OCI_MANIFEST,
        "digest": manifest_digest,
        "size": manifest_size,
        "platform": platform,
    });
    let image = PlatformImage {
        architecture: architecture.to_string(),
        manifest_digest,
        config_digest,
        layer_digests: vec![layer.digest],
    };
    Ok((image, descriptor))
}

fn write_rootfs(root: &Path, architecture: &str) -> Result<()> {
    let runtime = root.join("var/runtime");
    fs::create_dir_all(&runtime)?;
    fs::create_dir_all(root.join("var/task"))?;
    let entrypoint = root.join("lambda-entrypoint.sh");
    fs::write(&entrypoint, ENTRYPOINT)?;
    fs::set_permissions(&entrypoint, fs::Permissions::from_mode(0o755))?;
    fs::write(runtime.join("bootstrap.py"), BOOTSTRAP)?;
    fs::write(runtime.join("platform"), format!("linux/{architecture}\n"))?;
    Ok(())
}

struct Layer {
    digest: String,
    diff_id: String,
    size: u64,
}

/// Tars `rootfs` deterministically, gzips it without a name or time in the
/// header and stores the result as a blob.
fn layer_blob(dir: &Path, rootfs: &Path) -> Result<Layer> {
    let tar = run(Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--format=gnu",
            "-C",
        ])
        .arg(rootfs)
        .args(["-cf", "-", "."]))?;
    let tar_file = tempfile::NamedTempFile::new()?;
    fs::write(tar_file.path(), &tar)?;
    let gzip = run(Command::new("gzip")
        .args(["-n", "-9", "-c"])
        .arg(tar_file.path()))?;
    let digest = write_blob(dir, &gzip)?;
    Ok(Layer {
        digest,
        diff_id: sha256_digest(&tar),
        size: gzip.len() as u64,
    })
}

fn run(cmd: &mut Command) -> Result<Vec<u8>> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !output.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output.stdout)
}

/// Stores `value` as a JSON blob; returns its digest and size.
fn write_json_blob(dir: &Path, value: &Value) -> Result<(String, u64)> {
    let bytes = serde_json::to_vec(value)?;
    Ok((write_blob(dir, &bytes)?, bytes.len() as u64))
}

fn write_blob(dir: &Path, bytes: &[u8]) -> Result<String> {
    let digest = sha256_digest(bytes);
    let path = blob_path(dir, &digest);
    fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(digest)
}

/// `blobs/sha256/<hex>` in the layout.
pub fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    dir.join("blobs/sha256").join(hex)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_call_gives_the_same_digests() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let a = build(first.path(), "3.13").unwrap();
        let b = build(second.path(), "3.13").unwrap();
        assert_eq!(a.index_digest, b.index_digest);
        assert_eq!(a.platforms, b.platforms);
        assert_ne!(
            a.platform("amd64").unwrap().layer_digests,
            a.platform("arm64").unwrap().layer_digests,
            "each platform has its own layer"
        );
    }

    #[test]
    fn every_blob_is_stored_under_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let image = build(dir.path(), "3.13").unwrap();
        let mut digests = vec![image.index_digest.clone()];
        for platform in &image.platforms {
            digests.push(platform.manifest_digest.clone());
        }
        digests.extend(image.blobs().unwrap().into_iter().map(|(digest, _)| digest));
        for digest in digests {
            let bytes = fs::read(blob_path(dir.path(), &digest)).unwrap();
            assert_eq!(sha256_digest(&bytes), digest);
        }
        let layout: Value =
            serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(layout["manifests"][0]["digest"], json!(image.index_digest));
        assert_eq!(
            layout["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "3.13"
        );
    }
}
