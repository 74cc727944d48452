//! Writes an OCI image layout: `oci-layout`, `blobs/sha256/<hex>` and an
//! `index.json` naming the image, which `skopeo copy oci:DIR …` and
//! `docker load` read.
//!
//! Every blob is written to a temporary file in `blobs/sha256/` and renamed
//! to its digest once whole, so a blob present under its name is complete,
//! and a blob already there is not written again.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex};
use sha2::{Digest as _, Sha256};

use super::base::BlobSource;
use super::{ImageError, canonical_json};

/// The `oci-layout` file's content.
const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// An OCI image layout being written.
#[derive(Debug)]
pub struct LayoutWriter {
    root: PathBuf,
}

/// A blob being written: removed unless [`TempBlob::keep`] names it.
pub struct TempBlob {
    path: PathBuf,
    pub file: BufWriter<File>,
}

impl TempBlob {
    /// Flushes the blob and renames it to `digest` in `layout`.
    pub fn keep(self, layout: &LayoutWriter, digest: &str) -> io::Result<()> {
        let TempBlob { path, file } = self;
        let done = file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|f| f.sync_all())
            .and_then(|()| fs::rename(&path, layout.blob_path(digest)?));
        if done.is_err() {
            let _ = fs::remove_file(&path);
        }
        done
    }

    /// Drops a blob that will not be kept.
    pub fn discard(self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl LayoutWriter {
    /// A layout at `dir`: made when `dir` is missing or empty, reused (its
    /// blobs kept) when it is a layout already. Any other directory is
    /// refused, so nothing of the user's is overwritten.
    pub fn create(dir: &Path) -> Result<LayoutWriter, ImageError> {
        let refuse = |message: String| ImageError::Layout {
            path: dir.to_owned(),
            message,
        };
        match fs::read_dir(dir) {
            Ok(mut entries) => {
                let empty = entries.next().is_none();
                if !empty && !dir.join("oci-layout").is_file() {
                    return Err(refuse(
                        "is not empty and not an OCI image layout; give a new or empty directory"
                            .into(),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                return Err(refuse("is not a directory".into()));
            }
            Err(e) => return Err(refuse(e.to_string())),
        }
        let blobs = dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(|e| refuse(e.to_string()))?;
        fs::write(dir.join("oci-layout"), OCI_LAYOUT).map_err(|e| refuse(e.to_string()))?;
        Ok(LayoutWriter { root: dir.into() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `sha256:<hex>` lives.
    pub fn blob_path(&self, digest: &str) -> io::Result<PathBuf> {
        match digest.strip_prefix("sha256:") {
            Some(hex) if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                Ok(self.root.join("blobs").join("sha256").join(hex))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a sha256 digest: {digest}"),
            )),
        }
    }

    /// Whether the blob is in the layout already.
    pub fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_ok_and(|p| p.is_file())
    }

    /// A new temporary blob file in the layout.
    pub fn temp(&self) -> io::Result<TempBlob> {
        let path = self
            .root
            .join("blobs")
            .join("sha256")
            .join(format!(".tmp-{}", crate::temp_name::unique()));
        let file = BufWriter::with_capacity(256 * 1024, File::create(&path)?);
        Ok(TempBlob { path, file })
    }

    /// Writes `bytes` as a blob; returns its digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<String> {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        if !self.has(&digest) {
            let mut t = self.temp()?;
            t.file.write_all(bytes)?;
            t.keep(self, &digest)?;
        }
        Ok(digest)
    }

    /// Copies the blob `digest` of `size` bytes from `source`, checking
    /// both while it streams; a blob already here is kept as it is.
    pub fn copy_from(&self, source: &dyn BlobSource, digest: &str, size: u64) -> io::Result<()> {
        if self.has(digest) {
            return Ok(());
        }
        let mut t = self.temp()?;
        let mut hasher = Sha256::new();
        let mut reader = source.open(digest)?.take(size.saturating_add(1));
        let mut buf = vec![0u8; 128 * 1024];
        let mut copied = 0u64;
        let result = loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            };
            hasher.update(&buf[..n]);
            copied += n as u64;
            if let Err(e) = t.file.write_all(&buf[..n]) {
                break Err(e);
            }
        };
        let got = format!("sha256:{}", hex::encode(hasher.finalize()));
        match result {
            Ok(()) if copied == size && got == digest => t.keep(self, digest),
            Ok(()) => {
                t.discard();
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "base blob {digest} does not match its descriptor ({copied} bytes, {got})"
                    ),
                ))
            }
            Err(e) => {
                t.discard();
                Err(e)
            }
        }
    }

    /// Writes `index.json` naming `manifest` alone (atomically).
    pub fn set_index(&self, manifest: Descriptor) -> Result<(), ImageError> {
        let mut index = ImageIndex::default();
        index.set_manifests(vec![manifest]);
        let bytes = canonical_json(&index)?;
        let path = self.root.join("index.json");
        let tmp = self
            .root
            .join(format!(".index.json.tmp-{}", crate::temp_name::unique()));
        fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .inspect_err(|_| {
                let _ = fs::remove_file(&tmp);
            })?;
        Ok(())
    }
}

/// The key of an image's layout in the cache (`layouts/<key>`): a hash of
/// what the image is made of (the package's `source_code_hash`, the base's
/// platform manifest, the handler its command names, the architecture).
/// Apply finds an unchanged image's layout under it without reading the
/// source again: the plan's hash already covers every file.
pub fn cache_key(
    source_code_hash: &str,
    base_digest: &str,
    handler: &str,
    architecture: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [source_code_hash, base_digest, handler, architecture] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The manifest digest of the image a complete layout at `dir` holds
/// (`None`: no layout there, or one whose `index.json` is not written yet,
/// which is written last).
pub fn complete_manifest(dir: &Path) -> Option<String> {
    let index = fs::read(dir.join("index.json")).ok()?;
    let index: serde_json::Value = serde_json::from_slice(&index).ok()?;
    index["manifests"][0]["digest"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_of_other_files_is_refused() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("notes.txt"), "mine").unwrap();
        let err = LayoutWriter::create(d.path()).unwrap_err().to_string();
        assert!(
            err.contains("is not empty and not an OCI image layout"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(d.path().join("notes.txt")).unwrap(),
            "mine"
        );
        // A new directory, and then the same layout again, are fine.
        let out = d.path().join("out");
        LayoutWriter::create(&out).unwrap().put_bytes(b"x").unwrap();
        let again = LayoutWriter::create(&out).unwrap();
        assert!(again.has(&format!("sha256:{}", hex::encode(Sha256::digest(b"x")))));
        assert_eq!(
            fs::read_to_string(out.join("oci-layout")).unwrap(),
            OCI_LAYOUT
        );
    }

    #[test]
    fn a_copied_blob_that_does_not_match_its_digest_is_not_kept() {
        let src = tempfile::tempdir().unwrap();
        let layout = super::super::base::OciLayout {
            root: src.path().into(),
        };
        let blobs = src.path().join("blobs/sha256");
        fs::create_dir_all(&blobs).unwrap();
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(b"good")));
        fs::write(blobs.join(&digest[7..]), b"evil").unwrap();
        let out = tempfile::tempdir().unwrap();
        let w = LayoutWriter::create(&out.path().join("o")).unwrap();
        assert!(w.copy_from(&layout, &digest, 4).is_err());
        assert!(!w.has(&digest));
        let left = fs::read_dir(out.path().join("o/blobs/sha256"))
            .unwrap()
            .count();
        assert_eq!(left, 0, "no temporary file is left");
        fs::write(blobs.join(&digest[7..]), b"good").unwrap();
        w.copy_from(&layout, &digest, 4).unwrap();
        assert!(w.has(&digest));
    }
}
