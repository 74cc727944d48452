//! The package: what `source_dir` holds and the deployment package limits.

use super::*;
use crate::pipeline::source::Kind;

/// The package's checks: its dependencies (readable, installable, pinned),
/// its size with a cached dependency tree, and where it would be staged.
pub(super) fn check_package(
    cfg: &State<Planning>,
    build: &Build,
    cache: Option<&Cache>,
    diags: &mut Diagnostics,
) {
    let fp = path::function;
    let deps = match build.deps() {
        None => return,
        Some(Err(e)) => {
            diags.push(error(
                fp(e.attr()),
                "Invalid function dependencies",
                e.to_string(),
            ));
            return;
        }
        Some(Ok(d)) => d,
    };
    let Some(Ok(tree)) = build.source.tree() else {
        return;
    };
    let deps_at = if cfg.function.requirements_file.is_null() {
        fp(attr::SOURCE_DIR)
    } else {
        fp(attr::REQUIREMENTS_FILE)
    };
    if let Some(d) = deps {
        for w in d.warnings() {
            diags.push(Diagnostic::warning("Unpinned requirements", w).at(deps_at.clone()));
        }
        match build.cached_deps(cache) {
            Some(_) => {
                // The size is known: source and installed tree together.
                if let Some(msg) = build.too_large(cache) {
                    diags.push(error(
                        fp(attr::SOURCE_DIR),
                        "Function package too large",
                        msg,
                    ));
                }
            }
            None => {
                // The tools run only when the installed tree is not
                // cached: a cached plan starts no process.
                if let Err(why) = d.installer_available() {
                    diags.push(error(
                        deps_at.clone(),
                        "Cannot install the dependencies",
                        why,
                    ));
                } else if let Err(why) = d.lock_current() {
                    diags.push(error(
                        deps_at.clone(),
                        "Lock file out of date",
                        format!(
                            "The lock does not match pyproject.toml, by the tool's own check; \
                             lock the project again (`uv lock` or `poetry lock`) and commit \
                             the lock.\n{why}"
                        ),
                    ));
                }
            }
        }
    }
    // An image is pushed to a registry, never staged in S3; while the type
    // is unknown, so is whether anything is staged.
    if build.kind() != Some(Kind::Zip) {
        return;
    }
    // Staging: only a package that may be over 50 MB zipped needs it.
    let may_stage = limits::may_need_staging(tree.total_size(), deps.is_some());
    if !may_stage || !cfg.function.package_bucket.is_null() {
        return;
    }
    if cfg.create_bucket == Field::Known(false) {
        diags.push(error(
            fp(attr::PACKAGE_BUCKET),
            "Missing package bucket",
            format!(
                "The package {} and may be over Lambda's 50 MB direct-upload limit once zipped \
                 (known only at apply), and then has to be staged in S3; with create_bucket = \
                 false the pipeline does not own its bucket, so set function.package_bucket to \
                 a bucket the provider's credentials may write to.",
                if deps.is_some() {
                    "has dependencies"
                } else {
                    "is over 45 MB unzipped"
                }
            ),
        ));
    } else if let Field::Known(triggers) = &cfg.trigger {
        for (i, t) in triggers.iter().enumerate() {
            let (Some(prefix), Some(suffix)) =
                (opt_known(&t.filter_prefix), opt_known(&t.filter_suffix))
            else {
                continue;
            };
            let (prefix, suffix) = (prefix.map(String::as_str), suffix.map(String::as_str));
            if matches_staging(prefix, suffix) && prefix.is_none_or(str::is_empty) {
                diags.push(error(
                    path::trigger(i),
                    "Trigger matches staged packages",
                    format!(
                        "This package may be staged in the pipeline's own bucket under \
                         `{STAGING_PREFIX}` (it may be over 50 MB zipped), and this trigger, \
                         with no filter_prefix, would invoke the function on its own package. \
                         Set a filter_prefix, or set function.package_bucket to another bucket."
                    ),
                ));
            }
        }
    }
}
