//! The function's source directory: which files belong to the package, and
//! the content hash shown in the plan as `source_code_hash`.
//!
//! The hash covers each file's relative path, executable bit and contents,
//! in sorted order, so it is the same on every machine and does not depend
//! on timestamps. Plan only hashes; the zip is built at apply.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::exclude::Exclude;

/// Lambda's limit for the unzipped code.
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

/// Lambda's limit for a container image, unzipped: a source directory
/// larger than this is not scanned to the end for an image.
pub const MAX_IMAGE_UNZIPPED_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// How the package is deployed (`function.package_type`): what decides its
/// unzipped limit and what a refusal advises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Zip,
    Image,
}

impl Kind {
    /// Lambda's unzipped limit for this kind.
    pub fn limit(self) -> u64 {
        match self {
            Kind::Zip => MAX_UNZIPPED_BYTES,
            Kind::Image => MAX_IMAGE_UNZIPPED_BYTES,
        }
    }

    /// The kind whose limit `limit` is over: an image's beyond a zip's.
    fn for_limit(limit: u64) -> Kind {
        if limit > MAX_UNZIPPED_BYTES {
            Kind::Image
        } else {
            Kind::Zip
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Zip => "a zip package",
            Kind::Image => "a container image",
        }
    }

    /// The last sentence of a refusal: the ways out.
    fn advice(self) -> &'static str {
        match self {
            Kind::Zip => {
                "Set function.package_type = \"image\" to deploy it as a container image \
                 (up to 10 GB, built without Docker), or move large dependencies or data out of \
                 the package."
            }
            Kind::Image => {
                "Move large data (models, datasets) out of the image, to S3 or EFS, and read it \
                 at run time; set function.slim = true to drop tests, headers and debug symbols \
                 from the installed dependencies."
            }
        }
    }
}

/// Names never packaged: caches, VCS metadata, editor and OS litter.
const SKIPPED_NAMES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".terraform",
    ".DS_Store",
    "Thumbs.db",
];

/// File endings never packaged (compiled Python is rebuilt by the runtime).
const SKIPPED_SUFFIXES: &[&str] = &[".pyc", ".pyo"];

#[derive(Debug, Error)]
pub enum SourceError {
    #[error(
        "function.source_dir is empty: set it to the local directory that holds the function's \
         code (an import cannot read it back from AWS)"
    )]
    NotSet,
    #[error("source directory {path} does not exist")]
    Missing { path: PathBuf },
    #[error("{path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error(
        "source directory {path} holds no files to package{}",
        if *.excluding { " once function.exclude and the default skips leave theirs out" } else { "" }
    )]
    Empty {
        path: PathBuf,
        /// Whether `function.exclude` patterns were applied.
        excluding: bool,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: file names must be valid UTF-8 to be packaged")]
    NonUtf8Name { path: PathBuf },
    #[error("{path}: {message}")]
    TooLarge {
        path: PathBuf,
        limit: u64,
        /// The size, the largest entries and the ways out.
        message: String,
    },
}

/// One file of the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path inside the package, `/`-separated.
    pub name: String,
    /// Absolute path on disk.
    pub path: PathBuf,
    pub executable: bool,
    pub size: u64,
}

/// A configuration's source directory, scanned once for everything a plan
/// or a validation checks (handler file, size) and for the hash, without
/// what [`Exclude`] leaves out.
#[derive(Debug)]
pub struct Source {
    scanned: Option<Result<SourceTree, Arc<SourceError>>>,
    /// What the scan left out.
    exclude: Exclude,
    /// The files read and hashed once, on first ask.
    digest: std::sync::OnceLock<Result<SourceDigest, Arc<SourceError>>>,
}

impl Source {
    /// Scans `dir` when it is known; `None` when it is not known yet.
    pub fn of(dir: Option<&str>) -> Source {
        Source::of_kind(dir, Kind::Zip)
    }

    /// Scans `dir` up to the unzipped limit of `kind`, without what the
    /// default skips leave out.
    pub fn of_kind(dir: Option<&str>, kind: Kind) -> Source {
        Source::excluding(dir, kind, Exclude::defaults())
    }

    /// Scans `dir` up to the unzipped limit of `kind`, without what
    /// `exclude` leaves out.
    pub fn excluding(dir: Option<&str>, kind: Kind, exclude: Exclude) -> Source {
        Source {
            scanned: dir
                .map(|d| scan_excluding(Path::new(d), kind.limit(), &exclude).map_err(Arc::new)),
            exclude,
            digest: std::sync::OnceLock::new(),
        }
    }

    /// What the scan left out.
    pub fn exclude(&self) -> &Exclude {
        &self.exclude
    }

    /// The files, or why they cannot be read; `None` when the directory is
    /// not known yet.
    pub fn tree(&self) -> Option<Result<&SourceTree, &SourceError>> {
        self.scanned
            .as_ref()
            .map(|r| r.as_ref().map_err(|e| e.as_ref()))
    }

    /// The content hash, or why it cannot be computed; `None` when the
    /// directory is not known yet.
    pub fn hash(&self) -> Option<Result<String, Arc<SourceError>>> {
        self.digest().map(|r| r.map(|d| d.hash))
    }

    /// The content hash and each file's short hash, from one read of the
    /// files; `None` when the directory is not known yet.
    pub fn digest(&self) -> Option<Result<SourceDigest, Arc<SourceError>>> {
        let scanned = self.scanned.as_ref()?;
        Some(
            self.digest
                .get_or_init(|| match scanned {
                    Ok(tree) => tree_digest(tree).map_err(Arc::new),
                    Err(e) => Err(Arc::clone(e)),
                })
                .clone(),
        )
    }
}

/// What a plan records of a source tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDigest {
    /// [`tree_hash`].
    pub hash: String,
    /// Package path → [`short_hash`], in package order.
    pub files: Vec<(String, String)>,
}

/// A file's short hash: the first 12 hex digits of the SHA-256 of its
/// content (what `sha256sum` prints), and `+x` when it is executable.
pub fn short_hash(digest: &[u8; 32], executable: bool) -> String {
    let mut h = hex::encode(&digest[..6]);
    if executable {
        h.push_str("+x");
    }
    h
}

/// [`tree_hash`] and the files' short hashes.
pub fn tree_digest(tree: &SourceTree) -> Result<SourceDigest, SourceError> {
    let digests = hash_files_parallel(&tree.files)?;
    Ok(SourceDigest {
        hash: combine(tree, &digests),
        files: tree
            .files
            .iter()
            .zip(&digests)
            .map(|(f, d)| (f.name.clone(), short_hash(d, f.executable)))
            .collect(),
    })
}

/// The files of a source directory, sorted by package path.
#[derive(Clone, Debug)]
pub struct SourceTree {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
}

impl SourceTree {
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

fn skipped(name: &str) -> bool {
    SKIPPED_NAMES.contains(&name) || SKIPPED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lists the files to package under `root` (following symbolic links);
/// also how an installed dependency tree is listed.
/// Stops with [`SourceError::TooLarge`] as soon as the files exceed Lambda's
/// unzipped limit, so a mistaken `source_dir` (say `/`) fails fast instead
/// of hashing a whole disk.
pub fn scan(root: &Path) -> Result<SourceTree, SourceError> {
    scan_limited(root, MAX_UNZIPPED_BYTES)
}

/// [`scan`] up to `limit` bytes; beyond a zip's limit a refusal gives an
/// image's advice.
pub fn scan_limited(root: &Path, limit: u64) -> Result<SourceTree, SourceError> {
    walk(root, limit, None)
}

/// [`scan_limited`] without what `exclude` leaves out: how a function's
/// source directory is listed, for the hash and for the package alike.
pub fn scan_excluding(
    root: &Path,
    limit: u64,
    exclude: &Exclude,
) -> Result<SourceTree, SourceError> {
    walk(root, limit, Some(exclude))
}

/// Whether `root` is a directory that can be scanned; the error says why
/// not.
pub fn check_dir(root: &Path) -> Result<(), SourceError> {
    if root.as_os_str().is_empty() {
        return Err(SourceError::NotSet);
    }
    let meta = match fs::metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SourceError::Missing {
                path: root.to_owned(),
            });
        }
        Err(e) => return Err(io_err(root)(e)),
    };
    if !meta.is_dir() {
        return Err(SourceError::NotADirectory {
            path: root.to_owned(),
        });
    }
    Ok(())
}

/// Whether the walk keeps `entry`: not a fixed skip, not left out by
/// `exclude`.
fn kept(root: &Path, entry: &walkdir::DirEntry, exclude: Option<&Exclude>) -> bool {
    if entry.depth() == 0 {
        return true;
    }
    if entry.file_name().to_str().is_some_and(skipped) {
        return false;
    }
    let Some(exclude) = exclude else {
        return true;
    };
    let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
    if entry.file_type().is_dir() {
        !exclude.skips_dir(rel)
    } else {
        !exclude.skips_file(rel)
    }
}

fn walk(root: &Path, limit: u64, exclude: Option<&Exclude>) -> Result<SourceTree, SourceError> {
    check_dir(root)?;
    let mut files = Vec::new();
    let mut total = 0u64;
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| kept(root, e, exclude));
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_owned();
            SourceError::Io {
                path,
                source: e.into(),
            }
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let mut name = String::new();
        for part in rel.components() {
            let part = part
                .as_os_str()
                .to_str()
                .ok_or_else(|| SourceError::NonUtf8Name {
                    path: entry.path().to_owned(),
                })?;
            if !name.is_empty() {
                name.push('/');
            }
            name.push_str(part);
        }
        let meta = entry.metadata().map_err(|e| SourceError::Io {
            path: entry.path().to_owned(),
            source: e.into(),
        })?;
        total = total.saturating_add(meta.len());
        files.push(SourceFile {
            name,
            path: entry.path().to_owned(),
            executable: is_executable(&meta),
            size: meta.len(),
        });
        if total > limit {
            let all: Vec<&SourceFile> = files.iter().collect();
            return Err(SourceError::TooLarge {
                path: root.to_owned(),
                limit,
                message: too_large_message(total, limit, Kind::for_limit(limit), &all),
            });
        }
    }
    if files.is_empty() {
        return Err(SourceError::Empty {
            path: root.to_owned(),
            excluding: exclude.is_some_and(Exclude::has_patterns),
        });
    }
    // Sort by the package path (walkdir sorts per directory by OS name).
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SourceTree {
        root: root.to_owned(),
        files,
    })
}

/// How many of the largest entries a refusal names.
const LARGEST_SHOWN: usize = 5;

/// A size in MB with one decimal, as people read it.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Why `total` bytes of `files` (a package, or the part of it read so far)
/// are over `limit` unzipped: the size, the largest top-level directories
/// or files, and the ways out for a package of `kind`.
pub fn too_large_message(total: u64, limit: u64, kind: Kind, files: &[&SourceFile]) -> String {
    use std::fmt::Write as _;
    let mut by_dir: std::collections::BTreeMap<&str, u64> = Default::default();
    for f in files {
        let top = f.name.split_once('/').map_or(f.name.as_str(), |(d, _)| d);
        *by_dir.entry(top).or_default() += f.size;
    }
    let mut largest: Vec<(&str, u64)> = by_dir.into_iter().collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut msg = format!(
        "the package is {} ({total} bytes) unzipped, over the {} Lambda allows for {}. \
         Largest entries:",
        mb(total),
        mb(limit),
        kind.noun()
    );
    for (name, size) in largest.iter().take(LARGEST_SHOWN) {
        let _ = write!(msg, "\n  {name}: {}", mb(*size));
    }
    msg.push('\n');
    msg.push_str(kind.advice());
    msg
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// Read size for hashing: large enough that syscalls do not matter, small
/// enough to stay in cache while it is hashed.
const READ_CHUNK: usize = 128 * 1024;

/// Hashes one file through `buf`, a buffer reused for every file a thread
/// hashes (allocating and zeroing a fresh one per file cost more than
/// hashing a small file).
fn hash_file(path: &Path, buf: &mut Vec<u8>) -> Result<[u8; 32], SourceError> {
    let mut file = fs::File::open(path).map_err(io_err(path))?;
    if buf.len() < READ_CHUNK {
        buf.resize(READ_CHUNK, 0);
    }
    let mut hasher = Sha256::new();
    loop {
        let n = match file.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(path)(e)),
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// The tree's content hash (hex). Files are hashed on several threads; the
/// result does not depend on how many.
pub fn tree_hash(tree: &SourceTree) -> Result<String, SourceError> {
    let digests = hash_files_parallel(&tree.files)?;
    Ok(combine(tree, &digests))
}

fn combine(tree: &SourceTree, digests: &[[u8; 32]]) -> String {
    hash_of_digests(&tree.files, digests)
}

/// The tree's content hash from each file's SHA-256 (in `files`' order):
/// what [`tree_hash`] computes, for a caller that read the files itself
/// (the packager hashes each file as it compresses it).
pub fn hash_of_digests(files: &[SourceFile], digests: &[[u8; 32]]) -> String {
    let mut outer = Sha256::new();
    outer.update(b"eventpipe-source-v1\0");
    for (file, digest) in files.iter().zip(digests) {
        outer.update(file.name.as_bytes());
        outer.update([0, u8::from(file.executable)]);
        outer.update(file.size.to_le_bytes());
        outer.update(digest);
    }
    hex::encode(outer.finalize())
}

fn hash_files_parallel(files: &[SourceFile]) -> Result<Vec<[u8; 32]>, SourceError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let total: u64 = files.iter().map(|f| f.size).sum();
    if threads == 1 || files.len() < 2 || total < 1 << 20 {
        let mut buf = Vec::new();
        return files.iter().map(|f| hash_file(&f.path, &mut buf)).collect();
    }
    // Hand out files from a shared counter so big and small files balance.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<[u8; 32]>> = vec![None; files.len()];
    let results = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    let mut buf = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        done.push((i, hash_file(&f.path, &mut buf)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    for (i, r) in results.into_iter().flatten() {
        out[i] = Some(r?);
    }
    out.into_iter()
        .zip(files)
        .map(|(d, f)| {
            d.ok_or_else(|| SourceError::Io {
                path: f.path.clone(),
                source: io::Error::other("hashing thread failed"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }

    /// A tree with what the hash covers: nested names, an executable
    /// file, an empty file and a vendored `node_modules/`.
    fn fixed_tree(dir: &Path) {
        write(
            dir,
            "app.py",
            "def handler(event, context):\n    return 1\n",
        );
        write(dir, "requirements.txt", "six==1.16.0\n");
        write(dir, "lib/util.py", "X = 1\n");
        write(dir, "lib/empty.txt", "");
        write(
            dir,
            "node_modules/left-pad/index.js",
            "module.exports = 1;\n",
        );
        write(dir, "bin/run.sh", "#!/bin/sh\necho hi\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.join("bin/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// The hash of a tree without `function.exclude`, `.venv/` or a
    /// provider-installed `node_modules/` is the one every version before
    /// `exclude` computed (pinned), so no existing pipeline plans a change.
    #[test]
    #[cfg(unix)]
    fn the_hash_of_a_tree_without_exclusions_is_unchanged() {
        let d = tempfile::tempdir().unwrap();
        fixed_tree(d.path());
        let hash = tree_hash(&scan(d.path()).unwrap()).unwrap();
        assert_eq!(
            hash,
            "95ea8ed9b96aa548c2e0136431ae42ddb2a431aaef2010a2e0c227fb625751ec"
        );
    }

    #[test]
    fn caches_and_vcs_folders_are_not_packaged() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "app.py", "x");
        write(d.path(), "lib/util.py", "y");
        write(d.path(), "__pycache__/app.cpython-312.pyc", "z");
        write(d.path(), ".git/HEAD", "ref");
        write(d.path(), "lib/old.pyc", "z");
        let t = scan(d.path()).unwrap();
        let names: Vec<_> = t.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["app.py", "lib/util.py"]);
    }

    #[test]
    fn hash_changes_with_content_and_name_but_not_with_mtime() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "app.py", "print(1)");
        let h1 = tree_hash(&scan(d.path()).unwrap()).unwrap();
        write(d.path(), "app.py", "print(1)");
        assert_eq!(h1, tree_hash(&scan(d.path()).unwrap()).unwrap());
        write(d.path(), "app.py", "print(2)");
        let h2 = tree_hash(&scan(d.path()).unwrap()).unwrap();
        assert_ne!(h1, h2);
        fs::rename(d.path().join("app.py"), d.path().join("main.py")).unwrap();
        assert_ne!(h2, tree_hash(&scan(d.path()).unwrap()).unwrap());
    }

    #[test]
    fn parallel_and_serial_hashing_agree() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..40 {
            write(d.path(), &format!("f{i:02}.bin"), &"x".repeat(60_000 + i));
        }
        let t = scan(d.path()).unwrap();
        let parallel = hash_files_parallel(&t.files).unwrap();
        let serial: Vec<_> = t
            .files
            .iter()
            .map(|f| hash_file(&f.path, &mut Vec::new()).unwrap())
            .collect();
        assert_eq!(parallel, serial);
    }

    #[test]
    fn scanning_stops_at_the_size_limit() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.bin", &"x".repeat(600));
        write(d.path(), "b.bin", &"x".repeat(600));
        assert!(scan_limited(d.path(), 1200).is_ok());
        assert!(matches!(
            scan_limited(d.path(), 1000),
            Err(SourceError::TooLarge { limit: 1000, .. })
        ));
    }

    #[test]
    fn missing_empty_and_file_sources_are_errors() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            scan(&d.path().join("nope")),
            Err(SourceError::Missing { .. })
        ));
        assert!(matches!(scan(d.path()), Err(SourceError::Empty { .. })));
        // What configuration generated for an `adopt:` import holds.
        assert!(matches!(scan(Path::new("")), Err(SourceError::NotSet)));
        write(d.path(), "f", "x");
        assert!(matches!(
            scan(&d.path().join("f")),
            Err(SourceError::NotADirectory { .. })
        ));
    }
}
