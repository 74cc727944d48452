//! `function.slim`: the installed dependencies without what a function
//! never runs. Only the installed tree is slimmed, never the user's source.
//!
//! Dropped:
//! - directories named `tests` or `test` (numpy's `_core/tests`, pandas'
//!   `tests`, scipy's and scikit-learn's per-module `tests`, joblib's
//!   `test`). No module of the published data stack imports one at run
//!   time; `testing` and `_testing` (numpy.testing, pandas._testing) are
//!   modules others import, and stay;
//! - `__pycache__` (the runtime compiles what it imports);
//! - C and C++ headers (`.h`, `.hh`, `.hpp`, `.hxx`, `.h++`, `.cuh`): they
//!   build extensions against a library, which a function does not do;
//! - type stubs and Cython sources (`.pyi`, `.pyx`, `.pxd`, `.pxi`).
//!
//! Shared objects (`*.so`, `*.so.N…`) are stripped of their debug sections
//! and static symbols ([`elf`]). Every other file is kept as it is.
//!
//! The slim tree is made once from an installed tree ([`derive`]) and
//! cached beside it under its own key, so turning `slim` on or off never
//! installs again; the zip, the image and the plan's size check all read
//! it.

pub mod elf;

use std::fs;
use std::io;
use std::path::Path;

use rayon::prelude::*;

use crate::pipeline::source::{self, SourceError, SourceFile};

/// The version of these rules, part of the slim tree's cache key and of
/// the package hash: a change of the rules is a new tree.
pub const RULES: &str = "slim-v1";

/// Directory names dropped wherever they are in the installed tree.
const DROPPED_DIRS: &[&str] = &["tests", "test", "__pycache__"];

/// File endings dropped from the installed tree.
const DROPPED_SUFFIXES: &[&str] = &[
    ".h", ".hh", ".hpp", ".hxx", ".h++", ".cuh", ".pyi", ".pyx", ".pxd", ".pxi",
];

/// Whether the file `name` (a `/`-separated path in the installed tree) is
/// left out of a slim package.
pub fn dropped(name: &str) -> bool {
    let mut parts = name.split('/');
    let file = parts.next_back().unwrap_or_default();
    parts.any(|dir| DROPPED_DIRS.contains(&dir))
        || DROPPED_SUFFIXES
            .iter()
            .any(|s| file.len() > s.len() && file.ends_with(s))
}

/// Whether `name` is named as a shared object: `x.so`, or a versioned
/// `libx.so.1.2`.
pub fn is_shared_object(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.find(".so") {
        None => false,
        Some(_) if file.ends_with(".so") => file.len() > 3,
        Some(i) => {
            let tail = &file[i + 3..];
            // `.so.1`, `.so.1.2.3`: dots and digits only.
            tail.starts_with('.')
                && tail.len() > 1
                && tail[1..]
                    .split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

/// What [`derive`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files kept (stripped or as they are).
    pub kept: usize,
    pub dropped: usize,
    pub stripped: usize,
    /// The slim tree's size, in bytes.
    pub size: u64,
}

/// Makes the slim copy of the installed tree `from` in the empty directory
/// `into`: the files [`dropped`] left out, the shared objects stripped, the
/// rest hard-linked (copied where links cannot be made). The same tree
/// gives the same files.
pub fn derive(from: &Path, into: &Path) -> io::Result<Summary> {
    let files = match source::scan_limited(from, u64::MAX) {
        Ok(t) => t.files,
        Err(SourceError::Empty { .. }) => Vec::new(),
        Err(e) => return Err(io::Error::other(e.to_string())),
    };
    let (gone, kept): (Vec<&SourceFile>, Vec<&SourceFile>) =
        files.iter().partition(|f| dropped(&f.name));
    let sizes = kept
        .par_iter()
        .map(|f| keep(f, &into.join(&f.name)))
        .collect::<io::Result<Vec<(u64, bool)>>>()?;
    Ok(Summary {
        kept: kept.len(),
        dropped: gone.len(),
        stripped: sizes.iter().filter(|(_, s)| *s).count(),
        size: sizes.iter().map(|(n, _)| n).sum(),
    })
}

/// Puts `f` at `dst`, stripped when it is a shared object that can be:
/// its size there, and whether it was stripped.
fn keep(f: &SourceFile, dst: &Path) -> io::Result<(u64, bool)> {
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent)?;
    }
    if is_shared_object(&f.name)
        && let elf::Outcome::Stripped { after, .. } = elf::strip(&f.path, dst)?
    {
        return Ok((after, true));
    }
    // A link (as npm makes in `node_modules/.bin`) is copied as the file it
    // names: a hard link would be to the link itself.
    let is_link = fs::symlink_metadata(&f.path)?.file_type().is_symlink();
    if is_link || fs::hard_link(&f.path, dst).is_err() {
        fs::copy(&f.path, dst)?;
    }
    Ok((f.size, false))
}

#[cfg(test)]
mod tests;
