//! The function as a container image, built with no daemon, as ko and jib
//! build them: a base image (by digest), then deterministic layers
//! appended to it.
//!
//! - `layer.rs`: one layer, a sorted tar with fixed times, owners and
//!   modes, gzip'd with no time or name, streamed to a file while both
//!   digests are computed; `pgzip.rs` gzips it on every core, pigz's way,
//!   with bytes that do not depend on the number of threads.
//! - `compose.rs`: the config (the base's, with the `diff_id`s, history and
//!   `Cmd = [handler]`) and the manifest (the base's layers, then ours).
//! - `base.rs`: the base image, resolved for one architecture, and where
//!   its blobs come from (`BlobSource`: a local OCI layout, or the cache a
//!   registry's blobs are pulled into by `crate::registry`).
//! - `layout.rs`: the OCI image layout written (`oci-layout`, `index.json`,
//!   `blobs/sha256/`).
//!
//! The layers come from the tree the zip is made of ([`super::stage`]):
//! the installed dependencies in one layer, the source in the next, both
//! under the base's `LAMBDA_TASK_ROOT` (`/var/task`), so a code edit is one
//! small new layer. The JSON documents are written with their keys sorted,
//! so the same inputs give the same digests on every machine.

pub mod base;
pub mod compose;
pub mod layer;
pub mod layout;
pub mod pgzip;

use std::io;
use std::path::PathBuf;

use oci_spec::image::{Descriptor, MediaType, PlatformBuilder};
use thiserror::Error;

use base::BaseImage;
use compose::Appended;
use layer::Layer;
use layout::LayoutWriter;

use super::{PackageError, Staged};
use crate::pipeline::source::SourceFile;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error("base image: {0}")]
    Base(String),
    #[error("base image: {0}")]
    Registry(#[from] crate::registry::RegistryError),
    #[error("{}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error("cannot write the image: {0}")]
    Write(#[from] io::Error),
    #[error("cannot encode the image's {0}")]
    Encode(String),
}

/// An image written to a layout.
#[derive(Clone, Debug)]
pub struct Image {
    /// `sha256:…` of the manifest: what a function deploys.
    pub manifest_digest: String,
    pub manifest_size: u64,
    pub config_digest: String,
    /// The base's manifest digest.
    pub base_digest: String,
    /// The appended layers, bottom up: the dependencies (when any were
    /// installed), then the code.
    pub layers: Vec<Layer>,
}

/// `value` as JSON with every object's keys sorted: the same bytes for the
/// same value, whatever order its maps were built in.
pub fn canonical_json(value: &impl serde::Serialize) -> Result<Vec<u8>, ImageError> {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    let v = serde_json::to_value(value).map_err(|e| ImageError::Encode(e.to_string()))?;
    serde_json::to_vec(&sort(v)).map_err(|e| ImageError::Encode(e.to_string()))
}

/// Writes the layer of `files` under `root` into `out`.
fn write_layer(out: &LayoutWriter, files: &[SourceFile], root: &str) -> io::Result<Layer> {
    let mut tmp = out.temp()?;
    match layer::write(files, root, &mut tmp.file) {
        Ok((layer, _)) => {
            tmp.keep(out, &layer.digest)?;
            Ok(layer)
        }
        Err(e) => {
            tmp.discard();
            Err(e)
        }
    }
}

fn digest(s: &str) -> Result<oci_spec::image::Digest, ImageError> {
    oci_spec::image::Digest::try_from(s).map_err(|e| ImageError::Encode(format!("digest {s}: {e}")))
}

/// Builds the image of `staged` on `base` into the layout `out`: the base's
/// blobs copied, the dependency and code layers, the config and manifest,
/// and `index.json` naming the image.
pub fn build(
    staged: &Staged,
    handler: &str,
    base: &BaseImage,
    out: &LayoutWriter,
) -> Result<Image, ImageError> {
    for l in base.manifest.layers() {
        out.copy_from(base.blobs.as_ref(), l.digest().as_ref(), l.size())?;
    }
    let root = base.task_root();
    let (deps, code) = std::thread::scope(|s| {
        let deps = (!staged.installed.is_empty())
            .then(|| s.spawn(|| write_layer(out, &staged.installed, &root)));
        let code = write_layer(out, &staged.source.files, &root);
        let deps = deps.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("panicked")))
        });
        (deps, code)
    });
    let mut appended = Vec::new();
    if let Some(d) = deps {
        appended.push(Appended {
            layer: d?,
            created_by: format!("eventpipe: the installed dependencies, in {root}"),
        });
    }
    appended.push(Appended {
        layer: code?,
        created_by: format!("eventpipe: the function's source, in {root}"),
    });
    let config = compose::config(&base.config, &appended, handler);
    let config_bytes = canonical_json(&config)?;
    let config_digest = out.put_bytes(&config_bytes)?;
    let config_desc = Descriptor::new(
        MediaType::ImageConfig,
        config_bytes.len() as u64,
        digest(&config_digest)?,
    );
    let manifest = compose::manifest(&base.manifest, config_desc, &appended)
        .map_err(|e| ImageError::Encode(format!("manifest: {e}")))?;
    let manifest_bytes = canonical_json(&manifest)?;
    let manifest_digest = out.put_bytes(&manifest_bytes)?;
    let platform = PlatformBuilder::default()
        .architecture(config.architecture().clone())
        .os(config.os().clone())
        .build()
        .map_err(|e| ImageError::Encode(e.to_string()))?;
    let mut desc = Descriptor::new(
        MediaType::ImageManifest,
        manifest_bytes.len() as u64,
        digest(&manifest_digest)?,
    );
    desc.set_platform(Some(platform));
    out.set_index(desc)?;
    Ok(Image {
        manifest_digest,
        manifest_size: manifest_bytes.len() as u64,
        config_digest,
        base_digest: base.manifest_digest.clone(),
        layers: appended.into_iter().map(|a| a.layer).collect(),
    })
}

#[cfg(test)]
pub mod testing;

#[cfg(test)]
mod tests;
