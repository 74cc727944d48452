//! `function.slim`: the installed dependencies without what a function
//! never runs. Only the installed tree is slimmed, never the user's source.
//!
//! Dropped:
//! - directories named `tests` or `test` (numpy's `_core/tests`, pandas'
//!   `tests`, scipy's and scikit-learn's per-module `tests`, joblib's
//!   `test`), and pytest's `conftest.py`, unless a module that stays
//!   imports from one: `numpy.testing` imports `numpy._core.tests._natype`
//!   (numpy 2.2), and `from numpy import *` imports `numpy.testing`, so
//!   that directory stays whole. The imports are read from the source of
//!   every kept module (`import a.tests.b`, `from ..tests import x`, `from
//!   . import tests`; in JavaScript, `require("./test/x")`, `import … from
//!   "pkg/test/x"`), again for the modules imported from the directories
//!   kept, until none is added.
//!   `testing` and `_testing` (numpy.testing, pandas._testing) are modules
//!   others import, and stay;
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

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

use rayon::prelude::*;

use crate::pipeline::source::{self, SourceError, SourceFile};

/// The version of these rules, part of the slim tree's cache key and of
/// the package hash: a change of the rules is a new tree.
pub const RULES: &str = "slim-v1";

/// Directory names dropped wherever they are in the installed tree.
const CACHE_DIRS: &[&str] = &["__pycache__"];

/// Test directories: dropped unless a kept module imports from them.
const TEST_DIRS: &[&str] = &["tests", "test"];

/// File names dropped (pytest's configuration).
const DROPPED_FILES: &[&str] = &["conftest.py"];

/// File endings dropped from the installed tree.
const DROPPED_SUFFIXES: &[&str] = &[
    ".h", ".hh", ".hpp", ".hxx", ".h++", ".cuh", ".pyi", ".pyx", ".pxd", ".pxi",
];

/// Whether the file `name` (a `/`-separated path in the installed tree) is
/// left out of a slim package, with `kept` the test directories that stay
/// ([`kept_test_dirs`]).
pub fn dropped(name: &str, kept: &BTreeSet<String>) -> bool {
    dropped_by_name(name) || test_dir(name).is_some_and(|d| !kept.contains(d))
}

/// Dropped whatever imports what: caches, headers, stubs, `conftest.py`.
fn dropped_by_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let file = parts.next_back().unwrap_or_default();
    parts.any(|dir| CACHE_DIRS.contains(&dir))
        || DROPPED_FILES.contains(&file)
        || DROPPED_SUFFIXES
            .iter()
            .any(|s| file.len() > s.len() && file.ends_with(s))
}

/// The outermost test directory `name` is in (`numpy/_core/tests` for
/// `numpy/_core/tests/_natype.py`).
fn test_dir(name: &str) -> Option<&str> {
    let mut end = 0;
    let mut parts = name.split('/').peekable();
    while let Some(part) = parts.next() {
        // The last part is the file itself.
        parts.peek()?;
        end += part.len();
        if TEST_DIRS.contains(&part) {
            return Some(&name[..end]);
        }
        end += 1;
    }
    None
}

/// Sources whose imports are read: Python, and JavaScript (`npm ci`).
const SOURCES: &[&str] = &[".py", ".js", ".cjs", ".mjs"];

/// The module paths of the tree an import of `module` may load: a Python
/// module or package, a JavaScript file or directory.
fn module_files(module: &str) -> [String; 6] {
    [
        format!("{module}.py"),
        format!("{module}/__init__.py"),
        module.to_owned(),
        format!("{module}.js"),
        format!("{module}/index.js"),
        format!("{module}.cjs"),
    ]
}

/// `parts` with `.` and `..` resolved.
fn normalise<'a>(parts: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for p in parts {
        match p {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out
}

/// The modules a JavaScript source loads (`require("…")`, `import … from
/// "…"`, `import("…")`), as paths from the tree's root: a relative
/// specifier from `file`'s directory, a bare one from the `node_modules`
/// `file` is in (or the tree's own).
fn js_imports(file: &str, source: &str) -> Vec<String> {
    let dir: Vec<&str> = {
        let mut p: Vec<&str> = file.split('/').collect();
        p.pop();
        p
    };
    let modules_root: Vec<&str> = match dir.iter().rposition(|p| *p == "node_modules") {
        Some(i) => dir[..=i].to_vec(),
        None => vec!["node_modules"],
    };
    let mut out = Vec::new();
    for opener in ["require(", "from ", "import(", "import "] {
        for (at, _) in source.match_indices(opener) {
            let rest = source[at + opener.len()..].trim_start();
            let Some(quote) = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))
            else {
                continue;
            };
            let Some(spec) = rest[1..].split(quote).next() else {
                continue;
            };
            let path = if spec.starts_with("./") || spec.starts_with("../") {
                normalise(dir.iter().copied().chain(spec.split('/')))
            } else {
                normalise(modules_root.iter().copied().chain(spec.split('/')))
            };
            out.push(path.join("/"));
        }
    }
    out
}

/// The modules a source imports, as `/`-separated paths from the tree's
/// root: for Python, `a/b/tests/c` for `import a.b.tests.c`, relative
/// imports resolved from `file`, the source's own path, and a name imported
/// `from` a module listed as a module too (`from . import tests`); for
/// JavaScript, [`js_imports`].
fn imports(file: &str, source: &str) -> Vec<String> {
    if !file.ends_with(".py") {
        return js_imports(file, source);
    }
    let package: Vec<&str> = {
        let mut p: Vec<&str> = file.split('/').collect();
        p.pop();
        p
    };
    let mut out = Vec::new();
    for line in source.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            let level = module.len() - module.trim_start_matches('.').len();
            let mut base: Vec<&str> = if level == 0 {
                Vec::new()
            } else {
                let up = (level - 1).min(package.len());
                package[..package.len() - up].to_vec()
            };
            base.extend(module[level..].split('.').filter(|p| !p.is_empty()));
            let names = names.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace());
            for name in names.split(',') {
                let name = name.split_whitespace().next().unwrap_or_default();
                if !name.is_empty() && name != "*" {
                    out.push([base.as_slice(), &[name]].concat().join("/"));
                }
            }
            out.push(base.join("/"));
        } else if let Some(rest) = line.strip_prefix("import ") {
            for module in rest.split(',') {
                let module = module.split_whitespace().next().unwrap_or_default();
                out.push(module.replace('.', "/"));
            }
        }
    }
    out
}

/// The test directories of `files` that a kept module imports from,
/// directly or through the modules it imports there. A directory is kept
/// whole, but only the modules imported from it (and its `__init__.py`)
/// are read in turn: its test files' own imports do not keep more.
pub fn kept_test_dirs(files: &[SourceFile]) -> io::Result<BTreeSet<String>> {
    let sources: BTreeMap<&str, &SourceFile> = files
        .iter()
        .filter(|f| SOURCES.iter().any(|x| f.name.ends_with(x)) && !dropped_by_name(&f.name))
        .map(|f| (f.name.as_str(), f))
        .collect();
    let dirs: BTreeSet<&str> = files.iter().filter_map(|f| test_dir(&f.name)).collect();
    let mut kept = BTreeSet::new();
    let mut read: BTreeSet<&str> = BTreeSet::new();
    let mut to_read: Vec<&SourceFile> = sources
        .values()
        .copied()
        .filter(|f| test_dir(&f.name).is_none())
        .collect();
    while !to_read.is_empty() {
        read.extend(to_read.iter().map(|f| f.name.as_str()));
        let found = to_read
            .par_iter()
            .map(|f| {
                let bytes = fs::read(&f.path)?;
                Ok(imports(&f.name, &String::from_utf8_lossy(&bytes)))
            })
            .collect::<io::Result<Vec<Vec<String>>>>()?;
        let mut next = BTreeSet::new();
        for module in found.iter().flatten() {
            // `a/tests/b` is in the test directory `a/tests`.
            let probe = format!("{module}/");
            let Some(dir) = test_dir(&probe).filter(|d| dirs.contains(d)) else {
                continue;
            };
            if kept.insert(dir.to_owned()) {
                next.insert(format!("{dir}/__init__.py"));
            }
            next.extend(module_files(module));
        }
        to_read = next
            .iter()
            .filter_map(|n| sources.get(n.as_str()).copied())
            .filter(|f| !read.contains(f.name.as_str()))
            .collect();
    }
    Ok(kept)
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
    let tests_kept = kept_test_dirs(&files)?;
    let (gone, kept): (Vec<&SourceFile>, Vec<&SourceFile>) =
        files.iter().partition(|f| dropped(&f.name, &tests_kept));
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
