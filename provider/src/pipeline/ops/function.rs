//! The function: its package, creation or adoption, settings, code, tags,
//! the wait until it is Active, and deletion.

use std::sync::Arc;

use crate::aws::{AwsError, lambda};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::adopt_if_ours;
use super::super::package::cache::Cache;
use super::super::package::{self, Package, PackageError};
use super::super::part::Part;
use super::super::parts::function::CODE_DRIFT;
use super::super::run::Run;
use super::super::state::{Known, State};

/// Where the function's code comes from: the staged object when the
/// package was staged, else the zip.
/// (A package that was not expected to need staging and still turned out
/// over the limit is refused.)
fn code<'r>(
    pkg: &'r Package,
    staged: &'r Option<(String, String)>,
) -> Result<lambda::Code<'r>, ApplyError> {
    match staged {
        Some((bucket, key)) => Ok(lambda::Code::S3 { bucket, key }),
        None if package::limits::needs_staging(pkg.zip.len()) => {
            Err(PackageError::TooLargeZipped {
                size: pkg.zip.len(),
            }
            .into())
        }
        None => Ok(lambda::Code::Zip(&pkg.zip)),
    }
}

/// What the function deploys: its image (`package_type = "image"`), or
/// the package built for a zip, and where it was staged.
enum Deploy {
    Image(String),
    Zip(Arc<Package>, Option<(String, String)>),
}

impl Deploy {
    fn of(run: &Run<'_>) -> Result<Deploy, ApplyError> {
        if desired::is_image(run.want) {
            return Ok(Deploy::Image(super::image::image_uri(run)?));
        }
        Ok(Deploy::Zip(run.package()?, run.record().staged))
    }

    fn code(&self) -> Result<lambda::Code<'_>, ApplyError> {
        match self {
            Deploy::Image(uri) => Ok(lambda::Code::Image(uri)),
            Deploy::Zip(pkg, staged) => code(pkg, staged),
        }
    }

    /// Whether the function `f` runs this code already.
    fn deployed_in(&self, f: &lambda::Function) -> bool {
        match self {
            Deploy::Image(uri) => f.image_uri.as_deref() == Some(uri.as_str()),
            Deploy::Zip(pkg, _) => !f.settings.image && f.code_sha256 == pkg.code_sha256,
        }
    }
}

/// What the package of `want` is built from.
pub fn package_settings(want: &State<Known>) -> package::Settings {
    package::Settings {
        source_dir: want.function.source_dir.clone().into(),
        runtime: want.function.runtime.clone(),
        architecture: want.function.architecture.clone(),
        requirements_file: want.function.requirements_file.clone(),
        slim: want.function.slim,
        exclude: want.function.exclude.clone().unwrap_or_default(),
        bundle: want.function.bundle,
    }
}

/// Packages the source with its dependencies on a blocking thread
/// (installing them, or taking them and a zip built before from the
/// cache), checking it is what was planned (the files may have changed
/// since the plan).
pub async fn build_package(run: &Run<'_>) -> Result<(), ApplyError> {
    let settings = package_settings(run.want);
    let planned = run.want.source_code_hash.clone();
    let handler = run.want.function.handler.clone();
    let joined = tokio::task::spawn_blocking(move || -> Result<Package, ApplyError> {
        let cache = Cache::from_env();
        match package::assemble_function(&settings, &handler, Some(&planned), cache.as_ref()) {
            Ok(p) => Ok(p),
            Err(PackageError::Changed { planned, now }) => Err(ApplyError::SourceChanged {
                dir: settings.source_dir.display().to_string(),
                planned,
                now,
            }),
            Err(e) => Err(e.into()),
        }
    })
    .await;
    let pkg = joined.unwrap_or_else(|e| {
        Err(ApplyError::Internal(format!(
            "the packaging thread failed: {e}"
        )))
    })?;
    run.update(|r| r.package = Some(Arc::new(pkg)));
    Ok(())
}

/// Makes the function, or adopts one of its name left by an earlier run
/// of this pipeline and brings it to the plan. A new function is waited
/// for by its own step ([`await_active`]); an adopted one here.
pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let (lc, want) = (&run.aws.lambda, run.want);
    let name = &want.function_name;
    let step = "creating the function";
    let deploy = Deploy::of(run)?;
    let wanted = desired::function_settings(want);
    let made = lambda::create_function(
        lc,
        name,
        &wanted,
        &want.function.architecture,
        deploy.code()?,
        &desired::function_tags(want),
        run.stop,
    )
    .await
    .map_err(ApplyError::aws(step))?;
    if made.is_some() {
        run.made(Part::Function);
        return Ok(());
    }
    let f = lambda::get_function(lc, name)
        .await
        .map_err(ApplyError::aws(step))?
        .ok_or_else(|| ApplyError::Aws {
            step,
            source: AwsError::Unexpected(format!("function {name} both exists and does not")),
        })?;
    adopt_if_ours(format!("Lambda function {name:?}"), &f.tags, &want.name)?;
    run.adopted(Part::Function);
    lambda::wait_ready(lc, name, run.stop)
        .await
        .map_err(ApplyError::aws("waiting for the function to become active"))?;
    if !desired::same_settings(&f.settings, &wanted) {
        lambda::update_settings(lc, name, &wanted, run.stop)
            .await
            .map_err(ApplyError::aws("updating the function's settings"))?;
    }
    if !deploy.deployed_in(&f) || f.architecture != want.function.architecture {
        lambda::update_code(
            lc,
            name,
            &want.function.architecture,
            deploy.code()?,
            run.stop,
        )
        .await
        .map_err(ApplyError::aws("updating the function's code"))?;
    }
    lambda::sync_tags(
        lc,
        &want.function_arn,
        &f.tags,
        &desired::function_tags(want),
    )
    .await
    .map_err(ApplyError::aws("tagging the function"))
}

/// Makes an adopted function the pipeline's: its tags become the
/// pipeline's (the state recorded its own as `tags_all`). Its code as
/// deployed now is what [`update_code`] compares the package with.
pub async fn adopt(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let step = "tagging the adopted function";
    let f = lambda::get_function(&run.aws.lambda, &want.function_name)
        .await
        .map_err(ApplyError::aws(step))?
        .ok_or_else(|| ApplyError::Aws {
            step,
            source: AwsError::Unexpected(format!("function {} is gone", want.function_name)),
        })?;
    run.update(|r| r.adopted_code = Some(f.code_sha256.clone()));
    lambda::sync_tags(
        &run.aws.lambda,
        &want.function_arn,
        &f.tags,
        &desired::function_tags(want),
    )
    .await
    .map_err(ApplyError::aws(step))
}

pub async fn update_settings(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    lambda::update_settings(
        &run.aws.lambda,
        &want.function_name,
        &desired::function_settings(want),
        run.stop,
    )
    .await
    .map_err(ApplyError::aws("updating the function's settings"))
}

/// Uploads the code. An adopted function whose deployed `CodeSha256` (as
/// the adopt step read it moments ago, not as the import recorded it: the
/// code may have changed since) is this package's keeps its code.
pub async fn update_code(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    if desired::is_image(want) {
        return update_image(run).await;
    }
    let pkg = run.package()?;
    let deployed = run.record().adopted_code;
    if deployed.as_deref() == Some(pkg.code_sha256.as_str()) {
        tracing::info!(function = %want.function_name, "deployed code is this package; not uploading");
        return Ok(());
    }
    if same_bytes_deployed(run, &pkg.code_sha256) {
        tracing::info!(
            function = %want.function_name,
            "source_code_hash changed but the package's bytes did not; not uploading"
        );
        return Ok(());
    }
    let lc = &run.aws.lambda;
    let staged = run.record().staged;
    lambda::upload_code(
        lc,
        &want.function_name,
        &want.function.architecture,
        code(&pkg, &staged)?,
    )
    .await
    .map_err(ApplyError::aws("updating the function's code"))?;
    // Deployed, whatever happens next: a failed update keeps this in its
    // private data, so the next refresh knows the code is ours.
    run.update(|r| r.uploaded = Some(pkg.code_sha256.clone()));
    lambda::wait_ready(lc, &want.function_name, run.stop)
        .await
        .map_err(ApplyError::aws("updating the function's code"))
}

/// Deploys the image this run pushed (by digest). The zip's shortcuts
/// (an adopted function's code, the same bytes deployed) do not apply: the
/// refresh compares the digest Lambda runs with the one recorded.
async fn update_image(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let uri = super::image::image_uri(run)?;
    let lc = &run.aws.lambda;
    lambda::upload_code(
        lc,
        &want.function_name,
        &want.function.architecture,
        lambda::Code::Image(&uri),
    )
    .await
    .map_err(ApplyError::aws("updating the function's code"))?;
    lambda::wait_ready(lc, &want.function_name, run.stop)
        .await
        .map_err(ApplyError::aws("updating the function's code"))
}

/// Whether Lambda already runs exactly the package `code_sha256` names:
/// the last upload (the private data's `CodeSha256`) was these bytes, for
/// the same architecture, and the refresh before this plan found Lambda's
/// code to be that upload (it marks `source_code_hash` with
/// [`CODE_DRIFT`] otherwise). Then a changed `source_code_hash` is a
/// change of what the hash covers that built the same zip (a provider
/// upgrade that gives pip new options, when pip installs the same wheels):
/// the code stays, and only the state's hash and the source-hash tag move.
fn same_bytes_deployed(run: &Run<'_>, code_sha256: &str) -> bool {
    let Some(prior) = run.prior else {
        return false;
    };
    run.private.code_sha256.as_deref() == Some(code_sha256)
        && !prior.source_code_hash.starts_with(CODE_DRIFT)
        && prior.function.architecture == run.want.function.architecture
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let have = run.prior.map(desired::function_tags).unwrap_or_default();
    lambda::sync_tags(
        &run.aws.lambda,
        &want.function_arn,
        &have,
        &desired::function_tags(want),
    )
    .await
    .map_err(ApplyError::aws("tagging the function"))
}

/// Reserves the function's concurrency, or takes the reservation away.
pub async fn update_concurrency(run: &Run<'_>) -> Result<(), ApplyError> {
    lambda::set_concurrency(
        &run.aws.lambda,
        &run.want.function_name,
        desired::concurrency(run.want),
    )
    .await
    .map_err(ApplyError::concurrency(
        "setting the function's reserved concurrency",
        run.want.function.reserved_concurrency.unwrap_or_default(),
    ))
}

/// Waits until a new function is Active.
pub async fn await_active(run: &Run<'_>) -> Result<(), ApplyError> {
    lambda::wait_ready(&run.aws.lambda, &run.want.function_name, run.stop)
        .await
        .map_err(ApplyError::aws("waiting for the function to become active"))
}

/// Deletes the function, and with it its invoke permission and its
/// invoke configuration.
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    lambda::delete_function(&run.aws.lambda, &run.want.function_name)
        .await
        .map_err(ApplyError::aws(
            run.step("deleting the function", "rolling back the function"),
        ))?;
    run.removed([Part::Function, Part::Permission, Part::InvokeConfig]);
    Ok(())
}
