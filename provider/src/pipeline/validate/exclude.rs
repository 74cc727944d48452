//! `function.exclude`: each pattern parses, and none leaves out the
//! handler's file.

use super::*;

/// The files the handler's module may be loaded (or, with `bundle`,
/// bundled) from, as package paths: for Python `a.b.handler` → `a/b.py` or
/// the package `a/b/__init__.py`; for Node.js `index.handler` →
/// `index.js`, `.mjs`, `.cjs`, and with `bundle` also `.ts` and `.mts`.
/// Empty for a handler that is not `<module>.<function>` or another
/// runtime.
pub(super) fn handler_files(handler: &str, runtime: &str, bundle: bool) -> Vec<String> {
    let Some((module, func)) = handler.rsplit_once('.') else {
        return Vec::new();
    };
    if module.is_empty() || func.is_empty() {
        return Vec::new();
    }
    match Language::of_runtime(runtime) {
        Some(Language::Python) => {
            let base = module.replace('.', "/");
            vec![format!("{base}.py"), format!("{base}/__init__.py")]
        }
        Some(Language::Node) => {
            let typescript: &[&str] = if bundle { &["ts", "mts"] } else { &[] };
            ["js", "mjs", "cjs"]
                .iter()
                .chain(typescript)
                .map(|ext| format!("{module}.{ext}"))
                .collect()
        }
        None => Vec::new(),
    }
}

/// The errors of `function.exclude`: a pattern that does not parse (on
/// its element), a pattern that leaves out the handler's file (on the
/// list). Returns whether the handler's file is left out, so the handler
/// check does not also call it missing.
pub(super) fn check_exclude(
    f: &Function<Planning>,
    build: &Build,
    diags: &mut Diagnostics,
) -> bool {
    if let Some(e) = build.exclude_error() {
        diags.push(error(
            path::function(attr::EXCLUDE).index(e.index),
            "Invalid exclude pattern",
            format!(
                "{e}. Patterns are gitignore-style, relative to source_dir: `notebooks/`, \
                 `*.parquet`, `!keep.parquet`, `/top-only`, `**/fixtures/`."
            ),
        ));
        return false;
    }
    let (Field::Known(patterns), Field::Known(handler)) = (&f.exclude, &f.handler) else {
        return false;
    };
    if patterns.is_empty() {
        return false;
    }
    // The source as it is on disk: when `exclude` leaves out every file,
    // the handler's is still named.
    let Field::Known(dir) = &f.source_dir else {
        return false;
    };
    let root = std::path::Path::new(dir);
    let runtime = f
        .runtime
        .as_known()
        .map_or(runtimes::DEFAULT, String::as_str);
    let exclude = build.source.exclude();
    let bundle = f.bundle == Field::Known(true);
    let on_disk: Vec<String> = handler_files(handler, runtime, bundle)
        .into_iter()
        .filter(|file| root.join(file).is_file())
        .collect();
    // Left out when every file it may come from is; a handler with no file
    // at all is the handler check's to report.
    let excluded: Vec<(String, String)> = on_disk
        .iter()
        .filter_map(|file| Some((file.clone(), exclude.pattern_excluding(file)?)))
        .collect();
    if !on_disk.is_empty()
        && excluded.len() == on_disk.len()
        && let Some((file, pattern)) = excluded.into_iter().next()
    {
        diags.push(error(
            path::function(attr::EXCLUDE),
            "Exclude pattern leaves out the handler",
            format!(
                "The pattern {pattern:?} leaves out {file}, the file of handler {handler:?}, \
                 so Lambda could not load it. Narrow the pattern, or add \"!{file}\" after it \
                 (a file under a left-out directory cannot be brought back: leave out the \
                 directory's other contents instead)."
            ),
        ));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::value::Value;

    /// The errors the checks give a function with `source_dir`, `runtime`,
    /// `handler` and `exclude`, as "path: summary: detail".
    fn errors(
        dir: &std::path::Path,
        runtime: &str,
        handler: &str,
        exclude: &[&str],
    ) -> Vec<String> {
        let f = vec![
            (attr::SOURCE_DIR, Value::from(dir.to_str().unwrap())),
            (attr::RUNTIME, Value::from(runtime)),
            (attr::ARCHITECTURE, Value::from("x86_64")),
            (attr::HANDLER, Value::from(handler)),
            (
                attr::EXCLUDE,
                Value::List(exclude.iter().map(|p| Value::from(*p)).collect()),
            ),
        ];
        let v = Value::object([
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
        ]);
        let cfg = State::<Planning>::from_value(&v).expect("a configuration");
        super::super::check(&cfg, &Build::of(&cfg.function))
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {}: {}", d.path.clone().unwrap(), d.summary, d.detail))
            .collect()
    }

    fn write(dir: &std::path::Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            "def handler(e, c):\n    return 1\nexports.handler = 1;\n",
        )
        .unwrap();
    }

    #[test]
    fn an_exclude_that_leaves_out_the_handler_is_refused_on_the_list() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "app.py");
        write(d.path(), "pkg/mod/__init__.py");
        write(d.path(), "notebooks/a.ipynb");
        assert!(errors(d.path(), "python3.12", "app.handler", &["notebooks/"]).is_empty());
        let e = errors(
            d.path(),
            "python3.12",
            "app.handler",
            &["notebooks/", "*.py"],
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("function.exclude: Exclude pattern leaves out the handler"),
            "{e:?}"
        );
        assert!(e[0].contains("\"*.py\" leaves out app.py"), "{e:?}");
        // Brought back: no error.
        assert!(errors(d.path(), "python3.12", "app.handler", &["*.py", "!app.py"]).is_empty());
        // A package's __init__.py, left out with its directory.
        let e = errors(d.path(), "python3.12", "pkg.mod.handler", &["pkg/"]);
        assert!(
            e[0].contains("\"pkg/\" leaves out pkg/mod/__init__.py"),
            "{e:?}"
        );
        // Node.js: index.mjs.
        write(d.path(), "index.mjs");
        let e = errors(d.path(), "nodejs20.x", "index.handler", &["/index.*"]);
        assert!(e[0].contains("leaves out index.mjs"), "{e:?}");
        // The TypeScript source left out beside its compiled module: fine.
        write(d.path(), "index.ts");
        assert!(errors(d.path(), "nodejs20.x", "index.handler", &["*.ts"]).is_empty());
        // A module and the package of the same name, both left out.
        write(d.path(), "pkg/mod.py");
        let e = errors(
            d.path(),
            "python3.12",
            "pkg.mod.handler",
            &["mod.py", "__init__.py"],
        );
        assert!(e[0].contains("\"mod.py\" leaves out pkg/mod.py"), "{e:?}");
    }

    #[test]
    fn a_bad_pattern_is_refused_on_its_element() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "app.py");
        let e = errors(
            d.path(),
            "python3.12",
            "app.handler",
            &["notebooks/", "data[0-9"],
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("function.exclude[1]: Invalid exclude pattern: \"data[0-9\""),
            "{e:?}"
        );
    }

    #[test]
    fn the_handlers_files_are_the_ones_lambda_may_load() {
        assert_eq!(
            handler_files("a.b.handler", "python3.12", false),
            ["a/b.py", "a/b/__init__.py"]
        );
        assert_eq!(
            handler_files("index.handler", "nodejs20.x", false),
            ["index.js", "index.mjs", "index.cjs"]
        );
        assert_eq!(
            handler_files("index.handler", "nodejs20.x", true),
            [
                "index.js",
                "index.mjs",
                "index.cjs",
                "index.ts",
                "index.mts"
            ]
        );
        assert!(handler_files("main", "python3.12", false).is_empty());
        assert!(handler_files("app.handler", "java21", false).is_empty());
    }
}
