//! Building the function's deployment package: a zip that is byte-for-byte
//! the same for the same files on any machine (sorted entries, fixed
//! timestamps, normalised permissions), so Lambda's `CodeSha256` is stable.

use std::fs;
use std::io::{Cursor, Write};

use base64::Engine;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::source::{MAX_UNZIPPED_BYTES, SourceTree};

/// Lambda's limit for a zip uploaded directly with the API call.
pub const MAX_ZIPPED_BYTES: usize = 50 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum PackageError {
    #[error(
        "the source is {size} bytes unzipped; Lambda allows at most {MAX_UNZIPPED_BYTES} bytes \
         ({} MB)",
        MAX_UNZIPPED_BYTES / 1024 / 1024
    )]
    TooLargeUnzipped { size: u64 },
    #[error(
        "the zipped package is {size} bytes; a direct upload to Lambda allows at most \
         {MAX_ZIPPED_BYTES} bytes ({} MB)",
        MAX_ZIPPED_BYTES / 1024 / 1024
    )]
    TooLargeZipped { size: usize },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot build the zip: {0}")]
    Write(#[from] std::io::Error),
}

/// A built package.
#[derive(Clone, Debug)]
pub struct Package {
    pub zip: Vec<u8>,
    /// base64(sha256(zip)): what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
}

/// Zips the tree. Entries are in the tree's sorted order, dated 1980-01-01,
/// with mode 0755 for executables and 0644 otherwise.
pub fn build(tree: &SourceTree) -> Result<Package, PackageError> {
    let total = tree.total_size();
    if total > MAX_UNZIPPED_BYTES {
        return Err(PackageError::TooLargeUnzipped { size: total });
    }
    let capacity = usize::try_from(total / 2)
        .unwrap_or(0)
        .min(MAX_ZIPPED_BYTES);
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
    let base = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .large_file(false);
    for file in &tree.files {
        let mode = if file.executable { 0o755 } else { 0o644 };
        let body = fs::read(&file.path).map_err(|source| PackageError::Read {
            path: file.path.display().to_string(),
            source,
        })?;
        zip.start_file(file.name.as_str(), base.unix_permissions(mode))?;
        zip.write_all(&body)?;
    }
    let bytes = zip.finish()?.into_inner();
    if bytes.len() > MAX_ZIPPED_BYTES {
        return Err(PackageError::TooLargeZipped { size: bytes.len() });
    }
    let code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    Ok(Package {
        zip: bytes,
        code_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::source::scan;
    use std::io::Read;

    #[test]
    fn same_files_give_the_same_bytes_whatever_the_timestamps() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        fs::create_dir(d.path().join("lib")).unwrap();
        fs::write(d.path().join("lib/x.py"), "X = 1\n").unwrap();
        let a = build(&scan(d.path()).unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        let b = build(&scan(d.path()).unwrap()).unwrap();
        assert_eq!(a.zip, b.zip);
        assert_eq!(a.code_sha256, b.code_sha256);
    }

    #[test]
    fn the_zip_holds_the_files_under_their_relative_names() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("app.py"), "hello").unwrap();
        fs::create_dir(d.path().join("pkg")).unwrap();
        fs::write(d.path().join("pkg/mod.py"), "world").unwrap();
        let p = build(&scan(d.path()).unwrap()).unwrap();
        let mut z = zip::ZipArchive::new(Cursor::new(p.zip)).unwrap();
        assert_eq!(z.len(), 2);
        let mut s = String::new();
        z.by_name("pkg/mod.py")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "world");
        assert_eq!(z.by_name("app.py").unwrap().unix_mode(), Some(0o100644));
    }
}
