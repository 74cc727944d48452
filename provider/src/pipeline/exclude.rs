//! What stays out of the package besides the names never packaged
//! ([`super::source`]'s fixed skips): the gitignore-style patterns of
//! `function.exclude`, relative to `source_dir`, and the default skips:
//! every `.venv/` directory, and the root's `node_modules/` when the
//! provider installs the dependencies (it would be a stale copy of the tree
//! the install puts there).
//!
//! The patterns have git's semantics (the `ignore` crate's gitignore
//! matcher): `dir/` matches directories only, a pattern with a slash is
//! anchored at `source_dir`, `**` spans directories, a later `!pattern`
//! brings back what an earlier one left out, and nothing is brought back
//! from under a directory that is left out (the scan does not enter it).

use std::path::Path;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use thiserror::Error;

/// A virtual environment, never packaged (at any depth).
pub const VENV: &str = ".venv";

/// The directory the provider installs Node.js dependencies into.
pub const NODE_MODULES: &str = "node_modules";

/// A pattern of `function.exclude` that is not a gitignore-style pattern.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{pattern:?} is not a gitignore-style pattern: {why}")]
pub struct PatternError {
    /// Its place in the list.
    pub index: usize,
    pub pattern: String,
    pub why: String,
}

/// What is left out of one source directory.
#[derive(Clone, Debug, Default)]
pub struct Exclude {
    /// `function.exclude`, compiled; `None` when there are no patterns.
    patterns: Option<Gitignore>,
    /// Leave out the root's `node_modules/` (the provider installs the
    /// dependencies).
    installed_node_modules: bool,
}

impl Exclude {
    /// The default skips alone.
    pub fn defaults() -> Exclude {
        Exclude::default()
    }

    /// `patterns` (relative to `root`), and the root's `node_modules/`
    /// when `installed_node_modules`; the first pattern that does not
    /// parse is an error.
    pub fn new(
        root: &Path,
        patterns: &[String],
        installed_node_modules: bool,
    ) -> Result<Exclude, PatternError> {
        let compiled = if patterns.is_empty() {
            None
        } else {
            Some(compile(root, patterns)?)
        };
        Ok(Exclude {
            patterns: compiled,
            installed_node_modules,
        })
    }

    /// Whether `function.exclude` has patterns.
    pub fn has_patterns(&self) -> bool {
        self.patterns.is_some()
    }

    /// Whether the directory `rel` (relative to the root, not empty) is
    /// left out with all it holds.
    pub fn skips_dir(&self, rel: &Path) -> bool {
        rel.file_name().is_some_and(|n| n == VENV)
            || (self.installed_node_modules && rel == Path::new(NODE_MODULES))
            || self
                .patterns
                .as_ref()
                .is_some_and(|g| g.matched(rel, true).is_ignore())
    }

    /// Whether the file `rel` (relative to the root), in a directory that
    /// is not left out, is.
    pub fn skips_file(&self, rel: &Path) -> bool {
        self.patterns
            .as_ref()
            .is_some_and(|g| g.matched(rel, false).is_ignore())
    }

    /// The pattern of `function.exclude` that leaves out the file `name`
    /// (a package path, `/`-separated), as git decides it: the one that
    /// leaves out its first excluded directory, else its own last match.
    /// `None` when the patterns keep it.
    pub fn pattern_excluding(&self, name: &str) -> Option<String> {
        let g = self.patterns.as_ref()?;
        let parts: Vec<&str> = name.split('/').collect();
        for depth in 1..parts.len() {
            let dir = parts[..depth].join("/");
            if let Match::Ignore(glob) = g.matched(Path::new(&dir), true) {
                return Some(glob.original().to_owned());
            }
        }
        match g.matched(Path::new(name), false) {
            Match::Ignore(glob) => Some(glob.original().to_owned()),
            _ => None,
        }
    }
}

/// Compiles `patterns`, each checked alone so an error names its place.
fn compile(root: &Path, patterns: &[String]) -> Result<Gitignore, PatternError> {
    let mut builder = GitignoreBuilder::new(root);
    // `[abc` is an error, not a literal: a better failure for a typo.
    builder.allow_unclosed_class(false);
    for (index, pattern) in patterns.iter().enumerate() {
        let refuse = |why: String| PatternError {
            index,
            pattern: pattern.clone(),
            why,
        };
        if let Some(why) = matches_nothing(pattern) {
            return Err(refuse(why.to_owned()));
        }
        builder
            .add_line(None, pattern)
            .map_err(|e| refuse(glob_error(&e)))?;
    }
    builder.build().map_err(|e| PatternError {
        index: 0,
        pattern: patterns.join(", "),
        why: glob_error(&e),
    })
}

/// Why a pattern git would read as no pattern at all is refused (it can
/// only be a mistake in a list of patterns).
fn matches_nothing(pattern: &str) -> Option<&'static str> {
    let trimmed = pattern.trim();
    if trimmed.is_empty() || trimmed == "!" || trimmed == "/" || trimmed == "!/" {
        Some("it is empty, so it matches nothing")
    } else if trimmed.starts_with('#') {
        Some(
            "a line starting with `#` is a comment in gitignore and matches nothing; write \
             `\\#name` for a name that starts with #",
        )
    } else {
        None
    }
}

/// The glob error without the crate's own framing.
fn glob_error(e: &ignore::Error) -> String {
    match e {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Exclude {
        let p: Vec<String> = patterns.iter().map(|s| (*s).to_owned()).collect();
        Exclude::new(Path::new("/src"), &p, false).unwrap()
    }

    #[test]
    fn patterns_have_gits_semantics() {
        let e = ex(&[
            "notebooks/",
            "*.parquet",
            "!keep.parquet",
            "/top-only",
            "**/fixtures/",
        ]);
        let dir = |p: &str| e.skips_dir(Path::new(p));
        let file = |p: &str| e.skips_file(Path::new(p));
        assert!(dir("notebooks") && dir("a/notebooks"));
        // `dir/` matches directories only.
        assert!(!file("notebooks"));
        assert!(file("data.parquet") && file("a/b/data.parquet"));
        assert!(!file("keep.parquet") && !file("a/keep.parquet"));
        assert!(file("top-only") && dir("top-only"));
        assert!(!file("a/top-only"));
        assert!(dir("fixtures") && dir("tests/unit/fixtures"));
        assert!(!file("app.py") && !dir("lib"));
    }

    #[test]
    fn the_defaults_skip_virtualenvs_and_an_installed_node_modules() {
        let none = Exclude::defaults();
        assert!(none.skips_dir(Path::new(".venv")) && none.skips_dir(Path::new("a/.venv")));
        assert!(
            !none.skips_file(Path::new(".venv")),
            "a file named .venv stays"
        );
        assert!(!none.skips_dir(Path::new("node_modules")));
        let installed = Exclude::new(Path::new("/src"), &[], true).unwrap();
        assert!(installed.skips_dir(Path::new("node_modules")));
        assert!(!installed.skips_dir(Path::new("lib/node_modules")));
    }

    #[test]
    fn the_pattern_that_leaves_a_file_out_is_named() {
        let e = ex(&["src/", "*.py", "!app.py", "data/**"]);
        assert_eq!(e.pattern_excluding("src/a/b.py").as_deref(), Some("src/"));
        assert_eq!(e.pattern_excluding("lib/x.py").as_deref(), Some("*.py"));
        assert_eq!(e.pattern_excluding("app.py"), None);
        assert_eq!(
            e.pattern_excluding("data/x/y.csv").as_deref(),
            Some("data/**")
        );
        assert_eq!(Exclude::defaults().pattern_excluding("app.py"), None);
    }

    #[test]
    fn a_bad_pattern_is_refused_with_its_place() {
        let bad = |patterns: &[&str]| {
            let p: Vec<String> = patterns.iter().map(|s| (*s).to_owned()).collect();
            Exclude::new(Path::new("/src"), &p, false).unwrap_err()
        };
        let e = bad(&["ok/", "data[0-9"]);
        assert_eq!((e.index, e.pattern.as_str()), (1, "data[0-9"));
        assert!(e.why.contains("unclosed"), "{}", e.why);
        assert_eq!(bad(&["{a,b"]).index, 0);
        assert_eq!(bad(&["x", ""]).index, 1);
        assert!(bad(&["# notes"]).why.contains("comment"));
        assert!(bad(&["!"]).why.contains("empty"));
    }
}
