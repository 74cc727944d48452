//! The execution role and its inline least-privilege policy.

use crate::aws::{AwsError, iam};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::naming::POLICY_NAME;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::policy;
use super::super::run::Run;

/// Makes the role (only Lambda, on behalf of this account, may assume it),
/// or adopts one of its name left by an earlier run of this pipeline.
pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let step = "creating the role";
    let trust = policy::trust_policy(run.account()?);
    let description = format!("Execution role of eventpipe pipeline {}", want.name);
    let made = iam::create_role(
        &run.aws.iam,
        &want.role_name,
        &trust,
        &description,
        &desired::part_tags(want),
    )
    .await
    .map_err(ApplyError::aws(step))?;
    if made.is_some() {
        run.made(Part::Role);
        return Ok(());
    }
    let role = get(run, step).await?;
    adopt_if_ours(
        format!("IAM role {:?}", want.role_name),
        &role.tags,
        &want.name,
    )?;
    run.adopted(Part::Role);
    iam::sync_tags(
        &run.aws.iam,
        &want.role_name,
        &role.tags,
        &desired::part_tags(want),
    )
    .await
    .map_err(ApplyError::aws("tagging the role"))
}

async fn get(run: &Run<'_>, step: &'static str) -> Result<iam::Role, ApplyError> {
    let name = &run.want.role_name;
    iam::get_role(&run.aws.iam, name)
        .await
        .map_err(ApplyError::aws(step))?
        .ok_or_else(|| ApplyError::Aws {
            step,
            source: AwsError::Unexpected(format!("role {name} is gone")),
        })
}

/// Makes an adopted role the pipeline's: its tags gain the pipeline's
/// (its own stay). Its trust policy and other policies are left as they are.
pub async fn adopt(run: &Run<'_>) -> Result<(), ApplyError> {
    let step = "tagging the adopted role";
    let role = get(run, step).await?;
    let mut tags = role.tags.clone();
    tags.extend(desired::part_tags(run.want));
    iam::sync_tags(&run.aws.iam, &run.want.role_name, &role.tags, &tags)
        .await
        .map_err(ApplyError::aws(step))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    let have = run.prior.map(desired::part_tags).unwrap_or_default();
    iam::sync_tags(
        &run.aws.iam,
        &want.role_name,
        &have,
        &desired::part_tags(want),
    )
    .await
    .map_err(ApplyError::aws("tagging the role"))
}

/// Puts the inline policy, byte for byte what the plan showed.
pub async fn put_policy(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = run.want;
    iam::put_inline_policy(
        &run.aws.iam,
        &want.role_name,
        POLICY_NAME,
        &want.policy_json,
    )
    .await
    .map_err(ApplyError::aws("putting the role's inline policy"))?;
    run.made(Part::Policy);
    Ok(())
}

/// Deletes the role with its policies.
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    iam::delete_role(&run.aws.iam, &run.want.role_name)
        .await
        .map_err(ApplyError::aws(
            run.step("deleting the role", "rolling back the role"),
        ))?;
    run.removed([Part::Role, Part::Policy]);
    Ok(())
}

/// Deletes only the inline policy.
pub async fn delete_policy(run: &Run<'_>) -> Result<(), ApplyError> {
    iam::delete_inline_policy(&run.aws.iam, &run.want.role_name, POLICY_NAME)
        .await
        .map_err(ApplyError::aws(run.step(
            "deleting the role's inline policy",
            "rolling back the role's inline policy",
        )))?;
    run.removed([Part::Policy]);
    Ok(())
}
