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
