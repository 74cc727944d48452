//! A deterministic image layer: a tar of files under one directory
//! (`/var/task`), with its entries sorted by path, every time 0, uid and
//! gid 0, no user or group names, and modes normalised (0755 for
//! directories and executables, 0644 otherwise), gzip'd with no time or
//! name in the gzip header.
//!
//! The layer is streamed: each file is copied from disk through the tar
//! writer and the gzip encoder (on every core: `pgzip.rs`) into `out`, while the uncompressed bytes
//! (the `diff_id`) and the compressed ones (the blob's digest) are hashed
//! on the way. Nothing holds more than a copy buffer of a file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};

use flate2::Compression;
use sha2::{Digest as _, Sha256};

use super::pgzip::ParallelGz;
use crate::pipeline::source::SourceFile;

/// The mode of a directory or an executable file.
pub const MODE_EXECUTABLE: u32 = 0o755;
/// The mode of any other file.
pub const MODE_FILE: u32 = 0o644;

/// What a written layer is known by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `sha256:…` of the gzip'd bytes: the blob's digest.
    pub digest: String,
    /// The gzip'd size in bytes.
    pub size: u64,
    /// `sha256:…` of the uncompressed tar: the config's `diff_id`.
    pub diff_id: String,
    /// The uncompressed size in bytes.
    pub tar_size: u64,
}

/// A writer that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (W, String, u64) {
        let digest = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        (self.inner, digest, self.count)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A file's bytes, exactly `left` of them: a file that shrank since it was
/// listed fails instead of leaving a short entry in the tar.
struct Exact<R> {
    inner: R,
    left: u64,
    name: String,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} changed while the layer was written", self.name),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The layer's entries by path (`var/task/lib/x.py`), in sorted order: a
/// directory for `root` and each of its parents, one for each directory a
/// file is in, and the files (`Some`). A parent sorts before its children.
fn entries<'a>(files: &'a [SourceFile], root: &str) -> BTreeMap<String, Option<&'a SourceFile>> {
    let root = root.trim_matches('/');
    let mut all = BTreeMap::new();
    let add_dirs = |path: &str, all: &mut BTreeMap<String, Option<&'a SourceFile>>| {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            all.entry(path[..at + i].to_owned()).or_insert(None);
            at += i + 1;
        }
    };
    if !root.is_empty() {
        add_dirs(&format!("{root}/"), &mut all);
    }
    for f in files {
        let path = if root.is_empty() {
            f.name.clone()
        } else {
            format!("{root}/{}", f.name)
        };
        add_dirs(&path, &mut all);
        all.insert(path, Some(f));
    }
    all
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes the layer of `files` under `root` (`/var/task`) to `out` and
/// returns its digests with `out`.
pub fn write<W: Write>(files: &[SourceFile], root: &str, out: W) -> io::Result<(Layer, W)> {
    let gz = ParallelGz::new(Hashing::new(out), Compression::default());
    let mut tar = tar::Builder::new(Hashing::new(gz));
    for (path, file) in entries(files, root) {
        match file {
            None => {
                let mut h = header(tar::EntryType::Directory, MODE_EXECUTABLE, 0);
                tar.append_data(&mut h, format!("{path}/"), io::empty())?;
            }
            Some(f) => {
                let opened = File::open(&f.path).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot read {}: {e}", f.path.display()))
                })?;
                let size = opened.metadata()?.len();
                let mode = if f.executable {
                    MODE_EXECUTABLE
                } else {
                    MODE_FILE
                };
                let mut h = header(tar::EntryType::Regular, mode, size);
                let body = Exact {
                    inner: opened,
                    left: size,
                    name: f.path.display().to_string(),
                };
                tar.append_data(&mut h, &path, body)?;
            }
        }
    }
    let (gz, diff_id, tar_size) = tar.into_inner()?.finish();
    let (out, digest, size) = gz.finish()?.finish();
    Ok((
        Layer {
            digest,
            size,
            diff_id,
            tar_size,
        },
        out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::source::scan;
    use std::fs;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join("app.py"),
            "def handler(e, c):\n    return 1\n",
        )
        .unwrap();
        fs::create_dir_all(d.path().join("lib/deep")).unwrap();
        fs::write(d.path().join("lib/deep/x.py"), "X = 1\n").unwrap();
        fs::write(d.path().join("lib-a.py"), "A = 1\n").unwrap();
        let long = "n".repeat(120);
        fs::write(d.path().join(format!("{long}.py")), "L = 1\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let run = d.path().join("run.sh");
            fs::write(&run, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
            let open = d.path().join("lib/deep/x.py");
            fs::set_permissions(&open, fs::Permissions::from_mode(0o666)).unwrap();
        }
        d
    }

    fn layer_of(dir: &std::path::Path) -> (Layer, Vec<u8>) {
        let t = scan(dir).unwrap();
        write(&t.files, "/var/task", Vec::new()).unwrap()
    }

    /// An entry of a layer as a reader of the tar sees it.
    struct Seen {
        path: String,
        kind: tar::EntryType,
        mode: u32,
        mtime: u64,
        uid: u64,
        gid: u64,
        owner_names: (String, String),
    }

    fn unpacked(gz: &[u8]) -> Vec<Seen> {
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(gz));
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                let name = |n: Option<&str>| n.unwrap_or("?").to_owned();
                Seen {
                    path: e.path().unwrap().to_string_lossy().into_owned(),
                    kind: h.entry_type(),
                    mode: h.mode().unwrap(),
                    mtime: h.mtime().unwrap(),
                    uid: h.uid().unwrap(),
                    gid: h.gid().unwrap(),
                    owner_names: (name(h.username().unwrap()), name(h.groupname().unwrap())),
                }
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_under_the_task_root_with_their_directories() {
        let d = tree();
        let (_, gz) = layer_of(d.path());
        let names: Vec<String> = unpacked(&gz).into_iter().map(|e| e.path).collect();
        let long = format!("var/task/{}.py", "n".repeat(120));
        let mut want = vec![
            "var/",
            "var/task/",
            "var/task/app.py",
            "var/task/lib/",
            "var/task/lib/deep/",
            "var/task/lib/deep/x.py",
            "var/task/lib-a.py",
            &long,
        ];
        if cfg!(unix) {
            want.push("var/task/run.sh");
        }
        // Sorted by path, a directory before what it holds.
        let mut by_path = want.clone();
        by_path.sort_by_key(|p| p.trim_end_matches('/'));
        assert_eq!(names, by_path);
        assert_eq!(names.len(), want.len());
    }

    #[test]
    fn times_owners_and_modes_are_normalised() {
        let d = tree();
        let (_, gz) = layer_of(d.path());
        for e in unpacked(&gz) {
            assert_eq!((e.mtime, e.uid, e.gid), (0, 0, 0), "{}", e.path);
            assert_eq!(e.owner_names, (String::new(), String::new()), "{}", e.path);
            let want = if e.kind.is_dir() || e.path.ends_with("run.sh") {
                0o755
            } else {
                0o644
            };
            assert_eq!(e.mode, want, "{}", e.path);
        }
    }

    #[test]
    fn the_gzip_header_has_no_time_and_no_name() {
        let d = tree();
        let (_, gz) = layer_of(d.path());
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8], "a gzip member, deflated");
        assert_eq!(gz[3], 0, "no FNAME, FCOMMENT or FEXTRA flag");
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "MTIME is 0");
        assert_eq!(gz[9], 255, "OS unknown: the same on every machine");
    }

    #[test]
    fn digests_are_of_the_compressed_and_the_uncompressed_bytes() {
        let d = tree();
        let (layer, gz) = layer_of(d.path());
        assert_eq!(layer.size, gz.len() as u64);
        assert_eq!(
            layer.digest,
            format!("sha256:{}", hex::encode(Sha256::digest(&gz)))
        );
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(layer.tar_size, tar.len() as u64);
        assert_eq!(
            layer.diff_id,
            format!("sha256:{}", hex::encode(Sha256::digest(&tar)))
        );
    }

    #[test]
    fn the_same_files_in_another_place_at_another_time_give_the_same_layer() {
        let a = tree();
        let (first, first_gz) = layer_of(a.path());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = tree();
        let (second, second_gz) = layer_of(b.path());
        assert_ne!(a.path(), b.path());
        assert_eq!(first, second);
        assert_eq!(first_gz, second_gz);
        // A changed byte is a new layer.
        fs::write(
            b.path().join("app.py"),
            "def handler(e, c):\n    return 2\n",
        )
        .unwrap();
        assert_ne!(layer_of(b.path()).0.diff_id, first.diff_id);
    }

    #[test]
    fn a_file_that_shrinks_or_goes_while_it_is_written_fails_the_layer() {
        let d = tree();
        let mut t = scan(d.path()).unwrap();
        // What a listing said before the file was cut short: the tar keeps
        // the size it reads from the open file, so only a cut during the
        // copy can be caught; simulate it with a reader over a shorter file.
        let body = Exact {
            inner: &b"abc"[..],
            left: 10,
            name: "x".into(),
        };
        let mut out = Vec::new();
        let err = io::copy(&mut { body }, &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        t.files.retain(|f| f.name == "app.py");
        fs::remove_file(d.path().join("app.py")).unwrap();
        assert!(write(&t.files, "/var/task", Vec::new()).is_err());
    }
}
