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
            .filter(Diagnostic::is_error)
            .collect()
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
        let e = checks(d.path(), "python3.12", "app.handler", &[]);
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
        let e = checks(d.path(), "nodejs24.x", "index.handler", &[]);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(at(&e[0]), path::function(attr::HANDLER));
        assert!(
            e[0].detail.contains("index.ts, index.mts, index.js"),
            "{}",
            e[0].detail
        );
        // The .ts entry is found: the .js handler check does not run, and
        // esbuild is the only thing that may be missing.
        let e = checks(d.path(), "nodejs24.x", "src/index.handler", &[]);
        assert!(e.iter().all(|d| d.summary == "esbuild not found"), "{e:?}");
    }
}
