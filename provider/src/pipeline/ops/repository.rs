//! The ECR repository the pipeline makes for the function's image: made
//! (or adopted) with its tags, scan on push, lifecycle policy and
//! repository policy, put back when they drift, deleted with its images.
//! And, with a given `image.repository_name`, the removal of the one image
//! the pipeline pushed there.

use std::collections::BTreeMap;

use crate::aws::{AwsError, ecr};

use super::super::desired::{self, RepositorySettings};
use super::super::ecr_policy;
use super::super::errors::ApplyError;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::Run;

fn wanted(run: &Run<'_>) -> Result<RepositorySettings, ApplyError> {
    desired::repository(run.want).ok_or_else(|| {
        ApplyError::Internal("a repository step for a pipeline that makes none".into())
    })
}

pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let client = &run.aws.ecr;
    let want = wanted(run)?;
    let tags = desired::part_tags(run.want);
    let step = "creating the image repository";
    let made = ecr::create_repository(client, &want.name, want.scan_on_push, &tags)
        .await
        .map_err(ApplyError::aws(step))?;
    let new = made.is_some();
    let (have, have_tags) = match made {
        Some(repo) => {
            // Recorded at once: should configuring it fail, a roll-back
            // still removes it.
            run.made(Part::Repository);
            (repo, tags.clone())
        }
        None => {
            let step = "reading the image repository";
            let repo = ecr::repository(client, &want.name)
                .await
                .map_err(ApplyError::aws(step))?
                .ok_or_else(|| gone(step, &want.name))?;
            let have_tags = ecr::tags(client, &repo.arn)
                .await
                .map_err(ApplyError::aws(step))?
                .unwrap_or_default();
            adopt_if_ours(
                format!("ECR repository {:?}", want.name),
                &have_tags,
                &run.want.name,
            )?;
            run.adopted(Part::Repository);
            (repo, have_tags)
        }
    };
    configure(run, &want, &have, &have_tags, new).await
}

fn gone(step: &'static str, name: &str) -> ApplyError {
    ApplyError::Aws {
        step,
        source: AwsError::Unexpected(format!("ECR repository {name} is gone")),
    }
}

/// Tags, scan on push and both policies, to what the plan says; each
/// document is written only when ECR's means something else.
async fn configure(
    run: &Run<'_>,
    want: &RepositorySettings,
    have: &ecr::Repository,
    have_tags: &BTreeMap<String, String>,
    new: bool,
) -> Result<(), ApplyError> {
    let client = &run.aws.ecr;
    let name = &want.name;
    let tags = desired::part_tags(run.want);
    if !new && *have_tags != tags {
        ecr::sync_tags(client, &have.arn, have_tags, &tags)
            .await
            .map_err(ApplyError::aws("tagging the image repository"))?;
    }
    if have.scan_on_push != want.scan_on_push {
        ecr::set_scan_on_push(client, name, want.scan_on_push)
            .await
            .map_err(ApplyError::aws(
                "setting the image repository's scan on push",
            ))?;
    }
    let step = "setting the image repository's lifecycle policy";
    let lifecycle = if new {
        None
    } else {
        ecr::lifecycle_policy(client, name)
            .await
            .map_err(ApplyError::aws(step))?
    };
    if !lifecycle
        .as_deref()
        .is_some_and(|d| ecr_policy::same_lifecycle_policy(d, &want.lifecycle_policy))
    {
        ecr::put_lifecycle_policy(client, name, &want.lifecycle_policy)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    let step = "setting the image repository's policy";
    let policy = if new {
        None
    } else {
        ecr::repository_policy(client, name)
            .await
            .map_err(ApplyError::aws(step))?
    };
    if !policy
        .as_deref()
        .is_some_and(|d| ecr_policy::same_repository_policy(d, &want.repository_policy))
    {
        ecr::set_repository_policy(client, name, &want.repository_policy)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    let uri = have.uri.clone();
    run.update(|r| r.repository_url = Some(uri));
    Ok(())
}

/// Scan on push, the lifecycle policy (`keep_images`) or the repository
/// policy (a new function name) changed.
pub async fn update(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = wanted(run)?;
    let step = "reading the image repository";
    let client = &run.aws.ecr;
    let have = ecr::repository(client, &want.name)
        .await
        .map_err(ApplyError::aws(step))?
        .ok_or_else(|| gone(step, &want.name))?;
    let have_tags = ecr::tags(client, &have.arn)
        .await
        .map_err(ApplyError::aws(step))?
        .unwrap_or_default();
    configure(run, &want, &have, &have_tags, false).await
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let want = wanted(run)?;
    let step = "tagging the image repository";
    let client = &run.aws.ecr;
    let Some(have) = ecr::repository(client, &want.name)
        .await
        .map_err(ApplyError::aws(step))?
    else {
        return Ok(());
    };
    let have_tags = ecr::tags(client, &have.arn)
        .await
        .map_err(ApplyError::aws(step))?
        .unwrap_or_default();
    ecr::sync_tags(client, &have.arn, &have_tags, &desired::part_tags(run.want))
        .await
        .map_err(ApplyError::aws(step))
}

/// Deletes the repository with its images. For a destroy `want` is the
/// prior state; for a repository the pipeline no longer makes, the prior
/// state names it (or still records it: `desired::left_repository`).
pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    let states = [run.prior, Some(run.want)];
    let name = states
        .iter()
        .flatten()
        .find_map(|s| desired::repository(s).map(|r| r.name))
        .or_else(|| {
            states
                .iter()
                .flatten()
                .find_map(|s| desired::left_repository(s))
        });
    if let Some(name) = name {
        let step = run.step(
            "deleting the image repository",
            "rolling back the image repository",
        );
        ecr::delete_repository(&run.aws.ecr, &name)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    run.removed([Part::Repository]);
    Ok(())
}

/// A given `image.repository_name` exists (checked before anything is
/// made or changed).
pub async fn check_given(run: &Run<'_>) -> Result<(), ApplyError> {
    let Some(name) = run
        .want
        .function
        .image
        .as_ref()
        .and_then(|i| i.repository_name.clone())
    else {
        return Ok(());
    };
    let found = ecr::repository(&run.aws.ecr, &name)
        .await
        .map_err(ApplyError::aws("reading the image repository"))?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApplyError::NoRepository { name }),
    }
}
