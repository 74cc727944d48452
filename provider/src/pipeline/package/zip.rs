//! The deterministic zip: entries in sorted order, dated 1980-01-01, mode
//! 0755 for executables and 0644 otherwise, deflated.
//!
//! [`build_parallel`] deflates each file into its own one-entry zip in
//! memory on rayon's threads, then copies the compressed entries into the
//! package in order (`raw_copy_file`), so its bytes are those of
//! [`build_sequential`], the reference it is tested against.

use std::fs;
use std::io::{Cursor, Write};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::PackageError;
use crate::pipeline::source::SourceFile;

fn options(file: &SourceFile) -> SimpleFileOptions {
    let mode = if file.executable { 0o755 } else { 0o644 };
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .large_file(false)
        .unix_permissions(mode)
}

/// A file to zip whose bytes are already in memory (the bundler's
/// output): its entry (`name`, `executable`) and its bytes.
#[derive(Clone, Debug)]
pub struct InMemory {
    pub file: SourceFile,
    pub body: Vec<u8>,
}

/// The deflate level of files zipped from memory. They are zipped after
/// esbuild has run, on the path of every apply that bundles: for the
/// bench's handler (a 375 KB bundle and its 671 KB map) level 2 deflates
/// them about five times faster than the default level (6), into a zip
/// about a quarter larger (58 KB against 46 KB); level 1 is faster still
/// but nearly twice the size (85 KB).
const IN_MEMORY_LEVEL: i64 = 2;

fn read(file: &SourceFile) -> Result<Vec<u8>, PackageError> {
    fs::read(&file.path).map_err(|source| PackageError::Read {
        path: file.path.display().to_string(),
        source,
    })
}

fn capacity(files: &[SourceFile]) -> usize {
    let total: u64 = files.iter().map(|f| f.size).sum();
    usize::try_from(total / 2)
        .unwrap_or(0)
        .min(super::limits::MAX_ZIPPED_BYTES as usize)
}

/// The reference builder: one file after the other on this thread.
pub fn build_sequential(files: &[SourceFile]) -> Result<Vec<u8>, PackageError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity(files))));
    for file in files {
        let body = read(file)?;
        zip.start_file(file.name.as_str(), options(file))?;
        zip.write_all(&body)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// One file deflated on its own: a zip holding just that entry, and the
/// SHA-256 of the file's contents (read once for both).
fn compress_one(file: &SourceFile) -> Result<(Vec<u8>, [u8; 32]), PackageError> {
    let body = read(file)?;
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let mut one = ZipWriter::new(Cursor::new(Vec::with_capacity(body.len() / 2 + 256)));
    one.start_file(file.name.as_str(), options(file))?;
    one.write_all(&body)?;
    Ok((one.finish()?.into_inner(), digest))
}

/// A zip of `files` (sorted by name), each deflated at [`IN_MEMORY_LEVEL`] on a
/// thread of its own: a bundle's few files are large, so one thread each
/// is the whole of the parallelism there is.
pub fn build_in_memory(files: &[InMemory]) -> Result<Vec<u8>, PackageError> {
    let one = |f: &InMemory| -> Result<Vec<u8>, PackageError> {
        let opts = options(&f.file).compression_level(Some(IN_MEMORY_LEVEL));
        let mut one = ZipWriter::new(Cursor::new(Vec::with_capacity(f.body.len() / 2 + 256)));
        one.start_file(f.file.name.as_str(), opts)?;
        one.write_all(&f.body)?;
        Ok(one.finish()?.into_inner())
    };
    let parts: Vec<Vec<u8>> = std::thread::scope(|s| {
        let rest: Vec<_> = files
            .iter()
            .skip(1)
            .map(|f| s.spawn(move || one(f)))
            .collect();
        let first = files.first().map(one);
        first
            .into_iter()
            .chain(rest.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a zip thread panicked").into()))
            }))
            .collect::<Result<_, _>>()
    })?;
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(total + 1024)));
    for bytes in parts {
        let mut one = ZipArchive::new(Cursor::new(bytes))?;
        zip.raw_copy_file(one.by_index_raw(0)?)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The same bytes as [`build_sequential`], deflated on every core. Also
/// returns each file's SHA-256, in `files`' order, so the caller can check
/// the tree's hash without reading the files again.
pub fn build_parallel(files: &[SourceFile]) -> Result<(Vec<u8>, Vec<[u8; 32]>), PackageError> {
    let parts: Vec<(Vec<u8>, [u8; 32])> = files
        .par_iter()
        .map(compress_one)
        .collect::<Result<_, _>>()?;
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity(files))));
    let mut digests = Vec::with_capacity(parts.len());
    for (bytes, digest) in parts {
        let mut one = ZipArchive::new(Cursor::new(bytes))?;
        zip.raw_copy_file(one.by_index_raw(0)?)?;
        digests.push(digest);
    }
    Ok((zip.finish()?.into_inner(), digests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::source::scan;
    use std::io::Read;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        fs::create_dir_all(d.path().join("lib/deep")).unwrap();
        fs::write(d.path().join("lib/x.py"), "X = 1\n".repeat(5000)).unwrap();
        fs::write(d.path().join("lib/empty"), "").unwrap();
        // Incompressible bytes: deflate stores them.
        let noise: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        fs::write(d.path().join("lib/deep/noise.bin"), noise).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let run = d.path().join("run.sh");
            fs::write(&run, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        }
        d
    }

    #[test]
    fn parallel_bytes_equal_the_sequential_reference() {
        let d = tree();
        let t = scan(d.path()).unwrap();
        let reference = build_sequential(&t.files).unwrap();
        let (parallel, digests) = build_parallel(&t.files).unwrap();
        assert_eq!(parallel, reference);
        assert_eq!(
            crate::pipeline::source::hash_of_digests(&t.files, &digests),
            crate::pipeline::source::tree_hash(&t).unwrap()
        );
    }

    #[test]
    fn files_in_memory_are_zipped_in_order_and_deflated() {
        let d = tree();
        let t = scan(d.path()).unwrap();
        let files: Vec<InMemory> = t
            .files
            .iter()
            .map(|f| InMemory {
                file: f.clone(),
                body: fs::read(&f.path).unwrap(),
            })
            .collect();
        let bytes = build_in_memory(&files).unwrap();
        let mut z = ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        let want: Vec<&str> = t.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, want);
        for f in &files {
            let mut entry = z.by_name(&f.file.name).unwrap();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            assert_eq!(body, f.body, "{}", f.file.name);
            let mode = if f.file.executable {
                0o100755
            } else {
                0o100644
            };
            assert_eq!(entry.unix_mode(), Some(mode));
        }
        // Deflated: x.py's 30 KB of one line shrink.
        assert!(z.by_name("lib/x.py").unwrap().compressed_size() < 1000);
        assert!(build_in_memory(&[]).is_ok());
    }

    #[test]
    fn entries_keep_names_modes_and_contents() {
        let d = tree();
        let t = scan(d.path()).unwrap();
        let (bytes, _) = build_parallel(&t.files).unwrap();
        let mut z = ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names.len(), t.files.len());
        assert_eq!(sorted.len(), names.len());
        let mut s = String::new();
        z.by_name("lib/x.py")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "X = 1\n".repeat(5000));
        assert_eq!(z.by_name("app.py").unwrap().unix_mode(), Some(0o100644));
        #[cfg(unix)]
        assert_eq!(z.by_name("run.sh").unwrap().unix_mode(), Some(0o100755));
    }
}
