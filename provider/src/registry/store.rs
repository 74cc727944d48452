//! The image cache: blobs by digest (`blobs/sha256/<hex>`, what an OCI
//! layout holds), and the last answer for each tag (`tags/<key>.json`: the
//! digest the tag named then). Blobs are written to a temporary file and
//! renamed once whole and verified, so a blob under its name is complete
//! and correct; a tag's answer is replaced atomically.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::RegistryError;

/// The content-addressed store under one directory.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

/// What a tag named when it was last resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagAnswer {
    /// The reference as asked (`host/repo:tag`).
    pub reference: String,
    /// The digest the tag named: an index, or a single manifest.
    pub digest: String,
}

/// `sha256:<64 hex>` → the hex; `None` for anything else.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl BlobStore {
    /// The store at `root` (e.g. `$EVENTPIPE_CACHE_DIR/images`); made on
    /// first write.
    pub fn at(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn error(&self, path: &Path, e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Cache {
            path: path.to_owned(),
            message: e.to_string(),
        }
    }

    /// Where the blob `digest` lives; `None` for a digest that is not
    /// `sha256:<hex>` (nothing else can name a file here).
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        sha256_hex(digest).map(|hex| self.root.join("blobs").join("sha256").join(hex))
    }

    pub fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_some_and(|p| p.is_file())
    }

    /// A whole small blob (a manifest, an index, a config), checked against
    /// its digest; `None` when it is not stored (or is damaged).
    pub fn read_small(&self, digest: &str) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        fs::File::open(self.blob_path(digest)?)
            .ok()?
            .take(16 << 20)
            .read_to_end(&mut bytes)
            .ok()?;
        (digest_of(&bytes) == digest).then_some(bytes)
    }

    /// A new temporary file beside the blobs, for a blob being written.
    pub fn temp(&self) -> Result<(PathBuf, fs::File), RegistryError> {
        let dir = self.root.join("blobs").join("sha256");
        fs::create_dir_all(&dir).map_err(|e| self.error(&dir, e))?;
        let path = dir.join(format!(".tmp-{}", crate::temp_name::unique()));
        let file = fs::File::create(&path).map_err(|e| self.error(&path, e))?;
        Ok((path, file))
    }

    /// Renames the verified temporary file `tmp` to the blob `digest`.
    pub fn keep(&self, tmp: &Path, digest: &str) -> Result<(), RegistryError> {
        let path = self
            .blob_path(digest)
            .ok_or_else(|| self.error(tmp, format!("not a sha256 digest: {digest}")))?;
        fs::rename(tmp, &path).map_err(|e| {
            let _ = fs::remove_file(tmp);
            self.error(&path, e)
        })
    }

    /// Stores `bytes`, which must hash to `digest`.
    pub fn put_small(&self, digest: &str, bytes: &[u8]) -> Result<(), RegistryError> {
        if self.has(digest) {
            return Ok(());
        }
        let (tmp, mut file) = self.temp()?;
        let written = io::Write::write_all(&mut file, bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.error(&tmp, e));
        }
        self.keep(&tmp, digest)
    }

    fn tag_path(&self, reference: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(reference.as_bytes()));
        self.root.join("tags").join(format!("{key}.json"))
    }

    /// The last answer for the tag `reference`, when its blob is still here.
    pub fn tag_answer(&self, reference: &str) -> Option<TagAnswer> {
        let bytes = fs::read(self.tag_path(reference)).ok()?;
        let answer: TagAnswer = serde_json::from_slice(&bytes).ok()?;
        (answer.reference == reference && self.has(&answer.digest)).then_some(answer)
    }

    /// Records what the tag `reference` names now.
    pub fn set_tag_answer(&self, answer: &TagAnswer) -> Result<(), RegistryError> {
        let path = self.tag_path(&answer.reference);
        let dir = self.root.join("tags");
        fs::create_dir_all(&dir).map_err(|e| self.error(&dir, e))?;
        let tmp = dir.join(format!(".tmp-{}", crate::temp_name::unique()));
        let bytes = serde_json::to_vec(answer).map_err(|e| self.error(&path, e))?;
        fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                self.error(&path, e)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_kept_by_its_digest_and_read_back_verified() {
        let d = tempfile::tempdir().unwrap();
        let s = BlobStore::at(d.path());
        let digest = digest_of(b"{}");
        assert!(!s.has(&digest));
        s.put_small(&digest, b"{}").unwrap();
        assert_eq!(s.read_small(&digest).unwrap(), b"{}");
        // A damaged blob is not served.
        fs::write(s.blob_path(&digest).unwrap(), b"{ }").unwrap();
        assert_eq!(s.read_small(&digest), None);
        assert_eq!(s.blob_path("sha256:../../x"), None);
    }

    #[test]
    fn a_tag_answer_counts_only_while_its_blob_is_stored() {
        let d = tempfile::tempdir().unwrap();
        let s = BlobStore::at(d.path());
        let digest = digest_of(b"index");
        let answer = TagAnswer {
            reference: "127.0.0.1:1/base:3.13".into(),
            digest: digest.clone(),
        };
        s.set_tag_answer(&answer).unwrap();
        assert_eq!(s.tag_answer(&answer.reference), None, "no blob yet");
        s.put_small(&digest, b"index").unwrap();
        assert_eq!(s.tag_answer(&answer.reference), Some(answer));
        assert_eq!(s.tag_answer("127.0.0.1:1/base:3.12"), None);
    }
}
