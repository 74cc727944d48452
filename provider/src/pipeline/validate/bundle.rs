//! `function.bundle`: a Node.js runtime, a zip, the handler's entry file,
//! and esbuild to build it with (unless the bundle is cached).

use super::*;
use crate::pipeline::package::Bundling;
use crate::pipeline::package::bundle;

/// The bundle's checks; nothing when `bundle` is off or not known yet.
pub(super) fn check_bundle(
    f: &Function<Planning>,
    build: &Build,
    cache: Option<&Cache>,
    diags: &mut Diagnostics,
) {
    let b = match build.bundling() {
        Bundling::Off | Bundling::Unknown => return,
        Bundling::On(Err(e)) => {
            diags.push(error(
                path::function(e.attr()),
                "Cannot bundle the handler",
                e.to_string(),
            ));
            return;
        }
        Bundling::On(Ok(b)) => b,
    };
    check_entry_exports(f, build, &b.entry, diags);
    // A bundle built before for these inputs needs no esbuild.
    let cached = match (build.hash(), cache) {
        (Some(Ok(h)), Some(c)) => c.zip(&h).is_some(),
        _ => false,
    };
    if cached {
        return;
    }
    let Field::Known(dir) = &f.source_dir else {
        return;
    };
    if let Err(e) = bundle::find_esbuild(std::path::Path::new(dir)) {
        diags.push(error(
            path::function(attr::BUNDLE),
            "esbuild not found",
            format!("{e} (the entry is {}).", b.entry.source),
        ));
    }
}

/// The entry exports the handler's function, read as for an unbundled
/// `.js` module (`handler_check`). The reader follows TypeScript's syntax
/// too, but not every corner of it: in a `.ts` or `.mts` entry a missing
/// export is a warning, not an error.
fn check_entry_exports(
    f: &Function<Planning>,
    build: &Build,
    entry: &bundle::Entry,
    diags: &mut Diagnostics,
) {
    let (Field::Known(handler), Some(Ok(tree))) = (&f.handler, build.source.tree()) else {
        return;
    };
    let Some(func) = handler.rsplit_once('.').map(|(_, func)| func) else {
        return;
    };
    let Some(file) = tree.files.iter().find(|x| x.name == entry.source) else {
        return;
    };
    if file.size > MAX_HANDLER_MODULE_BYTES {
        return;
    }
    let scan = read_module(Language::Node, file);
    let verdict = handler_check::verdict(&scan, func);
    let Some(d) = verdict_diagnostic(handler, Language::Node, func, file, verdict) else {
        return;
    };
    if d.is_error() && !entry.source.ends_with(".js") {
        let mut warning = Diagnostic::warning("Handler function not found in the entry", d.detail);
        warning.path = d.path;
        diags.push(warning);
    } else {
        diags.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfsdk::value::Value;

    /// The whole configuration's checks (`validate::check`) of a function
    /// in `dir` with `bundle = true` and the given settings.
    fn checks(
        dir: &std::path::Path,
        runtime: &str,
        handler: &str,
        extra: &[(&'static str, &str)],
    ) -> Vec<Diagnostic> {
        let mut f = vec![
            (attr::SOURCE_DIR, Value::from(dir.to_str().unwrap())),
            (attr::RUNTIME, Value::from(runtime)),
            (attr::ARCHITECTURE, Value::from("x86_64")),
            (attr::HANDLER, Value::from(handler)),
            (attr::BUNDLE, Value::Bool(true)),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, Value::from(*v))));
        let cfg = Value::object([
            (attr::NAME, Value::from("p")),
            (attr::FUNCTION, Value::object(f)),
        ]);
        let cfg = State::<Planning>::from_value(&cfg).expect("a configuration");
        super::super::check(&cfg, &Build::of(&cfg.function))
            .into_iter()
            .collect()
    }

    fn errors(all: Vec<Diagnostic>) -> Vec<Diagnostic> {
        all.into_iter().filter(Diagnostic::is_error).collect()
    }

    fn at(d: &Diagnostic) -> AttrPath {
        d.path.clone().expect("a path")
    }

    #[test]
    fn a_bundle_needs_a_node_runtime_a_zip_and_its_entry() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("src")).unwrap();
        std::fs::write(d.path().join("src/index.ts"), "export const handler = 1;").unwrap();
        std::fs::write(d.path().join("app.py"), "def handler(e, c): pass").unwrap();
        // Python: on function.bundle.
        let e = errors(checks(d.path(), "python3.12", "app.handler", &[]));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(at(&e[0]), path::function(attr::BUNDLE));
        assert!(e[0].detail.contains("python3.12"), "{}", e[0].detail);
        // An image: on function.bundle.
        let e = checks(
            d.path(),
            "nodejs24.x",
            "src/index.handler",
            &[(attr::PACKAGE_TYPE, PACKAGE_IMAGE)],
        );
        assert!(
            e.iter()
                .any(|d| at(d) == path::function(attr::BUNDLE)
                    && d.detail.contains("container image")),
            "{e:?}"
        );
        // No entry: the paths tried, on function.handler.
        let e = errors(checks(d.path(), "nodejs24.x", "index.handler", &[]));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(at(&e[0]), path::function(attr::HANDLER));
        assert!(
            e[0].detail.contains("index.ts, index.mts, index.js"),
            "{}",
            e[0].detail
        );
        // An entry without the function: an error in a .js, a warning in a .ts.
        std::fs::write(d.path().join("other.js"), "exports.main = () => 1;").unwrap();
        let e = errors(checks(d.path(), "nodejs24.x", "other.handler", &[]));
        assert!(
            e.iter().any(|d| d.summary == "Handler function not found"
                && at(d) == path::function(attr::HANDLER)),
            "{e:?}"
        );
        // The .ts entry is found first.
        std::fs::write(d.path().join("other.ts"), "export const main = () => 1;").unwrap();
        let all = checks(d.path(), "nodejs24.x", "other.handler", &[]);
        assert!(
            all.iter().any(|d| !d.is_error()
                && d.summary == "Handler function not found in the entry"
                && d.detail.contains("other.ts")
                && at(d) == path::function(attr::HANDLER)),
            "{all:?}"
        );
        let e = errors(all);
        assert!(e.iter().all(|d| d.summary == "esbuild not found"), "{e:?}");
        // The .ts entry is found: the .js handler check does not run, and
        // esbuild is the only thing that may be missing.
        let all = checks(d.path(), "nodejs24.x", "src/index.handler", &[]);
        assert!(
            all.iter().all(|d| d.summary == "esbuild not found"),
            "{all:?}"
        );
    }
}
