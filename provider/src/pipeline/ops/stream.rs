//! The Kinesis stream the pipeline makes: on demand or with shards, its
//! retention, encrypted with the AWS-managed key, tagged.

use crate::aws::{AwsError, kinesis};

use super::super::desired;
use super::super::errors::ApplyError;
use super::super::ownership::adopt_if_ours;
use super::super::part::Part;
use super::super::run::Run;

fn name(run: &Run<'_>) -> String {
    run.want.stream_name.clone().unwrap_or_default()
}

pub async fn make(run: &Run<'_>) -> Result<(), ApplyError> {
    let (client, want) = (&run.aws.kinesis, run.want);
    let stream = name(run);
    let step = "creating the stream";
    let Some(wanted) = desired::stream(want) else {
        return Ok(());
    };
    let tags = desired::part_tags(want);
    let mut made = kinesis::create_stream(client, &stream, wanted.shards, &tags)
        .await
        .map_err(ApplyError::aws(step))?;
    // A stream of this name still being deleted (a destroy elsewhere, or
    // one interrupted) takes the name until it is gone: wait, then make it.
    if !made
        && kinesis::stream(client, &stream)
            .await
            .map_err(ApplyError::aws(step))?
            .is_some_and(|s| s.status == "DELETING")
    {
        kinesis::wait_deleted(client, &stream, run.stop)
            .await
            .map_err(ApplyError::aws(step))?;
        made = kinesis::create_stream(client, &stream, wanted.shards, &tags)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    // Recorded at once: should the wait fail, a roll-back still removes it.
    if made {
        run.made(Part::Stream);
    }
    let have = kinesis::wait_active(client, &stream, run.stop)
        .await
        .map_err(ApplyError::aws("waiting for the stream to become active"))?;
    if !made {
        adopt_if_ours(format!("Kinesis stream {stream:?}"), &have.tags, &want.name)?;
        run.adopted(Part::Stream);
    }
    configure(run, &have).await
}

/// Tags, encryption and retention, to what the plan says.
async fn configure(run: &Run<'_>, have: &kinesis::Stream) -> Result<(), ApplyError> {
    let (client, stream) = (&run.aws.kinesis, name(run));
    let Some(wanted) = desired::stream(run.want) else {
        return Ok(());
    };
    // Tags given to CreateStream are not kept by every endpoint (moto drops
    // them); without the ownership tag a later run could not adopt it.
    let tags = desired::part_tags(run.want);
    if have.tags != tags {
        kinesis::sync_tags(client, &stream, &have.tags, &tags)
            .await
            .map_err(ApplyError::aws("tagging the stream"))?;
    }
    if !have.encrypted {
        kinesis::encrypt(client, &stream)
            .await
            .map_err(ApplyError::aws("encrypting the stream"))?;
        kinesis::wait_active(client, &stream, run.stop)
            .await
            .map_err(ApplyError::aws("waiting for the stream to become active"))?;
    }
    if have.retention_hours != wanted.retention_hours {
        kinesis::set_retention(
            client,
            &stream,
            have.retention_hours,
            wanted.retention_hours,
        )
        .await
        .map_err(ApplyError::aws("setting the stream's retention"))?;
    }
    let mut shards = have.shards;
    // Setting or removing `shard_count` switches the capacity mode first:
    // an on-demand stream refuses UpdateShardCount.
    if wanted.shards.is_some() != shards.is_some() {
        kinesis::wait_active(client, &stream, run.stop)
            .await
            .map_err(ApplyError::aws("waiting for the stream to become active"))?;
        kinesis::set_on_demand(client, &have.arn, wanted.shards.is_none())
            .await
            .map_err(ApplyError::aws("setting the stream's capacity mode"))?;
        shards = kinesis::wait_active(client, &stream, run.stop)
            .await
            .map_err(ApplyError::aws("waiting for the stream to become active"))?
            .shards;
    }
    if let Some(n) = wanted.shards
        && shards != Some(n)
    {
        kinesis::wait_active(client, &stream, run.stop)
            .await
            .map_err(ApplyError::aws("waiting for the stream to become active"))?;
        kinesis::set_shards(client, &stream, n)
            .await
            .map_err(ApplyError::aws("setting the stream's shard count"))?;
    }
    Ok(())
}

pub async fn update(run: &Run<'_>) -> Result<(), ApplyError> {
    let step = "reading the stream";
    let have = kinesis::stream(&run.aws.kinesis, &name(run))
        .await
        .map_err(ApplyError::aws(step))?
        .ok_or_else(|| ApplyError::Aws {
            step,
            source: AwsError::Unexpected(format!("stream {} is gone", name(run))),
        })?;
    configure(run, &have).await
}

pub async fn update_tags(run: &Run<'_>) -> Result<(), ApplyError> {
    let step = "tagging the stream";
    let Some(have) = kinesis::stream(&run.aws.kinesis, &name(run))
        .await
        .map_err(ApplyError::aws(step))?
    else {
        return Ok(());
    };
    kinesis::sync_tags(
        &run.aws.kinesis,
        &name(run),
        &have.tags,
        &desired::part_tags(run.want),
    )
    .await
    .map_err(ApplyError::aws(step))
}

pub async fn delete(run: &Run<'_>) -> Result<(), ApplyError> {
    // For a destroy `want` is the prior state; for a stream the pipeline no
    // longer uses, the prior state names it.
    let stream = run
        .prior
        .and_then(|p| p.stream_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| name(run));
    if !stream.is_empty() {
        let step = run.step("deleting the stream", "rolling back the stream");
        kinesis::delete_stream(&run.aws.kinesis, &stream)
            .await
            .map_err(ApplyError::aws(step))?;
        // A deleted stream stays DELETING for a while; until it is gone a
        // stream of its name cannot be made (destroy, then apply).
        kinesis::wait_deleted(&run.aws.kinesis, &stream, run.stop)
            .await
            .map_err(ApplyError::aws(step))?;
    }
    run.removed([Part::Stream]);
    Ok(())
}
