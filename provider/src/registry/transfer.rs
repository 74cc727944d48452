//! Moving blobs: a base image pulled into the store once (each blob
//! streamed to a file and verified against its digest, never held whole in
//! memory), and a built image pushed: a HEAD for each blob, an upload of
//! only the missing ones streamed from their files, then the manifest
//! under a tag.

use std::path::{Path, PathBuf};

use futures::StreamExt as _;
use oci_client::errors::OciDistributionError;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::store::{BlobStore, sha256_hex};
use super::{ImageRef, OCI_MANIFEST, Registry, RegistryError};

/// How many blobs move at once.
const PARALLEL: usize = 4;

/// A base image's blobs in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    pub manifest_digest: String,
    /// The blobs this pull fetched (0 when the store had them all).
    pub blobs_fetched: usize,
    pub bytes_fetched: u64,
}

/// A built image in a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// `sha256:…` of the manifest, what a function deploys.
    pub digest: String,
    /// The blobs uploaded (the registry lacked them), and their bytes plus
    /// the manifest's.
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
}

/// A blob a manifest names.
struct Blob {
    digest: String,
    size: u64,
}

/// The config and layers of a manifest, in that order.
fn blobs_of(reference: &str, manifest: &Value) -> Result<Vec<Blob>, RegistryError> {
    let bad = |message: String| RegistryError::Registry {
        reference: reference.to_owned(),
        message,
    };
    let descriptor = |d: &Value| -> Result<Blob, RegistryError> {
        let digest = d["digest"].as_str().unwrap_or_default();
        if sha256_hex(digest).is_none() {
            return Err(bad(format!("the manifest names a blob {digest:?}")));
        }
        let size = d["size"]
            .as_u64()
            .ok_or_else(|| bad(format!("the manifest gives {digest} no size")))?;
        Ok(Blob {
            digest: digest.to_owned(),
            size,
        })
    };
    let mut blobs = vec![descriptor(&manifest["config"])?];
    let layers = manifest["layers"]
        .as_array()
        .ok_or_else(|| bad("the manifest has no layers".into()))?;
    for l in layers {
        blobs.push(descriptor(l)?);
    }
    Ok(blobs)
}

impl Registry {
    /// Fetches the manifest `manifest_digest` of `reference`'s repository,
    /// its config and its layers into `store`, each blob the store lacks.
    pub async fn pull(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
        manifest_digest: &str,
    ) -> Result<Pulled, RegistryError> {
        let manifest = self.document(store, reference, manifest_digest).await?;
        let mut pulled = Pulled {
            manifest_digest: manifest_digest.to_owned(),
            blobs_fetched: 0,
            bytes_fetched: 0,
        };
        let missing: Vec<Blob> = blobs_of(&reference.to_string(), &manifest)?
            .into_iter()
            .filter(|b| !store.has(&b.digest))
            .collect();
        // The futures collected first: a stream over a mapping closure
        // makes the caller's future not provably `Send` (rustc #100013).
        let fetches: Vec<_> = missing
            .iter()
            .map(|b| self.fetch_blob(store, reference, b))
            .collect();
        let fetched: Vec<Result<(), RegistryError>> = futures::stream::iter(fetches)
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        for (blob, result) in missing.iter().zip(fetched) {
            result?;
            pulled.blobs_fetched += 1;
            pulled.bytes_fetched += blob.size;
        }
        Ok(pulled)
    }

    /// Streams one blob to a temporary file in the store, hashing it as it
    /// goes, and names it by its digest once its size and digest match. A
    /// download cut off or garbled on the way is made once more (as a
    /// request that fails before its answer is, in [`Registry::call`]); the
    /// partial file is removed either way.
    async fn fetch_blob(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
        blob: &Blob,
    ) -> Result<(), RegistryError> {
        match self.fetch_blob_once(store, reference, blob).await {
            Err(RegistryError::Corrupt { message, .. }) => {
                tracing::debug!(digest = %blob.digest, %message, "blob download failed; retrying once");
                self.fetch_blob_once(store, reference, blob).await
            }
            other => other,
        }
    }

    async fn fetch_blob_once(
        &self,
        store: &BlobStore,
        reference: &ImageRef,
        blob: &Blob,
    ) -> Result<(), RegistryError> {
        let stream = self
            .call(|c, auth| {
                let r = reference.inner.clone();
                let digest = blob.digest.clone();
                async move {
                    // The token for a pull, as the manifest requests got it.
                    c.store_auth_if_needed(r.resolve_registry(), &auth).await;
                    c.pull_blob_stream(&r, digest.as_str()).await
                }
            })
            .await
            .map_err(|e| self.failed(reference, &e))?;
        let (tmp, file) = store.temp()?;
        let result = write_verified(stream.stream, file, blob).await;
        match result {
            Ok(()) => store.keep(&tmp, &blob.digest),
            Err(message) => {
                let _ = std::fs::remove_file(&tmp);
                Err(RegistryError::Corrupt {
                    reference: reference.to_string(),
                    digest: blob.digest.clone(),
                    message,
                })
            }
        }
    }

    /// Pushes the image whose manifest is `manifest_digest` in the OCI
    /// layout at `layout` to `target` (`host/repo:tag`): a HEAD per blob,
    /// an upload of each one the registry lacks, then the manifest.
    pub async fn push(
        &self,
        layout: &Path,
        manifest_digest: &str,
        target: &ImageRef,
    ) -> Result<Pushed, RegistryError> {
        let path_of = |digest: &str| -> Result<PathBuf, RegistryError> {
            let hex = sha256_hex(digest).ok_or_else(|| RegistryError::Local {
                path: layout.to_owned(),
                message: format!("not a sha256 digest: {digest}"),
            })?;
            Ok(layout.join("blobs").join("sha256").join(hex))
        };
        let manifest_path = path_of(manifest_digest)?;
        let manifest_bytes = std::fs::read(&manifest_path).map_err(|e| RegistryError::Local {
            path: manifest_path.clone(),
            message: e.to_string(),
        })?;
        let manifest: Value =
            serde_json::from_slice(&manifest_bytes).map_err(|e| RegistryError::Local {
                path: manifest_path.clone(),
                message: format!("not a manifest: {e}"),
            })?;
        let mut pushed = Pushed {
            digest: manifest_digest.to_owned(),
            blobs_uploaded: 0,
            bytes_uploaded: 0,
        };
        let blobs = blobs_of(&target.to_string(), &manifest)?;
        let paths = blobs
            .iter()
            .map(|b| path_of(&b.digest))
            .collect::<Result<Vec<PathBuf>, RegistryError>>()?;
        let pushes: Vec<_> = blobs
            .iter()
            .zip(&paths)
            .map(|(blob, path)| self.push_blob(target, blob, path))
            .collect();
        let sent: Vec<Result<bool, RegistryError>> = futures::stream::iter(pushes)
            .buffered(PARALLEL)
            .collect()
            .await;
        for (blob, result) in blobs.iter().zip(sent) {
            if result? {
                pushed.blobs_uploaded += 1;
                pushed.bytes_uploaded += blob.size;
            }
        }
        let media_type = manifest["mediaType"]
            .as_str()
            .unwrap_or(OCI_MANIFEST)
            .to_owned();
        self.call(|c, _| {
            let (r, body) = (target.inner.clone(), manifest_bytes.clone());
            let media_type = media_type.clone();
            async move {
                let content_type = media_type.parse().map_err(|_| {
                    OciDistributionError::GenericError(Some(format!(
                        "media type {media_type:?} is not a header value"
                    )))
                })?;
                c.push_manifest_raw(&r, body, content_type).await
            }
        })
        .await
        .map_err(|e| self.failed(target, &e))?;
        pushed.bytes_uploaded += manifest_bytes.len() as u64;
        Ok(pushed)
    }
}

impl Registry {
    /// One blob of an image being pushed: a HEAD, then, when the registry
    /// lacks it, one PUT streamed from `path`. Whether it was uploaded.
    async fn push_blob(
        &self,
        target: &ImageRef,
        blob: &Blob,
        path: &Path,
    ) -> Result<bool, RegistryError> {
        let exists = self
            .call(|c, auth| {
                let r = target.inner.clone();
                let digest = blob.digest.clone();
                async move {
                    c.store_auth_if_needed(r.resolve_registry(), &auth).await;
                    c.blob_exists(&r, &digest).await
                }
            })
            .await
            .map_err(|e| self.failed(target, &e))?;
        if exists {
            return Ok(false);
        }
        self.call(|c, _| {
            let (r, path, digest) = (target.inner.clone(), path.to_owned(), blob.digest.clone());
            let size = blob.size;
            async move {
                let file = tokio::fs::File::open(&path).await?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 << 10)
                    .map(|chunk| chunk.map_err(OciDistributionError::from));
                c.push_blob_stream(&r, stream, &digest, Some(size)).await
            }
        })
        .await
        .map_err(|e| self.failed(target, &e))?;
        Ok(true)
    }
}

/// Writes `stream` to `file`, checking it is `blob` (its size, its digest).
async fn write_verified(
    mut stream: futures::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    file: std::fs::File,
    blob: &Blob,
) -> Result<(), String> {
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(file));
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        size += chunk.len() as u64;
        if size > blob.size {
            return Err(format!("more than its {} bytes", blob.size));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    out.flush().await.map_err(|e| e.to_string())?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(|e| e.to_string())?;
    let got = format!("sha256:{}", hex::encode(hasher.finalize()));
    if size != blob.size || got != blob.digest {
        return Err(format!("received {size} bytes hashing to {got}"));
    }
    Ok(())
}
