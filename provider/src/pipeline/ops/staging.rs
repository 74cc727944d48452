//! Packages over Lambda's 50 MB direct-upload limit, staged in S3: put
//! under `.eventpipe/packages/<function>/<hash>.zip` in the pipeline's own
//! bucket (or `function.package_bucket`), tagged as the pipeline's, and
//! deployed from there. The staged package of the deployed code stays (so
//! it can be inspected); older ones go once the new code is deployed, and
//! all of them go with the function.

use crate::aws::s3;

use super::super::errors::ApplyError;
use super::super::naming;
use super::super::package::limits;
use super::super::run::{Purpose, Run};
use super::super::state::{Known, State};
use super::super::{desired, ownership};

/// The bucket packages of `s` are staged in.
pub fn bucket(s: &State<Known>) -> &str {
    s.function
        .package_bucket
        .as_deref()
        .unwrap_or(&s.bucket_name)
}

/// Stages the built package when it is over the direct-upload limit;
/// nothing to do otherwise.
pub async fn stage(run: &Run<'_>) -> Result<(), ApplyError> {
    let pkg = run.package()?;
    if !limits::needs_staging(pkg.zip.len()) {
        return Ok(());
    }
    let want = run.want;
    let bucket = bucket(want).to_owned();
    let key = naming::staged_key(&want.function_name, &pkg.hash);
    // S3 allows an object 10 tags: the pipeline's tags when they fit,
    // always its ownership tag.
    let mut tags = desired::part_tags(want);
    if tags.len() > 10 {
        tags = [(ownership::OWNER_TAG.to_owned(), want.name.clone())].into();
    }
    s3::put_object_tagged(&run.aws.s3, &bucket, &key, pkg.zip.clone(), &tags)
        .await
        .map_err(ApplyError::aws("staging the package in S3"))?;
    tracing::info!(%bucket, %key, size = pkg.zip.len(), "staged the package");
    run.update(|r| r.staged = Some((bucket, key)));
    Ok(())
}

/// After the code is deployed: the staged packages but the deployed one
/// (only when this run staged one).
pub async fn prune(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let Some((_, keep)) = run.record().staged else {
        return Ok(());
    };
    let keep = Some(keep);
    s3::delete_under(
        &run.aws.s3,
        bucket(want),
        &naming::staging_prefix(&want.function_name),
        keep.as_deref(),
    )
    .await
    .map_err(ApplyError::aws("deleting older staged packages"))?;
    Ok(())
}

/// With the function: every staged package of it. A roll-back removes
/// what this run staged; a destroy looks where packages may have been
/// staged (`package_bucket`, or the bucket the pipeline owns: a bucket it
/// does not own never holds its packages).
pub async fn delete_all(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let prefix = naming::staging_prefix(&want.function_name);
    let staged_here = run.record().staged.is_some();
    let may_hold = match run.purpose {
        Purpose::RollBack => staged_here,
        _ => staged_here || want.function.package_bucket.is_some() || want.create_bucket,
    };
    if !may_hold {
        return Ok(());
    }
    s3::delete_under(&run.aws.s3, bucket(want), &prefix, None)
        .await
        .map_err(ApplyError::aws(run.step(
            "deleting the staged packages",
            "rolling back the staged package",
        )))?;
    Ok(())
}
