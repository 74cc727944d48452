//! The function's log group: made before the function, with its retention
//! and tags, so Lambda never has to create it (and the role needs no right
//! to). A group of that name that exists is adopted when no other pipeline
//! owns it: Lambda makes `/aws/lambda/<function>` itself for functions
//! wired by hand.

use crate::aws::{AwsError, logs};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::{OWNER_TAG, adopt_if_ours};
use super::super::part::Part;
use super::super::run::Run;

fn retention(run: &Run<'_>) -> i32 {
    run.want
        .log_group_retention_in_days
        .map_or(30, |d| i32::try_from(d).unwrap_or(30))
}

pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let (client, want) = (&run.aws.logs, run.want);
    let name = &want.log_group_name;
    let step = "creating the log group";
    let tags = desired::part_tags(want);
    let made = logs::create_log_group(client, name, &tags)
        .await
        .map_err(ApplyError::aws(step))?;
    if made {
        run.made(Part::LogGroup);
    } else {
        let group = logs::log_group(client, name)
            .await
            .map_err(ApplyError::aws(step))?
            .ok_or_else(|| ApplyError::Aws {
                step,
                source: AwsError::Unexpected(format!("log group {name} both exists and does not")),
            })?;
        // An untagged group is the one Lambda made for this function.
        if group.tags.contains_key(OWNER_TAG) {
            adopt_if_ours(format!("log group {name:?}"), &group.tags, &want.name)?;
        }
        run.adopted(Part::LogGroup);
        logs::sync_tags(client, &group.arn, &group.tags, &tags)
            .await
            .map_err(ApplyError::aws("tagging the log group"))?;
    }
    logs::put_retention(client, name, retention(run))
        .await
        .map_err(ApplyError::aws("setting the log group's retention"))
}

pub async fn update_retention(run: &Run<'_>) -> Result<(), ApplyError> {
    logs::put_retention(&run.aws.logs, &run.want.log_group_name, retention(run))
        .await
        .map_err(ApplyError::aws("setting the log group's retention"))
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let (client, name) = (&run.aws.logs, &run.want.log_group_name);
    let step = "tagging the log group";
    let Some(group) = logs::log_group(client, name)
        .await
        .map_err(ApplyError::aws(step))?
    else {
        return Ok(());
    };
    logs::sync_tags(
        client,
        &group.arn,
        &group.tags,
        &desired::part_tags(run.want),
    )
    .await
    .map_err(ApplyError::aws(step))
}

pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    logs::delete_log_group(&run.aws.logs, &run.want.log_group_name)
        .await
        .map_err(ApplyError::aws(
            run.step("deleting the log group", "rolling back the log group"),
        ))?;
    run.removed([Part::LogGroup]);
    Ok(())
}
