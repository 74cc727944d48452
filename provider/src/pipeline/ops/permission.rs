//! The permission that lets S3, for this bucket and account only, invoke
//! the function.

use crate::aws::lambda;

use super::super::errors::ApplyError;
use super::super::naming;
use super::super::part::Part;
use super::super::run::Run;

pub async fn add(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let step = "adding the permission for S3 to invoke the function";
    // An adopted function may carry the statement already: one left by an
    // interrupted run, or one taken over by `adopt:` whose first apply
    // failed after adding it. Some implementations accept a duplicate
    // statement id, so look first.
    let may_exist = run.record().adopted.contains(Part::Function) || run.private.adopted.is_some();
    let present = may_exist
        && lambda::has_permission(&run.aws.lambda, &want.function_name, naming::PERMISSION_SID)
            .await
            .map_err(ApplyError::aws(step))?
            == Some(true);
    if !present {
        lambda::add_s3_permission(
            &run.aws.lambda,
            &want.function_name,
            naming::PERMISSION_SID,
            &want.bucket_arn,
            run.account()?,
        )
        .await
        .map_err(ApplyError::aws(step))?;
    }
    run.made(Part::Permission);
    Ok(())
}

pub async fn remove(run: &Run<'_>) -> Result<(), ApplyError> {
    lambda::remove_permission(
        &run.aws.lambda,
        &run.want.function_name,
        naming::PERMISSION_SID,
    )
    .await
    .map_err(ApplyError::aws(run.step(
        "removing the invoke permission",
        "rolling back the invoke permission",
    )))?;
    run.removed([Part::Permission]);
    Ok(())
}

/// Removes the statements an adopted pipeline's function had for S3, now
/// that the pipeline's own, scoped one is in use.
pub async fn retire(run: &Run<'_>) -> Result<(), ApplyError> {
    let mut sids: Vec<String> = run
        .private
        .adopted
        .as_ref()
        .map(|a| a.permission_sids.clone())
        .unwrap_or_default();
    if let Some(p) = run.prior {
        sids.push(p.s3_permission_id.clone());
    }
    sids.sort();
    sids.dedup();
    for sid in sids
        .iter()
        .filter(|s| !s.is_empty() && *s != naming::PERMISSION_SID)
    {
        lambda::remove_permission(&run.aws.lambda, &run.want.function_name, sid)
            .await
            .map_err(ApplyError::aws("removing the adopted invoke permission"))?;
    }
    Ok(())
}
