//! Kinesis Data Streams: the stream a pipeline makes, encrypted with the
//! AWS-managed key, on demand or with a fixed number of shards.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{EncryptionType, StreamMode, StreamModeDetails, StreamStatus};
use tokio_util::sync::CancellationToken;

use super::AwsError;
use super::error::{err, found};
use super::retry::{DELETE_BOUND, until_gone};

/// The AWS-managed key for Kinesis.
pub const MANAGED_KEY: &str = "alias/aws/kinesis";

/// A stream as Kinesis reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub arn: String,
    /// `ACTIVE`, `CREATING`, `UPDATING`, `DELETING`.
    pub status: String,
    /// `None` for on demand.
    pub shards: Option<i32>,
    pub retention_hours: i32,
    pub encrypted: bool,
    pub tags: BTreeMap<String, String>,
}

/// Creates the stream with `tags`; `Ok(false)` when one of that name exists.
pub async fn create_stream(
    kinesis: &Client,
    name: &str,
    shards: Option<i32>,
    tags: &BTreeMap<String, String>,
) -> Result<bool, AwsError> {
    let mut req = kinesis.create_stream().stream_name(name).set_tags(Some(
        tags.iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>(),
    ));
    req = match shards {
        Some(n) => req.shard_count(n).stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::Provisioned)
                .build()?,
        ),
        None => req.stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()?,
        ),
    };
    match req.send().await.map_err(err("kinesis:CreateStream")) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(false),
        Err(e) => Err(e),
    }
}

/// The stream, or `None` when there is none of that name.
pub async fn stream(kinesis: &Client, name: &str) -> Result<Option<Stream>, AwsError> {
    let r = kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .map_err(err("kinesis:DescribeStreamSummary"));
    let Some(out) = found(r)? else {
        return Ok(None);
    };
    let Some(d) = out.stream_description_summary() else {
        return Err(AwsError::Unexpected(format!(
            "DescribeStreamSummary({name}) returned no description"
        )));
    };
    let on_demand = d
        .stream_mode_details()
        .is_some_and(|m| m.stream_mode() == &StreamMode::OnDemand);
    let tags = found(
        kinesis
            .list_tags_for_stream()
            .stream_name(name)
            .send()
            .await
            .map_err(err("kinesis:ListTagsForStream")),
    )?
    .map(|t| {
        t.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect()
    })
    .unwrap_or_default();
    Ok(Some(Stream {
        arn: d.stream_arn().to_owned(),
        status: d.stream_status().as_str().to_owned(),
        shards: (!on_demand).then_some(d.open_shard_count()),
        retention_hours: d.retention_period_hours(),
        encrypted: d.encryption_type() == Some(&EncryptionType::Kms),
        tags,
    }))
}

/// Waits until the stream accepts changes (ACTIVE).
pub async fn wait_active(
    kinesis: &Client,
    name: &str,
    stop: &CancellationToken,
) -> Result<Stream, AwsError> {
    let mut delay = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(s) = stream(kinesis, name).await?
            && s.status == StreamStatus::Active.as_str()
        {
            return Ok(s);
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(AwsError::Transport {
                operation: "kinesis:DescribeStreamSummary",
                message: format!("stream {name} did not become active within 5 minutes"),
            });
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.cancelled() => return Err(AwsError::Transport {
                operation: "kinesis:DescribeStreamSummary",
                message: "stopped".into(),
            }),
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Sets the retention, in hours (24 to 8760).
pub async fn set_retention(
    kinesis: &Client,
    name: &str,
    have: i32,
    want: i32,
) -> Result<(), AwsError> {
    if want > have {
        kinesis
            .increase_stream_retention_period()
            .stream_name(name)
            .retention_period_hours(want)
            .send()
            .await
            .map_err(err("kinesis:IncreaseStreamRetentionPeriod"))?;
    } else if want < have {
        kinesis
            .decrease_stream_retention_period()
            .stream_name(name)
            .retention_period_hours(want)
            .send()
            .await
            .map_err(err("kinesis:DecreaseStreamRetentionPeriod"))?;
    }
    Ok(())
}

/// Encrypts the stream with the AWS-managed key.
pub async fn encrypt(kinesis: &Client, name: &str) -> Result<(), AwsError> {
    kinesis
        .start_stream_encryption()
        .stream_name(name)
        .encryption_type(EncryptionType::Kms)
        .key_id(MANAGED_KEY)
        .send()
        .await
        .map_err(err("kinesis:StartStreamEncryption"))?;
    Ok(())
}

/// Switches the stream at `arn` to on-demand capacity, or to provisioned
/// shards (keeping its open shards; [`set_shards`] then sets how many).
pub async fn set_on_demand(kinesis: &Client, arn: &str, on_demand: bool) -> Result<(), AwsError> {
    let mode = if on_demand {
        StreamMode::OnDemand
    } else {
        StreamMode::Provisioned
    };
    kinesis
        .update_stream_mode()
        .stream_arn(arn)
        .stream_mode_details(StreamModeDetails::builder().stream_mode(mode).build()?)
        .send()
        .await
        .map_err(err("kinesis:UpdateStreamMode"))?;
    Ok(())
}

/// Sets the stream's shard count (provisioned mode).
pub async fn set_shards(kinesis: &Client, name: &str, shards: i32) -> Result<(), AwsError> {
    kinesis
        .update_shard_count()
        .stream_name(name)
        .target_shard_count(shards)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await
        .map_err(err("kinesis:UpdateShardCount"))?;
    Ok(())
}

/// Sets the tags of stream `name` to exactly `want`, given what it has.
pub async fn sync_tags(
    kinesis: &Client,
    name: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let diff = super::tags::diff(have, want);
    if !diff.remove.is_empty() {
        kinesis
            .remove_tags_from_stream()
            .stream_name(name)
            .set_tag_keys(Some(diff.remove))
            .send()
            .await
            .map_err(err("kinesis:RemoveTagsFromStream"))?;
    }
    if !diff.set.is_empty() {
        kinesis
            .add_tags_to_stream()
            .stream_name(name)
            .set_tags(Some(diff.set.into_iter().collect()))
            .send()
            .await
            .map_err(err("kinesis:AddTagsToStream"))?;
    }
    Ok(())
}

/// Deletes the stream; one already gone is fine.
pub async fn delete_stream(kinesis: &Client, name: &str) -> Result<(), AwsError> {
    let r = kinesis
        .delete_stream()
        .stream_name(name)
        .enforce_consumer_deletion(true)
        .send()
        .await
        .map_err(err("kinesis:DeleteStream"));
    found(r).map(|_| ())
}

/// Waits until the stream is gone: a deleted stream stays `DELETING` for a
/// while, and a stream of the same name cannot be made until it has gone.
pub async fn wait_deleted(
    kinesis: &Client,
    name: &str,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    until_gone(
        "kinesis:DescribeStreamSummary",
        &format!("stream {name}"),
        DELETE_BOUND,
        stop,
        || async {
            let r = kinesis
                .describe_stream_summary()
                .stream_name(name)
                .send()
                .await
                .map_err(err("kinesis:DescribeStreamSummary"));
            Ok(found(r)?.is_some())
        },
    )
    .await
}

/// One record read back from a shard.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardRecord {
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// When Kinesis received it, in seconds since the epoch.
    pub arrival_s: Option<f64>,
}

/// One page of a shard read.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordsPage {
    pub records: Vec<ShardRecord>,
    /// `None` when the shard is closed and read to its end.
    pub next_iterator: Option<String>,
    /// How far behind the tip of the shard this page is (0: at the tip).
    pub millis_behind_latest: Option<i64>,
}

/// Kinesis no longer holds the records asked for (past retention).
pub fn is_trimmed(e: &AwsError) -> bool {
    e.code().is_some_and(|c| c.contains("TrimmedDataAccess"))
}

/// An iterator that reads shard `shard_id` of the stream `stream_arn` from
/// the record with `sequence_number` on (`AT_SEQUENCE_NUMBER`).
pub async fn iterator_at(
    kinesis: &Client,
    stream_arn: &str,
    shard_id: &str,
    sequence_number: &str,
) -> Result<String, AwsError> {
    let out = kinesis
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard_id)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(sequence_number)
        .send()
        .await
        .map_err(err("kinesis:GetShardIterator"))?;
    out.shard_iterator
        .ok_or_else(|| AwsError::Unexpected("GetShardIterator returned no iterator".into()))
}

/// Up to `limit` records from `iterator`.
pub async fn records(
    kinesis: &Client,
    stream_arn: &str,
    iterator: &str,
    limit: i32,
) -> Result<RecordsPage, AwsError> {
    let out = kinesis
        .get_records()
        .stream_arn(stream_arn)
        .shard_iterator(iterator)
        .limit(limit.clamp(1, 10_000))
        .send()
        .await
        .map_err(err("kinesis:GetRecords"))?;
    let records = out
        .records
        .into_iter()
        .map(|r| ShardRecord {
            arrival_s: r.approximate_arrival_timestamp.map(|t| t.as_secs_f64()),
            sequence_number: r.sequence_number,
            partition_key: r.partition_key.unwrap_or_default(),
            data: r.data.into_inner(),
        })
        .collect();
    Ok(RecordsPage {
        records,
        next_iterator: out.next_shard_iterator,
        millis_behind_latest: out.millis_behind_latest,
    })
}

/// The KMS key the stream at `arn` encrypts with (`KeyId`: an id, ARN or
/// alias), `None` when it is not encrypted.
pub async fn stream_kms_key(kinesis: &Client, arn: &str) -> Result<Option<String>, AwsError> {
    let out = kinesis
        .describe_stream_summary()
        .stream_arn(arn)
        .send()
        .await
        .map_err(err("kinesis:DescribeStreamSummary"))?;
    Ok(out.stream_description_summary().and_then(|d| {
        (d.encryption_type() == Some(&EncryptionType::Kms))
            .then(|| d.key_id().map(str::to_owned))
            .flatten()
            .filter(|k| !k.is_empty())
    }))
}
