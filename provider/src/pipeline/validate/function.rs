//! The function block: environment, reserved names, sizes and timeouts.

use super::*;
use crate::pipeline::source::SourceError;

/// Environment variables Lambda sets itself and refuses in configuration.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// Lambda's limit on the total size of all environment variables.
pub const MAX_ENV_BYTES: usize = 4096;

/// Timeouts above this suit S3's asynchronous invocations poorly.
pub const ASYNC_TIMEOUT_WARNING_S: i64 = 300;

pub(super) fn check_function(f: &Function<Planning>, build: &Build, diags: &mut Diagnostics) {
    let fp = path::function;
    // The runtime's own validator reports bad names; check the handler only
    // for runtimes whose file layout we know.
    // A handler left out by `exclude` is that pattern's error alone.
    let handler_excluded = check_exclude(f, build, diags);
    let tree = match build.source.tree() {
        Some(Ok(t)) => Some(t),
        // Nothing left but what `exclude` left out, the handler among it.
        Some(Err(SourceError::Empty { .. })) if handler_excluded => None,
        Some(Err(e)) => {
            diags.push(error(
                fp(attr::SOURCE_DIR),
                "Invalid function source",
                e.to_string(),
            ));
            None
        }
        None => None,
    };
    // A bundle's entry (`.ts`, `.mts` or `.js`) is checked with the bundle.
    let bundled = f.bundle == Field::Known(true);
    if let Field::Known(handler) = &f.handler
        && !bundled
        && !handler_excluded
    {
        let runtime = f
            .runtime
            .as_known()
            .map_or(runtimes::DEFAULT, String::as_str);
        check_handler(handler, runtime, tree, diags);
    }
    if let Field::Known(env) = &f.environment {
        let mut total = 0;
        for (k, v) in env {
            total += k.len() + v.len();
            let well_formed = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !well_formed {
                diags.push(error(
                    fp(attr::ENVIRONMENT).key(k),
                    "Invalid environment variable name",
                    format!(
                        "{k:?} must start with a letter and hold only letters, digits and `_`."
                    ),
                ));
            } else if RESERVED_ENV.contains(&k.as_str()) {
                diags.push(error(
                    fp(attr::ENVIRONMENT).key(k),
                    "Reserved environment variable",
                    format!("Lambda sets {k} itself and refuses it in configuration; remove it."),
                ));
            }
        }
        if total > MAX_ENV_BYTES {
            diags.push(error(
                fp(attr::ENVIRONMENT),
                "Environment too large",
                format!(
                    "The environment variables add up to {total} bytes; Lambda allows \
                     {MAX_ENV_BYTES} bytes in all. Keep large settings in S3 or Parameter Store."
                ),
            ));
        }
    }
    if let Field::Known(layers) = &f.layers {
        if layers.len() > 5 {
            diags.push(error(
                fp(attr::LAYERS),
                "Too many layers",
                format!(
                    "A function can use at most 5 layers; {} are listed.",
                    layers.len()
                ),
            ));
        }
        for (i, l) in layers.iter().enumerate() {
            if let Err(why) = layer_arn_problem(l) {
                diags.push(error(fp(attr::LAYERS).index(i), "Invalid layer ARN", why));
            }
        }
    }
    if let Field::Known(t) = f.timeout
        && t > ASYNC_TIMEOUT_WARNING_S
    {
        diags.push(
            Diagnostic::warning(
                "Long timeout for an S3-triggered function",
                format!(
                    "S3 invokes the function asynchronously and retries failed events; with a \
                     {t} s timeout a slow event holds concurrency for long and retries pile \
                     up. Consider at most {ASYNC_TIMEOUT_WARNING_S} s, or a queue in between."
                ),
            )
            .at(fp(attr::TIMEOUT)),
        );
    }
}

/// `package_type` against what only one of its values can use: the `image`
/// block needs `image`, and Lambda runs no layers in a container image.
pub(super) fn check_package_type(
    f: &Function<Planning>,
    name: Field<&String>,
    diags: &mut Diagnostics,
) {
    let Field::Known(kind) = &f.package_type else {
        return;
    };
    let image = kind == PACKAGE_IMAGE;
    if !image && !f.image.is_null() {
        diags.push(error(
            path::function(attr::IMAGE),
            "image block without package_type = \"image\"",
            format!(
                "The image block configures a container image, but package_type is {kind:?}. \
                 Set package_type = \"image\", or remove the image block."
            ),
        ));
    }
    if image && matches!(&f.layers, Field::Known(l) if !l.is_empty()) {
        diags.push(error(
            path::function(attr::LAYERS),
            "Layers with a container image",
            "Lambda runs no layers in a function deployed as a container image. Put what \
             the layers hold into the image (as requirements), or use package_type = \"zip\".",
        ));
    }
    // The repository the pipeline makes is named after the pipeline.
    let given = match &f.image {
        Field::Known(i) => !i.repository_name.is_null(),
        Field::Null => false,
        Field::Unknown => true,
    };
    if image
        && !given
        && let Field::Known(name) = name
        && let Err(why) = repository_name_problem(&naming::repository_name(name))
    {
        diags.push(error(
            path::top(attr::NAME),
            "The pipeline's name cannot name its image repository",
            format!(
                "With package_type = \"image\" the pipeline makes the ECR repository named \
                 after it, in lower case, but {why}. Set function.image.repository_name to an \
                 existing repository, or rename the pipeline."
            ),
        ));
    }
}
