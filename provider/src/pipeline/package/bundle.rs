//! `function.bundle`: a Node.js handler (`.ts`, `.mts` or `.js`) bundled
//! with esbuild into one file plus its source map, which is all the
//! package holds.
//!
//! - The entry is the handler's module: `src/index.handler` is the first of
//!   `src/index.ts`, `src/index.mts`, `src/index.js` in the source.
//! - The output keeps the module's path so Lambda's handler string still
//!   resolves: `src/index.js` (CommonJS: Lambda loads a `.js` as CommonJS
//!   when no `package.json` says otherwise, and the package holds none), or
//!   for an `.mts` entry `src/index.mjs` (ES module: an `.mts` file is an ES
//!   module, which may use top-level `await`, which CommonJS cannot hold).
//! - esbuild runs in a temporary directory that links the source's
//!   top-level entries and, when the `package.json` declares dependencies,
//!   `node_modules` of the installed tree (the same installation and cache
//!   as an unbundled package), with `--preserve-symlinks`: every path
//!   esbuild writes (comments, the map's `sources`) is relative to that
//!   directory, so the same inputs give the same bytes on every machine.
//!   The source's own `node_modules` (the developer's tools) is never read.
//!   esbuild writes the bundle and its map at the top of that directory,
//!   whatever the entry's depth, under a name the source's entries do not
//!   take; the bundle's last comment is then made to name its map by the
//!   bundle's own name, and the map's `sources` are rebased to the
//!   bundle's place in the package.
//! - esbuild is the project's own (`<source_dir>/node_modules/.bin/esbuild`,
//!   the version its lock pins), else the first on `PATH`. Its version is
//!   not hashed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::deps::Deps;
use super::zip::InMemory;
use crate::pipeline::source::{SourceFile, SourceTree};
use crate::pipeline::state::attr;
use crate::temp_name::TempDir;

/// The entry file extensions, in the order they are looked for.
pub const ENTRY_EXTENSIONS: &[&str] = &["ts", "mts", "js"];

/// The file esbuild writes the bundle to, at the top of its working
/// directory (a directory made there would cost time on some file systems);
/// its map is beside it with `.map` appended. Neither is linked from the
/// source.
const OUT_FILE: &str = ".eventpipe-bundle.js";

/// The map esbuild writes beside [`OUT_FILE`]: its name with `.map`.
const OUT_MAP: &str = ".eventpipe-bundle.js.map";

/// The comment esbuild ends the bundle with, naming its map.
const MAP_COMMENT: &[u8] = b"//# sourceMappingURL=";

/// Why a bundle cannot be planned or built; each names what to change.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(
        "function.bundle = true bundles a Node.js handler with esbuild, but the runtime is \
         {runtime}; set bundle = false, or use a nodejs runtime"
    )]
    NotNode { runtime: String },
    #[error(
        "function.bundle = true is for a zip package; a container image (package_type = \
         \"image\") is not bundled: set bundle = false"
    )]
    Image,
    #[error("handler {handler:?} must be `<module>.<function>`, e.g. `index.handler`")]
    BadHandler { handler: String },
    #[error(
        "handler {handler:?} names the entry file {}, but none of them is in {dir}",
        tried.join(", ")
    )]
    NoEntry {
        handler: String,
        tried: Vec<String>,
        dir: PathBuf,
    },
    #[error("{0}")]
    NoEsbuild(String),
    #[error("esbuild failed ({status}):\n{output}{hint}")]
    Failed {
        status: String,
        output: String,
        hint: &'static str,
    },
    #[error("bundling: {0}")]
    Io(#[from] std::io::Error),
}

impl BundleError {
    /// The attribute of the `function` block a diagnostic points at.
    pub fn attr(&self) -> &'static str {
        match self {
            BundleError::BadHandler { .. } | BundleError::NoEntry { .. } => attr::HANDLER,
            BundleError::Io(_) => attr::SOURCE_DIR,
            _ => attr::BUNDLE,
        }
    }
}

/// The module format esbuild writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    CommonJs,
    Esm,
}

/// The entry file and the file the bundle is written to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry in the source, e.g. `src/index.ts`.
    pub source: String,
    /// The bundle in the package, e.g. `src/index.js`; its map is beside
    /// it with `.map` appended.
    pub output: String,
    pub format: Format,
}

/// The entry `handler` names in `tree`.
pub fn entry(handler: &str, tree: &SourceTree) -> Result<Entry, BundleError> {
    let has = |name: &str| tree.files.iter().any(|f| f.name == name);
    entry_where(handler, has, &tree.root)
}

/// The entry `handler` names among the files for which `has` holds, in
/// the source directory `dir`.
fn entry_where(
    handler: &str,
    has: impl Fn(&str) -> bool,
    dir: &Path,
) -> Result<Entry, BundleError> {
    let module = match handler.rsplit_once('.') {
        Some((m, f)) if !m.is_empty() && !f.is_empty() => m,
        _ => {
            return Err(BundleError::BadHandler {
                handler: handler.to_owned(),
            });
        }
    };
    let tried: Vec<String> = ENTRY_EXTENSIONS
        .iter()
        .map(|ext| format!("{module}.{ext}"))
        .collect();
    let Some(source) = tried.iter().find(|name| has(name)) else {
        return Err(BundleError::NoEntry {
            handler: handler.to_owned(),
            tried,
            dir: dir.to_owned(),
        });
    };
    let (output, format) = if source.ends_with(".mts") {
        (format!("{module}.mjs"), Format::Esm)
    } else {
        (format!("{module}.js"), Format::CommonJs)
    };
    Ok(Entry {
        source: source.clone(),
        output,
        format,
    })
}

/// A planned bundle: its entry, and the target it is built for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub entry: Entry,
    pub runtime: String,
    pub architecture: String,
}

/// esbuild's `--target` for a Lambda Node.js runtime: `nodejs22.x` →
/// `node22`.
pub fn node_target(runtime: &str) -> Option<String> {
    let major: String = runtime
        .strip_prefix("nodejs")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!major.is_empty()).then(|| format!("node{major}"))
}

impl Bundle {
    /// The bundle of `handler`'s entry in `tree` for `runtime`.
    pub fn plan(
        handler: &str,
        tree: &SourceTree,
        runtime: &str,
        architecture: &str,
    ) -> Result<Bundle, BundleError> {
        Bundle::of(entry(handler, tree), runtime, architecture)
    }

    /// The bundle of `handler`'s entry as it is on disk in `source_dir`,
    /// found without a scan: [`Bundle::plan`]'s unless the scan leaves the
    /// entry out (`exclude`, or a directory the scan skips).
    pub fn on_disk(
        handler: &str,
        source_dir: &Path,
        runtime: &str,
        architecture: &str,
    ) -> Result<Bundle, BundleError> {
        let has = |name: &str| source_dir.join(name).is_file();
        Bundle::of(entry_where(handler, has, source_dir), runtime, architecture)
    }

    fn of(
        entry: Result<Entry, BundleError>,
        runtime: &str,
        architecture: &str,
    ) -> Result<Bundle, BundleError> {
        if node_target(runtime).is_none() {
            return Err(BundleError::NotNode {
                runtime: runtime.to_owned(),
            });
        }
        Ok(Bundle {
            entry: entry?,
            runtime: runtime.to_owned(),
            architecture: architecture.to_owned(),
        })
    }

    /// esbuild's options besides the paths: what the hash covers.
    pub fn options(&self) -> Vec<String> {
        let target = node_target(&self.runtime).unwrap_or_else(|| "node20".into());
        let format = match self.entry.format {
            Format::CommonJs => "cjs",
            Format::Esm => "esm",
        };
        [
            "--bundle".to_owned(),
            "--platform=node".to_owned(),
            format!("--target={target}"),
            format!("--format={format}"),
            "--sourcemap".to_owned(),
            "--external:@aws-sdk/*".to_owned(),
            "--preserve-symlinks".to_owned(),
            "--charset=utf8".to_owned(),
            "--log-level=warning".to_owned(),
        ]
        .into()
    }

    /// The package's `source_code_hash`: the inputs esbuild reads (the
    /// source files, `tsconfig.json` among them, as `tree_hash`; the
    /// dependencies' lock through their key), the entry, the runtime, the
    /// architecture and esbuild's options. Not esbuild's version.
    pub fn package_hash(&self, tree_hash: &str, deps: Option<&Deps>) -> String {
        let mut h = Sha256::new();
        h.update(b"eventpipe-bundle-v1\0");
        let key = deps.map(Deps::key).unwrap_or_default();
        let parts = [
            tree_hash,
            &key,
            &self.runtime,
            &self.architecture,
            &self.entry.source,
            &self.entry.output,
        ];
        for part in parts.into_iter().map(str::to_owned).chain(self.options()) {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// Runs `esbuild` in `work` (its links to the source and to the
    /// installed `node_modules`, when there is one), and returns the
    /// bundle and its map, read into memory and ready to zip. esbuild
    /// writes them as [`OUT_FILE`] at the top of `work`, whatever the
    /// entry's depth; the bundle's last comment is then made to name its
    /// map by the bundle's own name, and the map's `sources` are rebased
    /// to the bundle's place in the package.
    pub fn build(&self, esbuild: &Path, work: &WorkDir) -> Result<Vec<InMemory>, BundleError> {
        let work = work.path();
        let mut cmd = Command::new(esbuild);
        cmd.arg(&self.entry.source)
            .args(self.options())
            .arg(format!("--outfile={OUT_FILE}"))
            .current_dir(work)
            .env_remove("NODE_PATH")
            .stdin(Stdio::null());
        let ran = cmd.output().map_err(|e| {
            BundleError::NoEsbuild(format!("cannot run {}: {e}", esbuild.display()))
        })?;
        if !ran.status.success() {
            let mut output = String::from_utf8_lossy(&ran.stderr).into_owned();
            output.push_str(&String::from_utf8_lossy(&ran.stdout));
            let tail: Vec<&str> = output.lines().rev().take(30).collect();
            let output = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
            let hint = if output.contains(".node") {
                "\na native addon (a `.node` file) cannot be bundled: set bundle = false to \
                 package node_modules as it is installed"
            } else {
                ""
            };
            return Err(BundleError::Failed {
                status: ran.status.to_string(),
                output,
                hint,
            });
        }
        let depth = self.entry.output.matches('/').count();
        let read = |package_name: String, written: String| {
            let path = work.join(written);
            let body = fs::read(&path).map_err(|e| {
                BundleError::Io(std::io::Error::other(format!(
                    "reading {} that esbuild wrote: {e}",
                    path.display()
                )))
            })?;
            let file = SourceFile {
                name: package_name,
                path,
                executable: false,
                size: body.len() as u64,
            };
            Ok::<_, BundleError>(InMemory { file, body })
        };
        let mut bundle = read(self.entry.output.clone(), OUT_FILE.to_owned())?;
        let mut map = read(format!("{}.map", self.entry.output), OUT_MAP.to_owned())?;
        // The map is named by the bundle's own name, beside it.
        let name = self.entry.output.rsplit('/').next().unwrap_or_default();
        bundle.body = rename_map(bundle.body, &format!("{name}.map"))?;
        bundle.file.size = bundle.body.len() as u64;
        map.body = rebase_map(&map.body, depth)?;
        map.file.size = map.body.len() as u64;
        Ok(vec![bundle, map])
    }
}

/// `bundle` as esbuild wrote it, its last line (the comment naming its
/// map, [`OUT_MAP`]) naming `map` instead.
fn rename_map(mut bundle: Vec<u8>, map: &str) -> Result<Vec<u8>, BundleError> {
    let written = [MAP_COMMENT, OUT_MAP.as_bytes(), b"\n"].concat();
    if !bundle.ends_with(&written) {
        return Err(BundleError::Io(std::io::Error::other(format!(
            "esbuild's bundle does not end with the comment naming its map ({})",
            String::from_utf8_lossy(&written).trim_end()
        ))));
    }
    bundle.truncate(bundle.len() - written.len());
    bundle.extend_from_slice(MAP_COMMENT);
    bundle.extend_from_slice(map.as_bytes());
    bundle.push(b'\n');
    Ok(bundle)
}

/// The `sources` of the map esbuild wrote, as the package has them with
/// the bundle `depth` directories below its root: esbuild wrote them
/// relative to the top of its working directory, where it wrote the
/// bundle, so each relative path gains one `../` per level of the
/// bundle's directory (`src/index.ts` for a bundle in `src/` becomes
/// `../src/index.ts`; for a bundle at the root it stays `src/index.ts`).
/// Only that array is rewritten: the rest of the map (the sources'
/// contents, the mappings: nearly all of its bytes) is kept as esbuild
/// wrote it, scanned but not copied into values.
fn rebase_map(map: &[u8], depth: usize) -> Result<Vec<u8>, BundleError> {
    let bad = |why: String| {
        BundleError::Io(std::io::Error::other(format!(
            "esbuild's source map: {why}"
        )))
    };
    let Some((start, end)) = top_level_value(map, "sources").map_err(bad)? else {
        return Ok(map.to_vec());
    };
    let sources: serde_json::Value =
        serde_json::from_slice(&map[start..end]).map_err(|e| bad(e.to_string()))?;
    let serde_json::Value::Array(sources) = sources else {
        return Ok(map.to_vec());
    };
    let up = "../".repeat(depth);
    let sources: Vec<serde_json::Value> = sources
        .into_iter()
        .map(|s| match s.as_str() {
            Some(path) if !path.starts_with('/') => {
                serde_json::Value::String(format!("{up}{path}"))
            }
            _ => s,
        })
        .collect();
    let array = serde_json::to_vec(&sources).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(map.len());
    out.extend_from_slice(&map[..start]);
    out.extend_from_slice(&array);
    out.extend_from_slice(&map[end..]);
    Ok(out)
}

/// The byte range of the value of `key` in the JSON object `doc`, `None`
/// when the object has no such key. Each key and value is read with
/// serde_json (so strings and nesting are JSON's), the values skipped
/// without being built.
fn top_level_value(doc: &[u8], key: &str) -> Result<Option<(usize, usize)>, String> {
    use serde::de::IgnoredAny;
    let ws = |mut i: usize| {
        while doc.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    // One JSON value at `at`: what it is, and where it ends.
    fn value<'a, T: serde::Deserialize<'a>>(
        doc: &'a [u8],
        at: usize,
    ) -> Result<(T, usize), String> {
        let mut it = serde_json::Deserializer::from_slice(&doc[at..]).into_iter::<T>();
        match it.next() {
            Some(Ok(v)) => Ok((v, at + it.byte_offset())),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("unexpected end".into()),
        }
    }
    let mut i = ws(0);
    if doc.get(i) != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    i = ws(i + 1);
    if doc.get(i) == Some(&b'}') {
        return Ok(None);
    }
    loop {
        let (name, after): (std::borrow::Cow<'_, str>, usize) = value(doc, i)?;
        i = ws(after);
        if doc.get(i) != Some(&b':') {
            return Err(format!("expected `:` at byte {i}"));
        }
        let start = ws(i + 1);
        let (IgnoredAny, end) = value(doc, start)?;
        if name == key {
            return Ok(Some((start, end)));
        }
        i = ws(end);
        match doc.get(i) {
            Some(b',') => i = ws(i + 1),
            Some(b'}') => return Ok(None),
            _ => return Err(format!("expected `,` or `}}` at byte {i}")),
        }
    }
}

/// The source files a bundle's hash covers: the scanned source without
/// its top-level `node_modules` (the developer's own install, never read
/// by the bundle).
pub fn inputs(tree: &SourceTree) -> SourceTree {
    SourceTree {
        root: tree.root.clone(),
        files: tree
            .files
            .iter()
            .filter(|f| !f.name.starts_with("node_modules/"))
            .cloned()
            .collect(),
    }
}

#[cfg(unix)]
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(not(unix))]
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::os::windows::fs::symlink_dir(from, to)
    } else {
        fs::copy(from, to).map(|_| ())
    }
}

fn exe(name: &str) -> String {
    if cfg!(windows) {
        format!("{name}.cmd")
    } else {
        name.to_owned()
    }
}

/// The esbuild to run: the project's own
/// (`<source_dir>/node_modules/.bin/esbuild`), else the first on `PATH`;
/// the message says how to install it when there is none.
pub fn find_esbuild(source_dir: &Path) -> Result<PathBuf, BundleError> {
    let name = exe("esbuild");
    let local = source_dir.join("node_modules").join(".bin").join(&name);
    if local.is_file() {
        // esbuild runs in its working directory, not in `source_dir`.
        return Ok(std::path::absolute(&local)?);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(&name))
        .find(|p| p.is_file())
        .map(|p| std::path::absolute(&p).unwrap_or(p));
    on_path.ok_or_else(|| {
        BundleError::NoEsbuild(format!(
            "function.bundle = true needs esbuild, which is neither in {} nor on PATH. \
             Install it in the project (`npm install --save-dev esbuild`, or `pnpm add -D \
             esbuild`, then install) or on PATH (`npm install -g esbuild`)",
            local.display()
        ))
    })
}

/// esbuild's working directory for one run: a new temporary directory
/// that links the source's top-level entries (not its `node_modules`, nor
/// entries named as esbuild's output, [`OUT_FILE`] and [`OUT_MAP`]), removed
/// when dropped.
#[derive(Debug)]
pub struct WorkDir(TempDir);

impl WorkDir {
    /// A new working directory for the source in `source_dir`. It does
    /// not depend on the scan of the source, so it is made while the
    /// source is scanned.
    pub fn link_source(source_dir: &Path) -> Result<WorkDir, BundleError> {
        let source_dir = std::path::absolute(source_dir)?;
        let work = WorkDir(TempDir::new("eventpipe-bundle")?);
        for e in fs::read_dir(&source_dir)? {
            let name = e?.file_name();
            if name == "node_modules" || name == OUT_FILE || name == OUT_MAP {
                continue;
            }
            link(&source_dir.join(&name), &work.path().join(&name))?;
        }
        Ok(work)
    }

    /// Links the installed dependencies' `node_modules`.
    pub fn link_node_modules(&self, node_modules: &Path) -> Result<(), BundleError> {
        link(
            &std::path::absolute(node_modules)?,
            &self.path().join("node_modules"),
        )?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::source::scan;

    fn tree(files: &[&str]) -> (tempfile::TempDir, SourceTree) {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "export const handler = async () => 1;\n").unwrap();
        }
        let t = scan(d.path()).unwrap();
        (d, t)
    }

    #[test]
    fn the_entry_is_the_first_of_ts_mts_js_and_keeps_its_path() {
        let (_d, t) = tree(&["src/index.ts", "src/index.js", "other.mts"]);
        let e = entry("src/index.handler", &t).unwrap();
        assert_eq!(e.source, "src/index.ts");
        assert_eq!(e.output, "src/index.js");
        assert_eq!(e.format, Format::CommonJs);
        let e = entry("other.run", &t).unwrap();
        assert_eq!((e.output.as_str(), e.format), ("other.mjs", Format::Esm));
        let err = entry("index.handler", &t).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("index.ts, index.mts, index.js"),
            "names the tried paths: {msg}"
        );
        assert_eq!(err.attr(), attr::HANDLER);
        assert!(matches!(
            entry("no_dot", &t),
            Err(BundleError::BadHandler { .. })
        ));
    }

    #[test]
    fn only_node_runtimes_bundle_and_the_target_is_their_major() {
        let (_d, t) = tree(&["index.ts"]);
        assert_eq!(node_target("nodejs22.x").as_deref(), Some("node22"));
        let e = Bundle::plan("index.handler", &t, "python3.12", "x86_64").unwrap_err();
        assert_eq!(e.attr(), attr::BUNDLE);
        let b = Bundle::plan("index.handler", &t, "nodejs20.x", "arm64").unwrap();
        assert!(b.options().contains(&"--target=node20".to_owned()));
        assert!(b.options().contains(&"--external:@aws-sdk/*".to_owned()));
        assert!(!b.options().iter().any(|o| o.contains("minify")));
    }

    #[test]
    fn the_hash_covers_the_tree_the_target_and_the_entry() {
        let (_d, t) = tree(&["index.ts", "src/index.ts"]);
        let b = Bundle::plan("index.handler", &t, "nodejs20.x", "x86_64").unwrap();
        let base = b.package_hash("aa", None);
        assert_eq!(base, b.package_hash("aa", None));
        assert_ne!(base, b.package_hash("ab", None));
        let on = |rt: &str, arch: &str, h: &str| {
            Bundle::plan(h, &t, rt, arch)
                .unwrap()
                .package_hash("aa", None)
        };
        assert_ne!(base, on("nodejs22.x", "x86_64", "index.handler"));
        assert_ne!(base, on("nodejs20.x", "arm64", "index.handler"));
        assert_ne!(base, on("nodejs20.x", "x86_64", "src/index.handler"));
        // The exported function is not an input of the bundle.
        assert_eq!(base, on("nodejs20.x", "x86_64", "index.other"));
    }

    #[test]
    fn the_developers_node_modules_is_not_an_input() {
        let (_d, t) = tree(&["index.ts", "node_modules/esbuild/x.js"]);
        let names: Vec<String> = inputs(&t).files.into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["index.ts"]);
    }

    #[test]
    fn only_the_maps_sources_are_rewritten() {
        let map = br#"{
  "version": 3,
  "sourcesContent": ["x = \"sources\": [\"a\"]", "\\\"sources\""],
  "sources": ["src/index.ts", "../up.ts", "node_modules/x/i.js", "/abs.ts"],
  "mappings": ";AAAA,SAAS",
  "names": ["a"]
}
"#;
        let before: serde_json::Value = serde_json::from_slice(map).unwrap();
        let rebased = |depth| {
            let text = String::from_utf8(rebase_map(map, depth).unwrap()).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            (text, doc)
        };
        // A bundle in `src/`: one level down from where esbuild wrote it.
        let (text, doc) = rebased(1);
        assert_eq!(
            doc["sources"],
            serde_json::json!([
                "../src/index.ts",
                "../../up.ts",
                "../node_modules/x/i.js",
                "/abs.ts"
            ])
        );
        for key in ["version", "sourcesContent", "mappings", "names"] {
            assert_eq!(doc[key], before[key], "{key}");
        }
        // Everything but the array is esbuild's bytes.
        let plain = String::from_utf8_lossy(map);
        assert!(text.starts_with(&plain[..plain.find("\"sources\":").unwrap()]));
        assert!(text.ends_with(&plain[plain.find(",\n  \"mappings\"").unwrap()..]));
        // At the package's root (the array written as before, when
        // esbuild wrote the map one level down), and two levels down.
        assert_eq!(
            rebased(0).1["sources"],
            serde_json::json!(["src/index.ts", "../up.ts", "node_modules/x/i.js", "/abs.ts"])
        );
        assert_eq!(
            rebased(2).1["sources"],
            serde_json::json!([
                "../../src/index.ts",
                "../../../up.ts",
                "../../node_modules/x/i.js",
                "/abs.ts"
            ])
        );
    }

    #[test]
    fn the_bundles_last_comment_names_its_map_by_the_bundles_name() {
        let written = format!("var a = 1;\n//# sourceMappingURL={OUT_FILE}.map\n");
        let renamed = rename_map(written.into_bytes(), "index.mjs.map").unwrap();
        assert_eq!(renamed, b"var a = 1;\n//# sourceMappingURL=index.mjs.map\n");
        for other in ["var a = 1;\n", "//# sourceMappingURL=other.js.map\n"] {
            let e = rename_map(other.as_bytes().to_vec(), "index.js.map").unwrap_err();
            assert!(e.to_string().contains("the comment naming its map"), "{e}");
        }
    }

    #[test]
    fn the_outputs_names_are_not_linked_from_the_source() {
        let (d, _) = tree(&[
            "index.ts",
            ".eventpipe-bundle.js",
            ".eventpipe-bundle.js.map",
            ".eventpipe-bundle.json",
        ]);
        fs::create_dir_all(d.path().join("node_modules/x")).unwrap();
        let work = WorkDir::link_source(d.path()).unwrap();
        let mut linked: Vec<String> = fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        linked.sort();
        assert_eq!(linked, [".eventpipe-bundle.json", "index.ts"]);
    }

    #[test]
    fn a_map_without_sources_is_kept_and_a_broken_one_refused() {
        let map = br#"{"version": 3, "mappings": "", "x": {"sources": ["../a"]}}"#;
        assert_eq!(rebase_map(map, 2).unwrap(), map.to_vec());
        for bad in [&b"[1]"[..], b"{\"sources\" [1]}", b"{\"sources\": [1", b""] {
            let e = rebase_map(bad, 1).unwrap_err();
            assert!(e.to_string().contains("esbuild's source map"), "{e}");
        }
    }

    #[test]
    fn a_missing_esbuild_says_how_to_install_it() {
        let d = tempfile::tempdir().unwrap();
        // SAFETY-free: only read here; PATH is read, not changed.
        if !which_on_path("esbuild") {
            let e = find_esbuild(d.path()).unwrap_err();
            assert!(e.to_string().contains("npm install"), "{e}");
        }
        let bin = d.path().join("node_modules/.bin");
        fs::create_dir_all(&bin).unwrap();
        fs::write(bin.join(exe("esbuild")), "").unwrap();
        assert_eq!(find_esbuild(d.path()).unwrap(), bin.join(exe("esbuild")));
    }

    #[test]
    fn the_projects_esbuild_found_from_a_relative_source_dir_is_absolute() {
        // esbuild runs in its working directory, not in the source's.
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("node_modules/.bin");
        fs::create_dir_all(&bin).unwrap();
        fs::write(bin.join(exe("esbuild")), "").unwrap();
        let cwd = std::env::current_dir().unwrap();
        let mut relative: PathBuf =
            std::iter::repeat_n("..", cwd.components().count() - 1).collect();
        relative.push(d.path().strip_prefix("/").unwrap());
        let found = find_esbuild(&relative).unwrap();
        assert!(found.is_absolute(), "{}", found.display());
        assert!(found.is_file(), "{}", found.display());
    }

    fn which_on_path(name: &str) -> bool {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .any(|d| d.join(name).is_file())
    }
}
