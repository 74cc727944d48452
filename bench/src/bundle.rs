//! Figure 15, bundling: the esbuild bundle of a TypeScript handler of 200
//! modules through the provider's bundler (`package::assemble_function`
//! with `bundle`, what apply runs, into a cold cache each time) against
//! `esbuild` run by hand with the same flags on the same files. The
//! difference is the provider's own work: linking the source into
//! esbuild's working directory, scanning and hashing the source beside
//! esbuild, reading esbuild's two files and rewriting the map's comment and
//! paths, zipping them and keeping the zip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use eventpipe::pipeline::package::bundle::{self, Bundle};
use eventpipe::pipeline::package::{self, Settings, cache::Cache};
use eventpipe::pipeline::source;

use crate::Sizes;
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio, timed};

const RUNTIME: &str = "nodejs24.x";
const HANDLER: &str = "src/index.handler";

/// Writes a handler `src/index.ts` importing `modules` modules of a few
/// dozen lines each, and a `tsconfig.json`.
fn write_handler(dir: &Path, modules: usize) -> Result<()> {
    let src = dir.join("src");
    fs::create_dir_all(src.join("lib"))?;
    let mut index = String::new();
    for m in 0..modules {
        index.push_str(&format!(
            "import {{ step{m:03} }} from \"./lib/mod_{m:03}\";\n"
        ));
        let mut body = format!(
            "export interface Input{m:03} {{ key: string; size: number }}\n\n\
             export function step{m:03}(input: Input{m:03}): number {{\n  let total = input.size;\n"
        );
        for line in 0..30 {
            body.push_str(&format!(
                "  total = (total * {} + input.key.length + {line}) % 1000003;\n",
                m + line + 1
            ));
        }
        body.push_str("  return total;\n}\n");
        fs::write(src.join(format!("lib/mod_{m:03}.ts")), body)?;
    }
    index.push_str("\nexport const handler = async (event: { Records: { s3: { object: { key: string; size: number } } }[] }) =>\n  event.Records.map((r) => {\n    const input = r.s3.object;\n    let total = 0;\n");
    for m in 0..modules {
        index.push_str(&format!("    total += step{m:03}(input);\n"));
    }
    index.push_str("    return total;\n  });\n");
    fs::write(src.join("index.ts"), index)?;
    fs::write(
        dir.join("tsconfig.json"),
        r#"{"compilerOptions":{"target":"ES2022","module":"ES2022","strict":true}}"#,
    )?;
    Ok(())
}

/// The esbuild the bench runs: the one on PATH, else the one `make tools`
/// pinned in `.tools/node`.
fn esbuild(dir: &Path) -> Result<PathBuf> {
    if let Ok(p) = bundle::find_esbuild(dir) {
        return Ok(p);
    }
    let pinned = tests::tools::package_tools()?.node_bin.join("esbuild");
    ensure!(pinned.is_file(), "esbuild is not in {}", pinned.display());
    Ok(pinned)
}

pub fn figure_15_bundle(sizes: &Sizes, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 15: esbuild bundle");
    let modules = 200;
    let repeats = if sizes.quick { 3 } else { 15 };
    let root = tempfile::Builder::new()
        .prefix("eventpipe-bench-bundle-")
        .tempdir()?;
    let dir = root.path().join("app");
    write_handler(&dir, modules)?;
    let esbuild = esbuild(&dir)?;
    // The provider finds the project's own esbuild first: the same binary.
    let local = dir.join("node_modules/.bin");
    fs::create_dir_all(&local)?;
    std::os::unix::fs::symlink(&esbuild, local.join("esbuild"))?;

    let settings = Settings {
        source_dir: dir.clone(),
        runtime: RUNTIME.into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: true,
    };
    let tree = source::scan(&dir)?;
    let plan = Bundle::plan(HANDLER, &tree, RUNTIME, "x86_64")?;
    let by_hand = |out: &Path| -> Result<()> {
        let status = Command::new(&esbuild)
            .arg(&plan.entry.source)
            .args(plan.options())
            .arg(format!("--outfile={}", out.join("index.js").display()))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .status()
            .context("running esbuild")?;
        ensure!(status.success(), "esbuild by hand failed: {status}");
        Ok(())
    };

    let (mut provider, mut hand) = (Samples::default(), Samples::default());
    let mut zipped = 0;
    // Apply checks the planned hash: the warm-up's, which the plan computes.
    let mut planned: Option<String> = None;
    // Alternating, after one warm-up of each (the page cache, esbuild's binary).
    for i in 0..=repeats {
        let cache_dir = root.path().join(format!("cache-{i}"));
        let cache = Cache::at(&cache_dir);
        let (pkg, took) = timed(|| {
            package::assemble_function(&settings, HANDLER, planned.as_deref(), Some(&cache))
        });
        let pkg = pkg?;
        zipped = pkg.zip.len();
        planned.get_or_insert(pkg.hash);
        let out = root.path().join(format!("hand-{i}"));
        fs::create_dir_all(&out)?;
        let (done, took_hand) = timed(|| by_hand(&out));
        done?;
        if i > 0 {
            provider.push_duration(took);
            hand.push_duration(took_hand);
        }
        let _ = fs::remove_dir_all(&cache_dir);
        let _ = fs::remove_dir_all(&out);
    }
    let r = provider.median() / hand.median();
    rep.row(Row {
        figure: "15",
        what: format!("esbuild bundle of a {modules}-module TypeScript handler, cold cache"),
        result: provider.show(Unit::Ms),
        baseline: format!("esbuild by hand, same flags: {}", hand.show(Unit::Ms)),
        ratio: ratio(provider.median(), hand.median()),
        target: "≤ 1.1×".into(),
        met: Some(r <= 1.1),
    });
    rep.section(
        "15. Bundling",
        format!(
            "`package::assemble_function` with `bundle = true` and the planned hash (what apply \
             runs: link esbuild's working directory and run esbuild there on the entry found \
             on disk, while another thread scans the source, plans the bundle from the scan, \
             hashes the source to check the plan and makes the zip's place in the cache; read \
             its two files, name the map in the bundle's last comment and rebase the map's \
             `sources`, zip the bundle and its map ({} bytes) while the working directory is \
             removed, keep the zip in a new, empty cache each time) against `esbuild` run by \
             hand in the source directory with the same entry and flags (`{}`) into a \
             directory made before it starts, for `{HANDLER}` importing {modules} modules of \
             30 lines; {} alternating runs each after one warm-up.",
            zipped,
            plan.options().join(" "),
            provider.len()
        ),
    );
    Ok(())
}
